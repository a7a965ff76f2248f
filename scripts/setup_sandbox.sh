#!/usr/bin/env bash
# The grader's sandbox: bubblewrap (Debian/Ubuntu package `bubblewrap`). Installs it where it
# is missing and this shell may (root with apt-get), then checks that a sandbox starts.
# Usage: scripts/setup_sandbox.sh PYTHON
set -euo pipefail
python="${1:-python3}"
if ! command -v bwrap > /dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
        apt-get install -y -qq bubblewrap > /dev/null 2>&1 \
            || { apt-get update -qq > /dev/null && apt-get install -y -qq bubblewrap > /dev/null; }
    else
        echo "setup_sandbox: install bubblewrap (e.g. sudo apt-get install bubblewrap)" >&2
        exit 1
    fi
fi
"$python" -c 'from classroom.sandbox import bwrap_works
reason = bwrap_works()
print("sandbox: " + (reason or "bubblewrap works"))
raise SystemExit(1 if reason else 0)'
