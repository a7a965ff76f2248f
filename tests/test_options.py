"""The Two Rooms options (course_lib/options.py)."""

from __future__ import annotations

import pytest
import torch

from course_lib.envs.two_rooms import make_two_rooms
from course_lib.options import (
    DATA_FILE,
    OPTION_NAMES,
    RETRAIN,
    evaluate_option,
    load_options,
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
