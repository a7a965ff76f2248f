"""Build the student copy of the course, and prove that it gives nothing away.

    python -m classroom.release [--out dist/student]     (or: make release)

The student copy holds ``course_lib`` (every exercise a stub, as in the repository), the
notebooks with the outputs of every cell from the first ``check(...)`` cell on cleared (those
outputs were computed with the reference solutions), the public tests, the data files, the
README, the requirements and a ``pyproject.toml`` and ``Makefile`` of its own. It has no
``solutions/``, no ``tests/hidden/``, and none of the maintainers' tests (the exercise
mechanism and notebook-format tests need the solutions).

Text written for one copy only is marked in the README and the notebooks' Markdown:
``<!-- teacher-copy -->`` ... ``<!-- /teacher-copy -->`` is dropped from the student copy,
and the content of ``<!-- student-copy`` ... ``-->`` (a comment, invisible in the teacher's
copy) is shown there instead, so that a learner is pointed to ``hint`` where a teacher is
pointed to ``use_reference`` and ``solutions/``.

``check_release`` inspects a built copy with the AST, not by searching text: every
``@exercise`` function must be a stub, and no function body of ``solutions/`` and no file of
``solutions/`` or ``tests/hidden/`` may appear anywhere in it. It also proves that every
exercise has a hint ladder of at least two rungs, that no hint holds a line of a reference
body, and that no Markdown of the copy sends a learner to the absent references.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import re
import shutil
import sys
from pathlib import Path

from course_lib.exercises import _exercise_decorator, _is_stub_body

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "dist" / "student"
MAINTAINER_TESTS = ("test_exercises.py", "test_check_feedback.py", "test_notebooks.py",
                    "test_release.py",
                    "test_grade_attacks.py", "grading_attacks.py", "test_gradescope.py",
                    "test_classroom_codec.py",
                    "test_grade.py", "grading_fixtures.py", "test_binder.py", "test_browser.py",
                    "test_launch.py", "test_walkthrough.py", "gates.py", "test_colab_rehearsal.py",
                    "test_book.py", "browser_support.py", "test_hints.py",
                    "test_public_tests_catch_mistakes.py", "mutants.py", "mutant_runner.py",
                    "test_fail_fast.py", "test_fuzz_public_api.py")
TOP_FILES = ("README.md", "requirements.txt", "LICENSE")
MARKER = ".student-release"

BANNER = """> **Student copy.** Exercises are stubs for you to fill in; reference solutions and
> hidden tests are not included. Check an exercise with `check("x.y")` in a notebook or
> `pytest tests -m exercise` in a terminal.

