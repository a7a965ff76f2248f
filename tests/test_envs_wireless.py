"""Public tests for chapter 6's network (course_lib/envs/wireless.py): exercise 6.1 (k-hop
neighbourhoods) and the batched environment.

Tests marked ``@pytest.mark.exercise("6.1")`` check the exercise; ``course_lib.check("6.1")``
runs them against your own code.
"""

from __future__ import annotations

import numpy as np
import pytest
from oracles import bfs_neighbourhoods

from course_lib.envs.wireless import (
    MAX_REACH,
    WirelessNetwork,
    access_matrix,
    hop_distances,
    make_grid,
    neighbourhoods,
    state_index,
)

# ======================================================================================
# 6.1 k-hop neighbourhoods
# ======================================================================================


@pytest.mark.exercise("6.1")
def test_neighbourhoods_of_a_two_by_three_grid_by_hand():
    # one user per cell, cells 0 1 2 / 3 4 5; access point 0 serves cells 0, 1, 3, 4 and
    # access point 1 serves cells 1, 2, 4, 5
    access = access_matrix(2, 3, 1)
    one = neighbourhoods(access, 1)
    assert one.dtype == bool and one.shape == (6, 6)
    assert np.flatnonzero(one[0]).tolist() == [0, 1, 3, 4]
    assert np.flatnonzero(one[1]).tolist() == [0, 1, 2, 3, 4, 5]  # reaches both points
    assert neighbourhoods(access, 2).all()
    np.testing.assert_array_equal(neighbourhoods(access, 0), np.eye(6, dtype=bool))


@pytest.mark.exercise("6.1")
def test_neighbourhoods_match_a_breadth_first_search_on_the_default_grid():
    access = make_grid().access
    for k in range(4):
        np.testing.assert_array_equal(neighbourhoods(access, k), bfs_neighbourhoods(access, k))


@pytest.mark.exercise("6.1")
def test_neighbourhoods_are_symmetric_and_grow_with_k():
    """Each k gives the breadth-first search's answer, symmetric and growing with k."""
    access = access_matrix(4, 4, 2)
    previous = neighbourhoods(access, 0)
    np.testing.assert_array_equal(previous, np.eye(len(access), dtype=bool))
    for k in range(1, 5):
        current = neighbourhoods(access, k)
        np.testing.assert_array_equal(current, bfs_neighbourhoods(access, k))
        np.testing.assert_array_equal(current, current.T)
        assert (current >= previous).all()
        previous = current


@pytest.mark.exercise("6.1")
def test_neighbourhoods_a_user_without_access_point_is_its_own_neighbourhood():
    """Catches the identity dropped from the one-hop relation: access @ access.T alone has a
    zero row for a user that reaches no access point, so growing from it loses the user."""
    access = np.array([[1, 0], [0, 0], [1, 1], [0, 1]], bool)  # user 1 reaches nothing
    for k in range(4):
        out = neighbourhoods(access, k)
        assert np.flatnonzero(out[1]).tolist() == [1], k
        assert np.flatnonzero(out[:, 1]).tolist() == [1], k
    # the others: 0 and 2 share point 0, 2 and 3 share point 1
    np.testing.assert_array_equal(neighbourhoods(access, 1),
                                  [[1, 0, 1, 0], [0, 1, 0, 0], [1, 0, 1, 1], [0, 0, 1, 1]])
    assert neighbourhoods(access, 2)[0, 3] and not neighbourhoods(access, 1)[0, 3]


@pytest.mark.exercise("6.1")
def test_neighbourhoods_need_one_hop_per_column_of_a_strip_and_stay_boolean_for_large_k():
    """Catches counting walks with integer matrix products and comparing with 0 only at the
    end (the TODO: keep the matrix boolean): the counts overflow int64 long before k = 23."""
    access = access_matrix(2, 12, 1)  # 2 x 12 cells, one user each: users 0..11 / 12..23
    assert not neighbourhoods(access, 10)[0, 23]  # the far corner is 11 columns away
    assert neighbourhoods(access, 11)[0, 23]
    far = neighbourhoods(access, 23)
    assert far.dtype == bool and far.all()


