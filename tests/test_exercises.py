"""Tests of the exercise mechanism itself (registry, switch, friendly errors, check)."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from course_lib import exercises
from course_lib.exercises import (
    ExerciseNotImplementedError,
    ReferenceUnavailableError,
    catalog,
    check,
    get_exercise,
    reference_on,
    use_reference,
)

ROOT = Path(__file__).resolve().parents[1]
ALL_IDS = [row["id"] for row in catalog()]
needs_solutions = pytest.mark.skipif(
    not exercises.solutions_available(),
    reason="maintainer check: needs the reference solutions (not in the student copy)",
)


def test_catalog_lists_chapter_one_exercises():
    rows = {row["id"]: row for row in catalog()}
    assert {"1.1", "1.2", "1.3", "1.4"} <= set(rows)
    assert rows["1.2"]["function"] == "vickrey_auction"
    assert rows["1.2"]["file"] == "course_lib/auctions.py"
    assert rows["1.4"]["module"] == "course_lib.bidders"


@pytest.mark.parametrize("exercise_id", ALL_IDS)
def test_catalog_agrees_with_the_runtime_registry(exercise_id):
    row = next(r for r in catalog() if r["id"] == exercise_id)
    entry = get_exercise(exercise_id)
    module = importlib.import_module(row["module"])
    wrapper = getattr(module, row["function"])
    assert wrapper.__exercise__.id == exercise_id
    assert (entry.module, entry.function, entry.title) == (row["module"], row["function"],
                                                          row["title"])
    assert entry.test_file.exists(), f"public tests missing for {exercise_id}"


def test_exercise_ids_are_unique_in_the_source():
    ids = [row["id"] for row in catalog()]
    assert len(ids) == len(set(ids))


@needs_solutions
@pytest.mark.parametrize("exercise_id", ALL_IDS)
def test_repository_copy_holds_stubs_that_raise(exercise_id):
    """In the repository, course_lib holds stubs; the bodies live in solutions/."""
    entry = get_exercise(exercise_id)
    assert not entry.is_solved(), f"{entry.file}:{entry.function} is not a stub"
    n_params = len(inspect.signature(entry.impl).parameters)
    with pytest.raises(NotImplementedError):
        entry.impl(*([None] * n_params))


@needs_solutions
@pytest.mark.parametrize("exercise_id", ALL_IDS)
def test_stub_and_reference_signatures_match(exercise_id):
    entry = get_exercise(exercise_id)
    assert str(inspect.signature(entry.impl)) == str(inspect.signature(entry.reference()))


@needs_solutions
def test_unsolved_exercise_gives_one_friendly_line():
    from course_lib.auctions import vickrey_auction

    with use_reference("1.2", on=False), pytest.raises(ExerciseNotImplementedError) as info:
        vickrey_auction([0.1, 0.2])
    message = str(info.value)
    assert "\n" not in message
    for part in ("1.2", "vickrey_auction", "course_lib/auctions.py", 'use_reference("1.2")'):
        assert part in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


@needs_solutions
def test_reference_switch_routes_calls_and_restores():
    from course_lib.auctions import vickrey_auction

    with use_reference("all", on=False):
        assert not reference_on("1.2")
        with use_reference("1.2"):
            assert reference_on("1.2") and not reference_on("1.1")
            assert vickrey_auction([0.1, 0.5, 0.3]).price == 0.3
        assert not reference_on("1.2")
        with use_reference("all"), use_reference("1.1", on=False):
            assert reference_on("1.2") and not reference_on("1.1")


def test_use_reference_rejects_bad_ids():
    with pytest.raises(ValueError, match="unknown exercise"):
        use_reference("9.99")
    with pytest.raises(ValueError, match="expected"):
        use_reference("chapter one")
    with pytest.raises(TypeError):
        use_reference(1.2)
    with pytest.raises(TypeError):
        use_reference()


def test_environment_variable_parsing():
    assert exercises._parse_ids("all", "x") == (True, set())
    assert exercises._parse_ids("1.2, 3.1", "x") == (False, {"1.2", "3.1"})
    assert exercises._parse_ids("", "x") == (False, set())
    with pytest.raises(ValueError, match="COURSE"):
        exercises._parse_ids("everything", "COURSE_LIB_REFERENCE")


def test_a_dispatcher_gets_the_validated_call_and_can_be_removed():
    """The grader's seam: with a dispatcher set, calls go to it (after validation), not to
    the body; the reference switch still comes first."""
    from course_lib.auctions import AuctionOutcome, first_price_auction
    from course_lib.contracts import ExerciseContractError

    seen = []
    answer = AuctionOutcome(winner=0, price=0.5)

    def dispatcher(entry, args, kwargs):
        seen.append((entry.id, type(args[0]).__name__))
        return answer

    with use_reference("all", on=False):
        exercises.set_dispatcher(dispatcher)
        try:
            assert first_price_auction([0.2, 0.7]) is answer
            answer = "dispatched"  # what comes back is held to the exercise's contract
            with pytest.raises(ExerciseContractError, match="should be an AuctionOutcome"):
                first_price_auction([0.2, 0.7])
            with pytest.raises(ValueError, match="bids"):
                first_price_auction([])  # validation first: the dispatcher never sees it
            with use_reference("1.1"):
                assert first_price_auction([0.2, 0.7]).winner == 1
        finally:
            exercises.set_dispatcher(None)
        assert seen == [("1.1", "ndarray")] * 2
        with pytest.raises(ExerciseNotImplementedError):
            first_price_auction([0.2, 0.7])
    with pytest.raises(TypeError, match="callable"):
        exercises.set_dispatcher("grader")


def test_validation_runs_before_the_stub():
    """Bad input is reported clearly even when the exercise is not solved yet."""
    from course_lib.auctions import first_price_auction

    with use_reference("all", on=False), pytest.raises(ValueError, match="bids"):
        first_price_auction([])


def test_decorator_rejects_bad_ids():
    with pytest.raises(ValueError):
        exercises.exercise("one", title="x")
    with pytest.raises(ValueError):
        exercises.exercise("1.9", title=" ")


def test_stub_detection():
    def body(src: str) -> list:
        import ast

        return ast.parse(textwrap.dedent(src)).body[0].body

    assert exercises._is_stub_body(body('def f():\n    """doc"""\n    raise NotImplementedError'))
    assert exercises._is_stub_body(body("def f():\n    raise NotImplementedError('todo')"))
    assert not exercises._is_stub_body(body("def f():\n    return 1"))
    assert not exercises._is_stub_body(body("def f():\n    x = 1\n    raise NotImplementedError"))
    assert not exercises._is_stub_body(body('def f():\n    """only a docstring"""'))


@needs_solutions
def test_check_fails_on_the_stub_and_passes_on_a_correct_body():
    report = check("1.2", quiet=True)
    assert not report.passed and report.outcomes
    assert all("not implemented yet" in o.message for o in report.outcomes)
    entry = get_exercise("1.2")
    stub = entry.impl
    entry.impl = entry.reference()  # pretend the learner wrote the reference body
    try:
        report = check("1.2", quiet=True)
    finally:
        entry.impl = stub
    assert report.passed, report.text()
    assert report.n_passed == len(report.outcomes) >= 5


def test_check_rejects_unknown_exercises():
    with pytest.raises(ValueError, match="unknown exercise"):
        check("0.0")


def _run_marked_tests(paths: list[str]) -> dict:
    """Run the tests carrying an exercise marker in a fresh process, references off."""
    script = textwrap.dedent(f"""
        import json, sys, pytest
        from course_lib.exercises import ExerciseSelector
        selector = ExerciseSelector(None)
        pytest.main({paths!r} + ["-q", "-p", "no:cacheprovider", "-p", "no:nbval",
                                 "--rootdir", {str(ROOT)!r}], plugins=[selector])
        sys.stderr.write("RESULTS" + json.dumps(selector.results))
    """)
    env = {**os.environ, "COURSE_LIB_REFERENCE": "", "HYPOTHESIS_PROFILE": "stubs"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    return json.loads(done.stderr.rsplit("RESULTS", 1)[1])


@needs_solutions
def test_with_references_off_every_exercise_test_fails():
    """A test that passes against a stub cannot tell a right answer from none."""
    paths = [str(ROOT / "tests")]
    results = _run_marked_tests(paths)
    assert results, "no exercise tests were collected"
    for exercise_id in ALL_IDS:
        mine = {k: v for k, v in results.items() if exercise_id in v["exercises"]}
        assert mine, f"exercise {exercise_id} has no tests"
        public = [k for k in mine if "/hidden/" not in k]
        hidden = [k for k in mine if "/hidden/" in k]
        assert public, f"exercise {exercise_id} has no public test"
        assert hidden, f"exercise {exercise_id} has no hidden test"
        passing = [k for k, v in mine.items() if v["passed"] is not False]
        assert not passing, f"these tests pass against the stub of {exercise_id}: {passing}"


def test_student_copy_without_solutions_says_so_plainly():
    script = textwrap.dedent("""
        import sys
        sys.modules["solutions"] = None  # as in a copy without the solutions/ folder
        from course_lib import use_reference
        from course_lib.exercises import ReferenceUnavailableError, solutions_available
        assert not solutions_available()
        try:
            use_reference("1.2")
        except ReferenceUnavailableError as err:
            print(err)
        else:
            raise SystemExit("use_reference did not complain")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "COURSE_LIB_REFERENCE": ""})
    assert done.returncode == 0, done.stderr
    assert "not part of this copy" in done.stdout


