"""Chapter 4's headline experiment: transfer from reach-green to reach-blue in Two Rooms.

For each seed, the society of options, the hierarchical monolithic learner and the flat
learner are pre-trained on reach-green and then trained on reach-blue for the same numbers of
environment steps (``course_lib.transfer.run_transfer``); options stay frozen.

Two variants (``VARIANTS``): ``observation`` "compact" (the fully observed one-hot vector,
small MLPs; default) or "pixels" (MiniGrid's 7 x 7 egocentric image; every primitive's bidder
has its own CNN, shared by its clones, and the hierarchical and flat learners one CNN each, as
in the authors' code); ``optimizer`` "adam" (default) or "sgd" (plain SGD).

Before the comparison the flat learner's learning rate and entropy bonus are chosen by a
small sweep (``FLAT_SWEEP``) on reach-green, on a seed the comparison does not use; the
option learners keep the authors' settings.

Metrics (per phase and method): ``final_success``, the success rate of the episodes that
ended in the phase's last 4,096 environment steps, averaged over seeds; ``steps_to_90``, the
first step count at which that windowed rate reached 90 %, averaged over seeds (null unless
every seed got there). ``weight_shift``: the fraction of parameters that moved by more than
0.01 between the end of pre-training and the end of transfer, averaged over seeds;
``weight_shift_curve``: the same at every threshold of ``SHIFT_THRESHOLDS``, as
[threshold, mean, low, high] with a 95 % t-interval over seeds.

The society and the hierarchical learner of one seed are compared as a pair (difference
hierarchical minus society, so a positive difference says the hierarchical learner shifted
more; ``course_lib.transfer.paired_shift``). Each paired entry holds ``mean`` (the mean
difference), ``low`` and ``high`` (its 95 % t-interval over seeds), ``sd`` (of the per-seed
differences), ``p_value`` (two-sided paired t-test), ``n``, ``differences``, ``seeds``, the
per-seed values of ``hierarchical`` and ``society``, ``detectable`` (the smallest true
difference a two-sided paired t-test at 5 % detects with probability 0.8, given ``sd`` and
``n``; null with fewer than two seeds or no spread) and ``verdict`` ("hierarchical larger",
"society larger" -- the interval excludes 0 -- "no difference detected" or "undetermined"
with one seed). ``weight_shift_paired``: one such entry per threshold of ``SHIFT_THRESHOLDS``
(with ``threshold``); ``weight_shift_relative``: for the mean over layers of
||change|| / ||layer|| (``relative_change``; the measure the verdict rests on,
``PRIMARY_MEASURE``); ``weight_shift_effective``: for the threshold-free share of scalars that
carry the change (``effective_share_moved``). ``weight_shift_power``: ``alpha``, ``power``,
``n``, ``primary`` and ``detectable`` for each of ``effective_share``, ``relative_change`` and
``weight_shift`` (at 0.01).

``transfer_chance``: the
success rate of picking options uniformly at random on reach-blue. ``flat_sweep``: every
setting tried (its mean success over the sweep run) and ``flat_sweep_budget``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..config import check_seed, device_name, resolve_quick
from ..progress import progress_bar
from ..validation import check_choice

TITLE = "Chapter 4: societies of options on MiniGrid Two Rooms, and transfer"
# Full mode runs five seeds: the weight-shift comparison is a paired t-test over seeds, and
# with three its 95 % interval is 4.3 standard errors wide (2.8 with five).
BUDGETS = {"quick": {"seeds": 1, "pretrain": 30_000, "transfer": 20_000},
           "full": {"seeds": 5, "pretrain": 50_000, "transfer": 50_000}}
# On images the CNN learners need longer: with 50k + 50k steps the society had not settled in
# pre-training (final success 0.71-0.97 over three seeds, under Adam and SGD alike), and a
# weight shift measured from an unsettled start mixes transfer with unfinished learning.
PIXEL_BUDGETS = {"quick": BUDGETS["quick"],
                 "full": {"seeds": 3, "pretrain": 100_000, "transfer": 100_000}}
VARIANTS = {"observation": ("compact", "pixels"), "optimizer": ("adam", "sgd")}
# The flat learner's sweep: learning rates as multiples of its default, entropy bonuses.
FLAT_SWEEP = {"quick": {"lr_factors": (0.4, 1.0), "ent_coefs": (0.01,)},
              "full": {"lr_factors": (0.4, 1.0, 2.0), "ent_coefs": (0.01, 0.05)}}
SWEEP_SEED_OFFSET = 100  # the sweep's seed lies outside the comparison's seeds
# The weight-shift test: a two-sided paired t-test at ALPHA, with power POWER for the
# smallest detectable difference. The verdict rests on the relative change: it has no
# threshold, reads each layer in its own units and counts every layer once. The effective
# share is read beside it but not trusted alone: a layer that moved far relative to its
# size (a policy head initialised near zero) holds nearly all of it, so it mostly measures
# what fraction of the network that layer is.
ALPHA, POWER = 0.05, 0.8
PRIMARY_MEASURE = "relative_change"


def budgets(quick: bool | None = None, observation: str = "compact") -> dict[str, int]:
    """Seeds and environment steps per phase for this mode and observation."""
    table = PIXEL_BUDGETS if check_choice("observation", observation,
                                          VARIANTS["observation"]) == "pixels" else BUDGETS
    return table["quick" if resolve_quick(quick) else "full"]


def _check_variant(observation: Any, optimizer: Any) -> tuple[str, str]:
    return (check_choice("observation", observation, VARIANTS["observation"]),
            check_choice("optimizer", optimizer, VARIANTS["optimizer"]))


def sweep_flat(quick: bool | None = None, seed: int = 0, observation: str = "compact",
               optimizer: str = "adam", bar: Any = None) -> tuple[list[dict[str, Any]], Any]:
    """Try every (learning rate, entropy bonus) of ``FLAT_SWEEP`` on reach-green for the
    pre-training budget, on seed ``seed + SWEEP_SEED_OFFSET``; returns one row per setting
    (``mean_success``: the windowed success rate averaged over the run, which rewards
    learning early as well as ending high) and the best setting's ``PPOConfig``."""
    from ..transfer import PRETRAIN_TARGET, config_for, train_phase, windowed_success

    observation, optimizer = _check_variant(observation, optimizer)
    grid = FLAT_SWEEP["quick" if resolve_quick(quick) else "full"]
    steps = budgets(quick, observation)["pretrain"]
    base = config_for("flat", observation, optimizer)
    rows, configs = [], []
    for factor in grid["lr_factors"]:
        for ent in grid["ent_coefs"]:
            cfg = config_for("flat", observation, optimizer, lr=base.lr * factor, ent_coef=ent)
            _, log = train_phase("flat", PRETRAIN_TARGET, steps, seed + SWEEP_SEED_OFFSET,
                                 cfg=cfg, observation=observation)
            rate = windowed_success(log)
            rows.append({"lr": cfg.lr, "ent_coef": ent,
                         "mean_success": float(np.nan_to_num(rate).mean())})
            configs.append(cfg)
            if bar is not None:
                bar.update(steps)
    best = int(np.argmax([r["mean_success"] for r in rows]))
    for k, row in enumerate(rows):
        row["chosen"] = k == best
    return rows, configs[best]


