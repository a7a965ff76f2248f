"""Check that one exercise is complete: every piece the course and its test suite expect.

Usage, from the repository root (a teacher's copy, with ``solutions/``)::

    python scripts/check_exercise.py 4.2            # or: make check-exercise ID=4.2
    python scripts/check_exercise.py 4.2 --quick    # without the mutants and degenerate runs

One line per check, ``ok`` or ``PROBLEM`` with what to do; the exit status is 0 only when
every check passes, 1 when one does not, 2 for an id that is no exercise. The checks are the
parts of the test suite that concern one exercise, run for that exercise alone:

* ``catalog``: ``course_lib`` has it (``@exercise``), its file loads, its body is the stub,
  it declares ``returns=`` (``course_lib/contracts.py``);
* ``reference``: ``solutions/`` has the body, with the stub's signature;
* ``hints``: a ladder of at least two distinct hints in ``course_lib/hint_text.py``, ``HINTS``
  in catalog order (``tests/test_hints.py``), none holding a line of a reference body
  (``classroom.release.check_hints``), other chapters' exercises named with their chapter;
* ``public tests`` and ``hidden tests``: tests marked ``@pytest.mark.exercise(ID)`` in
  ``Exercise.test_file`` and in ``tests/hidden/``, all passing with the references (selected
  as ``check`` selects them: ``ExerciseSelector``);
* ``stub fails``: every one of those tests fails with this exercise's stub (the others on their
  references): the learner's starting point does not already pass;
* ``points``: an entry in ``grading/points.json``, or the grader's default;
* ``notebook``: the chapter's notebook has a ``check("ID")`` cell, and was re-executed since
  (every cell run in order, the check cell's output reports this exercise's public tests);
* ``mutants``: at least one in ``tests/mutants.py``, and the public tests kill every one
  (``tests/mutant_runner.py ID``, with its control run);
* ``degenerate``: no degenerate answer earns points (``tests/degenerate.py ID``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
for _place in (str(ROOT), str(TESTS)):
    if _place not in sys.path:
        sys.path.insert(0, _place)

ID_PATTERN = re.compile(r"^\d+\.\d+$")
# What `make test` sets: references for every exercise, small budgets, no display.
TEST_ENV = {"COURSE_LIB_REFERENCE": "all", "COURSE_LIB_QUICK": "1", "MPLBACKEND": "Agg",
            "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
MIN_HINTS = 2


@dataclass
class Result:
    """One check's verdict: ``text`` says what was found, or (not ``ok``) what to do."""

    name: str
    ok: bool
    text: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'PROBLEM':7s} {self.name}: {self.text}"


def _id_key(exercise_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in exercise_id.split("."))


# --------------------------------------------------------------------------------------
# Cheap checks: files read in this process (each takes what it checks as arguments, so that
# a test can hand it a made-up situation)
# --------------------------------------------------------------------------------------


def check_catalog(exercise_id: str, rows: list[dict[str, Any]],
                  load: Callable[[str], Any] | None = None) -> Result:
    """The exercise is in ``rows`` (``course_lib.exercises.catalog()``), its file loads, its
    body is the stub and it declares what it returns."""
    row = next((r for r in rows if r["id"] == exercise_id), None)
    if row is None:
        return Result("catalog", False, f"no @exercise(\"{exercise_id}\", title=..., "
                      "returns=...) in course_lib: add the function with its stub body")
    where = f"{row['file']}:{row['function']}"
    if row["broken"]:
        return Result("catalog", False, f"{row['broken']}: fix the file")
    if row["written"]:
        return Result("catalog", False, f"{where} holds a body, not the stub: keep only the "
                      f"docstring, a `# TODO(exercise {exercise_id})` comment and `raise "
                      "NotImplementedError` there, and the body in solutions/")
    if load is not None:
        try:
            entry = load(exercise_id)
        except Exception as err:  # noqa: BLE001 - whatever stops the import is the problem
            return Result("catalog", False, f"{row['file']} does not import: "
                          f"{type(err).__name__}: {err}")
        if entry.returns is None:
            return Result("catalog", False, f"{where} declares no returns=: add "
                          "returns=... (course_lib/contracts.py: Number, Array, Record, "
                          "ListOf, Pair) to its @exercise decorator")
    return Result("catalog", True, f"{where} ({row['title']}), a stub")


