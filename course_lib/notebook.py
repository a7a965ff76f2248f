"""Helpers for the first cell of every notebook."""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import linecache
import platform
import sys
import types
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from . import config, exercises


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to configure
        return None
    return get_ipython()


# Names that a cell would have made had an unsolved exercise not stopped it, mapped to that
# exercise's id: a later cell that reads one gets the exercise's name, not a bare NameError.
_UNMADE: dict[str, str] = {}


def _names_made_by(source: str) -> set[str]:
    """Every name a cell's code binds (assignments, imports, defs, loop and ``with`` targets)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics; such cells rarely define what later cells need
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _cell_source(shell: Any, tb: Any) -> str:
    """The source of the notebook cell an exception passed through (IPython keeps each cell's
    code in ``linecache`` for its tracebacks)."""
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_globals is shell.user_ns:
            return "".join(linecache.getlines(frame.f_code.co_filename))
        tb = tb.tb_next
    return ""


def _raised_by_notebook_code(shell: Any, tb: Any) -> bool:
    """Whether the innermost frame runs in the notebook's namespace (not inside a library)."""
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_globals is shell.user_ns


def _unmade_error(name: str, exercise_id: str) -> exercises.ExerciseNotImplementedError:
    try:
        title = f" ({exercises.get_exercise(exercise_id).title})"
    except (KeyError, ValueError):
        title = ""
    if exercises.solutions_available():
        way = f'solve it or run use_reference("{exercise_id}")'
    else:  # a copy without the references: only the hints can help
        way = f'solve it (stuck? hint("{exercise_id}") shows a hint)'
    return exercises.ExerciseNotImplementedError(
        f"`{name}` was not made, because an earlier cell stopped at exercise {exercise_id}"
        f"{title}: {way}, then run the cells from there again.", exercise_id)


def _one_line_error(shell: Any, etype: type, value: BaseException, tb: Any,
                    tb_offset: int | None = None) -> list[str]:
    """Show an unsolved exercise as one red line instead of a traceback wall.

    A ``NameError`` for something that a cell stopped by an unsolved exercise would have made
    is shown the same way, naming that exercise; any other ``NameError`` is shown as usual.
    The cell still ends in an error (so "Run all" stops there, and tools see the failure).
    """
    if issubclass(etype, NameError):
        name = getattr(value, "name", None)
        exercise_id = _UNMADE.get(name) if _raised_by_notebook_code(shell, tb) else None
        if exercise_id is None:
            stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
            shell._showtraceback(etype, value, stb)
            return stb
        etype, value = exercises.ExerciseNotImplementedError, _unmade_error(name, exercise_id)
    exercise_id = getattr(value, "exercise_id", None)
    if exercise_id is not None:
        _UNMADE.update(dict.fromkeys(_names_made_by(_cell_source(shell, tb)), exercise_id))
    line = f"\x1b[1;31m{etype.__name__}\x1b[0m: {value}"
    shell._showtraceback(etype, value, [line])
    return [line]


def install_friendly_errors(shell: Any | None = None) -> bool:
    """Make IPython print exercise errors as a single line. Returns whether it could."""
    shell = shell or _ipython()
    if shell is None:
        return False
    shell.set_custom_exc(
        (exercises.ExerciseNotImplementedError, exercises.ReferenceUnavailableError, NameError),
        _one_line_error,
    )
    return True


# How setup_notebook says that edits will not be picked up (the Colab rehearsal looks for it).
AUTORELOAD_OFF = "autoreload is off"


@contextlib.contextmanager
def _imp_for_old_ipython() -> Iterator[None]:
    """Let IPython's autoreload extension import, also where it cannot by itself.

    IPython before 8 (Colab runs 7.34) does ``from imp import reload`` in its autoreload
    extension, and ``imp`` left the standard library in Python 3.12. While the extension loads,
    a stand-in ``imp`` offers the ``reload`` it asks for (``importlib.reload``, the function
    ``imp.reload`` always was); then the stand-in goes, so that no other code mistakes it for
    the old module.
    """
    if importlib.util.find_spec("imp") is not None:
        yield
        return
    stand_in = types.ModuleType("imp", "importlib.reload, for IPython < 8's autoreload")
    stand_in.reload = importlib.reload  # type: ignore[attr-defined]
    sys.modules["imp"] = stand_in
    try:
        yield
    finally:
        if sys.modules.get("imp") is stand_in:
            del sys.modules["imp"]


