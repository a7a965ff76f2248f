"""Public tests for chapter 3's monolithic baseline: exercise 3.4 and ``run_q_learning``.

Tests marked ``@pytest.mark.exercise("3.4")`` check the exercise; ``course_lib.check("3.4")``
runs them against your own code. Unmarked tests check input validation (which runs before
your code) and the Q-learner built on the exercise.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.envs.toy_mdps import make_task
from course_lib.q_learning import QLearningResult, q_learning_update, run_q_learning

# A table worked out by hand: 3 states x 2 actions, alpha 0.5, gamma 0.9.
Q = np.array([[0.0, 1.0],
              [2.0, 0.5],
              [0.0, 0.0]])
# (s, a, r, s', next exists):
#   (0, 0, 1.0, 1, yes): target 1 + 0.9 * max(2, 0.5) = 2.8, error 2.8 -> 0 + 0.5 * 2.8 = 1.4
#   (1, 1, 0.0, 0, no):  target 0, error -0.5                   -> 0.5 - 0.25 = 0.25
TRANSITIONS = dict(states=np.array([0, 1]), actions=np.array([0, 1]),
                   rewards=np.array([1.0, 0.0]), next_states=np.array([1, 0]),
                   next_exists=np.array([True, False]))
EXPECTED = np.array([[1.4, 1.0],
                     [2.0, 0.25],
                     [0.0, 0.0]])


def tiny(**changes):
    args = dict(q=Q, **TRANSITIONS, alpha=0.5, gamma=0.9)
    args.update(changes)
    return args


def loop_update(q, states, actions, rewards, next_states, next_exists, alpha, gamma):
    """The batch update, one transition at a time, all errors from the old table."""
    q = [list(map(float, row)) for row in q]
    errors: dict[tuple[int, int], list[float]] = {}
    transitions = zip(states, actions, rewards, next_states, next_exists, strict=True)
    for s, a, r, s2, ok in transitions:
        target = float(r) + (gamma * max(q[int(s2)]) if ok else 0.0)
        errors.setdefault((int(s), int(a)), []).append(target - q[int(s)][int(a)])
    new = [row[:] for row in q]
    for (s, a), errs in errors.items():
        new[s][a] += alpha * sum(errs) / len(errs)
    return new


@st.composite
def update_cases(draw):
    n_states, n_actions = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    batch = draw(st.integers(0, 12))
    q = draw(hnp.arrays(np.float64, (n_states, n_actions), elements=st.floats(-5.0, 5.0)))
    states = np.array(draw(st.lists(st.integers(0, n_states - 1), min_size=batch,
                                    max_size=batch)), dtype=int)
    actions = np.array(draw(st.lists(st.integers(0, n_actions - 1), min_size=batch,
                                     max_size=batch)), dtype=int)
    next_states = np.array(draw(st.lists(st.integers(0, n_states - 1), min_size=batch,
                                         max_size=batch)), dtype=int)
    rewards = draw(hnp.arrays(np.float64, (batch,), elements=st.floats(-1.0, 1.0)))
    exists = draw(hnp.arrays(np.bool_, (batch,)))
    alpha = draw(st.sampled_from([0.05, 0.1, 0.5, 1.0]))
    gamma = draw(st.sampled_from([0.0, 0.5, 0.9, 1.0]))
    return dict(q=q, states=states, actions=actions, rewards=rewards, next_states=next_states,
                next_exists=exists, alpha=alpha, gamma=gamma)


# ======================================================================================
# 3.4 A batch of Q-learning updates
# ======================================================================================


@pytest.mark.exercise("3.4")
def test_update_hand_computed_case():
    new = q_learning_update(**tiny())
    assert isinstance(new, np.ndarray) and new.shape == (3, 2)
    np.testing.assert_allclose(new, EXPECTED, rtol=0, atol=1e-12)


@pytest.mark.exercise("3.4")
def test_update_accepts_positional_arguments_and_lists():
    new = q_learning_update(Q.tolist(), [0, 1], [0, 1], [1.0, 0.0], [1, 0], [True, False],
                            0.5, 0.9)
    np.testing.assert_allclose(new, EXPECTED, rtol=0, atol=1e-12)


@pytest.mark.exercise("3.4")
def test_update_returns_a_new_table_and_leaves_q_alone():
    """A new, updated table comes back; the caller's Q is left as it was."""
    q = Q.copy()
    new = q_learning_update(**tiny(q=q))
    assert new is not q
    np.testing.assert_array_equal(q, Q)
    np.testing.assert_allclose(new, EXPECTED, rtol=0, atol=1e-12)


