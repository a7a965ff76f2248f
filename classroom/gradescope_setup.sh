#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (the course is in
# $AUTOGRADER_ROOT/source). It finds or installs a Python the course's requirements support,
# then bubblewrap, and the requirements into $AUTOGRADER_ROOT/venv.
#
# Gradescope's base images are Ubuntu 22.04 (python3 = 3.10: too old, scipy>=1.16 has no
# wheels for it) and Ubuntu 24.04 (python3 = 3.12). When no Python >= PYTHON_FLOOR with a
# working venv (venv + ensurepip) is on PATH, the routes below are tried in this order, each
# followed by a new search:
#   1. the distribution's own packages, pythonX.Y + pythonX.Y-venv (signed by Ubuntu, security
#      updates through apt, no third party). Release candidates are skipped: the only 3.11 in
#      22.04's archive (universe, jammy-updates) is 3.11.0~rc1.
#   2. the deadsnakes PPA (Ubuntu LTS only; for 22.04 it builds 3.11 to 3.13): still .debs for
#      this very release through apt, pythonX.Y-venv included, but a third party, and it needs
#      add-apt-repository (software-properties-common) and Launchpad.
#   3. uv (pip-installed with the system python) and the Python it downloads (a standalone
#      build from GitHub): works on any Linux with PyPI and GitHub in reach, whatever the
#      distribution, but outside apt and with the most network hosts, so it comes last.
# Among versions, 3.12 is installed first: 24.04's own Python, the one with the most wheels.
#
# For the tests, every command that changes the system is a variable (APT_GET, APT_CACHE,
# ADD_APT_REPOSITORY, SYSTEM_PYTHON, UV) and PATH is searched as it is; SETUP_DRY_SELECT=1
# stops after the choice (and any install it needed) and prints the chosen interpreter's path.
set -euo pipefail
PYTHON_FLOOR=3.11

export DEBIAN_FRONTEND=noninteractive
ROOT="${AUTOGRADER_ROOT:-/autograder}"
APT_GET="${APT_GET:-apt-get}"
APT_CACHE="${APT_CACHE:-apt-cache}"
ADD_APT_REPOSITORY="${ADD_APT_REPOSITORY:-add-apt-repository}"
OS_RELEASE="${OS_RELEASE:-/etc/os-release}"
# Route 3: the Python that pip-installs uv (or UV, a uv to use as it is), where uv goes, and
# where uv puts its Python (outside /root, so that it stays in the image).
SYSTEM_PYTHON="${SYSTEM_PYTHON:-python3}"
UV="${UV:-}"
UV_TOOL_DIR="${UV_TOOL_DIR:-/opt/uv}"
UV_PYTHON_DIR="${UV_PYTHON_DIR:-/opt/uv-python}"

# Searched on PATH, in this order.
PYTHON_CANDIDATES=(python3.13 python3.12 python3.11 python3)
# Installed, in this order (those below the floor skipped).
INSTALL_VERSIONS=(3.12 3.13 3.11)
PYTHON=""

log() { echo "setup: $*" >&2; }

# version_ge A B: is the version X.Y A at least B?
version_ge() {
    local a_major="${1%%.*}" a_minor="${1#*.}" b_major="${2%%.*}" b_minor="${2#*.}"
    a_minor="${a_minor%%.*}"
    b_minor="${b_minor%%.*}"
    ((a_major > b_major || (a_major == b_major && a_minor >= b_minor)))
}

# python_version PY: prints PY's X.Y (with its release level when not final); succeeds only
# for a final release >= PYTHON_FLOOR.
python_version() {
    "$1" -c 'import sys
v = sys.version_info
floor = tuple(int(part) for part in sys.argv[1].split("."))
print("%d.%d%s" % (v[0], v[1], "" if v.releaselevel == "final" else v.releaselevel))
sys.exit(0 if tuple(v[:2]) >= floor and v.releaselevel == "final" else 1)' \
        "$PYTHON_FLOOR" 2>/dev/null
}

# venv_works PY: can PY make a venv with pip in it? (Debian and Ubuntu strip ensurepip from
# the interpreter's package: it comes with pythonX.Y-venv.)
venv_works() {
    local dir ok=1
    dir="$(mktemp -d)" || return 1
    if "$1" -m venv "$dir/venv" >/dev/null 2>&1 \
            && "$dir/venv/bin/python" -m pip --version >/dev/null 2>&1; then
        ok=0
    fi
    rm -rf "$dir"
    return "$ok"
}

# apt_candidate PKG: prints the version apt would install; fails when there is none.
apt_candidate() {
    local key value version=""
    while read -r key value; do
        if [ "$key" = "Version:" ]; then
            version="$value"
            break
        fi
    done < <("$APT_CACHE" show --no-all-versions "$1" 2>/dev/null || true)
    [ -n "$version" ] || return 1
    echo "$version"
}

# apt_installable PKG: does apt have a final release of PKG? (Debian marks pre-releases with
# "~" in the upstream version, 3.11.0~rc1-1~22.04; the "~" after the "-" is only a backport's.)
apt_installable() {
    local version upstream
    version="$(apt_candidate "$1")" || return 1
    upstream="${version#*:}"
    upstream="${upstream%-*}"
    if [[ "$upstream" == *"~"* ]]; then
        log "apt has $1 $version only, a pre-release: skipped"
        return 1
    fi
}

