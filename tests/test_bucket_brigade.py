"""Public tests for chapter 2's bucket brigade: exercises 2.1, 2.2, 2.3 and 2.4, the ledger,
the production line and the experiment.

Tests marked ``@pytest.mark.exercise("2.x")`` check an exercise; ``course_lib.check("2.x")``
runs them against your own code. Unmarked tests check input validation (which runs before
your code) and the library built on the exercises.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import assert_transfers

from course_lib.bucket_brigade import (
    ENVIRONMENT,
    MINT,
    TAX,
    BrigadeResult,
    Ledger,
    ProductionLine,
    Transfer,
    apply_transfers,
    money_created,
    run_bucket_brigade,
    steady_state_strengths,
    step_transfers,
)
from course_lib.experiments import get_experiment, run_experiment


def oracle_apply(strengths, transfers) -> list[float]:
    """Plain-Python strength update: rules pay and receive, external accounts are skipped."""
    new = [float(s) for s in strengths]
    for t in transfers:
        if isinstance(t.payer, (int, np.integer)):
            new[t.payer] -= t.amount
        if isinstance(t.payee, (int, np.integer)):
            new[t.payee] += t.amount
    return new


def oracle_external_net(transfers) -> float:
    """Money the rules received from ENVIRONMENT/TAX minus what they paid to them."""
    net = 0.0
    for t in transfers:
        rule_payer = isinstance(t.payer, (int, np.integer))
        rule_payee = isinstance(t.payee, (int, np.integer))
        if t.payer in (ENVIRONMENT, TAX) and rule_payee:
            net += t.amount
        if t.payee in (ENVIRONMENT, TAX) and rule_payer:
            net -= t.amount
    return net


STRENGTH = st.floats(0.0, 10.0, allow_subnormal=False)  # a strength for property tests

# Strengths [2, 4, 1, 8], bid fraction 1/4, tax 1/8 (exact in binary): bids 0.5, 1, 0.25, 2.
S4 = [2.0, 4.0, 1.0, 8.0]
C, TAX_RATE = 0.25, 0.125


# ======================================================================================
# 2.1 One step of the bucket brigade
# ======================================================================================


@pytest.mark.exercise("2.1")
def test_step_first_price_pays_own_bid_to_the_supplier_then_tax():
    out = step_transfers(np.array(S4), [0, 1, 2], winner=1, supplier=3, reward=0.0,
                         c_bid=C, tax_rate=TAX_RATE)
    assert isinstance(out, list)
    # Rule 1 bids 0.25 * 4 = 1 and pays it to rule 3; its tax is 0.125 * 4 = 0.5.
    assert_transfers(out, [(1, 3, "bid", 1.0), (1, TAX, "tax", 0.5)])


@pytest.mark.exercise("2.1")
def test_step_first_state_is_supplied_by_the_environment():
    out = step_transfers(S4, [0, 1, 2], winner=0, supplier=None, reward=0.0,
                         c_bid=C, tax_rate=TAX_RATE)
    assert_transfers(out, [(0, ENVIRONMENT, "bid", 0.5), (0, TAX, "tax", 0.25)])


@pytest.mark.exercise("2.1")
def test_step_reward_comes_last_from_the_environment():
    out = step_transfers(S4, [2, 3], winner=3, supplier=2, reward=10.0,
                         c_bid=C, tax_rate=TAX_RATE)
    assert_transfers(out, [(3, 2, "bid", 2.0), (3, TAX, "tax", 1.0),
                           (ENVIRONMENT, 3, "reward", 10.0)])


@pytest.mark.exercise("2.1")
def test_step_zero_tax_and_zero_reward_are_skipped():
    out = step_transfers(S4, [0, 1, 2, 3], winner=3, supplier=0, reward=0.0,
                         c_bid=0.5, tax_rate=0.0)
    assert_transfers(out, [(3, 0, "bid", 4.0)])
    out = step_transfers(S4, [1], winner=1, supplier=None, reward=0, c_bid=0.5, tax_rate=0)
    assert_transfers(out, [(1, ENVIRONMENT, "bid", 2.0)])


@pytest.mark.exercise("2.1")
def test_step_tax_is_on_the_strength_not_on_the_bid():
    # Strength 10, bid fraction 0.5, tax 0.1: bid 5, tax 1 (not 0.5, and not 0.1 * (10 - 5)).
    out = step_transfers([10.0, 3.0], [0, 1], 0, 1, 0.0, 0.5, 0.1)
    assert_transfers(out, [(0, 1, "bid", 5.0), (0, TAX, "tax", 1.0)])


@pytest.mark.exercise("2.1")
def test_step_accepts_lists_and_numpy_integers():
    out = step_transfers([2, 4, 1, 8], np.array([0, 1, 2]), np.int64(1), np.int64(3), 1,
                         C, TAX_RATE)
    assert_transfers(out, [(1, 3, "bid", 1.0), (1, TAX, "tax", 0.5),
                           (ENVIRONMENT, 1, "reward", 1.0)])
    assert all(type(t.amount) is float for t in out)


@pytest.mark.exercise("2.1")
def test_step_does_not_change_the_strengths():
    """The strengths are left as they were, and the second-price transfers are right."""
    strengths = np.array(S4)
    out = step_transfers(strengths, [0, 1, 2], 1, 3, 5.0, C, TAX_RATE, "second")
    np.testing.assert_array_equal(strengths, S4)
    assert_transfers(out, [(1, 3, "bid", 0.5), (MINT, 3, "mint", 0.5), (1, TAX, "tax", 0.5),
                           (ENVIRONMENT, 1, "reward", 5.0)])


@pytest.mark.exercise("2.1")
def test_step_second_price_pays_the_highest_other_bid_and_mints_the_gap():
    # Eligible bids: rule 0 0.5, rule 1 1.0, rule 2 0.25. Rule 1 wins and pays 0.5 (the
    # highest other bid); its supplier, rule 3, still receives 1.0: 0.5 comes from the mint.
    out = step_transfers(S4, [0, 1, 2], winner=1, supplier=3, reward=0.0,
                         c_bid=C, tax_rate=TAX_RATE, pricing="second")
    assert_transfers(out, [(1, 3, "bid", 0.5), (MINT, 3, "mint", 0.5), (1, TAX, "tax", 0.5)])


@pytest.mark.exercise("2.1")
def test_step_second_price_order_is_bid_mint_tax_reward():
    out = step_transfers(S4, [1, 3], winner=3, supplier=None, reward=2.5,
                         c_bid=C, tax_rate=TAX_RATE, pricing="second")
    # Rule 3 bids 2, the other bid is 1: it pays 1, the environment gets 2 (1 minted).
    assert_transfers(out, [(3, ENVIRONMENT, "bid", 1.0), (MINT, ENVIRONMENT, "mint", 1.0),
                           (3, TAX, "tax", 1.0), (ENVIRONMENT, 3, "reward", 2.5)])


@pytest.mark.exercise("2.1")
def test_step_second_price_lone_bidder_pays_nothing_and_the_whole_bid_is_minted():
    out = step_transfers(S4, [3], winner=3, supplier=0, reward=0.0,
                         c_bid=C, tax_rate=0.0, pricing="second")
    assert_transfers(out, [(3, 0, "bid", 0.0), (MINT, 0, "mint", 2.0)])


@pytest.mark.exercise("2.1")
def test_step_second_price_ignores_rules_that_are_not_eligible():
    # Rule 3 (strength 8) is not eligible: the price is rule 0's bid 0.5, not 2.
    out = step_transfers(S4, [0, 1], winner=1, supplier=2, reward=0.0,
                         c_bid=C, tax_rate=0.0, pricing="second")
    assert_transfers(out, [(1, 2, "bid", 0.5), (MINT, 2, "mint", 0.5)])


@pytest.mark.exercise("2.1")
@pytest.mark.parametrize("pricing", ["first", "second"])
def test_step_negative_reward_is_paid_by_the_winner_to_the_environment(pricing):
    """Catches a negative reward dropped (only ``reward > 0`` handled) or paid to the winner
    (its sign lost): the docstring says the winner pays it to the ENVIRONMENT."""
    out = step_transfers(S4, [0, 1, 2], winner=1, supplier=3, reward=-1.5,
                         c_bid=C, tax_rate=TAX_RATE, pricing=pricing)
    bid = [(1, 3, "bid", 1.0)] if pricing == "first" else [(1, 3, "bid", 0.5),
                                                           (MINT, 3, "mint", 0.5)]
    assert_transfers(out, bid + [(1, TAX, "tax", 0.5), (1, ENVIRONMENT, "reward", 1.5)])


@pytest.mark.exercise("2.1")
def test_step_second_price_is_capped_at_the_winners_own_bid():
    """Catches an uncapped second price: a winner picked by exploration (rule 0 bids 0.5 while
    rule 3 bids 2) pays at most its own bid, and then nothing is minted."""
    out = step_transfers(S4, [0, 3], winner=0, supplier=None, reward=0.0,
                         c_bid=C, tax_rate=TAX_RATE, pricing="second")
    assert_transfers(out, [(0, ENVIRONMENT, "bid", 0.5), (0, TAX, "tax", 0.25)])


@pytest.mark.exercise("2.1")
def test_step_second_price_tie_at_the_top_mints_nothing():
    """Catches a mint of 0 kept: when another eligible rule bid as much as the winner, the
    winner pays its own bid and the docstring says to skip the mint."""
    out = step_transfers([2.0, 4.0, 4.0, 8.0], [0, 1, 2], winner=2, supplier=0, reward=0.0,
                         c_bid=C, tax_rate=0.0, pricing="second")  # bids 0.5, 1, 1
    assert_transfers(out, [(2, 0, "bid", 1.0)])


@pytest.mark.exercise("2.1")
def test_step_a_bid_of_zero_is_still_paid():
    """Catches a bid of 0 left out: the docstring skips only a tax or a mint of 0. Rule 0 has
    no money, so it bids 0 (and its tax, 0, is skipped)."""
    out = step_transfers([0.0, 3.0], [0, 1], winner=0, supplier=1, reward=0.0,
                         c_bid=C, tax_rate=TAX_RATE)
    assert_transfers(out, [(0, 1, "bid", 0.0)])


@pytest.mark.exercise("2.1")
@settings(deadline=None, max_examples=40)
@given(data=st.data())
def test_property_first_price_steps_create_no_money(data):
    """Any sequence of first-price steps: no mint, and every rule's money is accounted for."""
    n = data.draw(st.integers(1, 6), label="n_rules")
    strengths = data.draw(st.lists(STRENGTH, min_size=n, max_size=n))
    c_bid = data.draw(st.floats(0.01, 0.6), label="c_bid")
    tax_rate = data.draw(st.sampled_from([0.0, 0.01, 0.1, 0.3]), label="tax_rate")
    initial_total = sum(strengths)
    external = 0.0  # what the rules received from ENVIRONMENT/TAX, net
    for _ in range(data.draw(st.integers(1, 8), label="steps")):
        eligible = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n,
                                      unique=True))
        winner = data.draw(st.sampled_from(eligible))
        supplier = data.draw(st.one_of(st.none(), st.integers(0, n - 1)))
        reward = data.draw(st.sampled_from([0.0, 0.5, 10.0]))
        out = step_transfers(strengths, eligible, winner, supplier, reward, c_bid, tax_rate)
        assert all(t.kind != "mint" and t.payer != MINT for t in out)
        assert sum(t.amount for t in out if t.kind == "bid") == pytest.approx(
            c_bid * strengths[winner], abs=1e-12)
        strengths = oracle_apply(strengths, out)
        external += oracle_external_net(out)
    assert sum(strengths) - initial_total == pytest.approx(external, abs=1e-9)


