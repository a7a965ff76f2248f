"""One readable PPO (proximal policy optimisation), top to bottom.

Used by chapters 4 and 5: for flat and hierarchical policies (categorical over actions or
options) and for bidders (a Beta distribution over the bid range).

The pieces, in the order they run:

1. ``ActorCritic``: a small MLP (or, for image observations, a small CNN) with a policy
   head and a value head.
2. Roll out ``n_steps`` steps in ``n_envs`` environments (``collect_rollout``).
3. ``compute_gae`` (exercise 4.1): generalised advantage estimates and returns.
4. ``ppo_update``: several epochs of minibatch steps on the clipped surrogate
   (``clipped_surrogate_loss``, exercise 4.2), a value loss and an entropy bonus.

``train_ppo`` strings them together for any gymnasium environment with a flat (Box)
observation and a Discrete action space.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.distributions import Beta, Categorical, Distribution

from .contracts import Array, Pair, shape_of
from .exercises import exercise
from .validation import (
    MAX_STEPS,
    as_float_array,
    check_finite,
    check_float,
    check_int,
    check_layers,
    check_size,
)


@dataclass
class PPOConfig:
    """Hyperparameters (defaults suit the small tasks of this course)."""

    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip: float = 0.2
    lr: float = 2.5e-3
    n_envs: int = 8
    n_steps: int = 64
    epochs: int = 4
    minibatches: int = 4
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: tuple[int, ...] = (64,)
    optimizer: str = "adam"
    image_shape: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        for name in ("gamma", "gae_lambda"):
            value = check_float(name, getattr(self, name), non_negative=True)
            if value > 1:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        for name in ("clip", "lr", "max_grad_norm"):
            check_float(name, getattr(self, name), positive=True)
        for name in ("ent_coef", "vf_coef"):
            check_float(name, getattr(self, name), non_negative=True)
        for name in ("n_envs", "n_steps", "epochs", "minibatches"):
            check_int(name, getattr(self, name), 1)
        check_size("n_envs * n_steps", self.n_envs * self.n_steps)  # the rollout's length
        check_size("epochs * minibatches", self.epochs * self.minibatches, MAX_STEPS,
                   "MAX_STEPS", "updates")
        if not isinstance(self.hidden, (tuple, list)) or not all(
                isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in self.hidden):
            raise TypeError(f"hidden must be a tuple of positive layer sizes, got "
                            f"{self.hidden!r:.80}")
        check_layers("hidden", self.hidden)
        if (self.n_envs * self.n_steps) % self.minibatches:
            raise ValueError("n_envs * n_steps must be divisible by minibatches")
        if not isinstance(self.optimizer, str) or self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got "
                             f"{self.optimizer!r:.80}")
        if self.image_shape is not None:
            self.image_shape = check_image_shape(self.image_shape)
            check_size("image_shape height * width * channels", int(np.prod(self.image_shape)))


OPTIMIZERS = ("adam", "sgd")


def make_optimizer(params: Any, cfg: PPOConfig) -> torch.optim.Optimizer:
    """``cfg.optimizer`` over ``params``: Adam (eps 1e-5, as in most PPO code) or plain SGD
    (no momentum), both with step size ``cfg.lr``."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr)
    return torch.optim.Adam(params, lr=cfg.lr, eps=1e-5)


