"""Instructor-only tests for exercise 6.6: edge cases and larger inputs."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import loop_linear_td_update

from course_lib.linear_critic import linear_td_update


@pytest.mark.exercise("6.6")
def test_hidden_linear_td_update_empty_batch_and_gamma_zero():
    weights = np.array([[0.3, -0.2]])
    out = linear_td_update(weights, np.zeros(0, int), np.zeros((0, 2)), np.zeros(0),
                           np.zeros(0), 0.9, 0.5)
    np.testing.assert_array_equal(out, weights)
    out = linear_td_update(np.zeros((1, 1)), np.array([0, 0]), np.ones((2, 1)),
                           np.array([1.0, 3.0]), np.array([50.0, 50.0]), 0.0, 1.0)
    np.testing.assert_allclose(out, [[2.0]])


@pytest.mark.exercise("6.6")
def test_hidden_linear_td_update_non_binary_features_divide_by_squares():
    out = linear_td_update(np.zeros((1, 1)), np.array([0, 0]), np.array([[2.0], [1.0]]),
                           np.array([1.0, 1.0]), np.zeros(2), 0.5, 1.0)
    # (1 * 2 + 1 * 1) / (4 + 1)
    np.testing.assert_allclose(out, [[0.6]])


@pytest.mark.exercise("6.6")
def test_hidden_linear_td_update_large_batch_matches_loop():
    rng = np.random.default_rng(5)
    weights = rng.normal(size=(30, 4))
    index = rng.integers(0, 30, 1500)
    features = (rng.random((1500, 4)) < 0.3).astype(float)
    features[:, 0] = 1.0
    r, nxt = rng.random(1500), rng.normal(size=1500)
    np.testing.assert_allclose(linear_td_update(weights, index, features, r, nxt, 0.7, 0.2),
                               loop_linear_td_update(weights, index, features, r, nxt, 0.7,
                                                     0.2), rtol=1e-10)