def _enable_autoreload(shell: Any) -> None:
    """Edits to course_lib take effect at the next cell, without restarting the kernel."""
    if "autoreload" not in shell.extension_manager.loaded:
        with _imp_for_old_ipython():
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


def setup_notebook(seed: int = 0, *, quick: bool | None = None, autoreload: bool = True,
                   verbose: bool = True) -> None:
    """Prepare a notebook: autoreload, seeds, plot style, friendly errors, and a status line.

    Parameters
    ----------
    seed : int
        Seeds Python, numpy and torch (``seed_everything``).
    quick : bool, optional
        ``True`` for the small budgets, ``False`` for the full runs the notebooks' texts
        describe; ``None`` (the default) keeps what ``COURSE_LIB_QUICK`` says (full when unset).
    autoreload : bool
        Reload edited ``course_lib`` modules before every cell (IPython only).
    verbose : bool
        Print the one-line status: mode, device, references in use.

    Returns nothing (so that a notebook cell shows only the status line); ``session_info``
    gives the same facts as a dict.
    """
    if quick is not None and not isinstance(quick, bool):
        raise TypeError(f"quick must be True, False or None, got {quick!r}")
    config.seed_everything(seed)
    if quick is not None:
        config.set_quick(quick)
    shell = _ipython()
    if shell is not None:
        install_friendly_errors(shell)
        if autoreload:
            try:
                _enable_autoreload(shell)
            except Exception as error:  # an IPython the course does not know: go on without
                print(f"{AUTORELOAD_OFF} ({type(error).__name__}: {error}): after editing "
                      "course_lib, restart the kernel (the notebook's Kernel menu).")
    from .plots import use_course_style

    use_course_style()
    foreign = other_course_copy()
    if foreign is not None:
        print(foreign_copy_warning(foreign))
    info = session_info(seed)
    if verbose:
        mode = "quick (small budgets)" if info["quick"] else "full"
        print(f"course_lib ready | mode: {mode} | device: {info['device']} | seed: {seed}")
        if exercises.solutions_available():  # a student copy has none to speak of
            print(f"reference solutions in use: {info['references']}")


def other_course_copy(folder: Path | None = None) -> Path | None:
    """The copy of the course that ``folder`` (the notebook's, by default the working folder)
    lies in, when it is not the copy this ``course_lib`` was imported from; else None.

    That happens when a kernel runs in one copy (a student copy, say) but imports
    ``course_lib`` from another one installed in its environment (``pip install -e`` of the
    teacher's copy): edits to the notebook's own ``course_lib`` would then go unused."""
    here = Path.cwd() if folder is None else Path(folder)
    here = here.resolve()
    for place in (here, *here.parents):
        if (place / "course_lib" / "__init__.py").is_file():
            return None if place == exercises.REPO_ROOT.resolve() else place
    return None


def foreign_copy_warning(notebook_copy: Path) -> str:
    """What ``setup_notebook`` prints when the notebook's copy is not ``course_lib``'s."""
    return (f"WARNING: this notebook lies in the course copy {notebook_copy}, but course_lib "
            f"was imported from another copy, {exercises.REPO_ROOT}: your edits to "
            f"{notebook_copy / 'course_lib'} will not be used here. Start Jupyter from the "
            f"notebook's own copy with its own environment (there: make lab), or install that "
            f"copy in this environment (pip install --no-deps -e {notebook_copy}) and restart "
            "the kernel.")


# What the notebooks' kernel imports (the front end, JupyterLab or Colab's, is not among them:
# a kernel can run under either).
NOTEBOOK_PACKAGES = (
    "numpy", "scipy", "matplotlib", "ipywidgets", "tqdm", "torch", "torchvision", "gymnasium",
    "minigrid", "mlxtend", "pettingzoo", "pytest", "hypothesis",
)


def environment_report(packages: tuple[str, ...] = NOTEBOOK_PACKAGES) -> list[tuple[str, str]]:
    """(name, version or 'MISSING') for Python and each package the course uses. Python's
    path is given relative to the course when the interpreter lives inside it (a saved output
    then names no one's home folder)."""
    where = Path(sys.executable)
    root = Path(__file__).resolve().parent.parent
    if where.is_relative_to(root):
        where = where.relative_to(root)
    rows = [("python", f"{platform.python_version()} ({where})")]
    for name in packages:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            rows.append((name, "MISSING"))
    return rows
