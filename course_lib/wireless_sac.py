"""Scalable Actor-Critic (Lin, Qu, Huang, Wierman, NeurIPS 2021), batched.

Every user i of the network (``course_lib.envs.wireless``) learns

* a **policy** over its own local state: a table of logits ``theta[i, s_i, a_i]`` and a
  softmax over the actions it can take;
* a **truncated critic** ``Q_i(z)`` whose argument ``z`` holds only the states and actions of
  the users in its k-hop neighbourhood N_i^k: either the paper's table
  (``TruncatedCritic``, which stores the configurations that occurred; there are far too
  many to enumerate for k >= 1) or ``linear_critic.LinearCritic``.

Lin et al.'s mu(k) is the most Q_i can change when everything beyond N_i^k changes at once;
when it is small (mu-decay), a k-hop critic is a good approximation. Qu, Wierman and Li
prove an exponential bound for dependencies on a fixed graph; Lin et al. need only that
mu(k) be small. ``measure_mu_k`` estimates it as defined; ``measure_mu_decay`` (exercise 6.5)
measures the simpler one-user sensitivity by hop distance.

One update of the batched algorithm:

1. play ``batch`` episodes side by side with the current policies (``horizon + 1`` decisions
   each, as in the authors' code: the last one only gives the critic its next value);
2. **critic** (exercise 6.3 for the table, 6.6 for the linear critic): for every user and
   step, the TD(0) target ``r_i(t) + gamma * Q_i(z_i(t + 1))``; each configuration visited
   in the batch moves a step ``critic_lr`` towards the mean of its targets;
3. **actor** (exercise 6.4): the policy-gradient step
   ``theta_i += actor_lr * mean over episodes of sum_t w_i(t) * grad log pi_i(a_i(t) | s_i(t))``
   with ``w_i(t) = gamma**t * sum_{j in N_i^k} Q_j(z_j(t))`` (the paper's weight has a
   further 1/n, folded into ``actor_lr`` so that one step serves every network size).

Where the authors' code updates after every single episode, with step sizes
``1/sqrt((m mod 100) T + t)`` (critic) and ``5/sqrt((m mod 100) + 1)`` (actor) restarted every
100 episodes, the batched version averages over a batch of episodes and uses constant steps:
the average is already a low-noise estimate, and the restarts existed to let the critic
follow a changing policy, which a constant step does too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import check_seed
from .contracts import Array, shape_of
from .envs.wireless import (
    MAX_USERS,
    WirelessGrid,
    WirelessNetwork,
    check_copies,
    check_grid,
    check_states_actions,
    discounted_return,
    neighbour_lists,
    neighbourhoods,
    state_index,
)
from .exercises import exercise
from .linear_critic import LinearCritic
from .validation import (
    as_bool_array,
    as_float_array,
    as_index_array,
    check_callback,
    check_float,
    check_int,
    check_rng,
    check_size,
    check_unit,
)

# --------------------------------------------------------------------------------------
# The truncated critic: a table over the configurations of each k-hop neighbourhood
# --------------------------------------------------------------------------------------


class TruncatedCritic:
    """All users' truncated Q tables in one sorted array of hashed keys.

    The configuration of user i's neighbourhood, the codes ``c_j = s_j * n_actions + a_j`` of
    its members j, is hashed to a 64-bit key ``h_i + sum_j R[i, j] (c_j + 1)`` with random
    odd multipliers (arithmetic modulo 2**64); two different configurations share a key with
    probability about 2**-64 per pair, negligible for the millions of entries we store.
    """

    def __init__(self, grid: WirelessGrid, k: int, seed: int = 0) -> None:
        self.grid = check_grid(grid)
        self.k = check_int("k", k, 0)
        self.members = neighbourhoods(grid.access, self.k)  # (n, n) bool
        rng = np.random.default_rng(check_seed(seed))
        n = grid.n_users
        odd = rng.integers(0, 2**62, (n, n + 1), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self._offset = odd[:, n]
        self._mult = np.where(self.members, odd[:, :n], np.uint64(0))
        self.keys = np.zeros(0, np.uint64)
        self.values = np.zeros(0)

    def hash(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """Keys (..., n) of every user's neighbourhood configuration, from states (local
        state indices) and actions of shape (..., n)."""
        states, actions = check_states_actions(self.grid, states, actions)
        codes = (states.astype(np.uint64) * np.uint64(self.grid.n_actions)
                 + actions.astype(np.uint64) + np.uint64(1))
        with np.errstate(over="ignore"):
            return codes @ self._mult.T + self._offset

    def _find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = keys.ravel()
        idx = np.minimum(np.searchsorted(self.keys, flat), max(len(self.keys) - 1, 0))
        found = (self.keys[idx] == flat) if len(self.keys) else np.zeros(len(flat), bool)
        return idx, found

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Q values of the given keys (0 for configurations never seen)."""
        idx, found = self._find(keys)
        out = np.zeros(keys.size)
        out[found] = self.values[idx[found]]
        return out.reshape(keys.shape)

    def update(self, keys: np.ndarray, rewards: np.ndarray, next_q: np.ndarray, gamma: float,
               lr: float) -> None:
        """One batched TD(0) step for the samples ``keys``/``rewards``/``next_q`` (any equal
        shapes): new configurations enter the table at 0, then ``td_update`` moves them."""
        flat = keys.ravel()
        new = np.unique(flat[~self._find(flat)[1]])
        if len(new):
            at = np.searchsorted(self.keys, new)
            self.keys = np.insert(self.keys, at, new)
            self.values = np.insert(self.values, at, 0.0)
        idx, _ = self._find(flat)
        self.values = td_update(self.values, idx, rewards.ravel(), next_q.ravel(), gamma, lr)

    @property
    def entries(self) -> int:
        """Configurations stored, over all users."""
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        """Memory of the stored keys and values."""
        return int(self.keys.nbytes + self.values.nbytes)

    def possible_entries(self) -> float:
        """How many entries full tables would need: sum over users of the product, over the
        neighbourhood, of (local states x actions)."""
        per_user = self.grid.n_states * self.grid.valid.sum(1).astype(float)
        return float(sum(np.prod(per_user[self.members[i]]) for i in range(self.grid.n_users)))


