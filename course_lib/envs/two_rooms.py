"""Two Rooms on MiniGrid: a near room and a far room joined by a closed, unlocked red door.

The agent starts in the near (left) room; a green and a blue goal tile wait in the far room.
Task variants:

* ``target="green"`` (pre-training) and ``target="blue"`` (transfer): reaching the target goal
  ends the episode with MiniGrid's usual reward ``1 - 0.9 * steps / max_steps``; stepping onto
  the *other* goal ends it with reward 0.
* ``target="door"``: the episode ends, with the same reward shape, as soon as the red door is
  open (used to pre-train the "open the red door" option).

Layout (room size 5, so each room has 3 x 3 free cells): the door sits in the middle of the
wall between the rooms; the green goal is in the far room's top-right corner, the blue goal
in its bottom-right corner. The agent's start cell and direction in the near room are random.

Registered with gymnasium as ``MarketsOfAgents/TwoRooms-Green-v0``, ``-Blue-v0`` and
``-Door-v0``. ``CompactObservation`` turns MiniGrid's observation into the small fully
observed vector the course's learners use (see its docstring).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from minigrid.core.actions import Actions
from minigrid.core.grid import Grid
from minigrid.core.mission import MissionSpace
from minigrid.core.world_object import Door, Goal
from minigrid.minigrid_env import MiniGridEnv

from ..validation import check_choice, check_int

TARGETS = ("green", "blue", "door")
ENV_IDS = {target: f"MarketsOfAgents/TwoRooms-{target.capitalize()}-v0" for target in TARGETS}
# The learners use four of MiniGrid's seven actions.
PRIMITIVE_ACTIONS = (Actions.left, Actions.right, Actions.forward, Actions.toggle)
ACTION_NAMES = ("turn left", "turn right", "forward", "toggle")


def _mission(target: str) -> str:
    return "open the red door" if target == "door" else f"get to the {target} goal square"


class TwoRoomsEnv(MiniGridEnv):
    """Two rooms side by side, a red door between them, green and blue goals in the far room.

    Parameters
    ----------
    target : {"green", "blue", "door"}
    room_size : int
        Side of each room including its walls (>= 4).
    door_open : bool
        Start with the door already open (used to pre-train the goal-reaching options).
    max_steps : int, optional
        Defaults to ``4 * room_size**2``.
    """

    def __init__(self, target: str = "green", room_size: int = 5, door_open: bool = False,
                 max_steps: int | None = None, **kwargs: Any) -> None:
        self.target = check_choice("target", target, TARGETS)
        self.room_size = check_int("room_size", room_size, 4)
        if not isinstance(door_open, bool):
            raise TypeError(f"door_open must be True or False, got {door_open!r}")
        if door_open and self.target == "door":
            raise ValueError("the door task needs a closed door (door_open=False)")
        self.door_open_at_start = door_open
        width = 2 * room_size - 1
        mission = _mission(self.target)
        super().__init__(
            mission_space=MissionSpace(mission_func=lambda: mission),
            width=width, height=room_size,
            max_steps=check_int("max_steps", max_steps, 1) if max_steps is not None
            else 4 * room_size**2,
            see_through_walls=True, **kwargs)

    # Positions are (x, y) = (column, row).
    @property
    def door_pos(self) -> tuple[int, int]:
        return (self.room_size - 1, self.room_size // 2)

    @property
    def goal_pos(self) -> dict[str, tuple[int, int]]:
        far = self.width - 2
        return {"green": (far, 1), "blue": (far, self.room_size - 2)}

    def _gen_grid(self, width: int, height: int) -> None:
        self.grid = Grid(width, height)
        self.grid.wall_rect(0, 0, width, height)
        self.grid.vert_wall(self.room_size - 1, 0, height)
        self.door = Door("red", is_open=self.door_open_at_start, is_locked=False)
        self.grid.set(*self.door_pos, self.door)
        for color, pos in self.goal_pos.items():
            self.grid.set(*pos, Goal(color))
        self.place_agent(top=(1, 1), size=(self.room_size - 2, self.room_size - 2))
        self.mission = _mission(self.target)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)
        cell = self.grid.get(*self.agent_pos)
        if terminated and cell is not None and cell.type == "goal":
            info["reached"] = cell.color
            if cell.color != self.target:  # the wrong goal (or any goal on the door task)
                reward = 0.0
        if self.target == "door" and not terminated and self.door.is_open:
            terminated, reward = True, self._reward()
        info["door_open"] = bool(self.door.is_open)
        return obs, float(reward), terminated, truncated, info


class CompactObservation(gym.Wrapper):
    """A small, fully observed view of Two Rooms, and the four actions the learners use.

    Observation (float32 vector): one-hot of the agent's cell (``width * height``), one-hot of
    its direction (4) and whether the door is open (1) — 50 numbers for room size 5. In this
    environment nothing else ever changes (the goals do not move), so the vector is the whole
    state; it is far smaller than MiniGrid's image, so small networks learn quickly on a CPU.

    Actions: 0 turn left, 1 turn right, 2 forward, 3 toggle (open/close the door).
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        base = env.unwrapped
        if not isinstance(base, TwoRoomsEnv):
            raise TypeError("CompactObservation wraps a TwoRoomsEnv")
        self.n_cells = base.width * base.height
        self.observation_space = spaces.Box(0.0, 1.0, (self.n_cells + 5,), dtype=np.float32)
        self.action_space = spaces.Discrete(len(PRIMITIVE_ACTIONS))

    def encode(self) -> np.ndarray:
        base = self.env.unwrapped
        x, y = base.agent_pos
        obs = np.zeros(self.observation_space.shape, dtype=np.float32)
        obs[y * base.width + x] = 1.0
        obs[self.n_cells + base.agent_dir] = 1.0
        obs[-1] = float(base.door.is_open)
        return obs

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        _, info = self.env.reset(**kwargs)
        return self.encode(), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if isinstance(action, (bool, np.bool_)) or not self.action_space.contains(action):
            raise ValueError(f"action must be one of 0..3 ({', '.join(ACTION_NAMES)}), "
                             f"got {action!r}")
        _, reward, terminated, truncated, info = self.env.step(PRIMITIVE_ACTIONS[int(action)])
        return self.encode(), reward, terminated, truncated, info


def make_two_rooms(target: str = "green", compact: bool = True, **kwargs: Any) -> gym.Env:
    """A Two Rooms environment (``CompactObservation`` applied unless ``compact=False``)."""
    env = TwoRoomsEnv(target=target, **kwargs)
    return CompactObservation(env) if compact else env


def register_envs() -> None:
    """Register the three variants with gymnasium (safe to call more than once)."""
    for target, env_id in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point="course_lib.envs.two_rooms:TwoRoomsEnv",
                         kwargs={"target": target})


register_envs()
