"""MNIST digits on a 64 x 64 canvas, and the affine transformations chapter 5's society trades.

A digit (28 x 28) sits in the middle of a 64 x 64 canvas. An *input* is made by one of eight
transformations: rotate by +60 or -60 degrees about the canvas centre, then shift by 0.29 up,
down, left or right. The society owns six *primitives* (rotate left / right by 60 degrees,
shift up / down / left / right by 0.29) and has two steps to undo the input transformation for
a frozen classifier that only knows upright, centred digits.

Units: angles in degrees, positive = counterclockwise as displayed; shifts in the normalised
units of ``torch.nn.functional.affine_grid``, where the canvas spans -1..1 in x (right) and y
(down), so 0.29 is 0.29 * 32 = 9.3 pixels.

Every function works on a batch: the transformations of a whole batch are one ``affine_grid``
and one ``grid_sample`` call.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces

from ..exercises import exercise
from ..validation import check_int

CANVAS = 64
DIGIT = 28
ANGLE = 60.0
SHIFT = 0.29

# (name, angle in degrees, (dx, dy))
PRIMITIVES: tuple[tuple[str, float, tuple[float, float]], ...] = (
    ("rotate left 60°", ANGLE, (0.0, 0.0)),
    ("rotate right 60°", -ANGLE, (0.0, 0.0)),
    ("shift up", 0.0, (0.0, -SHIFT)),
    ("shift down", 0.0, (0.0, SHIFT)),
    ("shift left", 0.0, (-SHIFT, 0.0)),
    ("shift right", 0.0, (SHIFT, 0.0)),
)
PRIMITIVE_NAMES = tuple(p[0] for p in PRIMITIVES)
# The eight input transformations: rotate, then shift.  (name, angle, (dx, dy))
INPUT_TRANSFORMS: tuple[tuple[str, float, tuple[float, float]], ...] = tuple(
    (f"{'+' if angle > 0 else '-'}60° then {direction}", angle, shift)
    for angle in (ANGLE, -ANGLE)
    for direction, shift in (("up", (0.0, -SHIFT)), ("down", (0.0, SHIFT)),
                             ("left", (-SHIFT, 0.0)), ("right", (SHIFT, 0.0))))


def _float_images(images: Any, name: str = "images", ndim: int = 4) -> torch.Tensor:
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array, got "
                        f"{type(images).__name__}")
    if images.dtype == torch.bool or not (images.is_floating_point() or images.dtype ==
                                          torch.uint8):
        raise TypeError(f"{name} must be uint8 (0..255) or floating point (0..1), got "
                        f"{images.dtype}")
    if images.dim() != ndim:
        shape = "(N, 28, 28)" if ndim == 3 else "(N, 1, H, W)"
        raise ValueError(f"{name} must have shape {shape}, got {tuple(images.shape)}")
    if images.dtype == torch.uint8:
        return images.float() / 255.0
    if not torch.isfinite(images).all():
        raise ValueError(f"{name} must be finite")
    if images.numel() and (images.min() < 0 or images.max() > 1):
        raise ValueError(f"floating-point {name} must lie in [0, 1] (divide 0..255 pixel "
                         "values by 255, or pass uint8)")
    return images.float()


# --------------------------------------------------------------------------------------
# Exercise 5.1: the canvas
# --------------------------------------------------------------------------------------


def _check_canvas_args(images: Any, size: Any = CANVAS) -> dict[str, Any]:
    x = _float_images(images, ndim=3)
    if tuple(x.shape[1:]) != (DIGIT, DIGIT):
        raise ValueError(f"images must be 28 x 28 MNIST digits, shape (N, 28, 28), got "
                         f"{tuple(x.shape)}")
    size = check_int("size", size, DIGIT)
    if (size - DIGIT) % 2:
        raise ValueError(f"size - 28 must be even so that the digit can sit in the middle, "
                         f"got size={size}")
    return {"images": x, "size": size}


@exercise("5.1", title="Digits on the canvas", validate=_check_canvas_args)
def place_on_canvas(images: torch.Tensor, size: int = CANVAS) -> torch.Tensor:
    """Put each 28 x 28 digit in the middle of a blank ``size`` x ``size`` canvas.

    Parameters
    ----------
    images : torch.Tensor, float32, shape (N, 28, 28), values in [0, 1]
        (uint8 digits are converted before this body runs.)
    size : int
        The canvas side; ``size - 28`` is even.

    Returns
    -------
    torch.Tensor, float32, shape (N, 1, size, size)
        Zeros everywhere except the digit, whose top-left pixel lands at
        ``((size - 28) // 2, (size - 28) // 2)``. The channel axis is what ``grid_sample``
        and convolutions expect.
    """
    # TODO(exercise 5.1): make a zero canvas (N, 1, size, size) and copy the digits into its
    # middle, or pad them with torch.nn.functional.pad by (size - 28) // 2 on every side.
    raise NotImplementedError


# --------------------------------------------------------------------------------------
# Exercise 5.2: the matrix for affine_grid
# --------------------------------------------------------------------------------------


def _check_theta_args(angles: Any, shifts: Any) -> dict[str, Any]:
    a = torch.as_tensor(np.asarray(angles, dtype=np.float64) if not isinstance(
        angles, torch.Tensor) else angles).double()
    s = torch.as_tensor(np.asarray(shifts, dtype=np.float64) if not isinstance(
        shifts, torch.Tensor) else shifts).double()
    if a.dim() != 1:
        raise ValueError(f"angles must have shape (N,), got {tuple(a.shape)}")
    if s.shape != (a.shape[0], 2):
        raise ValueError(f"shifts must have shape (N, 2) = ({a.shape[0]}, 2), got "
                         f"{tuple(s.shape)}")
    if not (torch.isfinite(a).all() and torch.isfinite(s).all()):
        raise ValueError("angles and shifts must be finite")
    if (a.abs() > 360).any():
        raise ValueError("angles are in degrees and must lie in [-360, 360]")
    if (s.abs() > 2).any():
        raise ValueError("shifts are in affine_grid's normalised units (the canvas spans -1..1;"
                         f" {SHIFT} is {SHIFT * CANVAS / 2:.1f} pixels on a 64-pixel canvas), "
                         "so they must lie in [-2, 2]; divide pixels by half the canvas side")
    return {"angles": a, "shifts": s}


@exercise("5.2", title="Rotation and shift as an affine_grid matrix", validate=_check_theta_args)
def affine_theta(angles: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """The (N, 2, 3) matrices that make ``affine_grid`` + ``grid_sample`` rotate each image by
    ``angles[n]`` degrees counterclockwise (as displayed) about its centre, then shift it by
    ``shifts[n] = (dx, dy)``.

    ``affine_grid`` works backwards: for every *output* pixel at normalised position p it
    gives the *input* position to read from, ``theta @ (p_x, p_y, 1)``. If the content moves
    by ``q = R q_in + t``, the output pixel p must read from ``q_in = R^{-1} (p - t)``, so
    ``theta = [R^{-1} | -R^{-1} t]``.

    With y pointing down, a counterclockwise rotation by a (radians) is
    ``R = [[cos a, sin a], [-sin a, cos a]]``, and ``R^{-1} = R^T``.

    Parameters
    ----------
    angles : torch.Tensor, float64, shape (N,)
        Degrees, counterclockwise positive.
    shifts : torch.Tensor, float64, shape (N, 2)
        (dx, dy) in normalised units; +x right, +y down.

    Returns
    -------
    torch.Tensor, float32, shape (N, 2, 3)
    """
    # TODO(exercise 5.2): convert degrees to radians, build R^{-1} = R^T from cos and sin,
    # and stack [R^T | -R^T t] into (N, 2, 3); return it as float32.
    raise NotImplementedError


def transform(images: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample a batch (N, 1, H, W) through per-image matrices (N, 2, 3): one call each to
    ``affine_grid`` and ``grid_sample`` (bilinear, zeros outside the canvas)."""
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False)


