#!/usr/bin/env bash
# Writes requirements-lock.txt: the versions pip picks today, in a fresh virtual environment of
# PYTHON (the course's floor), for everything `make` installs (requirements-dev.txt, which
# includes requirements.txt, requirements-browser.txt and requirements-book.txt). `make setup`,
# `make book`, `make browser-setup`, CI and Binder install with it as a constraints file.
# Usage: scripts/lock.sh [PYTHON]   (`make lock`)
set -euo pipefail
python="${1:-python3}"
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet -r requirements-dev.txt \
    -r requirements-browser.txt -r requirements-book.txt
version="$("$work/venv/bin/python" -c 'import platform; print(platform.python_version())')"
{
    echo "# The exact versions \`make\` installs, as a pip constraints file (see the Makefile's LOCK)."
    echo "# Written by scripts/lock.sh (\`make lock\`) on $(date -u +%Y-%m-%d), Python $version, $(uname -sm);"
    echo "# requirements*.txt stay the lower bounds. Do not edit: run \`make lock\` again."
    "$work/venv/bin/python" -m pip freeze --all --exclude-editable | grep -v "^pip==" | LC_ALL=C sort -f
} > requirements-lock.txt.new
mv requirements-lock.txt.new requirements-lock.txt
echo "lock: $(grep -vc '^#' requirements-lock.txt) packages in requirements-lock.txt"
