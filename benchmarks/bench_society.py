"""Society training speed relative to tabular Q-learning, measured side by side in one run.

Both learn the chain task of chapter 3 for the same number of environment steps per run.
The society trains every mechanism and seed in one batch of numpy arrays (12 societies of
2 primitives x 2 clones here); Q-learning runs 3 learners, 32 episodes each in lockstep.
Reported: episodes and environment steps per second (all runs together), and the ratios.

Usage: COURSE_LIB_REFERENCE=all python benchmarks/bench_society.py [--iterations 300]
"""

from __future__ import annotations

import argparse
import time

from course_lib.bidders import train_society
from course_lib.envs.toy_mdps import make_task
from course_lib.experiments.society import SETTINGS
from course_lib.q_learning import run_q_learning
from course_lib.society import MECHANISMS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    task, cfg = "chain", SETTINGS["chain"]
    mdp, mechanisms = make_task(task), list(MECHANISMS) * 3

    start = time.perf_counter()
    society = train_society(mdp, mechanisms, 2, cfg["gamma"], iterations=args.iterations,
                            n_envs=cfg["n_envs"], lr=cfg["lr"], sigma=cfg["sigma"])
    t_society = time.perf_counter() - start
    society_episodes = args.iterations * cfg["n_envs"] * len(mechanisms)
    society_steps = int(society.env_steps.sum())

    per_run = int(society.env_steps.mean())
    start = time.perf_counter()
    q = run_q_learning(mdp, cfg["gamma"], per_run, n_runs=3, n_envs=32)
    t_q = time.perf_counter() - start
    q_episodes, q_steps = 3 * q.episodes, 3 * q.env_steps

    print(f"task: {task}; {per_run:,} environment steps per run")
    print(f"{'':<22}{'episodes/s':>14}{'env steps/s':>14}{'wall s':>9}")
    print(f"{'society (12 runs)':<22}{society_episodes / t_society:>14,.0f}"
          f"{society_steps / t_society:>14,.0f}{t_society:>9.2f}")
    print(f"{'Q-learning (3 runs)':<22}{q_episodes / t_q:>14,.0f}{q_steps / t_q:>14,.0f}"
          f"{t_q:>9.2f}")
    episode_ratio = (society_episodes / t_society) / (q_episodes / t_q)
    step_ratio = (society_steps / t_society) / (q_steps / t_q)
    print(f"ratio society / Q-learning: episodes/s {episode_ratio:.2f}, "
          f"env steps/s {step_ratio:.2f}")


if __name__ == "__main__":
    main()
