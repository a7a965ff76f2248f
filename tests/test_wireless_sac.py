"""Public tests for chapter 6's Scalable Actor-Critic (course_lib/wireless_sac.py):
exercises 6.3 (the batched TD update) and 6.4 (the actor's step), and the algorithm around
them.

Tests marked ``@pytest.mark.exercise("6.x")`` check an exercise; ``course_lib.check("6.3")``
runs them against your own code.
"""

from __future__ import annotations

import numpy as np
import pytest
from oracles import loop_policy_gradient, loop_sensitivity, loop_td_update

from course_lib.envs.wireless import make_grid, neighbourhoods
from course_lib.wireless_sac import (
    SACConfig,
    TruncatedCritic,
    measure_mu_decay,
    policy_gradient,
    policy_probs,
    rollout_q,
    sample_actions,
    sensitivity_by_hop,
    td_update,
    train_sac,
)

# ======================================================================================
# 6.3 The batched TD(0) update
# ======================================================================================


@pytest.mark.exercise("6.3")
def test_td_update_by_hand():
    values = np.array([0.0, 0.0, 1.0])
    # entry 0 is visited twice (targets 1 and 0: mean 0.5), entry 2 once (target 0.5 * 1)
    out = td_update(values, np.array([0, 0, 2]), np.array([1.0, 0.0, 0.0]),
                    np.array([0.0, 0.0, 1.0]), gamma=0.5, lr=0.5)
    np.testing.assert_allclose(out, [0.25, 0.0, 0.75])
    np.testing.assert_array_equal(values, [0.0, 0.0, 1.0])  # the input is left alone


@pytest.mark.exercise("6.3")
def test_td_update_with_step_one_jumps_to_the_mean_target():
    values = np.array([5.0, -1.0, 2.0, 7.0])
    out = td_update(values, np.array([3, 1, 3]), np.array([1.0, 2.0, 3.0]),
                    np.array([2.0, 0.0, 4.0]), gamma=0.5, lr=1.0)
    np.testing.assert_allclose(out, [5.0, 2.0, 2.0, 3.5])


@pytest.mark.exercise("6.3")
def test_td_update_matches_a_loop_on_random_batches():
    rng = np.random.default_rng(0)
    values = rng.normal(size=50)
    index = rng.integers(0, 50, 400)
    rewards, nxt = rng.random(400), rng.normal(size=400)
    np.testing.assert_allclose(td_update(values, index, rewards, nxt, 0.7, 0.3),
                               loop_td_update(values, index, rewards, nxt, 0.7, 0.3))


@pytest.mark.exercise("6.3")
def test_td_update_with_the_last_entries_unvisited_and_with_an_empty_batch():
    """Catches per-entry tables that end at the highest visited entry (np.bincount without
    minlength): the last entries, unvisited here, keep their value, and an empty batch
    changes nothing."""
    values = np.array([1.0, 2.0, 3.0, 4.0])
    out = td_update(values, np.array([0, 1]), np.array([5.0, 0.0]), np.array([0.0, 2.0]),
                    gamma=0.5, lr=0.5)
    # entry 0 moves half way to 5, entry 1 half way to 0.5 * 2 = 1; entries 2 and 3 stay
    np.testing.assert_allclose(out, [3.0, 1.5, 3.0, 4.0])
    empty = np.zeros(0, int)
    out = td_update(values, empty, np.zeros(0), np.zeros(0), gamma=0.5, lr=0.5)
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0, 4.0])
    assert out is not values


