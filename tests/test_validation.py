"""Shared argument checks (course_lib/validation.py)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.validation import as_float_array, check_finite, check_float, check_int


def test_check_int():
    assert check_int("n", np.int64(3), 1) == 3
    with pytest.raises(TypeError, match="n must be an integer"):
        check_int("n", 2.0)
    with pytest.raises(TypeError):
        check_int("n", True)
    with pytest.raises(ValueError, match="n must be >= 1"):
        check_int("n", 0, 1)


def test_check_float():
    assert check_float("x", np.float32(0.5), positive=True) == 0.5
    for bad, err in (("1", TypeError), (None, TypeError), (False, TypeError),
                     (np.nan, ValueError), (np.inf, ValueError)):
        with pytest.raises(err, match="x"):
            check_float("x", bad)
    with pytest.raises(ValueError, match="> 0"):
        check_float("x", 0, positive=True)
    with pytest.raises(ValueError, match=">= 0"):
        check_float("x", -1e-3, non_negative=True)


def test_arrays():
    assert as_float_array([1, 2], "a").dtype == float
    with pytest.raises(TypeError, match="a must"):
        as_float_array([[1], [2, 3]], "a")
    with pytest.raises(TypeError, match="a must"):
        as_float_array("12", "a")
    with pytest.raises(ValueError, match="finite"):
        check_finite(np.array([1.0, np.nan]), "a")


def test_check_choice_and_schedule():
    from course_lib.validation import check_choice, check_schedule

    assert check_choice("mode", "a", ("a", "b")) == "a"
    with pytest.raises(ValueError, match="unknown mode 'c'"):
        check_choice("mode", "c", ("a", "b"))
    with pytest.raises(TypeError, match="mode must be a string"):
        check_choice("mode", 1, ("a", "b"))
    assert check_schedule("sigma", (0.3, 0.01)) == (0.3, 0.01)
    with pytest.raises(TypeError, match="pair"):
        check_schedule("sigma", 0.1)
    with pytest.raises(ValueError, match=r"sigma\[1\]"):
        check_schedule("sigma", (0.1, 0.0))


def test_check_unit_accepts_the_unit_interval_only():
    from course_lib.validation import check_unit

    assert check_unit("p", 0) == 0.0 and check_unit("p", np.float32(1.0)) == 1.0
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\], got 1.5"):
        check_unit("p", 1.5)
    with pytest.raises(ValueError, match="p must be >= 0"):
        check_unit("p", -0.1)
    with pytest.raises(ValueError, match="lr must be > 0"):
        check_unit("lr", 0.0, positive=True)
    with pytest.raises(TypeError, match="number"):
        check_unit("p", "half")


# ---- issue 18: the helpers that make bad input fail fast ----------------------------------


def test_check_int_has_an_upper_bound_and_check_size_states_the_limit():
    from course_lib.validation import check_size

    assert check_int("n", 5, 1, 5) == 5
    with pytest.raises(ValueError, match="n must be at most 5, got 6"):
        check_int("n", 6, 1, 5)
    assert check_size("a * b", 10, limit=10) == 10
    with pytest.raises(ValueError, match=r"a \* b = 4,000,000,000 users exceeds the limit of "
                                         r"50,000 \(MAX_USERS\)"):
        check_size("a * b", 4 * 10**9, 50_000, "MAX_USERS", "users")
    with pytest.raises(ValueError, match=r"1e\+24 numbers exceeds the limit .*MAX_ELEMENTS"):
        check_size("n", 10**24)


@pytest.mark.parametrize("bad", [[True, False], np.array([True]), ["1", "2"], [1j, 2.0],
                                 [None, 1.0], [1, 2**70]])
def test_as_float_array_refuses_what_is_not_real_numbers(bad):
    with pytest.raises(TypeError, match="x must"):
        as_float_array(bad, "x")


def test_as_float_array_finite_and_check_finite_refuse_non_numbers():
    with pytest.raises(ValueError, match="x must be finite"):
        as_float_array([1.0, np.inf], "x", finite=True)
    assert np.isnan(as_float_array([np.nan], "x")[0])  # without finite, NaN is a number
    with pytest.raises(TypeError, match="a must hold real numbers"):
        check_finite(np.array([1j]), "a")


def test_index_and_bool_arrays():
    from course_lib.validation import NotIndicesError, as_bool_array, as_index_array

    assert as_index_array([0, 2], "i", 3).tolist() == [0, 2]
    assert as_index_array([], "i", 3).dtype.kind == "i"
    with pytest.raises(ValueError, match=r"i must be integer indices in \[0, 3\)"):
        as_index_array([3], "i", 3)
    with pytest.raises(ValueError, match="i must be integer indices >= 1"):
        as_index_array([0], "i", minimum=1)
    assert as_index_array([-5], "i", 3, minimum=None).tolist() == [-5]
    for bad in ([True], ["1"], [None]):
        with pytest.raises(TypeError, match="i must"):
            as_index_array(bad, "i")
    with pytest.raises(NotIndicesError) as info:  # whole floats: both a TypeError and a
        as_index_array([1.0], "i")               # ValueError
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    assert as_bool_array([0, 1], "m").dtype == bool
    with pytest.raises(ValueError, match="m must hold booleans"):
        as_bool_array([0, 1], "m", zero_one=False)
    with pytest.raises(ValueError, match="m must hold booleans"):
        as_bool_array([2], "m")
    with pytest.raises(TypeError, match="m must hold booleans"):
        as_bool_array(["yes"], "m")
    with pytest.raises(ValueError, match=r"m must have shape \(3,\)"):
        as_bool_array([True], "m", (3,))


def test_callbacks_generators_layers_and_seeds():
    from course_lib.config import MAX_SEED, check_seed
    from course_lib.validation import check_callback, check_layers, check_rng

    assert check_callback(None) is None and check_callback(print) is print
    with pytest.raises(TypeError, match="callback must be callable"):
        check_callback(3)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        check_rng(0)
    assert check_layers("(4, 8, 2)", [4, 8, 2]) == 48
    with pytest.raises(ValueError, match="the weights of layers"):
        check_layers("(obs_dim, hidden)", [10**9, 64])
    assert check_seed(MAX_SEED) == MAX_SEED
    with pytest.raises(ValueError, match="seed must be at most"):
        check_seed(MAX_SEED + 1)
    with pytest.raises(TypeError, match="seed"):
        check_seed(float("nan"))
