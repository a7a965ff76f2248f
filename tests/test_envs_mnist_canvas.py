"""Public tests for chapter 5's canvas and transformations: exercises 5.1 (the canvas), 5.2
(the affine_grid matrix), 5.3 (batched primitives) and 5.4 (the classifier's reward).

Tests marked ``@pytest.mark.exercise("5.x")`` check an exercise; ``course_lib.check("5.x")``
runs them against your own code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.envs.mnist_canvas import (
    INPUT_TRANSFORMS,
    PRIMITIVES,
    SHIFT,
    affine_theta,
    apply_inputs,
    apply_primitives,
    classifier_reward,
    oracle_primitives,
    place_on_canvas,
    primitive_thetas,
    transform,
)


def dot(row: int, col: int, size: int = 64) -> torch.Tensor:
    """A canvas with one bright 3 x 3 square centred on (row, col)."""
    img = torch.zeros(1, 1, size, size)
    img[0, 0, row - 1:row + 2, col - 1:col + 2] = 1.0
    return img


def centre_of_mass(img: torch.Tensor) -> tuple[float, float]:
    w = img[0, 0]
    rows, cols = torch.meshgrid(torch.arange(w.shape[0]), torch.arange(w.shape[1]),
                                indexing="ij")
    total = w.sum()
    return float((rows * w).sum() / total), float((cols * w).sum() / total)


# ======================================================================================
# 5.1 The canvas
# ======================================================================================


@pytest.mark.exercise("5.1")
def test_canvas_centres_the_digit():
    digits = torch.rand(3, 28, 28)
    out = place_on_canvas(digits)
    assert out.shape == (3, 1, 64, 64) and out.dtype == torch.float32
    torch.testing.assert_close(out[:, 0, 18:46, 18:46], digits)
    assert out.sum() == pytest.approx(float(digits.sum()), rel=1e-5)


@pytest.mark.exercise("5.1")
def test_canvas_accepts_uint8_and_other_sizes():
    digits = np.full((2, 28, 28), 255, dtype=np.uint8)
    out = place_on_canvas(digits, size=32)
    assert out.shape == (2, 1, 32, 32)
    assert float(out[0, 0, 2, 2]) == 1.0 and float(out[0, 0, 1, 1]) == 0.0
    assert float(out[0, 0, 29, 29]) == 1.0 and float(out[0, 0, 30, 30]) == 0.0


@pytest.mark.exercise("5.1")
def test_canvas_of_the_digit_size_and_of_an_empty_batch():
    """Catches code that breaks without a margin or without images: a 28 x 28 canvas is the
    digit itself (a slice ``m:-m`` is empty for m = 0), and no digits give no canvases."""
    digits = torch.rand(2, 28, 28)
    out = place_on_canvas(digits, size=28)
    assert out.shape == (2, 1, 28, 28)
    torch.testing.assert_close(out[:, 0], digits)
    empty = place_on_canvas(torch.zeros(0, 28, 28))
    assert empty.shape == (0, 1, 64, 64) and empty.dtype == torch.float32


@pytest.mark.parametrize(("images", "size", "error", "match"), [
    (torch.rand(2, 28, 27), 64, ValueError, "28 x 28"),
    (torch.rand(28, 28), 64, ValueError, "shape"),
    (torch.rand(1, 28, 28) * 255, 64, ValueError, "0, 1"),
    (torch.rand(1, 28, 28), 63, ValueError, "even"),
    (torch.rand(1, 28, 28), 20, ValueError, "size"),
    ([[0.0]], 64, TypeError, "images"),
    (torch.zeros(1, 28, 28, dtype=torch.int64), 64, TypeError, "uint8"),
])
def test_canvas_rejects_bad_input(images, size, error, match):
    with pytest.raises(error, match=match):
        place_on_canvas(images, size)


# ======================================================================================
# 5.2 The matrix for affine_grid
# ======================================================================================


@pytest.mark.exercise("5.2")
def test_identity_and_shape():
    theta = affine_theta(torch.zeros(2, dtype=torch.float64), torch.zeros(2, 2))
    assert theta.shape == (2, 2, 3) and theta.dtype == torch.float32
    torch.testing.assert_close(theta, torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]] * 2))


@pytest.mark.exercise("5.2")
def test_rotation_by_90_hand_computed():
    # theta = [R^T | 0] with R = [[cos, sin], [-sin, cos]] at 90 degrees: R^T = [[0, -1], [1, 0]]
    theta = affine_theta([90.0], [[0.0, 0.0]])
    torch.testing.assert_close(theta, torch.tensor([[[0.0, -1, 0], [1, 0, 0]]]), atol=1e-6,
                               rtol=0)


@pytest.mark.exercise("5.2")
def test_a_shift_moves_content_the_stated_way():
    img = dot(32, 32)
    right = transform(img, affine_theta([0.0], [[0.25, 0.0]]))  # 0.25 * 32 = 8 pixels
    down = transform(img, affine_theta([0.0], [[0.0, 0.25]]))
    r0, c0 = centre_of_mass(img)
    assert centre_of_mass(right) == pytest.approx((r0, c0 + 8), abs=0.2)
    assert centre_of_mass(down) == pytest.approx((r0 + 8, c0), abs=0.2)


@pytest.mark.exercise("5.2")
def test_counterclockwise_rotation_moves_a_right_dot_up():
    img = dot(32, 48)  # 16 pixels right of the centre (31.5, 31.5) and a little below
    out = transform(img, affine_theta([90.0], [[0.0, 0.0]]))
    row, col = centre_of_mass(out)
    assert row == pytest.approx(31.5 - 16.5, abs=0.6)
    assert col == pytest.approx(32.0, abs=0.6)


@pytest.mark.exercise("5.2")
def test_rotation_happens_before_the_shift():
    # Rotate by 90, then shift right by 0.25: a dot at the centre only moves right.
    img = dot(32, 32)
    out = transform(img, affine_theta([90.0], [[0.25, 0.0]]))
    r0, c0 = centre_of_mass(transform(img, affine_theta([90.0], [[0.0, 0.0]])))
    assert centre_of_mass(out) == pytest.approx((r0, c0 + 8), abs=0.3)


@pytest.mark.parametrize(("angles", "shifts", "match"), [
    ([0.0], [[9.0, 0.0]], "normalised"),
    ([720.0], [[0.0, 0.0]], "degrees"),
    ([0.0, 1.0], [[0.0, 0.0]], "shifts"),
    ([[0.0]], [[0.0, 0.0]], "angles"),
    ([np.nan], [[0.0, 0.0]], "finite"),
])
def test_theta_rejects_bad_units_and_shapes(angles, shifts, match):
    with pytest.raises(ValueError, match=match):
        affine_theta(angles, shifts)


# ======================================================================================
# 5.3 The batched primitives
# ======================================================================================


@pytest.mark.exercise("5.3")
def test_each_image_gets_its_own_primitive():
    img = dot(32, 32).repeat(6, 1, 1, 1)
    out = apply_primitives(img, torch.arange(6))
    assert out.shape == (6, 1, 64, 64)
    step = SHIFT * 32
    expected = {2: (-step, 0), 3: (step, 0), 4: (0, -step), 5: (0, step)}
    r0, c0 = centre_of_mass(img[:1])
    for k, (dr, dc) in expected.items():
        assert centre_of_mass(out[k:k + 1]) == pytest.approx((r0 + dr, c0 + dc), abs=0.3), k
    # The rotations keep the dot (near) the centre.
    for k in (0, 1):
        assert centre_of_mass(out[k:k + 1]) == pytest.approx((r0, c0), abs=0.7)


@pytest.mark.exercise("5.3")
def test_batched_equals_one_at_a_time():
    torch.manual_seed(0)
    images = torch.rand(10, 1, 64, 64)
    ids = torch.randint(0, 6, (10,))
    batched = apply_primitives(images, ids)
    for n in range(10):
        alone = transform(images[n:n + 1], primitive_thetas()[ids[n]][None])
        torch.testing.assert_close(batched[n:n + 1], alone)


@pytest.mark.exercise("5.3")
def test_opposite_primitives_undo_each_other_on_a_digit():
    """Each primitive moves the digit, and its opposite brings it (nearly) back."""
    torch.manual_seed(1)
    digit = torch.zeros(1, 1, 64, 64)
    digit[0, 0, 24:40, 28:36] = torch.rand(16, 8)
    mass = float(digit.sum())
    for a, b in ((0, 1), (2, 3), (4, 5)):
        there = apply_primitives(digit, [a])
        assert float((there - digit).abs().sum()) > 0.3 * mass, (a, b)  # it moved
        back = apply_primitives(there, [b])
        assert (back - digit).abs().mean() < 0.02, (a, b)
        assert float((back - digit).abs().sum()) < 0.5 * mass, (a, b)


@pytest.mark.parametrize(("ids", "error"), [([6], ValueError), ([-1], ValueError),
                                            ([0.0], TypeError), ([0, 1], ValueError)])
def test_primitives_reject_bad_ids(ids, error):
    with pytest.raises(error, match="primitive"):
        apply_primitives(torch.zeros(1, 1, 64, 64), ids)


def test_primitives_reject_bad_images():
    with pytest.raises(ValueError, match="channel"):
        apply_primitives(torch.zeros(1, 3, 64, 64), [0])
    with pytest.raises(ValueError, match="shape"):
        apply_primitives(torch.zeros(64, 64), [0])


# ======================================================================================
# 5.4 The reward
# ======================================================================================


class Fixed(nn.Module):
    """A 'classifier' that says digit ``k`` where pixel (0, 0, 0, k) is brightest."""

    def forward(self, x):
        return x[:, 0, 0, :10] * 10.0


@pytest.mark.exercise("5.4")
def test_reward_is_one_where_the_classifier_is_right():
    images = torch.zeros(4, 1, 64, 64)
    for n, k in enumerate((3, 7, 0, 9)):
        images[n, 0, 0, k] = 1.0
    reward = classifier_reward(Fixed(), images, torch.tensor([3, 1, 0, 2]))
    assert reward.dtype == torch.float32 and reward.shape == (4,)
    torch.testing.assert_close(reward, torch.tensor([1.0, 0.0, 1.0, 0.0]))


@pytest.mark.exercise("5.4")
def test_reward_uses_eval_mode_without_gradients_and_restores_the_mode():
    net = nn.Sequential(nn.Flatten(), nn.Linear(64 * 64, 10), nn.Dropout(0.9))
    net.train()
    images = torch.rand(64, 1, 64, 64)
    with torch.no_grad():
        net.eval()
        labels = net(images).argmax(1)
        net.train()
    labels[1::2] = (labels[1::2] + 1) % 10  # the eval-mode answer on even images only
    reward = classifier_reward(net, images, labels)
    torch.testing.assert_close(reward, torch.tensor([1.0, 0.0] * 32))  # dropout off
    assert net.training and not reward.requires_grad


class Spy(Fixed):
    """``Fixed``, noting for every call whether it ran in training mode and with gradients."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, x):
        self.calls.append({"training": self.training, "grad": torch.is_grad_enabled()})
        return super().forward(x)


