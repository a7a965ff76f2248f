"""Secret-case tests: one test per exercise, on cases drawn from the grading secret.

The other hidden tests have fixed inputs, and this repository is public, so anyone can read
their answers. Here the test code is public but the cases are not: each test draws its
cases from ``secret_rng`` (``conftest.py``), a generator seeded from the grader's secret
(environment variable ``COURSE_LIB_GRADING_SECRET``) and the test's node id, and compares
the exercise with a plain-loop oracle of ``tests/oracles.py`` (never with ``solutions/``).
Without ``COURSE_LIB_GRADING_SECRET`` a fixed public default is used: the cases are then
the same for everyone, and anyone can reproduce them.

Every test first checks that its drawn cases are informative (``assert_informative``): the
expected answers are not all equal (so zeros, ones or any one constant cannot match them
all), some are finite (so NaN cannot), and they differ from the inputs (so echoing an input
cannot). A bad draw then fails loudly instead of letting a degenerate answer pass.

Exercise 6.2 draws random numbers: its test checks properties that hold for any correct
implementation (waiting without a packet, the most urgent slot, send and access point
frequencies within a stated tolerance, reproducible draws from ``rng``) instead of exact draws.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracles import (
    assert_transfers,
    bfs_neighbourhoods,
    loop_gae,
    loop_linear_td_update,
    loop_option_utility,
    loop_policy_gradient,
    loop_sensitivity,
    loop_td_update,
    loop_utility,
    loop_weight_shift,
)
from secret_oracles import (
    loop_affine_theta,
    loop_apply_primitives,
    loop_apply_transfers,
    loop_auction,
    loop_auction_utilities,
    loop_bid_ratio_gradient,
    loop_clipped_loss,
    loop_linear_logits,
    loop_money_created,
    loop_place_on_canvas,
    loop_q_learning_update,
    loop_reward,
    loop_society_auction,
    loop_steady_state,
    loop_step_transfers,
    loop_value_iteration,
)
from torch import nn

from course_lib.aloha import aloha_actions
from course_lib.auctions import auction_utilities, first_price_auction, vickrey_auction
from course_lib.bidders import bid_ratio_gradient
from course_lib.bucket_brigade import (
    ENVIRONMENT,
    MINT,
    TAX,
    Transfer,
    apply_transfers,
    money_created,
    steady_state_strengths,
    step_transfers,
)
from course_lib.envs.mnist_canvas import (
    PRIMITIVES,
    affine_theta,
    apply_primitives,
    classifier_reward,
    place_on_canvas,
)
from course_lib.envs.toy_mdps import TabularMDP, value_iteration
from course_lib.envs.wireless import MAX_REACH, neighbourhoods
from course_lib.linear_critic import linear_td_update
from course_lib.option_society import option_utility
from course_lib.ppo import clipped_surrogate_loss, compute_gae
from course_lib.q_learning import q_learning_update
from course_lib.society import MECHANISMS, society_auction, winner_utility
from course_lib.transfer import weight_shift
from course_lib.wireless_sac import policy_gradient, sensitivity_by_hop, td_update

# ======================================================================================
# Helpers
# ======================================================================================


def as_numpy(x):
    """A tensor or anything array-like as a numpy array (the test compares numbers only)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_informative(expected, inputs=None):
    """The drawn cases can tell a real answer from a degenerate one: every case's expected
    answer is non-empty, the answers hold finite values that are not all equal (no all-zero,
    all-one or constant answer matches them all, nor an all-NaN one), and, given ``inputs``
    (each case's input that an echo would return), some case's answer differs from it."""
    assert expected and all(np.size(e) > 0 for e in expected), "bad draw: an empty answer"
    flat = np.concatenate([np.ravel(np.asarray(e, dtype=float)) for e in expected])
    finite = flat[np.isfinite(flat)]
    assert finite.size and np.ptp(finite) > 1e-6, "bad draw: the expected answers are constant"
    if inputs is not None:
        assert any(np.shape(e) != np.shape(x) or not np.allclose(e, as_numpy(x))
                   for e, x in zip(expected, inputs, strict=True)), \
            "bad draw: the expected answers equal the inputs"


def assert_close(actual, expected, atol, case, what="the answer"):
    """Same shape, and equal up to ``atol`` (NaN where NaN is expected)."""
    got = as_numpy(actual)
    assert got.shape == np.shape(expected), \
        f"case {case}: {what} has shape {got.shape}, expected {np.shape(expected)}"
    np.testing.assert_allclose(got.astype(float), expected, rtol=0, atol=atol,
                               err_msg=f"case {case}: {what} differs")


