"""Collect the learners' written answers and the figures they answer about, for grading by hand.

Every "Predict, then run" prompt of the chapters is followed by a Markdown cell tagged
``written-answer`` whose metadata holds its ``answer_id`` ("1.a", "1.b", ... in the order of the
notebook; ``scripts/add_answer_cells.py`` writes them). This module reads a submission (a folder
or a zip, as ``classroom.grade`` takes them), finds those cells (by tag, or by ``answer_id`` if a
learner lost the tag), and gathers for each one the prompt (the Markdown cell before it), the
learner's text, whether it is still the placeholder, and the figures of the "run": the image
outputs of the code cells after the answer cell, up to the next heading, prompt or answer cell.

It writes one HTML page and one PDF per student. Nothing in a notebook is executed, and a
learner's text is never trusted: the HTML escapes all of it (prompts included: they come from
the learner's file too) and shows Markdown as preformatted text; images go in as data URIs of
``<img>`` elements (an SVG shown by ``<img>`` runs no script).

The PDF puts **one answer on one page**, and, when it is given the course's list of answers
(as ``write_written`` and the command line do), always the same pages in the same order: a
missing answer still gets its page, saying so. A Gradescope "PDF question" is graded by page
region, so a template made from any one PDF fits every student's. Answers the course does not
list (a copied cell, an unknown id) and notes on unreadable notebooks come after, one a page.

Usage::

    python -m classroom.written SUBMISSION [--student NAME] [--out-dir grades/written]
    python -m classroom.written --batch FOLDER [--out-dir grades/written]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import html
import io
import json
import os
import re
import stat
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from classroom.grade import _ignored
from course_lib.submit import MAX_NOTEBOOK_MB

REPO_ROOT = Path(__file__).resolve().parent.parent
TAG = "written-answer"
PROMPT = re.compile(r"(?:\*\*|\*|_)Predict, then run[.:]")
HEADING = re.compile(r"^\s{0,3}#{1,6}\s", re.MULTILINE)
PLACEHOLDER_BODY = ("*write your prediction here, before you run the next cell; after it, a "
                    "sentence on what you saw.*")
_LABEL = re.compile(r"^\s*\*\*Your answer(?: \([^)\n]*\))?:\*\*\s*")

MAX_NOTEBOOK_BYTES = MAX_NOTEBOOK_MB * 2**20  # as course_lib submit refuses
MAX_FIGURES = 50  # per notebook
MAX_FIGURE_BYTES = 8 * 1024 * 1024  # of one image, decoded
MAX_NOTEBOOKS = 100  # per submission
MAX_SUBMISSION_BYTES = 200 * 1024 * 1024  # of notebooks read, per submission
MAX_ANSWERS = 200  # per notebook (a learner may copy cells)
MAX_PDF_CHARS = 20_000  # of one text laid out in the PDF: more does not fit a page anyway
MAX_ENTRIES = 100_000  # files and zip members looked at, per submission
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")


def placeholder(answer_id: str) -> str:
    """The source of an answer cell that nobody has written in yet."""
    return f"**Your answer ({answer_id}):** {PLACEHOLDER_BODY}"


def is_placeholder(text: str) -> bool:
    """Whether ``text`` says nothing beyond the placeholder (the label alone counts too)."""
    rest = _LABEL.sub("", text, count=1).strip()
    return rest in ("", PLACEHOLDER_BODY)


@dataclass
class Figure:
    mime: str
    data: bytes  # the image file's bytes (SVG: its UTF-8 text)
    cell: int  # index of the code cell in the notebook


@dataclass
class Answer:
    notebook: str
    answer_id: str
    prompt: str = ""
    text: str = ""
    unchanged: bool = True
    figures: list[Figure] = field(default_factory=list)
    note: str = ""  # why something is missing or odd; an unreadable notebook has only this


# ---------------------------------------------------------------------------------- notebooks

def _text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return ""


def _metadata(cell: dict) -> dict:
    meta = cell.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _answer_id(cell: dict) -> str | None:
    """The cell's answer id if it is an answer cell (by tag, else by ``answer_id``)."""
    meta = _metadata(cell)
    tags = meta.get("tags")
    tagged = isinstance(tags, list) and TAG in tags
    answer_id = meta.get("answer_id")
    if isinstance(answer_id, str) and answer_id.strip():
        return answer_id.strip()[:40]
    return "?" if tagged else None


