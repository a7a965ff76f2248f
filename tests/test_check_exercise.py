"""scripts/check_exercise.py (`make check-exercise ID=...`): its checks pass on an exercise of
the course, and each names the problem and what to do in a made-up broken situation."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_lib import exercises

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "check_exercise.py"
if not exercises.solutions_available() or not SCRIPT.exists():
    pytest.skip("maintainer check: needs the reference solutions and scripts/",
                allow_module_level=True)

_spec = importlib.util.spec_from_file_location("check_exercise", SCRIPT)
ce = importlib.util.module_from_spec(_spec)
sys.modules["check_exercise"] = ce  # its dataclass looks its module up
_spec.loader.exec_module(ce)

from test_notebooks import (  # noqa: E402 - after the skip: the script puts tests/ on the path
    test_committed_executed_with_volatile_metadata_stripped as notebook_executed,
)

from course_lib.hint_text import HINTS  # noqa: E402

ROWS = exercises.catalog()
IDS = [r["id"] for r in ROWS]
EXAMPLE = "2.3"


def _problem(result, *words):
    assert not result.ok, result.line()
    assert result.line().startswith(f"PROBLEM {result.name}: ")
    for word in words:
        assert word in result.text, result.line()


def test_the_cheap_checks_pass_on_an_exercise_of_the_course():
    entry = exercises.get_exercise(EXAMPLE)
    results = [
        ce.check_catalog(EXAMPLE, ROWS, exercises.get_exercise),
        ce.check_reference(entry),
        ce.check_hints(EXAMPLE, HINTS, IDS, lambda i: [], lambda ladders: []),
        ce.check_points(EXAMPLE, ROOT / "grading" / "points.json"),
        ce.check_notebook(EXAMPLE, ROOT / "notebooks", None, notebook_executed),
    ]
    assert all(r.ok for r in results), [r.line() for r in results]
    assert all(r.line().startswith(f"ok      {r.name}: ") for r in results)
    assert ce.check_mutants_listed(EXAMPLE, [type("M", (), {"exercise": EXAMPLE})]) is None


def test_a_missing_or_misplaced_ladder_says_where_it_goes():
    without = {k: v for k, v in HINTS.items() if k != EXAMPLE}
    _problem(ce.check_hints(EXAMPLE, without, IDS), f'no HINTS["{EXAMPLE}"]',
             "course_lib/hint_text.py", 'right after "2.2"')
    moved = {EXAMPLE: HINTS[EXAMPLE], **without}  # first instead of after 2.2
    _problem(ce.check_hints(EXAMPLE, moved, IDS), "not in catalog order", 'right after "2.2"')
    _problem(ce.check_hints("1.1", {"1.1": ("only one",)}, ["1.1"]), "at least 2 hints")
    _problem(ce.check_hints("1.1", {"1.1": ("same", "same")}, ["1.1"]), "repeated")
    leak = "hint 2 of exercise 1.1 holds a line of a reference body: 'x = y'"
    _problem(ce.check_hints("1.1", {"1.1": ("a", "b")}, ["1.1"], lambda i: [leak]), leak)
    assert ce.check_hints("1.1", {"1.1": ("a", "b")}, ["1.1"]).ok


def test_the_catalog_check_wants_a_loadable_stub():
    _problem(ce.check_catalog("9.9", ROWS), '@exercise("9.9"', "stub")
    row = {**next(r for r in ROWS if r["id"] == EXAMPLE)}
    _problem(ce.check_catalog(EXAMPLE, [{**row, "written": True}]), "not the stub",
             "raise NotImplementedError")
    _problem(ce.check_catalog(EXAMPLE, [{**row, "broken": "x.py, line 3: SyntaxError"}]),
             "line 3")

    def no_returns(i):
        return type("E", (), {"returns": None})()

    _problem(ce.check_catalog(EXAMPLE, [row], no_returns), "returns=")


def test_points_missing_from_the_file(tmp_path):
    points = tmp_path / "points.json"
    points.write_text(json.dumps({"points": {"1.1": 1}}))

    def strict(path):
        raise ValueError(f"{path} has no points for exercises ['{EXAMPLE}']")

    _problem(ce.check_points(EXAMPLE, points, strict), f'add "{EXAMPLE}": N')
    default = ce.check_points(EXAMPLE, points, lambda path: {})
    assert default.ok and "one point per public test" in default.text
    assert ce.check_points("1.1", points).ok


def test_a_notebook_without_the_check_cell_or_not_re_executed(tmp_path):
    source = next((ROOT / "notebooks").glob("02_*.ipynb"))
    nb = nbformat.read(source, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and f'check("{EXAMPLE}")' in c.source)
    call = f'check("{EXAMPLE}")'
    cell.source = cell.source.replace(call, "pass")
    nbformat.write(nb, tmp_path / source.name)
    _problem(ce.check_notebook(EXAMPLE, tmp_path), f"no code cell with {call}",
             "scripts/build_notebooks.py")
    cell.source, cell.execution_count, cell.outputs = call + ";", None, []  # added, not run
    nbformat.write(nb, tmp_path / source.name)
    _problem(ce.check_notebook(EXAMPLE, tmp_path, None, notebook_executed),
             "not saved executed", "scripts/build_notebooks.py")
    _problem(ce.check_notebook("7.1", tmp_path), "07_*.ipynb")
    shutil.copy(source, tmp_path / source.name)  # as committed, but the tests have changed
    stale = ce.check_notebook(EXAMPLE, tmp_path, 99)
    assert stale.ok and "the public tests are now 99: re-execute it" in stale.text


def test_the_marked_tests_verdicts():
    public, hidden = "tests/test_x.py::test_a", "tests/hidden/test_x_hidden.py::test_b"
    good = {"reference": {"results": {public: True, hidden: True}, "messages": {}, "errors": []},
            "stub": {"results": {public: False, hidden: False}, "messages": {}, "errors": []}}
    assert all(r.ok for r in ce.judge_marked_tests("1.1", "tests/test_x.py", good))
    bad = {"reference": {"results": {public: False}, "messages": {public: "assert 1 == 2"},
                         "errors": []},
           "stub": {"results": {public: True}, "messages": {}, "errors": []}}
    first, second, third = ce.judge_marked_tests("1.1", "tests/test_x.py", bad)
    _problem(first, "fail with the reference", "test_a", "assert 1 == 2")
    assert ce._gist("failed:\n  tests/x.py, line 3: f(1)\n  ValueError: bad kind") == \
        "ValueError: bad kind"
    _problem(second, "no test in tests/hidden/", '@pytest.mark.exercise("1.1")')
    _problem(third, "pass against the stub", "test_a")
    assert ce.check_mutants_listed("1.1", []).text.startswith("no mutant of 1.1")


@pytest.mark.parametrize(("argument", "says"), [("9.9", "no exercise 9.9"),
                                                ("four", 'ids look like "4.2"')])
def test_an_unknown_exercise_stops_with_status_2(argument, says):
    env = {**os.environ, "COURSE_LIB_REFERENCE": "all"}
    run = subprocess.run([sys.executable, str(SCRIPT), argument], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr
    assert says in run.stderr and run.stdout == ""
