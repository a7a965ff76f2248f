"""The Binder configuration (binder/), checked by reading its files and, where the package index
can be reached, by letting repo2docker itself render the Dockerfile Binder would build and by
running binder/postBuild in a copy of the repository."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from gates import REQUIRE_PYPI, skip_or_fail
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TESTED_PYTHONS = ("3.11", "3.12", "3.13")
# An extra index keeps PyPI for everything else; includes keep one list of packages.
ALLOWED_OPTIONS = {"--extra-index-url", "-r", "--requirement", "-c", "--constraint"}
# Any of these in binder/ makes repo2docker pick another build pack, ignoring requirements.txt.
OTHER_BUILD_PACKS = ("Dockerfile", "environment.yml", "Pipfile", "Pipfile.lock", "Project.toml",
                     "REQUIRE", "install.R", "DESCRIPTION", "default.nix")

# --------------------------------------------------------------------------------------
# Reading the files
# --------------------------------------------------------------------------------------


def logical_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of each line that is not blank, with pip's comments removed."""
    lines = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = re.sub(r"(^|\s)#.*", "", raw).strip()  # pip: '#' at the start or after a space
        if text:
            lines.append((number, text))
    return lines


def read_requirements(path: Path) -> tuple[list[tuple[str, str, str]], list[Requirement]]:
    """Options as (where, option, value) and requirements of a pip requirements file, following
    its includes as pip does (their paths are relative to the including file)."""
    options, requirements = [], []
    for number, text in logical_lines(path):
        where = f"{path.relative_to(ROOT)}:{number}"
        if text.startswith("-"):
            match = re.fullmatch(r"(--?[\w-]+)(?:[\s=]+(.*))?", text)
            option, value = match.group(1), (match.group(2) or "").strip()
            options.append((where, option, value))
            if option in ("-r", "--requirement"):
                included = (path.parent / value).resolve()
                assert included.is_relative_to(ROOT) and included.is_file(), f"{where}: {text}"
                more_options, more_requirements = read_requirements(included)
                options += more_options
                requirements += more_requirements
            continue
        try:
            requirements.append(Requirement(text))
        except InvalidRequirement as error:
            pytest.fail(f"{where}: {text!r} is not a requirement: {error}")
    return options, requirements


def by_name(requirements: list[Requirement]) -> dict[str, list[Requirement]]:
    named: dict[str, list[Requirement]] = {}
    for requirement in requirements:
        named.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    return named


def pinned_version(requirements: list[Requirement], name: str) -> Version:
    """The version ``name`` is pinned to with ``==`` (exactly one pin expected)."""
    pins = [Version(spec.version) for r in requirements if canonicalize_name(r.name) == name
            for spec in r.specifier if spec.operator == "=="]
    assert len(pins) == 1, f"{name} should be pinned exactly once with ==, found {pins}"
    return pins[0]


def runtime_python() -> str:
    text = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-(3\.\d+)", text)
    assert match, f"binder/runtime.txt should read python-3.X, not {text!r}"
    return match.group(1)


def post_build_commands() -> list[list[str]]:
    """binder/postBuild's lines as shell words, comments and blank lines left out."""
    return [shlex.split(text) for _, text in logical_lines(BINDER / "postBuild")]


# --------------------------------------------------------------------------------------
# The configuration, read
# --------------------------------------------------------------------------------------


def test_binder_folder_holds_only_the_python_configuration():
    for needed in ("runtime.txt", "requirements.txt", "postBuild"):
        assert (BINDER / needed).is_file(), f"binder/{needed} is missing"
    # Both folders at once is an error for repo2docker.
    assert not (ROOT / ".binder").exists()
    present = [name for name in OTHER_BUILD_PACKS if (BINDER / name).exists()]
    assert present == [], f"binder/ holds {present}: repo2docker would not use requirements.txt"