# ======================================================================================
# 2.2 The strength update
# ======================================================================================


HAND_TRANSFERS = [
    Transfer(1, 0, 0.5, "bid"),            # rule 1 pays rule 0
    Transfer(1, TAX, 0.25, "tax"),         # rule 1 pays tax
    Transfer(ENVIRONMENT, 2, 2.0, "reward"),
    Transfer(MINT, 0, 1.0, "mint"),
]


@pytest.mark.exercise("2.2")
def test_apply_hand_computed():
    new = apply_transfers(np.array([1.0, 2.0, 3.0]), HAND_TRANSFERS)
    assert isinstance(new, np.ndarray) and new.shape == (3,)
    # rule 0: 1 + 0.5 + 1 = 2.5; rule 1: 2 - 0.5 - 0.25 = 1.25; rule 2: 3 + 2 = 5.
    np.testing.assert_allclose(new, [2.5, 1.25, 5.0], rtol=0, atol=1e-12)


@pytest.mark.exercise("2.2")
def test_apply_returns_a_new_array_and_leaves_the_input_alone():
    """A new, updated array (the input unchanged); no transfer gives back equal strengths."""
    strengths = np.array([1.0, 2.0, 3.0])
    new = apply_transfers(strengths, HAND_TRANSFERS)
    np.testing.assert_array_equal(strengths, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(new, [2.5, 1.25, 5.0], rtol=0, atol=1e-12)
    assert new is not strengths
    new = apply_transfers(strengths, [])
    np.testing.assert_array_equal(new, [1.0, 2.0, 3.0])
    assert new is not strengths


@pytest.mark.exercise("2.2")
def test_apply_accepts_integer_lists_and_gives_floats():
    new = apply_transfers([3, 1], [Transfer(0, 1, 0.5, "bid")])
    assert new.dtype.kind == "f"
    np.testing.assert_allclose(new, [2.5, 1.5], rtol=0, atol=1e-12)


@pytest.mark.exercise("2.2")
def test_apply_the_same_rule_paying_twice():
    new = apply_transfers([5.0, 0.0], [Transfer(0, 1, 1.0, "bid"), Transfer(0, 1, 2.0, "bid"),
                                       Transfer(0, TAX, 0.5, "tax")])
    np.testing.assert_allclose(new, [1.5, 3.0], rtol=0, atol=1e-12)


ACCOUNTS_OF_4 = st.one_of(st.integers(0, 3), st.sampled_from([ENVIRONMENT, TAX]))


@st.composite
def transfer_lists(draw, accounts=ACCOUNTS_OF_4, max_size: int = 12):
    """Random transfers between the accounts, some of them from the mint."""
    out = []
    for _ in range(draw(st.integers(0, max_size))):
        amount = draw(st.floats(0.0, 5.0))
        if draw(st.booleans()) and draw(st.booleans()):
            out.append(Transfer(MINT, draw(accounts), amount, "mint"))
        else:
            out.append(Transfer(draw(accounts), draw(accounts), amount,
                                draw(st.sampled_from(["bid", "tax", "reward"]))))
    return out


@pytest.mark.exercise("2.2")
@settings(deadline=None, max_examples=60)
@given(strengths=st.lists(STRENGTH, min_size=4, max_size=4),
       transfers=transfer_lists())
def test_property_apply_conserves_money_of_rules_and_external_accounts(strengths, transfers):
    new = apply_transfers(strengths, transfers)
    np.testing.assert_allclose(new, oracle_apply(strengths, transfers), rtol=0, atol=1e-9)
    # Rules + ENVIRONMENT + TAX change by exactly what the mint paid (into any of them).
    balances = {ENVIRONMENT: 0.0, TAX: 0.0, MINT: 0.0}
    for t in transfers:
        for side, sign in ((t.payer, -1.0), (t.payee, 1.0)):
            if side in balances:
                balances[side] += sign * t.amount
    before = sum(strengths)
    after = float(np.sum(new)) + balances[ENVIRONMENT] + balances[TAX]
    assert after - before == pytest.approx(-balances[MINT], abs=1e-9)


# ======================================================================================
# 2.3 The auditor
# ======================================================================================


@pytest.mark.exercise("2.3")
def test_money_created_is_zero_for_balanced_books():
    """Balanced books create nothing; the same books with 1.0 more in rule 1 create 1.0."""
    # Rule 0 pays rule 1 a bid of 0.5 and a tax of 0.1; the environment pays rule 1 3.0.
    transfers = [Transfer(0, 1, 0.5, "bid"), Transfer(0, TAX, 0.1, "tax"),
                 Transfer(ENVIRONMENT, 1, 3.0, "reward")]
    created = money_created([1.0, 2.0], [0.4, 5.5], transfers)
    assert isinstance(created, float)
    assert created == pytest.approx(0.0, abs=1e-12)
    assert money_created([1.0, 2.0], [0.4, 6.5], transfers) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.exercise("2.3")
def test_money_created_detects_minted_money():
    transfers = [Transfer(0, 1, 0.5, "bid"), Transfer(MINT, 1, 0.25, "mint")]
    assert money_created([1.0, 2.0], [0.5, 2.75], transfers) == pytest.approx(0.25, abs=1e-12)


@pytest.mark.exercise("2.3")
def test_money_created_without_any_transfer_is_detected():
    assert money_created([1.0, 1.0], [1.0, 3.0], []) == pytest.approx(2.0, abs=1e-12)
    assert money_created([2.0, 2.0], [1.0, 2.0], []) == pytest.approx(-1.0, abs=1e-12)


@pytest.mark.exercise("2.3")
def test_money_created_rule_to_rule_transfers_do_not_count():
    # Rule 0 pays rule 1: the total does not change and nothing came from outside.
    transfers = [Transfer(0, 1, 1.5, "bid"), Transfer(1, 0, 0.25, "bid")]
    assert money_created([2.0, 0.0], [0.75, 1.25], transfers) == pytest.approx(0.0, abs=1e-12)
    # The same books with strengths 1 higher than they explain: 1 was created.
    assert money_created([2.0, 0.0], [1.75, 1.25], transfers) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.exercise("2.3")
def test_money_created_counts_payments_to_the_environment_and_tax_as_outflows():
    # Rule 0 pays 1 to the environment (a negative reward) and 0.5 to the tax: its strength
    # falls by 1.5, all of it explained.
    transfers = [Transfer(0, ENVIRONMENT, 1.0, "reward"), Transfer(0, TAX, 0.5, "tax")]
    assert money_created([3.0], [1.5], transfers) == pytest.approx(0.0, abs=1e-12)
    assert money_created([3.0], [3.0], transfers) == pytest.approx(1.5, abs=1e-12)


@pytest.mark.exercise("2.3")
def test_money_created_ignores_flows_that_reach_no_rule():
    """Catches counting every payment from or to ENVIRONMENT/TAX: external flows are those
    between a rule and ENVIRONMENT or TAX, so money moving between two external accounts (or
    minted into one) changes nothing the rules hold."""
    outside = [Transfer(ENVIRONMENT, TAX, 3.0, "tax"), Transfer(TAX, ENVIRONMENT, 1.0, "reward"),
               Transfer(MINT, ENVIRONMENT, 7.0, "mint")]
    assert money_created([1.0, 2.0], [1.0, 2.0], outside) == pytest.approx(0.0, abs=1e-12)
    # ...while money minted into a rule is what the audit finds
    books = outside + [Transfer(MINT, 0, 1.25, "mint")]
    assert money_created([1.0, 2.0], [2.25, 2.0], books) == pytest.approx(1.25, abs=1e-12)


@pytest.mark.exercise("2.3")
@settings(deadline=None, max_examples=60)
@given(strengths=st.lists(STRENGTH, min_size=4, max_size=4),
       transfers=transfer_lists())
def test_property_audit_finds_exactly_the_minted_money_that_reached_rules(strengths,
                                                                         transfers):
    final = oracle_apply(strengths, transfers)
    minted_to_rules = sum(t.amount for t in transfers
                          if t.payer == MINT and t.payee not in (ENVIRONMENT, TAX, MINT))
    assert money_created(strengths, final, transfers) == pytest.approx(minted_to_rules,
                                                                       abs=1e-9)


# ======================================================================================
# 2.4 Steady state in closed form
# ======================================================================================


@pytest.mark.exercise("2.4")
def test_steady_state_small_case_by_hand():
    # (c + tax) S_2 = 1 gives S_2 = 2; (c + tax) S_k = c S_{k+1} halves it at each stage.
    out = steady_state_strengths(3, 1.0, 0.25, 0.25)
    assert isinstance(out, np.ndarray) and out.shape == (3,)
    np.testing.assert_allclose(out, [0.5, 1.0, 2.0], rtol=1e-12)


@pytest.mark.exercise("2.4")
def test_steady_state_without_tax_all_strengths_are_equal():
    np.testing.assert_allclose(steady_state_strengths(4, 2.0, 0.25, 0.0), [8.0, 8.0, 8.0, 8.0],
                               rtol=1e-12)


@pytest.mark.exercise("2.4")
def test_steady_state_chapter_parameters():
    # Reward 10, c 0.1, tax 0.01: S_last = 10 / 0.11, each earlier stage 0.1 / 0.11 of the next.
    out = steady_state_strengths(2, 10.0, 0.1, 0.01)
    np.testing.assert_allclose(out, [1000 / 12.1, 1000 / 11], rtol=1e-12)


@pytest.mark.exercise("2.4")
def test_steady_state_satisfies_the_balance_equations():
    c, tax, reward = 0.2, 0.05, 3.0
    s = steady_state_strengths(5, reward, c, tax)
    assert s.shape == (5,)
    assert (c + tax) * s[-1] == pytest.approx(reward, rel=1e-12)  # pays bid + tax = reward
    for k in range(4):
        assert (c + tax) * s[k] == pytest.approx(c * s[k + 1], rel=1e-12)


# ======================================================================================
# Input validation (runs before any exercise body, so these tests are not marked)
# ======================================================================================


GOOD_STEP = {"strengths": [1.0, 2.0, 3.0], "eligible": [0, 1], "winner": 1, "supplier": 2,
             "reward": 0.0, "c_bid": 0.1, "tax_rate": 0.01}


@pytest.mark.parametrize(("change", "error", "match"), [
    ({"strengths": [1.0, -2.0, 3.0]}, ValueError, "strengths"),
    ({"strengths": [1.0, float("nan"), 3.0]}, ValueError, "strengths"),
    ({"strengths": [[1.0, 2.0, 3.0]]}, ValueError, "strengths"),
    ({"strengths": "123"}, TypeError, "strengths"),
    ({"strengths": None}, TypeError, "strengths"),
    ({"eligible": []}, ValueError, "eligible"),
    ({"eligible": [0, 3]}, ValueError, "eligible"),
    ({"eligible": [1, 1]}, ValueError, "eligible"),
    ({"eligible": [0, 1.0]}, TypeError, "eligible"),
    ({"winner": 2}, ValueError, "winner"),
    ({"winner": 1.0}, TypeError, "winner"),
    ({"supplier": 3}, ValueError, "supplier"),
    ({"supplier": -1}, ValueError, "supplier"),
    ({"c_bid": 0.0}, ValueError, "c_bid"),
    ({"c_bid": 0.9, "tax_rate": 0.2}, ValueError, "c_bid \\+ tax_rate"),
    ({"tax_rate": -0.01}, ValueError, "tax_rate"),
    ({"reward": float("inf")}, ValueError, "reward"),
    ({"reward": "1"}, TypeError, "reward"),
    ({"pricing": "vickrey"}, ValueError, "pricing"),
    ({"pricing": "First"}, ValueError, "pricing"),
])
def test_step_transfers_rejects_bad_arguments(change, error, match):
    with pytest.raises(error, match=match):
        step_transfers(**{**GOOD_STEP, **change})


def test_step_transfers_names_the_function_on_missing_arguments():
    with pytest.raises(TypeError, match="step_transfers"):
        step_transfers([1.0], [0], 0)


def test_apply_transfers_rejects_bad_arguments():
    with pytest.raises(TypeError, match="Transfer"):
        apply_transfers([1.0, 2.0], [(0, 1, 0.5, "bid")])
    with pytest.raises(TypeError, match="Transfer"):
        apply_transfers([1.0, 2.0], [Transfer(0, 1, 0.5, "bid"), "bid"])
    with pytest.raises(ValueError, match="rule 2"):
        apply_transfers([1.0, 2.0], [Transfer(0, 2, 0.5, "bid")])
    with pytest.raises(ValueError, match="strengths"):
        apply_transfers([[1.0, 2.0]], [])
    with pytest.raises(ValueError, match="strengths"):
        apply_transfers([1.0, float("nan")], [])


def test_money_created_rejects_bad_arguments():
    with pytest.raises(ValueError, match="same shape"):
        money_created([1.0, 2.0], [1.0], [])
    with pytest.raises(TypeError, match="Transfer"):
        money_created([1.0], [1.0], [{"payer": 0}])
    with pytest.raises(ValueError, match="rule 1"):
        money_created([1.0], [1.0], [Transfer(ENVIRONMENT, 1, 1.0, "reward")])
    with pytest.raises(ValueError, match="final_strengths"):
        money_created([1.0], [float("inf")], [])


STEADY_STATE_BAD_ARGS = [
    ((0, 1.0, 0.1, 0.0), ValueError, "n_stages"),
    ((2.0, 1.0, 0.1, 0.0), TypeError, "n_stages"),
    ((3, 1.0, 0.0, 0.1), ValueError, "c_bid"),
    ((3, 1.0, 0.6, 0.5), ValueError, "c_bid \\+ tax_rate"),
    ((3, 1.0, 0.1, -0.1), ValueError, "tax_rate"),
    ((3, float("nan"), 0.1, 0.0), ValueError, "reward"),
]


def test_steady_state_rejects_bad_arguments():
    for args, error, match in STEADY_STATE_BAD_ARGS:
        with pytest.raises(error, match=match):
            steady_state_strengths(*args)


# ======================================================================================
# Transfer and Ledger
# ======================================================================================


BAD_TRANSFERS = [
    ((0, 1, -0.5, "bid"), "amount"),
    ((0, 1, float("nan"), "bid"), "amount"),
    ((0, 1, float("inf"), "bid"), "amount"),
    (("bank", 1, 0.5, "bid"), "accounts"),
    ((0, -1, 0.5, "bid"), "accounts"),
    ((0, 1.0, 0.5, "bid"), "accounts"),
    ((True, 1, 0.5, "bid"), "accounts"),
    ((0, None, 0.5, "bid"), "accounts"),
    ((0, 1, 0.5, "gift"), "kind"),
    ((MINT, 1, 0.5, "bid"), "mint"),      # the mint only pays mint transfers
    ((0, 1, 0.5, "mint"), "mint"),        # and only the mint pays them
    ((ENVIRONMENT, 1, 0.5, "mint"), "mint"),
]


def test_transfer_validation():
    for args, match in BAD_TRANSFERS:
        with pytest.raises(ValueError, match=match):
            Transfer(*args)


def test_transfer_amount_must_be_a_number():
    with pytest.raises(TypeError, match="amount"):
        Transfer(0, 1, "0.5", "bid")


def test_valid_transfers():
    t = Transfer(np.int64(2), TAX, 1, "tax")
    assert t.amount == 1.0 and type(t.amount) is float
    assert Transfer(MINT, 0, 0.0, "mint").amount == 0.0
    assert Transfer(ENVIRONMENT, 3, 2.5, "reward") == Transfer(ENVIRONMENT, 3, 2.5, "reward")
    with pytest.raises(AttributeError):
        t.amount = 2.0  # frozen


def test_ledger_pay_refuses_unbalanced_payments():
    ledger = Ledger([1.0, 1.0])
    with pytest.raises(ValueError, match="mint"):
        ledger.pay(0, 1, paid=0.25, received=0.5)
    with pytest.raises(ValueError, match="mint"):
        ledger.pay(0, 1, paid=0.5, received=0.25)
    # Nothing happened.
    np.testing.assert_array_equal(ledger.strengths, [1.0, 1.0])
    assert ledger.transfers == [] and ledger.minted == 0.0


def test_ledger_pay_and_mint_record_transfers():
    ledger = Ledger([1.0, 1.0])
    ledger.pay(0, 1, 0.25, 0.25)
    ledger.pay(1, TAX, 0.5, 0.5, kind="tax")
    ledger.mint(0, 2.0)
    np.testing.assert_allclose(ledger.strengths, [2.75, 0.75], rtol=0, atol=1e-12)
    assert ledger.transfers == [Transfer(0, 1, 0.25, "bid"), Transfer(1, TAX, 0.5, "tax"),
                                Transfer(MINT, 0, 2.0, "mint")]
    assert ledger.minted == pytest.approx(2.0)
    assert ledger.external[TAX] == pytest.approx(0.5)
    np.testing.assert_array_equal(ledger.initial, [1.0, 1.0])


def test_ledger_rejects_bad_input():
    with pytest.raises(TypeError, match="Transfer"):
        Ledger([1.0]).record((0, TAX, 0.5, "tax"))
    with pytest.raises(ValueError, match="1-D"):
        Ledger([[1.0]])
    with pytest.raises(ValueError, match="initial_strengths"):
        Ledger([float("nan")])
    with pytest.raises(ValueError, match="rule 5"):
        Ledger([1.0]).record(Transfer(0, 5, 0.5, "bid"))


def test_ledger_does_not_alias_the_initial_strengths():
    start = np.array([1.0, 2.0])
    ledger = Ledger(start)
    ledger.pay(0, 1, 0.5, 0.5)
    np.testing.assert_array_equal(start, [1.0, 2.0])
    np.testing.assert_array_equal(ledger.initial, [1.0, 2.0])


def test_ledger_total_is_constant_without_mint():
    ledger = Ledger([1.0, 2.0, 3.0])
    assert ledger.total() == pytest.approx(6.0)
    for transfer in [Transfer(0, 1, 0.5, "bid"), Transfer(ENVIRONMENT, 2, 10.0, "reward"),
                     Transfer(2, TAX, 0.3, "tax"), Transfer(1, ENVIRONMENT, 1.0, "reward"),
                     Transfer(ENVIRONMENT, TAX, 4.0, "tax")]:
        ledger.record(transfer)
        assert ledger.total() == pytest.approx(6.0, abs=1e-12)
    np.testing.assert_allclose(ledger.strengths, [0.5, 1.5, 12.7], rtol=0, atol=1e-12)
    ledger.mint(ENVIRONMENT, 1.5)  # minted money shows, even when it reaches no rule
    assert ledger.total() == pytest.approx(7.5, abs=1e-12)
    assert ledger.minted == pytest.approx(1.5)


@settings(deadline=None, max_examples=30)
@given(data=st.data())
def test_property_first_price_economy_through_a_ledger_creates_no_money(data):
    n = data.draw(st.integers(1, 5), label="n_rules")
    ledger = Ledger(data.draw(st.lists(STRENGTH, min_size=n, max_size=n)))
    start_total = ledger.total()
    for _ in range(data.draw(st.integers(1, 10), label="steps")):
        eligible = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n,
                                      unique=True))
        winner = data.draw(st.sampled_from(eligible))
        supplier = data.draw(st.one_of(st.none(), st.integers(0, n - 1)))
        for t in step_transfers(ledger.strengths, eligible, winner, supplier,
                                data.draw(st.sampled_from([0.0, 1.0, 7.5])), 0.2, 0.05):
            ledger.record(t)
    assert ledger.minted == 0.0
    assert ledger.total() == pytest.approx(start_total, abs=1e-9)
    assert money_created(ledger.initial, ledger.strengths, ledger.transfers) == pytest.approx(
        0.0, abs=1e-9)


