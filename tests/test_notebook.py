"""Tests of the notebook helpers (course_lib/notebook.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from course_lib import exercises
from course_lib.notebook import (
    environment_report,
    install_friendly_errors,
    session_info,
    setup_notebook,
)


def test_setup_notebook_outside_ipython_reports_its_settings(capsys):
    assert setup_notebook(seed=3) is None
    out = capsys.readouterr().out
    assert "mode:" in out and "device:" in out
    # a copy without the references (the student copy) says nothing about them
    assert ("reference solutions in use" in out) == exercises.solutions_available()
    assert "seed: 3" in out
    info = session_info(3)
    assert set(info) == {"quick", "device", "references", "seed"}
    assert info["seed"] == 3 and info["device"] in out


def test_setup_notebook_sets_the_mode_when_asked(capsys):
    from course_lib import config

    try:
        setup_notebook(seed=0, quick=True)
        assert config.is_quick() and "mode: quick" in capsys.readouterr().out
        setup_notebook(seed=0, quick=False)
        assert not config.is_quick() and "mode: full" in capsys.readouterr().out
        with pytest.raises(TypeError, match="quick"):
            setup_notebook(seed=0, quick="yes")
    finally:
        config.set_quick(None)


def test_environment_report_names_python_and_packages():
    rows = dict(environment_report(("numpy", "surely-not-a-package-xyz")))
    assert rows["python"].startswith("3.")
    root = str(Path(__file__).resolve().parents[1])
    if sys.executable.startswith(root + "/"):  # a saved output names no one's folders
        assert root not in rows["python"]
    assert rows["numpy"][0].isdigit()
    assert rows["surely-not-a-package-xyz"] == "MISSING"


@pytest.mark.skipif(not exercises.solutions_available(), reason="needs reference solutions")
def test_friendly_errors_in_ipython_are_one_line_and_still_errors(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    assert install_friendly_errors(shell)
    result = shell.run_cell(
        "from course_lib import use_reference\n"
        "from course_lib.auctions import vickrey_auction\n"
        "with use_reference('1.2', on=False):\n"
        "    vickrey_auction([0.1, 0.2])\n")
    out = capsys.readouterr()
    text = out.out + out.err
    assert isinstance(result.error_in_exec, exercises.ExerciseNotImplementedError)
    assert not result.success
    assert "ExerciseNotImplementedError" in text and 'use_reference("1.2")' in text
    assert "Traceback" not in text and "File " not in text


@pytest.mark.skipif(not exercises.solutions_available(), reason="needs reference solutions")
def test_names_an_unsolved_exercise_kept_from_being_made_point_to_it(capsys, monkeypatch):
    """After a cell stops at an unsolved exercise, a later cell that reads what it would have
    made is told which exercise to solve (not a bare NameError); other NameErrors stay as
    they are."""
    from IPython.core.interactiveshell import InteractiveShell

    from course_lib import notebook

    monkeypatch.setattr(notebook, "_UNMADE", {})
    shell = InteractiveShell.instance()
    assert install_friendly_errors(shell)

    def run(source):
        capsys.readouterr()
        result = shell.run_cell(source)
        out = capsys.readouterr()
        return result, out.out + out.err

    stopped, _ = run("from course_lib import use_reference\n"
                     "from course_lib.auctions import vickrey_auction\n"
                     "with use_reference('1.2', on=False):\n"
                     "    outcome = vickrey_auction([0.1, 0.2])\n")
    assert isinstance(stopped.error_in_exec, exercises.ExerciseNotImplementedError)
    assert stopped.error_in_exec.exercise_id == "1.2"
    later, text = run("price = outcome.price")
    assert isinstance(later.error_in_exec, NameError)  # the error itself is unchanged
    assert "`outcome` was not made" in text and "exercise 1.2" in text
    assert 'use_reference("1.2")' in text and "Traceback" not in text
    # One step further down: what that cell would have made points to the same exercise.
    _, text = run("print(price)")
    assert "`price` was not made" in text and "exercise 1.2" in text
    # A typo is a typo.
    typo, text = run("print(outcomme)")
    assert isinstance(typo.error_in_exec, NameError)
    assert "was not made" not in text and "outcomme" in text and "Traceback" in text


def test_without_the_references_what_was_not_made_points_to_the_hints(monkeypatch):
    from course_lib import notebook

    monkeypatch.setattr(exercises, "solutions_available", lambda: False)
    text = str(notebook._unmade_error("metrics", "1.2"))
    assert "`metrics` was not made" in text and 'hint("1.2")' in text
    assert "use_reference" not in text
    monkeypatch.setattr(exercises, "solutions_available", lambda: True)
    assert 'use_reference("1.2")' in str(notebook._unmade_error("metrics", "1.2"))


def test_a_notebook_in_another_copy_of_the_course_is_warned(tmp_path, monkeypatch, capsys):
    """A kernel in one copy that imports course_lib from another (an editable install of the
    teacher's copy seen from a student copy) would silently ignore the learner's edits."""
    from course_lib import notebook

    other = tmp_path / "student"
    (other / "course_lib").mkdir(parents=True)
    (other / "course_lib" / "__init__.py").write_text("")
    (other / "notebooks").mkdir()
    assert notebook.other_course_copy(other / "notebooks") == other.resolve()
    assert notebook.other_course_copy(exercises.REPO_ROOT / "notebooks") is None
    assert notebook.other_course_copy(exercises.REPO_ROOT) is None
    assert notebook.other_course_copy(tmp_path) is None  # not inside any copy
    monkeypatch.chdir(other / "notebooks")
    setup_notebook(seed=0)
    out = capsys.readouterr().out
    assert "WARNING" in out and str(other.resolve()) in out and "will not be used" in out
    assert "course_lib ready" in out
    monkeypatch.chdir(exercises.REPO_ROOT / "notebooks")
    setup_notebook(seed=0)
    assert "WARNING" not in capsys.readouterr().out


def test_autoreload_picks_up_an_edited_exercise(tmp_path, monkeypatch):
    """The learner's loop: edit the exercise's file, run the next cell, get the new code —
    also through names imported before the edit."""
    import os
    import sys

    from IPython.core.interactiveshell import InteractiveShell

    from course_lib.notebook import _enable_autoreload

    module = tmp_path / "demo_exercise_module.py"
    stub = ("from course_lib.exercises import exercise\n\n"
            "@exercise('99.1', title='demo')\n"
            "def add_one(x):\n    raise NotImplementedError\n")
    module.write_text(stub)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(exercises._STATE, "all", False)  # 99.1 has no reference
    shell = InteractiveShell.instance()
    _enable_autoreload(shell)
    try:
        shell.run_cell("from demo_exercise_module import add_one")
        before = shell.run_cell("add_one(1)")
        assert isinstance(before.error_in_exec, exercises.ExerciseNotImplementedError)
        module.write_text(stub.replace("raise NotImplementedError", "return x + 1"))
        later = os.stat(module).st_mtime + 5
        os.utime(module, (later, later))
        after = shell.run_cell("add_one(1)")
        assert after.success and after.result == 2
        assert exercises.reference_on("1.1") == exercises.reference_on("1.1")  # still works
        assert "1.1" in {r["id"] for r in exercises.catalog()}
    finally:
        shell.run_line_magic("autoreload", "off")
        exercises._REGISTRY.pop("99.1", None)
        sys.modules.pop("demo_exercise_module", None)


def test_autoreload_gets_the_reload_it_imports_where_imp_is_gone(monkeypatch):
    """IPython < 8's autoreload does ``from imp import reload``; Python 3.12 removed ``imp``.
    While the extension loads, a stand-in answers that import; afterwards it is gone."""
    import importlib
    import sys

    from course_lib import notebook

    monkeypatch.delitem(sys.modules, "imp", raising=False)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(notebook.importlib.util, "find_spec",
                        lambda name, *a: None if name == "imp" else real_find_spec(name, *a))
    with notebook._imp_for_old_ipython():
        from imp import reload  # what IPython 7.34's autoreload.py does

        assert reload is importlib.reload
    assert "imp" not in sys.modules


def test_setup_notebook_goes_on_when_autoreload_cannot_load(monkeypatch, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    from course_lib import notebook

    def broken(shell):
        raise ModuleNotFoundError("No module named 'imp'")

    monkeypatch.setattr(notebook, "_enable_autoreload", broken)
    monkeypatch.setattr(notebook, "_ipython", InteractiveShell.instance)
    setup_notebook(seed=0)
    out = capsys.readouterr().out
    assert notebook.AUTORELOAD_OFF in out and "No module named 'imp'" in out
    assert "restart the kernel" in out and "course_lib ready" in out
