"""Chapter 6's network: users with deadline queues sharing wireless access points on a grid.

The benchmark of Qu, Wierman and Li (L4DC 2020), used by Lin, Qu, Huang and Wierman (NeurIPS
2021). An ``height x width`` grid of cells holds ``users_per_cell`` users per cell; an access
point sits at every interior grid corner and serves the users of the four cells around it, so
a user reaches 1, 2 or 4 access points. Two users are neighbours when they share an access
point.

Each user keeps a queue of packets with deadlines: its local state is ``d`` bits, bit ``l`` set
when it holds a packet with ``l + 1`` steps left. Each step every user either waits or sends
the packet of one slot to one access point it reaches. An access point that hears exactly one
sender delivers that sender's packet with its success probability ``q_k`` (reward 1, packet
removed); two or more senders collide and all fail. Then deadlines count down (packets in slot
0 expire) and a new packet arrives in slot ``d - 1`` with probability ``p``.

Choices where the published description is ambiguous, as in the authors' code:

* A send from an *empty* slot still occupies the channel: it collides with other senders to
  that access point, but delivers nothing.
* An episode starts with a packet in slot ``d - 1`` only, with probability ``p`` per user.
* The success probabilities ``q_k`` are drawn uniformly from [0, 1] with a fixed seed, by
  numpy's legacy ``RandomState(seed).rand``, so that seed 0 gives the authors' values.

**Stochastic non-local links** (``link_prob`` = rho > 0): the course's own instance of the
stochastic dependencies of Lin et al.'s model (the authors' released code has only the fixed
access-point graph). At every step each pair of users two hops apart is linked with
probability rho, independently of everything else; one draw per step serves as both the
state links L^s_t and the reward links L^r_t of their model: a linked user that sends
(anywhere) jams its partner's send as a collision would, which changes the partner's reward
and its next queue. Information then spreads further than the access graph says, and
further at random.

Everything is batched: ``WirelessNetwork`` steps ``n_copies`` independent copies of the whole
network with numpy, vectorised over copies and users.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import check_seed
from ..contracts import Array
from ..exercises import exercise
from ..validation import (
    MAX_STEPS,
    as_bool_array,
    as_float_array,
    as_index_array,
    check_int,
    check_size,
    check_unit,
)

MAX_REACH = 4  # access points a user can reach at most (a cell with four interior corners)
MAX_USERS = 50_000  # beyond this a grid's (users x access points) matrix passes a gigabyte
MAX_DEADLINE = 20  # deadline slots: 2**20 local states per user is already far too many
# users of the dense (n_users, n_users) matrices (neighbourhoods, hop_distances) and of their
# products; larger networks use the sparse neighbour_lists
MAX_DENSE_USERS = 2_048
# A policy maps queues (copies, users, d) and a random generator to actions (copies, users).
Policy = Callable[[np.ndarray, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class WirelessGrid:
    """The fixed layout and parameters of one network.

    ``access`` (n_users, n_aps) bool: which access points each user reaches.
    ``actions`` (n_users, n_actions, 2) int: action a of user i sends slot ``actions[i, a, 0]``
    to access point ``actions[i, a, 1]``; action 0 is "wait" (-1, -1), and users that reach
    fewer than four access points have padding actions (-1, -1) marked False in ``valid``.
    """

    height: int
    width: int
    users_per_cell: int
    deadline: int
    arrival_prob: float
    success_prob: np.ndarray
    gamma: float
    horizon: int
    access: np.ndarray
    actions: np.ndarray
    valid: np.ndarray

    @property
    def n_users(self) -> int:
        return self.access.shape[0]

    @property
    def n_aps(self) -> int:
        return self.access.shape[1]

    @property
    def n_actions(self) -> int:
        return self.actions.shape[1]

    @property
    def n_states(self) -> int:
        return 2 ** self.deadline

    def user_cell(self, user: int) -> tuple[int, int]:
        """(row, column) of the cell a user sits in."""
        cell = check_int("user", user, 0, self.n_users - 1) // self.users_per_cell
        return divmod(cell, self.width)


def check_grid(grid: Any) -> WirelessGrid:
    """A network layout made by ``make_grid``."""
    if not isinstance(grid, WirelessGrid):
        raise TypeError(f"grid must come from make_grid, got {type(grid).__name__}")
    return grid


def check_states_actions(grid: WirelessGrid, states: Any, actions: Any
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Every user's local state and action index, both (..., n_users), in range."""
    s = as_index_array(states, "states", grid.n_states)
    a = as_index_array(actions, "actions", grid.n_actions)
    if s.ndim < 1 or s.shape[-1] != grid.n_users or a.shape != s.shape:
        raise ValueError(f"states and actions must share a shape (..., {grid.n_users}), got "
                         f"{s.shape} and {a.shape}")
    return s, a