def test_td_update_rejects_bad_input():
    v = np.zeros(3)
    with pytest.raises(ValueError, match="point into the table"):
        td_update(v, np.array([3]), np.ones(1), np.ones(1), 0.5, 0.5)
    with pytest.raises(ValueError, match="one entry per sample"):
        td_update(v, np.array([0, 1]), np.ones(1), np.ones(2), 0.5, 0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        td_update(v, np.array([0]), np.ones(1), np.ones(1), 0.5, 2.0)


# ======================================================================================
# 6.4 The actor's step
# ======================================================================================


@pytest.mark.exercise("6.4")
def test_policy_gradient_by_hand():
    probs = np.full((1, 2, 3), 1 / 3)
    states = np.array([[[1]]])
    actions = np.array([[[1]]])
    grad = policy_gradient(probs, states, actions, np.array([[[2.0]]]))
    np.testing.assert_allclose(grad[0, 1], [-2 / 3, 4 / 3, -2 / 3])
    np.testing.assert_array_equal(grad[0, 0], 0.0)  # a state not visited is not touched


@pytest.mark.exercise("6.4")
def test_policy_gradient_sums_steps_and_averages_episodes():
    probs = np.array([[[0.5, 0.5, 0.0]]])  # the third action is not available
    states = np.zeros((2, 2, 1), int)
    actions = np.array([[[0], [0]], [[1], [0]]])
    weights = np.ones((2, 2, 1))
    grad = policy_gradient(probs, states, actions, weights)
    # three times (0.5, -0.5) and once (-0.5, 0.5), over 2 episodes
    np.testing.assert_allclose(grad[0, 0], [0.5, -0.5, 0.0])


@pytest.mark.exercise("6.4")
def test_policy_gradient_matches_a_loop():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(4, 3, 5))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    states = rng.integers(0, 3, (6, 4, 4))
    actions = rng.integers(0, 5, (6, 4, 4))
    weights = rng.normal(size=(6, 4, 4))
    np.testing.assert_allclose(policy_gradient(probs, states, actions, weights),
                               loop_policy_gradient(probs, states, actions, weights))


def test_policy_gradient_rejects_bad_input():
    probs = np.full((2, 4, 3), 1 / 3)
    s = np.zeros((1, 1, 2), int)
    with pytest.raises(ValueError, match="share a shape"):
        policy_gradient(probs, s, s[..., :1], np.zeros((1, 1, 2)))
    with pytest.raises(ValueError, match="actions must be integer indices"):
        policy_gradient(probs, s, s + 3, np.zeros((1, 1, 2)))
    with pytest.raises(ValueError, match="n_users, n_states, n_actions"):
        policy_gradient(probs[0], s, s, np.zeros((1, 1, 2)))


# ======================================================================================
# 6.5 Sensitivity by hop distance
# ======================================================================================


@pytest.mark.exercise("6.5")
def test_sensitivity_by_hand():
    out = sensitivity_by_hop(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 2.0, 2.0, 4.0]),
                             np.array([1, 1, 2, 3]), 4)
    np.testing.assert_allclose(out[:3], [0.25, 1.0, 0.0])
    assert out.shape == (4,) and np.isnan(out[3])


@pytest.mark.exercise("6.5")
def test_sensitivity_matches_a_loop():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=300), rng.normal(size=300)
    hops = rng.integers(1, 5, 300)
    np.testing.assert_allclose(sensitivity_by_hop(a, b, hops, 4),
                               loop_sensitivity(a, b, hops, 4))


@pytest.mark.exercise("6.5")
def test_sensitivity_ignores_samples_beyond_max_hops():
    """Catches far samples counted in the last entry (distances clipped at max_hops): the
    docstring says samples farther than max_hops are ignored."""
    out = sensitivity_by_hop(np.zeros(4), np.array([1.0, -2.0, 10.0, -20.0]),
                             np.array([1, 3, 4, 9]), 3)
    # hop 1: |0 - 1| = 1; hop 2: no sample; hop 3: |0 + 2| = 2; hops 4 and 9 are too far
    assert out.shape == (3,) and np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], [1.0, 2.0])


def test_sensitivity_rejects_bad_input():
    with pytest.raises(ValueError, match="one shape"):
        sensitivity_by_hop(np.zeros(3), np.zeros(2), np.zeros(3, int), 2)
    with pytest.raises(ValueError, match="integers"):
        sensitivity_by_hop(np.zeros(3), np.zeros(3), np.zeros(3), 2)


