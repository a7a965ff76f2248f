"""The analogy-making environment of chapter 5, batched and registered with gymnasium.

An episode: a held-out or training digit arrives transformed by one of the eight input
transformations of ``course_lib.envs.mnist_canvas``; the agent applies two primitives; the
frozen classifier (``course_lib.classifier``) pays 1 if it then reads the digit correctly.
Registered as ``MarketsOfAgents/MnistAnalogy-v0``: ``gym.make`` gives one episode at a time
(``MnistAnalogyEnv``), ``gym.make_vec(..., vectorization_mode="vector_entry_point")`` the
batched ``MnistAnalogyVecEnv`` that the learners use.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from ..classifier import load_classifier
from ..data import load_mnist
from ..validation import check_int
from .mnist_canvas import (
    CANVAS,
    INPUT_TRANSFORMS,
    PRIMITIVE_NAMES,
    PRIMITIVES,
    apply_inputs,
    apply_primitives,
    classifier_reward,
    place_on_canvas,
)

EPISODE_STEPS = 2
ENV_ID = "MarketsOfAgents/MnistAnalogy-v0"


class MnistAnalogyVecEnv(gym.vector.VectorEnv):
    """``num_envs`` analogy-making episodes stepped together.

    Each episode draws a digit (from ``split``) and one of the eight input transformations;
    the agent applies two primitives; after the second, the frozen classifier pays 1 if it
    labels the result correctly, else 0. All copies start and end together (episodes have
    exactly two steps), and the batch resets itself when they end: the returned observation
    is then the next episode's input, and ``infos["final_obs"]`` holds the images that were
    classified (gymnasium's same-step autoreset).

    Observations are float32 arrays (num_envs, 1, 64, 64) in [0, 1]; actions are primitive ids
    0..5. ``infos`` carries ``label`` and ``transform`` (the input transformation's id) of
    every episode, and after the last step ``prediction``.
    """

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int = 256, split: str = "train", data: Any = None,
                 classifier: torch.nn.Module | None = None) -> None:
        self.num_envs = check_int("num_envs", num_envs, 1)
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        self.data = data if data is not None else load_mnist()
        self.classifier = classifier if classifier is not None else load_classifier(self.data)
        digits = self.data.train_images if split == "train" else self.data.test_images
        labels = self.data.train_labels if split == "train" else self.data.test_labels
        self.canvases = place_on_canvas(torch.as_tensor(digits))
        self.labels = torch.as_tensor(labels)
        self.single_observation_space = spaces.Box(0.0, 1.0, (1, CANVAS, CANVAS), np.float32)
        self.single_action_space = spaces.Discrete(len(PRIMITIVES))
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space,
                                                              self.num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space,
                                                         self.num_envs)
        self._generator = torch.Generator().manual_seed(0)
        self._images = torch.zeros(self.num_envs, 1, CANVAS, CANVAS)
        self._t = 0

    def _new_episodes(self) -> dict[str, np.ndarray]:
        g = self._generator
        self._index = torch.randint(0, len(self.labels), (self.num_envs,), generator=g)
        self._transform = torch.randint(0, len(INPUT_TRANSFORMS), (self.num_envs,),
                                        generator=g)
        self._images = apply_inputs(self.canvases[self._index], self._transform)
        self._t = 0
        return {"label": self.labels[self._index].numpy(),
                "transform": self._transform.numpy()}

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self._generator.manual_seed(check_int("seed", seed, 0))
        info = self._new_episodes()
        return self._images.numpy().copy(), info

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                          dict[str, Any]]:
        self._images = apply_primitives(self._images, actions)
        self._t += 1
        rewards = np.zeros(self.num_envs, np.float32)
        done = self._t >= EPISODE_STEPS
        info: dict[str, Any] = {"label": self.labels[self._index].numpy(),
                                "transform": self._transform.numpy()}
        if done:
            rewards = classifier_reward(self.classifier, self._images,
                                        self.labels[self._index]).numpy()
            with torch.no_grad():
                info["prediction"] = self.classifier(self._images).argmax(1).numpy()
            info["final_obs"] = self._images.numpy().copy()
            self._new_episodes()
        flags = np.full(self.num_envs, done)
        return (self._images.numpy().copy(), rewards, flags, np.zeros(self.num_envs, bool),
                info)


class MnistAnalogyEnv(gym.Env):
    """One analogy-making episode at a time (a one-copy ``MnistAnalogyVecEnv``)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 2}

    def __init__(self, split: str = "train", render_mode: str | None = None,
                 data: Any = None, classifier: torch.nn.Module | None = None) -> None:
        self.vec = MnistAnalogyVecEnv(1, split, data, classifier)
        self.observation_space = self.vec.single_observation_space
        self.action_space = self.vec.single_action_space
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self._last: np.ndarray = np.zeros(self.observation_space.shape, np.float32)

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        obs, info = self.vec.reset(seed=seed)
        self._last = obs[0]
        return obs[0], {k: v[0] for k, v in info.items()}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if isinstance(action, (bool, np.bool_)) or not self.action_space.contains(action):
            raise ValueError(f"action must be a primitive id 0..{len(PRIMITIVES) - 1} "
                             f"({', '.join(PRIMITIVE_NAMES)}), got {action!r}")
        obs, reward, terminated, truncated, info = self.vec.step(torch.tensor([int(action)]))
        if terminated[0]:
            obs = info["final_obs"]  # a single episode ends on what was classified
        self._last = obs[0]
        return (obs[0], float(reward[0]), bool(terminated[0]), bool(truncated[0]),
                {k: v[0] for k, v in info.items() if k != "final_obs"})

    def render(self) -> np.ndarray:
        gray = (np.clip(self._last[0], 0, 1) * 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=-1)


def register_envs() -> None:
    """Register the single and the vectorised environment (safe to call more than once)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="course_lib.envs.mnist_analogy:MnistAnalogyEnv",
                     vector_entry_point="course_lib.envs.mnist_analogy:MnistAnalogyVecEnv")


register_envs()
