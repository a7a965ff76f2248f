"""Public tests for chapter 1's learner: exercise 1.4 and ``learn_to_bid``.

Tests marked ``@pytest.mark.exercise("1.4")`` check the exercise; ``course_lib.check("1.4")``
runs them against your own code. Unmarked tests check input validation (which runs before
your code) and the learner built on the exercises.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.bidders import LearnToBidResult, bid_ratio_gradient, learn_to_bid, weighted_ratio

# A tiny case worked out by hand: batch 4, 2 bidders, 3 bins, sigma 0.5.
UTILITIES = np.array([[1.0, 0.0], [0.5, 0.2], [0.0, 0.0], [0.3, 0.6]])
BASELINES = np.array([[0.5, 0.0], [0.5, 0.0], [0.2, 0.1], [0.0, 0.2]])
NOISE = np.array([[1.0, 2.0], [-1.0, 0.5], [2.0, -1.0], [0.5, 1.0]])
BINS = np.array([[0, 2], [0, 2], [2, 1], [1, 2]])
SIGMA = 0.5
# Scores (u - b) * eps / sigma, sample by sample (bin in brackets):
#   bidder 0: 0.5*1/0.5 = 1.0 [0], 0 [0], -0.2*2/0.5 = -0.8 [2], 0.3*0.5/0.5 = 0.3 [1]
#   bidder 1: 0 [2], 0.2*0.5/0.5 = 0.2 [2], -0.1*-1/0.5 = 0.2 [1], 0.4*1/0.5 = 0.8 [2]
# Means per bin; bidder 1 has no sample in bin 0.
EXPECTED = np.array([[0.5, 0.3, -0.8],
                     [0.0, 0.2, 1.0 / 3.0]])


def tiny(**changes):
    args = dict(utilities=UTILITIES, baselines=BASELINES, noise=NOISE, sigma=SIGMA, bins=BINS,
                n_bins=3)
    args.update(changes)
    return args


# ======================================================================================
# 1.4 Policy-gradient estimate
# ======================================================================================


@pytest.mark.exercise("1.4")
def test_gradient_tiny_hand_computed_case():
    grad = bid_ratio_gradient(**tiny())
    assert isinstance(grad, np.ndarray)
    assert grad.shape == (2, 3)
    np.testing.assert_allclose(grad, EXPECTED, rtol=0, atol=1e-12)


@pytest.mark.exercise("1.4")
def test_gradient_accepts_positional_arguments_and_lists():
    grad = bid_ratio_gradient(UTILITIES.tolist(), BASELINES.tolist(), NOISE.tolist(), SIGMA,
                              BINS.tolist(), 3)
    np.testing.assert_allclose(grad, EXPECTED, rtol=0, atol=1e-12)


@pytest.mark.exercise("1.4")
def test_gradient_empty_bin_is_zero():
    """An empty bin gives 0 (not NaN), while that bidder's other bins keep their means."""
    grad = bid_ratio_gradient(**tiny())
    assert grad[1, 0] == 0.0
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad[1, 1:], [0.2, 1.0 / 3.0], rtol=0, atol=1e-12)


