"""One-click launch: the course's address, its Colab, Binder and in-browser links, and the
set-up cell.

The repository's address is defined here and nowhere else. ``scripts/sync_launch_cells.py``
writes the badges and the set-up cell at the top of every notebook from these constants, and
a test checks that every notebook agrees with them.

On Colab a notebook arrives alone, without the library it runs on. Its first code cell
(``colab_setup_cell``) clones the course next to it and calls ``setup_colab``, which installs
what Colab lacks and puts the clone first on the import path, so that the same session goes
on without a restart and edits to the clone's ``course_lib`` files take effect at the next cell.
In the in-browser site (JupyterLite, ``scripts/build_lite.py``) the site already holds the
course's files next to the notebooks and its kernel loads the packages at start: the cell puts
the course on the import path. Everywhere else the cell does nothing.

This module imports only the standard library: on Colab it runs before the course's
requirements are installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

REPO_OWNER = "markets-of-agents"
REPO_NAME = "markets-of-agents"
BRANCH = "main"
REPO_URL = f"https://github.com/{REPO_OWNER}/{REPO_NAME}"
# Where the set-up cell puts the course on Colab (its file browser shows /content).
COLAB_HOME = f"/content/{REPO_NAME}"

# How the set-up cell treats requirements.txt on Colab. Every requirement the kernel needs is
# checked against its bound there, and installed when missing or older; Colab already ships
# most of them (COLAB_PROVIDES, at the versions of tests/colab_runtime.toml), and keeping those
# leaves what the running kernel has imported as it is.
COLAB_PROVIDES = (
    "numpy", "scipy", "matplotlib", "tqdm", "ipython", "ipykernel", "ipywidgets", "nbformat",
    "pytest", "torch", "torchvision", "gymnasium", "mlxtend",
)
# Not needed on Colab at all: its own front end runs the notebook.
COLAB_SKIPS = ("jupyterlab",)
# Where a Colab kernel needs less than requirements.txt asks for: JupyterLab 4 shows only widgets
# of ipywidgets 8, while Colab's own front end shows those of the ipywidgets 7.7 it ships (the
# course's widgets work with both; the Colab rehearsal runs them with 7.7).
COLAB_BOUNDS = {"ipywidgets": "7.7"}
# Installed without their dependencies where some pygame is already there: minigrid >= 3.1 asks
# for pygame-ce, whose files would overwrite those of Colab's pygame (both are imported as
# ``pygame``), and minigrid only needs ``import pygame`` to work. Its other dependencies (numpy,
# gymnasium) are requirements of the course's own.
KEEP_PYGAME = ("minigrid",)
REQUIREMENTS_FILE = "requirements.txt"

# Environment variables that let the Colab path be rehearsed anywhere (the course's tests do).
FORCE_COLAB_ENV = "COURSE_LIB_FORCE_COLAB"
REPO_ENV = "COURSE_LIB_REPO"
HOME_ENV = "COURSE_LIB_HOME"

# The in-browser site (JupyterLite, built by `make lite` and published with the website):
# these chapters run in a browser tab with nothing installed (Python compiled to WebAssembly,
# Pyodide); the later ones need torch, which Pyodide lacks. A class repository has no such site
# unless its teacher publishes one, so the student copy's release turns it off there.
IN_BROWSER = True
BROWSER_NOTEBOOKS = ("00_welcome.ipynb", "01_vickrey_auction.ipynb", "02_bucket_brigade.ipynb",
                     "03_cloned_vickrey_society.ipynb")

BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
BROWSER_BADGE = "https://jupyterlite.rtfd.io/en/latest/_static/badge.svg"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
SETUP_CELL_MARKER = "# Colab set-up"
# How the badges line starts (the sync script finds it by this; Markdown renders it as is).
BADGES_PREFIX = "[![Open in Colab]("


def _notebook_path(notebook: str) -> str:
    if not isinstance(notebook, str) or not notebook.endswith(".ipynb"):
        raise ValueError(f"notebook must be a file name ending in .ipynb, got {notebook!r}")
    if "/" in notebook or "\\" in notebook:
        raise ValueError(f"give the notebook's file name only, got {notebook!r}")
    return f"notebooks/{notebook}"


def colab_url(notebook: str) -> str:
    """Colab's address for a notebook of the course, opened from GitHub."""
    return (f"https://colab.research.google.com/github/{REPO_OWNER}/{REPO_NAME}/blob/{BRANCH}/"
            f"{_notebook_path(notebook)}")


