"""Public tests for chapter 1's auctions: exercises 1.1, 1.2 and 1.3, and the analysis helpers.

Tests marked ``@pytest.mark.exercise("1.x")`` check an exercise; ``course_lib.check("1.x")``
runs them against your own code. Unmarked tests check input validation (which runs before
your code) and the library functions built on the exercises.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.auctions import (
    MECHANISMS,
    AuctionOutcome,
    as_bid_array,
    auction_utilities,
    check_mechanism,
    equilibrium_bid_ratio,
    expected_revenue,
    first_price_auction,
    run_auction,
    truthful_regret,
    utility_curve,
    vickrey_auction,
)

AUCTIONS = {"first_price": first_price_auction, "vickrey": vickrey_auction}
EXERCISE_OF = {"first_price": "1.1", "vickrey": "1.2"}


def per_mechanism(*extra_ids: str) -> list:
    """Parametrize over both mechanisms, each case marked with its own exercise (1.1 or 1.2)
    plus ``extra_ids``: check("1.1") then runs only the first-price cases, and so on."""
    return [
        pytest.param(m, marks=pytest.mark.exercise(EXERCISE_OF[m], *extra_ids), id=m)
        for m in MECHANISMS
    ]


def expected_outcome(bids, mechanism: str) -> tuple[np.ndarray, np.ndarray]:
    """A plain-Python oracle, one auction at a time: (winners, prices)."""
    bids = np.asarray(bids, dtype=float)
    batch_shape = bids.shape[:-1]
    winners = np.zeros(batch_shape, dtype=int)
    prices = np.zeros(batch_shape)
    for idx in np.ndindex(batch_shape):
        row = [float(b) for b in bids[idx]]
        w = 0
        for i, b in enumerate(row):
            if b > row[w]:  # strictly greater: the lowest index keeps a tie
                w = i
        if mechanism == "first_price":
            price = row[w]
        else:
            others = row[:w] + row[w + 1:]
            price = max(others) if others else 0.0
        winners[idx] = w
        prices[idx] = price
    return winners, prices


def expected_utilities(values, bids, mechanism: str) -> np.ndarray:
    """The oracle's utilities: the winner's value less the price, zero for everyone else."""
    values = np.asarray(values, dtype=float)
    winners, prices = expected_outcome(bids, mechanism)
    at_winner = np.arange(values.shape[-1]) == winners[..., None]
    return np.where(at_winner, values - prices[..., None], 0.0)


# Bids on a coarse grid (so that ties are common) or anywhere in [0, 1].
bid_elements = st.one_of(
    st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_infinity=False),
)


def bid_arrays(max_dims: int = 3, max_side: int = 6):
    return hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=max_side),
        elements=bid_elements,
    )


# ======================================================================================
# 1.1 First-price auction
# ======================================================================================


@pytest.mark.exercise("1.1")
def test_first_price_small_case():
    out = first_price_auction(np.array([0.2, 0.7, 0.5]))
    assert isinstance(out, AuctionOutcome)
    assert out.winner == 1
    assert out.price == pytest.approx(0.7)


@pytest.mark.exercise("1.1")
def test_first_price_winner_first_or_last():
    assert first_price_auction([0.9, 0.1, 0.3]) == AuctionOutcome(0, 0.9)
    assert first_price_auction([0.1, 0.3, 0.95]) == AuctionOutcome(2, 0.95)


@pytest.mark.exercise("1.1")
def test_first_price_tie_goes_to_lowest_index():
    out = first_price_auction([0.4, 0.9, 0.9, 0.1])
    assert out.winner == 1
    assert out.price == pytest.approx(0.9)


@pytest.mark.exercise("1.1")
def test_first_price_lone_bidder_pays_own_bid():
    out = first_price_auction([0.35])
    assert out.winner == 0
    assert out.price == pytest.approx(0.35)


@pytest.mark.exercise("1.1")
def test_first_price_accepts_lists_of_ints():
    out = first_price_auction([3, 1, 2])
    assert out.winner == 0
    assert out.price == pytest.approx(3.0)


@pytest.mark.exercise("1.1")
def test_first_price_batch_2d():
    bids = [[0.1, 0.5, 0.2],
            [0.6, 0.6, 0.1],
            [0.0, 0.0, 0.3]]
    out = first_price_auction(bids)
    np.testing.assert_array_equal(out.winner, [1, 0, 2])
    np.testing.assert_allclose(out.price, [0.5, 0.6, 0.3])


@pytest.mark.exercise("1.1")
def test_first_price_batch_3d():
    bids = np.array([[[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]],
                     [[2.0, 2.0, 0.0], [0.0, 5.0, 5.0]]])
    out = first_price_auction(bids)
    assert np.shape(out.winner) == (2, 2) and np.shape(out.price) == (2, 2)
    np.testing.assert_array_equal(out.winner, [[2, 0], [0, 1]])
    np.testing.assert_allclose(out.price, [[3.0, 3.0], [2.0, 5.0]])


# ======================================================================================
# 1.2 Vickrey auction
# ======================================================================================


@pytest.mark.exercise("1.2")
def test_vickrey_small_case():
    out = vickrey_auction(np.array([0.2, 0.7, 0.5]))
    assert isinstance(out, AuctionOutcome)
    assert out.winner == 1
    assert out.price == pytest.approx(0.5)


@pytest.mark.exercise("1.2")
def test_vickrey_price_can_come_from_a_lower_index():
    out = vickrey_auction([0.5, 0.9, 0.2])
    assert out.winner == 1
    assert out.price == pytest.approx(0.5)


@pytest.mark.exercise("1.2")
def test_vickrey_tie_pays_the_tied_bid():
    out = vickrey_auction([0.6, 0.6])
    assert out.winner == 0
    assert out.price == pytest.approx(0.6)
    out = vickrey_auction([0.2, 0.9, 0.9, 0.5])
    assert out.winner == 1
    assert out.price == pytest.approx(0.9)  # the other 0.9, not the next distinct bid 0.5


@pytest.mark.exercise("1.2")
def test_vickrey_lone_bidder_pays_zero():
    """A lone bidder pays nothing; add a rival and the same bidder pays the rival's bid."""
    out = vickrey_auction([0.35])
    assert out.winner == 0
    assert out.price == 0.0
    out = vickrey_auction([0.35, 0.15])
    assert out.winner == 0
    assert out.price == pytest.approx(0.15)


