"""Mutants: small wrong implementations of the exercises, one mistake each.

Each mutant makes exactly one mistake that the exercise's docstring, its ``# TODO`` comment,
its hints (``course_lib/hint_text.py``) or its chapter notebook warns about, or that a learner
would plausibly make. The public tests
of an exercise must fail for every one of its mutants
(``test_public_tests_catch_mistakes.py``; ``python tests/mutant_runner.py`` runs them by
hand). A mutant is called like the exercise's body: after the exercise's argument checks, so
it receives clean, converted arguments.

Mutants are written for this file, most of them as a whole body with one thing wrong; a few
call the reference and change its answer where that is the mistake. None of them is meant to
be read as a solution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Mutant:
    """One wrong implementation of exercise ``exercise``: ``mistake`` says, in a sentence, what
    it gets wrong and where that mistake is warned about."""

    exercise: str
    name: str
    mistake: str
    function: Callable[..., Any]

    @property
    def id(self) -> str:
        return f"{self.exercise}:{self.name}"


MUTANTS: list[Mutant] = []


def mutant(exercise: str, name: str, mistake: str) -> Callable[[Callable[..., Any]],
                                                                 Callable[..., Any]]:
    """Register the decorated function as a mutant of ``exercise``."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        if any(m.exercise == exercise and m.name == name for m in MUTANTS):
            raise ValueError(f"mutant {exercise}:{name} is defined twice")
        MUTANTS.append(Mutant(exercise, name, mistake, function))
        return function

    return register


def reference(exercise_id: str) -> Callable[..., Any]:
    """The reference body of an exercise (only for mutants that perturb its answer)."""
    from course_lib import exercises

    return exercises.get_exercise(exercise_id).reference()


def _last_argmax(x: np.ndarray) -> np.ndarray:
    """The highest index among the maxima along the last axis (the wrong tie rule)."""
    return x.shape[-1] - 1 - np.argmax(x[..., ::-1], axis=-1)


def _outcome(winner: np.ndarray, price: np.ndarray) -> Any:
    from course_lib.auctions import AuctionOutcome

    return AuctionOutcome(winner, price)


# ======================================================================================
# Chapter 1: auctions and the bidders' gradient
# ======================================================================================


@mutant("1.1", "ties_to_highest_index",
        "Gives a tie to the highest index; the docstring and the module say ties go to the "
        "lowest index.")
def _first_price_last_tie(bids):
    winner = _last_argmax(bids)
    return _outcome(winner, np.take_along_axis(bids, winner[..., None], axis=-1)[..., 0])


@mutant("1.1", "pays_second_price",
        "Charges the winner the second-highest bid (Vickrey's price) instead of its own bid, "
        "which the docstring stresses.")
def _first_price_second(bids):
    winner = np.argmax(bids, axis=-1)
    price = np.sort(bids, axis=-1)[..., -2] if bids.shape[-1] > 1 else bids[..., 0]
    return _outcome(winner, price)


@mutant("1.1", "argmax_over_first_axis",
        "Takes the winner and the price over the first axis instead of the last (the bidders' "
        "axis, as the docstring and the TODO say), which only agrees for a single auction.")
def _first_price_axis0(bids):
    return _outcome(np.argmax(bids, axis=0), np.max(bids, axis=0))


@mutant("1.1", "whole_batch_one_auction",
        "Takes np.argmax without an axis, so a batch is treated as one big auction "
        "(the docstring's shape (..., n_bidders) is broadcast wrongly).")
def _first_price_flat(bids):
    flat = int(np.argmax(bids))
    winner = np.full(bids.shape[:-1], flat % bids.shape[-1], dtype=int)
    price = np.full(bids.shape[:-1], float(bids.max()))
    return _outcome(winner, price)


@mutant("1.2", "ties_to_highest_index",
        "Gives a tie to the highest index; the docstring says ties go to the lowest index.")
def _vickrey_last_tie(bids):
    winner = _last_argmax(bids)
    price = np.sort(bids, axis=-1)[..., -2] if bids.shape[-1] > 1 else np.zeros(bids.shape[:-1])
    return _outcome(winner, price)


@mutant("1.2", "next_distinct_bid",
        "Prices a tie at the next lower distinct bid; the notebook asks what 'the highest bid "
        "among the others' is when two bidders tie (it is the tied bid).")
def _vickrey_distinct(bids):
    winner = np.argmax(bids, axis=-1)
    top = bids.max(axis=-1, keepdims=True)
    below = np.where(bids < top, bids, -np.inf).max(axis=-1)
    return _outcome(winner, np.where(np.isfinite(below), below, 0.0))


@mutant("1.2", "lone_bidder_pays_own_bid",
        "Charges a lone bidder its own bid; the docstring says a lone bidder pays 0 (no reserve "
        "price), and the TODO says to think of it.")
def _vickrey_lone(bids):
    winner = np.argmax(bids, axis=-1)
    if bids.shape[-1] == 1:
        return _outcome(winner, bids[..., 0])
    return _outcome(winner, np.sort(bids, axis=-1)[..., -2])


@mutant("1.2", "pays_own_bid",
        "Charges the winner its own bid (the first-price rule) instead of the highest bid "
        "among the others.")
def _vickrey_own(bids):
    winner = np.argmax(bids, axis=-1)
    return _outcome(winner, bids.max(axis=-1))


@mutant("1.2", "price_from_later_bidders_only",
        "Looks for the price only among the bidders after the winner, forgetting that the "
        "highest other bid can come from a lower index.")
def _vickrey_later(bids):
    winner = np.argmax(bids, axis=-1)
    after = np.arange(bids.shape[-1]) > winner[..., None]
    price = np.where(after, bids, 0.0).max(axis=-1)
    return _outcome(winner, price)


@mutant("1.2", "sorts_the_bids_in_place",
        "Sorts the caller's bids in place (bids.sort()) to find the second-highest bid, a slip "
        "when following the hints' 'sort along the last axis': np.sort returns a sorted copy "
        "and leaves the caller's bids alone.")
def _vickrey_in_place(bids):
    winner = np.argmax(bids, axis=-1)
    if bids.shape[-1] == 1:
        return _outcome(winner, np.zeros(bids.shape[:-1]))
    bids.sort(axis=-1)
    return _outcome(winner, bids[..., -2].copy())


@mutant("1.3", "value_minus_own_bid",
        "Gives the winner value - own bid whatever the mechanism, ignoring the price that "
        "run_auction returns (the docstring: value - price).")
def _utilities_own_bid(values, bids, mechanism):
    winner = np.argmax(bids, axis=-1)[..., None]
    u = np.zeros_like(values)
    gain = np.take_along_axis(values, winner, -1) - np.take_along_axis(bids, winner, -1)
    np.put_along_axis(u, winner, gain, axis=-1)
    return u


@mutant("1.3", "forgets_the_price",
        "Gives the winner its value and forgets to subtract the price (quasi-linear utility "
        "is value - price).")
def _utilities_no_price(values, bids, mechanism):
    from course_lib.auctions import run_auction

    winner = np.asarray(run_auction(bids, mechanism).winner)[..., None]
    u = np.zeros_like(values)
    np.put_along_axis(u, winner, np.take_along_axis(values, winner, -1), axis=-1)
    return u


@mutant("1.3", "losers_pay_too",
        "Gives every bidder value - price, not only the winner; the docstring says zero "
        "everywhere except at the winner.")
def _utilities_everyone(values, bids, mechanism):
    from course_lib.auctions import run_auction

    price = np.asarray(run_auction(bids, mechanism).price)[..., None]
    return values - price


@mutant("1.3", "winner_indexes_the_wrong_axis",
        "Writes the gains with u[..., winner] = gain, which for a batch sets the winner column "
        "of every auction in every row (a single auction's indexing broadcast to a batch).")
def _utilities_broadcast(values, bids, mechanism):
    from course_lib.auctions import run_auction

    outcome = run_auction(bids, mechanism)
    winner = np.asarray(outcome.winner)
    gain = np.take_along_axis(values, winner[..., None], -1)[..., 0] - np.asarray(outcome.price)
    u = np.zeros_like(values)
    if u.ndim == 1:
        u[winner] = gain
    else:
        u[..., winner] = gain[..., None]
    return u


@mutant("1.3", "single_auction_breaks",
        "Indexes the outcome's winner with [..., None] as it comes, which fails for a single "
        "auction, whose winner is a plain int (the TODO: one auction must work too).")