def check_reference(entry: Any) -> Result:
    """``solutions/<same module>.py`` has the body, with the stub's signature."""
    path = entry.reference_module.replace(".", "/") + ".py"
    try:
        reference = entry.reference()
    except (ImportError, AttributeError) as err:
        return Result("reference", False, f"no {entry.function} in {path} ({err}): put the "
                      "reference body there, same name and signature")
    stub, ref = inspect.signature(entry.impl), inspect.signature(reference)
    if str(stub) != str(ref):
        return Result("reference", False, f"{path}:{entry.function}{ref} differs from the "
                      f"stub's signature {stub}: make them the same")
    return Result("reference", True, f"{path}:{entry.function}, same signature")


def check_hints(exercise_id: str, hints: Mapping[str, tuple[str, ...]], ids: list[str],
                leaks: Callable[[str], list[str]] | None = None,
                foreign: Callable[[dict[str, tuple[str, ...]]], list[str]] | None = None
                ) -> Result:
    """A ladder of at least two distinct hints, ``HINTS`` in catalog order (``ids``), no line
    of a reference body in them (``leaks(exercise_id)`` lists those problems) and no other
    chapter's exercise named without its chapter (``foreign``)."""
    file = "course_lib/hint_text.py"
    ladder = hints.get(exercise_id)
    if ladder is None:
        return Result("hints", False, f"no HINTS[\"{exercise_id}\"] in {file}: add a tuple of "
                      f"{MIN_HINTS} to 4 hints, {_place_in_order(exercise_id, ids)}")
    if not isinstance(ladder, tuple) or len(ladder) < MIN_HINTS:
        return Result("hints", False, f"HINTS[\"{exercise_id}\"] in {file} must be a tuple of "
                      f"at least {MIN_HINTS} hints")
    if not all(isinstance(h, str) and h.strip() for h in ladder) or len(set(ladder)) < len(
            ladder):
        return Result("hints", False, f"HINTS[\"{exercise_id}\"] in {file} has an empty or a "
                      "repeated hint: every rung says something new")
    keys = list(hints)
    if keys != ids:
        return Result("hints", False, f"the keys of HINTS in {file} are not in catalog order "
                      f"(tests/test_hints.py checks it): {_place_in_order(exercise_id, ids)}"
                      + ("" if [k for k in keys if k != exercise_id]
                         == [i for i in ids if i != exercise_id]
                         else f"; HINTS has {keys}, the catalog {ids}"))
    problems = list(leaks(exercise_id)) if leaks is not None else []
    if foreign is not None:
        problems += foreign({exercise_id: ladder})
    if problems:
        return Result("hints", False, f"{problems[0]} ({file}): reword it"
                      + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return Result("hints", True, f"{len(ladder)} hints, in catalog order")


def _place_in_order(exercise_id: str, ids: list[str]) -> str:
    earlier = [i for i in ids if _id_key(i) < _id_key(exercise_id)]
    later = [i for i in ids if _id_key(i) > _id_key(exercise_id)]
    if earlier:
        return f"put its entry right after \"{earlier[-1]}\""
    if later:
        return f"put its entry first, before \"{later[0]}\""
    return "as the only entry"


def check_points(exercise_id: str, points_file: Path,
                 load_points: Callable[[Path], Mapping[str, float]] | None = None) -> Result:
    """An entry in ``points_file``; without one, the grader must have a default
    (``load_points`` is the grader's reader: it raises when it needs every exercise listed)."""
    rel = _relative(points_file)
    try:
        listed = json.loads(points_file.read_text(encoding="utf-8")).get("points", {})
    except (OSError, ValueError) as err:
        return Result("points", False, f"{rel} cannot be read: {err}")
    if exercise_id in listed:
        return Result("points", True, f"{listed[exercise_id]:g} in {rel}")
    if load_points is not None:
        try:
            load_points(points_file)
        except ValueError:
            return Result("points", False, f"no entry in {rel}, and the grader needs one: add "
                          f"\"{exercise_id}\": N to \"points\" there")
        return Result("points", True, f"not in {rel}: one point per public test (the "
                      "grader's default)")
    return Result("points", False, f"no entry in {rel}: add \"{exercise_id}\": N to "
                  "\"points\"")


CHECK_CALL = 'check("{}")'


def check_notebook(exercise_id: str, notebooks: Path, n_public: int | None = None,
                   executed: Callable[[Path], None] | None = None) -> Result:
    """The chapter's notebook (``NN_*.ipynb``) has a ``check("ID")`` cell and was executed
    with it: ``executed(path)`` raises AssertionError when the notebook is not saved executed
    (``tests/test_notebooks.py``), and the check cell has its saved report. A report that
    counts other than ``n_public`` tests (the tests changed since) is noted, not a problem."""
    import nbformat

    chapter = int(exercise_id.split(".")[0])
    found = sorted(notebooks.glob(f"{chapter:02d}_*.ipynb"))
    if not found:
        return Result("notebook", False, f"no notebook {_relative(notebooks)}/"
                      f"{chapter:02d}_*.ipynb for chapter {chapter}")
    path = found[0]
    rel = _relative(path)
    rebuild = f"then re-execute it: .venv/bin/python scripts/build_notebooks.py {rel}"
    call = CHECK_CALL.format(exercise_id)
    cells = [c for c in nbformat.read(path, as_version=4).cells
             if c.cell_type == "code" and call in c.source]
    if not cells:
        return Result("notebook", False, f"{rel} has no code cell with {call}: add one after "
                      f"the cells that introduce the exercise, {rebuild}")
    if executed is not None:
        try:
            executed(path)
        except AssertionError as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else "not executed"
            return Result("notebook", False, f"{rel} is not saved executed ({first}): "
                          f"{rebuild.split('then ', 1)[1]}")
    shown = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                    for o in cells[0].get("outputs", []))
    match = re.search(rf"Exercise {re.escape(exercise_id)} .*?\((\d+)/(\d+) tests\)", shown)
    if cells[0].execution_count is None or match is None:
        return Result("notebook", False, f"the {call} cell of {rel} has no saved report: "
                      f"{rebuild.split('then ', 1)[1]}")
    note = ""
    if n_public is not None and int(match.group(2)) != n_public:  # stale, not wrong: a note
        note = (f" (its saved report counts {match.group(2)} tests, the public tests are now "
                f"{n_public}: re-execute it to refresh)")
    return Result("notebook", True, f"{call} in {rel}, executed{note}")


