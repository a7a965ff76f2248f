"""Assignments (classroom/assignments.py, grading/assignments.toml): what each one grades,
its points and its late policy, honoured by the release, the grader (a batch graded several
at a time, and again from its cache) and the Gradescope bundle. Maintainers' test."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from gates import REQUIRE_SANDBOX, skip_or_fail
from grading_fixtures import make_submission

from classroom import sandbox
from classroom.assignments import ASSIGNMENTS_FILE, get_assignment, load_assignments
from classroom.grade import exercise_points, grade_folder, load_points
from course_lib.exercises import catalog, solutions_available

pytestmark = pytest.mark.skipif(not solutions_available(), reason="needs the repository copy")
IDS = [row["id"] for row in catalog()]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "assignments.toml"
    path.write_text(text)
    return path


def needs_sandbox() -> None:
    if sandbox.bwrap_works():
        skip_or_fail(f"the grader's sandbox is unavailable: {sandbox.bwrap_works()}",
                     REQUIRE_SANDBOX)


def test_the_course_file_declares_every_chapter_once():
    found = load_assignments(ASSIGNMENTS_FILE)
    graded = [i for a in found.values() for i in a.exercises]
    assert sorted(graded) == sorted(IDS)  # every exercise, in exactly one assignment
    a1 = found["a1"]
    assert a1.exercises == ("1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4")
    assert a1.due.utcoffset() is not None and a1.late.kind == "percent_per_day"
    assert found["a3"].chapters == (3, 4, 5) and found["a3"].exercise_chapters == (4, 5)


def test_chapters_exercises_and_points_combine(tmp_path):
    path = write(tmp_path, '[assignments.mid]\nchapters = [2]\nexercises = ["3.1"]\n'
                           'points = { "3.1" = 5 }\n')
    mid = get_assignment("mid", path)
    assert mid.exercises == ("2.1", "2.2", "2.3", "2.4", "3.1")
    assert mid.title == "mid" and mid.due is None and mid.late is None
    expected = {"tests/test_x.py::a": ["2.1"], "tests/test_x.py::b": ["2.1", "3.1"],
                "tests/hidden/test_y.py::c": ["2.1"], "tests/test_z.py::d": ["2.2"]}
    points = exercise_points(expected, assignment=mid)
    listed = load_points()
    assert points["3.1"] == 5  # the assignment's own
    assert points["2.1"] == listed["2.1"]  # grading/points.json's


def test_an_exercise_without_listed_points_gets_one_per_public_test(tmp_path, monkeypatch):
    import classroom.grade as grade_module

    monkeypatch.setattr(grade_module, "load_points", lambda: {"1.1": 4.0})
    expected = {"tests/test_a.py::t1": ["1.2"], "tests/test_a.py::t2": ["1.2", "1.1"],
                "tests/test_a.py::t3": ["1.2"], "tests/hidden/test_h.py::h": ["1.2"]}
    assert exercise_points(expected, ["1.1", "1.2"]) == {"1.1": 4.0, "1.2": 3.0}


@pytest.mark.parametrize("text, message", [
    ('[assignments.x]\nchapters = [9]\n', "chapters \\[9\\] that have no exercises"),
    ('[assignments.x]\nexercises = ["7.7"]\n', "unknown exercises"),
    ('[assignments.x]\n', "grades no exercise"),
    ('[assignments.x]\nchapters = [1]\nweight = 2\n', "unknown keys \\['weight'\\]"),
    ('[assignments.x]\nchapters = [1]\npoints = { "2.1" = 1 }\n', "does not grade"),
    ('[assignments.x]\nchapters = [1]\npoints = { "1.1" = -1 }\n', "numbers >= 0"),
    ('[assignments.x]\nchapters = [1]\ndue = 2027-01-01T10:00:00\n', "needs an offset"),
    ('[assignments.x]\nchapters = [1]\ndue = "2027-01-01T10:00:00"\n', "offset"),
    ('[assignments.x]\nchapters = [1]\nlate = { policy = "zero" }\n', "needs a due date"),
    ('[assignments.x]\nchapters = [1]\ndue = "2027-01-01T10:00:00Z"\n'
     'late = { policy = "half" }\n', "policy must be one of"),
    ('[assignments."a b"]\nchapters = [1]\n', "an id is"),
    ('[other]\nx = 1\n', "only \\[assignments.ID\\] tables"),
    ('[assignments.x\n', "assignments.toml"),
])
def test_a_wrong_declaration_is_refused_with_the_reason(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_assignments(write(tmp_path, text))


def test_an_unknown_assignment_lists_the_known_ones():
    with pytest.raises(ValueError, match="known: a1, a2, a3, a4"):
        get_assignment("a9")


def test_the_release_for_an_assignment_holds_its_chapters_and_says_what_is_graded(tmp_path):
    from classroom.release import main

    out = tmp_path / "a3"
    assert main(["--out", str(out), "--assignment", "a3"]) == 0  # built, and checked clean
    assert sorted(p.name[:2] for p in (out / "notebooks").glob("*.ipynb")) == [
        "00", "03", "04", "05"]
    readme = (out / "README.md").read_text()
    assert "06_networked" not in readme and "05_mnist_analogy" in readme
    assert ("**This copy is for assignment `a3`: Societies of options: MiniGrid and MNIST "
            "analogies.** Graded: exercises 4.1, 4.2, 4.3, 4.4, 5.1, 5.2, 5.3, 5.4.") in readme
    assert "It builds on chapter 3" in readme and "Late work: 10 % off per day" in readme
    # every exercise stays a stub, whatever the assignment (course_lib is whole)
    assert (out / "course_lib" / "envs" / "wireless.py").exists()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Three learners of assignment 1: one done, one half done (a zip with a notebook whose
    answer they wrote), one without work; graded two at a time."""
    needs_sandbox()
    root = tmp_path_factory.mktemp("a1")
    folder = root / "batch"
    make_submission(folder / "ada")
    half = make_submission(root / "bo", {"1.1", "1.2", "2.1"})
    notebook = json.loads((Path(__file__).parents[1] / "notebooks" /
                           "01_vickrey_auction.ipynb").read_text())
    for cell in notebook["cells"]:
        if cell["metadata"].get("answer_id") == "1.a":
            cell["source"] = "**Your answer (1.a):** the Vickrey bidder pays 0.62."
    (half / "notebooks").mkdir()
    (half / "notebooks" / "01_vickrey_auction.ipynb").write_text(json.dumps(notebook))
    with zipfile.ZipFile(folder / "bo.zip", "w") as z:
        for path in [*half.rglob("*.py"), half / "notebooks" / "01_vickrey_auction.ipynb"]:
            z.write(path, path.relative_to(half).as_posix())
    (folder / "cy" / "course_lib").mkdir(parents=True)
    a1 = get_assignment("a1")
    times = {"ada": a1.due - timedelta(hours=1),
             "bo": a1.due + timedelta(days=1, hours=3)}  # two started days late
    out = root / "grades"
    grade_folder(folder, out, hidden=True, assignment=a1, jobs=2, times=times)
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    return {"folder": folder, "out": out, "rows": rows, "a1": a1, "times": times}


