"""Chapter 6's hand-designed baseline: an ALOHA-like random-access rule (Qu, Wierman, Li).

Every user follows the same simple rule, with no learning: if it holds a packet, it sends the
one closest to its deadline with probability ``p_send``, to an access point drawn in
proportion to ``q_k / (users k serves)`` (good and lightly loaded points are preferred). The
one parameter ``p_send`` is tuned by grid search, which gives the baseline its best shot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .contracts import Array, shape_of
from .envs.wireless import (
    MAX_REACH,
    Policy,
    WirelessGrid,
    WirelessNetwork,
    check_copies,
    check_grid,
    discounted_return,
)
from .exercises import exercise
from .validation import as_bool_array, as_float_array, check_int, check_rng, check_unit

SEND_PROBS = tuple(round(0.05 * k, 2) for k in range(20))  # 0, 0.05, ..., 0.95


def access_point_weights(grid: WirelessGrid) -> np.ndarray:
    """(n_users, MAX_REACH): the probability of choosing each of a user's reachable access
    points (in the order of ``grid.access``), proportional to ``q_k / users served by k``;
    zero for padding."""
    check_grid(grid)
    served = grid.access.sum(0)
    weights = np.zeros((grid.n_users, MAX_REACH))
    for i in range(grid.n_users):
        aps = np.flatnonzero(grid.access[i])
        w = grid.success_prob[aps] / served[aps]
        weights[i, :len(aps)] = w / w.sum() if w.sum() > 0 else 1.0 / len(aps)
    return weights


def _check_aloha_args(queues: Any, weights: Any, p_send: Any, rng: Any) -> dict[str, Any]:
    q = as_bool_array(queues, "queues")
    if q.ndim != 3:
        raise ValueError(f"queues must have shape (copies, users, d), got {q.shape}")
    w = as_float_array(weights, "weights", finite=True)
    if w.shape != (q.shape[1], MAX_REACH):
        raise ValueError(f"weights must have shape ({q.shape[1]}, {MAX_REACH}), a row per user "
                         f"of queues, got {w.shape}")
    if (w < 0).any() or not np.allclose(w.sum(1), 1.0):
        raise ValueError("weights must be non-negative with rows summing to 1 "
                         "(access_point_weights)")
    # rows that sum to 1 only nearly would let a draw land past a user's last access point
    w = w / w.sum(1, keepdims=True)
    p = check_unit("p_send", p_send)
    return {"queues": q.astype(np.uint8), "weights": w, "p_send": p, "rng": check_rng(rng)}


@exercise("6.2", title="The ALOHA-like benchmark", validate=_check_aloha_args,
          returns=Array(shape_of("queues", slice(None, 2)), "int", low=0))
def aloha_actions(queues: np.ndarray, weights: np.ndarray, p_send: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Every user's action under the ALOHA-like rule, for a batch of network copies.

    A user with at least one packet sends, with probability ``p_send``, the packet with the
    fewest steps left (its lowest occupied slot) to one of its access points, the r-th with
    probability ``weights[i, r]``; otherwise (or with no packet) it waits.

    Parameters
    ----------
    queues : np.ndarray of 0/1, shape (copies, users, d)
    weights : np.ndarray, shape (users, 4), rows summing to 1 (``access_point_weights``)
    p_send : float in [0, 1]
    rng : np.random.Generator

    Returns
    -------
    np.ndarray of int, shape (copies, users)
        Action indices: 0 waits, ``1 + slot * 4 + r`` sends ``slot`` to the user's r-th
        access point (see ``WirelessGrid.actions``).
    """
    # TODO(exercise 6.2): per (copy, user): the most urgent packet, whether to send it and to which
    # access point; every random draw comes from rng.
    raise NotImplementedError


def aloha_policy(grid: WirelessGrid, p_send: float) -> Policy:
    """The ALOHA-like rule with send probability ``p_send`` as a policy for ``grid``."""
    weights = access_point_weights(grid)
    p_send = check_unit("p_send", p_send)
    return lambda queues, rng: aloha_actions(queues, weights, p_send, rng)


def tune_aloha(grid: WirelessGrid, send_probs: Sequence[float] = SEND_PROBS,
               episodes: int = 2000, seed: int = 0,
               link_prob: float = 0.0) -> tuple[float, dict[float, float]]:
    """Grid search over ``send_probs``: the best ``p_send`` and the return of every one."""
    if isinstance(send_probs, (str, bytes)) or not hasattr(send_probs, "__iter__"):
        raise TypeError(f"send_probs must be a list of probabilities, got {send_probs!r:.80}")
    send_probs = [check_unit("send_probs entry", p) for p in send_probs]
    if not send_probs:
        raise ValueError("send_probs must list at least one probability")
    returns = {float(p): discounted_return(grid, aloha_policy(grid, p), episodes, seed,
                                           link_prob) for p in send_probs}
    return max(returns, key=returns.get), returns


