"""What ``check`` says about a failing test (issue 18, "Feedback that teaches").

The failures come from a tiny fake exercise (9.1) and its tests, written to a temporary folder
that stands in for the repository: no real exercise or test file is touched. Each test here
asserts the content of the message: what was called, what came back, the test line, numpy's
mismatch, hypothesis' example, the pytest command (which is run, to prove it selects the same
tests), and the file, line and error of a module that does not load.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from course_lib import exercises, failure_summary
from course_lib.contracts import ExerciseContractError

ROOT = Path(__file__).resolve().parents[1]

# The fake exercise: it doubles its values (the tests below expect other things on purpose).
FAKE_EXERCISE = '''
import numpy as np
from course_lib.exercises import exercise


def fake(values, scale=1.0):
    if scale < 0:
        raise IndexError("the scale is negative")  # an error in the "learner's" code
    return np.asarray(values, dtype=float) * 2


body = fake
# Registered as if it lived in course_lib/fake_feedback.py: its tests are
# tests/test_fake_feedback.py.
fake.__module__ = "course_lib.fake_feedback"
fake = exercise("9.1", title="A fake exercise")(fake)


def fake_in_place(values, tag=None):
    values[0] = 99.0  # the "learner" overwrites the input instead of a copy
    return values


# Its tests are tests/test_fake_in_place.py.
fake_in_place.__module__ = "course_lib.fake_in_place"
fake_in_place = exercise("9.2", title="A fake exercise that changes its input")(fake_in_place)
'''

FAKE_TESTS = '''
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fake_exercise import fake


def rows(out):
    return [(int(v), "x") for v in out]


def assert_rows(actual, expected):
    got = rows(actual)
    assert got == expected, (got, expected)


@pytest.mark.exercise("9.1")
def test_numpy_close():
    u = fake([0.9, 0.6, 0.3])
    np.testing.assert_allclose(u, [1.8, 1.2, 0.7])


@pytest.mark.exercise("9.1")
def test_numpy_equal_long():
    np.testing.assert_array_equal(fake(list(range(40))), np.zeros(40))


@pytest.mark.exercise("9.1")
def test_helper_with_got_and_expected():
    out = fake([1, 2])
    assert_rows(out, [(1, "x"), (2, "x")])


@pytest.mark.exercise("9.1")
def test_plain_assert():
    result = fake([1.0, 2.0]).tolist()
    assert result == [1.0, 2.0, 3.0]


@pytest.mark.exercise("9.1")
def test_error_in_the_exercise():
    fake([1.0], scale=-1.0)


@pytest.mark.exercise("9.1")
def test_long_message():
    assert fake([1.0])[0] == 1.0, "the first value should stay as it is " * 12


@pytest.mark.exercise("9.1")
@settings(database=None, deadline=None, derandomize=True)
@given(st.integers())
def test_property_with_three_failures(x):
    fake([x])
    if x > 10:
        raise ValueError("too big")
    if x < -10:
        assert x == 0
    if x == 3:
        raise KeyError(x)


@pytest.mark.exercise("9.1")
@settings(database=None, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 9), min_size=1))
def test_property_with_one_failure(values):
    assert len(fake(values)) == 1


@pytest.mark.exercise("9.1")
def test_that_passes():
    assert fake([0.0])[0] == 0.0


def test_without_a_marker_is_not_run():
    raise AssertionError("an unmarked test must not run under check")
'''


# The tests of 9.2: its body changes the array it is given, and the tests expect it unchanged.
FAKE_IN_PLACE_TESTS = '''
import numpy as np
import pytest

from fake_exercise import fake_in_place


class Uncopyable:
    """An argument that copy.deepcopy cannot copy."""

    def __deepcopy__(self, memo):
        raise TypeError("this object cannot be copied")

    def __repr__(self):
        return "<uncopyable>"


@pytest.mark.exercise("9.2")
def test_changes_its_input():
    values = np.array([0.0, 0.0, 1.0])
    out = fake_in_place(values)
    assert out[0] == 0.0


@pytest.mark.exercise("9.2")
def test_an_argument_that_cannot_be_copied():
    values, tag = np.array([0.5, 0.5]), Uncopyable()
    out = fake_in_place(values=values, tag=tag)
    assert out.tolist() == [0.5, 0.5]
'''


def _at(text: str) -> str:
    """Where the fake tests hold ``text``, as check names a place: "<file>, line <n>"."""
    line = next(k for k, line in enumerate(FAKE_TESTS.splitlines(), 1) if text in line)
    return f"tests/test_fake_feedback.py, line {line}"


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory):
    """A stand-in repository: exercise 9.1 (in tests/fake_exercise.py) and its tests."""
    root = tmp_path_factory.mktemp("repo")
    (root / "tests").mkdir()
    (root / "course_lib").mkdir()  # no exercise in the stand-in's files: 9.1 is registered
    (root / "tests" / "fake_exercise.py").write_text(FAKE_EXERCISE)
    (root / "tests" / "test_fake_feedback.py").write_text(FAKE_TESTS)
    (root / "tests" / "test_fake_in_place.py").write_text(FAKE_IN_PLACE_TESTS)
    return root


@contextlib.contextmanager
def _stand_in(root: Path):
    """The course's paths point at the stand-in and 9.1 is registered; all undone after."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(exercises, "REPO_ROOT", root)
        patch.setattr(failure_summary, "REPO_ROOT", root)  # paths in messages, course files
        patch.setattr(exercises, "PACKAGE_DIR", root / "course_lib")
        patch.setattr(exercises, "TESTS_DIR", root / "tests")
        patch.syspath_prepend(str(root / "tests"))
        import fake_exercise  # registers 9.1

        assert exercises.get_exercise("9.1").impl is fake_exercise.body
        try:
            yield root
        finally:
            for exercise_id in ("9.1", "9.2"):
                exercises._REGISTRY.pop(exercise_id, None)
            for name in ("fake_exercise", "test_fake_feedback", "test_fake_in_place"):
                sys.modules.pop(name, None)