def _utilities_int_winner(values, bids, mechanism):
    from course_lib.auctions import run_auction

    outcome = run_auction(bids, mechanism)
    winner = outcome.winner[..., None]  # a plain int has no [..., None]
    gain = np.take_along_axis(values, winner, -1) - outcome.price[..., None]
    u = np.zeros_like(values)
    np.put_along_axis(u, winner, gain, axis=-1)
    return u


@mutant("1.3", "price_minus_value",
        "Flips the sign of the utility: price - value.")
def _utilities_sign(values, bids, mechanism):
    return -reference("1.3")(values, bids, mechanism)


@mutant("1.3", "clips_losses_at_zero",
        "Clips the winner's utility at 0, as if a winner could not lose money; value - price "
        "is negative for a winner that bid more than its value.")
def _utilities_clipped(values, bids, mechanism):
    return np.maximum(reference("1.3")(values, bids, mechanism), 0.0)


@mutant("1.4", "sum_not_mean",
        "Adds the scores of a bin instead of averaging them; the docstring says the estimate "
        "is the **mean** over the samples in that bin.")
def _gradient_sum(utilities, baselines, noise, sigma, bins, n_bins):
    score = (utilities - baselines) * noise / sigma
    total = np.zeros((utilities.shape[1], n_bins))
    np.add.at(total, (np.broadcast_to(np.arange(utilities.shape[1]), bins.shape), bins), score)
    return total


@mutant("1.4", "divides_by_the_batch",
        "Divides each bin's total by the batch size instead of by the samples in that bin.")
def _gradient_batch(utilities, baselines, noise, sigma, bins, n_bins):
    return _gradient_sum(utilities, baselines, noise, sigma, bins, n_bins) / len(utilities)


@mutant("1.4", "empty_bins_are_nan",
        "Divides by the counts everywhere, so an empty bin gets 0/0 = NaN; the docstring says "
        "0 for a bin that received no sample.")
