"""Small deterministic tabular MDPs from the cloned-Vickrey-society experiments.

Each task is a table: ``transitions[s, a]`` is the next state and ``rewards[s, a]`` the
reward for taking action ``a`` in state ``s``. Episodes start in ``start_state`` and end when
a ``terminal`` state is reached or after ``max_steps`` steps (a time limit: the state reached
then is *not* terminal, and learners bootstrap from it).

The three tasks follow the authors' published code (Chang et al., ICML 2020, repository
``mbchang/decentralized-rl``):

* ``bandit``: one state, four arms paying 0.2, 0.4, 0.6, 0.8; every episode is one step.
* ``chain``: six states in a line, actions left/right (walls keep you in place), reward 0.8
  for stepping onto the right end, which is terminal; start at the left end; 20 steps at most.
* ``duality``: states 0 and 1 and an absorbing state 2. From 0: action 0 falls into 2
  (reward 0), action 1 goes to 1 (reward 0.5). From 1: action 0 returns to 0 (0.5), action 1
  stays (0.3). State 2 pays -1 per step forever. No terminal state; 10 steps per episode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..contracts import Array
from ..exercises import exercise
from ..validation import (
    as_bool_array,
    as_float_array,
    as_index_array,
    check_float,
    check_int,
)

TASKS = ("bandit", "chain", "duality")


@dataclass(frozen=True)
class TabularMDP:
    """A deterministic tabular MDP.

    Attributes
    ----------
    name : str
    transitions : np.ndarray of int, shape (n_states, n_actions)
    rewards : np.ndarray of float, shape (n_states, n_actions)
    terminal : np.ndarray of bool, shape (n_states,)
        Reaching a terminal state ends the episode; its value is 0.
    start_state : int
    max_steps : int
        Time limit of an episode.
    action_names : tuple of str
    """

    name: str
    transitions: np.ndarray
    rewards: np.ndarray
    terminal: np.ndarray
    start_state: int
    max_steps: int
    action_names: tuple[str, ...]

    def __post_init__(self) -> None:
        t = as_index_array(self.transitions, "transitions", minimum=None)
        r = as_float_array(self.rewards, "rewards", finite=True)
        term = as_bool_array(self.terminal, "terminal", zero_one=False)
        check_int("max_steps", self.max_steps, 1)
        check_int("start_state", self.start_state, 0)
        object.__setattr__(self, "transitions", t)
        object.__setattr__(self, "rewards", r)
        object.__setattr__(self, "terminal", term)
        if t.ndim != 2 or r.shape != t.shape:
            raise ValueError(f"transitions and rewards must share shape (S, A), got {t.shape}, "
                             f"{r.shape}")
        if t.min() < 0 or t.max() >= t.shape[0]:
            raise ValueError("transitions must name states in [0, n_states)")
        if term.shape != (t.shape[0],):
            raise ValueError(f"terminal must have shape ({t.shape[0]},), got {term.shape}")
        if not 0 <= self.start_state < t.shape[0] or term[self.start_state]:
            raise ValueError("start_state must be a non-terminal state")
        if isinstance(self.action_names, str) or len(self.action_names) != t.shape[1]:
            raise ValueError("one action name per action")

    @property
    def n_states(self) -> int:
        return self.transitions.shape[0]

    @property
    def n_actions(self) -> int:
        return self.transitions.shape[1]


def make_task(name: str) -> TabularMDP:
    """One of ``TASKS``: ``"bandit"``, ``"chain"`` or ``"duality"`` (see the module docstring)."""
    if not isinstance(name, str):
        raise TypeError(f"task name must be a string, one of {TASKS}, got {name!r}")
    if name == "bandit":
        # State 1 is the terminal state every arm leads to.
        return TabularMDP("bandit", np.array([[1, 1, 1, 1], [1, 1, 1, 1]]),
                          np.array([[0.2, 0.4, 0.6, 0.8], [0.0, 0.0, 0.0, 0.0]]),
                          np.array([False, True]), 0, 1, ("arm 0", "arm 1", "arm 2", "arm 3"))
    if name == "chain":
        n = 6
        transitions = np.array([[max(s - 1, 0), min(s + 1, n - 1)] for s in range(n)])
        transitions[n - 1] = n - 1
        rewards = np.zeros((n, 2))
        rewards[n - 2, 1] = 0.8
        terminal = np.zeros(n, dtype=bool)
        terminal[n - 1] = True
        return TabularMDP("chain", transitions, rewards, terminal, 0, 20, ("left", "right"))
    if name == "duality":
        return TabularMDP("duality", np.array([[2, 1], [0, 1], [2, 2]]),
                          np.array([[0.0, 0.5], [0.5, 0.3], [-1.0, -1.0]]),
                          np.zeros(3, dtype=bool), 0, 10, ("action 0", "action 1"))
    raise ValueError(f"unknown task {name!r}; expected one of {TASKS}")


def _check_vi_args(mdp: TabularMDP, gamma: float, tol: float = 1e-10,
                   max_iterations: int = 100_000) -> dict:
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a TabularMDP (see make_task), got {type(mdp).__name__}")
    gamma = check_float("gamma", gamma)
    if not 0.0 <= gamma < 1.0:
        raise ValueError(f"gamma must lie in [0, 1) for value iteration to converge, got {gamma}")
    return {"mdp": mdp, "gamma": gamma, "tol": check_float("tol", tol, positive=True),
            "max_iterations": check_int("max_iterations", max_iterations, 1)}


@exercise("3.3", title="Value iteration for Q*", validate=_check_vi_args,
          returns=Array(lambda a: np.shape(a["mdp"].rewards)))
def value_iteration(mdp: TabularMDP, gamma: float, tol: float = 1e-10,
                    max_iterations: int = 100_000) -> np.ndarray:
    """Optimal action values of a deterministic tabular MDP (infinite horizon, discount gamma).

    Repeat the Bellman optimality update until the largest change is below ``tol``:

        Q(s, a) <- r(s, a) + gamma * max_a' Q(s', a')   with s' = transitions[s, a],

    where the value of a terminal next state is 0, and the rows of terminal states are 0.

    Parameters
    ----------
    mdp : TabularMDP
    gamma : float in [0, 1)
    tol : float
    max_iterations : int

    Returns
    -------
    np.ndarray, shape (n_states, n_actions)
    """
    # TODO(exercise 3.3): apply the Bellman update to the whole table at once until it stops
    # changing; terminal states are worth 0.
    raise NotImplementedError
