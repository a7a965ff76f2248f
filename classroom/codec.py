"""Plain data between a sandboxed worker and the judge: what an exercise returned, as JSON and
raw array bytes, never a pickle and never a live object of the submission.

``encode`` runs in the worker (on whatever the learner's code returned); ``decode`` runs in
the judge and trusts nothing: it accepts only JSON values, arrays and tensors of a few numeric
dtypes whose byte counts match their shapes, numpy scalars, and the dataclasses that the
judge's own ``course_lib`` defines (rebuilt with the judge's class from their fields). A
subclass becomes its base (an ``ndarray`` subclass is sent as a plain array), so the judge
compares exact ``ndarray``/``float`` values with its own numpy.

A message is ``len(header)`` (8 bytes), the header (JSON) and the buffers it lists.
"""

from __future__ import annotations

import dataclasses
import json
import struct
import sys
from typing import Any

import numpy as np

DTYPES = frozenset({"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                    "uint64", "float16", "float32", "float64", "complex64", "complex128"})
MAX_DEPTH = 32
MAX_ITEMS = 1_000_000  # JSON nodes and arrays in one message
MAX_BYTES = 512 * 2**20  # one message


class CodecError(ValueError):
    """A value cannot be sent, or a message is not one the judge accepts."""


# ---------------------------------------------------------------------------------------------
# Worker side


def encode(value: Any) -> tuple[bytes, list[bytes]]:
    """JSON header and buffers for ``value``."""
    buffers: list[bytes] = []
    node = _encode(value, buffers, 0)
    return json.dumps({"value": node, "sizes": [len(b) for b in buffers]}).encode(), buffers


def _array_node(array: np.ndarray, buffers: list[bytes], kind: str) -> dict[str, Any]:
    if array.dtype.name not in DTYPES:
        raise CodecError(f"an array of dtype {array.dtype} cannot be returned (numeric and "
                         "bool arrays only)")
    # native byte order and C layout: the judge reads the bytes as its own numpy would
    native = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("="))
    buffers.append(native.tobytes())
    return {"t": kind, "dtype": array.dtype.name, "shape": list(array.shape),
            "buf": len(buffers) - 1}


def _encode(value: Any, buffers: list[bytes], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError("the value is nested too deeply")
    torch = sys.modules.get("torch")
    if value is None or type(value) in (bool, str):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and not isinstance(value, np.generic):
        return {"t": "int", "v": str(int(value))}
    if isinstance(value, float) and not isinstance(value, np.generic):
        return {"t": "float", "v": float(value).hex()}
    if isinstance(value, str):
        return str(value)
    if isinstance(value, np.generic):
        return {**_array_node(np.asarray(value), buffers, "scalar")}
    if isinstance(value, np.ndarray):
        return _array_node(np.asarray(value), buffers, "array")
    if torch is not None and isinstance(value, torch.Tensor):
        node = _array_node(value.detach().cpu().numpy(), buffers, "tensor")
        node["grad"] = bool(value.requires_grad)
        return node
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {"t": "dataclass", "module": cls.__module__, "name": cls.__qualname__,
                "fields": {f.name: _encode(getattr(value, f.name), buffers, depth + 1)
                           for f in dataclasses.fields(value)}}
    if isinstance(value, (list, tuple)):
        return {"t": "list" if isinstance(value, list) else "tuple",
                "v": [_encode(v, buffers, depth + 1) for v in value]}
    if isinstance(value, dict):
        items = list(value.items())
        if not all(type(k) is str for k, _ in items):
            raise CodecError("only dicts with str keys can be returned")
        return {"t": "dict", "v": [[k, _encode(v, buffers, depth + 1)] for k, v in items]}
    raise CodecError(f"a value of type {type(value).__name__} cannot be returned (numbers, "
                     "strings, arrays, tensors, lists, tuples, dicts and the course's "
                     "dataclasses only)")


def frame(header: bytes, buffers: list[bytes]) -> bytes:
    return struct.pack(">Q", len(header)) + header + b"".join(buffers)


# ---------------------------------------------------------------------------------------------
# Judge side


def decode(header: bytes, payload: memoryview, flagged: list | None = None) -> Any:
    """The value a message describes, made of the judge's own types. Tensors that required
    gradients in the worker are appended to ``flagged``."""
    try:
        meta = json.loads(header)
    except (ValueError, RecursionError) as err:
        raise CodecError(f"the worker's reply is not JSON: {err}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("sizes"), list):
        raise CodecError("the worker's reply has no buffer list")
    sizes = meta["sizes"]
    if len(sizes) > MAX_ITEMS or not all(type(s) is int and s >= 0 for s in sizes):
        raise CodecError("the worker's reply lists bad buffer sizes")
    if sum(sizes) != len(payload):
        raise CodecError("the worker's reply does not hold the bytes it announces")
    offsets, start = [], 0
    for size in sizes:
        offsets.append((start, start + size))
        start += size
    budget = {"left": MAX_ITEMS, "flagged": [] if flagged is None else flagged}
    return _decode(meta.get("value"), payload, offsets, 0, budget)


def _buffer_array(node: dict[str, Any], payload: memoryview,
                  offsets: list[tuple[int, int]]) -> np.ndarray:
    dtype, shape, index = node.get("dtype"), node.get("shape"), node.get("buf")
    if dtype not in DTYPES or not isinstance(shape, list) or len(shape) > 32 or not all(
            type(d) is int and d >= 0 for d in shape) or type(index) is not int or not (
            0 <= index < len(offsets)):
        raise CodecError("the worker's reply describes an array badly")
    start, end = offsets[index]
    dt = np.dtype(dtype)
    if int(np.prod(shape, dtype=object)) * dt.itemsize != end - start:
        raise CodecError("an array's bytes do not match its shape")
    array = np.frombuffer(payload[start:end], dtype=dt).reshape(shape)
    # a view of the message's own buffer where the judge owns it and may write it (no second
    # copy of a large reply); a copy otherwise
    return array if array.flags.writeable else array.copy()


def _decode(node: Any, payload: memoryview, offsets: list[tuple[int, int]], depth: int,
            budget: dict[str, Any]) -> Any:
    budget["left"] -= 1
    if depth > MAX_DEPTH or budget["left"] < 0:
        raise CodecError("the worker's reply is nested too deeply or too large")
    if node is None or type(node) in (bool, str):
        return node
    if type(node) is not dict:
        raise CodecError("the worker's reply holds an unexpected JSON value")
    kind = node.get("t")
    if kind == "int" and type(node.get("v")) is str and len(node["v"]) <= 4300:
        try:
            return int(node["v"])
        except ValueError:
            raise CodecError("a bad integer in the worker's reply") from None
    if kind == "float" and type(node.get("v")) is str:
        try:
            return float.fromhex(node["v"])
        except ValueError:
            raise CodecError("a bad float in the worker's reply") from None
    if kind == "array":
        return _buffer_array(node, payload, offsets)
    if kind == "scalar":
        array = _buffer_array(node, payload, offsets)
        if array.shape != ():
            raise CodecError("a numpy scalar with a shape")
        return array[()]
    if kind == "tensor":
        import torch

        tensor = torch.from_numpy(_buffer_array(node, payload, offsets))
        if node.get("grad") is True:
            budget["flagged"].append(tensor)
        return tensor
    if kind in ("list", "tuple") and type(node.get("v")) is list:
        items = [_decode(v, payload, offsets, depth + 1, budget) for v in node["v"]]
        return items if kind == "list" else tuple(items)
    if kind == "dict" and type(node.get("v")) is list:
        out = {}
        for pair in node["v"]:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise CodecError("a bad dict entry in the worker's reply")
            out[pair[0]] = _decode(pair[1], payload, offsets, depth + 1, budget)
        return out
    if kind == "dataclass":
        return _dataclass(node, payload, offsets, depth, budget)
    raise CodecError(f"the worker's reply holds an unknown kind of value {kind!r}")


def _dataclass(node: dict[str, Any], payload: memoryview, offsets: list[tuple[int, int]],
               depth: int, budget: dict[str, Any]) -> Any:
    """Rebuild one of the course's dataclasses with the judge's class: only a module of the
    judge's own ``course_lib`` that is already imported, and only the class's init fields."""
    module, name, fields = node.get("module"), node.get("name"), node.get("fields")
    if type(module) is not str or type(name) is not str or type(fields) is not dict or not (
            module == "course_lib" or module.startswith("course_lib.")) or module not in (
            sys.modules):
        raise CodecError("the worker returned an object that is not one of the course's "
                         "dataclasses")
    cls = sys.modules[module].__dict__.get(name)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise CodecError(f"{module}.{name} is not one of the course's dataclasses")
    init = {f.name for f in dataclasses.fields(cls) if f.init}
    if set(fields) != init:
        raise CodecError(f"the worker's {name} has the fields {sorted(fields)}, "
                         f"not {sorted(init)}")
    return cls(**{k: _decode(v, payload, offsets, depth + 1, budget) for k, v in fields.items()})
