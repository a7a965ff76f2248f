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

``check("1.2")`` runs the exercise's public tests in this process and prints, for each failing
test, a few lines: the last call of the exercise and what it returned, the test line that
failed and the informative part of the failure (pytest's comparison, numpy's mismatch, the
example hypothesis found). The same tests run at the command line with this module as a
pytest plugin: ``python -m pytest tests/test_auctions.py -p course_lib.exercises --exercise 1.2``.
"""

from __future__ import annotations

import ast
import copy
import functools
import importlib
import importlib.util
import inspect
import io
import os
import re
import shlex
import sys
import textwrap
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_lib.contracts import Returns, check_return, guarded_call
from course_lib.failure_summary import (
    DETAILED,
    WIDTH,
    call_details,
    cut,
    headline,
    is_course_file,
    relative,
    shows_cut,
    sub_exceptions,
    summarise_failure,
    summarise_text,
    walk_traceback,
)

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
    returns: Returns | None = field(default=None, repr=False)  # what the body gives back

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
        """The one-line "not implemented yet" message, worded for a notebook."""
        return self.hint_for("notebook")

    def hint_for(self, audience: str) -> str:
        """The "not implemented yet" message for ``audience``: "notebook" (``hint`` and
        ``use_reference``) or "cli" (the ``hint`` command, the ``--reference`` flag and the
        environment variable). A copy without the reference solutions points to the hints
        only."""
        ways = {
            "notebook": (f'hint("{self.id}") shows a hint',
                         f'run use_reference("{self.id}")'),
            "cli": (f"`python -m course_lib hint {self.id}` shows a hint",
                    f"pass --reference {self.id} to `python -m course_lib run` "
                    f"(or set {ENV_VAR}={self.id})"),
        }
        if audience not in ways:
            raise ValueError(f'audience must be "notebook" or "cli", got {audience!r}')
        stuck, fallback = ways[audience]
        start = (f"Exercise {self.id} ({self.title}) is not implemented yet: edit "
                 f"`{self.function}` in {self.file}")
        if not solutions_available():
            return f"{start}; stuck? {stuck}."
        return f"{start}; {stuck}, or {fallback} to use the reference solution."

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
    "folder), so use_reference cannot help here: solve the exercise (hint(...) with its id, "
    'e.g. hint("1.2"), shows its next hint), or ask your teacher.'
)

if "_REGISTRY" not in globals():  # survive autoreload: keep the first import's state
    _REGISTRY: dict[str, Exercise] = {}
    _STATE: dict[str, Any] = {"all": False, "on": set(), "off": set()}
if "_DISPATCH" not in globals():
    _DISPATCH: dict[str, Any] = {"to": None}
if "_WATCH" not in globals():
    # While check() runs: the ids it checks and the latest call of one of them, so that a
    # failing test can say what was called and what came back.
    _WATCH: dict[str, Any] = {"ids": frozenset(), "call": None}


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
        old.title, old.impl, old.returns = entry.title, entry.impl, entry.returns
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
    returns: Returns | None = None,
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
    returns : course_lib.contracts.Returns, optional
        What the exercise gives back (a finite number, an array of a shape derived from the
        arguments, ...): every result, the reference's included, is held to it
        (``course_lib.contracts``). Whatever the declaration, an exercise must leave its
        inputs unchanged and return a new value.
    """
    if not isinstance(exercise_id, str) or not _ID_PATTERN.match(exercise_id):
        raise ValueError(f'exercise_id must look like "1.2", got {exercise_id!r}')
    if not isinstance(title, str) or not title.strip():
        raise ValueError("title must be a non-empty string")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        if returns is not None and not isinstance(returns, Returns):
            raise TypeError(f"returns must be a course_lib.contracts.Returns, got {returns!r}")
        entry = Exercise(exercise_id, title, func.__module__, func.__qualname__, func, returns)
        _register(entry)
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # plumbing: pytest's reports show the learner's code
            call = None
            if exercise_id in _WATCH["ids"]:  # check() is running: remember the call as made
                call = _WATCH["call"] = _recorded_call(func.__name__, args, kwargs)
            result = _call_exercise(exercise_id, signature, validate, args, kwargs)
            if call is not None:
                call["returned"] = result
            return result

        wrapper.__exercise__ = entry  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _as_passed(value: Any) -> Any:
    """A deep copy of one argument, taken before the exercise runs: a body that changes its
    input in place must not change what check() reports as passed. A value that cannot be
    copied is kept as it is (the report may then show it changed, but the call still runs)."""
    try:
        return copy.deepcopy(value)
    except Exception:  # whatever stops the copy: keep the original
        return value