def packet_driven_probs(g):
    """A policy that depends on the state: with a packet, send the most urgent one with
    probability 1/2, to one of the user's access points at random; without, wait."""
    probs = np.zeros((g.n_users, g.n_states, g.n_actions))
    probs[:, :, 0] = 1.0
    reach = g.access.sum(1)
    for s in range(1, g.n_states):
        slot = (s & -s).bit_length() - 1  # lowest occupied slot
        probs[:, s, 0] = 0.5
        for i in range(g.n_users):
            probs[i, s, 1 + slot * 4:1 + slot * 4 + reach[i]] = 0.5 / reach[i]
    return probs


def test_rollouts_share_random_numbers_and_changes_spread_with_distance():
    g = make_grid()
    probs = packet_driven_probs(g)
    rng = np.random.default_rng(0)
    queues = (rng.random((50, 24, 2)) < 0.5).astype(np.uint8)
    actions = np.zeros((50, 24), int)
    a = rollout_q(g, probs, queues, actions, seed=4)
    np.testing.assert_array_equal(a, rollout_q(g, probs, queues, actions, seed=4))
    decay = measure_mu_decay(g, probs, starts=200, rollouts=50, seed=0)
    assert decay.shape == (3,) and (decay >= 0).all()
    assert decay[0] > 10 * decay[1] > 0 and decay[1] >= decay[2]  # further matters less
    linked = measure_mu_decay(g, probs, starts=200, rollouts=50, seed=0, link_prob=0.3)
    assert linked[1] > 3 * decay[1]  # random links carry influence further


# ======================================================================================
# The critic's table, policies and training
# ======================================================================================


def test_critic_keys_see_exactly_the_neighbourhood():
    g = make_grid()
    for k in (0, 1):
        critic = TruncatedCritic(g, k, seed=0)
        rng = np.random.default_rng(k)
        states = rng.integers(0, g.n_states, (1, g.n_users))
        actions = np.zeros((1, g.n_users), int)
        base = critic.hash(states, actions)
        assert len(set(base[0].tolist())) == g.n_users  # users' keys differ
        near = neighbourhoods(g.access, k)
        for j in (0, 13):
            changed = actions.copy()
            changed[0, j] = 1  # a different action for user j
            moved = critic.hash(states, changed)[0] != base[0]
            np.testing.assert_array_equal(moved, near[:, j])


def test_critic_table_inserts_updates_and_counts():
    g = make_grid()
    critic = TruncatedCritic(g, 0)
    keys = critic.hash(np.array([[0] * 24, [1] * 24]), np.zeros((2, 24), int))
    np.testing.assert_array_equal(critic.lookup(keys), 0.0)
    critic.update(keys, np.ones((2, 24)), np.zeros((2, 24)), 0.7, 0.5)
    assert critic.entries == 48
    np.testing.assert_allclose(critic.lookup(keys), 0.5)
    critic.update(keys[:1], np.ones((1, 24)), np.zeros((1, 24)), 0.7, 0.5)
    assert critic.entries == 48
    np.testing.assert_allclose(critic.lookup(keys), [[0.75] * 24, [0.5] * 24])
    # full tables: sum over users of (4 states x actions) for k = 0, astronomically more at 1
    assert critic.possible_entries() == 4 * g.valid.sum()
    assert TruncatedCritic(g, 1).possible_entries() > 1e20


def test_policies_spread_over_valid_actions_only():
    g = make_grid()
    probs = policy_probs(np.zeros((24, 4, g.n_actions)), g.valid)
    np.testing.assert_allclose(probs.sum(-1), 1.0)
    np.testing.assert_array_equal(probs[~np.broadcast_to(g.valid[:, None], probs.shape)], 0)
    actions = sample_actions(probs, np.zeros((5000, 24), int), np.random.default_rng(0))
    assert g.valid[np.arange(24), actions].all()
    user = int(np.flatnonzero(g.access.sum(1) == 4)[0])  # 9 valid actions
    freq = np.bincount(actions[:, user], minlength=g.n_actions) / 5000
    np.testing.assert_allclose(freq, 1 / 9, atol=0.02)


