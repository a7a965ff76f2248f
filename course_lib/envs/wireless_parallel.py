"""The wireless network of chapter 6 behind PettingZoo's standard multi-agent interface.

``WirelessParallelEnv`` is a ``pettingzoo.ParallelEnv`` over one copy of the network: agents
``"user_0"`` ... ``"user_23"``, each observing its own queue (``MultiBinary(d)``) and choosing
from ``Discrete(1 + d * reach)``: 0 waits, ``1 + slot * reach + r`` sends ``slot`` to its
r-th access point. Episodes end by the time limit (``truncations``) after ``grid.horizon``
steps. The course's learners use the batched ``WirelessNetwork`` directly; this wrapper is for
code written against PettingZoo.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from .wireless import MAX_REACH, WirelessGrid, WirelessNetwork, make_grid


class WirelessParallelEnv(ParallelEnv):
    metadata = {"name": "markets_of_agents_wireless_v0", "render_modes": []}

    def __init__(self, grid: WirelessGrid | None = None, link_prob: float = 0.0) -> None:
        self.grid = grid if grid is not None else make_grid()
        self.network = WirelessNetwork(self.grid, 1, link_prob)
        self.possible_agents = [f"user_{i}" for i in range(self.grid.n_users)]
        self.agents: list[str] = []
        self.render_mode = None
        reach = self.grid.access.sum(1)
        self._reach = {a: int(reach[i]) for i, a in enumerate(self.possible_agents)}
        self._observation_spaces = {a: spaces.MultiBinary(self.grid.deadline)
                                    for a in self.possible_agents}
        self._action_spaces = {a: spaces.Discrete(1 + self.grid.deadline * self._reach[a])
                               for a in self.possible_agents}

    def observation_space(self, agent: str) -> spaces.Space:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self._action_spaces[agent]

    def _observations(self, queues: np.ndarray) -> dict[str, np.ndarray]:
        return {a: queues[0, i].astype(np.int8) for i, a in enumerate(self.possible_agents)}

    def reset(self, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        self.agents = list(self.possible_agents)
        queues = self.network.reset(seed)
        return self._observations(queues), {a: {} for a in self.agents}

    def _global_action(self, agent: str, action: Any) -> int:
        if agent not in self._action_spaces:
            raise ValueError(f"unknown agent {agent!r}")
        if isinstance(action, (bool, np.bool_)) or not self._action_spaces[agent].contains(
                action):
            raise ValueError(f"{agent} chose {action!r}; its actions are 0 (wait) to "
                             f"{self._action_spaces[agent].n - 1}")
        if action == 0:
            return 0
        slot, r = divmod(int(action) - 1, self._reach[agent])
        return 1 + slot * MAX_REACH + r

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise RuntimeError("the episode has ended; call reset()")
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict from agent names to actions, got "
                            f"{type(actions).__name__}")
        missing = set(self.agents) - set(actions)
        if missing:
            raise ValueError(f"every agent must act; actions is missing {sorted(missing)[:4]}")
        unknown = set(actions) - set(self.agents)
        if unknown:
            raise ValueError(f"actions names agents that are not in the episode: "
                             f"{sorted(map(str, unknown))[:4]}")
        joint = np.array([[self._global_action(a, actions[a]) for a in self.possible_agents]])
        queues, rewards, done = self.network.step(joint)
        agents = list(self.agents)
        if done:
            self.agents = []
        return (self._observations(queues),
                {a: float(rewards[0, i]) for i, a in enumerate(agents)},
                {a: False for a in agents}, {a: bool(done) for a in agents},
                {a: {} for a in agents})