@pytest.fixture
def fake_repo(fake_root):
    with _stand_in(fake_root) as root:
        yield root


@pytest.fixture(scope="module")
def report(fake_root):
    """check("9.1"), once for the tests that read its report."""
    with _stand_in(fake_root):
        return exercises.check("9.1", quiet=True)


def _message(report, name: str) -> str:
    outcome = next(o for o in report.outcomes if o.name == name)
    assert not outcome.passed, f"{name} should fail"
    return outcome.message


def test_only_the_marked_tests_run_and_the_right_ones_fail(report):
    names = {o.name: o.passed for o in report.outcomes}
    assert "test_without_a_marker_is_not_run" not in names
    assert names.pop("test_that_passes") is True
    assert names and not any(names.values())
    assert not report.passed and report.n_passed == 1


def test_a_numpy_mismatch_shows_its_informative_lines(report):
    message = _message(report, "test_numpy_close")
    lines = message.splitlines()
    assert lines[0] == "called:   fake([0.9, 0.6, 0.3])"  # what came back is numpy's ACTUAL
    assert lines[1] == (f"failed:   {_at('assert_allclose(u')}: "
                        "np.testing.assert_allclose(u, [1.8, 1.2, 0.7])")
    assert "Not equal to tolerance rtol=1e-07, atol=0" in lines
    assert "Mismatched elements: 1 / 3 (33.3%)" in lines
    assert "ACTUAL: array([1.8, 1.2, 0.6])" in lines
    assert "DESIRED: array([1.8, 1.2, 0.7])" in lines
    assert all(line.strip() for line in lines), "no empty lines (numpy's text starts with one)"


def test_a_long_numpy_report_keeps_both_arrays_and_cuts_the_rest(report):
    lines = _message(report, "test_numpy_equal_long").splitlines()
    assert "Mismatched elements: 39 / 40 (97.5%)" in lines
    assert sum(bool(re.match(r"\s*\[\d+\]: ", line)) for line in lines) == 3  # of 5
    actual = next(line for line in lines if line.startswith("ACTUAL: array([ 0.,  2.,  4.,"))
    desired = next(line for line in lines if line.startswith("DESIRED: array([0., 0.,"))
    for line in (actual, desired):  # one line each, cut between numbers, marked
        assert len(line) <= 100 and line.endswith(" …"), line
    assert len(lines) <= 12


def test_a_helper_assert_names_what_came_back_and_what_was_expected(report):
    lines = _message(report, "test_helper_with_got_and_expected").splitlines()
    assert lines[:2] == ["called:   fake([1, 2])", "returned: array([2., 4.])"]
    assert lines[2] == (f"failed:   {_at('assert_rows(out')}: "
                        "assert_rows(out, [(1, \"x\"), (2, \"x\")])")
    assert lines[3] == (f"          {_at('assert got ==')}: "
                        "assert got == expected, (got, expected)")
    assert "got = [(2, 'x'), (4, 'x')]" in lines
    assert "expected = [(1, 'x'), (2, 'x')]" in lines
    # pytest's comparison of the two sides follows (and not the bare tuple of both)
    assert "assert [(2, 'x'), (4, 'x')] == [(1, 'x'), (2, 'x')]" in lines
    assert not any(line.startswith("([(2, 'x')") for line in lines)


