"""Chapter 5's learners: a cloned society of affine primitives, and monolithic PPO.

Both see the transformed digit (a 64 x 64 canvas) and have two steps to turn it into one the
frozen classifier reads correctly (``course_lib.envs.mnist_analogy``).

* The **society** (Chang et al., ICML 2020): each of the six primitives has two clones that
  share one bidder network (image -> Beta distribution over bids in [0, 1], plus a value
  head). In each state the highest bid wins and its primitive transforms the image. The
  market is chapter 3's credit-conserving Vickrey rule (``ccv``): the first winner is paid
  the second-highest bid of the next auction (discounted by gamma) and pays the second-highest
  bid of its own; the second winner is paid the classifier's reward. Each primitive trains its
  network by PPO on the one-step utilities of its clones (``option_society.update_bidders``).
* **Monolithic PPO**: one network with the same image features and a softmax over the six
  primitives, trained by PPO on the episode's reward (GAE over the two steps).

Both read a 32 x 32 thumbnail of the canvas (2 x 2 average pooling, computed once per image
and shared by every network) through two tanh layers of 64 and 32 units: small networks, so
that training takes minutes on a CPU. Two settings matter for the society's stability. An
entropy bonus of 0.01 on every bidder's Beta distribution: without it, the greedy held-out
reward peaked near 0.9 and then fell, in some runs below 0.5, as the bid distributions
narrowed. And a learning rate that decays linearly to zero over training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .data import MnistData
from .envs.mnist_analogy import EPISODE_STEPS, MnistAnalogyVecEnv
from .envs.mnist_canvas import (
    CANVAS,
    INPUT_TRANSFORMS,
    PRIMITIVES,
    apply_inputs,
    apply_primitives,
    classifier_reward,
    oracle_primitives,
    place_on_canvas,
)
from .option_society import OptionSociety, update_bidders
from .ppo import ActorCritic, PPOConfig, Rollout, ppo_update
from .society import society_auction, winner_utility
from .validation import check_choice, check_float, check_int

GAMMA = 0.99
THUMBNAIL = CANVAS // 2
HIDDEN = (64, 32)
LEARNERS = ("society", "monolithic")


def thumbnail(images: torch.Tensor) -> torch.Tensor:
    """What the learners see: canvases (N, 1, 64, 64) averaged over 2 x 2 blocks, flattened
    to (N, 32 * 32)."""
    n = images.shape[0]
    return images.reshape(n, THUMBNAIL, 2, THUMBNAIL, 2).mean((2, 4)).reshape(n, -1)


def make_society(n_clones: int = 2) -> OptionSociety:
    """Six bidders, one network per primitive, each with ``n_clones`` clones."""
    return OptionSociety(THUMBNAIL ** 2, len(PRIMITIVES), n_clones, HIDDEN)


def make_monolithic() -> ActorCritic:
    """One network with a softmax over the six primitives and a value head."""
    return ActorCritic(THUMBNAIL ** 2, len(PRIMITIVES), "categorical", HIDDEN)


@dataclass
class AnalogyConfig:
    """Training settings, the same for both learners."""

    updates: int = 150
    episodes: int = 512          # episodes (of two steps) per update
    lr: float = 1e-3             # decays linearly to 0 over ``updates``
    epochs: int = 2
    minibatches: int = 4
    n_clones: int = 2
    ent_coef: float = 0.01       # entropy bonus (of each bidder's Beta; of the softmax)
    eval_every: int = 10         # updates between two held-out evaluations

    def __post_init__(self) -> None:
        for name in ("updates", "episodes", "epochs", "minibatches", "n_clones", "eval_every"):
            check_int(name, getattr(self, name), 1)
        check_float("lr", self.lr, positive=True)
        check_float("ent_coef", self.ent_coef, non_negative=True)
        if (self.episodes * EPISODE_STEPS) % self.minibatches:
            raise ValueError("2 * episodes must be divisible by minibatches")

    @property
    def env_steps(self) -> int:
        return self.updates * self.episodes * EPISODE_STEPS


@dataclass
class AnalogyLog:
    """Training reward (sampled choices, training digits) after every update, and greedy
    held-out reward every ``eval_every`` updates, both against environment steps."""

    steps: list[int] = field(default_factory=list)
    train_reward: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_reward: list[float] = field(default_factory=list)


@dataclass
class AnalogyRun:
    """One trained learner: its name, seed, network, log, final greedy reward on the held-out
    inputs it was evaluated on, and its training time."""

    learner_name: str
    seed: int
    learner: nn.Module = field(repr=False)
    log: AnalogyLog
    held_out_reward: float
    wall_s: float = 0.0


# --------------------------------------------------------------------------------------
# Policies: images (N, 1, 64, 64) -> primitive ids (N,)
# --------------------------------------------------------------------------------------


Policy = Callable[[torch.Tensor], torch.Tensor]


def society_bids(society: OptionSociety, images: torch.Tensor) -> np.ndarray:
    """Every primitive's mean bid on each image, (N, 6)."""
    return society.mean_bids(thumbnail(images))


