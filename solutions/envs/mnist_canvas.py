"""Reference bodies for the exercises in ``course_lib/envs/mnist_canvas.py``."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_lib.envs.mnist_canvas import primitive_thetas, transform


def place_on_canvas(images: torch.Tensor, size: int = 64) -> torch.Tensor:
    pad = (size - images.shape[-1]) // 2
    return F.pad(images, (pad, pad, pad, pad))[:, None]


def affine_theta(angles: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    a = angles * (math.pi / 180.0)
    cos, sin = torch.cos(a), torch.sin(a)
    r_inv = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    offset = -(r_inv @ shifts[..., None])
    return torch.cat([r_inv, offset], -1).float()


def apply_primitives(images: torch.Tensor, primitive_ids: torch.Tensor) -> torch.Tensor:
    return transform(images, primitive_thetas()[primitive_ids])


def classifier_reward(classifier: torch.nn.Module, images: torch.Tensor,
                      labels: torch.Tensor) -> torch.Tensor:
    was_training = classifier.training
    classifier.eval()
    try:
        with torch.no_grad():
            predicted = classifier(images).argmax(-1)
    finally:
        classifier.train(was_training)
    return (predicted == labels).float()