def batch_shape(rng, max_dims=2, max_size=5):
    """A random batch shape: (), (b,) or (b1, b2)."""
    return tuple(int(b) for b in rng.integers(1, max_size + 1, int(rng.integers(0, max_dims + 1))))


def draw_bids(rng, shape, scale=1.0, low=0.0):
    """Bids of ``shape``, half of the auctions on a coarse grid so that ties abound."""
    bids = low + (scale - low) * rng.random(shape)
    coarse = rng.random(shape[:-1]) < 0.5
    return np.where(coarse[..., None], np.round(bids * 3) / 3, bids)


# ======================================================================================
# Chapter 1: auctions
# ======================================================================================


def loop_outcomes(bids, mechanism):
    """Winners and prices of a batch of auctions, one auction at a time."""
    winner, price = np.zeros(bids.shape[:-1], int), np.zeros(bids.shape[:-1])
    for idx in np.ndindex(bids.shape[:-1]):
        winner[idx], price[idx] = loop_auction(bids[idx], mechanism)
    return winner, price


def draw_auctions(rng, n_cases):
    """Auctions of 1 to 8 bidders in batches of any shape; case 1 has a lone bidder, case 2 bids
    on a grid of halves (ties at the top)."""
    cases = []
    for k in range(n_cases):
        n_bidders = 1 if k == 1 else int(rng.integers(3 if k in (0, 2) else 1, 9))
        bids = draw_bids(rng, batch_shape(rng) + (n_bidders,))
        cases.append(np.round(bids * 2) / 2 if k == 2 else bids)
    return cases


def check_auction(auction, mechanism, rng, n_cases=12):
    cases = draw_auctions(rng, n_cases)
    expected = [loop_outcomes(bids, mechanism) for bids in cases]
    assert_informative([w for w, _ in expected])
    assert_informative([p for _, p in expected], cases)
    for k, (bids, (winner, price)) in enumerate(zip(cases, expected, strict=True)):
        out = auction(bids.copy())
        assert_close(out.winner, winner, 0, k, "winner")
        assert_close(out.price, price, 1e-12, k, "price")


@pytest.mark.exercise("1.1")
def test_secret_first_price_auction(secret_rng):
    check_auction(first_price_auction, "first_price", secret_rng)


@pytest.mark.exercise("1.2")
def test_secret_vickrey_auction(secret_rng):
    check_auction(vickrey_auction, "vickrey", secret_rng)


@pytest.mark.exercise("1.3")
def test_secret_auction_utilities(secret_rng):
    cases = []
    for bids in draw_auctions(secret_rng, 12):
        values = np.round(secret_rng.random(bids.shape) * 4) / 4 if secret_rng.random() < 0.3 \
            else secret_rng.random(bids.shape)
        cases.append((values, bids, ("first_price", "vickrey")[len(cases) % 2]))
    expected = [loop_auction_utilities(*case) for case in cases]
    assert_informative(expected, [values for values, _, _ in cases])
    for k, ((values, bids, mechanism), want) in enumerate(zip(cases, expected, strict=True)):
        assert_close(auction_utilities(values.copy(), bids.copy(), mechanism), want, 1e-12, k)


@pytest.mark.exercise("1.4")
def test_secret_bid_ratio_gradient(secret_rng):
    rng, cases = secret_rng, []
    for _ in range(12):
        batch, n_bidders, n_bins = (int(rng.integers(1, 40)), int(rng.integers(1, 5)),
                                    int(rng.integers(1, 7)))
        shape = (batch, n_bidders)
        cases.append((rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape),
                      float(rng.uniform(0.05, 0.5)), rng.integers(0, n_bins, shape), n_bins))
    expected = [loop_bid_ratio_gradient(*case) for case in cases]
    assert_informative(expected, [case[0] for case in cases])
    for k, (case, want) in enumerate(zip(cases, expected, strict=True)):
        assert_close(bid_ratio_gradient(*case), want, 1e-9, k)


# ======================================================================================
# Chapter 2: the bucket brigade
# ======================================================================================


def draw_step(rng):
    """The arguments of one bucket-brigade step (as the hidden loop test draws them)."""
    n = int(rng.integers(1, 12))
    strengths = rng.random(n) * 10
    if rng.random() < 0.5:  # a coarse grid: ties abound
        strengths = np.ceil(strengths / 2.5) * 2.5
    eligible = [int(r) for r in rng.permutation(n)[: int(rng.integers(1, n + 1))]]
    winner = eligible[int(rng.integers(len(eligible)))]
    supplier = None if rng.random() < 0.3 else int(rng.integers(n))
    reward = float(rng.choice([-2.0, 0.0, 0.0, 3.5])) * float(rng.uniform(0.5, 1.5))
    c_bid = float(rng.uniform(0.05, 0.9))
    tax_rate = 0.0 if rng.random() < 0.3 else float(rng.uniform(0.0, 1.0 - c_bid))
    pricing = "first" if rng.random() < 0.5 else "second"
    return strengths, eligible, winner, supplier, reward, c_bid, tax_rate, pricing


