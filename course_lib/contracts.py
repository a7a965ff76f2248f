"""What an exercise promises besides its value: it leaves its inputs alone, and what it gives
back has the declared form.

Two rules hold for every exercise:

* **Inputs are read-only.** A call that changes one of its arguments in place (an array, a
  tensor, a list, a dict, a dataclass's fields) fails with ``ExerciseContractError`` naming
  the argument. No exercise of the course mutates by contract: each returns a new value.
* **The result is new.** A result that *is* an array argument, or shares its memory (a view,
  a reshape), fails the same way: the caller may change one without expecting the other to move.

And each exercise declares what comes back (``@exercise(..., returns=...)``): a finite number,
an integer in a range, an array or tensor of a shape derived from the arguments, a dataclass
with such fields, a list of them, a tuple. ``check_return`` holds a value to that declaration
before any test looks at it, so an empty array, a NaN, a wrong shape or a wrong type fails
with a message saying what was expected, not somewhere deep in an assertion.

The same checks run where the learner calls an exercise (notebooks, ``check()``, pytest) and,
under the autograder, in the sandboxed worker (the two rules) and in the judge (the returns).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

Shape = Callable[[Mapping[str, Any]], tuple[int, ...]]


class ExerciseContractError(Exception):
    """An exercise changed its input, gave back one of its inputs, or returned a value of the
    wrong form. Not a ``ValueError``: a test that expects an exercise to reject bad input must
    not pass because the exercise broke its contract."""


# --------------------------------------------------------------------------------------
# Inputs are read-only, results are new
# --------------------------------------------------------------------------------------


def _torch() -> Any:
    import sys

    return sys.modules.get("torch")


def _is_tensor(value: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(value, torch.Tensor)


def _is_module(value: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(value, torch.nn.Module)


def _skip(value: Any) -> bool:
    """Arguments whose state is theirs to change: random generators advance, networks are the
    caller's objects seen through their own methods."""
    return (isinstance(value, (np.random.Generator, np.random.RandomState))
            or _is_module(value) or callable(value) and not isinstance(value, type))


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if _is_tensor(value):
        return value.detach().clone()
    return copy.deepcopy(value)


