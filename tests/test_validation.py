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
