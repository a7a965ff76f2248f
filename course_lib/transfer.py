"""Transfer in Two Rooms: pre-train on reach-green, then keep training on reach-blue.

Three learners, each trained by the chapter's PPO, share the protocol:

* ``society``: the cloned ccv society of options (``course_lib.option_society``);
* ``hierarchical``: one PPO policy choosing among the same options, trained on the
  environment's return with the semi-MDP discount ``gamma**tau``;
* ``flat``: one PPO policy over the four primitive actions.

The options are frozen throughout. ``weight_shift`` (exercise 4.4) measures how much of a
learner changed during transfer; ``relative_change`` and ``effective_share_moved`` measure it
without a threshold and in each layer's own units, and ``paired_shift`` compares the society
and the hierarchical learner seed by seed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .contracts import Number
from .envs.two_rooms import make_two_rooms
from .exercises import exercise
from .option_society import train_option_society
from .options import Option, OptionEnv, load_options
from .ppo import PPOConfig, TrainingLog, train_ppo
from .stats import ci95_half_width, paired_difference
from .validation import as_list_of, check_choice, check_float, check_int

METHODS = ("society", "hierarchical", "flat")
PRETRAIN_TARGET, TRANSFER_TARGET = "green", "blue"
GAMMA = 0.99
WEIGHT_SHIFT_THRESHOLD = 0.01
# The thresholds of the weight-shift curve: from changes too small to matter to large ones.
SHIFT_THRESHOLDS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
SUCCESS_WINDOW = 4096  # env steps over which a success rate is measured
OBSERVATIONS = ("compact", "pixels")
OPTIMIZERS = ("adam", "sgd")

# The option-level learners use the authors' network width (one hidden layer of 16 units);
# the flat learner gets a wider one, like the options themselves.
CONFIGS = {
    "society": PPOConfig(gamma=GAMMA, n_envs=16, n_steps=16, hidden=(16,)),
    "hierarchical": PPOConfig(gamma=GAMMA, n_envs=16, n_steps=16, hidden=(16,)),
    "flat": PPOConfig(gamma=GAMMA, n_envs=8, n_steps=64, hidden=(64,)),
}
# Plain SGD needs far larger steps than Adam, whose steps are scaled per parameter. For the
# option learners, 1.0 was the best of 0.05, 0.2, 0.5 and 1.0 (seed 0, 30k + 30k steps, both
# views); the flat learner's SGD step is swept like its Adam step (``FLAT_SWEEP``).
SGD_LR = {"society": 1.0, "hierarchical": 1.0, "flat": 0.5}


def config_for(method: str, observation: str = "compact", optimizer: str = "adam",
               **overrides: Any) -> PPOConfig:
    """The PPO settings of ``method`` for one observation and optimizer (``overrides``
    replace single fields, e.g. ``lr`` or ``ent_coef`` for a sweep)."""
    method = check_method(method)
    observation = check_choice("observation", observation, OBSERVATIONS)
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    fields = dict(CONFIGS[method].__dict__, optimizer=optimizer)
    if optimizer == "sgd":
        fields["lr"] = SGD_LR[method]
    if observation == "pixels":
        fields["image_shape"] = make_two_rooms().image_shape
    unknown = set(overrides) - set(fields)
    if unknown:
        raise TypeError(f"unknown PPO settings: {sorted(unknown)}")
    return PPOConfig(**{**fields, **overrides})


# --------------------------------------------------------------------------------------
# Exercise 4.4
# --------------------------------------------------------------------------------------


def _as_arrays(params: Any, name: str) -> dict[str, np.ndarray]:
    if isinstance(params, nn.Module):
        params = params.state_dict()
    if not isinstance(params, Mapping):
        raise TypeError(f"{name} must be a state_dict (a mapping from names to tensors) or a "
                        f"torch module, got {type(params).__name__}")
    out = {}
    for key, value in params.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        arr = np.asarray(value)
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise TypeError(f"{name}[{key!r}] must hold numbers, got {arr.dtype}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name}[{key!r}] must be finite")
        out[key] = arr.astype(np.float64)
    return out


def _check_pair(before: Any, after: Any) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``before`` and ``after`` as float arrays naming the same parameters of equal shapes."""
    b, a = _as_arrays(before, "before"), _as_arrays(after, "after")
    if set(b) != set(a):
        raise ValueError(f"before and after must name the same parameters; only in before: "
                         f"{sorted(set(b) - set(a))}, only in after: {sorted(set(a) - set(b))}")
    for key in b:
        if b[key].shape != a[key].shape:
            raise ValueError(f"parameter {key!r} has shape {b[key].shape} before and "
                             f"{a[key].shape} after")
    if sum(x.size for x in b.values()) == 0:
        raise ValueError("there are no parameters to compare")
    return b, a


