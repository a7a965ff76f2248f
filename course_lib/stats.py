"""Small statistics shared by the experiments."""

from __future__ import annotations

import numpy as np


def ci95_half_width(values: np.ndarray) -> float:
    """Half-width of a 95 % t-interval of the mean (0 for a single value)."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return 0.0
    return float(stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
