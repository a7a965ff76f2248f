"""The plain-data codec between the grader's worker and its judge (classroom/codec.py): what a
submission returns reaches the judge as the judge's own exact types, and a malformed or hostile
message is refused with a CodecError. Maintainers' test (classroom/ is not in the student copy)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from classroom import codec
from course_lib.auctions import AuctionOutcome


def roundtrip(value, flagged=None):
    header, buffers = codec.encode(value)
    return codec.decode(header, memoryview(b"".join(buffers)), flagged)


def test_values_come_back_equal_and_of_exact_types():
    value = {"a": [1, 2.5, None, True, "x", 10**30], "t": (np.arange(6).reshape(2, 3),),
             "s": np.float32(1.5), "n": float("nan")}
    back = roundtrip(value)
    assert back["a"] == [1, 2.5, None, True, "x", 10**30]
    assert type(back["t"]) is tuple and type(back["t"][0]) is np.ndarray
    np.testing.assert_array_equal(back["t"][0], value["t"][0])
    assert back["s"].dtype == np.float32 and back["s"] == 1.5 and np.isnan(back["n"])


@pytest.mark.parametrize("dtype", [">f8", "<f8", ">i4", ">c16", ">u2"])
def test_arrays_arrive_with_their_values_in_any_byte_order_and_layout(dtype):
    array = (np.arange(12).reshape(3, 4) * 1.5 - 4).astype(dtype)[:, ::-2]  # strided too
    back = roundtrip(array)
    assert back.dtype.isnative and back.flags.c_contiguous
    np.testing.assert_array_equal(back, array)
    assert roundtrip(np.float64(2.5).astype(">f8")[()]) == 2.5


def test_a_random_generator_state_travels_as_data():
    rng = np.random.default_rng(3)
    rng.random(5)
    back = roundtrip(rng.bit_generator.state)
    twin = np.random.default_rng()
    twin.bit_generator.state = back
    assert twin.random() == rng.random()


def test_subclasses_become_their_base_types():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    class Weird(float):
        def __eq__(self, other):
            return True

    back = roundtrip([np.zeros(3).view(Liar), Weird(2.0)])
    assert type(back[0]) is np.ndarray and type(back[1]) is float
    assert not (back[0] == 1).any() and back[1] != 3.0


def test_course_dataclasses_are_rebuilt_with_the_judges_class():
    back = roundtrip(AuctionOutcome(winner=2, price=0.5))
    assert type(back) is AuctionOutcome and back.winner == 2 and back.price == 0.5


def test_tensors_keep_dtype_and_report_their_gradient_flag():
    flagged = []
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    back = roundtrip([t * 2, torch.ones(2)], flagged)
    assert back[0].dtype == torch.float64 and not back[0].requires_grad
    assert len(flagged) == 1 and flagged[0] is back[0]


@pytest.mark.parametrize("value", [lambda: 1, object(), {1: "a"}, np.array([object()]),
                                   [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]])
def test_what_is_not_plain_data_cannot_be_sent(value):
    with pytest.raises(codec.CodecError):
        codec.encode(value)


def _message(value_node, sizes, payload=b""):
    return json.dumps({"value": value_node, "sizes": sizes}).encode(), memoryview(payload)


@pytest.mark.parametrize("node, sizes, payload", [
    ({"t": "array", "dtype": "float64", "shape": [3], "buf": 0}, [8], b"\0" * 8),  # too short
    ({"t": "array", "dtype": "object", "shape": [1], "buf": 0}, [8], b"\0" * 8),
    ({"t": "array", "dtype": "float64", "shape": [1], "buf": 5}, [8], b"\0" * 8),
    ({"t": "dataclass", "module": "os", "name": "system", "fields": {}}, [], b""),
    ({"t": "dataclass", "module": "course_lib.auctions", "name": "np", "fields": {}}, [], b""),
    ({"t": "dataclass", "module": "course_lib.auctions", "name": "AuctionOutcome",
      "fields": {"winner": 1}}, [], b""),
    ({"t": "pickle", "v": "x"}, [], b""),
    ([1, 2], [], b""),
    ({"t": "int", "v": "9" * 5000}, [], b""),
    (None, [4], b"\0" * 8),  # bytes that no size announces
])
def test_malformed_messages_are_refused(node, sizes, payload):
    with pytest.raises(codec.CodecError):
        codec.decode(*_message(node, sizes, payload))