def check_image_shape(shape: Any) -> tuple[int, int, int]:
    """A (height, width, channels) image shape, height and width at least 7 (what the CNN's
    three 2x2 convolutions and one 2x2 pooling need)."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 3:
        raise TypeError(f"image_shape must be (height, width, channels), got {shape!r}")
    h, w, c = (check_int(name, v, 1) for name, v in zip(("height", "width", "channels"), shape,
                                                         strict=True))
    if h < 7 or w < 7:
        raise ValueError(f"image_shape needs height and width >= 7, got {shape!r}")
    return (h, w, c)


# --------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------


class ImageEncoder(nn.Module):
    """A small CNN for MiniGrid-sized images, fed flat: (N, H*W*C) -> (N, 64 * h' * w').

    Three 2x2 convolutions (16, 32, 64 channels, ReLU) with a 2x2 max-pool after the first,
    the shape of network commonly used on MiniGrid's 7 x 7 view (it reduces that view to one
    64-channel cell). Observations travel through the rollout buffers as flat vectors; the
    encoder restores the image layout itself.
    """

    def __init__(self, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.image_shape = check_image_shape(image_shape)
        h, w, c = self.image_shape
        self.conv = nn.Sequential(nn.Conv2d(c, 16, 2), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(16, 32, 2), nn.ReLU(),
                                  nn.Conv2d(32, 64, 2), nn.ReLU())
        self.out_features = 64 * ((h - 1) // 2 - 2) * ((w - 1) // 2 - 2)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        h, w, c = self.image_shape
        x = obs.reshape(-1, h, w, c).permute(0, 3, 1, 2)
        return self.conv(x).flatten(1).reshape(*obs.shape[:-1], -1)


class ActorCritic(nn.Module):
    """MLP torso (behind a small CNN when ``image_shape`` is given) with a policy head and a
    value head.

    ``kind="categorical"``: logits over ``n_outputs`` choices. ``kind="beta"``: a Beta
    distribution on [0, 1] (for bids), parameterised by a mean (sigmoid) and a concentration
    (softplus), initialised to Beta(1, 1). With ``image_shape=(H, W, C)`` observations are
    flat vectors of ``H * W * C`` numbers, read as an image by ``ImageEncoder``.
    """

    def __init__(self, obs_dim: int, n_outputs: int = 1, kind: str = "categorical",
                 hidden: Sequence[int] = (64,),
                 image_shape: tuple[int, int, int] | None = None) -> None:
        super().__init__()
        if not isinstance(kind, str) or kind not in ("categorical", "beta"):
            raise ValueError(f"kind must be 'categorical' or 'beta', got {kind!r:.80}")
        self.kind = kind
        obs_dim = check_int("obs_dim", obs_dim, 1)
        n_outputs = check_int("n_outputs", n_outputs, 1)
        if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
            raise TypeError(f"hidden must be a sequence of layer sizes, got {hidden!r:.80}")
        hidden = [check_int("hidden size", size, 1) for size in hidden]
        layers: list[nn.Module] = []
        width = obs_dim
        if image_shape is not None:
            shape = check_image_shape(image_shape)
            if int(np.prod(shape)) != obs_dim:
                raise ValueError(f"image_shape {shape} holds {int(np.prod(shape))} numbers, "
                                 f"but obs_dim is {obs_dim}")
            encoder = ImageEncoder(shape)
            layers.append(encoder)
            width = encoder.out_features
        # every weight before any is allocated: obs_dim (or the image) -> hidden -> heads
        check_layers("(obs_dim, *hidden, n_outputs)", [width, *hidden, n_outputs + 1])
        for size in hidden:
            layers += [nn.Linear(width, size), nn.Tanh()]
            width = size
        self.torso = nn.Sequential(*layers)
        self.policy = nn.Linear(width, n_outputs if kind == "categorical" else 2)
        self.value = nn.Linear(width, 1)
        nn.init.orthogonal_(self.policy.weight, gain=0.01)
        nn.init.zeros_(self.policy.bias)
        if kind == "beta":  # mean 0.5, concentration softplus(b) = 2: Beta(1, 1)
            with torch.no_grad():
                self.policy.bias[1] = float(np.log(np.expm1(2.0)))

    def distribution(self, obs: torch.Tensor) -> Distribution:
        out = self.policy(self.torso(obs))
        if self.kind == "categorical":
            return Categorical(logits=out)
        mean = torch.sigmoid(out[..., 0])
        concentration = nn.functional.softplus(out[..., 1]) + 1e-3
        return Beta(mean * concentration + 1e-3, (1 - mean) * concentration + 1e-3)

    def value_of(self, obs: torch.Tensor) -> torch.Tensor:
        return self.value(self.torso(obs)).squeeze(-1)


# --------------------------------------------------------------------------------------
# Exercises
# --------------------------------------------------------------------------------------


def _check_gae_args(rewards: Any, values: Any, dones: Any, last_values: Any, gamma: Any,
                    lam: Any) -> dict[str, Any]:
    r = check_finite(as_float_array(rewards, "rewards"), "rewards")
    v = check_finite(as_float_array(values, "values"), "values")
    if r.ndim != 2 or v.shape != r.shape:
        raise ValueError(f"rewards and values must have the same shape (T, n_envs), got "
                         f"{r.shape} and {v.shape}")
    d = np.asarray(dones)
    if d.shape != r.shape:
        raise ValueError(f"dones must have shape {r.shape}, got {d.shape}")
    if d.dtype != bool:
        if not np.isin(d, (0, 1)).all():
            raise ValueError("dones must be booleans (or 0/1)")
        d = d.astype(bool)
    last = check_finite(as_float_array(last_values, "last_values"), "last_values")
    if last.shape != r.shape[1:]:
        raise ValueError(f"last_values must have shape ({r.shape[1]},), got {last.shape}")
    if isinstance(gamma, (np.ndarray, list, tuple)):
        g = check_finite(as_float_array(gamma, "gamma"), "gamma")
        if g.shape != r.shape:
            raise ValueError(f"an array gamma must have the shape of rewards {r.shape}, got "
                             f"{g.shape}")
    else:
        g = np.full(r.shape, check_float("gamma", gamma, non_negative=True))
    lam = check_float("lam", lam, non_negative=True)
    if (g < 0).any() or (g > 1).any() or lam > 1:
        raise ValueError("gamma and lam must lie in [0, 1]")
    return {"rewards": r, "values": v, "dones": d, "last_values": last, "gamma": g,
            "lam": lam}


@exercise("4.1", title="Generalised advantage estimation", validate=_check_gae_args,
          returns=Pair(Array(shape_of("rewards")), Array(shape_of("rewards"))))
def compute_gae(rewards: np.ndarray, values: np.ndarray, dones: np.ndarray,
                last_values: np.ndarray, gamma: float | np.ndarray,
                lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Advantages and returns of a rollout, by GAE(lambda).

    The discount may differ from step to step: when step t ran an *option* for tau primitive
    steps, the next state lies tau steps ahead and is discounted by ``gamma**tau``
    (a semi-MDP). So ``gamma`` reaches this function as an array: ``gamma[t]`` discounts
    ``V(s_{t+1})`` and the advantage of step t + 1.

    Parameters
    ----------
    rewards, values : np.ndarray, shape (T, n_envs)
        ``values[t]`` is V(s_t) as estimated during the rollout.
    dones : np.ndarray of bool, shape (T, n_envs)
        True when the episode *ended* at step t (a terminal state; s_{t+1} belongs to a new
        episode, so nothing is bootstrapped across it).
    last_values : np.ndarray, shape (n_envs,)
        V(s_T) of the state after the last step.
    gamma : np.ndarray, shape (T, n_envs), values in [0, 1]
        Per-step discounts. Callers may pass one float; it is broadcast to this shape before
        the body runs, so the body always indexes ``gamma[t]``.
    lam : float in [0, 1]

    Returns
    -------
    advantages, returns : np.ndarray, shape (T, n_envs)
        ``delta_t = r_t + gamma[t] * V(s_{t+1}) * (1 - done_t) - V(s_t)``,
        ``A_t = delta_t + gamma[t] * lam * (1 - done_t) * A_{t+1}``, ``returns = A + values``.
    """
    # TODO(exercise 4.1): the recursion runs backwards in time, and nothing may be carried across a
    # step where dones[t] is True.
    raise NotImplementedError


