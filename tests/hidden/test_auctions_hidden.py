"""Instructor-only tests for exercises 1.1, 1.2 and 1.3: cases the public tests leave out."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.auctions import (
    AuctionOutcome,
    auction_utilities,
    first_price_auction,
    vickrey_auction,
)


def loop_auction(row, mechanism):
    """One auction, by hand: (winner, price)."""
    row = [float(b) for b in row]
    best = max(row)
    winner = row.index(best)  # list.index finds the first (lowest) position
    if mechanism == "first_price":
        return winner, best
    others = row[:winner] + row[winner + 1:]
    return winner, (max(others) if others else 0.0)


def random_bids(shape, seed):
    """Random bids in [0, 1], half of the auctions on a coarse grid so that ties abound."""
    rng = np.random.default_rng(seed)
    bids = rng.random(shape)
    coarse = rng.random(shape[:-1]) < 0.5
    bids[coarse] = np.round(bids[coarse] * 3) / 3
    return bids


# Ties in several places of a (2, 3, 4) batch; values 0.75 everywhere for the utilities.
BIDS_3D = np.array([
    [[0.5, 0.5, 0.5, 0.5],    # four-way tie
     [0.1, 0.7, 0.7, 0.2],    # tie at the top, not at index 0
     [0.2, 0.6, 0.4, 0.3]],   # no tie
    [[0.0, 0.0, 0.0, 0.0],    # all zero
     [0.9, 0.3, 0.9, 0.9],    # three-way tie, split
     [0.3, 0.3, 0.8, 0.8]],   # tie below and tie at the top
])
WINNERS_3D = [[0, 1, 1], [0, 0, 2]]
FIRST_PRICES_3D = [[0.5, 0.7, 0.6], [0.0, 0.9, 0.8]]
VICKREY_PRICES_3D = [[0.5, 0.7, 0.4], [0.0, 0.9, 0.8]]


# ======================================================================================
# 1.1
# ======================================================================================


@pytest.mark.exercise("1.1")
def test_hidden_first_price_3d_ties():
    out = first_price_auction(BIDS_3D)
    np.testing.assert_array_equal(out.winner, WINNERS_3D)
    np.testing.assert_allclose(out.price, FIRST_PRICES_3D, rtol=0, atol=1e-12)


@pytest.mark.exercise("1.1")
def test_hidden_first_price_fifty_bidders_against_a_loop():
    bids = random_bids((300, 50), seed=11)
    out = first_price_auction(bids)
    for t in range(bids.shape[0]):
        w, p = loop_auction(bids[t], "first_price")
        assert out.winner[t] == w
        assert out.price[t] == p


@pytest.mark.exercise("1.1")
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_hidden_first_price_integer_arrays(dtype):
    bids = np.array([[3, 7, 7], [0, 0, 0], [9, 2, 5]], dtype=dtype)
    out = first_price_auction(bids)
    np.testing.assert_array_equal(out.winner, [1, 0, 0])
    assert out.price.dtype.kind == "f"
    np.testing.assert_array_equal(out.price, [7.0, 0.0, 9.0])


@pytest.mark.exercise("1.1")
def test_hidden_first_price_all_zero_and_many_way_tie():
    out = first_price_auction(np.zeros(6))
    assert (out.winner, out.price) == (0, 0.0)
    assert type(out.winner) is int and type(out.price) is float
    out = first_price_auction([0.5] * 10)
    assert (out.winner, out.price) == (0, 0.5)
    out = first_price_auction([0.1] + [0.5] * 9)
    assert (out.winner, out.price) == (1, 0.5)


@pytest.mark.exercise("1.1")
def test_hidden_first_price_does_not_change_the_bids():
    """The bids are left as they were, and the outcome is right."""
    bids = np.array([[0.2, 0.9, 0.5], [0.4, 0.1, 0.3]])
    before = bids.copy()
    out = first_price_auction(bids)
    np.testing.assert_array_equal(bids, before)
    np.testing.assert_array_equal(out.winner, [1, 0])
    np.testing.assert_allclose(out.price, [0.9, 0.4])


@pytest.mark.exercise("1.1")
def test_hidden_first_price_float32_and_batch_of_one():
    out = first_price_auction(np.array([[0.25, 0.75, 0.5]], dtype=np.float32))
    assert np.shape(out.winner) == (1,)
    np.testing.assert_array_equal(out.winner, [1])
    np.testing.assert_allclose(out.price, [0.75])


# ======================================================================================
# 1.2
# ======================================================================================


@pytest.mark.exercise("1.2")
def test_hidden_vickrey_top_two_tied_among_five():
    out = vickrey_auction([0.3, 0.8, 0.1, 0.8, 0.2])
    assert out == AuctionOutcome(1, 0.8)


@pytest.mark.exercise("1.2")
def test_hidden_vickrey_tie_with_first_and_last():
    out = vickrey_auction([0.9, 0.1, 0.9])
    assert (out.winner, out.price) == (0, 0.9)


@pytest.mark.exercise("1.2")
def test_hidden_vickrey_3d_ties():
    out = vickrey_auction(BIDS_3D)
    np.testing.assert_array_equal(out.winner, WINNERS_3D)
    np.testing.assert_allclose(out.price, VICKREY_PRICES_3D, rtol=0, atol=1e-12)


@pytest.mark.exercise("1.2")
def test_hidden_vickrey_fifty_bidders_against_a_loop():
    bids = random_bids((20, 15, 50), seed=12)
    out = vickrey_auction(bids)
    assert np.shape(out.price) == (20, 15)
    for idx in np.ndindex(20, 15):
        w, p = loop_auction(bids[idx], "vickrey")
        assert out.winner[idx] == w
        assert out.price[idx] == p


@pytest.mark.exercise("1.2")
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_hidden_vickrey_integer_arrays(dtype):
    bids = np.array([[3, 7, 7], [0, 0, 0], [9, 2, 5]], dtype=dtype)
    out = vickrey_auction(bids)
    np.testing.assert_array_equal(out.winner, [1, 0, 0])
    assert out.price.dtype.kind == "f"
    np.testing.assert_array_equal(out.price, [7.0, 0.0, 5.0])


@pytest.mark.exercise("1.2")
def test_hidden_vickrey_all_zero_and_many_way_tie():
    out = vickrey_auction(np.zeros(6))
    assert (out.winner, out.price) == (0, 0.0)
    out = vickrey_auction([0.5] * 10)
    assert (out.winner, out.price) == (0, 0.5)
    out = vickrey_auction([0.1] + [0.5] * 9)
    assert (out.winner, out.price) == (1, 0.5)


@pytest.mark.exercise("1.2")
def test_hidden_vickrey_lone_bidder_3d():
    """A lone bidder pays nothing in 3-D; a second bidder makes the winner pay its bid."""
    out = vickrey_auction(np.full((2, 3, 1), 0.4))
    assert np.shape(out.winner) == (2, 3)
    np.testing.assert_array_equal(out.winner, np.zeros((2, 3)))
    np.testing.assert_array_equal(out.price, np.zeros((2, 3)))
    bids = np.concatenate([np.full((2, 3, 1), 0.4), np.full((2, 3, 1), 0.9)], axis=-1)
    bids[1, 2, 1] = 0.1
    out = vickrey_auction(bids)
    np.testing.assert_array_equal(out.winner, [[1, 1, 1], [1, 1, 0]])
    np.testing.assert_allclose(out.price, [[0.4, 0.4, 0.4], [0.4, 0.4, 0.1]])


@pytest.mark.exercise("1.2")
def test_hidden_vickrey_does_not_change_the_bids():
    """The bids are left as they were (no in-place sort), and the outcome is right."""
    bids = np.array([[0.2, 0.9, 0.5], [0.4, 0.1, 0.3]])
    before = bids.copy()
    out = vickrey_auction(bids)  # an in-place bids.sort() would reorder the caller's array
    np.testing.assert_array_equal(bids, before)
    np.testing.assert_array_equal(out.winner, [1, 0])
    np.testing.assert_allclose(out.price, [0.5, 0.3])


# ======================================================================================
# 1.3
# ======================================================================================


@pytest.mark.exercise("1.3")
def test_hidden_utilities_overbidding_winner_loses_money():
    values, bids = [0.3, 0.6, 0.2], [0.9, 0.5, 0.1]
    np.testing.assert_allclose(auction_utilities(values, bids, "vickrey"), [-0.2, 0.0, 0.0],
                               atol=1e-12)
    np.testing.assert_allclose(auction_utilities(values, bids, "first_price"),
                               [-0.6, 0.0, 0.0], atol=1e-12)


@pytest.mark.exercise("1.3")
def test_hidden_utilities_3d_ties():
    values = np.full(BIDS_3D.shape, 0.75)
    at_winner = np.arange(4) == np.array(WINNERS_3D)[..., None]
    for mechanism, prices in (("first_price", FIRST_PRICES_3D), ("vickrey", VICKREY_PRICES_3D)):
        u = auction_utilities(values, BIDS_3D, mechanism)
        expected = np.where(at_winner, 0.75 - np.array(prices)[..., None], 0.0)
        np.testing.assert_allclose(u, expected, rtol=0, atol=1e-12)
    # By hand, first price: [[.25, .05, .15], [.75, -.15, -.05]] at the winners.
    u = auction_utilities(values, BIDS_3D, "first_price")
    np.testing.assert_allclose(u.sum(axis=-1), [[0.25, 0.05, 0.15], [0.75, -0.15, -0.05]],
                               atol=1e-12)


@pytest.mark.exercise("1.3")
def test_hidden_utilities_integer_inputs_give_floats():
    values = np.array([3, 1], dtype=np.int64)
    bids = np.array([2, 1], dtype=np.int32)
    u = auction_utilities(values, bids, "vickrey")
    assert u.dtype.kind == "f"
    np.testing.assert_array_equal(u, [2.0, 0.0])
    np.testing.assert_array_equal(auction_utilities(values, bids, "first_price"), [1.0, 0.0])


@pytest.mark.exercise("1.3")
def test_hidden_utilities_all_zero_bids():
    u = auction_utilities([0.4, 0.9, 0.1], [0.0, 0.0, 0.0], "first_price")
    np.testing.assert_allclose(u, [0.4, 0.0, 0.0], atol=1e-12)


@pytest.mark.exercise("1.3")
@pytest.mark.parametrize("mechanism", ["first_price", "vickrey"])
def test_hidden_utilities_fifty_bidders_against_a_loop(mechanism):
    bids = random_bids((200, 50), seed=13)
    values = np.random.default_rng(14).random((200, 50))
    u = auction_utilities(values, bids, mechanism)
    assert u.shape == (200, 50)
    for t in range(200):
        w, p = loop_auction(bids[t], mechanism)
        expected = [0.0] * 50
        expected[w] = float(values[t, w]) - p
        np.testing.assert_allclose(u[t], expected, rtol=0, atol=1e-12)


@pytest.mark.exercise("1.3")
def test_hidden_utilities_do_not_change_the_inputs():
    values = np.array([[0.9, 0.2], [0.1, 0.8]])
    bids = np.array([[0.5, 0.3], [0.2, 0.6]])
    v0, b0 = values.copy(), bids.copy()
    u = auction_utilities(values, bids, "vickrey")
    np.testing.assert_array_equal(values, v0)
    np.testing.assert_array_equal(bids, b0)
    assert u is not values and u is not bids
    np.testing.assert_allclose(u, [[0.6, 0.0], [0.0, 0.6]], atol=1e-12)
