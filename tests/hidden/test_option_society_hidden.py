"""Instructor-only tests for exercise 4.3: cases the public tests leave out."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import loop_option_utility

from course_lib.option_society import option_utility


@pytest.mark.exercise("4.3")
def test_hidden_option_utility_large_batch_with_two_batch_axes():
    rng = np.random.default_rng(11)
    shape, length, bidders = (9, 13), 30, 6
    rewards = rng.normal(size=shape + (length,))
    durations = rng.integers(1, length + 1, size=shape)
    bids, nxt = rng.random(shape + (bidders,)), rng.random(shape + (bidders,))
    exists = rng.random(shape) < 0.6
    u = option_utility(rewards, durations, 0.99, bids, nxt, exists)
    assert np.shape(u) == shape
    for i in range(shape[0]):
        for j in range(shape[1]):
            expected = loop_option_utility(rewards[i, j], durations[i, j], 0.99, bids[i, j],
                                           nxt[i, j], exists[i, j])
            assert u[i, j] == pytest.approx(expected, rel=1e-10, abs=1e-12)


@pytest.mark.exercise("4.3")
def test_hidden_option_utility_gamma_one_and_zero():
    rewards = np.array([[0.5, 0.25, 0.125, 9.0]])
    args = dict(bids=[[0.4, 0.1]], next_bids=[[0.7, 0.6]], next_exists=[True])
    # gamma 1: plain sums, full next bid.
    np.testing.assert_allclose(option_utility(rewards, [3], 1.0, **args), [0.875 + 0.6 - 0.1])
    # gamma 0: only the first step's reward counts; the next auction is worth nothing.
    np.testing.assert_allclose(option_utility(rewards, [3], 0.0, **args), [0.5 - 0.1])


@pytest.mark.exercise("4.3")
def test_hidden_option_utility_ties_and_negative_bids():
    # Tied top bids: the price is the tied value; negative bids are allowed in the formula.
    u = option_utility([[1.0]], [1], 0.5, [[0.3, 0.3, -0.2]], [[-0.1, -0.4]], [True])
    np.testing.assert_allclose(u, [1.0 + 0.5 * -0.4 - 0.3])
    # All bids negative: paying the second-highest (-0.6) adds to the utility.
    u = option_utility([[1.0]], [1], 0.5, [[-0.3, -0.6, -0.6]], [[-0.1, -0.4]], [True])
    np.testing.assert_allclose(u, [1.0 + 0.5 * -0.4 + 0.6])


@pytest.mark.exercise("4.3")
def test_hidden_option_utility_integer_rewards_and_int32_durations():
    u = option_utility(np.array([[1, 1, 1]]), np.array([2], dtype=np.int32), 0.5,
                       [[0.0, 0.0]], [[0.0, 0.0]], [False])
    np.testing.assert_allclose(u, [1.5])