def _check_loss_args(new_log_prob: Any, old_log_prob: Any, advantages: Any,
                     clip: Any) -> dict[str, Any]:
    tensors = {}
    for name, x in (("new_log_prob", new_log_prob), ("old_log_prob", old_log_prob),
                    ("advantages", advantages)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
        if not torch.isfinite(x).all():
            raise ValueError(f"{name} must be finite")
        tensors[name] = x
    shape = tensors["new_log_prob"].shape
    if tensors["old_log_prob"].shape != shape or tensors["advantages"].shape != shape:
        raise ValueError("new_log_prob, old_log_prob and advantages must share one shape")
    if tensors["new_log_prob"].numel() == 0:
        raise ValueError("new_log_prob, old_log_prob and advantages are empty: the loss is a "
                         "mean over at least one sample")
    return {**tensors, "clip": check_float("clip", clip, positive=True)}


@exercise("4.2", title="The clipped surrogate loss", validate=_check_loss_args,
          returns=Array(lambda a: (), tensor=True))
def clipped_surrogate_loss(new_log_prob: torch.Tensor, old_log_prob: torch.Tensor,
                           advantages: torch.Tensor, clip: float) -> torch.Tensor:
    """PPO's clipped policy loss (to be minimised), averaged over the batch.

    With ``ratio = exp(new_log_prob - old_log_prob)``, the loss is
    ``-mean(min(ratio * A, clamp(ratio, 1 - clip, 1 + clip) * A))``.
    Gradients must flow through ``new_log_prob``.

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    # TODO(exercise 4.2): the docstring's formula, elementwise in torch so that gradients flow
    # through new_log_prob.
    raise NotImplementedError


# --------------------------------------------------------------------------------------
# Rollouts and updates
# --------------------------------------------------------------------------------------


@dataclass
class Rollout:
    """One batch of experience, arrays of shape (T, n_envs) (``obs``: (T, n_envs, obs_dim)).

    ``discounts`` (optional, (T, n_envs)) is the discount after each step: ``gamma**tau`` when
    the step was an option that ran tau primitive steps; None means ``cfg.gamma`` everywhere.
    ``env_steps`` counts primitive environment steps (more than T * n_envs with options).
    """

    obs: np.ndarray
    actions: np.ndarray
    log_probs: np.ndarray
    values: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    last_values: np.ndarray
    episode_returns: list[float] = field(default_factory=list)
    episode_successes: list[bool] = field(default_factory=list)
    discounts: np.ndarray | None = None
    env_steps: int = 0


def ppo_update(model: ActorCritic, optimizer: torch.optim.Optimizer, rollout: Rollout,
               cfg: PPOConfig, generator: torch.Generator | None = None) -> dict[str, float]:
    """Several epochs of minibatch PPO steps on one rollout; returns mean losses."""
    gamma = cfg.gamma if rollout.discounts is None else rollout.discounts
    advantages, returns = compute_gae(rollout.rewards, rollout.values, rollout.dones,
                                      rollout.last_values, gamma, cfg.gae_lambda)
    n = rollout.rewards.size
    obs = torch.as_tensor(rollout.obs.reshape(n, -1), dtype=torch.float32)
    actions = torch.as_tensor(rollout.actions.reshape(n, *rollout.actions.shape[2:]))
    old_log_prob = torch.as_tensor(rollout.log_probs.reshape(n), dtype=torch.float32)
    adv = torch.as_tensor(advantages.reshape(n), dtype=torch.float32)
    ret = torch.as_tensor(returns.reshape(n), dtype=torch.float32)
    size = n // cfg.minibatches
    stats = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0}
    for _ in range(cfg.epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, size):
            idx = order[start:start + size]
            dist = model.distribution(obs[idx])
            a = adv[idx]
            a = (a - a.mean()) / (a.std() + 1e-8) if idx.numel() > 1 else a
            policy_loss = clipped_surrogate_loss(dist.log_prob(actions[idx]), old_log_prob[idx],
                                                 a, cfg.clip)
            value_loss = 0.5 * (model.value_of(obs[idx]) - ret[idx]).pow(2).mean()
            entropy = dist.entropy().mean()
            loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * entropy
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            optimizer.step()
            for key, value in (("policy_loss", policy_loss), ("value_loss", value_loss),
                               ("entropy", entropy)):
                stats[key] += float(value.detach()) / (cfg.epochs * cfg.minibatches)
    return stats


def collect_rollout(model: ActorCritic, envs: list[Any], obs: np.ndarray, cfg: PPOConfig,
                    episode_return: np.ndarray) -> tuple[Rollout, np.ndarray]:
    """Step every environment ``cfg.n_steps`` times with the current policy.

    ``obs`` (n_envs, obs_dim) and ``episode_return`` (n_envs,) carry over between calls.
    A time limit (truncation) is treated as the end of an episode, like a terminal state.
    Environments whose steps are options report ``info["duration"]`` (primitive steps) and
    ``info["discount"]`` (``gamma**duration``); the rollout keeps both.
    """
    T, N = cfg.n_steps, len(envs)
    buf = {"obs": np.zeros((T, N, obs.shape[1]), np.float32), "actions": np.zeros((T, N), int),
           "log_probs": np.zeros((T, N)), "values": np.zeros((T, N)),
           "rewards": np.zeros((T, N)), "dones": np.zeros((T, N), bool),
           "discounts": np.full((T, N), cfg.gamma)}
    returns, successes, env_steps = [], [], 0
    for t in range(T):
        with torch.no_grad():
            x = torch.as_tensor(obs, dtype=torch.float32)
            dist = model.distribution(x)
            action = dist.sample()
            buf["log_probs"][t] = dist.log_prob(action).numpy()
            buf["values"][t] = model.value_of(x).numpy()
        buf["obs"][t], buf["actions"][t] = obs, action.numpy()
        for i, env in enumerate(envs):
            o, r, term, trunc, info = env.step(int(action[i]))
            buf["rewards"][t, i] = r
            buf["discounts"][t, i] = info.get("discount", cfg.gamma)
            env_steps += info.get("duration", 1)
            episode_return[i] += r
            if term or trunc:
                buf["dones"][t, i] = True
                returns.append(float(episode_return[i]))
                successes.append(r > 0)
                episode_return[i] = 0.0
                o, _ = env.reset()
            obs[i] = o
    with torch.no_grad():
        last = model.value_of(torch.as_tensor(obs, dtype=torch.float32)).numpy()
    return Rollout(**buf, last_values=last, episode_returns=returns,
                   episode_successes=successes, env_steps=env_steps), obs


@dataclass
class TrainingLog:
    """Per update: environment steps so far, and the number, mean return and success rate of
    the episodes that ended during that update (NaN if none ended)."""

    steps: list[int] = field(default_factory=list)
    mean_return: list[float] = field(default_factory=list)
    success_rate: list[float] = field(default_factory=list)
    episodes: list[int] = field(default_factory=list)

    def record(self, steps: int, returns: list[float], successes: list[bool]) -> None:
        self.steps.append(int(steps))
        self.episodes.append(len(successes))
        self.mean_return.append(float(np.mean(returns)) if returns else float("nan"))
        self.success_rate.append(float(np.mean(successes)) if successes else float("nan"))


def train_ppo(make_env: Callable[[], Any], total_steps: int, cfg: PPOConfig | None = None,
              seed: int = 0, model: ActorCritic | None = None,
              callback: Callable[[int], None] | None = None) -> tuple[ActorCritic, TrainingLog]:
    """Train a categorical policy with PPO for about ``total_steps`` environment steps.

    ``make_env`` may build an option-level environment (``info["duration"]`` and
    ``info["discount"]``, see ``collect_rollout``): steps then count primitive steps and GAE
    discounts each decision by ``gamma**duration``.

    Seeds torch's global generator with ``seed`` (network initialisation and sampling) and
    the environments with ``seed * 1000 + i``. ``TrainingLog.success_rate`` counts only the
    episodes that ended during an update, so the first updates see only quick successes.
    """
    cfg = cfg or PPOConfig()
    total_steps = check_int("total_steps", total_steps, 1)
    torch.manual_seed(seed)
    envs = [make_env() for _ in range(cfg.n_envs)]
    obs = np.stack([env.reset(seed=seed * 1000 + i)[0] for i, env in enumerate(envs)])
    if model is None:
        model = ActorCritic(obs.shape[1], envs[0].action_space.n, "categorical", cfg.hidden,
                            cfg.image_shape)
    optimizer = make_optimizer(model.parameters(), cfg)
    generator = torch.Generator().manual_seed(seed)
    log, steps = TrainingLog(), 0
    episode_return = np.zeros(cfg.n_envs)
    while steps < total_steps:
        rollout, obs = collect_rollout(model, envs, obs, cfg, episode_return)
        ppo_update(model, optimizer, rollout, cfg, generator)
        steps += rollout.env_steps
        log.record(steps, rollout.episode_returns, rollout.episode_successes)
        if callback is not None:
            callback(steps)
    return model, log
