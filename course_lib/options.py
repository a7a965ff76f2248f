"""Options for Two Rooms: temporally extended skills that chapter 4's societies trade.

Three options, each a small PPO-trained policy over the four primitive actions of
``CompactObservation``:

* phi_0 ``open red door``: from anywhere in the near room, walk to the door and open it;
* phi_1 ``go to blue`` and phi_2 ``go to green``: with the door open, walk to that goal.

An option runs step by step in the environment (its steps are environment steps) until its
sub-goal is reached, the episode ends, or ``max_steps`` steps have passed.

Pre-trained weights are cached in ``data/two_rooms_options.pt``; reproduce them with

    python -m course_lib.options --steps 60000 --seed 0
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from .envs.two_rooms import OBSERVATIONS, CompactObservation, make_two_rooms
from .ppo import ActorCritic, PPOConfig, train_ppo
from .validation import check_choice, check_float, check_int

OPTION_TARGETS = ("door", "blue", "green")
OPTION_NAMES = ("open red door", "go to blue", "go to green")
DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "two_rooms_options.pt"
RETRAIN = "python -m course_lib.options --steps 60000 --seed 0"


@dataclass
class Option:
    """A skill: a frozen policy over primitive actions, a sub-goal test and a step cap."""

    name: str
    target: str
    policy: ActorCritic
    max_steps: int = 30
    _memo: dict[bytes, int] = field(default_factory=dict, init=False, repr=False)

    def action(self, obs: np.ndarray) -> int:
        """The policy's most likely action (options run greedily once trained).

        The policy is frozen, so its choice in a state never changes: it is computed once per
        state and remembered (Two Rooms has only a few hundred states), which makes running
        an option as cheap as stepping the environment.
        """
        key = np.asarray(obs, dtype=np.float32).tobytes()
        if key not in self._memo:
            with torch.no_grad():
                x = torch.as_tensor(obs, dtype=torch.float32)
                self._memo[key] = int(torch.argmax(self.policy.distribution(x).logits))
        return self._memo[key]

    def achieved(self, env: CompactObservation, info: dict[str, Any]) -> bool:
        if self.target == "door":
            return bool(env.unwrapped.door.is_open)
        return info.get("reached") == self.target


@dataclass
class OptionOutcome:
    """What running an option did: the next observation, the rewards it collected (one per
    step), whether the episode terminated or was truncated, and the last step's info."""

    obs: np.ndarray
    rewards: list[float]
    terminated: bool
    truncated: bool
    info: dict[str, Any]

    @property
    def duration(self) -> int:
        return len(self.rewards)


def run_option(env: CompactObservation, obs: np.ndarray, option: Option) -> OptionOutcome:
    """Execute ``option`` from ``obs`` until its sub-goal, the episode's end, or its cap."""
    if not isinstance(env, CompactObservation):
        raise TypeError("run_option needs a Two Rooms environment wrapped in CompactObservation")
    rewards: list[float] = []
    info: dict[str, Any] = {}
    terminated = truncated = False
    for _ in range(option.max_steps):
        obs, reward, terminated, truncated, info = env.step(option.action(obs))
        rewards.append(float(reward))
        if terminated or truncated or option.achieved(env, info):
            break
    return OptionOutcome(obs, rewards, terminated, truncated, info)


def option_return(rewards: list[float], gamma: float) -> tuple[float, float]:
    """The semi-MDP view of an option that collected ``rewards`` over tau = len(rewards)
    primitive steps: its discounted reward ``sum_j gamma**j * r_j`` and the discount
    ``gamma**tau`` that applies to whatever follows it."""
    gamma = check_float("gamma", gamma, non_negative=True)
    if gamma > 1:
        raise ValueError(f"gamma must lie in [0, 1], got {gamma}")
    total = sum(gamma**j * float(r) for j, r in enumerate(rewards))
    return total, gamma ** len(rewards)