def _is_markdown(cell: dict) -> bool:
    return cell.get("cell_type") == "markdown"


def _ends_run(cell: dict) -> bool:
    if _answer_id(cell) is not None:
        return True
    source = _text(cell.get("source"))
    return _is_markdown(cell) and bool(HEADING.search(source) or PROMPT.search(source))


def _figures(cell: dict, index: int) -> list[Figure]:
    found = []
    outputs = cell.get("outputs")
    for output in outputs if isinstance(outputs, list) else []:
        data = output.get("data") if isinstance(output, dict) else None
        if not isinstance(data, dict):
            continue
        for mime in IMAGE_TYPES:
            raw = _text(data.get(mime))
            if not raw:
                continue
            if mime == "image/svg+xml":
                content = raw.encode("utf-8")
            elif _BASE64.fullmatch(raw):
                try:
                    content = base64.b64decode("".join(raw.split()), validate=True)
                except (binascii.Error, ValueError):
                    continue
            else:
                continue
            if 0 < len(content) <= MAX_FIGURE_BYTES:
                found.append(Figure(mime, content, index))
            break  # one picture per output: a PNG and its SVG twin are the same figure
    return found


def _load(raw: bytes) -> list[dict]:
    """The cells of a notebook file, as plain dicts; ValueError if it is not a notebook."""
    try:
        nb = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"not valid JSON ({type(error).__name__})") from None
    if not isinstance(nb, dict):
        raise ValueError("not a notebook (the file is JSON, but not an object)")
    if nb.get("nbformat") == 3 or "worksheets" in nb:  # an old notebook: let nbformat convert
        try:
            import nbformat

            nb = json.loads(nbformat.writes(nbformat.reads(raw.decode("utf-8-sig"),
                                                           as_version=4)))
        except Exception as error:  # noqa: BLE001  (anything nbformat raises: not readable)
            raise ValueError(f"an nbformat 3 notebook that could not be converted "
                             f"({type(error).__name__})") from None
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise ValueError("not a notebook (no list of cells)")
    return [c for c in cells if isinstance(c, dict)]


def _collect_one(name: str, raw: bytes) -> list[Answer]:
    if len(raw) > MAX_NOTEBOOK_BYTES:
        return [Answer(name, "", note=f"skipped: {len(raw) / 2**20:.1f} MB is over the "
                                      f"{MAX_NOTEBOOK_BYTES // 2**20} MB limit")]
    try:
        cells = _load(raw)
    except ValueError as error:
        return [Answer(name, "", note=f"could not be read: {error}")]
    answers, budget = [], MAX_FIGURES
    for i, cell in enumerate(cells):
        answer_id = _answer_id(cell)
        if answer_id is None:
            continue
        before = cells[i - 1] if i else {}
        prompt = _text(before.get("source")) if _is_markdown(before) else ""
        text = _text(cell.get("source"))
        answer = Answer(name, answer_id, prompt, text, is_placeholder(text))
        if not prompt or not PROMPT.search(prompt):
            course = _course_prompts().get(answer_id)
            if course:
                answer.prompt = course
                answer.note = ("the answer cell is not under its prompt; "
                               "the prompt shown is the course's")
        for j in range(i + 1, len(cells)):
            if _ends_run(cells[j]):
                break
            if cells[j].get("cell_type") == "code":
                found = _figures(cells[j], j)
                answer.figures += found[:max(budget, 0)]
                if len(found) > budget and "more figures" not in answer.note:
                    answer.note = (answer.note + "; " if answer.note else "") + (
                        f"more figures than the {MAX_FIGURES} shown for this notebook")
                budget -= len(found)
        answers.append(answer)
        if len(answers) >= MAX_ANSWERS:
            answers.append(Answer(name, "", note=f"only the first {MAX_ANSWERS} answer cells "
                                                 f"were read"))
            break
    return answers


