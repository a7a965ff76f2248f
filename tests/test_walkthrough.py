"""The learner's walk-through (scripts/walkthrough.py): how it reads a notebook's outputs and
solves an exercise. The walk itself runs in CI (`walkthrough.py --here`, on the student copy)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("walkthrough", ROOT / "scripts" / "walkthrough.py")
walkthrough = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("walkthrough", walkthrough)  # its dataclasses look their module up
_spec.loader.exec_module(walkthrough)


def _cell(source="x", outputs=()):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output(**out) for out in outputs]
    return cell


def _error(ename, evalue, lines=1):
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": ["line"] * lines}


def test_a_stop_is_one_line_that_names_its_exercise():
    friendly = _cell(outputs=[_error("ExerciseNotImplementedError",
                                     'Exercise 1.1 (First-price auction) is not implemented '
                                     'yet: edit ...; stuck? hint("1.1") shows a hint.')])
    assert walkthrough.stop_of(friendly) == ("1.1", "")
    assert walkthrough.stop_of(_cell()) == (None, "")
    long = _cell(outputs=[_error("ExerciseNotImplementedError", "Exercise 1.1 ...", lines=12)])
    assert walkthrough.stop_of(long)[0] == "1.1" and "more than one line" in walkthrough.stop_of(
        long)[1]
    for bad in (_error("NameError", "name 'hint' is not defined"),
                _error("ExerciseNotImplementedError", "something without an id")):
        exercise_id, problem = walkthrough.stop_of(_cell(outputs=[bad]))
        assert exercise_id is None and "names no exercise" in problem


def test_only_one_line_messages_naming_a_known_exercise_pass():
    """The judge of a run that goes on after errors (the Colab rehearsal's learner mode)."""
    known = {"1.1", "2.1"}
    friendly = _error("ExerciseNotImplementedError",
                      'Exercise 1.1 (First-price auction) is not implemented yet: edit ...')
    follow_on = _error("ExerciseNotImplementedError",
                       "`result` was not made, because an earlier cell stopped at exercise 2.1")
    assert walkthrough.unfriendly([(3, friendly), (5, follow_on)], known) == []
    assert walkthrough.stops_in([(5, follow_on), (3, friendly)]) == ["1.1", "2.1"]
    bad = [(1, _error("NameError", "name 'result' is not defined")),
           (2, _error("ExerciseNotImplementedError", "Exercise 1.1 ...", lines=12)),
           (4, _error("ExerciseNotImplementedError", "Exercise 9.9 is not implemented yet")),
           (6, _error("ExerciseNotImplementedError", "something without an id"))]
    found = walkthrough.unfriendly(bad, known)
    assert [line.split(":")[0] for line in found] == ["cell 1", "cell 2", "cell 4", "cell 6"]


def test_errors_in_lists_every_error_output_with_its_code_cell_number():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), _cell("a"),
                _cell("b", [_error("E", "v")])]
    assert [(cell, out["ename"]) for cell, out in walkthrough.errors_in(nb)] == [(2, "E")]


def test_suggested_calls_and_commands_are_found_as_written():
    text = ('Exercise 1.4 - Policy gradient: NOT YET (0/9 tests)\n'
            '  Exercise 1.4 (...) is not implemented yet: edit `f` in course_lib/bidders.py; '
            'stuck? hint("1.4") shows a hint, or run use_reference("1.4") to use it.\n'
            '  Full output: check("1.4", verbose=True), or in a terminal, from the course '
            'folder:\n'
            '    python -m pytest tests/test_bidders.py -p course_lib.exercises --exercise 1.4 '
            '-vv\n'
            'stuck? hint("1.4") shows a hint')
    calls, commands = walkthrough.suggestions(text)
    assert calls == ['hint("1.4")', 'use_reference("1.4")', 'check("1.4", verbose=True)']
    assert commands == ["python -m pytest tests/test_bidders.py -p course_lib.exercises "
                        "--exercise 1.4 -vv"]
    assert walkthrough.suggestions("nothing to do") == ([], [])


def test_exercises_are_introduced_by_their_heading_or_their_check_cell():
    heading = nbformat.v4.new_markdown_cell("text\n\n### Exercise 6.5 · Sensitivity\n\nFill in")
    passing = nbformat.v4.new_markdown_cell("Section 8 trains the linear critic (exercise 6.6).")
    assert walkthrough.introduced_by(heading) == {"6.5"}
    assert walkthrough.introduced_by(passing) == set()  # a mention is not an introduction
    assert walkthrough.introduced_by(_cell('check("6.6");')) == {"6.6"}
    assert walkthrough.introduced_by(_cell("from course_lib import check")) == set()


def test_solving_replaces_the_stub_body_by_a_call_of_the_reference(tmp_path):
    package = tmp_path / "course_lib" / "envs"
    package.mkdir(parents=True)
    source = ('"""A module."""\n\nfrom course_lib.exercises import exercise\n\n\n'
              '@exercise("9.1", title="demo")\n'
              'def demo(a, b=2, *rest, scale, **options):\n'
              '    """Docstring\n    over two lines."""\n'
              '    # TODO(exercise 9.1): a nudge\n'
              '    raise NotImplementedError\n\n\n'
              'def after():\n    return 1\n')
    (package / "demo.py").write_text(source)
    assert walkthrough.exercise_ids(tmp_path) == ["9.1"]
    path = walkthrough.solve(tmp_path, "9.1")
    text = path.read_text()
    assert '    """Docstring\n    over two lines."""\n' in text
    assert "    from solutions.envs.demo import demo as _solved\n" in text
    assert "    return _solved(a, b, *rest, scale=scale, **options)\n" in text
    assert "raise NotImplementedError" not in text and "TODO" not in text
    assert text.endswith("def after():\n    return 1\n")
    compile(text, str(path), "exec")
    with pytest.raises(ValueError, match="9.2"):
        walkthrough.solve(tmp_path, "9.2")