def check_mutants_listed(exercise_id: str, mutants: Iterable[Any]) -> Result | None:
    """A PROBLEM when ``tests/mutants.py`` has no mutant of the exercise, else None."""
    if any(m.exercise == exercise_id for m in mutants):
        return None
    return Result("mutants", False, f"no mutant of {exercise_id} in tests/mutants.py: add one "
                  f"per mistake the docstring or hints warn about, "
                  f"@mutant(\"{exercise_id}\", name, mistake)")


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------
# The marked tests: one subprocess, two pytest sessions (references on; this exercise's stub)
# --------------------------------------------------------------------------------------


def _sessions(exercise_id: str, out: str) -> int:
    """(In the subprocess.) Run the public test file of the exercise and tests/hidden/ with
    the references, then with this exercise's stub; write both sessions' outcomes to ``out``."""
    import pytest

    from course_lib import exercises

    entry = exercises.get_exercise(exercise_id)
    files = [str(entry.test_file), str(TESTS / "hidden")]
    args = [*files, "-q", "-p", "no:cacheprovider", "-p", "no:nbval", "-p", "no:randomly",
            "--capture=sys", "--rootdir", str(ROOT),
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    report = {}
    for name, on in (("reference", True), ("stub", False)):
        selector = exercises.ExerciseSelector([exercise_id])
        with exercises.use_reference(exercise_id, on=on):
            pytest.main(args, plugins=[selector])
        report[name] = {"results": {k: v["passed"] for k, v in selector.results.items()},
                        "messages": {k: v["message"] for k, v in selector.results.items()},
                        "errors": selector.errors}
    Path(out).write_text(json.dumps(report), encoding="utf-8")
    return 0


def run_marked_tests(exercise_id: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "sessions.json"
        env = {**os.environ, **TEST_ENV, "HYPOTHESIS_PROFILE": "stubs"}
        env.pop("PYTEST_ADDOPTS", None)
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), exercise_id,
                               "--sessions", str(out)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=900)
        if not out.exists():
            raise RuntimeError(f"the test sessions stopped (exit status {proc.returncode}):\n"
                               f"{proc.stdout[-1500:]}\n{proc.stderr[-2500:]}")
        return json.loads(out.read_text(encoding="utf-8"))