def train_all(quick: bool | None = None, seed: int = 0, progress: bool = False,
              observation: str = "compact", optimizer: str = "adam",
              ) -> tuple[list[Any], list[dict[str, Any]]]:
    """The flat sweep, then every method x seed, both phases: (``TransferRun`` list, sweep
    rows)."""
    import torch

    from ..options import load_options
    from ..transfer import METHODS, run_transfer

    seed = check_seed(seed)
    observation, optimizer = _check_variant(observation, optimizer)
    b = budgets(quick, observation)
    grid = FLAT_SWEEP["quick" if resolve_quick(quick) else "full"]
    n_sweep = len(grid["lr_factors"]) * len(grid["ent_coefs"])
    options = load_options()
    runs = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks: one thread is fastest and reproducible
    sweep_total = n_sweep * b["pretrain"]
    total = sweep_total + b["seeds"] * len(METHODS) * (b["pretrain"] + b["transfer"])
    try:
        with progress_bar(total, "Two Rooms transfer", progress) as bar:
            sweep, flat_cfg = sweep_flat(quick, seed, observation, optimizer, bar)
            shown = [sweep_total]  # steps shown so far: phases overshoot their budgets a little
            for k, (s, method) in enumerate((s, m) for s in range(seed, seed + b["seeds"])
                                            for m in METHODS):
                base = sweep_total + k * (b["pretrain"] + b["transfer"])

                def advance(steps: int, base: int = base) -> None:
                    target = min(base + steps, total)
                    if target > shown[0]:
                        bar.update(target - shown[0])
                        shown[0] = target
                runs.append(run_transfer(method, b["pretrain"], b["transfer"], s, options,
                                         callback=advance, observation=observation,
                                         optimizer=optimizer,
                                         cfg=flat_cfg if method == "flat" else None))
    finally:
        torch.set_num_threads(threads)
    return runs, sweep


