"""Tabular Q-learning: the monolithic baseline of chapter 3.

One central learner keeps a table ``Q[s, a]`` and updates it from every transition. It runs
many episodes side by side (a batch of environments stepping in lockstep) and applies one
batch update per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import check_seed
from .contracts import Array, shape_of
from .exercises import exercise
from .validation import (
    MAX_STEPS,
    as_bool_array,
    as_float_array,
    as_index_array,
    check_callback,
    check_float,
    check_int,
    check_size,
    check_tabular_mdp,
)


def _check_update_args(q: Any, states: Any, actions: Any, rewards: Any, next_states: Any,
                       next_exists: Any, alpha: Any, gamma: Any) -> dict[str, Any]:
    table = as_float_array(q, "q", finite=True)
    if table.ndim != 2 or 0 in table.shape:
        raise ValueError(f"q must have shape (n_states, n_actions), both >= 1, got "
                         f"{table.shape}")
    out: dict[str, Any] = {"q": table}
    shape: tuple[int, ...] | None = None
    for name, value, upper in (("states", states, table.shape[0]),
                               ("actions", actions, table.shape[1]),
                               ("next_states", next_states, table.shape[0])):
        arr = as_index_array(value, name, upper)
        shape = arr.shape if shape is None else shape
        if arr.ndim != 1 or arr.shape != shape:
            raise ValueError(f"{name} must be a 1-D integer array of shape {shape} (that of "
                             f"states), got {arr.shape}")
        out[name] = arr
    out["rewards"] = as_float_array(rewards, "rewards", finite=True)
    if out["rewards"].shape != shape:
        raise ValueError(f"rewards (floats) must have shape {shape}, got "
                         f"{out['rewards'].shape}")
    out["next_exists"] = as_bool_array(next_exists, "next_exists", shape, zero_one=False)
    out["alpha"] = check_float("alpha", alpha, positive=True)
    out["gamma"] = check_float("gamma", gamma, non_negative=True)
    if out["alpha"] > 1 or out["gamma"] > 1:
        raise ValueError("alpha must lie in (0, 1] and gamma in [0, 1]")
    return out


@exercise("3.4", title="A batch of Q-learning updates", validate=_check_update_args,
          returns=Array(shape_of("q")))
def q_learning_update(q: np.ndarray, states: np.ndarray, actions: np.ndarray,
                      rewards: np.ndarray, next_states: np.ndarray, next_exists: np.ndarray,
                      alpha: float, gamma: float) -> np.ndarray:
    """Apply one batch of transitions to a Q table and return the new table.

    The TD error of a transition is ``r + gamma * max_a' q[s', a'] - q[s, a]``, where the max
    term is 0 when ``next_exists`` is False (s' is terminal). All errors use the *old* table.
    Each visited pair moves by ``alpha`` times the **mean** TD error of its transitions in the
    batch; other entries stay as they are. ``q`` itself is not modified.

    Parameters
    ----------
    q : np.ndarray, shape (n_states, n_actions)
    states, actions, next_states : np.ndarray of int, shape (batch,)
    rewards : np.ndarray, shape (batch,)
    next_exists : np.ndarray of bool, shape (batch,)
    alpha : float in (0, 1]
    gamma : float in [0, 1]

    Returns
    -------
    np.ndarray, shape (n_states, n_actions)
    """
    # TODO(exercise 3.4): TD errors from the old table, then one averaged step per visited (s, a); a
    # batch may visit the same pair more than once.
    raise NotImplementedError


@dataclass
class QLearningResult:
    """``q``: the learned tables, shape (runs, n_states, n_actions); ``env_steps`` and
    completed ``episodes`` per run."""

    q: np.ndarray
    env_steps: int
    episodes: int


def run_q_learning(
    mdp: Any,
    gamma: float,
    env_steps: int,
    n_runs: int = 3,
    n_envs: int = 32,
    alpha: float = 0.1,
    epsilon: float = 0.2,
    seed: int = 0,
    callback: Callable[[int], None] | None = None,
) -> QLearningResult:
    """Epsilon-greedy Q-learning (random tie-breaking) for about ``env_steps`` environment
    steps per run.

    ``n_runs`` independent learners, each stepping ``n_envs`` episodes in lockstep. A time
    limit is not a terminal state, so the update bootstraps from the state reached then.
    """
    check_tabular_mdp(mdp)
    env_steps = check_int("env_steps", env_steps, 1, MAX_STEPS)
    n_runs = check_int("n_runs", n_runs, 1)
    n_envs = check_int("n_envs", n_envs, 1)
    check_size("n_runs * n_envs", n_runs * n_envs)
    check_size("n_runs * n_states * n_actions", n_runs * mdp.n_states * mdp.n_actions)
    epsilon = check_float("epsilon", epsilon, non_negative=True)
    alpha = check_float("alpha", alpha, positive=True)
    gamma = check_float("gamma", gamma, non_negative=True)
    if epsilon > 1 or alpha > 1 or gamma > 1:
        raise ValueError("epsilon must lie in [0, 1], alpha in (0, 1] and gamma in [0, 1]")
    check_callback(callback)
    rng = np.random.default_rng(check_seed(seed))
    S, A = mdp.n_states, mdp.n_actions
    tables = np.zeros((n_runs, S, A))
    used = finished = 0
    state = np.full((n_runs, n_envs), mdp.start_state)
    clock = np.zeros((n_runs, n_envs), dtype=int)
    while used < env_steps:
        values = tables[np.arange(n_runs)[:, None], state]
        # Break ties at random: with an all-zero table, "argmax" alone would always pick
        # action 0 and never find a distant reward.
        greedy = np.argmax(values + 1e-9 * rng.random(values.shape), axis=-1)
        explore = rng.random(state.shape) < epsilon
        action = np.where(explore, rng.integers(0, A, state.shape), greedy)
        reward = mdp.rewards[state, action]
        nxt = mdp.transitions[state, action]
        terminal = mdp.terminal[nxt]
        for r in range(n_runs):
            tables[r] = q_learning_update(tables[r], state[r], action[r], reward[r], nxt[r],
                                          ~terminal[r], alpha, gamma)
        clock += 1
        done = terminal | (clock >= mdp.max_steps)
        finished += int(done.sum())
        state = np.where(done, mdp.start_state, nxt)
        clock = np.where(done, 0, clock)
        used += n_envs
        if callback is not None:
            callback(used)
    return QLearningResult(tables, used, finished // n_runs)
