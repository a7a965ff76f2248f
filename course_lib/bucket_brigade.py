"""Holland's bucket brigade: an economy of rules that pass credit backwards.

A population of rules, each with a **strength** ``S`` (its money). At every step of an
episode the rules whose condition matches the current state are *eligible*; each bids
``B = c_bid * S``. The highest bidder acts, pays its bid to the rule that acted before it
(its **supplier**; the environment supplies the first state), and pays a tax ``tax_rate * S``.
Later it is paid, in turn, by the rule that acts after it, and the environment pays the
external reward to whichever rule earns it. So money flows backwards along the chain of
rules that led to a reward, like credit in temporal-difference learning.

Every payment goes through a :class:`Ledger`, a double-entry book: money moves between
accounts and is never made or lost in a transfer. Creating money needs an explicit
``mint``, which the ledger records, so a mechanism that creates money cannot hide it.

The task here is a **production line** of ``n_stages`` stages. At every stage three rules
compete: *assemble* moves the work to the next stage (the last assembly delivers the product
and earns the reward), *dawdle* keeps it at the same stage, and *scrap* throws it away (the
episode ends with nothing). Episodes last at most ``3 * n_stages`` steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import check_seed
from .contracts import Array, ListOf, Number, Record, shape_of
from .exercises import exercise
from .validation import (
    MAX_ELEMENTS,
    as_float_array,
    as_list_of,
    check_callback,
    check_choice,
    check_float,
    check_int,
    check_size,
)

ENVIRONMENT = "environment"  # pays rewards; supplies (and is paid for) each episode's first state
TAX = "tax"  # collects taxes
MINT = "mint"  # the only source of new money; every use is recorded as money created
EXTERNAL = (ENVIRONMENT, TAX, MINT)
KINDS = ("bid", "tax", "reward", "mint")
PRICING = ("first", "second")
RULE_KINDS = ("assemble", "dawdle", "scrap")


@dataclass(frozen=True)
class Transfer:
    """One payment: ``amount >= 0`` moves from ``payer`` to ``payee``.

    Payers and payees are rule indices (ints) or one of ``ENVIRONMENT``, ``TAX``, ``MINT``.
    ``kind`` is one of ``"bid"``, ``"tax"``, ``"reward"``, ``"mint"``.
    """

    payer: int | str
    payee: int | str
    amount: float
    kind: str

    def __post_init__(self) -> None:
        for name, side in (("payer", self.payer), ("payee", self.payee)):
            if not ((isinstance(side, str) and side in EXTERNAL)
                    or (isinstance(side, (int, np.integer)) and not isinstance(side, bool)
                        and side >= 0)):
                raise ValueError(f"{name}: accounts are rule indices >= 0 or one of "
                                 f"{EXTERNAL}, got {side!r:.80}")
        check_choice("kind", self.kind, KINDS)
        amount = check_float("amount", self.amount, non_negative=True)
        object.__setattr__(self, "amount", amount)
        if (self.payer == MINT) != (self.kind == "mint"):
            raise ValueError("only the mint (payer 'mint') pays transfers of kind 'mint', and it "
                             "pays no other")
        if self.payee == MINT:
            raise ValueError("nobody pays the mint: money can be created, not silently destroyed")


# --------------------------------------------------------------------------------------
# Exercises
# --------------------------------------------------------------------------------------


def _check_step_args(strengths: Any, eligible: Any, winner: Any, supplier: Any, reward: Any,
                     c_bid: Any, tax_rate: Any, pricing: Any = "first") -> dict[str, Any]:
    s = as_float_array(strengths, "strengths", finite=True)
    if s.ndim != 1 or (s < 0).any():
        raise ValueError(f"strengths must be a 1-D array of non-negative numbers, got {s}")
    if isinstance(eligible, (str, bytes)) or not hasattr(eligible, "__iter__"):
        raise TypeError(f"eligible must be a list of rule indices, got {eligible!r}")
    elig = [check_int("eligible rule", e, 0) for e in eligible]
    if not elig or max(elig) >= s.size or len(set(elig)) != len(elig):
        raise ValueError(f"eligible must list distinct rule indices in [0, {s.size}) (rules of "
                         f"strengths), got {elig}")
    winner = check_int("winner", winner, 0)
    if winner not in elig:
        raise ValueError(f"winner {winner} is not among the eligible rules {elig}")
    if supplier is not None:
        supplier = check_int("supplier", supplier, 0)
        if supplier >= s.size:
            raise ValueError(f"supplier must be a rule index in [0, {s.size}) or None")
    c_bid = check_float("c_bid", c_bid, positive=True)
    tax_rate = check_float("tax_rate", tax_rate, non_negative=True)
    if c_bid + tax_rate >= 1:
        raise ValueError(f"c_bid + tax_rate must be < 1 (a rule cannot pay out all it has), "
                         f"got {c_bid + tax_rate}")
    pricing = check_choice("pricing", pricing, PRICING)
    return {"strengths": s, "eligible": elig, "winner": winner, "supplier": supplier,
            "reward": check_float("reward", reward), "c_bid": c_bid, "tax_rate": tax_rate,
            "pricing": pricing}


@exercise("2.1", title="One step of the bucket brigade: who pays whom", validate=_check_step_args,
          returns=ListOf(Record(Transfer, amount=Number())))
def step_transfers(strengths: np.ndarray, eligible: list[int], winner: int, supplier: int | None,
                   reward: float, c_bid: float, tax_rate: float,
                   pricing: str = "first") -> list[Transfer]:
    """The payments of one step, in this order: the bid, the tax, then the reward.

    * **bid**: every eligible rule bids ``c_bid * strengths[rule]``. The winner pays its
      supplier (``ENVIRONMENT`` when ``supplier`` is None). With ``pricing="first"`` (Holland's
      rule) it pays its own bid. With ``pricing="second"`` it pays only the highest bid
      among the *other* eligible rules (0 if it bid alone), capped at its own bid, *but the
      supplier still receives the winner's own bid*: the difference comes from ``MINT`` as a
      separate ``"mint"`` transfer (skip it when it is 0). When the highest bidder wins,
      that is "the seller receives the highest bid, the buyer pays the second highest".
    * **tax**: the winner pays ``tax_rate * strengths[winner]`` to ``TAX`` (skip it when that
      amount is 0).
    * **reward**: if ``reward != 0`` the ``ENVIRONMENT`` pays it to the winner (a negative
      reward is a payment from the winner to the ``ENVIRONMENT``).

    Strengths are those at the start of the step.

    Returns
    -------
    list of Transfer
    """
    # TODO(exercise 2.1): compute the bids of the eligible rules, then build the Transfer
    # objects in the order bid, (mint), tax, reward.
    raise NotImplementedError


def _check_apply_args(strengths: Any, transfers: Any) -> dict[str, Any]:
    s = as_float_array(strengths, "strengths", finite=True)
    if s.ndim != 1:
        raise ValueError(f"strengths must be 1-D, got shape {s.shape}")
    transfers = as_list_of(transfers, "transfers", Transfer, "Transfer objects")
    for t in transfers:
        for side in (t.payer, t.payee):
            if side not in EXTERNAL and side >= s.size:
                raise ValueError(f"transfer {t.payer!r} -> {t.payee!r} names rule {side} (as its "
                                 f"payer or payee), but there are only {s.size} rules")
    return {"strengths": s, "transfers": transfers}


@exercise("2.2", title="The strength update", validate=_check_apply_args,
          returns=Array(shape_of("strengths")))
def apply_transfers(strengths: np.ndarray, transfers: list[Transfer]) -> np.ndarray:
    """New strengths after the transfers: ``S - payments - taxes + receipts`` for every rule.

    Accounts that are not rules (``ENVIRONMENT``, ``TAX``, ``MINT``) are not part of the
    array. Returns a new array; ``strengths`` is left unchanged.
    """
    # TODO(exercise 2.2): each transfer takes money from its payer and gives it to its payee; only
    # rules have a place in the array.
    raise NotImplementedError


def _check_money_args(initial_strengths: Any, final_strengths: Any,
                      transfers: Any) -> dict[str, Any]:
    start = as_float_array(initial_strengths, "initial_strengths", finite=True)
    end = as_float_array(final_strengths, "final_strengths", finite=True)
    if start.shape != end.shape or start.ndim != 1:
        raise ValueError(f"initial_strengths and final_strengths must be 1-D of the same shape, "
                         f"got "
                         f"{start.shape} and {end.shape}")
    return {"initial_strengths": start, "final_strengths": end,
            "transfers": _check_apply_args(end, transfers)["transfers"]}


@exercise("2.3", title="The auditor: money created from nothing", validate=_check_money_args,
          returns=Number())
def money_created(initial_strengths: np.ndarray, final_strengths: np.ndarray,
                  transfers: list[Transfer]) -> float:
    """How much the rules' total money grew beyond what external flows explain.

    External flows are transfers between a rule and ``ENVIRONMENT`` or ``TAX`` (in either
    direction). Transfers between two rules move money without changing the total; money from
    ``MINT`` is *not* an external flow: it is exactly what this audit should detect.

    Returns ``(sum(final) - sum(initial)) - (external money in - external money out)``.
    """
    # TODO(exercise 2.3): tell the external flows (rules <-> ENVIRONMENT or TAX) from the rest, and
    # compare them with the change of the total strength.
    raise NotImplementedError


def _check_steady_args(n_stages: Any, reward: Any, c_bid: Any, tax_rate: Any) -> dict[str, Any]:
    c_bid = check_float("c_bid", c_bid, positive=True)
    tax_rate = check_float("tax_rate", tax_rate, non_negative=True)
    if c_bid + tax_rate >= 1:
        raise ValueError("c_bid + tax_rate must be < 1")
    return {"n_stages": check_int("n_stages", n_stages, 1, MAX_ELEMENTS),
            "reward": check_float("reward", reward),
            "c_bid": c_bid, "tax_rate": tax_rate}


@exercise("2.4", title="The steady state in closed form", validate=_check_steady_args,
          returns=Array(lambda a: (a["n_stages"],)))
def steady_state_strengths(n_stages: int, reward: float, c_bid: float,
                           tax_rate: float) -> np.ndarray:
    """Strengths of the assemble rules once every episode runs the whole line.

    At a fixed point each assembler's payments (bid and tax) equal its receipts: the next
    assembler's bid, or the reward for the last one. Solve those equations.

    Returns
    -------
    np.ndarray, shape (n_stages,)
        Strength of the assembler at stage 0, 1, ..., n_stages - 1.
    """
    # TODO(exercise 2.4): write "payments = receipts" for the last assembler and for assembler k,
    # and solve backwards from the end of the line.
    raise NotImplementedError


# --------------------------------------------------------------------------------------
# The ledger and the production line
# --------------------------------------------------------------------------------------


class Ledger:
    """A double-entry book of every payment between rules and the external accounts.

    ``record`` applies a :class:`Transfer` and keeps it. ``pay`` is the checked way for a
    mechanism to move money: it refuses a payment whose amount paid and amount received
    differ, because that would create (or destroy) money silently; the difference must go
    through ``mint`` (or be paid to an external account), where it is visible.
    """

    def __init__(self, initial_strengths: Any) -> None:
        start = as_float_array(initial_strengths, "initial_strengths", finite=True)
        if start.ndim != 1:
            raise ValueError("initial_strengths must be 1-D")
        self.initial = start.copy()
        self.strengths = start.copy()
        self.external = {name: 0.0 for name in EXTERNAL}  # net balance of each external account
        self.transfers: list[Transfer] = []

    def record(self, transfer: Transfer) -> None:
        if not isinstance(transfer, Transfer):
            raise TypeError(f"record() takes a Transfer, got {type(transfer).__name__}")
        self.strengths = apply_transfers(self.strengths, [transfer])
        for side, sign in ((transfer.payer, -1.0), (transfer.payee, 1.0)):
            if side in EXTERNAL:
                self.external[side] += sign * transfer.amount
        self.transfers.append(transfer)

    def pay(self, payer: int | str, payee: int | str, paid: float, received: float,
            kind: str = "bid") -> None:
        """Move money from payer to payee; ``paid`` and ``received`` must be equal."""
        paid = check_float("paid", paid, non_negative=True)
        received = check_float("received", received, non_negative=True)
        if not np.isclose(paid, received, rtol=0.0, atol=1e-12):
            raise ValueError(
                f"payment would create money silently: {payer!r} pays {paid:g} but {payee!r} "
                f"receives {received:g}; record the difference with mint() instead")
        self.record(Transfer(payer, payee, paid, kind))

    def mint(self, payee: int | str, amount: float) -> None:
        """Create ``amount`` of new money for ``payee`` (recorded as money created)."""
        self.record(Transfer(MINT, payee, amount, "mint"))

    @property
    def minted(self) -> float:
        return -self.external[MINT]

    def total(self) -> float:
        """Money of the rules plus the external accounts: constant unless money is minted."""
        return float(self.strengths.sum() + self.external[ENVIRONMENT] + self.external[TAX])


@dataclass(frozen=True)
class ProductionLine:
    """``n_stages`` stages, three rules per stage (assemble, dawdle, scrap), reward at the end.

    Rule ``3 * k + j`` is rule kind ``RULE_KINDS[j]`` at stage ``k``.
    """

    n_stages: int = 4
    reward: float = 10.0

    def __post_init__(self) -> None:
        check_int("n_stages", self.n_stages, 1)
        check_float("reward", self.reward, positive=True)

    @property
    def n_rules(self) -> int:
        return 3 * self.n_stages

    @property
    def max_steps(self) -> int:
        return 3 * self.n_stages

    def rule_name(self, rule: int) -> str:
        return f"{RULE_KINDS[rule % 3]} @{rule // 3}"

    def _check_stage(self, stage: Any) -> int:
        stage = check_int("stage", stage, 0)
        if stage >= self.n_stages:
            raise ValueError(f"stage must lie in [0, {self.n_stages}), got {stage}")
        return stage

    def eligible(self, stage: int) -> list[int]:
        stage = self._check_stage(stage)
        return [3 * stage, 3 * stage + 1, 3 * stage + 2]

    def act(self, stage: int, rule: int) -> tuple[int | None, float]:
        """Next stage (None when the episode ends) and external reward for ``rule`` acting."""
        if check_int("rule", rule, 0) not in self.eligible(stage):
            raise ValueError(f"rule {rule!r} does not work at stage {stage}")
        kind = RULE_KINDS[rule % 3]
        if kind == "assemble":
            if stage == self.n_stages - 1:
                return None, self.reward
            return stage + 1, 0.0
        if kind == "dawdle":
            return stage, 0.0
        return None, 0.0  # scrap


@dataclass
class BrigadeResult:
    """History of a bucket-brigade run.

    ``strengths``: shape (episodes + 1, n_rules), row 0 is the start. ``delivered``: bool per
    episode (the product was finished). ``ledger``: every transfer of the run. If money
    inflated past ``max_strength``, the run stopped after episode ``stopped_at`` and the
    histories end there.
    """

    line: ProductionLine
    c_bid: float
    tax_rate: float
    pricing: str
    strengths: np.ndarray
    delivered: np.ndarray
    ledger: Ledger = field(repr=False)
    stopped_at: int | None = None  # episode at which a strength passed max_strength

    @property
    def assemblers(self) -> np.ndarray:
        """Strength history of the assemble rules, shape (episodes + 1, n_stages)."""
        return self.strengths[:, 0::3]


def run_bucket_brigade(
    line: ProductionLine | None = None,
    c_bid: float = 0.1,
    tax_rate: float = 0.01,
    episodes: int = 1000,
    epsilon: float = 0.2,
    explore_fraction: float = 0.5,
    pricing: str = "first",
    initial_strength: float = 1.0,
    seed: int = 0,
    max_strength: float = 1e12,
    callback: Callable[[int], None] | None = None,
) -> BrigadeResult:
    """Run the bucket brigade on a production line.

    The highest bidder among the eligible rules acts, except that with probability
    ``epsilon`` a random eligible rule does (exploration), during the first
    ``explore_fraction`` of the episodes; afterwards the economy runs greedily, so the
    strengths settle on the steady state of the line. Ties go to the lowest rule index.
    An economy that creates money can inflate without bound; the run stops once a strength
    passes ``max_strength`` (``BrigadeResult.stopped_at`` says when).
    """
    line = ProductionLine() if line is None else line
    if not isinstance(line, ProductionLine):
        raise TypeError(f"line must be a ProductionLine, got {type(line).__name__}")
    episodes = check_int("episodes", episodes, 1)
    check_size("(episodes + 1) * n_rules", (episodes + 1) * line.n_rules)
    epsilon = check_float("epsilon", epsilon, non_negative=True)
    explore_fraction = check_float("explore_fraction", explore_fraction, non_negative=True)
    if epsilon > 1 or explore_fraction > 1:
        raise ValueError("epsilon and explore_fraction must lie in [0, 1]")
    initial_strength = check_float("initial_strength", initial_strength, positive=True)
    max_strength = check_float("max_strength", max_strength, positive=True)
    check_callback(callback)
    rng = np.random.default_rng(check_seed(seed))
    ledger = Ledger(np.full(line.n_rules, initial_strength))
    history = np.empty((episodes + 1, line.n_rules))
    history[0] = ledger.strengths
    delivered = np.zeros(episodes, dtype=bool)
    for episode in range(episodes):
        exploring = episode < explore_fraction * episodes
        stage: int | None = 0
        supplier: int | None = None
        for _ in range(line.max_steps):
            eligible = line.eligible(stage)
            if exploring and rng.random() < epsilon:
                winner = int(rng.choice(eligible))
            else:
                winner = eligible[int(np.argmax(ledger.strengths[eligible]))]
            next_stage, reward = line.act(stage, winner)
            for transfer in step_transfers(ledger.strengths, eligible, winner, supplier, reward,
                                           c_bid, tax_rate, pricing):
                ledger.record(transfer)
            delivered[episode] |= reward > 0
            supplier, stage = winner, next_stage
            if stage is None:
                break
        history[episode + 1] = ledger.strengths
        if callback is not None:
            callback(episode)
        if ledger.strengths.max() > max_strength:
            return BrigadeResult(line, c_bid, tax_rate, pricing, history[: episode + 2],
                                 delivered[: episode + 1], ledger, stopped_at=episode)
    return BrigadeResult(line, c_bid, tax_rate, pricing, history, delivered, ledger)

