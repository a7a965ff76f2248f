"""How long the autograder takes for a class: seconds per complete, correct submission
(public and hidden tests) graded one at a time and ``--jobs`` at a time, and the projection to
a class of 200 against the target of 30 minutes, side by side in one run. Grading runs in the
bubblewrap sandbox (``make sandbox-setup``). A batch's one-off work (collecting the tests,
drawing the property tests' examples against the references) is timed apart and counted once
in the projection: 200 submissions take the one-off work plus 200 times the rest per
submission.

Usage: python benchmarks/bench_grade.py [--batch N] [--jobs J] [--baseline REV]
                                        (needs the repository copy: solutions/)

``--batch N`` (default 4) grades N copies of the submission with ``grade_folder`` (no cache:
every one is graded) serially and then J at a time. ``--baseline REV`` also grades the same
batch with the grader of git revision REV (exported to a temporary folder), serially, as it
was: the speed-up is measured, not remembered.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from grading_fixtures import make_submission  # noqa: E402

from classroom.grade import JudgeServer, expected_tests, grade_folder  # noqa: E402

CLASS = 200
TARGET_S = 30 * 60.0

# Runs in an exported old revision: its own grade_folder, serial (its signature then).
_BASELINE = """
import inspect, sys, time
from pathlib import Path
from classroom.grade import expected_tests, grade_folder
start = time.perf_counter()
expected_tests(hidden=True)
collect = time.perf_counter() - start
# every copy graded: a grader with a cache of unchanged submissions does not use it here
fresh = {"cache": False} if "cache" in inspect.signature(grade_folder).parameters else {}
grade_folder(Path(sys.argv[1]), Path(sys.argv[2]), hidden=True, **fresh)
print(collect, time.perf_counter() - start)
"""


def baseline_seconds(rev: str, batch: Path, out: Path) -> tuple[float, float]:
    """Seconds the grader of ``rev`` takes to collect the tests and, in all, for ``batch``,
    run from an export of ``rev``."""
    with tempfile.TemporaryDirectory(prefix="grader-baseline-") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        env = {**os.environ, "PYTHONPATH": tmp}
        done = subprocess.run([sys.executable, "-c", _BASELINE, str(batch), str(out)],
                              cwd=tmp, env=env, capture_output=True, text=True, check=True)
        collect, seconds = done.stdout.strip().splitlines()[-1].split()
        return float(collect), float(seconds)


def line(label: str, seconds: float, n: int, once: float = 0.0) -> str:
    per = (seconds - once) / n
    projection = once + CLASS * per
    return (f"{label:<34} {per:6.1f} s per submission; {CLASS} submissions: "
            f"{projection / 60:5.1f} min ({projection / TARGET_S:.2f} of the "
            f"{TARGET_S / 60:.0f} min target)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4, help="submissions in the batch")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at a time")
    parser.add_argument("--baseline", metavar="REV", help="also time the grader of REV")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    expected_tests(hidden=True)  # the one-off collection pass of a grading session
    collect = time.perf_counter() - start
    lines = [f"collection pass (once per grading session): {collect:.1f} s"]
    recording: list[float] = []  # the examples drawn once per batch, timed apart
    record = JudgeServer.record_examples

    def timed_record(self: JudgeServer, *args: object, **kwargs: object) -> int:
        begin = time.perf_counter()
        try:
            return record(self, *args, **kwargs)
        finally:
            recording.append(time.perf_counter() - begin)

    JudgeServer.record_examples = timed_record  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        submission = make_submission(Path(tmp) / "student")
        batch = Path(tmp) / "batch"
        for i in range(args.batch):
            shutil.copytree(submission, batch / f"student_{i:02d}")
        if args.baseline:
            once, seconds = baseline_seconds(args.baseline, batch, Path(tmp) / "old")
            lines.append(line(f"grader of {args.baseline}, serial", seconds, args.batch, once)
                         + f"  [once per batch: {once:.1f} s]")
        for jobs in (1, args.jobs):
            start = time.perf_counter()
            csv_path = grade_folder(batch, Path(tmp) / f"grades_{jobs}", hidden=True,
                                    jobs=jobs, cache=False)
            seconds = time.perf_counter() - start
            rows = list(csv.DictReader(open(csv_path)))
            wrong = [r["student"] for r in rows if r["score"] != r["max_score"] or r["problem"]]
            if len(rows) != args.batch or wrong:  # a fast grader that grades wrong is no use
                sys.exit(f"--jobs {jobs}: not every submission got full marks: {wrong}")
            once = recording[-1] + collect
            lines.append(line(f"this grader, --jobs {jobs}", seconds + collect, args.batch, once)
                         + f"  [once per batch: {once:.1f} s]")
    print(f"{args.batch} full submissions (public and hidden tests), {os.cpu_count()} cores")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
