"""Chapter 4's headline experiment (course_lib/experiments/minigrid_transfer.py), quick mode."""

from __future__ import annotations

import json

import pytest

from course_lib import exercises
from course_lib.experiments import EXPERIMENTS, get_experiment, minigrid_transfer
from course_lib.transfer import METHODS, SHIFT_THRESHOLDS, WEIGHT_SHIFT_THRESHOLD

pytestmark = pytest.mark.skipif(not exercises.solutions_available(),
                                reason="needs reference solutions")


@pytest.fixture(scope="module")
def metrics():
    return get_experiment("minigrid-transfer").run(quick=True, seed=0)


def test_registered_under_its_cli_name():
    assert EXPERIMENTS["minigrid-transfer"].endswith("minigrid_transfer")
    # The paired weight-shift test needs at least five seeds in full mode.
    assert minigrid_transfer.BUDGETS["full"]["seeds"] >= 5


def test_metric_names_are_the_documented_interface(metrics):
    assert set(metrics) >= {"pretrain", "transfer", "weight_shift", "seeds", "env_steps",
                            "wall_s", "device", "transfer_chance", "observation", "optimizer",
                            "weight_shift_curve", "flat_sweep", "flat_sweep_budget",
                            "weight_shift_paired", "weight_shift_relative",
                            "weight_shift_effective", "weight_shift_power"}
    assert (metrics["observation"], metrics["optimizer"]) == ("compact", "adam")
    assert set(metrics["weight_shift_curve"]) == {"society", "hierarchical"}
    for method, curve in metrics["weight_shift_curve"].items():
        assert [row[0] for row in curve] == list(SHIFT_THRESHOLDS)
        at = dict((row[0], row[1]) for row in curve)
        assert at[WEIGHT_SHIFT_THRESHOLD] == pytest.approx(metrics["weight_shift"][method])
        assert all(low <= mean <= high for _, mean, low, high in curve)
    sweep = metrics["flat_sweep"]
    grid = minigrid_transfer.FLAT_SWEEP["quick"]
    assert len(sweep) == len(grid["lr_factors"]) * len(grid["ent_coefs"])
    assert sum(row["chosen"] for row in sweep) == 1
    best = max(sweep, key=lambda row: row["mean_success"])
    assert best["chosen"]
    assert metrics["flat_sweep_budget"]["seed"] not in metrics["seeds"]
    for phase in ("pretrain", "transfer"):
        assert set(metrics[phase]) == set(METHODS)
        for method in METHODS:
            entry = metrics[phase][method]
            assert 0.0 <= entry["final_success"] <= 1.0
            assert entry["steps_to_90"] is None or entry["steps_to_90"] > 0
    assert set(metrics["weight_shift"]) == {"society", "hierarchical"}
    assert all(0.0 < v <= 1.0 for v in metrics["weight_shift"].values())
    assert metrics["seeds"] == [0]
    # Paired entries: one seed gives a difference but no interval, power or verdict.
    paired = metrics["weight_shift_paired"]
    assert [row["threshold"] for row in paired] == list(SHIFT_THRESHOLDS)
    at = next(row for row in paired if row["threshold"] == WEIGHT_SHIFT_THRESHOLD)
    assert at["hierarchical"] == pytest.approx(metrics["weight_shift_per_seed"]["hierarchical"])
    assert at["society"] == pytest.approx(metrics["weight_shift_per_seed"]["society"])
    assert at["mean"] == pytest.approx(at["hierarchical"][0] - at["society"][0])
    for entry in (*paired, metrics["weight_shift_relative"], metrics["weight_shift_effective"]):
        assert entry["n"] == 1 and entry["seeds"] == [0]
        assert entry["low"] is None and entry["detectable"] is None
        assert entry["verdict"] == "undetermined"
    assert metrics["weight_shift_relative"]["society"][0] > 0
    assert 0 < metrics["weight_shift_effective"]["society"][0] <= 1
    power = metrics["weight_shift_power"]
    assert (power["alpha"], power["power"], power["n"]) == (0.05, 0.8, 1)
    assert power["primary"] == minigrid_transfer.PRIMARY_MEASURE == "relative_change"
    assert set(power["detectable"]) == {"effective_share", "relative_change", "weight_shift"}
    budget = minigrid_transfer.BUDGETS["quick"]
    assert metrics["env_steps"] >= len(METHODS) * (budget["pretrain"] + budget["transfer"])
    json.dumps(metrics)  # serialisable


def test_quick_mode_society_beats_chance_on_transfer(metrics):
    chance = metrics["transfer_chance"]
    assert metrics["transfer"]["society"]["final_success"] > chance + 0.1, (metrics, chance)
    # The pre-trained options make reach-green learnable in the pre-training budget.
    assert metrics["pretrain"]["society"]["final_success"] > 0.6


def test_compare_shifts_names_a_learner_only_where_the_intervals_part():
    curve = {"society": [[0.001, 0.5, 0.4, 0.6], [0.01, 0.2, 0.1, 0.3], [0.1, 0.3, 0.25, 0.35]],
             "hierarchical": [[0.001, 0.8, 0.7, 0.9], [0.01, 0.25, 0.0, 0.5],
                              [0.1, 0.1, 0.05, 0.2]]}
    rows = minigrid_transfer.compare_shifts(curve)
    assert [r["larger"] for r in rows] == ["hierarchical", None, "society"]
    assert rows[0] == {"threshold": 0.001, "society": 0.5, "hierarchical": 0.8,
                       "larger": "hierarchical"}
    with pytest.raises(ValueError, match="society"):
        minigrid_transfer.compare_shifts({"society": curve["society"]})
    with pytest.raises(ValueError, match="thresholds"):
        minigrid_transfer.compare_shifts({"society": curve["society"],
                                          "hierarchical": curve["society"][::-1]})


