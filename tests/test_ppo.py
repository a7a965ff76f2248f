"""Public tests for chapter 4's PPO: exercises 4.1 (GAE) and 4.2 (the clipped surrogate loss),
and the library built on them (``PPOConfig``, ``ActorCritic``, ``ppo_update``, ``train_ppo``).

Tests marked ``@pytest.mark.exercise("4.x")`` check an exercise; ``course_lib.check("4.x")``
runs them against your own code. Unmarked tests check input validation (which runs before
your code) and the library built on the exercises.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from oracles import loop_gae

from course_lib.envs.two_rooms import make_two_rooms
from course_lib.ppo import (
    ActorCritic,
    PPOConfig,
    Rollout,
    clipped_surrogate_loss,
    collect_rollout,
    compute_gae,
    ppo_update,
    train_ppo,
)

# Two environments, three steps; environment 0's episode ends at t = 1 (so nothing after it is
# bootstrapped into t = 1), environment 1 runs on and bootstraps from last_values.
REWARDS = np.array([[1.0, 0.0],
                    [0.0, 1.0],
                    [2.0, 0.0]])
VALUES = np.array([[0.5, 1.0],
                   [1.0, 0.0],
                   [0.0, 2.0]])
DONES = np.array([[False, False],
                  [True, False],
                  [False, False]])
LAST_VALUES = np.array([4.0, 2.0])
# gamma = lam = 0.5 (so gamma * lam = 0.25):
#   env 0: delta = [1 + 0.5*1 - 0.5, 0 - 1 (done), 2 + 0.5*4 - 0] = [1, -1, 4]
#          A_2 = 4, A_1 = -1 (cut), A_0 = 1 + 0.25 * (-1) = 0.75
#   env 1: delta = [0 + 0.5*0 - 1, 1 + 0.5*2 - 0, 0 + 0.5*2 - 2] = [-1, 2, -1]
#          A_2 = -1, A_1 = 2 - 0.25 = 1.75, A_0 = -1 + 0.25 * 1.75 = -0.5625
HAND_ADVANTAGES = np.array([[0.75, -0.5625],
                            [-1.0, 1.75],
                            [4.0, -1.0]])
HAND_RETURNS = HAND_ADVANTAGES + VALUES


def gae_args(**changes):
    args = dict(rewards=REWARDS, values=VALUES, dones=DONES, last_values=LAST_VALUES,
                gamma=0.5, lam=0.5)
    args.update(changes)
    return args


# ======================================================================================
# 4.1 Generalised advantage estimation
# ======================================================================================


@pytest.mark.exercise("4.1")
def test_gae_hand_computed_with_a_done_in_the_middle():
    advantages, returns = compute_gae(**gae_args())
    assert np.shape(advantages) == (3, 2) and np.shape(returns) == (3, 2)
    np.testing.assert_allclose(advantages, HAND_ADVANTAGES, rtol=0, atol=1e-12)
    np.testing.assert_allclose(returns, HAND_RETURNS, rtol=0, atol=1e-12)


@pytest.mark.exercise("4.1")
def test_gae_positional_arguments_and_lists():
    advantages, returns = compute_gae(REWARDS.tolist(), VALUES.tolist(), DONES.tolist(),
                                      LAST_VALUES.tolist(), 0.5, 0.5)
    np.testing.assert_allclose(advantages, HAND_ADVANTAGES, rtol=0, atol=1e-12)
    np.testing.assert_allclose(returns, HAND_RETURNS, rtol=0, atol=1e-12)


@pytest.mark.exercise("4.1")
def test_gae_accepts_dones_as_zeros_and_ones():
    advantages, _ = compute_gae(**gae_args(dones=DONES.astype(int)))
    np.testing.assert_allclose(advantages, HAND_ADVANTAGES, rtol=0, atol=1e-12)


@pytest.mark.exercise("4.1")
def test_gae_lambda_zero_gives_one_step_td_errors():
    advantages, returns = compute_gae(**gae_args(lam=0.0))
    # The deltas worked out above.
    np.testing.assert_allclose(advantages, [[1.0, -1.0], [-1.0, 2.0], [4.0, -1.0]],
                               rtol=0, atol=1e-12)
    # returns = r_t + gamma * V(s_{t+1}) (no bootstrap after a done)
    np.testing.assert_allclose(returns, [[1.5, 0.0], [0.0, 2.0], [4.0, 1.0]],
                               rtol=0, atol=1e-12)


@pytest.mark.exercise("4.1")
def test_gae_lambda_one_gamma_one_gives_monte_carlo_returns_minus_values():
    advantages, returns = compute_gae(**gae_args(gamma=1.0, lam=1.0))
    # env 0: the episode ending at t = 1 returns 1 + 0 from t = 0 and 0 from t = 1; the next
    #        one bootstraps at the end: 2 + 4 = 6.  env 1: 0 + 1 + 0 + 2 = 3, 1 + 0 + 2, 0 + 2.
    monte_carlo = np.array([[1.0, 3.0], [0.0, 3.0], [6.0, 2.0]])
    np.testing.assert_allclose(returns, monte_carlo, rtol=0, atol=1e-12)
    np.testing.assert_allclose(advantages, monte_carlo - VALUES, rtol=0, atol=1e-12)


@pytest.mark.exercise("4.1")
def test_gae_gamma_zero_is_reward_minus_value():
    """With gamma = 0 nothing is bootstrapped: A = r - V and the return is r (written out, so
    the expectation does not depend on the inputs after the call)."""
    advantages, returns = compute_gae(**gae_args(gamma=0.0, lam=0.9))
    np.testing.assert_allclose(advantages, [[0.5, -1.0], [-1.0, 1.0], [2.0, -2.0]],
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(returns, [[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]],
                               rtol=0, atol=1e-12)


@pytest.mark.exercise("4.1")
def test_gae_nothing_is_bootstrapped_across_a_done():
    # Huge values after the end of an episode must not leak into the step that ended it.
    values = VALUES.copy()
    values[2, 0] = 1e6
    advantages, _ = compute_gae(**gae_args(values=values))
    assert advantages[1, 0] == pytest.approx(-1.0, abs=1e-12)
    assert advantages[0, 0] == pytest.approx(0.75, abs=1e-12)


@pytest.mark.exercise("4.1")
def test_gae_per_step_discounts_hand_computed():
    # Semi-MDP: env 0's step 0 was an option of 2 primitive steps (gamma**2 = 0.25), the rest
    # one step each (0.5). Only step 0 of env 0 changes from the hand-computed table above:
    #   delta_0 = 1 + 0.25 * 1 - 0.5 = 0.75, A_0 = 0.75 + 0.25 * 0.5 * (-1) = 0.625
    gamma = np.array([[0.25, 0.5], [0.5, 0.5], [0.5, 0.5]])
    advantages, returns = compute_gae(**gae_args(gamma=gamma))
    expected = HAND_ADVANTAGES.copy()
    expected[0, 0] = 0.625
    np.testing.assert_allclose(advantages, expected)
    np.testing.assert_allclose(returns, expected + VALUES)


@pytest.mark.exercise("4.1")
def test_gae_constant_gamma_array_equals_the_float():
    """A per-step gamma array of 0.5 everywhere gives the float's answer: the hand table."""
    a1, r1 = compute_gae(**gae_args(gamma=np.full((3, 2), 0.5)))
    a2, r2 = compute_gae(**gae_args(gamma=0.5))
    np.testing.assert_allclose(a1, a2)
    np.testing.assert_allclose(r1, r2)
    np.testing.assert_allclose(a1, HAND_ADVANTAGES, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r1, HAND_RETURNS, rtol=0, atol=1e-12)


