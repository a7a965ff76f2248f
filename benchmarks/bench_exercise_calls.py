"""What an exercise call and a first check() cost, natively (the in-browser chapters pay
several times more for each).

1. With the references on, every exercise call asks whether this copy holds the solutions.
   Printed side by side: the question asked of the file system (as every call did before
   the answer was kept) and asked again (``exercises.solutions_available``, kept until
   ``sys.path`` or ``sys.modules["solutions"]`` changes). Target: <= 5 us per call.
2. The whole cost an exercise's wrapper adds to the reference (argument validation, the
   switch, the check of what comes back), for one small auction: reported, no target.
3. The first ``check("1.1")`` in a fresh Python, on the exercise's stub (a failing check: the
   case where Hypothesis explains a failure), under the course's Hypothesis profile and under
   the browser's (no explain phase), each the median of --repeats fresh processes.

Usage: COURSE_LIB_REFERENCE=all python benchmarks/bench_exercise_calls.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import timeit
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIRST_CHECK = ("import time; t = time.perf_counter(); from course_lib import check; "
               "check('1.1'); print('SECONDS', time.perf_counter() - t)")


def per_call_us(function, number: int) -> float:
    """Microseconds per call, the best of five rounds of ``number`` calls."""
    return 1e6 * min(timeit.repeat(function, number=number, repeat=5)) / number


def first_check_s(profile: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        env = {**os.environ, "HYPOTHESIS_PROFILE": profile, "COURSE_LIB_REFERENCE": "",
               "MPLBACKEND": "Agg"}
        done = subprocess.run([sys.executable, "-c", FIRST_CHECK], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600, check=True)
        times.append(float(done.stdout.rsplit("SECONDS", 1)[1]))
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from course_lib import exercises, use_reference
    from course_lib.auctions import vickrey_auction
    from solutions.auctions import vickrey_auction as reference

    use_reference("1.2")
    searched = per_call_us(exercises._find_solutions, 2_000)
    kept = per_call_us(exercises.solutions_available, 200_000)
    print(f"1. is there a solutions/ folder? searched {searched:.1f} us, kept "
          f"{kept:.2f} us per call ({searched / kept:,.0f}x; target <= 5 us: "
          f"{'met' if kept <= 5 else 'NOT met'})")
    bids = np.array([0.2, 0.7, 0.5])
    wrapped = per_call_us(lambda: vickrey_auction(bids), 5_000)
    direct = per_call_us(lambda: reference(bids), 5_000)
    print(f"2. vickrey_auction on 3 bids: {wrapped:.1f} us through the exercise, {direct:.1f} us "
          f"the reference alone: {wrapped - direct:.1f} us added (validation, switch, check of "
          "the result)")
    started = time.perf_counter()
    course, browser = first_check_s("course", args.repeats), first_check_s("browser", args.repeats)
    print(f"3. first check('1.1') in a fresh Python (median of {args.repeats}): {course:.2f} s "
          f"with the course's Hypothesis profile, {browser:.2f} s with the browser's "
          f"(no explain phase); {time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