def binder_url(notebook: str | None = None) -> str:
    """Binder's address for the course, opening ``notebook`` (or the welcome) in JupyterLab."""
    path = _notebook_path(notebook or "00_welcome.ipynb")
    return (f"https://mybinder.org/v2/gh/{REPO_OWNER}/{REPO_NAME}/{BRANCH}"
            f"?urlpath=lab/tree/{path}")


def site_url() -> str:
    """The course's website (GitHub Pages of the repository)."""
    return f"https://{REPO_OWNER.lower()}.github.io/{REPO_NAME}/"


def browser_url(notebook: str) -> str | None:
    """The in-browser site's address for ``notebook``; None where the site does not have it."""
    path = _notebook_path(notebook)
    if not IN_BROWSER or notebook not in BROWSER_NOTEBOOKS:
        return None
    return f"{site_url()}lite/lab/index.html?path={path}"


def badges_markdown(notebook: str) -> str:
    """The badges that open ``notebook`` on Colab, on Binder and, where the in-browser site has
    it, in the browser, as one Markdown line."""
    browser = browser_url(notebook)
    return (f"{BADGES_PREFIX}{COLAB_BADGE})]({colab_url(notebook)}) "
            f"[![Launch on Binder]({BINDER_BADGE})]({binder_url(notebook)})"
            + (f" [![Run in the browser]({BROWSER_BADGE})]({browser})" if browser else ""))


def colab_setup_cell() -> str:
    """The source of every notebook's first code cell (self-contained: it runs before the
    course is on the machine)."""
    return f'''{SETUP_CELL_MARKER}: on Google Colab, fetch the course and install what Colab lacks
# (about a minute, once per session); in the browser, put the course's files on the import path.
# Anywhere else this cell does nothing.
import os, subprocess, sys
if "google.colab" in sys.modules or os.environ.get("{FORCE_COLAB_ENV}") == "1":
    _home = os.environ.get("{HOME_ENV}", "{COLAB_HOME}")
    _repo = os.environ.get("{REPO_ENV}", "{REPO_URL}")
    if not os.path.isdir(_home):
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", "{BRANCH}",
                        _repo, _home], check=True)
    sys.path.insert(0, _home)
    from course_lib.launch import setup_colab
    setup_colab(_home)
elif sys.platform == "emscripten" and os.path.isdir("../course_lib"):
    # JupyterLite: the site holds the course's files, and this notebook runs in its notebooks/
    _home = os.path.dirname(os.getcwd())
    if _home not in sys.path:
        sys.path.insert(0, _home)'''