def test_training_logs_and_learns():
    g = make_grid()
    cfg = SACConfig(k=1, episodes=4000, batch=200, eval_every=2000, eval_episodes=1000)
    seen = []
    run = train_sac(g, cfg, seed=0, callback=seen.append)
    assert run.episodes == [0, 2000, 4000] and seen[-1] == 4000
    assert run.critic.entries > 0
    # a uniformly random policy earns about 0.02; a few thousand episodes already help
    assert run.returns[0] < 0.03 < 0.06 < run.returns[-1]


def test_training_is_reproducible_and_checks_its_input():
    g = make_grid()
    cfg = SACConfig(k=0, episodes=400, batch=100, eval_every=400, eval_episodes=100)
    a, b = train_sac(g, cfg, seed=2), train_sac(g, cfg, seed=2)
    np.testing.assert_array_equal(a.logits, b.logits)
    assert a.returns == b.returns
    with pytest.raises(TypeError, match="make_grid"):
        train_sac("grid")
    with pytest.raises(TypeError, match="SACConfig"):
        train_sac(g, {"k": 1})
    with pytest.raises(ValueError, match="k must be"):
        SACConfig(k=-1)
    with pytest.raises(ValueError, match="critic_lr"):
        SACConfig(critic_lr=1.5)
    with pytest.raises(ValueError, match="link_prob"):
        SACConfig(link_prob=2.0)


def test_mu_k_is_exactly_zero_beyond_one_hop_for_policies_that_ignore_their_state():
    # a user's actions then never depend on what happened to it, so nothing a user two hops
    # away does can reach i's rewards; with common random numbers the estimate is exactly 0
    from course_lib.wireless_sac import measure_mu_k

    g = make_grid()
    uniform = policy_probs(np.zeros((g.n_users, g.n_states, g.n_actions)), g.valid)
    mu = measure_mu_k(g, uniform, starts=100, rollouts=20, seed=0)
    assert mu["k"] == [0, 1, 2]
    assert mu["max"][0] > 0.1 and mu["mean"][0] > 0
    assert mu["max"][1:] == [0.0, 0.0]
    # with random links a two-hop user jams i directly
    linked = measure_mu_k(g, uniform, starts=100, rollouts=20, seed=0, link_prob=0.3)
    assert linked["max"][1] > 0 and linked["max"][2] == 0.0
    assert all(a >= b and a >= c for a, b, c in zip(mu["max"], mu["quantile"], mu["mean"],
                                               strict=True))


def test_mu_k_of_a_trained_policy_falls_with_k():
    from course_lib.wireless_sac import measure_mu_k

    g = make_grid()
    run = train_sac(g, SACConfig(k=1, episodes=2000, eval_every=2000, eval_episodes=100), 0)
    mu = measure_mu_k(g, policy_probs(run.logits, g.valid), starts=100, rollouts=20, seed=1)
    assert mu["mean"][0] > 5 * mu["mean"][1]
    assert mu["gaps"].shape == (3, 100)


def test_actor_weights_sum_the_neighbourhood_sparse_as_dense():
    from course_lib.wireless_sac import _membership

    g = make_grid(6, 8)
    near = _membership(g, 2).toarray().astype(bool)
    np.testing.assert_array_equal(near, neighbourhoods(g.access, 2))


def test_sac_config_rejects_sizes_beyond_reason():
    with pytest.raises(ValueError, match="batch must be at most"):
        SACConfig(batch=10**12)
    with pytest.raises(ValueError, match="episodes must be at most"):
        SACConfig(episodes=10**12)


