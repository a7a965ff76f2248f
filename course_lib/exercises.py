"""The exercise mechanism: a registry, a switch to the reference solutions, and ``check``.

An exercise is a function in ``course_lib`` decorated with ``@exercise("1.2", title=...)``.
In the learner's copy its body is a docstring, a ``# TODO(exercise 1.2)`` hint and
``raise NotImplementedError``. The reference body lives in ``solutions/<same module>.py``
under the same name and signature.

Every call of an exercise goes through a small wrapper that

* checks and normalises the arguments (when the decorator is given ``validate=``), so that
  the learner's code always receives clean inputs and bad input always gets a clear error;
* routes the call to the reference when ``use_reference`` (or the environment variable
  ``COURSE_LIB_REFERENCE``) says so;
* turns the stub's bare ``NotImplementedError`` into a one-line message that names the
  exercise, the file and function to edit, and how to fall back to the reference.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import inspect
import io
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_VAR = "COURSE_LIB_REFERENCE"
PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
TESTS_DIR = REPO_ROOT / "tests"
_ID_PATTERN = re.compile(r"^\d+\.\d+$")


class ExerciseNotImplementedError(NotImplementedError):
    """An exercise was called before it was solved. The message is one friendly line.

    ``exercise_id`` names the exercise (``None`` when unknown).
    """

    def __init__(self, message: str = "", exercise_id: str | None = None) -> None:
        super().__init__(message)
        self.exercise_id = exercise_id


class ReferenceUnavailableError(ImportError):
    """The reference solutions are not part of this copy of the course."""


# --------------------------------------------------------------------------------------
# Registry. The module may be re-executed by IPython's autoreload; keep the state that
# wrappers elsewhere rely on instead of starting from empty dictionaries.
# --------------------------------------------------------------------------------------


@dataclass
class Exercise:
    """One exercise: where the learner writes it and where its reference lives."""

    id: str
    title: str
    module: str  # e.g. "course_lib.auctions"
    function: str  # e.g. "vickrey_auction"
    impl: Callable[..., Any] | None = field(default=None, repr=False)  # the learner's body

    @property
    def file(self) -> str:
        """Path of the file to edit, relative to the repository root."""
        return self.module.replace(".", "/") + ".py"

    @property
    def reference_module(self) -> str:
        return "solutions." + self.module.split(".", 1)[1]

    @property
    def test_file(self) -> Path:
        """Public tests live in ``tests/test_<module path with underscores>.py``."""
        return TESTS_DIR / ("test_" + self.module.split(".", 1)[1].replace(".", "_") + ".py")

    @property
    def hint(self) -> str:
        return (
            f'Exercise {self.id} ({self.title}) is not implemented yet: edit '
            f'`{self.function}` in {self.file}, or run use_reference("{self.id}") '
            "to use the reference solution."
        )

    def reference(self) -> Callable[..., Any]:
        """The reference implementation (raises ReferenceUnavailableError in a student copy)."""
        if not solutions_available():
            raise ReferenceUnavailableError(_NO_SOLUTIONS)
        try:
            module = importlib.import_module(self.reference_module)
        except ModuleNotFoundError as err:
            if err.name and err.name.split(".")[0] == "solutions":
                raise ReferenceUnavailableError(_NO_SOLUTIONS) from None
            raise
        return getattr(module, self.function)

    def is_solved(self) -> bool:
        """True when the function body in the file is no longer the stub (read from disk)."""
        entry = _catalog_entry(PACKAGE_DIR.parent / self.file, self.function)
        return entry is not None and not entry["stub"]


_NO_SOLUTIONS = (
    "The reference solutions are not part of this copy of the course (no solutions/ "
    "folder), so use_reference cannot help here: solve the exercise, or ask your teacher."
)

if "_REGISTRY" not in globals():  # survive autoreload: keep the first import's state
    _REGISTRY: dict[str, Exercise] = {}
    _STATE: dict[str, Any] = {"all": False, "on": set(), "off": set()}
if "_DISPATCH" not in globals():
    _DISPATCH: dict[str, Any] = {"to": None}


def set_dispatcher(dispatcher: Callable[[Exercise, tuple, dict], Any] | None) -> None:
    """Send every call of an exercise (after its arguments are validated) to
    ``dispatcher(exercise, args, kwargs)`` instead of the function body; ``None`` undoes it.

    This is the seam a grader uses to run a learner's code somewhere else (a sandboxed
    process) while the tests run here; the learner's own code never needs it."""
    if dispatcher is not None and not callable(dispatcher):
        raise TypeError(f"the dispatcher must be callable or None, got {dispatcher!r}")
    _DISPATCH["to"] = dispatcher


