"""Instructor-only tests for exercise 6.2: longer deadlines, zero weights, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.aloha import aloha_actions
from course_lib.envs.wireless import MAX_REACH


@pytest.mark.exercise("6.2")
def test_hidden_longer_deadlines_send_the_lowest_occupied_slot():
    queues = np.array([[[0, 1, 1], [0, 0, 1], [1, 0, 1], [0, 0, 0]]])
    weights = np.zeros((4, MAX_REACH))
    weights[:, 0] = 1.0
    actions = aloha_actions(queues, weights, 1.0, np.random.default_rng(3))
    assert actions.tolist() == [[1 + MAX_REACH, 1 + 2 * MAX_REACH, 1, 0]]


@pytest.mark.exercise("6.2")
def test_hidden_zero_weight_points_are_never_chosen_and_draws_are_reproducible():
    queues = np.ones((5000, 3, 2), np.uint8)
    weights = np.array([[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.5, 0.0], [0.0, 0.0, 0.0, 1.0]])
    a = aloha_actions(queues, weights, 0.9, np.random.default_rng(7))
    b = aloha_actions(queues, weights, 0.9, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    r = (a - 1) % MAX_REACH
    sent = a > 0
    assert set(r[sent[:, 0], 0]) == {1}
    assert set(r[sent[:, 1], 1]) == {0, 2}
    assert set(r[sent[:, 2], 2]) == {3}
    assert abs(sent.mean() - 0.9) < 0.01
