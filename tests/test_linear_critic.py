"""Public tests for chapter 6's generalising critic (course_lib/linear_critic.py): exercise
6.6 (the linear TD(0) step), the critic's features, and SAC trained with it.

Tests marked ``@pytest.mark.exercise("6.6")`` check the exercise; ``course_lib.check("6.6")``
runs them against your own code.
"""

from __future__ import annotations

import numpy as np
import pytest
from oracles import loop_linear_td_update, loop_td_update

from course_lib.envs.wireless import WirelessNetwork, make_grid, state_index
from course_lib.linear_critic import LinearCritic, linear_td_update

# SAC itself (course_lib.wireless_sac) is imported inside the tests that use it, so that a
# broken wireless_sac.py costs exercise 6.6 nothing.

# ======================================================================================
# 6.6 The linear TD(0) step
# ======================================================================================


@pytest.mark.exercise("6.6")
def test_linear_td_update_by_hand():
    weights = np.zeros((2, 2))
    index = np.array([0, 0, 1])
    features = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    out = linear_td_update(weights, index, features, np.array([1.0, 1.0, 0.5]),
                           np.zeros(3), gamma=0.5, lr=0.5)
    # row 0: deltas 1 and 1; feature 0: (1 + 1) / 2 = 1, feature 1: 1 / 1 = 1; times 0.5 / 2
    # row 1: delta 0.5; both features 0.5 / 1; times 0.25
    np.testing.assert_allclose(out, [[0.25, 0.25], [0.125, 0.125]])
    np.testing.assert_array_equal(weights, 0.0)  # the input is left alone


@pytest.mark.exercise("6.6")
def test_linear_td_update_predictions_use_the_weights_on_entry():
    weights = np.array([[1.0, 2.0]])
    features = np.array([[1.0, 1.0], [1.0, 0.0]])
    # predictions 3 and 1; targets 0 + 0.5 * 2 = 1 and 1 + 0.5 * 4 = 3: deltas -2 and 2
    out = linear_td_update(weights, np.array([0, 0]), features, np.array([0.0, 1.0]),
                           np.array([2.0, 4.0]), gamma=0.5, lr=1.0)
    # feature 0: (-2 + 2) / 2 = 0; feature 1: -2 / 1; times 1 / 2
    np.testing.assert_allclose(out, [[1.0, 1.0]])
    # the same step at lr 0.5: feature 1 moves by 0.5 / 2 * -2 = -0.5
    out = linear_td_update(weights, np.array([0, 0]), features, np.array([0.0, 1.0]),
                           np.array([2.0, 4.0]), gamma=0.5, lr=0.5)
    np.testing.assert_allclose(out, [[1.0, 1.5]])


@pytest.mark.exercise("6.6")
def test_linear_td_update_leaves_unvisited_rows_and_silent_features_alone():
    weights = np.array([[0.3, -0.7], [5.0, 6.0]])
    out = linear_td_update(weights, np.array([0, 0]), np.array([[1.0, 0.0], [1.0, 0.0]]),
                           np.array([1.0, 0.0]), np.zeros(2), gamma=0.9, lr=0.5)
    assert out[0, 1] == -0.7          # feature 1 was 0 in every sample of row 0
    np.testing.assert_array_equal(out[1], [5.0, 6.0])   # row 1 was not visited
    assert out[0, 0] == pytest.approx(0.3 + 0.25 * (0.5 - 0.3))


@pytest.mark.exercise("6.6")
def test_linear_td_update_with_the_feature_one_is_the_tabular_update():
    rng = np.random.default_rng(0)
    values = rng.normal(size=40)
    index = rng.integers(0, 40, 300)
    rewards, nxt = rng.random(300), rng.normal(size=300)
    out = linear_td_update(values[:, None], index, np.ones((300, 1)), rewards, nxt, 0.7, 0.4)
    np.testing.assert_allclose(out[:, 0], loop_td_update(values, index, rewards, nxt, 0.7, 0.4))


@pytest.mark.exercise("6.6")
def test_linear_td_update_matches_a_loop_on_random_batches():
    rng = np.random.default_rng(1)
    weights = rng.normal(size=(12, 3))
    index = rng.integers(0, 12, 200)
    features = (rng.random((200, 3)) < 0.5) * rng.random((200, 3))
    rewards, nxt = rng.random(200), rng.normal(size=200)
    np.testing.assert_allclose(
        linear_td_update(weights, index, features, rewards, nxt, 0.9, 0.3),
        loop_linear_td_update(weights, index, features, rewards, nxt, 0.9, 0.3))