@st.composite
def gae_cases(draw):
    T, n = draw(st.integers(1, 8)), draw(st.integers(1, 4))
    numbers = st.floats(-5.0, 5.0, allow_nan=False, allow_infinity=False)
    return dict(
        rewards=draw(hnp.arrays(np.float64, (T, n), elements=numbers)),
        values=draw(hnp.arrays(np.float64, (T, n), elements=numbers)),
        dones=draw(hnp.arrays(np.bool_, (T, n))),
        last_values=draw(hnp.arrays(np.float64, (n,), elements=numbers)),
        gamma=draw(st.one_of(
            st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0]),
            hnp.arrays(np.float64, (T, n), elements=st.floats(0.0, 1.0)))),
        lam=draw(st.sampled_from([0.0, 0.5, 0.95, 1.0])),
    )


@pytest.mark.exercise("4.1")
@settings(max_examples=60)
@given(gae_cases())
def test_property_gae_matches_a_loop(case):
    advantages, returns = compute_gae(**case)
    expected_adv, expected_ret = loop_gae(**case)
    np.testing.assert_allclose(advantages, expected_adv, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(returns, expected_ret, rtol=1e-9, atol=1e-9)


# ======================================================================================
# 4.2 The clipped surrogate loss
# ======================================================================================

# Ratios inside and outside [1 - 0.2, 1 + 0.2], for positive and negative advantages.
#   ratio  A    ratio*A  clamp(ratio)*A  min    clip active?
#   1.1    2    2.2      2.2             2.2    no
#   1.5    2    3.0      2.4             2.4    yes (too far up with A > 0)
#   0.5    2    1.0      1.6             1.0    no  (the pessimistic, unclipped term)
#   1.1   -2   -2.2     -2.2            -2.2    no
#   1.5   -2   -3.0     -2.4            -3.0    no  (the pessimistic, unclipped term)
#   0.5   -2   -1.0     -1.6            -1.6    yes (too far down with A < 0)
RATIOS = [1.1, 1.5, 0.5, 1.1, 1.5, 0.5]
ADVANTAGES = [2.0, 2.0, 2.0, -2.0, -2.0, -2.0]
OBJECTIVES = [2.2, 2.4, 1.0, -2.2, -3.0, -1.6]
CLIP_ACTIVE = [False, True, False, False, False, True]


def loss_inputs(ratios=RATIOS, advantages=ADVANTAGES, old=0.3, dtype=torch.float32):
    """new/old log-probabilities with the given ratios (old log-prob ``old`` everywhere)."""
    old_log_prob = torch.full((len(ratios),), old, dtype=dtype)
    new_log_prob = (old_log_prob + torch.log(torch.tensor(ratios, dtype=dtype))).detach()
    new_log_prob.requires_grad_(True)
    return new_log_prob, old_log_prob, torch.tensor(advantages, dtype=dtype)


@pytest.mark.exercise("4.2")
def test_clipped_loss_hand_computed():
    new, old, adv = loss_inputs()
    loss = clipped_surrogate_loss(new, old, adv, 0.2)
    assert isinstance(loss, torch.Tensor)
    assert loss.shape == ()
    assert loss.item() == pytest.approx(-sum(OBJECTIVES) / 6, abs=1e-5)


@pytest.mark.exercise("4.2")
@pytest.mark.parametrize("i", range(6))
def test_clipped_loss_each_case_alone(i):
    new, old, adv = loss_inputs([RATIOS[i]], [ADVANTAGES[i]])
    loss = clipped_surrogate_loss(new, old, adv, 0.2)
    assert loss.item() == pytest.approx(-OBJECTIVES[i], abs=1e-5)


@pytest.mark.exercise("4.2")
def test_clipped_loss_gradient_is_zero_where_the_clip_is_active():
    new, old, adv = loss_inputs()
    loss = clipped_surrogate_loss(new, old, adv, 0.2)
    assert loss.requires_grad, "the loss must depend on new_log_prob (keep the graph)"
    loss.backward()
    assert new.grad is not None
    # d ratio / d new_log_prob = ratio, so an unclipped term contributes -ratio * A / n.
    expected = [0.0 if active else -r * a / 6
                for r, a, active in zip(RATIOS, ADVANTAGES, CLIP_ACTIVE, strict=True)]
    np.testing.assert_allclose(new.grad.numpy(), expected, rtol=0, atol=1e-6)
    for g, active in zip(new.grad.tolist(), CLIP_ACTIVE, strict=True):
        assert (g == 0.0) == active


@pytest.mark.exercise("4.2")
def test_clipped_loss_at_ratio_one_is_minus_the_mean_advantage():
    adv = torch.tensor([1.0, -3.0, 0.5, 2.5])
    new = torch.tensor([-1.0, -0.2, -2.0, -0.7], requires_grad=True)
    loss = clipped_surrogate_loss(new, new.detach().clone(), adv, 0.1)
    assert loss.item() == pytest.approx(-0.25, abs=1e-6)
    loss.backward()
    np.testing.assert_allclose(new.grad.numpy(), (-adv / 4).numpy(), rtol=0, atol=1e-6)


@pytest.mark.exercise("4.2")
def test_clipped_loss_wider_clip_keeps_more_of_the_ratio():
    # With clip 0.6 the ratio 1.5 is inside the range: objective 1.5 * 2 = 3.0.
    new, old, adv = loss_inputs([1.5], [2.0])
    assert clipped_surrogate_loss(new, old, adv, 0.6).item() == pytest.approx(-3.0, abs=1e-5)
    assert clipped_surrogate_loss(new, old, adv, 0.2).item() == pytest.approx(-2.4, abs=1e-5)


# ======================================================================================
# Input validation (runs before any exercise code)
# ======================================================================================


@pytest.mark.parametrize(("changes", "name"), [
    ({"rewards": np.zeros(3)}, "rewards"),
    ({"values": np.zeros((3, 3))}, "values"),
    ({"rewards": [[0.0, np.nan]] * 3}, "rewards"),
    ({"values": [[np.inf, 0.0]] * 3}, "values"),
    ({"dones": np.zeros((2, 2), dtype=bool)}, "dones"),
    ({"dones": np.full((3, 2), 2)}, "dones"),
    ({"dones": np.full((3, 2), 0.5)}, "dones"),
    ({"last_values": np.zeros(3)}, "last_values"),
    ({"last_values": np.zeros((1, 2))}, "last_values"),
    ({"last_values": [np.nan, 0.0]}, "last_values"),
    ({"gamma": 1.5}, "gamma"),
    ({"gamma": -0.1}, "gamma"),
    ({"lam": 1.01}, "lam"),
    ({"lam": -1.0}, "lam"),
    ({"gamma": np.nan}, "gamma"),
    ({"gamma": np.full((2, 2), 0.5)}, "gamma"),
    ({"gamma": np.full((3, 2), 1.5)}, "gamma"),
    ({"gamma": [[0.5, np.nan]] * 3}, "gamma"),
])
def test_gae_rejects_bad_input(changes, name):
    with pytest.raises(ValueError, match=name):
        compute_gae(**gae_args(**changes))


@pytest.mark.parametrize(("changes", "name"), [
    ({"rewards": "abc"}, "rewards"),
    ({"values": None}, "values"),
    ({"last_values": [[0.0, "x"]]}, "last_values"),
    ({"gamma": "0.9"}, "gamma"),
    ({"lam": True}, "lam"),
])
def test_gae_rejects_wrong_types(changes, name):
    with pytest.raises(TypeError, match=name):
        compute_gae(**gae_args(**changes))


def test_gae_rejects_missing_arguments():
    with pytest.raises(TypeError, match="compute_gae"):
        compute_gae(REWARDS, VALUES, DONES, LAST_VALUES, 0.9)


@pytest.mark.parametrize("name", ["new_log_prob", "old_log_prob", "advantages"])
def test_clipped_loss_rejects_non_tensors(name):
    args = dict(zip(("new_log_prob", "old_log_prob", "advantages"), loss_inputs(), strict=True))
    args[name] = args[name].detach().numpy()
    with pytest.raises(TypeError, match=name):
        clipped_surrogate_loss(**args, clip=0.2)


@pytest.mark.parametrize("name", ["new_log_prob", "old_log_prob", "advantages"])
def test_clipped_loss_rejects_non_finite_tensors(name):
    args = dict(zip(("new_log_prob", "old_log_prob", "advantages"), loss_inputs(), strict=True))
    bad = args[name].detach().clone()
    bad[2] = math.nan
    args[name] = bad
    with pytest.raises(ValueError, match=name):
        clipped_surrogate_loss(**args, clip=0.2)


def test_clipped_loss_rejects_mismatched_shapes():
    new, old, adv = loss_inputs()
    with pytest.raises(ValueError, match="shape"):
        clipped_surrogate_loss(new, old[:3], adv, 0.2)
    with pytest.raises(ValueError, match="shape"):
        clipped_surrogate_loss(new, old, adv.reshape(2, 3), 0.2)


@pytest.mark.parametrize(("clip", "error"), [
    (0.0, ValueError), (-0.2, ValueError), (math.inf, ValueError), ("0.2", TypeError),
    (None, TypeError), (True, TypeError),
])
def test_clipped_loss_rejects_bad_clip(clip, error):
    with pytest.raises(error, match="clip"):
        clipped_surrogate_loss(*loss_inputs(), clip)


@pytest.mark.parametrize(("changes", "error", "name"), [
    ({"gamma": 1.5}, ValueError, "gamma"),
    ({"gamma": -0.1}, ValueError, "gamma"),
    ({"gae_lambda": 2.0}, ValueError, "gae_lambda"),
    ({"clip": 0.0}, ValueError, "clip"),
    ({"lr": -1e-3}, ValueError, "lr"),
    ({"max_grad_norm": 0}, ValueError, "max_grad_norm"),
    ({"ent_coef": -0.01}, ValueError, "ent_coef"),
    ({"vf_coef": math.nan}, ValueError, "vf_coef"),
    ({"n_envs": 0}, ValueError, "n_envs"),
    ({"n_steps": 0}, ValueError, "n_steps"),
    ({"epochs": -1}, ValueError, "epochs"),
    ({"minibatches": 3}, ValueError, "minibatches"),  # 8 * 64 = 512 is not divisible by 3
    ({"n_steps": 2.5}, TypeError, "n_steps"),
    ({"n_envs": True}, TypeError, "n_envs"),
    ({"gamma": "0.99"}, TypeError, "gamma"),
    ({"lr": None}, TypeError, "lr"),
    ({"optimizer": "rmsprop"}, ValueError, "optimizer"),
    ({"image_shape": (7, 7)}, TypeError, "image_shape"),
    ({"image_shape": (5, 5, 3)}, ValueError, "image_shape"),
    ({"image_shape": (7, 7, 0)}, ValueError, "channels"),
])
def test_ppo_config_rejects_bad_values(changes, error, name):
    with pytest.raises(error, match=name):
        PPOConfig(**changes)


def test_ppo_config_defaults_are_valid():
    cfg = PPOConfig()
    assert 0 < cfg.clip and 0 <= cfg.gamma <= 1 and 0 <= cfg.gae_lambda <= 1
    assert (cfg.n_envs * cfg.n_steps) % cfg.minibatches == 0


# ======================================================================================
# The network, rollouts, updates and training (built on 4.1 and 4.2)
# ======================================================================================


def test_actor_critic_beta_starts_as_beta_one_one():
    torch.manual_seed(0)
    model = ActorCritic(6, kind="beta")
    obs = torch.rand(32, 6) * 2 - 1
    dist = model.distribution(obs)
    assert isinstance(dist, torch.distributions.Beta)
    a, b = dist.concentration1, dist.concentration0
    assert a.shape == (32,)
    np.testing.assert_allclose(dist.mean.detach().numpy(), 0.5, atol=0.03)
    np.testing.assert_allclose((a + b).detach().numpy(), 2.0, atol=0.03)
    np.testing.assert_allclose(a.detach().numpy(), 1.0, atol=0.03)
    np.testing.assert_allclose(b.detach().numpy(), 1.0, atol=0.03)
    sample = dist.sample()
    assert ((sample >= 0) & (sample <= 1)).all()
    assert model.value_of(obs).shape == (32,)


def test_actor_critic_categorical_starts_near_uniform():
    torch.manual_seed(0)
    model = ActorCritic(6, 4, hidden=(16, 16))
    dist = model.distribution(torch.rand(10, 6))
    assert isinstance(dist, torch.distributions.Categorical)
    np.testing.assert_allclose(dist.probs.detach().numpy(), 0.25, atol=0.01)
    assert model.value_of(torch.rand(10, 6)).shape == (10,)


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"kind": "gaussian"}, ValueError),
    ({"obs_dim": 0}, ValueError),
    ({"n_outputs": 0}, ValueError),
    ({"obs_dim": 2.0}, TypeError),
    ({"hidden": (0,)}, ValueError),
])
def test_actor_critic_rejects_bad_arguments(kwargs, error):
    args = {"obs_dim": 4, "n_outputs": 2, **kwargs}
    with pytest.raises(error):
        ActorCritic(**args)