def test_runtime_is_a_python_this_project_supports_and_is_tested_with():
    version = runtime_python()
    with open(ROOT / "pyproject.toml", "rb") as file:
        requires = SpecifierSet(tomllib.load(file)["project"]["requires-python"])
    assert Version(version) in requires, f"python-{version} does not satisfy {requires}"
    assert version in TESTED_PYTHONS, f"python-{version} is not one of {TESTED_PYTHONS}"


def test_requirement_lines_parse_and_use_only_allowed_options():
    options, requirements = read_requirements(BINDER / "requirements.txt")
    assert requirements, "binder/requirements.txt installs nothing"
    for where, option, value in options:
        assert option in ALLOWED_OPTIONS, f"{where}: pip option {option} is not allowed here"
        if option == "--extra-index-url":
            assert value == CPU_INDEX, f"{where}: unexpected extra index {value}"
        if option in ("-c", "--constraint"):
            assert value == "../requirements-lock.txt", f"{where}: constraints from {value}"


def test_torch_and_torchvision_are_a_matching_pair_of_cpu_builds():
    options, requirements = read_requirements(BINDER / "requirements.txt")
    assert ("--extra-index-url", CPU_INDEX) in [(o, v) for _, o, v in options]
    torch = pinned_version(requirements, "torch")
    vision = pinned_version(requirements, "torchvision")
    # Without "+cpu" pip may take PyPI's CUDA build of the same version.
    assert torch.local == "cpu" and vision.local == "cpu", (torch, vision)
    assert (torch.major, vision.major) == (2, 0), (torch, vision)
    assert vision.minor == torch.minor + 15, f"torchvision {vision} does not go with torch {torch}"


def test_binder_installs_every_root_requirement():
    _, binder = read_requirements(BINDER / "requirements.txt")
    _, root = read_requirements(ROOT / "requirements.txt")
    missing = sorted(set(by_name(root)) - set(by_name(binder)))
    assert missing == [], f"binder/requirements.txt does not install {missing}"


def test_binder_installs_the_lock_and_no_maintainers_tool():
    options, binder = read_requirements(BINDER / "requirements.txt")
    assert ("-c", "../requirements-lock.txt") in [(o, v) for _, o, v in options]
    _, learner = read_requirements(ROOT / "requirements.txt")
    _, dev = read_requirements(ROOT / "requirements-dev.txt")
    tools = set(by_name(dev)) - set(by_name(learner))
    assert tools >= {"nbval", "ruff", "pytest-xdist"}
    assert not tools & set(by_name(binder)), sorted(tools & set(by_name(binder)))


def test_binder_pins_satisfy_the_root_lower_bounds():
    _, binder = read_requirements(BINDER / "requirements.txt")
    _, root = read_requirements(ROOT / "requirements.txt")
    bounds = by_name(root)
    for requirement in binder:
        for spec in requirement.specifier:
            if spec.operator != "==":
                continue
            for bound in bounds.get(canonicalize_name(requirement.name), []):
                assert Version(spec.version) in bound.specifier, f"{requirement} vs {bound}"


def test_post_build_is_an_executable_strict_bash_script():
    path = BINDER / "postBuild"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#!/bin/bash", f"postBuild starts with {lines[0]!r}"
    if sys.platform != "win32":
        assert os.access(path, os.X_OK), "binder/postBuild is not executable"
    # Once committed, the mode git records is what Binder checks out.
    staged = subprocess.run(["git", "ls-files", "--stage", "--", "binder/postBuild"], cwd=ROOT,
                            capture_output=True, text=True, check=False).stdout
    assert not staged or staged.startswith("100755"), f"git records {staged.split()[0]}"
    first = post_build_commands()[0]
    # repo2docker does not stop at a failing command unless the script says so.
    assert first[0] == "set" and re.fullmatch(r"-[a-z]*e[a-z]*", first[1]), first


