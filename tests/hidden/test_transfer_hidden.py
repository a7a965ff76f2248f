"""Instructor-only tests for exercise 4.4: cases the public tests leave out."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracles import loop_weight_shift

from course_lib.transfer import weight_shift


@pytest.mark.exercise("4.4")
def test_hidden_weight_shift_many_tensors_of_many_shapes():
    rng = np.random.default_rng(5)
    shapes = [(3, 4, 5), (1,), (17,), (2, 2), (0,)]
    before = {f"p{i}": rng.normal(size=s) for i, s in enumerate(shapes)}
    after = {k: v + rng.laplace(size=v.shape) * 0.05 for k, v in before.items()}
    for threshold in (0.0, 0.02, 0.05, 1.0):
        assert weight_shift(before, after, threshold) == pytest.approx(
            loop_weight_shift(before, after, threshold))


@pytest.mark.exercise("4.4")
def test_hidden_weight_shift_float32_tensors_and_keys_in_another_order():
    before = {"a": torch.zeros(3), "b": torch.zeros(2, dtype=torch.float32)}
    after = {"b": torch.tensor([0.0, 2.0]), "a": torch.tensor([1.0, 0.0, 0.0])}
    assert weight_shift(before, after, 0.5) == pytest.approx(0.4)


@pytest.mark.exercise("4.4")
def test_hidden_weight_shift_large_threshold_is_zero_and_every_move_counts_once():
    before = {"w": np.zeros((10, 10))}
    after = {"w": np.full((10, 10), 3.0)}
    assert weight_shift(before, after, 5.0) == 0.0
    assert weight_shift(before, after, 2.999) == 1.0
