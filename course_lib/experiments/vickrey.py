"""Chapter 1's headline experiment: truthfulness under Vickrey, shading under first price.

Two measurements:

1. *Regret of truthful bidding*: over many random cases, the largest utility gain that any
   deviation from bidding one's value achieves (``truthful_regret``). Vickrey: never any
   gain. First price: large gains.
2. *Learning to bid*: ``n_bidders`` policy-gradient learners (``learn_to_bid``) play repeated
   auctions with i.i.d. U[0, 1] values. The learned bid / value should approach the
   symmetric equilibrium: 1 under Vickrey and ``(n - 1) / n`` under first price.
"""

from __future__ import annotations

import time
from typing import Any

from ..auctions import equilibrium_bid_ratio, truthful_regret
from ..bidders import LearnToBidResult, learn_to_bid
from ..config import check_seed, resolve_quick
from ..progress import progress_bar

TITLE = "Chapter 1: truthful bidding under Vickrey vs shading under first price"
N_BIDDERS = 3


def budgets(quick: bool) -> dict[str, int]:
    """Training and evaluation sizes for quick and full mode."""
    if quick:
        return {"iterations": 300, "batch": 2048, "regret_cases": 2000}
    return {"iterations": 1500, "batch": 4096, "regret_cases": 20000}


def learn_both(
    n_bidders: int = N_BIDDERS, quick: bool | None = None, seed: int = 0, progress: bool = False
) -> dict[str, LearnToBidResult]:
    """Train learners under both mechanisms; returns {mechanism: LearnToBidResult}."""
    size = budgets(resolve_quick(quick))
    results = {}
    with progress_bar(2 * size["iterations"], "learning to bid", progress) as bar:
        for i, mechanism in enumerate(("vickrey", "first_price")):
            results[mechanism] = learn_to_bid(
                mechanism, n_bidders=n_bidders, iterations=size["iterations"],
                batch=size["batch"], seed=seed + i, callback=lambda _: bar.update(1))
    return results


def run(quick: bool | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    """Run the chapter's experiment and return its metrics (names are a public interface).

    Returns
    -------
    dict with ``n_bidders``, ``truthful_regret_vickrey``, ``truthful_regret_first_price``,
    ``learned_bid_ratio_vickrey``, ``learned_bid_ratio_first_price``, the theory values
    ``theory_bid_ratio_vickrey`` / ``theory_bid_ratio_first_price``, ``quick``, ``seed``
    and ``wall_s``.
    """
    quick = resolve_quick(quick)
    seed = check_seed(seed)
    start = time.perf_counter()
    size = budgets(quick)
    regret = {m: truthful_regret(m, n_cases=size["regret_cases"], n_bidders=N_BIDDERS, seed=seed)
              for m in ("vickrey", "first_price")}
    learned = learn_both(N_BIDDERS, quick=quick, seed=seed, progress=progress)
    return {
        "n_bidders": N_BIDDERS,
        "truthful_regret_vickrey": regret["vickrey"],
        "truthful_regret_first_price": regret["first_price"],
        "learned_bid_ratio_vickrey": learned["vickrey"].overall_ratio(),
        "learned_bid_ratio_first_price": learned["first_price"].overall_ratio(),
        "theory_bid_ratio_vickrey": equilibrium_bid_ratio("vickrey", N_BIDDERS),
        "theory_bid_ratio_first_price": equilibrium_bid_ratio("first_price", N_BIDDERS),
        "quick": quick,
        "seed": seed,
        "wall_s": round(time.perf_counter() - start, 3),
    }
