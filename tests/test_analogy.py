"""Chapter 5's learners (course_lib/analogy.py): the society of affine primitives, monolithic
PPO, held-out evaluation and replays."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from course_lib.analogy import (
    AnalogyConfig,
    greedy_policy,
    held_out_inputs,
    held_out_reward,
    make_monolithic,
    make_society,
    replay,
    society_bids,
    thumbnail,
    train_learner,
)
from course_lib.envs.mnist_canvas import (
    INPUT_TRANSFORMS,
    PRIMITIVES,
    apply_primitives,
    classifier_reward,
)
from course_lib.option_society import OptionSociety, clone_utilities


@pytest.fixture(scope="module")
def small(data):
    """The same training digits, but only 40 held-out ones (fast evaluations)."""
    return dataclasses.replace(data, test_images=data.test_images[:40],
                               test_labels=data.test_labels[:40])


def test_thumbnail_averages_two_by_two_blocks():
    images = torch.rand(3, 1, 64, 64)
    small = thumbnail(images)
    assert small.shape == (3, 32 * 32)
    pooled = torch.nn.functional.avg_pool2d(images, 2).reshape(3, -1)
    torch.testing.assert_close(small, pooled)


def test_society_and_monolithic_have_one_choice_per_primitive():
    society = make_society(n_clones=3)
    assert isinstance(society, OptionSociety)
    assert society.n_primitives == len(PRIMITIVES) and society.n_clones == 3
    # every bidder owns its features: no parameters are shared between primitives
    ids = {id(p) for b in society.bidders for p in b.parameters()}
    assert len(ids) == sum(1 for b in society.bidders for _ in b.parameters())
    bids, log_probs, values = society.sample_bids(torch.rand(4, 32 * 32))
    assert bids.shape == log_probs.shape == (4, 6, 3) and values.shape == (4, 6)
    assert ((bids > 0) & (bids < 1)).all()
    model = make_monolithic()
    assert model.distribution(torch.rand(4, 32 * 32)).probs.shape == (4, 6)


def test_greedy_policies_pick_the_highest_mean_bid_or_the_likeliest_primitive():
    torch.manual_seed(0)
    images = torch.rand(7, 1, 64, 64)
    society = make_society()
    choice = greedy_policy(society)(images)
    np.testing.assert_array_equal(choice.numpy(), society_bids(society, images).argmax(1))
    model = make_monolithic()
    with torch.no_grad():
        probs = model.distribution(thumbnail(images)).probs
    np.testing.assert_array_equal(greedy_policy(model)(images).numpy(), probs.argmax(1).numpy())
    with pytest.raises(TypeError, match="society or an ActorCritic"):
        greedy_policy(torch.nn.Linear(2, 2))


def test_clone_utilities_pay_only_the_highest_bid():
    bids = np.array([[[0.1, 0.9], [0.3, 0.2]],
                     [[0.1, 0.2], [0.8, 0.3]]])
    out = clone_utilities(bids, np.array([0.5, -0.25]))
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 1] = 0.5
    expected[1, 1, 0] = -0.25
    np.testing.assert_array_equal(out, expected)


def test_held_out_inputs_cover_every_digit_under_every_transformation(small):
    held = held_out_inputs(small)
    k = len(INPUT_TRANSFORMS)
    assert held.images.shape == (40 * k, 1, 64, 64)
    np.testing.assert_array_equal(held.transforms[:k].numpy(), np.arange(k))
    np.testing.assert_array_equal(held.labels.numpy(), np.repeat(small.test_labels, k))


def test_baselines_bracket_the_task(small, classifier):
    held = held_out_inputs(small)
    none = held_out_reward("none", held, classifier)
    oracle = held_out_reward("oracle", held, classifier)
    assert none < 0.35 < 0.85 < oracle


def test_held_out_reward_of_a_policy_matches_playing_it_by_hand(small, classifier):
    held = held_out_inputs(small)
    # a policy that depends on the image: shift up if the top half holds more ink, else down
    def policy(x):
        top = x[:, 0, :32].sum((1, 2)) > x[:, 0, 32:].sum((1, 2))
        return torch.where(top, 2, 3)

    x = held.images
    for _ in range(2):
        x = apply_primitives(x, policy(x))
    expected = float(classifier_reward(classifier, x, held.labels).mean())
    assert held_out_reward(policy, held, classifier, batch=37) == pytest.approx(expected)


def test_held_out_reward_rejects_unknown_policies(small, classifier):
    held = held_out_inputs(small)
    with pytest.raises(ValueError, match="policy"):
        held_out_reward("random", held, classifier)
    with pytest.raises(TypeError, match="function of images"):
        held_out_reward(3, held, classifier)
    with pytest.raises(TypeError, match="held_out_inputs"):
        held_out_reward("none", held.images, classifier)
    with pytest.raises(TypeError, match="classifier"):
        held_out_reward("none", held, "cnn")
    with pytest.raises(TypeError, match="load_mnist"):
        held_out_inputs({"test_images": []})


@pytest.mark.parametrize("learner", ["society", "monolithic"])
def test_training_runs_logs_and_evaluates(learner, small, classifier):
    cfg = AnalogyConfig(updates=4, episodes=64, eval_every=2)
    seen = []
    run = train_learner(learner, small, classifier, cfg, seed=1, callback=seen.append)
    assert run.learner_name == learner and run.seed == 1
    assert seen == run.log.steps == [128, 256, 384, 512]
    assert run.log.eval_steps == [256, 512]
    assert all(0.0 <= r <= 1.0 for r in run.log.train_reward + run.log.eval_reward)
    assert run.held_out_reward == run.log.eval_reward[-1]
    assert cfg.env_steps == 512


def test_training_is_reproducible(small, classifier):
    cfg = AnalogyConfig(updates=2, episodes=32, eval_every=1)
    a = train_learner("society", small, classifier, cfg, seed=3)
    b = train_learner("society", small, classifier, cfg, seed=3)
    assert a.log.train_reward == b.log.train_reward
    for pa, pb in zip(a.learner.parameters(), b.learner.parameters(), strict=True):
        torch.testing.assert_close(pa, pb)


def test_training_rejects_bad_arguments(small, classifier):
    with pytest.raises(ValueError, match="learner"):
        train_learner("hierarchical", small, classifier)
    with pytest.raises(TypeError, match="classifier"):
        train_learner("society", small, "cnn")
    with pytest.raises(TypeError, match="load_mnist"):
        train_learner("society", "mnist", classifier)
    with pytest.raises(TypeError, match="AnalogyConfig"):
        train_learner("society", small, classifier, {"updates": 2})
    with pytest.raises(ValueError, match="updates"):
        AnalogyConfig(updates=0)
    with pytest.raises(ValueError, match="divisible"):
        AnalogyConfig(episodes=3, minibatches=4)
    with pytest.raises(ValueError, match="lr"):
        AnalogyConfig(lr=-1.0)


def test_replay_records_every_step(small, classifier):
    held = held_out_inputs(small)
    society = make_society()
    episode = replay(society, held.images[:5], held.labels[:5], classifier)
    assert episode.images.shape == (5, 3, 64, 64)
    assert episode.actions.shape == (5, 2) and episode.bids.shape == (5, 2, 6)
    np.testing.assert_array_equal(episode.actions[:, 0], episode.bids[:, 0].argmax(1))
    np.testing.assert_array_equal(episode.images[:, 0], held.images[:5, 0].numpy())
    again = apply_primitives(apply_primitives(held.images[:5], torch.as_tensor(
        episode.actions[:, 0])), torch.as_tensor(episode.actions[:, 1]))
    np.testing.assert_allclose(episode.images[:, 2], again[:, 0].numpy())
    np.testing.assert_array_equal(episode.rewards, episode.predictions == episode.labels)
    mono = replay(make_monolithic(), held.images[:5], held.labels[:5], classifier)
    assert np.isnan(mono.bids).all()
    with pytest.raises(ValueError, match="canvases"):
        replay(society, held.images[:5, 0], held.labels[:5], classifier)
    with pytest.raises(ValueError, match="one label per image"):
        replay(society, held.images[:5], held.labels[:4], classifier)
