"""Instructor-only tests for exercises 3.1 and 3.2: cases the public tests leave out."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import loop_utility

from course_lib.society import MECHANISMS, society_auction, winner_utility


def loop_society_auction(bids):
    """One society auction by hand: (primitive, clone, price)."""
    flat = [float(b) for row in bids for b in row]
    best = max(flat)
    where = flat.index(best)  # the first in row-major order
    n_clones = len(bids[0])
    rest = sorted(flat, reverse=True)
    return where // n_clones, where % n_clones, (rest[1] if len(rest) > 1 else 0.0)


def random_bids(shape, seed):
    """Gaussian bids (some negative), half of the auctions rounded so that ties abound."""
    rng = np.random.default_rng(seed)
    bids = rng.normal(0.5, 0.5, shape)
    coarse = rng.random(shape[:-1]) < 0.5
    bids[coarse] = np.round(bids[coarse] * 2) / 2
    return bids


# ======================================================================================
# 3.1
# ======================================================================================


@pytest.mark.exercise("3.1")
@pytest.mark.parametrize(("n_now", "n_next"), [(7, 3), (1, 4), (4, 1), (1, 1)])
def test_hidden_utility_large_3d_batch_against_a_loop(n_now, n_next):
    """Every mechanism on a (4, 5, 6) batch against a loop (one test, so that 'env' returning
    the rewards is checked next to the mechanisms where echoing them is wrong)."""
    rng = np.random.default_rng(n_now * 10 + n_next)
    batch = (4, 5, 6)
    bids, next_bids = random_bids(batch + (n_now,), 1), random_bids(batch + (n_next,), 2)
    rewards = rng.normal(size=batch)
    exists = rng.random(batch) < 0.7
    for mechanism in MECHANISMS:
        out = winner_utility(mechanism, rewards, 0.95, bids, next_bids, exists)
        assert np.shape(out) == batch
        for idx in np.ndindex(batch):
            expected = loop_utility(mechanism, rewards[idx], 0.95, bids[idx], next_bids[idx],
                                    bool(exists[idx]))
            assert out[idx] == pytest.approx(expected, abs=1e-12), (idx, mechanism)


@pytest.mark.exercise("3.1")
def test_hidden_utility_ignores_next_bids_where_no_next_state_exists():
    # Enormous next bids behind a terminal state must not leak into the utility.
    bids = [[0.4, 0.1], [0.4, 0.1]]
    next_bids = [[1e6, 5e5], [1e6, 5e5]]
    exists = [False, True]
    np.testing.assert_allclose(winner_utility("bb", [0.0, 0.0], 1.0, bids, next_bids, exists),
                               [-0.4, 1e6 - 0.4], rtol=1e-12)
    np.testing.assert_allclose(winner_utility("ccv", [0.0, 0.0], 1.0, bids, next_bids, exists),
                               [-0.1, 5e5 - 0.1], rtol=1e-12)


@pytest.mark.exercise("3.1")
def test_hidden_utility_scalar_batch():
    # A single auction with batch shape (): bids of shape (n_bidders,).
    out = winner_utility("v", 0.5, 0.9, [0.2, 0.5], [0.3, 0.1], True)
    assert np.shape(out) == ()
    assert float(out) == pytest.approx(0.5 + 0.9 * 0.3 - 0.2)


@pytest.mark.exercise("3.1")
def test_hidden_utility_ties_at_the_top_now_and_next():
    # Two equal top bids now: v and ccv pay the full bid. Two equal top bids next: ccv
    # receives as much as v.
    args = dict(rewards=[0.2], gamma=0.5, bids=[[0.3, 0.7, 0.7]], next_bids=[[0.6, 0.2, 0.6]],
                next_exists=[True])
    for mechanism in ("bb", "v", "ccv"):
        np.testing.assert_allclose(winner_utility(mechanism, **args), [0.2 + 0.3 - 0.7],
                                   atol=1e-12)


# ======================================================================================
# 3.2
# ======================================================================================


@pytest.mark.exercise("3.2")
@pytest.mark.parametrize(("n_primitives", "n_clones"), [(3, 50), (1, 9), (12, 1), (5, 4)])
def test_hidden_auction_many_clones_against_a_loop(n_primitives, n_clones):
    bids = random_bids((7, 3, n_primitives, n_clones), n_primitives * 100 + n_clones)
    out = society_auction(bids)
    assert np.shape(out.primitive) == np.shape(out.clone) == np.shape(out.price) == (7, 3)
    for idx in np.ndindex(7, 3):
        p, c, price = loop_society_auction(bids[idx])
        assert (int(out.primitive[idx]), int(out.clone[idx])) == (p, c), idx
        assert float(out.price[idx]) == pytest.approx(price, abs=1e-12)


@pytest.mark.exercise("3.2")
def test_hidden_auction_ties_across_primitives_and_clones():
    bids = np.array([
        [[0.5, 0.5], [0.5, 0.5]],   # all equal: (0, 0), price 0.5
        [[0.1, 0.2], [0.9, 0.9]],   # tie inside the last primitive: (1, 0)
        [[0.3, 0.9], [0.9, 0.1]],   # tie across primitives: (0, 1)
        [[0.0, 0.0], [0.0, 0.4]],   # the very last bid wins, price 0
    ])
    out = society_auction(bids)
    np.testing.assert_array_equal(out.primitive, [0, 1, 0, 1])
    np.testing.assert_array_equal(out.clone, [0, 0, 1, 1])
    np.testing.assert_allclose(out.price, [0.5, 0.9, 0.9, 0.0], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.2")
def test_hidden_auction_clone_index_is_within_the_primitive():
    # 2 primitives x 3 clones: the flat position 4 is primitive 1, clone 1 (not clone 4).
    out = society_auction([[0.1, 0.2, 0.3], [0.0, 0.8, 0.75]])
    assert (int(out.primitive), int(out.clone)) == (1, 1)
    assert float(out.price) == pytest.approx(0.75)
