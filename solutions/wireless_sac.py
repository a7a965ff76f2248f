"""Reference bodies for the exercises in ``course_lib/wireless_sac.py``."""

from __future__ import annotations

import numpy as np


def td_update(values: np.ndarray, index: np.ndarray, rewards: np.ndarray,
              next_values: np.ndarray, gamma: float, lr: float) -> np.ndarray:
    counts = np.bincount(index, minlength=len(values))
    sums = np.bincount(index, weights=rewards + gamma * next_values, minlength=len(values))
    out = values.copy()
    seen = counts > 0
    out[seen] += lr * (sums[seen] / counts[seen] - values[seen])
    return out


def policy_gradient(probs: np.ndarray, states: np.ndarray, actions: np.ndarray,
                    weights: np.ndarray) -> np.ndarray:
    # sum of w * onehot(a) per (i, s, a), minus probs[i, s] times the sum of w per (i, s):
    # two bincounts instead of one scatter-add per sample
    n, n_states, n_actions = probs.shape
    row = np.arange(n) * n_states + states                     # (B, T, n)
    by_action = np.bincount((row * n_actions + actions).ravel(), weights=weights.ravel(),
                            minlength=n * n_states * n_actions)
    by_state = np.bincount(row.ravel(), weights=weights.ravel(), minlength=n * n_states)
    grad = by_action.reshape(probs.shape) - probs * by_state.reshape(n, n_states, 1)
    return grad / states.shape[0]


def sensitivity_by_hop(q_base: np.ndarray, q_perturbed: np.ndarray, hops: np.ndarray,
                       max_hops: int) -> np.ndarray:
    gap = np.abs(q_base - q_perturbed)
    return np.array([gap[hops == h].mean() if (hops == h).any() else np.nan
                     for h in range(1, max_hops + 1)])
