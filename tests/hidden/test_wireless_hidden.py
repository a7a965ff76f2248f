"""Instructor-only tests for exercise 6.1: access matrices that are not grids, large k."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import bfs_neighbourhoods

from course_lib.envs.wireless import access_matrix, neighbourhoods


@pytest.mark.exercise("6.1")
@pytest.mark.parametrize("seed", range(6))
def test_hidden_random_access_matrices_match_breadth_first_search(seed):
    rng = np.random.default_rng(seed)
    access = rng.random((rng.integers(2, 30), rng.integers(1, 8))) < 0.15
    for k in (0, 1, 2, 3, 7):
        np.testing.assert_array_equal(neighbourhoods(access, k), bfs_neighbourhoods(access, k))


@pytest.mark.exercise("6.1")
def test_hidden_users_without_access_points_are_alone_and_integers_are_accepted():
    access = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])  # user 3 reaches nothing
    out = neighbourhoods(access, 5)
    assert out.dtype == bool
    assert np.flatnonzero(out[3]).tolist() == [3]
    assert out[0, 2] and not neighbourhoods(access, 1)[0, 2]


@pytest.mark.exercise("6.1")
def test_hidden_long_chain_needs_many_hops():
    access = access_matrix(2, 12, 1)  # a strip: hop distance grows along it
    assert not neighbourhoods(access, 10)[0, 23]  # one hop per column
    assert neighbourhoods(access, 11)[0, 23]
    assert neighbourhoods(access, 40).all()