"""

PYPROJECT = """[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "markets-of-agents-student"
version = "0.1.0"
description = "Markets of Agents (student copy)"
requires-python = ">=3.10"
dependencies = ["numpy>=2.1", "matplotlib>=3.10", "tqdm>=4.67"]

[tool.setuptools.packages.find]
include = ["course_lib*"]

[tool.pytest.ini_options]
testpaths = ["tests"]
markers = [
    "exercise(*ids): the exercise or exercises a test checks (used by course_lib.check)",
]
filterwarnings = ["ignore::DeprecationWarning:jupyter_client.*",
                  "ignore::DeprecationWarning:pettingzoo.*"]
"""

MAKEFILE = """# Student copy: set up, open the notebooks, check your exercises.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.course-installed

.PHONY: setup lab test
setup: $(STAMP)
$(STAMP): requirements.txt pyproject.toml
\ttest -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
\t$(BIN)/python -m pip install --quiet -r requirements.txt
\t$(BIN)/python -m pip install --quiet --no-deps -e .
\ttouch $@
lab: $(STAMP)
\t$(BIN)/jupyter lab notebooks/00_welcome.ipynb
test: $(STAMP)
\tCOURSE_LIB_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest tests -m exercise
"""


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


TEACHER_ONLY = re.compile(r"[ \t]*<!-- teacher-copy -->.*?<!-- /teacher-copy -->[ \t]*\n?",
                          re.DOTALL)
STUDENT_ONLY = re.compile(r"<!-- student-copy\n(.*?)\n?-->", re.DOTALL)
MARKERS = ("teacher-copy", "student-copy")
# What a learner without the references must not be sent to: the text of the student copy
# names neither (code may still call use_reference(..., on=False), which works there).
REFERENCE_POINTERS = ("use_reference", "solutions/", "--reference")
MIN_HINTS = 2
MIN_LINE = 16  # characters: shorter lines of a reference body (``return x``) are too common


def student_text(text: str) -> str:
    """The student copy's version of a README or a Markdown cell (see the module docstring)."""
    return STUDENT_ONLY.sub(lambda m: m.group(1), TEACHER_ONLY.sub("", text))


def _strip_notebook(src: Path, dst: Path) -> int:
    """Copy a notebook, clearing the outputs of every code cell from the first cell that
    calls ``check(`` on, and keeping each Markdown cell's student-copy text. Returns how many
    cells were cleared."""
    import nbformat

    nb = nbformat.read(src, as_version=4)
    clearing, cleared = False, 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = student_text(cell.source)
        if cell.cell_type != "code":
            continue
        clearing = clearing or "check(" in cell.source
        # outputs saved in the teacher's copy that name the references (an unsolved message)
        if clearing or any(word in str(output) for output in cell.outputs
                           for word in REFERENCE_POINTERS):
            cell.outputs, cell.execution_count = [], None
            cleared += 1
    nbformat.write(nb, dst)
    return cleared


def build_release(out: Path = DEFAULT_OUT, root: Path = REPO_ROOT) -> Path:
    """Write the student copy to ``out`` (replacing what is there) and return ``out``."""
    out, root = Path(out), Path(root)
    # Only an empty folder or an earlier release (it carries MARKER) may be replaced.
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ValueError(f"{out} exists and is not an earlier student release; choose an "
                         f"empty or new folder")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("built by python -m classroom.release\n", encoding="utf-8")
    _copy_tree(root / "course_lib", out / "course_lib")
    (out / "data").mkdir()
    for path in sorted((root / "data").iterdir()):
        if path.is_file():
            shutil.copy2(path, out / "data" / path.name)
    (out / "tests").mkdir()
    for path in sorted((root / "tests").glob("*.py")):
        if path.name not in MAINTAINER_TESTS:
            shutil.copy2(path, out / "tests" / path.name)
    (out / "notebooks").mkdir()
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        _strip_notebook(path, out / "notebooks" / path.name)
    for name in TOP_FILES:
        if (root / name).exists():
            shutil.copy2(root / name, out / name)
    readme = out / "README.md"
    if readme.exists():
        readme.write_text(BANNER + student_text(readme.read_text(encoding="utf-8")),
                          encoding="utf-8")
    (out / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (out / "Makefile").write_text(MAKEFILE, encoding="utf-8")
    return out


# --------------------------------------------------------------------------------------
# Proving the release clean
# --------------------------------------------------------------------------------------


def _bodies(tree: ast.AST) -> list[tuple[ast.AST, list[ast.stmt]]]:
    """Every function with its body, the docstring left out."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            found.append((node, body))
    return found


def _function_bodies(tree: ast.AST) -> dict[str, str]:
    """ast.dump of every function body (docstring left out), keyed by a readable name."""
    return {f"{node.name} (line {node.lineno})": ast.dump(ast.Module(body, []))
            for node, body in _bodies(tree) if body}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _body_lines(tree: ast.AST, source: str) -> list[str]:
    """The source lines of every function body (docstrings and comments left out), long
    enough to mean something, without their whitespace."""
    lines = source.splitlines()
    found = []
    for _, body in _bodies(tree):
        for stmt in body:
            for line in lines[stmt.lineno - 1:stmt.end_lineno]:
                code = _squeeze(line.split("#", 1)[0])
                if len(code) >= MIN_LINE:
                    found.append(code)
    return found


def _release_hints(out: Path) -> dict[str, tuple[str, ...]] | None:
    """``HINTS`` of the copy's ``course_lib/hint_text.py``, read without importing it."""
    path = out / "course_lib" / "hint_text.py"
    if not path.exists():
        return None
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target = (node.target if isinstance(node, ast.AnnAssign) else
                  node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "HINTS" and node.value is not None:
            return ast.literal_eval(node.value)
    return None


def _markdown_texts(out: Path) -> dict[str, str]:
    """The README, every Markdown cell of the copy and the outputs of every code cell,
    keyed by where they are."""
    import nbformat

    texts = {}
    if (out / "README.md").exists():
        texts["README.md"] = (out / "README.md").read_text(encoding="utf-8")
    for path in sorted((out / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                texts[f"{path.relative_to(out)} cell {i}"] = cell.source
            else:
                texts[f"{path.relative_to(out)} cell {i} (outputs)"] = str(cell.outputs)
    return texts


def check_hints(out: Path, root: Path, ids: list[str]) -> list[str]:
    """Every exercise ``ids`` has at least ``MIN_HINTS`` hints, and none holds a line of a
    reference body."""
    hints = _release_hints(out)
    if hints is None:
        return ["course_lib/hint_text.py with HINTS is missing from the release"]
    problems = [f"exercise {i} has {len(hints.get(i, ()))} hints (at least {MIN_HINTS})"
                for i in ids if len(hints.get(i, ())) < MIN_HINTS]
    secret_lines = set()
    for path in (root / "solutions").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        secret_lines.update(_body_lines(ast.parse(source), source))
    for exercise_id, ladder in hints.items():
        for rung, text in enumerate(ladder, 1):
            leaked = [line for line in secret_lines if line in _squeeze(text)]
            if leaked:
                problems.append(f"hint {rung} of exercise {exercise_id} holds a line of a "
                                f"reference body: {leaked[0]!r}")
    return problems


def check_text(out: Path) -> list[str]:
    """No Markdown or saved output of the copy points to the references, and no Markdown
    keeps a copy marker."""
    problems = []
    for where, text in _markdown_texts(out).items():
        for word in REFERENCE_POINTERS + MARKERS:
            if word in text:
                problems.append(f"{where} mentions {word!r}")
    return problems


def check_release(out: Path = DEFAULT_OUT, root: Path = REPO_ROOT) -> list[str]:
    """Every problem found in the student copy at ``out`` (an empty list: it is clean)."""
    out, root = Path(out), Path(root)
    problems = []
    for forbidden in ("solutions", "tests/hidden", "classroom"):
        if (out / forbidden).exists():
            problems.append(f"{forbidden}/ is in the release")
    teacher = {p.name for p in (root / "classroom").glob("*.py") if p.name != "__init__.py"}
    problems += [f"{p.relative_to(out)}: a teacher's tool in the release"
                 for p in (out / "course_lib").rglob("*.py") if p.name in teacher]
    secret_files = {_digest(p): p.relative_to(root) for folder in ("solutions", "tests/hidden")
                    for p in (root / folder).rglob("*.py") if p.stat().st_size > 0
                    and p.name != "__init__.py"}
    secret_bodies = {}
    for path in (root / "solutions").rglob("*.py"):
        for name, dump in _function_bodies(ast.parse(path.read_text(encoding="utf-8"))).items():
            secret_bodies[dump] = f"{path.relative_to(root)}: {name}"
    exercises, ids = 0, []
    for path in sorted(out.rglob("*.py")):
        rel = path.relative_to(out)
        if _digest(path) in secret_files:
            problems.append(f"{rel} is a copy of {secret_files[_digest(path)]}")
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(rel))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and _exercise_decorator(node):
                exercises += 1
                ids.append(_exercise_decorator(node)[0])
                if not _is_stub_body(node.body):
                    problems.append(f"{rel}: exercise function {node.name} is not a stub")
        for name, dump in _function_bodies(tree).items():
            if dump in secret_bodies:
                problems.append(f"{rel}: {name} has the body of {secret_bodies[dump]}")
    if exercises == 0:
        problems.append("no exercise functions found in the release")
    return problems + check_hints(out, root, ids) + check_text(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classroom.release",
                                     description="Build and check the student copy.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    out = build_release(args.out)
    problems = check_release(out)
    for problem in problems:
        print("PROBLEM:", problem)
    print(f"student copy written to {out}: " + ("clean" if not problems else
                                                 f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
