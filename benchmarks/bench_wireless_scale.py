"""Chapter 6's scaling targets, measured side by side in one run.

1. 24 users, k = 1, 3 seeds x 30,000 episodes: SAC with the linear critic against SAC with
   the tabular critic, both with the actor's state baseline (like for like: the baseline
   alone moves the tabular critic's return about as much as the change of critic does).
2. ``run wireless-scale`` (full: 24 to 6,144 users, 3 seeds): SAC with the linear critic
   over tuned ALOHA at every size, with 95 % intervals over seeds, and over the richer
   ALOHA (a send probability per class of user and queue state, scored on fresh episodes);
   cost per user-episode at the largest size over the smallest; critic memory.

The speed-up over the authors' training is ``bench_wireless_speedups.py``'s: two factors,
each measured in its own run.

Usage: COURSE_LIB_REFERENCE=all python benchmarks/bench_wireless_scale.py [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np

from course_lib.envs.wireless import make_grid
from course_lib.experiments import run_experiment
from course_lib.experiments.wireless_scale import FA_SETTINGS
from course_lib.wireless_sac import SACConfig, train_sac


def _shown(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one seed, 10,000 episodes, scale up to 1,536 users")
    args = parser.parse_args()
    grid = make_grid()
    seeds, episodes = ((0,), 10_000) if args.quick else ((0, 1, 2), 30_000)

    fa, tab = [], []
    for seed in seeds:
        common = {"k": 1, "episodes": episodes, "eval_every": episodes, "eval_episodes": 2_000}
        fa.append(train_sac(grid, SACConfig(**common, **FA_SETTINGS), seed).returns[-1])
        tab.append(train_sac(grid, SACConfig(**common, baseline=True), seed).returns[-1])
    print(f"1. 24 users, k = 1, both critics with the state baseline, {len(seeds)} seed(s) x "
          f"{episodes:,} episodes: linear {np.mean(fa):.3f} ({_shown(fa)}), tabular "
          f"{np.mean(tab):.3f} ({_shown(tab)}); ratio {np.mean(fa) / np.mean(tab):.3f}")

    scale = run_experiment("wireless-scale", quick=args.quick, seed=0)
    print(f"2. after {scale['episodes'][0]:,} episodes, seeds {scale['seeds']}, by users "
          "(mean [95 % interval over seeds]):")
    for i, n in enumerate(scale["n_users"]):
        parts = []
        for key, label in (("returns_fa", "SAC linear"), ("returns_aloha", "tuned ALOHA")):
            ci = scale[f"{key}_ci"][i]
            parts.append(f"{label} {scale[key][i]:.3f}"
                         + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""))
        rich, fresh = scale["returns_aloha_rich"][i], scale["returns_aloha_fresh"][i]
        print(f"   {n:>5,}: {'; '.join(parts)}; SAC / ALOHA "
              f"{scale['returns_fa'][i] / scale['returns_aloha'][i]:.2f} (target >= 1.3); "
              f"fresh episodes: richer ALOHA {rich:.3f} vs plain {fresh:.3f} "
              f"({rich / fresh:.3f}x)")
    cost = scale["cpu_s_per_1000_user_episodes"]
    print(f"   CPU-s per 1,000 user-episodes: {', '.join(f'{c:.4f}' for c in cost)}; "
          f"largest / smallest {cost[-1] / cost[0]:.2f}x (target <= 1.5x)")
    print(f"   critic bytes by users: {', '.join(f'{b:,}' for b in scale['critic_bytes'])}"
          " (fixed during training: see tests/test_linear_critic.py)")
    print(f"   wall time of the sweep: {scale['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