def _recorded_call(function: str, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The record check() shows for a call: the function's name and a copy of its arguments,
    each copied on its own so that one that cannot be copied does not spoil the others."""
    return {"function": function, "args": tuple(_as_passed(a) for a in args),
            "kwargs": {name: _as_passed(v) for name, v in kwargs.items()}}


def _call_exercise(exercise_id: str, signature: inspect.Signature,
                   validate: Callable[..., Mapping[str, Any]] | None,
                   args: tuple, kwargs: dict) -> Any:
    """Validate the arguments, then run the reference, the dispatcher or the learner's body
    (held to the contracts: its inputs unchanged, its result new); the result must then meet
    the exercise's ``returns``."""
    __tracebackhide__ = True
    current = _REGISTRY[exercise_id]
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as err:
        raise TypeError(f"{current.function}(): {err}") from None
    bound.apply_defaults()
    if validate is not None:
        bound.arguments.update(validate(**bound.arguments))
    args, kwargs = bound.args, bound.kwargs
    if reference_on(exercise_id):
        value = current.reference()(*args, **kwargs)
    elif _DISPATCH["to"] is not None:
        value = _DISPATCH["to"](current, args, kwargs)
    else:
        value = run_body(current, args, kwargs, bound.arguments)
    check_return(current.function, current.returns, value, bound.arguments)
    return value


def run_body(entry: Exercise, args: tuple, kwargs: dict, arguments: Mapping[str, Any]) -> Any:
    """The learner's body of ``entry`` on validated arguments (``arguments``: the same, by
    name), held to the two rules of ``course_lib.contracts``; a stub's bare
    ``NotImplementedError`` becomes the exercise's one-line message."""
    __tracebackhide__ = True
    impl = entry.impl
    try:
        return guarded_call(entry.function, impl, args, kwargs, arguments)
    except ExerciseNotImplementedError:
        raise
    except NotImplementedError as err:
        if _raised_here(err, impl):
            raise ExerciseNotImplementedError(entry.hint, entry.id) from None
        raise


# --------------------------------------------------------------------------------------
# The switch
# --------------------------------------------------------------------------------------


def _known_ids() -> set[str]:
    """Ids in the source files, and any registered by other means (tests' own exercises)."""
    return {row["id"] for row in catalog()} | set(_REGISTRY)


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
    unknown = ids - set(_REGISTRY)
    if unknown:  # not imported yet, or not an exercise: only the catalog (a file scan) knows
        unknown -= _known_ids()
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


_ABSENT = object()
_SOLUTIONS_SEEN: dict[str, Any] = {"key": None, "found": False}


def solutions_available() -> bool:
    """Whether this copy of the course contains the reference solutions: a ``solutions``
    package beside this ``course_lib`` (one found elsewhere, e.g. an instructor's editable
    install seen from a student copy, does not count).

    Every exercise call with the references on asks, so the answer is kept for as long as
    what it was found from stays the same: ``sys.path`` and what ``sys.modules`` holds under
    "solutions" (a search of the file system costs about 100 µs natively and several ms in
    a browser). A ``solutions`` folder put in or taken out while Python runs is seen after a
    restart."""
    key = (tuple(sys.path), sys.modules.get("solutions", _ABSENT), PACKAGE_DIR)
    if key != _SOLUTIONS_SEEN["key"]:
        _SOLUTIONS_SEEN.update(key=key, found=_find_solutions())
    return _SOLUTIONS_SEEN["found"]


def _find_solutions() -> bool:
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


def _exercise_call(deco: ast.expr) -> tuple[str, str] | None:
    """(id, title) when ``deco`` is a call ``exercise("1.2", title=...)``, else None."""
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


def _exercise_decorator(node: ast.FunctionDef) -> tuple[str, str] | None:
    return next((found for found in map(_exercise_call, node.decorator_list) if found), None)



def describe_error(err: BaseException) -> str:
    """One line naming the file, the line and the error, for an error raised while loading
    code: ``course_lib/bidders.py, line 57: SyntaxError: unmatched ')'``."""
    if isinstance(err, SyntaxError) and err.filename:
        where, text = f"{relative(err.filename)}, line {err.lineno}", err.msg
    else:  # the innermost frame in the course's own files is where the learner looks
        frames = [(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
                  for tb in walk_traceback(err.__traceback__)
                  if is_course_file(tb.tb_frame.f_code.co_filename)]
        where = f"{relative(frames[-1][0])}, line {frames[-1][1]}" if frames else ""
        text = str(err)
    return f"{where}: {type(err).__name__}: {text}" if where else f"{type(err).__name__}: {text}"


def _error_source(err: BaseException) -> list[str]:
    """The offending source line of a SyntaxError, with its number (empty for other errors)."""
    if not isinstance(err, SyntaxError) or not err.text or not err.text.strip():
        return []
    return [f"    {err.lineno} | {err.text.strip()}"]


# CPython 3.11's parser keeps its AST recursion depth in the interpreter, not per thread: two
# threads parsing at once can fail with "SystemError: AST constructor recursion depth
# mismatch" (fixed in later releases). The grader reads submissions from several threads.
_PARSE_LOCK = threading.Lock()


def _parse(path: Path) -> tuple[ast.Module | None, SyntaxError | None]:
    """The module's syntax tree, or the SyntaxError that stops Python from reading it."""
    try:
        source = path.read_text(encoding="utf-8")
        with _PARSE_LOCK:
            return ast.parse(source, filename=str(path)), None
    except SyntaxError as err:
        return None, err
    except (ValueError, UnicodeDecodeError) as err:  # null bytes, not UTF-8
        return None, SyntaxError(str(err), (str(path), 1, 0, ""))


_DECORATOR_LINE = re.compile(r"^[ \t]*@exercise\(", re.MULTILINE)
_DEF_LINE = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)", re.MULTILINE)


def _scan_unparsable(text: str) -> list[dict[str, Any]]:
    """Best effort for a file that does not parse: each ``@exercise(...)`` decorator up to the
    next ``def``, so that the exercise still shows in listings (marked as broken)."""
    rows = []
    for match in _DECORATOR_LINE.finditer(text):
        found = _DEF_LINE.search(text, match.end())
        if found is None:
            continue
        call_text = re.split(r"\n[ \t]*@", text[match.start():found.start()].strip()[1:])[0]
        try:
            info = _exercise_call(ast.parse(call_text, mode="eval").body)
        except SyntaxError:  # the decorator itself is broken: its id at least
            id_match = re.match(r"exercise\(\s*[\"'](\d+\.\d+)[\"']", call_text)
            info = (id_match.group(1), "") if id_match else None
        if info:
            rows.append({"id": info[0], "title": info[1], "function": found.group(1),
                         "line": text.count("\n", 0, found.start()) + 1, "stub": None})
    return rows


def _scan_file(path: Path) -> list[dict[str, Any]]:
    """The exercises in one file; each row's ``broken`` says why the file cannot load (or None)."""
    try:
        tree, err = _parse(path)
    except OSError:
        return []
    if tree is None:
        broken = describe_error(err)
        return [{**row, "broken": broken}
                for row in _scan_unparsable(path.read_text(encoding="utf-8"))]
    rows = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found = _exercise_decorator(node)
            if found:
                rows.append({"id": found[0], "title": found[1], "function": node.name,
                             "line": node.lineno, "stub": _is_stub_body(node.body),
                             "broken": None})
    return rows


def _catalog_entry(path: Path, function: str) -> dict[str, Any] | None:
    return next((row for row in _scan_file(path) if row["function"] == function), None)


def catalog() -> list[dict[str, Any]]:
    """Every exercise in ``course_lib``, read from the source files, sorted by id.

    Each row: ``id``, ``title``, ``module``, ``function``, ``file``, ``written`` (the body
    is no longer the stub: it says nothing about whether it is right; ``solved`` is its older
    name, kept for scripts that read it), ``reference`` (calls currently go to the reference)
    and ``broken`` (None, or why the file cannot be loaded: its file, line and error).
    """
    rows = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        module = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
        for row in _scan_file(path):
            rows.append({
                "id": row["id"], "title": row["title"], "module": module,
                "function": row["function"], "file": path.relative_to(REPO_ROOT).as_posix(),
                "written": row["stub"] is False, "solved": row["stub"] is False,
                "broken": row["broken"],
            })
    rows.sort(key=lambda r: _id_key(r["id"]))
    for row in rows:
        row["reference"] = reference_on(row["id"])
    return rows


def _broken_files() -> list[str]:
    """One line for each file of the package that does not parse."""
    found = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        try:
            err = _parse(path)[1]
        except OSError:
            continue
        if err is not None:
            found.append(describe_error(err))
    return found


# "written" says what it measures: the body is no longer the stub (right or wrong). Whether it
# is right, only the public tests say: the "passes public tests" column, shown when the rows
# carry their results (``python -m course_lib list --check``). The "reference" column is
# shown only in a copy that has the reference solutions.
_COLUMNS = ("id", "title", "function", "file", "written")
TESTS_COLUMN = "passes public tests"
REFERENCE_COLUMN = "reference"


def _columns(rows: list[dict[str, Any]], reference: bool) -> tuple[str, ...]:
    tests = (TESTS_COLUMN,) if any("passes" in r for r in rows) else ()
    return _COLUMNS + tests + ((REFERENCE_COLUMN,) if reference else ())


def _catalog_cells(row: dict[str, Any], title_width: int,
                   columns: tuple[str, ...] = _COLUMNS + (REFERENCE_COLUMN,)) -> list[list[str]]:
    """The cells of one row; the title is a list of lines, wrapped between words."""
    title = textwrap.wrap(row["title"], title_width, break_long_words=False,
                          break_on_hyphens=False) or [""]
    written = row.get("written", row.get("solved"))
    cells = {"id": [row["id"]], "title": title, "function": [row["function"]],
             "file": [row["file"]],
             "written": ["BROKEN" if row.get("broken") else ("yes" if written else "no")],
             TESTS_COLUMN: [_tests_cell(row)],
             REFERENCE_COLUMN: ["on" if row.get("reference") else "off"]}
    return [cells[name] for name in columns]


def _tests_cell(row: dict[str, Any]) -> str:
    """"yes", or "no" with what the tests found (``public_tests``: "fails 2 of 12 public
    tests", "not implemented yet", ...); empty when the tests did not run."""
    passes = row.get("passes")
    if passes is None:
        return ""
    if passes:
        return "yes"
    if row.get("broken"):
        return "no (broken: see below)"
    return cut(f"no ({row.get('public_tests') or 'failed'})", 60)


def format_catalog(rows: list[dict[str, Any]] | None = None, *, title_width: int = 48,
                   reference: bool | None = None) -> str:
    """The exercise catalog as a text table.

    Every column is as wide as its longest entry, so nothing is cut; a title longer than
    ``title_width`` characters wraps onto further lines, between words. Files that cannot be
    loaded are named below the table, with the line and the error. "written" says that the
    body is no longer the stub; rows that carry their public tests' results (a ``passes``
    key, as ``python -m course_lib list --check`` adds) get a "passes public tests" column.
    The "reference" column shows when the reference solutions are available (``reference``
    None: whether this copy has them), so a student copy has none.
    """
    rows = catalog() if rows is None else rows
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise TypeError("rows must be a list of catalog rows (dicts), as catalog() returns")
    if isinstance(title_width, bool) or not isinstance(title_width, int) or title_width < 10:
        raise ValueError(f"title_width must be an integer of at least 10, got {title_width!r}")
    if reference is None:
        reference = solutions_available()
    columns = _columns(rows, bool(reference))
    table = [[[name] for name in columns]] + [_catalog_cells(r, title_width, columns)
                                              for r in rows]
    widths = [max(len(line) for cells in table for line in cells[k]) for k in range(len(columns))]
    lines = []
    for cells in table:
        for depth in range(max(len(cell) for cell in cells)):
            parts = [(cell[depth] if depth < len(cell) else "").ljust(w)
                     for cell, w in zip(cells, widths, strict=True)]
            lines.append("  ".join(parts).rstrip())
    broken: dict[str, list[str]] = {}  # one note per broken file, naming its exercises
    for r in rows:
        if r.get("broken"):
            broken.setdefault(r["broken"], []).append(r["id"])
    if broken:
        lines += ["", "broken:"] + [
            f"  {why} (exercise{'s' if len(ids) > 1 else ''} {', '.join(ids)} cannot be loaded)"
            for why, ids in broken.items()]
    return "\n".join(lines)


class ExerciseModuleError(ImportError, ValueError):
    """An exercise's module cannot be loaded (a syntax error, or an error while importing).

    The message names the file, the line and the error. (A ValueError too, as the "unknown
    exercise" error it replaces, so that code catching that keeps working.)"""


def _catalog_row(exercise_id: str) -> dict[str, Any] | None:
    return next((r for r in catalog() if r["id"] == exercise_id), None)


def _unknown_exercise(exercise_id: str) -> ValueError:
    known = ", ".join(r["id"] for r in catalog())
    message = f"unknown exercise {exercise_id!r}; known exercises: {known}"
    broken = _broken_files()
    if broken:  # the exercise may sit in a file that cannot be read
        message += "; these files cannot be loaded: " + "; ".join(broken)
    return ValueError(message)


def get_exercise(exercise_id: str) -> Exercise:
    """The registered exercise with this id (importing its module if needed).

    Raises ``ExerciseModuleError`` (naming the file, line and error) when the module with the
    exercise cannot be loaded, and ``ValueError`` for an unknown id.
    """
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise ids are strings like '1.2', got {exercise_id!r}")
    if exercise_id not in _REGISTRY:
        row = _catalog_row(exercise_id)
        if row is None:
            raise _unknown_exercise(exercise_id)
        if row["broken"]:
            raise ExerciseModuleError(f"exercise {exercise_id} cannot be loaded: {row['broken']}")
        try:
            importlib.import_module(row["module"])
        except Exception as err:  # the learner's module: any error in it is theirs to fix
            raise ExerciseModuleError(
                f"exercise {exercise_id} cannot be loaded: {describe_error(err)}") from err
    return _REGISTRY[exercise_id]



def unsolved_exercise(exc: BaseException) -> str | None:
    """The id of the unsolved exercise behind a failure (``"?"`` if it does not say), or None."""
    if isinstance(exc, ExerciseNotImplementedError):
        return exc.exercise_id or "?"
    subs = sub_exceptions(exc)
    ids = [unsolved_exercise(sub) for sub in subs]
    return ids[0] if subs and all(ids) else None


# --------------------------------------------------------------------------------------
# check(): run one exercise's public tests in this process, against the learner's code
# --------------------------------------------------------------------------------------


@dataclass
class TestOutcome:
    """One test: ``message`` is the short summary of a failure (a few lines), ``details``
    pytest's full report of it, ``unsolved`` the id of the unsolved exercise it hit."""

    name: str
    passed: bool
    message: str = ""
    details: str = ""
    unsolved: str | None = None


def _hint(exercise_id: str | None, message: str, audience: str) -> str:
    """The "not implemented yet" message worded for ``audience`` (when it is the standard one)."""
    entry = _REGISTRY.get(exercise_id or "")
    return entry.hint_for(audience) if entry is not None and message == entry.hint else message


def _reworded(text: str, exercise_id: str | None, audience: str) -> str:
    """``text`` with the standard "not implemented yet" message worded for ``audience``."""
    entry = _REGISTRY.get(exercise_id or "")
    return text if entry is None else text.replace(entry.hint, entry.hint_for(audience))


def _full_report(report: Any) -> str:
    """pytest's full report of a failure. pytest strips the text, which takes the indent off
    its first line; in a source listing (where the failing line starts with ">") that line
    was indented by 4, so it is put back to keep the listing aligned."""
    text = report.longreprtext
    lines = text.splitlines()
    if lines and lines[0][:1] not in (" ", ">", "E") and any(
            line.startswith(">") for line in lines[1:4]):
        return "    " + text
    return text


def not_implemented_message(err: ExerciseNotImplementedError, audience: str = "cli") -> str:
    """The message of ``err`` for ``audience``: "cli" names ``--reference``, "notebook"
    ``use_reference``. Messages other than the standard one come back unchanged."""
    if not isinstance(err, ExerciseNotImplementedError):
        raise TypeError(f"expected an ExerciseNotImplementedError, got {type(err).__name__}")
    if audience not in ("cli", "notebook"):
        raise ValueError(f'audience must be "notebook" or "cli", got {audience!r}')
    return _hint(err.exercise_id, str(err), audience)


def _indent(text: str, prefix: str) -> list[str]:
    return [prefix + line if line.strip() else "" for line in text.splitlines()]


@dataclass
class CheckReport:
    """What ``check`` found. ``passed`` is True only when at least one test ran and all passed.

    ``problem`` says why the tests could not run (a file that does not load), ``command`` is
    the pytest command that runs the same tests with the full output (in the course folder
    ``folder``), ``verbose`` whether ``text()`` shows pytest's full report of each failure.
    """

    exercise_id: str
    title: str
    outcomes: list[TestOutcome]
    problem: str = ""
    command: str = ""
    verbose: bool = False
    folder: str = ""

    @property
    def n_passed(self) -> int:
        return sum(o.passed for o in self.outcomes)

    @property
    def passed(self) -> bool:
        return not self.problem and bool(self.outcomes) and self.n_passed == len(self.outcomes)

    def text(self, *, verbose: bool | None = None, audience: str = "notebook") -> str:
        """The report: for "notebook" (``use_reference``, ``check(..., verbose=True)``) or for
        "cli" (``--reference``, ``--verbose``)."""
        verbose = self.verbose if verbose is None else verbose
        if not isinstance(verbose, bool):
            raise TypeError(f"verbose must be True or False, got {verbose!r}")
        if audience not in ("notebook", "cli"):
            raise ValueError(f'audience must be "notebook" or "cli", got {audience!r}')
        if self.problem:
            return "\n".join([f"Exercise {self.exercise_id} - {self.title}: CANNOT RUN"]
                             + _indent(self.problem, "  ")
                             + ["  Fix this first; then check the exercise again."])
        n = len(self.outcomes)
        mark = "PASSED" if self.passed else "NOT YET"
        lines = [f"Exercise {self.exercise_id} - {self.title}: {mark} ({self.n_passed}/{n} tests)"]
        failed = [o for o in self.outcomes if not o.passed]
        if failed and all(o.unsolved for o in self.outcomes) and not verbose:
            lines.append("  " + _hint(failed[0].unsolved, failed[0].message, audience))
        else:
            lines += self._failures(failed, verbose, audience)
        if not verbose and shows_cut("\n".join(lines[1:])):
            lines.append(self._cut_notice(audience))
        if failed and self.command:
            lines += self._full_output(verbose, audience)
        return "\n".join(lines)

    def _cut_notice(self, audience: str) -> str:
        """Where to see what the short report cut (the verbose report shows the call and what
        came back in full, and pytest's whole report)."""
        how = (f"python -m course_lib check {self.exercise_id} --verbose" if audience == "cli"
               else f'check("{self.exercise_id}", verbose=True)')
        return f'  "…" marks what is cut short above: {how} shows it in full.'

    def _failures(self, failed: list[TestOutcome], verbose: bool, audience: str) -> list[str]:
        lines: list[str] = []
        for k, o in enumerate(failed):
            if o.unsolved and not verbose:
                lines.append(f"  x {o.name}: {_hint(o.unsolved, o.message, audience)}")
            elif verbose:
                details = _reworded(o.details or o.message, o.unsolved, audience)
                lines += [f"  x {o.name}"] + _indent(details, "      ")
            elif k < DETAILED:
                lines += [f"  x {o.name}"] + _indent(o.message, "      ")
            else:  # enough detail above; the full output has the rest
                lines.append(cut(f"  x {o.name}: {headline(o.message)}", WIDTH + 6))
        return lines

    def _full_output(self, verbose: bool, audience: str) -> list[str]:
        """How to see everything: ``verbose``, and the pytest command. Run from inside the
        course (a notebook in notebooks/) it says "from the course folder", so that a saved
        output names no one's folders; run from outside, it starts with a ``cd`` there."""
        command, where = self.command, ""
        if self.folder:
            here, folder = Path.cwd().resolve(), Path(self.folder).resolve()
            if here.is_relative_to(folder) and here != folder:
                where = ", from the course folder"
            elif not here.is_relative_to(folder):
                command = f"cd {shlex.quote(self.folder)} && {command}"
        if verbose:
            first = f"  The same tests in a terminal{where}:"
        elif audience == "cli":
            first = (f"  Full output: python -m course_lib check {self.exercise_id} --verbose, "
                     f"or run{where}:")
        else:
            first = (f'  Full output: check("{self.exercise_id}", verbose=True), or in a '
                     f"terminal{where}:")
        return [first, f"    {command}"]

    def __repr__(self) -> str:
        return f"<check {self.exercise_id}: {self.n_passed}/{len(self.outcomes)} passed>"


class ExerciseSelector:
    """pytest plugin: keep the tests marked ``@pytest.mark.exercise(<id>)`` and record outcomes.

    ``results`` maps each test's node id to its exercises, ``passed`` and ``message`` (a few
    lines about a failure), ``details`` (pytest's full report; under check(), after the call
    of the exercise and what it returned, nothing cut) and ``unsolved`` (the id of the
    unsolved exercise the test hit, or None). ``errors`` lists test files that could not be
    collected, each with its file, line and error. Also used by the course's own tests and by
    grading tools.
    """

    def __init__(self, exercise_ids: Iterable[str] | None) -> None:
        self.ids = None if exercise_ids is None else set(exercise_ids)
        self.results: dict[str, dict[str, Any]] = {}
        self.errors: list[str] = []
        self._summarised: set[str] = set()

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
                                         "passed": None, "message": "", "details": "",
                                         "unsolved": None}

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        _WATCH["call"] = None  # each test's own last call

    def pytest_runtest_logreport(self, report: Any) -> None:
        row = self.results.get(report.nodeid)
        if row is None:
            return
        if report.failed:
            row["passed"] = False
            row["details"] = "\n\n".join(filter(None, [row["details"], _full_report(report)]))
            if report.nodeid not in self._summarised:  # until the exception itself is seen
                crash = getattr(report.longrepr, "reprcrash", None)
                text = crash.message if crash is not None else str(report.longrepr)
                row["message"] = "\n".join(summarise_text(text))
        elif report.when == "call" and row["passed"] is None:
            row["passed"] = not report.skipped
            if report.skipped:
                row["message"] = "skipped"

    def pytest_exception_interact(self, node: Any, call: Any, report: Any) -> None:
        """The exception itself (after ``pytest_runtest_logreport``): summarised from the
        object, not from its text, so that groups and notes (hypothesis) are not lost."""
        exc = call.excinfo.value
        if getattr(report, "when", None) == "collect":  # a test file that does not import
            cause = exc.__cause__ or exc
            self.errors.append(f"{relative(node.path)} could not be loaded: "
                               f"{describe_error(cause)}" + "".join(
                                   "\n" + line for line in _error_source(cause)))
            return
        row = self.results.get(report.nodeid)
        if row is None or report.nodeid in self._summarised:
            return
        self._summarised.add(report.nodeid)
        row["unsolved"] = unsolved_exercise(exc)
        call = _WATCH["call"]
        try:
            row["message"] = "\n".join(summarise_failure(exc, getattr(node, "path", None),
                                                         call))
        except Exception:  # never lose a test's result to its summary: keep pytest's text
            pass
        try:  # pytest's report shows neither the call nor what came back: the verbose one must
            shown = call_details(exc, call)
        except Exception:
            shown = []
        if shown:
            row["details"] = "\n".join(shown) + "\n\n" + row["details"]