@pytest.mark.exercise("1.2")
def test_vickrey_lone_bidder_batched_pays_zero():
    """Batched lone bidders pay nothing; with a rival each, they pay the rival's bid."""
    out = vickrey_auction([[0.3], [0.8], [0.0]])
    np.testing.assert_array_equal(out.winner, [0, 0, 0])
    np.testing.assert_array_equal(out.price, [0.0, 0.0, 0.0])
    out = vickrey_auction([[0.3, 0.2], [0.8, 0.9], [0.0, 0.0]])
    np.testing.assert_array_equal(out.winner, [0, 1, 0])
    np.testing.assert_allclose(out.price, [0.2, 0.8, 0.0])


@pytest.mark.exercise("1.2")
def test_vickrey_accepts_lists_of_ints():
    out = vickrey_auction([3, 1, 2])
    assert out.winner == 0
    assert out.price == pytest.approx(2.0)


@pytest.mark.exercise("1.2")
def test_vickrey_batch_2d():
    bids = [[0.1, 0.5, 0.2],
            [0.6, 0.6, 0.1],
            [0.0, 0.0, 0.3]]
    out = vickrey_auction(bids)
    np.testing.assert_array_equal(out.winner, [1, 0, 2])
    np.testing.assert_allclose(out.price, [0.2, 0.6, 0.0])


@pytest.mark.exercise("1.2")
def test_vickrey_batch_3d():
    bids = np.array([[[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]],
                     [[2.0, 2.0, 0.0], [0.0, 5.0, 5.0]]])
    out = vickrey_auction(bids)
    assert np.shape(out.winner) == (2, 2) and np.shape(out.price) == (2, 2)
    np.testing.assert_array_equal(out.winner, [[2, 0], [0, 1]])
    np.testing.assert_allclose(out.price, [[2.0, 2.0], [2.0, 5.0]])


