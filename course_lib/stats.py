"""Small statistics shared by the experiments."""

from __future__ import annotations

import numpy as np

from .validation import as_float_array


def ci95_half_width(values: np.ndarray) -> float:
    """Half-width of a 95 % t-interval of the mean (0 for a single value)."""
    values = as_float_array(values, "values", finite=True).ravel()
    if values.size < 2:
        return 0.0
    from scipy import stats

    return float(stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
