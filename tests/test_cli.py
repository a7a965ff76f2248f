"""Tests of the command line (python -m course_lib)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib import exercises

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, reference: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "COURSE_LIB_REFERENCE": reference, "COURSE_LIB_QUICK": "0"}
    return subprocess.run([sys.executable, "-m", "course_lib", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_list_json_lists_exercises_and_experiments():
    done = cli("list", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    ids = [row["id"] for row in data["exercises"]]
    assert ids[:4] == ["1.1", "1.2", "1.3", "1.4"]
    for row in data["exercises"]:
        assert set(row) >= {"id", "title", "module", "function", "file", "solved", "reference"}
    assert "vickrey" in data["experiments"]


def test_list_table_mentions_every_exercise():
    done = cli("list")
    assert done.returncode == 0
    for row in exercises.catalog():
        assert row["function"] in done.stdout


@pytest.mark.skipif(not exercises.solutions_available(), reason="needs reference solutions")
def test_run_vickrey_quick_prints_metrics_within_bounds(tmp_path):
    out = tmp_path / "metrics.json"
    done = cli("run", "vickrey", "--quick", "--seed", "1", "--json", str(out), "--no-progress",
               reference="all")
    assert done.returncode == 0, done.stderr
    metrics = json.loads(out.read_text())
    assert metrics == json.loads(done.stdout)
    assert metrics["n_bidders"] == 3
    assert metrics["truthful_regret_vickrey"] <= 1e-9
    assert metrics["truthful_regret_first_price"] > 0.05
    assert abs(metrics["learned_bid_ratio_vickrey"] - 1.0) < 0.05
    assert abs(metrics["learned_bid_ratio_first_price"] - 2 / 3) < 0.05
    assert metrics["quick"] is True and metrics["seed"] == 1
    assert 0 < metrics["wall_s"] < 60


def test_run_without_solved_exercises_explains_in_one_line():
    done = cli("run", "vickrey", "--quick", "--no-progress")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "is not implemented yet" in done.stderr and "use_reference" in done.stderr


def test_unknown_experiment_and_bad_seed_are_rejected():
    assert cli("run", "no-such-thing").returncode == 2
    wrong = cli("run", "vickrey", "--observation", "pixels", "--no-progress")
    assert wrong.returncode == 2 and "no --observation variant" in wrong.stderr
    assert cli("run", "minigrid-transfer", "--optimizer", "lbfgs").returncode == 2
    bad_seed = cli("run", "vickrey", "--seed", "-1", "--no-progress")
    assert bad_seed.returncode == 2 and "seed" in bad_seed.stderr


def test_check_command_reports_and_fails_on_a_stub():
    done = cli("check", "1.1")
    assert done.returncode == 1
    assert "Exercise 1.1" in done.stdout
