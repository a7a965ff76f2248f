"""Chapter 4's headline experiment (course_lib/experiments/minigrid_transfer.py), quick mode."""

from __future__ import annotations

import json

import pytest

from course_lib import exercises
from course_lib.experiments import EXPERIMENTS, get_experiment, minigrid_transfer
from course_lib.transfer import METHODS

pytestmark = pytest.mark.skipif(not exercises.solutions_available(),
                                reason="needs reference solutions")


@pytest.fixture(scope="module")
def metrics():
    return get_experiment("minigrid-transfer").run(quick=True, seed=0)


def test_registered_under_its_cli_name():
    assert EXPERIMENTS["minigrid-transfer"].endswith("minigrid_transfer")
    assert minigrid_transfer.BUDGETS["full"]["seeds"] >= 3


def test_metric_names_are_the_documented_interface(metrics):
    assert set(metrics) >= {"pretrain", "transfer", "weight_shift", "seeds", "env_steps",
                            "wall_s", "device", "transfer_chance"}
    for phase in ("pretrain", "transfer"):
        assert set(metrics[phase]) == set(METHODS)
        for method in METHODS:
            entry = metrics[phase][method]
            assert 0.0 <= entry["final_success"] <= 1.0
            assert entry["steps_to_90"] is None or entry["steps_to_90"] > 0
    assert set(metrics["weight_shift"]) == {"society", "hierarchical"}
    assert all(0.0 < v <= 1.0 for v in metrics["weight_shift"].values())
    assert metrics["seeds"] == [0]
    budget = minigrid_transfer.BUDGETS["quick"]
    assert metrics["env_steps"] >= len(METHODS) * (budget["pretrain"] + budget["transfer"])
    json.dumps(metrics)  # serialisable


def test_quick_mode_society_beats_chance_on_transfer(metrics):
    chance = metrics["transfer_chance"]
    assert metrics["transfer"]["society"]["final_success"] > chance + 0.1, (metrics, chance)
    # The pre-trained options make reach-green learnable in the pre-training budget.
    assert metrics["pretrain"]["society"]["final_success"] > 0.6