def _mean_or_none(values: list[int | None]) -> float | None:
    return None if any(v is None for v in values) else float(np.mean(values))


def with_power(paired: dict[str, Any], alpha: float = ALPHA,
               power: float = POWER) -> dict[str, Any]:
    """A ``paired_shift`` result with ``detectable`` (the smallest true difference that a
    two-sided paired t-test at ``alpha`` detects with probability ``power``, from the observed
    SD of the differences; None with fewer than two seeds or no spread) and ``verdict``."""
    from ..stats import minimum_detectable_difference

    if not isinstance(paired, dict) or not {"mean", "low", "high", "sd", "n"} <= set(paired):
        raise TypeError("paired must be a result of course_lib.transfer.paired_shift (a dict "
                        "with mean, low, high, sd and n)")
    out = dict(paired)
    sd, n = paired["sd"], paired["n"]
    out["detectable"] = (minimum_detectable_difference(sd, n, alpha, power)
                         if n >= 2 and sd else None)
    if n < 2:
        out["verdict"] = "undetermined"
    elif paired["low"] > 0:
        out["verdict"] = "hierarchical larger"
    elif paired["high"] < 0:
        out["verdict"] = "society larger"
    else:
        out["verdict"] = "no difference detected"
    return out


def paired_metrics(runs: list[Any]) -> dict[str, Any]:
    """The paired weight-shift metrics of the module docstring, from runs holding one society
    and one hierarchical run per seed."""
    from ..transfer import SHIFT_THRESHOLDS, WEIGHT_SHIFT_THRESHOLD, paired_shift

    shares = [with_power(paired_shift(runs, "weight_shift", t)) for t in SHIFT_THRESHOLDS]
    out = {"weight_shift_paired": shares,
           "weight_shift_effective": with_power(paired_shift(runs, "effective_share")),
           "weight_shift_relative": with_power(paired_shift(runs, "relative_change"))}
    at = next(row for row in shares if row["threshold"] == WEIGHT_SHIFT_THRESHOLD)
    out["weight_shift_power"] = {
        "alpha": ALPHA, "power": POWER, "n": at["n"], "test": "two-sided paired t-test",
        "primary": PRIMARY_MEASURE,
        "detectable": {"effective_share": out["weight_shift_effective"]["detectable"],
                       "relative_change": out["weight_shift_relative"]["detectable"],
                       "weight_shift": at["detectable"]}}
    return out


def summarize(runs: list[Any]) -> dict[str, Any]:
    """The chapter's metrics from ``train_all``'s runs (without timing)."""
    from ..transfer import (
        METHODS,
        WEIGHT_SHIFT_THRESHOLD,
        final_success,
        steps_to,
        weight_shift_curve,
    )

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
    learners = ("society", "hierarchical")
    shifts = {m: [r.weight_shift for r in runs if r.method == m] for m in learners}
    metrics["weight_shift"] = {m: float(np.mean(v)) for m, v in shifts.items()}
    metrics["weight_shift_per_seed"] = shifts
    metrics["weight_shift_threshold"] = WEIGHT_SHIFT_THRESHOLD
    metrics["weight_shift_curve"] = {
        m: weight_shift_curve([r for r in runs if r.method == m]) for m in learners}
    metrics.update(paired_metrics(runs))
    metrics["parameters"] = {
        m: int(sum(p.numel() for p in next(r for r in runs if r.method == m).learner.parameters()))
        for m in METHODS}
    metrics["seeds"] = sorted({r.seed for r in runs})
    metrics["env_steps"] = int(sum(r.pretrain.steps[-1] + r.transfer.steps[-1] for r in runs))
    return metrics


