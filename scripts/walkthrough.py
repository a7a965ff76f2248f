"""A newcomer's first hour, proven end to end (``make walkthrough``; CI runs it).

1. Clone the repository afresh (what is committed on the current branch) into a temporary
   folder, as a learner would from GitHub.
2. Follow the README's set-up there: ``make setup`` (a new ``.venv`` with every requirement).
3. Execute every notebook in learner mode (no reference solutions, quick budgets). The only
   errors allowed are the one-line "exercise not implemented" messages, each naming an
   exercise of the course.

With the reference solutions on, every notebook runs without an error in `make test` (nbval,
on CI's packages) and in the Colab rehearsal (`make colab`, on Colab's): not repeated here.

Usage:
    python scripts/walkthrough.py [--source REPO] [--workdir DIR] [--keep]
    python scripts/walkthrough.py --here      # step 3 only, in this checkout
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRIENDLY = "ExerciseNotImplementedError"
NAMES_EXERCISE = re.compile(r"\bexercise (\d+\.\d+)\b", re.IGNORECASE)


def _run(command: list[str], cwd: Path, **kwargs) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, cwd=cwd, check=True, **kwargs)


def fresh_clone(source: str, workdir: Path) -> Path:
    """Clone ``source`` into ``workdir`` and run the README's set-up there."""
    clone = workdir / "markets-of-agents"
    _run(["git", "clone", "--quiet", source, str(clone)], cwd=workdir)
    started = time.perf_counter()
    _run(["make", "setup"], cwd=clone)
    print(f"set-up took {time.perf_counter() - started:.0f} s", flush=True)
    return clone


def errors_in(nb) -> list[tuple[int, dict]]:
    """(code cell number, error output) for every error a notebook shows."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    return [(i, out) for i, cell in enumerate(code, 1) for out in cell.get("outputs", [])
            if out.get("output_type") == "error"]


def execute(path: Path) -> tuple[object, float]:
    """Run a notebook top to bottom in a fresh kernel in learner mode, going on after errors."""
    import nbformat
    from nbclient import NotebookClient

    os.environ["COURSE_LIB_REFERENCE"] = ""
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb, time.perf_counter() - started


def unfriendly(errors: list[tuple[int, dict]], known_ids: set[str]) -> list[str]:
    """The errors that are not a one-line message naming a known exercise."""
    bad = []
    for cell, out in errors:
        named = NAMES_EXERCISE.search(out.get("evalue", ""))
        if (out.get("ename") != FRIENDLY or len(out.get("traceback", [])) != 1
                or named is None or named.group(1) not in known_ids):
            bad.append(f"cell {cell}: {out.get('ename')}: {out.get('evalue', '')[:300]}")
    return bad


def stops_in(errors: list[tuple[int, dict]]) -> list[str]:
    """The exercises that a notebook's errors name, in course order."""
    named = (NAMES_EXERCISE.search(out.get("evalue", "")) for _, out in errors)
    return sorted({m.group(1) for m in named if m}, key=lambda s: tuple(map(int, s.split("."))))


def _walk_one(path: Path, known: set[str]) -> tuple[list[str], list[str], float]:
    """One notebook in learner mode: (problems, exercises it stopped at, seconds)."""
    nb, seconds = execute(path)
    errors = errors_in(nb)
    problems = [f"{path.name} (learner mode) {p}" for p in unfriendly(errors, known)]
    return problems, stops_in(errors), seconds


def walk_notebooks(root: Path, jobs: int = 2) -> list[str]:
    """Step 3 in ``root`` (run with that checkout's interpreter); returns problems.

    Notebooks run ``jobs`` at a time, each in a process (and kernel) of its own."""
    sys.path.insert(0, str(root))
    from course_lib.exercises import catalog

    os.environ.update(COURSE_LIB_QUICK="1", MPLBACKEND="Agg", PYTHONHASHSEED="0")
    if jobs > 1:  # one thread per kernel, or their thread pools fight over the cores
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    known = {row["id"] for row in catalog()}
    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(_walk_one, notebooks, [known] * len(notebooks)))
    print(f"\n{'notebook':<36} {'learner mode: stops at exercises':<34} {'s':>4}  problems")
    problems: list[str] = []
    for path, (found, stops, seconds) in zip(notebooks, results, strict=True):
        problems += found
        print(f"{path.name:<36} {', '.join(stops) or '-':<34} {seconds:>4.0f}  {len(found)}")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(ROOT),
                        help="repository to clone (default: this checkout's committed state)")
    parser.add_argument("--workdir", type=Path, help="where to clone (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the clone and its .venv")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks executed at a time (default: 2, or 1 on one core)")
    parser.add_argument("--here", action="store_true",
                        help="only execute the notebooks, in this checkout, with this Python")
    args = parser.parse_args(argv)
    if args.here:
        problems = walk_notebooks(ROOT, max(1, args.jobs))
        for problem in problems:
            print("PROBLEM:", problem)
        print("walk-through:", "FAILED" if problems else "passed")
        return 1 if problems else 0

    if args.source == str(ROOT) and subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
            capture_output=True, text=True, check=True).stdout.strip():
        print("note: uncommitted changes are not part of the walk-through (it clones HEAD)")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="walkthrough-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        clone = fresh_clone(args.source, workdir)
        python = clone / ".venv" / "bin" / "python"
        env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}"}
        env.pop("VIRTUAL_ENV", None)
        return subprocess.run([str(python), str(clone / "scripts" / "walkthrough.py"),
                               "--here", "--jobs", str(args.jobs)], cwd=clone, env=env).returncode
    finally:
        if not args.keep:
            shutil.rmtree(workdir / "markets-of-agents", ignore_errors=True)
            if args.workdir is None:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
