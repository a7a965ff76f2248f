"""Public tests for chapter 4's Two Rooms environment (``course_lib.envs.two_rooms``).

No exercise here: these tests check the environment the PPO and options chapters train on,
its gymnasium registration, the compact observation and the four actions the learners use.
Scripted episodes drive the agent with turn/forward actions along a shortest path.
"""

from __future__ import annotations

from collections import deque

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from course_lib.envs.two_rooms import (
    ENV_IDS,
    CompactObservation,
    TwoRoomsEnv,
    make_two_rooms,
)

LEFT, RIGHT, FORWARD, TOGGLE = 0, 1, 2, 3
# MiniGrid's directions: 0 east (+x), 1 south (+y), 2 west (-x), 3 north (-y).
STEP = {0: (1, 0), 1: (0, 1), 2: (-1, 0), 3: (0, -1)}
SEEDS = [0, 1, 2, 7, 42]


class Driver:
    """Steps a compact Two Rooms environment and keeps count of the steps taken."""

    def __init__(self, env):
        self.env, self.base = env, env.unwrapped
        self.steps = 0
        self.last = None  # (obs, reward, terminated, truncated, info) of the last step
        self.rewards = []

    def act(self, action):
        assert self.last is None or not (self.last[2] or self.last[3]), "episode already over"
        self.last = self.env.step(action)
        self.steps += 1
        self.rewards.append(self.last[1])
        return self.last

    def face(self, direction):
        while self.base.agent_dir != direction:
            turn = LEFT if (direction - self.base.agent_dir) % 4 == 3 else RIGHT
            before = self.base.agent_dir
            self.act(turn)
            assert self.base.agent_dir == (before + (1 if turn == RIGHT else -1)) % 4

    def path_to(self, goal):
        """Shortest path (a list of cells) from the agent to ``goal`` through free cells and
        open doors; ``goal`` itself may be a goal tile. Breadth first, neighbours in a fixed
        order, so the path is deterministic."""
        start = tuple(int(c) for c in self.base.agent_pos)
        previous = {start: None}
        queue = deque([start])
        while queue:
            cell = queue.popleft()
            if cell == goal:
                break
            for dx, dy in STEP.values():
                nxt = (cell[0] + dx, cell[1] + dy)
                if nxt in previous or not (0 <= nxt[0] < self.base.width
                                           and 0 <= nxt[1] < self.base.height):
                    continue
                obj = self.base.grid.get(*nxt)
                free = obj is None or (obj.type == "door" and obj.is_open)
                if free or nxt == goal:
                    previous[nxt] = cell
                    queue.append(nxt)
        assert goal in previous, f"no path from {start} to {goal}"
        path, cell = [], goal
        while cell != start:
            path.append(cell)
            cell = previous[cell]
        return path[::-1]

    def walk_to(self, goal):
        """Turn and step forward along a shortest path; stop early if the episode ends."""
        for cell in self.path_to(goal):
            x, y = (int(c) for c in self.base.agent_pos)
            direction = next(d for d, v in STEP.items() if (x + v[0], y + v[1]) == cell)
            self.face(direction)
            self.act(FORWARD)
            assert tuple(int(c) for c in self.base.agent_pos) == cell
            if self.last[2] or self.last[3]:
                break
        return self.last

    def open_door(self):
        """Walk to the cell west of the door, face it and toggle."""
        door_x, door_y = self.base.door_pos
        self.walk_to((door_x - 1, door_y))
        self.face(0)
        return self.act(TOGGLE)


def expected_reward(steps, max_steps):
    return 1 - 0.9 * steps / max_steps