@pytest.mark.exercise("6.1")
def test_neighbourhoods_of_the_default_grid_for_every_k_up_to_its_size():
    """Catches raising integer path counts to the power k (np.linalg.matrix_power or a loop of
    int products) and comparing with 0 once: on the chapter's own 24-user grid the counts pass
    2**63 from k = 15 on, wrap to negative numbers and read as 'not reached'. Every user
    reaches every other in 3 hops, so from k = 3 on the answer is all True."""
    access = make_grid().access
    for k in range(access.shape[0] + 1):
        np.testing.assert_array_equal(neighbourhoods(access, k), bfs_neighbourhoods(access, k),
                                      err_msg=f"k = {k}")


@pytest.mark.exercise("6.1")
def test_neighbourhoods_stay_right_where_path_counts_wrap_to_exactly_zero():
    """Catches integer path counts turned into booleans with `!= 0` or `.astype(bool)`, which
    survive counts that wrap to negative numbers but not counts that wrap to 0. A user alone
    at its access point counts 2**k walks to itself when the one-hop counts carry the added
    identity (2 on the diagonal); 32 users at one point count 32**(k-1) walks between any two
    when the one-hop relation is made 0/1 first. For k = 64 both are multiples of 2**64,
    which int64 stores as 0."""
    alone, shared = 64, 32
    access = np.zeros((alone + shared, alone + 1), bool)
    access[:alone, :alone] = np.eye(alone, dtype=bool)  # user i alone at point i
    access[alone:, alone] = True  # the others all at the last point
    expected = np.eye(alone + shared, dtype=bool)  # worked out by hand: nobody else to reach
    expected[alone:, alone:] = True  # for the loners; one hop between any two of the group
    out = neighbourhoods(access, 64)
    assert out.dtype == bool
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(out, bfs_neighbourhoods(access, 64))


def test_neighbourhoods_reject_bad_input():
    with pytest.raises(ValueError, match="k must be"):
        neighbourhoods(access_matrix(2, 2, 1), -1)
    with pytest.raises(ValueError, match="matrix"):
        neighbourhoods(np.ones(3, bool), 1)
    with pytest.raises(ValueError, match="booleans"):
        neighbourhoods(np.full((2, 2), 0.5), 1)


# ======================================================================================
# The layout
# ======================================================================================


def test_default_grid_is_the_published_experiment():
    g = make_grid()
    assert (g.n_users, g.n_aps, g.deadline, g.horizon) == (24, 6, 2, 10)
    assert g.arrival_prob == 0.5 and g.gamma == 0.7
    np.testing.assert_allclose(g.success_prob, np.random.RandomState(0).rand(6))
    # users reach 1 (corner cells), 2 (edge cells) or 4 (the two middle cells) access points
    assert np.bincount(g.access.sum(1)).tolist() == [0, 8, 12, 0, 4]
    # access point 0 serves cells 0, 1, 4, 5: users 0-3 and 8-11
    assert np.flatnonzero(g.access[:, 0]).tolist() == [0, 1, 2, 3, 8, 9, 10, 11]
    assert g.user_cell(10) == (1, 1)


def test_actions_wait_or_send_a_slot_to_a_reachable_point():
    g = make_grid()
    assert g.n_actions == 1 + g.deadline * MAX_REACH
    assert tuple(g.actions[5, 0]) == (-1, -1) and g.valid[:, 0].all()
    for i in range(g.n_users):
        sends = g.actions[i][g.valid[i]][1:]
        assert len(sends) == g.deadline * g.access[i].sum()
        assert g.access[i, sends[:, 1]].all() and set(sends[:, 0]) == set(range(g.deadline))


