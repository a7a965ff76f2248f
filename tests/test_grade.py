"""The autograder (classroom/grade.py) on fixture submissions: correct, empty, partial and
hostile ones. Maintainers' test: the submissions are built from solutions/."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from gates import REQUIRE_SANDBOX, skip_or_fail
from grading_fixtures import make_submission

from classroom import sandbox
from classroom.grade import (
    ExerciseScore,
    GradeResult,
    grade,
    grade_folder,
    load_points,
    to_gradescope,
    to_markdown,
)
from course_lib.exercises import catalog, solutions_available

pytestmark = pytest.mark.skipif(not solutions_available(), reason="needs the repository copy")
POINTS = load_points()


@pytest.fixture(autouse=True)
def _needs_the_sandbox(request):
    if request.node.name not in ("test_points_cover_every_exercise",
                                 "test_the_report_groups_failures_by_exercise",
                                 "test_the_grading_seed_alone_draws_the_examples_even_under_ci") \
            and sandbox.bwrap_works():
        skip_or_fail(f"the grader's sandbox is unavailable: {sandbox.bwrap_works()}",
                     REQUIRE_SANDBOX)
FULL = sum(POINTS.values())


def by_id(result):
    return {e.id: e.score for e in result.exercises}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("submissions")


def test_points_cover_every_exercise():
    assert set(POINTS) == {row["id"] for row in catalog()}
    assert all(p > 0 for p in POINTS.values())


def test_the_report_groups_failures_by_exercise():
    """One heading per exercise, and one line for every test that stopped at an unsolved
    exercise instead of one "not implemented yet" per test."""
    stub = ExerciseScore("1.3", "Bidders' utilities", 0.0, 1.0, {"public": 0, "hidden": 0},
                         {"public": 3, "hidden": 2},
                         [f"test_{i}: not implemented yet" for i in range(3)])
    mixed = ExerciseScore("2.1", "Who pays whom", 0.5, 1.0, {"public": 1, "hidden": 0},
                          {"public": 4, "hidden": 0},
                          ["test_a: not implemented yet", "test_b: not implemented yet",
                           "test_tax: failed: expected 0.3 got 0.2"])
    done = ExerciseScore("1.1", "First price", 1.0, 1.0, {"public": 2, "hidden": 0},
                         {"public": 2, "hidden": 0}, [])
    report = to_markdown(GradeResult("s", [done, stub, mixed], ["course_lib/auctions.py"]))
    section = report.split("## Public tests that did not pass", 1)[1]
    assert section.count("###") == 2 and "1.1" not in section
    assert ("### 1.3 Bidders' utilities: 0 of 3 public tests passed\n\n"
            "- not implemented yet: all 3 public tests stopped at an unsolved exercise") in section
    assert ("### 2.1 Who pays whom: 1 of 4 public tests passed\n\n"
            "- not implemented yet: 2 public tests stopped at an unsolved exercise\n"
            "- test_tax: failed: expected 0.3 got 0.2") in section
    assert section.count("not implemented yet") == 2
    outputs = {t["name"]: t["output"] for t in to_gradescope(
        GradeResult("s", [stub], []))["tests"]}
    assert outputs["Exercise 1.3 Bidders' utilities (public tests)"] == (
        "0 of 3 passed\nnot implemented yet: all 3 public tests stopped at an unsolved exercise")


def test_a_correct_submission_scores_everything_public_and_hidden(work):
    result = grade(make_submission(work / "correct"), hidden=True)
    assert result.error == "" and result.score == FULL == result.max_score
    assert all(e.total["hidden"] > 0 for e in result.exercises)
    report = to_gradescope(result)
    assert report["score"] == FULL
    assert {t["visibility"] for t in report["tests"]} == {"visible", "after_published"}
    assert sum(t["max_score"] for t in report["tests"]) == pytest.approx(FULL)
    json.dumps(report)
    assert to_markdown(result).startswith(f"# Grade: {FULL:g} / {FULL:g}")


def test_an_empty_submission_scores_nothing(work):
    (work / "empty" / "course_lib").mkdir(parents=True)
    result = grade(work / "empty")
    assert result.score == 0 and result.modules == []
    assert "1.1" in to_markdown(result)


def test_a_partial_submission_earns_exactly_its_exercises(work):
    solved = {"1.1", "1.2", "3.1", "6.3"}
    result = grade(make_submission(work / "partial", solved), only=solved | {"1.3", "6.4"})
    scores = by_id(result)
    assert {i for i, s in scores.items() if s > 0} == solved
    assert result.score == sum(POINTS[i] for i in solved)


def test_a_zip_is_graded_like_a_folder(work):
    folder = make_submission(work / "zipped", {"2.1"})
    archive = work / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in folder.rglob("*.py"):
            z.write(path, Path("student") / path.relative_to(folder))
    assert by_id(grade(archive, only={"2.1", "2.2"})) == {"2.1": POINTS["2.1"], "2.2": 0}


def test_a_crash_at_import_still_yields_results(work):
    sub = make_submission(work / "crash", extra={
        "course_lib/wireless_sac.py": 'raise RuntimeError("boom at import")\n'})
    result = grade(sub, only={"1.1", "6.3", "6.4", "6.5", "6.6"})
    scores = by_id(result)
    for ex in ("6.3", "6.4", "6.5"):
        assert scores[ex] == 0
    assert scores["1.1"] == POINTS["1.1"]  # what does not import the broken module works
    assert scores["6.6"] == POINTS["6.6"]  # its tests do not import wireless_sac


def test_hostile_submissions_lose_only_what_they_broke(work):
    sub = make_submission(work / "hostile", extra={
        # 3.2 never returns
        "course_lib/society.py": "def society_auction(bids):\n    while True:\n        pass\n",
        # 1.2 prints 20 MB at each of its first four calls in a process (80 MB: more than
        # a worker may write to a file; the output is drained, kept up to a cap, never an
        # error; at every call, its property tests would take minutes on any machine);
        # 4.4 allocates without bound
        "course_lib/auctions.py": (
            "import sys as _sys, os as _os\n_real = vickrey_auction\n_loud = [1, 1, 1, 1]\n"
            "def vickrey_auction(bids):\n"
            "    if _loud:\n        _loud.pop()\n"
            "        for _ in range(10):\n            _sys.stdout.write('x' * 10**6)\n"
            "        _os.write(1, b'y' * 10**7)\n"
            "    return _real(bids)\n"),
        "course_lib/transfer.py": (
            "def weight_shift(before, after, threshold=0.01):\n"
            "    import numpy as _np\n    return _np.ones(10**12)\n"),
        # 6.1 replaces the judge: numpy's assert_array_equal accepts anything afterwards
        "course_lib/envs/wireless.py": (
            "_real_neighbourhoods = neighbourhoods\n"
            "def neighbourhoods(access, k):\n"
            "    import numpy.testing as _t\n"
            "    _t.assert_array_equal = lambda *a, **k: None\n"
            "    return _real_neighbourhoods(access, k) & False\n"),
    })
    result = grade(sub, per_test=6.0, only={"1.1", "1.2", "2.1", "3.1", "3.2", "4.1", "4.4",
                                            "5.1", "6.1", "6.2", "6.3"})
    scores = by_id(result)
    for broken in ("3.2", "4.4"):
        assert scores[broken] == 0, (broken, result.exercises)
    # 6.1's wrong answer earns what a wrong answer earns (its tests of bad input pass); the
    # patch only changed the worker's numpy (tests/test_grade_attacks.py compares twins)
    assert scores["6.1"] < POINTS["6.1"]
    for fine in ("1.1", "1.2", "2.1", "3.1", "4.1", "5.1", "6.2", "6.3"):
        assert scores[fine] == POINTS[fine], fine
    assert result.seconds < 300


def test_deleting_the_test_files_reaches_nothing(tmp_path):
    batch = tmp_path / "batch"
    make_submission(batch / "a_tamperer", extra={
        "course_lib/aloha.py": (
            "import glob as _g, os as _o\n"
            "for _p in _g.glob('tests/test_*.py'):\n"
            "    _o.remove(_p)\n")})
    make_submission(batch / "b_honest", {"1.1"})
    grade_folder(batch, tmp_path / "grades", only={"1.1", "6.2"}, publish=True)
    tamperer = json.loads((tmp_path / "grades" / "a_tamperer.json").read_text())
    honest = json.loads((tmp_path / "grades" / "b_honest.json").read_text())
    # the worker cannot see the tests: the deletion reaches nothing, and the (correct)
    # submission earns what it deserves; the next student's grading is untouched
    assert tamperer["score"] == POINTS["1.1"] + POINTS["6.2"]
    assert (Path(__file__).parent / "test_auctions.py").exists()
    assert honest["score"] == POINTS["1.1"]


def test_grading_a_folder_of_submissions_writes_one_csv_and_reports(work, tmp_path):
    batch = tmp_path / "batch"
    make_submission(batch / "ada", {"1.1"})
    (batch / "bob").mkdir()  # no course_lib at all
    # Canvas's download of a learner's single-file upload, marked late
    solved = make_submission(tmp_path / "cy", {"1.1"})
    shutil.copyfile(solved / "course_lib" / "auctions.py",
                    batch / "cycarla_LATE_1009_7001_auctions-1.py")
    (batch / "notes.txt").write_text("ignored")
    csv_path = grade_folder(batch, tmp_path / "grades", only={"1.1", "1.2"})
    rows = csv_path.read_text().splitlines()
    assert rows[0].startswith("student,score,max_score,1.1")
    assert rows[1].startswith(f"ada,{POINTS['1.1']}")
    assert rows[2].startswith("bob,0") and "no course_lib" in rows[2]
    assert rows[3].startswith(f"cycarla_1009,{POINTS['1.1']}") and ",late," in rows[3]
    assert (tmp_path / "grades" / "ada.md").exists()
    assert (tmp_path / "grades" / "bob.json").exists()
    # the learners' reports hold no score until published; the teacher's files do
    assert "score" not in json.loads((tmp_path / "grades" / "ada.json").read_text())
    assert "not graded: notes.txt: not a folder, a zip or a platform's upload" in (
        tmp_path / "grades" / "summary.txt").read_text()
    assert (tmp_path / "grades" / "similarity.csv").read_text().startswith("exercise,")


def test_a_teachers_own_tests_are_graded_with_their_own_points(work):
    from solutions.bucket_brigade import steady_state_strengths as reference

    private = work / "private"
    private.mkdir()
    expected = [float(x) for x in reference(4, 2.0, 0.1, 0.05)]
    (private / "test_mine.py").write_text(
        "import numpy as np\nimport pytest\n"
        "from course_lib.bucket_brigade import steady_state_strengths\n\n\n"
        '@pytest.mark.exercise("2.4")\n'
        "def test_four_stages():\n"
        f"    np.testing.assert_allclose(steady_state_strengths(4, 2.0, 0.1, 0.05), {expected})\n")
    (private / "points.json").write_text('{"points": {"2.4": 3}}')
    solved = grade(make_submission(work / "solved", {"2.4"}), only={"2.4"}, extra=private)
    stub = grade(make_submission(work / "stub", set()), only={"2.4"}, extra=private)
    assert [(e.id, e.score, e.max_score) for e in solved.extra] == [("2.4", 3.0, 3.0)]
    assert solved.score == POINTS["2.4"] + 3 and stub.score == 0
    assert "teacher's own tests" not in to_markdown(solved, publish=False)
    assert "| 2.4 The steady state in closed form (extra tests) | 3 / 3 | 1/1 |" in to_markdown(
        solved)
    (private / "points.json").write_text('{"points": {"9.9": 3}}')
    with pytest.raises(ValueError, match="known exercise ids"):
        grade(work / "solved", only={"2.4"}, extra=private)


# 1.1 gives a tie above 0.5 in a batch of auctions to the last of the tied bidders: under the
# grading seed the property tests' first such example is their 61st
TIES_TO_THE_LAST = (
    "import numpy as _np\n_real_first = first_price_auction\n"
    "def first_price_auction(bids):\n"
    "    out = _real_first(bids)\n"
    "    b = _np.asarray(bids)\n"
    "    if b.ndim != 2:\n"
    "        return out\n"
    "    winner = _np.array(out.winner)\n"
    "    for row, bid in enumerate(b):\n"
    "        tied = _np.flatnonzero(bid == bid.max())\n"
    "        if len(tied) > 1 and bid.max() > 0.5:\n"
    "            winner[row] = tied[-1]\n"
    "    return type(out)(winner, out.price)\n")


def _drawn(message):
    """The failing example's array in a failure message, whitespace aside (Hypothesis's
    note and the replay's lay it out differently)."""
    found = re.search(r"bids=(array\(.*?\]\))", message, re.S)
    return re.sub(r"\s", "", found.group(1)) if found else None


