"""The newcomer walk-through's judge of learner-mode errors (scripts/walkthrough.py); the
walk-through itself runs in CI as `make walkthrough`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("walkthrough", ROOT / "scripts" / "walkthrough.py")
walkthrough = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(walkthrough)

KNOWN = {"1.1", "2.1"}


def _error(ename, evalue, lines=1):
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": ["line"] * lines}


def test_only_one_line_messages_naming_a_known_exercise_pass():
    friendly = _error("ExerciseNotImplementedError",
                      'Exercise 1.1 (First-price auction) is not implemented yet: edit ...')
    follow_on = _error("ExerciseNotImplementedError",
                       "`result` was not made, because an earlier cell stopped at exercise 2.1")
    assert walkthrough.unfriendly([(3, friendly), (5, follow_on)], KNOWN) == []
    bad = [(1, _error("NameError", "name 'result' is not defined")),
           (2, _error("ExerciseNotImplementedError", "Exercise 1.1 ...", lines=12)),
           (4, _error("ExerciseNotImplementedError", "Exercise 9.9 is not implemented yet")),
           (6, _error("ExerciseNotImplementedError", "something without an id"))]
    found = walkthrough.unfriendly(bad, KNOWN)
    assert [line.split(":")[0] for line in found] == ["cell 1", "cell 2", "cell 4", "cell 6"]


def test_errors_in_lists_every_error_output_with_its_code_cell_number():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("a"),
                nbformat.v4.new_code_cell("b")]
    nb.cells[2].outputs = [nbformat.v4.new_output("error", ename="E", evalue="v",
                                                  traceback=["x"])]
    assert [(cell, out["ename"]) for cell, out in walkthrough.errors_in(nb)] == [(2, "E")]
