"""The autograder against submissions that try to cheat or break it (classroom/grade.py).

Each fixture is a submission built from solutions/ or the stubs plus hostile code
(tests/grading_attacks.py). Each test asserts the score the submission deserves (what the
same submission earns without the attack, where the attack replaces an answer), that no
hidden-test text reaches a report, that no process it started outlives grading, and that it
left nothing outside the grader's workspace. Most grade only the exercises the attack touches
(``only=``), which keeps each fixture to a few seconds. Maintainers' test: needs solutions/
and the sandbox (bubblewrap).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import grading_attacks as attacks
import pytest
from gates import REQUIRE_SANDBOX, skip_or_fail
from grading_fixtures import make_submission

from classroom import sandbox
from classroom.grade import (
    grade,
    grade_folder,
    load_points,
    to_gradescope,
    to_json,
    to_markdown,
)
from course_lib.exercises import solutions_available

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not solutions_available(), reason="needs the repository copy")


@pytest.fixture(autouse=True)
def _needs_the_sandbox():
    if sandbox.bwrap_works():
        skip_or_fail(f"the grader's sandbox is unavailable: {sandbox.bwrap_works()}",
                     REQUIRE_SANDBOX)
POINTS = load_points()
CHAPTER_1 = {"1.1", "1.2", "1.3", "1.4"}
NO_EXERCISE = set()


def by_id(result):
    return {e.id: e.score for e in result.exercises}


def deserved(result, solved):
    return sum(POINTS[i] for i in solved if i in by_id(result))


@pytest.fixture
def token():
    return f"moa{uuid.uuid4().hex[:10]}"


def hostile(dest, token, solved=NO_EXERCISE, **extra):
    """A submission with ``solved`` exercises solved and code appended to modules."""
    files = {f"course_lib/{name.replace('__', '/')}.py": code.replace("TOKEN", token)
             for name, code in extra.items()}
    return make_submission(dest, solved, files)


def survivors(token):
    """Processes on this machine that carry the attack's token in their environment."""
    found = []
    for path in glob.glob("/proc/[0-9]*/environ"):
        try:
            if token.encode() in Path(path).read_bytes():
                found.append(path.split("/")[2])
        except OSError:
            pass
    return found


def test_the_leftover_checks_see_what_they_look_for(tmp_path, token):
    sleeper = subprocess.Popen(["sleep", "30"], env={**os.environ, "MOA_ATTACK": token})
    try:
        for _ in range(40):  # a process just started may not show its environment yet
            if survivors(token):
                break
            time.sleep(0.05)
        assert survivors(token) == [str(sleeper.pid)]
    finally:
        sleeper.kill()
        sleeper.wait()
    (Path(tempfile.gettempdir()) / f"{token}-0").write_text("x")
    try:
        assert left_files(token) != []
    finally:
        (Path(tempfile.gettempdir()) / f"{token}-0").unlink()


def left_files(token):
    places = ("/tmp", "/var/tmp", "/dev/shm", str(Path.home()), str(ROOT),
              tempfile.gettempdir())
    return [p for place in places for p in glob.glob(f"{place}/{token}*")]


def reports(result):
    return [to_markdown(result), json.dumps(to_json(result)), json.dumps(to_gradescope(result))]


def test_forging_the_results_file_earns_nothing(tmp_path, token):
    result = grade(hostile(tmp_path / "sub", token, aloha=attacks.FORGE_RESULTS +
                           attacks.PATCH_JUDGE), only=CHAPTER_1 | {"6.2"})
    assert result.score == 0 and result.error == ""
    time.sleep(0.5)
    assert survivors(token) == []


def test_references_are_out_of_reach(tmp_path, token):
    result = grade(hostile(tmp_path / "sub", token, auctions=attacks.STEAL_REFERENCES),
                   only={"1.1", "1.2"}, hidden=True)
    assert result.score == 0
    assert "could not" not in to_markdown(result)  # it ran, and found nothing to steal
    # The attack is real: without the sandbox it finds the references and scores in full.
    unsafe = grade(hostile(tmp_path / "sub2", token, auctions=attacks.STEAL_REFERENCES),
                   only={"1.1", "1.2"}, mode="none")
    assert unsafe.score == POINTS["1.1"] + POINTS["1.2"]