def test_reference_requested_without_solutions_fails_at_call():
    script = textwrap.dedent("""
        import sys
        sys.modules["solutions"] = None
        sys.modules["solutions.auctions"] = None
        from course_lib.auctions import vickrey_auction
        vickrey_auction([0.1, 0.2])
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "COURSE_LIB_REFERENCE": "all"})
    assert done.returncode != 0
    assert ReferenceUnavailableError.__name__ in done.stderr
    assert "not part of this copy" in done.stderr


@needs_solutions
def test_reloading_a_module_keeps_old_references_working():
    """IPython's autoreload re-executes edited modules; names imported earlier must follow."""
    import course_lib.bidders as bidders

    old_wrapper = bidders.bid_ratio_gradient
    old_impl = get_exercise("1.4").impl
    # the reload makes new classes (LearnToBidResult...): put the module back afterwards, so
    # that tests which imported the old ones in this process still see the module's own
    namespace = dict(vars(bidders))
    impls = {e: get_exercise(e).impl for e in ("1.4",)}
    try:
        importlib.reload(bidders)
        new_impl = get_exercise("1.4").impl
        assert new_impl is not old_impl
        assert new_impl is bidders.bid_ratio_gradient.__wrapped__
        with use_reference("1.4", on=False), pytest.raises(ExerciseNotImplementedError):
            old_wrapper([[0.0]], [[0.0]], [[0.0]], 1.0, [[0]], 1)
    finally:
        vars(bidders).update(namespace)
        for e, impl in impls.items():
            get_exercise(e).impl = impl


def test_check_leaves_the_plotting_backend_alone():
    """check() runs inside the learner's kernel; it must not switch their plots off."""
    import matplotlib

    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        check("1.1", quiet=True)
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)