def test_a_batch_grades_the_assignments_exercises_with_its_late_policy(batch):
    rows, a1 = batch["rows"], batch["a1"]
    points = load_points()
    full = sum(points[i] for i in a1.exercises)
    assert [c for c in rows["ada"] if "." in c] == list(a1.exercises)  # its columns only
    assert float(rows["ada"]["score"]) == float(rows["ada"]["max_score"]) == full
    assert rows["ada"]["lateness"].startswith("on time")
    earned = points["1.1"] + points["1.2"] + points["2.1"]
    assert rows["bo"]["lateness"] == "2 days late (-20 %)"
    assert float(rows["bo"]["score"]) == pytest.approx(0.8 * earned)
    assert float(rows["cy"]["score"]) == 0 and rows["cy"]["lateness"] == (
        "no submission time known")
    report = (batch["out"] / "bo.md").read_text()
    assert "**Submitted:** 2 days late (-20 %)." in report and "Assignment a1." in report
    # the written answers of the notebook in bo's zip, for grading by hand
    page = (batch["out"] / "written" / "bo.html").read_text()
    assert "the Vickrey bidder pays 0.62" in page
    assert (batch["out"] / "written" / "bo.pdf").read_bytes().startswith(b"%PDF")
    assert not (batch["out"] / "written" / "ada.html").exists()  # no notebook submitted


def test_a_batch_graded_again_reuses_unchanged_submissions(batch, tmp_path):
    folder, out = batch["folder"], batch["out"]
    shutil.rmtree(folder / "cy")
    make_submission(folder / "cy", {"1.3"})  # cy hands in work: only cy is graded again
    grade_folder(folder, out, hidden=True, assignment=batch["a1"], jobs=2,
                 times=batch["times"])
    summary = (out / "summary.txt").read_text()
    assert "ada: unchanged since it was last graded: grade kept" in summary
    assert "bo: unchanged since it was last graded: grade kept" in summary
    assert "cy: unchanged" not in summary
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert rows["bo"] == batch["rows"]["bo"]
    assert float(rows["cy"]["1.3"]) == load_points()["1.3"]


def test_the_gradescope_bundle_of_an_assignment_applies_its_late_policy(tmp_path):
    from classroom.gradescope import build_bundle

    needs_sandbox()
    bundle = build_bundle(tmp_path / "autograder.zip", assignment="a1")
    assert zipfile.ZipFile(bundle).read("grading/assignment") == b"a1\n"
    root = tmp_path / "autograder"
    zipfile.ZipFile(bundle).extractall(root / "source")
    solved = make_submission(tmp_path / "student", {"2.2"})
    (root / "submission").mkdir(parents=True)
    shutil.copy2(solved / "course_lib" / "bucket_brigade.py", root / "submission")
    a1 = get_assignment("a1")
    late = (a1.due + timedelta(hours=30)).astimezone(timezone(timedelta(hours=-8)))
    (root / "submission_metadata.json").write_text(json.dumps({
        "id": 1, "created_at": late.isoformat(timespec="microseconds"),
        "assignment": {"due_date": None, "late_due_date": None, "title": "a1"},
        "users": [{"email": "ada@example.edu", "id": 7, "name": "Ada"}]}))
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    log = (root / "results" / "grader.log").read_text()[-2000:]
    names = {t["name"].split(" ")[1] for t in results["tests"]}
    assert names == set(a1.exercises), log
    assert results["score"] == pytest.approx(0.8 * load_points()["2.2"]), log
    assert "Submitted: 2 days late (-20 %)" in results["output"]
    assert datetime.fromisoformat(late.isoformat()) > a1.due