@pytest.mark.exercise("1.4")
def test_gradient_extra_bins_are_zero():
    grad = bid_ratio_gradient(**tiny(n_bins=5))
    assert grad.shape == (2, 5)
    np.testing.assert_allclose(grad[:, :3], EXPECTED, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(grad[:, 3:], 0.0)


@pytest.mark.exercise("1.4")
def test_gradient_is_a_mean_not_a_sum():
    # Repeating every sample three times must not change a mean (a sum would triple).
    rep = {k: np.concatenate([v] * 3) for k, v in
           dict(utilities=UTILITIES, baselines=BASELINES, noise=NOISE, bins=BINS).items()}
    grad = bid_ratio_gradient(**tiny(**rep))
    np.testing.assert_allclose(grad, EXPECTED, rtol=0, atol=1e-12)


@pytest.mark.exercise("1.4")
def test_gradient_scales_with_one_over_sigma():
    grad = bid_ratio_gradient(**tiny(sigma=2.0))  # 4 times sigma: a quarter of the estimate
    np.testing.assert_allclose(grad, EXPECTED / 4.0, rtol=0, atol=1e-12)


@pytest.mark.exercise("1.4")
def test_gradient_single_sample():
    grad = bid_ratio_gradient([[2.0, 1.0, 0.0]], [[1.0, 1.0, 0.5]], [[0.5, 3.0, -2.0]], 0.25,
                              [[1, 0, 1]], 2)
    # Scores: 1*0.5/0.25 = 2 (bidder 0, bin 1); 0 (bidder 1, bin 0);
    # -0.5*-2/0.25 = 4 (bidder 2, bin 1).
    np.testing.assert_allclose(grad, [[0.0, 2.0], [0.0, 0.0], [0.0, 4.0]], rtol=0, atol=1e-12)


@pytest.mark.exercise("1.4")
@pytest.mark.parametrize(("batch", "n_bidders", "n_bins"), [(10, 5, 7), (1, 1, 1), (64, 3, 10)])
def test_gradient_shape(batch, n_bidders, n_bins):
    """A (n_bidders, n_bins) float array holding the per-bin mean scores, at several sizes."""
    rng = np.random.default_rng(batch + n_bidders + n_bins)
    u, b = rng.random((batch, n_bidders)), rng.random((batch, n_bidders))
    eps = rng.standard_normal((batch, n_bidders))
    bins = rng.integers(0, n_bins, size=(batch, n_bidders))
    grad = bid_ratio_gradient(u, b, eps, 0.1, bins, n_bins)
    assert grad.shape == (n_bidders, n_bins)
    assert grad.dtype.kind == "f"
    expected = np.zeros((n_bidders, n_bins))
    for i in range(n_bidders):
        for k in range(n_bins):
            in_bin = bins[:, i] == k
            if in_bin.any():
                expected[i, k] = np.mean((u[in_bin, i] - b[in_bin, i]) * eps[in_bin, i] / 0.1)
    np.testing.assert_allclose(grad, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.exercise("1.4")
@settings(deadline=None, max_examples=100)
@given(data=st.data())
def test_property_gradient_matches_per_bin_means(data):
    batch = data.draw(st.integers(1, 12))
    n_bidders = data.draw(st.integers(1, 4))
    n_bins = data.draw(st.integers(1, 5))
    shape = (batch, n_bidders)
    finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
    u = data.draw(hnp.arrays(np.float64, shape, elements=finite))
    b = data.draw(hnp.arrays(np.float64, shape, elements=finite))
    eps = data.draw(hnp.arrays(np.float64, shape, elements=finite))
    bins = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, n_bins - 1)))
    sigma = data.draw(st.floats(0.05, 2.0))
    grad = bid_ratio_gradient(u, b, eps, sigma, bins, n_bins)
    expected = np.zeros((n_bidders, n_bins))
    for i in range(n_bidders):
        for k in range(n_bins):
            scores = [(u[t, i] - b[t, i]) * eps[t, i] / sigma
                      for t in range(batch) if bins[t, i] == k]
            if scores:
                expected[i, k] = sum(scores) / len(scores)
    np.testing.assert_allclose(grad, expected, rtol=1e-9, atol=1e-9)


# ======================================================================================
# Input validation (runs before the exercise body: not marked)
# ======================================================================================


@pytest.mark.parametrize(("changes", "name"), [
    ({"baselines": BASELINES[:3]}, "baselines"),
    ({"noise": NOISE[:, :1]}, "noise"),
    ({"utilities": UTILITIES[:, :1]}, "like utilities"),
    ({"utilities": UTILITIES[:, 0]}, "utilities"),
    ({"noise": NOISE[None]}, "noise"),
    ({"bins": BINS[:3]}, "bins"),
    ({"bins": BINS[:, 0]}, "bins"),
])
def test_gradient_rejects_shape_mismatches(changes, name):
    with pytest.raises(ValueError, match=name):
        bid_ratio_gradient(**tiny(**changes))


