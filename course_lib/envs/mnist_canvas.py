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

import numpy as np
import torch
import torch.nn.functional as F

from ..contracts import Array, shape_of
from ..exercises import exercise
from ..validation import as_float_array, as_index_array, check_int, check_size

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
    check_size("max(len(images), 1) * size**2", max(x.shape[0], 1) * size**2, unit="pixels")
    if (size - DIGIT) % 2:
        raise ValueError(f"size - 28 must be even so that the digit can sit in the middle, "
                         f"got size={size}")
    return {"images": x, "size": size}


@exercise("5.1", title="Digits on the canvas", validate=_check_canvas_args,
          returns=Array(lambda a: (a["images"].shape[0], 1, a["size"], a["size"]), tensor=True))
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
    # TODO(exercise 5.1): surround each digit with an equal margin of zeros and add the channel
    # axis.
    raise NotImplementedError


# --------------------------------------------------------------------------------------
# Exercise 5.2: the matrix for affine_grid
# --------------------------------------------------------------------------------------


def _check_theta_args(angles: Any, shifts: Any) -> dict[str, Any]:
    a, s = (torch.as_tensor(as_float_array(x.detach().cpu().numpy() if isinstance(
        x, torch.Tensor) else x, name)).double() for name, x in (("angles", angles),
                                                                 ("shifts", shifts)))
    if a.dim() != 1:
        raise ValueError(f"angles must have shape (N,), got {tuple(a.shape)}")
    if s.shape != (a.shape[0], 2):
        raise ValueError(f"shifts must have shape (N, 2) = ({a.shape[0]}, 2), a row per entry "
                         f"of angles, got "
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


@exercise("5.2", title="Rotation and shift as an affine_grid matrix", validate=_check_theta_args,
          returns=Array(lambda a: (a["angles"].shape[0], 2, 3), tensor=True))
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
    # TODO(exercise 5.2): build theta from the derivation above, for all N entries at once (the
    # angles are in degrees); return float32.
    raise NotImplementedError


def transform(images: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample a batch (N, 1, H, W) through per-image matrices (N, 2, 3): one call each to
    ``affine_grid`` and ``grid_sample`` (bilinear, zeros outside the canvas)."""
    for name, x, ndim in (("images", images, 4), ("theta", theta, 3)):
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"{name} must be a floating-point torch.Tensor, got "
                            f"{getattr(x, 'dtype', type(x).__name__)}")
        if x.dim() != ndim:
            raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if tuple(theta.shape) != (images.shape[0], 2, 3):
        raise ValueError(f"theta must have shape ({images.shape[0]}, 2, 3), one matrix per "
                         f"image, got {tuple(theta.shape)}")
    for name, x in (("images", images), ("theta", theta)):
        if not torch.isfinite(x).all():
            raise ValueError(f"{name} must be finite")
    if images.shape[0] == 0 or 0 in images.shape[2:]:
        return images.clone()  # nothing to resample
    theta = theta.to(images.dtype)
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


def _ids(ids: Any, n: int | None, limit: int, name: str, meaning: str) -> torch.Tensor:
    """``name``: one id in 0..limit - 1 per image, for ``n`` images (any number if None);
    ``meaning`` says what the ids are, e.g. ``" (primitive ids)"``."""
    if isinstance(ids, torch.Tensor):
        ids = ids.detach().cpu().numpy()
    t = as_index_array(ids, name, limit, meaning=meaning)
    if t.ndim != 1 or (n is not None and t.shape != (n,)):
        raise ValueError(f"{name}{meaning} must have shape ({'N' if n is None else n},), one "
                         f"per image, got {t.shape}")
    return torch.as_tensor(t).long()


def apply_inputs(images: torch.Tensor, transform_ids: Any) -> torch.Tensor:
    """Make inputs: apply input transformation ``transform_ids[n]`` (0..7) to image n."""
    x = _float_images(images)
    ids = _ids(transform_ids, x.shape[0], len(INPUT_TRANSFORMS), "transform_ids",
               " (input transformation ids)")
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
            "primitive_ids": _ids(primitive_ids, x.shape[0], len(PRIMITIVES), "primitive_ids",
                                  " (primitive ids)")}


@exercise("5.3", title="Every image its own primitive, in one call", validate=_check_apply_args,
          returns=Array(shape_of("images"), tensor=True))
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
    # TODO(exercise 5.3): give every image its primitive's matrix without a Python loop, then
    # resample the whole batch in one call.
    raise NotImplementedError


# --------------------------------------------------------------------------------------
# Exercise 5.4: the reward
# --------------------------------------------------------------------------------------


def _check_reward_args(classifier: Any, images: Any, labels: Any) -> dict[str, Any]:
    if not isinstance(classifier, torch.nn.Module):
        raise TypeError(f"classifier must be a torch.nn.Module, got {type(classifier).__name__}")
    x = _float_images(images)
    return {"classifier": classifier, "images": x,
            "labels": _ids(labels, x.shape[0], 10, "labels", " (digits 0..9)")}


@exercise("5.4", title="The frozen classifier's reward", validate=_check_reward_args,
          returns=Array(lambda a: (a["images"].shape[0],), tensor=True, low=0.0, high=1.0))
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
    # TODO(exercise 5.4): evaluate the frozen classifier without gradients and in eval mode, and
    # leave its mode as you found it.
    raise NotImplementedError


def oracle_primitives(transform_ids: Any) -> torch.Tensor:
    """The two primitives that exactly undo each input transformation, (N, 2): first the
    opposite shift, then the opposite rotation (the other order leaves the digit off-centre,
    because rotating about the canvas centre moves a shifted digit)."""
    ids = _ids(transform_ids, None, len(INPUT_TRANSFORMS), "transform_ids",
               " (input transformation ids)")
    undo_shift = {(0.0, -SHIFT): 3, (0.0, SHIFT): 2, (-SHIFT, 0.0): 5, (SHIFT, 0.0): 4}
    table = torch.tensor([[undo_shift[shift], 1 if angle > 0 else 0]
                          for _, angle, shift in INPUT_TRANSFORMS])
    return table[ids]

