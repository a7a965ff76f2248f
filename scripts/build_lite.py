"""The in-browser course: chapters 0-3 as a JupyterLite site in build/lite/html (`make lite`).

JupyterLite is JupyterLab running in the browser tab alone; its Pyodide kernel is CPython
compiled to WebAssembly. Nothing is installed and no server runs code: the site is static
files, published under the website's ``lite/`` (the Pages workflow).

What the site holds:

- **contents** (the file browser, editable in the tab): notebooks 00-03, ``course_lib`` whole
  (``envs/`` included: JupyterLite's default ignore list drops every folder named ``envs``, so
  this build sets its own), ``solutions``, the public tests of chapters 1-3 with the modules
  they import, and ``pyproject.toml`` (pytest's markers). A notebook's set-up cell puts the
  course's folder on the import path (``course_lib/launch.py``).
- **Pyodide, trimmed** (``--pyodide``: the official release archive, a local archive or a
  folder): its runtime files and, of its ~350 packages, only those the kernel and the chapters
  load, with everything they depend on (``pyodide-lock.json`` rewritten to match).
- **the pure-Python wheels Pyodide lacks** (hypothesis, ipywidgets, comm), downloaded from PyPI
  at the versions of requirements-lock.txt and added to that same lock file, so that the kernel
  loads every package the chapters need when it starts (``loadPyodideOptions.packages``) and
  never turns to PyPI (``disablePyPIFallback``).

The build fails when a package the kernel or the chapters need, or one they depend on, is in
neither. Building needs the network for the release archive and the wheels (pip's cache
serves the wheels again).

Usage: python scripts/build_lite.py [--pyodide release|URL|PATH] [--site DIR] [--out build/lite]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import launch  # noqa: E402  (the checkout's copy)

OUT = ROOT / "build" / "lite"
LOCK = ROOT / "requirements-lock.txt"
# What the chapters' code imports beyond the standard library (and the kernel's own packages):
# requirements.txt less the torch chapters' packages and the front end.
CHAPTER_PACKAGES = ("numpy", "scipy", "matplotlib", "tqdm", "ipywidgets", "pytest", "hypothesis")
# What the Pyodide kernel loads for itself as it starts (its worker's list); ipykernel and
# pyodide-kernel come with the kernel's own extension.
KERNEL_PACKAGES = ("micropip", "ipykernel", "comm", "pyodide-kernel", "jedi", "ipython")
FROM_THE_EXTENSION = ("ipykernel", "pyodide-kernel", "piplite", "widgetsnbextension")
# Packages of the front end only: the kernel never imports them (their JavaScript is in the site
# as JupyterLab extensions, from this environment).
FRONT_END_ONLY = ("jupyterlab-widgets", "widgetsnbextension")
PYODIDE_LOCK = "pyodide-lock.json"
RELEASE = "https://github.com/pyodide/pyodide/releases/download/{v}/pyodide-{v}.tar.bz2"
# Files of a Pyodide distribution that a site does not serve.
NOT_SERVED = (".d.ts", ".map", ".html", "README.md")


def chapter_test_files(notebooks: tuple[str, ...] = launch.BROWSER_NOTEBOOKS) -> list[Path]:
    """The public tests of the chapters' exercises, and the test modules they import."""
    from course_lib.exercises import catalog, get_exercise

    chapters = {name.split("_", 1)[0].lstrip("0") or "0" for name in notebooks}
    files = {get_exercise(row["id"]).test_file for row in catalog()
             if row["id"].split(".")[0] in chapters}
    tests = ROOT / "tests"
    todo = sorted(files) + [tests / "conftest.py"]
    while todo:
        path = todo.pop()
        files.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     and not node.level else [])
            for name in names:
                helper = tests / f"{name.split('.')[0]}.py"
                if helper.is_file() and helper not in files:
                    todo.append(helper)
    return sorted(files)


