"""The written answers: every prompt of the chapters has its answer cell, and
``classroom.written`` collects answers and figures from folders and zips into safe HTML and a
PDF of one answer a page. (A maintainer's test: it imports ``classroom``.)"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from classroom import written
from classroom.written import (
    PROMPT,
    TAG,
    collect,
    collect_submission,
    course_answer_ids,
    placeholder,
    render_html,
    render_pdf,
    write_written,
)

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_1 = ROOT / "notebooks" / "01_vickrey_auction.ipynb"
XSS = "<script>alert(1)</script>"
ANSWER_A = f"Truthful bidding wins under Vickrey; μ ≈ 0.8. {XSS}"
ANSWER_C = "Learners drift from the formula as n grows: fewer wins to learn from."


def _pages(path: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", path.read_bytes()))


@pytest.fixture(scope="module")
def learner_notebook() -> bytes:
    """Chapter 1 with answers 1.a and 1.c written, 1.b left as the placeholder."""
    nb = nbformat.read(CHAPTER_1, as_version=4)
    for cell in nb.cells:
        answer_id = cell.metadata.get("answer_id")
        if answer_id == "1.a":
            cell.source = f"**Your answer (1.a):** {ANSWER_A}"
        elif answer_id == "1.c":
            cell.source = ANSWER_C
    return nbformat.writes(nb).encode("utf-8")


def test_every_prompt_of_the_chapters_is_followed_by_its_answer_cell():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "add_answer_cells.py"),
                             "--check"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    ids = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        for i, cell in enumerate(cells):
            if TAG in cell.metadata.get("tags", []):
                assert cells[i - 1].cell_type == "markdown" and PROMPT.search(cells[i - 1].source)
                answer_id = cell.metadata["answer_id"]
                assert answer_id.split(".")[0] == str(int(path.name[:2]))
                assert cell.cell_type == "markdown" and cell.source == placeholder(answer_id)
                ids.append(answer_id)
    assert len(ids) == len(set(ids)) >= 13
    assert [i for _, i in course_answer_ids()] == ids
    assert ids[:3] == ["1.a", "1.b", "1.c"]


def test_collect_finds_answers_prompts_and_the_runs_figures(learner_notebook):
    answers = collect({"01_vickrey_auction.ipynb": learner_notebook})
    assert [a.answer_id for a in answers] == ["1.a", "1.b", "1.c"]
    a, b, c = answers
    assert ANSWER_A in a.text and not a.unchanged
    assert b.unchanged and b.text == placeholder("1.b")
    assert c.text == ANSWER_C and not c.unchanged
    assert "Your value is 0.80" in a.prompt and "Predict, then run" in b.prompt
    # 1.a's run draws the utility curves
    assert len(a.figures) >= 1 and all(f.mime == "image/png" for f in a.figures)
    assert a.figures[0].data.startswith(b"\x89PNG")


def test_an_answer_cell_without_its_tag_or_moved_away_is_still_found(learner_notebook):
    nb = json.loads(learner_notebook)
    cells = nb["cells"]
    i = next(i for i, c in enumerate(cells) if c["metadata"].get("answer_id") == "1.c")
    cell = cells.pop(i)
    cell["metadata"].pop("tags")
    cells.append(cell)  # moved to the end, tag lost
    answers = collect({"01.ipynb": json.dumps(nb).encode()})
    moved = next(a for a in answers if a.answer_id == "1.c")
    assert moved.text == ANSWER_C and "Predict, then run" in moved.prompt and moved.note


def test_a_broken_notebook_gives_a_note_not_an_exception():
    answers = collect({"bad.ipynb": b"{not json", "list.ipynb": b"[1, 2]",
                       "cells.ipynb": b'{"cells": [1, {"metadata": []}, {"source": 3}]}',
                       "latin.ipynb": b"\xff\xfe\x00"})
    notes = {a.notebook: a.note for a in answers}
    assert set(notes) == {"bad.ipynb", "list.ipynb", "latin.ipynb"}
    assert all("could not be read" in n for n in notes.values())


def test_limits_on_size_and_figures(monkeypatch, learner_notebook):
    monkeypatch.setattr(written, "MAX_NOTEBOOK_BYTES", 1000)
    (note,) = collect({"big.ipynb": learner_notebook})
    assert "skipped" in note.note and not note.answer_id
    monkeypatch.setattr(written, "MAX_NOTEBOOK_BYTES", 20 * 2**20)
    monkeypatch.setattr(written, "MAX_FIGURES", 1)
    answers = collect({"01.ipynb": learner_notebook})
    assert sum(len(a.figures) for a in answers) == 1


def test_expected_answers_come_in_the_courses_order_missing_ones_included(learner_notebook):
    expected = course_answer_ids()
    answers = collect({"sub/01_vickrey_auction (1).ipynb": learner_notebook}, expected)
    assert [a.answer_id for a in answers] == [i for _, i in expected]
    assert answers[0].text.endswith(XSS)
    missing = answers[3]
    assert missing.answer_id == "2.a" and missing.note == "not found in the submission"
    assert "Predict, then run" in missing.prompt


def _submission_zip(path: Path, notebook: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("work\\notebooks\\01_vickrey_auction.ipynb", notebook)
        archive.writestr("__MACOSX/work/notebooks/._01_vickrey_auction.ipynb", b"\0\0junk")
        archive.writestr("work/notebooks/.ipynb_checkpoints/01_vickrey_auction-checkpoint.ipynb",
                         notebook)
        archive.writestr("work/notebooks/broken.ipynb", b"{")
        archive.writestr("work/README.md", b"hello")
        link = zipfile.ZipInfo("work/link.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    return path


def test_collect_from_a_folder_and_from_a_zip(tmp_path, learner_notebook):
    folder = tmp_path / "ada"
    (folder / "notebooks" / ".ipynb_checkpoints").mkdir(parents=True)
    (folder / "notebooks" / "01_vickrey_auction.ipynb").write_bytes(learner_notebook)
    (folder / "notebooks" / ".ipynb_checkpoints" / "x.ipynb").write_bytes(b"{")
    (folder / "link.ipynb").symlink_to(folder / "notebooks" / "01_vickrey_auction.ipynb")
    from_folder = collect_submission(folder)
    assert [a.answer_id for a in from_folder if a.answer_id] == ["1.a", "1.b", "1.c"]
    assert [(a.notebook, a.note) for a in from_folder if not a.answer_id] == [
        ("link.ipynb", "skipped: a symbolic link")]

    from_zip = collect_submission(_submission_zip(tmp_path / "bob.zip", learner_notebook))
    assert {a.notebook for a in from_zip} == {"work/notebooks/01_vickrey_auction.ipynb",
                                              "work/notebooks/broken.ipynb", "work/link.ipynb"}
    assert ("work/link.ipynb", "skipped: a symbolic link") in [(a.notebook, a.note)
                                                                for a in from_zip]
    assert [a.answer_id for a in from_zip if a.answer_id] == ["1.a", "1.b", "1.c"]
    assert [a.unchanged for a in from_zip if a.answer_id] == [False, True, False]
    assert len(from_zip[0].figures) == len(from_folder[0].figures) >= 1
    assert any("could not be read" in a.note for a in from_zip)

    assert collect_submission(tmp_path / "nothing.zip")[0].note  # missing: a note
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really")
    assert collect_submission(tmp_path / "bad.zip")[0].note


def test_html_escapes_the_learner_and_inlines_the_figures(learner_notebook):
    answers = collect({"01_vickrey_auction.ipynb": learner_notebook})
    page = render_html("ada <b>lovelace</b>", answers)
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>lovelace</b>" not in page and "<script" not in page
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "μ ≈ 0.8" in page
    images = re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="([^"]+)">', page)
    assert len(images) == sum(len(a.figures) for a in answers) >= 1
    assert "figure 1 after answer 1.a" in images
    assert page.count("<h3") == 3 and "<h2" in page and "not answered" in page
    # a prompt (it comes from the learner's file too) is escaped as well
    nb = json.loads(learner_notebook)
    i = next(i for i, c in enumerate(nb["cells"]) if c["metadata"].get("answer_id") == "1.b")
    nb["cells"][i - 1]["source"] = "**Predict, then run.** <img src=x onerror=alert(2)>"
    page = render_html("ada", collect({"n.ipynb": json.dumps(nb).encode()}))
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page


def test_pdf_has_one_page_per_answer_and_prints_greek(tmp_path, learner_notebook):
    answers = collect({"01_vickrey_auction.ipynb": learner_notebook})
    answers[1].text = "long " * 3000 + "😀 漢字"  # a text too long for its page, odd glyphs
    answers[1].unchanged = False
    path = render_pdf("Ada μ Lovelace", answers, tmp_path / "ada.pdf")
    assert path.read_bytes().startswith(b"%PDF") and _pages(path) == len(answers) == 3
    empty = render_pdf("nobody", [], tmp_path / "empty.pdf")
    assert _pages(empty) == 1


def test_a_figure_the_pdf_cannot_draw_is_named_not_fatal(tmp_path, learner_notebook):
    answers = collect({"01.ipynb": learner_notebook})
    answers[0].figures.append(written.Figure("image/png", b"\x89PNG not an image", 3))
    answers[0].figures.append(written.Figure("image/svg+xml", b"<svg><script/></svg>", 3))
    path = render_pdf("ada", answers, tmp_path / "a.pdf")
    assert _pages(path) == 3
    page = render_html("ada", answers)
    assert "data:image/svg+xml;base64," in page and "<svg>" not in page


def test_write_written_and_the_command_line(tmp_path, learner_notebook):
    batch = tmp_path / "batch"
    (batch / "ada" / "notebooks").mkdir(parents=True)
    (batch / "ada" / "notebooks" / "01_vickrey_auction.ipynb").write_bytes(learner_notebook)
    _submission_zip(batch / "bob.zip", learner_notebook)
    (batch / "carol").mkdir()
    (batch / "__MACOSX").mkdir()
    assert write_written("carol", batch / "carol", tmp_path / "out") is None
    html_path, pdf_path = write_written("ada/../x", batch / "ada", tmp_path / "out")
    assert html_path.parent == tmp_path / "out" and html_path.suffix == ".html"
    n = len(course_answer_ids())
    assert _pages(pdf_path) == n  # the course's answers, always in the same pages

    from classroom.written import main

    out = tmp_path / "grades"
    assert main(["--batch", str(batch), "--out-dir", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["ada.html", "ada.pdf", "bob.html",
                                                     "bob.pdf"]
    assert _pages(out / "bob.pdf") == n + 2  # + the notes on broken.ipynb and the link
    assert main([str(batch / "ada"), "--student", "Ada L", "--out-dir", str(out)]) == 0
    assert (out / "Ada_L.html").exists()
