"""Instructor-only tests for exercises 2.1, 2.2, 2.3 and 2.4: cases the public tests leave out."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import assert_transfers

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


def loop_step(strengths, eligible, winner, supplier, reward, c_bid, tax_rate, pricing):
    """One step, by hand: a list of (payer, payee, kind, amount)."""
    own = c_bid * strengths[winner]
    seller = ENVIRONMENT if supplier is None else supplier
    if pricing == "first":
        out = [(winner, seller, "bid", own)]
    else:
        others = [c_bid * strengths[r] for r in eligible if r != winner]
        price = min(max(others), own) if others else 0.0
        out = [(winner, seller, "bid", price)]
        if own - price > 0:
            out.append((MINT, seller, "mint", own - price))
    if tax_rate > 0:
        out.append((winner, TAX, "tax", tax_rate * strengths[winner]))
    if reward > 0:
        out.append((ENVIRONMENT, winner, "reward", reward))
    elif reward < 0:
        out.append((winner, ENVIRONMENT, "reward", -reward))
    return out


def loop_apply(strengths, transfers):
    new = [float(s) for s in strengths]
    for t in transfers:
        if t.payer not in (ENVIRONMENT, TAX, MINT):
            new[t.payer] -= t.amount
        if t.payee not in (ENVIRONMENT, TAX, MINT):
            new[t.payee] += t.amount
    return new


# ======================================================================================
# 2.1
# ======================================================================================


# Strengths 3, 5, 5, 1, 5 (eligible) and 9 (not eligible); bid fraction 0.2: bids 0.6, 1, 1,
# 0.2, 1 - a three-way tie at the top.
TIED = [3.0, 5.0, 5.0, 1.0, 5.0, 9.0]


@pytest.mark.exercise("2.1")
@pytest.mark.parametrize("winner", [1, 2, 4])
def test_hidden_step_second_price_three_way_tie_mints_nothing(winner):
    out = step_transfers(TIED, [0, 1, 2, 3, 4], winner, 0, 0.0, 0.2, 0.1, "second")
    # Another eligible rule bid as much: the winner pays its own bid 1.0 and nothing is minted.
    assert_transfers(out, [(winner, 0, "bid", 1.0), (winner, TAX, "tax", 0.5)])
    out = step_transfers(TIED, [0, 1, 2, 3, 4], winner, 0, 0.0, 0.2, 0.1, "first")
    assert_transfers(out, [(winner, 0, "bid", 1.0), (winner, TAX, "tax", 0.5)])


@pytest.mark.exercise("2.1")
def test_hidden_step_second_price_non_eligible_strong_rule_does_not_set_the_price():
    # Rule 5 (strength 9, bid 1.8) is not eligible; among 0, 3 and 4 the others bid 0.6, 0.2.
    out = step_transfers(TIED, [0, 3, 4], 4, None, 0.0, 0.2, 0.0, "second")
    assert_transfers(out, [(4, ENVIRONMENT, "bid", 0.6), (MINT, ENVIRONMENT, "mint", 0.4)])


@pytest.mark.exercise("2.1")
def test_hidden_step_second_price_exploring_winner_pays_at_most_its_own_bid():
    # Rule 0 bids 0.5 but rule 3 bid 2: the winner was chosen by exploration. The price is
    # capped at the winner's own bid, so nothing is minted.
    out = step_transfers([2.0, 4.0, 1.0, 8.0], [0, 1, 2, 3], 0, 2, 0.0, 0.25, 0.125, "second")
    assert_transfers(out, [(0, 2, "bid", 0.5), (0, TAX, "tax", 0.25)])
    # Between the two: rule 1 bids 1, the highest other bid is 2 -> pays 1.
    out = step_transfers([2.0, 4.0, 1.0, 8.0], [1, 3], 1, None, 1.0, 0.25, 0.0, "second")
    assert_transfers(out, [(1, ENVIRONMENT, "bid", 1.0), (ENVIRONMENT, 1, "reward", 1.0)])


@pytest.mark.exercise("2.1")
def test_hidden_step_second_price_eligible_in_any_order():
    # Eligible listed as [2, 3, 0]: rule 3 (bid 2) wins, the others bid 0.25 and 0.5.
    out = step_transfers([2.0, 4.0, 1.0, 8.0], [2, 3, 0], 3, 1, 0.0, 0.25, 0.0, "second")
    assert_transfers(out, [(3, 1, "bid", 0.5), (MINT, 1, "mint", 1.5)])
    out = step_transfers([2.0, 4.0, 1.0, 8.0], np.array([3, 0]), 0, 1, 0.0, 0.25, 0.0,
                         "second")
    assert_transfers(out, [(0, 1, "bid", 0.5)])


@pytest.mark.exercise("2.1")
@pytest.mark.parametrize("pricing", ["first", "second"])
def test_hidden_step_negative_reward_is_paid_to_the_environment(pricing):
    out = step_transfers([4.0, 4.0], [0, 1], 1, 0, -3.0, 0.25, 0.25, pricing)
    assert_transfers(out, [(1, 0, "bid", 1.0), (1, TAX, "tax", 1.0),
                           (1, ENVIRONMENT, "reward", 3.0)])


@pytest.mark.exercise("2.1")
def test_hidden_step_winner_that_supplied_itself_pays_itself():
    # A dawdling rule acts twice in a row: it is its own supplier.
    out = step_transfers([0.0, 6.0, 2.0], [0, 1, 2], 1, 1, 0.0, 0.5, 0.25)
    assert_transfers(out, [(1, 1, "bid", 3.0), (1, TAX, "tax", 1.5)])
    out = step_transfers([0.0, 6.0, 2.0], [1, 2], 1, 1, 0.0, 0.5, 0.0, "second")
    assert_transfers(out, [(1, 1, "bid", 1.0), (MINT, 1, "mint", 2.0)])


@pytest.mark.exercise("2.1")
def test_hidden_step_zero_strengths_bid_nothing():
    # The bid is paid even when it is 0 (only a mint of 0 and a tax rate of 0 are skipped).
    out = step_transfers([0.0, 0.0, 0.0], [0, 1, 2], 2, None, 0.0, 0.3, 0.0, "second")
    assert_transfers(out, [(2, ENVIRONMENT, "bid", 0.0)])
    out = step_transfers([0.0], [0], 0, None, 5.0, 0.3, 0.0, "first")
    assert_transfers(out, [(0, ENVIRONMENT, "bid", 0.0), (ENVIRONMENT, 0, "reward", 5.0)])


@pytest.mark.exercise("2.1")
def test_hidden_step_bid_fraction_and_tax_nearly_everything():
    # c + tax = 0.95: the tax is 0.2 * 8 of the strength before the bid, not of what is left.
    out = step_transfers([8.0, 1.0], [0], 0, 1, 0.0, 0.75, 0.2)
    assert_transfers(out, [(0, 1, "bid", 6.0), (0, TAX, "tax", 1.6)])


@pytest.mark.exercise("2.1")
@pytest.mark.parametrize("pricing", ["first", "second"])
def test_hidden_step_many_rules_against_a_loop(pricing):
    rng = np.random.default_rng(21 if pricing == "first" else 22)
    for _ in range(300):
        n = int(rng.integers(1, 12))
        strengths = rng.random(n) * 10
        if rng.random() < 0.5:  # a coarse grid: ties abound
            strengths = np.ceil(strengths / 2.5) * 2.5  # > 0: no tax of exactly 0
        eligible = [int(r) for r in rng.permutation(n)[: int(rng.integers(1, n + 1))]]
        winner = eligible[int(rng.integers(len(eligible)))]
        supplier = None if rng.random() < 0.3 else int(rng.integers(n))
        reward = float(rng.choice([-2.0, 0.0, 0.0, 3.5]))
        c_bid = float(rng.uniform(0.05, 0.9))
        tax_rate = 0.0 if rng.random() < 0.3 else float(rng.uniform(0.0, 1.0 - c_bid))
        before = strengths.copy()
        out = step_transfers(strengths, eligible, winner, supplier, reward, c_bid, tax_rate,
                             pricing)
        expected = loop_step(list(strengths), eligible, winner, supplier, reward, c_bid,
                             tax_rate, pricing)
        assert_transfers(out, expected, atol=1e-9)
        np.testing.assert_array_equal(strengths, before)


# ======================================================================================
# 2.2
# ======================================================================================


@pytest.mark.exercise("2.2")
def test_hidden_apply_repeated_accounts():
    transfers = [Transfer(0, 1, 1.0, "bid"), Transfer(0, 1, 2.0, "bid"),
                 Transfer(0, 2, 3.0, "bid"), Transfer(1, 2, 0.5, "bid"),
                 Transfer(2, 0, 0.25, "bid"), Transfer(0, TAX, 0.5, "tax"),
                 Transfer(0, TAX, 0.5, "tax"), Transfer(ENVIRONMENT, 2, 1.0, "reward"),
                 Transfer(ENVIRONMENT, 2, 1.0, "reward")]
    new = apply_transfers([10.0, 0.0, 0.0], transfers)
    # rule 0: 10 - 1 - 2 - 3 + 0.25 - 0.5 - 0.5 = 3.25; rule 1: 1 + 2 - 0.5 = 2.5;
    # rule 2: 3 + 0.5 - 0.25 + 1 + 1 = 5.25.
    np.testing.assert_allclose(new, [3.25, 2.5, 5.25], rtol=0, atol=1e-12)


@pytest.mark.exercise("2.2")
def test_hidden_apply_external_only_transfers_change_no_rule():
    transfers = [Transfer(ENVIRONMENT, TAX, 5.0, "tax"), Transfer(MINT, ENVIRONMENT, 2.0, "mint"),
                 Transfer(TAX, ENVIRONMENT, 1.0, "reward"), Transfer(MINT, TAX, 1.0, "mint"),
                 Transfer(ENVIRONMENT, ENVIRONMENT, 3.0, "reward")]
    new = apply_transfers([1.5, 2.5], transfers)
    np.testing.assert_array_equal(new, [1.5, 2.5])
    empty = apply_transfers(np.zeros(0), transfers)
    assert isinstance(empty, np.ndarray) and empty.shape == (0,)
    # One transfer that reaches a rule among them: only that rule changes.
    new = apply_transfers([1.5, 2.5], transfers + [Transfer(ENVIRONMENT, 1, 1.0, "reward")])
    np.testing.assert_allclose(new, [1.5, 3.5], rtol=0, atol=1e-12)


@pytest.mark.exercise("2.2")
def test_hidden_apply_rule_paying_itself_and_numpy_indices():
    transfers = [Transfer(np.int64(1), np.int64(1), 2.0, "bid"),
                 Transfer(np.int32(0), 1, 0.5, "bid")]
    np.testing.assert_allclose(apply_transfers([1.0, 1.0], transfers), [0.5, 1.5],
                               rtol=0, atol=1e-12)


@pytest.mark.exercise("2.2")
def test_hidden_apply_result_is_not_a_view_of_the_input():
    """The result is a new array holding the updated strengths."""
    strengths = np.array([4.0, 4.0])
    new = apply_transfers(strengths, [])
    np.testing.assert_array_equal(new, [4.0, 4.0])
    new[0] = 99.0
    np.testing.assert_array_equal(strengths, [4.0, 4.0])
    new = apply_transfers(strengths, [Transfer(0, 1, 1.0, "bid")])
    np.testing.assert_allclose(new, [3.0, 5.0], rtol=0, atol=1e-12)
    new[1] = -1.0
    np.testing.assert_array_equal(strengths, [4.0, 4.0])


@pytest.mark.exercise("2.2")
def test_hidden_apply_thousands_of_transfers_against_a_loop():
    rng = np.random.default_rng(23)
    n = 40
    accounts = list(range(n)) + [ENVIRONMENT, TAX]
    transfers = []
    for _ in range(3000):
        amount = float(rng.random() * 3)
        if rng.random() < 0.1:
            transfers.append(Transfer(MINT, accounts[rng.integers(len(accounts))], amount,
                                      "mint"))
        else:
            payer, payee = (accounts[i] for i in rng.integers(len(accounts), size=2))
            transfers.append(Transfer(payer, payee, amount,
                                      str(rng.choice(["bid", "tax", "reward"]))))
    strengths = rng.random(n) * 100
    before = strengths.copy()
    new = apply_transfers(strengths, transfers)
    np.testing.assert_allclose(new, loop_apply(before, transfers), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(strengths, before)


# ======================================================================================
# 2.3
# ======================================================================================


# Everything at once: rewards both ways, a tax and a tax refund, flows between two external
# accounts, mint to an external account and to a rule, and a bid between rules.
MIXED = [
    Transfer(ENVIRONMENT, 0, 4.0, "reward"),
    Transfer(1, ENVIRONMENT, 2.0, "reward"),   # a negative reward
    Transfer(2, TAX, 1.0, "tax"),
    Transfer(TAX, 1, 0.5, "tax"),              # a refund
    Transfer(ENVIRONMENT, TAX, 3.0, "tax"),    # no rule involved
    Transfer(MINT, ENVIRONMENT, 7.0, "mint"),  # minted, but reaches no rule
    Transfer(MINT, 2, 1.25, "mint"),           # minted into a rule: the audit's catch
    Transfer(0, 1, 2.0, "bid"),
]
MIXED_FINAL = [7.0, 5.5, 5.25]  # 5 + 4 - 2, 5 - 2 + 0.5 + 2, 5 - 1 + 1.25


@pytest.mark.exercise("2.3")
def test_hidden_money_created_mixed_external_flows():
    assert money_created([5.0, 5.0, 5.0], MIXED_FINAL, MIXED) == pytest.approx(1.25, abs=1e-12)


@pytest.mark.exercise("2.3")
def test_hidden_money_created_does_not_trust_the_books():
    # The same books, but the final strengths hold 0.75 less than the books explain.
    assert money_created([5.0, 5.0, 5.0], [7.0, 5.5, 4.5], MIXED) == pytest.approx(0.5,
                                                                                  abs=1e-12)
    # Only external flows between non-rules: nothing to explain, the change is the answer.
    transfers = [Transfer(ENVIRONMENT, TAX, 3.0, "tax"), Transfer(MINT, TAX, 2.0, "mint")]
    assert money_created([1.0, 1.0], [1.0, 1.0], transfers) == pytest.approx(0.0, abs=1e-12)
    assert money_created([1.0, 1.0], [0.0, 1.0], transfers) == pytest.approx(-1.0, abs=1e-12)


@pytest.mark.exercise("2.3")
def test_hidden_money_created_returns_a_float_for_numpy_and_integer_input():
    created = money_created(np.array([2, 2]), np.array([3, 2]),
                            [Transfer(ENVIRONMENT, np.int64(0), 1, "reward")])
    assert isinstance(created, float)
    assert created == pytest.approx(0.0, abs=1e-12)
    created = money_created([2, 2], [5, 2], [Transfer(MINT, 0, 3, "mint")])
    assert isinstance(created, float)
    assert created == pytest.approx(3.0, abs=1e-12)


@pytest.mark.exercise("2.3")
def test_hidden_money_created_large_random_books():
    rng = np.random.default_rng(24)
    n = 25
    accounts = list(range(n)) + [ENVIRONMENT, TAX]
    transfers, minted_to_rules = [], 0.0
    for _ in range(2000):
        amount = float(rng.random())
        payee = accounts[rng.integers(len(accounts))]
        if rng.random() < 0.05:
            transfers.append(Transfer(MINT, payee, amount, "mint"))
            minted_to_rules += amount if payee not in (ENVIRONMENT, TAX) else 0.0
        else:
            transfers.append(Transfer(accounts[rng.integers(len(accounts))], payee, amount,
                                      str(rng.choice(["bid", "tax", "reward"]))))
    start = rng.random(n) * 50
    final = loop_apply(start, transfers)
    assert minted_to_rules > 1.0
    assert money_created(start, final, transfers) == pytest.approx(minted_to_rules, abs=1e-8)


# ======================================================================================
# 2.4
# ======================================================================================


@pytest.mark.exercise("2.4")
def test_hidden_steady_state_single_stage():
    out = steady_state_strengths(1, 3.0, 0.5, 0.25)
    assert isinstance(out, np.ndarray) and out.shape == (1,)
    np.testing.assert_allclose(out, [4.0], rtol=1e-12)  # (0.5 + 0.25) * S = 3


@pytest.mark.exercise("2.4")
def test_hidden_steady_state_large_bid_fraction():
    # S_last = 2 / 0.8; each earlier stage 0.75 of the next.
    np.testing.assert_allclose(steady_state_strengths(3, 2.0, 0.6, 0.2), [1.40625, 1.875, 2.5],
                               rtol=1e-12)


@pytest.mark.exercise("2.4")
def test_hidden_steady_state_zero_reward_and_integer_arguments():
    np.testing.assert_array_equal(steady_state_strengths(3, 0.0, 0.5, 0.1), [0.0, 0.0, 0.0])
    out = steady_state_strengths(np.int64(2), 1, 0.5, 0)
    assert out.dtype.kind == "f"
    np.testing.assert_allclose(out, [2.0, 2.0], rtol=1e-12)


@pytest.mark.exercise("2.4")
@pytest.mark.parametrize(("n_stages", "reward", "c_bid", "tax_rate"), [
    (6, 7.3, 0.35, 0.15),
    (4, 10.0, 0.1, 0.01),
    (9, 0.8, 0.6, 0.05),
    (2, 123.0, 0.05, 0.3),
])
def test_hidden_steady_state_is_the_limit_of_the_greedy_brigade(n_stages, reward, c_bid,
                                                                tax_rate):
    """Iterate the strength update of one greedy episode (all assemblers act in turn)."""
    s = [1.0] * n_stages
    for _ in range(5000):
        new = list(s)
        for k in range(n_stages):
            receipt = reward if k == n_stages - 1 else c_bid * s[k + 1]
            new[k] = s[k] - (c_bid + tax_rate) * s[k] + receipt
        if max(abs(a - b) for a, b in zip(new, s, strict=True)) < 1e-13 * max(map(abs, s)):
            break
        s = new
    out = steady_state_strengths(n_stages, reward, c_bid, tax_rate)
    assert out.shape == (n_stages,)
    np.testing.assert_allclose(out, s, rtol=1e-9)


@pytest.mark.exercise("2.4")
def test_hidden_steady_state_many_stages_stays_finite_and_increasing():
    out = steady_state_strengths(60, 10.0, 0.1, 0.01)
    assert out.shape == (60,) and np.all(np.isfinite(out))
    assert np.all(np.diff(out) > 0)
    assert out[-1] == pytest.approx(10 / 0.11, rel=1e-12)
    assert out[0] == pytest.approx(10 / 0.11 / 1.1**59, rel=1e-9)