def _gradient_nan(utilities, baselines, noise, sigma, bins, n_bins):
    total = _gradient_sum(utilities, baselines, noise, sigma, bins, n_bins)
    count = np.zeros_like(total)
    np.add.at(count, (np.broadcast_to(np.arange(utilities.shape[1]), bins.shape), bins), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


@mutant("1.4", "fancy_index_drops_repeats",
        "Accumulates with total[bidder, bins] += score: numpy keeps only one of the samples that "
        "share a (bidder, bin) (the TODO: several samples can share a cell; the hints warn "
        "about exactly this and point to np.add.at).")
def _gradient_buffered(utilities, baselines, noise, sigma, bins, n_bins):
    score = (utilities - baselines) * noise / sigma
    n_bidders = utilities.shape[1]
    bidder = np.broadcast_to(np.arange(n_bidders), bins.shape)
    total = np.zeros((n_bidders, n_bins))
    count = np.zeros((n_bidders, n_bins))
    total[bidder, bins] += score
    count[bidder, bins] += 1.0
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


@mutant("1.4", "forgets_sigma",
        "Leaves out the division by sigma in the score (u - b) * eps / sigma.")
def _gradient_sigma(utilities, baselines, noise, sigma, bins, n_bins):
    return reference("1.4")(utilities, baselines, noise, sigma, bins, n_bins) * sigma


@mutant("1.4", "forgets_the_baseline",
        "Scores u * eps / sigma, forgetting to subtract the baseline.")
def _gradient_no_baseline(utilities, baselines, noise, sigma, bins, n_bins):
    return reference("1.4")(utilities, np.zeros_like(baselines), noise, sigma, bins, n_bins)


@mutant("1.4", "pools_the_bidders",
        "Averages a bin over every bidder's samples (bins indexed without the bidder), so "
        "each bidder gets the others' scores too.")
def _gradient_pooled(utilities, baselines, noise, sigma, bins, n_bins):
    score = ((utilities - baselines) * noise / sigma).ravel()
    total = np.bincount(bins.ravel(), weights=score, minlength=n_bins)
    count = np.bincount(bins.ravel(), minlength=n_bins)
    mean = np.divide(total, count, out=np.zeros(n_bins), where=count > 0)
    return np.tile(mean, (utilities.shape[1], 1))


# ======================================================================================
# Chapter 2: the bucket brigade
# ======================================================================================


def _step(strengths, eligible, winner, supplier, reward, c_bid, tax_rate, pricing="first", *,
          tax_base=None, negative_reward="pay", cap=True, skip_zero_mint=True,
          others_from=None, order=("bid", "tax", "reward"), skip_zero_tax=True, mint=True,
          skip_zero_bid=False, winner_position=False, drop_by_value=False):
    """A step_transfers written out, with switches that each turn on one mistake."""
    from course_lib.bucket_brigade import ENVIRONMENT, MINT, TAX, Transfer

    own = c_bid * strengths[winner]
    seller = ENVIRONMENT if supplier is None else supplier
    parts: dict[str, list] = {"bid": [], "tax": [], "reward": []}
    if pricing == "first":
        if own > 0 or not skip_zero_bid:
            parts["bid"].append(Transfer(winner, seller, own, "bid"))
    else:
        pool = eligible if others_from is None else others_from
        if winner_position:  # the winner's rule index used as its position in eligible
            others = [c_bid * strengths[r] for j, r in enumerate(pool) if j != winner]
        elif drop_by_value:  # every bid equal to the winner's is dropped with it
            others = [c_bid * strengths[r] for r in pool if c_bid * strengths[r] != own]
        else:
            others = [c_bid * strengths[r] for r in pool if r != winner]
        price = max(others) if others else 0.0
        if cap:
            price = min(price, own)
        parts["bid"].append(Transfer(winner, seller, price, "bid"))
        if mint and (own > price or (not skip_zero_mint and own >= price)):
            parts["bid"].append(Transfer(MINT, seller, own - price, "mint"))
    base = strengths[winner] if tax_base is None else tax_base(strengths[winner], own)
    tax = tax_rate * base
    if tax > 0 or (not skip_zero_tax):
        parts["tax"].append(Transfer(winner, TAX, tax, "tax"))
    if reward > 0:
        parts["reward"].append(Transfer(ENVIRONMENT, winner, reward, "reward"))
    elif reward < 0 and negative_reward == "pay":
        parts["reward"].append(Transfer(winner, ENVIRONMENT, -reward, "reward"))
    elif reward < 0 and negative_reward == "receive":
        parts["reward"].append(Transfer(ENVIRONMENT, winner, -reward, "reward"))
    return [t for kind in order for t in parts[kind]]


@mutant("2.1", "tax_on_the_bid",
        "Taxes the bid (tax_rate * c_bid * S) instead of the strength; the docstring says the "
        "winner pays tax_rate * strengths[winner].")
def _step_tax_bid(*args, **kwargs):
    return _step(*args, **kwargs, tax_base=lambda strength, bid: bid)


@mutant("2.1", "tax_on_what_is_left",
        "Taxes the strength left after paying the bid; the docstring says strengths are those "
        "at the start of the step.")
def _step_tax_left(*args, **kwargs):
    return _step(*args, **kwargs, tax_base=lambda strength, bid: strength - bid)


@mutant("2.1", "reward_before_tax",
        "Lists the reward before the tax; the docstring fixes the order bid, tax, reward.")
def _step_order(*args, **kwargs):
    return _step(*args, **kwargs, order=("bid", "reward", "tax"))


@mutant("2.1", "keeps_a_zero_tax",
        "Records a tax transfer of 0 when tax_rate is 0; the docstring says to skip it.")
def _step_zero_tax(*args, **kwargs):
    return _step(*args, **kwargs, skip_zero_tax=False)


@mutant("2.1", "ignores_negative_rewards",
        "Handles only positive rewards; the docstring says a negative reward is a payment "
        "from the winner to the ENVIRONMENT.")
def _step_no_negative(*args, **kwargs):
    return _step(*args, **kwargs, negative_reward="skip")


@mutant("2.1", "negative_reward_paid_to_the_winner",
        "Pays a negative reward's size to the winner (the sign lost in abs); the docstring "
        "says the winner pays it to the ENVIRONMENT.")
def _step_negative_sign(*args, **kwargs):
    return _step(*args, **kwargs, negative_reward="receive")


@mutant("2.1", "pays_the_environment_always",
        "Pays every bid to the ENVIRONMENT, ignoring the supplier; the docstring says the "
        "winner pays its supplier (ENVIRONMENT only when supplier is None).")
def _step_no_supplier(strengths, eligible, winner, supplier, *args, **kwargs):
    return _step(strengths, eligible, winner, None, *args, **kwargs)


@mutant("2.1", "second_price_without_mint",
        "Under second pricing pays the supplier only the price, with no 'mint' transfer; the "
        "docstring says the supplier still receives the winner's own bid.")
def _step_no_mint(*args, **kwargs):
    return _step(*args, **kwargs, mint=False)


@mutant("2.1", "second_price_not_capped",
        "Does not cap the second price at the winner's own bid (a winner that is not the "
        "highest bidder pays more than it bid); the docstring says 'capped at its own bid'.")
def _step_uncapped(*args, **kwargs):
    return _step(*args, **kwargs, cap=False)


@mutant("2.1", "keeps_a_zero_mint",
        "Records a 'mint' transfer of 0 when another rule bid as much as the winner; the "
        "docstring says to skip the mint when it is 0.")
def _step_zero_mint(*args, **kwargs):
    return _step(*args, **kwargs, skip_zero_mint=False)


@mutant("2.1", "second_price_among_all_rules",
        "Takes the highest other bid among all rules, not only the eligible ones (the "
        "docstring: 'among the *other* eligible rules').")
def _step_all_rules(strengths, eligible, *args, **kwargs):
    return _step(strengths, eligible, *args, **kwargs, others_from=range(len(strengths)))


@mutant("2.1", "winner_index_as_position",
        "Removes the winner from the eligible bids by its rule index instead of its position in "
        "eligible (np.delete(bids, winner)); the hints: by its position in eligible.")
def _step_position(*args, **kwargs):
    return _step(*args, **kwargs, winner_position=True)


@mutant("2.1", "winner_removed_by_bid_value",
        "Leaves the winner out of the others by its bid value (bids != own), which also drops a "
        "rule that bid the same; the hints: by its position in eligible, not by its bid value.")
def _step_by_value(*args, **kwargs):
    return _step(*args, **kwargs, drop_by_value=True)


@mutant("2.1", "skips_a_zero_bid",
        "Leaves out a bid of 0 (a rule of strength 0); the docstring skips only a tax or a mint "
        "of 0, never the bid.")
def _step_zero_bid(*args, **kwargs):
    return _step(*args, **kwargs, skip_zero_bid=True)


@mutant("2.2", "changes_the_input",
        "Updates the strengths in place and returns the same array; the docstring says it "
        "returns a new array and leaves strengths unchanged.")
def _apply_in_place(strengths, transfers):
    from course_lib.bucket_brigade import EXTERNAL

    for t in transfers:
        if t.payer not in EXTERNAL:
            strengths[t.payer] -= t.amount
        if t.payee not in EXTERNAL:
            strengths[t.payee] += t.amount
    return strengths


@mutant("2.2", "payer_receives",
        "Swaps the signs: adds to the payer and subtracts from the payee.")
def _apply_swapped(strengths, transfers):
    from course_lib.bucket_brigade import EXTERNAL

    new = strengths.copy()
    for t in transfers:
        if t.payer not in EXTERNAL:
            new[t.payer] += t.amount
        if t.payee not in EXTERNAL:
            new[t.payee] -= t.amount
    return new


@mutant("2.2", "vectorised_drops_repeats",
        "Vectorises with new[payers] -= amounts (fancy-index assignment), so a rule that pays "
        "or receives twice is counted once.")
def _apply_buffered(strengths, transfers):
    from course_lib.bucket_brigade import EXTERNAL

    new = strengths.copy()
    payers = [(t.payer, t.amount) for t in transfers if t.payer not in EXTERNAL]
    payees = [(t.payee, t.amount) for t in transfers if t.payee not in EXTERNAL]
    if payers:
        new[[p for p, _ in payers]] -= [a for _, a in payers]
    if payees:
        new[[p for p, _ in payees]] += [a for _, a in payees]
    return new


@mutant("2.2", "only_payments",
        "Subtracts what rules pay but forgets to add what they receive.")
def _apply_no_receipts(strengths, transfers):
    from course_lib.bucket_brigade import EXTERNAL

    new = strengths.copy()
    for t in transfers:
        if t.payer not in EXTERNAL:
            new[t.payer] -= t.amount
    return new


def _money(initial, final, transfers, *, external=("environment", "tax"), inflow=True,
           outflow=True, sign=1.0):
    from course_lib.bucket_brigade import EXTERNAL

    into = out = 0.0
    for t in transfers:
        if inflow and t.payer in external and t.payee not in EXTERNAL:
            into += t.amount
        if outflow and t.payee in external and t.payer not in EXTERNAL:
            out += t.amount
    change = float(np.sum(final) - np.sum(initial))
    return sign * (change - (into - out))


@mutant("2.3", "mint_counted_as_external",
        "Counts money from MINT as an external inflow; the docstring says MINT is *not* an "
        "external flow: it is what the audit must detect.")
def _money_mint(initial, final, transfers):
    return _money(initial, final, transfers, external=("environment", "tax", "mint"))


@mutant("2.3", "forgets_outflows",
        "Counts only what rules receive from ENVIRONMENT/TAX, not what they pay to them "
        "(the docstring: external flows in either direction).")
def _money_no_out(initial, final, transfers):
    return _money(initial, final, transfers, outflow=False)


@mutant("2.3", "wrong_sign",
        "Returns (external in - out) - change, the opposite sign of the docstring's formula.")
def _money_sign(initial, final, transfers):
    return _money(initial, final, transfers, sign=-1.0)


@mutant("2.3", "trusts_the_books",
        "Adds up the minted amounts in the transfers instead of comparing the strengths, so "
        "money that appears without any transfer goes unnoticed.")
def _money_books(initial, final, transfers):
    from course_lib.bucket_brigade import EXTERNAL, MINT

    return float(sum(t.amount for t in transfers if t.payer == MINT and t.payee not in EXTERNAL))


@mutant("2.3", "counts_rule_to_rule_payments",
        "Counts payments between rules as external inflows; the docstring says they move money "
        "without changing the total.")
def _money_rules(initial, final, transfers):
    from course_lib.bucket_brigade import EXTERNAL

    extra = sum(t.amount for t in transfers if t.payer not in EXTERNAL and t.payee not in EXTERNAL)
    return _money(initial, final, transfers) - extra


@mutant("2.3", "flows_between_external_accounts_count",
        "Counts every payment from ENVIRONMENT/TAX as money in and every payment to them as money "
        "out, also when the other side is not a rule (the docstring: flows between a rule and "
        "ENVIRONMENT or TAX).")
def _money_any_side(initial, final, transfers):
    into = sum(t.amount for t in transfers if t.payer in ("environment", "tax"))
    out = sum(t.amount for t in transfers if t.payee in ("environment", "tax"))
    return float(np.sum(final) - np.sum(initial)) - (into - out)


@mutant("2.4", "stages_reversed",
        "Returns the strengths from the last stage to the first (the richest first); stage 0 "
        "is the one furthest from the reward.")
def _steady_reversed(n_stages, reward, c_bid, tax_rate):
    return reference("2.4")(n_stages, reward, c_bid, tax_rate)[::-1].copy()


@mutant("2.4", "last_stage_ignores_the_tax",
        "Solves c * S_last = reward for the last stage, forgetting that it pays the tax too "
        "(the docstring: its payments, bid and tax, equal its receipts).")
def _steady_last(n_stages, reward, c_bid, tax_rate):
    ratio = c_bid / (c_bid + tax_rate)
    return reward / c_bid * ratio ** np.arange(n_stages - 1, -1, -1)


@mutant("2.4", "exponent_off_by_one",
        "Discounts the last stage too: ratio ** (n - k) instead of ratio ** (n - 1 - k).")
def _steady_exponent(n_stages, reward, c_bid, tax_rate):
    ratio = c_bid / (c_bid + tax_rate)
    return reward / (c_bid + tax_rate) * ratio ** np.arange(n_stages, 0, -1)


@mutant("2.4", "ratio_inverted",
        "Uses (c + tax) / c as the ratio between consecutive stages, so earlier stages are "
        "richer.")
def _steady_inverted(n_stages, reward, c_bid, tax_rate):
    ratio = (c_bid + tax_rate) / c_bid
    return reward / (c_bid + tax_rate) * ratio ** np.arange(n_stages - 1, -1, -1)


# ======================================================================================
# Chapter 3: societies, value iteration, Q-learning
# ======================================================================================


# What the winner receives and pays under each mechanism (the reference's rules).
_UTILITY_TABLE = {"bb": ("next_first", "own"), "v": ("next_first", "second"),
                  "ccv": ("next_second", "second")}


def _utility(mechanism, rewards, gamma, bids, next_bids, next_exists, *, mask=True,
             change=None):
    """The reference's utility, with ``change`` (mechanism -> (receive, pay)) put in."""
    from course_lib.society import top_two

    if mechanism == "env":
        return rewards.copy()
    own, second = top_two(bids)
    next_first, next_second = top_two(next_bids)
    if mask:
        next_first = np.where(next_exists, next_first, 0.0)
        next_second = np.where(next_exists, next_second, 0.0)
    terms = {"own": own, "second": second, "next_first": next_first, "next_second": next_second}
    receive, pay = {**_UTILITY_TABLE, **(change or {})}[mechanism]
    return rewards + gamma * terms[receive] - terms[pay]


@mutant("3.1", "next_terms_not_masked",
        "Keeps the next bids where next_exists is False; the docstring says both next terms are "
        "0 after a terminal state (the TODO: a missing next auction contributes 0).")
def _utility_unmasked(*args):
    return _utility(*args, mask=False)


@mutant("3.1", "ccv_receives_the_highest_next_bid",
        "Lets ccv receive the highest next bid (that is v); the module's table says ccv "
        "receives the second-highest.")
def _utility_ccv_first(*args):
    return _utility(*args, change={"ccv": ("next_first", "second")})


@mutant("3.1", "v_pays_its_own_bid",
        "Makes v pay the winner's own bid (that is bb); the table says v pays the "
        "second-highest bid.")
def _utility_v_own(*args):
    return _utility(*args, change={"v": ("next_first", "own")})


@mutant("3.1", "bb_receives_the_second_next_bid",
        "Lets bb receive the second-highest next bid; the module says the next winner's bid is "
        "the highest next bid, so bb receives the max.")
def _utility_bb_second(*args):
    return _utility(*args, change={"bb": ("next_second", "own")})


@mutant("3.1", "second_price_next_distinct",
        "Takes the second-highest bid as the next lower distinct bid (np.unique), so two tied "
        "top bids do not set the price (chapter 1's tie warning: it is the tied bid).")
def _utility_distinct(mechanism, rewards, gamma, bids, next_bids, next_exists):
    def distinct(b):
        top = b.max(axis=-1, keepdims=True)
        below = np.where(b < top, b, -np.inf).max(axis=-1, keepdims=True)
        out = np.concatenate([top, np.where(np.isfinite(below), below, 0.0)], axis=-1)
        return out if b.shape[-1] > 1 else b

    return _utility(mechanism, rewards, gamma, distinct(bids), distinct(next_bids), next_exists)


@mutant("3.1", "discounts_the_price",
        "Discounts the price as well: gamma * (next term - price).")
def _utility_discount_price(mechanism, rewards, gamma, bids, next_bids, next_exists):
    base = _utility(mechanism, rewards, gamma, bids, next_bids, next_exists)
    if mechanism == "env":
        return base
    price = _utility(mechanism, np.zeros_like(rewards), 0.0, bids, next_bids, next_exists)
    return base - price + gamma * price


@mutant("3.1", "lone_bidder_second_price_is_its_bid",
        "Takes the second-highest bid of a single bidder to be its own bid (np.sort()[..., -2] "
        "wraps round); the module says it is 0.")
def _utility_lone(mechanism, rewards, gamma, bids, next_bids, next_exists):
    def pad(b):
        return np.concatenate([b, b], axis=-1) if b.shape[-1] == 1 else b

    return _utility(mechanism, rewards, gamma, pad(bids), pad(next_bids), next_exists)


@mutant("3.1", "env_returns_the_callers_rewards",
        "Returns the rewards array itself under 'env', so writing into the result changes the "
        "caller's rewards; the hints: 'env' returns a copy of the rewards.")
def _utility_alias(mechanism, rewards, gamma, bids, next_bids, next_exists):
    if mechanism == "env":
        return rewards
    return _utility(mechanism, rewards, gamma, bids, next_bids, next_exists)


def _society(bids, *, divide_by=None, order="C", last_tie=False, price="overall"):
    from course_lib.society import SocietyAuctionOutcome, top_two

    n_primitives, n_clones = bids.shape[-2:]
    table = np.swapaxes(bids, -1, -2) if order == "F" else bids
    flat = table.reshape(*bids.shape[:-2], -1)
    winner = _last_argmax(flat) if last_tie else np.argmax(flat, axis=-1)
    if order == "F":
        clone, primitive = np.divmod(winner, n_primitives)
    else:
        primitive, clone = np.divmod(winner, n_clones if divide_by is None else divide_by)
    if price == "overall":
        _, second = top_two(flat)
    else:  # the second-highest among the primitives' best bids
        _, second = top_two(bids.max(axis=-1))
    return SocietyAuctionOutcome(primitive, clone, second)


@mutant("3.2", "divmod_by_primitives",
        "Recovers (primitive, clone) with divmod by n_primitives instead of n_clones (the hints: "
        "by n_clones, not by n_primitives).")
def _society_divmod(bids):
    return _society(bids, divide_by=bids.shape[-2])


@mutant("3.2", "clone_before_primitive",
        "Flattens clone-major, so a tie goes to the lowest clone before the lowest primitive; "
        "the docstring says lowest primitive, then lowest clone (row-major).")
def _society_order(bids):
    return _society(bids, order="F")


@mutant("3.2", "ties_to_the_last_bid",
        "Gives a tie to the last bidder in row-major order; the docstring says the first.")
def _society_last(bids):
    return _society(bids, last_tie=True)


@mutant("3.2", "price_among_other_primitives",
        "Prices at the second-highest of the primitives' best bids, forgetting that the "
        "runner-up is often the winner's own clone (the docstring: 'often the winner's own "
        "clone').")
def _society_price(bids):
    return _society(bids, price="primitives")


def _vi(mdp, gamma, tol=1e-10, max_iterations=100_000, *, zero_rows=True, zero_rows_at_end=False,
        use_max=True, cap=True, check_first=False):
    q = np.zeros(mdp.transitions.shape)
    steps = range(max_iterations) if cap else iter(int, 1)
    for _ in steps:
        v = q.max(axis=1) if use_max else q.mean(axis=1)
        v[mdp.terminal] = 0.0 if zero_rows else v[mdp.terminal]
        new = mdp.rewards + gamma * v[mdp.transitions]
        if zero_rows:
            new[mdp.terminal] = 0.0
        done = np.max(np.abs(new - q)) < tol
        q = new
        if done or check_first:
            break
    if zero_rows_at_end:
        q[mdp.terminal] = 0.0
    return q


@mutant("3.3", "terminal_rows_kept",
        "Never zeroes the terminal rows (nor their value); the docstring says the rows of "
        "terminal states are 0 and so is the value of a terminal next state.")
def _vi_terminal(mdp, gamma, tol=1e-10, max_iterations=100_000):
    return _vi(mdp, gamma, tol, max_iterations, zero_rows=False)


@mutant("3.3", "terminal_rows_zeroed_only_at_the_end",
        "Zeroes the terminal rows only in the returned table, so their rewards leak into the "
        "values of the states that lead to them (the TODO: terminal states are worth 0; the "
        "hints: zero V at terminal states before using it).")
def _vi_terminal_end(mdp, gamma, tol=1e-10, max_iterations=100_000):
    return _vi(mdp, gamma, tol, max_iterations, zero_rows=False, zero_rows_at_end=True)


@mutant("3.3", "mean_not_max",
        "Backs up the mean over next actions (a random policy's value) instead of the max.")
def _vi_mean(mdp, gamma, tol=1e-10, max_iterations=100_000):
    return _vi(mdp, gamma, tol, max_iterations, use_max=False)


@mutant("3.3", "one_sweep",
        "Stops after the first Bellman update instead of repeating until the change is below "
        "tol.")
def _vi_once(mdp, gamma, tol=1e-10, max_iterations=100_000):
    return _vi(mdp, gamma, tol, max_iterations, check_first=True)


@mutant("3.3", "ignores_max_iterations",
        "Loops until convergence whatever max_iterations says (a while loop on the change "
        "alone); the hints: return the latest table if max_iterations runs out first.")
def _vi_uncapped(mdp, gamma, tol=1e-10, max_iterations=100_000):
    return _vi(mdp, gamma, tol, max_iterations, cap=False)


@mutant("3.4", "one_after_the_other",
        "Applies the transitions one after the other, so later errors see earlier updates; the "
        "docstring says all errors use the *old* table.")
def _q_sequential(q, states, actions, rewards, next_states, next_exists, alpha, gamma):
    new = q.copy()
    for s, a, r, s2, e in zip(states, actions, rewards, next_states, next_exists, strict=True):
        target = r + gamma * (new[s2].max() if e else 0.0)
        new[s, a] += alpha * (target - new[s, a])
    return new


@mutant("3.4", "sum_not_mean",
        "Moves a repeated pair by alpha times the sum of its errors; the docstring says the "
        "**mean** TD error.")
def _q_sum(q, states, actions, rewards, next_states, next_exists, alpha, gamma):
    target = rewards + gamma * np.where(next_exists, q[next_states].max(axis=1), 0.0)
    new = q.copy()
    np.add.at(new, (states, actions), alpha * (target - q[states, actions]))
    return new


@mutant("3.4", "terminal_not_masked",
        "Bootstraps from q[s'] even where next_exists is False; the docstring says the max "
        "term is 0 for a terminal s'.")
def _q_unmasked(q, states, actions, rewards, next_states, next_exists, alpha, gamma):
    return reference("3.4")(q, states, actions, rewards, next_states,
                            np.ones_like(next_exists), alpha, gamma)


@mutant("3.4", "fancy_index_drops_repeats",
        "Updates with new[states, actions] += alpha * error (fancy indexing), so only one "
        "transition of a repeated pair counts (the TODO: a batch may visit the same pair more "
        "than once; the hints name this pitfall).")
def _q_buffered(q, states, actions, rewards, next_states, next_exists, alpha, gamma):
    target = rewards + gamma * np.where(next_exists, q[next_states].max(axis=1), 0.0)
    new = q.copy()
    new[states, actions] += alpha * (target - q[states, actions])
    return new


@mutant("3.4", "changes_q_in_place",
        "Updates q itself and returns it; the docstring says q is not modified.")
def _q_in_place(q, states, actions, rewards, next_states, next_exists, alpha, gamma):
    new = reference("3.4")(q, states, actions, rewards, next_states, next_exists, alpha, gamma)
    q[...] = new
    return q


# ======================================================================================
# Chapter 4: PPO, options, transfer
# ======================================================================================


def _gae(rewards, values, dones, last_values, gamma, lam, *, mask_bootstrap=True,
         mask_running=True, gamma_shift=0, done_shift=0, returns_plus_values=True):
    T = rewards.shape[0]
    advantages = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1])
    next_value = last_values
    for t in range(T - 1, -1, -1):
        d = dones[min(t + done_shift, T - 1)] if done_shift else dones[t]
        alive = 1.0 - d
        g = gamma[min(t + gamma_shift, T - 1)]
        delta = rewards[t] + g * next_value * (alive if mask_bootstrap else 1.0) - values[t]
        running = delta + g * lam * (alive if mask_running else 1.0) * running
        advantages[t] = running
        next_value = values[t]
    return advantages, (advantages + values if returns_plus_values else advantages.copy())


