"""Learning to bid in repeated auctions.

Chapter 1's learner. ``n_bidders`` bidders meet again and again; each round every bidder
draws a private value ``v ~ U[0, 1]`` and bids ``v * ratio``. A bidder keeps one ratio per
*value bin* (``n_bins`` equal bins of [0, 1]), so the shape of its bid curve is learned, not
assumed. The ratios follow a policy gradient on the bidder's own auction utility:

* explore: bid ``v * (ratio + sigma * eps)`` with ``eps ~ N(0, 1)``;
* score: ``(u - u_base) * eps / sigma`` estimates the gradient of expected utility with
  respect to the ratio (REINFORCE); ``u_base`` is the utility the bidder would have got by
  bidding exactly ``v * ratio`` against the same opponents, a baseline that does not depend
  on its own noise and so keeps the estimate unbiased while cutting its variance;
* step: a normalised (RMSProp-style) step on each bin's ratio, with a decaying step size
  and exploration, and the ratios averaged over the last quarter of training.

Nobody tells the bidders the theory: under Vickrey they should find ratio 1 (truthful), under
first price ``(n - 1) / n`` (shading).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .auctions import auction_utilities, check_mechanism
from .config import check_seed
from .contracts import Array
from .exercises import exercise
from .society import MECHANISMS as SOCIETY_MECHANISMS
from .society import money_created, society_auction, winner_utility
from .validation import (
    MAX_STEPS,
    as_float_array,
    as_index_array,
    check_callback,
    check_choice,
    check_float,
    check_int,
    check_schedule,
    check_size,
    check_tabular_mdp,
)


def _check_gradient_args(
    utilities: Any, baselines: Any, noise: Any, sigma: Any, bins: Any, n_bins: Any
) -> dict[str, Any]:
    arrays = {}
    for name, x in (("utilities", utilities), ("baselines", baselines), ("noise", noise)):
        arr = as_float_array(x, name, finite=True)
        if arr.ndim != 2:
            raise ValueError(f"{name} must have shape (batch, n_bidders), got {arr.shape}")
        arrays[name] = arr
    shape = arrays["utilities"].shape
    for name, arr in arrays.items():
        if arr.shape != shape:
            raise ValueError(f"{name} has shape {arr.shape}, expected {shape} like utilities")
    n_bins = check_int("n_bins", n_bins, 1)
    check_size("n_bidders * n_bins", shape[1] * n_bins)
    sigma = check_float("sigma", sigma, positive=True)
    bins_arr = as_index_array(bins, "bins", n_bins)
    if bins_arr.shape != shape:
        raise ValueError(f"bins must have shape {shape} like utilities, got {bins_arr.shape}")
    return {**arrays, "sigma": sigma, "bins": bins_arr, "n_bins": n_bins}


@exercise("1.4", title="Policy-gradient estimate for bid ratios", validate=_check_gradient_args,
          returns=Array(lambda a: (np.shape(a["utilities"])[1], a["n_bins"])))
def bid_ratio_gradient(
    utilities: np.ndarray,
    baselines: np.ndarray,
    noise: np.ndarray,
    sigma: float,
    bins: np.ndarray,
    n_bins: int,
) -> np.ndarray:
    """Estimate each bidder's gradient of expected utility with respect to each bin's ratio.

    Every sample contributes ``(utilities - baselines) * noise / sigma`` to the bin its value
    fell in; the estimate for a (bidder, bin) is the **mean** over the samples in that bin
    (0 for a bin that received no sample).

    Parameters
    ----------
    utilities, baselines, noise : np.ndarray, shape (batch, n_bidders)
        Realised utilities, the no-noise baseline utilities, and the standard normal
        exploration noise ``eps`` of each bidder in each auction.
    sigma : float
        Exploration scale (> 0): the bid ratio was ``ratio + sigma * eps``.
    bins : np.ndarray of int, shape (batch, n_bidders)
        Value bin of each bidder in each auction, in ``[0, n_bins)``.
    n_bins : int
        Number of value bins.

    Returns
    -------
    np.ndarray, shape (n_bidders, n_bins)
    """
    # TODO(exercise 1.4): a grouped mean: average the scores per (bidder, value bin); several
    # samples can share a cell, and empty cells stay 0.
    raise NotImplementedError


@dataclass
class LearnToBidResult:
    """What ``learn_to_bid`` learned.

    Attributes
    ----------
    mechanism : str
    ratios : np.ndarray, shape (n_bidders, n_bins)
        Learned bid / value in each value bin (averaged over the last quarter of training).
    bin_centers : np.ndarray, shape (n_bins,)
    history : np.ndarray, shape (iterations, n_bidders)
        Each bidder's value-weighted mean ratio after every iteration (a learning curve).
    """

    mechanism: str
    ratios: np.ndarray
    bin_centers: np.ndarray
    history: np.ndarray

    def __post_init__(self) -> None:
        self.ratios = as_float_array(self.ratios, "ratios", finite=True)
        if self.ratios.ndim != 2 or 0 in self.ratios.shape:
            raise ValueError(f"ratios must have shape (n_bidders, n_bins), both >= 1, got "
                             f"{self.ratios.shape}")

    @property
    def n_bidders(self) -> int:
        return self.ratios.shape[0]

    def overall_ratio(self) -> float:
        """The learned bid / value over all values: the slope of the least-squares line
        through the origin fitted to bid(v) for v ~ U[0, 1], averaged over bidders."""
        return float(np.mean(weighted_ratio(self.ratios)))


def weighted_ratio(ratios: np.ndarray) -> np.ndarray:
    """Least-squares slope through the origin of a per-bin bid curve, for v ~ U[0, 1].

    With bid ``ratio_k * v`` on bin ``k``, the slope is ``sum_k ratio_k * w_k`` where ``w_k``
    is the share of ``v**2`` mass in bin ``k``. Works on the last axis.
    """
    ratios = as_float_array(ratios, "ratios", finite=True)
    if ratios.ndim < 1 or ratios.shape[-1] < 1:
        raise ValueError(f"ratios must have shape (..., n_bins) with n_bins >= 1, got "
                         f"{ratios.shape}")
    n_bins = ratios.shape[-1]
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    w = np.diff(edges**3)  # integral of v^2 over each bin, times 3
    return ratios @ (w / w.sum())


def learn_to_bid(
    mechanism: str,
    n_bidders: int = 3,
    n_bins: int = 10,
    iterations: int = 400,
    batch: int = 4096,
    lr: float = 0.05,
    sigma: tuple[float, float] = (0.2, 0.02),
    init_ratio: float = 0.5,
    seed: int = 0,
    callback: Callable[[int], None] | None = None,
) -> LearnToBidResult:
    """Let ``n_bidders`` learners bid against each other in ``iterations * batch`` auctions.

    Parameters
    ----------
    mechanism : {"first_price", "vickrey"}
    n_bidders : int
        At least 2.
    n_bins : int
        Value bins per bidder (each has its own ratio).
    iterations : int
        Gradient steps; each plays ``batch`` auctions at once.
    lr : float
        Initial step size of the normalised update (decays as ``1 / sqrt(1 + t / 25)``).
    sigma : (float, float)
        Exploration scale at the start and at the end (geometric schedule).
    init_ratio : float
        Every ratio starts here (0.5: everyone starts by shading hard).
    callback : callable, optional
        Called with the iteration index after every step (progress bars).
    """
    check_mechanism(mechanism)
    n_bidders = check_int("n_bidders", n_bidders, 2)
    n_bins = check_int("n_bins", n_bins, 1)
    iterations = check_int("iterations", iterations, 1, MAX_STEPS)
    batch = check_int("batch", batch, 1)
    for what, size in (("n_bidders * n_bins", n_bidders * n_bins),
                       ("iterations * n_bidders", iterations * n_bidders),
                       ("batch * n_bidders**2", batch * n_bidders**2)):
        check_size(what, size)
    lr = check_float("lr", lr, positive=True)
    init_ratio = check_float("init_ratio", init_ratio, non_negative=True)
    sigma0, sigma1 = check_schedule("sigma", sigma)
    check_callback(callback)
    rng = np.random.default_rng(check_seed(seed))
    ratios = np.full((n_bidders, n_bins), float(init_ratio))
    mean_sq = np.zeros_like(ratios)
    averaged, n_averaged = np.zeros_like(ratios), 0
    history = np.empty((iterations, n_bidders))
    who = np.arange(n_bidders)
    for t in range(iterations):
        s = sigma0 * (sigma1 / sigma0) ** (t / max(iterations - 1, 1))
        values = rng.random((batch, n_bidders))
        bins = np.minimum((values * n_bins).astype(int), n_bins - 1)
        eps = rng.standard_normal((batch, n_bidders))
        mean_ratio = ratios[who, bins]
        bids = values * np.maximum(mean_ratio + s * eps, 0.0)
        utilities = auction_utilities(values, bids, mechanism)
        # Baseline for bidder i: bid v_i * ratio exactly, everyone else unchanged.
        # Layout (bidder i, auction, bidder) so all n counterfactual auctions run at once.
        cf_bids = np.broadcast_to(bids, (n_bidders, batch, n_bidders)).copy()
        cf_bids[who, :, who] = (values * mean_ratio).T
        cf_utils = auction_utilities(np.broadcast_to(values, cf_bids.shape), cf_bids, mechanism)
        baselines = cf_utils[who, :, who].T
        grad = bid_ratio_gradient(utilities, baselines, eps, s, bins, n_bins)
        mean_sq = grad**2 if t == 0 else 0.95 * mean_sq + 0.05 * grad**2
        ratios += lr / np.sqrt(1.0 + t / 25.0) * grad / np.sqrt(mean_sq + 1e-12)
        np.maximum(ratios, 0.0, out=ratios)
        if t >= (3 * iterations) // 4:
            averaged += ratios
            n_averaged += 1
        history[t] = weighted_ratio(ratios)
        if callback is not None:
            callback(t)
    centers = (np.arange(n_bins) + 0.5) / n_bins
    return LearnToBidResult(mechanism, averaged / n_averaged, centers, history)


# ======================================================================================
# Chapter 3: a society of primitives learns to bid in every state of a tabular MDP
# ======================================================================================


@dataclass
class SocietyResult:
    """What ``train_society`` learned, for ``R`` independent runs on one task.

    Attributes
    ----------
    mechanisms : list of str, length R
        The mechanism of each run.
    n_clones : int
    gamma : float
    mean_bids : np.ndarray, shape (R, n_states, n_actions)
        Each primitive's mean bid in each state (the centre of its bid distribution).
    money_per_episode : np.ndarray, shape (R,)
        Money created from nothing per episode, averaged over the last quarter of training.
    bid_history : np.ndarray, shape (n_snapshots, R, n_states, n_actions)
        ``mean_bids`` at evenly spaced iterations (for learning-curve plots).
    return_history : np.ndarray, shape (iterations, R)
        Average undiscounted episode return of each run at every iteration.
    env_steps : np.ndarray of int, shape (R,)
        Environment steps (actions taken) by each run over the whole training.
    """

    mechanisms: list[str]
    n_clones: int
    gamma: float
    mean_bids: np.ndarray
    money_per_episode: np.ndarray
    bid_history: np.ndarray
    return_history: np.ndarray
    env_steps: np.ndarray


def _bin_means(values: np.ndarray, bins: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` per (column, bin) and the counts; ``values``/``bins``: (batch, n)."""
    n = values.shape[1]
    index = (np.arange(n) * n_bins + bins).ravel()
    total = np.bincount(index, weights=values.ravel(), minlength=n * n_bins).reshape(n, n_bins)
    count = np.bincount(index, minlength=n * n_bins).reshape(n, n_bins)
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0), count