def _check_shift_args(before: Any, after: Any, threshold: Any) -> dict[str, Any]:
    b, a = _check_pair(before, after)
    return {"before": b, "after": a,
            "threshold": check_float("threshold", threshold, non_negative=True)}


@exercise("4.4", title="The weight-shift metric", validate=_check_shift_args,
          returns=Number(low=0.0, high=1.0))
def weight_shift(before: dict[str, np.ndarray], after: dict[str, np.ndarray],
                 threshold: float) -> float:
    """Fraction of all scalar parameters whose absolute change exceeds ``threshold``.

    Parameters
    ----------
    before, after : dict of str -> np.ndarray
        The same named parameters at two moments (a ``state_dict`` or a module may be passed;
        they arrive here as float arrays).
    threshold : float >= 0

    Returns
    -------
    float in [0, 1]
        ``#{scalars with |after - before| > threshold} / #{scalars}``, counted over every
        parameter together (a large layer weighs more than a small one).

    Examples
    --------
    >>> weight_shift({"w": [0.0, 1.0, 2.0, 3.0]}, {"w": [0.0, 1.5, 2.0, 2.0]}, 0.1)
    0.5
    """
    # TODO(exercise 4.4): count the moved scalars over all parameters together, not layer by layer,
    # and return a float.
    raise NotImplementedError


# --------------------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------------------


@dataclass
class TransferRun:
    """One learner's two phases: training logs, its weight shift, the trained learner and its
    parameters as they were at the end of pre-training."""

    method: str
    seed: int
    pretrain: TrainingLog
    transfer: TrainingLog
    weight_shift: float | None
    learner: nn.Module = field(repr=False)
    pretrained: dict[str, torch.Tensor] = field(repr=False, default_factory=dict)


def check_method(method: Any) -> str:
    return check_choice("method", method, METHODS)


def _option_env(target: str, options: list[Option],
                observation: str = "compact") -> Callable[[], OptionEnv]:
    return lambda: OptionEnv(make_two_rooms(target), options, GAMMA, observation)


def train_phase(method: str, target: str, steps: int, seed: int, learner: Any = None,
                options: list[Option] | None = None,
                callback: Callable[[int], None] | None = None,
                cfg: PPOConfig | None = None,
                observation: str = "compact") -> tuple[nn.Module, TrainingLog]:
    """Train (or continue training) one learner on one target for ``steps`` env steps.

    ``cfg`` defaults to ``config_for(method, observation)``; with ``observation="pixels"`` the
    learner sees MiniGrid's egocentric image and ``cfg.image_shape`` must say so.
    """
    method = check_method(method)
    observation = check_choice("observation", observation, OBSERVATIONS)
    cfg = cfg if cfg is not None else config_for(method, observation)
    if (cfg.image_shape is not None) != (observation == "pixels"):
        raise ValueError("cfg.image_shape must be set exactly when observation='pixels'")
    if method == "flat":
        return train_ppo(lambda: make_two_rooms(target, observation=observation), steps, cfg,
                         seed, learner, callback)
    options = options if options is not None else load_options()
    if method == "hierarchical":
        return train_ppo(_option_env(target, options, observation), steps, cfg, seed, learner,
                         callback)
    return train_option_society(_option_env(target, options, observation), steps, cfg,
                                seed=seed, society=learner, callback=callback)


def run_transfer(method: str, pretrain_steps: int, transfer_steps: int, seed: int = 0,
                 options: list[Option] | None = None,
                 threshold: float = WEIGHT_SHIFT_THRESHOLD,
                 callback: Callable[[int], None] | None = None,
                 observation: str = "compact", optimizer: str = "adam",
                 cfg: PPOConfig | None = None) -> TransferRun:
    """Pre-train ``method`` on reach-green, then continue on reach-blue.

    The weight shift compares the learner's parameters at the end of pre-training and at the
    end of transfer (``None`` for the flat learner, which the issue's comparison leaves out).
    ``cfg`` (default ``config_for(method, observation, optimizer)``) serves both phases.
    """
    method = check_method(method)
    pretrain_steps = check_int("pretrain_steps", pretrain_steps, 1)
    transfer_steps = check_int("transfer_steps", transfer_steps, 1)
    threshold = check_float("threshold", threshold, non_negative=True)
    cfg = cfg if cfg is not None else config_for(method, observation, optimizer)
    options = options if options is not None else load_options()
    learner, pre_log = train_phase(method, PRETRAIN_TARGET, pretrain_steps, seed,
                                   options=options, callback=callback, cfg=cfg,
                                   observation=observation)
    before = copy.deepcopy(learner.state_dict())
    learner, post_log = train_phase(method, TRANSFER_TARGET, transfer_steps, seed + 1000,
                                    learner, options,
                                    None if callback is None
                                    else lambda s: callback(pretrain_steps + s),
                                    cfg=cfg, observation=observation)
    shift = None if method == "flat" else weight_shift(before, learner.state_dict(), threshold)
    return TransferRun(method, seed, pre_log, post_log, shift, learner, before)


