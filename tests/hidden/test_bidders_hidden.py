"""Instructor-only tests for exercise 1.4: cases the public tests leave out."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.bidders import bid_ratio_gradient


def loop_gradient(utilities, baselines, noise, sigma, bins, n_bins):
    """The estimate, one sample at a time."""
    batch, n_bidders = len(utilities), len(utilities[0])
    totals = [[0.0] * n_bins for _ in range(n_bidders)]
    counts = [[0] * n_bins for _ in range(n_bidders)]
    for t in range(batch):
        for i in range(n_bidders):
            k = int(bins[t][i])
            totals[i][k] += (utilities[t][i] - baselines[t][i]) * noise[t][i] / sigma
            counts[i][k] += 1
    return [[totals[i][k] / counts[i][k] if counts[i][k] else 0.0 for k in range(n_bins)]
            for i in range(n_bidders)]


@pytest.mark.exercise("1.4")
def test_hidden_gradient_all_samples_in_one_bin():
    diffs = np.array([[1.0, 0.0, 2.0],
                      [2.0, 0.0, -1.0],
                      [0.0, 0.0, 1.0],
                      [3.0, 0.0, 0.0],
                      [-1.0, 0.0, 1.0]])
    baselines = np.full((5, 3), 0.25)
    noise = np.array([[1.0, 5.0, 0.5],
                      [1.0, 5.0, 1.0],
                      [1.0, 5.0, 1.0],
                      [1.0, 5.0, 1.0],
                      [1.0, 5.0, 2.0]])
    bins = np.ones((5, 3), dtype=int)
    grad = bid_ratio_gradient(diffs + baselines, baselines, noise, 0.5, bins, 4)
    # Bidder 0: scores 2, 4, 0, 6, -2 (mean 2); bidder 1: all 0; bidder 2: 2, -2, 2, 0, 4 (1.2).
    np.testing.assert_allclose(grad, [[0.0, 2.0, 0.0, 0.0],
                                      [0.0, 0.0, 0.0, 0.0],
                                      [0.0, 1.2, 0.0, 0.0]], rtol=0, atol=1e-12)


@pytest.mark.exercise("1.4")
def test_hidden_gradient_large_random_case_against_a_loop():
    rng = np.random.default_rng(21)
    batch, n_bidders, n_bins = 3000, 4, 12
    u = rng.random((batch, n_bidders))
    b = rng.random((batch, n_bidders))
    eps = rng.standard_normal((batch, n_bidders))
    # Bidder 3 only ever uses the first three bins, so its other bins stay empty.
    bins = rng.integers(0, n_bins, size=(batch, n_bidders))
    bins[:, 3] %= 3
    grad = bid_ratio_gradient(u, b, eps, 0.07, bins, n_bins)
    expected = loop_gradient(u.tolist(), b.tolist(), eps.tolist(), 0.07, bins.tolist(), n_bins)
    np.testing.assert_allclose(grad, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(grad[3, 3:], 0.0)


@pytest.mark.exercise("1.4")
@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.int16])
def test_hidden_gradient_small_integer_bins(dtype):
    bins = np.array([[0, 2], [0, 2], [2, 1], [1, 2]], dtype=dtype)
    grad = bid_ratio_gradient(
        [[1.0, 0.0], [0.5, 0.2], [0.0, 0.0], [0.3, 0.6]],
        [[0.5, 0.0], [0.5, 0.0], [0.2, 0.1], [0.0, 0.2]],
        [[1.0, 2.0], [-1.0, 0.5], [2.0, -1.0], [0.5, 1.0]],
        0.5, bins, 3)
    np.testing.assert_allclose(grad, [[0.5, 0.3, -0.8], [0.0, 0.2, 1.0 / 3.0]],
                               rtol=0, atol=1e-12)


@pytest.mark.exercise("1.4")
def test_hidden_gradient_one_bin_is_the_plain_mean():
    rng = np.random.default_rng(22)
    u, b, eps = rng.random((50, 3)), rng.random((50, 3)), rng.standard_normal((50, 3))
    grad = bid_ratio_gradient(u, b, eps, 0.3, np.zeros((50, 3), dtype=int), 1)
    assert grad.shape == (3, 1)
    for i in range(3):
        expected = sum((u[t, i] - b[t, i]) * eps[t, i] / 0.3 for t in range(50)) / 50
        assert grad[i, 0] == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.exercise("1.4")
def test_hidden_gradient_bidders_are_not_mixed():
    # Swapping two bidders' columns must swap the rows of the estimate.
    rng = np.random.default_rng(23)
    u, b, eps = rng.random((40, 3)), rng.random((40, 3)), rng.standard_normal((40, 3))
    bins = rng.integers(0, 5, size=(40, 3))
    grad = bid_ratio_gradient(u, b, eps, 0.2, bins, 5)
    perm = [2, 0, 1]
    swapped = bid_ratio_gradient(u[:, perm], b[:, perm], eps[:, perm], 0.2, bins[:, perm], 5)
    np.testing.assert_allclose(swapped, grad[perm], rtol=1e-12, atol=1e-12)
    assert not np.allclose(grad[0], grad[1])


@pytest.mark.exercise("1.4")
def test_hidden_gradient_does_not_change_the_inputs():
    rng = np.random.default_rng(24)
    u, b, eps = rng.random((30, 2)), rng.random((30, 2)), rng.standard_normal((30, 2))
    bins = rng.integers(0, 4, size=(30, 2))
    copies = [x.copy() for x in (u, b, eps, bins)]
    grad = bid_ratio_gradient(u, b, eps, 0.1, bins, 4)
    for x, c in zip((u, b, eps, bins), copies, strict=True):
        np.testing.assert_array_equal(x, c)
    np.testing.assert_allclose(grad, loop_gradient(u.tolist(), b.tolist(), eps.tolist(), 0.1,
                                                   bins.tolist(), 4), rtol=1e-9, atol=1e-12)
