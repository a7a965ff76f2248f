"""Chapter 6 at scale (course_lib/experiments/wireless_scale.py), quick mode."""

from __future__ import annotations

import json

import pytest

from course_lib import exercises
from course_lib.experiments import EXPERIMENTS, get_experiment, wireless_scale

pytestmark = pytest.mark.skipif(not exercises.solutions_available(),
                                reason="needs reference solutions")


@pytest.fixture(scope="module")
def metrics():
    with exercises.use_reference("all"):
        return get_experiment("wireless-scale").run(quick=True, seed=0)


def test_registered_with_the_documented_metrics(metrics):
    assert EXPERIMENTS["wireless-scale"].endswith("wireless_scale")
    lists = ("n_users", "returns_fa", "returns_tabular", "returns_aloha", "episodes",
             "cpu_s_per_1000_user_episodes", "critic_bytes", "tabular_entries_per_sample")
    assert set(metrics) >= set(lists) | {"wall_s"}
    assert metrics["n_users"] == [24, 96, 384, 1536]
    assert all(len(metrics[key]) == 4 for key in lists)
    assert [h * w * 2 for h, w in wireless_scale.GRIDS] == [24, 96, 384, 1536, 6144]
    for key in ("returns_fa", "returns_aloha", "returns_aloha_rich", "returns_aloha_fresh",
                "aloha_rich_table", "returns_fa_per_seed", "returns_fa_ci"):
        assert len(metrics[key]) == 4, key
    assert metrics["seeds"] == [0] and wireless_scale.BUDGETS["full"]["seeds"] >= 3
    # one seed: the mean is that seed's return, and no interval can be drawn from it
    assert [row[0] for row in metrics["returns_fa_per_seed"]] == metrics["returns_fa"]
    assert metrics["returns_fa_ci"] == [None] * 4
    json.dumps(metrics)


def test_the_richer_benchmark_is_scored_beside_the_plain_one_on_fresh_episodes(metrics):
    for table, rich, plain in zip(metrics["aloha_rich_table"], metrics["returns_aloha_rich"],
                                  metrics["returns_aloha_fresh"], strict=True):
        assert len(table) == 3 and all(len(row) == 3 for row in table)
        assert rich > plain - 0.01  # tuned from the plain rule's best, never far below it


def test_intervals_over_seeds_are_t_intervals():
    from course_lib.experiments.wireless_scale import _interval

    low, high = _interval([0.2, 0.3])  # mean 0.25, t(0.975, 1) = 12.706, s/sqrt(2) = 0.05
    assert (low + high) / 2 == pytest.approx(0.25) and high - low == pytest.approx(2 * 0.6353, 1e-3)
    assert _interval([0.2]) is None


def test_linear_critic_memory_grows_with_users_only(metrics):
    per_user = [b / n for b, n in zip(metrics["critic_bytes"], metrics["n_users"], strict=True)]
    assert max(per_user) == min(per_user)


def test_tabular_runs_where_it_fits_and_stores_about_one_entry_per_sample(metrics):
    for n, ret, per in zip(metrics["n_users"], metrics["returns_tabular"],
                           metrics["tabular_entries_per_sample"], strict=True):
        if n <= wireless_scale.BUDGETS["quick"]["tabular_max_users"]:
            assert ret is not None and per > 0.9
        else:
            assert ret is None and per is None