def test_a_plain_assert_shows_pytests_comparison(report):
    lines = _message(report, "test_plain_assert").splitlines()
    assert lines[2] == (f"failed:   {_at('assert result ==')}: "
                        "assert result == [1.0, 2.0, 3.0]")
    assert "assert [2.0, 4.0] == [1.0, 2.0, 3.0]" in lines
    assert any("At index 0 diff: 2.0 != 1.0" in line for line in lines)
    assert not any("Use -v" in line for line in lines)  # pytest's advice, not for check()


def test_an_error_in_the_exercise_shows_where_it_was_raised(report):
    lines = _message(report, "test_error_in_the_exercise").splitlines()
    assert lines[0] == "called:   fake([1.0], scale=-1.0)"
    assert not any(line.startswith("returned:") for line in lines)  # it raised
    assert lines[1] == (f"failed:   {_at('scale=-1.0)')}: "
                        "fake([1.0], scale=-1.0)")
    assert lines[2] == ("          tests/fake_exercise.py, line 8: "
                        "raise IndexError(\"the scale is negative\")")
    assert lines[3] == "IndexError: the scale is negative"


def test_a_long_message_is_cut_between_words_with_a_marker(report):
    lines = _message(report, "test_long_message").splitlines()
    long_line = next(line for line in lines if line.startswith("the first value"))
    assert long_line.endswith(" …") and len(long_line) <= 100
    words = long_line[:-2].split()
    assert set(words) <= set("the first value should stay as it is".split())


def test_hypothesis_shows_every_distinct_failure_with_its_example(report):
    message = _message(report, "test_property_with_three_failures")
    lines = message.splitlines()
    assert lines[0] == "Hypothesis found 3 distinct failures:"
    assert "ExceptionGroup" not in message
    examples = re.findall(r"(?:Falsifying example|Failing test case): "
                          r"test_property_with_three_failures\(x=(-?\d+)\)", message)
    assert sorted(int(x) for x in examples) == [-11, 3, 11]
    assert "ValueError: too big" in message and "KeyError: 3" in message
    assert "assert -11 == 0" in message
    assert "reproduce_failure" not in message and "Explanation" not in message
    assert [line[:3] for line in lines if re.match(r"\d\. ", line)] == ["1. ", "2. ", "3. "]


def test_hypothesis_single_failure_shows_the_call_and_the_example(report):
    lines = _message(report, "test_property_with_one_failure").splitlines()
    assert lines[0] == "called:   fake([0, 0])"
    assert "assert 2 == 1" in lines
    assert any(re.fullmatch(r"(Falsifying example|Failing test case): "
                            r"test_property_with_one_failure\(values=\[0, 0\]\)", line)
               for line in lines), lines


def test_the_report_prints_the_command_and_how_to_see_everything(fake_root, report):
    text = report.text()
    assert report.command == ("python -m pytest tests/test_fake_feedback.py "
                              "-p course_lib.exercises --exercise 9.1 -vv")
    # run from elsewhere (here: the real repository), the command first goes to the course
    assert report.folder == str(fake_root)
    assert text.splitlines()[-1] == f"    cd {fake_root} && {report.command}"
    assert 'check("9.1", verbose=True)' in text
    # run from inside the course (a notebook in notebooks/): no absolute path to save
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(fake_root / "tests")
        inside = report.text().splitlines()
    assert inside[-2:] == ['  Full output: check("9.1", verbose=True), or in a terminal, from '
                           "the course folder:", f"    {report.command}"]
    cli = report.text(audience="cli")
    assert "python -m course_lib check 9.1 --verbose" in cli and "check(" not in cli
    # the first three failing tests in full, the others in one line each
    assert text.count("\n  x ") == 8
    assert len([line for line in text.splitlines() if re.match(r"  x \w+$", line)]) == 3