def weight_shift_curve(runs: list[TransferRun],
                       thresholds: tuple[float, ...] = SHIFT_THRESHOLDS) -> list[list[float]]:
    """The weight shift of several runs of one method at every threshold:
    ``[threshold, mean, low, high]`` rows, (low, high) a 95 % t-interval of the mean over the
    runs, clipped to [0, 1]. A single run says nothing about the spread between seeds: its
    interval is the whole of [0, 1]."""
    if not runs or len({r.method for r in runs}) != 1:
        raise ValueError("weight_shift_curve needs runs of one method")
    rows = []
    for threshold in thresholds:
        shifts = np.array([weight_shift(r.pretrained, r.learner.state_dict(), threshold)
                           for r in runs])
        mean, half = float(shifts.mean()), ci95_half_width(shifts)
        if shifts.size < 2:
            half = 1.0
        rows.append([float(threshold), mean, max(mean - half, 0.0), min(mean + half, 1.0)])
    return rows


def weight_shift_per_primitive(run: TransferRun,
                               threshold: float = WEIGHT_SHIFT_THRESHOLD) -> list[float]:
    """For a society's run: the weight shift of each primitive's bidder network, in order."""
    if run.method != "society":
        raise ValueError(f"only a society has one network per primitive, not {run.method!r}")
    after = run.learner.state_dict()
    shifts = []
    for k in range(len(run.learner.bidders)):
        mine = {key: value for key, value in after.items() if key.startswith(f"bidders.{k}.")}
        shifts.append(weight_shift({key: run.pretrained[key] for key in mine}, mine, threshold))
    return shifts


# --------------------------------------------------------------------------------------
# Scale-free measures of the shift
# --------------------------------------------------------------------------------------
#
# ``weight_shift`` counts scalars that moved by more than a fixed amount. That amount means
# different things in different networks: a layer initialised at a larger scale, or trained
# with larger steps, crosses it sooner. The two measures below use no threshold, and each
# layer's change is read in units of that layer's own size, so they can be compared between
# networks of different widths, depths and parametrisations.


def _layers(params: Mapping[str, np.ndarray]) -> dict[str, list[str]]:
    """Parameter names grouped by their module ("torso.0.weight" and "torso.0.bias" form the
    layer "torso.0"), in order."""
    layers: dict[str, list[str]] = {}
    for key in params:
        layers.setdefault(key.rsplit(".", 1)[0], []).append(key)
    return layers


def _layer_norm(params: Mapping[str, np.ndarray], keys: list[str]) -> float:
    return float(np.sqrt(sum(float((params[k] ** 2).sum()) for k in keys)))


def _checked_layers(before: Any, after: Any) -> tuple[dict[str, np.ndarray],
                                                       dict[str, np.ndarray],
                                                       dict[str, list[str]]]:
    b, a = _check_pair(before, after)
    layers = {name: keys for name, keys in _layers(b).items()
              if sum(b[k].size for k in keys) > 0}
    for name, keys in layers.items():
        if _layer_norm(b, keys) == 0.0:
            raise ValueError(f"layer {name!r} is all zeros in before: its relative change is "
                             "undefined")
    return b, a, layers


def relative_change_per_layer(before: Any, after: Any) -> dict[str, float]:
    """How far each layer moved, in units of its own size: ``||after_l - before_l|| /
    ||before_l||`` (Euclidean norms over the layer's weight and bias together).

    Parameters
    ----------
    before, after : state_dict or torch module
        The same named parameters at two moments; a layer is the set of parameters whose names
        share everything up to the last dot ("torso.0.weight", "torso.0.bias" -> "torso.0").

    Returns
    -------
    dict of str -> float >= 0
        One entry per layer, in order. Scaling a layer's parameters (before and after) by any
        factor leaves its entry unchanged; ``after = 2 * before`` gives 1.0.

    Raises
    ------
    ValueError
        When a layer is all zeros in ``before`` (its relative change has no meaning).
    """
    b, a, layers = _checked_layers(before, after)
    return {name: float(np.sqrt(sum(float(((a[k] - b[k]) ** 2).sum()) for k in keys))
                        / _layer_norm(b, keys))
            for name, keys in layers.items()}