@pytest.mark.parametrize("patch", [False, True], ids=["liar", "liar-and-patched-judge"])
def test_lying_arrays_and_patched_comparisons_score_like_plain_zeros(tmp_path, token, patch):
    functions = {"auctions": ["auction_utilities"], "bucket_brigade": ["apply_transfers",
                 "steady_state_strengths"], "envs__toy_mdps": ["value_iteration"],
                 "q_learning": ["q_learning_update"], "envs__wireless": ["neighbourhoods"],
                 "wireless_sac": ["td_update"]}
    only = {"1.3", "2.2", "2.4", "3.3", "3.4", "6.1", "6.3"}

    def fixture(name, answer):
        code = {module: attacks.LIAR_CLASS + (attacks.PATCH_JUDGE if patch else "") + "".join(
            f"\ndef {f}(*args, **kwargs):\n    return {answer}\n" for f in names)
            for module, names in functions.items()}
        return hostile(tmp_path / name, token, **code)

    liar = grade(fixture("liar", "_Liar()"), only=only, hidden=True)
    plain = grade(fixture("plain", "_np.zeros(())"), only=only, hidden=True)
    assert liar.score == plain.score
    assert [e.passed for e in liar.exercises] == [e.passed for e in plain.exercises]


def test_no_hidden_test_text_reaches_any_report(tmp_path, token):
    result = grade(hostile(tmp_path / "sub", token, auctions=attacks.LEAK_HIDDEN +
                           "\nimport os as _o\n_o._exit(0)\n"), only={"1.1", "1.2"},
                   hidden=True)
    assert result.score == 0
    hidden_lines = {line.strip() for path in (ROOT / "tests" / "hidden").glob("*.py")
                    for line in path.read_text().splitlines() if len(line.strip()) > 25}
    for text in reports(result):
        assert not [line for line in hidden_lines if line in text]
    # the worker found nothing to leak: its message says so in the public failures
    result = grade(hostile(tmp_path / "sub2", token, auctions=attacks.LEAK_HIDDEN),
                   only={"1.1"}, hidden=True)
    assert "no hidden test found" in to_markdown(result)


def test_a_worker_that_exits_costs_only_its_exercise(tmp_path, token):
    chapter_3 = {"3.1", "3.2", "3.3", "3.4"}
    sub = hostile(tmp_path / "sub", token, chapter_3, society=(
        "\n_real_winner_utility = winner_utility\n"
        "def winner_utility(*args, **kwargs):\n    import os\n    os._exit(0)\n"))
    result = grade(sub, only=chapter_3, hidden=True)
    scores = by_id(result)
    assert scores["3.1"] == 0
    assert {i: scores[i] for i in ("3.2", "3.3", "3.4")} == {
        i: POINTS[i] for i in ("3.2", "3.3", "3.4")}


def test_a_module_that_exits_at_import_costs_only_its_own_exercises(tmp_path, token):
    only = CHAPTER_1 | {"3.2"}
    sub = hostile(tmp_path / "sub", token, only, auctions="raise SystemExit('bye')\n")
    result = grade(sub, only=only, hidden=True)
    scores = by_id(result)
    assert [scores[i] for i in ("1.1", "1.2", "1.3")] == [0, 0, 0]
    assert scores["1.4"] == POINTS["1.4"] and scores["3.2"] == POINTS["3.2"]
    assert "course_lib/auctions.py could not be imported: SystemExit: bye" in to_markdown(result)


def test_a_syntax_error_costs_only_its_module(tmp_path, token):
    only = {"2.1", "2.2", "1.1"}
    sub = hostile(tmp_path / "sub", token, only, bucket_brigade="def broken(:\n")
    scores = by_id(grade(sub, only=only))
    assert scores == {"1.1": POINTS["1.1"], "2.1": 0, "2.2": 0}


def test_catching_the_time_limit_does_not_stop_it(tmp_path, token):
    # 2.4 has few tests (each costs the whole limit); 2.3 beside it must not suffer
    sub = hostile(tmp_path / "sub", token, {"2.3"}, bucket_brigade=attacks.CATCH_TIMEOUT)
    result = grade(sub, only={"2.3", "2.4"}, per_test=4.0)
    assert by_id(result) == {"2.3": POINTS["2.3"], "2.4": 0}
    assert "ran longer than 4 s" in to_markdown(result)
    assert result.seconds < 90


def test_nothing_it_starts_outlives_grading(tmp_path, token):
    sub = hostile(tmp_path / "sub", token, {"1.1"}, auctions=attacks.OUTLIVE)
    result = grade(sub, only={"1.1"})
    assert by_id(result) == {"1.1": POINTS["1.1"]}
    time.sleep(0.5)
    assert survivors(token) == []