def draw_transfers(rng, n_rules, count):
    """``count`` random transfers between rules and the external accounts, mints included."""
    accounts = [*range(n_rules), ENVIRONMENT, TAX]
    out = []
    for _ in range(count):
        amount = float(rng.uniform(0.0, 3.0))
        payee = accounts[int(rng.integers(len(accounts)))]
        if rng.random() < 0.2:
            out.append(Transfer(MINT, payee, amount, "mint"))
        else:
            payer = accounts[int(rng.integers(len(accounts)))]
            out.append(Transfer(payer, payee, amount, str(rng.choice(["bid", "tax", "reward"]))))
    return out


@pytest.mark.exercise("2.1")
def test_secret_step_transfers(secret_rng):
    cases = []
    for k in range(20):
        strengths, eligible, winner, supplier, reward, c_bid, tax_rate, pricing = \
            draw_step(secret_rng)
        if k == 0:  # a lone eligible rule under second pricing: the whole bid is minted
            eligible, pricing = [winner], "second"
        elif k == 1:  # the environment supplied the state, and the reward is negative
            supplier, reward = None, -abs(reward) - 0.5
        elif k == 2:  # no tax
            tax_rate = 0.0
        cases.append((strengths, eligible, winner, supplier, reward, c_bid, tax_rate, pricing))
    expected = [loop_step_transfers(*case) for case in cases]
    assert_informative([[row[3] for row in rows] for rows in expected])
    for k, (case, want) in enumerate(zip(cases, expected, strict=True)):
        strengths, eligible, *rest = case
        out = step_transfers(strengths.copy(), list(eligible), *rest)
        try:
            assert_transfers(out, want)
        except AssertionError as err:
            raise AssertionError(f"case {k}: {err}") from None


@pytest.mark.exercise("2.2")
def test_secret_apply_transfers(secret_rng):
    rng, cases = secret_rng, []
    for _ in range(15):
        n = int(rng.integers(1, 9))
        cases.append((rng.random(n) * 10, draw_transfers(rng, n, int(rng.integers(1, 10)))))
    expected = [loop_apply_transfers(*case) for case in cases]
    assert_informative(expected, [strengths for strengths, _ in cases])
    for k, ((strengths, transfers), want) in enumerate(zip(cases, expected, strict=True)):
        before = strengths.copy()
        assert_close(apply_transfers(strengths, list(transfers)), want, 1e-9, k)
        np.testing.assert_array_equal(strengths, before, err_msg=f"case {k}: strengths changed")


@pytest.mark.exercise("2.3")
def test_secret_money_created(secret_rng):
    rng, cases = secret_rng, []
    for _ in range(15):
        n = int(rng.integers(1, 9))
        initial = rng.random(n) * 10
        transfers = draw_transfers(rng, n, int(rng.integers(1, 10)))
        # money made or lost outside the book, in about half of the cases
        extra = rng.normal(0.0, 1.0, n) * (rng.random() < 0.5)
        cases.append((initial, loop_apply_transfers(initial, transfers) + extra, transfers))
    expected = [loop_money_created(*case) for case in cases]
    assert_informative(expected)
    for k, ((initial, final, transfers), want) in enumerate(zip(cases, expected, strict=True)):
        out = money_created(initial.copy(), final.copy(), list(transfers))
        assert_close(out, want, 1e-9, k)


@pytest.mark.exercise("2.4")
def test_secret_steady_state_strengths(secret_rng):
    rng, cases = secret_rng, []
    for k in range(12):
        c_bid = float(rng.uniform(0.05, 0.6))
        tax_rate = 0.0 if k % 4 == 3 else float(rng.uniform(0.0, 0.99 - c_bid))
        reward = float(rng.choice([-1.0, 1.0])) * float(rng.uniform(0.1, 5.0))
        cases.append((1 if k == 0 else int(rng.integers(1, 9)), reward, c_bid, tax_rate))
    expected = [loop_steady_state(*case) for case in cases]
    assert_informative(expected)
    for k, (case, want) in enumerate(zip(cases, expected, strict=True)):
        assert_close(steady_state_strengths(*case), want, 1e-9 * max(1.0, np.abs(want).max()), k)


# ======================================================================================
# Chapter 3: the society, value iteration, Q-learning
# ======================================================================================


