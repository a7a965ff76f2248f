"""The student copy (classroom/release.py): built, checked, importable, and giving nothing
away. Maintainers' test: it needs the repository (solutions/ and tests/hidden/)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from classroom.release import (
    MARKER,
    REPO_ROOT,
    _body_lines,
    _release_hints,
    build_release,
    check_release,
    student_text,
)
from course_lib.exercises import solutions_available

pytestmark = pytest.mark.skipif(not solutions_available(), reason="needs the repository copy")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return build_release(tmp_path_factory.mktemp("release") / "student")


def _run(release, *args, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(release), "COURSE_LIB_QUICK": "1",
           "MPLBACKEND": "Agg", "COURSE_LIB_REFERENCE": ""}
    return subprocess.run([sys.executable, *args], cwd=release, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_release_holds_what_a_learner_needs_and_nothing_else(release):
    assert check_release(release) == []
    for needed in ("README.md", "requirements.txt", "pyproject.toml", "Makefile",
                   "course_lib/exercises.py", "data/mnist_classifier.pt",
                   "notebooks/01_vickrey_auction.ipynb", "tests/conftest.py",
                   "tests/test_auctions.py", MARKER):
        assert (release / needed).exists(), needed
    for absent in ("solutions", "tests/hidden", "classroom", "tests/test_exercises.py",
                   "tests/test_grade_attacks.py", "tests/grading_attacks.py",
                   "tests/test_release.py", "tests/test_book.py", "tests/browser_support.py",
                   "scripts", "book", "requirements-book.txt", ".venv"):
        assert not (release / absent).exists(), absent
    assert "solutions" not in (release / "pyproject.toml").read_text()
    assert (release / "README.md").read_text().startswith("> **Student copy.**")


def test_every_notebook_is_in_the_release_and_opens(release):
    names = sorted(p.name for p in (REPO_ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in (release / "notebooks").glob("*.ipynb")) == names
    for name in names:
        nbformat.validate(nbformat.read(release / "notebooks" / name, as_version=4))


def test_notebook_outputs_are_cleared_from_the_first_check_cell_on(release):
    original = nbformat.read(REPO_ROOT / "notebooks/01_vickrey_auction.ipynb", as_version=4)
    copy = nbformat.read(release / "notebooks/01_vickrey_auction.ipynb", as_version=4)
    assert [c.source for c in copy.cells] == [
        student_text(c.source) if c.cell_type == "markdown" else c.source
        for c in original.cells]
    code = [(o, c) for o, c in zip(original.cells, copy.cells, strict=True)
            if o.cell_type == "code"]
    first = next(k for k, (o, _) in enumerate(code) if "check(" in o.source)
    assert first > 0
    for o, c in code[:first]:
        assert c.outputs == o.outputs
    for _, c in code[first:]:
        assert c.outputs == [] and c.execution_count is None


def test_the_checker_finds_every_kind_of_leak(release, tmp_path):
    leaky = tmp_path / "leaky"
    shutil.copytree(release, leaky)
    # 1. a whole solutions file dropped into the package
    shutil.copy2(REPO_ROOT / "solutions/auctions.py", leaky / "course_lib/answers.py")
    # 2. a hidden test among the public ones
    hidden = next((REPO_ROOT / "tests/hidden").glob("test_*.py"))
    shutil.copy2(hidden, leaky / "tests" / hidden.name)
    # 3. a stub replaced by its reference body
    path = leaky / "course_lib/society.py"
    text = path.read_text()
    path.write_text(re.sub(r"    # TODO\(exercise 3\.2\).*?raise NotImplementedError",
                           "    return bids_secret_helper(bids)", text, count=1, flags=re.S))
    (leaky / "solutions").mkdir()
    # 4. the grader dropped into the learner's package
    shutil.copy2(REPO_ROOT / "classroom/grade.py", leaky / "course_lib/grade.py")
    # 5. a hint that hands out a line of a reference body, and a ladder cut to one rung
    source = (REPO_ROOT / "solutions/society.py").read_text()
    import ast
    secret = _body_lines(ast.parse(source), source)[0]
    line = next(x for x in source.splitlines() if re.sub(r"\s+", "", x) == secret)
    hints = _release_hints(leaky)
    hints["3.2"] = ("Try " + line.strip(),) + hints["3.2"]
    hints["1.1"] = ("only one",)
    (leaky / "course_lib/hint_text.py").write_text(f"HINTS = {hints!r}\n")
    # 6. a notebook that sends the learner to the references
    path = leaky / "notebooks/02_bucket_brigade.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\n\nStuck? Run use_reference('2.1')."
    nbformat.write(nb, path)
    problems = "\n".join(check_release(leaky))
    assert "hint 1 of exercise 3.2 holds a line of a reference body" in problems
    assert "exercise 1.1 has 1 hints (at least 2)" in problems
    assert "notebooks/02_bucket_brigade.ipynb cell 0 mentions 'use_reference'" in problems
    assert "course_lib/grade.py: a teacher's tool in the release" in problems
    assert "solutions/ is in the release" in problems
    assert "course_lib/answers.py is a copy of solutions/auctions.py" in problems
    assert f"tests/{hidden.name} is a copy of tests/hidden/{hidden.name}" in problems
    assert "exercise function society_auction is not a stub" in problems
    assert "has the body of solutions/auctions.py" in problems


def test_the_student_copy_points_to_the_hints_not_the_references(release, tmp_path):
    readme = (release / "README.md").read_text()
    assert 'hint("1.2")' in readme and "use_reference" not in readme
    welcome = nbformat.read(release / "notebooks/00_welcome.ipynb", as_version=4)
    text = "\n".join(c.source for c in welcome.cells if c.cell_type == "markdown")
    assert 'hint("1.1")' in text and "use_reference" not in text and "solutions/" not in text
    assert not any("use_reference" in str(c.outputs) for c in welcome.cells
                   if c.cell_type == "code")  # the teacher's unsolved message is cleared
    done = _run(release, "-c", "from course_lib.auctions import first_price_auction\n"
                "first_price_auction([1.0])")
    assert 'hint("1.1") shows a hint' in done.stderr and "use_reference" not in done.stderr
    env = {"COURSE_LIB_HINT_PROGRESS": str(tmp_path / "progress.json")}
    done = subprocess.run([sys.executable, "-m", "course_lib", "hint", "1.1"], cwd=release,
                          env={**os.environ, "PYTHONPATH": str(release), **env},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("Hint 1 of"), done.stderr


def test_the_release_imports_without_the_solutions(release):
    done = _run(release, "-c",
                "import importlib, pkgutil, course_lib, course_lib.exercises as e\n"
                "names = [m.name for m in pkgutil.walk_packages(course_lib.__path__, "
                "'course_lib.')]\n"
                "[importlib.import_module(n) for n in names]\n"
                "print(course_lib.__file__, e.solutions_available(), len(names))")
    assert done.returncode == 0, done.stderr
    where, available, count = done.stdout.split()
    assert Path(where).resolve().is_relative_to(release.resolve())
    assert available == "False" and int(count) > 20


def test_every_public_exercise_test_fails_in_the_release(release):
    done = _run(release, "-m", "pytest", "tests", "-m", "exercise", "-q", "-p",
                "no:cacheprovider")
    summary = done.stdout.strip().splitlines()[-1]
    failed = re.search(r"(\d+) failed", summary)
    assert failed and int(failed.group(1)) > 100, done.stdout[-2000:]
    assert "passed" not in summary and "error" not in summary, summary


def test_build_refuses_to_overwrite_other_folders(tmp_path):
    precious = tmp_path / "work"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not an earlier student release"):
        build_release(precious)
    assert (precious / "notes.txt").read_text() == "mine"