def test_the_printed_command_runs_exactly_these_tests(fake_root, report):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COURSE_LIB_REFERENCE": "all"}
    done = subprocess.run(shlex.split(report.command), cwd=fake_root, env=env,
                          capture_output=True, text=True, timeout=300)
    ran = dict(re.findall(r"^tests/test_fake_feedback.py::(\w+) (PASSED|FAILED)",
                          done.stdout, flags=re.MULTILINE))
    assert ran == {o.name: "PASSED" if o.passed else "FAILED" for o in report.outcomes}, (
        done.stdout[-3000:] + done.stderr[-3000:])
    assert "1 deselected" in done.stdout


def test_verbose_shows_pytests_full_report(fake_repo):
    report = exercises.check("9.1", verbose=True, quiet=True)
    text = report.text()
    assert report.verbose and text == report.text(verbose=True)
    outcome = next(o for o in report.outcomes if o.name == "test_numpy_equal_long")
    assert "Mismatched elements: 39 / 40" in outcome.details
    assert "[5]: 10.0 (ACTUAL), 0.0 (DESIRED)" in text  # the fifth index, left out in short
    listing = text.splitlines()
    at = listing.index("          def test_numpy_equal_long():")  # pytest's source listing,
    assert listing[at - 1] == '          @pytest.mark.exercise("9.1")'  # aligned
    assert listing[at + 1].startswith("      >       np.testing.assert_array_equal(")
    assert "The same tests in a terminal" in text and report.command in text


def test_check_prints_the_short_report(fake_repo, capsys):
    report = exercises.check("9.1")
    out = capsys.readouterr().out
    assert out == report.text() + "\n"
    assert out.startswith("Exercise 9.1 - A fake exercise: NOT YET (1/9 tests)\n")


# --------------------------------------------------------------------------------------
# The call as the test made it, and where to see what the short report cuts
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def in_place_report(fake_root):
    """check("9.2"), whose body overwrites the array it is given."""
    with _stand_in(fake_root):
        return exercises.check("9.2", quiet=True)


def test_the_call_is_shown_with_the_arguments_the_test_passed(in_place_report):
    lines = _message(in_place_report, "test_changes_its_input").splitlines()
    # the body set values[0] = 99 in place: the report still shows what the test passed,
    # and the call fails on the rule that inputs are read-only
    assert lines[0] == "called:   fake_in_place(array([0., 0., 1.]))"
    assert lines[1] == "failed:   tests/test_fake_in_place.py, line 21: out = fake_in_place(values)"
    assert lines[2] == ("ExerciseContractError: fake_in_place() changed `values` in place: work "
                        "on a copy (`values.copy()`)")
    verbose = in_place_report.text(verbose=True).splitlines()
    assert "      called:   fake_in_place(array([0., 0., 1.]))" in verbose


def test_an_argument_that_cannot_be_copied_is_shown_as_it_is(in_place_report):
    message = _message(in_place_report, "test_an_argument_that_cannot_be_copied")
    lines = message.splitlines()
    assert lines[0] == "called:   fake_in_place(values=array([0.5, 0.5]), tag=<uncopyable>)"
    # the argument that could be copied is watched: the change to it fails the call
    assert "cannot be copied" not in message
    assert any("fake_in_place() changed `values` in place" in line for line in lines)


def test_the_record_is_a_deep_copy_made_only_while_check_watches(fake_repo, monkeypatch):
    inner = np.zeros(2)
    record = exercises._recorded_call("f", ([inner],), {"table": {"a": inner}})
    inner[0] = 5.0
    assert record["args"][0][0].tolist() == [0.0, 0.0]
    assert record["kwargs"]["table"]["a"].tolist() == [0.0, 0.0]
    copied = []
    monkeypatch.setattr(exercises, "_as_passed", lambda value: copied.append(value) or value)
    import fake_exercise

    with exercises.use_reference("9.2", on=False):  # the fake's own body, whatever is set
        with pytest.raises(ExerciseContractError, match="changed `values` in place"):
            fake_exercise.fake_in_place(np.zeros(2))  # outside check(): nothing is copied
        assert copied == []
        with exercises._watching("9.2"), pytest.raises(ExerciseContractError):
            fake_exercise.fake_in_place(np.zeros(2), tag="t")
    assert len(copied) == 2


def test_a_cut_value_comes_with_how_to_see_it_in_full(report):
    notebook = report.text().splitlines()
    assert ('  "…" marks what is cut short above: check("9.1", verbose=True) shows it in full.'
            in notebook)
    cli = report.text(audience="cli").splitlines()
    assert ('  "…" marks what is cut short above: python -m course_lib check 9.1 --verbose '
            "shows it in full.") in cli
    assert "cut short" not in report.text(verbose=True)  # the verbose report cuts nothing