# --------------------------------------------------------------------------------------
# Exercise 6.3: the batched TD(0) update of a table
# --------------------------------------------------------------------------------------


def _check_td_args(values: Any, index: Any, rewards: Any, next_values: Any, gamma: Any,
                   lr: Any) -> dict[str, Any]:
    v = as_float_array(values, "values", finite=True)
    if v.ndim != 1:
        raise ValueError(f"values must be a 1-D table, got shape {v.shape}")
    idx = as_index_array(index, "index", len(v), meaning=" (they point into the table)")
    if idx.ndim != 1:
        raise ValueError(f"index must be a 1-D integer array, got shape {idx.shape}")
    r = as_float_array(rewards, "rewards", finite=True)
    nxt = as_float_array(next_values, "next_values", finite=True)
    if r.shape != idx.shape or nxt.shape != idx.shape:
        raise ValueError("index, rewards and next_values must have one entry per sample")
    gamma = check_unit("gamma", gamma)
    lr = check_unit("lr", lr, positive=True)
    return {"values": v, "index": idx, "rewards": r, "next_values": nxt, "gamma": gamma,
            "lr": lr}


@exercise("6.3", title="The batched TD(0) update of a truncated critic", validate=_check_td_args,
          returns=Array(shape_of("values")))
def td_update(values: np.ndarray, index: np.ndarray, rewards: np.ndarray,
              next_values: np.ndarray, gamma: float, lr: float) -> np.ndarray:
    """One TD(0) step on a table, from a whole batch of samples at once.

    Sample m visited entry ``index[m]``, earned ``rewards[m]`` and reached a configuration
    whose value is ``next_values[m]``: its target is ``rewards[m] + gamma * next_values[m]``.
    Every entry visited in the batch moves a fraction ``lr`` of the way towards the mean
    target of its samples; entries not visited keep their value.

    Parameters
    ----------
    values : np.ndarray, shape (E,)
    index : np.ndarray of int, shape (M,), values in 0..E-1
    rewards, next_values : np.ndarray, shape (M,)
    gamma, lr : float in [0, 1]

    Returns
    -------
    np.ndarray, shape (E,)
        A new table (``values`` itself is left unchanged).
    """
    # TODO(exercise 6.3): average the targets of each visited entry and move it lr of the way there;
    # entries not visited keep their value.
    raise NotImplementedError


