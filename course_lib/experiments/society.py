"""Chapter 3's headline experiment: do strategic bidders learn to bid Q*?

For each toy task (bandit, chain, duality), each mechanism (bb, v, ccv, env) and each society
type (solitary: one copy per primitive; cloned: two), several seeds of societies are trained
with ``train_society``; their mean bids are compared with Q* from value iteration. A tabular
Q-learner with the same number of environment steps is the monolithic baseline.

Discounts: 0.99 for the bandit and the chain, as the authors' learners use (their code computes
the chain's reference Q with 1). The duality has no
terminal state, so its infinite-horizon values at 0.99 would be 50 and -100, and the 0.2 gap
between its two best actions in state 1 would be 0.13 % of that range; we use 0.9 (values
between -10 and 5) there. Q* is the infinite-horizon discounted value (``horizon`` null): the
episode caps are time limits, and the society bootstraps through them. The authors' code
instead sets the next bids to 0 at every cut; ``time_limit_ablation`` trains both ways on the
tasks whose episodes can be cut (the chain and the duality).

Bids are real numbers (a Gaussian around each primitive's mean bid), so no bid range has to
be fixed in advance: every Q* is representable.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..bidders import TIME_LIMITS, SocietyResult, train_society
from ..config import check_seed, resolve_quick
from ..envs.toy_mdps import TASKS, make_task, value_iteration
from ..progress import progress_bar
from ..q_learning import run_q_learning
from ..society import MECHANISMS
from ..stats import ci95_half_width

TITLE = "Chapter 3: cloned Vickrey societies on bandit, chain and duality"
SETTINGS: dict[str, dict[str, Any]] = {
    "bandit": {"gamma": 0.99, "lr": 0.02, "sigma": (0.3, 0.003), "n_envs": 64,
               "iterations": {"quick": 150, "full": 600}},
    "chain": {"gamma": 0.99, "lr": 0.02, "sigma": (0.3, 0.003), "n_envs": 32,
              "iterations": {"quick": 250, "full": 800}},
    "duality": {"gamma": 0.9, "lr": 0.2, "sigma": (3.0, 0.01), "n_envs": 32,
                "iterations": {"quick": 250, "full": 800}},
}
N_SEEDS = 3
CLONES = {False: 1, True: 2}
CUT_TASKS = ("chain", "duality")  # the bandit's episodes always end before the cap


def train_task(task: str, quick: bool | None = None, seed: int = 0, n_seeds: int = N_SEEDS,
               progress: bool = False, time_limit: str = "bootstrap") -> dict[bool, SocietyResult]:
    """Train every mechanism x ``n_seeds`` for one task, solitary and cloned.

    Returns ``{cloned: SocietyResult}``; run ``k`` of a result has mechanism
    ``MECHANISMS[k % 4]`` (``SocietyResult.mechanisms`` lists them). ``time_limit``: what an
    episode cut by its cap is worth (``train_society``).
    """
    cfg = SETTINGS[task]
    iterations = cfg["iterations"]["quick" if resolve_quick(quick) else "full"]
    mechanisms = [m for _ in range(n_seeds) for m in MECHANISMS]
    out = {}
    with progress_bar(2 * iterations, f"{task} societies", progress) as bar:
        for cloned, n_clones in CLONES.items():
            out[cloned] = train_society(
                make_task(task), mechanisms, n_clones, cfg["gamma"], iterations=iterations,
                n_envs=cfg["n_envs"], lr=cfg["lr"], sigma=cfg["sigma"],
                seed=seed + 1000 * n_clones, callback=lambda _: bar.update(1),
                time_limit=time_limit)
    return out


def ablation_rows(task: str, trained: dict[bool, SocietyResult],
                  time_limit: str) -> list[dict[str, Any]]:
    """``time_limit_ablation`` rows of one task trained one way."""
    return [{"task": task, "mechanism": m, "cloned": cloned, "time_limit": time_limit,
             **{k: row[k] for k in ("bid_error_greedy", "optimal_policy")}}
            for cloned in (False, True) for m in MECHANISMS
            for row in [summarize(task, trained[cloned], m)]]


def time_limit_ablation(quick: bool | None = None, seed: int = 0,
                        bootstrapped: dict[str, dict[bool, SocietyResult]] | None = None,
                        progress: bool = False) -> list[dict[str, Any]]:
    """Bid error of the winners and optimality per mechanism on the tasks with cuts, trained
    with both meanings of a cut (``TIME_LIMITS``). ``bootstrapped`` reuses runs already
    trained the default way (``train_task`` with the same quick mode and seed)."""
    rows = []
    for task in CUT_TASKS:
        for time_limit in TIME_LIMITS:
            if time_limit == "bootstrap" and bootstrapped and task in bootstrapped:
                trained = bootstrapped[task]
            else:
                trained = train_task(task, quick=quick, seed=seed, progress=progress,
                                     time_limit=time_limit)
            rows += ablation_rows(task, trained, time_limit)
    return rows


def q_star(task: str) -> np.ndarray:
    """Q* of a task at the discount this chapter uses for it."""
    return value_iteration(make_task(task), SETTINGS[task]["gamma"])


def summarize(task: str, result: SocietyResult, mechanism: str) -> dict[str, Any]:
    """The chapter's metrics for one (task, mechanism, society type)."""
    mdp, q = make_task(task), q_star(task)
    live = ~mdp.terminal
    runs = [k for k, m in enumerate(result.mechanisms) if m == mechanism]
    bids = result.mean_bids[runs][:, live]  # (seeds, live states, actions)
    target = q[live]
    errors = np.abs(bids - target).mean(axis=(1, 2))
    greedy = bids.argmax(axis=2)  # (seeds, live states)
    rows = np.arange(target.shape[0])
    greedy_errors = np.abs(np.take_along_axis(bids, greedy[..., None], 2)[..., 0]
                           - target.max(axis=1)).mean(axis=1)
    optimal = bool(np.all(np.isclose(target[rows, greedy], target.max(axis=1))))
    money = result.money_per_episode[runs]
    return {
        "task": task, "mechanism": mechanism, "cloned": result.n_clones > 1,
        "seeds": len(runs),
        "bid_error": float(errors.mean()), "bid_error_ci95": ci95_half_width(errors),
        "bid_error_greedy": float(greedy_errors.mean()),
        "bid_error_greedy_ci95": ci95_half_width(greedy_errors),
        "optimal_policy": optimal,
        "money_created_per_episode": float(money.mean()),
    }