def access_matrix(height: int, width: int, users_per_cell: int) -> np.ndarray:
    """(n_users, n_aps) bool: access point (r, c), r < height - 1 and c < width - 1, sits at
    the lower-right corner of cell (r, c) and serves the users of cells (r, c), (r, c + 1),
    (r + 1, c) and (r + 1, c + 1). Users are numbered cell by cell, row-major."""
    height = check_int("height", height, 2)
    width = check_int("width", width, 2)
    users_per_cell = check_int("users_per_cell", users_per_cell, 1)
    n_users = height * width * users_per_cell
    check_size("height * width * users_per_cell", n_users, MAX_USERS, "MAX_USERS", "users",
               f": the course's networks hold at most {MAX_USERS:,} users (this grid's access "
               f"matrix would need {n_users * (height - 1) * (width - 1) / 1e9:,.1f} GB)")
    access = np.zeros((height * width * users_per_cell, (height - 1) * (width - 1)), bool)
    for r in range(height - 1):
        for c in range(width - 1):
            ap = r * (width - 1) + c
            for cell in (r * width + c, r * width + c + 1, (r + 1) * width + c,
                         (r + 1) * width + c + 1):
                access[cell * users_per_cell:(cell + 1) * users_per_cell, ap] = True
    return access


def make_grid(height: int = 3, width: int = 4, users_per_cell: int = 2, deadline: int = 2,
              arrival_prob: float = 0.5, success_prob: Any = "random", gamma: float = 0.7,
              horizon: int = 10, seed: int = 0) -> WirelessGrid:
    """The network of the chapter; defaults are the authors' published experiment (24 users,
    6 access points). ``success_prob`` is ``"random"`` (uniform on [0, 1], drawn with
    ``seed``), one probability for every access point, or an array of them."""
    access = access_matrix(height, width, users_per_cell)
    deadline = check_int("deadline (d)", deadline, 1, MAX_DEADLINE)
    arrival_prob = check_unit("arrival_prob", arrival_prob)
    gamma = check_unit("gamma", gamma)
    horizon = check_int("horizon", horizon, 1, MAX_STEPS)
    # numpy's legacy generator (below) takes 32-bit seeds
    seed = check_int("seed", seed, 0, 2**32 - 1)
    n_aps = access.shape[1]
    if isinstance(success_prob, str):
        if success_prob != "random":
            raise ValueError(f"success_prob must be 'random', a probability or an array of "
                             f"{n_aps}, got {success_prob!r}")
        # numpy's legacy generator, as in the authors' code: seed 0 gives their q_k
        q = np.random.RandomState(seed).rand(n_aps)
    else:
        q = as_float_array(success_prob, "success_prob", finite=True)
        q = np.broadcast_to(q, (n_aps,)).copy() if q.ndim == 0 else q
        if q.shape != (n_aps,):
            raise ValueError(f"success_prob must hold one probability per access point "
                             f"({n_aps}), got shape {q.shape}")
        if (q < 0).any() or (q > 1).any():
            raise ValueError("success_prob: success probabilities must lie in [0, 1]")
    n_users = access.shape[0]
    n_actions = 1 + deadline * MAX_REACH
    actions = np.full((n_users, n_actions, 2), -1, int)
    valid = np.zeros((n_users, n_actions), bool)
    valid[:, 0] = True
    for i in range(n_users):
        aps = np.flatnonzero(access[i])
        for slot in range(deadline):
            for r, ap in enumerate(aps):
                a = 1 + slot * MAX_REACH + r
                actions[i, a] = (slot, ap)
                valid[i, a] = True
    return WirelessGrid(height, width, access.shape[0] // (height * width), deadline,
                        arrival_prob, q, gamma, horizon, access, actions, valid)