TIME_LIMITS = ("bootstrap", "zero")  # what a time-limit cut is worth: one more auction, or 0


def train_society(
    mdp: Any,
    mechanisms: list[str],
    n_clones: int,
    gamma: float,
    iterations: int = 500,
    n_envs: int = 64,
    lr: float = 0.02,
    sigma: tuple[float, float] = (0.3, 0.01),
    init_bid: float = 0.0,
    seed: int = 0,
    n_snapshots: int = 50,
    callback: Callable[[int], None] | None = None,
    time_limit: str = "bootstrap",
) -> SocietyResult:
    """Train societies of strategic bidders on a tabular MDP, one per entry of ``mechanisms``.

    Every primitive (an action of ``mdp``) keeps one mean bid per state; each of its
    ``n_clones`` clones bids ``mean + sigma * eps`` independently, ``eps ~ N(0, 1)``. The
    highest bid wins (``society_auction``) and the winner's utility follows its run's mechanism
    (``winner_utility``); losers get 0. Each primitive then moves its mean bid in each state
    along the policy-gradient estimate of its own utility (``bid_ratio_gradient`` from
    chapter 1, with states in the role of value bins), with a running-average baseline, a
    normalised step whose size decays like ``1/sqrt(1 + t/25)``, and exploration ``sigma``
    shrinking geometrically from ``sigma[0]`` to ``sigma[1]``.

    When an episode hits the time limit in a non-terminal state, one more auction is held
    there without acting: its bids pay the last seller (the state still has value) but its
    winner is not trained (``time_limit="bootstrap"``). With ``time_limit="zero"`` the cut is
    treated like an end, as the authors' code does: the next bids at the last step of every
    episode are 0. A terminal state holds no auction: the next terms are 0.

    All runs share one batch of arrays, so many mechanisms and seeds train at once.
    """
    check_tabular_mdp(mdp)
    if not isinstance(mechanisms, (list, tuple)) or not mechanisms:
        raise TypeError("mechanisms must be a non-empty list of mechanism names")
    mechanisms = [check_choice(f"mechanisms[{i}]", m, SOCIETY_MECHANISMS)
                  for i, m in enumerate(mechanisms)]
    n_clones = check_int("n_clones", n_clones, 1)
    gamma = check_float("gamma", gamma)
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must lie in [0, 1], got {gamma}")
    iterations = check_int("iterations", iterations, 1, MAX_STEPS)
    n_envs = check_int("n_envs", n_envs, 1)
    lr = check_float("lr", lr, positive=True)
    sigma0, sigma1 = check_schedule("sigma", sigma)
    init_bid = check_float("init_bid", init_bid)
    n_snapshots = check_int("n_snapshots", n_snapshots, 1)
    time_limit = check_choice("time_limit", time_limit, TIME_LIMITS)
    check_callback(callback)
    R, E, C = len(mechanisms), n_envs, n_clones
    S, A, T = mdp.n_states, mdp.n_actions, mdp.max_steps
    for what, size in (
            ("len(mechanisms) * n_envs * (max_steps + 1) * n_actions * n_clones",
             R * E * (T + 1) * A * C),
            ("iterations * len(mechanisms)", iterations * R),
            ("min(n_snapshots, iterations) * len(mechanisms) * n_states * n_actions",
             min(n_snapshots, iterations) * R * S * A)):
        check_size(what, size)

    rng = np.random.default_rng(check_seed(seed))
    mean = np.full((R, A, S), init_bid)
    mean_sq = np.zeros_like(mean)
    baseline = np.zeros_like(mean)
    runs = np.arange(R)[:, None]
    money_sum, money_n = np.zeros(R), 0
    env_steps = np.zeros(R, dtype=int)
    snapshot_at = set(np.linspace(0, iterations - 1, min(n_snapshots, iterations)).astype(int))
    bid_history, return_history = [], np.empty((iterations, R))
    for it in range(iterations):
        s_t = sigma0 * (sigma1 / sigma0) ** (it / max(iterations - 1, 1))
        # ---- roll out E episodes per run; step T is a bootstrap-only auction ----
        state = np.full((R, E), mdp.start_state)
        alive = np.ones((R, E), dtype=bool)
        states = np.zeros((R, E, T + 1), dtype=int)  # steps after every episode ended stay 0
        held = np.zeros((R, E, T + 1), dtype=bool)
        rewards = np.zeros((R, E, T))
        noise = rng.standard_normal((R, E, T + 1, A, C))
        for t in range(T + 1):
            states[:, :, t], held[:, :, t] = state, alive
            if t == T or not alive.any():
                break
            bids = mean.transpose(0, 2, 1)[runs, state][..., None] + s_t * noise[:, :, t]
            action = np.asarray(society_auction(bids).primitive)
            rewards[:, :, t] = np.where(alive, mdp.rewards[state, action], 0.0)
            state = np.where(alive, mdp.transitions[state, action], state)
            alive = alive & ~mdp.terminal[state]
        # ---- every clone's bid at every step, and the winners' utilities ----
        per_state = mean.transpose(0, 2, 1)[runs[..., None], states]  # (R, E, T+1, A)
        flat = (per_state[..., None] + s_t * noise).reshape(R, E, T + 1, A * C)
        acted, next_held = held[:, :, :T], held[:, :, 1:]
        if time_limit == "zero":  # the cut as an end: no next auction prices the last state
            next_held = next_held.copy()
            next_held[:, :, T - 1] = False
        env_steps += acted.sum(axis=(1, 2))
        utilities = np.zeros((R, E, T, A * C))
        winner = np.argmax(flat[:, :, :T], axis=-1)
        for mechanism in set(mechanisms):
            m = np.array([x == mechanism for x in mechanisms])
            u = winner_utility(mechanism, rewards[m], gamma, flat[m, :, :T], flat[m, :, 1:],
                               next_held[m])
            sub = utilities[m]  # a copy (boolean indexing): fill it, then write it back
            np.put_along_axis(sub, winner[m][..., None], np.where(acted[m], u, 0.0)[..., None],
                              axis=-1)
            utilities[m] = sub
            if it >= (3 * iterations) // 4:
                made = money_created(mechanism, gamma, flat[m, :, 1:], next_held[m])
                money_sum[m] += (made * acted[m]).sum(axis=2).mean(axis=1)
        if it >= (3 * iterations) // 4:
            money_n += 1
        # ---- policy gradient per (run, primitive, state): samples = (episode, step, clone) --
        def samples(x: np.ndarray) -> np.ndarray:  # (R, E, T, A, C) -> (E*T*C, R*A)
            return x.transpose(1, 2, 4, 0, 3).reshape(E * T * C, R * A)

        util5 = utilities.reshape(R, E, T, A, C)
        bins5 = np.where(acted, states[:, :, :T], S)[..., None, None]  # bin S: no auction
        bins5 = np.broadcast_to(bins5, util5.shape)
        base5 = np.concatenate([baseline, np.zeros((R, A, 1))], axis=2)
        base5 = base5.transpose(0, 2, 1)[runs[..., None], bins5[..., 0, 0]][..., None]
        base5 = np.broadcast_to(base5, util5.shape)
        grad = bid_ratio_gradient(samples(util5), samples(base5), samples(noise[:, :, :T]), s_t,
                                  samples(bins5), S + 1)
        grad = grad[:, :S].reshape(R, A, S)
        means, counts = _bin_means(samples(util5), samples(bins5), S + 1)
        seen = counts[:, :S].reshape(R, A, S) > 0
        baseline[seen] += 0.1 * (means[:, :S].reshape(R, A, S)[seen] - baseline[seen])
        first = seen & (mean_sq == 0)  # start the running average at the first gradient
        mean_sq = np.where(first, grad**2, np.where(seen, 0.9 * mean_sq + 0.1 * grad**2, mean_sq))
        step = lr / np.sqrt(1.0 + it / 25.0)
        mean += np.where(seen, step * grad / np.sqrt(mean_sq + 1e-12), 0.0)
        return_history[it] = rewards.sum(axis=2).mean(axis=1)
        if it in snapshot_at:
            bid_history.append(mean.transpose(0, 2, 1).copy())
        if callback is not None:
            callback(it)
    return SocietyResult(mechanisms, n_clones, gamma, mean.transpose(0, 2, 1).copy(),
                         money_sum / max(money_n, 1), np.array(bid_history), return_history,
                         env_steps)
