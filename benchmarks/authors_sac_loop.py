"""The authors' tabular Scalable Actor-Critic loop, re-implemented to time it.

Lin, Qu, Huang and Wierman (NeurIPS 2021) released a tabular Scalable Actor-Critic for the
wireless-access network in ``yihenglin97/Networked-MARL``: the training script is
``WirelessAccess/tabular_access_training.py`` and the network ``WirelessAccess/env_access.py``.
This module redoes, in its own code, what that script does in one training episode, so that its
episodes per CPU-second can be set beside the course's batched ``train_sac`` on one machine.

Faithful to the authors' script (details read from the two files above):

* one episode at a time, one agent at a time in Python: T = 10 steps plus an extra
  (T + 1)-th decision, whose step only gives the critic its next value; every decision is
  softmax sampling from the agent's table of logits over its *own* actions, keyed by its
  local state (the tuple of its d queue bits; an unseen state has all-zero logits), with
  ``scipy.special.softmax`` and a random choice with those probabilities;
* a truncated critic per agent: a Python dict whose key is the tuple, over the agent's
  k-hop neighbours in index order, of (queue tuple, (slot, access point)); unseen keys are
  worth 0. The key is built neighbour by neighbour from the network's numpy state rows, as
  their ``observe_state_action_g`` does, and only written keys enter the dict (so about
  T = 10 new keys per agent per episode while the tables are young);
* TD(0) after every step t = 1..T: ``Q(z(t-1)) += alpha (r(t-1) + gamma Q(z(t)) - Q(z(t-1)))``
  with ``alpha = 1/sqrt((m mod 100) T + t)``, m the episode counter, restarted every 100
  episodes; the reward of the extra decision is never used;
* after the episode, for every agent i and t = 0..T the weight
  ``gamma**t / n * sum over j in N_i^k of Q_j(z_j(t))`` (one dict look-up per (i, j, t), read
  after the episode's critic updates), then ``theta_i[s_i(t)] += eta * weight *
  (onehot(a_i(t)) - softmax(theta_i[s_i(t)]))`` for t in order (so a state seen twice uses the
  logits the earlier t already moved), with ``eta = 5/sqrt((m mod 100) + 1)``;
* a quirk of their environment, kept by default: ``generate_reward`` sets
  ``newGlobalState = globalState`` (the same numpy array) and then moves it on in place, so
  the critic key recorded after step t pairs the neighbours' *next* queues s(t + 1) with
  their actions a(t). ``next_state_keys=False`` gives the paper's (s(t), a(t)) instead;
* their evaluation: mean per-user discounted return ``(1/n) sum_i sum_{t<T} gamma**t r_i(t)``
  over 400 fresh episodes, before training and after every 2000 episodes
  (``eval_every=2000`` here; the speed measurements exclude it).

What differs:

* the environment is this course's ``course_lib.envs.wireless.WirelessNetwork`` (one copy,
  horizon T + 1), stepped once per step, instead of their ``AccessGridEnv``. The dynamics
  agree in distribution: the same 3 x 4 grid with 2 users per cell, d = 2, arrival 0.5,
  success probabilities from ``RandomState(0).rand(6)``, a start with a packet in the last
  slot with probability 0.5, sends from empty slots occupying the channel, collisions when
  two users send to one access point. Ours steps with numpy over all users; theirs loops in
  Python over users and access points and draws a success only for lone valid senders. The
  random streams differ (numpy ``Generator`` objects here, the global legacy generator
  there), so runs are not bit-for-bit the same;
* evaluation uses the course's batched ``discounted_return`` with the current tables (the
  same estimator as their ``eval_policy``, faster; its time is reported separately);
* left out, as they do not change the algorithm: their per-node history accessors, the
  linear search ``actionList.index``, ``tqdm``, the progress file and plot, and the tuning of
  the benchmark policy (the course has ``course_lib.aloha.tune_aloha``).

Usage: COURSE_LIB_REFERENCE=all python benchmarks/authors_sac_loop.py --episodes 2000 --k 1
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import numpy as np
from scipy.special import softmax

from course_lib.envs.wireless import (
    WirelessGrid,
    WirelessNetwork,
    discounted_return,
    make_grid,
    state_index,
)

RESTART = 100  # their restartInterval: step sizes start over every 100 episodes
CRITIC_SCALE = 1.0  # alpha = CRITIC_SCALE / sqrt((m mod RESTART) T + t)
ACTOR_SCALE = 5.0  # eta = ACTOR_SCALE / sqrt((m mod RESTART) + 1)


def k_hop_members(access: np.ndarray, k: int) -> list[list[int]]:
    """Each user's k-hop neighbourhood (itself included) as a list in index order; two users are
    one hop apart when they share an access point."""
    n = access.shape[0]
    one_hop = (access.astype(np.int64) @ access.T.astype(np.int64)) > 0
    reach = np.eye(n, dtype=bool)
    for _ in range(k):
        reach = (reach.astype(np.int64) @ one_hop.astype(np.int64)) > 0
    return [np.flatnonzero(reach[i]).tolist() for i in range(n)]


def table_probs(grid: WirelessGrid, params: list[dict]) -> np.ndarray:
    """(n_users, n_states, n_actions) action probabilities of the logit tables, zero on the
    padding actions; states are indexed as ``state_index`` does."""
    n, d = grid.n_users, grid.deadline
    probs = np.zeros((n, grid.n_states, grid.n_actions))
    for i in range(n):
        own = np.flatnonzero(grid.valid[i])
        for s in range(grid.n_states):
            bits = tuple((s >> slot) & 1 for slot in range(d))
            theta = params[i].get(bits)
            probs[i, s, own] = softmax(theta) if theta is not None else 1.0 / len(own)
    return probs


def table_policy(grid: WirelessGrid, params: list[dict]):
    """The current tables as a batched policy, (queues, rng) -> actions, for evaluation."""
    cum = np.cumsum(table_probs(grid, params), axis=-1)
    users = np.arange(grid.n_users)
    for i in users:  # the last valid action closes the distribution exactly
        cum[i, :, np.flatnonzero(grid.valid[i])[-1]:] = 1.0

    def policy(queues: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        c = cum[users, state_index(queues)]  # (copies, users, n_actions)
        u = rng.random(c.shape[:-1] + (1,))
        return np.argmax(u < c, axis=-1)

    return policy


def train_authors_loop(grid: WirelessGrid, k: int = 1, episodes: int = 1000, seed: int = 0,
                       eval_every: int | None = None, eval_episodes: int = 400,
                       window: int = 200, next_state_keys: bool = True) -> dict[str, Any]:
    """Train the authors' tabular SAC for ``episodes`` episodes, one at a time, and time it.

    Returns a dict with ``episodes``, ``train_cpu_s`` (``time.process_time`` spent training),
    ``eval_cpu_s``, ``episodes_per_cpu_s`` (over the whole run), ``windows`` (one dict per
    ``window`` consecutive episodes: first/last episode, training CPU seconds, episodes per
    CPU-second, critic keys at its end and new keys per user per episode in it),
    ``critic_keys`` and ``actor_states`` at the end, and ``evals``, a list of
    (episodes trained, mean per-user discounted return) when ``eval_every`` is set (before
    training and after every ``eval_every`` episodes, each over ``eval_episodes`` fresh
    episodes).
    """
    n, T, gamma = grid.n_users, grid.horizon, grid.gamma
    members = k_hop_members(grid.access, k)
    own = [np.flatnonzero(grid.valid[i]).tolist() for i in range(n)]  # course action indices
    sizes = [len(a) for a in own]
    # (slot, access point) of every course action index, per user: the action part of a key
    pairs = [[(int(s), int(ap)) for s, ap in grid.actions[i]] for i in range(n)]
    params: list[dict] = [{} for _ in range(n)]  # local state tuple -> logits (own actions)
    critics: list[dict] = [{} for _ in range(n)]  # k-hop (state, action) tuple -> Q
    env = WirelessNetwork(grid, 1, 0.0, seed, horizon=T + 1)
    rng = np.random.default_rng([seed, 1])
    discount = [gamma**t for t in range(T + 1)]

    train_cpu = eval_cpu = win_cpu = 0.0
    windows: list[dict[str, Any]] = []
    evals: list[tuple[int, float]] = []
    keys_before = 0

    def evaluate(done: int) -> None:
        nonlocal eval_cpu
        start = time.process_time()
        ret = discounted_return(grid, table_policy(grid, params), eval_episodes,
                                seed=10**6 + 7919 * seed + done)
        evals.append((done, ret))
        eval_cpu += time.process_time() - start

    if eval_every:
        evaluate(0)
    for m in range(episodes):
        start = time.process_time()
        queues = env.reset()[0]
        states: list[list] = [[] for _ in range(n)]
        choices: list[list[int]] = [[] for _ in range(n)]
        rewards: list[list[float]] = [[] for _ in range(n)]
        keys: list[list] = [[] for _ in range(n)]
        acts = np.zeros((1, n), np.int64)
        base = (m % RESTART) * T
        for t in range(T + 1):
            # every agent observes its own queue and samples from its softmax table
            for i in range(n):
                s = tuple(queues[i])
                theta = params[i].get(s)
                p = softmax(theta if theta is not None else np.zeros(sizes[i]))
                c = int(rng.choice(sizes[i], p=p))
                states[i].append(s)
                choices[i].append(c)
                acts[0, i] = own[i][c]
            nxt, r, _ = env.step(acts)
            nxt, r = nxt[0], r[0]
            seen = nxt if next_state_keys else queues
            a_now = acts[0].tolist()
            for i in range(n):
                rewards[i].append(float(r[i]))
            # each agent's k-hop key for this step; from t = 1 on, TD(0) on the previous key
            for i in range(n):
                z = tuple((tuple(seen[j]), pairs[j][a_now[j]]) for j in members[i])
                if t > 0:
                    alpha = CRITIC_SCALE / math.sqrt(base + t)
                    table, prev = critics[i], keys[i][-1]
                    old = table.get(prev, 0.0)
                    table[prev] = old + alpha * (rewards[i][-2] + gamma * table.get(z, 0.0) - old)
                keys[i].append(z)
            queues = nxt
        # actor: each agent's gradient step, weighted by its neighbours' critic values
        eta = ACTOR_SCALE / math.sqrt(m % RESTART + 1)
        for i in range(n):
            weight = [0.0] * (T + 1)
            for j in members[i]:
                table, zs = critics[j], keys[j]
                for t in range(T + 1):
                    weight[t] += table.get(zs[t], 0.0)
            for t in range(T + 1):
                weight[t] *= discount[t] / n
            logits = params[i]
            for t in range(T + 1):
                s = states[i][t]
                theta = logits.get(s)
                if theta is None:
                    theta = np.zeros(sizes[i])
                grad = -softmax(theta)
                grad[choices[i][t]] += 1.0
                logits[s] = theta + eta * weight[t] * grad
        spent = time.process_time() - start
        train_cpu += spent
        win_cpu += spent
        done = m + 1
        if done % window == 0 or done == episodes:
            size = done - (windows[-1]["last"] if windows else 0)
            keys_now = sum(len(q) for q in critics)
            windows.append({"first": done - size + 1, "last": done, "train_cpu_s": win_cpu,
                            "episodes_per_cpu_s": size / win_cpu if win_cpu > 0 else math.inf,
                            "critic_keys": keys_now,
                            "new_keys_per_user_episode": (keys_now - keys_before) / (n * size)})
            keys_before, win_cpu = keys_now, 0.0
        if eval_every and done % eval_every == 0:
            evaluate(done)
    return {"episodes": episodes, "k": k, "seed": seed, "train_cpu_s": train_cpu,
            "eval_cpu_s": eval_cpu,
            "episodes_per_cpu_s": episodes / train_cpu if train_cpu > 0 else math.inf,
            "windows": windows, "critic_keys": sum(len(q) for q in critics),
            "actor_states": sum(len(p) for p in params), "evals": evals,
            "next_state_keys": next_state_keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--k", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=None,
                        help="evaluate before training and after every this many episodes "
                             "(the authors: 2000)")
    parser.add_argument("--eval-episodes", type=int, default=400)
    parser.add_argument("--window", type=int, default=200,
                        help="episodes per speed window")
    parser.add_argument("--current-state-keys", action="store_true",
                        help="key the critic on (s(t), a(t)) instead of the authors' "
                             "(s(t + 1), a(t))")
    args = parser.parse_args()
    grid = make_grid()
    out = train_authors_loop(grid, args.k, args.episodes, args.seed, args.eval_every,
                             args.eval_episodes, args.window, not args.current_state_keys)
    print(f"authors' tabular SAC loop, k = {out['k']}, seed {out['seed']}, "
          f"{grid.n_users} users; critic keys from "
          f"{'s(t+1), a(t)' if out['next_state_keys'] else 's(t), a(t)'}")
    print(f"episodes {out['episodes']}: training {out['train_cpu_s']:.2f} CPU-s "
          f"({out['episodes_per_cpu_s']:.1f} episodes per CPU-s), evaluation "
          f"{out['eval_cpu_s']:.2f} CPU-s")
    print("  episodes        CPU-s  episodes/CPU-s  critic keys  new keys/user/episode")
    for w in out["windows"]:
        print(f"  {w['first']:>6}-{w['last']:<6} {w['train_cpu_s']:7.2f} "
              f"{w['episodes_per_cpu_s']:14.1f} {w['critic_keys']:12,d} "
              f"{w['new_keys_per_user_episode']:22.2f}")
    print(f"critic keys at the end: {out['critic_keys']:,} "
          f"({out['critic_keys'] / grid.n_users:,.0f} per user); actor states "
          f"{out['actor_states']}")
    for done, ret in out["evals"]:
        print(f"  after {done:>6} episodes: mean per-user discounted return {ret:.4f}")


if __name__ == "__main__":
    main()