def test_hop_distances_and_state_index():
    d = hop_distances(make_grid().access)
    np.testing.assert_array_equal(d, d.T)
    assert (np.diag(d) == 0).all() and d.max() == 3
    np.testing.assert_array_equal(d <= 1, neighbourhoods(make_grid().access, 1))
    assert state_index(np.array([[0, 0], [1, 0], [0, 1], [1, 1]])).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("kwargs, match", [
    ({"height": 1}, "height"), ({"width": 1}, "width"), ({"deadline": 0}, "deadline"),
    ({"arrival_prob": 1.5}, "arrival_prob"), ({"gamma": -0.1}, "gamma"),
    ({"success_prob": [0.5, 0.5]}, "one probability per access point"),
    ({"success_prob": 2.0}, r"\[0, 1\]"), ({"success_prob": "uniform"}, "random"),
    ({"users_per_cell": 0}, "users_per_cell"),
])
def test_bad_layouts_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_grid(**kwargs)


# ======================================================================================
# The batched network
# ======================================================================================


def one_ap_network(q=1.0, arrival_prob=0.0, **kwargs):
    """A 2 x 2 grid with one user per cell: four users, all served by one access point."""
    g = make_grid(2, 2, 1, deadline=2, arrival_prob=arrival_prob, success_prob=q, **kwargs)
    env = WirelessNetwork(g, n_copies=3, seed=0)
    env.reset()
    return g, env


SEND_SLOT0, SEND_SLOT1 = 1, 1 + MAX_REACH  # the only access point is each user's first


def test_a_lone_sender_delivers_and_deadlines_count_down():
    g, env = one_ap_network()
    env.queues[:] = 0
    env.queues[:, 0] = [1, 1]   # user 0: packets with 1 and 2 steps left
    env.queues[:, 1] = [1, 0]   # user 1: one packet about to expire
    actions = np.zeros((3, 4), int)
    actions[:, 0] = SEND_SLOT1
    queues, rewards, done = env.step(actions)
    np.testing.assert_array_equal(rewards[:, 0], 1.0)
    assert rewards[:, 1:].sum() == 0
    # user 0 delivered slot 1; its slot-0 packet expired. User 1's packet expired unsent.
    np.testing.assert_array_equal(queues[:, :2], 0)
    assert not done and env.last.delivered[:, 0].all() and not env.last.collided.any()


def test_two_senders_collide_and_an_empty_send_still_occupies_the_channel():
    g, env = one_ap_network()
    env.queues[:] = 0
    env.queues[:, 0, 1] = 1
    actions = np.zeros((3, 4), int)
    actions[:, 0] = SEND_SLOT1
    actions[:, 2] = SEND_SLOT0   # user 2 holds nothing, yet its send collides
    queues, rewards, _ = env.step(actions)
    assert rewards.sum() == 0
    assert env.last.collided[:, [0, 2]].all()
    np.testing.assert_array_equal(queues[:, 0], [[1, 0]] * 3)  # still waiting, one step less


def test_success_probability_zero_never_delivers_and_arrivals_follow_p():
    g, env = one_ap_network(q=0.0, arrival_prob=1.0)
    env.queues[:, 0] = [0, 1]
    actions = np.zeros((3, 4), int)
    actions[:, 0] = SEND_SLOT1
    queues, rewards, _ = env.step(actions)
    assert rewards.sum() == 0 and (queues[:, :, 1] == 1).all()
    g = make_grid(arrival_prob=0.3)
    env = WirelessNetwork(g, n_copies=2000, seed=1)
    first = env.reset()
    assert (first[:, :, 0] == 0).all()
    assert abs(first[:, :, 1].mean() - 0.3) < 0.01
    queues, _, _ = env.step(np.zeros((2000, 24), int))
    assert abs(queues[:, :, 1].mean() - 0.3) < 0.01


def test_delivery_rate_matches_the_access_points_success_probability():
    g = make_grid(2, 2, 1, arrival_prob=1.0, success_prob=0.7)
    env = WirelessNetwork(g, n_copies=5000, seed=2)
    env.reset()
    actions = np.zeros((5000, 4), int)
    actions[:, 0] = SEND_SLOT1
    _, rewards, _ = env.step(actions)
    assert abs(rewards[:, 0].mean() - 0.7) < 0.02


