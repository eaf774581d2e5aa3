#!/usr/bin/env bash
# Installs Debian's mosquitto when it is missing: tests/mqtt_external.rs runs cases through it
# as an external MQTT broker (5.0 and 3.1.1). It runs `apt-get update` once, then
# `apt-get install -y mosquitto`; as root, or through sudo when that works without a password.
# Where neither is possible it says so and leaves the test to report itself skipped, except
# under CI (CI set), where the test must run and a missing broker is an error.
set -euo pipefail

if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then
    exit 0
fi

fail() {
    echo "ensure-mosquitto: $*" >&2
    if [ -n "${CI:-}" ]; then
        exit 1
    fi
    echo "ensure-mosquitto: the external-broker test will report itself skipped" >&2
    exit 0
}

if ! command -v apt-get >/dev/null 2>&1; then
    fail "mosquitto is not installed and there is no apt-get to install it with"
fi
if [ "$(id -u)" = 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    fail "mosquitto is not installed, and installing it needs root"
fi

echo "ensure-mosquitto: installing mosquitto (apt-get update, apt-get install -y mosquitto)" >&2
"${as_root[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y mosquitto