def greedy_policy(learner: nn.Module) -> Policy:
    """The learner's deterministic choice: the highest mean bid (society) or the most likely
    primitive (monolithic)."""
    if isinstance(learner, OptionSociety):
        return lambda x: torch.as_tensor(society_bids(learner, x).argmax(1))
    if isinstance(learner, ActorCritic):
        def choose(x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return learner.distribution(thumbnail(x)).probs.argmax(1)
        return choose
    raise TypeError(f"learner must be a society or an ActorCritic, got {type(learner).__name__}")


@dataclass
class HeldOut:
    """Every held-out digit under every input transformation: ``images`` (N, 1, 64, 64),
    ``labels`` and ``transforms`` (N,), N = 8 x test digits."""

    images: torch.Tensor
    labels: torch.Tensor
    transforms: torch.Tensor


def _check_data(data: Any) -> MnistData:
    if not isinstance(data, MnistData):
        raise TypeError(f"data must come from course_lib.data.load_mnist, got "
                        f"{type(data).__name__}")
    return data


def _check_classifier(classifier: Any) -> nn.Module:
    if not isinstance(classifier, nn.Module):
        raise TypeError(f"classifier must be a torch.nn.Module, got {type(classifier).__name__}")
    return classifier


def held_out_inputs(data: MnistData) -> HeldOut:
    """Every held-out digit of ``data`` under each of the eight input transformations."""
    data = _check_data(data)
    canvases = place_on_canvas(torch.as_tensor(data.test_images))
    k = len(INPUT_TRANSFORMS)
    transforms = torch.arange(k).repeat(len(canvases))
    return HeldOut(apply_inputs(canvases.repeat_interleave(k, 0), transforms),
                   torch.as_tensor(data.test_labels).repeat_interleave(k), transforms)


def held_out_reward(policy: Policy | str, held_out: HeldOut, classifier: nn.Module,
                    batch: int = 2000) -> float:
    """Mean reward of two greedy steps on every held-out input.

    ``policy`` is a function (images -> primitive ids), ``"none"`` (the classifier reads the
    input untouched) or ``"oracle"`` (the two primitives that exactly undo the input).
    """
    if isinstance(policy, str):
        policy = check_choice("policy", policy, ("none", "oracle"))
    elif not callable(policy):
        raise TypeError("policy must be a function of images or 'none' / 'oracle'")
    if not isinstance(held_out, HeldOut):
        raise TypeError("held_out must come from held_out_inputs(data)")
    classifier = _check_classifier(classifier)
    batch = check_int("batch", batch, 1)
    total = 0.0
    for start in range(0, len(held_out.labels), batch):
        x = held_out.images[start:start + batch]
        if policy == "oracle":
            plan = oracle_primitives(held_out.transforms[start:start + batch])
            for t in range(EPISODE_STEPS):
                x = apply_primitives(x, plan[:, t])
        elif policy != "none":
            for _ in range(EPISODE_STEPS):
                x = apply_primitives(x, policy(x))
        total += float(classifier_reward(classifier, x,
                                         held_out.labels[start:start + batch]).sum())
    return total / len(held_out.labels)


# --------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------


def _set_lr(optimizers: list[torch.optim.Optimizer], lr: float) -> None:
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            group["lr"] = lr


def _society_update(society: OptionSociety, optimizers: list[torch.optim.Optimizer],
                    env: MnistAnalogyVecEnv, obs: np.ndarray, cfg: AnalogyConfig,
                    generator: torch.Generator) -> tuple[np.ndarray, float]:
    """Play one batch of episodes (two auctions each) and update every bidder."""
    N, P, C = cfg.episodes, society.n_primitives, society.n_clones
    states, bids, log_probs, values = [], [], [], []
    for _ in range(EPISODE_STEPS):
        x = thumbnail(torch.as_tensor(obs))
        b, lp, v = society.sample_bids(x)
        obs, reward, *_ = env.step(society_auction(b).primitive)
        states.append(x.numpy())
        bids.append(b)
        log_probs.append(lp)
        values.append(v)
    flat = [b.reshape(N, P * C) for b in bids]
    # First auction: no reward yet; the seller is paid by the second auction's buyer.
    first = winner_utility("ccv", np.zeros(N), GAMMA, flat[0], flat[1], np.ones(N, bool))
    # Second auction: the classifier's reward; nothing comes after.
    second = winner_utility("ccv", reward.astype(np.float64), GAMMA, flat[1],
                            np.zeros_like(flat[1]), np.zeros(N, bool))
    bidder_cfg = PPOConfig(gamma=0.0, lr=cfg.lr, n_envs=C, n_steps=EPISODE_STEPS * N,
                           epochs=cfg.epochs, minibatches=cfg.minibatches,
                           ent_coef=cfg.ent_coef)
    update_bidders(society, optimizers, np.concatenate(states), np.concatenate(bids),
                   np.concatenate(log_probs), np.concatenate(values),
                   np.concatenate([first, second]), bidder_cfg, generator)
    return obs, float(reward.mean())


def _monolithic_update(model: ActorCritic, optimizers: list[torch.optim.Optimizer],
                       env: MnistAnalogyVecEnv, obs: np.ndarray, cfg: AnalogyConfig,
                       generator: torch.Generator) -> tuple[np.ndarray, float]:
    """Play one batch of episodes with sampled choices and take a PPO update."""
    N, T = cfg.episodes, EPISODE_STEPS
    buf: dict[str, Any] = {"obs": [], "actions": [], "log_probs": [], "values": [],
                           "rewards": []}
    for _ in range(T):
        x = thumbnail(torch.as_tensor(obs))
        with torch.no_grad():
            dist = model.distribution(x)
            action = dist.sample()
            buf["log_probs"].append(dist.log_prob(action).numpy())
            buf["values"].append(model.value_of(x).numpy())
        obs, reward, *_ = env.step(action)
        buf["obs"].append(x.numpy())
        buf["actions"].append(action.numpy())
        buf["rewards"].append(reward.astype(np.float64))
    dones = np.zeros((T, N), bool)
    dones[-1] = True
    rollout = Rollout(**{k: np.stack(v) for k, v in buf.items()}, dones=dones,
                      last_values=np.zeros(N))
    ppo_cfg = PPOConfig(gamma=GAMMA, lr=cfg.lr, n_envs=N, n_steps=T, epochs=cfg.epochs,
                        minibatches=cfg.minibatches, ent_coef=cfg.ent_coef)
    ppo_update(model, optimizers[0], rollout, ppo_cfg, generator)
    return obs, float(buf["rewards"][-1].mean())


def train_learner(learner_name: str, data: Any, classifier: nn.Module,
                  cfg: AnalogyConfig | None = None, seed: int = 0,
                  held_out: HeldOut | None = None,
                  callback: Callable[[int], None] | None = None) -> AnalogyRun:
    """Train ``"society"`` or ``"monolithic"`` on the training digits for ``cfg.updates``
    updates of ``cfg.episodes`` episodes; evaluate greedily on every held-out input every
    ``cfg.eval_every`` updates and at the end. ``callback(env_steps)`` after each update."""
    import time

    learner_name = check_choice("learner", learner_name, LEARNERS)
    cfg = cfg or AnalogyConfig()
    if not isinstance(cfg, AnalogyConfig):
        raise TypeError(f"cfg must be an AnalogyConfig, got {type(cfg).__name__}")
    seed = check_int("seed", seed, 0)
    data, classifier = _check_data(data), _check_classifier(classifier)
    start = time.perf_counter()
    held_out = held_out if held_out is not None else held_out_inputs(data)
    torch.manual_seed(seed)
    learner: nn.Module
    if learner_name == "society":
        learner = make_society(cfg.n_clones)
        optimizers = [torch.optim.Adam(b.parameters(), lr=cfg.lr, eps=1e-5)
                      for b in learner.bidders]
        update = _society_update
    else:
        learner = make_monolithic()
        optimizers = [torch.optim.Adam(learner.parameters(), lr=cfg.lr, eps=1e-5)]
        update = _monolithic_update
    env = MnistAnalogyVecEnv(cfg.episodes, "train", data, classifier)
    obs, _ = env.reset(seed=seed)
    generator = torch.Generator().manual_seed(seed)
    policy = greedy_policy(learner)
    log = AnalogyLog()
    for k in range(cfg.updates):
        _set_lr(optimizers, cfg.lr * (1 - k / cfg.updates))
        obs, reward = update(learner, optimizers, env, obs, cfg, generator)
        steps = (k + 1) * cfg.episodes * EPISODE_STEPS
        log.steps.append(steps)
        log.train_reward.append(reward)
        if (k + 1) % cfg.eval_every == 0 or k + 1 == cfg.updates:
            log.eval_steps.append(steps)
            log.eval_reward.append(held_out_reward(policy, held_out, classifier))
        if callback is not None:
            callback(steps)
    return AnalogyRun(learner_name, seed, learner, log, log.eval_reward[-1],
                      round(time.perf_counter() - start, 1))


# --------------------------------------------------------------------------------------
# Replaying episodes (for galleries)
# --------------------------------------------------------------------------------------


@dataclass
class AnalogyEpisode:
    """Greedy play on a few inputs: ``images`` (N, 3, 64, 64) the input and the image after
    each step; ``actions`` (N, 2); ``bids`` (N, 2, 6) every primitive's mean bid at each step
    (NaN for a monolithic learner); ``predictions``, ``labels``, ``rewards`` (N,)."""

    images: np.ndarray
    actions: np.ndarray
    bids: np.ndarray
    predictions: np.ndarray
    labels: np.ndarray
    rewards: np.ndarray


def replay(learner: nn.Module, images: torch.Tensor, labels: Any,
           classifier: nn.Module) -> AnalogyEpisode:
    """Play greedy episodes from ``images`` (N, 1, 64, 64) and record every step."""
    policy = greedy_policy(learner)
    x = torch.as_tensor(images, dtype=torch.float32)
    if x.shape[1:] != (1, CANVAS, CANVAS):
        raise ValueError(f"images must be canvases of shape (N, 1, {CANVAS}, {CANVAS}), got "
                         f"{tuple(x.shape)}")
    labels = torch.as_tensor(labels)
    if labels.shape != (len(x),):
        raise ValueError(f"need one label per image: {len(x)} images, labels of shape "
                         f"{tuple(labels.shape)}")
    classifier = _check_classifier(classifier)
    frames, actions, bids = [x[:, 0].numpy()], [], []
    for _ in range(EPISODE_STEPS):
        bids.append(society_bids(learner, x) if isinstance(learner, OptionSociety)
                    else np.full((len(x), len(PRIMITIVES)), np.nan))
        a = policy(x)
        x = apply_primitives(x, a)
        actions.append(a.numpy())
        frames.append(x[:, 0].numpy())
    with torch.no_grad():
        predictions = classifier(x).argmax(1)
    return AnalogyEpisode(np.stack(frames, 1), np.stack(actions, 1), np.stack(bids, 1),
                          predictions.numpy(), labels.numpy(),
                          (predictions == labels).float().numpy())
