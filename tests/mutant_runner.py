"""Run the public tests of the exercises against the mutants of ``mutants.py``.

For every selected mutant, the public tests of its exercise (those marked
``@pytest.mark.exercise(<id>)`` in ``Exercise.test_file``, as ``check`` selects them) run in
this process with the calls of that exercise sent to the mutant, through
``course_lib.exercises.set_dispatcher``; every other exercise runs its reference. A mutant is
*killed* when at least one public test fails, and *survives* when they all pass.

Before the mutants, each exercise's public tests also run once with its reference behind the
same seam (the *control*): they must all pass, or the mutants' verdicts would say nothing.

Usage, from the repository root (a teacher's copy, with ``solutions/``)::

    python tests/mutant_runner.py                 # every mutant of every exercise
    python tests/mutant_runner.py 6.1 1.3:ties_to_highest_index
    python tests/mutant_runner.py --all-failures 6.1   # list every test that kills each
    python tests/mutant_runner.py --json verdicts.json

Set ``COURSE_LIB_REFERENCE=all COURSE_LIB_QUICK=1`` as ``make test`` does. The exit status is
1 when a mutant survives or a control fails. Hypothesis runs derandomised, without shrinking
and without its example database, so the verdicts are reproducible and nothing is written.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parent
for place in (str(REPO_ROOT), str(TESTS)):
    if place not in sys.path:
        sys.path.insert(0, place)

PROFILE = "course-mutants"
# pytest plugins these runs do without (nbval's import alone takes seconds; the rest cost time
# in every one of the many short sessions)
UNUSED_PLUGINS = ("cacheprovider", "nbval", "unraisableexception", "threadexception",
                  "faulthandler", "doctest", "junitxml", "pastebin", "xdist", "anyio")


def _hypothesis_profile(name: str = PROFILE, derandomize: bool = True) -> None:
    """Register the profile before ``tests/conftest.py`` loads the one that
    ``HYPOTHESIS_PROFILE`` names (it does so when the first pytest session starts).
    ``derandomize=False``: the examples come from ``--hypothesis-seed``."""
    from hypothesis import Phase, settings

    settings.register_profile(name, deadline=None, database=None, derandomize=derandomize,
                              print_blob=False, phases=[Phase.explicit, Phase.generate])
    os.environ["HYPOTHESIS_PROFILE"] = name


def run_session(files: list[str], dispatch: Any, plugin: Any, *extra: str) -> None:
    """One quiet pytest session over ``files`` in this process, every exercise off the
    reference switch so that ``dispatch`` sees every call; ``plugin`` records the outcomes."""
    import pytest

    from course_lib import exercises

    args = [*files, "-q", "--capture=sys", "--rootdir", str(REPO_ROOT),
            "-W", "ignore::pytest.PytestAssertRewriteWarning", *extra]
    for name in UNUSED_PLUGINS:
        args += ["-p", f"no:{name}"]
    sink = io.StringIO()
    exercises.set_dispatcher(dispatch)
    try:
        with exercises.use_reference("all", on=False), redirect_stdout(sink), \
                redirect_stderr(sink):
            pytest.main(args, plugins=[plugin])
    finally:
        exercises.set_dispatcher(None)


def run_tool(script: Path, out: Path, env: dict[str, str], timeout: float) -> Any:
    """Run one of these tools (``script``) in a subprocess with ``--json out`` and return
    what it wrote; a run that writes nothing fails the calling test with its output."""
    import pytest

    env = {**os.environ, **env}
    env.pop("HYPOTHESIS_PROFILE", None)  # the tool sets its own
    proc = subprocess.run([sys.executable, str(script), "--json", str(out)], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)
    if not out.exists():
        pytest.fail(f"{script.name} stopped (exit status {proc.returncode}) without its "
                    f"results:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def run_public_tests(exercise_id: str, function: Any, *, exitfirst: bool = True
                     ) -> dict[str, Any]:
    """Run the public tests of ``exercise_id`` with its calls sent to ``function``.

    Returns ``{"ran", "failed" (test names), "messages" (a few lines per failure), "errors"
    (files that did not load), "calls", "seconds"}``; ``calls`` counts the calls that reached
    ``function``.
    """
    from course_lib import exercises

    entry = exercises.get_exercise(exercise_id)
    calls = {"n": 0}

    def dispatch(exercise: Any, args: tuple, kwargs: dict) -> Any:
        if exercise.id == exercise_id:
            calls["n"] += 1
            return function(*args, **kwargs)
        return exercise.reference()(*args, **kwargs)

    selector = exercises.ExerciseSelector([exercise_id])
    start = time.perf_counter()
    run_session([str(entry.test_file)], dispatch, selector, *(["-x"] if exitfirst else []))
    rows = selector.results
    return {
        "ran": sum(row["passed"] is not None for row in rows.values()),
        "failed": [node.split("::", 1)[-1] for node, row in rows.items()
                   if row["passed"] is False],
        "messages": {node.split("::", 1)[-1]: row["message"] for node, row in rows.items()
                     if row["passed"] is False},
        "errors": list(selector.errors),
        "calls": calls["n"],
        "seconds": round(time.perf_counter() - start, 3),
    }


def select(selectors: list[str]) -> list[Any]:
    """The mutants named by ``selectors`` ("1.3" for all of 1.3's, "1.3:name" for one)."""
    from mutants import MUTANTS

    if not selectors:
        return list(MUTANTS)
    chosen = []
    for text in selectors:
        exercise_id, _, name = text.partition(":")
        found = [m for m in MUTANTS if m.exercise == exercise_id and (not name or m.name == name)]
        if not found:
            raise SystemExit(f"no mutant matches {text!r}")
        chosen += [m for m in found if m not in chosen]
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("selectors", nargs="*", metavar="ID[:NAME]")
    parser.add_argument("--json", metavar="PATH", help="write the verdicts to this file")
    parser.add_argument("--all-failures", action="store_true",
                        help="run every public test for each mutant (not only up to the first "
                             "failure) and list them all")
    parser.add_argument("--no-control", action="store_true",
                        help="skip the run of each exercise's reference behind the seam")
    options = parser.parse_args(argv)

    _hypothesis_profile()
    os.environ.pop("PYTEST_ADDOPTS", None)  # the sessions here take only the options above
    from course_lib import exercises

    if not exercises.solutions_available():
        print("mutant_runner needs the reference solutions (solutions/)", file=sys.stderr)
        return 2
    chosen = select(options.selectors)
    ids = sorted({m.exercise for m in chosen}, key=lambda i: tuple(map(int, i.split("."))))
    report: dict[str, Any] = {"controls": {}, "mutants": []}
    bad = 0
    if not options.no_control:
        for exercise_id in ids:
            reference = exercises.get_exercise(exercise_id).reference()
            result = run_public_tests(exercise_id, reference, exitfirst=False)
            ok = result["ran"] > 0 and not result["failed"] and not result["errors"]
            bad += not ok
            report["controls"][exercise_id] = {**result, "ok": ok}
            print(f"{'control ok ' if ok else 'CONTROL FAILED'} {exercise_id}: "
                  f"{result['ran']} tests, {result['calls']} calls, {result['seconds']} s"
                  + ("" if ok else f"; failed {result['failed'] or result['errors']}"))
    for m in chosen:
        result = run_public_tests(m.exercise, m.function, exitfirst=not options.all_failures)
        killed = bool(result["failed"]) and not result["errors"] and result["calls"] > 0
        bad += not killed
        report["mutants"].append({"exercise": m.exercise, "name": m.name,
                                  "mistake": m.mistake, "killed": killed, **result})
        verdict = "killed  " if killed else "SURVIVED"
        detail = (f"by {', '.join(result['failed'])}" if killed else
                  f"{result['ran']} public tests passed" if not result["errors"] else
                  f"tests did not load: {result['errors']}")
        print(f"{verdict} {m.exercise} {m.name}: {detail} ({result['seconds']} s)")
        if not killed:
            print(f"         the mistake: {m.mistake}")
    if options.json:
        Path(options.json).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
