"""Put a written-answer cell after every "Predict, then run" prompt of the chapters.

A prompt is a Markdown cell matching ``classroom.written.PROMPT`` (``**Predict, then run.**``,
``*Predict, then run:*``, ...). The cell inserted after it is Markdown, tagged
``written-answer``, with ``answer_id`` "<chapter>.<letter>" in its metadata (letters in the
order of the notebook) and the placeholder of ``classroom.written.placeholder`` as its source;
``python -m classroom.written`` collects them. A prompt already followed by an answer cell is
left alone (its id too, even if a prompt was added before it since), so running this again
changes nothing; ``--check`` only reports notebooks that lack answer cells (exit status 1).
Notebooks are written as ``scripts/sync_launch_cells.py`` writes them (``nbformat.write``), so
the diff is the new cells.

Usage: python scripts/add_answer_cells.py [--check] [NOTEBOOK ...]   (default: notebooks/*)
"""

from __future__ import annotations

import argparse
import string
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classroom.written import PROMPT, TAG, placeholder  # noqa: E402  (the checkout's copy)


def _is_answer(cell: nbformat.NotebookNode) -> bool:
    return TAG in cell.metadata.get("tags", []) or "answer_id" in cell.metadata


def _is_prompt(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "markdown" and bool(PROMPT.search(cell.source))


def answer_cell(answer_id: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(placeholder(answer_id),
                                         id="answer-" + answer_id.replace(".", "-"))
    cell.metadata = {"answer_id": answer_id, "tags": [TAG]}
    return cell


def with_answer_cells(nb: nbformat.NotebookNode, chapter: int) -> int:
    """Insert the missing answer cells into ``nb``; returns how many were inserted."""
    prompts = [i for i, cell in enumerate(nb.cells) if _is_prompt(cell)]
    taken = {cell.metadata.get("answer_id") for cell in nb.cells if _is_answer(cell)}
    letters = iter(string.ascii_lowercase)
    inserted = 0
    for n, i in enumerate(prompts):
        letter = string.ascii_lowercase[n]
        i += inserted
        following = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
        if following is not None and _is_answer(following):
            continue
        answer_id = f"{chapter}.{letter}"
        while answer_id in taken:  # a prompt added before older ones: a letter not yet used
            answer_id = f"{chapter}.{next(letters)}"
        taken.add(answer_id)
        nb.cells.insert(i + 1, answer_cell(answer_id))
        inserted += 1
    return inserted


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, do not write")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    stale = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        added = with_answer_cells(nb, int(path.name[:2]))
        if added:
            stale.append(f"{path.name} ({added})")
            if not args.check:
                nbformat.validate(nb)
                nbformat.write(nb, path)
    verb = "lacking answer cells" if args.check else "answer cells added"
    print(f"{verb}: {', '.join(stale)}" if stale else "every prompt has its answer cell")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