def contents() -> dict[str, Path]:
    """Every file of the site's file browser, by its path there."""
    files = {f"notebooks/{name}": ROOT / "notebooks" / name for name in launch.BROWSER_NOTEBOOKS}
    for package in ("course_lib", "solutions"):
        for path in sorted((ROOT / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[path.relative_to(ROOT).as_posix()] = path
    for path in chapter_test_files():
        files[path.relative_to(ROOT).as_posix()] = path
    for name in ("pyproject.toml", "LICENSE"):
        files[name] = ROOT / name
    return files


# ---------------------------------------------------------------------------------------------
# Pyodide: fetched, trimmed to what the site needs, with the wheels it lacks added


def pyodide_version() -> str:
    from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION

    return PYODIDE_VERSION


def pyodide_folder(source: str, cache: Path) -> Path:
    """The folder of a Pyodide distribution (the one with ``pyodide-lock.json``) from
    ``source``: "release" (the official archive of the version the kernel expects), a URL or
    a path of an archive (.tar.bz2, .tar.gz, .tgz: the release's or npm's), or a folder."""
    if source == "release":
        source = RELEASE.format(v=pyodide_version())
    if source.startswith(("https://", "http://")):
        archive = cache / source.rsplit("/", 1)[-1]
        if not archive.exists():
            cache.mkdir(parents=True, exist_ok=True)
            print(f"downloading {source}")
            with urllib.request.urlopen(source) as response, open(f"{archive}.part", "wb") as f:
                shutil.copyfileobj(response, f)
            Path(f"{archive}.part").rename(archive)
        source = str(archive)
    path = Path(source)
    if path.is_file():
        unpacked = cache / f"unpacked-{path.name}"
        if not unpacked.exists():
            with tarfile.open(path) as tar:
                tar.extractall(f"{unpacked}.part", filter="data")
            Path(f"{unpacked}.part").rename(unpacked)
        path = unpacked
    found = sorted(path.rglob(PYODIDE_LOCK), key=lambda p: len(p.parts))
    if not path.is_dir() or not found:
        raise ValueError(f"--pyodide: no {PYODIDE_LOCK} in {source}")
    return found[0].parent


def pyodide_environment(info: dict) -> dict[str, str]:
    """The values of environment markers in the browser's Python (for Requires-Dist)."""
    python = info.get("python", "3.14.0")
    env = default_environment()
    env.update(python_version=".".join(python.split(".")[:2]), python_full_version=python,
               sys_platform="emscripten", platform_system="Emscripten",
               platform_machine="wasm32", os_name="posix", implementation_name="cpython",
               platform_python_implementation="CPython")
    return env


def wheel_metadata(wheel: Path) -> tuple[str, str, list[str], list[str]]:
    """``(name, version, requirements, top-level imports)`` of a wheel."""
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        message = Parser().parsestr(z.read(meta).decode("utf-8"))
        tops = {n.split("/", 1)[0].removesuffix(".py") for n in names
                if not n.split("/", 1)[0].endswith((".dist-info", ".data"))}
    return (message["Name"], message["Version"], message.get_all("Requires-Dist") or [],
            sorted(t for t in tops if t.isidentifier()))


def locked_versions() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


def download_wheel(name: str, folder: Path, info: dict) -> Path:
    """The wheel of ``name`` at the lock's version for the browser's Python (``info``: the
    Pyodide lock's), pure or built for Pyodide, from PyPI (pip's cache)."""
    version = locked_versions().get(name)
    if version is None:
        raise ValueError(f"{name} is needed in the browser, but is neither in Pyodide nor in "
                         f"requirements-lock.txt")
    python = "".join(info.get("python", "3.14").split(".")[:2])
    platforms = ["any"] + ([f"pyemscripten_{info['abi_version']}_wasm32"]
                           if info.get("abi_version") else [])
    folder = folder / f"cp{python}"
    folder.mkdir(parents=True, exist_ok=True)

    def found() -> Path | None:
        return next((w for w in sorted(folder.glob("*.whl"))
                     if canonicalize_name(w.name.split("-")[0]) == name
                     and w.name.split("-")[1] == version), None)

    if found() is None:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--python-version", python[0] + "." + python[1:],
                        "--implementation", "cp", "--abi", f"cp{python}", "--abi", "abi3",
                        "--abi", "none", *(f"--platform={p}" for p in platforms),
                        "--dest", str(folder), f"{name}=={version}"], check=True)
    return found()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def trimmed_pyodide(source: Path, out: Path, wheels: Path) -> dict:
    """Write to ``out`` the distribution at ``source`` with only the packages that
    ``KERNEL_PACKAGES`` and ``CHAPTER_PACKAGES`` need, and the wheels Pyodide lacks (from
    ``wheels``, a download folder); returns the new lock. ValueError when a needed package
    is nowhere."""
    lock = json.loads((source / PYODIDE_LOCK).read_text(encoding="utf-8"))
    packages = {canonicalize_name(k): v for k, v in lock["packages"].items()}
    env = pyodide_environment(lock.get("info", {}))
    added: dict[str, tuple[Path, dict]] = {}
    keep, todo = set(), [canonicalize_name(n) for n in KERNEL_PACKAGES + CHAPTER_PACKAGES]
    while todo:
        name = todo.pop()
        if name in keep or name in FROM_THE_EXTENSION or name in FRONT_END_ONLY:
            continue
        keep.add(name)
        if name in packages:
            todo += [canonicalize_name(d) for d in packages[name]["depends"]]
            continue
        wheel = download_wheel(name, wheels, lock.get("info", {}))
        dist, version, requires, imports = wheel_metadata(wheel)
        depends = []
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({**env, "extra": ""}):
                depends.append(canonicalize_name(requirement.name))
        added[name] = (wheel, {
            "name": dist, "version": version, "file_name": wheel.name, "install_dir": "site",
            "sha256": sha256(wheel), "package_type": "package", "imports": imports,
            "depends": [d for d in depends if d not in FRONT_END_ONLY + FROM_THE_EXTENSION],
            "unvendored_tests": False})
        todo += depends
    package_files = {v["file_name"] for v in packages.values()}
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for path in sorted(source.iterdir()):
        if path.is_file() and path.name not in package_files and path.name != PYODIDE_LOCK \
                and not path.name.endswith(NOT_SERVED):
            shutil.copy2(path, out / path.name)
    kept = {}
    for name in sorted(keep):
        if name in packages:
            entry = packages[name]
            shutil.copy2(source / entry["file_name"], out / entry["file_name"])
        else:
            wheel, entry = added[name]
            shutil.copy2(wheel, out / wheel.name)
        kept[name] = entry  # keyed as Pyodide keys its lock (and names dependencies): normalized
    names = set(kept)
    for entry in kept.values():
        missing = [d for d in entry["depends"] if canonicalize_name(d) not in names]
        if missing:  # pragma: no cover - the closure above includes every dependency
            raise ValueError(f"{entry['name']} depends on {missing}, not in the site")
    new_lock = {**lock, "packages": kept}
    (out / PYODIDE_LOCK).write_text(json.dumps(new_lock, indent=1, sort_keys=True) + "\n",
                                    encoding="utf-8")
    return new_lock


