"""Chapter 3's headline experiment (course_lib/experiments/society.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from course_lib.bidders import SocietyResult
from course_lib.envs.toy_mdps import TASKS
from course_lib.experiments import EXPERIMENTS, get_experiment, society
from course_lib.society import MECHANISMS

RESULT_KEYS = {"task", "mechanism", "cloned", "seeds", "bid_error", "bid_error_ci95",
               "bid_error_greedy", "bid_error_greedy_ci95", "optimal_policy",
               "money_created_per_episode"}
Q_STAR = {  # worked out by hand (see tests/test_envs_toy_mdps.py)
    "bandit": [[0.2, 0.4, 0.6, 0.8], [0.0, 0.0, 0.0, 0.0]],
    "chain": [[0.99 * 0.8 * 0.99**4, 0.8 * 0.99**4],
              [0.99 * 0.8 * 0.99**4, 0.8 * 0.99**3],
              [0.99 * 0.8 * 0.99**3, 0.8 * 0.99**2],
              [0.99 * 0.8 * 0.99**2, 0.8 * 0.99],
              [0.99 * 0.8 * 0.99, 0.8],
              [0.0, 0.0]],
    "duality": [[-9.0, 5.0], [5.0, 4.8], [-10.0, -10.0]],
}


@pytest.fixture(scope="module")
def metrics():
    """One quick run of the whole experiment (about 10 s)."""
    return society.run(quick=True, seed=0)


def row(metrics, task, mechanism, cloned):
    (found,) = [r for r in metrics["results"]
                if (r["task"], r["mechanism"], r["cloned"]) == (task, mechanism, cloned)]
    return found


def test_quick_run_reports_every_metric(metrics):
    assert {"q_star", "gamma", "horizon", "results", "q_learning", "quick", "seed",
            "wall_s"} <= set(metrics)
    json.dumps(metrics)  # serialisable
    assert metrics["quick"] is True and metrics["seed"] == 0
    assert metrics["gamma"] == {"bandit": 0.99, "chain": 0.99, "duality": 0.9}
    assert metrics["horizon"] == {task: None for task in TASKS}
    for task in TASKS:
        np.testing.assert_allclose(metrics["q_star"][task], Q_STAR[task], rtol=0, atol=1e-8)
    # Every task x mechanism x society type, once.
    combos = {(r["task"], r["mechanism"], r["cloned"]) for r in metrics["results"]}
    assert len(metrics["results"]) == len(combos) == len(TASKS) * len(MECHANISMS) * 2
    for r in metrics["results"]:
        assert set(r) == RESULT_KEYS
        assert r["task"] in TASKS and r["mechanism"] in MECHANISMS
        assert isinstance(r["cloned"], bool) and isinstance(r["optimal_policy"], bool)
        assert r["seeds"] == society.N_SEEDS
        for key in ("bid_error", "bid_error_ci95", "bid_error_greedy", "bid_error_greedy_ci95",
                    "money_created_per_episode"):
            assert isinstance(r[key], float) and np.isfinite(r[key]) and r[key] >= 0
    assert set(metrics["q_learning"]) == set(TASKS)
    for entry in metrics["q_learning"].values():
        assert isinstance(entry["optimal_policy"], bool)
        assert isinstance(entry["q_error"], float)
        assert isinstance(entry["env_steps"], int) and entry["env_steps"] > 0


def test_the_time_limit_ablation_trains_both_ways_on_the_tasks_with_cuts(metrics):
    rows = metrics["time_limit_ablation"]
    keys = {(r["task"], r["mechanism"], r["cloned"], r["time_limit"]) for r in rows}
    assert len(rows) == len(keys) == len(society.CUT_TASKS) * len(MECHANISMS) * 2 * 2
    assert {r["time_limit"] for r in rows} == {"bootstrap", "zero"}
    for r in rows:
        assert set(r) == {"task", "mechanism", "cloned", "time_limit", "bid_error_greedy",
                          "optimal_policy"}
        assert isinstance(r["optimal_policy"], bool) and r["bid_error_greedy"] >= 0
        if r["time_limit"] == "bootstrap":  # the main runs, reused
            assert r["bid_error_greedy"] == row(metrics, r["task"], r["mechanism"],
                                                r["cloned"])["bid_error_greedy"]


def test_quick_run_money_creation(metrics):
    for r in metrics["results"]:
        if r["mechanism"] != "v" or r["task"] == "bandit":  # bandit: the next state is terminal
            assert r["money_created_per_episode"] == 0.0, r
    for task in ("chain", "duality"):
        assert row(metrics, task, "v", False)["money_created_per_episode"] > 0


def test_quick_run_meets_the_chapter_claims(metrics):
    # Cloned credit-conserving Vickrey societies bid Q* for the best action on the bandit...
    ccv = row(metrics, "bandit", "ccv", True)
    assert ccv["optimal_policy"] and ccv["bid_error_greedy"] < 0.05
    # ...and the tabular Q-learner, with the same number of steps, finds the optimal policy.
    for task, entry in metrics["q_learning"].items():
        assert entry["optimal_policy"], task
        assert entry["q_error"] < 0.01, task


def test_summarize_on_a_hand_made_result():
    # Two seeds of each mechanism on the bandit (live state 0 only; Q*(0) = .2 .4 .6 .8).
    q0 = np.array([0.2, 0.4, 0.6, 0.8])
    bids = {"bb": [q0, q0], "v": [q0 + 0.1, q0 + 0.1], "ccv": [q0 + 0.1, q0 + 0.3],
            "env": [q0[::-1], q0[::-1]]}
    mechanisms = list(MECHANISMS) * 2
    mean_bids = np.zeros((8, 2, 4))
    for k, m in enumerate(mechanisms):
        mean_bids[k, 0] = bids[m][k // 4]
        mean_bids[k, 1] = 5.0  # the terminal state: not counted
    money = np.array([0.0, 1.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0])
    result = SocietyResult(mechanisms, 2, 0.99, mean_bids, money, mean_bids[None], np.zeros((1, 8)),
                           np.full(8, 100))

    bb = society.summarize("bandit", result, "bb")
    assert set(bb) == RESULT_KEYS
    assert (bb["task"], bb["mechanism"], bb["cloned"], bb["seeds"]) == ("bandit", "bb", True, 2)
    assert bb["bid_error"] == pytest.approx(0.0, abs=1e-12)
    assert bb["optimal_policy"] is True

    v = society.summarize("bandit", result, "v")
    assert v["bid_error"] == pytest.approx(0.1) and v["bid_error_greedy"] == pytest.approx(0.1)
    assert v["bid_error_ci95"] == pytest.approx(0.0, abs=1e-12)
    assert v["money_created_per_episode"] == pytest.approx(2.0)

    # Errors 0.1 and 0.3: mean 0.2, standard error 0.1, t(0.975, 1 dof) = 12.7062.
    ccv = society.summarize("bandit", result, "ccv")
    assert ccv["bid_error"] == pytest.approx(0.2)
    assert ccv["bid_error_ci95"] == pytest.approx(1.27062, rel=1e-4)

    # Reversed bids: the greedy arm 0 bids 0.8 = max Q*, so the greedy error is 0, yet the
    # policy is wrong; the mean error is (0.6 + 0.2 + 0.2 + 0.6) / 4 = 0.4.
    env = society.summarize("bandit", result, "env")
    assert env["optimal_policy"] is False
    assert env["bid_error"] == pytest.approx(0.4)
    assert env["bid_error_greedy"] == pytest.approx(0.0, abs=1e-12)


def test_q_star_and_settings():
    assert set(society.SETTINGS) == set(TASKS)
    for task in TASKS:
        np.testing.assert_allclose(society.q_star(task), Q_STAR[task], rtol=0, atol=1e-8)
        its = society.SETTINGS[task]["iterations"]
        assert its["quick"] < its["full"]


def test_registry_and_bad_arguments():
    assert "society" in EXPERIMENTS and get_experiment("society") is society
    with pytest.raises(ValueError, match="seed"):
        society.run(quick=True, seed=-1)
    with pytest.raises(TypeError, match="quick"):
        society.run(quick="yes")