# --------------------------------------------------------------------------------------
# Policies and exercise 6.4: the actor's step
# --------------------------------------------------------------------------------------


def check_policies(probs: Any, grid: WirelessGrid | None = None) -> np.ndarray:
    """Every user's policy, ``probs`` (n_users, n_states, n_actions) (``policy_probs`` makes
    them): probabilities, each (user, state) row summing to 1; of the grid's shape if given."""
    p = as_float_array(probs, "probs", finite=True)
    if p.ndim != 3 or 0 in p.shape:
        raise ValueError(f"probs must have shape (n_users, n_states, n_actions) "
                         f"(policy_probs), got {p.shape}")
    if grid is not None and p.shape != (grid.n_users, grid.n_states, grid.n_actions):
        raise ValueError(f"probs must be policies of shape ({grid.n_users}, {grid.n_states}, "
                         f"{grid.n_actions}) for this grid (policy_probs), got {p.shape}")
    if (p < 0).any() or not np.allclose(p.sum(-1), 1.0, rtol=0.0, atol=1e-6):
        raise ValueError("probs must hold probabilities, every (user, state) row summing to 1 "
                         "(policy_probs)")
    return p


def policy_probs(logits: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Softmax over each user's valid actions: logits (n, S, A) -> probabilities, 0 where an
    action is not available."""
    logits = as_float_array(logits, "logits", finite=True)
    if logits.ndim != 3:
        raise ValueError(f"logits must have shape (n_users, n_states, n_actions), got "
                         f"{logits.shape}")
    n, _, n_actions = logits.shape
    valid = as_bool_array(valid, "valid")
    if valid.shape != (n, n_actions):
        raise ValueError(f"valid must have shape ({n}, {n_actions}), (n_users, n_actions) of "
                         f"logits, got {valid.shape}")
    if not valid.any(-1).all():
        raise ValueError("valid must allow every user at least one action")
    z = np.where(valid[:, None, :], logits, -np.inf)
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


SAMPLE_CHUNK = 1 << 18  # comparisons per chunk of sample_actions (2 MB of floats)


def sample_actions(probs: np.ndarray, states: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """Draw every user's action: probs (n, S, A), states (B, n) -> actions (B, n)."""
    probs = check_policies(probs)
    n = probs.shape[0]
    states = as_index_array(states, "states", probs.shape[1])
    if states.ndim != 2 or states.shape[1] != n:
        raise ValueError(f"states must have shape (copies, {n}), got {states.shape}")
    check_rng(rng)
    cumulative = np.cumsum(probs, -1)  # (n, S, A)
    u = rng.random(states.shape)
    actions = np.empty(states.shape, np.int64)
    # A few episodes at a time: the (episodes, users, actions) comparison of a whole batch
    # leaves the CPU's caches on large networks (88 MB at 200 x 6,144 x 9)
    rows = max(1, SAMPLE_CHUNK // (n * probs.shape[-1]))
    users = np.arange(n)
    for start in range(0, len(states), rows):
        part = slice(start, start + rows)
        actions[part] = (u[part, :, None] >= cumulative[users, states[part]]).sum(-1)
    return np.minimum(actions, probs.shape[-1] - 1)


def _check_gradient_args(probs: Any, states: Any, actions: Any, weights: Any
                         ) -> dict[str, Any]:
    p = check_policies(probs)
    s = as_index_array(states, "states", p.shape[1])
    a = as_index_array(actions, "actions", p.shape[2])
    w = as_float_array(weights, "weights", finite=True)
    if s.ndim != 3 or s.shape[-1] != p.shape[0] or a.shape != s.shape or w.shape != s.shape:
        raise ValueError(f"states, actions and weights must share a shape (episodes, steps, "
                         f"{p.shape[0]}), got {s.shape}, {a.shape}, {w.shape}")
    if s.shape[0] == 0:
        raise ValueError("states, actions and weights hold no episode: the gradient is a mean "
                         "over at least one")
    return {"probs": p, "states": s, "actions": a, "weights": w}


@exercise("6.4", title="The actor's policy-gradient step", validate=_check_gradient_args,
          returns=Array(shape_of("probs")))
def policy_gradient(probs: np.ndarray, states: np.ndarray, actions: np.ndarray,
                    weights: np.ndarray) -> np.ndarray:
    """The gradient of every user's tabular softmax policy, averaged over episodes.

    For user i at step t of episode b, in local state ``s = states[b, t, i]`` after taking
    ``a = actions[b, t, i]``, the gradient of ``log pi_i(a | s)`` with respect to the logits
    ``theta[i, s, :]`` is ``onehot(a) - probs[i, s, :]`` (and 0 for the other states). Each
    such term is scaled by ``weights[b, t, i]``; the result sums over steps and averages over
    episodes.

    Parameters
    ----------
    probs : np.ndarray, shape (n_users, n_states, n_actions)
    states, actions : np.ndarray of int, shape (episodes, steps, n_users)
    weights : np.ndarray, shape (episodes, steps, n_users)

    Returns
    -------
    np.ndarray, shape (n_users, n_states, n_actions)
    """
    # TODO(exercise 6.4): each sample adds its weighted term to its own (user, state) row; rows
    # repeat, so accumulate with care, and average over episodes.
    raise NotImplementedError


# --------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------


CRITICS = ("tabular", "linear")


@dataclass
class SACConfig:
    """Settings of the batched Scalable Actor-Critic. ``critic`` is ``"tabular"`` (the paper's
    truncated table, ``TruncatedCritic``) or ``"linear"`` (``linear_critic.LinearCritic``).
    ``actor_lr`` is the step on the gradient of the network's *total* return (see
    ``train_sac``), so that one value serves every network size. ``baseline`` subtracts from
    every actor weight the mean weight of the other samples of the same user and local
    state in the batch: not in the paper; it leaves the gradient's expectation unchanged and
    cuts its variance (a critic that generalises gives every neighbour a sizeable value, and
    the weight sums them). ``critic_gamma`` is the discount of the critic's TD target (None:
    the network's gamma); 0 makes the critic a model of the immediate reward, which measures
    what bootstrapping adds."""

    k: int = 1
    critic: str = "tabular"
    baseline: bool = False       # subtract a per-(user, local state) baseline from w_i(t)
    episodes: int = 60_000       # training episodes in all
    batch: int = 200             # episodes per update
    critic_lr: float = 0.5
    actor_lr: float = 16.0
    link_prob: float = 0.0       # stochastic non-local links (0: the access graph only)
    eval_every: int = 5_000      # training episodes between evaluations
    eval_episodes: int = 2_000
    critic_gamma: float | None = None  # the TD target's discount (None: the network's)

    def __post_init__(self) -> None:
        check_int("k", self.k, 0, MAX_USERS)  # no hop radius reaches further than the users
        if not isinstance(self.baseline, bool):
            raise TypeError(f"baseline must be True or False, got {self.baseline!r:.80}")
        if not isinstance(self.critic, str) or self.critic not in CRITICS:
            raise ValueError(f"critic must be one of {CRITICS}, got {self.critic!r:.80}")
        for name, limit in (("episodes", 10**8), ("batch", 10**5), ("eval_every", 10**8),
                            ("eval_episodes", 10**6)):
            check_int(name, getattr(self, name), 1, limit)
        check_unit("critic_lr", self.critic_lr, positive=True)
        check_float("actor_lr", self.actor_lr, positive=True)
        check_unit("link_prob", self.link_prob)
        if self.critic_gamma is not None:
            check_unit("critic_gamma", self.critic_gamma)


@dataclass
class SACRun:
    """A trained society of users: logits, critic, and the return measured along the way
    (``episodes[m]`` training episodes -> ``returns[m]``); ``cpu_s`` is the process time
    spent training (evaluations excluded)."""

    config: SACConfig
    seed: int
    logits: np.ndarray
    critic: Any = field(repr=False)
    episodes: list[int] = field(default_factory=list)
    returns: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    td_samples: int = 0
    critic_bytes: list[int] = field(default_factory=list)  # at every evaluation
    cpu_s_at: list[float] = field(default_factory=list)    # training CPU-s at every evaluation

    @property
    def grid(self) -> WirelessGrid:
        return self.critic.grid

    def policy(self) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
        probs = policy_probs(self.logits, self.grid.valid)
        return lambda queues, rng: sample_actions(probs, state_index(queues), rng)


def episodes_to(run: SACRun, target: float) -> int | None:
    """Training episodes at ``run``'s first evaluation at or above ``target`` (None: none
    reached it); resolved to the run's evaluation interval."""
    if not isinstance(run, SACRun):
        raise TypeError(f"run must be a SACRun, got {type(run).__name__}")
    target = check_float("target", target)
    return next((e for e, r in zip(run.episodes, run.returns, strict=True) if r >= target),
                None)


def _critic_values(critic: Any, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                   gamma: float, lr: float) -> np.ndarray:
    """One TD(0) step of either critic on a batch (B, T + 1, n), then every Q_j(z_j(t))."""
    T = states.shape[1] - 1
    if isinstance(critic, TruncatedCritic):
        keys = critic.hash(states, actions)
        q = critic.lookup(keys)
        critic.update(keys[:, :T], rewards[:, :T], q[:, 1:], gamma, lr)
        return critic.lookup(keys)
    rows = critic.rows(states, actions)
    x = np.stack([critic.features(states[:, t], actions[:, t]) for t in range(T + 1)], 1)
    q = critic.predict(rows, x)
    critic.update(rows[:, :T], x[:, :T], rewards[:, :T], q[:, 1:], gamma, lr)
    return critic.predict(rows, x)


def _minus_state_baseline(weights: np.ndarray, states: np.ndarray, n_states: int
                          ) -> np.ndarray:
    """Every weight minus the mean weight of the *other* samples of the same user in the same
    local state (leave-one-out, so the baseline never sees the action it judges: the
    gradient's expectation is unchanged, its variance much smaller)."""
    n = states.shape[-1]
    row = (np.arange(n) * n_states + states).ravel()
    w = weights.ravel()
    sums = np.bincount(row, weights=w, minlength=n * n_states)
    counts = np.bincount(row, minlength=n * n_states)
    return (w - (sums[row] - w) / np.maximum(counts[row] - 1, 1)).reshape(weights.shape)


def _membership(grid: WirelessGrid, k: int) -> Any:
    """N_i^k as a sparse (n, n) 0/1 matrix: row i marks the members of i's neighbourhood."""
    from scipy import sparse

    members, _ = neighbour_lists(grid.access, k)
    rows, slots = np.nonzero(members >= 0)
    n = grid.n_users
    return sparse.csr_matrix((np.ones(len(rows)), (rows, members[rows, slots])), shape=(n, n))


@contextmanager
def _no_huge_page_requests() -> Iterator[None]:
    """numpy asks the kernel for transparent huge pages for every array of 4 MB or more.
    Where the kernel compacts memory to serve such a request (THP defrag "madvise", a common
    default), the requests can cost more than the arithmetic: at 6,144 users a batch's
    arrays are about 100 MB each, and training spent 8.6 CPU-s per million user-episodes
    with the requests against 4.9 s without (5.7 s and 2.0 s of it in the kernel;
    benchmarks/bench_wireless_cost.py). Off while training, then as it was; the results are
    the same either way (it is advice about memory, not arithmetic)."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # a numpy without the switch: nothing to turn off
        yield
        return
    before = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(before)


def train_sac(grid: WirelessGrid, cfg: SACConfig | None = None, seed: int = 0,
              callback: Callable[[int], None] | None = None) -> SACRun:
    """Train every user's policy and truncated critic for ``cfg.episodes`` episodes.

    The actor's weight is ``w_i(t) = gamma**t * sum_{j in N_i^k} Q_j(z_j(t))``. The paper's
    weight carries a further 1/n, as the gradient of the *average* return over users; we
    take the gradient of the total instead (``actor_lr`` = their step / n), so that the same
    step works on 24 users and on 6,144."""
    check_grid(grid)
    cfg = cfg or SACConfig()
    if not isinstance(cfg, SACConfig):
        raise TypeError(f"cfg must be a SACConfig, got {type(cfg).__name__}")
    seed = check_seed(seed)
    check_callback(callback)
    n, T = grid.n_users, grid.horizon
    check_size("cfg.batch * (horizon + 1) * n_users", cfg.batch * (T + 1) * n)
    critic = (TruncatedCritic(grid, cfg.k, seed) if cfg.critic == "tabular"
              else LinearCritic(grid, cfg.k))
    near = _membership(grid, cfg.k)
    logits = np.zeros((n, grid.n_states, grid.n_actions))
    env = WirelessNetwork(grid, cfg.batch, cfg.link_prob, seed, horizon=T + 1)
    rng = np.random.default_rng(seed + 1)
    run = SACRun(cfg, seed, logits, critic)
    discount = grid.gamma ** np.arange(T + 1)

    def evaluate(done: int) -> None:
        run.episodes.append(done)
        run.critic_bytes.append(critic.nbytes)
        run.cpu_s_at.append(run.cpu_s)
        run.returns.append(discounted_return(grid, run.policy(), cfg.eval_episodes,
                                             seed=10_000 + len(run.returns),
                                             link_prob=cfg.link_prob))

    with _no_huge_page_requests():  # numpy's, for this run only (see there why)
        evaluate(0)
        done = 0
        while done < cfg.episodes:
            started = time.process_time()
            probs = policy_probs(logits, grid.valid)
            states = np.zeros((cfg.batch, T + 1, n), np.int32)
            actions = np.zeros_like(states)
            rewards = np.zeros((cfg.batch, T + 1, n), np.float32)
            queues = env.reset()
            for t in range(T + 1):
                states[:, t] = state_index(queues)
                actions[:, t] = sample_actions(probs, states[:, t], rng)
                queues, rewards[:, t], _ = env.step(actions[:, t])
            q = _critic_values(critic, states, actions, rewards,
                               grid.gamma if cfg.critic_gamma is None else cfg.critic_gamma,
                               cfg.critic_lr)
            # sum of Q_j over j in N_i^k, as a sparse product (an (n, n) matrix would not fit
            # for thousands of users)
            weights = discount[None, :, None] * (near @ q.reshape(-1, n).T).T.reshape(q.shape)
            if cfg.baseline:
                weights = _minus_state_baseline(weights, states, grid.n_states)
            logits += cfg.actor_lr * policy_gradient(probs, states, actions, weights)
            run.td_samples += cfg.batch * T * n
            run.cpu_s += time.process_time() - started
            done += cfg.batch
            if callback is not None:
                callback(done)
            if done % cfg.eval_every < cfg.batch or done >= cfg.episodes:
                evaluate(done)
    return run


# --------------------------------------------------------------------------------------
# Measuring mu-decay and exercise 6.5
# --------------------------------------------------------------------------------------


def _check_sensitivity_args(q_base: Any, q_perturbed: Any, hops: Any,
                            max_hops: Any) -> dict[str, Any]:
    a = as_float_array(q_base, "q_base", finite=True)
    b = as_float_array(q_perturbed, "q_perturbed", finite=True)
    h = as_index_array(hops, "hops", minimum=None)
    if a.shape != b.shape or h.shape != a.shape or a.ndim != 1:
        raise ValueError(f"q_base, q_perturbed and hops must be 1-D arrays of one shape, got "
                         f"{a.shape}, {b.shape}, {h.shape}")
    # distances between two users of a network of at most MAX_USERS users
    as_index_array(h, "hops", MAX_USERS, minimum=1, meaning=" (distances to other users)")
    max_hops = check_int("max_hops", max_hops, 1, MAX_USERS)
    return {"q_base": a, "q_perturbed": b, "hops": h, "max_hops": max_hops}


@exercise("6.5", title="Sensitivity by hop distance (one user at a time)",
          validate=_check_sensitivity_args,
          returns=Array(lambda a: (a["max_hops"],), nan_ok=True, low=0.0))
def sensitivity_by_hop(q_base: np.ndarray, q_perturbed: np.ndarray, hops: np.ndarray,
                       max_hops: int) -> np.ndarray:
    """How much a user's Q changes when a user h hops away is changed, for h = 1..max_hops.

    Sample m compares user i's Q-value estimate before (``q_base[m]``) and after
    (``q_perturbed[m]``) the state and action of another user j were replaced;
    ``hops[m]`` is the hop distance between i and j (at least 1; samples farther than
    ``max_hops`` are ignored).

    Returns
    -------
    np.ndarray, shape (max_hops,)
        Entry h - 1 is the mean of ``|q_base - q_perturbed|`` over the samples at distance h
        (NaN if there are none).
    """
    # TODO(exercise 6.5): one mean per hop distance 1..max_hops; mind distances without any sample,
    # and those beyond max_hops.
    raise NotImplementedError


def rollout_q(grid: WirelessGrid, probs: np.ndarray, queues: np.ndarray,
              actions: np.ndarray, seed: int, link_prob: float = 0.0) -> np.ndarray:
    """Every user's discounted return over ``grid.horizon`` steps from each copy's start
    (queues (B, n, d) and first actions (B, n)), then following the policies ``probs``: one
    sample of Q_i(s, a) per copy, (B, n). Calls with the same ``seed`` and batch size share
    their random numbers (common random numbers), so two starts that differ in one user
    differ in their returns only where that difference spread."""
    probs = check_policies(probs, check_grid(grid))
    queues = as_bool_array(queues, "queues")
    if queues.ndim != 3 or queues.shape[1:] != (grid.n_users, grid.deadline) or \
            not len(queues):
        raise ValueError(f"queues must have shape (copies, {grid.n_users}, {grid.deadline}), "
                         f"got {queues.shape}")
    env = WirelessNetwork(grid, len(queues), link_prob, seed)
    env.reset()
    env.queues[:] = queues
    a = env.check_actions(actions)
    rng = np.random.default_rng(seed + 1)
    total = np.zeros(a.shape)
    for t in range(grid.horizon):
        q, rewards, _ = env.step(a)
        total += grid.gamma ** t * rewards
        a = sample_actions(probs, state_index(q), rng)
    return total


def _check_measurement(grid: Any, probs: Any, starts: Any, rollouts: Any, seed: Any
                       ) -> tuple[np.ndarray, int, int, np.random.Generator]:
    """The arguments that ``measure_mu_decay`` and ``measure_mu_k`` share, checked."""
    probs = check_policies(probs, check_grid(grid))
    starts = check_int("starts", starts, 1)
    rollouts = check_int("rollouts", rollouts, 1)
    check_copies("starts * rollouts", starts * rollouts, grid)
    return probs, starts, rollouts, np.random.default_rng(check_seed(seed))


def measure_mu_decay(grid: WirelessGrid, probs: np.ndarray, starts: int = 200,
                     rollouts: int = 100, link_prob: float = 0.0,
                     seed: int = 0) -> np.ndarray:
    """Estimate mu-decay for the policies ``probs``: the mean change of user i's Q when the
    state and action of one user j at hop distance h are redrawn, for h = 1, 2, ...

    Each start draws every user's queue and action at random (queues with a packet in each
    slot with probability 1/2, actions uniform over the valid ones) and one user j to
    perturb; Q is averaged over ``rollouts`` rollouts with common random numbers.
    """
    probs, starts, rollouts, rng = _check_measurement(grid, probs, starts, rollouts, seed)
    n, d = grid.n_users, grid.deadline
    valid = [np.flatnonzero(grid.valid[i]) for i in range(n)]

    def draw(count: int) -> tuple[np.ndarray, np.ndarray]:
        queues = (rng.random((count, n, d)) < 0.5).astype(np.uint8)
        acts = np.stack([rng.choice(valid[i], count) for i in range(n)], 1)
        return queues, acts

    queues, acts = draw(starts)
    changed = rng.integers(0, n, starts)
    new_q, new_a = draw(starts)
    pert_q, pert_a = queues.copy(), acts.copy()
    pert_q[np.arange(starts), changed] = new_q[np.arange(starts), changed]
    pert_a[np.arange(starts), changed] = new_a[np.arange(starts), changed]
    base = rollout_q(grid, probs, np.repeat(queues, rollouts, 0), np.repeat(acts, rollouts, 0),
                     seed, link_prob).reshape(starts, rollouts, n).mean(1)
    pert = rollout_q(grid, probs, np.repeat(pert_q, rollouts, 0),
                     np.repeat(pert_a, rollouts, 0), seed,
                     link_prob).reshape(starts, rollouts, n).mean(1)
    from .envs.wireless import hop_distances

    distance = hop_distances(grid.access)[changed]  # (starts, n): hops from j to every i
    mask = distance > 0
    return sensitivity_by_hop(base[mask], pert[mask], distance[mask], int(distance.max()))


def measure_mu_k(grid: WirelessGrid, probs: np.ndarray, starts: int = 200,
                 rollouts: int = 100, link_prob: float = 0.0, seed: int = 0,
                 quantile: float = 0.95) -> dict[str, Any]:
    """mu(k) as Lin et al. define it, estimated for the policies ``probs``: how much user i's
    Q_i(s, a) can change when the states and actions of *all* users beyond i's k-hop
    neighbourhood change at once, for k = 0, 1, ..., (largest hop distance) - 1.

    Each start draws every user's queue and action at random (a packet in each slot with
    probability 1/2, actions uniform over the valid ones), a user i, and a second random
    draw of the whole network; for each k, the users more than k hops from i take their
    state and action from the second draw. Q_i is estimated from ``rollouts`` rollouts with
    common random numbers (every start and every k replays the same random numbers), so a
    difference comes only from what the redrawn users set in motion. The definition takes
    the worst case over states and actions; the maximum over ``starts`` random starts is
    our estimate of it (a lower bound, up to rollout noise), reported with the
    ``quantile`` and the mean.

    Returns ``{"k": [...], "max": [...], "quantile": [...], "mean": [...], "gaps": array}``
    with ``gaps`` (len(k), starts) every start's |Delta Q_i|.
    """
    from .envs.wireless import hop_distances

    probs, starts, rollouts, rng = _check_measurement(grid, probs, starts, rollouts, seed)
    quantile = check_unit("quantile", quantile)
    n, d = grid.n_users, grid.deadline
    valid = [np.flatnonzero(grid.valid[i]) for i in range(n)]

    def draw() -> tuple[np.ndarray, np.ndarray]:
        queues = (rng.random((starts, n, d)) < 0.5).astype(np.uint8)
        acts = np.stack([rng.choice(valid[i], starts) for i in range(n)], 1)
        return queues, acts

    queues, acts = draw()
    other_q, other_a = draw()
    focal = rng.integers(0, n, starts)
    distance = hop_distances(grid.access)[focal]              # (starts, n): hops from i

    def q_focal(qs: np.ndarray, acs: np.ndarray) -> np.ndarray:
        q = rollout_q(grid, probs, np.repeat(qs, rollouts, 0), np.repeat(acs, rollouts, 0),
                      seed, link_prob).reshape(starts, rollouts, n).mean(1)
        return q[np.arange(starts), focal]

    base = q_focal(queues, acts)
    gaps = np.array([np.abs(q_focal(np.where((distance > k)[..., None], other_q, queues),
                                     np.where(distance > k, other_a, acts)) - base)
                     for k in range(int(distance.max()))])
    return summarize_mu_k(gaps, quantile)


def summarize_mu_k(gaps: np.ndarray, quantile: float = 0.95) -> dict[str, Any]:
    """max, ``quantile`` and mean over starts of |Delta Q_i| (gaps: (K, starts)), per k."""
    gaps = as_float_array(gaps, "gaps", finite=True)
    if gaps.ndim != 2 or gaps.shape[1] < 1:
        raise ValueError(f"gaps must have shape (K, starts) with starts >= 1, got {gaps.shape}")
    quantile = check_unit("quantile", quantile)
    return {"k": list(range(len(gaps))), "max": gaps.max(1).tolist(),
            "quantile": np.quantile(gaps, quantile, axis=1).tolist(),
            "mean": gaps.mean(1).tolist(), "gaps": gaps}


@dataclass
class EpisodeReplay:
    """One episode, step by step: ``queues`` (T + 1, n, d) before each step and after the
    last; ``sent`` (T, n) the access point each user sent to (-1: waited); ``collided`` and
    ``delivered`` (T, n) bool."""

    queues: np.ndarray
    sent: np.ndarray
    collided: np.ndarray
    delivered: np.ndarray


def replay_episode(grid: WirelessGrid, probs: np.ndarray, seed: int = 0,
                   link_prob: float = 0.0) -> EpisodeReplay:
    """Play one episode with the policies ``probs`` (n, S, A) and record every step."""
    probs = check_policies(probs, check_grid(grid))
    env = WirelessNetwork(grid, 1, link_prob, seed)
    rng = np.random.default_rng(seed + 1)
    queues = [env.reset()[0]]
    sent, collided, delivered = [], [], []
    for _ in range(grid.horizon):
        actions = sample_actions(probs, state_index(queues[-1])[None], rng)
        q, _, _ = env.step(actions)
        queues.append(q[0])
        sent.append(env.last.sent[0])
        collided.append(env.last.collided[0])
        delivered.append(env.last.delivered[0])
    return EpisodeReplay(np.stack(queues), np.stack(sent), np.stack(collided),
                         np.stack(delivered))