def test_filling_the_disk_leaves_nothing_behind(tmp_path, token):
    sub = hostile(tmp_path / "sub", token, {"1.1"}, auctions=attacks.FILL_DISK)
    result = grade(sub, only={"1.1"})
    assert by_id(result) == {"1.1": POINTS["1.1"]}
    assert left_files(token) == []


def test_a_daemon_cannot_edit_the_batch_grades(tmp_path, token):
    batch = tmp_path / "batch"
    hostile(batch / "a_attacker", token, aloha=attacks.EDIT_GRADES)
    make_submission(batch / "b_honest", {"1.1"})
    out = tmp_path / "grades"
    grade_folder(batch, out, only={"1.1", "6.2"}, publish=True)
    time.sleep(1.0)
    rows = {row.split(",")[0]: row.split(",") for row in
            (out / "grades.csv").read_text().splitlines()[1:]}
    assert set(rows) == {"a_attacker", "b_honest"}
    assert float(rows["a_attacker"][1]) == 0
    assert float(rows["b_honest"][1]) == POINTS["1.1"]
    assert json.loads((out / "b_honest.json").read_text())["score"] == POINTS["1.1"]
    assert survivors(token) == []


def test_a_broken_protocol_costs_only_the_broken_calls(tmp_path, token):
    sub = hostile(tmp_path / "sub", token, {"1.2"}, auctions=attacks.BREAK_PROTOCOL)
    result = grade(sub, only={"1.1", "1.2", "1.3"})
    assert by_id(result) == {"1.1": 0, "1.2": POINTS["1.2"], "1.3": 0}
    assert "cannot be returned" in to_markdown(result)


def test_submission_files_are_read_safely(tmp_path, token):
    # a module that is a link to a file of the machine
    link = make_submission(tmp_path / "link", {"1.1"})
    (link / "course_lib" / "aloha.py").unlink()
    (link / "course_lib" / "aloha.py").symlink_to("/etc/passwd")
    result = grade(link, only={"1.1"})
    assert result.score == 0 and "symbolic link" in result.error
    # the same in a zip
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as z:
        info = zipfile.ZipInfo("course_lib/aloha.py")
        info.external_attr = (0o120777 << 16)
        z.writestr(info, "/etc/passwd")
    assert "symbolic link" in grade(archive, only={"1.1"}).error
    # a zip bomb: 200 MB of zeros in 0.2 MB; nothing is unpacked
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("course_lib/auctions.py", "w") as f:
            for _ in range(200):
                f.write(b"\0" * 2**20)
    assert bomb.stat().st_size < 2**20
    started = time.perf_counter()
    result = grade(bomb, only={"1.1"})
    assert "larger than" in result.error and time.perf_counter() - started < 30
    # an empty zip says so
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    assert "is empty" in grade(empty, only={"1.1"}).error


def test_the_sandbox_sees_only_the_worker_folder(tmp_path):
    """Run a probe in the sandbox as the grader runs a worker: no course files, no other
    process, no network, a small private /tmp, and a read-only worker folder."""
    (tmp_path / "probe.py").write_text(r'''
import glob, json, os, socket, sys
repo = sys.argv[1]
found = {"course": [p for p in ("solutions", "tests", "README.md", "course_lib")
                    if os.path.exists(os.path.join(repo, p))],
         "processes": len(glob.glob("/proc/[0-9]*")),
         "writable_here": os.access("/worker", os.W_OK)}
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    found["network"] = True
except OSError:
    found["network"] = False
def fill(path):
    """Write up to 200 MB; how many MB the file holds when the space runs out."""
    try:
        with open(path, "wb") as f:
            for _ in range(200):
                f.write(b"\0" * 2**20)
    except OSError:
        pass
    return os.path.getsize(path) / 2**20
found["tmp_mb"] = fill("/tmp/big")
found["dev_writable"] = os.access("/dev", os.W_OK)
found["shm_mb"] = fill("/dev/shm/big")
import ctypes
found["userns"] = ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0
print(json.dumps(found))
''')
    done = subprocess.run([*sandbox._bwrap_base(tmp_path), sys.executable, "/worker/probe.py",
                           str(ROOT)], capture_output=True, text=True, timeout=120)
    found = json.loads(done.stdout)
    assert found["course"] == []
    assert found["processes"] <= 3 and not found["network"] and not found["writable_here"]
    assert found["tmp_mb"] <= sandbox.TMP_MB
    assert not found["dev_writable"] and found["shm_mb"] <= sandbox.SHM_MB
    assert not found["userns"]  # no user namespace inside: none of its privileges


