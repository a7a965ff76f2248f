"""The Gradescope bundle (classroom/gradescope.py, ``make gradescope``), unpacked into a
simulated ``/autograder`` layout and run on a submission as Gradescope would run it.
Maintainers' test: the submission is built from solutions/; it needs the sandbox."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from gates import REQUIRE_SANDBOX, skip_or_fail
from grading_fixtures import make_submission

from classroom import sandbox
from classroom.grade import load_points
from classroom.gradescope import build_bundle
from course_lib.exercises import solutions_available

pytestmark = pytest.mark.skipif(not solutions_available(), reason="needs the repository copy")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build_bundle(tmp_path_factory.mktemp("bundle") / "autograder.zip",
                        secret="s3cret-of-the-class")


def test_the_bundle_holds_the_course_and_the_secret(bundle):
    names = zipfile.ZipFile(bundle).namelist()
    assert {"setup.sh", "run_autograder", "grading/points.json", "pyproject.toml",
            "requirements.txt", "classroom/grade.py", "course_lib/auctions.py",
            "tests/conftest.py", "tests/test_auctions.py", "data/mnist_classifier.pt",
            "solutions/auctions.py", "grading/secret"} <= set(names)
    assert any(n.startswith("tests/hidden/test_") for n in names)
    assert not [n for n in names if "test_grade" in n or "degenerate" in n
                or "__pycache__" in n]
    assert zipfile.ZipFile(bundle).read("grading/secret") == b"s3cret-of-the-class"
    modes = {i.filename: i.external_attr >> 16 for i in zipfile.ZipFile(bundle).infolist()}
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111


def test_run_autograder_grades_a_submission_in_the_gradescope_layout(bundle, tmp_path):
    if sandbox.bwrap_works():
        skip_or_fail(f"the grader's sandbox is unavailable: {sandbox.bwrap_works()}",
                     REQUIRE_SANDBOX)
    root = tmp_path / "autograder"
    zipfile.ZipFile(bundle).extractall(root / "source")
    # Gradescope takes the files a student uploads one by one: two solved modules
    solved = make_submission(tmp_path / "student", {"1.1", "1.2", "6.2"})
    (root / "submission").mkdir(parents=True)
    for rel in ("course_lib/auctions.py", "course_lib/aloha.py"):
        shutil.copy2(solved / rel, root / "submission")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    points = load_points()
    assert results["score"] == points["1.1"] + points["1.2"] + points["6.2"], (
        (root / "results" / "grader.log").read_text()[-2000:])
    names = {t["name"] for t in results["tests"]}
    assert "Exercise 1.1 First-price auction (hidden tests)" in names
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_published"}
    assert oct((root / "source").stat().st_mode & 0o777) == "0o700"
    # the hidden cases came from the bundle's secret, not the public default
    assert "no grading secret" not in (root / "results" / "grader.log").read_text()