@pytest.mark.exercise("5.4")
def test_reward_runs_the_classifier_in_eval_mode_without_gradients():
    """Catches a classifier run with gradient tracking on (the docstring: torch.no_grad) or in
    training mode; the forward pass itself records how it was called."""
    spy = Spy().train()
    images = torch.zeros(2, 1, 64, 64)
    images[0, 0, 0, 5] = images[1, 0, 0, 2] = 1.0
    torch.testing.assert_close(classifier_reward(spy, images, torch.tensor([5, 3])),
                               torch.tensor([1.0, 0.0]))
    assert spy.calls == [{"training": False, "grad": False}]
    assert torch.is_grad_enabled()  # switched off only for the classifier's call


@pytest.mark.exercise("5.4")
def test_reward_leaves_a_classifier_in_eval_mode_in_eval_mode():
    """Catches switching the classifier back to training mode whatever its mode was: the
    docstring says leave its mode as you found it."""
    images = torch.zeros(3, 1, 64, 64)
    for n, k in enumerate((0, 4, 2)):
        images[n, 0, 0, k] = 1.0  # the classifier says 0, 4, 2
    labels = torch.tensor([0, 1, 2])
    spy = Spy().eval()
    torch.testing.assert_close(classifier_reward(spy, images, labels),
                               torch.tensor([1.0, 0.0, 1.0]))
    assert not spy.training
    spy.train()
    torch.testing.assert_close(classifier_reward(spy, images, labels),
                               torch.tensor([1.0, 0.0, 1.0]))
    assert spy.training