def test_the_not_implemented_message_fits_where_it_is_shown():
    """The notebook keeps hint() and use_reference; the command line names the hint command,
    its flag and variable."""
    entry = get_exercise("1.2")
    assert entry.hint == entry.hint_for("notebook")
    assert 'use_reference("1.2")' in entry.hint and "--reference" not in entry.hint
    assert 'hint("1.2")' in entry.hint
    cli = entry.hint_for("cli")
    assert "--reference 1.2" in cli and "COURSE_LIB_REFERENCE=1.2" in cli
    assert "python -m course_lib hint 1.2" in cli
    assert "use_reference" not in cli and "\n" not in cli
    err = ExerciseNotImplementedError(entry.hint, "1.2")
    assert exercises.not_implemented_message(err, "cli") == cli
    assert exercises.not_implemented_message(err, "notebook") == entry.hint
    other = ExerciseNotImplementedError("`x` was not made, because of exercise 1.2", "1.2")
    assert exercises.not_implemented_message(other) == str(other)  # not the standard one
    with pytest.raises(ValueError, match="audience"):
        entry.hint_for("terminal")
    with pytest.raises(ValueError, match="audience"):
        exercises.not_implemented_message(err, "web")
    with pytest.raises(TypeError, match="ExerciseNotImplementedError"):
        exercises.not_implemented_message(ValueError("x"))


