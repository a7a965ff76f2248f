"""Societal decision-making: primitives bid for the right to act (Chang et al., ICML 2020).

In every state each primitive (here: each action of a tabular MDP) submits a bid; the highest
bidder wins and its action is taken. The winner at ``s_t`` then earns a utility that depends
on the **mechanism** (losers earn 0):

=======  ====================================================  ==========================
name     winner's utility                                      what it is
=======  ====================================================  ==========================
``bb``   r_t + gamma * b_winner(s_{t+1}) - b_i(s_t)             bucket brigade (first price)
``v``    r_t + gamma * max_k b_k(s_{t+1}) - max_{j!=i} b_j(s_t)  Vickrey
``ccv``  r_t + gamma * 2nd-max_k b_k(s_{t+1}) - max_{j!=i} b_j  credit-conserving Vickrey
``env``  r_t                                                    environment reward only
=======  ====================================================  ==========================

After the last step of an episode (a terminal state) both "next" terms are 0, and with a single
bidder the second-highest bid is 0 (so a lone bidder pays 0, even if its bid was negative). In
a **cloned** society every primitive has several copies that share their bidding policy but
draw their bids independently.

The next winner's bid is the highest next bid, so ``bb`` receives ``max`` too; what tells the
mechanisms apart is what the winner pays and what it receives. ``bb`` and ``ccv`` pay the seller
exactly what the next buyer pays (money is conserved, up to the discount); ``v`` pays the seller
the highest next bid while the next buyer pays only the second highest, creating money.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .contracts import Array, Record, shape_of
from .exercises import exercise
from .validation import as_bool_array, as_float_array, check_choice, check_unit

MECHANISMS = ("bb", "v", "ccv", "env")


def check_society_mechanism(mechanism: Any) -> str:
    """Return the mechanism name or raise: one of ``MECHANISMS``."""
    return check_choice("mechanism", mechanism, MECHANISMS)


def check_bid_table(x: Any, name: str, min_bidders: int = 1) -> np.ndarray:
    """Finite bids of shape (..., n_bidders), n_bidders >= ``min_bidders``, as floats."""
    arr = as_float_array(x, name, finite=True)
    if arr.ndim < 1 or arr.shape[-1] < min_bidders:
        raise ValueError(f"{name} must have shape (..., n_bidders) with n_bidders >= "
                         f"{min_bidders}, got {arr.shape}")
    return arr


def check_auction_pair(bids: Any, next_bids: Any, next_exists: Any, gamma: Any
                       ) -> dict[str, Any]:
    """Validate the inputs every winner's-utility rule shares: the bids now and next (same
    batch shape), whether the next auction exists (booleans of that shape) and a discount in
    [0, 1]. Returns them converted, keyed by name."""
    bids_arr = check_bid_table(bids, "bids")
    next_arr = check_bid_table(next_bids, "next_bids")
    batch = bids_arr.shape[:-1]
    if next_arr.shape[:-1] != batch:
        raise ValueError(f"next_bids must have batch shape {batch} like bids, got "
                         f"{next_arr.shape[:-1]}")
    exists = as_bool_array(next_exists, "next_exists", zero_one=False)
    if exists.shape != batch:
        raise ValueError(f"next_exists must have shape {batch}, the batch shape of bids and "
                         f"next_bids, got {exists.shape}")
    return {"bids": bids_arr, "next_bids": next_arr, "next_exists": exists,
            "gamma": check_unit("gamma", gamma)}


def _check_utility_args(mechanism: Any, rewards: Any, gamma: Any, bids: Any, next_bids: Any,
                        next_exists: Any) -> dict[str, Any]:
    checked = check_auction_pair(bids, next_bids, next_exists, gamma)
    batch = checked["bids"].shape[:-1]
    rewards_arr = as_float_array(rewards, "rewards", finite=True)
    if rewards_arr.shape != batch:
        raise ValueError(f"rewards must have shape {batch}, got {rewards_arr.shape}")
    return {"mechanism": check_society_mechanism(mechanism), "rewards": rewards_arr,
            **checked}


def top_two(bids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Highest and second-highest entry along the last axis (second is 0 for one bidder)."""
    bids = check_bid_table(bids, "bids")
    if bids.shape[-1] == 1:
        return bids[..., 0], np.zeros(bids.shape[:-1])
    part = np.partition(bids, bids.shape[-1] - 2, axis=-1)
    return part[..., -1], part[..., -2]


@exercise("3.1", title="The winner's utility under bb, v, ccv and env",
          validate=_check_utility_args,
          returns=Array(shape_of("rewards")))