def small_rollout(cfg, seed=0):
    torch.manual_seed(seed)
    envs = [make_two_rooms("green") for _ in range(cfg.n_envs)]
    obs = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)])
    model = ActorCritic(obs.shape[1], 4, hidden=cfg.hidden)
    rollout, next_obs = collect_rollout(model, envs, obs, cfg, np.zeros(cfg.n_envs))
    return model, rollout, next_obs


def test_collect_rollout_shapes():
    cfg = PPOConfig(n_envs=3, n_steps=40, minibatches=2)
    _, rollout, next_obs = small_rollout(cfg)
    assert isinstance(rollout, Rollout)
    assert rollout.obs.shape == (40, 3, 50)
    for name in ("actions", "log_probs", "values", "rewards", "dones"):
        assert getattr(rollout, name).shape == (40, 3), name
    assert rollout.dones.dtype == bool
    assert rollout.last_values.shape == (3,)
    assert next_obs.shape == (3, 50)
    assert set(np.unique(rollout.actions)) <= {0, 1, 2, 3}
    assert np.all(rollout.log_probs <= 0)
    assert len(rollout.episode_returns) == len(rollout.episode_successes) == rollout.dones.sum()


def test_ppo_update_returns_finite_stats_and_changes_parameters():
    cfg = PPOConfig(n_envs=2, n_steps=32, minibatches=2, epochs=2)
    model, rollout, _ = small_rollout(cfg)
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    stats = ppo_update(model, optimizer, rollout, cfg, torch.Generator().manual_seed(0))
    assert set(stats) == {"policy_loss", "value_loss", "entropy"}
    assert all(math.isfinite(v) for v in stats.values())
    assert stats["value_loss"] >= 0
    # A near-uniform policy over 4 actions: entropy close to log 4.
    assert 0 < stats["entropy"] <= math.log(4) + 1e-6
    assert stats["entropy"] == pytest.approx(math.log(4), abs=0.05)
    after = list(model.parameters())
    assert any(not torch.equal(b, a.detach()) for b, a in zip(before, after, strict=True))
    assert all(torch.isfinite(a).all() for a in after)


