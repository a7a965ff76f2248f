#!/usr/bin/env bash
# Prepare tests/test_browser.py: Debian's Chromium plus the Playwright Python package.
# Usage: scripts/setup_browser.sh [PYTHON]   (default: .venv/bin/python)
# Playwright's own browser download (`playwright install`) is deliberately not used: the test
# drives the system Chromium, so no browser has to be fetched from outside a package registry.
set -euo pipefail

PYTHON="${1:-.venv/bin/python}"
# A relative path given as argument is taken from the caller's directory; the default is the
# repository's own environment.
if [[ $# -ge 1 && "$PYTHON" == */* && "$PYTHON" != /* ]]; then
    PYTHON="$PWD/$PYTHON"
fi
cd "$(dirname "$0")/.."
CHROMIUM="${COURSE_LIB_CHROMIUM:-/usr/bin/chromium}"

if [[ ! -x "$PYTHON" ]] && ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "setup_browser: no Python interpreter at '$PYTHON' (run 'make setup' first?)" >&2
    exit 1
fi

if [[ -x "$CHROMIUM" ]]; then
    echo "setup_browser: Chromium found at $CHROMIUM"
elif [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "setup_browser: installing Debian's chromium package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium
else
    echo "setup_browser: $CHROMIUM is missing and it cannot be installed here (needs root and" \
         "apt-get); install Chromium yourself or point COURSE_LIB_CHROMIUM at one." \
         "The browser test will skip (or fail under COURSE_LIB_REQUIRE_BROWSER=1)."
    exit 0
fi

if "$PYTHON" -c "import playwright.sync_api" >/dev/null 2>&1; then
    echo "setup_browser: playwright already importable by $PYTHON"
else
    echo "setup_browser: installing playwright into $PYTHON"
    "$PYTHON" -m pip install --quiet -r requirements-browser.txt
fi
