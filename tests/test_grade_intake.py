"""How the grader reads submissions in the shapes students make them (classroom/grade.py:
read_submission, locate_modules): no sandbox needed, nothing is run. Maintainers' test."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from classroom.grade import (
    MAX_ZIP_MEMBERS,
    SubmissionRejected,
    exercise_files,
    locate_modules,
    read_submission,
)

MODULES = exercise_files()  # course_lib/auctions.py, course_lib/envs/wireless.py, ...


def text(rel: str) -> bytes:
    return f"# my {rel}\n".encode()


def folder(root: Path, package: str = "course_lib", flat: bool = False) -> Path:
    for rel in MODULES:
        inner = rel.split("/", 1)[1]
        path = root / package / (Path(inner).name if flat else inner)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text(rel))
    return root


def zipped(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


def assert_all_read(found: dict[str, bytes]) -> None:
    assert sorted(found) == MODULES
    assert all(found[rel] == text(rel) for rel in MODULES)


@pytest.mark.parametrize("package", ["course_lib", "course_lib (1)", "Course_Lib", "my work"])
def test_the_package_folder_may_have_any_name(tmp_path, package):
    assert_all_read(read_submission(folder(tmp_path, package)))


def test_a_zip_written_with_backslashes_is_read_as_folders(tmp_path):
    entries = {"student\\course_lib\\" + rel.split("/", 1)[1].replace("/", "\\"): text(rel)
               for rel in MODULES}
    assert_all_read(read_submission(zipped(tmp_path / "win.zip", entries)))
    with pytest.raises(SubmissionRejected, match="unsafe path"):
        read_submission(zipped(tmp_path / "bad.zip", {"..\\evil.py": b""}))


def test_a_zip_or_folder_of_just_the_modules_is_read(tmp_path):
    entries = {Path(rel).name: text(rel) for rel in MODULES}
    assert_all_read(read_submission(zipped(tmp_path / "flat.zip", entries)))
    assert_all_read(read_submission(folder(tmp_path / "f", package="", flat=True)))


def test_a_module_is_found_by_its_path_not_its_name(tmp_path):
    # the whole package uploaded: experiments/society.py is not society.py
    root = folder(tmp_path)
    (root / "course_lib" / "experiments").mkdir()
    (root / "course_lib" / "experiments" / "society.py").write_text("from ..society import x\n")
    found = read_submission(root)
    assert_all_read(found)
    assert "course_lib/experiments/society.py" in found.skipped


def test_leftovers_are_skipped_and_do_not_count(tmp_path):
    root = folder(tmp_path)
    venv = root / ".venv" / "lib"
    venv.mkdir(parents=True)
    for i in range(MAX_ZIP_MEMBERS + 10):  # more than a submission may hold
        (venv / f"f{i}.py").write_text("")
    for junk in ("__MACOSX/course_lib/._auctions.py", "course_lib/.DS_Store",
                 "course_lib/__pycache__/auctions.cpython-311.pyc",
                 "course_lib/.ipynb_checkpoints/auctions-checkpoint.py"):
        (root / junk).parent.mkdir(parents=True, exist_ok=True)
        (root / junk).write_text("x")
    found = read_submission(root)
    assert_all_read(found)
    assert found.skipped == []
    entries = {f"course_lib/{rel.split('/', 1)[1]}": text(rel) for rel in MODULES}
    entries |= {f".venv/lib/f{i}.py": b"" for i in range(MAX_ZIP_MEMBERS + 10)}
    entries |= {"__MACOSX/course_lib/._auctions.py": b"junk"}
    assert_all_read(read_submission(zipped(tmp_path / "venv.zip", entries)))


def test_other_files_are_listed_as_not_graded(tmp_path):
    root = folder(tmp_path)
    (root / "notes.txt").write_text("hi")
    (root / "course_lib" / "helpers.py").write_text("")
    assert read_submission(root).skipped == ["course_lib/helpers.py", "notes.txt"]


def test_nothing_to_grade_says_so(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("")
    with pytest.raises(SubmissionRejected, match="no course_lib folder"):
        read_submission(tmp_path / "empty")


def test_a_linked_package_folder_is_refused_by_name(tmp_path):
    other = folder(tmp_path / "other")
    mine = tmp_path / "mine"
    mine.mkdir()
    os.symlink(other / "course_lib", mine / "course_lib")
    with pytest.raises(SubmissionRejected, match="course_lib is a symbolic link"):
        read_submission(mine)


def test_the_located_modules_favour_the_package_with_the_most_modules():
    paths = [f"backup/course_lib/{MODULES[0].split('/', 1)[1]}"] + [
        f"work/Course_Lib/{rel.split('/', 1)[1]}" for rel in MODULES]
    where = locate_modules(paths)
    assert set(where) == set(MODULES) and all(p.startswith("work/") for p in where.values())


# --------------------------------------------------------------------------------------
# A folder of submissions
# --------------------------------------------------------------------------------------


def test_a_platforms_single_file_uploads_are_grouped_by_student(tmp_path):
    from classroom.grade import batch_entries

    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("lovelaceada_1006_5006_auctions.py", "lovelaceada_1006_5007_bidders-1.py",
                 "turingalan_LATE_1007_5010_auctions.py",
                 "Grace Hopper_2001_assignsubmission_file_society.py", "notes.txt"):
        (batch / name).write_text(f"# {name}\n")
    folder(batch / "s01")
    found = batch_entries(batch)
    assert found.names() == ["Grace Hopper_2001", "lovelaceada_1006", "s01", "turingalan_1007"]
    assert sorted(o for _, o in found.uploads["lovelaceada_1006"]) == ["auctions.py",
                                                                        "bidders.py"]
    assert found.late == {"turingalan_1007"}
    assert found.skipped == ["notes.txt: not a folder, a zip or a platform's upload"]


def test_two_entries_of_one_student_are_an_error_naming_both(tmp_path):
    from classroom.grade import batch_entries

    batch = tmp_path / "batch"
    folder(batch / "lovelaceada_1006")
    (batch / "lovelaceada_1006_5006_auctions.py").write_text("")
    with pytest.raises(ValueError, match="'lovelaceada_1006': lovelaceada_1006 and the uploads"):
        batch_entries(batch)
    (tmp_path / "b2").mkdir()
    for name in ("ada_1_2_auctions.py", "ada_1_3_auctions-1.py"):
        (tmp_path / "b2" / name).write_text("")
    with pytest.raises(ValueError, match="ada_1 uploaded auctions.py twice"):
        batch_entries(tmp_path / "b2")


# --------------------------------------------------------------------------------------
# What the grader keeps between runs: the judge's results and the cache of grades
# --------------------------------------------------------------------------------------


def test_results_appended_by_a_judge_keep_the_last_entry_of_each_test(tmp_path):
    from classroom.grade import read_results

    path = tmp_path / "results.json"
    path.write_text('{"id": "t::a", "outcome": "not run"}\n'
                    '{"id": "t::b", "outcome": "not run"}\n'
                    '{"id": "t::a", "outcome": "passed"}\n'
                    '["not", "an", "entry"]\n'
                    '{"id": "t::b", "outcome": "fai')  # a judge killed while writing
    assert read_results(path) == {"t::a": {"outcome": "passed"},
                                  "t::b": {"outcome": "not run"}}


def test_the_cache_keeps_only_grades_that_depend_on_the_submission_alone(tmp_path):
    from classroom.grade import ExerciseScore, GradeCache, GradeResult

    def result(failures=(), error=""):
        score = ExerciseScore("1.1", "First price", 0.5, 1.0, {"public": 1, "hidden": 0},
                              {"public": 2, "hidden": 0}, list(failures))
        return GradeResult("s", [score], ["course_lib/auctions.py"], error=error)

    cache = GradeCache(tmp_path, {"course": "abc", "hidden": True})
    modules = {"course_lib/auctions.py": b"x = 1\n"}
    key = cache.key(modules)
    assert key == GradeCache(tmp_path, {"hidden": True, "course": "abc"}).key(dict(modules))
    assert key != cache.key({"course_lib/auctions.py": b"x = 2\n"})
    assert key != GradeCache(tmp_path, {"course": "abd", "hidden": True}).key(modules)
    for unsure in (result(["test_a: failed: the test ran longer than 60 s"]),
                   result(["test_b: not run: 2 tests of exercise 1.1 in a row ran out"]),
                   result(error="the tests could not run (a problem of the grader)")):
        cache.put(key, unsure)
        assert cache.get(key) is None
    kept = result(["test_c: failed: expected 0.3, got 0.2"])
    kept.lateness, kept.factor = "2 days late (-20 %)", 0.8
    cache.put(key, kept)
    again = cache.get(key)
    assert again.exercises == kept.exercises and again.raw_score == 0.5
    assert (again.lateness, again.factor) == ("", 1.0)  # lateness is applied anew each run


def test_the_judge_server_runs_judges_to_their_end_or_kills_them(tmp_path):
    """A judge forked from the server (a batch's) may print more than a pipe holds, and one
    that never ends is killed at its time limit."""
    import time

    from classroom.grade import JUDGE_LOG_MB, REPO_ROOT, JudgeServer

    (tmp_path / "test_noisy.py").write_text(
        "import time\n\n"
        "def test_prints_a_lot():\n    print('x' * 6_000_000)\n    assert False\n\n"
        "def test_never_ends():\n    time.sleep(600)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    args = [str(tmp_path / "test_noisy.py"), "-q", "-p", "no:cacheprovider",
            "-p", "no:nbval", "--rootdir", str(tmp_path)]
    with JudgeServer() as server:
        start = time.monotonic()
        server.run(args + ["-k", "prints"], env, tmp_path / "noisy.log", 120)
        assert time.monotonic() - start < 60
        log = (tmp_path / "noisy.log").read_text()
        assert "bytes of output not kept" in log  # the judge ended, its log was capped
        assert len(log) < JUDGE_LOG_MB * 2**20 + 100
        start = time.monotonic()
        server.run(args + ["-k", "never"], env, tmp_path / "stuck.log", 5)
        assert time.monotonic() - start < 40
