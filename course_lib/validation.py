"""Small argument checks shared by the whole library, each raising a ``TypeError`` or
``ValueError`` that names the argument and says what was expected."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_int(name: str, value: Any, minimum: int | None = None) -> int:
    """An integer (not a bool) at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_float(name: str, value: Any, *, positive: bool = False,
                non_negative: bool = False) -> float:
    """A finite real number (not a bool), optionally > 0 or >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if non_negative and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_unit(name: str, value: Any, *, positive: bool = False) -> float:
    """A number in [0, 1] (in (0, 1] with ``positive``): a probability, a discount, a step."""
    value = check_float(name, value, positive=positive, non_negative=True)
    if value > 1:
        raise ValueError(f"{name} must lie in [0, 1], got {value}")
    return value


def as_float_array(x: Any, name: str) -> np.ndarray:
    """``x`` as a float array, or a ``TypeError`` naming ``name`` when it is not numeric."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be numbers (a list or numpy array), got {type(x).__name__}")
    try:
        return np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a (rectangular) array of numbers, got {x!r:.80}") from None


def check_finite(arr: np.ndarray, name: str) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def check_tabular_mdp(mdp: Any) -> Any:
    """Anything with the fields of ``envs.toy_mdps.TabularMDP`` (checked by duck typing, so
    that learners need not import the environments, which sit above them)."""
    fields = ("transitions", "rewards", "terminal", "start_state", "max_steps")
    missing = [f for f in fields if not hasattr(mdp, f)]
    if missing:
        raise TypeError(f"mdp must be a TabularMDP (see envs.toy_mdps.make_task); "
                        f"{type(mdp).__name__} lacks {', '.join(missing)}")
    return mdp


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """One of a fixed set of names (a string)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {choices}, got {value!r}")
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {choices}")
    return value


def check_schedule(name: str, value: Any) -> tuple[float, float]:
    """A (start, end) pair of positive numbers, e.g. an exploration schedule."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (start, end), got {value!r}")
    return (check_float(f"{name}[0]", value[0], positive=True),
            check_float(f"{name}[1]", value[1], positive=True))
