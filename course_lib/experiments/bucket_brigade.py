"""Chapter 2's headline experiment: the bucket brigade finds the production line's steady
state, and its books balance.

A production line of 4 stages (reward 10 for the finished product, bid fraction 0.1, tax
0.01 per step) runs first with exploration and then greedily. We compare the assemblers'
final strengths with the closed-form steady state (``steady_state_strengths``) and audit
the ledger (``money_created``). For contrast, the same economy with second pricing (the
seller receives the highest bid, the buyer pays the second highest) creates money.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..bucket_brigade import (
    ProductionLine,
    money_created,
    run_bucket_brigade,
    steady_state_strengths,
)
from ..config import check_seed, resolve_quick
from ..progress import progress_bar

TITLE = "Chapter 2: Holland's bucket brigade on a production line"
LINE = ProductionLine(n_stages=4, reward=10.0)
C_BID, TAX_RATE = 0.1, 0.01


def run(quick: bool | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    """Metrics: ``max_strength_error``, ``money_created`` (first pricing; 0 up to rounding),
    ``money_created_second_price`` (the money-making variant) and the episode at which its
    inflation stopped the run (``second_price_stopped_at``, null if it never did),
    ``episodes``, ``wall_s``."""
    quick = resolve_quick(quick)
    seed = check_seed(seed)
    start = time.perf_counter()
    episodes = 400 if quick else 2000
    with progress_bar(2 * episodes, "bucket brigade", progress) as bar:
        runs = {pricing: run_bucket_brigade(LINE, C_BID, TAX_RATE, episodes=episodes,
                                            pricing=pricing, seed=seed,
                                            callback=lambda _: bar.update(1))
                for pricing in ("first", "second")}
    closed = steady_state_strengths(LINE.n_stages, LINE.reward, C_BID, TAX_RATE)
    audit = {p: money_created(r.ledger.initial, r.ledger.strengths, r.ledger.transfers)
             for p, r in runs.items()}
    first = runs["first"]
    return {
        "max_strength_error": float(np.max(np.abs(first.assemblers[-1] - closed))),
        "money_created": float(audit["first"]),
        "money_created_second_price": float(audit["second"]),
        "second_price_stopped_at": runs["second"].stopped_at,
        "steady_state": closed.tolist(),
        "learned_strengths": first.assemblers[-1].tolist(),
        "delivery_rate_last_100": float(first.delivered[-100:].mean()),
        "episodes": episodes,
        "quick": quick,
        "seed": seed,
        "wall_s": round(time.perf_counter() - start, 3),
    }
