"""Instructor-only tests for exercises 4.1 and 4.2: cases the public tests leave out."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracles import loop_gae

from course_lib.ppo import clipped_surrogate_loss, compute_gae


def loop_loss_and_grad(ratios, advantages, clip):
    """The clipped loss and its gradient w.r.t. new_log_prob, one element at a time."""
    n = len(ratios)
    total, grad = 0.0, []
    for r, a in zip(ratios, advantages, strict=True):
        unclipped = r * a
        clipped = min(max(r, 1 - clip), 1 + clip) * a
        if unclipped <= clipped:
            total += unclipped
            grad.append(-r * a / n)
        else:
            total += clipped
            grad.append(0.0)
    return -total / n, grad


# ======================================================================================
# 4.1
# ======================================================================================


@pytest.mark.exercise("4.1")
@pytest.mark.parametrize(("gamma", "lam"), [(0.99, 0.95), (1.0, 1.0), (0.9, 0.0), (0.5, 0.7)])
@pytest.mark.parametrize(("T", "n_envs"), [(257, 13), (64, 1), (1, 5)])
def test_hidden_gae_long_random_rollouts_against_a_loop(gamma, lam, T, n_envs):
    rng = np.random.default_rng(T * 100 + n_envs)
    rewards = rng.normal(size=(T, n_envs))
    values = rng.normal(size=(T, n_envs)) * 3
    dones = rng.random((T, n_envs)) < 0.1
    last_values = rng.normal(size=n_envs) * 3
    advantages, returns = compute_gae(rewards, values, dones, last_values, gamma, lam)
    assert np.shape(advantages) == (T, n_envs) and np.shape(returns) == (T, n_envs)
    expected, _ = loop_gae(rewards, values, dones, last_values, gamma, lam)
    np.testing.assert_allclose(advantages, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(returns, expected + values, rtol=1e-10, atol=1e-10)


@pytest.mark.exercise("4.1")
@pytest.mark.parametrize("lam", [0.0, 0.95, 1.0])
def test_hidden_gae_option_durations_against_a_loop(lam):
    # Discounts gamma**tau for options of random durations, as the hierarchical learner uses.
    rng = np.random.default_rng(7)
    T, n_envs = 40, 6
    durations = rng.integers(1, 31, size=(T, n_envs))
    gamma = 0.99 ** durations
    rewards, values = rng.normal(size=(T, n_envs)), rng.normal(size=(T, n_envs))
    dones, last_values = rng.random((T, n_envs)) < 0.2, rng.normal(size=n_envs)
    advantages, returns = compute_gae(rewards, values, dones, last_values, gamma, lam)
    expected, _ = loop_gae(rewards, values, dones, last_values, gamma, lam)
    np.testing.assert_allclose(advantages, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(returns, expected + values, rtol=1e-10, atol=1e-10)


@pytest.mark.exercise("4.1")
def test_hidden_gae_dones_at_the_first_and_last_step():
    # env 0: done at t = 0 and at t = T - 1 (so last_values is never used); env 1: no done.
    rewards = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0], [2.0, 2.0]])
    values = np.array([[0.5, 0.5], [1.0, 1.0], [1.0, 1.0], [0.5, 0.5]])
    dones = np.array([[True, False], [False, False], [False, False], [True, False]])
    last_values = np.array([1e6, 4.0])
    advantages, returns = compute_gae(rewards, values, dones, last_values, 1.0, 1.0)
    # gamma = lam = 1: Monte Carlo returns minus values.
    # env 0: episodes [t=0] and [t=1..3]: returns 1, 2, 2, 2.
    # env 1: one episode bootstrapped from 4: returns 7, 6, 6, 6.
    np.testing.assert_allclose(returns, [[1.0, 7.0], [2.0, 6.0], [2.0, 6.0], [2.0, 6.0]],
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(advantages, returns - values, rtol=0, atol=1e-9)


@pytest.mark.exercise("4.1")
def test_hidden_gae_all_done_is_one_step():
    rewards = np.array([[1.0], [2.0], [3.0]])
    values = np.array([[0.5], [0.25], [4.0]])
    advantages, returns = compute_gae(rewards, values, np.ones((3, 1), bool), [100.0],
                                      0.99, 0.95)
    np.testing.assert_allclose(advantages, rewards - values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(returns, rewards, rtol=0, atol=1e-12)


@pytest.mark.exercise("4.1")
def test_hidden_gae_single_step_single_env():
    advantages, returns = compute_gae([[1.0]], [[0.5]], [[False]], [2.0], 0.5, 0.3)
    assert np.shape(advantages) == (1, 1) and np.shape(returns) == (1, 1)
    assert advantages[0, 0] == pytest.approx(1.0 + 0.5 * 2.0 - 0.5, abs=1e-12)
    assert returns[0, 0] == pytest.approx(2.0, abs=1e-12)


@pytest.mark.exercise("4.1")
def test_hidden_gae_float32_inputs_and_integer_rewards():
    rng = np.random.default_rng(5)
    rewards = rng.integers(-2, 3, size=(30, 4))
    values = rng.normal(size=(30, 4)).astype(np.float32)
    dones = (rng.random((30, 4)) < 0.2).astype(int)
    last = rng.normal(size=4).astype(np.float32)
    advantages, returns = compute_gae(rewards, values, dones, last, 0.9, 0.8)
    expected, _ = loop_gae(rewards, values.astype(float), dones, last.astype(float), 0.9, 0.8)
    np.testing.assert_allclose(advantages, expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(returns, expected + values.astype(float), rtol=1e-9, atol=1e-9)


@pytest.mark.exercise("4.1")
def test_hidden_gae_independent_environments():
    # Changing one environment's data leaves the other environments' advantages alone.
    rng = np.random.default_rng(9)
    rewards, values = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    dones, last = rng.random((20, 3)) < 0.15, rng.normal(size=3)
    base, _ = compute_gae(rewards, values, dones, last, 0.95, 0.9)
    rewards2, last2 = rewards.copy(), last.copy()
    rewards2[:, 1] += 10.0
    last2[1] = -50.0
    changed, _ = compute_gae(rewards2, values, dones, last2, 0.95, 0.9)
    np.testing.assert_allclose(changed[:, [0, 2]], base[:, [0, 2]], rtol=0, atol=1e-12)
    assert not np.allclose(changed[:, 1], base[:, 1])


# ======================================================================================
# 4.2
# ======================================================================================


@pytest.mark.exercise("4.2")
def test_hidden_clipped_loss_clip_one_half():
    # ratio  A    ratio*A  clamp(ratio, 0.5, 1.5)*A  min
    # 1.4    1    1.4      1.4                       1.4   (inside)
    # 2.0    1    2.0      1.5                       1.5   (clipped, no gradient)
    # 0.25   1    0.25     0.5                       0.25
    # 2.0   -1   -2.0     -1.5                      -2.0
    # 0.25  -1   -0.25    -0.5                      -0.5   (clipped, no gradient)
    ratios = [1.4, 2.0, 0.25, 2.0, 0.25]
    adv = [1.0, 1.0, 1.0, -1.0, -1.0]
    new = torch.log(torch.tensor(ratios, dtype=torch.float64)).requires_grad_(True)
    old = torch.zeros(5, dtype=torch.float64)
    loss = clipped_surrogate_loss(new, old, torch.tensor(adv, dtype=torch.float64), 0.5)
    assert loss.item() == pytest.approx(-(1.4 + 1.5 + 0.25 - 2.0 - 0.5) / 5, abs=1e-12)
    loss.backward()
    np.testing.assert_allclose(new.grad.numpy(), [-1.4 / 5, 0.0, -0.25 / 5, 2.0 / 5, 0.0],
                               rtol=0, atol=1e-12)


@pytest.mark.exercise("4.2")
def test_hidden_clipped_loss_zero_advantages():
    new = torch.tensor([-0.1, -3.0, -0.5, -2.0], requires_grad=True)
    old = torch.tensor([-0.5, -0.2, -0.5, -2.5])
    loss = clipped_surrogate_loss(new, old, torch.zeros(4), 0.2)
    assert loss.item() == 0.0
    loss.backward()
    assert new.grad is not None
    np.testing.assert_array_equal(new.grad.numpy(), np.zeros(4))


@pytest.mark.exercise("4.2")
def test_hidden_clipped_loss_float64_keeps_precision_and_dtype():
    rng = np.random.default_rng(3)
    log_ratio = rng.normal(scale=0.3, size=50)
    adv = rng.normal(size=50)
    new = torch.tensor(log_ratio - 1.0, dtype=torch.float64, requires_grad=True)
    old = torch.full((50,), -1.0, dtype=torch.float64)
    loss = clipped_surrogate_loss(new, old, torch.tensor(adv, dtype=torch.float64), 0.2)
    assert loss.dtype == torch.float64 and loss.shape == ()
    expected, grad = loop_loss_and_grad(np.exp(log_ratio).tolist(), adv.tolist(), 0.2)
    assert loss.item() == pytest.approx(expected, rel=1e-12, abs=1e-12)
    loss.backward()
    assert new.grad.dtype == torch.float64
    np.testing.assert_allclose(new.grad.numpy(), grad, rtol=1e-10, atol=1e-12)


@pytest.mark.exercise("4.2")
@pytest.mark.parametrize("clip", [0.05, 0.2, 0.5, 1.5])
def test_hidden_clipped_loss_large_random_batch_against_a_loop(clip):
    rng = np.random.default_rng(int(clip * 100))
    log_ratio = rng.normal(scale=0.5, size=(16, 32))
    adv = rng.normal(size=(16, 32))
    new = torch.tensor(log_ratio, dtype=torch.float64, requires_grad=True)
    old = torch.zeros((16, 32), dtype=torch.float64)
    loss = clipped_surrogate_loss(new, old, torch.tensor(adv, dtype=torch.float64), clip)
    assert loss.shape == ()  # a 2-D batch is averaged over every element
    expected, grad = loop_loss_and_grad(np.exp(log_ratio).ravel().tolist(),
                                        adv.ravel().tolist(), clip)
    assert loss.item() == pytest.approx(expected, rel=1e-10, abs=1e-12)
    loss.backward()
    np.testing.assert_allclose(new.grad.numpy().ravel(), grad, rtol=1e-9, atol=1e-12)


@pytest.mark.exercise("4.2")
def test_hidden_clipped_loss_gradient_flows_through_a_network():
    # new_log_prob computed from parameters: the loss must reach them.
    torch.manual_seed(0)
    logits = torch.nn.Parameter(torch.randn(6, 3))
    actions = torch.tensor([0, 1, 2, 0, 1, 2])
    dist = torch.distributions.Categorical(logits=logits)
    new = dist.log_prob(actions)
    old = new.detach() - 0.05
    loss = clipped_surrogate_loss(new, old, torch.tensor([1.0, -1.0, 0.5, 2.0, -0.3, 1.0]), 0.2)
    loss.backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    # The old log-probabilities are constants: no graph needed there.
    assert old.grad is None