def check_command(exercise_id: str, test_file: Path | None = None) -> str:
    """The command that runs the public tests of one exercise with pytest's full output
    (from the repository root), as ``check`` does: the exercise on your own code."""
    if not isinstance(exercise_id, str) or not _ID_PATTERN.match(exercise_id):
        raise ValueError(f'exercise_id must look like "1.2", got {exercise_id!r}')
    if test_file is None:
        test_file = get_exercise(exercise_id).test_file
    return (f"python -m pytest {shlex.quote(relative(test_file))} -p course_lib.exercises "
            f"--exercise {exercise_id} -vv")


def _require_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def check(exercise_id: str, *, verbose: bool = False, quiet: bool = False) -> CheckReport:
    """Run the public tests of one exercise against *your* code and print a short report.

    The exercise itself is checked with the reference switched off (other exercises keep
    their current setting), so a pass means your own implementation passed.

    Parameters
    ----------
    exercise_id : str
        Like ``"1.2"``.
    verbose : bool
        Show pytest's full report of each failing test instead of a few lines.
    quiet : bool
        Print nothing; only return the report (``report.text()`` is what would be printed).

    Each failing test shows what was called, what came back and how the test failed; a
    failing check also prints the pytest command that runs the same tests in a terminal.
    A module that does not load (a syntax error) is reported with its file, line and error.
    """
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise ids are strings like '1.2', got {exercise_id!r}")
    _require_bool("verbose", verbose)
    _require_bool("quiet", quiet)
    report = _check_report(exercise_id, verbose)
    if not quiet:
        print(report.text())
    return report


