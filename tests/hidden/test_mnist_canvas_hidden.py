"""Instructor-only tests for exercises 5.1 - 5.4: cases the public tests leave out."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.envs.mnist_canvas import (
    affine_theta,
    apply_primitives,
    classifier_reward,
    place_on_canvas,
    primitive_thetas,
    transform,
)


@pytest.mark.exercise("5.1")
def test_hidden_canvas_large_batch_and_exact_canvas_size():
    digits = torch.rand(257, 28, 28)
    out = place_on_canvas(digits, size=28)
    torch.testing.assert_close(out[:, 0], digits)
    out = place_on_canvas(digits, size=100)
    assert out.shape == (257, 1, 100, 100)
    torch.testing.assert_close(out[:, 0, 36:64, 36:64], digits)
    assert float(out.sum()) == pytest.approx(float(digits.sum()), rel=1e-5)


@pytest.mark.exercise("5.1")
def test_hidden_canvas_is_a_new_tensor_holding_the_digit():
    """The canvas holds the digit in its centre and zeros around it; writing to the canvas
    leaves the digits alone."""
    digits = torch.rand(2, 28, 28)
    copy = digits.clone()
    out = place_on_canvas(digits)
    torch.testing.assert_close(out[:, 0, 18:46, 18:46], copy)
    assert float(out.sum()) == pytest.approx(float(copy.sum()), rel=1e-5)  # zeros around
    out += 1.0
    torch.testing.assert_close(digits, copy)


@pytest.mark.exercise("5.2")
@pytest.mark.parametrize("angle", [-300.0, -60.0, 0.0, 37.0, 60.0, 180.0])
def test_hidden_theta_against_a_hand_loop(angle):
    shift = (0.13, -0.42)
    theta = affine_theta([angle], [shift])[0]
    a = math.radians(angle)
    r_t = [[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]
    expected = [[r_t[i][0], r_t[i][1], -(r_t[i][0] * shift[0] + r_t[i][1] * shift[1])]
                for i in range(2)]
    torch.testing.assert_close(theta, torch.tensor(expected, dtype=torch.float32), atol=1e-6,
                               rtol=0)


@pytest.mark.exercise("5.2")
def test_hidden_theta_batch_of_many_and_numpy_inputs():
    rng = np.random.default_rng(0)
    angles, shifts = rng.uniform(-180, 180, 50), rng.uniform(-1, 1, (50, 2))
    batch = affine_theta(angles, shifts)
    for n in range(50):
        torch.testing.assert_close(batch[n], affine_theta(angles[n:n + 1], shifts[n:n + 1])[0])
    # Composing theta's inverse map with the forward motion gives the identity.
    for n in range(5):
        a = math.radians(angles[n])
        forward = torch.tensor([[math.cos(a), math.sin(a), shifts[n, 0]],
                                [-math.sin(a), math.cos(a), shifts[n, 1]], [0, 0, 1]])
        back = torch.cat([batch[n].double(), torch.tensor([[0.0, 0.0, 1.0]],
                                                          dtype=torch.float64)])
        torch.testing.assert_close(back @ forward.double(), torch.eye(3, dtype=torch.float64),
                                   atol=1e-6, rtol=0)


@pytest.mark.exercise("5.3")
def test_hidden_primitives_large_batch_against_a_loop():
    torch.manual_seed(3)
    images = torch.rand(300, 1, 64, 64)
    ids = torch.randint(0, 6, (300,))
    out = apply_primitives(images, ids)
    table = primitive_thetas()
    for n in range(0, 300, 37):
        torch.testing.assert_close(out[n:n + 1], transform(images[n:n + 1], table[ids[n]][None]))


@pytest.mark.exercise("5.3")
def test_hidden_primitives_numpy_ids_and_empty_rows_untouched():
    """numpy int32 ids work; empty canvases stay empty, and content moves as the table says."""
    ids = np.array([0, 3, 5], dtype=np.int32)
    images = torch.zeros(3, 1, 64, 64)
    out = apply_primitives(images, ids)
    assert out.shape == (3, 1, 64, 64) and float(out.abs().sum()) == 0.0
    torch.manual_seed(5)
    images = torch.zeros(3, 1, 64, 64)
    images[:, 0, 24:40, 28:36] = torch.rand(3, 16, 8)
    out = apply_primitives(images, ids)
    table = primitive_thetas()
    for n in range(3):
        torch.testing.assert_close(out[n:n + 1], transform(images[n:n + 1], table[ids[n]][None]))


@pytest.mark.exercise("5.4")
def test_hidden_reward_large_batch_and_eval_mode_kept():
    torch.manual_seed(4)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64 * 64, 10))
    net.eval()
    images = torch.rand(500, 1, 64, 64)
    labels = torch.randint(0, 10, (500,))
    reward = classifier_reward(net, images, labels)
    with torch.no_grad():
        expected = (net(images).argmax(1) == labels).float()
    torch.testing.assert_close(reward, expected)
    assert not net.training


@pytest.mark.exercise("5.4")
def test_hidden_reward_with_numpy_labels_and_batchnorm():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(),
                        nn.Linear(2 * 62 * 62, 10))
    images = torch.rand(8, 1, 64, 64)
    with torch.no_grad():
        predicted = net.eval()(images).argmax(1).numpy()
    labels = predicted.copy()
    labels[1::2] = (labels[1::2] + 1) % 10  # right on even images, wrong on odd ones
    net.train()
    before = net[1].running_mean.clone()
    reward = classifier_reward(net, images, labels)
    torch.testing.assert_close(reward, torch.tensor([1.0, 0.0] * 4))
    torch.testing.assert_close(net[1].running_mean, before)  # eval mode: statistics untouched
    assert net.training