@pytest.mark.exercise("3.1")
def test_secret_winner_utility(secret_rng):
    rng, cases = secret_rng, []
    for k in range(16):
        batch = batch_shape(rng)
        # cases 4-7: a lone bidder now (4, 5) or next (5, 6), in every mechanism
        n_now = 1 if k in (4, 5) else int(rng.integers(1, 6))
        n_next = 1 if k in (5, 6) else int(rng.integers(1, 6))
        bids = draw_bids(rng, batch + (n_now,), scale=1.5, low=-0.5)
        next_bids = draw_bids(rng, batch + (n_next,), scale=1.5, low=-0.5)
        cases.append((MECHANISMS[k % len(MECHANISMS)], rng.normal(size=batch),
                      float(rng.uniform(0.0, 1.0)), bids, next_bids, rng.random(batch) < 0.7))
    expected = []
    for mechanism, rewards, gamma, bids, next_bids, exists in cases:
        out = np.zeros(rewards.shape)
        for idx in np.ndindex(rewards.shape):
            out[idx] = loop_utility(mechanism, float(rewards[idx]), gamma, bids[idx],
                                    next_bids[idx], bool(exists[idx]))
        expected.append(out)
    assert_informative(expected, [case[1] for case in cases])
    for k, (case, want) in enumerate(zip(cases, expected, strict=True)):
        assert_close(winner_utility(*case), want, 1e-9, k)


@pytest.mark.exercise("3.2")
def test_secret_society_auction(secret_rng):
    rng, cases = secret_rng, []
    for k in range(14):
        n_primitives, n_clones = int(rng.integers(2, 6)), int(rng.integers(2, 5))
        if k == 1:  # a lone bidder: it pays 0
            n_primitives = n_clones = 1
        elif k == 2:  # one clone per primitive
            n_clones = 1
        elif k == 3:  # one primitive
            n_primitives = 1
        shape = batch_shape(rng) + (n_primitives, n_clones)
        bids = rng.normal(0.5, 0.5, shape)
        coarse = rng.random(shape[:-2]) < 0.5
        cases.append(np.where(coarse[..., None, None], np.round(bids * 2) / 2, bids))
    expected = [loop_society_auction(bids) for bids in cases]
    for field in range(3):
        assert_informative([e[field] for e in expected])
    assert_informative([e[2] for e in expected], cases)
    for k, (bids, (primitive, clone, price)) in enumerate(zip(cases, expected, strict=True)):
        out = society_auction(bids.copy())
        assert_close(out.primitive, primitive, 0, k, "primitive")
        assert_close(out.clone, clone, 0, k, "clone")
        assert_close(out.price, price, 1e-12, k, "price")


def draw_mdp(rng):
    n_states, n_actions = int(rng.integers(2, 8)), int(rng.integers(1, 5))
    terminal = rng.random(n_states) < 0.3
    terminal[0] = False  # the start state
    return TabularMDP("secret", rng.integers(0, n_states, (n_states, n_actions)),
                      np.round(rng.uniform(-1.0, 1.0, (n_states, n_actions)), 2), terminal, 0,
                      10, tuple(f"a{i}" for i in range(n_actions)))


@pytest.mark.exercise("3.3")
def test_secret_value_iteration(secret_rng):
    cases = [(draw_mdp(secret_rng), float(secret_rng.uniform(0.0, 0.9))) for _ in range(8)]
    expected = [loop_value_iteration(mdp.transitions, mdp.rewards, mdp.terminal, gamma)
                for mdp, gamma in cases]
    assert_informative(expected, [mdp.rewards for mdp, _ in cases])
    for k, ((mdp, gamma), want) in enumerate(zip(cases, expected, strict=True)):
        assert_close(value_iteration(mdp, gamma), want, 1e-7, k)


@pytest.mark.exercise("3.4")
def test_secret_q_learning_update(secret_rng):
    rng, cases = secret_rng, []
    for _ in range(15):
        n_states, n_actions, batch = (int(rng.integers(1, 6)), int(rng.integers(1, 4)),
                                      int(rng.integers(1, 30)))
        cases.append((rng.normal(size=(n_states, n_actions)),
                      rng.integers(0, n_states, batch), rng.integers(0, n_actions, batch),
                      rng.normal(size=batch), rng.integers(0, n_states, batch),
                      rng.random(batch) < 0.7, float(rng.uniform(0.05, 1.0)),
                      float(rng.uniform(0.0, 1.0))))
    expected = [loop_q_learning_update(*case) for case in cases]
    assert_informative(expected, [case[0] for case in cases])
    for k, (case, want) in enumerate(zip(cases, expected, strict=True)):
        q = case[0]
        before = q.copy()
        assert_close(q_learning_update(q, *case[1:]), want, 1e-9, k)
        np.testing.assert_array_equal(q, before, err_msg=f"case {k}: q changed")