def _load_problem(exercise_id: str) -> tuple[Exercise | None, str, str]:
    """(the exercise, its title, why its module cannot be loaded or "").

    The file on disk is read first: in a notebook the module may have been imported before
    the learner broke it, and the tests must not quietly run the old code."""
    row = _catalog_row(exercise_id)
    if row is not None and row["broken"]:
        err = _parse(REPO_ROOT / row["file"])[1]
        lines = [row["broken"]] + (_error_source(err) if err is not None else [])
        return None, row["title"], "\n".join(lines)
    if row is None and exercise_id not in _REGISTRY:
        raise _unknown_exercise(exercise_id)
    try:
        entry = get_exercise(exercise_id)
    except ExerciseModuleError as err:
        cause = err.__cause__
        source = _error_source(cause) if cause is not None else []
        return None, row["title"] if row else "", "\n".join([str(err)] + source)
    return entry, entry.title, ""


def _check_report(exercise_id: str, verbose: bool) -> CheckReport:
    import pytest  # imported here: only check() needs it

    entry, title, problem = _load_problem(exercise_id)
    if entry is None:
        return CheckReport(exercise_id, title, [], problem=problem)
    if not entry.test_file.exists():
        raise FileNotFoundError(f"no public tests for exercise {exercise_id}: {entry.test_file}")
    selector = ExerciseSelector([exercise_id])
    # nbval is not needed here and its import alone takes seconds.
    args = [str(entry.test_file), "-vv" if verbose else "-q", "-p", "no:cacheprovider",
            "-p", "no:nbval", "--capture=sys",
            "-W", "ignore::pytest.PytestAssertRewriteWarning",
            "--rootdir", str(REPO_ROOT)]
    sink = io.StringIO()
    with use_reference(exercise_id, on=False), _watching(exercise_id), \
            redirect_stdout(sink), redirect_stderr(sink):
        pytest.main(args, plugins=[selector])
    outcomes = [
        TestOutcome(nodeid.split("::", 1)[-1], bool(row["passed"]), row["message"],
                    row["details"], row["unsolved"])
        for nodeid, row in selector.results.items()
    ]
    if not outcomes and not selector.errors:
        sys.stderr.write(sink.getvalue()[-2000:])
    return CheckReport(exercise_id, entry.title, outcomes, problem="\n".join(selector.errors),
                       command=check_command(exercise_id, entry.test_file), verbose=verbose,
                       folder=str(REPO_ROOT))