def winner_utility(mechanism: str, rewards: np.ndarray, gamma: float, bids: np.ndarray,
                   next_bids: np.ndarray, next_exists: np.ndarray) -> np.ndarray:
    """Utility of the winner of each auction under a mechanism.

    Parameters
    ----------
    mechanism : {"bb", "v", "ccv", "env"}
    rewards : np.ndarray, shape (...)
        Reward r_t of the winner's action.
    gamma : float
        Discount applied to what the winner receives from the next auction.
    bids : np.ndarray, shape (..., n_bidders)
        All bids at s_t; the winner is the highest bidder.
    next_bids : np.ndarray, shape (..., n_next_bidders)
        All bids at s_{t+1} (ignored where ``next_exists`` is False).
    next_exists : np.ndarray of bool, shape (...)
        False when s_{t+1} is terminal: both "next" terms are then 0.

    Returns
    -------
    np.ndarray, shape (...)

    Examples
    --------
    >>> winner_utility("ccv", [0.0], 0.9, [[0.5, 0.3]], [[0.8, 0.6]], [True])
    array([0.24])
    """
    # TODO(exercise 3.1): read each mechanism's utility off the module docstring's table; top_two
    # gives the bids it needs, and a missing next auction contributes 0.
    raise NotImplementedError


def _check_auction_args(bids: Any) -> dict[str, np.ndarray]:
    arr = check_bid_table(bids, "bids")
    if arr.ndim < 2 or arr.size == 0:
        raise ValueError(f"bids must have shape (..., n_primitives, n_clones), with at least "
                         f"one auction, primitive and clone, got {arr.shape}")
    return {"bids": arr}


@dataclass(frozen=True)
class SocietyAuctionOutcome:
    """``primitive`` and ``clone`` of the winner and the ``price`` it pays (second-highest bid
    overall, 0 for a lone bidder), each with the batch shape."""

    primitive: np.ndarray
    clone: np.ndarray
    price: np.ndarray


@exercise("3.2", title="The auction among clones", validate=_check_auction_args,
          returns=Record(
              SocietyAuctionOutcome,
              primitive=Array(shape_of("bids", slice(None, -2)), "int", low=0, scalar=True),
              clone=Array(shape_of("bids", slice(None, -2)), "int", low=0, scalar=True),
              price=Array(shape_of("bids", slice(None, -2)), scalar=True)))
def society_auction(bids: np.ndarray) -> SocietyAuctionOutcome:
    """Run the Vickrey auction of a (possibly cloned) society.

    Parameters
    ----------
    bids : np.ndarray, shape (..., n_primitives, n_clones)
        Every clone's bid. The highest bid overall wins; ties go to the lowest primitive,
        then the lowest clone (the first in row-major order).

    Returns
    -------
    SocietyAuctionOutcome
        ``primitive`` and ``clone`` (ints) and ``price`` (the second-highest bid overall:
        often the winner's own clone), each of shape ``bids.shape[:-2]``.

    Examples
    --------
    >>> out = society_auction([[0.2, 0.1], [0.7, 0.65]])  # 2 primitives x 2 clones
    >>> int(out.primitive), int(out.clone), float(out.price)
    (1, 0, 0.65)
    """
    # TODO(exercise 3.2): treat every clone of every primitive as one bidder of a single auction,
    # then recover which primitive and which clone won.
    raise NotImplementedError


def money_created(mechanism: str, gamma: float, next_bids: np.ndarray,
                  next_exists: np.ndarray) -> np.ndarray:
    """Money the mechanism creates at each step, beyond what the next buyer pays.

    The seller receives ``gamma * (max or 2nd-max or the winner's bid)`` of the next auction,
    while the next buyer pays (``bb``: its own bid, the max; ``v``/``ccv``: the 2nd-max),
    worth ``gamma * price`` today. The difference is money made from nothing: 0 for ``bb``,
    ``ccv`` and ``env`` by construction, ``gamma * (max - 2nd-max)`` for ``v``, which is
    ``>= 0`` whenever the next auction has two or more bidders.

    Parameters
    ----------
    next_bids : np.ndarray, shape (..., n_bidders)
    next_exists : np.ndarray of bool, shape (...)

    Returns
    -------
    np.ndarray, shape (...)
    """
    check_society_mechanism(mechanism)
    gamma = check_unit("gamma", gamma)
    next_bids = check_bid_table(next_bids, "next_bids")
    next_exists = as_bool_array(next_exists, "next_exists", zero_one=False)
    if next_exists.shape != next_bids.shape[:-1]:
        raise ValueError(f"next_exists must have shape {next_bids.shape[:-1]}, the batch shape "
                         f"of next_bids, got {next_exists.shape}")
    if mechanism != "v":
        return np.zeros(np.shape(next_exists))
    first, second = top_two(next_bids)
    return np.where(next_exists, gamma * (first - second), 0.0)