@pytest.mark.exercise("1.2")
def test_vickrey_does_not_change_the_bids():
    """Catches sorting the caller's bids in place (``bids.sort()``) to find the second price:
    the auction must leave its input as it was (np.sort returns a sorted copy)."""
    bids = np.array([[0.2, 0.9, 0.5], [0.4, 0.1, 0.3]])
    out = vickrey_auction(bids)
    np.testing.assert_array_equal(bids, [[0.2, 0.9, 0.5], [0.4, 0.1, 0.3]])
    np.testing.assert_array_equal(out.winner, [1, 0])
    np.testing.assert_allclose(out.price, [0.5, 0.3])


# ======================================================================================
# 1.1 and 1.2 together: return types and properties
# ======================================================================================


@pytest.mark.parametrize("mechanism", per_mechanism())
def test_single_and_batched_auctions_match_the_oracle(mechanism):
    """One auction gives a plain int and float, a batch gives arrays; both with right values."""
    out = AUCTIONS[mechanism]([0.2, 0.7, 0.5])
    assert type(out.winner) is int and type(out.price) is float
    assert (out.winner, out.price) == (1, {"first_price": 0.7, "vickrey": 0.5}[mechanism])
    bids = np.random.default_rng(1).random((4, 5, 3))
    out = AUCTIONS[mechanism](bids)
    winners, prices = expected_outcome(bids, mechanism)
    assert out.winner.dtype.kind in "iu" and out.price.dtype.kind == "f"
    np.testing.assert_array_equal(out.winner, winners)
    np.testing.assert_allclose(out.price, prices, rtol=0, atol=1e-12)


@pytest.mark.parametrize("mechanism", per_mechanism())
def test_run_auction_uses_the_named_mechanism(mechanism):
    expected = {"first_price": AuctionOutcome(1, 0.7), "vickrey": AuctionOutcome(1, 0.5)}
    out = run_auction([0.2, 0.7, 0.5], mechanism)
    assert out.winner == expected[mechanism].winner
    assert out.price == pytest.approx(expected[mechanism].price)


@pytest.mark.parametrize("mechanism", per_mechanism())
@settings(deadline=None, max_examples=150)
@given(bids=bid_arrays())
def test_property_matches_one_auction_at_a_time(mechanism, bids):
    out = AUCTIONS[mechanism](bids)
    winners, prices = expected_outcome(bids, mechanism)
    np.testing.assert_array_equal(out.winner, winners)
    np.testing.assert_allclose(out.price, prices, rtol=0, atol=1e-12)


@pytest.mark.parametrize("mechanism", per_mechanism())
@settings(deadline=None, max_examples=150)
@given(bids=bid_arrays())
def test_property_winner_holds_a_highest_bid_and_is_the_first(mechanism, bids):
    out = AUCTIONS[mechanism](bids)
    winner = np.asarray(out.winner)[..., None]
    winning_bid = np.take_along_axis(bids, winner, axis=-1)[..., 0]
    np.testing.assert_array_equal(winning_bid, bids.max(axis=-1))
    # Every bidder before the winner bid strictly less (ties go to the lowest index).
    before = np.arange(bids.shape[-1]) < winner
    assert np.all(np.where(before, bids < winning_bid[..., None], True))


@pytest.mark.parametrize("mechanism", per_mechanism())
@settings(deadline=None, max_examples=150)
@given(bids=bid_arrays())
def test_property_price_at_most_winning_bid(mechanism, bids):
    """The price lies between the highest losing bid (0 if none) and the winning bid."""
    out = AUCTIONS[mechanism](bids)
    winner = np.asarray(out.winner)[..., None]
    winning_bid = np.take_along_axis(bids, winner, axis=-1)[..., 0]
    losing = np.where(np.arange(bids.shape[-1]) == winner, -np.inf, bids)
    highest_losing = np.maximum(losing.max(axis=-1), 0.0)
    assert np.all(np.asarray(out.price) <= winning_bid + 1e-12)
    assert np.all(np.asarray(out.price) >= highest_losing - 1e-12)


