"""Batched auctions vs one auction at a time, measured side by side in one run.

Chapter 1's learners play millions of auctions; they can because every function in
``course_lib.auctions`` takes a whole batch. This script reports auctions per second for the
batched call and for a plain Python loop over the same auctions, and their ratio.

Usage: COURSE_LIB_REFERENCE=all python benchmarks/bench_auctions.py [--batch 100000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from course_lib.auctions import auction_utilities


def loop_utilities(values: np.ndarray, bids: np.ndarray) -> np.ndarray:
    """The same Vickrey utilities, one auction at a time in plain Python."""
    out = np.zeros_like(values)
    for k in range(bids.shape[0]):
        row = list(bids[k])
        winner = row.index(max(row))
        others = row[:winner] + row[winner + 1:]
        out[k, winner] = values[k, winner] - (max(others) if others else 0.0)
    return out


def best_of(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--bidders", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    values = rng.random((args.batch, args.bidders))
    bids = values * rng.uniform(0.5, 1.0, values.shape)
    batched = auction_utilities(values, bids, "vickrey")
    assert np.allclose(batched, loop_utilities(values, bids)), "the two disagree"
    t_batched = best_of(lambda: auction_utilities(values, bids, "vickrey"))
    t_loop = best_of(lambda: loop_utilities(values, bids), repeats=1)
    print(f"auctions: {args.batch:,} with {args.bidders} bidders (Vickrey utilities)")
    print(f"batched numpy : {args.batch / t_batched:14,.0f} auctions/s")
    print(f"python loop   : {args.batch / t_loop:14,.0f} auctions/s")
    print(f"speed-up      : {t_loop / t_batched:14.1f} x")


if __name__ == "__main__":
    main()
