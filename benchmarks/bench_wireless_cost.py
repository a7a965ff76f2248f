"""Cost per user-episode of chapter 6's training, 24 to 6,144 users, measured side by side.

Target: SAC with the linear critic (k = 1, the state baseline: ``run wireless-scale``'s
runs) costs at most 1.5x as much process time per user-episode on 6,144 users as on 24.
``run wireless-scale`` reports the same figure from runs of very different lengths (seconds on
24 users, minutes on 6,144), at different moments of a long sweep; here every size trains
for the same number of user-episodes, the sizes take turns and each is measured several
times, so a burst of load elsewhere on the machine moves one repeat, not one size.

Prints, by size, the median and the range over repeats of training CPU ms per 1,000
user-episodes (``train_sac``'s own clock: evaluations excluded) and the median of the
per-repeat ratios to the smallest size.

Usage: COURSE_LIB_REFERENCE=all python benchmarks/bench_wireless_cost.py [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np

from course_lib.envs.wireless import make_grid
from course_lib.experiments.wireless_sac import FA_SETTINGS
from course_lib.experiments.wireless_scale import GRIDS, K
from course_lib.wireless_sac import SACConfig, train_sac

BATCH = SACConfig().batch


def cost_ms(grid, user_episodes: int, seed: int) -> float:
    """Training CPU ms per 1,000 user-episodes of one run of about ``user_episodes``."""
    batches = max(2, round(user_episodes / (BATCH * grid.n_users)))
    episodes = batches * BATCH
    cfg = SACConfig(k=K, episodes=episodes, eval_every=episodes, eval_episodes=1, **FA_SETTINGS)
    run = train_sac(grid, cfg, seed)
    return 1e6 * run.cpu_s / (episodes * grid.n_users)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="24 and 1,536 users, 2 repeats of 0.6 M user-episodes")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--user-episodes", type=int, default=None,
                        help="per run (default 2.5 M; quick 0.6 M)")
    args = parser.parse_args()
    grids = [make_grid(h, w) for h, w in (GRIDS[::3] if args.quick else GRIDS)]
    repeats = args.repeats or (2 if args.quick else 3)
    work = args.user_episodes or (600_000 if args.quick else 2_500_000)
    costs = {g.n_users: [] for g in grids}
    for r in range(repeats):
        for grid in grids:  # the sizes take turns
            costs[grid.n_users].append(cost_ms(grid, work, seed=r))
    small = grids[0].n_users
    print(f"CPU ms per 1,000 user-episodes, SAC linear critic k = {K} + baseline, batches of "
          f"{BATCH}, about {work:,} user-episodes per run, {repeats} repeats (median [min, max]):")
    for n, values in costs.items():
        ratios = np.array(values) / np.array(costs[small])
        print(f"  {n:>5,} users: {np.median(values):.2f} [{min(values):.2f}, {max(values):.2f}]"
              f"; / {small} users: {np.median(ratios):.2f}x [{ratios.min():.2f}, "
              f"{ratios.max():.2f}]")
    largest = grids[-1].n_users
    ratio = float(np.median(np.array(costs[largest]) / np.array(costs[small])))
    print(f"cost_ratio_largest_smallest {ratio:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
