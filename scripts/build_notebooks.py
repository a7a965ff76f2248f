"""Execute the course notebooks and save them with their outputs (``make notebooks``).

Notebooks are committed executed (full mode, reference solutions on) so that they read well
on a web page. Volatile metadata (timestamps, widget state, kernel versions) is stripped so
that re-running changes only what really changed.

Usage: python scripts/build_notebooks.py [NOTEBOOK ...]   (default: notebooks/*.ipynb)
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
KEEP_NOTEBOOK_METADATA = ("kernelspec",)
# tqdm's notebook bar is a widget whose text form looks like "  3%|▎   | 90/3000 [...]".
PROGRESS_BAR = re.compile(r"\d+%\|.*\|\s*\d+/\d+")
# What a saved notebook shows where a cell displayed a widget (the website and the Colab
# rehearsal look for it).
WIDGET_PLACEHOLDER = "[interactive widget: run this cell to use it]"


def strip_volatile(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove metadata that changes on every run; keep outputs."""
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in KEEP_NOTEBOOK_METADATA}
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        for key in ("execution", "ExecuteTime", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
        if "outputs" in cell:  # progress bars mean nothing once the run is over
            cell.outputs = [o for o in cell.outputs if not _is_progress_bar(o)]
        for output in cell.get("outputs", []):
            output.get("metadata", {}).pop("execution", None)
            data = output.get("data", {})
            # A widget cannot render from a saved file without its state: leave a note.
            if data.pop("application/vnd.jupyter.widget-view+json", None) is not None:
                output["data"] = {"text/plain": WIDGET_PLACEHOLDER}
    return nb


def _is_progress_bar(output: nbformat.NotebookNode) -> bool:
    data = output.get("data", {})
    return ("application/vnd.jupyter.widget-view+json" in data
            and bool(PROGRESS_BAR.search(data.get("text/plain", ""))))


def build(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=1800, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(strip_volatile(nb), path)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    os.environ.setdefault("COURSE_LIB_REFERENCE", "all")
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        print(f"executing {path.name} ...", flush=True)
        print(f"  done in {build(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