@mutant("4.1", "bootstrap_not_masked",
        "Bootstraps V(s_{t+1}) across the end of an episode; the docstring: nothing is "
        "bootstrapped across a done (delta has the factor 1 - done_t).")
def _gae_bootstrap(*args):
    return _gae(*args, mask_bootstrap=False)


@mutant("4.1", "running_advantage_not_cut",
        "Cuts the bootstrap at a done but not the running advantage A_{t+1}; the docstring's "
        "recursion has (1 - done_t) in both, and the TODO says nothing may be carried across a "
        "done.")
def _gae_running(*args):
    return _gae(*args, mask_running=False)


@mutant("4.1", "discount_of_the_next_step",
        "Discounts step t with gamma[t + 1]; the docstring says gamma[t] discounts V(s_{t+1}) "
        "and the advantage of step t + 1.")
def _gae_gamma(*args):
    return _gae(*args, gamma_shift=1)


@mutant("4.1", "done_read_one_step_late",
        "Reads the done flag of step t + 1 for step t; the docstring says dones[t] is True when "
        "the episode ended *at* step t.")
def _gae_done(*args):
    return _gae(*args, done_shift=1)


@mutant("4.1", "returns_without_values",
        "Returns the advantages as the value targets, forgetting returns = A + values.")
def _gae_returns(*args):
    return _gae(*args, returns_plus_values=False)