# ======================================================================================
# Chapter 4: PPO and options
# ======================================================================================


@pytest.mark.exercise("4.1")
def test_secret_compute_gae(secret_rng):
    rng, cases = secret_rng, []
    for k in range(12):
        T, n = int(rng.integers(1, 9)), int(rng.integers(1, 5))
        gamma = rng.uniform(0.5, 1.0, (T, n)) if k % 2 else float(rng.uniform(0.5, 1.0))
        cases.append((rng.normal(size=(T, n)), rng.normal(size=(T, n)), rng.random((T, n)) < 0.25,
                      rng.normal(size=n), gamma, float(rng.uniform(0.0, 1.0))))
    expected = [loop_gae(*case) for case in cases]
    assert_informative([adv for adv, _ in expected], [case[0] for case in cases])
    assert_informative([ret for _, ret in expected], [case[1] for case in cases])
    for k, (case, (adv, ret)) in enumerate(zip(cases, expected, strict=True)):
        out = compute_gae(*case)
        assert isinstance(out, tuple) and len(out) == 2, \
            f"case {k}: expected a pair (advantages, returns), got {type(out).__name__}"
        assert_close(out[0], adv, 1e-9, k, "advantages")
        assert_close(out[1], ret, 1e-9, k, "returns")


@pytest.mark.exercise("4.2")
def test_secret_clipped_surrogate_loss(secret_rng):
    rng, cases = secret_rng, []
    for _ in range(12):
        n = int(rng.integers(1, 33))
        old = rng.normal(-1.0, 0.5, n)
        cases.append((old + rng.normal(0.0, 0.3, n), old, rng.normal(size=n),
                      float(rng.uniform(0.05, 0.4))))
    expected = [loop_clipped_loss(*case) for case in cases]
    assert_informative([loss for loss, _ in expected])
    assert_informative([grad for _, grad in expected])
    for k, ((new, old, adv, clip), (loss, grad)) in enumerate(zip(cases, expected, strict=True)):
        new_t = torch.from_numpy(new.copy()).requires_grad_(True)
        out = clipped_surrogate_loss(new_t, torch.from_numpy(old.copy()),
                                     torch.from_numpy(adv.copy()), clip)
        assert isinstance(out, torch.Tensor), f"case {k}: the loss must be a torch.Tensor"
        assert_close(out, loss, 1e-9, k, "the loss")
        out.backward()
        assert new_t.grad is not None, f"case {k}: no gradient reached new_log_prob"
        assert_close(new_t.grad, grad, 1e-9, k, "the gradient")


@pytest.mark.exercise("4.3")
def test_secret_option_utility(secret_rng):
    rng, cases = secret_rng, []
    for _ in range(14):
        batch, max_duration = batch_shape(rng), int(rng.integers(1, 6))
        cases.append((rng.normal(size=batch + (max_duration,)),
                      rng.integers(1, max_duration + 1, batch), float(rng.uniform(0.0, 1.0)),
                      draw_bids(rng, batch + (int(rng.integers(1, 5)),)),
                      draw_bids(rng, batch + (int(rng.integers(1, 5)),)),
                      rng.random(batch) < 0.7))
    expected = []
    for rewards, durations, gamma, bids, next_bids, exists in cases:
        out = np.zeros(durations.shape)
        for idx in np.ndindex(durations.shape):
            out[idx] = loop_option_utility(rewards[idx], durations[idx], gamma, bids[idx],
                                           next_bids[idx], bool(exists[idx]))
        expected.append(out)
    assert_informative(expected, [case[0] for case in cases])
    for k, (case, want) in enumerate(zip(cases, expected, strict=True)):
        assert_close(option_utility(*case), want, 1e-9, k)


@pytest.mark.exercise("4.4")
def test_secret_weight_shift(secret_rng):
    rng, cases = secret_rng, []
    for k in range(12):
        threshold = float(rng.uniform(0.05, 0.5))
        before, after = {}, {}
        for p in range(int(rng.integers(1, 5))):
            shape = tuple(int(s) for s in rng.integers(1, 6, int(rng.integers(1, 4))))
            moved = rng.random(shape) < rng.uniform(0.1, 0.9)
            big = rng.uniform(1.5, 4.0, shape) * threshold * rng.choice([-1.0, 1.0], shape)
            small = rng.uniform(-0.5, 0.5, shape) * threshold
            before[f"layer{p}.weight"] = rng.normal(size=shape)
            after[f"layer{p}.weight"] = before[f"layer{p}.weight"] + np.where(moved, big, small)
        expected_k = loop_weight_shift(before, after, threshold)
        if k % 2:  # as state_dicts of tensors
            before = {key: torch.from_numpy(v) for key, v in before.items()}
            after = {key: torch.from_numpy(v) for key, v in after.items()}
        cases.append((before, after, threshold, expected_k))
    assert_informative([case[3] for case in cases])
    for k, (before, after, threshold, want) in enumerate(cases):
        out = weight_shift(before, after, threshold)
        assert_close(out, want, 1e-12, k)