def collect(notebooks: dict[str, bytes],
            expected: list[tuple[str, str]] | None = None) -> list[Answer]:
    """The written answers of the notebooks (name -> file bytes), in the notebooks' order.

    With ``expected`` (pairs of notebook name and answer id, e.g. ``course_answer_ids()``), the
    list starts with exactly those answers, in that order: each is looked for by its id in
    every notebook (a renamed copy such as "01_vickrey_auction (1).ipynb" counts; a notebook of
    the same name is preferred, then the one whose answer was changed), and one that is found
    nowhere gets an entry with a note. Everything else (unlisted ids, further copies, notes on
    unreadable notebooks) follows. Never raises on a learner's file."""
    found: list[Answer] = []
    for name in sorted(notebooks):
        found += _collect_one(name, notebooks[name])
    if expected is None:
        return found
    ordered, used = [], set()
    for notebook, answer_id in expected:
        candidates = [a for a in found if a.answer_id == answer_id]
        if not candidates:
            ordered.append(Answer(notebook, answer_id, _course_prompts().get(answer_id, ""),
                                  note="not found in the submission"))
            continue
        best = min(candidates, key=lambda a: (PurePosixPath(a.notebook).name != notebook,
                                              a.unchanged))
        ordered.append(best)
        used.add(id(best))
    return ordered + [a for a in found if id(a) not in used]


@lru_cache(maxsize=1)
def _course_notebooks() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """(notebook name, ((answer id, prompt), ...)) for the course's own notebooks."""
    rows = []
    for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        try:
            cells = _load(path.read_bytes())
        except (OSError, ValueError):
            continue
        pairs = []
        for i, cell in enumerate(cells):
            answer_id = _answer_id(cell)
            if answer_id not in (None, "?"):
                prompt = _text(cells[i - 1].get("source")) if i else ""
                pairs.append((answer_id, prompt))
        if pairs:
            rows.append((path.name, tuple(pairs)))
    return tuple(rows)


def course_answer_ids() -> list[tuple[str, str]]:
    """Every (notebook name, answer id) of the course's notebooks, in order."""
    return [(name, answer_id) for name, pairs in _course_notebooks() for answer_id, _ in pairs]


def _course_prompts() -> dict[str, str]:
    return {answer_id: prompt for _, pairs in _course_notebooks() for answer_id, prompt in pairs}


# -------------------------------------------------------------------------------- submissions

def _zip_is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _read_zip(path: Path) -> tuple[dict[str, bytes], list[Answer]]:
    notebooks, notes, total = {}, [], 0
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            for n, info in enumerate(infos):
                if n >= MAX_ENTRIES:
                    notes.append(Answer(path.name, "", note=f"only the first {MAX_ENTRIES} "
                                                            f"entries of the zip were read"))
                    break
                name = info.filename.replace("\\", "/")
                parts = [p for p in name.split("/") if p not in ("", ".")]
                if (info.is_dir() or not parts or _ignored(parts)
                        or not parts[-1].lower().endswith(".ipynb")):
                    continue
                shown = "/".join(parts)
                if _zip_is_link(info):
                    notes.append(Answer(shown, "", note="skipped: a symbolic link"))
                elif info.file_size > MAX_NOTEBOOK_BYTES:
                    notes.append(Answer(shown, "", note=f"skipped: over the "
                                                         f"{MAX_NOTEBOOK_BYTES // 2**20} MB limit"))
                elif (len(notebooks) >= MAX_NOTEBOOKS
                      or total + info.file_size > MAX_SUBMISSION_BYTES):
                    notes.append(Answer(shown, "", note="skipped: the submission's other "
                                                         "notebooks reached the limits"))
                else:
                    try:
                        with archive.open(info) as member:  # the size in the header may lie
                            data = member.read(MAX_NOTEBOOK_BYTES + 1)
                    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError,
                            EOFError, ValueError, zlib.error) as error:
                        notes.append(Answer(shown, "", note=f"could not be read from the zip "
                                                             f"({type(error).__name__})"))
                        continue
                    total += len(data)
                    notebooks[shown] = data
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        notes.append(Answer(path.name, "", note=f"not a readable zip ({type(error).__name__})"))
    return notebooks, notes