# ======================================================================================
# 1.3 Utilities
# ======================================================================================


@pytest.mark.exercise("1.3")
def test_utilities_small_case():
    u = auction_utilities([0.9, 0.5], [0.8, 0.5], "vickrey")
    assert isinstance(u, np.ndarray) and u.shape == (2,)
    np.testing.assert_allclose(u, [0.4, 0.0], atol=1e-12)
    np.testing.assert_allclose(auction_utilities([0.9, 0.5], [0.8, 0.5], "first_price"),
                               [0.1, 0.0], atol=1e-12)


@pytest.mark.exercise("1.3")
def test_utilities_loser_with_high_value_gets_zero():
    values, bids = [1.0, 0.2], [0.1, 0.2]  # bidder 0 values the item most but underbids
    np.testing.assert_allclose(auction_utilities(values, bids, "vickrey"), [0.0, 0.1],
                               atol=1e-12)
    np.testing.assert_allclose(auction_utilities(values, bids, "first_price"), [0.0, 0.0],
                               atol=1e-12)


@pytest.mark.exercise("1.3")
def test_utilities_tie_goes_to_lowest_index():
    values, bids = [0.7, 0.9], [0.5, 0.5]
    np.testing.assert_allclose(auction_utilities(values, bids, "vickrey"), [0.2, 0.0],
                               atol=1e-12)
    np.testing.assert_allclose(auction_utilities(values, bids, "first_price"), [0.2, 0.0],
                               atol=1e-12)


@pytest.mark.exercise("1.3")
def test_utilities_lone_bidder():
    np.testing.assert_allclose(auction_utilities([0.8], [0.3], "vickrey"), [0.8], atol=1e-12)
    np.testing.assert_allclose(auction_utilities([0.8], [0.3], "first_price"), [0.5],
                               atol=1e-12)


@pytest.mark.exercise("1.3")
def test_utilities_batch_2d():
    values = [[0.9, 0.6, 0.3],
              [0.5, 0.8, 0.8],
              [0.2, 0.2, 0.9]]
    bids = [[0.5, 0.6, 0.1],
            [0.4, 0.7, 0.7],
            [0.0, 0.0, 0.0]]
    u = auction_utilities(values, bids, mechanism="vickrey")
    assert u.shape == (3, 3)
    # Row 0: bidder 1 wins, pays 0.5. Row 1: tie, bidder 1 wins, pays 0.7.
    # Row 2: all bid 0, bidder 0 wins and pays 0.
    np.testing.assert_allclose(u, [[0.0, 0.1, 0.0],
                                   [0.0, 0.1, 0.0],
                                   [0.2, 0.0, 0.0]], atol=1e-12)
    u = auction_utilities(values, bids, mechanism="first_price")
    np.testing.assert_allclose(u, [[0.0, 0.0, 0.0],
                                   [0.0, 0.1, 0.0],
                                   [0.2, 0.0, 0.0]], atol=1e-12)


@pytest.mark.exercise("1.3")
def test_utilities_batch_3d():
    values = np.array([[[0.5, 1.0], [1.0, 0.5]],
                       [[0.25, 0.75], [0.5, 0.5]]])
    bids = np.array([[[0.25, 0.75], [0.75, 0.25]],
                     [[0.5, 0.5], [0.0, 0.25]]])
    expected_vickrey = [[[0.0, 0.75], [0.75, 0.0]],
                        [[-0.25, 0.0], [0.0, 0.5]]]
    expected_first = [[[0.0, 0.25], [0.25, 0.0]],
                      [[-0.25, 0.0], [0.0, 0.25]]]
    np.testing.assert_allclose(auction_utilities(values, bids, "vickrey"), expected_vickrey,
                               atol=1e-12)
    np.testing.assert_allclose(auction_utilities(values, bids, "first_price"), expected_first,
                               atol=1e-12)


@st.composite
def values_and_bids(draw, max_dims: int = 3):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=5))
    values = draw(hnp.arrays(np.float64, shape, elements=bid_elements))
    bids = draw(hnp.arrays(np.float64, shape, elements=bid_elements))
    return values, bids