@needs_solutions
def test_check_report_words_the_unsolved_message_for_its_audience():
    with use_reference("1.1"):  # check switches 1.1 off for itself, whatever is set here
        report = check("1.1", quiet=True)
    notebook, cli = report.text(), report.text(audience="cli")
    assert 'use_reference("1.1")' in notebook and 'check("1.1", verbose=True)' in notebook
    assert "--reference 1.1" in cli and "use_reference" not in cli
    assert "python -m course_lib check 1.1 --verbose" in cli
    assert reference_on("1.1")


def _row(**changes):
    row = {"id": "7.1", "title": "Short", "module": "course_lib.m", "function": "f",
           "file": "course_lib/m.py", "solved": False, "reference": False, "broken": None}
    return {**row, **changes}


def test_format_catalog_wraps_long_titles_between_words_and_keeps_columns_aligned():
    title = "A very long title about auctions that a teacher wrote for an exercise of the course"
    rows = [_row(title=title, function="a_function_with_a_long_name",
                 file="course_lib/envs/a_deep/folder/module_name.py"), _row(id="7.2")]
    lines = exercises.format_catalog(rows, title_width=30).splitlines()
    header = lines[0]
    start, end = header.index("title"), header.index("function")
    pieces = [line[start:end].strip() for line in lines[1:-1]]
    assert " ".join(pieces) == title  # every word kept, in order, none cut
    assert all(len(p) <= 30 for p in pieces)
    assert lines[1][header.index("file"):].startswith(rows[0]["file"] + " ")
    assert lines[-1][header.index("function"):].startswith("f ")
    assert lines[-1][header.index("written"):].startswith("no ")
    with pytest.raises(ValueError, match="title_width"):
        exercises.format_catalog(rows, title_width=3)
    with pytest.raises(TypeError, match="rows"):
        exercises.format_catalog("1.1")


def test_format_catalog_marks_a_broken_file_and_names_it():
    broken = "course_lib/m.py, line 3: SyntaxError: unmatched ')'"
    text = exercises.format_catalog([_row(broken=broken), _row(id="7.2", broken=broken)],
                                    reference=True)
    assert [line.split()[-2] for line in text.splitlines()[1:3]] == ["BROKEN", "BROKEN"]
    student = exercises.format_catalog([_row(broken=broken)], reference=False)
    assert student.splitlines()[1].split()[-1] == "BROKEN" and "reference" not in student
    assert text.endswith(f"broken:\n  {broken} (exercises 7.1, 7.2 cannot be loaded)")  # once


