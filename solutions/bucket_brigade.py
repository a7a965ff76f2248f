"""Reference bodies for the exercises in ``course_lib/bucket_brigade.py``."""

from __future__ import annotations

import numpy as np

from course_lib.bucket_brigade import ENVIRONMENT, EXTERNAL, MINT, TAX, Transfer


def step_transfers(strengths: np.ndarray, eligible: list[int], winner: int, supplier: int | None,
                   reward: float, c_bid: float, tax_rate: float,
                   pricing: str = "first") -> list[Transfer]:
    bids = c_bid * strengths[eligible]
    own = c_bid * strengths[winner]
    seller = ENVIRONMENT if supplier is None else supplier
    transfers = []
    if pricing == "first":
        transfers.append(Transfer(winner, seller, own, "bid"))
    else:
        others = np.delete(bids, eligible.index(winner))
        price = min(float(others.max()), own) if others.size else 0.0
        transfers.append(Transfer(winner, seller, price, "bid"))
        if own > price:  # the seller is paid the highest bid: the gap is new money
            transfers.append(Transfer(MINT, seller, own - price, "mint"))
    tax = tax_rate * strengths[winner]
    if tax > 0:
        transfers.append(Transfer(winner, TAX, tax, "tax"))
    if reward > 0:
        transfers.append(Transfer(ENVIRONMENT, winner, reward, "reward"))
    elif reward < 0:
        transfers.append(Transfer(winner, ENVIRONMENT, -reward, "reward"))
    return transfers


def apply_transfers(strengths: np.ndarray, transfers: list[Transfer]) -> np.ndarray:
    new = strengths.copy()
    for t in transfers:
        if t.payer not in EXTERNAL:
            new[t.payer] -= t.amount
        if t.payee not in EXTERNAL:
            new[t.payee] += t.amount
    return new


def money_created(initial_strengths: np.ndarray, final_strengths: np.ndarray,
                  transfers: list[Transfer]) -> float:
    inflow = outflow = 0.0
    for t in transfers:
        if t.payer in (ENVIRONMENT, TAX) and t.payee not in EXTERNAL:
            inflow += t.amount
        if t.payee in (ENVIRONMENT, TAX) and t.payer not in EXTERNAL:
            outflow += t.amount
    change = float(final_strengths.sum() - initial_strengths.sum())
    return change - (inflow - outflow)


def steady_state_strengths(n_stages: int, reward: float, c_bid: float,
                           tax_rate: float) -> np.ndarray:
    ratio = c_bid / (c_bid + tax_rate)  # S_k / S_{k+1}: the tax acts as a discount
    last = reward / (c_bid + tax_rate)
    return last * ratio ** np.arange(n_stages - 1, -1, -1)