_DRAWS = """
import importlib.util, os
from pathlib import Path
from hypothesis import given, strategies as st

spec = importlib.util.spec_from_file_location("course_tests_conftest", {conftest!r})
spec.loader.exec_module(importlib.util.module_from_spec(spec))


@given(st.integers(0, 10**9))
def test_draws(x):
    with open(os.environ["DRAWN"], "a") as f:
        f.write(f"{{x}}\\n")
"""


def test_the_grading_seed_alone_draws_the_examples_even_under_ci(tmp_path):
    """A CI variable (GitHub Actions, most CI services) makes Hypothesis load its "ci"
    profile, which derandomizes: examples from the test's source, --hypothesis-seed ignored.
    The grading profile must not inherit that, or the secret would not choose the examples."""
    import os
    import subprocess
    import sys

    test = tmp_path / "test_draws.py"
    test.write_text(_DRAWS.format(conftest=str(Path(__file__).with_name("conftest.py"))))

    def drawn(seed, **ci):
        out = tmp_path / f"drawn-{seed}-{len(ci)}.txt"
        env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
        env.update(ci, DRAWN=str(out), HYPOTHESIS_PROFILE="grading")
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "-p", "no:xdist", "-p", "no:nbval", str(test), "--rootdir", str(tmp_path),
                        f"--hypothesis-seed={seed}"],
                       cwd=tmp_path, env=env, check=True, capture_output=True)
        return out.read_text().split()

    plain = drawn(1)
    assert len(plain) == 100 and plain == drawn(1, CI="true", GITHUB_ACTIONS="true")
    assert drawn(2, CI="true") != plain