def read_requirements(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """The requirements of a requirements file written as requirements.txt is: one
    ``name`` or ``name>=version`` a line, ``#`` comments."""
    requirements = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.partition("#")[0].strip()
        if not line:
            continue
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(>=\d+(\.\d+)*)?", line):
            raise ValueError(f"{path}:{number}: expected 'name' or 'name>=version', got {line!r}")
        requirements.append(line)
    return tuple(requirements)


def _name(requirement: str) -> str:
    return requirement.partition(">=")[0].lower().replace("_", "-")


def colab_requirements(root: str | os.PathLike[str]) -> tuple[str, ...]:
    """What a Colab kernel needs of the course's requirements.txt under ``root``, with the
    bounds of ``COLAB_BOUNDS`` where it has one."""
    return tuple(f"{_name(r)}>={COLAB_BOUNDS[_name(r)]}" if _name(r) in COLAB_BOUNDS else r
                 for r in read_requirements(Path(root) / REQUIREMENTS_FILE)
                 if _name(r) not in COLAB_SKIPS)


def _missing(requirements: tuple[str, ...]) -> list[str]:
    """The requirements not installed yet (a version below the bound counts as missing)."""
    missing = []
    for requirement in requirements:
        name, _, bound = requirement.partition(">=")
        installed = _version_or_none(name)
        if installed is None or _release(installed) < _release(bound or "0"):
            missing.append(requirement)
    return missing


def _release(version: str) -> tuple[int, ...]:
    """The leading numeric part of a version, comparable as a tuple ("1.26.4rc1" -> (1, 26, 4))."""
    match = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def _enable_colab_widgets() -> bool:
    try:
        from google.colab import output  # type: ignore[import-not-found]
    except ImportError:  # a rehearsal outside Colab
        return False
    output.enable_custom_widget_manager()
    return True


def setup_colab(home: str | os.PathLike[str], *, quiet: bool = True) -> dict[str, object]:
    """Make a Colab session ready for the course cloned at ``home``.

    Installs what the kernel needs of ``requirements.txt`` and Colab lacks or has older
    (``colab_requirements``; ``KEEP_PYGAME`` without their dependencies when a pygame is
    there), and ``course_lib`` in editable mode (so ``check`` and other new processes import
    the clone); keeps the clone first on ``sys.path`` (so this kernel imports it without a
    restart), enables Colab's widget manager and moves into the clone's ``notebooks`` folder.
    Running it again only re-checks.

    Returns what it did: ``home``, ``installed`` (requirements it installed), ``restart``
    (True if a package this kernel had already imported changed; the message says so).
    """
    root = Path(home).resolve()
    if not (root / "course_lib" / "launch.py").is_file():
        raise ValueError(f"{root} does not hold the course (no course_lib/launch.py there)")
    needed = colab_requirements(root)
    loaded = {_name(r): _version_or_none(_name(r)) for r in needed
              if _name(r).replace("-", "_") in sys.modules}
    installs = _missing(needed)
    pygame_there = importlib.util.find_spec("pygame") is not None
    alone = [r for r in installs if pygame_there and _name(r) in KEEP_PYGAME]
    pip = [sys.executable, "-m", "pip", "install", *(["--quiet"] if quiet else [])]
    if len(alone) < len(installs):
        subprocess.run([*pip, *(r for r in installs if r not in alone)], check=True)
    if alone:
        subprocess.run([*pip, "--no-deps", *alone], check=True)
    if not _installed_from(root):
        # Two notebooks set up at once (two tabs of one session) must not run two pips on the
        # same files: the second waits, then finds the course installed.
        import fcntl  # Colab is Linux; only this step needs it

        with open(root / ".colab-setup.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not _installed_from(root):
                subprocess.run([*pip, "--no-deps", "--editable", str(root)], check=True)
    importlib.invalidate_caches()
    if str(root) in sys.path:
        sys.path.remove(str(root))
    sys.path.insert(0, str(root))
    widgets = _enable_colab_widgets()
    os.chdir(root / "notebooks")
    restart = any(_version_or_none(name) != version for name, version in loaded.items())
    described = [f"{r} (keeping the pygame already here)" if r in alone else r for r in installs]
    print(f"Course ready in {root} (edit course_lib there; changes apply at the next cell). "
          f"Installed: {', '.join(described) or 'nothing new'}."
          + ("" if widgets else " Widgets: Colab's widget manager not found."))
    if restart:
        print("A package this session had already imported was upgraded: restart the session "
              "(Runtime > Restart session), then run this cell again.")
    return {"home": str(root), "installed": installs, "restart": restart}


def _version_or_none(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _installed_from(root: Path) -> bool:
    """Whether the course's package is installed in editable mode from ``root``."""
    # Every copy on the path counts: the clone's own build metadata (an .egg-info beside the
    # sources) has no direct_url.json and may be found first.
    return any(root.as_uri() in (dist.read_text("direct_url.json") or "")
               for dist in metadata.distributions(name="markets-of-agents"))