def test_train_ppo_learns_to_open_the_door():
    # The one training run of this file (about 10-15 s): PPO on the door task, 30 000 steps.
    _, log = train_ppo(lambda: make_two_rooms("door"), 30000, PPOConfig(), seed=0)
    n_updates = math.ceil(30000 / (8 * 64))
    assert len(log.steps) == len(log.mean_return) == len(log.success_rate) == n_updates
    assert log.steps[0] == 512 and log.steps[-1] == n_updates * 512
    assert log.success_rate[-3:] == [1.0, 1.0, 1.0], log.success_rate
    # Success means the door opened well before the time limit (reward 1 - 0.9 * t / 100).
    assert all(r > 0.9 for r in log.mean_return[-3:]), log.mean_return


def test_train_ppo_rejects_bad_total_steps():
    with pytest.raises(ValueError, match="total_steps"):
        train_ppo(lambda: make_two_rooms("door"), 0)
    with pytest.raises(TypeError, match="total_steps"):
        train_ppo(lambda: make_two_rooms("door"), 1e4)


@pytest.mark.parametrize("hidden", [64, (0,), ("64",), (True,)])
def test_ppo_config_rejects_bad_hidden_sizes(hidden):
    with pytest.raises(TypeError, match="hidden"):
        PPOConfig(hidden=hidden)


