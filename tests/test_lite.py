"""The in-browser site (scripts/build_lite.py, `make lite`), built here with a stand-in Pyodide:
npm's ``pyodide`` package of the version the kernel expects (its runtime and its real
``pyodide-lock.json``, from tests/npm), with a small file in place of each package's wheel
(those are only in the official release archive, which the Pages workflow downloads). The
wheels Pyodide lacks come from PyPI, as in the real build. Maintainers' test."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from gates import REQUIRE_PYPI, skip_or_fail
from npm_tools import npm_tools
from packaging.utils import canonicalize_name

from course_lib import launch

ROOT = Path(__file__).resolve().parents[1]
_SPEC = importlib.util.spec_from_file_location("build_lite", ROOT / "scripts" / "build_lite.py")
build_lite = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(build_lite)

# Imported natively but not needed in the browser: typing_extensions is hypothesis's fallback
# for typing.override, which the browser's Python (3.14) has; the rest are this machine's
# install hooks and compiled modules' runtimes.
NATIVE_ONLY = re.compile(r"typing_extensions|_distutils_hack|__editable__.*|_sysconfigdata_.*"
                         r"|_cython_.*|cython_runtime|__main__")
# The course's own modules (the site's files).
COURSE = re.compile(r"course_lib|solutions|conftest|oracles|test_.*")

PROBE = """
import importlib, json, re, sys
from pathlib import Path
root = Path(sys.argv[1])
sys.path.insert(0, str(root))
names = set()
for notebook in sys.argv[2:]:
    for cell in json.loads((root / "notebooks" / notebook).read_text("utf-8"))["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            names |= set(re.findall(r"^\\s*(?:from|import)\\s+([\\w.]+)", source, re.M))
for name in sorted(names):
    importlib.import_module(name)
from course_lib import check, widgets
report = check("1.1", quiet=True)
assert report.outcomes, "check ran no test"
widgets.AuctionPlayground()
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} - set(sys.stdlib_module_names))))
"""


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory) -> Path:
    runtime = npm_tools() / "node_modules" / "pyodide"
    info = json.loads((runtime / "package.json").read_text("utf-8"))
    assert info["version"] == build_lite.pyodide_version(), (
        "tests/npm's pyodide is not the version jupyterlite-pyodide-kernel expects")
    folder = tmp_path_factory.mktemp("pyodide") / "pyodide"
    shutil.copytree(runtime, folder)
    for entry in json.loads((folder / "pyodide-lock.json").read_text("utf-8"))["packages"].values():
        (folder / entry["file_name"]).write_text(f"stand-in for {entry['name']}")
    return folder


@pytest.fixture(scope="module")
def site(stand_in, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("lite")
    try:
        summary = build_lite.build(str(stand_in), out)
    except subprocess.CalledProcessError as error:  # pip download: PyPI out of reach
        skip_or_fail(f"the in-browser site could not be built: {error}", REQUIRE_PYPI)
    return summary


def test_the_site_holds_the_chapters_and_the_files_they_need(site):
    files = site["html"] / "files"
    notebooks = sorted(p.name for p in (files / "notebooks").iterdir())
    assert notebooks == sorted(launch.BROWSER_NOTEBOOKS)
    # envs/ kept (JupyterLite's own ignore list drops every folder of that name), served by
    # the contents API too
    assert (files / "course_lib" / "envs" / "toy_mdps.py").is_file()
    listing = json.loads((site["html"] / "api" / "contents" / "course_lib" / "envs" / "all.json")
                         .read_text("utf-8"))
    assert "toy_mdps.py" in {item["name"] for item in listing["content"]}
    tests = {p.name for p in (files / "tests").iterdir()}
    assert {"conftest.py", "test_auctions.py", "test_bidders.py", "test_bucket_brigade.py",
            "test_society.py", "test_q_learning.py", "oracles.py"} <= tests
    assert not {"hidden", "test_ppo.py", "test_wireless_sac.py", "test_grade.py"} & tests
    assert (files / "pyproject.toml").is_file()
    assert not list(files.rglob("__pycache__"))
    # every file as in the repository
    for rel in ("course_lib/auctions.py", "notebooks/01_vickrey_auction.ipynb"):
        assert (files / rel).read_bytes() == (ROOT / rel).read_bytes()


def test_the_kernel_loads_the_chapters_packages_from_the_site_alone(site):
    config = json.loads((site["html"] / "jupyter-lite.json").read_text("utf-8"))
    kernel = config["jupyter-config-data"]["litePluginSettings"][
        "@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["disablePyPIFallback"] is True
    assert kernel["pyodideUrl"] == "./static/pyodide/pyodide.mjs"
    preload = kernel["loadPyodideOptions"]["packages"]
    assert set(preload) == {canonicalize_name(n) for n in build_lite.CHAPTER_PACKAGES}
    folder = site["html"] / "static" / "pyodide"
    lock = json.loads((folder / "pyodide-lock.json").read_text("utf-8"))["packages"]
    names = {canonicalize_name(n) for n in lock}
    needed = {canonicalize_name(n)
              for n in build_lite.KERNEL_PACKAGES + build_lite.CHAPTER_PACKAGES}
    assert needed - names == {canonicalize_name(n) for n in build_lite.FROM_THE_EXTENSION} & needed
    for name, entry in lock.items():
        assert {canonicalize_name(d) for d in entry["depends"]} <= names, name
        wheel = folder / entry["file_name"]
        if wheel.read_bytes() == f"stand-in for {entry['name']}".encode():
            continue  # one of Pyodide's own
        # a wheel the site adds: real, and the lock's digest is its own
        assert canonicalize_name(name) in {"hypothesis", "ipywidgets", "comm"}, name
        assert entry["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
        assert entry["imports"] and entry["file_name"].endswith(".whl")
    assert {"hypothesis", "ipywidgets", "comm"} <= names
    # trimmed: of Pyodide's 300-odd packages only what is needed, and its runtime
    assert len(lock) < 60 and "astropy" not in names and "pandas" not in names
    assert (folder / "pyodide.asm.wasm").is_file() and (folder / "python_stdlib.zip").is_file()
    assert not list(folder.glob("*.map")) and not list(folder.glob("*.d.ts"))
    packaged = {p.name for p in folder.iterdir()} - {"pyodide-lock.json"}
    assert {e["file_name"] for e in lock.values()} <= packaged


def test_every_module_the_chapters_import_is_in_the_site(site, tmp_path):
    """Measured natively: the modules imported by notebooks 00-03's imports, a check() and a
    widget; each third-party one must be a module of a package the site's kernel loads."""
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "MPLBACKEND": "Agg",
           "COURSE_LIB_REFERENCE": "all"}
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    run = subprocess.run([sys.executable, str(probe), str(ROOT), *launch.BROWSER_NOTEBOOKS],
                         capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    imported = set(json.loads(run.stdout.strip().splitlines()[-1]))
    assert {"numpy", "matplotlib", "pytest", "hypothesis", "ipywidgets"} <= imported
    lock = json.loads((site["html"] / "static" / "pyodide" / "pyodide-lock.json")
                      .read_text("utf-8"))["packages"]
    provided = {module for entry in lock.values() for module in entry["imports"]}
    third_party = {m for m in imported if not NATIVE_ONLY.fullmatch(m) and not COURSE.fullmatch(m)}
    assert third_party - provided == set()


def test_a_release_archive_and_a_missing_package_are_handled(stand_in, tmp_path):
    archive = tmp_path / "pyodide-0.tar.bz2"
    with tarfile.open(archive, "w:bz2") as tar:
        tar.add(stand_in / "pyodide-lock.json", "pyodide/pyodide-lock.json")
        tar.add(stand_in / "pyodide.mjs", "pyodide/pyodide.mjs")
    folder = build_lite.pyodide_folder(str(archive), tmp_path / "cache")
    assert folder.name == "pyodide" and (folder / "pyodide.mjs").is_file()
    assert build_lite.pyodide_folder(str(archive), tmp_path / "cache") == folder  # unpacked once
    with pytest.raises(ValueError, match="no pyodide-lock.json"):
        build_lite.pyodide_folder(str(tmp_path / "cache" / "wheels-none"), tmp_path / "cache")
    with pytest.raises(ValueError, match="neither in Pyodide nor in requirements-lock.txt"):
        build_lite.download_wheel("no-such-package-here", tmp_path / "w", {})


def test_notebooks_offer_the_browser_where_the_site_has_them():
    for name in launch.BROWSER_NOTEBOOKS:
        url = launch.browser_url(name)
        assert url == f"{launch.site_url()}lite/lab/index.html?path=notebooks/{name}"
        assert f"({url})" in launch.badges_markdown(name)
    assert launch.browser_url("04_societies_on_minigrid.ipynb") is None
    assert "Run in the browser" not in launch.badges_markdown("04_societies_on_minigrid.ipynb")


def test_the_set_up_cell_puts_the_course_on_the_path_in_the_browser(tmp_path):
    """The cell's browser branch, run by a Python that says it is Pyodide's."""
    course = tmp_path / "drive"
    (course / "course_lib").mkdir(parents=True)
    (course / "notebooks").mkdir()
    fake = ("import sys; sys.platform = 'emscripten'\n" + launch.colab_setup_cell()
            + "\nprint(sys.path[0]); exec(compile(" + repr(launch.colab_setup_cell())
            + ", 'again', 'exec')); print(sys.path.count(sys.path[0]))")
    run = subprocess.run([sys.executable, "-c", fake], cwd=course / "notebooks",
                         capture_output=True, text=True, check=True)
    first, count = run.stdout.split()
    assert Path(first) == course and count == "1"
