"""How long the autograder takes for one complete, correct submission (public and hidden
tests) against the 60-second budget, and for a batch of submissions against 30 minutes for
30, in one run. Grading runs in the bubblewrap sandbox (``make sandbox-setup``).

Usage: python benchmarks/bench_grade.py [--batch N]     (needs the repository copy: solutions/)

``--batch N`` (default 4) grades N copies of the submission with ``grade_folder`` and prints
the measured time per submission and its projection to 30 submissions (30 × that time: each
submission is graded alone, one after the other).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from grading_fixtures import make_submission  # noqa: E402

from classroom.grade import expected_tests, grade, grade_folder  # noqa: E402

BUDGET_S = 60.0
BATCH_BUDGET_S = 30 * 60.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4, help="submissions in the batch")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    expected_tests(hidden=True)  # the one-off collection pass of a grading session
    collect = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        submission = make_submission(Path(tmp) / "student")
        start = time.perf_counter()
        result = grade(submission, hidden=True)
        seconds = time.perf_counter() - start
        batch = Path(tmp) / "batch"
        for i in range(args.batch):
            shutil.copytree(submission, batch / f"student_{i:02d}")
        start = time.perf_counter()
        grade_folder(batch, Path(tmp) / "grades", hidden=True)
        per_student = (time.perf_counter() - start) / max(args.batch, 1)
    print(f"collection pass (once per session): {collect:.1f} s")
    print(f"grading one full submission: {seconds:.1f} s for {result.score:g} / "
          f"{result.max_score:g} points; {seconds / BUDGET_S:.2f} of the {BUDGET_S:.0f} s "
          f"budget")
    print(f"batch of {args.batch}: {per_student:.1f} s per submission; 30 submissions would "
          f"take {30 * per_student / 60:.1f} min, {30 * per_student / BATCH_BUDGET_S:.2f} of "
          f"the {BATCH_BUDGET_S / 60:.0f} min budget")


if __name__ == "__main__":
    main()
