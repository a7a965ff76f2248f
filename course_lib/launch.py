"""One-click launch: the course's address, its Colab and Binder links, and the Colab set-up.

The repository's address is defined here and nowhere else. ``scripts/sync_launch_cells.py``
writes the badges and the set-up cell at the top of every notebook from these constants, and
a test checks that every notebook agrees with them.

On Colab a notebook arrives alone, without the library it runs on. Its first code cell
(``colab_setup_cell``) clones the course next to it and calls ``setup_colab``, which installs
what Colab lacks and puts the clone first on the import path, so that the same session goes
on without a restart and edits to the clone's ``course_lib`` files take effect at the next cell.
Everywhere else the cell does nothing.

This module imports only the standard library: on Colab it runs before the course's
requirements are installed.
"""

from __future__ import annotations

import importlib
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

# What the set-up cell installs on Colab: the requirements Colab does not ship, with the same
# lower bounds as requirements.txt. Colab's own numpy, torch, ipywidgets, ... are kept, so that
# nothing already imported changes under the running kernel.
COLAB_INSTALLS = (
    "gymnasium>=1.0",
    "minigrid>=3.0",
    "mlxtend>=0.23",
    "pettingzoo>=1.24",
    "hypothesis>=6.80",
)
COLAB_INSTALLS_NAMES = tuple(r.partition(">=")[0] for r in COLAB_INSTALLS)
# Requirements that Colab already provides (not reinstalled there) ...
COLAB_PROVIDES = (
    "numpy", "matplotlib", "tqdm", "ipywidgets", "ipykernel", "nbformat", "pytest", "scipy",
    "torch", "torchvision",
)
# ... and those a Colab session does not need at all (its own front end runs the notebook).
COLAB_SKIPS = ("jupyterlab", "nbclient", "nbval", "ruff")

# Environment variables that let the Colab path be rehearsed anywhere (the course's tests do).
FORCE_COLAB_ENV = "COURSE_LIB_FORCE_COLAB"
REPO_ENV = "COURSE_LIB_REPO"
HOME_ENV = "COURSE_LIB_HOME"

BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
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


def badges_markdown(notebook: str) -> str:
    """The two badges that open ``notebook`` on Colab and on Binder, as one Markdown line."""
    return (f"{BADGES_PREFIX}{COLAB_BADGE})]({colab_url(notebook)}) "
            f"[![Launch on Binder]({BINDER_BADGE})]({binder_url(notebook)})")


def colab_setup_cell() -> str:
    """The source of every notebook's first code cell (self-contained: it runs before the
    course is on the machine)."""
    return f'''{SETUP_CELL_MARKER}: on Google Colab, fetch the course and install what Colab lacks
# (about a minute, once per session). Anywhere else this cell does nothing.
import os, subprocess, sys
if "google.colab" in sys.modules or os.environ.get("{FORCE_COLAB_ENV}") == "1":
    _home = os.environ.get("{HOME_ENV}", "{COLAB_HOME}")
    _repo = os.environ.get("{REPO_ENV}", "{REPO_URL}")
    if not os.path.isdir(_home):
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", "{BRANCH}",
                        _repo, _home], check=True)
    sys.path.insert(0, _home)
    from course_lib.launch import setup_colab
    setup_colab(_home)'''


def _missing(requirements: tuple[str, ...]) -> list[str]:
    """The requirements not installed yet (a version below the bound counts as missing)."""
    missing = []
    for requirement in requirements:
        name, _, bound = requirement.partition(">=")
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(requirement)
            continue
        if _release(installed) < _release(bound or "0"):
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

    Installs what Colab lacks (``COLAB_INSTALLS``) and ``course_lib`` in editable mode (so
    ``check`` and other new processes import the clone), keeps the clone first on
    ``sys.path`` (so this kernel imports it without a restart), enables Colab's widget manager
    and moves into the clone's ``notebooks`` folder. Running it again only re-checks.

    Returns what it did: ``home``, ``installed`` (requirements it installed), ``restart``
    (True if a package this kernel had already imported changed; the message says so).
    """
    root = Path(home).resolve()
    if not (root / "course_lib" / "launch.py").is_file():
        raise ValueError(f"{root} does not hold the course (no course_lib/launch.py there)")
    loaded = {name: _version_or_none(name) for name in COLAB_INSTALLS_NAMES if name in sys.modules}
    installs = _missing(COLAB_INSTALLS)
    pip = [sys.executable, "-m", "pip", "install", *(["--quiet"] if quiet else [])]
    if installs:
        subprocess.run([*pip, *installs], check=True)
    if not _installed_from(root):
        subprocess.run([*pip, "--no-deps", "--editable", str(root)], check=True)
    importlib.invalidate_caches()
    if str(root) in sys.path:
        sys.path.remove(str(root))
    sys.path.insert(0, str(root))
    widgets = _enable_colab_widgets()
    os.chdir(root / "notebooks")
    restart = any(_version_or_none(name) != version for name, version in loaded.items())
    print(f"Course ready in {root} (edit course_lib there; changes apply at the next cell). "
          f"Installed: {', '.join(installs) or 'nothing new'}."
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
    try:
        dist = metadata.distribution("markets-of-agents")
    except metadata.PackageNotFoundError:
        return False
    direct_url = dist.read_text("direct_url.json") or ""
    return root.as_uri() in direct_url