def layout(room_size):
    """Door and goal cells worked out from the module docstring."""
    width = 2 * room_size - 1
    door = (room_size - 1, room_size // 2)
    return door, {"green": (width - 2, 1), "blue": (width - 2, room_size - 2)}


# ======================================================================================
# Registration, the gymnasium checker and rendering
# ======================================================================================


# The checker also renders every declared mode, "human" included: no window on a headless
# machine (pygame's dummy video driver), and MiniGrid's font fallback is not our concern.
@pytest.mark.filterwarnings("ignore:The system font:UserWarning")
@pytest.mark.parametrize("target", ["green", "blue", "door"])
def test_registered_ids_pass_the_gymnasium_checker(target, monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    env_id = ENV_IDS[target]
    assert env_id == f"MarketsOfAgents/TwoRooms-{target.capitalize()}-v0"
    env = gymnasium.make(env_id)
    try:
        assert isinstance(env.unwrapped, TwoRoomsEnv)
        assert env.unwrapped.target == target
        check_env(env.unwrapped)
    finally:
        env.close()


def test_all_three_ids_are_registered():
    assert set(ENV_IDS) == {"green", "blue", "door"}
    for env_id in ENV_IDS.values():
        assert env_id in gymnasium.registry


@pytest.mark.parametrize("room_size", [5, 6])
def test_render_rgb_array(room_size):
    env = gymnasium.make(ENV_IDS["green"], render_mode="rgb_array", room_size=room_size)
    try:
        env.reset(seed=0)
        image = env.render()
    finally:
        env.close()
    assert isinstance(image, np.ndarray)
    assert image.ndim == 3 and image.shape[2] == 3
    assert image.dtype == np.uint8
    height, width = image.shape[:2]
    # Square tiles: the image has the grid's proportions (room_size x (2 room_size - 1)).
    assert height * (2 * room_size - 1) == width * room_size
    assert image.max() > image.min()  # not a blank picture


# ======================================================================================
# Layout, reset and the compact observation
# ======================================================================================


@pytest.mark.parametrize("room_size", [4, 5, 7])
def test_layout(room_size):
    env = make_two_rooms("green", room_size=room_size)
    env.reset(seed=0)
    base = env.unwrapped
    door, goals = layout(room_size)
    assert (base.width, base.height) == (2 * room_size - 1, room_size)
    assert base.max_steps == 4 * room_size**2
    assert tuple(base.door_pos) == door
    obj = base.grid.get(*door)
    assert obj.type == "door" and obj.color == "red" and not obj.is_open and not obj.is_locked
    for color, pos in goals.items():
        obj = base.grid.get(*pos)
        assert obj.type == "goal" and obj.color == color
    # The wall between the rooms is solid except for the door.
    for y in range(room_size):
        obj = base.grid.get(room_size - 1, y)
        assert obj.type == ("door" if y == door[1] else "wall")


def test_reset_puts_the_agent_in_the_near_room_and_is_reproducible():
    env = make_two_rooms("green")
    starts = set()
    for seed in range(40):
        obs, _ = env.reset(seed=seed)
        x, y = (int(c) for c in env.unwrapped.agent_pos)
        assert 1 <= x <= 3 and 1 <= y <= 3
        starts.add((x, y, int(env.unwrapped.agent_dir)))
        again, _ = env.reset(seed=seed)
        np.testing.assert_array_equal(obs, again)
    assert len(starts) > 10  # the start cell and direction are random


def check_compact(obs, base):
    """The compact observation exactly as documented."""
    n_cells = base.width * base.height
    assert obs.shape == (n_cells + 5,) and obs.dtype == np.float32
    x, y = (int(c) for c in base.agent_pos)
    expected = np.zeros(n_cells + 5, dtype=np.float32)
    expected[y * base.width + x] = 1.0
    expected[n_cells + int(base.agent_dir)] = 1.0
    expected[-1] = 1.0 if base.grid.get(*base.door_pos).is_open else 0.0
    np.testing.assert_array_equal(obs, expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_compact_observation_is_one_hot_as_documented(seed):
    env = make_two_rooms("green")
    obs, _ = env.reset(seed=seed)
    assert env.observation_space.shape == (50,)
    assert env.observation_space.contains(obs)
    check_compact(obs, env.unwrapped)
    assert obs[:45].sum() == 1 and obs[45:49].sum() == 1 and obs[49] == 0
    rng = np.random.default_rng(seed)
    for _ in range(60):
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(4)))
        check_compact(obs, env.unwrapped)
        if terminated or truncated:
            obs, _ = env.reset()
            check_compact(obs, env.unwrapped)


def test_compact_observation_by_hand():
    env = make_two_rooms("green")
    env.reset(seed=0)
    driver = Driver(env)
    driver.walk_to((2, 3))
    driver.face(3)  # north
    obs, *_ = driver.act(LEFT)  # now facing west
    assert np.flatnonzero(obs).tolist() == [3 * 9 + 2, 45 + 2]
    obs, *_ = driver.open_door()  # now at (3, 2) facing east, the door open
    assert np.flatnonzero(obs).tolist() == [2 * 9 + 3, 45 + 0, 49]


def test_door_open_at_start():
    env = make_two_rooms("green", door_open=True)
    obs, _ = env.reset(seed=0)
    assert env.unwrapped.grid.get(*env.unwrapped.door_pos).is_open
    assert obs[-1] == 1.0


def test_compact_action_space_is_the_four_primitive_actions():
    env = make_two_rooms("blue")
    assert env.action_space == gymnasium.spaces.Discrete(4)
    assert make_two_rooms("blue", compact=False).action_space.n == 7  # MiniGrid's own


@pytest.mark.parametrize("action", [4, 6, -1, 2.5, "forward", None, [2]])
def test_compact_rejects_invalid_actions(action):
    env = make_two_rooms("green")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(action)


def test_compact_accepts_numpy_integers():
    env = make_two_rooms("green")
    env.reset(seed=0)
    direction = env.unwrapped.agent_dir
    env.step(np.int64(RIGHT))
    assert env.unwrapped.agent_dir == (direction + 1) % 4


# ======================================================================================
# Scripted episodes
# ======================================================================================


@pytest.mark.parametrize("room_size", [5, 7])
@pytest.mark.parametrize("seed", SEEDS)
def test_open_the_door_and_reach_the_green_goal(seed, room_size):
    env = make_two_rooms("green", room_size=room_size)
    env.reset(seed=seed)
    driver = Driver(env)
    _, goals = layout(room_size)
    obs, reward, terminated, truncated, info = driver.open_door()
    assert reward == 0.0 and not terminated and not truncated
    assert info["door_open"] is True and obs[-1] == 1.0
    obs, reward, terminated, truncated, info = driver.walk_to(goals["green"])
    assert terminated and not truncated
    assert info["reached"] == "green"
    max_steps = 4 * room_size**2
    assert 0 < reward <= 1
    assert reward == pytest.approx(expected_reward(driver.steps, max_steps), abs=1e-9)
    assert driver.steps == env.unwrapped.step_count
    assert all(r == 0 for r in driver.rewards[:-1])


@pytest.mark.parametrize("seed", SEEDS)
def test_the_wrong_goal_ends_the_episode_with_nothing(seed):
    env = make_two_rooms("green")
    env.reset(seed=seed)
    driver = Driver(env)
    driver.open_door()
    _, reward, terminated, truncated, info = driver.walk_to(layout(5)[1]["blue"])
    assert terminated and not truncated
    assert reward == 0.0
    assert info["reached"] == "blue"


@pytest.mark.parametrize(("goal", "rewarded"), [("blue", True), ("green", False)])
def test_blue_task(goal, rewarded):
    env = make_two_rooms("blue")
    env.reset(seed=3)
    driver = Driver(env)
    driver.open_door()
    _, reward, terminated, _, info = driver.walk_to(layout(5)[1][goal])
    assert terminated and info["reached"] == goal
    if rewarded:
        assert reward == pytest.approx(expected_reward(driver.steps, 100), abs=1e-9)
    else:
        assert reward == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_door_task_ends_right_after_the_door_opens(seed):
    env = make_two_rooms("door")
    env.reset(seed=seed)
    driver = Driver(env)
    door, _ = layout(5)
    driver.walk_to((door[0] - 1, door[1]))
    driver.face(0)
    assert all(r == 0 for r in driver.rewards)  # (Driver.act checks no episode ended)
    obs, reward, terminated, truncated, info = driver.act(TOGGLE)
    assert terminated and not truncated
    assert info["door_open"] is True and obs[-1] == 1.0
    assert 0 < reward <= 1
    assert reward == pytest.approx(expected_reward(driver.steps, 100), abs=1e-9)


def test_door_task_in_gymnasium_make_form():
    env = gymnasium.make(ENV_IDS["door"])
    try:
        compact = CompactObservation(env)
        compact.reset(seed=0)
        driver = Driver(compact)
        _, reward, terminated, _, _ = driver.open_door()
        assert terminated and reward == pytest.approx(expected_reward(driver.steps, 100))
    finally:
        env.close()


def test_closed_door_blocks_the_way_and_toggling_twice_closes_it():
    env = make_two_rooms("green")
    env.reset(seed=0)
    driver = Driver(env)
    door, _ = layout(5)
    driver.walk_to((door[0] - 1, door[1]))
    driver.face(0)
    _, _, terminated, _, _ = driver.act(FORWARD)
    assert not terminated
    assert tuple(int(c) for c in env.unwrapped.agent_pos) == (door[0] - 1, door[1])
    assert driver.act(TOGGLE)[0][-1] == 1.0
    assert driver.act(TOGGLE)[0][-1] == 0.0
    assert driver.last[4]["door_open"] is False
    driver.act(FORWARD)
    assert tuple(int(c) for c in env.unwrapped.agent_pos) == (door[0] - 1, door[1])


def test_walls_block_the_agent():
    env = make_two_rooms("green")
    env.reset(seed=0)
    driver = Driver(env)
    driver.walk_to((1, 1))
    driver.face(3)  # north, into the outer wall
    driver.act(FORWARD)
    assert tuple(int(c) for c in env.unwrapped.agent_pos) == (1, 1)


def test_time_limit_truncates():
    env = make_two_rooms("green", max_steps=5)
    env.reset(seed=0)
    for step in range(1, 6):
        _, reward, terminated, truncated, _ = env.step(LEFT)
        assert reward == 0.0 and not terminated
        assert truncated == (step == 5)


# ======================================================================================
# Bad arguments
# ======================================================================================


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"target": "red"}, ValueError, "target"),
    ({"target": "Green"}, ValueError, "target"),
    ({"target": 3}, TypeError, "target"),
    ({"room_size": 3}, ValueError, "room_size"),
    ({"room_size": 5.0}, TypeError, "room_size"),
    ({"door_open": "yes"}, TypeError, "door_open"),
    ({"door_open": 1}, TypeError, "door_open"),
    ({"max_steps": 0}, ValueError, "max_steps"),
    ({"max_steps": 10.5}, TypeError, "max_steps"),
])
def test_bad_constructor_arguments(kwargs, error, name):
    with pytest.raises(error, match=name):
        TwoRoomsEnv(**kwargs)
    with pytest.raises(error, match=name):
        make_two_rooms(**kwargs)