def _table(rows: tuple[tuple[str, float, tuple[float, float]], ...]) -> torch.Tensor:
    return affine_theta(torch.tensor([r[1] for r in rows], dtype=torch.float64),
                        torch.tensor([r[2] for r in rows], dtype=torch.float64))


def primitive_thetas() -> torch.Tensor:
    """The six primitives' matrices, (6, 2, 3)."""
    return _table(PRIMITIVES)


def input_thetas() -> torch.Tensor:
    """The eight input transformations' matrices, (8, 2, 3)."""
    return _table(INPUT_TRANSFORMS)


def _ids(ids: Any, n: int, limit: int, what: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(ids) if not isinstance(ids, torch.Tensor) else ids)
    if t.dtype in (torch.bool,) or t.is_floating_point() or t.is_complex():
        raise TypeError(f"{what} ids must be integers, got {t.dtype}")
    if t.shape != (n,):
        raise ValueError(f"{what} ids must have shape ({n},), one per image, got "
                         f"{tuple(t.shape)}")
    if n and (t.min() < 0 or t.max() >= limit):
        raise ValueError(f"{what} ids must lie in 0..{limit - 1}, got {t.tolist()[:8]}")
    return t.long()


def apply_inputs(images: torch.Tensor, transform_ids: Any) -> torch.Tensor:
    """Make inputs: apply input transformation ``transform_ids[n]`` (0..7) to image n."""
    x = _float_images(images)
    ids = _ids(transform_ids, x.shape[0], len(INPUT_TRANSFORMS), "input transformation")
    return transform(x, input_thetas()[ids])