# ======================================================================================
# The production line and the bucket brigade
# ======================================================================================


def test_production_line_act():
    line = ProductionLine(n_stages=3, reward=5.0)
    assert line.n_rules == 9 and line.max_steps == 9
    assert line.eligible(0) == [0, 1, 2] and line.eligible(2) == [6, 7, 8]
    assert line.act(0, 0) == (1, 0.0)      # assemble: next stage
    assert line.act(1, 3) == (2, 0.0)
    assert line.act(2, 6) == (None, 5.0)   # the last assembly delivers and is rewarded
    assert line.act(1, 4) == (1, 0.0)      # dawdle: same stage
    assert line.act(0, 2) == (None, 0.0)   # scrap: the episode ends with nothing
    assert line.act(2, 8) == (None, 0.0)
    assert line.rule_name(4) == "dawdle @1" and line.rule_name(6) == "assemble @2"


def test_production_line_single_stage_and_defaults():
    line = ProductionLine(n_stages=1, reward=2.0)
    assert line.act(0, 0) == (None, 2.0)
    assert line.act(0, 1) == (0, 0.0)
    default = ProductionLine()
    assert (default.n_stages, default.reward) == (4, 10.0)


def test_production_line_validation():
    for kwargs, error, match in [({"n_stages": 0}, ValueError, "n_stages"),
                                 ({"n_stages": 2.0}, TypeError, "n_stages"),
                                 ({"reward": 0.0}, ValueError, "reward"),
                                 ({"reward": -1.0}, ValueError, "reward")]:
        with pytest.raises(error, match=match):
            ProductionLine(**kwargs)


