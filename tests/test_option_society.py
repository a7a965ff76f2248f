"""Public tests for chapter 4's society of options: exercise 4.3 (the semi-MDP utility) and
the society built on it (``OptionSociety``, ``train_option_society``, ``run_society_episode``).

Tests marked ``@pytest.mark.exercise("4.3")`` check the exercise; ``course_lib.check("4.3")``
runs them against your own code.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import loop_option_utility

from course_lib.envs.two_rooms import make_two_rooms
from course_lib.option_society import (
    OptionSociety,
    option_utility,
    run_society_episode,
    train_option_society,
)
from course_lib.options import OptionEnv, load_options
from course_lib.ppo import PPOConfig

# ======================================================================================
# 4.3 The winner's utility when primitives are options
# ======================================================================================


@pytest.mark.exercise("4.3")
def test_option_utility_hand_computed():
    # An option of 3 steps earning 1 at its last step, gamma 0.5: 0.25 earned. The next
    # auction (0.9, 0.8) exists: its second-highest bid is worth 0.5**3 * 0.8 = 0.1 today.
    # The winner pays the second-highest bid now, 0.2. Utility 0.25 + 0.1 - 0.2 = 0.15.
    u = option_utility([[0.0, 0.0, 1.0]], [3], 0.5, [[0.3, 0.2]], [[0.9, 0.8]], [True])
    np.testing.assert_allclose(u, [0.15])


@pytest.mark.exercise("4.3")
def test_option_utility_terminal_next_state_pays_no_next_bid():
    u = option_utility([[0.0, 0.0, 1.0]], [3], 0.5, [[0.3, 0.2]], [[0.9, 0.8]], [False])
    np.testing.assert_allclose(u, [0.05])


@pytest.mark.exercise("4.3")
def test_option_utility_ignores_rewards_after_the_duration():
    # Duration 2 of a 4-slot row: the 5.0 and 7.0 are padding.
    u = option_utility([[1.0, 2.0, 5.0, 7.0]], [2], 0.9, [[0.0, 0.0]], [[0.0, 0.0]], [False])
    np.testing.assert_allclose(u, [1.0 + 0.9 * 2.0])


@pytest.mark.exercise("4.3")
def test_option_utility_one_step_options_match_chapter_3_ccv():
    from course_lib.society import winner_utility

    rng = np.random.default_rng(0)
    rewards = rng.normal(size=(5, 4))
    bids, next_bids = rng.random((5, 4, 6)), rng.random((5, 4, 6))
    exists = rng.random((5, 4)) < 0.7
    u = option_utility(rewards[..., None], np.ones((5, 4), int), 0.9, bids, next_bids, exists)
    expected = winner_utility("ccv", rewards, 0.9, bids, next_bids, exists)
    np.testing.assert_allclose(u, expected)


@pytest.mark.exercise("4.3")
def test_option_utility_longer_options_discount_the_next_bid_more():
    args = dict(gamma=0.9, bids=[[0.5, 0.4]] * 3, next_bids=[[0.8, 0.8]] * 3,
                next_exists=[True] * 3)
    u = option_utility(np.zeros((3, 10)), [1, 5, 10], **args)
    expected = [0.9**tau * 0.8 - 0.4 for tau in (1, 5, 10)]
    np.testing.assert_allclose(u, expected)
    assert u[0] > u[1] > u[2]


@pytest.mark.exercise("4.3")
def test_option_utility_lone_bidder_pays_nothing_and_receives_nothing():
    """With one bidder there is no second-highest bid: no price now, no next bid later."""
    u = option_utility([[0.5]], [1], 0.9, [[0.7]], [[0.6]], [True])
    np.testing.assert_allclose(u, [0.5])
    # Only the discounted rewards remain: 1 + 0.9 * 2 = 2.8 for a two-step option.
    u = option_utility([[1.0, 2.0]], [2], 0.9, [[0.1]], [[0.3]], [True])
    np.testing.assert_allclose(u, [2.8])


@pytest.mark.exercise("4.3")
def test_option_utility_keeps_batch_shape_and_matches_a_loop():
    """Two batch axes come back as they went in, each entry the loop's utility."""
    rng = np.random.default_rng(1)
    rewards, bids, nxt = rng.normal(size=(2, 3, 4)), rng.random((2, 3, 5)), rng.random((2, 3, 5))
    durations = rng.integers(1, 5, size=(2, 3))
    exists = np.ones((2, 3), bool)
    u = option_utility(rewards, durations, 0.95, bids, nxt, exists)
    assert np.shape(u) == (2, 3)
    expected = [[loop_option_utility(rewards[i, j], durations[i, j], 0.95, bids[i, j],
                                     nxt[i, j], exists[i, j]) for j in range(3)]
                for i in range(2)]
    np.testing.assert_allclose(u, expected, rtol=1e-10, atol=1e-12)


@st.composite
def utility_cases(draw):
    n, length, bidders = draw(st.integers(1, 6)), draw(st.integers(1, 8)), draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    return dict(rewards=rng.normal(size=(n, length)),
                durations=rng.integers(1, length + 1, size=n),
                gamma=draw(st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0])),
                bids=rng.random((n, bidders)), next_bids=rng.random((n, bidders)),
                next_exists=rng.random(n) < 0.5)