@pytest.mark.exercise("1.3")
@pytest.mark.parametrize("mechanism", MECHANISMS)
@settings(deadline=None, max_examples=150)
@given(case=values_and_bids())
def test_property_utilities_zero_except_at_winner(mechanism, case):
    values, bids = case
    u = auction_utilities(values, bids, mechanism)
    assert u.shape == values.shape
    winners, prices = expected_outcome(bids, mechanism)
    at_winner = np.arange(bids.shape[-1]) == winners[..., None]
    assert np.all(u[~at_winner] == 0.0)
    gain = np.take_along_axis(values, winners[..., None], axis=-1)[..., 0] - prices
    np.testing.assert_allclose(u[at_winner].reshape(gain.shape), gain, rtol=0, atol=1e-12)


@pytest.mark.exercise("1.3")
@settings(deadline=None, max_examples=150)
@given(values=bid_arrays())
def test_property_truthful_bidders_never_lose_money(values):
    """Truthful bidders never lose money: under Vickrey the winner keeps the gap to the
    runner-up, under first price nobody gains."""
    for mechanism in MECHANISMS:
        u = auction_utilities(values, values, mechanism)  # everyone bids their value
        assert np.all(u >= -1e-12)
        np.testing.assert_allclose(u, expected_utilities(values, values, mechanism),
                                   rtol=0, atol=1e-12)


@pytest.mark.exercise("1.3")
@settings(deadline=None, max_examples=200)
@given(
    value=bid_elements,
    others=st.lists(bid_elements, min_size=1, max_size=5),
    deviation=st.one_of(bid_elements, st.floats(min_value=0.0, max_value=2.0)),
    position=st.integers(min_value=0, max_value=5),
)
def test_property_vickrey_truthful_bidding_is_dominant(value, others, deviation, position):
    n = len(others) + 1
    i = position % n  # the studied bidder sits anywhere, bidder 0 included
    truthful = np.insert(np.array(others), i, value)
    deviating = np.insert(np.array(others), i, deviation)
    values = np.zeros((2, n))
    values[:, i] = value
    bids = np.stack([truthful, deviating])
    all_u = auction_utilities(values, bids, "vickrey")
    u = all_u[:, i]
    assert u[0] >= 0.0
    assert u[0] >= u[1] - 1e-12
    # And the values themselves: the truthful bidder keeps what its value beats the others by.
    assert u[0] == pytest.approx(max(value - max(others), 0.0), abs=1e-12)
    np.testing.assert_allclose(all_u, expected_utilities(values, bids, "vickrey"),
                               rtol=0, atol=1e-12)


@pytest.mark.exercise("1.3")
@settings(deadline=None, max_examples=150)
@given(
    value=bid_elements,
    others=st.lists(bid_elements, min_size=0, max_size=5),
    position=st.integers(min_value=0, max_value=5),
)
def test_property_first_price_truthful_utility_is_exactly_zero(value, others, position):
    n = len(others) + 1
    i = position % n
    bids = np.insert(np.array(others, dtype=float), i, value)
    values = np.zeros(n)
    values[i] = value
    u = auction_utilities(values, bids, "first_price")
    assert u[i] == 0.0
    # The others value the item at 0, so one of them winning pays its bid out of nothing;
    # and bidding half its value, the studied bidder keeps the other half when it wins.
    np.testing.assert_allclose(u, expected_utilities(values, bids, "first_price"),
                               rtol=0, atol=1e-12)
    bids[i] = value / 2
    np.testing.assert_allclose(auction_utilities(values, bids, "first_price"),
                               expected_utilities(values, bids, "first_price"),
                               rtol=0, atol=1e-12)


# ======================================================================================
# Input validation (runs before any exercise body, so these tests are not marked)
# ======================================================================================


