"""Chapter 6's headline experiment: Scalable Actor-Critic on the wireless network.

On the authors' network (3 x 4 grid, 2 users per cell, d = 2, p = 0.5, gamma = 0.7, T = 10),
for each seed, batched SAC trains with k = 0 (independent learners), 1 and 2, once with the
paper's tabular truncated critic and once with the linear one (``course_lib.linear_critic``,
with the actor's state baseline, ``SACConfig.baseline``); at k = 1 each critic also trains
with the other choice of baseline, to separate the two changes;
the ALOHA-like benchmark is tuned by grid search over its send probability, and once more as
the authors' evaluation measures it (each episode's first decision reads the previous
episode's queue). Everything is repeated on the network with random non-local links
(``LINK_PROB``). Every return is the mean per-user discounted return of the final policies
over ``eval_episodes`` fresh episodes.

mu(k) (``wireless_sac.measure_mu_k``) is measured under every seed's tabular k = 1 policy,
on the network as it is and, under the policies trained with links, with links; the starts
of all seeds are pooled. The one-user sensitivity by hop (exercise 6.5) is measured the same
way.

Metrics: ``returns`` {``k0``, ``k1``, ``k2``, ``aloha``} (tabular critic, means over seeds)
and ``returns_per_seed``; ``returns_fa`` {``k0``, ``k1``, ``k2``} and ``returns_fa_per_seed``
(linear critic); ``aloha_send_prob``; ``aloha_stale_start`` {``send_prob``, ``return``};
``episodes``; ``q_table_entries`` {``k0``, ``k1``, ``k2``} (configurations stored, mean over
seeds), ``q_table_full`` (entries full tables would need), ``td_samples`` (TD samples per
run), ``q_values_one_step`` {``k0``, ``k1``, ``k2``} (share of stored values still equal to
one step ``critic_lr * r`` with r in {0, 1}), ``critic_bytes_fa`` {...}; ``mu_k``,
``mu_k_q95``, ``mu_k_mean`` (lists over k = 0, 1, ...: max, 95 % quantile and mean of
|Delta Q_i|) and ``mu_k_links``, ``mu_k_links_q95``, ``mu_k_links_mean``; ``mu_decay`` and
``mu_decay_links`` (one-user sensitivity at hop 1, 2, 3); ``returns_links`` {``k0``, ``k1``,
``k2``, ``aloha``}, ``returns_links_per_seed``, ``returns_fa_links`` {...},
``returns_fa_links_per_seed`` and ``aloha_send_prob_links``; ``returns_k1_ablation``
{``tabular``, ``tabular_baseline``, ``linear``, ``linear_baseline``} (k = 1, each critic with
and without the actor's state baseline; means over seeds) and
``returns_k1_ablation_per_seed``; ``link_prob``; ``seeds``; ``wall_s``.
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
FA_SETTINGS = {"critic": "linear", "critic_lr": 0.33, "baseline": True}


def budgets(quick: bool | None = None) -> dict[str, int]:
    return BUDGETS["quick" if resolve_quick(quick) else "full"]


def train_all(quick: bool | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    """Every critic x k x seed, with and without links, and the tuned benchmark: ``runs``
    (``SACRun``, tabular, no links), ``runs_fa``, ``runs_links``, ``runs_fa_links``,
    ``aloha`` and ``aloha_links`` (best send probability, return of every one tried),
    ``aloha_stale`` (the same under the authors' evaluation) and ``grid``."""
    from ..aloha import SEND_PROBS, stale_start_return, tune_aloha
    from ..envs.wireless import make_grid
    from ..wireless_sac import SACConfig, train_sac

    seed = check_seed(seed)
    b = budgets(quick)
    grid = make_grid()
    seeds = range(seed, seed + b["seeds"])
    groups: dict[str, list[Any]] = {"runs": [], "runs_fa": [], "runs_links": [],
                                    "runs_fa_links": [], "runs_ablation": []}
    plan = [(name, s, k) for name in groups for s in seeds
            for k in (KS if name != "runs_ablation" else ("tabular", "linear"))]
    with progress_bar(len(plan) * b["episodes"], "wireless SAC", progress) as bar:
        for name, s, k in plan:
            if name == "runs_ablation":  # k = 1, the other choice of baseline
                settings = ({"baseline": True} if k == "tabular"
                            else {**FA_SETTINGS, "baseline": False})
                k = 1
            else:
                settings = FA_SETTINGS if "fa" in name else {}
            cfg = SACConfig(k=k, episodes=b["episodes"], eval_every=b["eval_every"],
                            link_prob=LINK_PROB if "links" in name else 0.0, **settings)
            shown = [0]

            def advance(done: int, shown: list[int] = shown) -> None:
                bar.update(done - shown[0])
                shown[0] = done
            groups[name].append(train_sac(grid, cfg, s, callback=advance))
    stale = {float(p): stale_start_return(grid, p, b["aloha_episodes"], seed=seed)
             for p in SEND_PROBS}
    return {**groups, "grid": grid, "budgets": b, "seed": seed,
            "aloha": tune_aloha(grid, episodes=b["aloha_episodes"], seed=seed),
            "aloha_links": tune_aloha(grid, episodes=b["aloha_episodes"], seed=seed,
                                      link_prob=LINK_PROB),
            "aloha_stale": (max(stale, key=stale.get), stale)}


def _by_k(runs: list[Any]) -> tuple[dict[str, float], dict[str, list[float]]]:
    per_seed = {f"k{k}": [r.returns[-1] for r in runs if r.config.k == k] for k in KS}
    return {key: float(np.mean(v)) for key, v in per_seed.items()}, per_seed


def _ablation_per_seed(trained: dict[str, Any]) -> dict[str, list[float]]:
    """k = 1 returns per seed for each critic, with and without the state baseline."""
    runs = trained["runs"] + trained["runs_fa"] + trained["runs_ablation"]
    out: dict[str, list[float]] = {}
    for critic in ("tabular", "linear"):
        for baseline in (False, True):
            out[critic + ("_baseline" if baseline else "")] = [
                r.returns[-1] for r in runs if r.config.k == 1 and r.config.critic == critic
                and r.config.baseline == baseline]
    return out


def one_step_share(run: Any) -> float:
    """Share of a tabular critic's stored values still equal to a single TD step from 0
    with a reward of 0 or 1 (``0`` or ``critic_lr``), the value a single visit leaves."""
    v, lr = run.critic.values, run.config.critic_lr
    return float(np.mean(np.isclose(v, 0.0) | np.isclose(v, lr))) if len(v) else 0.0


def summarize(trained: dict[str, Any]) -> dict[str, Any]:
    """The chapter's metrics from ``train_all``'s result (without timing)."""
    from ..wireless_sac import measure_mu_decay, measure_mu_k, policy_probs, summarize_mu_k

    grid, b = trained["grid"], trained["budgets"]
    runs = trained["runs"]
    best, aloha_returns = trained["aloha"]
    returns, per_seed = _by_k(runs)
    returns_fa, per_seed_fa = _by_k(trained["runs_fa"])
    stale_best, stale = trained["aloha_stale"]
    metrics: dict[str, Any] = {
        "returns": {**returns, "aloha": aloha_returns[best]},
        "returns_per_seed": per_seed,
        "returns_fa": returns_fa,
        "returns_fa_per_seed": per_seed_fa,
        "aloha_send_prob": best,
        "aloha_stale_start": {"send_prob": stale_best, "return": stale[stale_best]},
        "episodes": b["episodes"],
        "q_table_entries": {f"k{k}": float(np.mean([r.critic.entries for r in runs
                                                    if r.config.k == k])) for k in KS},
        "q_table_full": {f"k{k}": next(r.critic for r in runs if r.config.k == k)
                         .possible_entries() for k in KS},
        "td_samples": runs[0].td_samples,
        "q_values_one_step": {f"k{k}": float(np.mean([one_step_share(r) for r in runs
                                                      if r.config.k == k])) for k in KS},
        "critic_bytes_fa": {f"k{r.config.k}": r.critic.nbytes
                            for r in trained["runs_fa"][:len(KS)]},
    }
    for suffix, group, link in (("", "runs", 0.0), ("_links", "runs_links", LINK_PROB)):
        gaps, decay = [], []
        for r in trained[group]:
            if r.config.k != 1:
                continue
            probs = policy_probs(r.logits, grid.valid)
            gaps.append(measure_mu_k(grid, probs, b["mu_starts"], b["mu_rollouts"], link,
                                     r.seed)["gaps"])
            decay.append(measure_mu_decay(grid, probs, b["mu_starts"], b["mu_rollouts"],
                                          link, r.seed))
        mu = summarize_mu_k(np.concatenate(gaps, 1))
        metrics[f"mu_k{suffix}"] = mu["max"]
        metrics[f"mu_k{suffix}_q95"] = mu["quantile"]
        metrics[f"mu_k{suffix}_mean"] = mu["mean"]
        metrics[f"mu_decay{suffix}"] = [float(x) for x in np.nanmean(decay, 0)]
    best_links, aloha_links = trained["aloha_links"]
    returns_links, per_seed_links = _by_k(trained["runs_links"])
    metrics["returns_links"] = {**returns_links, "aloha": aloha_links[best_links]}
    metrics["returns_links_per_seed"] = per_seed_links
    metrics["returns_fa_links"], metrics["returns_fa_links_per_seed"] = _by_k(
        trained["runs_fa_links"])
    per_seed_ablation = _ablation_per_seed(trained)
    metrics["returns_k1_ablation"] = {name: float(np.mean(v))
                                      for name, v in per_seed_ablation.items()}
    metrics["returns_k1_ablation_per_seed"] = per_seed_ablation
    metrics["aloha_send_prob_links"] = best_links
    metrics["link_prob"] = LINK_PROB
    metrics["seeds"] = sorted({r.seed for r in runs})
    return metrics


def run(quick: bool | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    start = time.perf_counter()
    metrics = summarize(train_all(quick, seed, progress))
    metrics["wall_s"] = round(time.perf_counter() - start, 1)
    return metrics