@pytest.mark.exercise("4.3")
@settings(max_examples=60)
@given(utility_cases())
def test_property_option_utility_matches_a_loop(case):
    u = option_utility(**case)
    expected = [loop_option_utility(case["rewards"][k], case["durations"][k], case["gamma"],
                                    case["bids"][k], case["next_bids"][k],
                                    case["next_exists"][k])
                for k in range(len(case["durations"]))]
    np.testing.assert_allclose(u, expected, rtol=1e-10, atol=1e-12)


def utility_args(**changes):
    args = dict(rewards=[[0.0, 1.0]], durations=[2], gamma=0.9, bids=[[0.3, 0.2]],
                next_bids=[[0.5, 0.4]], next_exists=[True])
    args.update(changes)
    return args


@pytest.mark.parametrize(("changes", "error", "name"), [
    ({"durations": [0]}, ValueError, "durations"),
    ({"durations": [3]}, ValueError, "durations"),
    ({"durations": [1.0]}, TypeError, "durations"),
    ({"durations": [1, 2]}, TypeError, "durations"),
    ({"rewards": [0.0, 1.0]}, ValueError, "rewards"),
    ({"rewards": [[0.0, np.nan]]}, ValueError, "rewards"),
    ({"gamma": 1.5}, ValueError, "gamma"),
    ({"gamma": "0.9"}, TypeError, "gamma"),
    ({"bids": [[0.3, np.inf]]}, ValueError, "bids"),
    ({"next_bids": [[0.5, 0.4]] * 2}, ValueError, "next_bids"),
    ({"next_exists": [1]}, ValueError, "next_exists"),
])
def test_option_utility_rejects_bad_input(changes, error, name):
    with pytest.raises(error, match=name):
        option_utility(**utility_args(**changes))


# ======================================================================================
# The society
# ======================================================================================


@pytest.fixture(scope="module")
def options():
    return load_options()


def option_env(options, target="green"):
    return OptionEnv(make_two_rooms(target), options, 0.99)


def test_a_new_society_bids_uniformly_in_the_unit_interval(options):
    torch.manual_seed(0)
    society = OptionSociety(50, 3, n_clones=2)
    obs = torch.as_tensor(np.stack([option_env(options).reset(seed=s)[0] for s in range(64)]))
    bids, log_probs, values = society.sample_bids(obs)
    assert bids.shape == log_probs.shape == (64, 3, 2) and values.shape == (64, 3)
    assert ((bids > 0) & (bids < 1)).all()
    assert abs(bids.mean() - 0.5) < 0.06  # Beta(1, 1): mean 1/2
    np.testing.assert_allclose(log_probs, 0.0, atol=0.05)  # density about 1 everywhere
    np.testing.assert_allclose(society.mean_bids(obs), 0.5, atol=1e-3)


def test_society_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_clones"):
        OptionSociety(50, 3, n_clones=0)
    with pytest.raises(TypeError, match="n_primitives"):
        OptionSociety(50, 2.5)


def test_training_updates_every_bidder_and_counts_env_steps(options):
    cfg = PPOConfig(n_envs=4, n_steps=8, hidden=(16,))
    torch.manual_seed(0)
    society = OptionSociety(50, 3, 2, (16,))
    before = [p.detach().clone() for p in society.parameters()]
    society, log = train_option_society(lambda: option_env(options), 300, cfg, seed=0,
                                        society=society)
    assert log.steps[0] >= 4 * 8  # every decision runs at least one primitive step
    assert log.steps[-1] >= 300 and log.steps == sorted(log.steps)
    assert sum(log.episodes) > 0
    for bidder in society.bidders:
        assert any(not torch.equal(p, b) for p, b in zip(bidder.parameters(), before,
                                                         strict=False))
    assert all(torch.isfinite(p).all() for p in society.parameters())


def test_training_rejects_wrong_environments_and_societies(options):
    cfg = PPOConfig(n_envs=2, n_steps=4)
    with pytest.raises(TypeError, match="OptionEnv"):
        train_option_society(lambda: make_two_rooms("green"), 100, cfg)
    with pytest.raises(ValueError, match="primitives"):
        train_option_society(lambda: option_env(options), 100, cfg,
                             society=OptionSociety(50, 2))
    with pytest.raises(ValueError, match="total_steps"):
        train_option_society(lambda: option_env(options), 0, cfg)


def test_replay_records_every_auction_and_the_final_frame(options):
    society = OptionSociety(50, 3, 2)
    steps = run_society_episode(society, option_env(options), seed=3, render=True)
    assert steps[-1].winner == -1 and len(steps) >= 2
    for step in steps[:-1]:
        assert step.bids.shape == (3, 2) and 0 <= step.winner < 3 and step.duration >= 1
        assert step.winner == np.unravel_index(np.argmax(step.bids), step.bids.shape)[0]
        assert step.frame.ndim == 3 and step.frame.shape[2] == 3