class OptionEnv:
    """Two Rooms seen at the level of options: ``step(k)`` runs option ``k`` to its end.

    Returns gymnasium's five-tuple, where the reward is the option's discounted reward and
    ``info`` adds ``duration`` (primitive steps taken), ``discount`` (``gamma**duration``),
    ``option``, ``option_rewards`` (one per primitive step) and ``success`` (the episode
    ended on the target). Any learner that chooses among options (a monolithic policy or a
    society) runs on it.
    """

    def __init__(self, env: CompactObservation, options: list[Option], gamma: float,
                 observation: str = "compact") -> None:
        if not isinstance(env, CompactObservation) or env.observation != "compact":
            raise TypeError("OptionEnv needs a Two Rooms environment wrapped in "
                            "CompactObservation with the compact view the options read (see "
                            "make_two_rooms); pass observation='pixels' here for images")
        if not options or not all(isinstance(o, Option) for o in options):
            raise TypeError("options must be a non-empty list of Option")
        self.env, self.options = env, list(options)
        self.gamma = check_float("gamma", gamma, non_negative=True)
        if self.gamma > 1:
            raise ValueError(f"gamma must lie in [0, 1], got {gamma}")
        # The options always read the compact state; the learner choosing among them sees
        # ``observation`` ("pixels": MiniGrid's egocentric image, see CompactObservation).
        self.observation = check_choice("observation", observation, OBSERVATIONS)
        self.image_shape = env.image_shape if self.observation == "pixels" else None
        size = env.observation_space.shape[0] if self.image_shape is None \
            else int(np.prod(self.image_shape))
        self.observation_space = gym.spaces.Box(0.0, 1.0, (size,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(len(self.options))
        self.obs: np.ndarray | None = None

    def _view(self) -> np.ndarray:
        return self.obs if self.observation == "compact" else self.env.pixels()

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        self.obs, info = self.env.reset(**kwargs)
        return self._view(), info

    def step(self, k: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.obs is None:
            raise RuntimeError("call reset() before step()")
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) \
                or not 0 <= k < len(self.options):
            raise ValueError(f"option id must be an integer in 0..{len(self.options) - 1}, "
                             f"got {k!r}")
        out = run_option(self.env, self.obs, self.options[int(k)])
        self.obs = out.obs
        reward, discount = option_return(out.rewards, self.gamma)
        info = {**out.info, "duration": out.duration, "discount": discount, "option": int(k),
                "option_rewards": out.rewards,
                "success": bool(out.terminated and out.rewards[-1] > 0)}
        return self._view(), reward, out.terminated, out.truncated, info


def _training_env(target: str) -> Any:
    # Goal options learn with the door already open; the door option from a closed door.
    return make_two_rooms(target, door_open=target != "door")


def pretrain_options(steps: int = 60_000, seed: int = 0,
                     cfg: PPOConfig | None = None) -> dict[str, ActorCritic]:
    """Train the three option policies with PPO; returns {target: policy}."""
    steps = check_int("steps", steps, 1)
    return {target: train_ppo(lambda t=target: _training_env(t), steps, cfg, seed=seed)[0]
            for target in OPTION_TARGETS}


def save_options(policies: dict[str, ActorCritic], path: Path = DATA_FILE,
                 **meta: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    first = policies[OPTION_TARGETS[0]]
    torch.save({"meta": {"obs_dim": first.torso[0].in_features, "n_actions":
                         first.policy.out_features, "hidden": [first.torso[0].out_features],
                         "command": RETRAIN, **meta},
                "state_dicts": {t: p.state_dict() for t, p in policies.items()}}, path)


def load_options(path: Path = DATA_FILE, max_steps: int = 30) -> list[Option]:
    """The cached options, in the order phi_0, phi_1, phi_2. Raises a clear error when the
    file is missing or does not match the networks, saying how to retrain."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no cached options at {path}; create them with: {RETRAIN}")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    meta = blob["meta"]
    env = make_two_rooms("green")
    if (meta["obs_dim"], meta["n_actions"]) != (env.observation_space.shape[0],
                                                env.action_space.n):
        raise ValueError(f"the cached options in {path} were trained for observations of size "
                         f"{meta['obs_dim']} and {meta['n_actions']} actions, but the "
                         f"environment has {env.observation_space.shape[0]} and "
                         f"{env.action_space.n}; retrain them with: {RETRAIN}")
    options = []
    for target, name in zip(OPTION_TARGETS, OPTION_NAMES, strict=True):
        policy = ActorCritic(meta["obs_dim"], meta["n_actions"], "categorical", meta["hidden"])
        try:
            policy.load_state_dict(blob["state_dicts"][target])
        except (RuntimeError, KeyError) as err:
            raise ValueError(f"cached option {target!r} does not fit the network ({err}); "
                             f"retrain with: {RETRAIN}") from None
        options.append(Option(name, target, policy, max_steps))
    return options


def evaluate_option(option: Option, episodes: int = 50, seed: int = 0) -> float:
    """Share of episodes in which the option reaches its sub-goal from its training start."""
    env = _training_env(option.target)
    wins = 0
    for k in range(check_int("episodes", episodes, 1)):
        obs, _ = env.reset(seed=seed + k)
        wins += option.achieved(env, run_option(env, obs, option).info)
    return wins / episodes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.options",
                                     description="Pre-train the Two Rooms options with PPO.")
    parser.add_argument("--steps", type=int, default=60_000, help="PPO steps per option")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DATA_FILE)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    policies = pretrain_options(args.steps, args.seed)
    save_options(policies, args.out, steps=args.steps, seed=args.seed)
    for option in load_options(args.out):
        print(f"{option.name:<14} success {evaluate_option(option):.0%}")
    print(f"saved to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
