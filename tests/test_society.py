"""Public tests for chapter 3's societies: exercises 3.1 and 3.2, and the helpers around them.

Tests marked ``@pytest.mark.exercise("3.x")`` check an exercise; ``course_lib.check("3.x")``
runs them against your own code. Unmarked tests check input validation (which runs before
your code) and the library functions built next to the exercises (``top_two``,
``money_created``, ``check_society_mechanism``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from oracles import loop_utility

from course_lib.society import (
    MECHANISMS,
    SocietyAuctionOutcome,
    check_society_mechanism,
    money_created,
    society_auction,
    top_two,
    winner_utility,
)

# A small batch of 3 auctions worked out by hand (3 bidders now, 2 bidders next), gamma 0.5.
#   auction   own (max)  2nd    next max  next 2nd  next exists  reward
#   0         0.5        0.3    0.8       0.6       yes          0.0
#   1         0.9        0.4    0.7       0.1       yes          1.0
#   2         0.6        0.6    1.0       0.2       no           0.5   (tie at the top)
BIDS = np.array([[0.5, 0.3, 0.1],
                 [0.2, 0.9, 0.4],
                 [0.6, 0.6, 0.0]])
NEXT_BIDS = np.array([[0.8, 0.6],
                      [0.1, 0.7],
                      [1.0, 0.2]])
NEXT_EXISTS = np.array([True, True, False])
REWARDS = np.array([0.0, 1.0, 0.5])
GAMMA = 0.5
EXPECTED_UTILITY = {
    # bb:  r + gamma * next max - own bid
    "bb": [0.0 + 0.4 - 0.5, 1.0 + 0.35 - 0.9, 0.5 - 0.6],
    # v:   r + gamma * next max - 2nd
    "v": [0.0 + 0.4 - 0.3, 1.0 + 0.35 - 0.4, 0.5 - 0.6],
    # ccv: r + gamma * next 2nd - 2nd
    "ccv": [0.0 + 0.3 - 0.3, 1.0 + 0.05 - 0.4, 0.5 - 0.6],
    # env: r
    "env": [0.0, 1.0, 0.5],
}


def tiny(**changes):
    args = dict(rewards=REWARDS, gamma=GAMMA, bids=BIDS, next_bids=NEXT_BIDS,
                next_exists=NEXT_EXISTS)
    args.update(changes)
    return args


def loop_society_auction(bids):
    """One society auction by hand: (primitive, clone, price), ties to the first in row order."""
    best, where = None, None
    flat = []
    for p, row in enumerate(bids):
        for c, b in enumerate(row):
            b = float(b)
            flat.append(b)
            if best is None or b > best:
                best, where = b, (p, c)
    flat.sort(reverse=True)
    return where[0], where[1], (flat[1] if len(flat) > 1 else 0.0)


bid_values = st.one_of(
    st.sampled_from([-0.5, 0.0, 0.25, 0.5, 1.0]),  # a coarse grid, so that ties are common
    st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_infinity=False),
)
# Non-negative bids: a lone bidder's "second price" is 0, which exceeds a negative lone bid,
# so the orderings below hold only for bids >= 0 (or two bidders or more).
non_negative_bid_values = st.one_of(
    st.sampled_from([0.0, 0.25, 0.5, 1.0]),
    st.floats(min_value=0.0, max_value=2.0, allow_nan=False, allow_infinity=False),
)


@st.composite
def utility_cases(draw, elements=bid_values):
    batch = draw(st.integers(1, 6))
    n_now, n_next = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    bids = draw(hnp.arrays(np.float64, (batch, n_now), elements=elements))
    next_bids = draw(hnp.arrays(np.float64, (batch, n_next), elements=elements))
    rewards = draw(hnp.arrays(np.float64, (batch,), elements=st.floats(-1.0, 1.0)))
    exists = draw(hnp.arrays(np.bool_, (batch,)))
    gamma = draw(st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0]))
    return dict(rewards=rewards, gamma=gamma, bids=bids, next_bids=next_bids,
                next_exists=exists)


# ======================================================================================
# 3.1 The winner's utility
# ======================================================================================


@pytest.mark.exercise("3.1")
def test_winner_utility_docstring_example():
    out = winner_utility("ccv", [0.0], 0.9, [[0.5, 0.3]], [[0.8, 0.6]], [True])
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, [0.24], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.1")
def test_winner_utility_hand_computed_batch():
    """Every mechanism on the hand-computed batch, leaving its inputs as they were."""
    args = {k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v
            for k, v in tiny().items()}
    for mechanism in MECHANISMS:
        out = winner_utility(mechanism, **args)
        assert np.shape(out) == (3,)
        np.testing.assert_allclose(out, EXPECTED_UTILITY[mechanism], rtol=0, atol=1e-12,
                                   err_msg=mechanism)
    np.testing.assert_array_equal(args["bids"], BIDS)
    np.testing.assert_array_equal(args["next_bids"], NEXT_BIDS)
    np.testing.assert_array_equal(args["rewards"], REWARDS)


@pytest.mark.exercise("3.1")
def test_winner_utility_accepts_positional_arguments_and_lists():
    out = winner_utility("v", REWARDS.tolist(), GAMMA, BIDS.tolist(), NEXT_BIDS.tolist(),
                         NEXT_EXISTS.tolist())
    np.testing.assert_allclose(out, EXPECTED_UTILITY["v"], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.1")
def test_winner_utility_terminal_next_state_drops_both_next_terms():
    # The same auctions with no next state: bb pays its own bid, v and ccv the second.
    exists = np.zeros(3, dtype=bool)
    np.testing.assert_allclose(winner_utility("bb", **tiny(next_exists=exists)),
                               [-0.5, 0.1, -0.1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(winner_utility("v", **tiny(next_exists=exists)),
                               [-0.3, 0.6, -0.1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(winner_utility("ccv", **tiny(next_exists=exists)),
                               [-0.3, 0.6, -0.1], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.1")
def test_winner_utility_single_bidder_second_price_is_zero():
    # One bidder now and one next: the second-highest bid is 0 in both auctions.
    args = dict(rewards=[0.1], gamma=0.9, bids=[[0.7]], next_bids=[[0.4]], next_exists=[True])
    np.testing.assert_allclose(winner_utility("bb", **args), [0.1 + 0.36 - 0.7], atol=1e-12)
    np.testing.assert_allclose(winner_utility("v", **args), [0.1 + 0.36], atol=1e-12)
    np.testing.assert_allclose(winner_utility("ccv", **args), [0.1], atol=1e-12)
    np.testing.assert_allclose(winner_utility("env", **args), [0.1], atol=1e-12)


@pytest.mark.exercise("3.1")
def test_winner_utility_gamma_zero_ignores_the_future():
    out = winner_utility("v", **tiny(gamma=0.0))
    np.testing.assert_allclose(out, [-0.3, 0.6, -0.1], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.1")
def test_winner_utility_batch_2d():
    bids = BIDS.reshape(3, 1, 3).repeat(2, axis=1)  # (3, 2, 3): every auction twice
    next_bids = NEXT_BIDS.reshape(3, 1, 2).repeat(2, axis=1)
    out = winner_utility("ccv", REWARDS[:, None].repeat(2, axis=1), GAMMA, bids, next_bids,
                         NEXT_EXISTS[:, None].repeat(2, axis=1))
    assert np.shape(out) == (3, 2)
    np.testing.assert_allclose(out, np.array(EXPECTED_UTILITY["ccv"])[:, None].repeat(2, 1),
                               rtol=0, atol=1e-12)


@pytest.mark.exercise("3.1")
def test_winner_utility_env_returns_a_copy_of_the_rewards():
    """Catches 'env' handing back the caller's rewards array itself: the result is a new
    array, so writing into it leaves the rewards alone; 'v' on the same call adds the rest."""
    rewards = REWARDS.copy()
    out = winner_utility("env", **tiny(rewards=rewards))
    np.testing.assert_array_equal(out, [0.0, 1.0, 0.5])
    out += 10.0
    np.testing.assert_array_equal(rewards, [0.0, 1.0, 0.5])
    np.testing.assert_allclose(winner_utility("v", **tiny(rewards=rewards)),
                               EXPECTED_UTILITY["v"], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.1")
@settings(deadline=None, max_examples=100)
@given(case=utility_cases(), mechanism=st.sampled_from(MECHANISMS))
def test_property_winner_utility_matches_a_loop(case, mechanism):
    out = winner_utility(mechanism, **case)
    expected = [loop_utility(mechanism, case["rewards"][i], case["gamma"], case["bids"][i],
                             case["next_bids"][i], bool(case["next_exists"][i]))
                for i in range(len(case["rewards"]))]
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-9)


@pytest.mark.exercise("3.1")
@settings(deadline=None, max_examples=100)
@given(case=utility_cases(elements=non_negative_bid_values))
def test_property_mechanisms_compare_as_the_table_says(case):
    u = {m: np.asarray(winner_utility(m, **case)) for m in MECHANISMS}
    # bb pays its own bid, which is at least the second price; ccv receives the second-highest
    # next bid, at most the highest.
    assert np.all(u["bb"] <= u["v"] + 1e-12)
    assert np.all(u["ccv"] <= u["v"] + 1e-12)
    np.testing.assert_allclose(u["env"], case["rewards"], rtol=0, atol=0)
    # Without a next state v and ccv coincide: both pay the second price and receive nothing.
    ended = ~case["next_exists"]
    np.testing.assert_allclose(u["v"][ended], u["ccv"][ended], rtol=0, atol=1e-12)
    # And by how much: v beats bb by the own bid less the second price, and (with a next
    # state) ccv by gamma times the gap between the two highest next bids.
    def top_two_by_hand(bids):
        ordered = -np.sort(-bids, axis=-1)
        second = ordered[:, 1] if bids.shape[-1] > 1 else np.zeros(len(bids))
        return ordered[:, 0], second
    own, second = top_two_by_hand(case["bids"])
    next_first, next_second = top_two_by_hand(case["next_bids"])
    np.testing.assert_allclose(u["v"] - u["bb"], own - second, rtol=0, atol=1e-9)
    gap = np.where(case["next_exists"], case["gamma"] * (next_first - next_second), 0.0)
    np.testing.assert_allclose(u["v"] - u["ccv"], gap, rtol=0, atol=1e-9)


# ======================================================================================
# 3.2 The auction among clones
# ======================================================================================


def assert_outcome(out, primitive, clone, price):
    assert isinstance(out, SocietyAuctionOutcome)
    assert np.asarray(out.primitive).dtype.kind in "iu"
    assert np.asarray(out.clone).dtype.kind in "iu"
    np.testing.assert_array_equal(out.primitive, primitive)
    np.testing.assert_array_equal(out.clone, clone)
    np.testing.assert_allclose(out.price, price, rtol=0, atol=1e-12)


@pytest.mark.exercise("3.2")
def test_society_auction_docstring_example():
    out = society_auction([[0.2, 0.1], [0.7, 0.65]])  # the runner-up is the winner's own clone
    assert_outcome(out, 1, 0, 0.65)


@pytest.mark.exercise("3.2")
def test_society_auction_price_from_another_primitive():
    out = society_auction(np.array([[0.2, 0.1], [0.7, 0.65], [0.3, 0.69]]))
    assert_outcome(out, 1, 0, 0.69)


@pytest.mark.exercise("3.2")
def test_society_auction_winner_in_a_later_clone():
    out = society_auction([[0.1, 0.3, 0.2], [0.05, 0.25, 0.9]])
    assert_outcome(out, 1, 2, 0.3)


@pytest.mark.exercise("3.2")
def test_society_auction_ties_go_to_lowest_primitive_then_clone():
    assert_outcome(society_auction([[0.5, 0.9], [0.9, 0.9]]), 0, 1, 0.9)
    assert_outcome(society_auction([[0.1, 0.1], [0.4, 0.4]]), 1, 0, 0.4)


@pytest.mark.exercise("3.2")
def test_society_auction_one_clone_is_a_vickrey_auction():
    assert_outcome(society_auction([[0.3], [0.8], [0.5]]), 1, 0, 0.5)


@pytest.mark.exercise("3.2")
def test_society_auction_lone_bidder_pays_zero():
    assert_outcome(society_auction([[0.35]]), 0, 0, 0.0)
    assert_outcome(society_auction([[0.3, 0.8, 0.5]]), 0, 1, 0.5)  # one primitive, 3 clones


@pytest.mark.exercise("3.2")
def test_society_auction_batch():
    bids = np.array([[[0.1, 0.5, 0.2], [0.4, 0.3, 0.0]],
                     [[0.0, 0.0, 0.0], [0.0, 0.7, 0.6]]])  # (2 auctions, 2 primitives, 3 clones)
    out = society_auction(bids)
    assert np.shape(out.primitive) == np.shape(out.clone) == np.shape(out.price) == (2,)
    assert_outcome(out, [0, 1], [1, 1], [0.4, 0.6])


@pytest.mark.exercise("3.2")
def test_society_auction_negative_bids():
    # Bids are Gaussian around a mean, so they can be negative.
    assert_outcome(society_auction([[-0.5, -0.2], [-0.3, -0.9]]), 0, 1, -0.3)


@pytest.mark.exercise("3.2")
@settings(deadline=None, max_examples=100)
@given(bids=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=4, min_side=1,
                                                    max_side=4), elements=bid_values))
def test_property_society_auction(bids):
    out = society_auction(bids)
    batch = bids.shape[:-2]
    assert np.shape(out.primitive) == np.shape(out.clone) == np.shape(out.price) == batch
    primitive, clone = np.asarray(out.primitive), np.asarray(out.clone)
    price = np.asarray(out.price)
    for idx in np.ndindex(batch):
        p, c, expected_price = loop_society_auction(bids[idx])
        assert (primitive[idx], clone[idx]) == (p, c)
        assert price[idx] == pytest.approx(expected_price, abs=1e-12)
        # The winner holds the highest bid; with a rival it never pays more than it bid
        # (a lone bidder pays 0, even when its bid is negative).
        assert bids[idx][p, c] == bids[idx].max()
        if bids[idx].size > 1:
            assert price[idx] <= bids[idx][p, c]
        else:
            assert price[idx] == 0.0


# ======================================================================================
# Input validation (runs before any exercise code) and the helpers
# ======================================================================================


@pytest.mark.parametrize(("changes", "name"), [
    ({"bids": np.zeros((3, 0))}, "bids"),
    ({"bids": np.zeros(3)}, "next_bids"),  # batch shape () against (3,)
    ({"next_bids": np.zeros((2, 2))}, "next_bids"),
    ({"rewards": np.zeros(2)}, "rewards"),
    ({"rewards": [0.0, np.nan, 0.0]}, "rewards"),
    ({"next_exists": [1, 1, 0]}, "next_exists"),
    ({"next_exists": np.ones(2, dtype=bool)}, "next_exists"),
    ({"bids": [[0.5, np.nan, 0.1]] * 3}, "bids"),
    ({"next_bids": [[np.inf, 0.0]] * 3}, "next_bids"),
    ({"gamma": 1.5}, "gamma"),
    ({"gamma": -0.1}, "gamma"),
    ({"gamma": np.nan}, "gamma"),
])
def test_winner_utility_rejects_bad_input(changes, name):
    with pytest.raises(ValueError, match=name):
        winner_utility("v", **tiny(**changes))


@pytest.mark.parametrize(("changes", "name"), [
    ({"gamma": "0.9"}, "gamma"),
    ({"gamma": True}, "gamma"),
    ({"bids": "high"}, "bids"),
    ({"next_bids": None}, "next_bids"),
    ({"rewards": [[0.0, "x"]]}, "rewards"),
])
def test_winner_utility_rejects_wrong_types(changes, name):
    with pytest.raises(TypeError, match=name):
        winner_utility("v", **tiny(**changes))


def test_winner_utility_rejects_unknown_mechanisms():
    with pytest.raises(ValueError, match="mechanism"):
        winner_utility("vickrey", **tiny())
    with pytest.raises(TypeError, match="mechanism"):
        winner_utility(None, **tiny())


@pytest.mark.parametrize("bids", [[0.1, 0.2], np.zeros((2, 0)), [[0.1, np.nan]], [[np.inf]]])
def test_society_auction_rejects_bad_bids(bids):
    with pytest.raises(ValueError, match="bids"):
        society_auction(bids)


@pytest.mark.parametrize("bids", ["abc", None, [[0.1, "x"]]])
def test_society_auction_rejects_non_numeric_bids(bids):
    with pytest.raises(TypeError, match="bids"):
        society_auction(bids)


def test_check_society_mechanism():
    for m in MECHANISMS:
        assert check_society_mechanism(m) == m
    with pytest.raises(ValueError, match="unknown mechanism"):
        check_society_mechanism("first_price")
    with pytest.raises(TypeError):
        check_society_mechanism(3)


def test_top_two():
    first, second = top_two(np.array([[0.3, 0.9, 0.5], [0.4, 0.4, 0.1], [-1.0, -3.0, -2.0]]))
    np.testing.assert_allclose(first, [0.9, 0.4, -1.0])
    np.testing.assert_allclose(second, [0.5, 0.4, -2.0])
    first, second = top_two(np.array([[0.7], [-0.2]]))  # one bidder: second is 0
    np.testing.assert_allclose(first, [0.7, -0.2])
    np.testing.assert_allclose(second, [0.0, 0.0])


@pytest.mark.parametrize("mechanism", ["bb", "ccv", "env"])
def test_money_created_is_zero_except_under_vickrey(mechanism):
    made = money_created(mechanism, GAMMA, NEXT_BIDS, NEXT_EXISTS)
    assert np.shape(made) == (3,)
    np.testing.assert_array_equal(made, 0.0)


def test_money_created_under_vickrey_is_the_discounted_gap():
    made = money_created("v", GAMMA, NEXT_BIDS, NEXT_EXISTS)
    # gamma * (next max - next 2nd): 0.5 * 0.2, 0.5 * 0.6, and 0 where no next state exists.
    np.testing.assert_allclose(made, [0.1, 0.3, 0.0], rtol=0, atol=1e-12)
    lone = money_created("v", 0.9, [[0.4], [0.5]], [True, False])  # one next bidder
    np.testing.assert_allclose(lone, [0.36, 0.0], rtol=0, atol=1e-12)


def test_money_created_is_the_gap_between_v_and_ccv():
    # v receives gamma * next max, ccv gamma * next 2nd; both pay the same.
    gap = winner_utility("v", **tiny()) - winner_utility("ccv", **tiny())
    np.testing.assert_allclose(money_created("v", GAMMA, NEXT_BIDS, NEXT_EXISTS), gap,
                               rtol=0, atol=1e-12)


def test_money_created_rejects_unknown_mechanisms():
    with pytest.raises(ValueError, match="mechanism"):
        money_created("first_price", 0.9, NEXT_BIDS, NEXT_EXISTS)