def test_bucket_brigade_converges_to_the_closed_form():
    line = ProductionLine(n_stages=4, reward=10.0)
    result = run_bucket_brigade(line, c_bid=0.1, tax_rate=0.01, episodes=600, seed=0)
    assert isinstance(result, BrigadeResult)
    assert result.strengths.shape == (601, 12)
    assert result.assemblers.shape == (601, 4)
    np.testing.assert_array_equal(result.strengths[0], np.ones(12))
    # 10 / 0.11 = 90.909..., each earlier stage 1/1.1 of the next.
    closed = np.array([1e4 / 146.41, 1e4 / 133.1, 1e4 / 121, 1e4 / 110])
    assert np.max(np.abs(result.assemblers[-1] - closed)) < 1e-6
    assert result.delivered.shape == (600,) and result.delivered[-100:].all()
    assert result.ledger.minted == 0.0
    assert abs(money_created(result.ledger.initial, result.ledger.strengths,
                             result.ledger.transfers)) < 1e-6
    np.testing.assert_array_equal(result.ledger.strengths, result.strengths[-1])


def test_bucket_brigade_second_price_inflates_strengths_and_mints_money():
    line = ProductionLine(n_stages=4, reward=10.0)
    first = run_bucket_brigade(line, 0.1, 0.01, episodes=300, pricing="second", seed=1)
    assert first.pricing == "second"
    closed = 10 / 0.11
    assert first.assemblers[-1].max() > 2 * closed
    assert first.ledger.minted > 1.0
    created = money_created(first.ledger.initial, first.ledger.strengths,
                            first.ledger.transfers)
    assert created > 1.0
    # The audit sees the minted money that reached rules; the rest went to the environment.
    to_rules = sum(t.amount for t in first.ledger.transfers
                   if t.kind == "mint" and t.payee != ENVIRONMENT)
    assert created == pytest.approx(to_rules, rel=1e-9)