def _parse_ids(text: str, source: str) -> tuple[bool, set[str]]:
    """Parse "all", "none", "" or "1.2,3.1" into (all?, ids)."""
    tokens = [t.strip() for t in text.replace(" ", ",").split(",") if t.strip()]
    everything, ids = False, set()
    for token in tokens:
        low = token.lower()
        if low in {"all", "1", "true", "yes"}:
            everything = True
        elif low in {"none", "0", "false", "no"}:
            continue
        elif _ID_PATTERN.match(token):
            ids.add(token)
        else:
            raise ValueError(
                f'{source}: expected "all", "none" or exercise ids like "1.2,3.1", got {token!r}'
            )
    return everything, ids


def _state_from_environment() -> None:
    everything, ids = _parse_ids(os.environ.get(ENV_VAR, ""), f"environment variable {ENV_VAR}")
    _STATE.update({"all": everything, "on": ids, "off": set()})


if not _REGISTRY:
    _state_from_environment()


def reference_on(exercise_id: str) -> bool:
    """Whether calls of this exercise currently go to the reference solution."""
    return exercise_id in _STATE["on"] or (
        _STATE["all"] and exercise_id not in _STATE["off"]
    )


def _register(entry: Exercise) -> None:
    old = _REGISTRY.get(entry.id)
    if old is not None and (old.module, old.function) != (entry.module, entry.function):
        raise ValueError(
            f"exercise id {entry.id!r} is used twice: by {old.module}.{old.function} "
            f"and by {entry.module}.{entry.function}"
        )
    if old is not None:  # a reload of the same module: point old wrappers at the new body
        old.title, old.impl = entry.title, entry.impl
    else:
        _REGISTRY[entry.id] = entry


def _raised_here(err: BaseException, func: Callable[..., Any]) -> bool:
    """True when the exception was raised directly in ``func``'s own body."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code is getattr(func, "__code__", None)


def exercise(
    exercise_id: str,
    *,
    title: str,
    validate: Callable[..., Mapping[str, Any]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function as exercise ``exercise_id`` (``"chapter.number"``).

    Parameters
    ----------
    exercise_id : str
        Like ``"1.2"``; unique across the course.
    title : str
        A few words shown in listings, messages and reports.
    validate : callable, optional
        Called with the bound arguments (by name) before the exercise runs; it raises
        ``ValueError``/``TypeError`` on bad input and returns a mapping of the arguments it
        normalised (for example lists turned into float arrays). Those replace the originals.
    """
    if not isinstance(exercise_id, str) or not _ID_PATTERN.match(exercise_id):
        raise ValueError(f'exercise_id must look like "1.2", got {exercise_id!r}')
    if not isinstance(title, str) or not title.strip():
        raise ValueError("title must be a non-empty string")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        entry = Exercise(exercise_id, title, func.__module__, func.__qualname__, func)
        _register(entry)
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            current = _REGISTRY[exercise_id]
            if validate is not None:
                try:
                    bound = signature.bind(*args, **kwargs)
                except TypeError as err:
                    raise TypeError(f"{current.function}(): {err}") from None
                bound.apply_defaults()
                bound.arguments.update(validate(**bound.arguments))
                args, kwargs = bound.args, bound.kwargs
            if reference_on(exercise_id):
                return current.reference()(*args, **kwargs)
            if _DISPATCH["to"] is not None:
                return _DISPATCH["to"](current, args, kwargs)
            impl = current.impl
            try:
                return impl(*args, **kwargs)
            except ExerciseNotImplementedError:
                raise
            except NotImplementedError as err:
                if _raised_here(err, impl):
                    raise ExerciseNotImplementedError(current.hint, exercise_id) from None
                raise

        wrapper.__exercise__ = entry  # type: ignore[attr-defined]
        return wrapper

    return decorate


# --------------------------------------------------------------------------------------
# The switch
# --------------------------------------------------------------------------------------


def _known_ids() -> set[str]:
    return {row["id"] for row in catalog()}


class _Restore:
    """Returned by ``use_reference``; usable as a context manager that undoes the switch."""

    def __init__(self, previous: dict[str, Any]) -> None:
        self._previous = previous

    def __enter__(self) -> _Restore:
        return self

    def __exit__(self, *exc: object) -> None:
        _STATE.update(self._previous)

    def __repr__(self) -> str:
        return f"<references in use: {describe_references()}>"


