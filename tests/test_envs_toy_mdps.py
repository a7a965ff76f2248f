"""Public tests for chapter 3's toy MDPs: exercise 3.3 (value iteration), ``TabularMDP`` and
``make_task``.

Tests marked ``@pytest.mark.exercise("3.3")`` check the exercise; ``course_lib.check("3.3")``
runs them against your own code. Unmarked tests check the tasks themselves and input
validation (which runs before your code).
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.envs.toy_mdps import TASKS, TabularMDP, make_task, value_iteration


def chain_q_star(gamma: float) -> np.ndarray:
    """Q* of the chain by hand: from s, stepping right 4 - s more times reaches the 0.8."""
    q = np.zeros((6, 2))
    v = [0.8 * gamma ** (4 - s) for s in range(5)]  # going right is always best
    for s in range(5):
        q[s, 1] = v[s]
        q[s, 0] = gamma * v[max(s - 1, 0)]
    return q


def bellman_residual(mdp: TabularMDP, q: np.ndarray, gamma: float) -> float:
    """Largest |Q - (r + gamma max Q')| over all pairs, one pair at a time."""
    worst = 0.0
    for s in range(mdp.n_states):
        for a in range(mdp.n_actions):
            if mdp.terminal[s]:
                target = 0.0
            else:
                nxt = int(mdp.transitions[s, a])
                future = 0.0 if mdp.terminal[nxt] else max(q[nxt])
                target = float(mdp.rewards[s, a]) + gamma * future
            worst = max(worst, abs(float(q[s, a]) - target))
    return worst


# ======================================================================================
# 3.3 Value iteration
# ======================================================================================


@pytest.mark.exercise("3.3")
def test_value_iteration_bandit():
    q = value_iteration(make_task("bandit"), 0.99)
    assert isinstance(q, np.ndarray) and q.shape == (2, 4)
    np.testing.assert_allclose(q, [[0.2, 0.4, 0.6, 0.8], [0.0, 0.0, 0.0, 0.0]],
                               rtol=0, atol=1e-9)


@pytest.mark.exercise("3.3")
@pytest.mark.parametrize("gamma", [0.99, 0.9, 0.5])
def test_value_iteration_chain(gamma):
    q = value_iteration(make_task("chain"), gamma)
    assert q.shape == (6, 2)
    np.testing.assert_allclose(q, chain_q_star(gamma), rtol=0, atol=1e-9)


@pytest.mark.exercise("3.3")
def test_value_iteration_chain_spelled_out():
    q = value_iteration(make_task("chain"), 0.99)
    np.testing.assert_allclose(q[:5, 1], [0.8 * 0.99**4, 0.8 * 0.99**3, 0.8 * 0.99**2,
                                          0.8 * 0.99, 0.8], rtol=0, atol=1e-9)
    np.testing.assert_allclose(q[:, 0][:5], [0.99 * 0.8 * 0.99**4, 0.99 * 0.8 * 0.99**4,
                                             0.99 * 0.8 * 0.99**3, 0.99 * 0.8 * 0.99**2,
                                             0.99 * 0.8 * 0.99], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(q[5], [0.0, 0.0])  # the terminal row


@pytest.mark.exercise("3.3")
def test_value_iteration_duality():
    # State 2 pays -1 forever: -1 / (1 - 0.9) = -10. Cycling 0 -> 1 -> 0 earns 0.5 per step:
    # V = 0.5 / (1 - 0.9) = 5 in both states; staying in 1 once is worth 0.3 + 0.9 * 5 = 4.8.
    q = value_iteration(make_task("duality"), 0.9)
    np.testing.assert_allclose(q, [[-9.0, 5.0], [5.0, 4.8], [-10.0, -10.0]], rtol=0, atol=1e-8)


@pytest.mark.exercise("3.3")
@pytest.mark.parametrize("task", TASKS)
def test_value_iteration_satisfies_the_bellman_equation(task):
    mdp = make_task(task)
    q = value_iteration(mdp, 0.95)
    assert bellman_residual(mdp, q, 0.95) < 1e-8


@pytest.mark.exercise("3.3")
def test_value_iteration_loose_tolerance_is_still_close():
    # Stopping when an update changes Q by less than tol leaves it within tol / (1 - gamma)
    # of Q* (a contraction argument); here 0.01 / 0.1 = 0.1.
    q = value_iteration(make_task("duality"), 0.9, tol=0.01)
    exact = np.array([[-9.0, 5.0], [5.0, 4.8], [-10.0, -10.0]])
    assert np.max(np.abs(q - exact)) <= 0.1 + 1e-9
    assert np.max(np.abs(q - exact)) > 1e-6  # it did stop early


@pytest.mark.exercise("3.3")
def test_value_iteration_terminal_rows_are_zero():
    # The terminal state 1 has rewards in its row, but an episode never acts there.
    mdp = TabularMDP("goal", np.array([[1], [1]]), np.array([[1.0], [5.0]]),
                     np.array([False, True]), 0, 3, ("go",))
    np.testing.assert_allclose(value_iteration(mdp, 0.9), [[1.0], [0.0]], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.3")
def test_value_iteration_stops_after_max_iterations_updates():
    """Catches a loop that runs until convergence whatever ``max_iterations`` says: on the
    chain the goal's 0.8 travels back one state per Bellman update."""
    chain = make_task("chain")  # right from state 4 reaches the goal (5) and pays 0.8
    once = value_iteration(chain, 0.9, max_iterations=1)  # one update from Q = 0: the rewards
    np.testing.assert_allclose(once, [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0.8], [0, 0]],
                               rtol=0, atol=1e-12)
    thrice = value_iteration(chain, 0.9, max_iterations=3)
    # V after two updates: 0.8 in state 4, 0.9 * 0.8 = 0.72 in state 3; the start is still 0
    np.testing.assert_allclose(thrice, [[0, 0], [0, 0], [0, 0.648], [0, 0.72], [0.648, 0.8],
                                        [0, 0]], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.3")
def test_value_iteration_leaves_the_mdp_alone():
    """The MDP is left as it was, and the chain's converged Q is right."""
    mdp = make_task("chain")
    rewards, transitions = mdp.rewards.copy(), mdp.transitions.copy()
    q = value_iteration(mdp, 0.9)
    np.testing.assert_array_equal(mdp.rewards, rewards)
    np.testing.assert_array_equal(mdp.transitions, transitions)
    # V = 0.8 * 0.9 ** (4 - s) for s < 5; right earns V(s + 1), left 0.9 * V(s - 1) (or V(0)).
    v = [0.8 * 0.9 ** (4 - s) for s in range(5)]
    left = [0.9 * v[max(s - 1, 0)] for s in range(5)]
    np.testing.assert_allclose(q, [*zip(left, v, strict=True), (0.0, 0.0)], rtol=0, atol=1e-9)


# ======================================================================================
# The tasks and input validation (no exercise code runs)
# ======================================================================================


def test_make_task_bandit():
    mdp = make_task("bandit")
    assert isinstance(mdp, TabularMDP) and mdp.name == "bandit"
    assert (mdp.n_states, mdp.n_actions, mdp.start_state, mdp.max_steps) == (2, 4, 0, 1)
    np.testing.assert_allclose(mdp.rewards[0], [0.2, 0.4, 0.6, 0.8])
    np.testing.assert_array_equal(mdp.transitions[0], [1, 1, 1, 1])
    np.testing.assert_array_equal(mdp.terminal, [False, True])
    assert len(mdp.action_names) == 4


def test_make_task_chain():
    mdp = make_task("chain")
    assert (mdp.n_states, mdp.n_actions, mdp.start_state, mdp.max_steps) == (6, 2, 0, 20)
    np.testing.assert_array_equal(mdp.transitions[:5, 0], [0, 0, 1, 2, 3])  # left, wall at 0
    np.testing.assert_array_equal(mdp.transitions[:5, 1], [1, 2, 3, 4, 5])  # right
    expected_rewards = np.zeros((6, 2))
    expected_rewards[4, 1] = 0.8
    np.testing.assert_allclose(mdp.rewards, expected_rewards)
    np.testing.assert_array_equal(mdp.terminal, [False] * 5 + [True])
    assert mdp.action_names == ("left", "right")


def test_make_task_duality():
    mdp = make_task("duality")
    assert (mdp.n_states, mdp.n_actions, mdp.start_state, mdp.max_steps) == (3, 2, 0, 10)
    np.testing.assert_array_equal(mdp.transitions, [[2, 1], [0, 1], [2, 2]])
    np.testing.assert_allclose(mdp.rewards, [[0.0, 0.5], [0.5, 0.3], [-1.0, -1.0]])
    assert not mdp.terminal.any()


def test_make_task_returns_fresh_tables():
    a, b = make_task("chain"), make_task("chain")
    a.rewards[4, 1] = 100.0
    assert b.rewards[4, 1] == pytest.approx(0.8)


def test_make_task_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown task"):
        make_task("gridworld")
    with pytest.raises(TypeError, match="task name"):
        make_task(0)


def small_mdp(**changes):
    args = dict(name="tiny", transitions=np.array([[1, 0], [1, 1]]),
                rewards=np.array([[1.0, 0.0], [0.0, 0.0]]), terminal=np.array([False, True]),
                start_state=0, max_steps=5, action_names=("a", "b"))
    args.update(changes)
    return TabularMDP(**args)


def test_tabular_mdp_accepts_a_valid_table():
    mdp = small_mdp()
    assert (mdp.n_states, mdp.n_actions) == (2, 2)


@pytest.mark.parametrize(("changes", "match"), [
    ({"rewards": np.zeros((2, 3))}, "share shape"),
    ({"transitions": np.array([0, 1]), "rewards": np.zeros(2)}, "share shape"),
    ({"transitions": np.array([[1, 2], [1, 1]])}, "transitions"),
    ({"transitions": np.array([[1, -1], [1, 1]])}, "transitions"),
    ({"terminal": np.array([False, True, False])}, "terminal"),
    ({"start_state": 1}, "start_state"),
    ({"start_state": 2}, "start_state"),
    ({"start_state": -1}, "start_state"),
    ({"action_names": ("a",)}, "action name"),
])
def test_tabular_mdp_rejects_inconsistent_tables(changes, match):
    with pytest.raises(ValueError, match=match):
        small_mdp(**changes)


def test_value_iteration_rejects_what_is_not_an_mdp():
    with pytest.raises(TypeError, match="TabularMDP"):
        value_iteration({"transitions": [[0]]}, 0.9)


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"gamma": 1.0}, ValueError, "gamma"),
    ({"gamma": -0.1}, ValueError, "gamma"),
    ({"gamma": np.nan}, ValueError, "gamma"),
    ({"gamma": "0.9"}, TypeError, "gamma"),
    ({"gamma": 0.9, "tol": 0.0}, ValueError, "tol"),
    ({"gamma": 0.9, "tol": -1e-3}, ValueError, "tol"),
    ({"gamma": 0.9, "max_iterations": 0}, ValueError, "max_iterations"),
    ({"gamma": 0.9, "max_iterations": 10.0}, TypeError, "max_iterations"),
])
def test_value_iteration_validates(kwargs, error, name):
    with pytest.raises(error, match=name):
        value_iteration(make_task("chain"), **kwargs)