# ---------------------------------------------------------------------------------------------
# The site


def lite_config(contents_dir: Path, preload: list[str]) -> tuple[dict, dict]:
    """``jupyter_lite_config.json`` (the build's options) and ``jupyter-lite.json`` (the
    site's runtime settings)."""
    build = {"LiteBuildConfig": {
        "contents": [str(contents_dir)],
        # JupyterLite's own list drops every folder named envs/ (course_lib/envs is needed)
        # and lib/; these are all the site's contents could hold that it must not serve.
        "ignore_contents": [r"/__pycache__/", r"\.pyc$", r"/\.ipynb_checkpoints",
                            r"/\.hypothesis/", r"/\.pytest_cache/"],
        "no_sourcemaps": True,
        "no_unused_shared_packages": True}}
    site = {"jupyter-lite-schema-version": 0, "jupyter-config-data": {
        "appName": "Markets of Agents in the browser",
        "litePluginSettings": {"@jupyterlite/pyodide-kernel-extension:kernel": {
            "disablePyPIFallback": True,
            "loadPyodideOptions": {"packages": preload}}}}}
    return build, site


def build(pyodide: str, out: Path = OUT, site: Path | None = None) -> dict:
    """Build the site into ``site`` (by default ``out/html``), with its sources and downloads
    in ``out``; returns a summary (sizes, packages)."""
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    files = src / "files"
    for rel, path in contents().items():
        (files / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, files / rel)
    lock = trimmed_pyodide(pyodide_folder(pyodide, out / "cache"), src / "static" / "pyodide",
                           out / "cache" / "wheels")
    preload = sorted(canonicalize_name(n) for n in CHAPTER_PACKAGES)
    build_config, settings = lite_config(files, preload)
    (src / "jupyter_lite_config.json").write_text(json.dumps(build_config, indent=1) + "\n")
    (src / "jupyter-lite.json").write_text(json.dumps(settings, indent=1) + "\n")
    html = Path(site) if site is not None else out / "html"
    if html.exists():
        shutil.rmtree(html)
    jupyter = Path(sys.executable).with_name("jupyter")
    subprocess.run([str(jupyter), "lite", "build", "--lite-dir", str(src),
                    "--output-dir", str(html)], cwd=src, check=True)
    size = sum(p.stat().st_size for p in html.rglob("*") if p.is_file())
    return {"html": html, "bytes": size, "packages": sorted(lock["packages"]),
            "files": len(contents())}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyodide", default="release",
                        help="the Pyodide distribution: 'release' (the official archive of the "
                             "version the kernel expects, downloaded), a URL, or the path of an "
                             "archive or a folder")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="where the site's sources and downloads go (default build/lite)")
    parser.add_argument("--site", type=Path, default=None,
                        help="where the site goes (default OUT/html)")
    args = parser.parse_args(argv)
    summary = build(args.pyodide, args.out, args.site)
    print(f"in-browser site: {summary['html']} ({summary['bytes'] / 1e6:.1f} MB, "
          f"{summary['files']} course files, {len(summary['packages'])} Python packages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
