"""A cloned society of options (Chang et al., ICML 2020, section on Two Rooms).

Chapter 3's society traded the right to take one *action*; here each primitive is an *option*
(``course_lib.options``): the winner of the auction in state s runs its skill for tau
primitive steps until the skill ends in s'. The market is the credit-conserving Vickrey
(``ccv``) society of chapter 3, with one change, the semi-MDP discount:

    u_winner = sum_{j < tau} gamma**j * r_j  +  gamma**tau * 2nd-max b(s')  -  2nd-max b(s)

(losers earn 0; after a terminal s' the next term is 0). Every primitive has ``n_clones``
clones that share one network (observation -> Beta distribution over bids in [0, 1], plus a
value head V(s) used as the baseline) and each draw their own bid. Each primitive trains its
network by PPO on its own one-step utilities (``course_lib.ppo``): there is no return to
estimate beyond the next auction, since the market itself passes value backwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .contracts import Array, shape_of
from .exercises import exercise
from .options import OptionEnv
from .ppo import ActorCritic, PPOConfig, Rollout, TrainingLog, make_optimizer, ppo_update
from .society import (  # noqa: F401 (top_two: 4.3)
    check_auction_pair,
    check_bid_table,
    society_auction,
    top_two,
)
from .validation import as_float_array, as_index_array, check_int

BID_EPS = 1e-4  # bids are kept inside (0, 1) so that their Beta log-probability is finite
MAX_PRIMITIVES = 1_024  # networks in one society (each primitive has its own)


# --------------------------------------------------------------------------------------
# Exercise 4.3
# --------------------------------------------------------------------------------------


def _check_option_utility_args(rewards: Any, durations: Any, gamma: Any, bids: Any,
                               next_bids: Any, next_exists: Any) -> dict[str, Any]:
    checked = check_auction_pair(bids, next_bids, next_exists, gamma)
    batch = checked["bids"].shape[:-1]
    r = as_float_array(rewards, "rewards", finite=True)
    if r.ndim != len(batch) + 1 or r.shape[:-1] != batch or r.shape[-1] < 1:
        raise ValueError(f"rewards must have shape {batch} + (max_duration,), got {r.shape}")
    d = as_index_array(durations, "durations", r.shape[-1] + 1, minimum=1,
                       meaning=" (at most the rewards' last axis)")
    if d.shape != batch:
        raise TypeError(f"durations must be integers of shape {batch}, got {d.dtype} {d.shape}")
    return {"rewards": r, "durations": d, **checked}


@exercise("4.3", title="The winner's utility when primitives are options",
          validate=_check_option_utility_args,
          returns=Array(shape_of("rewards", slice(None, -1))))
def option_utility(rewards: np.ndarray, durations: np.ndarray, gamma: float, bids: np.ndarray,
                   next_bids: np.ndarray, next_exists: np.ndarray) -> np.ndarray:
    """The ccv winner's utility in a semi-MDP: its option ran ``durations`` primitive steps.

    Parameters
    ----------
    rewards : np.ndarray, shape (..., max_duration)
        The rewards of each primitive step of the option; entries at or beyond the option's
        duration are padding (ignore them, whatever they hold).
    durations : np.ndarray of int, shape (...)
        tau, the number of primitive steps the option ran (1 <= tau <= max_duration).
    gamma : float in [0, 1]
        The discount per *primitive* step.
    bids, next_bids : np.ndarray, shape (..., n_bidders)
        Every clone's bid at s (where the option started) and at s' (where it ended).
    next_exists : np.ndarray of bool, shape (...)
        False when s' is terminal: the next term is then 0.

    Returns
    -------
    np.ndarray, shape (...)
        ``sum_{j < tau} gamma**j r_j + gamma**tau * 2nd-max(next_bids) - 2nd-max(bids)``.

    Examples
    --------
    >>> option_utility([[0.0, 0.0, 1.0]], [3], 0.5, [[0.3, 0.2]], [[0.9, 0.8]], [False])
    array([0.05])
    """
    # TODO(exercise 4.3): exercise 3.1's ccv utility with semi-MDP discounts; only the first tau
    # rewards of each row count.
    raise NotImplementedError


# --------------------------------------------------------------------------------------
# The society
# --------------------------------------------------------------------------------------


class OptionSociety(nn.Module):
    """``n_primitives`` bidders (one small Beta network each), each with ``n_clones`` clones."""

    def __init__(self, obs_dim: int, n_primitives: int, n_clones: int = 2,
                 hidden: tuple[int, ...] = (16,),
                 image_shape: tuple[int, int, int] | None = None) -> None:
        super().__init__()
        self.n_primitives = check_int("n_primitives", n_primitives, 1, MAX_PRIMITIVES)
        self.n_clones = check_int("n_clones", n_clones, 1)
        # One network per primitive (its own CNN when observations are images), shared by
        # that primitive's clones only.
        self.bidders = nn.ModuleList(ActorCritic(obs_dim, 1, "beta", hidden, image_shape)
                                     for _ in range(self.n_primitives))

    def sample_bids(self, obs: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every clone's bid in each state: bids and log-probs (N, P, C), values (N, P)."""
        bids, log_probs, values = [], [], []
        with torch.no_grad():
            for bidder in self.bidders:
                dist = bidder.distribution(obs)
                b = dist.sample((self.n_clones,)).clamp(BID_EPS, 1 - BID_EPS)  # (C, N)
                bids.append(b.T)
                log_probs.append(dist.log_prob(b).T)
                values.append(bidder.value_of(obs))
        return (torch.stack(bids, 1).numpy().astype(np.float64),
                torch.stack(log_probs, 1).numpy(), torch.stack(values, 1).numpy())

    def mean_bids(self, obs: torch.Tensor) -> np.ndarray:
        """The centre of every primitive's bid distribution, (N, P): what it thinks s is worth
        when it acts."""
        with torch.no_grad():
            return torch.stack([b.distribution(obs).mean for b in self.bidders], -1).numpy()

    def choose(self, obs: np.ndarray) -> int:
        """The greedy society's choice in one state: the primitive with the highest mean bid."""
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32))[None]
        return int(np.argmax(self.mean_bids(x)[0]))


