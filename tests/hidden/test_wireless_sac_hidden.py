"""Instructor-only tests for exercises 6.3 and 6.4: edge cases and larger inputs."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import loop_policy_gradient, loop_td_update

from course_lib.wireless_sac import policy_gradient, td_update


@pytest.mark.exercise("6.3")
def test_hidden_td_update_empty_batch_and_gamma_zero():
    values = np.array([0.3, -0.2])
    np.testing.assert_array_equal(
        td_update(values, np.zeros(0, int), np.zeros(0), np.zeros(0), 0.9, 0.5), values)
    out = td_update(values, np.array([1, 1, 1]), np.array([1.0, 2.0, 3.0]),
                    np.array([100.0, 100.0, 100.0]), 0.0, 0.25)
    np.testing.assert_allclose(out, [0.3, -0.2 + 0.25 * (2.0 + 0.2)])


@pytest.mark.exercise("6.3")
def test_hidden_td_update_large_table_matches_loop():
    rng = np.random.default_rng(11)
    values = rng.normal(size=3000)
    index = rng.integers(0, 3000, 20000)
    r, nxt = rng.random(20000), rng.normal(size=20000)
    np.testing.assert_allclose(td_update(values, index, r, nxt, 0.99, 0.05),
                               loop_td_update(values, index, r, nxt, 0.99, 0.05))


@pytest.mark.exercise("6.4")
def test_hidden_policy_gradient_is_the_gradient_of_the_weighted_log_likelihood():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(3, 2, 4))
    states = rng.integers(0, 2, (5, 3, 3))
    actions = rng.integers(0, 4, (5, 3, 3))
    weights = rng.normal(size=(5, 3, 3))

    def objective(z):
        logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        users = np.broadcast_to(np.arange(3), states.shape)
        return (weights * logp[users, states, actions]).sum() / 5

    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    grad = policy_gradient(probs, states, actions, weights)
    eps = 1e-6
    for index in [(0, 0, 0), (1, 1, 3), (2, 0, 2), (2, 1, 1)]:
        bumped = logits.copy()
        bumped[index] += eps
        numeric = (objective(bumped) - objective(logits)) / eps
        assert grad[index] == pytest.approx(numeric, abs=1e-4)


@pytest.mark.exercise("6.4")
def test_hidden_policy_gradient_many_users_matches_loop():
    rng = np.random.default_rng(9)
    probs = rng.dirichlet(np.ones(9), size=(24, 4))
    states = rng.integers(0, 4, (7, 11, 24))
    actions = rng.integers(0, 9, (7, 11, 24))
    weights = rng.random((7, 11, 24))
    np.testing.assert_allclose(policy_gradient(probs, states, actions, weights),
                               loop_policy_gradient(probs, states, actions, weights))


@pytest.mark.exercise("6.5")
def test_hidden_sensitivity_ignores_far_samples_and_uses_absolute_values():
    from course_lib.wireless_sac import sensitivity_by_hop

    out = sensitivity_by_hop(np.array([0.0, 0.0, 0.0, 5.0]), np.array([1.0, -3.0, 2.0, 0.0]),
                             np.array([2, 2, 1, 7]), 3)
    assert np.isnan(out[2])
    np.testing.assert_allclose(out[:2], [2.0, 2.0])


@pytest.mark.exercise("6.5")
def test_hidden_sensitivity_large_input_matches_loop():
    from oracles import loop_sensitivity

    from course_lib.wireless_sac import sensitivity_by_hop

    rng = np.random.default_rng(8)
    a, b = rng.normal(size=5000), rng.normal(size=5000)
    hops = rng.integers(1, 9, 5000)
    np.testing.assert_allclose(sensitivity_by_hop(a, b, hops, 6), loop_sensitivity(a, b, hops, 6))