@mutant("4.1", "walks_forwards",
        "Runs the recursion forwards in time instead of backwards from t = T - 1.")
def _gae_forwards(rewards, values, dones, last_values, gamma, lam):
    T = rewards.shape[0]
    advantages = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1])
    for t in range(T):
        alive = 1.0 - dones[t]
        next_value = values[t + 1] if t + 1 < T else last_values
        delta = rewards[t] + gamma[t] * next_value * alive - values[t]
        running = delta + gamma[t] * lam * alive * running
        advantages[t] = running
    return advantages, advantages + values


def _surrogate(new_log_prob, old_log_prob, advantages, clip, *, combine="min", sign=-1.0,
               ratio="exp", clamp="ratio", reduce="mean"):
    import torch

    if ratio == "exp":
        r = torch.exp(new_log_prob - old_log_prob)
    elif ratio == "inverted":
        r = torch.exp(old_log_prob - new_log_prob)
    else:
        r = new_log_prob - old_log_prob
    unclipped = r * advantages
    if clamp == "ratio":
        clipped = torch.clamp(r, 1.0 - clip, 1.0 + clip) * advantages
    else:
        clipped = torch.clamp(r * advantages, 1.0 - clip, 1.0 + clip)
    pick = torch.min(unclipped, clipped) if combine == "min" else torch.max(unclipped, clipped)
    total = pick.mean() if reduce == "mean" else pick.sum()
    return sign * total


@mutant("4.1", "last_values_ignored",
        "Starts the backward pass from V(s_T) = 0 instead of last_values (the docstring: "
        "last_values is V(s_T) of the state after the last step).")
def _gae_no_last(rewards, values, dones, last_values, gamma, lam):
    return _gae(rewards, values, dones, np.zeros_like(last_values), gamma, lam)


@mutant("4.2", "max_not_min",
        "Takes the elementwise max of the two surrogate terms; the docstring says the min.")
def _loss_max(*args):
    return _surrogate(*args, combine="max")


@mutant("4.2", "no_minus_sign",
        "Returns the objective itself; the loss to be minimised is minus the mean.")
def _loss_sign(*args):
    return _surrogate(*args, sign=1.0)


@mutant("4.2", "log_ratio",
        "Uses new_log_prob - old_log_prob as the ratio, forgetting the exp.")
def _loss_log_ratio(*args):
    return _surrogate(*args, ratio="log")


@mutant("4.2", "ratio_upside_down",
        "Uses exp(old - new), the inverse of the probability ratio.")
def _loss_inverted(*args):
    return _surrogate(*args, ratio="inverted")


@mutant("4.2", "clamps_the_product",
        "Clamps ratio * A instead of the ratio alone.")
def _loss_clamp_product(*args):
    return _surrogate(*args, clamp="product")


@mutant("4.2", "sum_not_mean",
        "Sums over the batch; the docstring says the loss is averaged over the batch.")
def _loss_sum(*args):
    return _surrogate(*args, reduce="sum")


@mutant("4.2", "gradient_cut",
        "Computes the loss from detached tensors, so no gradient reaches new_log_prob; the "
        "docstring and the TODO say gradients must flow through new_log_prob.")
def _loss_detached(new_log_prob, old_log_prob, advantages, clip):
    return _surrogate(new_log_prob.detach(), old_log_prob, advantages, clip)


def _option(rewards, durations, gamma, bids, next_bids, next_exists, *, mask="lt", next_power="tau",
            first_power=0, next_term="second", use_exists=True):
    from course_lib.society import top_two

    steps = np.arange(rewards.shape[-1])
    keep = {"lt": steps < durations[..., None], "le": steps <= durations[..., None],
            "all": np.ones(rewards.shape, bool)}[mask]
    earned = np.where(keep, rewards * gamma ** (steps + first_power), 0.0).sum(axis=-1)
    _, price = top_two(bids)
    first, second = top_two(next_bids)
    nxt = second if next_term == "second" else first
    power = {"tau": durations, "one": np.ones_like(durations), "tau-1": durations - 1}[next_power]
    later = gamma ** power * nxt
    if use_exists:
        later = np.where(next_exists, later, 0.0)
    return earned + later - price


@mutant("4.2", "clips_only_above",
        "Clamps the ratio at 1 + clip only, forgetting the lower bound 1 - clip.")
def _loss_upper(new_log_prob, old_log_prob, advantages, clip):
    import torch

    ratio = torch.exp(new_log_prob - old_log_prob)
    clipped = torch.clamp(ratio, max=1.0 + clip) * advantages
    return -torch.min(ratio * advantages, clipped).mean()


@mutant("4.3", "padding_counted",
        "Adds up every reward of the row, padding included; the docstring and the notebook say "
        "only the first tau count.")
def _option_padding(*args):
    return _option(*args, mask="all")


@mutant("4.3", "one_step_too_many",
        "Keeps the rewards with j <= tau instead of j < tau.")
