"""Figures shared by the notebooks. Each function draws on an ``ax`` (or makes one) and
returns the figure or axes, so notebooks stay short and tests can check the drawings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .auctions import equilibrium_bid_ratio, utility_curve
from .bucket_brigade import RULE_KINDS
from .society import MECHANISMS as SOCIETY_MECHANISMS

MECHANISM_COLORS = {"vickrey": "#1f77b4", "first_price": "#d62728"}
MECHANISM_LABELS = {"vickrey": "Vickrey (second price)", "first_price": "first price"}


def use_course_style() -> None:
    """A clean, readable matplotlib style used by every chapter."""
    plt.rcParams.update({
        "figure.figsize": (7.0, 4.0),
        "figure.dpi": 100,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "legend.frameon": False,
        "font.size": 10,
    })


def _axes(ax: Any | None, figsize: tuple[float, float] = (7.0, 4.0)) -> Any:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_utility_vs_bid(
    value: float,
    other_bids: Sequence[float],
    bid: float | None = None,
    ax: Any | None = None,
    max_bid: float | None = None,
) -> Any:
    """Your utility as a function of your bid, for both mechanisms, against fixed opponents."""
    ax = _axes(ax)
    top = max_bid if max_bid is not None else 1.25 * max(value, *other_bids, 1e-9)
    grid = np.linspace(0.0, top, 501)
    for mechanism in ("first_price", "vickrey"):
        ax.plot(grid, utility_curve(value, other_bids, mechanism, grid),
                color=MECHANISM_COLORS[mechanism], lw=2, label=MECHANISM_LABELS[mechanism])
    ax.axvline(value, color="k", ls="--", lw=1, label="your value (truthful bid)")
    ax.axvline(max(other_bids), color="grey", ls=":", lw=1, label="highest other bid")
    if bid is not None:
        for mechanism in ("first_price", "vickrey"):
            u = utility_curve(value, other_bids, mechanism, np.array([bid]))[0]
            ax.plot([bid], [u], "o", color=MECHANISM_COLORS[mechanism], ms=8)
    ax.set_xlabel("your bid")
    ax.set_ylabel("your utility")
    others = ", ".join(f"{b:.2f}" for b in other_bids)
    ax.set_title(f"Utility vs bid (your value {value:.2f}; the others bid {others})")
    ax.legend(loc="lower left", fontsize=9)
    return ax


def plot_deviation_gains(gains: Mapping[str, np.ndarray], ax: Any | None = None) -> Any:
    """Histogram, per mechanism, of the best gain from deviating from the truthful bid."""
    ax = _axes(ax, (7.0, 3.5))
    top = max(1e-9, *(float(np.max(g)) for g in gains.values()))
    bins = np.linspace(0.0, top * 1.001, 41)
    for mechanism, g in gains.items():
        ax.hist(np.maximum(g, 0.0), bins=bins, histtype="step", lw=2,
                color=MECHANISM_COLORS[mechanism], label=MECHANISM_LABELS[mechanism])
    ax.set_yscale("log")
    ax.set_xlabel("best gain from deviating from the truthful bid")
    ax.set_ylabel("number of cases")
    ax.set_title("How much could a bidder gain by lying?")
    ax.legend()
    return ax


def plot_learned_bids(results: Mapping[str, Any], ax: Any | None = None) -> Any:
    """Learned bid curves (one thin line per bidder) against the equilibrium bid lines."""
    ax = _axes(ax)
    v = np.linspace(0.0, 1.0, 2)
    for mechanism, res in results.items():
        color = MECHANISM_COLORS[mechanism]
        theory = equilibrium_bid_ratio(mechanism, res.n_bidders)
        ax.plot(v, theory * v, color=color, ls="--", lw=1.5,
                label=f"{MECHANISM_LABELS[mechanism]}: theory, bid = {theory:.3g} v")
        for i, ratios in enumerate(res.ratios):
            ax.plot(res.bin_centers, ratios * res.bin_centers, "o-", color=color, alpha=0.6,
                    ms=3, lw=1, label=f"{MECHANISM_LABELS[mechanism]}: learned" if i == 0 else None)
    ax.set_xlabel("value v")
    ax.set_ylabel("bid")
    ax.set_title("Learned bid curves vs equilibrium")
    ax.legend(fontsize=9)
    return ax


def plot_ratio_history(results: Mapping[str, Any], ax: Any | None = None) -> Any:
    """Each bidder's overall bid / value over training, with the theory as dashed lines."""
    ax = _axes(ax)
    for mechanism, res in results.items():
        color = MECHANISM_COLORS[mechanism]
        ax.plot(res.history, color=color, alpha=0.7, lw=1)
        ax.axhline(equilibrium_bid_ratio(mechanism, res.n_bidders), color=color, ls="--",
                   label=f"{MECHANISM_LABELS[mechanism]} equilibrium")
    ax.set_xlabel("iteration (each plays a batch of auctions)")
    ax.set_ylabel("learned bid / value")
    ax.set_title("Learning to bid")
    ax.legend(fontsize=9)
    return ax


def plot_ratio_vs_n(ns: Sequence[int], learned: Mapping[str, Sequence[float]],
                    ax: Any | None = None) -> Any:
    """Learned overall bid / value against the number of bidders, with theory curves."""
    ax = _axes(ax)
    n_fine = np.arange(min(ns), max(ns) + 1)
    for mechanism, ratios in learned.items():
        color = MECHANISM_COLORS[mechanism]
        ax.plot(n_fine, [equilibrium_bid_ratio(mechanism, int(n)) for n in n_fine], "--",
                color=color, label=f"{MECHANISM_LABELS[mechanism]}: theory")
        ax.plot(ns, ratios, "o", color=color, ms=7,
                label=f"{MECHANISM_LABELS[mechanism]}: learned")
    ax.set_xlabel("number of bidders n")
    ax.set_ylabel("bid / value")
    ax.set_xticks(list(ns))
    ax.set_title("Shading shrinks as competition grows")
    ax.legend(fontsize=9)
    return ax


def draw_economies() -> Any:
    """Command economy (one global policy) beside a market economy (primitives bidding)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax in (left, right):
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 6)
        ax.axis("off")
    box = {"boxstyle": "round,pad=0.4", "fc": "#f3f3f3", "ec": "#555555"}
    left.set_title("Command economy: one global objective")
    left.text(5, 5.0, "state s", ha="center", bbox=box)
    left.text(5, 3.0, "one policy  pi(a | s)\nmaximises total return", ha="center", bbox={
        **box, "fc": "#dbe9f6"})
    left.text(5, 1.0, "action a", ha="center", bbox=box)
    for y0, y1 in ((4.7, 3.7), (2.3, 1.4)):
        left.annotate("", (5, y1), (5, y0), arrowprops={"arrowstyle": "->", "lw": 1.5})
    right.set_title("Market economy: primitives buy and sell states")
    right.text(5, 5.2, "state s  (the item for sale)", ha="center", bbox=box)
    bids = (0.35, 0.80, 0.55)
    for i, (x, b) in enumerate(zip((1.8, 5.0, 8.2), bids, strict=True)):
        fc = "#fde0c5" if b == max(bids) else "#f3f3f3"
        right.text(x, 3.1, f"primitive {i}\nbid {b:.2f}", ha="center", bbox={**box, "fc": fc})
        right.annotate("", (x, 3.7), (5, 4.9), arrowprops={"arrowstyle": "<-", "lw": 1})
    right.text(5, 1.0, "winner acts, pays its price,\nand sells the next state on",
               ha="center", bbox={**box, "fc": "#fde0c5"})
    right.annotate("", (5, 1.6), (5, 2.6), arrowprops={"arrowstyle": "->", "lw": 1.5})
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# Chapter 2: the bucket brigade
# --------------------------------------------------------------------------------------

RULE_COLORS = {"assemble": "#2ca02c", "dawdle": "#ff7f0e", "scrap": "#7f7f7f"}


def plot_strength_history(result: Any, steady_state: Sequence[float] | None = None,
                          ax: Any | None = None, kinds: Sequence[str] = ("assemble",)) -> Any:
    """Strength of each rule over episodes (assemblers by default), with the steady state."""
    ax = _axes(ax)
    n_stages = result.line.n_stages
    shades = np.linspace(0.35, 1.0, n_stages)
    for j, kind in enumerate(RULE_KINDS):
        if kind not in kinds:
            continue
        for k in range(n_stages):
            ax.plot(result.strengths[:, 3 * k + j], color=RULE_COLORS[kind], alpha=shades[k],
                    lw=1.5, label=f"{kind} @ stage {k}")
    if steady_state is not None:
        for k, value in enumerate(steady_state):
            ax.axhline(value, color="k", ls=":", lw=1,
                       label="closed-form steady state" if k == 0 else None)
    ax.set_xlabel("episode")
    ax.set_ylabel("strength (money)")
    ax.set_title(f"Strengths over episodes (c_bid {result.c_bid}, tax {result.tax_rate}, "
                 f"{result.pricing} price)")
    ax.legend(fontsize=8, ncol=2)
    return ax


def plot_strengths_at(result: Any, episode: int, ax: Any | None = None,
                      top: float | None = None) -> Any:
    """Bar chart of every rule's strength after ``episode`` episodes."""
    ax = _axes(ax, (8.0, 3.5))
    values = result.strengths[episode]
    n_stages = result.line.n_stages
    width = 0.27
    for j, kind in enumerate(RULE_KINDS):
        ax.bar(np.arange(n_stages) + (j - 1) * width, values[j::3], width,
               color=RULE_COLORS[kind], label=kind)
    ax.set_xticks(range(n_stages), [f"stage {k}" for k in range(n_stages)])
    ax.set_ylabel("strength")
    ax.set_ylim(0, top if top is not None else 1.05 * result.strengths.max())
    ax.set_title(f"After episode {episode}")
    ax.legend(fontsize=9, loc="upper left")
    return ax


# --------------------------------------------------------------------------------------
# Chapter 3: societies of primitives
# --------------------------------------------------------------------------------------

SOCIETY_COLORS = {"bb": "#9467bd", "v": "#d62728", "ccv": "#1f77b4", "env": "#7f7f7f"}


def plot_bids_vs_q(q_star: np.ndarray, results: Mapping[bool, Any], live: np.ndarray,
                   task: str, axes: Sequence[Any] | None = None) -> Any:
    """Learned mean bids against Q*, one panel per mechanism; solitary hollow, cloned filled.

    ``results`` maps ``cloned`` (bool) to a ``SocietyResult`` holding runs of every mechanism.
    Every (state, action) of every seed is one marker; stars mark each state's best action.
    """
    if axes is None:
        _, axes = plt.subplots(1, len(SOCIETY_MECHANISMS), figsize=(13, 3.3))
    target = q_star[live]
    best = target == target.max(axis=1, keepdims=True)
    lo, hi = float(target.min()), float(target.max())
    pad = 0.15 * (hi - lo + 1e-9)
    for ax, mechanism in zip(axes, SOCIETY_MECHANISMS, strict=True):
        y_lo, y_hi = lo, hi
        for cloned, res in results.items():
            runs = [k for k, m in enumerate(res.mechanisms) if m == mechanism]
            bids = res.mean_bids[runs][:, live]
            y_lo, y_hi = min(y_lo, float(bids.min())), max(y_hi, float(bids.max()))
            x = np.broadcast_to(target, bids.shape)
            face = SOCIETY_COLORS[mechanism] if cloned else "none"
            label = "cloned" if cloned else "solitary"
            ax.scatter(x[:, ~best], bids[:, ~best], s=22, facecolors=face,
                       edgecolors=SOCIETY_COLORS[mechanism], label=label)
            ax.scatter(x[:, best], bids[:, best], s=70, marker="*", facecolors=face,
                       edgecolors=SOCIETY_COLORS[mechanism])
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="k", lw=1, ls="--")
        ax.set_xlim(lo - pad, hi + pad)
        margin = 0.08 * (y_hi - y_lo + 1e-9)
        ax.set_ylim(y_lo - margin, y_hi + margin)
        ax.set_title(f"{task}: {mechanism}")
        ax.set_xlabel("Q*(s, a)")
    axes[0].set_ylabel("learned mean bid")
    axes[0].legend(fontsize=8, loc="upper left")
    return axes


def plot_metric_bars(rows: Sequence[Mapping[str, Any]], metric: str, ax: Any | None = None,
                     log: bool = False) -> Any:
    """Bars of ``metric`` (with its ``<metric>_ci95`` whiskers when present) per task,
    mechanism and society type, from the rows of ``experiments.society.summarize``."""
    ax = _axes(ax, (11.0, 3.8))
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    width = 0.1
    for i, task in enumerate(tasks):
        for j, mechanism in enumerate(SOCIETY_MECHANISMS):
            for c, cloned in enumerate((False, True)):
                row = next(r for r in rows if r["task"] == task and r["mechanism"] == mechanism
                           and r["cloned"] == cloned)
                x = i + (2 * j + c - 3.5) * width
                ax.bar(x, row[metric], width, yerr=row.get(f"{metric}_ci95"),
                       color=SOCIETY_COLORS[mechanism] if cloned else "white",
                       edgecolor=SOCIETY_COLORS[mechanism], capsize=2,
                       label=(f"{mechanism} {'cloned' if cloned else 'solitary'}"
                              if i == 0 else None))
    ax.set_xticks(range(len(tasks)), tasks)
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"{metric} per task (hollow: solitary, filled: cloned; 95 % CI over seeds)")
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=8, ncol=4)
    return ax


def plot_bid_history(result: Any, run: int, q_star: np.ndarray, live: np.ndarray,
                     action_names: Sequence[str], ax: Any | None = None) -> Any:
    """One run's mean bids over training (solid) against Q* (dotted), per (state, action)."""
    ax = _axes(ax)
    history = result.bid_history[:, run]  # (snapshots, S, A)
    x = np.linspace(0, result.return_history.shape[0], history.shape[0])
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    k = 0
    for s in np.flatnonzero(live):
        for a, name in enumerate(action_names):
            color = colors[k % len(colors)]
            ax.plot(x, history[:, s, a], color=color, lw=1.5, label=f"s{s} {name}")
            ax.axhline(q_star[s, a], color=color, ls=":", lw=1)
            k += 1
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean bid")
    ax.set_title(f"{result.mechanisms[run]} ({'cloned' if result.n_clones > 1 else 'solitary'})"
                 ": bids over training (dotted: Q*)")
    ax.legend(fontsize=7, ncol=2)
    return ax


# --------------------------------------------------------------------------------------
# Chapter 4: societies of options
# --------------------------------------------------------------------------------------

METHOD_COLORS = {"society": "#2ca02c", "hierarchical": "#1f77b4", "flat": "#7f7f7f"}
OPTION_COLORS = ("#d62728", "#1f4fd6", "#2ca02c")  # red door, blue goal, green goal


def plot_auction(step: Any, option_names: Sequence[str], axes: Sequence[Any] | None = None,
                 title: str = "") -> Any:
    """One auction of a replayed episode: the frame beside every clone's bid (winner outlined).

    ``step`` is a ``SocietyStep`` (``frame``, ``bids`` of shape (P, C), ``winner``, ...).
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.5, 3.2), width_ratios=[1.3, 1])
    ax_frame, ax_bids = axes
    ax_frame.imshow(step.frame)
    ax_frame.set_axis_off()
    ax_frame.set_title(title)
    n_primitives, n_clones = step.bids.shape
    width = 0.8 / n_clones
    for p in range(n_primitives):
        for c in range(n_clones):
            won = p == step.winner and np.argmax(step.bids[p]) == c
            ax_bids.bar(p + (c - (n_clones - 1) / 2) * width, step.bids[p, c], width * 0.9,
                        color=OPTION_COLORS[p % 3], alpha=1.0 if won else 0.45,
                        edgecolor="black" if won else "none", linewidth=2)
    ax_bids.set_xticks(range(n_primitives), option_names, fontsize=8)
    ax_bids.set_ylim(0, 1)
    ax_bids.set_ylabel("bid")
    if step.winner >= 0:
        ax_bids.set_title(f"winner: {option_names[step.winner]} ({step.duration} steps)",
                          fontsize=10)
    else:
        ax_bids.set_title("episode over", fontsize=10)
    return axes


def plot_replay(steps: Sequence[Any], option_names: Sequence[str]) -> Any:
    """Every auction of a replayed episode, one row each (``plot_auction``)."""
    fig, axes = plt.subplots(len(steps), 2, figsize=(8.5, 3.0 * len(steps)),
                             width_ratios=[1.3, 1], squeeze=False)
    for k, (step, row) in enumerate(zip(steps, axes, strict=True)):
        plot_auction(step, option_names, row, title=f"auction {k}")
    fig.tight_layout()
    return fig


def plot_transfer_curves(runs: Sequence[Any], window: int = 4096,
                         axes: Sequence[Any] | None = None) -> Any:
    """Success rate against environment steps, pre-training then transfer, for every method:
    the mean over seeds (line) and the range of the seeds (band)."""
    from .transfer import windowed_success

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    grid = {}
    for ax, phase, title in zip(axes, ("pretrain", "transfer"),
                                ("pre-training: reach green", "transfer: reach blue"),
                                strict=True):
        for method in METHOD_COLORS:
            logs = [getattr(r, phase) for r in runs if r.method == method]
            if not logs:
                continue
            end = min(log.steps[-1] for log in logs)
            grid[phase] = x = np.linspace(0, end, 60)[1:]
            curves = np.array([np.interp(x, log.steps, np.nan_to_num(
                windowed_success(log, window, min_episodes=1), nan=0.0)) for log in logs])
            ax.plot(x, curves.mean(0), color=METHOD_COLORS[method], lw=2,
                    label=f"{method} ({len(logs)} seeds)")
            ax.fill_between(x, curves.min(0), curves.max(0), color=METHOD_COLORS[method],
                            alpha=0.2)
        ax.axhline(0.9, color="black", ls=":", lw=1)
        ax.set_title(title)
        ax.set_xlabel("environment steps")
    axes[0].set_ylabel(f"success (last {window:,} steps)")
    axes[0].set_ylim(-0.02, 1.02)
    axes[1].legend(loc="lower right")
    return axes


def plot_weight_shift(runs: Sequence[Any], thresholds: Sequence[float] | None = None,
                      marked: float = 0.01, ax: Any | None = None) -> Any:
    """Fraction of parameters that moved by more than a threshold during transfer, against the
    threshold, for the society and the hierarchical learner (one thin line per seed)."""
    from .transfer import weight_shift

    ax = _axes(ax)
    thresholds = np.logspace(-4, 0, 25) if thresholds is None else np.asarray(thresholds)
    for method in ("society", "hierarchical"):
        for k, run in enumerate(r for r in runs if r.method == method):
            after = run.learner.state_dict()
            fractions = [weight_shift(run.pretrained, after, float(t)) for t in thresholds]
            ax.plot(thresholds, fractions, color=METHOD_COLORS[method], lw=1.5,
                    label=method if k == 0 else None)
    ax.axvline(marked, color="black", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("threshold on |change of a weight|")
    ax.set_ylabel("fraction of weights moved")
    ax.set_title("weight shift during transfer")
    ax.legend()
    return ax


def plot_weight_shift_curves(curves: Mapping[str, Mapping[str, Sequence[Sequence[float]]]],
                             marked: float = 0.01, axes: Sequence[Any] | None = None) -> Any:
    """One panel per setting (``curves``: {title: {method: [threshold, mean, low, high]
    rows}}, as ``weight_shift_curve`` makes them): the mean weight shift of the society and
    the hierarchical learner against the threshold, with its 95 % band over seeds."""
    import matplotlib.pyplot as plt

    if not curves:
        raise ValueError("curves is empty")
    if axes is None:
        _, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.4), sharey=True,
                               squeeze=False)
        axes = axes[0]
    for ax, (title, by_method) in zip(axes, curves.items(), strict=True):
        for method, rows in by_method.items():
            t, mean, low, high = np.asarray(rows, dtype=float).T
            ax.plot(t, mean, color=METHOD_COLORS[method], lw=1.8, marker="o", ms=3,
                    label=method)
            ax.fill_between(t, low, high, color=METHOD_COLORS[method], alpha=0.2, lw=0)
        ax.axvline(marked, color="black", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel("threshold on |change of a weight|")
        ax.set_title(title, fontsize=10)
    axes[0].set_ylabel("fraction of weights moved")
    axes[0].legend()
    return axes


def plot_paired_shifts(entries: Mapping[str, Mapping[str, Any]], ax: Any | None = None) -> Any:
    """One row per weight-shift measure (``entries``: {label: a ``paired_shift`` result, with
    ``detectable`` from ``with_power``}): each seed's difference hierarchical minus society
    (dots), their mean and 95 % t-interval (bar), and the band of differences smaller than
    ``detectable`` (grey: a test with these seeds would miss them more than 20 % of the time).

    Measures have different units, so every row is divided by the society's mean of that
    measure: the axis reads "how much more (or less) the hierarchical learner shifted, as a
    fraction of what the society shifted". A row whose society mean is 0 is left out."""
    if not entries:
        raise ValueError("entries is empty")
    ax = _axes(ax, (7.0, 0.45 * len(entries) + 1.2))
    labels = []
    for label, entry in entries.items():
        scale = float(np.mean(entry["society"]))
        if scale == 0.0:
            continue
        y = -len(labels)
        labels.append(label)
        detectable = entry.get("detectable")
        if detectable is not None:
            ax.fill_between([-detectable / scale, detectable / scale], y - 0.35, y + 0.35,
                            color="0.85", lw=0)
        ax.plot(np.asarray(entry["differences"]) / scale, np.full(entry["n"], y), "o",
                color=METHOD_COLORS["hierarchical"], ms=4, alpha=0.6)
        if entry["low"] is not None:
            ax.plot([entry["low"] / scale, entry["high"] / scale], [y, y], color="black", lw=2)
        ax.plot([entry["mean"] / scale], [y], "D", color="black", ms=6)
    ax.axvline(0.0, color="black", ls=":", lw=1)
    ax.set_yticks(-np.arange(len(labels)), labels)
    ax.set_xlabel("(hierarchical - society) / society's mean")
    ax.set_title("paired differences over seeds: mean, 95 % interval, detectable band")
    ax.grid(axis="y", visible=False)
    return ax


# --------------------------------------------------------------------------------------
# Chapter 5: analogy-making on MNIST
# --------------------------------------------------------------------------------------

LEARNER_COLORS = {"society": "#1f77b4", "monolithic": "#ff7f0e"}


def plot_images(images: Any, titles: Sequence[str] | None = None, ncols: int = 9,
                size: float = 1.5) -> Any:
    """A grid of grey images (N, H, W) or (N, 1, H, W) in [0, 1], one title each."""
    x = np.asarray(images, dtype=float)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W) or (N, 1, H, W), got {x.shape}")
    if titles is not None and len(titles) != len(x):
        raise ValueError(f"need one title per image: {len(x)} images, {len(titles)} titles")
    ncols = min(max(int(ncols), 1), len(x))
    nrows = -(-len(x) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < len(x):
            ax.imshow(x[k], cmap="gray", vmin=0, vmax=1)
            if titles is not None:
                ax.set_title(titles[k], fontsize=8)
    return fig


def plot_analogy_curves(runs: Sequence[Any], baselines: Mapping[str, float] | None = None,
                        ax: Any | None = None) -> Any:
    """Greedy held-out reward against environment steps for each learner (mean over seeds
    and the seeds' range), with horizontal lines for ``baselines`` (e.g. no transformation,
    oracle)."""
    ax = _axes(ax)
    for name, color in LEARNER_COLORS.items():
        logs = [r.log for r in runs if r.learner_name == name]
        if not logs:
            continue
        x = np.asarray(logs[0].eval_steps)
        curves = np.array([log.eval_reward for log in logs])
        ax.plot(x, curves.mean(0), color=color, lw=2, marker="o", ms=3,
                label=f"{name} ({len(logs)} seed{'s' if len(logs) > 1 else ''})")
        if len(logs) > 1:
            ax.fill_between(x, curves.min(0), curves.max(0), color=color, alpha=0.2)
    for (label, value), style in zip((baselines or {}).items(), (":", "--", "-."),
                                     strict=False):
        ax.axhline(value, color="black", ls=style, lw=1)
        ax.annotate(f"{label} {value:.2f}", (0, value), xycoords=("axes fraction", "data"),
                    xytext=(4, 3), textcoords="offset points", fontsize=9)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("held-out reward (greedy)")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right")
    return ax


def plot_analogy_gallery(episode: Any, primitive_names: Sequence[str],
                         rows: Sequence[int] | None = None) -> Any:
    """Episodes as rows: the input, the image after each step (titled with the primitive and,
    for a society, its winning mean bid) and the classifier's verdict."""
    rows = list(range(len(episode.labels))) if rows is None else list(rows)
    steps = episode.actions.shape[1]
    fig, axes = plt.subplots(len(rows), steps + 1, figsize=(1.9 * (steps + 1),
                                                            1.9 * len(rows) + 0.2),
                             squeeze=False)
    for ax_row, i in zip(axes, rows, strict=True):
        for t, ax in enumerate(ax_row):
            ax.imshow(episode.images[i, t], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if t == 0:
                ax.set_title("input", fontsize=9)
            else:
                a = episode.actions[i, t - 1]
                bid = episode.bids[i, t - 1, a]
                ax.set_title(primitive_names[a] + ("" if np.isnan(bid) else f"\nbid {bid:.2f}"),
                             fontsize=9)
        ok = episode.rewards[i] > 0
        ax_row[-1].set_xlabel(f"reads {episode.predictions[i]} (is {episode.labels[i]})",
                              color="#2ca02c" if ok else "#d62728", fontsize=9)
    fig.tight_layout()
    return fig


def plot_primitive_bids(episode: Any, primitive_names: Sequence[str],
                        rows: Sequence[int] | None = None, step: int = 0) -> Any:
    """For a few inputs: the image seen at ``step`` beside every primitive's mean bid."""
    rows = list(range(len(episode.labels))) if rows is None else list(rows)
    fig, axes = plt.subplots(len(rows), 2, figsize=(7.5, 1.7 * len(rows) + 0.3),
                             gridspec_kw={"width_ratios": [1, 3]}, squeeze=False)
    for (img_ax, bar_ax), i in zip(axes, rows, strict=True):
        img_ax.imshow(episode.images[i, step], cmap="gray", vmin=0, vmax=1)
        img_ax.set_axis_off()
        bids = episode.bids[i, step]
        colors = ["#1f77b4" if k == np.argmax(bids) else "#c7c7c7" for k in range(len(bids))]
        bar_ax.barh(range(len(bids)), bids, color=colors)
        bar_ax.set_yticks(range(len(bids)), primitive_names, fontsize=8)
        bar_ax.set_xlim(0, 1)
        bar_ax.invert_yaxis()
    axes[-1, 1].set_xlabel(f"mean bid at step {step + 1}")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# Chapter 6: the wireless network
# --------------------------------------------------------------------------------------

K_COLORS = {0: "#7f7f7f", 1: "#1f77b4", 2: "#2ca02c"}


def _user_positions(grid: Any) -> np.ndarray:
    """(n, 2) x, y of every user: spread along the middle of its cell."""
    u = grid.users_per_cell
    pos = []
    for i in range(grid.n_users):
        r, c = grid.user_cell(i)
        j = i % u
        pos.append((c + (j + 1) / (u + 1), r + 0.5))
    return np.array(pos)


def _ap_positions(grid: Any) -> np.ndarray:
    return np.array([(ap % (grid.width - 1) + 1, ap // (grid.width - 1) + 1)
                     for ap in range(grid.n_aps)], dtype=float)


def draw_network(grid: Any, replay: Any = None, step: int | None = None,
                 ax: Any | None = None) -> Any:
    """The grid of cells, users (dots, with their queues) and access points (squares, with
    their success probability q), a thin line for every user-to-point link. With a
    ``replay`` and a ``step``: the sends of that step, green when delivered, red when they
    collided, orange when the channel was free but the send failed or the slot was empty."""
    ax = _axes(ax, (1.6 * grid.width + 1, 1.6 * grid.height + 0.6))
    users, aps = _user_positions(grid), _ap_positions(grid)
    for r in range(grid.height + 1):
        ax.plot([0, grid.width], [r, r], color="#dddddd", lw=1, zorder=0)
    for c in range(grid.width + 1):
        ax.plot([c, c], [0, grid.height], color="#dddddd", lw=1, zorder=0)
    for i, ap in zip(*np.nonzero(grid.access), strict=True):
        ax.plot(*zip(users[i], aps[ap], strict=True), color="#cccccc", lw=0.6, zorder=1)
    ax.scatter(aps[:, 0], aps[:, 1], marker="s", s=160, color="#9467bd", zorder=3)
    for k, (x, y) in enumerate(aps):
        ax.annotate(f"q={grid.success_prob[k]:.2f}", (x, y), xytext=(7, 5),
                    textcoords="offset points", fontsize=7, color="#9467bd")
    colors = np.full(grid.n_users, "#1f77b4", dtype=object)
    if replay is not None:
        t = 0 if step is None else int(step)
        queues = replay.queues[t]
        for i in np.flatnonzero(replay.sent[t] >= 0):
            color = ("#2ca02c" if replay.delivered[t, i] else
                     "#d62728" if replay.collided[t, i] else "#ff7f0e")
            colors[i] = color
            ax.annotate("", aps[replay.sent[t, i]], users[i],
                        arrowprops={"arrowstyle": "->", "color": color, "lw": 1.8}, zorder=2)
        for i, (x, y) in enumerate(users):
            ax.annotate("".join("■" if b else "□" for b in queues[i]), (x, y),
                        xytext=(0, -11), textcoords="offset points", ha="center",
                        fontsize=6)
        ax.set_title(f"step {t}: {int(replay.delivered[t].sum())} delivered, "
                     f"{int(replay.collided[t].sum())} collided "
                     f"(■ = packet, slot 0 first)", fontsize=10)
    ax.scatter(users[:, 0], users[:, 1], s=40, c=list(colors), zorder=4)
    ax.set_xlim(-0.1, grid.width + 0.1)
    ax.set_ylim(grid.height + 0.1, -0.1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def plot_sac_curves(runs: Sequence[Any], aloha: float | None = None,
                    ax: Any | None = None) -> Any:
    """Discounted per-user return against training episodes for every critic and k (mean over
    seeds, band = the seeds' range; tabular solid, linear dashed), with the tuned benchmark as
    a horizontal line."""
    ax = _axes(ax)
    groups = sorted({(r.config.critic, r.config.k) for r in runs}, key=lambda g: (-len(g[0]), g))
    for critic, k in groups:
        mine = [r for r in runs if r.config.k == k and r.config.critic == critic]
        x = np.asarray(mine[0].episodes)
        y = np.array([r.returns for r in mine])
        color = K_COLORS.get(k, None)
        name = "" if critic == "tabular" else f" ({critic})"
        ax.plot(x, y.mean(0), color=color, lw=2, ls="-" if critic == "tabular" else "--",
                label=f"SAC{name}, k = {k} ({len(mine)} seed{'s' if len(mine) > 1 else ''})")
        if len(mine) > 1:
            ax.fill_between(x, y.min(0), y.max(0), color=color, alpha=0.15)
    if aloha is not None:
        ax.axhline(aloha, color="#d62728", ls=":", lw=1.5, label=f"tuned ALOHA ({aloha:.3f})")
    ax.set_xlabel("training episodes")
    ax.set_ylabel("discounted return per user")
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_critic_size(entries: Mapping[str, float], full: Mapping[str, float],
                     returns: Mapping[str, float], axes: Sequence[Any] | None = None) -> Any:
    """Per k: the critic's table size (stored and full, log scale) beside the return."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    keys = sorted(entries)
    x = np.arange(len(keys))
    axes[0].bar(x - 0.2, [entries[k] for k in keys], 0.4, label="stored (visited)")
    axes[0].bar(x + 0.2, [full[k] for k in keys], 0.4, label="a full table", color="#c7c7c7")
    axes[0].set_yscale("log")
    axes[0].set_xticks(x, [f"k = {k[1:]}" for k in keys])
    axes[0].set_ylabel("Q-table entries, all users")
    axes[0].legend()
    axes[1].bar(x, [returns[k] for k in keys], color=[K_COLORS.get(int(k[1:])) for k in keys])
    axes[1].set_xticks(x, [f"k = {k[1:]}" for k in keys])
    axes[1].set_ylabel("discounted return per user")
    return axes


def plot_mu_decay(decay: Sequence[float], linked: Sequence[float] | None = None,
                  link_prob: float | None = None, ax: Any | None = None) -> Any:
    """Mean change of a user's Q when a user h hops away changes, per h (log scale; a change
    of exactly 0 is drawn at the bottom and labelled)."""
    ax = _axes(ax, (6, 3.5))
    series = [("access graph only", decay, "#1f77b4")]
    if linked is not None:
        series.append((f"with random links (rho = {link_prob})", linked, "#ff7f0e"))
    width = 0.8 / len(series)
    floor = min([v for _, vals, _ in series for v in vals if v > 0], default=1e-6) / 10
    for s, (label, values, color) in enumerate(series):
        h = np.arange(1, len(values) + 1) + (s - (len(series) - 1) / 2) * width
        shown = [v if v > 0 else floor for v in values]
        bars = ax.bar(h, shown, width, color=color, label=label, bottom=0)
        for bar, x, v in zip(bars, h, values, strict=True):
            if v <= 0:  # nothing measured: a faint stub labelled 0
                bar.set_alpha(0.25)
                ax.annotate("0", (x, floor), ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(1, len(decay) + 1))
    ax.set_xlabel("hop distance h between the two users")
    ax.set_ylabel("mean |change of Q_i|")
    ax.legend()
    return ax


def plot_critic_memory(runs: Sequence[Any], ax: Any | None = None) -> Any:
    """Critic memory against training episodes, one line per critic kind and k (first seed of
    each), log scale: a table grows with what it has seen, a parametric critic does not."""
    ax = _axes(ax, (6, 3.5))
    seen = set()
    for r in runs:
        key = (r.config.critic, r.config.k)
        if key in seen:
            continue
        seen.add(key)
        nbytes = np.asarray(r.critic_bytes, dtype=float)
        ax.plot(r.episodes, np.where(nbytes > 0, nbytes, np.nan), color=K_COLORS.get(r.config.k),
                ls="-" if r.config.critic == "tabular" else "--", marker=".",
                label=f"{r.config.critic}, k = {r.config.k}")
    ax.set_yscale("log")
    ax.set_xlabel("training episodes")
    ax.set_ylabel("critic memory (bytes)")
    ax.legend(fontsize=8)
    return ax


def plot_mu_k(mu: Mapping[str, Sequence[float]], label: str = "", ax: Any | None = None,
              color: str = "#1f77b4") -> Any:
    """mu(k): the maximum, a high quantile and the mean of |Delta Q_i| when everything beyond
    k hops is redrawn, against k (log scale; exact zeros drawn at the bottom as hollow)."""
    ax = _axes(ax, (6, 3.5))
    values = [v for key in ("max", "quantile", "mean") for v in mu[key] if v > 0]
    floor = min(values, default=1e-6) / 10
    for key, style in (("max", "-o"), ("quantile", "--s"), ("mean", ":^")):
        y = np.asarray(mu[key], dtype=float)
        ax.plot(mu["k"], np.where(y > 0, y, np.nan), style, color=color,
                label=f"{label} {key}".strip())
        zero = y <= 0
        ax.scatter(np.asarray(mu["k"])[zero], np.full(zero.sum(), floor), marker=style[-1],
                   facecolors="none", edgecolors=color)
    ax.set_yscale("log")
    ax.set_xticks(mu["k"])
    ax.set_xlabel("k (everything beyond k hops redrawn)")
    ax.set_ylabel("|change of Q_i|")
    ax.legend(fontsize=8)
    return ax


def plot_scale(metrics: Mapping[str, Sequence[Any]], axes: Sequence[Any] | None = None) -> Any:
    """Return (SAC with each critic, tuned ALOHA) and training cost per user-episode against
    the number of users, from ``run wireless-scale``'s metrics."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    n = np.asarray(metrics["n_users"])
    tab = np.array([np.nan if v is None else v for v in metrics["returns_tabular"]])
    axes[0].plot(n, metrics["returns_fa"], "-o", color="#2ca02c", label="SAC, linear critic")
    axes[0].plot(n, tab, "-s", color="#1f77b4", label="SAC, tabular critic")
    axes[0].plot(n, metrics["returns_aloha"], "--^", color="#d62728", label="tuned ALOHA")
    axes[0].set_ylabel("discounted return per user")
    axes[0].legend(fontsize=8)
    axes[1].plot(n, 1e3 * np.asarray(metrics["cpu_s_per_1000_user_episodes"]), "-o",
                 color="#2ca02c")
    axes[1].set_ylabel("CPU ms per 1,000 user-episodes")
    axes[1].set_ylim(bottom=0)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(n, [f"{v:,}" for v in n])
        ax.set_xlabel("users in the network")
    return axes