def relative_change(before: Any, after: Any) -> float:
    """The mean over layers of ``relative_change_per_layer``: how far a typical layer moved,
    relative to its size.

    Each layer counts once whatever its size, so a network of three small sub-networks and a
    network of one are compared layer for layer; neither the number of parameters nor the
    scale at which a layer's weights live enters.

    Examples
    --------
    >>> relative_change({"a.weight": [3.0, 4.0], "b.weight": [1.0]},
    ...                 {"a.weight": [3.0, 4.0], "b.weight": [1.5]})  # (0 + 0.5) / 2
    0.25
    """
    return float(np.mean(list(relative_change_per_layer(before, after).values())))


def effective_share_moved(before: Any, after: Any) -> float:
    """The share of a network's scalars that carries its change, without a threshold.

    Each scalar's change is first put in units of its layer's typical weight,
    ``u_i = (after_i - before_i) / rms(before_l)``, then the participation ratio of those
    changes is taken::

        share = (sum_i u_i**2)**2 / (N * sum_i u_i**4)        (N: number of scalars)

    If ``k`` of the ``N`` scalars moved, all by the same amount (in their layers' units), and
    the rest stayed put, the share is exactly ``k / N``: the measure is a threshold-free
    version of ``weight_shift``. Spreading the change evenly raises it towards 1;
    concentrating it on a few scalars lowers it towards ``1 / N``.

    Returns
    -------
    float in [0, 1]
        0.0 when nothing moved. Multiplying every change by a constant, or rescaling any layer
        (before and after), leaves the share unchanged.

    Notes
    -----
    A layer that moved far relative to its own size dominates the sums: a policy head
    initialised near zero and little trained before transfer can hold nearly all of them, and
    the share is then about that layer's fraction of the network. Read it beside
    ``relative_change``, which counts every layer once.

    Examples
    --------
    >>> effective_share_moved({"w": [1.0, 1.0, 1.0, 1.0]}, {"w": [2.0, 0.0, 1.0, 1.0]})
    0.5
    """
    b, a, layers = _checked_layers(before, after)
    units = []
    for keys in layers.values():
        size = sum(b[k].size for k in keys)
        rms = _layer_norm(b, keys) / np.sqrt(size)
        units.extend(((a[k] - b[k]) / rms).ravel() for k in keys)
    u = np.concatenate(units)
    # Rescale before squaring twice: tiny changes would otherwise underflow to a 0/0.
    peak = np.abs(u).max()
    if peak == 0.0:
        return 0.0
    u = u / peak
    return float((u ** 2).sum() ** 2 / (u.size * (u ** 4).sum()))


SHIFT_MEASURES = {"weight_shift": "share of scalars that moved by more than the threshold",
                  "relative_change": "mean over layers of ||change|| / ||layer||",
                  "effective_share": "threshold-free share of scalars that carry the change"}


def shift_of(run: TransferRun, measure: str = "relative_change",
             threshold: float = WEIGHT_SHIFT_THRESHOLD) -> float:
    """One measure of ``SHIFT_MEASURES`` for one run, from the end of pre-training
    (``run.pretrained``) to the end of transfer (``run.learner``); ``threshold`` is used by
    ``weight_shift`` only."""
    if not isinstance(run, TransferRun):
        raise TypeError(f"run must be a TransferRun, got {type(run).__name__}")
    measure = check_choice("measure", measure, tuple(SHIFT_MEASURES))
    before, after = run.pretrained, run.learner.state_dict()
    if measure == "weight_shift":
        return weight_shift(before, after, check_float("threshold", threshold,
                                                       non_negative=True))
    return (relative_change if measure == "relative_change" else effective_share_moved)(
        before, after)


def pair_by_seed(runs: Any, first: str = "hierarchical",
                 second: str = "society") -> list[tuple[TransferRun, TransferRun]]:
    """The runs of two methods matched by seed: ``[(first's run, second's run), ...]`` in
    increasing seed order. Every seed must have exactly one run of each."""
    runs = as_list_of(runs, "runs", TransferRun, "TransferRun objects")
    first, second = check_method(first), check_method(second)
    if first == second:
        raise ValueError(f"first and second must be different methods, got {first!r} twice")
    by: dict[str, dict[int, TransferRun]] = {first: {}, second: {}}
    for r in runs:
        if r.method in by:
            if r.seed in by[r.method]:
                raise ValueError(f"two {r.method} runs share seed {r.seed}")
            by[r.method][r.seed] = r
    unmatched = sorted(set(by[first]) ^ set(by[second]))
    if unmatched:
        raise ValueError(f"seeds {unmatched} have a run of only one of {first!r} and "
                         f"{second!r}: every seed needs both to be paired")
    if not by[first]:
        raise ValueError(f"runs holds no pair of {first!r} and {second!r} runs")
    return [(by[first][s], by[second][s]) for s in sorted(by[first])]


