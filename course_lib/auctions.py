"""Sealed-bid auctions: first price and Vickrey (second price).

Every function works on one auction or on a whole batch at once: ``bids`` has shape
``(n_bidders,)`` or ``(..., n_bidders)``, the last axis indexing bidders. Bids and values
are finite and non-negative.

Tie-breaking rule (used everywhere in the course): when several bidders tie for the
highest bid, the one with the **lowest index** wins. Under Vickrey the price is then the
tied bid itself, so the winner's utility does not depend on who wins the tie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import check_seed
from .contracts import Array, Record, shape_of
from .exercises import exercise
from .validation import as_float_array, check_choice, check_float, check_int, check_size

MECHANISMS = ("first_price", "vickrey")


# --------------------------------------------------------------------------------------
# Input checks (run before any exercise body, so your code always gets clean arrays)
# --------------------------------------------------------------------------------------


def as_bid_array(x: Any, name: str = "bids") -> np.ndarray:
    """Return ``x`` as a float array of shape ``(..., n_bidders)`` or raise a clear error."""
    arr = as_float_array(x, name, finite=True)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have one entry per bidder (at least 1-D), got a scalar")
    if arr.shape[-1] == 0:
        raise ValueError(f"{name} is empty: an auction needs at least one bidder")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative, got minimum {arr.min():g}")
    return arr


def check_mechanism(mechanism: Any) -> str:
    """Return the mechanism name or raise: one of ``MECHANISMS``."""
    return check_choice("mechanism", mechanism, MECHANISMS)


def _check_bids(bids: Any) -> dict[str, np.ndarray]:
    return {"bids": as_bid_array(bids, "bids")}


def _check_utilities_args(values: Any, bids: Any, mechanism: Any) -> dict[str, Any]:
    values_arr = as_bid_array(values, "values")
    bids_arr = as_bid_array(bids, "bids")
    if values_arr.shape != bids_arr.shape:
        raise ValueError(
            f"values and bids must have the same shape, got {values_arr.shape} and "
            f"{bids_arr.shape}"
        )
    return {"values": values_arr, "bids": bids_arr, "mechanism": check_mechanism(mechanism)}


@dataclass(frozen=True)
class AuctionOutcome:
    """Who won and what they pay.

    ``winner``: index of the winning bidder, shape ``bids.shape[:-1]`` (a plain ``int`` for
    a single auction). ``price``: what the winner pays, same shape (a plain ``float``).
    """

    winner: Any
    price: Any

    def __post_init__(self) -> None:
        winner = as_float_array(self.winner, "winner", finite=True)
        price = as_float_array(self.price, "price", finite=True)
        if winner.shape != price.shape:
            raise ValueError(f"winner and price shapes differ: {winner.shape} vs {price.shape}")
        if not np.all(winner == np.round(winner)):
            raise TypeError("winner must hold integer bidder indices")
        if np.any(winner < 0):
            raise ValueError("winner must hold bidder indices >= 0")
        winner = winner.astype(int)
        object.__setattr__(self, "winner", int(winner) if winner.ndim == 0 else winner)
        object.__setattr__(self, "price", float(price) if price.ndim == 0 else price)


# --------------------------------------------------------------------------------------
# Exercises
# --------------------------------------------------------------------------------------

# What an auction gives back: one winner (an index >= 0) and one price per auction.
_OUTCOME = Record(AuctionOutcome,
                  winner=Array(shape_of("bids", slice(None, -1)), "int", low=0, scalar=True),
                  price=Array(shape_of("bids", slice(None, -1)), scalar=True))


@exercise("1.1", title="First-price auction", validate=_check_bids,
          returns=_OUTCOME)
def first_price_auction(bids: np.ndarray) -> AuctionOutcome:
    """Run a first-price sealed-bid auction.

    The highest bid wins (ties go to the lowest index) and the winner pays **its own bid**.

    Parameters
    ----------
    bids : np.ndarray, shape (..., n_bidders)
        Non-negative, finite bids (already checked and converted to floats).

    Returns
    -------
    AuctionOutcome
        ``winner`` with shape ``bids.shape[:-1]`` and ``price`` with the same shape.

    Examples
    --------
    >>> first_price_auction([0.2, 0.7, 0.5])
    AuctionOutcome(winner=1, price=0.7)
    """
    # TODO(exercise 1.1): find each auction's highest bidder along the last axis (mind the tie
    # rule), then what it pays.
    raise NotImplementedError


@exercise("1.2", title="Vickrey (second-price) auction", validate=_check_bids,
          returns=_OUTCOME)
def vickrey_auction(bids: np.ndarray) -> AuctionOutcome:
    """Run a Vickrey (second-price sealed-bid) auction.

    The highest bid wins (ties go to the lowest index) and the winner pays the **highest
    bid among the other bidders**. A lone bidder pays 0 (there is no reserve price).

    Parameters
    ----------
    bids : np.ndarray, shape (..., n_bidders)
        Non-negative, finite bids.

    Returns
    -------
    AuctionOutcome
        ``winner`` and ``price``, each with shape ``bids.shape[:-1]``.

    Examples
    --------
    >>> vickrey_auction([0.2, 0.7, 0.5])
    AuctionOutcome(winner=1, price=0.5)
    >>> vickrey_auction([0.6, 0.6])        # a tie: bidder 0 wins and pays the tied bid
    AuctionOutcome(winner=0, price=0.6)
    """
    # TODO(exercise 1.2): the winner is found as in 1.1; the price is the best bid among the *other*
    # bidders (think of ties, and of a lone bidder).
    raise NotImplementedError


def run_auction(bids: Any, mechanism: str) -> AuctionOutcome:
    """Run the auction named by ``mechanism`` (``"first_price"`` or ``"vickrey"``)."""
    auction = {"first_price": first_price_auction, "vickrey": vickrey_auction}
    return auction[check_mechanism(mechanism)](bids)


@exercise("1.3", title="Bidders' utilities", validate=_check_utilities_args,
          returns=Array(shape_of("values")))
def auction_utilities(values: np.ndarray, bids: np.ndarray, mechanism: str) -> np.ndarray:
    """Quasi-linear utility of every bidder: the winner gets ``value - price``, others 0.

    Parameters
    ----------
    values : np.ndarray, shape (..., n_bidders)
        What the item is worth to each bidder.
    bids : np.ndarray, shape (..., n_bidders)
        What each bidder bids.
    mechanism : {"first_price", "vickrey"}
        Which auction decides the winner and the price (use ``run_auction``).

    Returns
    -------
    np.ndarray, shape (..., n_bidders)
        Utilities; zero everywhere except at the winner of each auction.

    Examples
    --------
    >>> auction_utilities([0.9, 0.5], [0.8, 0.5], "vickrey")
    array([0.4, 0. ])
    """
    # TODO(exercise 1.3): let run_auction pick winner and price, then write value - price at the
    # winner's place of a zeros array; one auction (a plain int winner) must work too.
    raise NotImplementedError


# --------------------------------------------------------------------------------------
# Analysis built on the exercises
# --------------------------------------------------------------------------------------


def equilibrium_bid_ratio(mechanism: str, n_bidders: int) -> float:
    """Bid / value in the symmetric equilibrium with i.i.d. uniform values.

    Vickrey: 1 (bidding your value is dominant). First price: ``(n - 1) / n``.
    """
    check_mechanism(mechanism)
    n_bidders = check_int("n_bidders", n_bidders, 1)
    return 1.0 if mechanism == "vickrey" else (n_bidders - 1) / n_bidders


def utility_curve(value: float, other_bids: Any, mechanism: str, candidate_bids: Any) -> np.ndarray:
    """Utility of bidder 0 (worth ``value``) for each of its candidate bids.

    Bidder 0 sits at index 0, so it wins every tie (the course's tie rule).

    Returns an array with the shape of ``candidate_bids``.
    """
    check_mechanism(mechanism)
    value_arr = check_float("value", value, non_negative=True)
    others = as_bid_array(other_bids, "other_bids")
    if others.ndim != 1:
        raise ValueError(f"other_bids must be 1-D, got shape {others.shape}")
    shape = as_float_array(candidate_bids, "candidate_bids").shape
    candidates = as_bid_array(np.reshape(candidate_bids, -1), "candidate_bids")
    check_size("candidate_bids.size * (other_bids.size + 1)",
               candidates.size * (others.size + 1))
    bids = np.column_stack([candidates, np.broadcast_to(others, (candidates.size, others.size))])
    values = np.zeros_like(bids)
    values[:, 0] = value_arr
    return auction_utilities(values, bids, mechanism)[:, 0].reshape(shape)


def best_deviation_gains(
    mechanism: str,
    n_cases: int = 2000,
    n_bidders: int = 3,
    n_deviations: int = 64,
    seed: int = 0,
) -> np.ndarray:
    """For random cases, the most that bidder 0 gains by bidding anything but its value.

    Each case draws bidder 0's value and the other bidders' bids, uniform on [0, 1] (a fifth
    of the cases on a coarse grid of quarters, so that ties occur). The truthful bid is then
    compared with ``n_deviations`` bids evenly spread over [0, 1.5] and, in addition, with
    each opponent's bid and a hair above and below it (``n_deviations + 3 * (n_bidders - 1)``
    alternatives in all).

    Returns
    -------
    np.ndarray, shape (n_cases,)
        ``max over deviations of u(deviation) - u(truthful)`` in each case; a value ``<= 0``
        means that no deviation helped in that case.
    """
    check_mechanism(mechanism)
    n_cases = check_int("n_cases", n_cases, 1)
    n_bidders = check_int("n_bidders", n_bidders, 2)
    n_deviations = check_int("n_deviations", n_deviations, 1)
    check_size("n_cases * (n_deviations + 3 * n_bidders - 2) * n_bidders",
               n_cases * (n_deviations + 3 * n_bidders - 2) * n_bidders)
    rng = np.random.default_rng(check_seed(seed))
    values = rng.random(n_cases)
    others = rng.random((n_cases, n_bidders - 1))
    coarse = rng.random(n_cases) < 0.2
    others[coarse] = np.round(others[coarse] * 4) / 4
    values[coarse] = np.round(values[coarse] * 4) / 4
    eps = 1e-6
    deviations = np.concatenate(
        [np.broadcast_to(np.linspace(0.0, 1.5, n_deviations), (n_cases, n_deviations)),
         others, others + eps, np.maximum(others - eps, 0.0)], axis=1)
    n_dev = deviations.shape[1]
    # Batch layout (case, candidate bid, bidder): candidate 0 is the truthful bid.
    bids = np.empty((n_cases, n_dev + 1, n_bidders))
    bids[:, :, 1:] = others[:, None, :]
    bids[:, 0, 0] = values
    bids[:, 1:, 0] = deviations
    vals = np.zeros_like(bids)
    vals[:, :, 0] = values[:, None]
    u = auction_utilities(vals, bids, mechanism)[:, :, 0]
    return np.max(u[:, 1:] - u[:, :1], axis=1)


def truthful_regret(
    mechanism: str,
    n_cases: int = 2000,
    n_bidders: int = 3,
    n_deviations: int = 64,
    seed: int = 0,
) -> float:
    """Largest utility gain any deviation from truthful bidding achieved over random cases
    (see ``best_deviation_gains``). ``<= 0`` up to rounding means truthful bidding was never
    beaten."""
    return float(np.max(best_deviation_gains(mechanism, n_cases, n_bidders, n_deviations, seed)))


def expected_revenue(
    mechanism: str, bid_ratio: float, n_bidders: int, n_auctions: int = 100_000, seed: int = 0
) -> float:
    """Average price paid when every bidder bids ``bid_ratio * value``, values i.i.d. U[0, 1]."""
    check_mechanism(mechanism)
    bid_ratio = check_float("bid_ratio", bid_ratio, non_negative=True)
    n_bidders = check_int("n_bidders", n_bidders, 1)
    n_auctions = check_int("n_auctions", n_auctions, 1)
    check_size("n_auctions * n_bidders", n_auctions * n_bidders)
    rng = np.random.default_rng(check_seed(seed))
    values = rng.random((n_auctions, n_bidders))
    return float(np.mean(run_auction(bid_ratio * values, mechanism).price))