@pytest.mark.parametrize("name", ["utilities", "baselines", "noise"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_gradient_rejects_non_finite(name, bad):
    arr = dict(utilities=UTILITIES, baselines=BASELINES, noise=NOISE)[name].copy()
    arr[1, 1] = bad
    with pytest.raises(ValueError, match=name):
        bid_ratio_gradient(**tiny(**{name: arr}))


@pytest.mark.parametrize("sigma", [0.0, -0.1, np.nan, np.inf])
def test_gradient_rejects_bad_sigma(sigma):
    with pytest.raises(ValueError, match="sigma"):
        bid_ratio_gradient(**tiny(sigma=sigma))


@pytest.mark.parametrize("sigma", ["0.5", None, True])
def test_gradient_rejects_sigma_of_the_wrong_type(sigma):
    with pytest.raises(TypeError, match="sigma"):
        bid_ratio_gradient(**tiny(sigma=sigma))


@pytest.mark.parametrize("bad", [-1, 3, 100])
def test_gradient_rejects_bins_out_of_range(bad):
    bins = BINS.copy()
    bins[2, 0] = bad
    with pytest.raises(ValueError, match="bins"):
        bid_ratio_gradient(**tiny(bins=bins))


def test_gradient_rejects_non_integer_bins():
    with pytest.raises(TypeError, match="bins"):
        bid_ratio_gradient(**tiny(bins=BINS.astype(float)))
    with pytest.raises(TypeError, match="bins"):
        bid_ratio_gradient(**tiny(bins=BINS + 0.5))


@pytest.mark.parametrize("n_bins", [0, -2])
def test_gradient_rejects_bad_n_bins(n_bins):
    with pytest.raises(ValueError, match="n_bins"):
        bid_ratio_gradient(**tiny(n_bins=n_bins))


@pytest.mark.parametrize("n_bins", [2.5, 3.0, True, None])
def test_gradient_rejects_n_bins_of_the_wrong_type(n_bins):
    with pytest.raises(TypeError, match="n_bins"):
        bid_ratio_gradient(**tiny(n_bins=n_bins))


@pytest.mark.parametrize("name", ["utilities", "baselines", "noise"])
def test_gradient_rejects_non_numeric_arrays_naming_them(name):
    with pytest.raises(TypeError, match=name):
        bid_ratio_gradient(**tiny(**{name: "abc"}))


# ======================================================================================
# The learner (unmarked: needs 1.1-1.4 solved or the references switched on)
# ======================================================================================


def test_weighted_ratio_hand_computed():
    # Two bins of [0, 1]: v^2 mass 1/8 on [0, 1/2] and 7/8 on [1/2, 1].
    np.testing.assert_allclose(weighted_ratio(np.array([1.0, 0.0])), 0.125)
    np.testing.assert_allclose(weighted_ratio(np.array([0.0, 1.0])), 0.875)
    np.testing.assert_allclose(weighted_ratio(np.array([[0.7, 0.7, 0.7], [2.0, 2.0, 2.0]])),
                               [0.7, 2.0])


@pytest.mark.parametrize(("mechanism", "n_bidders", "target"), [
    ("vickrey", 3, 1.0),
    ("first_price", 3, 2.0 / 3.0),
    ("first_price", 2, 0.5),
    ("vickrey", 2, 1.0),
])
def test_learn_to_bid_finds_the_equilibrium(mechanism, n_bidders, target):
    result = learn_to_bid(mechanism, n_bidders=n_bidders, iterations=300)
    assert isinstance(result, LearnToBidResult)
    assert result.mechanism == mechanism
    assert result.n_bidders == n_bidders
    assert result.ratios.shape == (n_bidders, 10)
    assert result.history.shape == (300, n_bidders)
    np.testing.assert_allclose(result.bin_centers, np.arange(0.05, 1.0, 0.1))
    assert abs(result.overall_ratio() - target) < 0.05


def test_learn_to_bid_starts_from_init_ratio_and_is_reproducible():
    a = learn_to_bid("first_price", n_bidders=2, n_bins=4, iterations=8, batch=256, seed=5)
    b = learn_to_bid("first_price", n_bidders=2, n_bins=4, iterations=8, batch=256, seed=5)
    np.testing.assert_array_equal(a.ratios, b.ratios)
    # After one step of size at most lr (0.05), the curve is still near the start, 0.5.
    assert np.all(np.abs(a.history[0] - 0.5) <= 0.05 + 1e-12)


def test_learn_to_bid_callback_sees_every_iteration():
    seen = []
    learn_to_bid("vickrey", iterations=5, batch=64, callback=seen.append)
    assert seen == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"n_bidders": 1}, ValueError, "n_bidders"),
    ({"n_bins": 0}, ValueError, "n_bins"),
    ({"iterations": 0}, ValueError, "iterations"),
    ({"batch": 2.0}, TypeError, "batch"),
    ({"lr": 0.0}, ValueError, "lr"),
    ({"sigma": (0.2, 0.0)}, ValueError, "sigma"),
    ({"init_ratio": -0.1}, ValueError, "init_ratio"),
])
def test_learn_to_bid_validates(kwargs, error, name):
    with pytest.raises(error, match=name):
        learn_to_bid("vickrey", **kwargs)