def test_compact_observation_wraps_only_two_rooms():
    other = gymnasium.make("CartPole-v1")
    try:
        with pytest.raises(TypeError, match="TwoRoomsEnv"):
            CompactObservation(other)
    finally:
        other.close()


def test_door_task_with_an_open_door_is_refused_and_bool_actions_too():
    import numpy as np

    from course_lib.envs.two_rooms import make_two_rooms

    with pytest.raises(ValueError, match="closed door"):
        make_two_rooms("door", door_open=True)
    env = make_two_rooms("green")
    env.reset(seed=0)
    for bad in (True, np.bool_(False)):
        with pytest.raises(ValueError):
            env.step(bad)


def test_pixels_observation_is_minigrids_egocentric_image_scaled():
    from course_lib.envs.two_rooms import IMAGE_SCALE

    env = make_two_rooms("green", observation="pixels")
    obs, _ = env.reset(seed=3)
    assert env.image_shape == (7, 7, 3)
    assert obs.shape == env.observation_space.shape == (147,) and obs.dtype == np.float32
    assert env.observation_space.contains(obs)
    raw = env.unwrapped.gen_obs()["image"]
    np.testing.assert_allclose(obs.reshape(7, 7, 3), raw / IMAGE_SCALE, rtol=1e-6)
    # The agent's own cell (bottom middle of the view) is empty floor or the agent's square.
    obs, *_ = env.step(2)
    np.testing.assert_allclose(obs.reshape(7, 7, 3), env.unwrapped.gen_obs()["image"]
                               / IMAGE_SCALE, rtol=1e-6)
    # The compact state is still available, and equals the compact view's observation.
    twin = make_two_rooms("green")
    twin.reset(seed=3)
    twin.step(2)
    np.testing.assert_array_equal(env.compact(), twin.encode())


def test_pixels_view_differs_when_the_door_opens():
    env = make_two_rooms("green", observation="pixels")
    env.reset(seed=0)
    base = env.unwrapped
    base.agent_pos, base.agent_dir = (base.door_pos[0] - 1, base.door_pos[1]), 0
    closed = env.step(0)[0]  # turn left then right: the same place, a fresh image
    closed = env.step(1)[0]
    opened = env.step(3)[0]  # toggle: the door in front opens
    assert base.door.is_open and not np.array_equal(closed, opened)


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"observation": "rgb"}, ValueError), ({"observation": 1}, TypeError),
    ({"compact": "no"}, TypeError)])
def test_make_two_rooms_rejects_bad_views(kwargs, error):
    with pytest.raises(error):
        make_two_rooms("green", **kwargs)