# --------------------------------------------------------------------------------------
# Scores that mean what they say: no points for no work, none lost for honest work
# --------------------------------------------------------------------------------------


def test_overwriting_the_inputs_earns_nothing(tmp_path, token):
    # zero the inputs in place and answer zeros: a test that computes its expectation from
    # the (now zero) arrays after the call would agree; the call fails instead
    sub = hostile(tmp_path / "sub", token, society=(
        "\ndef winner_utility(mechanism, rewards, gamma, bids, next_bids, next_exists):\n"
        "    import numpy as _np\n"
        "    for _a in (rewards, bids, next_bids):\n        _a[...] = 0\n"
        "    return _np.zeros(_np.shape(rewards))\n"))
    result = grade(sub, only={"3.1"}, hidden=True)
    assert result.score == 0
    assert "winner_utility() changed `rewards`, `bids`, `next_bids` in place" in to_markdown(
        result)


def test_empty_nan_and_the_input_itself_earn_nothing(tmp_path, token):
    sub = hostile(tmp_path / "sub", token, bucket_brigade=(
        "\ndef money_created(initial_strengths, final_strengths, transfers):\n"
        "    import numpy as _np\n    return _np.empty(0)\n"
        "\ndef apply_transfers(strengths, transfers):\n    return strengths\n"),
        envs__toy_mdps=(
        "\ndef value_iteration(mdp, gamma, tol=1e-10, max_iterations=100_000):\n"
        "    import numpy as _np\n    return _np.full(_np.shape(mdp.rewards), _np.nan)\n"))
    result = grade(sub, only={"2.2", "2.3", "3.3"}, hidden=True)
    assert result.score == 0
    report = to_markdown(result)
    assert "should be a finite number, but it is an array of shape (0,)" in report
    assert "apply_transfers() returned `strengths` itself" in report
    assert "should be a float array" in report and "it holds nan" in report


def test_a_link_anywhere_on_the_way_is_refused(tmp_path):
    classmate = make_submission(tmp_path / "classmate", {"6.1"})
    sub = make_submission(tmp_path / "sub", set())
    shutil.rmtree(sub / "course_lib" / "envs")
    (sub / "course_lib" / "envs").symlink_to(classmate / "course_lib" / "envs")
    result = grade(sub, only={"6.1"})
    assert result.score == 0 and "course_lib/envs (on the way to" in result.error


def test_honest_results_in_any_byte_order_arrive_intact(tmp_path, token):
    sub = hostile(tmp_path / "sub", token, {"6.5", "1.3"}, wireless_sac=(
        "\n_own_sensitivity = sensitivity_by_hop\n"
        "def sensitivity_by_hop(*args, **kwargs):\n"
        "    return _own_sensitivity(*args, **kwargs).astype('>f8')\n"), auctions=(
        "\n_own_utilities = auction_utilities\n"
        "def auction_utilities(*args, **kwargs):\n"
        "    return _own_utilities(*args, **kwargs)[..., ::-1].astype('>f8')[..., ::-1]\n"))
    result = grade(sub, only={"6.5", "1.3"}, hidden=True)
    assert by_id(result) == {"1.3": POINTS["1.3"], "6.5": POINTS["6.5"]}, to_markdown(result)


def test_a_random_generator_advances_as_it_does_in_process(tmp_path):
    # tests/test_aloha.py draws twice from one generator: under grading the worker's
    # generator state comes back into the test's
    result = grade(make_submission(tmp_path / "sub", {"6.2"}), only={"6.2"}, hidden=True)
    assert by_id(result) == {"6.2": POINTS["6.2"]}, to_markdown(result)


