"""The Gradescope image's set-up script (classroom/gradescope_setup.sh): which Python it picks
or installs, run on a simulated Ubuntu 22.04 / 24.04 without root or network.

A fake bin folder is the whole PATH: ``python3`` is one of pyenv's interpreters, and
``apt-get``, ``apt-cache``, ``add-apt-repository``, the system Python that pip-installs uv,
and uv are stubs that log their arguments and "install" by linking more of pyenv's
interpreters in. ``SETUP_DRY_SELECT=1`` stops the script after the choice. Maintainers' test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "classroom" / "gradescope_setup.sh"
PYENV = Path("/root/.pyenv/versions")
PYTHONS = {"3.10": PYENV / "3.10.13" / "bin" / "python3.10",
           "3.11": PYENV / "3.11.7" / "bin" / "python3.11",
           "3.12": PYENV / "3.12.1" / "bin" / "python3.12"}
BASH = shutil.which("bash")
# What the script runs besides its stubs and Pythons.
TOOLS = ("bash", "mktemp", "rm")

pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")

APT_CACHE = """#!{bash}
echo "apt-cache $*" >> {state}/log
pkg="${{@: -1}}"
if [ -e {state}/ppa_added ] && [ -e {state}/ppa/"$pkg" ]; then
    read -r version < {state}/ppa/"$pkg"
elif [ -e {state}/apt/"$pkg" ]; then
    read -r version < {state}/apt/"$pkg"
else
    echo "E: No packages found" >&2
    exit 100
fi
printf 'Package: %s\\nVersion: %s\\n\\n' "$pkg" "$version"
"""

APT_GET = """#!{bash}
echo "apt-get $*" >> {state}/log
[ "$1" = install ] || exit 0
shift
for pkg in "$@"; do
    case "$pkg" in -*) continue ;; esac
    if ! {{ [ -e {state}/ppa_added ] && [ -e {state}/ppa/"$pkg" ]; }} \\
            && [ ! -e {state}/apt/"$pkg" ]; then
        echo "E: Unable to locate package $pkg" >&2
        exit 100
    fi
done
for pkg in "$@"; do
    case "$pkg" in -*) continue ;; esac
    : > {state}/installed/"$pkg"
    if [ -e {state}/targets/"$pkg" ]; then
        read -r target < {state}/targets/"$pkg"
        /bin/ln -sf "$target" {bin}/"$pkg"
    fi
done
"""

ADD_APT_REPOSITORY = """#!{bash}
echo "add-apt-repository $*" >> {state}/log
if [ ! -e {state}/ppa_ok ]; then
    echo "ERROR: cannot reach Launchpad" >&2
    exit 1
fi
case " $* " in
    *" --remove "*) /bin/rm -f {state}/ppa_added ;;
    *) : > {state}/ppa_added ;;
esac
"""

# The system Python of route 3: "pip install --target DIR uv" puts the uv stub in DIR/bin.
SYSTEM_PYTHON = """#!{bash}
echo "system-python $*" >> {state}/log
[ "$*" = "-m pip --version" ] && exit 0
if [ "$1 $2 $3" = "-m pip install" ] && [ -e {state}/uv_ok ]; then
    while [ "$#" -gt 0 ]; do
        if [ "$1" = --target ]; then
            /bin/mkdir -p "$2/bin"
            /bin/ln -sf {state}/uv "$2/bin/uv"
            exit 0
        fi
        shift
    done
fi
exit 1
"""

UV = """#!{bash}
echo "uv $*" >> {state}/log
dir="$UV_PYTHON_INSTALL_DIR/cpython-$3-linux/bin"
if [ "$1 $2" = "python install" ] && [ -e {state}/targets/"python$3" ]; then
    read -r target < {state}/targets/"python$3"
    /bin/mkdir -p "$dir"
    /bin/ln -sf "$target" "$dir/python$3"
    /bin/ln -sf "$target" "$dir/python3"
    exit 0
fi
if [ "$1 $2" = "python find" ] && [ -e "$dir/python$3" ]; then
    echo "$dir/python$3"
    exit 0
fi
exit 2
"""

# python3 whose venv fails until python3.12-venv is installed: Ubuntu 24.04's python3 as it
# comes, without python3-venv.
PYTHON3_WITHOUT_VENV = """#!{bash}
if [ "$1 $2" = "-m venv" ] && [ ! -e {state}/installed/python3.12-venv ]; then
    echo "The virtual environment was not created successfully because ensurepip is not" >&2
    exit 1
