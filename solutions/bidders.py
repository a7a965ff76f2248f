"""Reference bodies for the exercises in ``course_lib/bidders.py``."""

from __future__ import annotations

import numpy as np


def bid_ratio_gradient(
    utilities: np.ndarray,
    baselines: np.ndarray,
    noise: np.ndarray,
    sigma: float,
    bins: np.ndarray,
    n_bins: int,
) -> np.ndarray:
    score = (utilities - baselines) * noise / sigma
    n_bidders = utilities.shape[1]
    bidder = np.broadcast_to(np.arange(n_bidders), bins.shape)
    total = np.zeros((n_bidders, n_bins))
    count = np.zeros((n_bidders, n_bins))
    np.add.at(total, (bidder, bins), score)
    np.add.at(count, (bidder, bins), 1.0)
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)
