"""Tests of the command line (python -m course_lib)."""

from __future__ import annotations

import json
import os
import re
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
        assert set(row) >= {"id", "title", "module", "function", "file", "written", "solved",
                            "reference"}
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
    assert len(done.stderr.strip().splitlines()) == 1
    found = re.search(r"Exercise (\d+\.\d+) \(.*\) is not implemented yet", done.stderr)
    assert found, done.stderr
    exercise_id = found.group(1)
    # worded for the command line: its flag and variable, not the notebook's use_reference
    assert f"--reference {exercise_id}" in done.stderr
    assert f"COURSE_LIB_REFERENCE={exercise_id}" in done.stderr
    assert "use_reference" not in done.stderr


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
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Exercise 1.1 - First-price auction: NOT YET (0/")
    assert ("is not implemented yet: edit `first_price_auction` in course_lib/auctions.py"
            in lines[1])
    assert "--reference 1.1" in lines[1] and "COURSE_LIB_REFERENCE=1.1" in lines[1]
    assert "use_reference" not in done.stdout
    assert lines[-2] == "  Full output: python -m course_lib check 1.1 --verbose, or run:"
    assert lines[-1] == ("    python -m pytest tests/test_auctions.py -p course_lib.exercises "
                         "--exercise 1.1 -vv")


def test_check_verbose_shows_pytests_full_report():
    done = cli("check", "1.1", "--verbose")
    assert done.returncode == 1
    assert done.stdout.startswith("Exercise 1.1 - First-price auction: NOT YET (0/")
    # pytest's own report of each failure: the test's source and the error it raised
    assert "def test_" in done.stdout and "ExerciseNotImplementedError" in done.stdout
    assert "--reference 1.1" in done.stdout and "use_reference" not in done.stdout
    assert "  The same tests in a terminal:" in done.stdout
    assert done.stdout.count("\n  x test_") >= 5


def test_check_command_rejects_an_unknown_exercise():
    done = cli("check", "0.0")
    assert done.returncode == 2
    assert "unknown exercise '0.0'" in done.stderr and "1.1" in done.stderr


def test_list_table_shows_whole_titles_and_aligned_columns():
    done = cli("list")
    lines = done.stdout.split("\n\n")[0].splitlines()
    header = lines[0]
    starts = {name: header.index(name) for name in ("title", "function", "file", "written")}
    assert " solved" not in header  # "written": the body is no longer the stub, right or not
    assert (" reference" in header) == exercises.solutions_available()
    for row in exercises.catalog():
        line = next(ln for ln in lines if ln.startswith(row["id"] + " "))
        assert line[starts["title"]:].startswith(row["title"]), line  # whole, not cut
        assert line[starts["function"]:].startswith(row["function"] + " "), line
        assert line[starts["file"]:].startswith(row["file"] + " "), line
        assert line[starts["written"]:].split()[0] in {"yes", "no"}, line


def _header(text: str) -> list[str]:
    return re.split(r"  +", text.splitlines()[0].strip())


def test_list_table_of_a_student_copy_has_no_reference_column(monkeypatch):
    rows = exercises.catalog()
    monkeypatch.setattr(exercises, "solutions_available", lambda: False)  # a student copy
    assert _header(exercises.format_catalog(rows)) == ["id", "title", "function", "file",
                                                       "written"]
    monkeypatch.setattr(exercises, "solutions_available", lambda: True)  # the teacher's
    assert _header(exercises.format_catalog(rows))[-2:] == ["written", "reference"]


def test_list_check_shows_whether_the_public_tests_pass(monkeypatch):
    rows = [{**row, "passes": passes, "public_tests": why} for row, (passes, why) in zip(
        exercises.catalog()[:3], [(True, "passes public tests"),
                                  (False, "fails 2 of 12 public tests"),
                                  (False, "not implemented yet")], strict=True)]
    monkeypatch.setattr(exercises, "solutions_available", lambda: False)
    text = exercises.format_catalog(rows)
    header = text.splitlines()[0]
    assert _header(text) == ["id", "title", "function", "file", "written", "passes public tests"]
    start = header.index("passes public tests")
    assert [line[start:] for line in text.splitlines()[1:]] == [
        "yes", "no (fails 2 of 12 public tests)", "no (not implemented yet)"]


def test_list_check_at_the_command_line():
    done = cli("list", "--check")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n\n")[0].splitlines()
    start = lines[0].index("passes public tests")
    for row in exercises.catalog():
        line = next(ln for ln in lines if ln.startswith(row["id"] + " "))
        cell = line[start:].split("  ")[0]
        assert cell == "yes" or cell.startswith("no"), line
        if not row["written"]:
            assert cell == "no (not implemented yet)", line
    data = json.loads(cli("list", "--json", "--check").stdout)
    assert all(isinstance(row["passes"], bool) and row["public_tests"]
               for row in data["exercises"])
