"""Small statistics shared by the experiments: t-intervals, paired differences and the power
of a paired t-test."""

from __future__ import annotations

from typing import Any

import numpy as np

from .validation import as_float_array, check_float, check_int, check_unit


def ci95_half_width(values: np.ndarray) -> float:
    """Half-width of a 95 % t-interval of the mean (0 for a single value)."""
    values = as_float_array(values, "values", finite=True).ravel()
    if values.size < 2:
        return 0.0
    from scipy import stats

    return float(stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))


def _check_confidence(confidence: Any) -> float:
    confidence = check_unit("confidence", confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return confidence


def paired_difference(a: Any, b: Any, confidence: float = 0.95) -> dict[str, Any]:
    """The mean of the per-pair differences ``a - b`` with a t-interval and a paired t-test.

    Pair ``k`` is ``(a[k], b[k])``: two measurements that share everything but the thing
    compared (here: the seed of two learners). Differencing within a pair removes what the
    pair shares, so the interval is usually much narrower than two separate intervals.

    Parameters
    ----------
    a, b : array-like of shape (n,)
        Finite numbers, ``n >= 1``, in the same order of pairs.
    confidence : float in (0, 1)
        Coverage of the two-sided t-interval (0.95 by default).

    Returns
    -------
    dict
        ``mean`` (mean of ``a - b``), ``low`` and ``high`` (the t-interval of that mean with
        ``n - 1`` degrees of freedom), ``sd`` (the differences' standard deviation, ddof=1),
        ``p_value`` (two-sided paired t-test of a zero mean difference), ``n`` and
        ``differences`` (the list of ``a - b``). With ``n = 1``, or when every difference
        is the same (``sd = 0``), the spread is unknown or zero: ``low``, ``high`` and
        ``p_value`` are then ``None`` for ``n = 1``, and ``low = high = mean`` with
        ``p_value`` None for ``sd = 0``.

    Examples
    --------
    >>> r = paired_difference([3.0, 5.0, 4.0], [1.0, 2.0, 3.0])  # differences 2, 3, 1
    >>> r["mean"], r["n"], round(r["sd"], 3)
    (2.0, 3, 1.0)
    """
    a = as_float_array(a, "a", finite=True)
    b = as_float_array(b, "b", finite=True)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"a and b must be 1-d (one number per pair), got shapes {a.shape} "
                         f"and {b.shape}")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same length (one number per pair), got "
                         f"{a.size} and {b.size}")
    if a.size == 0:
        raise ValueError("a and b are empty: a paired difference needs at least one pair")
    confidence = _check_confidence(confidence)
    d = a - b
    n, mean = d.size, float(d.mean())
    out: dict[str, Any] = {"mean": mean, "low": None, "high": None, "sd": None,
                           "p_value": None, "n": int(n), "differences": d.tolist()}
    if n < 2:
        return out
    from scipy import stats

    sd = float(d.std(ddof=1))
    out["sd"] = sd
    if sd == 0.0:
        out["low"] = out["high"] = mean
        return out
    se = sd / np.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * se)
    out["low"], out["high"] = mean - half, mean + half
    out["p_value"] = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    return out


def _check_test(n: Any, alpha: Any) -> tuple[int, float]:
    n = check_int("n", n, 2)
    alpha = check_unit("alpha", alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    return n, alpha


def paired_t_power(effect: float, sd: float, n: int, alpha: float = 0.05) -> float:
    """Probability that a two-sided paired t-test at level ``alpha`` rejects "no difference"
    when the true mean difference is ``effect`` and the differences' SD is ``sd``.

    The test statistic follows a noncentral t distribution with ``n - 1`` degrees of freedom
    and noncentrality ``effect / (sd / sqrt(n))``; the power is the mass of that distribution
    beyond the two critical values ``±t_{1 - alpha/2, n - 1}``.

    Parameters
    ----------
    effect : float
        The true mean difference (its sign does not matter).
    sd : float > 0
        The standard deviation of one pair's difference.
    n : int >= 2
        The number of pairs.
    alpha : float in (0, 1)

    Returns
    -------
    float in [alpha, 1]
        ``alpha`` at ``effect = 0`` (the test's false-alarm rate), rising towards 1.
    """
    effect = check_float("effect", effect)
    sd = check_float("sd", sd, positive=True)
    n, alpha = _check_test(n, alpha)
    from scipy import stats

    df, nc = n - 1, abs(effect) / (sd / np.sqrt(n))
    crit = stats.t.ppf(1 - alpha / 2, df)
    # Rejections on the wrong side: scipy returns NaN for some of these vanishing tails.
    wrong_side = float(np.nan_to_num(stats.nct.cdf(-crit, df, nc), nan=0.0))
    return float(min(stats.nct.sf(crit, df, nc) + wrong_side, 1.0))


def minimum_detectable_difference(sd: float, n: int, alpha: float = 0.05,
                                  power: float = 0.8) -> float:
    """The smallest true mean difference that a two-sided paired t-test at level ``alpha``
    detects with probability ``power``, given the differences' SD and ``n`` pairs.

    A result "no significant difference" rules out only effects at least this large (with
    probability ``power``); smaller ones may well exist.

    Parameters
    ----------
    sd : float > 0
        The standard deviation of one pair's difference (e.g. the one observed).
    n : int >= 2
    alpha : float in (0, 1)
    power : float in (alpha, 1)

    Returns
    -------
    float > 0
        ``effect`` with ``paired_t_power(effect, sd, n, alpha) == power``, in the units of
        ``sd``.
    """
    sd = check_float("sd", sd, positive=True)
    n, alpha = _check_test(n, alpha)
    power = check_unit("power", power)
    if not alpha < power < 1.0:
        raise ValueError(f"power must lie strictly between alpha ({alpha}) and 1, got {power}")
    from scipy import optimize

    # Power rises with the effect; with n = 2 a power near 1 may need an effect of hundreds of
    # SDs, so widen the bracket until it holds the answer.
    high = 1.0
    while paired_t_power(high * sd, sd, n, alpha) < power:
        high *= 4.0
    return float(sd * optimize.brentq(
        lambda k: paired_t_power(k * sd, sd, n, alpha) - power, 0.0, high, xtol=1e-10))