# ======================================================================================
# Chapter 5: the canvas, its transformations and the reward
# ======================================================================================


@pytest.mark.exercise("5.1")
def test_secret_place_on_canvas(secret_rng):
    rng, cases = secret_rng, []
    for k in range(6):
        n, size = int(rng.integers(1, 4)), int(rng.choice([28, 30, 36, 44, 64]))
        if k % 3 == 2:  # uint8 digits, converted before the body runs
            cases.append((rng.integers(0, 256, (n, 28, 28)).astype(np.uint8), size))
        else:
            cases.append((rng.random((n, 28, 28)).astype(np.float32), size))
    expected = [loop_place_on_canvas(images / 255.0 if images.dtype == np.uint8 else images,
                                      size) for images, size in cases]
    assert_informative(expected, [images for images, _ in cases])
    for k, ((images, size), want) in enumerate(zip(cases, expected, strict=True)):
        out = place_on_canvas(torch.from_numpy(images.copy()), size)
        assert isinstance(out, torch.Tensor) and out.dtype == torch.float32, \
            f"case {k}: expected a float32 tensor, got {getattr(out, 'dtype', type(out))}"
        assert_close(out, want, 1e-6, k)


@pytest.mark.exercise("5.2")
def test_secret_affine_theta(secret_rng):
    rng, cases = secret_rng, []
    for _ in range(10):
        n = int(rng.integers(1, 10))
        angles = np.where(rng.random(n) < 0.3, 60.0 * rng.integers(-6, 7, n),
                          rng.uniform(-360.0, 360.0, n))
        cases.append((angles, rng.uniform(-1.0, 1.0, (n, 2))))
    expected = [loop_affine_theta(*case) for case in cases]
    assert_informative(expected)
    for k, ((angles, shifts), want) in enumerate(zip(cases, expected, strict=True)):
        out = affine_theta(torch.from_numpy(angles.copy()), torch.from_numpy(shifts.copy()))
        assert isinstance(out, torch.Tensor) and out.dtype == torch.float32, \
            f"case {k}: expected a float32 tensor, got {getattr(out, 'dtype', type(out))}"
        assert_close(out, want, 1e-6, k)


@pytest.mark.exercise("5.3")
def test_secret_apply_primitives(secret_rng):
    rng, cases = secret_rng, []
    for _ in range(5):
        n, h, w = int(rng.integers(1, 7)), int(rng.integers(6, 15)), int(rng.integers(6, 15))
        cases.append((rng.random((n, 1, h, w)).astype(np.float32), rng.integers(0, 6, n)))
    expected = [loop_apply_primitives(images, ids, PRIMITIVES) for images, ids in cases]
    assert_informative(expected, [images for images, _ in cases])
    for k, ((images, ids), want) in enumerate(zip(cases, expected, strict=True)):
        out = apply_primitives(torch.from_numpy(images.copy()), torch.from_numpy(ids.copy()))
        assert_close(out, want, 1e-4, k)


