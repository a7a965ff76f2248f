"""The in-browser site (scripts/build_lite.py, `make lite`), built here with a stand-in Pyodide:
npm's ``pyodide`` package of the version the kernel expects (its runtime and its real
``pyodide-lock.json``, from tests/npm), with a small file in place of each package's wheel
(those are only in the official release archive, which the Pages workflow downloads). The
wheels Pyodide lacks come from PyPI, as in the real build.

Then in headless Chromium, with the real wheels of Pyodide's pure-Python packages put in (PyPI
has the same files; numpy and the other compiled ones stay stand-ins): the site's Python loads
what check() and the widgets need and runs a property test under pytest, and JupyterLite
starts its kernel from the site alone and runs a notebook's set-up cell. Maintainers' test."""

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
import urllib.parse
import urllib.request
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


# ---------------------------------------------------------------------------------------------
# The site's Pyodide in a real browser: its pure-Python packages are the real wheels (PyPI has
# the very files), numpy and the other compiled ones stay stand-ins, so only what needs no
# compiled package runs: the packages that check() and the widgets need, loaded as the kernel
# loads them (loadPyodide with the site's lock), and a property test under pytest.

PAGE = """<!doctype html><html lang="en"><title>probe</title><script type="module">
import { loadPyodide } from "./static/pyodide/pyodide.mjs";
window.probe = (async () => {
  const py = await loadPyodide({ indexURL: "./static/pyodide/",
                                 packages: ["pytest", "hypothesis", "ipywidgets", "tqdm"] });
  return py.runPython(`
import io, json, sys, contextlib
with open("test_probe.py", "w") as f:
    f.write("from hypothesis import given, strategies as st\\\\n"
            "@given(st.lists(st.integers()))\\\\n"
            "def test_sorted_twice(xs):\\\\n"
            "    assert sorted(sorted(xs)) == sorted(xs)\\\\n")
import pytest, hypothesis, ipywidgets, tqdm, IPython
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = pytest.main(["-q", "-p", "no:cacheprovider", "test_probe.py"])
json.dumps({"platform": sys.platform, "exit": int(code), "output": out.getvalue()[-500:],
            "hypothesis": hypothesis.__version__, "ipywidgets": ipywidgets.__version__})
`);
})();
</script></html>
"""


def _pypi_wheel(entry: dict, folder: Path) -> Path:
    """The wheel of a pure package of Pyodide's lock: PyPI's file of that name, or one built
    from PyPI's sdist where PyPI has no wheel (atomicwrites)."""
    folder.mkdir(exist_ok=True)
    target = folder / entry["file_name"]
    index = f"https://pypi.org/pypi/{entry['name']}/json"
    with urllib.request.urlopen(index, timeout=60) as r:
        files = json.load(r)["releases"].get(entry["version"], [])
    url = next((f["url"] for f in files if f["filename"] == entry["file_name"]), None)
    if url is not None:  # (a mirror may give addresses relative to the index's)
        with urllib.request.urlopen(urllib.parse.urljoin(index, url), timeout=120) as response, \
                open(target, "wb") as f:
            shutil.copyfileobj(response, f)
        return target
    built = folder / "built"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--ignore-requires-python", "--wheel-dir", str(built),
                    f"{entry['name']}=={entry['version']}"], check=True, capture_output=True,
                   timeout=300)
    return next(built.glob(f"{entry['file_name'].split('-')[0]}-{entry['version']}-*.whl"))


def _with_real_pure_wheels(site: dict, root: Path, wheels: Path) -> dict:
    """A copy of the site at ``root`` whose Pyodide holds the real wheels of its pure
    packages (the compiled ones stay stand-ins); returns its lock."""
    shutil.copytree(site["html"], root)
    folder = root / "static" / "pyodide"
    lock_file = folder / "pyodide-lock.json"
    lock = json.loads(lock_file.read_text("utf-8"))
    for entry in lock["packages"].values():
        wheel = folder / entry["file_name"]
        if wheel.read_bytes() != f"stand-in for {entry['name']}".encode() \
                or "-none-any.whl" not in entry["file_name"]:
            continue  # added by the site (real already), or compiled (a stand-in stays)
        try:
            shutil.copy2(_pypi_wheel(entry, wheels), wheel)
        except (OSError, subprocess.CalledProcessError) as error:
            skip_or_fail(f"PyPI out of reach: {error}", REQUIRE_PYPI)
        # Pyodide builds its own wheels of pure packages: the same files, other digests
        entry["sha256"] = hashlib.sha256(wheel.read_bytes()).hexdigest()
    lock_file.write_text(json.dumps(lock), encoding="utf-8")
    return lock


