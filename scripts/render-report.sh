#!/usr/bin/env bash
# Renders a report folder's index.html to a PNG with headless Chromium, to look at the HTML
# report as a browser draws it (the docs' screenshot, docs/report.png, is made with it):
#
#   bash scripts/render-report.sh REPORT_DIR OUT.png [WIDTHxHEIGHT]
#
# It installs Debian's `chromium` when it is missing (`apt-get update`, then
# `apt-get install -y chromium`), as root or through sudo when that works without a password,
# like scripts/ensure-mosquitto.sh does for mosquitto. The window is 1280x2000 unless given.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 REPORT_DIR OUT.png [WIDTHxHEIGHT]" >&2
    exit 2
fi
page="$1/index.html"
out="$2"
size="${3:-1280x2000}"
if [ ! -f "$page" ]; then
    echo "render-report: no $page (run uspcheck with --report-dir $1 first)" >&2
    exit 2
fi

browser=""
for b in chromium chromium-browser; do
    if command -v "$b" >/dev/null 2>&1; then
        browser="$b"
        break
    fi
done
if [ -z "$browser" ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "render-report: chromium is not installed and there is no apt-get to install it with" >&2
        exit 1
    fi
    if [ "$(id -u)" = 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        echo "render-report: chromium is not installed, and installing it needs root" >&2
        exit 1
    fi
    echo "render-report: installing chromium (apt-get update, apt-get install -y chromium)" >&2
    "${as_root[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y chromium
    browser=chromium
fi

abs_page="$(cd "$(dirname "$page")" && pwd)/index.html"
abs_out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
# A profile of its own, removed afterwards, so a user's browser profile is never touched.
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
# --no-sandbox: Chromium's sandbox cannot start as root (containers, CI).
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$profile" --window-size="${size/x/,}" \
    --screenshot="$abs_out" "file://$abs_page" 2>/dev/null
if [ ! -s "$abs_out" ]; then
    echo "render-report: chromium wrote no screenshot to $abs_out" >&2
    exit 1
fi
echo "render-report: $abs_out"