def run(quick: bool | None = None, seed: int = 0, progress: bool = False,
        observation: str = "compact", optimizer: str = "adam") -> dict[str, Any]:
    from ..transfer import chance_success

    start = time.perf_counter()
    observation, optimizer = _check_variant(observation, optimizer)
    runs, sweep = train_all(quick, seed, progress, observation, optimizer)
    metrics = {"observation": observation, "optimizer": optimizer,
               "budgets": dict(budgets(quick, observation)), **summarize(runs)}
    metrics["flat_sweep"] = sweep
    metrics["flat_sweep_budget"] = {"settings": len(sweep), "seed": seed + SWEEP_SEED_OFFSET,
                                    "env_steps_each": budgets(quick, observation)["pretrain"],
                                    "task": "reach-green (pre-training)"}
    metrics["transfer_chance"] = chance_success(seed=check_seed(seed))
    metrics["wall_s"] = round(time.perf_counter() - start, 1)
    metrics["device"] = device_name()
    return metrics


def weight_shift_study(quick: bool | None = None, seed: int = 0, progress: bool = False,
                       observation: str = "pixels",
                       optimizers: tuple[str, ...] = ("adam", "sgd")) -> dict[str, Any]:
    """The two option learners alone (no flat learner, no sweep) under each optimizer: for
    notebook 04's test of the weight-shift finding in the authors' setting.

    Returns {optimizer: {"weight_shift_curve": {method: rows}, "weight_shift": {method: mean},
    "final_success": {phase: {method: mean}}, "seeds", "budgets", and the paired metrics
    ``weight_shift_paired``, ``weight_shift_effective``, ``weight_shift_relative`` and
    ``weight_shift_power`` of the module docstring}} with the budgets of
    ``budgets(quick, observation)``.
    """
    import torch

    from ..options import load_options
    from ..transfer import WEIGHT_SHIFT_THRESHOLD, final_success, run_transfer, weight_shift_curve

    seed = check_seed(seed)
    observation = check_choice("observation", observation, VARIANTS["observation"])
    optimizers = tuple(check_choice("optimizer", o, VARIANTS["optimizer"]) for o in optimizers)
    b = budgets(quick, observation)
    learners = ("society", "hierarchical")
    options = load_options()
    total = len(optimizers) * b["seeds"] * len(learners) * (b["pretrain"] + b["transfer"])
    out: dict[str, Any] = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with progress_bar(total, f"weight shift ({observation})", progress) as bar:
            for optimizer in optimizers:
                runs = []
                for s in range(seed, seed + b["seeds"]):
                    for method in learners:
                        runs.append(run_transfer(method, b["pretrain"], b["transfer"], s,
                                                 options, observation=observation,
                                                 optimizer=optimizer))
                        bar.update(b["pretrain"] + b["transfer"])
                by = {m: [r for r in runs if r.method == m] for m in learners}
                out[optimizer] = {
                    "weight_shift_curve": {m: weight_shift_curve(by[m]) for m in learners},
                    "weight_shift": {m: float(np.mean([r.weight_shift for r in by[m]]))
                                     for m in learners},
                    "weight_shift_threshold": WEIGHT_SHIFT_THRESHOLD,
                    "final_success": {phase: {m: float(np.mean([final_success(getattr(r, phase))
                                                                for r in by[m]]))
                                              for m in learners}
                                      for phase in ("pretrain", "transfer")},
                    "seeds": b["seeds"], "budgets": dict(b), **paired_metrics(runs)}
    finally:
        torch.set_num_threads(threads)
    return out


def compare_shifts(curve: dict[str, list[list[float]]]) -> list[dict[str, Any]]:
    """Per threshold of a ``weight_shift_curve`` pair {society, hierarchical}: both means and
    ``larger``, the learner whose 95 % interval lies wholly above the other's (None where the
    intervals overlap: no difference these seeds can establish)."""
    if set(curve) != {"society", "hierarchical"}:
        raise ValueError(f"curve must hold 'society' and 'hierarchical', got {sorted(curve)}")
    out = []
    for soc, hier in zip(curve["society"], curve["hierarchical"], strict=True):
        if soc[0] != hier[0]:
            raise ValueError("the two curves must share their thresholds")
        larger = ("hierarchical" if hier[2] > soc[3] else
                  "society" if soc[2] > hier[3] else None)
        out.append({"threshold": soc[0], "society": soc[1], "hierarchical": hier[1],
                    "larger": larger})
    return out