@pytest.mark.exercise("3.4")
def test_update_terminal_next_state_ignores_its_values():
    # s' = 1 holds a large value, but the next state does not exist: the target is r alone.
    new = q_learning_update(Q, [2], [1], [0.3], [1], [False], 1.0, 0.9)
    np.testing.assert_allclose(new[2], [0.0, 0.3], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.4")
def test_update_repeated_pair_moves_by_the_mean_error():
    # Two transitions from (0, 0) into a terminal state, rewards 1 and 3: errors 1 and 3,
    # mean 2, so the entry moves by 0.5 * 2 = 1 (a sum would give 2, one after the other 1.75).
    new = q_learning_update(np.zeros((2, 2)), [0, 0], [0, 0], [1.0, 3.0], [1, 1],
                            [False, False], 0.5, 0.9)
    np.testing.assert_allclose(new, [[1.0, 0.0], [0.0, 0.0]], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.4")
def test_update_uses_the_old_table_for_every_error():
    # One state, alpha 1, gamma 0.9. (0, 0) -> target 0.9 * max(1, 0) = 0.9; (0, 1) -> also
    # 0.9 with the old table. Updating one after the other would give (0, 1) 0.9 * 0.9 = 0.81.
    new = q_learning_update([[1.0, 0.0]], [0, 0], [0, 1], [0.0, 0.0], [0, 0], [True, True],
                            1.0, 0.9)
    np.testing.assert_allclose(new, [[0.9, 0.9]], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.4")
def test_update_gamma_zero_targets_the_reward():
    new = q_learning_update(**tiny(gamma=0.0, alpha=1.0))
    np.testing.assert_allclose(new, [[1.0, 1.0], [2.0, 0.0], [0.0, 0.0]], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.4")
def test_update_empty_batch_changes_nothing():
    empty = np.array([], dtype=int)
    new = q_learning_update(Q, empty, empty, np.array([]), empty, np.array([], dtype=bool),
                            0.5, 0.9)
    np.testing.assert_array_equal(new, Q)
    # ...and a batch that does not touch a pair leaves it as it is: only (2, 1) moves here.
    new = q_learning_update(Q, [2], [1], [0.3], [0], [True], 0.5, 0.9)
    np.testing.assert_allclose(new[:2], Q[:2], rtol=0, atol=0)
    np.testing.assert_allclose(new[2], [0.0, 0.5 * (0.3 + 0.9 * 1.0)], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.4")
@settings(deadline=None, max_examples=100)
@given(case=update_cases())
def test_property_update_matches_a_loop(case):
    new = q_learning_update(**case)
    assert new.shape == case["q"].shape
    np.testing.assert_allclose(new, loop_update(**case), rtol=0, atol=1e-9)


# ======================================================================================
# Input validation (runs before any exercise code)
# ======================================================================================


@pytest.mark.parametrize(("changes", "name"), [
    ({"q": np.zeros(3)}, "q"),
    ({"q": [[0.0, np.nan], [0.0, 0.0], [0.0, 0.0]]}, "q"),
    ({"states": np.array([0.0, 1.0])}, "states"),
    ({"states": np.array([0, 3])}, "states"),
    ({"states": np.array([[0, 1]])}, "states"),
    ({"actions": np.array([0, 2])}, "actions"),
    ({"actions": np.array([0])}, "actions"),
    ({"next_states": np.array([-1, 0])}, "next_states"),
    ({"rewards": np.array([1.0])}, "rewards"),
    ({"rewards": np.array([1.0, np.inf])}, "rewards"),
    ({"next_exists": np.array([1, 0])}, "next_exists"),
    ({"alpha": 0.0}, "alpha"),
    ({"alpha": 1.5}, "alpha"),
    ({"gamma": -0.1}, "gamma"),
    ({"gamma": 1.1}, "gamma"),
])
def test_update_rejects_bad_input(changes, name):
    with pytest.raises(ValueError, match=name):
        q_learning_update(**tiny(**changes))


@pytest.mark.parametrize(("changes", "name"), [
    ({"q": "table"}, "q"),
    ({"alpha": "0.1"}, "alpha"),
    ({"gamma": None}, "gamma"),
])
def test_update_rejects_wrong_types(changes, name):
    with pytest.raises(TypeError, match=name):
        q_learning_update(**tiny(**changes))


# ======================================================================================
# run_q_learning (uses the reference solutions when this copy has them)
# ======================================================================================


def greedy_is_optimal(q: np.ndarray, q_star: np.ndarray, states) -> bool:
    """Whether the greedy action of every listed state has the optimal value."""
    return all(q_star[s, int(np.argmax(q[s]))] == pytest.approx(q_star[s].max(), abs=1e-9)
               for s in states)


def test_run_q_learning_solves_the_bandit():
    result = run_q_learning(make_task("bandit"), 0.99, 20_000, n_runs=2, seed=1)
    assert isinstance(result, QLearningResult)
    assert result.q.shape == (2, 2, 4)
    for q in result.q:
        np.testing.assert_allclose(q[0], [0.2, 0.4, 0.6, 0.8], atol=1e-3)
        np.testing.assert_array_equal(q[1], 0.0)  # the terminal state is never updated
        assert int(np.argmax(q[0])) == 3


def test_run_q_learning_solves_the_duality():
    q_star = np.array([[-9.0, 5.0], [5.0, 4.8], [-10.0, -10.0]])
    result = run_q_learning(make_task("duality"), 0.9, 50_000, n_runs=2, seed=0)
    for q in result.q:
        assert greedy_is_optimal(q, q_star, [0, 1])  # state 2: both actions are equal
        np.testing.assert_allclose(q, q_star, atol=0.05)


def test_run_q_learning_counts_env_steps():
    result = run_q_learning(make_task("chain"), 0.9, 1000, n_runs=1, n_envs=32, seed=0)
    # Every step moves all 32 environments: 32 * 32 = 1024 is the first count >= 1000.
    assert result.env_steps == 1024


def test_run_q_learning_callback_and_reproducibility():
    seen: list[int] = []
    a = run_q_learning(make_task("chain"), 0.9, 100, n_runs=2, n_envs=10, seed=4,
                       callback=seen.append)
    assert seen == list(range(10, 101, 10))
    b = run_q_learning(make_task("chain"), 0.9, 100, n_runs=2, n_envs=10, seed=4)
    np.testing.assert_array_equal(a.q, b.q)


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"env_steps": 0}, ValueError, "env_steps"),
    ({"env_steps": 10.0}, TypeError, "env_steps"),
    ({"n_runs": 0}, ValueError, "n_runs"),
    ({"n_envs": 0}, ValueError, "n_envs"),
    ({"epsilon": -0.1}, ValueError, "epsilon"),
])
def test_run_q_learning_validates(kwargs, error, name):
    args = dict(env_steps=100)
    args.update(kwargs)
    with pytest.raises(error, match=name):
        run_q_learning(make_task("bandit"), 0.9, **args)


def test_run_q_learning_rejects_what_is_not_an_mdp():
    with pytest.raises(TypeError, match="TabularMDP"):
        run_q_learning("bandit", 0.9, 100)