def use_reference(*exercise_ids: str, on: bool = True) -> _Restore:
    """Route calls of the given exercises to their reference solutions (or back, ``on=False``).

    ``use_reference("1.2")``, ``use_reference("1.1", "1.3")``, ``use_reference("all")``;
    ``use_reference("all", on=False)`` returns every exercise to your own code. Used as a
    context manager (``with use_reference("1.2"): ...``) the previous setting comes back
    at the end of the block.
    """
    if not exercise_ids:
        raise TypeError('use_reference() needs at least one exercise id, or "all"')
    for item in exercise_ids:
        if not isinstance(item, str):
            raise TypeError(f"exercise ids are strings like '1.2', got {item!r}")
    if not isinstance(on, bool):
        raise TypeError(f"on must be True or False, got {on!r}")
    everything, ids = _parse_ids(",".join(exercise_ids), "use_reference")
    unknown = ids - _known_ids() if ids else set()  # reading the catalog costs a file scan
    if unknown:
        raise ValueError(
            f"unknown exercise id(s) {sorted(unknown)}; known: {sorted(_known_ids(), key=_id_key)}"
        )
    if on and solutions_available() is False:
        raise ReferenceUnavailableError(_NO_SOLUTIONS)
    previous = {"all": _STATE["all"], "on": set(_STATE["on"]), "off": set(_STATE["off"])}
    if everything:
        _STATE.update({"all": on, "on": set(), "off": set()})
    for item in ids:
        (_STATE["on"] if on else _STATE["off"]).add(item)
        (_STATE["off"] if on else _STATE["on"]).discard(item)
    return _Restore(previous)


def solutions_available() -> bool:
    """Whether this copy of the course contains the reference solutions: a ``solutions``
    package beside this ``course_lib`` (one found elsewhere, e.g. an instructor's editable
    install seen from a student copy, does not count)."""
    try:
        spec = importlib.util.find_spec("solutions")
    except (ImportError, ValueError):  # e.g. sys.modules["solutions"] is None
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    return any(Path(place).resolve().parent == PACKAGE_DIR.resolve().parent
               for place in spec.submodule_search_locations)


def references_in_use() -> list[str]:
    """Ids of the exercises whose calls currently go to the reference, in order."""
    return [i for i in sorted(_known_ids(), key=_id_key) if reference_on(i)]


def describe_references() -> str:
    """One short phrase: 'none', 'all' or the list of ids on the reference."""
    in_use = references_in_use()
    if not in_use:
        return "none (your own code everywhere)"
    if len(in_use) == len(_known_ids()):
        return "all exercises"
    return ", ".join(in_use)


def _id_key(exercise_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in exercise_id.split("."))


# --------------------------------------------------------------------------------------
# Catalog: read from the source files, so listing needs no heavy imports (torch)
# --------------------------------------------------------------------------------------


def _is_stub_body(body: list[ast.stmt]) -> bool:
    """A docstring, ``pass``/``...`` and one ``raise NotImplementedError`` and nothing else."""
    raises = 0
    for node in body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstring or a bare ...
        if isinstance(node, ast.Pass):
            continue
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                raises += 1
                continue
        return False
    return raises == 1


def _exercise_decorator(node: ast.FunctionDef) -> tuple[str, str] | None:
    for deco in node.decorator_list:
        if (
            isinstance(deco, ast.Call)
            and isinstance(deco.func, ast.Name)
            and deco.func.id == "exercise"
            and deco.args
            and isinstance(deco.args[0], ast.Constant)
        ):
            title = next(
                (k.value.value for k in deco.keywords
                 if k.arg == "title" and isinstance(k.value, ast.Constant)),
                "",
            )
            return str(deco.args[0].value), str(title)
    return None


def _scan_file(path: Path) -> list[dict[str, Any]]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError):
        return []
    rows = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found = _exercise_decorator(node)
            if found:
                rows.append({"id": found[0], "title": found[1], "function": node.name,
                             "line": node.lineno, "stub": _is_stub_body(node.body)})
    return rows


def _catalog_entry(path: Path, function: str) -> dict[str, Any] | None:
    return next((row for row in _scan_file(path) if row["function"] == function), None)


def catalog() -> list[dict[str, Any]]:
    """Every exercise in ``course_lib``, read from the source files, sorted by id.

    Each row: ``id``, ``title``, ``module``, ``function``, ``file``, ``solved`` (the body
    is no longer the stub) and ``reference`` (calls currently go to the reference).
    """
    rows = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        module = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
        for row in _scan_file(path):
            rows.append({
                "id": row["id"], "title": row["title"], "module": module,
                "function": row["function"], "file": str(path.relative_to(REPO_ROOT)),
                "solved": not row["stub"],
            })
    rows.sort(key=lambda r: _id_key(r["id"]))
    for row in rows:
        row["reference"] = reference_on(row["id"])
    return rows


def format_catalog(rows: list[dict[str, Any]] | None = None) -> str:
    """The exercise catalog as a fixed-width text table."""
    rows = catalog() if rows is None else rows
    lines = [f"{'id':<5} {'title':<42} {'function':<22} {'file':<24} {'solved':<7} reference"]
    for r in rows:
        lines.append(f"{r['id']:<5} {r['title'][:42]:<42} {r['function']:<22} {r['file']:<24} "
                     f"{'yes' if r['solved'] else 'no':<7} {'on' if r['reference'] else 'off'}")
    return "\n".join(lines)