def run(quick: bool | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    """Run the chapter's experiment; metric names are a public interface (see the CLI)."""
    quick = resolve_quick(quick)
    seed = check_seed(seed)
    start = time.perf_counter()
    results, q_learning, bootstrapped = [], {}, {}
    for task in TASKS:
        trained = bootstrapped[task] = train_task(task, quick=quick, seed=seed,
                                                  progress=progress)
        for cloned in (False, True):
            for mechanism in MECHANISMS:
                results.append(summarize(task, trained[cloned], mechanism))
        mdp, q = make_task(task), q_star(task)
        live = ~mdp.terminal
        # Q-learning gets as many environment steps as an average cloned-society run took.
        steps = int(trained[True].env_steps.mean())
        ql = run_q_learning(mdp, SETTINGS[task]["gamma"], steps, n_runs=N_SEEDS, seed=seed)
        greedy = ql.q[:, live].argmax(axis=2)
        target = q[live]
        q_learning[task] = {
            "optimal_policy": bool(np.all(np.isclose(
                target[np.arange(target.shape[0]), greedy], target.max(axis=1)))),
            "q_error": float(np.abs(ql.q[:, live] - target).mean()),
            "env_steps": ql.env_steps,
        }
    return {
        "q_star": {task: q_star(task).tolist() for task in TASKS},
        "gamma": {task: SETTINGS[task]["gamma"] for task in TASKS},
        "horizon": {task: None for task in TASKS},
        "results": results,
        "q_learning": q_learning,
        "time_limit_ablation": time_limit_ablation(quick, seed, bootstrapped, progress),
        "quick": quick,
        "seed": seed,
        "wall_s": round(time.perf_counter() - start, 3),
    }