def judge_marked_tests(exercise_id: str, test_file: str, report: Mapping[str, Any]
                       ) -> list[Result]:
    """``public tests``, ``hidden tests`` and ``stub fails`` from the two sessions."""
    ref, stub = report["reference"], report["stub"]
    results = []
    for name, hidden in (("public tests", False), ("hidden tests", True)):
        mine = {k: v for k, v in ref["results"].items() if ("/hidden/" in k) == hidden}
        where = "tests/hidden/" if hidden else test_file
        if ref["errors"]:
            results.append(Result(name, False, f"test files do not load: {ref['errors'][0]}"))
        elif not mine:
            results.append(Result(name, False, f"no test in {where} is marked "
                                  f"@pytest.mark.exercise(\"{exercise_id}\"): add "
                                  + ("one that checks what the public tests do not"
                                     if hidden else "them")))
        elif not all(mine.values()):
            failed = [k.split("::", 1)[-1] for k, v in mine.items() if not v]
            first = _gist(ref["messages"].get(next(k for k, v in mine.items() if not v), ""))
            results.append(Result(name, False, f"{len(failed)} of {len(mine)} fail with the "
                                  f"reference: {', '.join(failed[:3])}"
                                  + (f" ({first})" if first else "")
                                  + ": fix the test or the reference"))
        else:
            results.append(Result(name, True, f"{len(mine)} in {where}, all pass with the "
                                  "reference"))
    passing = [k for k, v in stub["results"].items() if v is not False]
    if stub["errors"] or not stub["results"]:
        results.append(Result("stub fails", False, "no marked test ran against the stub"
                              + (f": {stub['errors'][0]}" if stub["errors"] else
                                 ": add the marked tests first")))
    elif passing:
        results.append(Result("stub fails", False, f"{len(passing)} marked tests pass against "
                              f"the stub: {', '.join(passing[:3])}: make each check a value "
                              "the stub cannot give (an input-validation test stays unmarked)"))
    else:
        results.append(Result("stub fails", True, f"all {len(stub['results'])} marked tests "
                              "fail against the stub"))
    return results


def _gist(message: str) -> str:
    """The line of a failure's summary that says what went wrong (the error, or the last)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    found = [line for line in lines if re.search(r"\w+(Error|Exception)\b|assert", line)]
    return (found or lines or [""])[-1][:200]


# --------------------------------------------------------------------------------------
# The tools of the test suite, for this exercise alone
# --------------------------------------------------------------------------------------


def _run_tool(check: str, script: str, exercise_id: str,
              env: dict[str, str]) -> tuple[Any, Result | None]:
    """What ``tests/<script> ID --json`` wrote, or the failing ``check`` when it wrote nothing."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out.json"
        env = {**os.environ, **TEST_ENV, **env}
        env.pop("HYPOTHESIS_PROFILE", None)  # the tool sets its own
        proc = subprocess.run([sys.executable, str(TESTS / script), exercise_id,
                               "--json", str(out)], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=900)
        if not out.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return None, Result(check, False, f"tests/{script} {exercise_id} stopped "
                                f"(exit status {proc.returncode}): {tail[0]}")
        return json.loads(out.read_text(encoding="utf-8")), None


def run_mutants(exercise_id: str) -> Result:
    verdicts, failed = _run_tool("mutants", "mutant_runner.py", exercise_id, {})
    if failed:
        return failed
    control = verdicts["controls"].get(exercise_id, {})
    if not control.get("ok") or not control.get("calls"):
        return Result("mutants", False, "the control (the reference behind the mutants' seam) "
                      f"failed: {control.get('failed') or control.get('errors') or 'no call'}")
    survivors = [v for v in verdicts["mutants"] if not v["killed"]]
    if survivors:
        first = survivors[0]
        return Result("mutants", False, f"{len(survivors)} of {len(verdicts['mutants'])} "
                      f"survive the public tests, e.g. {first['name']} ({first['mistake']}): "
                      f"add a public test that catches it (python tests/mutant_runner.py "
                      f"{exercise_id} --all-failures)")
    return Result("mutants", True, f"all {len(verdicts['mutants'])} killed by the public tests")