# find_python: sets PYTHON to the first candidate on PATH that is a Python >= PYTHON_FLOOR and
# can make a venv, installing its pythonX.Y-venv with apt where that is all it lacks.
find_python() {
    local name py version
    for name in "${PYTHON_CANDIDATES[@]}"; do
        py="$(command -v "$name" 2>/dev/null)" || continue
        if ! version="$(python_version "$py")"; then
            log "$py: Python ${version:-that does not run}, need a final release >= $PYTHON_FLOOR"
            continue
        fi
        if venv_works "$py"; then
            PYTHON="$py"
            log "using $py (Python $version)"
            return 0
        fi
        log "$py (Python $version) cannot make a venv with pip"
        if apt_installable "python$version-venv"; then
            log "installing python$version-venv with apt"
            if "$APT_GET" install -y -qq "python$version-venv" >/dev/null && venv_works "$py"
            then
                PYTHON="$py"
                log "using $py (Python $version)"
                return 0
            fi
            log "python$version-venv did not give $py a working venv"
        fi
    done
    return 1
}

# Route 1 (and 2, once the PPA is in apt's sources): pythonX.Y and pythonX.Y-venv with apt.
install_with_apt() {
    local version
    for version in "${INSTALL_VERSIONS[@]}"; do
        version_ge "$version" "$PYTHON_FLOOR" || continue
        if apt_installable "python$version" && apt_installable "python$version-venv"; then
            log "installing python$version and python$version-venv with apt"
            if "$APT_GET" install -y -qq "python$version" "python$version-venv" >/dev/null; then
                return 0
            fi
            log "apt-get could not install python$version"
        else
            log "apt has no python$version with python$version-venv"
        fi
    done
    return 1
}

# Route 2: the deadsnakes PPA, on Ubuntu only; taken out again when it gives nothing, so that
# a broken source does not fail the apt-get runs that follow.
install_with_deadsnakes() {
    local key value distribution=""
    if [ -r "$OS_RELEASE" ]; then
        while IFS="=" read -r key value; do
            if [ "$key" = "ID" ]; then
                distribution="${value//\"/}"
            fi
        done < "$OS_RELEASE"
    fi
    if [ "$distribution" != "ubuntu" ]; then
        log "not Ubuntu (${distribution:-unknown}): no deadsnakes PPA"
        return 1
    fi
    if ! command -v "$ADD_APT_REPOSITORY" >/dev/null 2>&1; then
        log "installing software-properties-common (for add-apt-repository)"
        "$APT_GET" install -y -qq software-properties-common ca-certificates >/dev/null \
            || return 1
    fi
    log "adding the deadsnakes PPA"
    "$ADD_APT_REPOSITORY" -y ppa:deadsnakes/ppa || return 1
    if "$APT_GET" update -qq && install_with_apt; then
        return 0
    fi
    log "the deadsnakes PPA gave no Python: removing it"
    "$ADD_APT_REPOSITORY" -y --remove ppa:deadsnakes/ppa || true
    "$APT_GET" update -qq || true
    return 1
}

# Route 3: uv, and the Python it downloads, put first on PATH.
install_with_uv() {
    local uv="$UV" version="$PYTHON_FLOOR" candidate py
    for candidate in "${INSTALL_VERSIONS[@]}"; do
        if version_ge "$candidate" "$PYTHON_FLOOR"; then
            version="$candidate"
            break
        fi
    done
    if [ -z "$uv" ]; then
        if ! "$SYSTEM_PYTHON" -m pip --version >/dev/null 2>&1; then
            log "installing python3-pip with apt (to install uv)"
            "$APT_GET" install -y -qq python3-pip >/dev/null || return 1
        fi
        # --target: a folder of its own (and no "externally managed" refusal from pip).
        log "installing uv into $UV_TOOL_DIR with $SYSTEM_PYTHON -m pip"
        "$SYSTEM_PYTHON" -m pip install --quiet --target "$UV_TOOL_DIR" uv || return 1
        uv="$UV_TOOL_DIR/bin/uv"
    fi
    log "installing Python $version with uv into $UV_PYTHON_DIR"
    UV_PYTHON_INSTALL_DIR="$UV_PYTHON_DIR" "$uv" python install "$version" || return 1
    py="$(UV_PYTHON_INSTALL_DIR="$UV_PYTHON_DIR" UV_PYTHON_PREFERENCE=only-managed \
        "$uv" python find "$version")" || return 1
    [ -n "$py" ] || return 1
    log "uv's Python $version: $py"
    PATH="${py%/*}:$PATH"
    export PATH
}

log "updating apt's package lists"
"$APT_GET" update -qq
if ! find_python; then
    log "no Python >= $PYTHON_FLOOR that can make a venv: installing one"
    for route in install_with_apt install_with_deadsnakes install_with_uv; do
        log "trying ${route//_/ }"
        if "$route" && find_python; then
            break
        fi
    done
fi
if [ -z "$PYTHON" ]; then
    log "ERROR: no Python >= $PYTHON_FLOOR with a working venv, and none could be installed" \
        "(apt, the deadsnakes PPA, uv): the autograder cannot be set up"
    exit 1
fi
if [ "${SETUP_DRY_SELECT:-0}" = 1 ]; then
    echo "$PYTHON"
    exit 0
fi

log "installing bubblewrap"
"$APT_GET" install -y -qq bubblewrap >/dev/null
log "making $ROOT/venv with $PYTHON"
"$PYTHON" -m venv --clear "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --upgrade pip
# The CPU build of torch: Gradescope's machines have no GPU. At the versions the course was
# tested with (requirements-lock.txt, a pip constraints file; torch's ==X lets X+cpu through).
log "installing the course's requirements"
constraints=()
if [ -f "$ROOT/source/requirements-lock.txt" ]; then
    constraints=(-c "$ROOT/source/requirements-lock.txt")
fi
"$ROOT/venv/bin/python" -m pip install --quiet \
    --extra-index-url https://download.pytorch.org/whl/cpu -r "$ROOT/source/requirements.txt" \
    "${constraints[@]}"
"$ROOT/venv/bin/python" --version
