"""The Colab rehearsal's judge and its pinned runtime (scripts/colab_rehearsal.py); the
rehearsal itself runs in CI as `make colab`."""

from __future__ import annotations

import datetime
import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

from course_lib import launch
from course_lib.notebook import AUTORELOAD_OFF

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("colab_rehearsal",
                                               ROOT / "scripts" / "colab_rehearsal.py")
rehearsal = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rehearsal)
sys.modules.setdefault("colab_rehearsal", rehearsal)

READY_LINE = "Course ready in /content/markets-of-agents (...). Installed: nothing new.\n"
KNOWN = {"1.1"}


def _stream(text: str) -> dict:
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def _notebook(*outputs: list[dict]) -> nbformat.NotebookNode:
    """A notebook of code cells, the first the set-up cell, each with the outputs given."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter")]
    for i, cell_outputs in enumerate(outputs):
        cell = nbformat.v4.new_code_cell(launch.colab_setup_cell() if i == 0 else f"x{i}")
        cell.outputs = cell_outputs
        nb.cells.append(cell)
    return nb


def _widget_cell_committed() -> nbformat.NotebookNode:
    placeholder = nbformat.v4.new_output(
        "execute_result", data={"text/plain": rehearsal.WIDGET_PLACEHOLDER}, execution_count=3)
    return _notebook([], [_stream("course_lib ready | ...")], [placeholder])


def _widget_view() -> dict:
    return nbformat.v4.new_output("display_data", data={
        rehearsal.WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "text/plain": "VBox(...)"})


def test_a_clean_run_has_no_problem_in_either_mode():
    run = _notebook([_stream(READY_LINE)], [_stream("course_lib ready | mode: quick")],
                    [_widget_view()])
    committed = _widget_cell_committed()
    assert rehearsal.judge(run, committed, KNOWN, references=True) == []
    assert rehearsal.judge(run, committed, KNOWN, references=False) == []


def test_each_break_seen_on_colab_is_a_problem():
    committed = _widget_cell_committed()
    ready = [_stream(READY_LINE)]
    # The set-up cell failed.
    run = _notebook([_stream("Cloning...")], [_stream("course_lib ready")], [_widget_view()])
    assert any("set-up cell" in p for p in rehearsal.judge(run, committed, KNOWN, True))
    # setup_notebook went on without autoreload (IPython 7.34 on Python 3.13, without the fix).
    off = f"{AUTORELOAD_OFF} (ModuleNotFoundError: No module named 'imp'): restart ...\n"
    run = _notebook(ready, [_stream("course_lib ready\n" + off)], [_widget_view()])
    assert any("autoreload" in p for p in rehearsal.judge(run, committed, KNOWN, False))
    # setup_notebook itself raised.
    error = nbformat.v4.new_output("error", ename="ModuleNotFoundError",
                                   evalue="No module named 'imp'", traceback=["a", "b"])
    run = _notebook(ready, [error], [_widget_view()])
    for references in (True, False):
        problems = rehearsal.judge(run, committed, KNOWN, references)
        assert any("ModuleNotFoundError" in p for p in problems)
        assert any("course_lib ready" in p for p in problems)
    # The widget fell back to its repr (ipywidgets 7 without the fix).
    bare = nbformat.v4.new_output("execute_result", execution_count=3, data={
        "text/plain": "<course_lib.widgets.AuctionPlayground at 0x7f3a2c1b9d50>"})
    run = _notebook(ready, [_stream("course_lib ready")], [bare])
    problems = rehearsal.judge(run, committed, KNOWN, True)
    assert any("bare repr" in p for p in problems)
    assert any("should show a widget" in p for p in problems)


def test_learner_mode_allows_only_one_line_exercise_messages():
    committed = _widget_cell_committed()
    friendly = nbformat.v4.new_output(
        "error", ename="ExerciseNotImplementedError", traceback=["one line"],
        evalue="Exercise 1.1 (First-price auction) is not implemented yet: edit ...")
    run = _notebook([_stream(READY_LINE)], [_stream("course_lib ready")], [friendly])
    assert rehearsal.judge(run, committed, KNOWN, references=False) == []
    assert rehearsal.judge(run, committed, KNOWN, references=True) != []


def test_the_set_up_cells_summary_names_what_it_installed():
    line = ("Course ready in /content/markets-of-agents (edit course_lib there; changes apply "
            "at the next cell). Installed: hypothesis>=6.80, minigrid>=3.0 (keeping the pygame "
            "already here), pettingzoo>=1.24. Widgets: Colab's widget manager not found.\n")
    assert rehearsal.installed_by_setup(line) == [
        "hypothesis>=6.80", "minigrid>=3.0", "pettingzoo>=1.24"]
    assert rehearsal.installed_by_setup(READY_LINE) == []


def test_the_pinned_runtime_says_what_and_when():
    runtime = rehearsal.load_runtime()
    assert runtime["python"] == "3.13"
    assert isinstance(runtime["listed"], datetime.date)
    assert isinstance(runtime["read"], datetime.date) and runtime["read"] >= runtime["listed"]
    for name in ("ipython", "ipykernel", "ipywidgets", "numpy", "torch", "pygame"):
        assert name in runtime["packages"], name
    assert "minigrid" not in runtime["packages"]  # what Colab lacks, the set-up cell installs


def test_a_malformed_runtime_is_refused(tmp_path):
    path = tmp_path / "runtime.toml"
    path.write_text('python = "3"\n[packages]\nnumpy = "2.1.3"\n')
    with pytest.raises(ValueError, match="python"):
        rehearsal.load_runtime(path)
    path.write_text('python = "3.13"\n[packages]\nnumpy = 2\n')
    with pytest.raises(ValueError, match="packages"):
        rehearsal.load_runtime(path)


def test_the_readme_names_the_colab_list_that_was_rehearsed():
    """The README says which Colab list the rehearsal follows; after an update of
    tests/colab_runtime.toml, its sentence must follow too."""
    runtime = rehearsal.load_runtime()
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    sentence = readme[readme.index("The Colab path is rehearsed"):][:600]
    assert f"gave them on {runtime['listed'].isoformat()}" in sentence
    assert f"Python {runtime['python']}," in sentence
    for name, label in (("ipython", "IPython"), ("ipykernel", "ipykernel"),
                        ("ipywidgets", "ipywidgets"), ("numpy", "numpy"), ("torch", "torch")):
        assert f"{label} {runtime['packages'][name]}" in sentence, name
