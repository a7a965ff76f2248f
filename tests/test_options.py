"""The Two Rooms options (course_lib/options.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.envs.two_rooms import make_two_rooms
from course_lib.options import (
    DATA_FILE,
    OPTION_NAMES,
    RETRAIN,
    OptionEnv,
    evaluate_option,
    load_options,
    option_return,
    run_option,
    save_options,
)
from course_lib.ppo import ActorCritic


def test_cached_options_load_and_reach_their_subgoals():
    options = load_options()
    assert [o.name for o in options] == list(OPTION_NAMES)
    for option in options:
        assert evaluate_option(option, episodes=20) >= 0.95, option.name


def test_door_then_green_solves_the_green_task():
    door, _, green = load_options()
    env = make_two_rooms("green")
    wins = 0
    for seed in range(10):
        obs, _ = env.reset(seed=seed)
        first = run_option(env, obs, door)
        assert env.unwrapped.door.is_open and not first.terminated
        second = run_option(env, first.obs, green)
        wins += second.terminated and second.rewards[-1] > 0
        assert first.duration + second.duration == env.unwrapped.step_count
    assert wins == 10


def test_an_option_stops_at_its_cap():
    _, blue, _ = load_options(max_steps=5)
    env = make_two_rooms("green")  # door closed: going to blue cannot succeed
    obs, _ = env.reset(seed=0)
    out = run_option(env, obs, blue)
    assert out.duration == 5 and not out.terminated


def test_missing_or_mismatched_cache_says_how_to_retrain(tmp_path):
    with pytest.raises(FileNotFoundError, match="course_lib.options"):
        load_options(tmp_path / "nope.pt")
    wrong = {t: ActorCritic(7, 4) for t in ("door", "blue", "green")}
    path = tmp_path / "wrong.pt"
    save_options(wrong, path)
    with pytest.raises(ValueError, match="retrain"):
        load_options(path)
    assert RETRAIN.startswith("python -m course_lib.options")
    assert DATA_FILE.name == "two_rooms_options.pt"


def test_run_option_needs_the_compact_wrapper():
    option = load_options()[0]
    with pytest.raises(TypeError):
        run_option(make_two_rooms("green", compact=False), torch.zeros(50).numpy(), option)


def test_option_return_discounts_by_duration():
    total, discount = option_return([0.0, 0.0, 1.0], 0.5)
    assert total == pytest.approx(0.25) and discount == pytest.approx(0.125)
    assert option_return([2.0], 0.9) == (pytest.approx(2.0), pytest.approx(0.9))
    with pytest.raises(ValueError, match="gamma"):
        option_return([1.0], 1.5)


def test_option_env_reports_the_semi_mdp_step():
    options = load_options()
    env = OptionEnv(make_two_rooms("green"), options, 0.9)
    assert env.action_space.n == 3
    obs, _ = env.reset(seed=4)
    obs, reward, terminated, _, info = env.step(0)  # open the door
    assert info["door_open"] and not terminated and reward == 0.0
    assert info["discount"] == pytest.approx(0.9 ** info["duration"])
    assert len(info["option_rewards"]) == info["duration"] == env.env.unwrapped.step_count
    obs, reward, terminated, _, info = env.step(np.int64(2))  # go to green
    assert terminated and info["success"] and info["reached"] == "green"
    assert reward == pytest.approx(0.9 ** (info["duration"] - 1) * info["option_rewards"][-1])


def test_option_env_rejects_bad_use():
    options = load_options()
    env = OptionEnv(make_two_rooms("blue"), options, 0.99)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    for bad in (3, -1, 1.0, True, "0"):
        with pytest.raises(ValueError, match="option id"):
            env.step(bad)
    with pytest.raises(TypeError, match="CompactObservation"):
        OptionEnv(make_two_rooms("blue", compact=False), options, 0.99)
    with pytest.raises(TypeError, match="options"):
        OptionEnv(make_two_rooms("blue"), [], 0.99)
    with pytest.raises(ValueError, match="gamma"):
        OptionEnv(make_two_rooms("blue"), options, -0.5)


def test_frozen_options_remember_their_choices():
    option = load_options()[0]
    env = make_two_rooms("green")
    obs, _ = env.reset(seed=0)
    first = option.action(obs)
    with torch.no_grad():
        expected = int(torch.argmax(option.policy.distribution(torch.as_tensor(obs)).logits))
    assert first == expected == option.action(obs.copy())


def test_option_env_can_show_the_learner_pixels_while_options_read_the_compact_state():
    options = load_options()
    env = OptionEnv(make_two_rooms("green"), options, 0.99, observation="pixels")
    twin = OptionEnv(make_two_rooms("green"), options, 0.99)
    obs, _ = env.reset(seed=5)
    twin.reset(seed=5)
    assert obs.shape == env.observation_space.shape == (147,)
    assert env.image_shape == (7, 7, 3)
    for k in (0, 2):  # open the door, go to green: the same run under both views
        obs, reward, term, _, info = env.step(k)
        _, reward_c, term_c, _, info_c = twin.step(k)
        assert (reward, term, info["duration"]) == (reward_c, term_c, info_c["duration"])
        np.testing.assert_array_equal(obs, env.env.pixels())
    assert info["success"]
    with pytest.raises(TypeError, match="compact"):
        OptionEnv(make_two_rooms("green", observation="pixels"), options, 0.99)
    with pytest.raises(ValueError, match="observation"):
        OptionEnv(make_two_rooms("green"), options, 0.99, observation="rgb")
