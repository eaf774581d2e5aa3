#!/usr/bin/env bash
# Installs check-jsonschema (from PyPI, pinned) into target/tools/check-jsonschema when it is
# missing: tests/ci_examples.rs validates ci/github-actions.yml and ci/gitlab-ci.yml with it,
# against the GitHub Actions workflow and GitLab CI schemas it ships (no network at test time).
# Where it cannot be installed it says so and leaves the test to report itself ignored, except
# under CI (CI set), where the test must run and a missing validator is an error.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/tools/check-jsonschema
version=0.39.0
if [ -x "$venv/bin/check-jsonschema" ] &&
    [ "$("$venv/bin/check-jsonschema" --version 2>/dev/null)" = "check-jsonschema, version $version" ]; then
    exit 0
fi

fail() {
    echo "ensure-check-jsonschema: $*" >&2
    if [ -n "${CI:-}" ]; then
        exit 1
    fi
    echo "ensure-check-jsonschema: the CI-example schema test will report itself ignored" >&2
    exit 0
}

command -v python3 >/dev/null 2>&1 || fail "there is no python3 to install check-jsonschema with"
echo "ensure-check-jsonschema: installing check-jsonschema $version into $venv" >&2
rm -rf "$venv"
python3 -m venv "$venv" || fail "python3 -m venv failed"
"$venv/bin/pip" install --quiet "check-jsonschema==$version" || fail "pip install failed"
