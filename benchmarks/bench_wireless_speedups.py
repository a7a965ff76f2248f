"""Chapter 6's speed-up over the authors' training, as two factors measured apart.

(a) ``episodes_ratio``: training episodes until the first evaluation at or above a return of
    0.24 (24 users, k = 1), for each critic (the paper's table, the linear critic) with and
    without the actor's state baseline, over ``--seeds`` seeds. Protocol: an evaluation every
    ``--eval-every`` (200) training episodes, each the mean per-user discounted return of the
    current policies over ``--eval-episodes`` (2,000) fresh episodes. Against it, the authors'
    log (their ``data/Tabular-Access-3-4-1.txt``, a run of 120,000 episodes evaluated every
    2,000): its first evaluation at or above 0.24 comes at 118,000 episodes (0.2405), near
    its plateau. Their coarser evaluation can only delay the first crossing, by less than
    2,000 episodes. The factor is the authors' figure over the median of the runs.
(b) ``episodes_per_cpu_s_ratio``: episodes per CPU-second of the course's batched SAC (the
    paper's table, no baseline: the paper's algorithm, batched) against
    ``authors_sac_loop.py`` (the authors' per-episode, per-agent loop, re-implemented on the
    course's environment), both on this machine in this run, over the same ``--episodes``
    (the authors' tables grow with every episode, so a short run overstates their speed),
    training alone and with evaluations (before training and every 2,000 episodes, on
    ``--loop-eval-episodes`` (400) episodes each, as their script does) included.

The two factors multiply only roughly into a speed-up in CPU time to 0.24: (a) compares
different algorithms' sample efficiency, (b) one algorithm's implementations. Nothing here
is a constant measured elsewhere: each number is measured in this run.

Usage: COURSE_LIB_REFERENCE=all python benchmarks/bench_wireless_speedups.py
       [--seeds 3] [--max-episodes 20000] [--eval-every 200] [--eval-episodes 2000]
       [--episodes 2000] [--loop-eval-episodes 400] [--skip-a] [--skip-b]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course_lib.envs.wireless import discounted_return, make_grid  # noqa: E402
from course_lib.experiments.wireless_sac import TARGET_RETURN as TARGET  # noqa: E402
from course_lib.wireless_sac import SACConfig, episodes_to, train_sac  # noqa: E402

AUTHORS_EPISODES_TO_024 = 118_000  # their log (REFERENCES.md), first evaluation >= 0.24
SETTINGS = {  # the course's settings of each critic (course_lib/experiments/wireless_sac.py)
    "tabular": {"critic": "tabular"},
    "linear": {"critic": "linear", "critic_lr": 0.33},
}


def part_a(args: argparse.Namespace) -> list[str]:
    grid = make_grid()
    lines, medians = [], {}
    for critic, settings in SETTINGS.items():
        for baseline in (True, False):
            found = []
            for seed in range(args.seeds):
                cfg = SACConfig(k=1, baseline=baseline, episodes=args.max_episodes,
                                eval_every=args.eval_every, eval_episodes=args.eval_episodes,
                                **settings)
                found.append(episodes_to(train_sac(grid, cfg, seed), TARGET))
            name = f"{critic}_{'baseline' if baseline else 'nobaseline'}"
            reached = [f for f in found if f is not None]
            medians[name] = (float(np.median(reached)) if len(reached) == len(found)
                             else float("nan"))
            shown = ", ".join("never" if f is None else f"{f:,}" for f in found)
            ratio = (f"episodes_ratio {AUTHORS_EPISODES_TO_024 / medians[name]:.1f}x"
                     if np.isfinite(medians[name]) else "episodes_ratio: not every run got there")
            lines.append(f"  {name:<20} episodes to {TARGET}: {shown}   {ratio}")
    head = (f"(a) episodes to a return of {TARGET} (24 users, k = 1, {args.seeds} seeds, "
            f"evaluated every {args.eval_every} episodes on {args.eval_episodes:,}, at most "
            f"{args.max_episodes:,}); the authors' log: {AUTHORS_EPISODES_TO_024:,} "
            "(evaluated every 2,000 episodes)")
    return [head, *lines]


def part_b(args: argparse.Namespace) -> list[str]:
    try:
        from authors_sac_loop import train_authors_loop
    except ImportError as err:
        return [f"(b) skipped: benchmarks/authors_sac_loop.py is not usable ({err})"]
    grid = make_grid()
    n = args.episodes
    ours = train_sac(grid, SACConfig(k=1, episodes=n, eval_every=n, eval_episodes=1), 0)
    ours_rate = n / ours.cpu_s
    # the authors' evaluation schedule (every 2,000 episodes), on both sides
    evals, size = 1 + n // 2_000, args.loop_eval_episodes
    start = time.process_time()
    for _ in range(evals):
        discounted_return(grid, ours.policy(), size, seed=0)
    ours_eval = time.process_time() - start
    theirs = train_authors_loop(grid, k=1, episodes=n, seed=0, eval_every=min(2_000, n),
                                eval_episodes=size)
    theirs_rate = n / theirs["train_cpu_s"]
    # the same episodes on both sides: the ratio of rates is the ratio of CPU-seconds
    with_eval = (theirs["train_cpu_s"] + theirs["eval_cpu_s"]) / (ours.cpu_s + ours_eval)
    return [
        f"(b) episodes per CPU-second over {n:,} episodes (24 users, k = 1, tabular critic, "
        "this machine, this run)",
        f"  the course's batched SAC: {ours_rate:,.0f} per CPU-s training "
        f"({ours.cpu_s:.1f} s), evaluations {ours_eval:.2f} s",
        f"  the authors' loop: {theirs_rate:,.1f} per CPU-s training "
        f"({theirs['train_cpu_s']:.1f} s), evaluations {theirs['eval_cpu_s']:.2f} s; by "
        "window: " + ", ".join(f"{w['episodes_per_cpu_s']:.1f}" for w in theirs["windows"]),
        f"  episodes_per_cpu_s_ratio {ours_rate / theirs_rate:,.0f}x (training), "
        f"{with_eval:,.0f}x (evaluations included)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-episodes", type=int, default=20_000)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--eval-episodes", type=int, default=2_000)
    parser.add_argument("--episodes", type=int, default=2_000,
                        help="episodes of each side in (b)")
    parser.add_argument("--loop-eval-episodes", type=int, default=400,
                        help="episodes of each evaluation in (b)")
    parser.add_argument("--skip-a", action="store_true")
    parser.add_argument("--skip-b", action="store_true")
    args = parser.parse_args()
    lines = ([] if args.skip_a else part_a(args)) + ([] if args.skip_b else part_b(args))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