@dataclass
class SocietyStep:
    """What one decision of ``run_society_episode`` looked like (for replays)."""

    frame: np.ndarray | None
    bids: np.ndarray          # (P, C) every clone's bid
    winner: int
    duration: int
    reward: float


def run_society_episode(society: OptionSociety, env: OptionEnv, seed: int | None = None,
                        render: bool = False, max_decisions: int = 20) -> list[SocietyStep]:
    """Play one episode with sampled bids, recording every auction (and frames if asked).

    The frame of each step is the state in which that auction was held; a last step with
    ``winner=-1`` holds the final frame.
    """
    obs, _ = env.reset(seed=seed)
    steps: list[SocietyStep] = []

    def frame() -> np.ndarray | None:
        return env.env.unwrapped.get_frame(highlight=False) if render else None

    for _ in range(check_int("max_decisions", max_decisions, 1)):
        bids, _, _ = society.sample_bids(torch.as_tensor(obs, dtype=torch.float32)[None])
        outcome = society_auction(bids)
        k = int(outcome.primitive[0])
        shown = frame()
        obs, reward, terminated, truncated, info = env.step(k)
        steps.append(SocietyStep(shown, bids[0], k, info["duration"], float(reward)))
        if terminated or truncated:
            break
    steps.append(SocietyStep(frame(), np.zeros_like(steps[-1].bids), -1, 0, 0.0))
    return steps


def clone_utilities(bids: np.ndarray, utility: np.ndarray) -> np.ndarray:
    """Spread each auction's winner's utility over its clones: (M, P, C) with ``utility[m]``
    at the highest bid of auction m and 0 for every other clone (losers earn nothing)."""
    bids = check_bid_table(bids, "bids")
    if bids.ndim != 3 or bids.shape[1] < 1:
        raise ValueError(f"bids must have shape (auctions, n_primitives, n_clones), got "
                         f"{bids.shape}")
    M, P, C = bids.shape
    utility = as_float_array(utility, "utility", finite=True)
    if utility.shape != (M,):
        raise ValueError(f"utility must have shape ({M},), one per auction, got "
                         f"{utility.shape}")
    out = np.zeros((M, P * C))
    np.put_along_axis(out, np.argmax(bids.reshape(M, P * C), -1)[:, None], utility[:, None], -1)
    return out.reshape(M, P, C)


def update_bidders(society: OptionSociety, optimizers: list[torch.optim.Optimizer],
                   obs: np.ndarray, bids: np.ndarray, log_probs: np.ndarray,
                   values: np.ndarray, utility: np.ndarray, cfg: PPOConfig,
                   generator: torch.Generator | None = None) -> None:
    """One PPO update of every primitive's network on M auctions.

    ``obs`` (M, obs_dim) the states; ``bids`` and ``log_probs`` (M, P, C) every clone's bid;
    ``values`` (M, P) each bidder's value estimate; ``utility`` (M,) the winner's utility.
    Every clone's (bid, utility) is one sample of its primitive, a one-step episode (the
    market passes value backwards, so there is no return to bootstrap): ``cfg`` must have
    ``gamma=0``, ``n_envs=C`` and ``n_steps=M``.
    """
    M, P, C = bids.shape
    per_clone = clone_utilities(bids, utility)
    for p, (bidder, optimizer) in enumerate(zip(society.bidders, optimizers, strict=True)):
        rollout = Rollout(
            obs=np.repeat(obs[:, None], C, axis=1),
            actions=bids[:, p].astype(np.float32), log_probs=log_probs[:, p],
            values=np.repeat(values[:, p:p + 1], C, axis=1), rewards=per_clone[:, p],
            dones=np.ones((M, C), bool), last_values=np.zeros(C))
        ppo_update(bidder, optimizer, rollout, cfg, generator)


