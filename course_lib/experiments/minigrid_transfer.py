"""Chapter 4's headline experiment: transfer from reach-green to reach-blue in Two Rooms.

For each seed, the society of options, the hierarchical monolithic learner and the flat
learner are pre-trained on reach-green and then trained on reach-blue for the same numbers of
environment steps (``course_lib.transfer.run_transfer``); options stay frozen.

Metrics (per phase and method): ``final_success``, the success rate of the episodes that
ended in the phase's last 4,096 environment steps, averaged over seeds; ``steps_to_90``, the
first step count at which that windowed rate reached 90 %, averaged over seeds (null unless
every seed got there). ``weight_shift``: the fraction of parameters that moved by more than
0.01 between the end of pre-training and the end of transfer, averaged over seeds.
``transfer_chance``: the success rate of picking options uniformly at random on reach-blue.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..config import check_seed, device_name, resolve_quick
from ..progress import progress_bar

TITLE = "Chapter 4: societies of options on MiniGrid Two Rooms, and transfer"
BUDGETS = {"quick": {"seeds": 1, "pretrain": 30_000, "transfer": 20_000},
           "full": {"seeds": 3, "pretrain": 50_000, "transfer": 50_000}}


def budgets(quick: bool | None = None) -> dict[str, int]:
    return BUDGETS["quick" if resolve_quick(quick) else "full"]


def train_all(quick: bool | None = None, seed: int = 0, progress: bool = False) -> list[Any]:
    """Every method x seed, both phases: a list of ``TransferRun``."""
    import torch

    from ..options import load_options
    from ..transfer import METHODS, run_transfer

    seed = check_seed(seed)
    b = budgets(quick)
    options = load_options()
    runs = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks: one thread is fastest and reproducible
    total = b["seeds"] * len(METHODS) * (b["pretrain"] + b["transfer"])
    try:
        with progress_bar(total, "Two Rooms transfer", progress) as bar:
            shown = [0]  # steps shown so far: phases overshoot their budgets a little
            for k, (s, method) in enumerate((s, m) for s in range(seed, seed + b["seeds"])
                                            for m in METHODS):
                base = k * (b["pretrain"] + b["transfer"])

                def advance(steps: int, base: int = base) -> None:
                    target = min(base + steps, total)
                    if target > shown[0]:
                        bar.update(target - shown[0])
                        shown[0] = target
                runs.append(run_transfer(method, b["pretrain"], b["transfer"], s, options,
                                         callback=advance))
    finally:
        torch.set_num_threads(threads)
    return runs


def _mean_or_none(values: list[int | None]) -> float | None:
    return None if any(v is None for v in values) else float(np.mean(values))


def summarize(runs: list[Any]) -> dict[str, Any]:
    """The chapter's metrics from ``train_all``'s runs (without timing)."""
    from ..transfer import METHODS, WEIGHT_SHIFT_THRESHOLD, final_success, steps_to

    metrics: dict[str, Any] = {}
    for phase in ("pretrain", "transfer"):
        metrics[phase] = {}
        for method in METHODS:
            logs = [getattr(r, phase) for r in runs if r.method == method]
            success = [final_success(log) for log in logs]
            reached = [steps_to(log, 0.9) for log in logs]
            metrics[phase][method] = {
                "final_success": float(np.mean(success)),
                "steps_to_90": _mean_or_none(reached),
                "final_success_per_seed": success,
                "steps_to_90_per_seed": reached,
            }
    shifts = {m: [r.weight_shift for r in runs if r.method == m]
              for m in ("society", "hierarchical")}
    metrics["weight_shift"] = {m: float(np.mean(v)) for m, v in shifts.items()}
    metrics["weight_shift_per_seed"] = shifts
    metrics["weight_shift_threshold"] = WEIGHT_SHIFT_THRESHOLD
    metrics["seeds"] = sorted({r.seed for r in runs})
    metrics["env_steps"] = int(sum(r.pretrain.steps[-1] + r.transfer.steps[-1] for r in runs))
    return metrics


def run(quick: bool | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    from ..transfer import chance_success

    start = time.perf_counter()
    metrics = summarize(train_all(quick, seed, progress))
    metrics["transfer_chance"] = chance_success(seed=check_seed(seed))
    metrics["wall_s"] = round(time.perf_counter() - start, 1)
    metrics["device"] = device_name()
    return metrics