def _option_le(*args):
    return _option(*args, mask="le")


@mutant("4.3", "next_bid_discounted_once",
        "Discounts the next auction by gamma instead of gamma**tau, tau the option's duration "
        "(the docstring's formula has gamma**tau * 2nd-max(next_bids)).")
def _option_gamma_once(*args):
    return _option(*args, next_power="one")


@mutant("4.3", "discount_starts_at_gamma",
        "Discounts the first reward already (gamma**(j + 1)); the formula starts at gamma**0.")
def _option_first(*args):
    return _option(*args, first_power=1)


@mutant("4.3", "receives_the_highest_next_bid",
        "Receives the highest next bid (chapter 3's v) instead of the second-highest (ccv).")
def _option_first_next(*args):
    return _option(*args, next_term="first")


@mutant("4.3", "terminal_next_state_pays",
        "Keeps the next term where next_exists is False; the docstring says it is then 0.")
def _option_exists(*args):
    return _option(*args, use_exists=False)


@mutant("4.4", "mean_of_per_tensor_fractions",
        "Averages the fractions of the tensors; the docstring says to count over every "
        "parameter together (a large layer weighs more than a small one).")
def _shift_mean(before, after, threshold):
    return float(np.mean([np.mean(np.abs(after[k] - before[k]) > threshold) for k in before]))


@mutant("4.4", "at_least_the_threshold",
        "Counts changes of at least the threshold (>=); the docstring says those that exceed it "
        "(>).")
def _shift_ge(before, after, threshold):
    moved = sum(int((np.abs(after[k] - before[k]) >= threshold).sum()) for k in before)
    return moved / sum(before[k].size for k in before)


@mutant("4.4", "signed_change",
        "Compares after - before with the threshold, forgetting the absolute value, so weights "
        "that fell never count.")
def _shift_signed(before, after, threshold):
    moved = sum(int((after[k] - before[k] > threshold).sum()) for k in before)
    return moved / sum(before[k].size for k in before)


@mutant("4.4", "count_not_fraction",
        "Returns the number of moved scalars instead of their fraction.")
def _shift_count(before, after, threshold):
    return float(sum(int((np.abs(after[k] - before[k]) > threshold).sum()) for k in before))


@mutant("4.4", "pairs_by_position",
        "Pairs the parameters of before and after by their order (zip of the values) instead of "
        "by name (the hints: the two dicts may list them in different orders).")
def _shift_zip(before, after, threshold):
    pairs = list(zip(before.values(), after.values(), strict=True))
    moved = sum(int((np.abs(a - b) > threshold).sum()) for b, a in pairs)
    return moved / sum(b.size for b, _ in pairs)


# ======================================================================================
# Chapter 5: the MNIST canvas
# ======================================================================================


@mutant("5.1", "no_channel_axis",
        "Returns (N, size, size), forgetting the channel axis the docstring asks for "
        "(N, 1, size, size).")
def _canvas_no_channel(images, size=64):
    import torch.nn.functional as F

    pad = (size - 28) // 2
    return F.pad(images, (pad, pad, pad, pad))


@mutant("5.1", "digit_off_centre_by_one",
        "Puts the digit one pixel right and down of the docstring's top-left corner "
        "((size - 28) // 2, (size - 28) // 2).")
def _canvas_off_by_one(images, size=64):
    import torch.nn.functional as F

    pad = (size - 28) // 2
    return F.pad(images, (pad + 1, pad - 1, pad + 1, pad - 1))[:, None]


@mutant("5.1", "margin_slice_breaks_at_size_28",
        "Copies the digits into canvas[..., m:-m, m:-m], which is empty for a margin m = 0 "
        "(size 28); the hints: it should also work for size = 28.")
def _canvas_slice(images, size=64):
    import torch

    m = (size - 28) // 2
    canvas = torch.zeros(images.shape[0], 1, size, size)
    canvas[:, 0, m:-m, m:-m] = images
    return canvas


@mutant("5.1", "stacks_a_loop_over_images",
        "Pads the digits one by one and stacks the list, which fails for an empty batch; the "
        "hints: it should also work for N = 0.")
def _canvas_loop(images, size=64):
    import torch
    import torch.nn.functional as F

    m = (size - 28) // 2
    return torch.stack([F.pad(image, (m, m, m, m))[None] for image in images])


@mutant("5.1", "canvas_always_64",
        "Ignores size and always makes a 64 x 64 canvas.")
def _canvas_fixed(images, size=64):
    import torch.nn.functional as F

    return F.pad(images, (18, 18, 18, 18))[:, None]


@mutant("5.1", "digit_transposed",
        "Copies the digit transposed (rows and columns swapped) into the canvas.")
def _canvas_transposed(images, size=64):
    return reference("5.1")(images.transpose(-1, -2), size)


def _theta(angles, shifts, *, invert=True, radians=True, offset="rotated", sign=1.0):
    import math

    import torch

    a = angles * (math.pi / 180.0) if radians else angles
    cos, sin = torch.cos(a), torch.sin(a) * sign
    r = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)  # R
    m = r.transpose(-1, -2) if invert else r
    if offset == "rotated":
        t = -(m @ shifts[..., None])
    elif offset == "elementwise":  # the diagonal of R^-1 times t, not the product
        t = -(torch.diagonal(m, dim1=-2, dim2=-1) * shifts)[..., None]
    elif offset == "minus":
        t = -shifts[..., None]
    else:
        t = shifts[..., None]
    return torch.cat([m, t], -1).float()


@mutant("5.2", "forward_matrix",
        "Builds [R | t], the motion itself; the docstring and the notebook warn that "
        "affine_grid maps output pixels back to inputs, so theta = [R^-1 | -R^-1 t].")
def _theta_forward(angles, shifts):
    return _theta(angles, shifts, invert=False, offset="plus")


@mutant("5.2", "degrees_as_radians",
        "Passes the angles to cos and sin in degrees; the docstring and the TODO say the angles "
        "are in degrees, and cos and sin want radians.")
def _theta_degrees(angles, shifts):
    return _theta(angles, shifts, radians=False)


@mutant("5.2", "clockwise",
        "Uses the y-up rotation matrix, which turns the picture clockwise on a y-down canvas "
        "(the docstring gives R for y pointing down).")
def _theta_clockwise(angles, shifts):
    return _theta(angles, shifts, sign=-1.0)


@mutant("5.2", "shift_not_rotated",
        "Uses -t as the offset instead of -R^-1 t, which shifts before rotating; the docstring "
        "says rotate, then shift.")
def _theta_shift_first(angles, shifts):
    return _theta(angles, shifts, offset="minus")


@mutant("5.2", "offset_elementwise",
        "Multiplies R^-1 and t elementwise (its diagonal times t) instead of as a matrix and a "
        "vector; the hints: a matrix-vector product, not an elementwise one.")
def _theta_elementwise(angles, shifts):
    return _theta(angles, shifts, offset="elementwise")


@mutant("5.2", "shift_sign",
        "Uses +R^-1 t as the offset, which moves the content the opposite way.")
def _theta_shift_sign(angles, shifts):
    import torch

    theta = _theta(angles, shifts)
    return torch.cat([theta[..., :2], -theta[..., 2:]], -1)


@mutant("5.2", "float64",
        "Returns float64 matrices; the docstring (and the TODO) say float32.")
def _theta_float64(angles, shifts):
    return _theta(angles, shifts).double()


@mutant("5.3", "first_primitive_for_all",
        "Applies the first image's primitive to the whole batch instead of one primitive per "
        "image (a single choice broadcast to the batch).")
def _primitives_first(images, primitive_ids):
    from course_lib.envs.mnist_canvas import primitive_thetas, transform

    theta = primitive_thetas()[primitive_ids[:1]].expand(len(primitive_ids), 2, 3)
    return transform(images, theta)


@mutant("5.3", "ids_off_by_one",
        "Indexes the table with primitive_ids + 1 (mod 6), as if ids counted from 1.")
def _primitives_shifted(images, primitive_ids):
    from course_lib.envs.mnist_canvas import primitive_thetas, transform

    return transform(images, primitive_thetas()[(primitive_ids + 1) % 6])


@mutant("5.3", "input_transformations",
        "Gathers from the table of the eight input transformations instead of the six "
        "primitives.")
def _primitives_inputs(images, primitive_ids):
    from course_lib.envs.mnist_canvas import input_thetas, transform

    return transform(images, input_thetas()[primitive_ids])