@pytest.fixture
def tiny_budgets(monkeypatch):
    tiny = {"quick": {"seeds": 2, "pretrain": 600, "transfer": 600}}
    monkeypatch.setattr(minigrid_transfer, "PIXEL_BUDGETS", tiny)
    monkeypatch.setattr(minigrid_transfer, "FLAT_SWEEP",
                        {"quick": {"lr_factors": (1.0,), "ent_coefs": (0.01, 0.05)}})


def test_the_image_variant_with_sgd_reports_itself(tiny_budgets):
    metrics = minigrid_transfer.run(quick=True, seed=3, observation="pixels", optimizer="sgd")
    assert (metrics["observation"], metrics["optimizer"]) == ("pixels", "sgd")
    assert metrics["budgets"] == {"seeds": 2, "pretrain": 600, "transfer": 600}
    assert metrics["seeds"] == [3, 4] and metrics["flat_sweep_budget"]["seed"] == 103
    assert [row["ent_coef"] for row in metrics["flat_sweep"]] == [0.01, 0.05]
    # Each bidder has its own CNN: the society holds three times the hierarchical CNN's weights.
    assert metrics["parameters"]["society"] > 2.5 * metrics["parameters"]["hierarchical"]
    for curve in metrics["weight_shift_curve"].values():
        assert all(0.0 <= low <= mean <= high <= 1.0 for _, mean, low, high in curve)
    json.dumps(metrics)


def test_weight_shift_study_runs_both_optimizers_on_images(tiny_budgets):
    study = minigrid_transfer.weight_shift_study(quick=True, seed=0)
    assert set(study) == {"adam", "sgd"}
    for entry in study.values():
        assert entry["seeds"] == 2 and entry["budgets"]["pretrain"] == 600
        assert set(entry["weight_shift_curve"]) == {"society", "hierarchical"}
        rows = minigrid_transfer.compare_shifts(entry["weight_shift_curve"])
        assert len(rows) == len(SHIFT_THRESHOLDS)
        for phase in ("pretrain", "transfer"):
            assert all(0.0 <= v <= 1.0 for v in entry["final_success"][phase].values())
        assert entry["weight_shift_effective"]["seeds"] == [0, 1]
        assert entry["weight_shift_power"]["n"] == 2
    with pytest.raises(ValueError, match="optimizer"):
        minigrid_transfer.weight_shift_study(quick=True, optimizers=("adagrad",))


def _paired(differences):
    from course_lib.stats import paired_difference

    return paired_difference(differences, [0.0] * len(differences))


def test_with_power_adds_the_detectable_difference_and_a_verdict():
    from course_lib.stats import minimum_detectable_difference

    up = minigrid_transfer.with_power(_paired([0.2, 0.3, 0.1, 0.25, 0.15]))
    assert up["verdict"] == "hierarchical larger" and up["low"] > 0
    sd = up["sd"]
    assert up["detectable"] == pytest.approx(minimum_detectable_difference(sd, 5))
    # 5 pairs at 5 % and 80 % power: 1.682 standard deviations (noncentral t)
    assert up["detectable"] == pytest.approx(1.682 * sd, rel=1e-3)
    down = minigrid_transfer.with_power(_paired([-0.2, -0.3, -0.1, -0.25, -0.15]))
    assert down["verdict"] == "society larger"
    none = minigrid_transfer.with_power(_paired([0.2, -0.3, 0.1]))
    assert none["verdict"] == "no difference detected"
    assert none["low"] < 0 < none["high"]
    flat = minigrid_transfer.with_power(_paired([0.0, 0.0]))
    assert flat["detectable"] is None and flat["verdict"] == "no difference detected"
    assert minigrid_transfer.with_power(_paired([0.4]))["verdict"] == "undetermined"
    with pytest.raises(TypeError, match="paired"):
        minigrid_transfer.with_power([0.1, 0.2])


def test_paired_metrics_from_five_seeds_of_fake_runs():
    import torch

    from course_lib.ppo import TrainingLog
    from course_lib.transfer import TransferRun

    def fake(method, seed, factor):
        net = torch.nn.Linear(2, 2)
        before = {k: v.clone() for k, v in net.state_dict().items()}
        with torch.no_grad():
            for p in net.parameters():
                p.mul_(1 + factor)
        return TransferRun(method, seed, TrainingLog(), TrainingLog(), None, net, before)

    runs = [fake(m, s, f) for s in range(5)
            for m, f in (("society", 0.1 + 0.01 * s), ("hierarchical", 0.3 - 0.01 * s))]
    out = minigrid_transfer.paired_metrics(runs)
    relative = out["weight_shift_relative"]
    assert relative["seeds"] == [0, 1, 2, 3, 4]
    assert relative["differences"] == pytest.approx([0.2, 0.18, 0.16, 0.14, 0.12], abs=1e-6)
    assert relative["verdict"] == "hierarchical larger"
    assert out["weight_shift_power"]["n"] == 5
    assert out["weight_shift_power"]["detectable"]["relative_change"] == relative["detectable"]
    assert len(out["weight_shift_paired"]) == len(SHIFT_THRESHOLDS)
    json.dumps(out)
