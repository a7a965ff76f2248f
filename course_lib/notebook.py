"""Helpers for the first cell of every notebook."""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from typing import Any

from . import config, exercises


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to configure
        return None
    return get_ipython()


def _one_line_error(shell: Any, etype: type, value: BaseException, tb: Any,
                    tb_offset: int | None = None) -> list[str]:
    """Show an unsolved exercise as one red line instead of a traceback wall.

    The cell still ends in an error (so "Run all" stops there, and tools see the failure).
    """
    line = f"\x1b[1;31m{etype.__name__}\x1b[0m: {value}"
    shell._showtraceback(etype, value, [line])
    return [line]


def install_friendly_errors(shell: Any | None = None) -> bool:
    """Make IPython print exercise errors as a single line. Returns whether it could."""
    shell = shell or _ipython()
    if shell is None:
        return False
    shell.set_custom_exc(
        (exercises.ExerciseNotImplementedError, exercises.ReferenceUnavailableError),
        _one_line_error,
    )
    return True


def _enable_autoreload(shell: Any) -> None:
    """Edits to course_lib take effect at the next cell, without restarting the kernel."""
    if "autoreload" not in shell.extension_manager.loaded:
        shell.run_line_magic("load_ext", "autoreload")
    shell.run_line_magic("autoreload", "2")
    # The exercise registry and the reference switch must outlive reloads of everything else
    # (autoreload empties a module's namespace before re-running it).
    shell.run_line_magic("aimport", "-course_lib.exercises")


def session_info(seed: int | None = None) -> dict[str, Any]:
    """Mode, device and references in use, as a dict (what ``setup_notebook`` prints)."""
    return {
        "quick": config.is_quick(),
        "device": config.device_name(),
        "references": exercises.describe_references(),
        "seed": seed,
    }


def setup_notebook(seed: int = 0, *, autoreload: bool = True, verbose: bool = True) -> None:
    """Prepare a notebook: autoreload, seeds, plot style, friendly errors, and a status line.

    Parameters
    ----------
    seed : int
        Seeds Python, numpy and torch (``seed_everything``).
    autoreload : bool
        Reload edited ``course_lib`` modules before every cell (IPython only).
    verbose : bool
        Print the one-line status: mode, device, references in use.

    Returns nothing (so that a notebook cell shows only the status line); ``session_info``
    gives the same facts as a dict.
    """
    config.seed_everything(seed)
    shell = _ipython()
    if shell is not None:
        if autoreload:
            _enable_autoreload(shell)
        install_friendly_errors(shell)
    from .plots import use_course_style

    use_course_style()
    info = session_info(seed)
    if verbose:
        mode = "quick (small budgets)" if info["quick"] else "full"
        print(f"course_lib ready | mode: {mode} | device: {info['device']} | seed: {seed}\n"
              f"reference solutions in use: {info['references']}")


def environment_report(packages: tuple[str, ...] = (
    "numpy", "matplotlib", "ipywidgets", "torch", "torchvision", "gymnasium", "minigrid",
    "jupyterlab", "pytest", "hypothesis", "nbval",
)) -> list[tuple[str, str]]:
    """(name, version or 'MISSING') for Python and each package the course uses."""
    rows = [("python", f"{platform.python_version()} ({sys.executable})")]
    for name in packages:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            rows.append((name, "MISSING"))
    return rows