BAD_BIDS = [
    ([], ValueError, "bids"),
    ([[], []], ValueError, "bids"),
    ([0.2, float("nan")], ValueError, "bids"),
    ([0.2, float("inf")], ValueError, "bids"),
    ([0.2, -float("inf")], ValueError, "bids"),
    ([0.2, -0.1], ValueError, "bids"),
    (0.5, ValueError, "bids"),
    ("0.1, 0.2", TypeError, "bids"),
    (["a", "b"], TypeError, "bids"),
    (None, TypeError, "bids"),
    ([[0.1, 0.2], [0.3]], TypeError, "bids"),
]


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize(("bids", "error", "name"), BAD_BIDS)
def test_auctions_reject_bad_bids(mechanism, bids, error, name):
    with pytest.raises(error, match=name):
        AUCTIONS[mechanism](bids)
    with pytest.raises(error, match=name):
        run_auction(bids, mechanism)


@pytest.mark.parametrize(("bad", "error", "_"), BAD_BIDS)
def test_utilities_name_the_bad_argument(bad, error, _):
    with pytest.raises(error, match="values"):
        auction_utilities(bad, [0.1, 0.2], "vickrey")
    with pytest.raises(error, match="bids"):
        auction_utilities([0.1, 0.2], bad, "vickrey")


@pytest.mark.parametrize(
    ("values", "bids"),
    [([0.1, 0.2], [0.1, 0.2, 0.3]), ([[0.1, 0.2]], [0.1, 0.2]), ([[0.1], [0.2]], [[0.1, 0.2]])],
)
def test_utilities_reject_mismatched_shapes(values, bids):
    with pytest.raises(ValueError, match="same shape"):
        auction_utilities(values, bids, "first_price")


@pytest.mark.parametrize("mechanism", ["second_price", "Vickrey", "", "first-price"])
def test_unknown_mechanism_name(mechanism):
    with pytest.raises(ValueError, match="mechanism"):
        run_auction([0.1, 0.2], mechanism)
    with pytest.raises(ValueError, match="mechanism"):
        auction_utilities([0.1, 0.2], [0.1, 0.2], mechanism)
    with pytest.raises(ValueError, match="mechanism"):
        check_mechanism(mechanism)


@pytest.mark.parametrize("mechanism", [None, 2, ["vickrey"]])
def test_mechanism_must_be_a_string(mechanism):
    with pytest.raises(TypeError, match="mechanism"):
        check_mechanism(mechanism)
    with pytest.raises(TypeError, match="mechanism"):
        auction_utilities([0.1, 0.2], [0.1, 0.2], mechanism)


def test_check_mechanism_returns_known_names():
    assert check_mechanism("first_price") == "first_price"
    assert check_mechanism("vickrey") == "vickrey"


def test_missing_or_extra_arguments_name_the_function():
    with pytest.raises(TypeError, match="first_price_auction"):
        first_price_auction()
    with pytest.raises(TypeError, match="auction_utilities"):
        auction_utilities([0.1], [0.1])


def test_as_bid_array_converts_and_names_the_argument():
    arr = as_bid_array([1, 2, 3])
    assert arr.dtype == np.float64
    np.testing.assert_array_equal(arr, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="my_bids"):
        as_bid_array([-1.0], name="my_bids")


# ======================================================================================
# Library functions built on the exercises (unmarked: they need 1.1-1.3 solved or the
# references switched on)
# ======================================================================================


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_equilibrium_bid_ratio_vickrey_is_one(n):
    assert equilibrium_bid_ratio("vickrey", n) == 1.0


@pytest.mark.parametrize(("n", "ratio"), [(1, 0.0), (2, 0.5), (3, 2 / 3), (4, 0.75), (10, 0.9)])
def test_equilibrium_bid_ratio_first_price(n, ratio):
    assert equilibrium_bid_ratio("first_price", n) == pytest.approx(ratio)


def test_equilibrium_bid_ratio_accepts_numpy_integers():
    assert equilibrium_bid_ratio("first_price", np.int64(4)) == pytest.approx(0.75)


@pytest.mark.parametrize(("n", "error"), [(0, ValueError), (-2, ValueError), (2.0, TypeError),
                                          (True, TypeError), ("3", TypeError), (None, TypeError)])
def test_equilibrium_bid_ratio_bad_n(n, error):
    with pytest.raises(error, match="n_bidders"):
        equilibrium_bid_ratio("first_price", n)