def snapshot(arguments: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(name, the argument, a copy of it)`` for every argument whose in-place change would
    be a mistake; an argument that cannot be copied is left out."""
    kept = []
    for name, value in arguments.items():
        if value is None or _skip(value) or isinstance(value, (str, bytes, numbers.Number)):
            continue
        try:
            kept.append((name, value, _copy(value)))
        except Exception:  # noqa: BLE001 - an uncopyable argument is simply not watched
            continue
    return kept


def _same(old: Any, new: Any, depth: int = 0) -> bool:
    if depth > 20:
        return True
    if isinstance(old, np.ndarray):
        return (isinstance(new, np.ndarray) and old.shape == new.shape
                and old.dtype == new.dtype
                and bool(np.array_equal(old, new, equal_nan=old.dtype.kind in "fc")))
    if _is_tensor(old):
        torch = _torch()
        if not (_is_tensor(new) and old.shape == new.shape and old.dtype == new.dtype):
            return False
        both = new.detach()
        if old.is_floating_point():
            return bool(torch.equal(torch.isnan(old), torch.isnan(both)) and torch.equal(
                torch.nan_to_num(old, nan=0.0), torch.nan_to_num(both, nan=0.0)))
        return bool(torch.equal(old, both))
    if isinstance(old, (list, tuple)):
        return (type(old) is type(new) and len(old) == len(new)
                and all(_same(a, b, depth + 1) for a, b in zip(old, new, strict=True)))
    if isinstance(old, dict):
        return (type(new) is dict and list(old) == list(new)
                and all(_same(old[k], new[k], depth + 1) for k in old))
    if dataclasses.is_dataclass(old) and not isinstance(old, type):
        return type(old) is type(new) and all(
            _same(getattr(old, f.name), getattr(new, f.name), depth + 1)
            for f in dataclasses.fields(old))
    try:
        return bool(old == new)
    except Exception:  # noqa: BLE001 - cannot tell: do not accuse
        return True


def changed(kept: list[tuple[str, Any, Any]]) -> list[str]:
    """Names of the arguments of ``snapshot`` that no longer equal their copy."""
    return [name for name, live, old in kept if not _same(old, live)]


def _buffers(value: Any, depth: int = 0) -> list[Any]:
    """The arrays and tensors in a value (through lists, tuples, dicts and dataclasses)."""
    if depth > 20:
        return []
    if isinstance(value, np.ndarray) or _is_tensor(value):
        return [value]
    if isinstance(value, (list, tuple)):
        return [b for v in value for b in _buffers(v, depth + 1)]
    if isinstance(value, dict):
        return [b for v in value.values() for b in _buffers(v, depth + 1)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [b for f in dataclasses.fields(value)
                for b in _buffers(getattr(value, f.name), depth + 1)]
    return []


def _overlap(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.size > 0 and b.size > 0 and bool(np.may_share_memory(a, b))
    if _is_tensor(a) and _is_tensor(b):
        if a.numel() == 0 or b.numel() == 0 or a.device != b.device:
            return False
        return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
    return False


def aliased(result: Any, arguments: Mapping[str, Any]) -> list[str]:
    """Names of the arguments that the result is, or whose memory it shares."""
    found = []
    out = _buffers(result)
    for name, value in arguments.items():
        if value is None or _skip(value):
            continue
        if result is value and not isinstance(value, (str, bytes, numbers.Number, tuple)):
            found.append(name)
            continue
        mine = _buffers(value)
        if any(_overlap(r, a) for r in out for a in mine):
            found.append(name)
    return found


def guarded_call(function: str, body: Callable[..., Any], args: tuple, kwargs: dict,
                 arguments: Mapping[str, Any]) -> Any:
    """``body(*args, **kwargs)`` held to the two rules; ``arguments`` names the same values
    (the bound arguments)."""
    __tracebackhide__ = True
    kept = snapshot(arguments)
    value = body(*args, **kwargs)
    moved = changed(kept)
    if moved:
        names = ", ".join(f"`{n}`" for n in moved)
        raise ExerciseContractError(
            f"{function}() changed {names} in place: work on a copy (`{moved[0]}.copy()`)")
    same = aliased(value, arguments)
    if same:
        raise ExerciseContractError(
            f"{function}() returned `{same[0]}` itself or a view of it: return a new value "
            f"(e.g. from `{same[0]}.copy()`)")
    return value


# --------------------------------------------------------------------------------------
# What comes back
# --------------------------------------------------------------------------------------


class Returns:
    """A declaration of an exercise's result; ``check(value, args, where)`` raises
    ``ExerciseContractError`` (``where`` names the value in the message)."""

    what = "a value"

    def check(self, value: Any, args: Mapping[str, Any], where: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def fail(self, where: str, value: Any, problem: str) -> None:
        raise ExerciseContractError(f"{where} should be {self.what}, but {problem}")


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray) or _is_tensor(value):
        kind = "a tensor" if _is_tensor(value) else "an array"
        return f"{kind} of shape {tuple(value.shape)} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


class Number(Returns):
    """A real number (a Python or numpy scalar, or a 0-d array), finite unless ``nan_ok``;
    ``integer`` asks for a whole number; ``low``/``high`` bound it (inclusive; ``high`` may
    be a function of the arguments)."""

    def __init__(self, integer: bool = False, low: float | None = None,
                 high: float | Callable[[Mapping[str, Any]], float] | None = None,
                 nan_ok: bool = False) -> None:
        self.integer, self.low, self.high, self.nan_ok = integer, low, high, nan_ok
        self.what = "a whole number" if integer else "a finite number"

    def check(self, value: Any, args: Mapping[str, Any], where: str) -> None:
        if isinstance(value, np.ndarray) and value.shape == ():
            value = value[()]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real,
                                                                          np.number)):
            self.fail(where, value, f"it is {_describe(value)}")
        if self.integer and not isinstance(value, (numbers.Integral, np.integer)):
            self.fail(where, value, f"it is {_describe(value)}")
        number = float(value)
        if math.isnan(number) and self.nan_ok:
            return
        if not math.isfinite(number):
            self.fail(where, value, f"it is {number}")
        high = self.high(args) if callable(self.high) else self.high
        if (self.low is not None and number < self.low) or (high is not None and number > high):
            self.fail(where, value, f"it is {value!r}, outside [{self.low}, {high}]")


class Array(Returns):
    """A numpy array (``tensor=True``: a torch tensor) of the shape ``shape(args)`` and a dtype
    of ``kind`` ("float", "int", "bool"); finite unless ``nan_ok``; within ``[low, high]``.
    ``scalar``: where the shape is ``()``, a plain number is welcome too."""

    def __init__(self, shape: Shape | None = None, kind: str = "float", tensor: bool = False,
                 nan_ok: bool = False, low: float | None = None, high: float | None = None,
                 describe: str = "", scalar: bool = True) -> None:
        if kind not in ("float", "int", "bool"):
            raise ValueError(f"kind must be float, int or bool, got {kind!r}")
        self.shape, self.kind, self.tensor, self.nan_ok = shape, kind, tensor, nan_ok
        self.low, self.high, self.scalar = low, high, scalar
        noun = "tensor" if tensor else "array"
        self.what = f"a {kind} {noun}" + (f" {describe}" if describe else "")

    def check(self, value: Any, args: Mapping[str, Any], where: str) -> None:
        if self.tensor:
            if not _is_tensor(value):
                self.fail(where, value, f"it is {_describe(value)}")
            data = value.detach().cpu()
            kind = ("bool" if data.dtype == _torch().bool else "float"
                    if data.is_floating_point() else "complex" if data.is_complex() else "int")
            array = data.numpy() if kind != "complex" else None
        else:
            if (self.scalar and isinstance(value, (numbers.Number, np.generic))
                    and not isinstance(value, (bool, np.bool_) if self.kind != "bool" else ())):
                value = np.asarray(value)
            if not isinstance(value, np.ndarray):
                self.fail(where, value, f"it is {_describe(value)}")
            kind = {"b": "bool", "f": "float", "i": "int", "u": "int"}.get(value.dtype.kind,
                                                                           value.dtype.kind)
            array = value
        expected = tuple(int(n) for n in self.shape(args)) if self.shape else None
        if expected is not None and tuple(value.shape) != expected:
            self.fail(where, value, f"it has shape {tuple(value.shape)}; expected {expected}")
        if kind != self.kind and not (self.kind == "float" and kind == "int"):
            self.fail(where, value, f"its dtype is {value.dtype}")
        if array is None or kind == "bool" or array.size == 0:
            return
        values = array.astype(float)
        finite = np.isfinite(values) | (np.isnan(values) if self.nan_ok else False)
        if not finite.all():
            bad = values[~finite][0]
            self.fail(where, value, f"it holds {bad} (every entry must be finite"
                      + (" or NaN" if self.nan_ok else "") + ")")
        real = values[~np.isnan(values)]
        if real.size and ((self.low is not None and real.min() < self.low)
                          or (self.high is not None and real.max() > self.high)):
            self.fail(where, value, f"its entries run from {real.min():g} to {real.max():g}, "
                      f"outside [{self.low}, {self.high}]")


class Record(Returns):
    """An instance of the dataclass ``cls`` whose fields meet ``fields`` (name -> Returns)."""

    def __init__(self, cls: type, **fields: Returns) -> None:
        self.cls, self.fields = cls, fields
        self.what = f"{'an' if cls.__name__[0] in 'AEIOU' else 'a'} {cls.__name__}"

    def check(self, value: Any, args: Mapping[str, Any], where: str) -> None:
        if type(value) is not self.cls:
            self.fail(where, value, f"it is {_describe(value)}")
        for name, rule in self.fields.items():
            rule.check(getattr(value, name), args, f"{where}.{name}")


class ListOf(Returns):
    """A list (any length) of values meeting ``item``."""

    def __init__(self, item: Returns) -> None:
        self.item = item
        self.what = f"a list of {item.what.removeprefix('a ').removeprefix('an ')}s"

    def check(self, value: Any, args: Mapping[str, Any], where: str) -> None:
        if not isinstance(value, list):
            self.fail(where, value, f"it is {_describe(value)}")
        for i, item in enumerate(value):
            self.item.check(item, args, f"{where}[{i}]")


class Pair(Returns):
    """A tuple of exactly ``len(items)`` values meeting ``items`` in order."""

    def __init__(self, *items: Returns) -> None:
        self.items = items
        self.what = f"a tuple of {len(items)} values"

    def check(self, value: Any, args: Mapping[str, Any], where: str) -> None:
        if not isinstance(value, tuple) or len(value) != len(self.items):
            self.fail(where, value, f"it is {_describe(value)}")
        for i, (item, rule) in enumerate(zip(value, self.items, strict=True)):
            rule.check(item, args, f"{where}[{i}]")


def check_return(function: str, rule: Returns | None, value: Any,
                 args: Mapping[str, Any]) -> None:
    """Hold ``value``, returned by ``function``, to ``rule`` (no rule: nothing to check)."""
    __tracebackhide__ = True
    if rule is not None:
        rule.check(value, args, f"the value {function}() returned")


def shape_of(name: str, axes: slice | None = None) -> Shape:
    """The shape of argument ``name`` (``axes`` picks some of its dimensions)."""
    def shape(args: Mapping[str, Any]) -> tuple[int, ...]:
        full = tuple(np.shape(args[name]))
        return full if axes is None else full[axes]
    return shape
