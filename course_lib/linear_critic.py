"""A truncated critic with function approximation: linear in features of the k-hop neighbourhood.

The tabular truncated critic (``wireless_sac.TruncatedCritic``) keeps one entry per visited
configuration of N_i^k, and on the wireless network almost every configuration is visited
once: it never averages anything. Lin et al. name function approximation as the open problem.
This critic is one answer. User i's critic is

    Q_i(z_i) = W_i[c_i] . x_i(z_i)

where ``c_i = s_i * n_actions + a_i`` codes i's own local state and action, and ``x_i`` holds
``1 + k`` indicators, each a function of the states and actions in N_i^k only (so the critic
stays truncated):

* ``1``: with nothing else (k = 0) this is exactly the table over i's own (s_i, a_i);
* ``clear_1``: i sends, and no other user one hop away sends to the same access point (the
  channel is free: only one-hop neighbours can collide with i);
* ``clear_h`` for h = 2..k: i sends, and no user exactly h hops away sends at all (with the
  random links of ``envs.wireless``, a two-hop user that sends may jam i).

Each own code has its own weights, so "sending slot 1 to access point 3 while the channel
is clear" gets its own value. Parameters are per user (access points differ in quality, so
users are not interchangeable): ``n_users * n_states * n_actions * (1 + k)`` numbers, fixed by
the network whatever the number of episodes.

We tried richer summaries too (the fraction of the users at each hop in each local state, and
the fraction that send): the actor learned worse (24 users, k = 1, no baseline, one seed,
15,000 episodes: at most 0.17 against 0.25 with ``clear`` alone). Our reading: a neighbour's
value that falls whenever *anyone* near it sends teaches i to stop sending, also where it
collides with no one; the critic's errors become the actor's.

Training (exercise 6.6) is batched TD(0) with a step normalised per feature, so that every
weight learns at the pace of its own feature's samples (``clear`` is rare early on); for
``x = [1]`` it is exactly the tabular update of exercise 6.3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .contracts import Array, shape_of
from .envs.wireless import WirelessGrid, check_grid, check_states_actions, neighbour_lists
from .exercises import exercise
from .validation import (
    as_float_array,
    as_index_array,
    check_finite,
    check_int,
    check_size,
    check_unit,
)


class LinearCritic:
    """All users' linear truncated critics (see the module docstring)."""

    def __init__(self, grid: WirelessGrid, k: int) -> None:
        self.grid = check_grid(grid)
        # one feature per hop: a radius beyond the users would only add copies of "sends"
        self.k = check_int("k", k, 0, grid.n_users)
        n_codes = grid.n_states * grid.n_actions
        check_size("n_users * n_states * n_actions * (1 + k)",
                   grid.n_users * n_codes * (1 + self.k))
        self.members, self.hops = neighbour_lists(grid.access, self.k)
        self.n_features = 1 + self.k
        self.weights = np.zeros((grid.n_users * n_codes, self.n_features))
        self._at_hop = [self.hops == h for h in range(1, self.k + 1)]
        self._ap = grid.actions[..., 1].astype(np.int32)  # (n, A): access point, -1 waits

    @property
    def nbytes(self) -> int:
        """Memory of the critic's parameters."""
        return int(self.weights.nbytes)

    def rows(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """Row of ``weights`` for every user's own code: (..., n) -> (..., n)."""
        g = self.grid
        states, actions = check_states_actions(g, states, actions)
        codes = states * g.n_actions + actions
        return np.arange(g.n_users) * (g.n_states * g.n_actions) + codes

    def features(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """x_i for every user: states and actions (..., n) -> (..., n, n_features) float32."""
        g = self.grid
        states, actions = check_states_actions(g, states, actions)
        x = np.ones(states.shape + (self.n_features,), np.float32)
        if self.k == 0:
            return x
        ap = self._ap[np.arange(g.n_users), actions]        # (..., n)
        sends = ap >= 0
        # clear_1: i is the only sender at its access point (everyone who shares it is one
        # hop away), from per-access-point sender counts
        flat = ap.reshape(-1, g.n_users)
        copy = np.broadcast_to(np.arange(len(flat))[:, None], flat.shape)
        slot = copy * (g.n_aps + 1) + np.where(flat >= 0, flat, g.n_aps)
        senders = np.bincount(slot.ravel(), minlength=len(flat) * (g.n_aps + 1))
        x[..., 1] = sends & (senders[slot].reshape(ap.shape) == 1)
        if self.k >= 2:
            near_ap = ap[..., np.maximum(self.members, 0)]   # (..., n, m)
            for h in range(2, self.k + 1):
                x[..., h] = sends & ~((near_ap >= 0) & self._at_hop[h - 1]).any(-1)
        return x

    def values(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """Every user's Q_i at the given states and actions (..., n)."""
        return self.predict(self.rows(states, actions), self.features(states, actions))

    def predict(self, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        """W[rows] . x, one feature column at a time (gathers from small contiguous columns
        are far cheaper than from the rows of a wide array)."""
        q = np.zeros(rows.shape)
        for f in range(self.n_features):
            q += np.ascontiguousarray(self.weights[:, f])[rows] * x[..., f]
        return q

    def update(self, rows: np.ndarray, x: np.ndarray, rewards: np.ndarray,
               next_q: np.ndarray, gamma: float, lr: float) -> None:
        """One batched TD(0) step (exercise 6.6) from samples of any equal leading shape."""
        self.weights = linear_td_update(self.weights, rows.ravel(),
                                        x.reshape(-1, self.n_features), rewards.ravel(),
                                        next_q.ravel(), gamma, lr)


# --------------------------------------------------------------------------------------
# Exercise 6.6: the linear TD(0) step
# --------------------------------------------------------------------------------------


def _check_linear_td_args(weights: Any, index: Any, features: Any, rewards: Any,
                          next_values: Any, gamma: Any, lr: Any) -> dict[str, Any]:
    w = as_float_array(weights, "weights", finite=True)
    if w.ndim != 2 or w.shape[1] == 0:
        raise ValueError(f"weights must be a 2-D array (rows, features) with at least one "
                         f"feature, got shape {w.shape}")
    idx = as_index_array(index, "index", len(w), meaning=" (they point at rows of weights)")
    if idx.ndim != 1:
        raise ValueError(f"index must be a 1-D integer array, got shape {idx.shape}")
    idx = idx.astype(np.int64)
    # float32 features stay float32 (big batches)
    x = features if isinstance(features, np.ndarray) and features.dtype.kind == "f" else \
        as_float_array(features, "features")
    check_finite(x, "features")
    if x.shape != (len(idx), w.shape[1]):
        raise ValueError(f"features must have shape (samples, {w.shape[1]}) = "
                         f"({len(idx)}, {w.shape[1]}), got {x.shape}")
    r = as_float_array(rewards, "rewards", finite=True)
    nxt = as_float_array(next_values, "next_values", finite=True)
    if r.shape != idx.shape or nxt.shape != idx.shape:
        raise ValueError("index, rewards and next_values must have one entry per sample")
    return {"weights": w, "index": idx, "features": x, "rewards": r, "next_values": nxt,
            "gamma": check_unit("gamma", gamma), "lr": check_unit("lr", lr, positive=True)}


@exercise("6.6", title="The linear TD(0) step of a generalising critic",
          validate=_check_linear_td_args,
          returns=Array(shape_of("weights")))
def linear_td_update(weights: np.ndarray, index: np.ndarray, features: np.ndarray,
                     rewards: np.ndarray, next_values: np.ndarray, gamma: float,
                     lr: float) -> np.ndarray:
    """One normalised TD(0) step of a linear critic, from a whole batch of samples at once.

    Sample m uses row ``index[m]`` of ``weights`` and the feature vector ``features[m]``:
    its prediction is ``weights[index[m]] @ features[m]``, its target
    ``rewards[m] + gamma * next_values[m]`` and its TD error ``delta[m]`` the target minus
    the prediction. Weight ``f`` of row ``e`` moves by ``lr / F`` times

        (sum of delta[m] * features[m, f]) / (sum of features[m, f] ** 2)

    both sums over the samples of row ``e``; a weight whose feature was 0 in all of its
    row's samples (or whose row was not visited) keeps its value. With a single feature
    equal to 1 this is exercise 6.3's update.

    Parameters
    ----------
    weights : np.ndarray, shape (E, F)
    index : np.ndarray of int, shape (M,), values in 0..E-1
    features : np.ndarray, shape (M, F)
    rewards, next_values : np.ndarray, shape (M,)
    gamma, lr : float in [0, 1]

    Returns
    -------
    np.ndarray, shape (E, F)
        New weights (``weights`` itself is left unchanged).
    """
    # TODO(exercise 6.6): exercise 6.3's update with features: all TD errors first, from the weights
    # as given, then the docstring's two per-row sums, feature by feature.
    raise NotImplementedError
