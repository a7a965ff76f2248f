"""Chapter 6 at scale: Scalable Actor-Critic with the linear truncated critic on networks of
24 to 6,144 users.

Grids of 3 x 4, 6 x 8, 12 x 16, 24 x 32 and 48 x 64 cells with 2 users per cell (quick mode
stops at 1,536 users), the authors' other settings unchanged (d = 2, p = 0.5, gamma = 0.7,
T = 10, success probabilities drawn with seed 0 for each grid). On every grid, for the same
number of training episodes: SAC with k = 1 and ``LinearCritic``; SAC with the tabular
critic where its table still fits in a few minutes (``tabular_max_users``); and the ALOHA
benchmark tuned by grid search, all on every seed; and, once per size, the richer benchmark
(a send probability per class of user and queue state, ``aloha.tune_rich_aloha``, tuned
from the first seed's best send probability), scored with the plain rule on fresh episodes.
Returns are per-user discounted returns of the final policies, evaluated over at least
``eval_user_episodes`` user-episodes.

Metrics (lists, one entry per size, in the order of ``n_users``): ``returns_fa``,
``returns_tabular`` (null where not run) and ``returns_aloha`` (means over seeds), each with
``_per_seed`` and ``_ci`` (a 95 % t-interval of the mean over seeds, [low, high]; null with
one seed); ``aloha_send_prob`` (per seed); ``returns_aloha_rich`` and ``returns_aloha_fresh``
(the richer and the plain rule on the same fresh episodes) and ``aloha_rich_table``;
``episodes``, ``cpu_s_per_1000_user_episodes`` (process time of SAC training with the linear
critic, evaluations excluded, mean over seeds), ``critic_bytes`` (the linear critic's
parameters), ``tabular_entries_per_sample`` (entries the tabular table holds per TD sample it
was given; null where not run); ``k``, ``seeds`` and ``wall_s``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..config import check_seed, resolve_quick
from ..progress import progress_bar
from .wireless_sac import ALOHA_FRESH_SEED, FA_SETTINGS

TITLE = "Chapter 6 at scale: 24 to 6,144 users"
GRIDS = ((3, 4), (6, 8), (12, 16), (24, 32), (48, 64))
K = 1
BUDGETS = {"quick": {"grids": 4, "seeds": 1, "episodes": 3_000, "tabular_max_users": 96,
                     "eval_user_episodes": 24_000, "aloha_rich_sweeps": 1,
                     "aloha_rich_step": 0.1},
           "full": {"grids": 5, "seeds": 3, "episodes": 10_000, "tabular_max_users": 96,
                    "eval_user_episodes": 96_000, "aloha_rich_sweeps": 2,
                    "aloha_rich_step": 0.05}}


def budgets(quick: bool | None = None) -> dict[str, int]:
    return BUDGETS["quick" if resolve_quick(quick) else "full"]


def _ticker(bar: Any, users: int) -> Any:
    """A ``train_sac`` callback that advances ``bar`` by user-episodes."""
    shown = [0]

    def advance(done: int) -> None:
        bar.update((done - shown[0]) * users)
        shown[0] = done
    return advance


def _interval(values: list[float]) -> list[float] | None:
    """A 95 % t-interval of the mean of ``values`` (None for a single value)."""
    from ..stats import ci95_half_width

    if len(values) < 2:
        return None
    mean, half = float(np.mean(values)), ci95_half_width(np.asarray(values))
    return [mean - half, mean + half]


def run(quick: bool | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    from ..aloha import aloha_policy, rich_aloha_policy, send_prob_grid, tune_aloha, tune_rich_aloha
    from ..envs.wireless import discounted_return, make_grid
    from ..wireless_sac import SACConfig, train_sac

    start = time.perf_counter()
    seed = check_seed(seed)
    b = budgets(quick)
    seeds = list(range(seed, seed + b["seeds"]))
    grids = [make_grid(h, w) for h, w in GRIDS[:b["grids"]]]
    per_seed = {name: [] for name in ("returns_fa", "returns_tabular", "returns_aloha")}
    metrics: dict[str, Any] = {key: [] for key in (
        "n_users", "aloha_send_prob", "returns_aloha_rich", "returns_aloha_fresh",
        "aloha_rich_table", "episodes", "cpu_s_per_1000_user_episodes", "critic_bytes",
        "tabular_entries_per_sample")}
    work = len(seeds) * sum(g.n_users * (2 if g.n_users <= b["tabular_max_users"] else 1)
                            for g in grids)
    values = send_prob_grid(b["aloha_rich_step"])
    with progress_bar(work * b["episodes"], "wireless at scale", progress) as bar:
        for grid in grids:
            n = grid.n_users
            evals = max(20, b["eval_user_episodes"] // n)
            common = {"k": K, "episodes": b["episodes"], "eval_every": b["episodes"],
                      "eval_episodes": evals}
            small = n <= b["tabular_max_users"]
            got: dict[str, list[Any]] = {key: [] for key in (
                "fa", "aloha", "send_prob", "cpu", "tabular", "entries")}
            for s in seeds:
                fa = train_sac(grid, SACConfig(**common, **FA_SETTINGS), s,
                               callback=_ticker(bar, n))
                best, aloha = tune_aloha(grid, episodes=evals, seed=s)
                got["fa"].append(fa.returns[-1])
                got["aloha"].append(aloha[best])
                got["send_prob"].append(best)
                got["cpu"].append(1000 * fa.cpu_s / (n * b["episodes"]))
                if small:
                    tab = train_sac(grid, SACConfig(**common), s, callback=_ticker(bar, n))
                    got["tabular"].append(tab.returns[-1])
                    got["entries"].append(tab.critic.entries / tab.td_samples)
            table, _ = tune_rich_aloha(grid, got["send_prob"][0], evals, seed,
                                       sweeps=b["aloha_rich_sweeps"], values=values)
            fresh = seed + ALOHA_FRESH_SEED
            metrics["n_users"].append(n)
            per_seed["returns_fa"].append(got["fa"])
            per_seed["returns_aloha"].append(got["aloha"])
            per_seed["returns_tabular"].append(got["tabular"] if small else None)
            metrics["aloha_send_prob"].append(got["send_prob"])
            metrics["returns_aloha_rich"].append(
                discounted_return(grid, rich_aloha_policy(grid, table), evals, fresh))
            metrics["returns_aloha_fresh"].append(
                discounted_return(grid, aloha_policy(grid, got["send_prob"][0]), evals, fresh))
            metrics["aloha_rich_table"].append(table.round(4).tolist())
            metrics["episodes"].append(b["episodes"])
            metrics["cpu_s_per_1000_user_episodes"].append(round(float(np.mean(got["cpu"])), 5))
            metrics["critic_bytes"].append(fa.critic.nbytes)
            metrics["tabular_entries_per_sample"].append(
                round(float(np.mean(got["entries"])), 4) if small else None)
    for name, rows in per_seed.items():
        metrics[name] = [None if row is None else float(np.mean(row)) for row in rows]
        metrics[f"{name}_per_seed"] = rows
        metrics[f"{name}_ci"] = [None if row is None else _interval(row) for row in rows]
    metrics.update(k=K, seeds=seeds, wall_s=round(time.perf_counter() - start, 1))
    return metrics