def test_clipped_loss_rejects_integer_tensors():
    from course_lib.ppo import clipped_surrogate_loss

    x = torch.zeros(3, dtype=torch.int64)
    with pytest.raises(TypeError, match="floating"):
        clipped_surrogate_loss(x, torch.zeros(3), torch.zeros(3), 0.2)


def test_image_encoder_reads_flat_observations_as_images():
    from course_lib.ppo import ImageEncoder

    torch.manual_seed(0)
    encoder = ImageEncoder((7, 7, 3))
    assert encoder.out_features == 64  # 7x7 -> 6x6 -> pool 3x3 -> 2x2 -> 1x1, 64 channels
    images = torch.rand(5, 7, 7, 3)
    flat = encoder(images.reshape(5, -1))
    assert flat.shape == (5, 64)
    # The flat vector is read as (H, W, C): the same as convolving the channels-first image.
    np.testing.assert_allclose(flat.detach().numpy(),
                               encoder.conv(images.permute(0, 3, 1, 2)).flatten(1).detach()
                               .numpy(), rtol=1e-6)
    assert encoder(torch.rand(2, 3, 147)).shape == (2, 3, 64)  # extra batch axes survive


def test_actor_critic_with_an_image_torso():
    torch.manual_seed(0)
    model = ActorCritic(147, 3, hidden=(16,), image_shape=(7, 7, 3))
    dist = model.distribution(torch.rand(4, 147))
    np.testing.assert_allclose(dist.probs.detach().numpy(), 1 / 3, atol=0.01)
    assert model.value_of(torch.rand(4, 147)).shape == (4,)
    assert any(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    with pytest.raises(ValueError, match="obs_dim"):
        ActorCritic(50, 3, image_shape=(7, 7, 3))


def test_make_optimizer_follows_the_config():
    from course_lib.ppo import make_optimizer

    params = list(ActorCritic(4, 2).parameters())
    assert isinstance(make_optimizer(params, PPOConfig()), torch.optim.Adam)
    sgd = make_optimizer(params, PPOConfig(optimizer="sgd", lr=0.3))
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["lr"] == 0.3
    assert sgd.defaults["momentum"] == 0