# --------------------------------------------------------------------------------------
# Exercise 6.1: neighbourhoods
# --------------------------------------------------------------------------------------


def check_access(access: Any, dense: bool = False) -> np.ndarray:
    """A (n_users, n_aps) matrix of booleans (or 0/1), n_users at most ``MAX_USERS``, or
    ``MAX_DENSE_USERS`` with ``dense`` (for the (n_users, n_users) matrices)."""
    a = as_bool_array(access, "access")
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"access must be a (n_users, n_aps) matrix, got shape {a.shape}")
    limit, name = (MAX_DENSE_USERS, "MAX_DENSE_USERS") if dense else (MAX_USERS, "MAX_USERS")
    check_size("access.shape[0]", a.shape[0], limit, name, "users")
    return a


def _check_neighbourhood_args(access: Any, k: Any, dense: bool = True) -> dict[str, Any]:
    a = check_access(access, dense)
    # beyond n - 1 hops nothing new is reached: cap k so that a huge k cannot hang the loop
    return {"access": a, "k": min(check_int("k", k, 0), a.shape[0])}


@exercise("6.1", title="k-hop neighbourhoods from the access matrix",
          validate=_check_neighbourhood_args,
          returns=Array(lambda a: (a["access"].shape[0],) * 2, "bool"))
def neighbourhoods(access: np.ndarray, k: int) -> np.ndarray:
    """Which users lie within ``k`` hops of each other.

    Two users are neighbours (one hop) when they share an access point. The k-hop
    neighbourhood of user i holds i itself and every user reachable in at most k hops.

    Parameters
    ----------
    access : np.ndarray of bool, shape (n_users, n_aps)
    k : int >= 0

    Returns
    -------
    np.ndarray of bool, shape (n_users, n_users)
        ``out[i, j]`` is True when j is in i's k-hop neighbourhood (so ``out`` is symmetric
        and its diagonal is True; k = 0 gives the identity).
    """
    # TODO(exercise 6.1): users that share an access point are one hop apart; every user is in its
    # own neighbourhood (for k = 0 too, and without any access point).
    raise NotImplementedError


