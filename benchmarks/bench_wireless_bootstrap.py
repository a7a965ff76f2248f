"""Does the critic's bootstrapping matter anywhere on chapter 6's network?

On the authors' network a critic whose TD target drops the next step's value
(``SACConfig(critic_gamma=0)``: a model of the immediate reward) trains the actor about as
well as one that bootstraps (notebook 06, section 8). Settings where the future should
matter more are tried here: a larger discount, a longer horizon, longer deadlines (a user
that holds several packets can choose which to send, and when). For each: SAC with k = 1,
the linear critic and the state baseline, ``--seeds`` seeds x ``--episodes`` episodes,
bootstrapping (critic_gamma = the network's gamma) against not (0), as paired per-seed
differences with a 95 % t-interval, beside the tuned ALOHA-like benchmark (one send
probability, grid search on 2,000 episodes of seed 0). The tabular critic is left out: on
this network it needs about ten times the CPU per episode.

Usage: COURSE_LIB_REFERENCE=all python benchmarks/bench_wireless_bootstrap.py
       [--seeds 3] [--episodes 20000]
"""

from __future__ import annotations

import argparse

import numpy as np

from course_lib.aloha import tune_aloha
from course_lib.envs.wireless import make_grid
from course_lib.experiments.wireless_sac import FA_SETTINGS
from course_lib.stats import ci95_half_width
from course_lib.wireless_sac import SACConfig, train_sac

SETTINGS = ({}, {"gamma": 0.9}, {"gamma": 0.95, "horizon": 20}, {"deadline": 3},
            {"deadline": 4})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--episodes", type=int, default=20_000)
    args = parser.parse_args()
    print(f"k = 1, linear critic + baseline, {args.seeds} seeds x {args.episodes:,} episodes; "
          "returns per user (mean over seeds)")
    for changes in SETTINGS:
        grid = make_grid(**changes)
        got = {}
        for name, critic_gamma in (("bootstrap", grid.gamma), ("gamma0", 0.0)):
            got[name] = np.array([
                train_sac(grid, SACConfig(k=1, episodes=args.episodes,
                                          eval_every=args.episodes, critic_gamma=critic_gamma,
                                          **FA_SETTINGS), seed).returns[-1]
                for seed in range(args.seeds)])
        gain = got["bootstrap"] - got["gamma0"]
        best, aloha = tune_aloha(grid, episodes=2_000, seed=0)
        shown = ", ".join(f"{k} = {v}" for k, v in changes.items()) or "the authors' network"
        print(f"  {shown:<28} bootstrap {got['bootstrap'].mean():.3f}, critic_gamma 0 "
              f"{got['gamma0'].mean():.3f}; gain {gain.mean():+.4f} ± "
              f"{ci95_half_width(gain):.4f} (per seed {', '.join(f'{g:+.3f}' for g in gain)}); "
              f"tuned ALOHA {aloha[best]:.3f} (p_send {best})")


if __name__ == "__main__":
    main()