def test_one_mistake_is_counted_once(tmp_path, token):
    # 1.2 is wrong (it charges the winner its own bid); 1.3's tests call 1.2, and 1.3's own
    # code calls it too (through run_auction): the reference stands in, 1.3 keeps its points
    sub = hostile(tmp_path / "sub", token, {"1.1", "1.3"}, auctions=(
        '\n@exercise("1.2", title="Vickrey (second-price) auction", validate=_check_bids,\n'
        '          returns=_OUTCOME)\n'
        "def vickrey_auction(bids):\n    return first_price_auction(bids)\n"))
    result = grade(sub, only={"1.2", "1.3"}, hidden=True)
    scores = by_id(result)
    assert scores["1.2"] < POINTS["1.2"] / 2 and scores["1.3"] == POINTS["1.3"]
    (row,) = [e for e in result.exercises if e.id == "1.3"]
    assert row.stand_ins == ["1.2"]
    assert "graded with the reference standing in for 1.2" in to_markdown(result)


def test_two_submissions_of_one_name_are_an_error(tmp_path):
    batch = tmp_path / "batch"
    make_submission(batch / "s01", {"1.1"})
    with zipfile.ZipFile(batch / "s01.zip", "w") as z:
        z.writestr("course_lib/auctions.py", "")
    with pytest.raises(ValueError, match="two submissions are named 's01': s01 and s01.zip"):
        grade_folder(batch, tmp_path / "grades", only={"1.1"})
    assert not (tmp_path / "grades").exists()


def test_grading_writes_nothing_into_the_checkout(tmp_path):
    def state():
        return {p.name: p.stat().st_mtime_ns for p in ROOT.iterdir()} | {
            str(p): p.stat().st_mtime_ns for p in (ROOT / ".hypothesis").rglob("*")}

    before = state()
    grade(make_submission(tmp_path / "sub", {"1.1"}), only={"1.1"}, hidden=True)
    assert state() == before


def test_reports_keep_the_hidden_results_until_published(tmp_path):
    result = grade(make_submission(tmp_path / "sub", {"2.4"}), only={"2.4"}, hidden=True)
    assert by_id(result) == {"2.4": POINTS["2.4"]}
    student = to_markdown(result, publish=False)
    assert "hidden" not in student.replace("with the hidden tests", "") and "Grade:" not in student
    assert "4/4" in student  # the public tests, as the student can run them
    data = to_json(result, publish=False)
    assert not {"score", "seconds"} & set(data)
    assert "passed" not in json.dumps(data["exercises"]).replace("public_passed", "")
    gradescope = to_gradescope(result)
    assert "execution_time" not in gradescope
    assert {t["visibility"] for t in gradescope["tests"] if "hidden" in t["name"]} == {
        "after_published"}
    assert f"Grade: {POINTS['2.4']:g} / {POINTS['2.4']:g}" in to_markdown(result, publish=True)


def test_a_huge_exception_name_is_refused_in_the_judge(tmp_path, token):
    sub = hostile(tmp_path / "sub", token, {"1.2"}, auctions=(
        "\ndef first_price_auction(bids):\n"
        "    raise type('E' * 20_000_000, (Exception,), {})('x' * 10_000_000)\n"))
    started = time.perf_counter()
    result = grade(sub, only={"1.1", "1.2"})
    assert by_id(result) == {"1.1": 0, "1.2": POINTS["1.2"]}
    assert "whose type name is not a Python name" in to_markdown(result)
    assert time.perf_counter() - started < 90


def test_the_time_budget_stops_a_submission_that_sleeps_everywhere(tmp_path, token):
    sleepy = "\n".join(f"\ndef {f}(*args, **kwargs):\n    import time\n    time.sleep(30)\n"
                       for f in ("first_price_auction", "vickrey_auction",
                                 "auction_utilities"))
    sub = hostile(tmp_path / "sub", token, auctions=sleepy)
    started = time.perf_counter()
    result = grade(sub, only={"1.1", "1.2", "1.3"}, per_test=2.0, total=12.0)
    assert result.score == 0 and "used its time budget (12 s)" in result.error
    assert time.perf_counter() - started < 60


def test_a_workers_group_limits_processes_and_memory():
    group = sandbox.Cgroup()
    try:
        if group.path is None:
            pytest.skip("no cgroup can be made here")
        assert (group.path / "pids.max").read_text().strip() == str(sandbox.MAX_PROCESSES)
        limit = str(sandbox.GROUP_MEMORY_MB * 2**20)
        if group.memory is not None:  # cgroup v1: a memory group beside the pids group
            assert (group.memory / "memory.limit_in_bytes").read_text().strip() == limit
        elif (group.path / "memory.max").exists():  # v2: the same group
            assert (group.path / "memory.max").read_text().strip() == limit
    finally:
        group.kill_all()
    assert group.path is None or not group.path.exists()
