"""Instructor-only tests for exercise 3.4: cases the public tests leave out."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.q_learning import q_learning_update


def loop_update(q, states, actions, rewards, next_states, next_exists, alpha, gamma):
    """The batch update, one transition at a time, all errors from the old table."""
    q = [list(map(float, row)) for row in q]
    sums: dict[tuple[int, int], float] = {}
    counts: dict[tuple[int, int], int] = {}
    transitions = zip(states, actions, rewards, next_states, next_exists, strict=True)
    for s, a, r, s2, ok in transitions:
        target = float(r) + (gamma * max(q[int(s2)]) if ok else 0.0)
        key = (int(s), int(a))
        sums[key] = sums.get(key, 0.0) + target - q[key[0]][key[1]]
        counts[key] = counts.get(key, 0) + 1
    new = [row[:] for row in q]
    for (s, a), total in sums.items():
        new[s][a] += alpha * total / counts[(s, a)]
    return new


@pytest.mark.exercise("3.4")
@pytest.mark.parametrize(("n_states", "n_actions", "batch", "seed"),
                         [(3, 2, 500, 0), (1, 1, 50, 1), (10, 4, 2000, 2)])
def test_hidden_large_batches_with_many_repeats(n_states, n_actions, batch, seed):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n_states, n_actions))
    states = rng.integers(0, n_states, batch)
    actions = rng.integers(0, n_actions, batch)
    next_states = rng.integers(0, n_states, batch)
    rewards = rng.normal(size=batch)
    exists = rng.random(batch) < 0.8
    new = q_learning_update(q, states, actions, rewards, next_states, exists, 0.3, 0.97)
    np.testing.assert_allclose(new, loop_update(q, states, actions, rewards, next_states,
                                                exists, 0.3, 0.97), rtol=0, atol=1e-10)


@pytest.mark.exercise("3.4")
def test_hidden_self_loops_and_mixed_terminal_flags_on_one_pair():
    # Three transitions from (0, 1), alpha 1, gamma 1, old table [[2, 4], [0, 10]]:
    #   back to 0 (exists): target 0 + 4 = 4, error 0
    #   to 1 (terminal):    target 1, error -3   (the 10 in state 1 is ignored)
    #   to 1 (exists):      target 1 + 10 = 11, error 7
    # mean error 4/3, so (0, 1) becomes 4 + 4/3; nothing else moves.
    q = np.array([[2.0, 4.0], [0.0, 10.0]])
    new = q_learning_update(q, [0, 0, 0], [1, 1, 1], [0.0, 1.0, 1.0], [0, 1, 1],
                            [True, False, True], 1.0, 1.0)
    np.testing.assert_allclose(new, [[2.0, 4.0 + 4.0 / 3.0], [0.0, 10.0]], rtol=0, atol=1e-12)


@pytest.mark.exercise("3.4")
def test_hidden_other_integer_dtypes():
    q = np.zeros((2, 2))
    states = np.array([1, 1], dtype=np.int32)
    actions = np.array([0, 0], dtype=np.uint8)
    next_states = np.array([0, 0], dtype=np.int16)
    new = q_learning_update(q, states, actions, [1.0, 0.0], next_states, [False, False], 1.0,
                            0.9)
    np.testing.assert_allclose(new, [[0.0, 0.0], [0.5, 0.0]], rtol=0, atol=1e-12)
