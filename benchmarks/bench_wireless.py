"""The batched wireless network and batched SAC against per-agent loops, side by side.

Two comparisons on the default network (24 users, 6 access points), in one run:

1. environment agent-steps per second: ``WirelessNetwork`` stepping many copies with numpy,
   against ``LoopNetwork`` below, one copy with a Python loop over users and access points
   (the style of a straightforward implementation);
2. training episodes per second: ``train_sac`` (batched, k = 1) against ``loop_sac`` below,
   which trains one episode at a time with a loop over agents, dictionaries as Q tables and
   the authors' step sizes (the same algorithm, written the straightforward way).

Usage: COURSE_LIB_REFERENCE=all python benchmarks/bench_wireless.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from course_lib.envs.wireless import WirelessNetwork, make_grid, neighbourhoods
from course_lib.wireless_sac import SACConfig, train_sac


class LoopNetwork:
    """One copy of the network, stepped user by user (for the comparison only)."""

    def __init__(self, grid, seed=0):
        self.g = grid
        self.rng = np.random.default_rng(seed)
        self.queues = [[0] * grid.deadline for _ in range(grid.n_users)]

    def reset(self):
        for q in self.queues:
            q[:] = [0] * self.g.deadline
            q[-1] = int(self.rng.random() < self.g.arrival_prob)
        return [tuple(q) for q in self.queues]

    def step(self, actions):
        g, claimed = self.g, {}
        for i, a in enumerate(actions):
            slot, ap = g.actions[i, a]
            if ap >= 0:
                claimed[ap] = -2 if ap in claimed else i
        rewards = [0.0] * g.n_users
        for ap, i in claimed.items():
            slot = g.actions[i, actions[i], 0]
            if i >= 0 and self.queues[i][slot] and self.rng.random() < g.success_prob[ap]:
                self.queues[i][slot] = 0
                rewards[i] = 1.0
        for q in self.queues:
            q[:-1] = q[1:]
            q[-1] = int(self.rng.random() < g.arrival_prob)
        return [tuple(q) for q in self.queues], rewards


def loop_sac(grid, k, episodes, seed=0):
    """Scalable Actor-Critic one episode at a time, one agent at a time (dictionaries)."""
    rng = np.random.default_rng(seed)
    env = LoopNetwork(grid, seed)
    n, T, gamma = grid.n_users, grid.horizon, grid.gamma
    near = neighbourhoods(grid.access, k)
    members = [np.flatnonzero(near[i]).tolist() for i in range(n)]
    valid = [np.flatnonzero(grid.valid[i]).tolist() for i in range(n)]
    params = [dict() for _ in range(n)]
    q_tables = [dict() for _ in range(n)]

    def act(i, state):
        theta = params[i].get(state, np.zeros(len(valid[i])))
        p = np.exp(theta - theta.max())
        p /= p.sum()
        return int(rng.choice(len(valid[i]), p=p)), p

    for m in range(episodes):
        states = env.reset()
        history = []
        for t in range(T + 1):
            choices = [act(i, states[i]) for i in range(n)]
            actions = [valid[i][c] for i, (c, _) in enumerate(choices)]
            nxt, rewards = env.step(actions)
            keys = [tuple((states[j], actions[j]) for j in members[i]) for i in range(n)]
            history.append((states, choices, rewards, keys))
            if t > 0:
                alpha = 1 / math.sqrt((m % 100) * T + t)
                _, _, last_r, last_keys = history[-2]
                for i in range(n):
                    old = q_tables[i].get(last_keys[i], 0.0)
                    target = last_r[i] + gamma * q_tables[i].get(keys[i], 0.0)
                    q_tables[i][last_keys[i]] = old + alpha * (target - old)
            states = nxt
        eta = 5 / math.sqrt(m % 100 + 1)
        for i in range(n):
            for t, (s, choices, _, keys) in enumerate(history):
                weight = gamma ** t / n * sum(q_tables[j].get(keys[j], 0.0) for j in members[i])
                c, p = choices[i]
                grad = -p
                grad[c] += 1.0
                theta = params[i].get(s[i], np.zeros(len(valid[i])))
                params[i][s[i]] = theta + eta * weight * grad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="rough time budget of each loop measurement")
    args = parser.parse_args()
    grid = make_grid()
    n = grid.n_users
    rng = np.random.default_rng(0)
    valid = [np.flatnonzero(grid.valid[i]) for i in range(n)]

    # 1. environment speed
    copies = 2000
    env = WirelessNetwork(grid, copies, seed=0, horizon=10**9)
    env.reset()
    actions = np.stack([rng.choice(valid[i], copies) for i in range(n)], 1)
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < args.seconds / 2:
        env.step(actions)
        steps += 1
    batched = steps * copies * n / (time.perf_counter() - start)
    loop_env = LoopNetwork(grid)
    loop_env.reset()
    one = [int(actions[0, i]) for i in range(n)]
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < args.seconds / 2:
        loop_env.step(one)
        steps += 1
    looped = steps * n / (time.perf_counter() - start)
    print(f"environment agent-steps/s: batched ({copies} copies) {batched:,.0f}, "
          f"per-agent loop {looped:,.0f}; ratio {batched / looped:.0f}x")

    # 2. training speed, k = 1
    start, episodes = time.perf_counter(), 0
    while time.perf_counter() - start < args.seconds:
        loop_sac(grid, 1, 20, seed=episodes)
        episodes += 20
    loop_rate = episodes / (time.perf_counter() - start)
    cfg = SACConfig(k=1, episodes=20_000, eval_every=10**9, eval_episodes=1)
    start = time.perf_counter()
    train_sac(grid, cfg, seed=0)
    batched_rate = cfg.episodes / (time.perf_counter() - start)
    print(f"SAC (k = 1) training episodes/s: batched {batched_rate:,.0f}, "
          f"per-agent loop {loop_rate:,.1f}; ratio {batched_rate / loop_rate:.0f}x")


if __name__ == "__main__":
    main()