def _pad(rewards: list[float], length: int) -> np.ndarray:
    out = np.zeros(length)
    out[:len(rewards)] = rewards
    return out


def train_option_society(
    make_env: Callable[[], OptionEnv],
    total_steps: int,
    cfg: PPOConfig | None = None,
    n_clones: int = 2,
    seed: int = 0,
    society: OptionSociety | None = None,
    callback: Callable[[int], None] | None = None,
) -> tuple[OptionSociety, TrainingLog]:
    """Train a cloned ccv society of options for about ``total_steps`` primitive steps.

    Each update: ``cfg.n_envs`` environments take ``cfg.n_steps`` decisions each (an auction,
    then the winner's option runs); every clone's bid and utility (``option_utility`` for
    the winner, 0 for the others) becomes one PPO sample of its primitive. When an episode is
    cut by the time limit, the bids at the state where it stopped are drawn (not trained) so
    the last seller is still paid. Pass ``society`` to continue training (transfer).
    """
    cfg = cfg or PPOConfig()
    total_steps = check_int("total_steps", total_steps, 1)
    torch.manual_seed(seed)
    envs = [make_env() for _ in range(cfg.n_envs)]
    if not all(isinstance(e, OptionEnv) for e in envs):
        raise TypeError("make_env must return an OptionEnv")
    gamma, n_options = envs[0].gamma, len(envs[0].options)
    max_tau = max(o.max_steps for o in envs[0].options)
    obs = np.stack([env.reset(seed=seed * 1000 + i)[0] for i, env in enumerate(envs)])
    if society is None:
        society = OptionSociety(obs.shape[1], n_options, n_clones, cfg.hidden, cfg.image_shape)
    elif society.n_primitives != n_options:
        raise ValueError(f"the society has {society.n_primitives} primitives but the "
                         f"environment offers {n_options} options")
    P, C, T, N = n_options, society.n_clones, cfg.n_steps, cfg.n_envs
    optimizers = [make_optimizer(b.parameters(), cfg) for b in society.bidders]
    generator = torch.Generator().manual_seed(seed)
    bidder_cfg = PPOConfig(**{**cfg.__dict__, "gamma": 0.0, "n_envs": C, "n_steps": T * N})
    log, steps = TrainingLog(), 0
    episode_return = np.zeros(N)
    while steps < total_steps:
        obs_buf = np.zeros((T, N, obs.shape[1]), np.float32)
        bids = np.zeros((T + 1, N, P, C))
        log_probs = np.zeros((T, N, P, C), np.float32)
        values = np.zeros((T, N, P), np.float32)
        rewards = np.zeros((T, N, max_tau))
        durations = np.ones((T, N), int)
        winners = np.zeros((T, N), int)
        terminal = np.zeros((T, N), bool)
        cut: list[tuple[int, int, np.ndarray]] = []  # (t, i, obs) where a time limit struck
        successes: list[bool] = []
        returns: list[float] = []
        for t in range(T):
            x = torch.as_tensor(obs)
            bids[t], log_probs[t], values[t] = society.sample_bids(x)
            obs_buf[t] = obs
            winners[t] = society_auction(bids[t]).primitive
            for i, env in enumerate(envs):
                o, _, term, trunc, info = env.step(int(winners[t, i]))
                rewards[t, i] = _pad(info["option_rewards"], max_tau)
                episode_return[i] += sum(info["option_rewards"])
                durations[t, i] = info["duration"]
                steps += info["duration"]
                if term or trunc:
                    terminal[t, i] = term
                    successes.append(info["success"])
                    returns.append(float(episode_return[i]))
                    episode_return[i] = 0.0
                    if trunc and not term:
                        cut.append((t, i, o))
                    o, _ = env.reset()
                obs[i] = o
        # The auction after the last decision (and after time limits) is held but not trained.
        bids[T] = society.sample_bids(torch.as_tensor(obs))[0]
        next_bids = bids[1:].copy()
        for t, i, o in cut:
            next_bids[t, i] = society.sample_bids(torch.as_tensor(o)[None])[0][0]
        utility = option_utility(rewards, durations, gamma, bids[:T].reshape(T, N, P * C),
                                 next_bids.reshape(T, N, P * C), ~terminal)
        update_bidders(society, optimizers, obs_buf.reshape(T * N, -1),
                       bids[:T].reshape(T * N, P, C), log_probs.reshape(T * N, P, C),
                       values.reshape(T * N, P), utility.reshape(T * N), bidder_cfg, generator)
        log.record(steps, returns, successes)
        if callback is not None:
            callback(steps)
    return society, log
