"""How long the autograder takes for one complete, correct submission (public and hidden
tests), against the 60-second budget, in one run.

Usage: python benchmarks/bench_grade.py     (needs the repository copy: solutions/)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from grading_fixtures import make_submission  # noqa: E402

from classroom.grade import expected_tests, grade  # noqa: E402

BUDGET_S = 60.0


def main() -> None:
    start = time.perf_counter()
    expected_tests(hidden=True)  # the one-off collection pass of a grading session
    collect = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        submission = make_submission(Path(tmp) / "student")
        start = time.perf_counter()
        result = grade(submission, hidden=True)
        seconds = time.perf_counter() - start
    print(f"collection pass (once per session): {collect:.1f} s")
    print(f"grading one full submission: {seconds:.1f} s for {result.score:g} / "
          f"{result.max_score:g} points; {seconds / BUDGET_S:.2f} of the {BUDGET_S:.0f} s "
          f"budget")


if __name__ == "__main__":
    main()