@pytest.fixture(scope="module")
def real_site(site, tmp_path_factory) -> tuple[Path, dict]:
    from browser_support import require_browser

    require_browser()
    work = tmp_path_factory.mktemp("real")
    return work / "site", _with_real_pure_wheels(site, work / "site", work / "wheels")


def test_the_sites_python_loads_the_packages_and_runs_a_property_test(real_site):
    from browser_support import chromium_context, served

    root, lock = real_site
    (root / "probe.html").write_text(PAGE, encoding="utf-8")
    with served(root) as address, chromium_context({"width": 800, "height": 600}) as context:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{address}/probe.html")
        result = json.loads(page.evaluate("window.probe"))
    assert not errors, errors
    assert result["platform"] == "emscripten"
    assert result["exit"] == 0 and "1 passed" in result["output"], result["output"]
    locked = {canonicalize_name(e["name"]): e["version"] for e in lock["packages"].values()}
    assert result["hypothesis"] == locked["hypothesis"]
    assert result["ipywidgets"] == locked["ipywidgets"]


KERNEL_RUN = """async ([setup, probe]) => {
  const app = window.jupyterapp;
  const specs = app.serviceManager.kernelspecs;
  await specs.ready;
  while (!specs.specs || !Object.keys(specs.specs.kernelspecs).length) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await specs.refreshSpecs();
  }
  const session = await app.serviceManager.sessions.startNew({
      path: "notebooks/00_welcome.ipynb", name: "00_welcome.ipynb", type: "notebook",
      kernel: { name: specs.specs.default } });
  const run = async (code) => {
    const out = [];
    const future = session.kernel.requestExecute({ code });
    future.onIOPub = (msg) => {
      if (msg.header.msg_type === "stream") out.push(msg.content.text);
      if (msg.header.msg_type === "error")
        out.push(`ERROR ${msg.content.ename}: ${msg.content.evalue}`);
    };
    await future.done;
    return out.join("");
  };
  return { setup: await run(setup), probe: await run(probe) };
}"""
KERNEL_PROBE = """import os, sys, json
import hypothesis, ipywidgets, pytest
print(json.dumps({"cwd": os.getcwd(), "path0": sys.path[0],
                  "envs": os.path.isfile(os.path.join(sys.path[0], "course_lib", "envs",
                                                      "toy_mdps.py")),
                  "tests": sorted(os.listdir(os.path.join(sys.path[0], "tests")))}))
"""


def test_the_site_starts_its_kernel_and_the_set_up_cell_finds_the_course(real_site):
    """JupyterLite itself: the kernel starts with PyPI out of bounds (its own packages from the
    site alone), opens a notebook's folder, and the set-up cell puts the course on the path.
    The compiled packages are stand-ins here, so the kernel preloads only the pure ones."""
    from browser_support import chromium_context, served

    root, _ = real_site
    config_file = root / "jupyter-lite.json"
    config = json.loads(config_file.read_text("utf-8"))
    kernel = config["jupyter-config-data"]["litePluginSettings"][
        "@jupyterlite/pyodide-kernel-extension:kernel"]
    kernel["loadPyodideOptions"]["packages"] = ["pytest", "hypothesis", "ipywidgets", "tqdm"]
    config["jupyter-config-data"]["exposeAppInBrowser"] = True  # window.jupyterapp, for the test
    config_file.write_text(json.dumps(config), encoding="utf-8")
    requests = []
    with served(root) as address, chromium_context({"width": 1000, "height": 700}) as context:
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto(f"{address}/lab/index.html")
        page.wait_for_function("window.jupyterapp !== undefined", timeout=120_000)
        result = page.evaluate(KERNEL_RUN, [launch.colab_setup_cell(), KERNEL_PROBE])
    assert "ERROR" not in result["setup"] + result["probe"], result
    probe = json.loads(result["probe"].strip().splitlines()[-1])
    assert probe["cwd"] == "/drive/notebooks" and probe["path0"] == "/drive"
    assert probe["envs"] and "test_auctions.py" in probe["tests"]
    assert all(url.startswith(address) for url in requests), [
        url for url in requests if not url.startswith(address)][:5]