def run_degenerate(exercise_id: str) -> Result:
    # as tests/test_degenerate_answers.py: the exercise's calls must reach the tool
    rows, failed = _run_tool("degenerate", "degenerate.py", exercise_id,
                             {"COURSE_LIB_REFERENCE": ""})
    if failed:
        return failed
    earning = [f"{r['kind']} ({r['score']:.3g} of {r['max']:g})" for r in rows
               if r["kind"] != "lookup" and r["score"] > 0]
    if earning:
        return Result("degenerate", False, f"answers that do no work earn points: "
                      f"{', '.join(earning)}: see python tests/degenerate.py {exercise_id} "
                      "--kind KIND --show, and make those tests check a value such an answer "
                      "cannot have")
    lookup = next((r for r in rows if r["kind"] == "lookup"), None)
    share = f"; a table of the public answers earns {lookup['score']:.3g} of {lookup['max']:g}" \
        if lookup else ""
    return Result("degenerate", True, f"no degenerate answer earns points{share}")


# --------------------------------------------------------------------------------------


def run_checks(exercise_id: str, quick: bool = False,
               show: Callable[[Result], None] | None = None) -> list[Result]:
    """Every check of ``exercise_id`` (``quick``: without the mutants and degenerate runs),
    each shown as it ends."""
    from mutants import MUTANTS
    from test_hints import _foreign_exercises
    from test_notebooks import test_committed_executed_with_volatile_metadata_stripped

    from classroom.grade import load_points
    from classroom.release import check_hints as release_check_hints
    from course_lib import exercises
    from course_lib.hint_text import HINTS

    results: list[Result] = []

    def add(result: Result) -> None:
        results.append(result)
        if show is not None:
            show(result)

    rows = exercises.catalog()
    ids = [r["id"] for r in rows]
    add(check_catalog(exercise_id, rows, exercises.get_exercise))
    if not results[-1].ok:
        return results
    entry = exercises.get_exercise(exercise_id)
    add(check_reference(entry))

    def leaks(i: str) -> list[str]:
        found = release_check_hints(ROOT, ROOT, [i])
        return [p for p in found if f"exercise {i} " in p or f"exercise {i}:" in p]

    add(check_hints(exercise_id, HINTS, ids, leaks, _foreign_exercises))
    add(check_points(exercise_id, ROOT / "grading" / "points.json", load_points))
    marked = run_marked_tests(exercise_id)
    judged = judge_marked_tests(exercise_id, _relative(entry.test_file), marked)
    for result in judged:
        add(result)
    n_public = sum("/hidden/" not in k for k in marked["reference"]["results"])
    add(check_notebook(exercise_id, ROOT / "notebooks", n_public or None,
                       test_committed_executed_with_volatile_metadata_stripped))
    missing = check_mutants_listed(exercise_id, MUTANTS)
    if missing is not None:
        add(missing)
    elif not quick:
        add(run_mutants(exercise_id))
    else:
        add(Result("mutants", True, f"{sum(m.exercise == exercise_id for m in MUTANTS)} in "
                   "tests/mutants.py (not run: --quick)"))
    if not quick:
        add(run_degenerate(exercise_id))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exercise", metavar="ID", help='the exercise, like "4.2"')
    parser.add_argument("--quick", action="store_true",
                        help="skip the mutant and degenerate-answer runs (tests/mutants.py "
                             "is still checked for a mutant of the exercise)")
    parser.add_argument("--sessions", metavar="PATH", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    exercise_id = options.exercise
    if options.sessions:
        return _sessions(exercise_id, options.sessions)
    if not ID_PATTERN.match(exercise_id):
        print(f'check_exercise: exercise ids look like "4.2", got {exercise_id!r}',
              file=sys.stderr)
        return 2
    from course_lib import exercises

    if not exercises.solutions_available():
        print("check_exercise: needs the teacher's copy (solutions/)", file=sys.stderr)
        return 2
    ids = [r["id"] for r in exercises.catalog()]
    if exercise_id not in ids:
        print(f"check_exercise: no exercise {exercise_id} in course_lib (known: "
              f"{', '.join(ids)}); a new one starts as an @exercise(\"{exercise_id}\", ...) "
              "stub in a course_lib module", file=sys.stderr)
        return 2
    start = time.perf_counter()
    print(f"Exercise {exercise_id}:", flush=True)
    results = run_checks(exercise_id, options.quick,
                         show=lambda r: print("  " + r.line(), flush=True))
    bad = [r for r in results if not r.ok]
    print(f"{len(results) - len(bad)} of {len(results)} checks ok "
          f"({time.perf_counter() - start:.0f} s)"
          + ("" if not bad else f"; fix: {', '.join(r.name for r in bad)}"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