def stale_start_return(grid: WirelessGrid, p_send: float, episodes: int = 2000,
                       rounds: int = 4, seed: int = 0) -> float:
    """The benchmark's return as the authors' evaluation measures it: each episode's first
    decision reads the queue the *previous* episode ended with (their loop computes the
    action before it resets the state). ``episodes`` are played as ``rounds`` consecutive
    episodes in each of ``episodes // rounds`` network copies; the first episode of a copy
    reads an empty queue. For comparison with ``discounted_return``, which is correct."""
    episodes = check_copies("episodes", episodes, check_grid(grid))
    rounds = check_int("rounds", rounds, 1, episodes)
    copies = max(1, episodes // rounds)
    env = WirelessNetwork(grid, copies, 0.0, check_int("seed", seed, 0))
    rng = np.random.default_rng(seed + 1)
    policy = aloha_policy(grid, p_send)
    previous = np.zeros_like(env.queues)
    total = 0.0
    for _ in range(rounds):
        queues = env.reset()
        episode = np.zeros(copies)
        for t in range(grid.horizon):
            queues, rewards, _ = env.step(policy(previous if t == 0 else queues, rng))
            episode += grid.gamma ** t * rewards.mean(1)
        previous = queues
        total += episode.mean()
    return total / rounds


def send_prob_grid(step: float) -> tuple[float, ...]:
    """Send probabilities 0, step, 2 step, ..., 1 (``step`` must divide 1)."""
    step = check_unit("step", step, positive=True)
    count = round(1 / step)
    if abs(count * step - 1) > 1e-9:
        raise ValueError(f"step must divide 1 (0.05, 0.1, 0.25, ...), got {step}")
    return tuple(round(step * k, 4) for k in range(count + 1))


RICH_SEND_PROBS = send_prob_grid(0.05)  # 0, 0.05, ..., 1


def user_classes(grid: WirelessGrid) -> tuple[np.ndarray, list[int]]:
    """Each user's class, the index into the sorted list of how many access points users
    reach (returned second: on the course's grids [1, 2, 4], corner, edge and inner cells)."""
    check_grid(grid)
    reach = grid.access.sum(1)
    counts = sorted({int(r) for r in reach})
    return np.searchsorted(counts, reach), counts


def rich_aloha_policy(grid: WirelessGrid, table: Any) -> Policy:
    """The ALOHA-like rule with a send probability per (user class, queue state):
    ``table[c, s - 1]`` for a user of class c (``user_classes``) whose occupied slots, as
    bits (slot j -> 2**j), add up to s >= 1. Which packet and which access point: as in
    ``aloha_actions``; the decision to send is drawn apart, so a table of one value p is
    the rule with ``p_send = p``."""
    classes, counts = user_classes(grid)
    table = as_float_array(table, "table", finite=True)
    states = 2 ** grid.deadline - 1
    if table.shape != (len(counts), states):
        raise ValueError(f"table must have shape ({len(counts)}, {states}): a row per class of "
                         f"user (reaching {counts} access points), a column per non-empty "
                         f"queue state, got {table.shape}")
    if (table < 0).any() or (table > 1).any():
        raise ValueError("table must hold probabilities in [0, 1]")
    weights = access_point_weights(grid)
    bits = 2 ** np.arange(grid.deadline)
    padded = np.concatenate([np.zeros((len(counts), 1)), table], 1)  # an empty queue waits

    def policy(queues: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        state = (np.asarray(queues, dtype=np.int64) * bits).sum(-1)
        chosen = aloha_actions(queues, weights, 1.0, rng)
        send = rng.random(chosen.shape) < padded[classes, state]
        return np.where(send, chosen, 0)
    return policy


def tune_rich_aloha(grid: WirelessGrid, start: float, episodes: int = 2000, seed: int = 0,
                    link_prob: float = 0.0, sweeps: int = 2,
                    values: Sequence[float] = RICH_SEND_PROBS) -> tuple[np.ndarray, float]:
    """Coordinate ascent on ``rich_aloha_policy``'s table from every entry at ``start``
    (e.g. ``tune_aloha``'s best): each entry in turn takes the best of ``values``, the others
    held, ``sweeps`` times over; every policy is scored on the same ``episodes`` (seed
    ``seed``). Returns the table and its return on those episodes, which the search chose,
    so it overstates: score the table on fresh episodes."""
    start = check_unit("start", start)
    sweeps = check_int("sweeps", sweeps, 1)
    values = [check_unit("values entry", v) for v in values]
    if not values:
        raise ValueError("values must list at least one probability")
    classes, counts = user_classes(grid)
    table = np.full((len(counts), 2 ** grid.deadline - 1), start)

    def score(candidate: np.ndarray) -> float:
        return discounted_return(grid, rich_aloha_policy(grid, candidate), episodes, seed,
                                 link_prob)
    best = score(table)
    for _ in range(sweeps):
        for entry in np.ndindex(table.shape):
            for value in values:
                if value == table[entry]:
                    continue
                candidate = table.copy()
                candidate[entry] = value
                got = score(candidate)
                if got > best:
                    best, table = got, candidate
    return table, best
