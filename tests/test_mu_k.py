"""μ(k) with error bars (course_lib.mu_k): zero events, intervals, the search."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.envs.wireless import make_grid
from course_lib.mu_k import _interval, estimate_mu_k
from course_lib.wireless_sac import policy_probs


@pytest.fixture(scope="module")
def grid():
    return make_grid()


@pytest.fixture(scope="module")
def uniform(grid):
    return policy_probs(np.zeros((grid.n_users, grid.n_states, grid.n_actions)), grid.valid)


def test_what_cannot_travel_is_reported_as_zero_events_with_a_bound(grid, uniform):
    # a policy that ignores its state: nothing beyond one hop reaches i, exactly (common
    # random numbers), and the search cannot make a difference appear either
    mu = estimate_mu_k(grid, uniform, starts=60, rollouts=10, candidates=3, confirm=50,
                       search_steps=3, proposals=4, seed=0)
    assert mu["k"] == [0, 1, 2]
    assert mu["differ"][1:] == [0, 0] and mu["differ"][0] > 0
    assert mu["zero_bound"][0] is None
    assert mu["zero_bound"][1:] == [3 / (e * 10) for e in mu["eligible"][1:]]
    assert mu["ci"][1:] == [[0.0, 0.0], [0.0, 0.0]] and mu["search"][1:] == [0.0, 0.0]
    # only starts whose focal user has someone beyond k hops count
    assert mu["eligible"][0] == 60 and 0 < mu["eligible"][2] < 60
    low, high = mu["ci"][0]
    assert 0.1 < low <= mu["confirmed"][0] <= high
    low, high = mu["search_ci"][0]
    assert 0 < low <= mu["search"][0] <= high


def test_with_links_influence_reaches_two_hops(grid, uniform):
    mu = estimate_mu_k(grid, uniform, starts=100, rollouts=20, candidates=3, confirm=50,
                       link_prob=0.3, seed=0)
    assert mu["differ"][1] > 0 and mu["differ"][2] == 0
    assert mu["search"] == [None, None, None]


def test_the_interval_covers_the_mean_difference():
    rng = np.random.default_rng(0)
    diffs = rng.normal(-0.3, 1.0, (2, 40_000))
    diffs[1] -= diffs[1].mean()  # a start whose mean difference is exactly zero
    size, low, high = _interval(diffs, 1.96)
    assert low[0] < 0.3 < high[0] and high[0] - low[0] == pytest.approx(2 * 1.96 / 200, 0.02)
    assert low[1] == 0.0 and size[1] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"confidence": 1.0}, ValueError, "confidence"),
    ({"confidence": 0.0}, ValueError, "confidence"),
    ({"rollouts": 1}, ValueError, "rollouts"),
    ({"candidates": 0}, ValueError, "candidates"),
    ({"search_steps": 2, "proposals": 1}, ValueError, "proposals"),
    ({"starts": 2.0}, TypeError, "starts"),
    ({"starts": 10**12}, ValueError, "starts"),
])
def test_bad_settings_are_refused(grid, uniform, kwargs, error, match):
    with pytest.raises(error, match=match):
        estimate_mu_k(grid, uniform, **{"starts": 4, "rollouts": 2, **kwargs})