def get_exercise(exercise_id: str) -> Exercise:
    """The registered exercise with this id (importing its module if needed)."""
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise ids are strings like '1.2', got {exercise_id!r}")
    if exercise_id not in _REGISTRY:
        row = next((r for r in catalog() if r["id"] == exercise_id), None)
        if row is None:
            known = ", ".join(r["id"] for r in catalog())
            raise ValueError(f"unknown exercise {exercise_id!r}; known exercises: {known}")
        importlib.import_module(row["module"])
    return _REGISTRY[exercise_id]


# --------------------------------------------------------------------------------------
# check(): run one exercise's public tests in this process, against the learner's code
# --------------------------------------------------------------------------------------


@dataclass
class TestOutcome:
    name: str
    passed: bool
    message: str = ""


@dataclass
class CheckReport:
    """What ``check`` found. ``passed`` is True only when at least one test ran and all passed."""

    exercise_id: str
    title: str
    outcomes: list[TestOutcome]

    @property
    def n_passed(self) -> int:
        return sum(o.passed for o in self.outcomes)

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and self.n_passed == len(self.outcomes)

    def text(self) -> str:
        n = len(self.outcomes)
        mark = "PASSED" if self.passed else "NOT YET"
        lines = [f"Exercise {self.exercise_id} - {self.title}: {mark} ({self.n_passed}/{n} tests)"]
        unsolved = [o for o in self.outcomes if "is not implemented yet" in o.message]
        if unsolved and len(unsolved) == n:
            lines.append("  " + unsolved[0].message)
            return "\n".join(lines)
        for o in self.outcomes:
            if not o.passed:
                lines.append(f"  x {o.name}: {o.message}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<check {self.exercise_id}: {self.n_passed}/{len(self.outcomes)} passed>"


class ExerciseSelector:
    """pytest plugin: keep the tests marked ``@pytest.mark.exercise(<id>)`` and record outcomes.

    Also used by the course's own tests and by grading tools.
    """

    def __init__(self, exercise_ids: Iterable[str] | None) -> None:
        self.ids = None if exercise_ids is None else set(exercise_ids)
        self.results: dict[str, dict[str, Any]] = {}

    @staticmethod
    def marked_ids(item: Any) -> set[str]:
        ids: set[str] = set()
        for mark in item.iter_markers(name="exercise"):
            ids.update(str(a) for a in mark.args)
        return ids

    def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
        keep, drop = [], []
        for item in items:
            marked = self.marked_ids(item)
            (keep if marked and (self.ids is None or marked & self.ids) else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep
        for item in keep:
            self.results[item.nodeid] = {"exercises": sorted(self.marked_ids(item)),
                                         "passed": None, "message": ""}

    def pytest_runtest_logreport(self, report: Any) -> None:
        row = self.results.get(report.nodeid)
        if row is None:
            return
        if report.failed:
            row["passed"] = False
            crash = getattr(report.longrepr, "reprcrash", None)
            text = crash.message if crash is not None else str(report.longrepr)
            row["message"] = _first_line(text)
        elif report.when == "call" and row["passed"] is None:
            row["passed"] = not report.skipped
            if report.skipped:
                row["message"] = "skipped"


def _first_line(text: str) -> str:
    text = text.strip()
    for prefix in ("course_lib.exercises.ExerciseNotImplementedError: ", "AssertionError: "):
        text = text.replace(prefix, "")
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= 200 else line[:197] + "..."


def check(exercise_id: str, *, verbose: bool = True) -> CheckReport:
    """Run the public tests of one exercise against *your* code and print a short report.

    The exercise itself is checked with the reference switched off (other exercises keep
    their current setting), so a pass means your own implementation passed.
    """
    import pytest  # imported here: only check() needs it

    entry = get_exercise(exercise_id)
    if not entry.test_file.exists():
        raise FileNotFoundError(f"no public tests for exercise {exercise_id}: {entry.test_file}")
    selector = ExerciseSelector([exercise_id])
    # nbval is not needed here and its import alone takes seconds.
    args = [str(entry.test_file), "-q", "-p", "no:cacheprovider", "-p", "no:nbval",
            "--capture=sys",
            "-W", "ignore::pytest.PytestAssertRewriteWarning",
            "--rootdir", str(REPO_ROOT)]
    sink = io.StringIO()
    with use_reference(exercise_id, on=False), redirect_stdout(sink), redirect_stderr(sink):
        pytest.main(args, plugins=[selector])
    outcomes = [
        TestOutcome(nodeid.split("::", 1)[-1], bool(row["passed"]), row["message"])
        for nodeid, row in selector.results.items()
    ]
    report = CheckReport(exercise_id, entry.title, outcomes)
    if not outcomes:
        sys.stderr.write(sink.getvalue()[-2000:])
    if verbose:
        print(report.text())
    return report
