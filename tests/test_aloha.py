"""Public tests for chapter 6's ALOHA-like benchmark (course_lib/aloha.py): exercise 6.2 and
the evaluation around it.

Tests marked ``@pytest.mark.exercise("6.2")`` check the exercise; ``course_lib.check("6.2")``
runs them against your own code.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.aloha import (
    SEND_PROBS,
    access_point_weights,
    aloha_actions,
    aloha_policy,
    tune_aloha,
)
from course_lib.envs.wireless import MAX_REACH, WirelessNetwork, discounted_return, make_grid

# ======================================================================================
# 6.2 The ALOHA-like rule
# ======================================================================================


def uniform_weights(n_users, reach=1):
    w = np.zeros((n_users, MAX_REACH))
    w[:, :reach] = 1.0 / reach
    return w


@pytest.mark.exercise("6.2")
def test_aloha_sends_the_most_urgent_packet_or_waits():
    queues = np.array([[[0, 0], [1, 0], [0, 1], [1, 1]]])  # one copy, four users
    actions = aloha_actions(queues, uniform_weights(4), 1.0, np.random.default_rng(0))
    assert actions.shape == (1, 4)
    # no packet: wait; slot 0 first when both are full; one access point (r = 0)
    assert actions.tolist() == [[0, 1, 1 + MAX_REACH, 1]]
    never = aloha_actions(queues, uniform_weights(4), 0.0, np.random.default_rng(0))
    assert (never == 0).all()


@pytest.mark.exercise("6.2")
def test_aloha_sends_with_probability_p_and_picks_points_by_weight():
    rng = np.random.default_rng(1)
    queues = np.zeros((20000, 2, 2), np.uint8)
    queues[:, :, 1] = 1
    weights = np.array([[0.2, 0.8, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]])
    actions = aloha_actions(queues, weights, 0.3, rng)
    sent = actions > 0
    assert abs(sent.mean() - 0.3) < 0.01
    for user in range(2):
        r = (actions[sent[:, user], user] - 1) % MAX_REACH
        freq = np.bincount(r, minlength=MAX_REACH) / len(r)
        np.testing.assert_allclose(freq, weights[user], atol=0.02)
    assert ((actions[sent] - 1) // MAX_REACH == 1).all()  # slot 1, the only packet


@pytest.mark.exercise("6.2")
def test_aloha_draws_from_the_generator_it_is_given():
    """Two calls with one generator continue its stream: their actions differ, and match a
    second generator of the same seed used the same way."""
    queues = np.ones((500, 3, 2), np.uint8)
    weights = uniform_weights(3)
    rng, twin = np.random.default_rng(5), np.random.default_rng(5)
    first, second = (aloha_actions(queues, weights, 0.5, rng) for _ in range(2))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, aloha_actions(queues, weights, 0.5, twin))
    np.testing.assert_array_equal(second, aloha_actions(queues, weights, 0.5, twin))


@pytest.mark.exercise("6.2")
def test_aloha_actions_are_valid_in_the_network():
    """Over an episode the actions are valid, and follow the rule: wait without a packet, send
    the lowest occupied slot about 70% of the time, only to access points of positive weight."""
    g = make_grid()
    env = WirelessNetwork(g, n_copies=64, seed=0)
    queues = env.reset()
    rng = np.random.default_rng(1)  # not the network's seed: its arrivals would match the draws
    weights = access_point_weights(g)
    sends = chances = 0
    for _ in range(g.horizon):
        actions = aloha_actions(queues, weights, 0.7, rng)
        has_packet = np.asarray(queues).any(axis=2)
        sent = actions > 0
        assert not sent[~has_packet].any()
        slot, point = np.divmod(actions - 1, MAX_REACH)
        users = np.broadcast_to(np.arange(actions.shape[1]), actions.shape)
        assert (slot[sent] == np.asarray(queues).argmax(axis=2)[sent]).all()
        assert (weights[users[sent], point[sent]] > 0).all()
        sends, chances = sends + sent.sum(), chances + has_packet.sum()
        queues, _, _ = env.step(env.check_actions(actions))
    assert chances > 500 and abs(sends / chances - 0.7) < 0.05


@pytest.mark.exercise("6.2")
def test_aloha_longer_deadlines_send_the_lowest_occupied_slot():
    """Catches code written for the default deadline d = 2 only (slot 0, else slot 1): with
    three slots the lowest occupied one is sent, whichever it is."""
    queues = np.array([[[0, 1, 1], [0, 0, 1], [1, 0, 1], [0, 0, 0], [1, 1, 1]]])
    actions = aloha_actions(queues, uniform_weights(5), 1.0, np.random.default_rng(3))
    # 1 + slot * MAX_REACH + r with r = 0: slots 1, 2, 0, (wait), 0
    assert actions.tolist() == [[1 + MAX_REACH, 1 + 2 * MAX_REACH, 1, 0, 1]]


@pytest.mark.exercise("6.2")
def test_aloha_draws_its_random_numbers_from_rng():
    """Catches drawing from numpy's global generator instead of ``rng``: the same seed must
    give the same actions, and another seed other ones."""
    queues = np.ones((500, 3, 2), np.uint8)
    weights = np.array([[0.5, 0.5, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0]])
    first = aloha_actions(queues, weights, 0.5, np.random.default_rng(7))
    again = aloha_actions(queues, weights, 0.5, np.random.default_rng(7))
    other = aloha_actions(queues, weights, 0.5, np.random.default_rng(8))
    np.testing.assert_array_equal(first, again)
    assert (first != other).any()


def test_aloha_rejects_bad_input():
    queues = np.zeros((1, 4, 2), np.uint8)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="p_send"):
        aloha_actions(queues, uniform_weights(4), 1.5, rng)
    with pytest.raises(TypeError, match="Generator"):
        aloha_actions(queues, uniform_weights(4), 0.5, 0)
    with pytest.raises(ValueError, match="copies, users, d"):
        aloha_actions(queues[0], uniform_weights(4), 0.5, rng)
    with pytest.raises(ValueError, match="weights"):
        aloha_actions(queues, uniform_weights(3), 0.5, rng)
    with pytest.raises(ValueError, match="0/1"):
        aloha_actions(queues + 2, uniform_weights(4), 0.5, rng)


# ======================================================================================
# Weights, returns and the grid search
# ======================================================================================


def test_access_point_weights_favour_good_and_lightly_loaded_points():
    g = make_grid()
    w = access_point_weights(g)
    np.testing.assert_allclose(w.sum(1), 1.0)
    served = g.access.sum(0)
    for i in range(g.n_users):
        aps = np.flatnonzero(g.access[i])
        raw = g.success_prob[aps] / served[aps]
        np.testing.assert_allclose(w[i, :len(aps)], raw / raw.sum())
        assert (w[i, len(aps):] == 0).all()
    with pytest.raises(TypeError, match="make_grid"):
        access_point_weights("grid")


def test_discounted_return_by_hand():
    # Four users on one access point (q = 1), a packet always waiting: with p_send = 0.25 a
    # user delivers when it sends and the three others do not: 0.25 * 0.75**3 per step
    # (with arrival probability 1 every user starts with a packet and always has one).
    g = make_grid(2, 2, 1, arrival_prob=1.0, success_prob=1.0)
    per_step = 0.25 * 0.75 ** 3
    expected = per_step * sum(0.7 ** t for t in range(g.horizon))
    got = discounted_return(g, aloha_policy(g, 0.25), episodes=20000, seed=0)
    assert got == pytest.approx(expected, abs=0.01)
    assert discounted_return(g, aloha_policy(g, 1.0), episodes=50) == 0.0  # all collide
    assert discounted_return(g, aloha_policy(g, 0.0), episodes=50) == 0.0  # all wait


def test_tuning_picks_the_best_send_probability():
    g = make_grid()
    best, returns = tune_aloha(g, episodes=500, seed=0)
    assert set(returns) == set(SEND_PROBS) and best in returns
    assert returns[best] == max(returns.values())
    assert returns[0.0] == 0.0 and 0.1 < returns[best] < 0.3
    assert 0.1 <= best <= 0.6  # sending always collides; never sending delivers nothing


def test_the_authors_stale_first_decision_lowers_the_benchmark():
    # their evaluation computes each episode's first action from the previous episode's
    # final queue; in a correct environment that costs the benchmark about 0.04
    from course_lib.aloha import stale_start_return

    grid = make_grid()
    right = discounted_return(grid, aloha_policy(grid, 0.35), 4000, seed=0)
    stale = stale_start_return(grid, 0.35, 4000, seed=0)
    assert 0.17 < right < 0.19
    assert 0.12 < stale < 0.15


# ======================================================================================
# The richer benchmark: a send probability per class of user and queue state
# ======================================================================================


def test_user_classes_count_the_access_points_a_user_reaches():
    from course_lib.aloha import user_classes

    g = make_grid()
    classes, counts = user_classes(g)
    assert counts == [1, 2, 4]  # corner, edge and inner cells of the 3 x 4 grid
    np.testing.assert_array_equal(np.asarray(counts)[classes], g.access.sum(1))


def test_the_rich_rule_sends_by_class_and_queue_state():
    from course_lib.aloha import rich_aloha_policy, user_classes

    g = make_grid()
    classes, _ = user_classes(g)
    weights = access_point_weights(g)
    queues = np.random.default_rng(0).random((4000, g.n_users, g.deadline)) < 0.5
    # a table of ones is the rule that always sends: the same draws as aloha_actions at 1
    ones = rich_aloha_policy(g, np.ones((3, 3)))(queues, np.random.default_rng(5))
    np.testing.assert_array_equal(
        ones, aloha_actions(queues, weights, 1.0, np.random.default_rng(5)))
    assert not rich_aloha_policy(g, np.zeros((3, 3)))(queues, np.random.default_rng(5)).any()
    # only inner users (class 2) holding a packet in slot 1 alone (state 2) may send, half
    # of the time
    table = np.zeros((3, 3))
    table[2, 1] = 0.5
    sent = rich_aloha_policy(g, table)(queues, np.random.default_rng(6)) > 0
    allowed = (classes == 2)[None, :] & queues[..., 1] & ~queues[..., 0]
    assert not sent[~allowed].any()
    assert sent[allowed].mean() == pytest.approx(0.5, abs=0.02)


def test_the_rich_rule_rejects_bad_tables():
    from course_lib.aloha import rich_aloha_policy, tune_rich_aloha

    g = make_grid()
    with pytest.raises(ValueError, match=r"shape \(3, 3\)"):
        rich_aloha_policy(g, np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rich_aloha_policy(g, np.full((3, 3), 1.5))
    with pytest.raises(ValueError, match="at least one"):
        tune_rich_aloha(g, 0.3, episodes=20, values=[])


def test_coordinate_ascent_never_does_worse_than_its_start():
    from course_lib.aloha import rich_aloha_policy, tune_rich_aloha

    g = make_grid()
    table, tuned = tune_rich_aloha(g, 0.35, episodes=200, seed=3, values=(0.0, 0.35, 1.0))
    start = discounted_return(g, rich_aloha_policy(g, np.full((3, 3), 0.35)), 200, 3)
    assert tuned >= start and set(np.unique(table)) <= {0.0, 0.35, 1.0}
    assert tuned == discounted_return(g, rich_aloha_policy(g, table), 200, 3)


def test_send_prob_grid_spans_zero_to_one():
    from course_lib.aloha import RICH_SEND_PROBS, send_prob_grid

    assert send_prob_grid(0.25) == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert RICH_SEND_PROBS[:len(SEND_PROBS)] == SEND_PROBS and RICH_SEND_PROBS[-1] == 1.0
    with pytest.raises(ValueError, match="divide 1"):
        send_prob_grid(0.3)
