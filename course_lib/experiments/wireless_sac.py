"""Chapter 6's headline experiment: Scalable Actor-Critic on the wireless network.

On the authors' network (3 x 4 grid, 2 users per cell, d = 2, p = 0.5, gamma = 0.7, T = 10),
for each seed, batched SAC trains with k = 0 (independent learners), 1 and 2, once with the
paper's tabular truncated critic and once with the linear one (``course_lib.linear_critic``,
with the actor's state baseline, ``SACConfig.baseline``); at k = 1 each critic also trains
with the other choice of baseline, to separate the two changes;
the ALOHA-like benchmark is tuned by grid search over its send probability, and once more as
the authors' evaluation measures it (each episode's first decision reads the previous
episode's queue). The critics for every k and the tuned benchmark are trained again on the
network with random non-local links (``LINK_PROB``). Without links, at k = 1, both critics
also train with a critic that does not bootstrap (``SACConfig.critic_gamma`` 0), to measure
what carrying future value adds, and a richer benchmark (a send probability per class of
user and queue state) is tuned by coordinate ascent. Every return is the mean per-user
discounted return of the final policies over ``eval_episodes`` fresh episodes.

mu(k) is measured under every seed's tabular k = 1 policy, on the network as it is and,
under the policies trained with links, with links: as the maximum over random starts
(``wireless_sac.measure_mu_k``, the starts of all seeds pooled) and in stages with intervals
and a search (``mu_k.estimate_mu_k``, pooled by ``combine_mu_k``). The one-user sensitivity
by hop (exercise 6.5) is measured under the same policies.

Notebook 06 runs it in three stages, each once the exercises it needs are introduced:
``train_tabular`` and ``summarize_tabular`` (exercises 6.1 to 6.4), ``measure_influence``
(6.5), ``train_linear`` and ``summarize_linear`` (6.6). ``run`` (the command line) does all
three.

Metrics: ``returns`` {``k0``, ``k1``, ``k2``, ``aloha``} (tabular critic, means over seeds)
and ``returns_per_seed``; ``returns_fa`` {``k0``, ``k1``, ``k2``} and ``returns_fa_per_seed``
(linear critic); ``aloha_send_prob``; ``aloha_stale_start`` {``send_prob``, ``return``};
``episodes``; ``q_table_entries`` {``k0``, ``k1``, ``k2``} (configurations stored, mean over
seeds), ``q_table_full`` (entries full tables would need), ``td_samples`` (TD samples per
run), ``q_values_one_step`` {``k0``, ``k1``, ``k2``} (share of stored values still equal to
one step ``critic_lr * r`` with r in {0, 1}), ``critic_bytes_fa`` {...}; ``mu_k``,
``mu_k_q95``, ``mu_k_mean`` (lists over k = 0, 1, ...: max, 95 % quantile and mean of
|Delta Q_i| over ``measure_mu_k``'s starts), ``mu_k_ci`` ([low, high] per k: the confirmed
interval with the highest lower bound), ``mu_k_search`` and ``mu_k_search_ci`` (the gap at
the start the search found, re-estimated), ``mu_k_differ``, ``mu_k_eligible`` and
``mu_k_zero_bound`` (see ``combine_mu_k``), and the same with ``mu_k_links``; ``mu_decay`` and
``mu_decay_links`` (one-user sensitivity at hop 1, 2, 3); ``returns_links`` {``k0``, ``k1``,
``k2``, ``aloha``}, ``returns_links_per_seed``, ``returns_fa_links`` {...},
``returns_fa_links_per_seed`` and ``aloha_send_prob_links``; ``returns_k1_ablation``
{``tabular``, ``tabular_baseline``, ``linear``, ``linear_baseline``} (k = 1, each critic with
and without the actor's state baseline; means over seeds) and
``returns_k1_ablation_per_seed``; ``returns_gamma0`` {``tabular``, ``linear``} (k = 1, with
the baseline, a critic that does not bootstrap: compare ``returns_k1_ablation``'s
``tabular_baseline`` and ``linear_baseline``) and ``returns_gamma0_per_seed``;
``episodes_to_024`` {``tabular_nobaseline``, ``tabular_baseline``, ``linear_nobaseline``,
``linear_baseline``} (k = 1, per seed: training episodes at the first evaluation at or above
``TARGET_RETURN``, every ``episodes_to_024_every``; null: never); ``returns_aloha_rich`` (the
benchmark with a send probability per class of user and queue state, ``tune_rich``, scored
on fresh episodes) and ``aloha_rich`` (its table, its tuned return, and both rules on the same
fresh episodes); ``link_prob``; ``seeds``; ``wall_s``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..config import check_seed, resolve_quick
from ..progress import progress_bar

TITLE = "Chapter 6: scalable actor-critic on a wireless network"
BUDGETS = {"quick": {"seeds": 1, "episodes": 10_000, "eval_every": 2_000, "mu_starts": 200,
                     "mu_rollouts": 50, "mu_candidates": 5, "mu_confirm": 300,
                     "mu_search": 5, "aloha_episodes": 2_000, "aloha_rich_episodes": 500,
                     "aloha_rich_sweeps": 1, "aloha_rich_step": 0.1},
           "full": {"seeds": 3, "episodes": 30_000, "eval_every": 2_000, "mu_starts": 400,
                    "mu_rollouts": 100, "mu_candidates": 10, "mu_confirm": 1_000,
                    "mu_search": 30, "aloha_episodes": 4_000, "aloha_rich_episodes": 4_000,
                    "aloha_rich_sweeps": 2, "aloha_rich_step": 0.05}}
KS = (0, 1, 2)
LINK_PROB = 0.2
FA_SETTINGS = {"critic": "linear", "critic_lr": 0.33, "baseline": True}
# The groups of runs each stage trains (see _train_groups for what a name means).
TABULAR_GROUPS = ("runs", "runs_links")
LINEAR_GROUPS = ("runs_fa", "runs_fa_links", "runs_ablation", "runs_gamma0")
# The return the authors' tabular SAC reaches near its plateau (their log: last ten
# evaluations 0.2225-0.2414; first at or above 0.24 after 118,000 episodes).
TARGET_RETURN = 0.24
ALOHA_FRESH_SEED = 50_000  # the tuned rules are scored again on episodes no tuning saw


def budgets(quick: bool | None = None) -> dict[str, int]:
    return BUDGETS["quick" if resolve_quick(quick) else "full"]


def _train_groups(grid: Any, b: dict[str, int], seed: int, names: tuple[str, ...],
                  label: str, progress: bool) -> dict[str, list[Any]]:
    """Train every (group, seed, k) of ``names``, one progress bar for all of them. A group
    name says what it trains: ``fa`` the linear critic, ``links`` the network with random
    links, ``ablation`` the k = 1 runs with the other choice of baseline, ``gamma0`` k = 1
    with both critics, the state baseline and a critic that does not bootstrap
    (``critic_gamma`` 0: it models the immediate reward), evaluated at the end only."""
    from ..wireless_sac import SACConfig, train_sac

    seeds = range(seed, seed + b["seeds"])
    groups: dict[str, list[Any]] = {name: [] for name in names}
    plan = [(name, s, k) for name in names for s in seeds
            for k in (KS if name in ("runs", "runs_links", "runs_fa", "runs_fa_links")
                      else ("tabular", "linear"))]
    with progress_bar(len(plan) * b["episodes"], label, progress) as bar:
        for name, s, k in plan:
            every = b["eval_every"]
            if name == "runs_ablation":  # k = 1, the other choice of baseline
                settings = ({"baseline": True} if k == "tabular"
                            else {**FA_SETTINGS, "baseline": False})
                k = 1
            elif name == "runs_gamma0":  # k = 1, with the baseline, no bootstrapping
                settings = {**(FA_SETTINGS if k == "linear" else {"baseline": True}),
                            "critic_gamma": 0.0}
                k, every = 1, b["episodes"]
            else:
                settings = FA_SETTINGS if "fa" in name else {}
            cfg = SACConfig(k=k, episodes=b["episodes"], eval_every=every,
                            link_prob=LINK_PROB if "links" in name else 0.0, **settings)
            shown = [0]

            def advance(done: int, shown: list[int] = shown) -> None:
                bar.update(done - shown[0])
                shown[0] = done
            groups[name].append(train_sac(grid, cfg, s, callback=advance))
    return groups


def train_tabular(quick: bool | None = None, seed: int = 0,
                  progress: bool = False) -> dict[str, Any]:
    """The paper's tabular critic for every k x seed, without and with random links, and the
    tuned benchmark (notebook 06, section 5: exercises 6.1 to 6.4). Returns ``runs``
    (``SACRun``, no links), ``runs_links``, ``aloha`` and ``aloha_links`` (best send
    probability, return of every one tried), ``aloha_stale`` (the same under the authors'
    evaluation), ``grid``, ``budgets`` and ``seed``."""
    from ..aloha import SEND_PROBS, stale_start_return, tune_aloha
    from ..envs.wireless import make_grid

    seed = check_seed(seed)
    b = budgets(quick)
    grid = make_grid()
    groups = _train_groups(grid, b, seed, TABULAR_GROUPS, "wireless SAC, tabular critic",
                           progress)
    stale = {float(p): stale_start_return(grid, p, b["aloha_episodes"], seed=seed)
             for p in SEND_PROBS}
    aloha = tune_aloha(grid, episodes=b["aloha_episodes"], seed=seed)
    return {**groups, "grid": grid, "budgets": b, "seed": seed, "aloha": aloha,
            "aloha_rich": tune_rich(grid, aloha[0], b, seed),
            "aloha_links": tune_aloha(grid, episodes=b["aloha_episodes"], seed=seed,
                                      link_prob=LINK_PROB),
            "aloha_stale": (max(stale, key=stale.get), stale)}


def tune_rich(grid: Any, p_send: float, b: dict[str, int], seed: int) -> dict[str, Any]:
    """The richer benchmark (``aloha.tune_rich_aloha``, from the tuned ``p_send``) and both
    rules scored again on ``b["aloha_episodes"]`` fresh episodes: the tuned returns are maxima
    over what was tried, so they overstate, the nine-entry table's more than the one-entry
    rule's. Returns ``table``, ``classes`` (access points a class of user reaches),
    ``tuned_return``, ``fresh`` {``aloha``, ``aloha_rich``} and ``fresh_episodes``."""
    from ..aloha import (
        aloha_policy,
        rich_aloha_policy,
        send_prob_grid,
        tune_rich_aloha,
        user_classes,
    )
    from ..envs.wireless import discounted_return

    values = send_prob_grid(b["aloha_rich_step"])
    table, tuned = tune_rich_aloha(grid, p_send, b["aloha_rich_episodes"], seed,
                                   sweeps=b["aloha_rich_sweeps"], values=values)
    fresh = seed + ALOHA_FRESH_SEED
    return {"table": table.round(4).tolist(), "classes": user_classes(grid)[1],
            "tuned_return": tuned, "fresh_episodes": b["aloha_episodes"],
            "fresh": {"aloha": discounted_return(grid, aloha_policy(grid, p_send),
                                                 b["aloha_episodes"], fresh),
                      "aloha_rich": discounted_return(grid, rich_aloha_policy(grid, table),
                                                      b["aloha_episodes"], fresh)}}


def train_linear(trained: dict[str, Any], progress: bool = False) -> dict[str, Any]:
    """The linear critic with the state baseline for every k x seed, without and with links,
    and the k = 1 runs with the other choice of baseline, on the network, budgets and seeds
    of ``train_tabular``'s result (notebook 06, section 8: exercise 6.6). Returns
    ``runs_fa``, ``runs_fa_links``, ``runs_ablation`` and ``runs_gamma0``."""
    _require(trained, ("grid", "budgets", "seed"), "train_tabular")
    return _train_groups(trained["grid"], trained["budgets"], trained["seed"], LINEAR_GROUPS,
                         "wireless SAC, linear critic", progress)


def train_all(quick: bool | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    """Every critic x k x seed, with and without links, and the tuned benchmark: what
    ``train_tabular`` and then ``train_linear`` return, in one dict."""
    trained = train_tabular(quick, seed, progress)
    return {**trained, **train_linear(trained, progress)}


def _require(trained: Any, keys: tuple[str, ...], made_by: str) -> None:
    if not isinstance(trained, dict):
        raise TypeError(f"expected the dict that {made_by} returns, got {type(trained).__name__}")
    missing = [key for key in keys if key not in trained]
    if missing:
        raise ValueError(f"{', '.join(missing)} missing: pass what {made_by} returns")


def _by_k(runs: list[Any]) -> tuple[dict[str, float], dict[str, list[float]]]:
    per_seed = {f"k{k}": [r.returns[-1] for r in runs if r.config.k == k] for k in KS}
    return {key: float(np.mean(v)) for key, v in per_seed.items()}, per_seed


def _k1_runs(trained: dict[str, Any]) -> dict[str, list[Any]]:
    """The k = 1 runs without links that bootstrap, per critic and choice of baseline
    (``tabular``, ``tabular_baseline``, ``linear``, ``linear_baseline``), in seed order."""
    runs = trained["runs"] + trained["runs_fa"] + trained["runs_ablation"]
    out: dict[str, list[Any]] = {}
    for critic in ("tabular", "linear"):
        for baseline in (False, True):
            out[critic + ("_baseline" if baseline else "")] = sorted(
                (r for r in runs if r.config.k == 1 and r.config.critic == critic
                 and r.config.baseline == baseline), key=lambda r: r.seed)
    return out


def one_step_share(run: Any) -> float:
    """Share of a tabular critic's stored values still equal to a single TD step from 0
    with a reward of 0 or 1 (``0`` or ``critic_lr``), the value a single visit leaves."""
    v, lr = run.critic.values, run.config.critic_lr
    return float(np.mean(np.isclose(v, 0.0) | np.isclose(v, lr))) if len(v) else 0.0


def summarize_tabular(trained: dict[str, Any]) -> dict[str, Any]:
    """The metrics of ``train_tabular``'s result: returns of the tabular critic and of the
    benchmark, without and with links, and what the tables stored."""
    _require(trained, ("grid", "budgets", "aloha_rich") + TABULAR_GROUPS, "train_tabular")
    b, runs = trained["budgets"], trained["runs"]
    best, aloha_returns = trained["aloha"]
    returns, per_seed = _by_k(runs)
    stale_best, stale = trained["aloha_stale"]
    best_links, aloha_links = trained["aloha_links"]
    returns_links, per_seed_links = _by_k(trained["runs_links"])
    return {
        "returns": {**returns, "aloha": aloha_returns[best]},
        "returns_per_seed": per_seed,
        "aloha_send_prob": best,
        "aloha_stale_start": {"send_prob": stale_best, "return": stale[stale_best]},
        "returns_aloha_rich": trained["aloha_rich"]["fresh"]["aloha_rich"],
        "aloha_rich": trained["aloha_rich"],
        "episodes": b["episodes"],
        "q_table_entries": {f"k{k}": float(np.mean([r.critic.entries for r in runs
                                                    if r.config.k == k])) for k in KS},
        "q_table_full": {f"k{k}": next(r.critic for r in runs if r.config.k == k)
                         .possible_entries() for k in KS},
        "td_samples": runs[0].td_samples,
        "q_values_one_step": {f"k{k}": float(np.mean([one_step_share(r) for r in runs
                                                      if r.config.k == k])) for k in KS},
        "returns_links": {**returns_links, "aloha": aloha_links[best_links]},
        "returns_links_per_seed": per_seed_links,
        "aloha_send_prob_links": best_links,
        "link_prob": LINK_PROB,
        "seeds": sorted({r.seed for r in runs}),
    }


def measure_influence(trained: dict[str, Any]) -> dict[str, Any]:
    """mu(k) and the one-user sensitivity by hop (exercise 6.5) under every seed's tabular
    k = 1 policy, on the network as it is and, under the policies trained with links, with
    links (notebook 06, section 7): the maximum, quantile and mean over random starts
    (``wireless_sac.measure_mu_k``), and the estimate in stages with intervals and a search
    (``mu_k.estimate_mu_k``, pooled over seeds by ``combine_mu_k``)."""
    from ..mu_k import estimate_mu_k
    from ..wireless_sac import measure_mu_decay, measure_mu_k, policy_probs, summarize_mu_k

    _require(trained, ("grid", "budgets") + TABULAR_GROUPS, "train_tabular")
    grid, b = trained["grid"], trained["budgets"]
    metrics: dict[str, Any] = {}
    for suffix, group, link in (("", "runs", 0.0), ("_links", "runs_links", LINK_PROB)):
        gaps, estimates, decay = [], [], []
        for r in trained[group]:
            if r.config.k != 1:
                continue
            probs = policy_probs(r.logits, grid.valid)
            gaps.append(measure_mu_k(grid, probs, b["mu_starts"], b["mu_rollouts"], link,
                                     r.seed)["gaps"])
            estimates.append(estimate_mu_k(
                grid, probs, b["mu_starts"], b["mu_rollouts"], b["mu_candidates"],
                b["mu_confirm"], b["mu_search"], link_prob=link, seed=r.seed))
            decay.append(measure_mu_decay(grid, probs, b["mu_starts"], b["mu_rollouts"],
                                          link, r.seed))
        mu = summarize_mu_k(np.concatenate(gaps, 1))
        metrics[f"mu_k{suffix}"] = mu["max"]
        metrics[f"mu_k{suffix}_q95"] = mu["quantile"]
        metrics[f"mu_k{suffix}_mean"] = mu["mean"]
        metrics.update({f"mu_k{suffix}{key}": value
                        for key, value in combine_mu_k(estimates).items()})
        metrics[f"mu_decay{suffix}"] = [float(x) for x in np.nanmean(decay, 0)]
    return metrics


def combine_mu_k(estimates: list[dict[str, Any]]) -> dict[str, Any]:
    """One policy per seed, one ``estimate_mu_k`` each, pooled per k: the interval of the
    seed whose lower bound is highest (``_ci``), the largest gap the searches found
    (``_search``, with its interval ``_search_ci``), and the zero events (``_differ``
    (start, rollout) pairs that changed Q_i, over ``_eligible`` starts; ``_zero_bound``, the
    rule of three over every seed's pairs when none did). Keys are suffixes of ``mu_k``."""
    out: dict[str, list] = {key: [] for key in (
        "_ci", "_search", "_search_ci", "_differ", "_eligible", "_zero_bound")}
    for k in range(len(estimates[0]["k"])):
        seen = [e for e in estimates if e["eligible"][k]]
        differ = sum(e["differ"][k] for e in seen)
        pairs = sum(e["eligible"][k] * e["settings"]["rollouts"] for e in seen)
        out["_differ"].append(differ)
        out["_eligible"].append(sum(e["eligible"][k] for e in seen))
        out["_zero_bound"].append(3.0 / pairs if seen and differ == 0 else None)
        out["_ci"].append(max((e["ci"][k] for e in seen), default=None,
                              key=lambda ci: (ci[0], ci[1])))
        searched = [e for e in seen if e["search"][k] is not None]
        top = max(searched, key=lambda e: e["search_ci"][k][0], default=None)
        out["_search"].append(top["search"][k] if top else None)
        out["_search_ci"].append(top["search_ci"][k] if top else None)
    return out


def summarize_linear(trained: dict[str, Any]) -> dict[str, Any]:
    """The metrics of the linear critic (``train_linear``'s runs, in ``trained`` beside
    ``train_tabular``'s): its returns without and with links, its memory, and the k = 1
    baseline ablation of both critics."""
    from ..wireless_sac import episodes_to

    _require(trained, TABULAR_GROUPS + LINEAR_GROUPS, "train_tabular and train_linear")
    returns_fa, per_seed_fa = _by_k(trained["runs_fa"])
    returns_fa_links, per_seed_fa_links = _by_k(trained["runs_fa_links"])
    k1 = _k1_runs(trained)
    per_seed_ablation = {name: [r.returns[-1] for r in runs] for name, runs in k1.items()}
    gamma0 = {critic: [r.returns[-1] for r in sorted(trained["runs_gamma0"],
                                                     key=lambda r: r.seed)
                       if r.config.critic == critic] for critic in ("tabular", "linear")}
    return {
        "returns_gamma0": {name: float(np.mean(v)) for name, v in gamma0.items()},
        "returns_gamma0_per_seed": gamma0,
        "episodes_to_024": {
            name.removesuffix("_baseline") + ("_baseline" if name.endswith("_baseline")
                                              else "_nobaseline"):
            [episodes_to(r, TARGET_RETURN) for r in runs] for name, runs in k1.items()},
        "episodes_to_024_every": trained["runs"][0].config.eval_every,
        "returns_fa": returns_fa,
        "returns_fa_per_seed": per_seed_fa,
        "critic_bytes_fa": {f"k{r.config.k}": r.critic.nbytes
                            for r in trained["runs_fa"][:len(KS)]},
        "returns_fa_links": returns_fa_links,
        "returns_fa_links_per_seed": per_seed_fa_links,
        "returns_k1_ablation": {name: float(np.mean(v)) for name, v in per_seed_ablation.items()},
        "returns_k1_ablation_per_seed": per_seed_ablation,
    }


def summarize(trained: dict[str, Any]) -> dict[str, Any]:
    """The chapter's metrics from ``train_all``'s result (without timing)."""
    return {**summarize_tabular(trained), **measure_influence(trained),
            **summarize_linear(trained)}


def run(quick: bool | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    start = time.perf_counter()
    metrics = summarize(train_all(quick, seed, progress))
    metrics["wall_s"] = round(time.perf_counter() - start, 1)
    return metrics