def test_linear_td_update_rejects_bad_input():
    w = np.zeros((3, 2))
    ok = {"index": np.array([0]), "features": np.ones((1, 2)), "rewards": np.ones(1),
          "next_values": np.zeros(1), "gamma": 0.5, "lr": 0.5}
    with pytest.raises(ValueError, match="rows of weights"):
        linear_td_update(w, **{**ok, "index": np.array([3])})
    with pytest.raises(ValueError, match="features must have shape"):
        linear_td_update(w, **{**ok, "features": np.ones((1, 3))})
    with pytest.raises(ValueError, match="finite"):
        linear_td_update(w, **{**ok, "features": np.array([[np.nan, 1.0]])})
    with pytest.raises(ValueError, match="finite"):
        linear_td_update(w, **{**ok, "rewards": np.array([np.inf])})
    with pytest.raises(ValueError, match=r"lr must be > 0"):
        linear_td_update(w, **{**ok, "lr": 0.0})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        linear_td_update(w, **{**ok, "gamma": 1.5})
    with pytest.raises(ValueError, match="2-D"):
        linear_td_update(np.zeros(3), **ok)


# ======================================================================================
# The critic's features and the critic in SAC
# ======================================================================================


def _random_step(grid, copies=50, seed=0):
    rng = np.random.default_rng(seed)
    env = WirelessNetwork(grid, copies, seed=seed)
    states = state_index(env.reset())
    actions = np.stack([rng.choice(np.flatnonzero(grid.valid[i]), copies)
                        for i in range(grid.n_users)], 1)
    return states, actions


def test_clear_means_no_one_hop_neighbour_sends_to_the_same_access_point():
    grid = make_grid()
    critic = LinearCritic(grid, 1)
    states, actions = _random_step(grid)
    x = critic.features(states, actions)
    ap = grid.actions[np.arange(grid.n_users), actions, 1]        # (copies, n)
    for b in range(len(states)):
        for i in range(grid.n_users):
            others = [j for j in range(grid.n_users) if j != i and ap[b, j] == ap[b, i]]
            assert x[b, i, 1] == float(ap[b, i] >= 0 and not others)
    np.testing.assert_array_equal(x[..., 0], 1.0)


def test_clear_two_means_no_user_two_hops_away_sends():
    from course_lib.envs.wireless import hop_distances

    grid = make_grid()
    critic = LinearCritic(grid, 2)
    states, actions = _random_step(grid, seed=3)
    x = critic.features(states, actions)
    ap = grid.actions[np.arange(grid.n_users), actions, 1]
    hops = hop_distances(grid.access)
    for b in range(len(states)):
        for i in range(grid.n_users):
            far_send = (ap[b] >= 0) & (hops[i] == 2)
            assert x[b, i, 2] == float(ap[b, i] >= 0 and not far_send.any())


def test_k0_linear_critic_is_the_table_over_own_codes():
    grid = make_grid()
    critic = LinearCritic(grid, 0)
    assert critic.n_features == 1
    assert critic.weights.shape == (grid.n_users * grid.n_states * grid.n_actions, 1)
    states, actions = _random_step(grid)
    rows = critic.rows(states, actions)
    assert len(np.unique(rows[0])) == grid.n_users   # one row per user and own code


def test_linear_critic_memory_is_fixed_by_the_network_not_by_training():
    from course_lib.wireless_sac import SACConfig, train_sac

    grid = make_grid()
    run = train_sac(grid, SACConfig(k=1, critic="linear", critic_lr=0.33, episodes=600,
                                    batch=200, eval_every=200, eval_episodes=50), seed=0)
    assert len(set(run.critic_bytes)) == 1
    assert run.critic_bytes[0] == grid.n_users * grid.n_states * grid.n_actions * 2 * 8
    tab = train_sac(grid, SACConfig(k=1, episodes=600, batch=200, eval_every=200,
                                    eval_episodes=50), seed=0)
    assert tab.critic_bytes == sorted(tab.critic_bytes) and tab.critic_bytes[-1] > \
        tab.critic_bytes[1] > 0


def test_sac_with_the_linear_critic_learns_to_beat_random_users():
    from course_lib.wireless_sac import SACConfig, train_sac

    grid = make_grid()
    run = train_sac(grid, SACConfig(k=1, critic="linear", critic_lr=0.33, episodes=4000,
                                    eval_every=4000, eval_episodes=1000), seed=0)
    assert run.returns[-1] > 3 * run.returns[0]  # random users: about 0.02
    assert np.isfinite(run.critic.weights).all()


def test_linear_critic_rejects_bad_input():
    from course_lib.wireless_sac import SACConfig

    with pytest.raises(TypeError, match="make_grid"):
        LinearCritic("grid", 1)
    with pytest.raises(ValueError, match="k must be >= 0"):
        LinearCritic(make_grid(), -1)
    with pytest.raises(TypeError, match="k must be an integer"):
        LinearCritic(make_grid(), 1.5)
    with pytest.raises(ValueError, match="critic must be one of"):
        SACConfig(critic="neural")
