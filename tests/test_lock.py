"""The lock: requirements-lock.txt pins one version of every package `make` installs, each
within the bounds of requirements*.txt, and `make setup`, `make book`, `make browser-setup`,
CI and Binder install with it (CI's weekly run without it, to meet new releases early)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml
from gates import REQUIRE_PYPI, skip_or_fail
from packaging.utils import canonicalize_name
from test_binder import read_requirements  # the requirement files' reader, includes followed

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements-lock.txt"
LISTS = ("requirements.txt", "requirements-dev.txt", "requirements-browser.txt",
         "requirements-book.txt")


def pins() -> dict[str, str]:
    pinned = {}
    for number, line in enumerate(LOCK.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([\w.+!-]+)", line)
        assert match, f"requirements-lock.txt:{number}: expected name==version, got {line!r}"
        name = canonicalize_name(match.group(1))
        assert name not in pinned, f"requirements-lock.txt:{number}: {name} pinned twice"
        pinned[name] = match.group(2)
    return pinned


def test_the_lock_pins_every_requirement_within_its_bounds():
    pinned = pins()
    assert {"torch", "numpy", "nbval", "jupyter-book", "playwright"} <= set(pinned)
    for name in LISTS:
        for requirement in read_requirements(ROOT / name)[1]:
            key = canonicalize_name(requirement.name)
            assert key in pinned, f"{name}: {requirement.name} is not in the lock"
            assert requirement.specifier.contains(pinned[key], prereleases=True), (
                f"{name}: {requirement} but the lock has {pinned[key]}")


def test_the_lock_pins_no_project_of_this_repository():
    assert not {"markets-of-agents", "markets-of-agents-student"} & set(pins())


def test_make_installs_with_the_lock_and_can_go_without():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "LOCK ?= requirements-lock.txt" in makefile
    assert "pip install --quiet -r requirements-dev.txt $(LOCKED)" in makefile
    assert "pip install --quiet -r requirements-book.txt $(LOCKED)" in makefile
    assert "PIP_CONSTRAINT=$(abspath $(LOCK))) scripts/setup_browser.sh" in makefile
    assert "$(if $(filter none,$(LOCK)),,-c $(LOCK))" in makefile
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text("utf-8"))
    assert flow["env"]["LOCK"] == ("${{ github.event_name == 'schedule' && 'none' "
                                   "|| 'requirements-lock.txt' }}")


def test_the_lock_resolves(tmp_path):
    """pip, without installing anything, finds the locked versions for every list at once
    (needs the package index)."""
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
               "--quiet", "--disable-pip-version-check", "--timeout", "15",
               "--report", str(tmp_path / "report.json"), "-c", str(LOCK)]
    for name in LISTS[1:]:
        command += ["-r", str(ROOT / name)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    except subprocess.TimeoutExpired:
        skip_or_fail("the package index did not answer within 10 minutes", REQUIRE_PYPI)
    if done.returncode and re.search(r"connection|resolve host|Network|timed out", done.stderr,
                                     re.I):
        skip_or_fail(f"the package index cannot be reached: {done.stderr[-300:]}", REQUIRE_PYPI)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    chosen = {canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
              for item in report["install"]}
    assert len(chosen) > 50
    pinned = pins()
    assert {name: (version, pinned.get(name)) for name, version in chosen.items()
            if pinned.get(name) != version} == {}