def test_no_notice_when_nothing_was_cut(in_place_report):
    assert not in_place_report.passed
    for audience in ("notebook", "cli"):
        text = in_place_report.text(audience=audience)
        assert "…" not in text and "cut short" not in text, text


def test_the_verbose_report_shows_the_cut_values_in_full(report):
    short = _message(report, "test_numpy_equal_long").splitlines()
    assert short[0] == "called:   fake([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, …)"
    lines = report.text(verbose=True).splitlines()
    at = lines.index("      called:   fake(")  # the long argument gets a line of its own
    assert lines[at + 1] == " " * 20 + f"[{', '.join(map(str, range(40)))}],"
    assert lines[at + 2] == " " * 16 + ")"
    assert lines[at + 3].startswith("      returned: array([ 0.,  2.,  4.,")
    assert lines[at + 6] == " " * 23 + "78.])"  # every number, as numpy prints the array


def test_call_details_align_a_multi_line_argument():
    utilities = np.array([[1.0, 0.0], [0.5, 0.2], [0.0, 1.0]])
    call = {"function": "f", "args": (3,), "kwargs": {"utilities": utilities},
            "returned": 1.5}
    assert failure_summary.call_details(AssertionError("no"), call) == [
        "called:   f(",
        "              3,",
        "              utilities=array([[1. , 0. ],",
        "                               [0.5, 0.2],",
        "                               [0. , 1. ]]),",
        "          )",
        "returned: 1.5"]
    short = {"function": "f", "args": ([1, 2],), "kwargs": {}}
    assert failure_summary.call_details(AssertionError("no"), short) == ["called:   f([1, 2])"]
    assert failure_summary.call_details(AssertionError("no"), None) == []
    group = Exception("several")  # read as hypothesis' group of failures (Python 3.10 too)
    group.exceptions = [ValueError("a"), KeyError("b")]
    assert failure_summary.call_details(group, call) == []  # the last call may be another's


def test_shows_cut_finds_the_markers_and_rejects_what_is_not_text():
    assert failure_summary.shows_cut("called:   f([0, 1, 2, …)")
    assert failure_summary.shows_cut("ACTUAL: array([0., 1., …")
    assert failure_summary.shows_cut("a\n… (3 more lines)")
    assert not failure_summary.shows_cut('a "…" in quotes, and inside…words')
    assert not failure_summary.shows_cut("called:   f([1, 2])\nassert 2 == 1")
    with pytest.raises(TypeError, match="text of a summary"):
        failure_summary.shows_cut(["a …"])


@pytest.mark.parametrize("kwargs, error", [
    ({"verbose": "yes"}, TypeError), ({"quiet": 1}, TypeError), ({"verbose": None}, TypeError),
])
def test_check_rejects_bad_flags(kwargs, error):
    with pytest.raises(error, match="must be True or False"):
        exercises.check("1.1", **kwargs)


def test_check_rejects_bad_ids():
    with pytest.raises(TypeError, match="strings like"):
        exercises.check(1.2)
    with pytest.raises(ValueError, match="unknown exercise"):
        exercises.check("9.99")


def test_report_text_rejects_bad_arguments(report):
    with pytest.raises(ValueError, match="audience"):
        report.text(audience="terminal")
    with pytest.raises(TypeError, match="verbose"):
        report.text(verbose="no")
    with pytest.raises(ValueError, match='look like "1.2"'):
        exercises.check_command("one")


def test_the_pytest_plugin_rejects_bad_ids():
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/test_auctions.py", "-p",
                           "course_lib.exercises", "--exercise", "1.x", "--collect-only"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert '--exercise takes ids like "1.2", got 1.x' in done.stderr