def test_measure_mu_k_rejects_bad_policies():
    from course_lib.wireless_sac import measure_mu_k

    g = make_grid()
    with pytest.raises(ValueError, match="policy_probs"):
        measure_mu_k(g, np.ones((3, 4, 9)))
    with pytest.raises(ValueError, match="finite"):
        measure_mu_k(g, np.full((g.n_users, g.n_states, g.n_actions), np.nan))


def test_critic_gamma_sets_only_the_td_targets_discount(monkeypatch):
    from course_lib import wireless_sac

    seen = []
    real = wireless_sac._critic_values

    def spy(critic, states, actions, rewards, gamma, lr):
        seen.append(gamma)
        return real(critic, states, actions, rewards, gamma, lr)

    monkeypatch.setattr(wireless_sac, "_critic_values", spy)
    g = make_grid()
    small = {"k": 1, "episodes": 400, "eval_every": 400, "eval_episodes": 10}
    train_sac(g, SACConfig(**small, critic_gamma=0.0), 0)
    train_sac(g, SACConfig(**small), 0)
    assert seen == [0.0, 0.0, g.gamma, g.gamma]
    with pytest.raises(ValueError, match="critic_gamma"):
        SACConfig(critic_gamma=1.5)


def test_episodes_to_a_return_reads_the_first_evaluation_that_reached_it():
    from course_lib.wireless_sac import SACRun, episodes_to

    run = SACRun(SACConfig(), 0, np.zeros((1, 1, 1)), None, episodes=[0, 200, 400, 600],
                 returns=[0.1, 0.25, 0.2, 0.3])
    assert episodes_to(run, 0.24) == 200 and episodes_to(run, 0.3) == 600
    assert episodes_to(run, 0.31) is None
    with pytest.raises(TypeError, match="SACRun"):
        episodes_to({"episodes": [0]}, 0.24)
    with pytest.raises(ValueError, match="target"):
        episodes_to(run, float("nan"))


def test_sample_actions_draws_the_same_in_chunks(monkeypatch):
    from course_lib import wireless_sac

    g = make_grid(6, 8)
    probs = policy_probs(np.random.default_rng(0).normal(size=(g.n_users, g.n_states,
                                                                g.n_actions)), g.valid)
    states = np.random.default_rng(1).integers(0, g.n_states, (50, g.n_users))
    whole = sample_actions(probs, states, np.random.default_rng(2))
    monkeypatch.setattr(wireless_sac, "SAMPLE_CHUNK", 1)  # one episode per chunk
    np.testing.assert_array_equal(whole, sample_actions(probs, states, np.random.default_rng(2)))


def test_training_turns_numpys_huge_page_requests_off_and_back_on(monkeypatch):
    """The switch is numpy's and process-wide: off for the run (see
    ``wireless_sac._no_huge_page_requests``), as it was afterwards, even after an error."""
    from numpy._core import multiarray

    from course_lib import wireless_sac

    seen = []
    real_policy_probs = wireless_sac.policy_probs

    def watching(*args, **kwargs):
        seen.append(multiarray._set_madvise_hugepage(False))  # reads it (and keeps it off)
        return real_policy_probs(*args, **kwargs)

    before = multiarray._set_madvise_hugepage(True)
    try:
        monkeypatch.setattr(wireless_sac, "policy_probs", watching)
        grid = make_grid()
        wireless_sac.train_sac(grid, SACConfig(k=1, episodes=40, batch=20, eval_every=40,
                                               eval_episodes=20), 0)
        assert seen and not any(seen)  # off during every batch
        assert multiarray._set_madvise_hugepage(True) is True  # on again after the run
        monkeypatch.setattr(wireless_sac, "policy_probs", lambda *a, **k: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            wireless_sac.train_sac(grid, SACConfig(k=1, episodes=40, batch=20), 0)
        assert multiarray._set_madvise_hugepage(True) is True
    finally:
        multiarray._set_madvise_hugepage(before)
