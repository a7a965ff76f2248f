"""Write the Colab and Binder badges and the Colab set-up cell at the top of every notebook.

Both come from ``course_lib/launch.py`` (the one place that knows the repository's address):
the badges go on the line after the title of the first Markdown cell, the set-up cell is the
first code cell. Run this after changing ``launch.py``; ``--check`` only reports notebooks
that are out of date (a test runs it).

The set-up cell does nothing outside Colab and prints nothing, so adding it to a notebook
saved with its outputs keeps that notebook a faithful record of a run: the cell gets the
first execution count and the later counts move up by one.

Usage: python scripts/sync_launch_cells.py [--check] [NOTEBOOK ...]   (default: notebooks/*)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import launch  # noqa: E402  (the checkout's copy, even if another is installed)


def _sync_badges(cell: nbformat.NotebookNode, name: str) -> None:
    lines = cell.source.split("\n")
    badges = launch.badges_markdown(name)
    for i, line in enumerate(lines):
        if line.startswith(launch.BADGES_PREFIX):
            lines[i] = badges
            break
    else:  # under the title, set off by blank lines
        lines[1:1] = ["", badges]
    cell.source = "\n".join(lines)


def _sync_setup_cell(nb: nbformat.NotebookNode) -> None:
    code = [c for c in nb.cells if c.cell_type == "code"]
    source = launch.colab_setup_cell()
    if code and code[0].source.startswith(launch.SETUP_CELL_MARKER):
        code[0].source = source
        return
    executed = bool(code) and all(c.execution_count is not None for c in code)
    cell = nbformat.v4.new_code_cell(source, id="colab-setup")
    nb.cells.insert(nb.cells.index(code[0]) if code else len(nb.cells), cell)
    if executed:
        cell.execution_count = 1
        for later in code:
            later.execution_count += 1
            for output in later.outputs:
                if output.get("execution_count") is not None:
                    output.execution_count += 1


def synced(path: Path) -> nbformat.NotebookNode | None:
    """The notebook brought up to date, or None if it already was (nothing is written)."""
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        raise ValueError(f"{path.name}: the first cell must be the Markdown title cell")
    _sync_badges(nb.cells[0], path.name)
    _sync_setup_cell(nb)
    return None if nbformat.writes(nb) == before else nb


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, do not write")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    stale = []
    for path in paths:
        nb = synced(path)
        if nb is not None:
            stale.append(path.name)
            if not args.check:
                nbformat.write(nb, path)
    verb = "out of date" if args.check else "updated"
    print(f"{verb}: {', '.join(stale)}" if stale else "every notebook is up to date")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