def test_the_printed_command_selects_the_real_tests_of_an_exercise():
    """On the real tests: the command check prints collects exactly the tests check ran."""
    report = exercises.check("1.2", quiet=True)
    assert report.command == ("python -m pytest tests/test_auctions.py -p course_lib.exercises "
                              "--exercise 1.2 -vv")
    done = subprocess.run([*shlex.split(report.command), "--collect-only"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    collected = set(re.findall(r"<Function (\S+)>", done.stdout))
    assert collected == {o.name for o in report.outcomes} and len(collected) >= 5


# --------------------------------------------------------------------------------------
# A module that does not load, on a temporary copy of the package
# --------------------------------------------------------------------------------------


@pytest.fixture
def course_copy(tmp_path):
    """A copy of course_lib (and the public tests of chapter 1) in a temporary folder."""
    shutil.copytree(ROOT / "course_lib", tmp_path / "course_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "test_bidders.py", tmp_path / "tests")
    return tmp_path


def _break(path: Path, line_text: str) -> int:
    """Append ``line_text`` to the module; returns its line number."""
    text = path.read_text().rstrip("\n") + "\n"
    path.write_text(text + line_text + "\n")
    return text.count("\n") + 1


def _run(copy: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COURSE_LIB_REFERENCE": "", "PYTHONPATH": str(copy)}
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_syntax_error_is_named_by_list_check_and_the_notebook(course_copy):
    line = _break(course_copy / "course_lib" / "bidders.py", "x = (1, 2))")
    where = f"course_lib/bidders.py, line {line}: SyntaxError: unmatched ')'"

    listed = _run(course_copy, "-m", "course_lib", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(r for r in listed.stdout.splitlines() if r.startswith("1.4 "))
    assert "bid_ratio_gradient" in row and "BROKEN" in row
    assert f"{where} (exercise 1.4 cannot be loaded)" in listed.stdout
    assert "Traceback" not in listed.stderr  # the experiments that import bidders say so too
    assert "vickrey " in listed.stdout and "cannot be loaded: " + where in listed.stdout

    checked = _run(course_copy, "-m", "course_lib", "check", "1.4")
    assert checked.returncode == 1, checked.stderr
    assert "unknown exercise" not in checked.stdout + checked.stderr
    assert checked.stdout.splitlines()[:3] == [
        "Exercise 1.4 - Policy-gradient estimate for bid ratios: CANNOT RUN",
        f"  {where}", f"      {line} | x = (1, 2))"]

    notebook = _run(course_copy, "-c", "from course_lib import check; check('1.4')")
    assert notebook.returncode == 0, notebook.stderr
    assert where in notebook.stdout and "CANNOT RUN" in notebook.stdout


def test_a_module_broken_after_import_is_still_reported(course_copy):
    """In a notebook the module was imported before the learner broke the file."""
    script = textwrap.dedent("""
        from pathlib import Path
        import course_lib.bidders
        from course_lib import check, use_reference
        path = Path("course_lib/bidders.py")
        path.write_text(path.read_text() + "def oops(:\\n")
        use_reference("1.4", on=False)  # the id is still known
        report = check("1.4")
        assert not report.passed and "SyntaxError" in report.problem
    """)
    done = _run(course_copy, "-c", script)
    assert done.returncode == 0, done.stderr
    assert "course_lib/bidders.py, line " in done.stdout and "SyntaxError" in done.stdout


def test_an_error_while_importing_names_its_file_and_line(course_copy):
    line = _break(course_copy / "course_lib" / "bidders.py", "undefined_name_in_bidders + 1")
    done = _run(course_copy, "-m", "course_lib", "check", "1.4")
    assert done.returncode == 1, done.stderr
    assert (f"exercise 1.4 cannot be loaded: course_lib/bidders.py, line {line}: NameError: "
            "name 'undefined_name_in_bidders' is not defined") in done.stdout
    script = ("from course_lib.exercises import get_exercise\n"
              "try:\n    get_exercise('1.4')\nexcept ImportError as err:\n    print(err)\n")
    done = _run(course_copy, "-c", script)
    assert f"course_lib/bidders.py, line {line}: NameError" in done.stdout, done.stderr


def test_a_broken_test_file_is_named_with_its_error(course_copy):
    line = _break(course_copy / "tests" / "test_bidders.py", "def broken(:")
    done = _run(course_copy, "-m", "course_lib", "check", "1.4")
    assert done.returncode == 1, done.stderr
    assert (f"tests/test_bidders.py could not be loaded: tests/test_bidders.py, line {line}: "
            "SyntaxError") in done.stdout


def test_the_returned_line_is_left_out_when_numpy_shows_the_same_array():
    # numpy pads its columns ("0.  "); the returned line squeezes spaces: still the same array
    assert failure_summary._shown_as_actual("returned: array([0.5 , 0. , 0.75])",
                                            ["ACTUAL: array([0.5 , 0.  , 0.75])"])
    assert not failure_summary._shown_as_actual("returned: array([0.5 , 0. , 0.75])",
                                                ["ACTUAL: array([0.25, 0.  , 0.75])"])