def _reward(classifier, images, labels, *, evaluate=True, no_grad=True, restore="previous"):
    import contextlib

    import torch

    was_training = classifier.training
    if evaluate:
        classifier.eval()
    with torch.no_grad() if no_grad else contextlib.nullcontext():
        predicted = classifier(images).argmax(-1)
    if restore == "previous":
        classifier.train(was_training)
    elif restore == "train":
        classifier.train()
    return (predicted == labels).float().detach()


@mutant("5.4", "train_mode",
        "Evaluates the classifier in whatever mode it is in (training: dropout on); the "
        "docstring says evaluation mode.")
def _reward_train(*args):
    return _reward(*args, evaluate=False)


@mutant("5.4", "mode_not_restored",
        "Leaves the classifier in evaluation mode; the docstring says leave its mode as you "
        "found it.")
def _reward_left_eval(*args):
    return _reward(*args, restore="none")


@mutant("5.4", "always_back_to_train",
        "Switches the classifier back to training mode at the end, even when it was in "
        "evaluation mode (the docstring: leave its mode as you found it; the hints: a bare "
        ".train() would be wrong).")
def _reward_to_train(*args):
    return _reward(*args, restore="train")


@mutant("5.4", "tracks_gradients",
        "Runs the classifier with gradient tracking on; the docstring says evaluate it "
        "without tracking gradients (torch.no_grad).")
def _reward_grad(*args):
    return _reward(*args, no_grad=False)


@mutant("5.4", "returns_booleans",
        "Returns the comparison as booleans; the docstring says float32 1.0 / 0.0.")
def _reward_bool(classifier, images, labels):
    return _reward(classifier, images, labels).bool()


# ======================================================================================
# Chapter 6: the wireless network
# ======================================================================================


@mutant("6.1", "drops_identity",
        "Leaves i itself out of the one-hop relation, so a user with no access point loses "
        "itself from its neighbourhood; the docstring and the TODO say every user is in its own "
        "neighbourhood, also without any access point.")
def _hoods_no_identity(access, k):
    one_hop = (access.astype(int) @ access.T.astype(int)) > 0
    reach = np.eye(access.shape[0], dtype=bool)
    for _ in range(k):
        reach = (reach.astype(int) @ one_hop.astype(int)) > 0
    return reach


@mutant("6.1", "one_hop_too_many",
        "Grows the neighbourhood k + 1 times instead of k.")
def _hoods_extra(access, k):
    return reference("6.1")(access, k + 1)


@mutant("6.1", "one_hop_too_few",
        "Grows the neighbourhood k - 1 times (an off-by-one in the loop), so k hops reach only "
        "k - 1.")
def _hoods_fewer(access, k):
    return reference("6.1")(access, max(k - 1, 0))


def _int_one_hop(access):
    """The one-hop relation with the identity as int64 counts (the three mutants below)."""
    return (access.astype(np.int64) @ access.T.astype(np.int64)
            + np.eye(access.shape[0], dtype=np.int64))


@mutant("6.1", "counts_walks_without_thresholding",
        "Multiplies integer matrices k times and compares with 0 only at the end; the counts "
        "of walks overflow int64 for large k (the hints: with ints, compare with 0 after each "
        "product).")
def _hoods_counts(access, k):
    one_hop = _int_one_hop(access)
    reach = np.eye(access.shape[0], dtype=np.int64)
    for _ in range(k):
        reach = reach @ one_hop
    return reach > 0


@mutant("6.1", "matrix_power_of_path_counts",
        "Raises the integer one-hop matrix (identity included) to the power k with "
        "np.linalg.matrix_power and compares with 0 once: the path counts overflow int64 on "
        "the chapter's 24-user grid from k = 15 on, and wrapped counts read as 'not reached' "
        "(the hints: with ints, compare with 0 after each product).")
def _hoods_matrix_power(access, k):
    return np.linalg.matrix_power(_int_one_hop(access), k) > 0


@mutant("6.1", "path_counts_cast_to_bool",
        "Counts paths with integer matrix products and casts the counts to bool once at the "
        "end: counts that wrap around int64 to exactly 0 (2**64 walks of a user alone at its "
        "access point, for k = 64) read as 'not reached' (the hints: with ints, compare with 0 "
        "after each product).")
def _hoods_counts_bool(access, k):
    return np.linalg.matrix_power(_int_one_hop(access), k).astype(bool)


@mutant("6.1", "no_growth_beyond_one_hop",
        "Returns the one-hop relation for every k >= 1, forgetting to grow it k times (the "
        "docstring: every user reachable in at most k hops).")
def _hoods_one(access, k):
    if k == 0:
        return np.eye(access.shape[0], dtype=bool)
    return reference("6.1")(access, 1)


def _aloha(queues, weights, p_send, rng, *, slot="lowest", require_packet=True,
           per_copy=True, encode="slot_major", use_weights=True):
    from course_lib.envs.wireless import MAX_REACH

    copies, users, d = queues.shape
    has_packet = queues.any(-1)
    if slot == "lowest":
        chosen = queues.argmax(-1)
    elif slot == "two":  # written for the default d = 2 only
        chosen = np.where(queues[..., 0] > 0, 0, 1)
    else:
        chosen = d - 1 - queues[..., ::-1].argmax(-1)
    shape = has_packet.shape if per_copy else (1, users)
    send = rng.random(shape) < p_send
    if require_packet:
        send = send & has_packet
    u = rng.random(shape)[..., None]
    if use_weights:
        r = np.minimum((u >= np.cumsum(weights, -1)[None]).sum(-1), MAX_REACH - 1)
    else:
        r = np.minimum((u * MAX_REACH).astype(int)[..., 0], MAX_REACH - 1)
    r = np.broadcast_to(r, has_packet.shape)
    send = np.broadcast_to(send, has_packet.shape)
    action = 1 + chosen * MAX_REACH + r if encode == "slot_major" else 1 + r * d + chosen
    return np.where(send, action, 0)


@mutant("6.2", "highest_slot",
        "Sends the packet in the highest occupied slot (the least urgent); the docstring says "
        "the lowest occupied slot, the fewest steps left.")
def _aloha_highest(*args):
    return _aloha(*args, slot="highest")


@mutant("6.2", "sends_without_a_packet",
        "Draws the send decision for every user, also those with no packet (argmax gives slot 0 "
        "for an empty queue); the docstring says only a user with a packet sends.")
def _aloha_empty(*args):
    return _aloha(*args, require_packet=False)


@mutant("6.2", "one_draw_for_every_copy",
        "Draws one decision per user and broadcasts it to every network copy, instead of one "
        "per copy and user.")
def _aloha_shared(*args):
    return _aloha(*args, per_copy=False)


@mutant("6.2", "encoding_swapped",
        "Encodes the action as 1 + r * d + slot instead of the docstring's 1 + slot * 4 + r.")
def _aloha_encoding(*args):
    return _aloha(*args, encode="ap_major")


@mutant("6.2", "access_point_uniform",
        "Picks the access point uniformly, ignoring weights (the docstring: the r-th with "
        "probability weights[i, r]).")
def _aloha_uniform(*args):
    return _aloha(*args, use_weights=False)


@mutant("6.2", "assumes_two_slots",
        "Picks slot 0 if it holds a packet and slot 1 otherwise, which is right only for the "
        "default deadline d = 2; the docstring's queues have any number d of slots.")
def _aloha_two(*args):
    return _aloha(*args, slot="two")


@mutant("6.2", "ignores_the_rng",
        "Draws from numpy's global generator instead of the rng argument, so the same rng "
        "does not give the same actions (the TODO: every random draw comes from rng).")
def _aloha_global(queues, weights, p_send, rng):
    return _aloha(queues, weights, p_send, np.random)  # np.random.random(shape), unseeded


@mutant("6.3", "sum_not_mean",
        "Moves each entry towards the sum of its targets; the docstring says the mean target.")
def _td_sum(values, index, rewards, next_values, gamma, lr):
    counts = np.bincount(index, minlength=len(values))
    sums = np.bincount(index, weights=rewards + gamma * next_values, minlength=len(values))
    out = values.copy()
    seen = counts > 0
    out[seen] += lr * (sums[seen] - values[seen])
    return out


@mutant("6.3", "one_after_the_other",
        "Applies the samples one after the other (each moving lr of the way), instead of one "
        "step towards the batch's mean target.")
def _td_sequential(values, index, rewards, next_values, gamma, lr):
    out = values.copy()
    for e, r, v in zip(index, rewards, next_values, strict=True):
        out[e] += lr * (r + gamma * v - out[e])
    return out


@mutant("6.3", "fancy_index_drops_repeats",
        "Updates with out[index] += lr * (target - values[index]) (fancy indexing), so only one "
        "sample of a repeated entry counts.")