def _read_folder(root: Path) -> tuple[dict[str, bytes], list[Answer]]:
    notebooks, notes, seen, total = {}, [], 0, 0
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        rel_parts = here.relative_to(root).parts
        dirs[:] = sorted(d for d in dirs if not _ignored([d]))
        for d in list(dirs):
            if (here / d).is_symlink():
                dirs.remove(d)
                notes.append(Answer("/".join(rel_parts + (d,)), "",
                                    note="skipped: a symbolic link"))
        for name in sorted(files):
            seen += 1
            if seen > MAX_ENTRIES:
                notes.append(Answer(root.name, "", note=f"only the first {MAX_ENTRIES} files "
                                                       f"of the folder were looked at"))
                return notebooks, notes
            parts = rel_parts + (name,)
            if _ignored(parts) or not name.lower().endswith(".ipynb"):
                continue
            shown, path = "/".join(parts), here / name
            try:
                info = path.lstat()
            except OSError:
                continue
            if stat.S_ISLNK(info.st_mode):
                notes.append(Answer(shown, "", note="skipped: a symbolic link"))
            elif not stat.S_ISREG(info.st_mode):
                continue
            elif info.st_size > MAX_NOTEBOOK_BYTES:
                notes.append(Answer(shown, "", note=f"skipped: over the "
                                                     f"{MAX_NOTEBOOK_BYTES // 2**20} MB limit"))
            elif len(notebooks) >= MAX_NOTEBOOKS or total + info.st_size > MAX_SUBMISSION_BYTES:
                notes.append(Answer(shown, "", note="skipped: the submission's other "
                                                     "notebooks reached the limits"))
            else:
                try:
                    with open(path, "rb") as handle:
                        notebooks[shown] = handle.read(MAX_NOTEBOOK_BYTES + 1)
                    total += len(notebooks[shown])
                except OSError as error:
                    notes.append(Answer(shown, "", note=f"could not be read "
                                                         f"({type(error).__name__})"))
    return notebooks, notes


