"""Instructor-only tests for exercise 3.3: cases the public tests leave out."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.envs.toy_mdps import TabularMDP, make_task, value_iteration


def loop_value_iteration(transitions, rewards, terminal, gamma, sweeps=5000):
    """Bellman optimality updates with plain loops (far more sweeps than convergence needs)."""
    n_states, n_actions = len(transitions), len(transitions[0])
    q = [[0.0] * n_actions for _ in range(n_states)]
    for _ in range(sweeps):
        v = [0.0 if terminal[s] else max(q[s]) for s in range(n_states)]
        q = [[0.0 if terminal[s] else float(rewards[s][a]) + gamma * v[int(transitions[s][a])]
              for a in range(n_actions)] for s in range(n_states)]
    return q


def random_mdp(seed, n_states, n_actions, p_terminal):
    rng = np.random.default_rng(seed)
    terminal = rng.random(n_states) < p_terminal
    terminal[0] = False  # the start state
    return TabularMDP(f"random {seed}", rng.integers(0, n_states, (n_states, n_actions)),
                      rng.normal(size=(n_states, n_actions)), terminal, 0, 10,
                      tuple(f"a{k}" for k in range(n_actions)))


@pytest.mark.exercise("3.3")
@pytest.mark.parametrize(("seed", "n_states", "n_actions", "p_terminal", "gamma"), [
    (0, 8, 3, 0.0, 0.9),
    (1, 12, 4, 0.3, 0.95),
    (2, 5, 1, 0.2, 0.8),
    (3, 20, 2, 0.5, 0.99),
])
def test_hidden_random_mdps_against_a_loop(seed, n_states, n_actions, p_terminal, gamma):
    mdp = random_mdp(seed, n_states, n_actions, p_terminal)
    q = value_iteration(mdp, gamma)
    expected = loop_value_iteration(mdp.transitions.tolist(), mdp.rewards.tolist(),
                                    mdp.terminal.tolist(), gamma)
    assert q.shape == (n_states, n_actions)
    np.testing.assert_allclose(q, expected, rtol=0, atol=1e-7)


@pytest.mark.exercise("3.3")
def test_hidden_terminal_states_are_worth_nothing_whatever_their_rewards():
    # State 1 is terminal but its row of rewards is large: the row is 0 and so is its value.
    mdp = TabularMDP("trap", np.array([[1, 0], [1, 1]]), np.array([[0.5, 0.1], [9.0, 9.0]]),
                     np.array([False, True]), 0, 5, ("exit", "stay"))
    q = value_iteration(mdp, 0.5)
    # Q(0, stay) = 0.1 + 0.5 * V(0) with V(0) = max(0.5, Q(0, stay)): V(0) = 0.5, Q = 0.35.
    np.testing.assert_allclose(q, [[0.5, 0.35], [0.0, 0.0]], rtol=0, atol=1e-9)


@pytest.mark.exercise("3.3")
def test_hidden_gamma_zero_gives_the_rewards():
    for task in ("chain", "duality", "bandit"):
        mdp = make_task(task)
        expected = np.where(mdp.terminal[:, None], 0.0, mdp.rewards)
        np.testing.assert_allclose(value_iteration(mdp, 0.0), expected, rtol=0, atol=0)


@pytest.mark.exercise("3.3")
def test_hidden_duality_at_a_long_horizon():
    # gamma 0.99: -1 / 0.01 = -100 in the trap, 0.5 / 0.01 = 50 on the cycle.
    q = value_iteration(make_task("duality"), 0.99)
    np.testing.assert_allclose(q, [[-99.0, 50.0], [50.0, 49.8], [-100.0, -100.0]],
                               rtol=0, atol=1e-6)


@pytest.mark.exercise("3.3")
def test_hidden_max_iterations_caps_the_updates():
    # The chain's 0.8 needs 5 Bellman updates to reach the start state: after 3, the start
    # is still worth 0 while the state next to the goal already knows its 0.8.
    q = value_iteration(make_task("chain"), 0.9, max_iterations=3)
    assert q[4, 1] == pytest.approx(0.8)
    assert q[0, 1] == 0.0