def test_post_build_installs_the_package_editable_without_dependencies():
    installs = [words for words in post_build_commands() if "install" in words and "pip" in words]
    assert installs, "postBuild does not pip-install anything"
    words = installs[0]
    editable = [words[k + 1] for k, word in enumerate(words[:-1]) if word in ("-e", "--editable")]
    assert editable == ["."], f"postBuild should install the repository editable: {words}"
    assert "--no-deps" in words, "the dependencies come from binder/requirements.txt"


def test_post_build_checks_widgets_and_needs_no_root():
    words = [word for command in post_build_commands() for word in command]
    text = " ".join(words)
    assert "labextension list" in text and "@jupyter-widgets/jupyterlab-manager" in text
    # Binder builds as an unprivileged user: system packages belong in apt.txt.
    forbidden = {"sudo", "apt", "apt-get"} & set(words)
    assert not forbidden, f"postBuild uses {sorted(forbidden)}"


# --------------------------------------------------------------------------------------
# The configuration, as repo2docker sees it (needs the package index)
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def helper_venv(tmp_path_factory) -> Path:
    """A throwaway virtual environment with the latest repo2docker (mybinder.org keeps up)."""
    if sys.platform == "win32":
        pytest.skip("repo2docker and postBuild run on Linux")
    venv = tmp_path_factory.mktemp("binder") / "venv"
    if subprocess.run([sys.executable, "-m", "venv", str(venv)], check=False).returncode:
        pytest.skip("cannot create a virtual environment (python3-venv missing?)")
    python = venv / "bin" / "python"
    command = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--timeout", "15", "--retries", "1", "jupyter-repo2docker"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        skip_or_fail("the package index did not answer: cannot install jupyter-repo2docker",
                     REQUIRE_PYPI)
    if done.returncode:
        skip_or_fail(f"cannot install jupyter-repo2docker from the package index "
                     f"(offline?): {done.stderr.strip().splitlines()[-1:]}", REQUIRE_PYPI)
    return venv


def test_repo2docker_builds_python_with_binder_requirements_then_post_build(helper_venv):
    # --no-build renders the Dockerfile without a container engine.
    command = [str(helper_venv / "bin" / "repo2docker"), "--no-build", "--user-id", "1000",
               "--user-name", "jovyan", str(ROOT)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"Building conda environment for python={runtime_python()}" in done.stderr, done.stderr
    dockerfile = done.stdout
    copy_repo = dockerfile.find(" src/ ${REPO_DIR}/")
    install = dockerfile.find('pip install --no-cache-dir -r "binder/requirements.txt"')
    post_build = dockerfile.find("RUN ./binder/postBuild")
    # The include of ../requirements.txt needs the whole repository in place before pip runs.
    assert 0 <= copy_repo < install < post_build, dockerfile


def test_post_build_runs_in_a_copy_of_the_repository(helper_venv, tmp_path):
    jupyter = Path(sys.executable).with_name("jupyter")
    if not jupyter.exists():
        pytest.skip("JupyterLab is not installed next to this Python")
    repo = tmp_path / "repo"
    for name in ("course_lib", "solutions", "binder"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, repo / name)
    # `python` is the throwaway environment's; `jupyter` (widgets check) is this one's.
    path = os.pathsep.join([str(helper_venv / "bin"), str(jupyter.parent), os.environ["PATH"]])
    done = subprocess.run(["./binder/postBuild"], cwd=repo, env={**os.environ, "PATH": path},
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    probe = ("import importlib.util as u; print(u.find_spec('course_lib').origin, "
             "u.find_spec('numpy') is None)")
    where, no_numpy = subprocess.run([str(helper_venv / "bin" / "python"), "-c", probe],
                                     cwd=tmp_path, capture_output=True, text=True,
                                     check=True).stdout.split()
    assert Path(where).is_relative_to(repo), f"course_lib imports from {where}"
    assert no_numpy == "True", "postBuild installed the package's dependencies"
