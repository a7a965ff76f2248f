"""Chapter 1's headline experiment (course_lib/experiments/vickrey.py)."""

from __future__ import annotations

import json

import pytest

from course_lib.experiments import EXPERIMENTS, get_experiment, run_experiment, vickrey

METRICS = {"n_bidders", "truthful_regret_vickrey", "truthful_regret_first_price",
           "learned_bid_ratio_vickrey", "learned_bid_ratio_first_price", "wall_s"}


def test_quick_run_meets_the_chapter_claims():
    metrics = run_experiment("vickrey", quick=True, seed=2)
    assert METRICS <= set(metrics)
    json.dumps(metrics)  # serialisable
    assert metrics["truthful_regret_vickrey"] <= 1e-9
    assert metrics["truthful_regret_first_price"] > 0.05
    n = metrics["n_bidders"]
    assert abs(metrics["learned_bid_ratio_vickrey"] - 1.0) < 0.05
    assert abs(metrics["learned_bid_ratio_first_price"] - (n - 1) / n) < 0.05


def test_quick_budgets_are_smaller_than_full():
    quick, full = vickrey.budgets(True), vickrey.budgets(False)
    assert all(quick[k] < full[k] for k in quick)


def test_registry_and_bad_arguments():
    assert "vickrey" in EXPERIMENTS and get_experiment("vickrey") is vickrey
    with pytest.raises(ValueError, match="unknown experiment"):
        get_experiment("nope")
    with pytest.raises(TypeError):
        get_experiment(3)
    with pytest.raises(ValueError, match="seed"):
        vickrey.run(quick=True, seed=-1)
    with pytest.raises(TypeError, match="quick"):
        vickrey.run(quick="yes")