def test_equilibrium_bid_ratio_bad_mechanism():
    with pytest.raises(ValueError, match="mechanism"):
        equilibrium_bid_ratio("english", 3)


def test_truthful_regret_vickrey_is_zero():
    assert truthful_regret("vickrey") <= 1e-9


def test_truthful_regret_vickrey_many_bidders():
    assert truthful_regret("vickrey", n_cases=500, n_bidders=6, seed=3) <= 1e-9


def test_truthful_regret_first_price_is_positive():
    assert truthful_regret("first_price") > 0.05


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"n_bidders": 1}, ValueError, "n_bidders"),
    ({"n_cases": 0}, ValueError, "n_cases"),
    ({"n_deviations": 0}, ValueError, "n_deviations"),
    ({"n_cases": 10.0}, TypeError, "n_cases"),
])
def test_truthful_regret_validates(kwargs, error, name):
    with pytest.raises(error, match=name):
        truthful_regret("vickrey", **kwargs)


def test_utility_curve_hand_computed_vickrey():
    # Opponents bid 0.3 and 0.5; bidder 0 (value 0.8) wins from 0.5 on (it wins ties) and
    # then always pays 0.5.
    u = utility_curve(0.8, [0.3, 0.5], "vickrey", [0.0, 0.4, 0.5, 0.6, 1.0])
    assert u.shape == (5,)
    np.testing.assert_allclose(u, [0.0, 0.0, 0.3, 0.3, 0.3], atol=1e-12)


def test_utility_curve_hand_computed_first_price():
    u = utility_curve(0.8, [0.3, 0.5], "first_price", [0.0, 0.4, 0.5, 0.6, 1.0])
    np.testing.assert_allclose(u, [0.0, 0.0, 0.3, 0.2, -0.2], atol=1e-12)


def test_utility_curve_keeps_the_shape_of_the_candidates():
    candidates = np.array([[0.0, 0.25, 0.5], [0.75, 1.0, 1.25]])
    u = utility_curve(1.0, [0.5], "vickrey", candidates)
    assert u.shape == (2, 3)
    np.testing.assert_allclose(u, [[0.0, 0.0, 0.5], [0.5, 0.5, 0.5]], atol=1e-12)
    point = utility_curve(1.0, [0.5], "first_price", 0.75)
    assert np.shape(point) == ()
    assert float(point) == pytest.approx(0.25)


def test_utility_curve_validates_other_bids():
    with pytest.raises(ValueError, match="other_bids"):
        utility_curve(0.5, [[0.1, 0.2]], "vickrey", [0.3])
    with pytest.raises(ValueError, match="other_bids"):
        utility_curve(0.5, [-0.1], "vickrey", [0.3])
    with pytest.raises(ValueError, match="candidate_bids"):
        utility_curve(0.5, [0.1], "vickrey", [float("nan")])


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("n", [2, 3, 5])
def test_expected_revenue_equivalence(mechanism, n):
    ratio = equilibrium_bid_ratio(mechanism, n)
    revenue = expected_revenue(mechanism, ratio, n, n_auctions=200_000)
    assert revenue == pytest.approx((n - 1) / (n + 1), abs=0.01)


def test_expected_revenue_truthful_first_price_is_expected_maximum():
    # Bidding the value under first price: revenue is E[max of 2 uniforms] = 2/3.
    assert expected_revenue("first_price", 1.0, 2, n_auctions=200_000) == pytest.approx(
        2 / 3, abs=0.01)


def test_expected_revenue_corner_cases():
    assert expected_revenue("first_price", 0.0, 3, n_auctions=1000) == 0.0
    assert expected_revenue("vickrey", 1.0, 1, n_auctions=1000) == 0.0


@pytest.mark.parametrize("ratio", [-0.5, float("nan"), float("inf")])
def test_expected_revenue_rejects_bad_ratio(ratio):
    with pytest.raises(ValueError, match="bid_ratio"):
        expected_revenue("vickrey", ratio, 3)


def test_expected_revenue_rejects_bad_n():
    with pytest.raises(ValueError, match="n_bidders"):
        expected_revenue("vickrey", 1.0, 0)