def test_learn_to_bid_rejects_unknown_mechanism():
    with pytest.raises(ValueError, match="mechanism"):
        learn_to_bid("dutch")


# ======================================================================================
# Chapter 3: train_society (uses the reference solutions of 1.4, 3.1 and 3.2 when this copy
# has them)
# ======================================================================================

from course_lib.bidders import SocietyResult, train_society  # noqa: E402
from course_lib.envs.toy_mdps import make_task  # noqa: E402


@pytest.fixture(scope="module")
def cloned_ccv_on_the_bandit():
    return train_society(make_task("bandit"), ["ccv"] * 2, 2, 0.99, iterations=150, n_envs=32,
                         seed=0)


def test_train_society_result_shapes(cloned_ccv_on_the_bandit):
    result = cloned_ccv_on_the_bandit
    assert isinstance(result, SocietyResult)
    assert result.mechanisms == ["ccv", "ccv"]
    assert result.n_clones == 2 and result.gamma == pytest.approx(0.99)
    assert result.mean_bids.shape == (2, 2, 4)  # (runs, states, actions)
    assert result.money_per_episode.shape == (2,)
    assert result.bid_history.shape == (50, 2, 2, 4)  # 50 snapshots by default
    assert result.return_history.shape == (150, 2)
    assert result.env_steps.shape == (2,) and result.env_steps.dtype.kind in "iu"
    # The last snapshot is taken after the last update.
    np.testing.assert_array_equal(result.bid_history[-1], result.mean_bids)


def test_train_society_cloned_ccv_bids_q_star_on_the_bandit(cloned_ccv_on_the_bandit):
    bids = cloned_ccv_on_the_bandit.mean_bids[:, 0]  # the one live state
    for run in bids:
        assert int(np.argmax(run)) == 3  # the 0.8 arm
        assert abs(run.max() - 0.8) < 0.05  # Q*(0, arm 3) = 0.8
    # With exploration shrunk to sigma 0.01 the society pulls the best arm every time.
    np.testing.assert_allclose(cloned_ccv_on_the_bandit.return_history[-1], [0.8, 0.8],
                               atol=1e-12)


def test_train_society_counts_env_steps_and_creates_no_money_on_the_bandit(
        cloned_ccv_on_the_bandit):
    # Every bandit episode is one step: 150 iterations x 32 episodes.
    np.testing.assert_array_equal(cloned_ccv_on_the_bandit.env_steps, [150 * 32, 150 * 32])
    np.testing.assert_array_equal(cloned_ccv_on_the_bandit.money_per_episode, [0.0, 0.0])


def test_train_society_money_creation_on_the_chain():
    iterations, n_envs = 40, 16
    result = train_society(make_task("chain"), ["bb", "v", "ccv", "env"], 1, 0.99,
                           iterations=iterations, n_envs=n_envs, seed=0)
    money = dict(zip(result.mechanisms, result.money_per_episode, strict=True))
    assert money["v"] > 0  # Vickrey pays the seller more than the next buyer pays
    for mechanism in ("bb", "ccv", "env"):
        assert money[mechanism] == 0.0
    # An episode takes at least 5 steps (straight right) and at most 20 (the time limit).
    assert np.all(result.env_steps >= 5 * n_envs * iterations)
    assert np.all(result.env_steps <= 20 * n_envs * iterations)


