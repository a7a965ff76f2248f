"""Chapter 6 at scale: Scalable Actor-Critic with the linear truncated critic on networks of
24 to 6,144 users.

Grids of 3 x 4, 6 x 8, 12 x 16, 24 x 32 and 48 x 64 cells with 2 users per cell (quick mode
stops at 1,536 users), the authors' other settings unchanged (d = 2, p = 0.5, gamma = 0.7,
T = 10, success probabilities drawn with seed 0 for each grid). On every grid, for the same
number of training episodes: SAC with k = 1 and ``LinearCritic``; SAC with the tabular
critic where its table still fits in a few minutes (``TABULAR_MAX_USERS``); and the ALOHA
benchmark tuned by grid search. Returns are per-user discounted returns of the final
policies, evaluated over at least ``eval_user_episodes`` user-episodes.

Metrics (lists, one entry per size, in the order of ``n_users``): ``returns_fa``,
``returns_tabular`` (null where not run), ``returns_aloha``, ``aloha_send_prob``,
``episodes``, ``cpu_s_per_1000_user_episodes`` (process time of SAC training with the linear
critic, evaluations excluded), ``critic_bytes`` (the linear critic's parameters),
``tabular_entries_per_sample`` (entries the tabular table holds per TD sample it was given;
null where not run); ``k``, ``seed`` and ``wall_s``.
"""

from __future__ import annotations

import time
from typing import Any

from ..config import check_seed, resolve_quick
from ..progress import progress_bar
from .wireless_sac import FA_SETTINGS

TITLE = "Chapter 6 at scale: 24 to 6,144 users"
GRIDS = ((3, 4), (6, 8), (12, 16), (24, 32), (48, 64))
K = 1
BUDGETS = {"quick": {"grids": 4, "episodes": 3_000, "tabular_max_users": 96,
                     "eval_user_episodes": 24_000},
           "full": {"grids": 5, "episodes": 10_000, "tabular_max_users": 96,
                    "eval_user_episodes": 96_000}}


def budgets(quick: bool | None = None) -> dict[str, int]:
    return BUDGETS["quick" if resolve_quick(quick) else "full"]


def _ticker(bar: Any, users: int) -> Any:
    """A ``train_sac`` callback that advances ``bar`` by user-episodes."""
    shown = [0]

    def advance(done: int) -> None:
        bar.update((done - shown[0]) * users)
        shown[0] = done
    return advance


def run(quick: bool | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    from ..aloha import tune_aloha
    from ..envs.wireless import make_grid
    from ..wireless_sac import SACConfig, train_sac

    start = time.perf_counter()
    seed = check_seed(seed)
    b = budgets(quick)
    grids = [make_grid(h, w) for h, w in GRIDS[:b["grids"]]]
    metrics: dict[str, Any] = {key: [] for key in (
        "n_users", "returns_fa", "returns_tabular", "returns_aloha", "aloha_send_prob",
        "episodes", "cpu_s_per_1000_user_episodes", "critic_bytes",
        "tabular_entries_per_sample")}
    work = sum(g.n_users * (2 if g.n_users <= b["tabular_max_users"] else 1) for g in grids)
    with progress_bar(work * b["episodes"], "wireless at scale", progress) as bar:
        for grid in grids:
            n = grid.n_users
            evals = max(20, b["eval_user_episodes"] // n)
            common = {"k": K, "episodes": b["episodes"], "eval_every": b["episodes"],
                      "eval_episodes": evals}
            fa = train_sac(grid, SACConfig(**common, **FA_SETTINGS), seed,
                           callback=_ticker(bar, n))
            best, aloha = tune_aloha(grid, episodes=evals, seed=seed)
            metrics["n_users"].append(n)
            metrics["returns_fa"].append(fa.returns[-1])
            metrics["returns_aloha"].append(aloha[best])
            metrics["aloha_send_prob"].append(best)
            metrics["episodes"].append(b["episodes"])
            metrics["cpu_s_per_1000_user_episodes"].append(
                round(1000 * fa.cpu_s / (n * b["episodes"]), 5))
            metrics["critic_bytes"].append(fa.critic.nbytes)
            if n <= b["tabular_max_users"]:
                tab = train_sac(grid, SACConfig(**common), seed, callback=_ticker(bar, n))
                metrics["returns_tabular"].append(tab.returns[-1])
                metrics["tabular_entries_per_sample"].append(
                    round(tab.critic.entries / tab.td_samples, 4))
            else:
                metrics["returns_tabular"].append(None)
                metrics["tabular_entries_per_sample"].append(None)
    metrics.update(k=K, seed=seed, wall_s=round(time.perf_counter() - start, 1))
    return metrics