def test_catalog_reads_the_exercises_of_a_file_with_a_syntax_error(tmp_path):
    path = tmp_path / "module.py"
    path.write_text(textwrap.dedent('''
        from course_lib.exercises import exercise


        @exercise("7.1", title="One"
                  " title")
        def first(x):
            raise NotImplementedError


        @exercise("7.2", title="Two")
        def second(x):
            return x)
    '''))
    rows = exercises._scan_file(path)
    assert [(r["id"], r["title"], r["function"], r["line"]) for r in rows] == [
        ("7.1", "One title", "first", 7), ("7.2", "Two", "second", 12)]
    assert all(r["broken"].endswith("line 13: SyntaxError: unmatched ')'") for r in rows)
    assert all(r["broken"].startswith(str(path)) for r in rows)  # outside the repo: in full


def test_every_catalog_row_says_whether_its_file_is_broken():
    assert all(row["broken"] is None for row in catalog())


def test_describe_error_names_file_line_and_error():
    err = SyntaxError("unmatched ')'", (str(ROOT / "course_lib" / "bidders.py"), 57, 9, "x)"))
    assert exercises.describe_error(err) == (
        "course_lib/bidders.py, line 57: SyntaxError: unmatched ')'")
    assert exercises.describe_error(KeyError("k")) == "KeyError: 'k'"


@needs_solutions
def test_marked_test_results_stay_plain_data():
    """Grading tools read ExerciseSelector's results as JSON: the new fields are text."""
    results = _run_marked_tests([str(ROOT / "tests" / "test_auctions.py")])
    mine = [row for row in results.values() if "1.2" in row["exercises"]]
    assert mine and all(row["passed"] is False for row in mine)
    assert all(row["unsolved"] == "1.2" and 'use_reference("1.2")' in row["message"]
               for row in mine)
    assert all("ExerciseNotImplementedError" in row["details"] for row in mine)


# --------------------------------------------------------------------------------------
# The contracts every exercise is held to (course_lib/contracts.py)
# --------------------------------------------------------------------------------------


def test_a_body_that_changes_an_input_or_returns_one_fails_by_name():
    from course_lib.contracts import ExerciseContractError, guarded_call

    def call(body, *args):
        names = {f"a{i}": a for i, a in enumerate(args)}
        return guarded_call("f", body, args, {}, names)

    def grow(x):
        x.append(1)
        return [0]

    def first_row(x):
        return x[0]

    x = np.zeros((2, 3))
    with pytest.raises(ExerciseContractError, match=r"changed `a0` in place"):
        call(lambda a: a.__setitem__(0, 1.0) or np.ones(3), x)
    with pytest.raises(ExerciseContractError, match=r"changed `a0` in place"):
        call(grow, [])
    with pytest.raises(ExerciseContractError, match=r"returned `a0` itself or a view of it"):
        call(first_row, x)
    with pytest.raises(ExerciseContractError, match=r"returned `a0` itself"):
        call(lambda a: a, x)
    rng = np.random.default_rng(0)  # a generator advances: that is its purpose
    assert call(lambda a, g: a + g.random(), x, rng).shape == (2, 3)
    assert call(lambda a: a.copy(), x) is not x


def test_return_contracts_say_what_was_expected():
    from course_lib.contracts import Array, ExerciseContractError, Number, check_return

    args = {"q": np.zeros((2, 3))}
    table = Array(lambda a: a["q"].shape)
    check_return("f", table, np.ones((2, 3)), args)
    check_return("f", Number(low=0, high=1), np.float64(0.5), args)
    bad = [(table, np.empty(0), "shape (0,); expected (2, 3)"),
           (table, np.full((2, 3), np.nan), "it holds nan"),
           (table, [[0.0] * 3] * 2, "it is list"),
           (Array(lambda a: (2,), "int"), np.zeros(2), "its dtype is float64"),
           (Number(), np.empty(0), "should be a finite number, but it is an array"),
           (Number(), float("inf"), "it is inf"),
           (Number(), True, "it is bool"),
           (Number(low=0, high=1), 1.5, "outside [0, 1]")]
    for rule, value, message in bad:
        with pytest.raises(ExerciseContractError, match=re.escape(message)):
            check_return("f", rule, value, args)