def _td_buffered(values, index, rewards, next_values, gamma, lr):
    out = values.copy()
    out[index] += lr * (rewards + gamma * next_values - values[index])
    return out


@mutant("6.3", "unvisited_entries_move",
        "Moves every entry, also those not visited (towards 0); the docstring says entries not "
        "visited keep their value.")
def _td_unvisited(values, index, rewards, next_values, gamma, lr):
    counts = np.bincount(index, minlength=len(values))
    sums = np.bincount(index, weights=rewards + gamma * next_values, minlength=len(values))
    return values + lr * (sums / np.maximum(counts, 1) - values)


@mutant("6.3", "changes_the_input",
        "Updates values in place; the docstring says it returns a new table and leaves values "
        "unchanged.")
def _td_in_place(values, index, rewards, next_values, gamma, lr):
    values[...] = reference("6.3")(values, index, rewards, next_values, gamma, lr)
    return values


@mutant("6.3", "bincount_without_minlength",
        "Counts with np.bincount(index) without minlength, so the tables end at the highest "
        "visited entry and an unvisited last entry (or an empty batch) breaks the update; the "
        "hints: minlength equal to the table's length.")
def _td_short(values, index, rewards, next_values, gamma, lr):
    counts = np.bincount(index)
    sums = np.bincount(index, weights=rewards + gamma * next_values)
    out = values.copy()
    seen = counts > 0  # shorter than the table unless its last entry was visited
    out[seen] += lr * (sums[seen] / counts[seen] - values[seen])
    return out


def _pg(probs, states, actions, weights, *, divide="episodes", sign=1.0, buffered=False,
        user_probs="own"):
    n, n_states, n_actions = probs.shape
    grad = np.zeros_like(probs)
    episodes, steps, _ = states.shape
    users = np.broadcast_to(np.arange(n), states.shape)
    onehot = np.eye(n_actions)[actions]
    p = probs[users, states] if user_probs == "own" else probs[0][states]
    term = sign * weights[..., None] * (onehot - p)
    if buffered:
        grad[users, states] += term
    else:
        np.add.at(grad, (users, states), term)
    scale = {"episodes": episodes, "samples": episodes * steps, "none": 1,
             "users": episodes * n}[divide]
    return grad / scale


@mutant("6.4", "sum_over_episodes",
        "Sums over the episodes too; the docstring and the TODO say the result averages over "
        "episodes.")
def _pg_sum(*args):
    return _pg(*args, divide="none")


@mutant("6.4", "mean_over_steps_too",
        "Averages over steps as well as episodes; the docstring says it sums over steps.")
def _pg_mean_steps(*args):
    return _pg(*args, divide="samples")


@mutant("6.4", "divides_by_the_users",
        "Includes the paper's factor 1/n (n users); the notebook says the course follows the "
        "gradient of the total, without it.")
def _pg_users(*args):
    return _pg(*args, divide="users")


@mutant("6.4", "probs_minus_onehot",
        "Flips the sign of the score: probs - onehot(a).")
def _pg_sign(*args):
    return _pg(*args, sign=-1.0)


@mutant("6.4", "fancy_index_drops_repeats",
        "Accumulates with grad[i, s] += term (fancy indexing), so repeated (user, state) rows "
        "count once (the TODO: rows repeat, so accumulate with care; the hints: a fancy-indexed "
        "+= drops the repeats).")
def _pg_buffered(*args):
    return _pg(*args, buffered=True)


@mutant("6.4", "first_users_policy_for_all",
        "Subtracts user 0's probabilities for every user (probs[0, s]) instead of user i's "
        "own probs[i, s].")
def _pg_user0(*args):
    return _pg(*args, user_probs="first")


@mutant("6.5", "signed_difference",
        "Averages q_base - q_perturbed without the absolute value the docstring asks for.")
def _sens_signed(q_base, q_perturbed, hops, max_hops):
    gap = q_base - q_perturbed
    return np.array([gap[hops == h].mean() if (hops == h).any() else np.nan
                     for h in range(1, max_hops + 1)])


@mutant("6.5", "zero_where_no_sample",
        "Returns 0 for a distance with no sample; the docstring says NaN.")
def _sens_zero(q_base, q_perturbed, hops, max_hops):
    return np.nan_to_num(reference("6.5")(q_base, q_perturbed, hops, max_hops), nan=0.0)


@mutant("6.5", "hops_counted_from_zero",
        "Puts distance h at entry h instead of h - 1 (hops counted from 0).")
def _sens_offset(q_base, q_perturbed, hops, max_hops):
    gap = np.abs(q_base - q_perturbed)
    return np.array([gap[hops == h].mean() if (hops == h).any() else np.nan
                     for h in range(max_hops)])


@mutant("6.5", "far_samples_in_the_last_entry",
        "Clips the hop distances at max_hops, so samples farther away land in the last entry; "
        "the docstring says they are ignored (the TODO: mind those beyond max_hops).")
def _sens_clipped(q_base, q_perturbed, hops, max_hops):
    return reference("6.5")(q_base, q_perturbed, np.minimum(hops, max_hops), max_hops)


@mutant("6.5", "sum_not_mean",
        "Adds up the absolute differences at each distance instead of averaging them.")
def _sens_sum(q_base, q_perturbed, hops, max_hops):
    gap = np.abs(q_base - q_perturbed)
    return np.array([gap[hops == h].sum() if (hops == h).any() else np.nan
                     for h in range(1, max_hops + 1)])


@mutant("6.5", "bincount_without_minlength",
        "Groups with np.bincount(hops) and slices 1..max_hops, which comes out short when no "
        "sample lies at the largest distances (the hints: slice after counting, with NaN where "
        "a distance has no sample).")
def _sens_short(q_base, q_perturbed, hops, max_hops):
    counts = np.bincount(hops)[1:max_hops + 1]
    sums = np.bincount(hops, weights=np.abs(q_base - q_perturbed))[1:max_hops + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def _linear(weights, index, features, rewards, next_values, gamma, lr, *, sequential=False,
            norm="squares", scale="per_feature", guard="norm", minlength=True):
    rows, n_features = weights.shape
    if not minlength:  # the tables end at the highest visited row
        rows = int(index.max()) + 1 if len(index) else 0
    new = weights.copy()
    current = weights
    for f in range(n_features):
        source = new if sequential else current
        predictions = (source[index] * features).sum(axis=1)
        delta = rewards + gamma * next_values - predictions
        x = features[:, f]
        denominator = {"squares": x**2, "plain": x, "count": np.ones_like(x)}[norm]
        total = np.bincount(index, weights=denominator, minlength=rows)
        visited = np.bincount(index, minlength=rows) > 0
        moved = total > 0 if guard == "norm" else visited
        step = np.bincount(index, weights=delta * x, minlength=rows)
        with np.errstate(invalid="ignore", divide="ignore"):
            change = step[moved] / total[moved]
        factor = lr / n_features if scale == "per_feature" else lr
        new[moved, f] = new[moved, f] + factor * change
    return new


@mutant("6.6", "predictions_from_updated_weights",
        "Recomputes the predictions with the weights already moved for earlier features; the "
        "TODO says all TD errors first, from the weights as given.")
def _linear_sequential(*args):
    return _linear(*args, sequential=True)


@mutant("6.6", "divides_by_the_count",
        "Divides the sum of delta * x by the number of samples of the row instead of the sum of "
        "x squared.")
def _linear_count(*args):
    return _linear(*args, norm="count")


@mutant("6.6", "divides_by_the_sum_of_features",
        "Divides by the sum of the features instead of the sum of their squares.")
def _linear_plain(*args):
    return _linear(*args, norm="plain")


@mutant("6.6", "forgets_one_over_F",
        "Moves the weights by lr times the ratio, forgetting the 1 / F of the docstring's "
        "lr / F.")
def _linear_scale(*args):
    return _linear(*args, scale="full")


@mutant("6.6", "silent_features_move",
        "Divides wherever the row was visited, so a feature that was 0 in all of its row's "
        "samples gets 0 / 0; the docstring says such a weight keeps its value.")
def _linear_guard(*args):
    return _linear(*args, guard="visited")


@mutant("6.6", "bincount_without_minlength",
        "Sums per row with np.bincount(index) without minlength, so the tables end at the "
        "highest visited row (the hints: np.bincount over index with minlength E).")
def _linear_short(*args):
    return _linear(*args, minlength=False)


@mutant("6.6", "changes_the_input",
        "Moves the weights in place and returns them; the docstring says weights itself is left "
        "unchanged.")
def _linear_in_place(weights, index, features, rewards, next_values, gamma, lr):
    weights[...] = reference("6.6")(weights, index, features, rewards, next_values, gamma, lr)
    return weights
