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
observed vector the course's learners use by default, or (``observation="pixels"``) into
MiniGrid's own 7 x 7 egocentric image, the input of the authors' CNNs (see its docstring).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from minigrid.core.actions import Actions
from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX, STATE_TO_IDX
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
OBSERVATIONS = ("compact", "pixels")
# MiniGrid's image holds (object type, colour, state) indices per cell; dividing by their
# largest values puts every channel in [0, 1].
IMAGE_SCALE = np.array([max(OBJECT_TO_IDX.values()), max(COLOR_TO_IDX.values()),
                        max(STATE_TO_IDX.values())], dtype=np.float32)


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
    """The four actions the learners use, and one of two views of Two Rooms.

    ``observation="compact"`` (default; float32 vector): one-hot of the agent's cell
    (``width * height``), one-hot of its direction (4) and whether the door is open (1) — 50
    numbers for room size 5. In this environment nothing else ever changes (the goals do not
    move), so the vector is the whole state; small networks learn quickly from it on a CPU.

    ``observation="pixels"``: MiniGrid's own observation, the 7 x 7 cells in front of the agent
    (egocentric, partial), each as (object type, colour, state) scaled to [0, 1] by
    ``IMAGE_SCALE``; flattened to 147 numbers (``image_shape`` gives (7, 7, 3)). A network
    must learn from it where it stands, as the authors' CNN bidders did.

    Actions: 0 turn left, 1 turn right, 2 forward, 3 toggle (open/close the door).
    """

    def __init__(self, env: gym.Env, observation: str = "compact") -> None:
        super().__init__(env)
        base = env.unwrapped
        if not isinstance(base, TwoRoomsEnv):
            raise TypeError("CompactObservation wraps a TwoRoomsEnv")
        self.observation = check_choice("observation", observation, OBSERVATIONS)
        self.n_cells = base.width * base.height
        view = base.agent_view_size
        self.image_shape = (view, view, len(IMAGE_SCALE))
        size = self.n_cells + 5 if self.observation == "compact" else int(np.prod(self.image_shape))
        self.observation_space = spaces.Box(0.0, 1.0, (size,), dtype=np.float32)
        self.action_space = spaces.Discrete(len(PRIMITIVE_ACTIONS))
        self._image: np.ndarray | None = None

    def compact(self) -> np.ndarray:
        """The compact vector of the current state (whatever ``observation`` is)."""
        base = self.env.unwrapped
        x, y = base.agent_pos
        obs = np.zeros(self.n_cells + 5, dtype=np.float32)
        obs[y * base.width + x] = 1.0
        obs[self.n_cells + base.agent_dir] = 1.0
        obs[-1] = float(base.door.is_open)
        return obs

    def pixels(self) -> np.ndarray:
        """The scaled, flattened egocentric image of the current state."""
        if self._image is None:
            raise RuntimeError("call reset() before reading the image")
        return (self._image / IMAGE_SCALE).astype(np.float32).reshape(-1)

    def encode(self) -> np.ndarray:
        return self.compact() if self.observation == "compact" else self.pixels()

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        raw, info = self.env.reset(**kwargs)
        self._image = raw["image"]
        return self.encode(), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if isinstance(action, (bool, np.bool_)) or not self.action_space.contains(action):
            raise ValueError(f"action must be one of 0..3 ({', '.join(ACTION_NAMES)}), "
                             f"got {action!r}")
        raw, reward, terminated, truncated, info = self.env.step(PRIMITIVE_ACTIONS[int(action)])
        self._image = raw["image"]
        return self.encode(), reward, terminated, truncated, info


def make_two_rooms(target: str = "green", compact: bool = True, observation: str = "compact",
                   **kwargs: Any) -> gym.Env:
    """A Two Rooms environment behind ``CompactObservation(observation)``, or MiniGrid's raw
    environment when ``compact=False``."""
    if not isinstance(compact, bool):
        raise TypeError(f"compact must be True or False, got {compact!r}")
    observation = check_choice("observation", observation, OBSERVATIONS)
    env = TwoRoomsEnv(target=target, **kwargs)
    return CompactObservation(env, observation) if compact else env


def register_envs() -> None:
    """Register the three variants with gymnasium (safe to call more than once)."""
    for target, env_id in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point="course_lib.envs.two_rooms:TwoRoomsEnv",
                         kwargs={"target": target})


register_envs()