fi
exec {python} "$@"
"""


def _need(*versions: str) -> None:
    for version in versions:
        if not os.access(PYTHONS[version], os.X_OK):
            pytest.skip(f"needs pyenv's Python {version} at {PYTHONS[version]}")


class FakeSystem:
    """A PATH of one folder, apt with the given packages (name -> Debian version), the
    deadsnakes PPA with its own (reachable only with ``ppa_ok``), and pythonX.Y's an install
    links in (``targets``: version -> pyenv's interpreter)."""

    def __init__(self, root: Path, python3: str | None, apt: dict[str, str] | None = None,
                 ppa: dict[str, str] | None = None, targets: tuple[str, ...] = (),
                 uv_ok: bool = False, distribution: str = "ubuntu",
                 python3_has_venv: bool = True, add_apt_repository: bool = True):
        _need(*(([python3] if python3 else []) + list(targets)))
        self.root = root
        self.bin = root / "bin"
        self.state = root / "state"
        for folder in (self.bin, self.state / "apt", self.state / "ppa",
                       self.state / "installed", self.state / "targets"):
            folder.mkdir(parents=True)
        (self.state / "log").touch()
        for tool in TOOLS:
            path = shutil.which(tool)
            if path is None:
                pytest.skip(f"needs {tool}")
            (self.bin / tool).symlink_to(path)
        for name, version in (apt or {}).items():
            (self.state / "apt" / name).write_text(version + "\n")
        for name, version in (ppa or {}).items():
            (self.state / "ppa" / name).write_text(version + "\n")
        if ppa is not None:
            (self.state / "ppa_ok").touch()
        if uv_ok:
            (self.state / "uv_ok").touch()
        for version in targets:
            (self.state / "targets" / f"python{version}").write_text(f"{PYTHONS[version]}\n")
        fields = {"bash": BASH, "state": self.state, "bin": self.bin}
        self._stub(self.bin / "apt-get", APT_GET, fields)
        self._stub(self.bin / "apt-cache", APT_CACHE, fields)
        if add_apt_repository:
            self._stub(self.bin / "add-apt-repository", ADD_APT_REPOSITORY, fields)
        self._stub(self.state / "system-python", SYSTEM_PYTHON, fields)
        self._stub(self.state / "uv", UV, fields)
        if python3 and python3_has_venv:
            (self.bin / "python3").symlink_to(PYTHONS[python3])
        elif python3:
            self._stub(self.bin / "python3", PYTHON3_WITHOUT_VENV,
                       dict(fields, python=PYTHONS[python3]))
        (root / "os-release").write_text(f'NAME="Fake"\nID={distribution}\n')

    @staticmethod
    def _stub(path: Path, template: str, fields: dict) -> None:
        path.write_text(template.format(**fields))
        path.chmod(0o755)

    def run(self, dry: bool = True) -> subprocess.CompletedProcess:
        env = {"PATH": str(self.bin), "HOME": str(self.root), "TMPDIR": str(self.root),
               "LANG": "C.UTF-8", "SETUP_DRY_SELECT": "1" if dry else "0",
               # No index and no pip configuration: pip works offline, on what it has.
               "PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull,
               "AUTOGRADER_ROOT": str(self.root / "autograder"),
               "OS_RELEASE": str(self.root / "os-release"),
               "SYSTEM_PYTHON": str(self.state / "system-python"),
               "UV_TOOL_DIR": str(self.root / "uv-tool"),
               "UV_PYTHON_DIR": str(self.root / "uv-python")}
        return subprocess.run([BASH, str(SCRIPT)], env=env, capture_output=True, text=True,
                              timeout=300)

    @property
    def log(self) -> str:
        return (self.state / "log").read_text()


def _chosen(result: subprocess.CompletedProcess) -> Path:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines, result.stderr
    return Path(lines[-1])


def _version(python: Path) -> tuple[int, int]:
    out = subprocess.run([str(python), "-c", "import sys; print(*sys.version_info[:2])"],
                         capture_output=True, text=True, check=True).stdout
    major, minor = out.split()
    return int(major), int(minor)


def test_ubuntu_22_04_rejects_python_3_10_and_installs_python_3_11_with_apt(tmp_path):
    system = FakeSystem(tmp_path, python3="3.10",
                        apt={"python3.11": "3.11.9-1", "python3.11-venv": "3.11.9-1"},
                        targets=("3.11",))
    result = system.run()
    chosen = _chosen(result)
    assert chosen == system.bin / "python3.11"
    assert _version(chosen) >= (3, 11)
    assert "python3: Python 3.10, need a final release >= 3.11" in result.stderr
    assert "apt-get install -y -qq python3.11 python3.11-venv" in system.log
    assert "add-apt-repository" not in system.log


def test_ubuntu_22_04_skips_the_release_candidate_for_the_deadsnakes_ppa(tmp_path):
    # 22.04's own python3.11 is 3.11.0~rc1 (universe); deadsnakes has the final releases.
    rc = "3.11.0~rc1-1~22.04.1"
    system = FakeSystem(tmp_path, python3="3.10",
                        apt={"python3.11": rc, "python3.11-venv": rc},
                        ppa={"python3.12": "3.12.11-1+jammy1",
                             "python3.12-venv": "3.12.11-1+jammy1",
                             "python3.11": "3.11.13-1+jammy1",
                             "python3.11-venv": "3.11.13-1+jammy1"},
                        targets=("3.11", "3.12"))
    result = system.run()
    chosen = _chosen(result)
    assert chosen == system.bin / "python3.12"
    assert _version(chosen) == (3, 12)
    assert "pre-release: skipped" in result.stderr
    assert "add-apt-repository -y ppa:deadsnakes/ppa" in system.log
    installs = [line for line in system.log.splitlines() if line.startswith("apt-get install")]
    assert installs == ["apt-get install -y -qq python3.12 python3.12-venv"]


def test_ubuntu_24_04_python3_12_is_chosen_without_installing(tmp_path):
    system = FakeSystem(tmp_path, python3="3.12")
    chosen = _chosen(system.run())
    assert chosen == system.bin / "python3"
    assert _version(chosen) == (3, 12)
    assert "apt-get install" not in system.log
    assert "add-apt-repository" not in system.log


def test_ubuntu_24_04_without_python3_venv_gets_python3_12_venv(tmp_path):
    system = FakeSystem(tmp_path, python3="3.12", python3_has_venv=False,
                        apt={"python3.12-venv": "3.12.3-1ubuntu0.5"})
    result = system.run()
    assert _chosen(result) == system.bin / "python3"
    assert "cannot make a venv" in result.stderr
    installs = [line for line in system.log.splitlines() if line.startswith("apt-get install")]
    assert installs == ["apt-get install -y -qq python3.12-venv"]


def test_without_apt_packages_or_ppa_uv_installs_python(tmp_path):
    # Not Ubuntu: no deadsnakes; uv comes from pip, its Python goes first on PATH.
    system = FakeSystem(tmp_path, python3="3.10", targets=("3.12",), uv_ok=True,
                        distribution="debian")
    result = system.run()
    chosen = _chosen(result)
    assert chosen == tmp_path / "uv-python" / "cpython-3.12-linux" / "bin" / "python3.12"
    assert _version(chosen) == (3, 12)
    assert "no deadsnakes PPA" in result.stderr
    assert "add-apt-repository" not in system.log
    assert f"-m pip install --quiet --target {tmp_path / 'uv-tool'} uv" in system.log
    assert "uv python install 3.12" in system.log


def test_nothing_installable_fails_with_a_clear_message(tmp_path):
    system = FakeSystem(tmp_path, python3="3.10")
    result = system.run()
    assert result.returncode == 1
    assert result.stdout == ""
    assert "ERROR: no Python >= 3.11 with a working venv" in result.stderr
    # Every route was tried.
    assert "apt-cache show --no-all-versions python3.12" in system.log
    assert "add-apt-repository -y ppa:deadsnakes/ppa" in system.log
    assert "-m pip install --quiet --target" in system.log


def test_without_add_apt_repository_software_properties_common_is_asked_for(tmp_path):
    system = FakeSystem(tmp_path, python3="3.10", add_apt_repository=False)
    result = system.run()
    assert result.returncode == 1
    assert "apt-get install -y -qq software-properties-common ca-certificates" in system.log
    assert "ERROR: no Python >= 3.11" in result.stderr


def _full_system(work: Path) -> tuple[FakeSystem, Path]:
    """A 22.04-like system whose apt has Python 3.11, and a bundle that requires nothing (no
    index needed: the venv, bubblewrap and the steps run offline); its source folder."""
    system = FakeSystem(work, python3="3.10",
                        apt={"python3.11": "3.11.9-1", "python3.11-venv": "3.11.9-1",
                             "bubblewrap": "0.6.1-1"},
                        targets=("3.11",))
    source = work / "autograder" / "source"
    source.mkdir(parents=True)
    (source / "requirements.txt").write_text("# nothing\n")
    return system, source


def test_a_full_run_makes_the_venv_with_the_chosen_python(tmp_path):
    system, _ = _full_system(tmp_path)
    result = system.run(dry=False)
    assert result.returncode == 0, result.stderr
    venv_python = tmp_path / "autograder" / "venv" / "bin" / "python"
    assert _version(venv_python) == (3, 11)
    assert result.stdout.strip().startswith("Python 3.11")
    assert "apt-get install -y -qq bubblewrap" in system.log


def test_the_requirements_install_at_the_locks_versions(tmp_path):
    """The bundle's requirements-lock.txt reaches pip as constraints: one pip cannot read
    fails the set-up (a readable one, with nothing required, installs nothing: offline)."""
    outcomes = []
    for lock in ("numpy==2.3.0\n", "this is no requirement ===\n"):
        system, source = _full_system(tmp_path / str(len(outcomes)))
        (source / "requirements-lock.txt").write_text(lock)
        result = system.run(dry=False)
        outcomes.append((result.returncode, result.stderr))
    assert outcomes[0][0] == 0, outcomes[0][1]
    assert outcomes[1][0] != 0 and "requirements-lock.txt" in outcomes[1][1], outcomes[1]


def test_the_floor_is_one_line_to_substitute():
    lines = [line for line in SCRIPT.read_text().splitlines()
             if re.match(r"\s*PYTHON_FLOOR=", line)]
    assert lines == ["PYTHON_FLOOR=3.11"]


def test_bash_parses_the_script():
    result = subprocess.run([BASH, "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_shellcheck_finds_nothing():
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("needs shellcheck")
    result = subprocess.run([shellcheck, "--shell=bash", str(SCRIPT)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout
