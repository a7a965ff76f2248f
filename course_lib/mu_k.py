"""μ(k) with error bars (chapter 6, section 7): selection, confirmation, search.

Lin et al.'s μ_i(k) is a supremum: the most user i's Q_i(s, a) changes when the states and
actions of every user beyond i's k-hop neighbourhood change at once. ``wireless_sac.measure_mu_k``
takes the maximum over random starts of a rollout estimate; that maximum is biased up by the
rollout noise of the starts it picks (the winner's curse) and down by the starts it never
tries. ``estimate_mu_k`` separates the two:

1. **selection**: ``starts`` random starts (as ``measure_mu_k``, but sparse and crowded: each
   start draws a share u ~ U(0, 1) and every queue slot holds a packet with probability u;
   valid actions uniform, a focal user i, a second draw with the same share for the far
   users), each |ΔQ_i| estimated from ``rollouts`` rollouts with common random numbers.
   Only starts whose focal user has someone beyond k hops count for k (for the others the
   gap is zero by construction);
2. **confirmation**: the ``candidates`` largest of them, re-estimated on ``confirm`` fresh
   rollouts (random numbers independent of stage 1), each with a confidence interval for
   |E ΔQ_i| (paired differences, normal approximation, Bonferroni over the candidates);
3. **search** (``search_steps`` > 0): from the best confirmed start, hill climbing over the
   far users' queues and actions (and the focal side's), proposals scored on one fixed set of
   rollouts; the start it ends on is re-estimated on independent rollouts.

The lower end of a confirmed interval is a lower confidence bound on μ_i(k) (the supremum is
at least the gap at any start); its upper end bounds that start's gap only, never μ(k). When
no rollout of any start differs, the result says so, with the rule of three: fewer than
3 / (starts × rollouts) of (start, rollout) pairs differ, with 95 % confidence.

Differences from the paper's definition, stated where the numbers are used (notebook 06):
Q_i is the discounted return over the episode's ``horizon`` steps from t = 0 (the paper's Q
is infinite-horizon), the supremum is replaced by what the random starts and the search
reach, and the policy is one trained policy (the definition asks for every policy).
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np

from .config import check_seed
from .envs.wireless import WirelessGrid, check_copies, check_grid, hop_distances
from .validation import check_int, check_unit
from .wireless_sac import check_policies, rollout_q

# Stage 2 and the search draw their random numbers from these offsets of the seed: streams
# that stage 1 (seed itself) never uses.
CONFIRM_STREAM = 1_000_003
SEARCH_STREAM = 2_000_003
RECHECK_STREAM = 3_000_017


def _paired(grid: WirelessGrid, probs: np.ndarray, base: tuple[np.ndarray, np.ndarray],
            other: tuple[np.ndarray, np.ndarray], far: np.ndarray, focal: np.ndarray,
            rollouts: int, seed: int, link_prob: float) -> np.ndarray:
    """Per start and rollout, Q_i(base) - Q_i(base with the ``far`` users from ``other``):
    (starts, rollouts), the two sides on common random numbers."""
    starts = len(focal)
    queues, acts = base
    mixed_q = np.where(far[..., None], other[0], queues)
    mixed_a = np.where(far, other[1], acts)

    def q(qs: np.ndarray, acs: np.ndarray) -> np.ndarray:
        values = rollout_q(grid, probs, np.repeat(qs, rollouts, 0), np.repeat(acs, rollouts, 0),
                           seed, link_prob).reshape(starts, rollouts, -1)
        return values[np.arange(starts), :, focal]

    return q(queues, acts) - q(mixed_q, mixed_a)


def _rows(config: tuple[np.ndarray, np.ndarray], rows: Any) -> tuple[np.ndarray, np.ndarray]:
    """The starts ``rows`` of a (queues, actions) configuration."""
    return config[0][rows], config[1][rows]


def _interval(diffs: np.ndarray, z: float) -> tuple[float, float, float]:
    """|mean| of paired differences (..., rollouts) and its confidence interval."""
    mean = diffs.mean(-1)
    half = z * diffs.std(-1, ddof=1) / np.sqrt(diffs.shape[-1])
    size = np.abs(mean)
    return size, np.maximum(size - half, 0.0), size + half


def estimate_mu_k(grid: WirelessGrid, probs: np.ndarray, starts: int = 400,
                  rollouts: int = 100, candidates: int = 10, confirm: int = 1000,
                  search_steps: int = 0, proposals: int = 16, link_prob: float = 0.0,
                  seed: int = 0, confidence: float = 0.95) -> dict[str, Any]:
    """μ(k) for the policies ``probs`` (n, S, A), k = 0, 1, ..., (largest hop distance) - 1,
    estimated in stages (see the module's docstring).

    Returns a dict of lists over k: ``eligible`` (starts whose focal user has someone beyond
    k hops), ``differ`` (their (start, rollout) pairs in which Q_i changed at all),
    ``zero_bound`` (the rule-of-three bound on that share when none did, else None),
    ``max``, ``mean`` and ``q95`` of the stage-1 gaps over the eligible starts, ``confirmed``
    (the confirmed estimate of the candidate with the highest lower bound) and ``ci`` (its
    [low, high]), and with a search ``search`` (the gap at the start it found, re-estimated)
    and ``search_ci``; plus ``settings``.
    """
    probs = check_policies(probs, check_grid(grid))
    starts = check_int("starts", starts, 1)
    rollouts = check_int("rollouts", rollouts, 2)
    candidates = check_int("candidates", candidates, 1)
    confirm = check_int("confirm", confirm, 2)
    search_steps = check_int("search_steps", search_steps, 0)
    proposals = check_int("proposals", proposals, 1)
    link_prob = check_unit("link_prob", link_prob)
    seed = check_seed(seed)
    confidence = check_unit("confidence", confidence, positive=True)
    if confidence >= 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    check_copies("starts * rollouts", starts * rollouts, grid)
    check_copies("candidates * confirm", min(candidates, starts) * confirm, grid)
    check_copies("proposals * rollouts", proposals * rollouts, grid)
    if search_steps and proposals < 2:
        raise ValueError("a search needs proposals >= 2 (the first is the current start)")
    rng = np.random.default_rng(seed)
    n, d = grid.n_users, grid.deadline
    valid = [np.flatnonzero(grid.valid[i]) for i in range(n)]

    def draw(count: int, density: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        queues = (rng.random((count, n, d)) < density[:, None, None]).astype(np.uint8)
        acts = np.stack([rng.choice(valid[i], count) for i in range(n)], 1)
        return queues, acts

    # sparse and crowded networks alike: each start its own share of occupied slots
    density = rng.random(starts)

    base, other = draw(starts, density), draw(starts, density)
    focal = rng.integers(0, n, starts)
    hops = hop_distances(grid.access)
    distance = hops[focal]                                  # (starts, n): hops from i
    alpha = 1 - confidence
    out: dict[str, list] = {key: [] for key in (
        "eligible", "differ", "zero_bound", "max", "mean", "q95", "confirmed", "ci",
        "search", "search_ci")}
    for k in range(int(hops.max())):
        far = distance > k
        eligible = np.flatnonzero(far.any(1))
        out["eligible"].append(len(eligible))
        if not len(eligible):
            for key in ("zero_bound", "max", "mean", "q95", "confirmed", "ci", "search",
                        "search_ci"):
                out[key].append(None)
            out["differ"].append(0)
            continue
        diffs = _paired(grid, probs, _rows(base, eligible), _rows(other, eligible),
                        far[eligible], focal[eligible], rollouts, seed, link_prob)
        gaps = np.abs(diffs.mean(1))
        differ = int(np.count_nonzero(diffs))
        out["differ"].append(differ)
        out["zero_bound"].append(3.0 / diffs.size if differ == 0 else None)
        out["max"].append(float(gaps.max()))
        out["mean"].append(float(gaps.mean()))
        out["q95"].append(float(np.quantile(gaps, 0.95)))
        # stage 2: the largest stage-1 gaps, on independent random numbers
        chosen = eligible[np.argsort(-gaps, kind="stable")[:candidates]]
        z = NormalDist().inv_cdf(1 - alpha / (2 * len(chosen)))
        again = _paired(grid, probs, _rows(base, chosen), _rows(other, chosen), far[chosen],
                        focal[chosen], confirm, seed + CONFIRM_STREAM, link_prob)
        size, low, high = _interval(again, z)
        best = int(np.argmax(low + 1e-12 * size))
        out["confirmed"].append(float(size[best]))
        out["ci"].append([float(low[best]), float(high[best])])
        if not search_steps:
            out["search"].append(None)
            out["search_ci"].append(None)
            continue
        start = chosen[best]
        found = _search(grid, probs, valid, _rows(base, [start]), _rows(other, [start]),
                        far[[start]], focal[[start]], search_steps, proposals, rollouts,
                        seed, link_prob, rng)
        final = _paired(grid, probs, found[0], found[1], far[[start]], focal[[start]],
                        confirm, seed + RECHECK_STREAM, link_prob)
        size, low, high = _interval(final, NormalDist().inv_cdf(1 - alpha / 2))
        out["search"].append(float(size[0]))
        out["search_ci"].append([float(low[0]), float(high[0])])
    return {**out, "k": list(range(len(out["eligible"]))),
            "settings": {"starts": starts, "rollouts": rollouts, "candidates": candidates,
                         "confirm": confirm, "search_steps": search_steps,
                         "proposals": proposals, "confidence": confidence,
                         "link_prob": link_prob, "horizon": grid.horizon}}


def _search(grid: WirelessGrid, probs: np.ndarray, valid: list[np.ndarray],
            base: tuple[np.ndarray, np.ndarray], other: tuple[np.ndarray, np.ndarray],
            far: np.ndarray, focal: np.ndarray, steps: int, proposals: int, rollouts: int,
            seed: int, link_prob: float, rng: np.random.Generator
            ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Hill climbing on |ΔQ_i| from one start: each step scores the current start and
    ``proposals - 1`` single changes of it (one queue slot flipped or one action redrawn, of
    one user, in the shared configuration or in the far users' other one) on one fixed set
    of rollouts, and moves to the best if it beats the current start, or to one that ties
    with it. Returns the (base, other) configurations it ends on."""
    n, d = grid.n_users, grid.deadline
    reps = np.repeat(far, proposals, 0)
    who = np.repeat(focal, proposals, 0)
    far_users = np.flatnonzero(far[0])
    for _ in range(steps):
        # proposal 0 is the current start: every proposal is scored on the same rollouts
        cand_b = [np.repeat(base[0], proposals, 0), np.repeat(base[1], proposals, 0)]
        cand_o = [np.repeat(other[0], proposals, 0), np.repeat(other[1], proposals, 0)]
        for p in range(1, proposals):
            if rng.random() < 0.5:  # the far users' side (the only users it sets)
                side, user = cand_o, int(rng.choice(far_users))
            else:  # the side both configurations share, and the far users' first values
                side, user = cand_b, int(rng.integers(n))
            if rng.random() < 0.5:
                side[0][p, user, rng.integers(d)] ^= 1
            else:
                side[1][p, user] = rng.choice(valid[user])
        diffs = _paired(grid, probs, tuple(cand_b), tuple(cand_o), reps, who, rollouts,
                        seed + SEARCH_STREAM, link_prob)
        scores = np.abs(diffs.mean(1))
        ties = np.flatnonzero(scores == scores.max())[::-1]  # the current start last
        # a better start if there is one, else a sideways step (a plateau, often of zeros,
        # is crossed by drifting, not by waiting)
        top = int(ties[0] if scores.max() > scores[0] else
                  rng.choice(ties[:-1]) if len(ties) > 1 else 0)
        if top:
            base = (cand_b[0][[top]], cand_b[1][[top]])
            other = (cand_o[0][[top]], cand_o[1][[top]])
    return base, other