def read_submission(path: Path) -> tuple[dict[str, bytes], list[Answer]]:
    """The notebooks of a submission folder or zip (path inside it -> bytes), and notes on
    what was refused. Symbolic links are refused, the submission itself included."""
    path = Path(path)
    if path.is_symlink():
        return {}, [Answer(path.name, "", note="skipped: the submission is a symbolic link")]
    if path.is_dir():
        return _read_folder(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return _read_zip(path)
    if path.is_file() and path.name.lower().endswith(".ipynb"):
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return {}, [Answer(path.name, "", note="skipped: over the size limit")]
        return {path.name: path.read_bytes()}, []
    return {}, [Answer(path.name, "", note="not a folder, a zip or a notebook")]


def collect_submission(path: Path,
                       expected: list[tuple[str, str]] | None = None) -> list[Answer]:
    """``collect`` on the notebooks of a submission folder or zip (any depth; the leftovers
    that ``classroom.grade`` ignores are skipped), followed by notes on what was refused."""
    notebooks, notes = read_submission(path)
    return collect(notebooks, expected) + notes


# ------------------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;line-height:1.45;color:#1a1a1a;background:#fff}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:.92rem;padding:.6rem .8rem;border-radius:4px}
.prompt{background:#f3f4f6;border-left:4px solid #6b7280}
.answer{background:#fffbea;border-left:4px solid #b45309}
.status{font-weight:600}.unanswered{color:#b91c1c}.note{color:#92400e}
figure{margin:1rem 0}img{max-width:100%;height:auto;border:1px solid #d1d5db}
section.answer-block{border-top:1px solid #d1d5db;margin-top:1.5rem}
"""


def _data_uri(figure: Figure) -> str:
    return f"data:{figure.mime};base64,{base64.b64encode(figure.data).decode('ascii')}"


def render_html(student: str, answers: list[Answer]) -> str:
    """One self-contained, accessible HTML page of a student's written answers. Everything
    the learner's files hold is escaped; Markdown is shown as preformatted text."""
    e = html.escape
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           # nothing from outside the page: no scripts, styles or images but the inline ones
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
           'img-src data:; style-src \'unsafe-inline\'">',
           f'<title>Written answers: {e(student)}</title>', f'<style>{_CSS}</style>',
           '</head>', '<body>', '<main>', f'<h1>Written answers: {e(student)}</h1>']
    if not answers:
        out.append('<p>No written answers were found in this submission.</p>')
    answered = sum(1 for a in answers if a.answer_id and not a.unchanged)
    listed = sum(1 for a in answers if a.answer_id)
    out.append(f'<p>{answered} of {listed} answers written.</p>')
    notebook = None
    for n, answer in enumerate(answers, 1):
        if answer.notebook != notebook:
            if notebook is not None:
                out.append('</section>')
            notebook = answer.notebook
            out.append(f'<section aria-labelledby="nb-{n}"><h2 id="nb-{n}">{e(notebook)}</h2>')
        label = f"Answer {answer.answer_id}" if answer.answer_id else "Note"
        out.append(f'<section class="answer-block" aria-labelledby="a-{n}">'
                   f'<h3 id="a-{n}">{e(label)}</h3>')
        if answer.note:
            out.append(f'<p class="note">{e(answer.note)}</p>')
        if answer.prompt:
            out.append(f'<h4>Prompt</h4><pre class="prompt">{e(answer.prompt)}</pre>')
        if answer.answer_id and (answer.text or not answer.note):
            status = ('<span class="status unanswered">not answered (the placeholder is '
                      'unchanged)</span>' if answer.unchanged else
                      '<span class="status">answered</span>')
            out.append(f'<h4>Answer</h4><p>{status}</p><pre class="answer">{e(answer.text)}</pre>')
        if answer.figures:
            out.append(f'<h4>Figures of the run ({len(answer.figures)})</h4>')
        for k, figure in enumerate(answer.figures, 1):
            alt = f"figure {k} after answer {answer.answer_id}"
            out.append(f'<figure><img src="{_data_uri(figure)}" alt="{e(alt)}">'
                       f'<figcaption>{e(alt)} (output of cell {figure.cell + 1})'
                       f'</figcaption></figure>')
        out.append('</section>')
    if notebook is not None:
        out.append('</section>')
    out += ['</main>', '</body>', '</html>', '']
    return "\n".join(out)


# -------------------------------------------------------------------------------------- PDF

def _fonts_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


_PDF_SAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean(text: str) -> str:
    """Text fpdf2 can lay out: no control characters, tabs as spaces."""
    return _PDF_SAFE.sub("", text.replace("\r\n", "\n").replace("\t", "    "))


def render_pdf(student: str, answers: list[Answer], path: Path) -> Path:
    """Write a student's written answers as a PDF: **one answer per page**, so that a
    Gradescope PDF question (graded by page region) or a printed pile has one answer to a page.

    A page shows the student, the notebook and answer id, the prompt, the answer (flagged if
    unanswered) and the run's figures, scaled to fit what is left of the page; a long text is
    set smaller and, past that, cut with a pointer to the HTML page. Text is set in DejaVu Sans
    (matplotlib's copy), so Greek letters and most symbols print. A submission with no answers
    gives one page saying so."""
    from fpdf import FPDF

    fonts = _fonts_dir()
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margins(15, 15, 15)
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.add_font("DejaVuMono", "", str(fonts / "DejaVuSansMono.ttf"))
    pdf.set_title(f"Written answers: {student}")
    pdf.set_creator("classroom.written")
    bottom = pdf.h - 15
    width = pdf.w - 30

    def block(text: str, font: str, sizes: tuple[float, ...], room: float) -> None:
        """Text in the largest size that fits ``room`` mm, else the smallest, cut to fit."""
        text = _clean(text[:MAX_PDF_CHARS]) or " "
        for size in sizes:
            pdf.set_font(font, "", size)
            if pdf.multi_cell(width, size * 0.45, text, dry_run=True,
                              output="HEIGHT") <= room:
                pdf.multi_cell(width, size * 0.45, text, new_x="LMARGIN", new_y="NEXT")
                return
        lines = pdf.multi_cell(width, sizes[-1] * 0.45, text, dry_run=True, output="LINES")
        fit = max(int(room // (sizes[-1] * 0.45)) - 1, 1)
        pdf.multi_cell(width, sizes[-1] * 0.45,
                       "\n".join(lines[:fit]) + "\n[... cut here: see the HTML page]",
                       new_x="LMARGIN", new_y="NEXT")

    def heading(text: str, size: float) -> None:
        pdf.set_font("DejaVu", "B", size)
        pdf.multi_cell(width, size * 0.5, _clean(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    if not answers:
        pdf.add_page()
        heading(f"Written answers: {student}", 14)
        block("No written answers were found in this submission.", "DejaVu", (11,), 50)
    for answer in answers:
        pdf.add_page()
        pdf.set_font("DejaVu", "", 8)
        pdf.set_text_color(90)
        pdf.cell(width, 4, _clean(f"{student} · {answer.notebook}"), new_x="LMARGIN",
                 new_y="NEXT")
        pdf.set_text_color(0)
        heading(f"Answer {answer.answer_id}" if answer.answer_id else "Note", 14)
        if answer.note:
            pdf.set_text_color(146, 64, 14)
            block(answer.note, "DejaVu", (9,), 20)
            pdf.set_text_color(0)
            pdf.ln(1)
        if answer.prompt:
            heading("Prompt", 10)
            block(answer.prompt, "DejaVu", (9, 8, 7), 60)
            pdf.ln(2)
        if answer.answer_id and (answer.text or not answer.note):
            heading("Answer: NOT ANSWERED (placeholder unchanged)" if answer.unchanged
                    else "Answer", 10)
            room = bottom - pdf.get_y() - (70 if answer.figures else 0)
            block(answer.text, "DejaVuMono", (10, 9, 8, 7), max(room, 20))
            pdf.ln(2)
        _place_figures(pdf, answer, bottom, width)
    pdf.output(str(path))
    return Path(path)


def _place_figures(pdf, answer: Answer, bottom: float, width: float) -> None:
    """The answer's figures in a grid filling what is left of the page; a figure that cannot
    be drawn (an SVG fpdf2 does not understand, a broken image) is named instead."""
    figures = answer.figures
    if not figures:
        return
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(width, 5, f"Figures of the run ({len(figures)})", new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 1
    room = bottom - top
    if room < 15:
        pdf.set_font("DejaVu", "", 8)
        pdf.cell(width, 4, "(no room left on the page: see the HTML page)")
        return
    n = len(figures)
    columns = 1 if n == 1 else 2 if n <= 6 else 3 if n <= 12 else 4
    rows = -(-n // columns)
    cell_w, cell_h = width / columns, room / rows
    for k, figure in enumerate(figures):
        x = pdf.l_margin + (k % columns) * cell_w
        y = top + (k // columns) * cell_h
        w, h = cell_w - 2, cell_h - 2
        try:
            if figure.mime != "image/svg+xml":  # at the top of its slot, not in the middle
                from PIL import Image

                with Image.open(io.BytesIO(figure.data)) as image:
                    scale = min(w / image.width, h / image.height)
                    w, h = image.width * scale, image.height * scale
            pdf.image(io.BytesIO(figure.data), x=x + 1, y=y + 1, keep_aspect_ratio=True,
                      w=w, h=h, alt_text=f"figure {k + 1} after answer {answer.answer_id}")
        except Exception as error:  # noqa: BLE001  (a learner's image must not stop the PDF)
            pdf.set_xy(x + 1, y + 1)
            pdf.set_font("DejaVu", "", 8)
            pdf.multi_cell(cell_w - 2, 4, f"figure {k + 1} ({figure.mime}) could not be drawn "
                                          f"({type(error).__name__}): see the HTML page")


# ------------------------------------------------------------------------- files and the CLI

_UNSAFE_NAME = re.compile(r"[^\w.@+-]+")


def safe_name(student: str) -> str:
    """A file name for a student's pages (no separators, no leading dot)."""
    return _UNSAFE_NAME.sub("_", student).strip("._")[:120] or "student"


def write_written(student: str, submission: Path, out_dir: Path,
                  expected: list[tuple[str, str]] | None = None) -> tuple[Path, Path] | None:
    """Write ``out_dir/<student>.html`` and ``.pdf`` for a submission; None (and nothing
    written) if it holds no notebook. The pages list the course's answers in the course's
    order (``course_answer_ids()``) unless ``expected`` says otherwise."""
    notebooks, notes = read_submission(Path(submission))
    if not notebooks:
        return None
    if expected is None:
        expected = course_answer_ids()
    answers = collect(notebooks, expected) + notes
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = safe_name(student)
    page = out_dir / f"{stem}.html"
    page.write_text(render_html(student, answers), encoding="utf-8")
    return page, render_pdf(student, answers, out_dir / f"{stem}.pdf")


def _student_of(path: Path) -> str:
    return path.stem if path.is_file() else path.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m classroom.written",
        description="Collect the written answers and figures of submissions for grading by hand.")
    parser.add_argument("submission", nargs="?", type=Path,
                        help="a submission folder or zip")
    parser.add_argument("--student", help="the name on the pages (default: the folder's name)")
    parser.add_argument("--batch", type=Path,
                        help="a folder of submissions: every sub-folder and zip in it")
    parser.add_argument("--out-dir", type=Path, default=Path("grades/written"))
    args = parser.parse_args(argv)
    if (args.submission is None) == (args.batch is None):
        parser.error("give one SUBMISSION or --batch FOLDER")
    if args.batch is not None:
        if not args.batch.is_dir():
            parser.error(f"{args.batch} is not a folder")
        if args.student:
            parser.error("--student is for one submission")
        jobs = [(_student_of(p), p) for p in sorted(args.batch.iterdir())
                if not _ignored([p.name]) and not p.name.startswith(".") and not p.is_symlink()
                and (p.is_dir() or (p.is_file() and p.suffix.lower() == ".zip"))]
    else:
        if not args.submission.exists():
            parser.error(f"{args.submission} does not exist")
        jobs = [(args.student or _student_of(args.submission), args.submission)]
    expected, written, empty, stems = course_answer_ids(), 0, [], set()
    for student, path in jobs:
        base, n = student, 1
        while safe_name(student).lower() in stems:  # "Ada L" and "Ada_L" get files of their own
            n += 1
            student = f"{base} ({n})"
        stems.add(safe_name(student).lower())
        result = write_written(student, path, args.out_dir, expected)
        if result is None:
            empty.append(student)
        else:
            written += 1
            print(f"{student}: {result[0]} {result[1]}")
    if empty:
        print(f"no notebooks in: {', '.join(empty)}", file=sys.stderr)
    print(f"{written} of {len(jobs)} submissions written to {args.out_dir}")
    return 0 if written or not jobs else 1


if __name__ == "__main__":
    raise SystemExit(main())