class _watching:
    """While check() runs: remember the latest call of this exercise, with a copy of its
    arguments as the test passed them (see the wrapper); nothing is copied otherwise."""

    def __init__(self, exercise_id: str) -> None:
        self.ids = frozenset({exercise_id})

    def __enter__(self) -> None:
        self.previous = _WATCH["ids"]
        _WATCH.update(ids=self.ids, call=None)

    def __exit__(self, *exc: object) -> None:
        _WATCH.update(ids=self.previous, call=None)


# --------------------------------------------------------------------------------------
# The same selection at the command line, with this module as a pytest plugin:
#   python -m pytest tests/test_auctions.py -p course_lib.exercises --exercise 1.2
# --------------------------------------------------------------------------------------


def pytest_addoption(parser: Any) -> None:
    parser.addoption("--exercise", action="append", default=[], metavar="ID",
                     help="run only the tests of exercise ID (like 1.2), on your own code "
                          "(course_lib's reference switched off for it, as check() does)")


def pytest_configure(config: Any) -> None:
    ids = config.getoption("exercise")
    if not ids:
        return
    bad = [i for i in ids if not _ID_PATTERN.match(i)]
    if bad:
        import pytest

        raise pytest.UsageError(f'--exercise takes ids like "1.2", got {", ".join(bad)}')
    # As check(): the exercise runs your code, whatever COURSE_LIB_REFERENCE says.
    _STATE["on"].difference_update(ids)
    _STATE["off"].update(ids)
    config.pluginmanager.register(ExerciseSelector(ids), "course_lib-exercise-selector")
