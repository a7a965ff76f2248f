"""Chapter 6's headline experiment: Scalable Actor-Critic on the wireless network.

On the authors' network (3 x 4 grid, 2 users per cell, d = 2, p = 0.5, gamma = 0.7, T = 10),
for each seed, batched tabular SAC (``course_lib.wireless_sac``) trains with k = 0
(independent learners), 1 and 2; the ALOHA-like benchmark is tuned by grid search over its
send probability. Every return is the mean per-user discounted return of the final policies
over ``eval_episodes`` fresh episodes. mu-decay is measured on the first seed's k = 1 policy,
on the network as it is and with random non-local links (``LINK_PROB``). With those links,
the first seed is trained again for every k, and the benchmark tuned again.

Metrics: ``returns`` {``k0``, ``k1``, ``k2``, ``aloha``} (means over seeds) and
``returns_per_seed``; ``aloha_send_prob``; ``episodes`` (training episodes per run);
``q_table_entries`` {``k0``, ``k1``, ``k2``} (configurations stored, mean over seeds) and
``q_table_full`` (entries full tables would need); ``mu_decay`` and ``mu_decay_links``
(sensitivity at hop 1, 2, 3); ``returns_links`` {``k0``, ``k1``, ``k2``, ``aloha``} and
``aloha_send_prob_links`` (first seed, with random links); ``link_prob``; ``seeds``;
``wall_s``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..config import check_seed, resolve_quick
from ..progress import progress_bar

TITLE = "Chapter 6: scalable actor-critic on a wireless network"
BUDGETS = {"quick": {"seeds": 1, "episodes": 10_000, "eval_every": 2_000, "mu_starts": 200,
                     "mu_rollouts": 50, "aloha_episodes": 2_000},
           "full": {"seeds": 3, "episodes": 30_000, "eval_every": 2_000, "mu_starts": 400,
                    "mu_rollouts": 100, "aloha_episodes": 4_000}}
KS = (0, 1, 2)
LINK_PROB = 0.2


def budgets(quick: bool | None = None) -> dict[str, int]:
    return BUDGETS["quick" if resolve_quick(quick) else "full"]


def train_all(quick: bool | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    """Every k x seed, and the tuned benchmark: ``runs`` (``SACRun``), ``aloha`` (best send
    probability and the return of every one tried) and ``grid``."""
    from ..aloha import tune_aloha
    from ..envs.wireless import make_grid
    from ..wireless_sac import SACConfig, train_sac

    seed = check_seed(seed)
    b = budgets(quick)
    grid = make_grid()
    plan = [(s, k, 0.0) for s in range(seed, seed + b["seeds"]) for k in KS]
    plan += [(seed, k, LINK_PROB) for k in KS]
    runs, runs_links = [], []
    with progress_bar(len(plan) * b["episodes"], "wireless SAC", progress) as bar:
        for s, k, link in plan:
            cfg = SACConfig(k=k, episodes=b["episodes"], eval_every=b["eval_every"],
                            link_prob=link)
            shown = [0]

            def advance(done: int, shown: list[int] = shown) -> None:
                bar.update(done - shown[0])
                shown[0] = done
            (runs_links if link else runs).append(train_sac(grid, cfg, s, callback=advance))
    return {"runs": runs, "runs_links": runs_links, "grid": grid, "budgets": b, "seed": seed,
            "aloha": tune_aloha(grid, episodes=b["aloha_episodes"], seed=seed),
            "aloha_links": tune_aloha(grid, episodes=b["aloha_episodes"], seed=seed,
                                      link_prob=LINK_PROB)}


def summarize(trained: dict[str, Any]) -> dict[str, Any]:
    """The chapter's metrics from ``train_all``'s result (without timing)."""
    from ..wireless_sac import measure_mu_decay, policy_probs

    runs, grid, b = trained["runs"], trained["grid"], trained["budgets"]
    best, aloha_returns = trained["aloha"]
    per_seed = {f"k{k}": [r.returns[-1] for r in runs if r.config.k == k] for k in KS}
    metrics: dict[str, Any] = {
        "returns": {**{key: float(np.mean(v)) for key, v in per_seed.items()},
                    "aloha": aloha_returns[best]},
        "returns_per_seed": per_seed,
        "aloha_send_prob": best,
        "episodes": b["episodes"],
        "q_table_entries": {f"k{k}": float(np.mean([r.critic.entries for r in runs
                                                    if r.config.k == k])) for k in KS},
        "q_table_full": {f"k{k}": next(r.critic for r in runs if r.config.k == k)
                         .possible_entries() for k in KS},
    }
    policy = policy_probs(next(r for r in runs if r.config.k == 1).logits, grid.valid)
    for key, link in (("mu_decay", 0.0), ("mu_decay_links", LINK_PROB)):
        decay = measure_mu_decay(grid, policy, b["mu_starts"], b["mu_rollouts"], link,
                                 trained["seed"])
        metrics[key] = [float(x) for x in decay]
    best_links, aloha_links = trained["aloha_links"]
    metrics["returns_links"] = {**{f"k{r.config.k}": r.returns[-1]
                                   for r in trained["runs_links"]},
                                "aloha": aloha_links[best_links]}
    metrics["aloha_send_prob_links"] = best_links
    metrics["link_prob"] = LINK_PROB
    metrics["seeds"] = sorted({r.seed for r in runs})
    return metrics


def run(quick: bool | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    start = time.perf_counter()
    metrics = summarize(train_all(quick, seed, progress))
    metrics["wall_s"] = round(time.perf_counter() - start, 1)
    return metrics