def test_episodes_end_after_the_horizon():
    g = make_grid(horizon=3)
    env = WirelessNetwork(g, n_copies=2)
    env.reset()
    flags = [env.step(np.zeros((2, 24), int))[2] for _ in range(3)]
    assert flags == [False, False, True]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros((2, 24), int))


def test_random_links_let_two_hop_users_jam_each_other():
    # 2 x 3 grid, one user per cell, q = 1: users 0 and 2 are two hops apart and reach
    # different access points (0 and 1), so they never collide, unless linked.
    g = make_grid(2, 3, 1, arrival_prob=0.0, success_prob=1.0)
    assert hop_distances(g.access)[0, 2] == 2
    actions = np.zeros((4, 6), int)
    actions[:, 0] = actions[:, 2] = SEND_SLOT1
    for link_prob, expected in ((0.0, 1.0), (1.0, 0.0)):
        env = WirelessNetwork(g, n_copies=4, link_prob=link_prob, seed=0)
        env.reset()
        env.queues[:, [0, 2], 1] = 1
        _, rewards, _ = env.step(actions)
        np.testing.assert_array_equal(rewards[:, [0, 2]], expected)


def test_same_seed_same_episode():
    g = make_grid()
    rng = np.random.default_rng(0)
    valid = [np.flatnonzero(g.valid[i]) for i in range(g.n_users)]
    plan = [np.array([[rng.choice(valid[i]) for i in range(g.n_users)] for _ in range(8)])
            for _ in range(g.horizon)]
    runs = []
    for _ in range(2):
        env = WirelessNetwork(g, n_copies=8, link_prob=0.3, seed=5)
        history = [env.reset()]
        for actions in plan:
            history.append(env.step(actions)[0])
        runs.append(np.stack(history))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_bad_actions_and_settings_are_rejected():
    g = make_grid()
    env = WirelessNetwork(g, n_copies=2)
    env.reset()
    corner_user = int(np.flatnonzero(g.access.sum(1) == 1)[0])
    actions = np.zeros((2, 24), int)
    actions[1, corner_user] = 2  # its second access point does not exist
    with pytest.raises(ValueError, match=f"user {corner_user} .copy 1. chose action 2"):
        env.step(actions)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros((24,), int))
    with pytest.raises(TypeError, match="integer"):
        env.step(np.zeros((2, 24)))
    with pytest.raises(ValueError, match="link_prob"):
        WirelessNetwork(g, link_prob=1.2)
    with pytest.raises(TypeError, match="make_grid"):
        WirelessNetwork({"height": 3})


@pytest.mark.parametrize("shape", [(3, 4), (6, 8), (2, 5)])
def test_neighbour_lists_agree_with_breadth_first_search(shape):
    from course_lib.envs.wireless import neighbour_lists

    grid = make_grid(*shape)
    hops_all = hop_distances(grid.access)
    for k in range(4):
        members, hops = neighbour_lists(grid.access, k)
        dense = np.zeros((grid.n_users, grid.n_users), bool)
        for i in range(grid.n_users):
            row = members[i][members[i] >= 0]
            dense[i, row] = True
            assert row[0] == i and hops[i][0] == 0
            np.testing.assert_array_equal(hops[i][members[i] >= 0], hops_all[i, row])
            assert (np.diff(hops[i][members[i] >= 0]) >= 0).all()   # nearest first
        np.testing.assert_array_equal(dense, bfs_neighbourhoods(grid.access, k))


def test_neighbour_lists_of_a_user_with_no_access_point_hold_only_itself():
    from course_lib.envs.wireless import neighbour_lists

    access = np.array([[1, 0], [1, 1], [0, 0]], bool)
    members, hops = neighbour_lists(access, 3)
    assert members[2].tolist()[:1] == [2] and (members[2][1:] == -1).all()


def test_grids_too_large_fail_fast_with_their_size():
    with pytest.raises(ValueError, match="1,000,000,000"):
        make_grid(2, 5, users_per_cell=10**8)
    with pytest.raises(ValueError, match="at most 50,000"):
        access_matrix(400, 400, 2)
