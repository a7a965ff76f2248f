"""Small argument checks shared by the whole library, each raising a ``TypeError`` or
``ValueError`` that names the argument and says what was expected."""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_ELEMENTS = 2**27  # numbers in one array sized by a caller's arguments: 1 GiB of float64
MAX_STEPS = 10**9  # iterations of one loop sized by a caller's arguments (hours of work)


def check_int(name: str, value: Any, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """An integer (not a bool) at least ``minimum`` and at most ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r:.80}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum:,}, got {value:,}")
    return int(value)


def check_size(what: str, size: int, limit: int = MAX_ELEMENTS,
               limit_name: str = "MAX_ELEMENTS", unit: str = "numbers", detail: str = "") -> int:
    """Refuse a size computed from arguments (``what`` says how, e.g. ``"iterations *
    n_bidders"``) before anything of that size is allocated or looped over."""
    if size > limit:
        amount = f"{size:,}" if size < 10**15 else f"{size:.3g}"
        raise ValueError(f"{what} = {amount} {unit} exceeds the limit of {limit:,} "
                         f"({limit_name}){detail}")
    return size


def check_float(name: str, value: Any, *, positive: bool = False,
                non_negative: bool = False) -> float:
    """A finite real number (not a bool), optionally > 0 or >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r:.80}")
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


class NotIndicesError(TypeError, ValueError):
    """Numbers given where integer indices were expected (floats, even whole ones): both the
    wrong type and wrong values, so that code catching either kind of error sees it."""


def check_layers(what: str, widths: Any) -> int:
    """Refuse dense layers ``widths[0] -> widths[1] -> ...`` whose weights would not fit."""
    widths = list(widths)
    return check_size(f"the weights of layers {what}",
                      sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True)),
                      unit="weights")


def _as_array(x: Any, name: str, what: str) -> np.ndarray:
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be {what} (a list or numpy array), got "
                        f"{type(x).__name__}")
    try:
        return np.asarray(x)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"{name} must be a (rectangular) array of {what}, got "
                        f"{x!r:.80}") from None


def as_float_array(x: Any, name: str, *, finite: bool = False) -> np.ndarray:
    """``x`` as a float array, or a ``TypeError`` naming ``name`` when it does not hold real
    numbers (bools, strings, complex numbers, None and ragged lists are refused); with
    ``finite``, also a ``ValueError`` for NaN or inf."""
    arr = _as_array(x, name, "numbers")
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers (not bools, strings, complex numbers "
                        f"or None), got dtype {arr.dtype}")
    arr = arr.astype(float, copy=False)
    return check_finite(arr, name) if finite else arr


def as_index_array(x: Any, name: str, limit: int | None = None, minimum: int | None = 0,
                   meaning: str = "") -> np.ndarray:
    """``x`` as an array of integer indices (not bools or floats) in ``[minimum, limit)``
    (``None``: no bound on that side); ``meaning`` (e.g. ``" (rows of weights)"``) ends
    the message of an index out of range."""
    arr = _as_array(x, name, "integer indices")
    if arr.size == 0 and arr.dtype.kind == "f":  # an empty list
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        error = NotIndicesError if arr.dtype.kind == "f" else TypeError
        raise error(f"{name} must hold integers (indices), got dtype {arr.dtype}")
    low = (minimum is not None and arr.min() < minimum) if arr.size else False
    if low or (arr.size and limit is not None and arr.max() >= limit):
        bounds = (f">= {minimum}" if limit is None else f"< {limit}" if minimum is None
                  else f"in [{minimum}, {limit})")
        raise ValueError(f"{name} must be integer indices {bounds}{meaning}, got "
                         f"{arr.min()}..{arr.max()}")
    return arr


def as_bool_array(x: Any, name: str, shape: tuple[int, ...] | None = None, *,
                  zero_one: bool = True) -> np.ndarray:
    """``x`` as a boolean array (0/1 integers too, with ``zero_one``), of ``shape`` if given."""
    arr = _as_array(x, name, "booleans")
    if arr.dtype != bool:
        if not zero_one or arr.dtype.kind not in "iu" or not np.all((arr == 0) | (arr == 1)):
            # numbers are the wrong values (ValueError); strings, None... the wrong type
            error = ValueError if arr.dtype.kind in "iuf" else TypeError
            raise error(f"{name} must hold booleans{' (or 0/1)' if zero_one else ''}, got "
                        f"dtype {arr.dtype}")
        arr = arr.astype(bool)
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    return arr


def check_finite(arr: np.ndarray, name: str) -> np.ndarray:
    """A real-valued array without NaN or inf."""
    arr = np.asarray(arr)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def as_list_of(value: Any, name: str, kind: type, what: str) -> list[Any]:
    """``value`` as a list whose items are all ``kind`` (``what`` names them in errors):
    a TypeError for a string, a non-iterable or a foreign item."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a list of {what}, got {type(value).__name__}")
    items = list(value)
    for item in items:
        if not isinstance(item, kind):
            raise TypeError(f"{name} must hold {what}, got {type(item).__name__}")
    return items


def check_callback(callback: Any, name: str = "callback") -> Any:
    """None or something callable (a progress callback)."""
    if callback is not None and not callable(callback):
        raise TypeError(f"{name} must be callable or None, got {type(callback).__name__}")
    return callback


def check_rng(rng: Any) -> np.random.Generator:
    """A numpy random generator (not a seed, not the legacy ``RandomState``)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    return rng


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
        raise TypeError(f"{name} must be a string, one of {choices}, got {value!r:.80}")
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {choices}")
    return value


def check_schedule(name: str, value: Any) -> tuple[float, float]:
    """A (start, end) pair of positive numbers, e.g. an exploration schedule."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (start, end), got {value!r:.80}")
    return (check_float(f"{name}[0]", value[0], positive=True),
            check_float(f"{name}[1]", value[1], positive=True))