def test_a_long_failure_keeps_its_first_line_and_its_failing_example_whole():
    from classroom.judge_plugin import clipped

    error = "AssertionError: \nArrays are not equal\n" + "0.84911366, " * 400
    for note in ("\nFalsifying example (7 of 150): bids=array([[0.6385, 0.8491]])",
                 "\nFailing test case: test_x(\n    bids=array([[0.6385, 0.8491]]),\n)"):
        message = clipped(error + note)
        assert message.endswith(note) and message.startswith(error[:1000])
        assert len(message) < 1500 + len(note) + 10 < len(error)
    assert clipped("short") == "short"
    endless = clipped(error + "\nFalsifying example (1 of 2): x=" + "9" * 5000)
    assert len(endless) < 2800 and endless.endswith(" …")


def test_a_batch_replays_the_examples_that_a_single_grade_draws(work, tmp_path, monkeypatch):
    from classroom import examples
    from classroom import grade as grading
    from classroom.grade import JudgeServer

    with JudgeServer() as server:
        recorded = server.record_examples(["tests/test_auctions.py", "tests/test_bidders.py"],
                                          None, {"1.1", "1.4"})
        calls = examples.load(server.examples)
    # every example of a plain property test, in order; none of a test that draws inside
    # its body (st.data(): its draws may depend on the submission's answers)
    assert recorded == len(calls) and len(calls[
        "tests/test_auctions.py::test_property_matches_one_auction_at_a_time[first_price]"]) == 150
    assert not [n for n in calls if "test_bidders" in n or "vickrey" in n]

    sub = make_submission(tmp_path / "batch" / "tied", {"1.1"},
                          extra={"course_lib/auctions.py": TIES_TO_THE_LAST})
    judged = []  # the raw results of every judge
    real_run_judge = grading.run_judge

    def run_judge(*args, **kwargs):
        judged.append(real_run_judge(*args, **kwargs))
        return judged[-1]

    monkeypatch.setattr(grading, "run_judge", run_judge)
    single = {e.id: e for e in grade(sub, only={"1.1"}).exercises}["1.1"]
    grade_folder(tmp_path / "batch", tmp_path / "grades", only={"1.1"}, publish=True)
    batch = json.loads((tmp_path / "grades" / "tied.json").read_text())["exercises"][0]
    # the same tests fail, property tests among them, with the same messages
    assert single.failures == batch["failures"] and batch["passed"] == single.passed
    # on the same example: the single grade's drawn live by Hypothesis (whatever else its
    # judge imported), the batch's replayed from the recording against the references
    runs = [r for r in judged if any(v["outcome"] == "failed" for v in r.values())]
    assert len(runs) == 2  # besides these, the judges that collect the tests and record
    live, replayed = runs
    failed = [t for t, r in live.items() if "test_property" in t and r["outcome"] == "failed"]
    assert len(failed) == 2
    stops = set()
    for test in failed:
        # the replay names the example it stopped at, the first that fails, of all 150
        stop = re.search(r"Falsifying example \((\d+) of 150\)", replayed[test]["message"])
        assert stop, replayed[test]["message"]
        stops.add(int(stop.group(1)))
        assert _drawn(live[test]["message"]) == _drawn(replayed[test]["message"]) is not None
    # both tests draw the same stream from the seed: the same example fails both, not the first
    assert len(stops) == 1 and min(stops) > 1
    assert len([f for f in single.failures if f.startswith("test_property")]) == 2
    assert len(single.failures) < single.total["public"]