def neighbour_lists(access: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k-hop neighbourhoods as padded lists, for networks too large for (n, n) matrices.

    Returns ``members`` and ``hops``, both (n_users, m) int, m the largest neighbourhood:
    row i lists the users of N_i^k (i itself first, then by hop distance and index) and
    their hop distance from i, padded with -1. Built by breadth-first growth over a sparse
    one-hop relation, so the cost follows the neighbourhoods' sizes, not n**2; it agrees with
    ``neighbourhoods`` (exercise 6.1) wherever both can be computed.
    """
    from scipy import sparse

    a = _check_neighbourhood_args(access, k, dense=False)
    access, k = a["access"], a["k"]
    n = access.shape[0]
    m = sparse.csr_matrix(access.astype(np.int32))
    one_hop = ((m @ m.T) + sparse.identity(n, dtype=np.int32, format="csr")).astype(bool)
    reached = sparse.identity(n, dtype=bool, format="csr")
    rows, cols, dist = [np.arange(n)], [np.arange(n)], [np.zeros(n, int)]
    for h in range(1, k + 1):
        grown = (reached.astype(np.int32) @ one_hop.astype(np.int32)).astype(bool)
        new = (grown.astype(np.int8) - reached.astype(np.int8)).tocoo()
        keep = new.data > 0
        if not keep.any():
            break
        rows.append(new.row[keep])
        cols.append(new.col[keep])
        dist.append(np.full(int(keep.sum()), h))
        reached = grown
    r, c, d = (np.concatenate(x) for x in (rows, cols, dist))
    order = np.lexsort((c, d, r))
    r, c, d = r[order], c[order], d[order]
    counts = np.bincount(r, minlength=n)
    width = int(counts.max())
    slot = np.arange(len(r)) - np.repeat(np.cumsum(counts) - counts, counts)
    members = np.full((n, width), -1, int)
    hops = np.full((n, width), -1, int)
    members[r, slot] = c
    hops[r, slot] = d
    return members, hops


def hop_distances(access: np.ndarray) -> np.ndarray:
    """(n_users, n_users) int: the number of hops between two users (-1 if unreachable)."""
    access = check_access(access, dense=True)
    n = access.shape[0]
    dist = np.full((n, n), -1, int)
    reached = neighbourhoods(access, 0)
    dist[reached] = 0
    for hops in range(1, n):
        grown = neighbourhoods(access, hops)
        dist[grown & ~reached] = hops
        if (grown == reached).all():
            break
        reached = grown
    return dist


# --------------------------------------------------------------------------------------
# States and the batched network
# --------------------------------------------------------------------------------------


def state_index(queues: np.ndarray) -> np.ndarray:
    """Local states as integers: queues (..., d) of 0/1 -> sum_l queues[..., l] * 2**l."""
    q = as_bool_array(queues, "queues")
    if q.ndim < 1 or not 1 <= q.shape[-1] <= MAX_DEADLINE:
        raise ValueError(f"queues must have shape (..., d) with 1 <= d <= {MAX_DEADLINE} "
                         f"(MAX_DEADLINE), got {q.shape}")
    return (q.astype(np.int64) << np.arange(q.shape[-1])).sum(-1)


@dataclass
class StepRecord:
    """What happened in one step, per copy and user (for drawings): ``sent`` (the access
    point sent to, -1 if waiting), ``collided`` and ``delivered`` (bool)."""

    sent: np.ndarray
    collided: np.ndarray
    delivered: np.ndarray


def check_copies(name: str, copies: Any, grid: WirelessGrid) -> int:
    """A number of network copies (or episodes played side by side) whose queues fit."""
    copies = check_int(name, copies, 1)
    check_size(f"{name} * n_users * deadline", copies * grid.n_users * grid.deadline)
    return copies


class WirelessNetwork:
    """``n_copies`` independent copies of the network, stepped together.

    ``reset()`` returns the queues, (n_copies, n_users, d) uint8. ``step(actions)`` takes
    action indices (n_copies, n_users) into ``grid.actions`` and returns the next queues,
    the rewards (n_copies, n_users) and whether the episode (``horizon`` steps, by default
    ``grid.horizon``) ended; ``last`` holds the step's ``StepRecord``. All copies start and
    end together.
    """

    def __init__(self, grid: WirelessGrid, n_copies: int = 1, link_prob: float = 0.0,
                 seed: int = 0, horizon: int | None = None) -> None:
        self.grid = check_grid(grid)
        self.horizon = grid.horizon if horizon is None else check_int("horizon", horizon, 1,
                                                                      MAX_STEPS)
        self.n_copies = check_copies("n_copies", n_copies, grid)
        self.link_prob = check_unit("link_prob", link_prob)
        if self.link_prob > 0:  # (copies, users, users) links every step
            check_size("n_copies * n_users**2", self.n_copies * grid.n_users**2)
        self.rng = np.random.default_rng(check_seed(seed))
        # pairs of users two hops apart, the candidates for random links (only needed, and
        # only computed, when links are on)
        self.two_hop = (np.argwhere(np.triu(hop_distances(grid.access) == 2))
                        if self.link_prob > 0 else np.zeros((0, 2), int))
        self.queues = np.zeros((self.n_copies, grid.n_users, grid.deadline), np.uint8)
        self.t = 0
        self.last: StepRecord | None = None

    def reset(self, seed: int | None = None) -> np.ndarray:
        if seed is not None:
            self.rng = np.random.default_rng(check_seed(seed))
        self.queues[:] = 0
        self.queues[:, :, -1] = self.rng.random((self.n_copies, self.grid.n_users)) \
            < self.grid.arrival_prob
        self.t = 0
        return self.queues.copy()

    def check_actions(self, actions: Any) -> np.ndarray:
        a = as_index_array(actions, "actions", minimum=None)
        shape = (self.n_copies, self.grid.n_users)
        if a.shape != shape:
            raise ValueError(f"actions must have shape {shape} (copies, users), got {a.shape}")
        ok = (a >= 0) & (a < self.grid.n_actions)
        ok[ok] = self.grid.valid[np.nonzero(ok)[1], a[ok]]
        if not ok.all():
            copy, user = np.argwhere(~ok)[0]
            raise ValueError(
                f"user {user} (copy {copy}) chose action {a[copy, user]}, which it cannot "
                f"take: it reaches access points {np.flatnonzero(self.grid.access[user]).tolist()}"
                f"; its valid actions are {np.flatnonzero(self.grid.valid[user]).tolist()} "
                f"(0 waits; 1 + slot * {MAX_REACH} + r sends a slot to its r-th access point)")
        return a

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, bool]:
        if self.t >= self.horizon:
            raise RuntimeError("the episode has ended; call reset()")
        g, B, n = self.grid, self.n_copies, self.grid.n_users
        a = self.check_actions(actions)
        users = np.arange(n)
        slot, ap = g.actions[users, a, 0], g.actions[users, a, 1]  # (B, n) each
        sending = ap >= 0
        # senders per access point, per copy
        rows = np.broadcast_to(np.arange(B)[:, None], (B, n))
        counts = np.bincount(rows[sending] * g.n_aps + ap[sending],
                             minlength=B * g.n_aps).reshape(B, g.n_aps)
        alone = sending & (np.take_along_axis(counts, np.maximum(ap, 0), 1) == 1)
        if self.link_prob > 0 and len(self.two_hop):
            # this step's random links between users two hops apart, as (B, n, n) matrices
            linked = self.rng.random((B, len(self.two_hop))) < self.link_prob
            links = np.zeros((B, n, n), bool)
            i, j = self.two_hop[:, 0], self.two_hop[:, 1]
            links[:, i, j] = linked
            links[:, j, i] = linked
            alone &= ~(links & sending[:, None, :]).any(2)  # a linked partner sent: jammed
        holds = np.take_along_axis(self.queues, np.maximum(slot, 0)[..., None], 2)[..., 0] == 1
        lucky = self.rng.random((B, n)) < g.success_prob[np.maximum(ap, 0)]
        delivered = alone & holds & lucky
        copy, user = np.nonzero(delivered)
        self.queues[copy, user, slot[copy, user]] = 0
        self.last = StepRecord(np.where(sending, ap, -1), sending & ~alone, delivered)
        # deadlines count down; a packet may arrive
        self.queues[:, :, :-1] = self.queues[:, :, 1:]
        self.queues[:, :, -1] = self.rng.random((B, n)) < g.arrival_prob
        self.t += 1
        return self.queues.copy(), delivered.astype(float), self.t >= self.horizon


def discounted_return(grid: WirelessGrid, policy: Policy, episodes: int = 2000,
                      seed: int = 0, link_prob: float = 0.0) -> float:
    """Mean per-agent discounted return, (1/n) sum_i sum_t gamma**t r_i(t), of ``policy``
    over ``episodes`` episodes played side by side."""
    check_grid(grid)
    episodes = check_copies("episodes", episodes, grid)
    if not callable(policy):
        raise TypeError(f"policy must be callable, (queues, rng) -> actions, got "
                        f"{type(policy).__name__}")
    env = WirelessNetwork(grid, episodes, link_prob, seed)
    rng = np.random.default_rng(seed + 1)
    queues = env.reset()
    total = np.zeros(episodes)
    for t in range(grid.horizon):
        queues, rewards, _ = env.step(policy(queues, rng))
        total += grid.gamma ** t * rewards.mean(1)
    return float(total.mean())