class SecretLinear(nn.Module):
    """A linear classifier of flattened images whose logits are negated in training mode, so
    that running it in the wrong mode changes its answers."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
        super().__init__()
        self.linear = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.linear.weight.copy_(torch.from_numpy(weight))
            self.linear.bias.copy_(torch.from_numpy(bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.linear(x.flatten(1))
        return -logits if self.training else logits


@pytest.mark.exercise("5.4")
def test_secret_classifier_reward(secret_rng):
    rng, cases = secret_rng, []
    for _ in range(6):
        n, side = int(rng.integers(4, 17)), int(rng.integers(4, 9))
        weight, bias = rng.normal(size=(10, side * side)), rng.normal(size=10)
        images = rng.random((n, 1, side, side)).astype(np.float32)
        logits = loop_linear_logits(weight, bias, images)
        top = np.sort(logits, axis=1)
        while (top[:, -1] - top[:, -2]).min() < 1e-3:  # no near-tie: float32 agrees
            images = rng.random((n, 1, side, side)).astype(np.float32)
            logits = loop_linear_logits(weight, bias, images)
            top = np.sort(logits, axis=1)
        right = rng.random(n) < 0.5
        labels = np.where(right, logits.argmax(1), rng.integers(0, 10, n))
        cases.append((weight.astype(np.float32), bias.astype(np.float32), images, labels,
                      loop_reward(logits, labels)))
    assert_informative([case[4] for case in cases])
    for k, (weight, bias, images, labels, want) in enumerate(cases):
        net = SecretLinear(weight, bias).train()
        out = classifier_reward(net, torch.from_numpy(images.copy()), torch.from_numpy(labels))
        assert isinstance(out, torch.Tensor) and out.dtype == torch.float32, \
            f"case {k}: expected a float32 tensor, got {getattr(out, 'dtype', type(out))}"
        assert_close(out, want, 0, k)
        assert net.training, f"case {k}: the classifier's training mode was not restored"
        assert not out.requires_grad, f"case {k}: the reward must not track gradients"


# ======================================================================================
# Chapter 6: wireless networks
# ======================================================================================


@pytest.mark.exercise("6.1")
def test_secret_neighbourhoods(secret_rng):
    rng, cases = secret_rng, []
    for k in range(14):
        n_users, n_aps = int(rng.integers(2, 13)), int(rng.integers(1, 9))
        access = rng.random((n_users, n_aps)) < rng.uniform(0.1, 0.4)
        cases.append((access, int(rng.integers(0 if k else 1, 5))))  # k hops, case 0: k >= 1
    expected = [bfs_neighbourhoods(access, hops) for access, hops in cases]
    assert_informative(expected, [access for access, _ in cases])
    # some pair lies beyond k hops (an all-True answer fails) and some user has a neighbour
    # (the identity, the answer without any access point, fails)
    assert any(not e.all() for e in expected), "bad draw: every user reaches every user"
    assert any((e & ~np.eye(len(e), dtype=bool)).any() for e in expected), \
        "bad draw: no user has a neighbour"
    for k, ((access, hops), want) in enumerate(zip(cases, expected, strict=True)):
        out = neighbourhoods(access.copy(), hops)
        got = as_numpy(out)
        assert got.dtype == bool, f"case {k}: expected booleans, got {got.dtype}"
        assert_close(got, want, 0, k)


@pytest.mark.exercise("6.2")
def test_secret_aloha_actions(secret_rng):
    """Properties that hold for any correct implementation; the frequency tolerances are 5.5
    standard errors of the empirical frequency (plus 1e-9)."""
    rng = secret_rng
    for k in range(3):
        copies, users, d = 3000, int(rng.integers(2, 6)), int(rng.integers(1, 5))
        queues = (rng.random((copies, users, d)) < rng.uniform(0.2, 0.7)).astype(np.uint8)
        queues[rng.random(copies) < 0.1] = 0  # some copies with no packet at all
        weights = np.zeros((users, MAX_REACH))
        for i in range(users):
            reach = int(rng.integers(1, MAX_REACH + 1))
            weights[i, :reach] = rng.uniform(0.1, 1.0, reach)
            weights[i] = rng.permutation(weights[i])  # zero weights anywhere, not only last
            weights[i] /= weights[i].sum()
        p_send = float(rng.uniform(0.2, 0.8))
        seed = int(rng.integers(2**63))
        has_packet = queues.any(-1)
        assert has_packet.any() and not has_packet.all(), "bad draw"

        actions = as_numpy(aloha_actions(queues.copy(), weights, p_send,
                                         np.random.default_rng(seed)))
        assert actions.shape == (copies, users), \
            f"case {k}: actions have shape {actions.shape}, expected {(copies, users)}"
        assert actions.dtype.kind in "iu", f"case {k}: expected integers, got {actions.dtype}"
        assert (actions[~has_packet] == 0).all(), f"case {k}: a user without a packet sent"
        sent = actions > 0
        slot, r = (actions - 1) // MAX_REACH, (actions - 1) % MAX_REACH
        assert (slot[sent] == queues.argmax(-1)[sent]).all(), \
            f"case {k}: a user sent another packet than its most urgent one"
        assert (weights[np.nonzero(sent)[1], r[sent]] > 0).all(), \
            f"case {k}: an access point of weight 0 was chosen"
        for i in range(users):
            n = int(has_packet[:, i].sum())
            freq = sent[has_packet[:, i], i].mean()
            assert abs(freq - p_send) <= 5.5 * np.sqrt(p_send * (1 - p_send) / n) + 1e-9, \
                f"case {k}: user {i} sent {freq:.3f} of the time, p_send is {p_send:.3f}"
            chosen = r[sent[:, i], i]
            for j in range(MAX_REACH):
                w = weights[i, j]
                got = (chosen == j).mean()
                assert abs(got - w) <= 5.5 * np.sqrt(w * (1 - w) / len(chosen)) + 1e-9, \
                    f"case {k}: user {i} chose access point {j} {got:.3f} of the time, " \
                    f"its weight is {w:.3f}"
        # every draw comes from rng: the same seed gives the same actions, another seed others
        again = as_numpy(aloha_actions(queues.copy(), weights, p_send,
                                       np.random.default_rng(seed)))
        np.testing.assert_array_equal(again, actions, err_msg=f"case {k}: the same seed gave "
                                      "other actions")
        other = as_numpy(aloha_actions(queues.copy(), weights, p_send,
                                       np.random.default_rng(seed + 1)))
        assert not np.array_equal(other, actions), f"case {k}: another seed, the same actions"


@pytest.mark.exercise("6.3")
def test_secret_td_update(secret_rng):
    rng, cases = secret_rng, []
    for _ in range(15):
        n_entries, batch = int(rng.integers(1, 11)), int(rng.integers(1, 30))
        cases.append((rng.normal(size=n_entries), rng.integers(0, n_entries, batch),
                      rng.normal(size=batch), rng.normal(size=batch),
                      float(rng.uniform(0.0, 1.0)), float(rng.uniform(0.05, 1.0))))
    expected = [loop_td_update(*case) for case in cases]
    assert_informative(expected, [case[0] for case in cases])
    for k, (case, want) in enumerate(zip(cases, expected, strict=True)):
        values = case[0]
        before = values.copy()
        assert_close(td_update(values, *case[1:]), want, 1e-9, k)
        np.testing.assert_array_equal(values, before, err_msg=f"case {k}: values changed")


@pytest.mark.exercise("6.4")
def test_secret_policy_gradient(secret_rng):
    rng, cases = secret_rng, []
    for _ in range(10):
        n, n_states, n_actions = (int(rng.integers(1, 5)), int(rng.integers(1, 5)),
                                  int(rng.integers(2, 6)))
        shape = (int(rng.integers(1, 5)), int(rng.integers(1, 6)), n)
        cases.append((rng.dirichlet(np.ones(n_actions), size=(n, n_states)),
                      rng.integers(0, n_states, shape), rng.integers(0, n_actions, shape),
                      rng.normal(size=shape)))
    expected = [loop_policy_gradient(*case) for case in cases]
    assert_informative(expected, [case[0] for case in cases])
    for k, (case, want) in enumerate(zip(cases, expected, strict=True)):
        assert_close(policy_gradient(*case), want, 1e-9, k)


@pytest.mark.exercise("6.5")
def test_secret_sensitivity_by_hop(secret_rng):
    rng, cases = secret_rng, []
    for k in range(14):
        m, max_hops = int(rng.integers(1, 40)), int(rng.integers(1, 7))
        hops = rng.integers(1, max_hops + 3, m)
        if k == 1:  # hop distances without any sample: NaN
            max_hops, hops = int(rng.integers(3, 7)), np.ones(m, int)
        hops[0] = int(rng.integers(1, max_hops + 1))  # at least one sample within max_hops
        cases.append((rng.normal(size=m), rng.normal(size=m), hops, max_hops))
    expected = [loop_sensitivity(*case) for case in cases]
    assert_informative(expected, [case[0] for case in cases])
    for k, (case, want) in enumerate(zip(cases, expected, strict=True)):
        assert_close(sensitivity_by_hop(*case), want, 1e-9, k)


@pytest.mark.exercise("6.6")
def test_secret_linear_td_update(secret_rng):
    rng, cases = secret_rng, []
    for _ in range(12):
        rows, n_features, batch = (int(rng.integers(1, 7)), int(rng.integers(1, 5)),
                                   int(rng.integers(1, 26)))
        features = rng.normal(size=(batch, n_features))
        features[rng.random((batch, n_features)) < 0.3] = 0.0  # weights that do not move
        cases.append((rng.normal(size=(rows, n_features)), rng.integers(0, rows, batch),
                      features, rng.normal(size=batch), rng.normal(size=batch),
                      float(rng.uniform(0.0, 1.0)), float(rng.uniform(0.05, 1.0))))
    expected = [loop_linear_td_update(*case) for case in cases]
    assert_informative(expected, [case[0] for case in cases])
    for k, (case, want) in enumerate(zip(cases, expected, strict=True)):
        weights = case[0]
        before = weights.copy()
        assert_close(linear_td_update(weights, *case[1:]), want, 1e-9, k)
        np.testing.assert_array_equal(weights, before, err_msg=f"case {k}: weights changed")
