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
    n = probs.shape[0]
    users = np.broadcast_to(np.arange(n), states.shape)
    terms = -probs[users, states] * weights[..., None]           # (B, T, n, A)
    np.put_along_axis(terms, actions[..., None],
                      np.take_along_axis(terms, actions[..., None], -1) + weights[..., None], -1)
    grad = np.zeros_like(probs)
    np.add.at(grad, (users.ravel(), states.ravel()), terms.reshape(-1, probs.shape[-1]))
    return grad / states.shape[0]


def sensitivity_by_hop(q_base: np.ndarray, q_perturbed: np.ndarray, hops: np.ndarray,
                       max_hops: int) -> np.ndarray:
    gap = np.abs(q_base - q_perturbed)
    return np.array([gap[hops == h].mean() if (hops == h).any() else np.nan
                     for h in range(1, max_hops + 1)])
