"""Two Rooms speed next to MiniGrid's own Empty-8x8, and PPO samples/s, in one run.

Reports random-action environment steps per second for ``MiniGrid-Empty-8x8-v0``, for the
raw Two Rooms environment and for Two Rooms behind ``CompactObservation`` (what the learners
use) and behind its image view (``observation="pixels"``), with ratios; then PPO training
samples per second on the door task, and the training speed of chapter 4's option learners
(environment steps per second, society and hierarchical) on the compact view and on the image
view with CNNs, side by side.

Usage: COURSE_LIB_REFERENCE=all python benchmarks/bench_two_rooms.py [--steps 20000]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import minigrid  # noqa: F401  (registers MiniGrid-Empty-8x8-v0)
import numpy as np
import torch

from course_lib.envs.two_rooms import ENV_IDS, make_two_rooms
from course_lib.ppo import PPOConfig, train_ppo
from course_lib.transfer import train_phase


def steps_per_second(env: gym.Env, n_actions: int, steps: int) -> float:
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(int(rng.integers(n_actions)))
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    empty = steps_per_second(gym.make("MiniGrid-Empty-8x8-v0"), 3, args.steps)
    raw = steps_per_second(gym.make(ENV_IDS["green"]), 3, args.steps)
    compact = steps_per_second(make_two_rooms("green"), 4, args.steps)
    image = steps_per_second(make_two_rooms("green", observation="pixels"), 4, args.steps)
    print(f"{'environment':<34}{'steps/s':>10}{'vs Empty-8x8':>14}")
    for name, rate in (("MiniGrid-Empty-8x8-v0", empty), ("Two Rooms (MiniGrid observation)", raw),
                       ("Two Rooms + CompactObservation", compact),
                       ("Two Rooms, image view", image)):
        print(f"{name:<34}{rate:>10,.0f}{rate / empty:>14.2f}")
    start = time.perf_counter()
    _, log = train_ppo(lambda: make_two_rooms("door"), args.steps, PPOConfig(), seed=0)
    rate = log.steps[-1] / (time.perf_counter() - start)
    print(f"PPO on the door task: {rate:,.0f} samples/s (rollout + update), "
          f"{rate / compact:.2f} of the compact environment's raw speed")
    for method in ("society", "hierarchical"):
        rates = {}
        for observation in ("compact", "pixels"):
            start = time.perf_counter()
            _, log = train_phase(method, "green", args.steps, seed=0, observation=observation)
            rates[observation] = log.steps[-1] / (time.perf_counter() - start)
        print(f"{method} training on reach-green: {rates['compact']:,.0f} env steps/s on the "
              f"compact view, {rates['pixels']:,.0f} on the image view with CNNs "
              f"({rates['pixels'] / rates['compact']:.2f}x)")


if __name__ == "__main__":
    main()