def paired_shift(runs: Any, measure: str = "relative_change",
                 threshold: float = WEIGHT_SHIFT_THRESHOLD,
                 confidence: float = 0.95) -> dict[str, Any]:
    """Hierarchical minus society, seed by seed, for one shift measure.

    The two learners of one seed share their seed, their pre-training task's draws and the
    options; the difference within a seed cancels what they share, and the spread of those
    differences over seeds sets the interval.

    Parameters
    ----------
    runs : list of TransferRun
        Every seed needs one "society" and one "hierarchical" run (other methods are ignored).
    measure : one of ``SHIFT_MEASURES``
    threshold : float >= 0
        For ``measure="weight_shift"`` only.
    confidence : float in (0, 1)

    Returns
    -------
    dict
        ``stats.paired_difference(hierarchical, society)`` (``mean``, ``low``, ``high``,
        ``sd``, ``p_value``, ``n``, ``differences``) plus ``seeds``, ``hierarchical`` and
        ``society`` (the per-seed values), ``measure`` and, for ``weight_shift``,
        ``threshold``. A positive mean says the hierarchical learner shifted more.
    """
    measure = check_choice("measure", measure, tuple(SHIFT_MEASURES))
    threshold = check_float("threshold", threshold, non_negative=True)
    pairs = pair_by_seed(runs)
    hier = [shift_of(h, measure, threshold) for h, _ in pairs]
    soc = [shift_of(s, measure, threshold) for _, s in pairs]
    out = {"measure": measure, **paired_difference(hier, soc, confidence),
           "seeds": [h.seed for h, _ in pairs], "hierarchical": hier, "society": soc}
    if measure == "weight_shift":
        out["threshold"] = threshold
    return out


# --------------------------------------------------------------------------------------
# Reading a log
# --------------------------------------------------------------------------------------


def windowed_success(log: TrainingLog, window: int = SUCCESS_WINDOW,
                     min_episodes: int = 10) -> np.ndarray:
    """Success rate of the episodes that ended in the last ``window`` env steps, at every
    update of ``log`` (NaN until ``min_episodes`` episodes fall in the window)."""
    window = check_int("window", window, 1)
    steps = np.asarray(log.steps)
    wins = np.nan_to_num(np.asarray(log.success_rate)) * np.asarray(log.episodes)
    episodes = np.asarray(log.episodes, dtype=float)
    out = np.full(len(steps), np.nan)
    for k, s in enumerate(steps):
        inside = (steps > s - window) & (steps <= s)
        n = episodes[inside].sum()
        if n >= min_episodes:
            out[k] = wins[inside].sum() / n
    return out


def steps_to(log: TrainingLog, level: float = 0.9, window: int = SUCCESS_WINDOW) -> int | None:
    """The first env-step count at which the windowed success rate reached ``level``."""
    level = check_float("level", level)
    rate = windowed_success(log, window)
    hit = np.flatnonzero(np.nan_to_num(rate, nan=-1.0) >= level)
    return int(log.steps[hit[0]]) if hit.size else None


def final_success(log: TrainingLog, window: int = SUCCESS_WINDOW) -> float:
    """Success rate of the episodes that ended in the last ``window`` env steps (0.0 when
    none ended there: a learner that finishes no episode succeeds at none)."""
    rate = windowed_success(log, window, min_episodes=1)
    return float(rate[-1]) if log.steps and np.isfinite(rate[-1]) else 0.0


def chance_success(target: str = TRANSFER_TARGET, episodes: int = 200, seed: int = 0,
                   options: list[Option] | None = None) -> float:
    """Success rate of choosing options uniformly at random: the level to beat."""
    options = options if options is not None else load_options()
    env = _option_env(check_choice("target", target, ("green", "blue")), options)()
    rng = np.random.default_rng(seed)
    wins = 0
    for k in range(check_int("episodes", episodes, 1)):
        env.reset(seed=seed * 100_000 + k)
        while True:
            _, _, term, trunc, info = env.step(int(rng.integers(len(options))))
            if term or trunc:
                wins += info["success"]
                break
    return wins / episodes