def test_bucket_brigade_is_reproducible_and_calls_back():
    line = ProductionLine(n_stages=2, reward=1.0)
    seen = []
    a = run_bucket_brigade(line, episodes=50, seed=3, callback=seen.append)
    b = run_bucket_brigade(line, episodes=50, seed=3)
    assert seen == list(range(50))
    np.testing.assert_array_equal(a.strengths, b.strengths)
    np.testing.assert_array_equal(a.delivered, b.delivered)


BRIGADE_BAD_ARGS = [
    ({"line": 3}, TypeError, "line"),
    ({"episodes": 0}, ValueError, "episodes"),
    ({"epsilon": 1.5}, ValueError, "epsilon"),
    ({"explore_fraction": -0.1}, ValueError, "explore_fraction"),
    ({"initial_strength": 0.0}, ValueError, "initial_strength"),
    ({"pricing": "third"}, ValueError, "pricing"),
    ({"c_bid": 0.9, "tax_rate": 0.2}, ValueError, "c_bid"),
]


def test_bucket_brigade_validation():
    for kwargs, error, match in BRIGADE_BAD_ARGS:
        with pytest.raises(error, match=match):
            run_bucket_brigade(**{"episodes": 5, **kwargs})


# ======================================================================================
# The chapter's experiment
# ======================================================================================


def test_experiment_quick_run_meets_the_chapter_claims():
    metrics = run_experiment("bucket-brigade", quick=True, seed=0)
    json.dumps(metrics)  # serialisable
    assert {"max_strength_error", "money_created", "money_created_second_price", "episodes",
            "wall_s"} <= set(metrics)
    assert metrics["quick"] is True and metrics["seed"] == 0
    assert metrics["max_strength_error"] < 1e-6
    assert abs(metrics["money_created"]) < 1e-6
    assert metrics["money_created_second_price"] > 1
    np.testing.assert_allclose(metrics["steady_state"],
                               [1e4 / 146.41, 1e4 / 133.1, 1e4 / 121, 1e4 / 110], rtol=1e-12)


def test_experiment_is_registered_and_validates():
    module = get_experiment("bucket-brigade")
    assert isinstance(module.TITLE, str) and module.TITLE
    with pytest.raises(ValueError, match="seed"):
        module.run(quick=True, seed=-1)
    with pytest.raises(TypeError, match="quick"):
        module.run(quick="yes")