def test_reward_rejects_bad_input():
    with pytest.raises(TypeError, match="Module"):
        classifier_reward(lambda x: x, torch.zeros(1, 1, 64, 64), [0])
    with pytest.raises(ValueError, match="labels"):
        classifier_reward(Fixed(), torch.zeros(2, 1, 64, 64), [0])
    with pytest.raises(ValueError, match="0..9"):
        classifier_reward(Fixed(), torch.zeros(1, 1, 64, 64), [10])


# ======================================================================================
# Inputs and the oracle
# ======================================================================================


def test_the_oracle_undoes_every_input_transformation():
    torch.manual_seed(2)
    digit = torch.zeros(1, 1, 64, 64)
    digit[0, 0, 22:42, 27:37] = torch.rand(20, 10)
    digits = digit.repeat(8, 1, 1, 1)
    inputs = apply_inputs(digits, torch.arange(8))
    plan = oracle_primitives(torch.arange(8))
    restored = apply_primitives(apply_primitives(inputs, plan[:, 0]), plan[:, 1])
    wrong_order = apply_primitives(apply_primitives(inputs, plan[:, 1]), plan[:, 0])

    def error(x):
        return (x - digits).abs().sum(dim=(1, 2, 3))

    # Interpolation blurs a little; the wrong order leaves the digit off-centre.
    assert (error(restored) < 0.3 * error(inputs)).all()
    assert (error(restored) < 0.5 * error(wrong_order)).all()


def test_tables_have_the_published_sizes():
    assert len(PRIMITIVES) == 6 and len(INPUT_TRANSFORMS) == 8
    assert {abs(a) for _, a, _ in INPUT_TRANSFORMS} == {60.0}
    assert all(math.isclose(max(abs(s) for s in shift), SHIFT) for _, _, shift in
               INPUT_TRANSFORMS)