def test_train_society_never_moves_bids_in_terminal_states():
    result = train_society(make_task("chain"), ["ccv", "v"], 2, 0.9, iterations=20, n_envs=8,
                           init_bid=0.3, seed=1)
    np.testing.assert_array_equal(result.mean_bids[:, 5], 0.3)  # state 5 holds no auction
    assert np.any(result.mean_bids[:, 0] != 0.3)  # the start state does


def test_a_zero_time_limit_changes_only_what_a_cut_prices():
    kwargs = dict(iterations=30, n_envs=8, seed=2)
    # The bandit's one-step episodes always end in a terminal state: nothing is ever cut.
    boot = train_society(make_task("bandit"), ["ccv", "v"], 2, 0.99, **kwargs)
    zero = train_society(make_task("bandit"), ["ccv", "v"], 2, 0.99, time_limit="zero",
                         **kwargs)
    np.testing.assert_array_equal(boot.mean_bids, zero.mean_bids)
    # Every duality episode is cut: pricing the cut at 0 lowers the last sellers' utilities.
    boot = train_society(make_task("duality"), ["ccv"], 2, 0.9, **kwargs)
    zero = train_society(make_task("duality"), ["ccv"], 2, 0.9, time_limit="zero", **kwargs)
    assert not np.array_equal(boot.mean_bids, zero.mean_bids)
    assert zero.mean_bids[0, 1, 1] < boot.mean_bids[0, 1, 1]  # staying in state 1 pays later


def test_train_society_is_reproducible_and_calls_back_every_iteration():
    seen = []
    kwargs = dict(iterations=6, n_envs=4, n_snapshots=3, seed=3)
    a = train_society(make_task("duality"), ["bb", "ccv"], 2, 0.9, callback=seen.append,
                      **kwargs)
    b = train_society(make_task("duality"), ["bb", "ccv"], 2, 0.9, **kwargs)
    c = train_society(make_task("duality"), ["bb", "ccv"], 2, 0.9, **{**kwargs, "seed": 4})
    assert seen == list(range(6))
    assert a.bid_history.shape == (3, 2, 3, 2)
    np.testing.assert_array_equal(a.mean_bids, b.mean_bids)
    assert not np.array_equal(a.mean_bids, c.mean_bids)
    # No terminal state: all 10 steps of each of 4 episodes x 6 iterations are taken.
    np.testing.assert_array_equal(a.env_steps, [6 * 4 * 10] * 2)


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"mechanisms": "ccv"}, TypeError, "mechanisms"),
    ({"mechanisms": []}, TypeError, "mechanisms"),
    ({"mechanisms": ["ccv", "vcg"]}, ValueError, "mechanism"),
    ({"n_clones": 0}, ValueError, "n_clones"),
    ({"n_clones": 2.0}, TypeError, "n_clones"),
    ({"gamma": 1.5}, ValueError, "gamma"),
    ({"iterations": 0}, ValueError, "iterations"),
    ({"n_envs": 0}, ValueError, "n_envs"),
    ({"time_limit": "cut"}, ValueError, "time_limit"),
    ({"time_limit": 0}, TypeError, "time_limit"),
    ({"lr": 0.0}, ValueError, "lr"),
    ({"sigma": 0.3}, TypeError, "sigma"),
    ({"sigma": (0.3, 0.0)}, ValueError, "sigma"),
    ({"init_bid": np.nan}, ValueError, "init_bid"),
])
def test_train_society_validates(kwargs, error, name):
    args = dict(mechanisms=["ccv"], n_clones=1, gamma=0.9, iterations=2, n_envs=2)
    args.update(kwargs)
    with pytest.raises(error, match=name):
        train_society(make_task("bandit"), **args)


def test_train_society_rejects_what_is_not_an_mdp():
    with pytest.raises(TypeError, match="TabularMDP"):
        train_society("bandit", ["ccv"], 1, 0.9)