# --------------------------------------------------------------------------------------
# Exercise 5.3: the batched primitives
# --------------------------------------------------------------------------------------


def _check_apply_args(images: Any, primitive_ids: Any) -> dict[str, Any]:
    x = _float_images(images)
    if x.shape[1] != 1:
        raise ValueError(f"images must have one channel, shape (N, 1, H, W), got "
                         f"{tuple(x.shape)}")
    return {"images": x,
            "primitive_ids": _ids(primitive_ids, x.shape[0], len(PRIMITIVES), "primitive")}


@exercise("5.3", title="Every image its own primitive, in one call", validate=_check_apply_args)
def apply_primitives(images: torch.Tensor, primitive_ids: torch.Tensor) -> torch.Tensor:
    """Apply primitive ``primitive_ids[n]`` to image n, for the whole batch at once.

    Parameters
    ----------
    images : torch.Tensor, float32, shape (N, 1, H, W)
    primitive_ids : torch.Tensor, int64, shape (N,), values in 0..5 (see ``PRIMITIVES``)

    Returns
    -------
    torch.Tensor, float32, shape (N, 1, H, W)
        No Python loop over images: gather each image's matrix from ``primitive_thetas()``
        and resample the batch with ``transform``.
    """
    # TODO(exercise 5.3): index the (6, 2, 3) table with primitive_ids to get (N, 2, 3)
    # matrices, then call transform once.
    raise NotImplementedError


# --------------------------------------------------------------------------------------
# Exercise 5.4: the reward
# --------------------------------------------------------------------------------------


def _check_reward_args(classifier: Any, images: Any, labels: Any) -> dict[str, Any]:
    if not isinstance(classifier, torch.nn.Module):
        raise TypeError(f"classifier must be a torch.nn.Module, got {type(classifier).__name__}")
    x = _float_images(images)
    y = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor) else labels)
    if y.is_floating_point() or y.dtype == torch.bool or y.shape != (x.shape[0],):
        raise ValueError(f"labels must be integers of shape ({x.shape[0]},), got {y.dtype} "
                         f"{tuple(y.shape)}")
    if y.numel() and (y.min() < 0 or y.max() > 9):
        raise ValueError("labels must be digits 0..9")
    return {"classifier": classifier, "images": x, "labels": y.long()}


@exercise("5.4", title="The frozen classifier's reward", validate=_check_reward_args)
def classifier_reward(classifier: torch.nn.Module, images: torch.Tensor,
                      labels: torch.Tensor) -> torch.Tensor:
    """1.0 where the classifier's most likely digit is the true label, else 0.0.

    The classifier is frozen: evaluate it without tracking gradients (``torch.no_grad``) and
    in evaluation mode, and leave its mode as you found it.

    Parameters
    ----------
    classifier : torch.nn.Module
        Maps (N, 1, H, W) images to (N, 10) logits.
    images : torch.Tensor, float32, shape (N, 1, H, W)
    labels : torch.Tensor, int64, shape (N,)

    Returns
    -------
    torch.Tensor, float32, shape (N,)
    """
    # TODO(exercise 5.4): remember classifier.training, switch to eval(), compute the logits
    # under torch.no_grad(), compare their argmax with labels, restore the mode.
    raise NotImplementedError


def oracle_primitives(transform_ids: Any) -> torch.Tensor:
    """The two primitives that exactly undo each input transformation, (N, 2): first the
    opposite shift, then the opposite rotation (the other order leaves the digit off-centre,
    because rotating about the canvas centre moves a shifted digit)."""
    ids = _ids(transform_ids, len(np.asarray(transform_ids)), len(INPUT_TRANSFORMS),
               "input transformation")
    undo_shift = {(0.0, -SHIFT): 3, (0.0, SHIFT): 2, (-SHIFT, 0.0): 5, (SHIFT, 0.0): 4}
    table = torch.tensor([[undo_shift[shift], 1 if angle > 0 else 0]
                          for _, angle, shift in INPUT_TRANSFORMS])
    return table[ids]


# --------------------------------------------------------------------------------------
# The environment: batched, and a single-copy view of it for gymnasium's checker
# --------------------------------------------------------------------------------------

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
        from ..classifier import load_classifier
        from ..data import load_mnist

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
        gym.register(id=ENV_ID, entry_point="course_lib.envs.mnist_canvas:MnistAnalogyEnv",
                     vector_entry_point="course_lib.envs.mnist_canvas:MnistAnalogyVecEnv")


register_envs()
