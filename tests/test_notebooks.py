"""The notebooks as files: committed executed and clean, one check cell per exercise, and a
friendly stop in learner mode. (Running every cell is nbval's job: `make test`.)"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from course_lib.exercises import catalog, solutions_available

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
VOLATILE_CELL_KEYS = {"execution", "ExecuteTime"}


def test_expected_notebooks_exist():
    names = [p.name for p in NOTEBOOKS]
    assert names[:2] == ["00_welcome.ipynb", "01_vickrey_auction.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_executed_with_volatile_metadata_stripped(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert set(nb.metadata) <= {"kernelspec", "language_info"}
    assert "widgets" not in nb.metadata
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code), "run `make notebooks`"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for cell in nb.cells:
        assert not VOLATILE_CELL_KEYS & set(cell.metadata)
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{path.name} was saved with an error"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")


# An absolute path in a saved output (/home/..., /work/...): someone's folders on a web page.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~])/(?:[\w.+-]+/)+[\w.+-]*")


def _output_text(output) -> str:
    data = output.get("data", {})
    return output.get("text", "") + "".join(
        v for k, v in data.items() if k.startswith("text/") and isinstance(v, str))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_outputs_name_no_absolute_paths(path):
    nb = nbformat.read(path, as_version=4)
    found = [(n, m) for n, cell in enumerate(nb.cells) for output in cell.get("outputs", [])
             for m in ABSOLUTE_PATH.findall(_output_text(output))]
    assert not found, f"{path.name}: absolute paths in saved outputs (cell, path): {found[:5]}"


def test_the_absolute_path_pattern_finds_paths_and_leaves_ratios():
    assert ABSOLUTE_PATH.findall("cd /work/main && python") == ["/work/main"]
    assert ABSOLUTE_PATH.findall("/home/ada/.venv/bin/python") == ["/home/ada/.venv/bin/python"]
    assert not ABSOLUTE_PATH.findall("3/4 of the bids, 17/17 tests, 1/n, ./notebooks/x")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_chapter_exercise_has_a_check_cell(path):
    chapter = int(path.name[:2])
    sources = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    checked = set(re.findall(r'check\("(\d+\.\d+)"\)', sources))
    ids = {row["id"] for row in catalog() if row["id"].split(".")[0] == str(chapter)}
    assert ids <= checked, f"missing check() cells in {path.name}: {sorted(ids - checked)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_set_up_cell_imports_what_the_messages_name(path):
    """An unsolved exercise's message says hint("x.y") (and, in this copy, use_reference):
    both must be defined in every notebook from its set-up cell on (the student copy's
    import leaves use_reference out: classroom.release.student_code)."""
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    setup = next(c for c in code if "setup_notebook(" in c.source)
    assert code.index(setup) <= 1, "the set-up cell comes first, after the Colab cell"
    imported = re.search(r"^from course_lib import (.+)$", setup.source, re.MULTILINE)
    assert imported, setup.source
    names = {name.strip() for name in imported.group(1).split(",")}
    assert {"check", "hint", "setup_notebook", "use_reference"} <= names


@pytest.mark.skipif(not solutions_available(), reason="needs the repository copy")
def test_learner_mode_stops_at_the_first_exercise_with_one_line(monkeypatch):
    """Without references, notebook 01 stops at exercise 1.1 with the friendly message."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("COURSE_LIB_REFERENCE", "")
    monkeypatch.setenv("COURSE_LIB_QUICK", "1")
    path = ROOT / "notebooks" / "01_vickrey_auction.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    with pytest.raises(CellExecutionError):
        client.execute()
    errors = [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(errors) == 1
    index, error = errors[0]
    assert error.ename == "ExerciseNotImplementedError"
    assert "Exercise 1.1" in error.evalue and 'use_reference("1.1")' in error.evalue
    assert len(error.traceback) == 1, "expected one line, not a traceback"
    assert "first_price_auction(" in nb.cells[index].source
    assert os.environ["COURSE_LIB_REFERENCE"] == ""
