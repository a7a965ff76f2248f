"""Build the student copy of the course, and prove that it gives nothing away.

    python -m classroom.release [--out dist/student] [--submission-text FILE]
                                [--repo OWNER/NAME [--branch B]] [--assignment ID]
                                                          (or: make release)

The student copy holds ``course_lib`` (every exercise a stub, as in the repository), the
notebooks with the outputs of every cell from the first ``check(...)`` cell on cleared (those
outputs were computed with the reference solutions), the public tests, the data files, the
requirements, and a README, ``pyproject.toml``, ``Makefile`` and ``.gitignore`` of its own. It
has no ``solutions/``, no ``tests/hidden/``, and none of the maintainers' tests (the exercise
mechanism and notebook-format tests need the solutions).

The student README is written for a learner of that copy, from the template
``classroom/student_readme.md``: its ``<!-- chapters -->`` line becomes the chapter table of
the teacher's README (without its *status* column), and the text between ``<!-- submission
-->`` and ``<!-- /submission -->`` (how to hand in work) is kept, or replaced by the Markdown
of ``--submission-text FILE``. The copy's ``make setup`` installs PyTorch's CPU-only build
first (``TORCH_INDEX``), and falls back on PyPI's build when that index cannot be reached.
The copy carries ``binder/`` too, so that a Binder badge on the class repository works.

``--repo OWNER/NAME`` (``--branch B``, by default the branch of the teacher's
``course_lib/launch.py``) names the class repository that will hold the copy on GitHub: the
copy's ``launch.py`` constants are set to it, and the notebooks' badges and Colab set-up cell
and the README's badges are written anew from that ``launch.py`` (``retarget``), so that
learners open and clone the class repository, not the public course with its solutions;
``check_repo`` proves that no file of the copy names the course's address any more. Without
``--repo`` the copy points, as the teacher's notebooks do, at the public course: fit for
self-study, not for a class.

Text written for one copy only is marked in the notebooks' Markdown:
``<!-- teacher-copy -->`` ... ``<!-- /teacher-copy -->`` is dropped from the student copy,
and the content of ``<!-- student-copy`` ... ``-->`` (a comment, invisible in the teacher's
copy) is shown there instead, so that a learner is pointed to ``hint`` where a teacher is
pointed to ``use_reference`` and ``solutions/``. In code cells, the set-up cell's import of
``use_reference`` is dropped (``student_code``), and saved outputs that speak of the
references (an unsolved message, the status line "reference solutions in use") are cleared.

``check_release`` inspects a built copy with the AST, not by searching text: every
``@exercise`` function must be a stub, and no function body of ``solutions/`` and no file of
``solutions/`` or ``tests/hidden/`` may appear anywhere in it. It also proves that every
exercise has a hint ladder of at least two rungs, that no hint holds a line of a reference
body, that no Markdown, saved output or code cell of the copy sends a learner to the absent
references, that no message the copy's ``course_lib`` gives a learner does either
(``check_messages`` runs it there and reads them), and (``classroom.copy_paths``) that every
file, folder and ``make`` target the README and the notebooks name is in the copy.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import re
import shutil
import sys
import tomllib
from pathlib import Path

from classroom.assignments import Assignment, get_assignment
from classroom.copy_paths import check_paths
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
                    "test_fail_fast.py", "test_fuzz_public_api.py", "test_similarity.py",
                    "degenerate.py", "test_degenerate_answers.py", "test_grade_intake.py",
                    "test_written.py", "test_lateness.py", "test_roster.py",
                    "test_gradescope_setup.py", "test_check_exercise.py",
                    "test_assignments.py", "test_python_floor.py", "test_github.py",
                    "test_lock.py", "test_in_browser.py", "npm_tools.py", "test_lite.py")
TOP_FILES = ("requirements.txt", "LICENSE")
MARKER = ".student-release"
README_TEMPLATE = Path(__file__).with_name("student_readme.md")


def _python_floor() -> str:
    """The lowest Python the course supports (the teacher's ``pyproject.toml``: ">=3.X")."""
    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["requires-python"].removeprefix(">=")


PYTHON_FLOOR = _python_floor()
FLOOR_TUPLE = PYTHON_FLOOR.replace(".", ", ")  # "3.11" -> "3, 11" (sys.version_info)
CHAPTERS_SLOT = "<!-- chapters -->"
SUBMISSION_SLOT = re.compile(r"<!-- submission -->\n(.*?)<!-- /submission -->\n", re.DOTALL)
CHAPTER_COLUMNS = ("#", "notebook", "what you learn", "time")  # of the teacher's table
BADGES_SLOT = "<!-- badges -->\n\n"  # filled with --repo only (see retarget), else dropped

PYPROJECT = """[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "markets-of-agents-student"
version = "0.1.0"
description = "Markets of Agents (student copy)"
requires-python = ">=PYTHON_FLOOR"
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
""".replace("PYTHON_FLOOR", PYTHON_FLOOR)

# PyTorch's index of CPU-only wheels (for Linux, macOS and Windows; binder/requirements.txt
# pins the same wheels). On Linux, PyPI's torch is a CUDA build of several GB; on macOS and
# Windows it is CPU-only already. The attempt gives up at once when the index cannot be
# reached (no retries, 15 s per connection), keeps pip's output in .venv/torch-cpu.log and
# leaves torch to requirements.txt, that is to PyPI.
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
MAKEFILE = f"""# Student copy: set up, open the notebooks, check your exercises.
#   make setup   create .venv and install the course (PyTorch's CPU build first)
#   make lab     set up if needed, then open JupyterLab on the welcome notebook
#   make test    set up if needed, then run every exercise's public tests on your code
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.course-installed
TORCH_LOG := $(VENV)/torch-cpu.log
# Where PyTorch's CPU-only build comes from; `make setup TORCH_INDEX=` takes PyPI's build.
TORCH_INDEX ?= {TORCH_INDEX}

.PHONY: setup lab test
setup: $(STAMP)
$(STAMP): requirements.txt pyproject.toml
\t@$(PYTHON) -c 'import sys; assert sys.version_info >= ({FLOOR_TUPLE}), \\
\t    "Python >= {PYTHON_FLOOR} needed"'
\ttest -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
\t$(BIN)/python -m pip install --quiet --upgrade pip
\t@if [ -n "$(TORCH_INDEX)" ]; then \\
\t  echo "Installing PyTorch's CPU build from $(TORCH_INDEX)"; \\
\t  $(BIN)/python -m pip install --quiet --retries 0 --timeout 15 \\
\t    --index-url $(TORCH_INDEX) torch torchvision >$(TORCH_LOG) 2>&1 || \\
\t  echo "Could not install PyTorch's CPU build from $(TORCH_INDEX) (unreachable?" \\
\t    "see $(TORCH_LOG)): installing PyPI's build instead"; \\
\tfi
\t$(BIN)/python -m pip install --quiet -r requirements.txt
\t$(BIN)/python -m pip install --quiet --no-deps -e .
\ttouch $@
lab: $(STAMP)
\t$(BIN)/jupyter lab notebooks/00_welcome.ipynb
test: $(STAMP)
\tCOURSE_LIB_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest tests -m exercise
"""

# What setting up and running the course makes in the copy: not part of a learner's work
# (check_paths accepts a path under one of the plain entries without finding it).
GITIGNORE = (".venv/", "__pycache__/", "*.egg-info/", ".pytest_cache/", ".hypothesis/",
             ".ipynb_checkpoints/", ".hint-progress.json", ".hint-progress.json.*.tmp",
             "data/cache/", "data/MNIST/", "submission.zip")


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


TEACHER_ONLY = re.compile(r"[ \t]*<!-- teacher-copy -->.*?<!-- /teacher-copy -->[ \t]*\n?",
                          re.DOTALL)
STUDENT_ONLY = re.compile(r"<!-- student-copy\n(.*?)\n?-->", re.DOTALL)
MARKERS = ("teacher-copy", "student-copy")
# What a learner without the references must not be sent to: the text of the student copy
# names neither (code may still call use_reference(..., on=False), which works there).
REFERENCE_POINTERS = ("use_reference", "solutions/", "--reference")
# What only the teacher's copy prints: setup_notebook's line on the references in use.
TEACHER_MODE = ("reference solutions in use",)
_COURSE_IMPORT = re.compile(r"^(from course_lib import )(.+)$", re.MULTILINE)
_REFERENCE_CALL = re.compile(r"\buse_reference\(([^)]*)\)")
MIN_HINTS = 2
MIN_LINE = 16  # characters: shorter lines of a reference body (``return x``) are too common


def student_text(text: str) -> str:
    """The student copy's version of a README or a Markdown cell (see the module docstring)."""
    return STUDENT_ONLY.sub(lambda m: m.group(1), TEACHER_ONLY.sub("", text))


def student_code(source: str) -> str:
    """The student copy's version of a code cell: a ``from course_lib import ...`` line leaves
    out ``use_reference`` unless the cell calls it (a copy without the references has none to
    use; the teacher's set-up cells import it because their messages suggest it)."""
    if "use_reference(" in source:
        return source

    def without(match: re.Match) -> str:
        names = [name.strip() for name in match.group(2).split(",")]
        return match.group(1) + ", ".join(n for n in names if n != "use_reference")
    return _COURSE_IMPORT.sub(without, source)


_NOTEBOOK_LINK = re.compile(r"\[([^\]]+)\]\((?:\./)?(\d\d_\w+\.ipynb)\)")


def _strip_notebook(src: Path, dst: Path, shipped: set[str] | None = None) -> int:
    """Copy a notebook for the student copy: Markdown and code as ``student_text`` and
    ``student_code`` say; the outputs of every code cell from the first cell that calls
    ``check(`` on cleared, and any other output that speaks of the references (an unsolved
    message, the set-up cell's status line). A link to a notebook not ``shipped`` with the
    copy (an assignment's) keeps its text only. Returns how many cells were cleared."""
    import nbformat

    nb = nbformat.read(src, as_version=4)
    clearing, cleared = False, 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = student_text(cell.source)
            if shipped is not None:
                cell.source = _NOTEBOOK_LINK.sub(
                    lambda m: m.group(0) if m.group(2) in shipped else m.group(1),
                    cell.source)
        if cell.cell_type != "code":
            continue
        cell.source = student_code(cell.source)
        clearing = clearing or "check(" in cell.source
        if clearing or any(word in str(output) for output in cell.outputs
                           for word in REFERENCE_POINTERS + TEACHER_MODE):
            cell.outputs, cell.execution_count = [], None
            cleared += 1
    nbformat.write(nb, dst)
    return cleared


def chapter_table(readme: str, chapters: set[int] | None = None) -> str:
    """The table of the ``## Chapters`` section of the teacher's README, with only the
    columns ``CHAPTER_COLUMNS`` and, given ``chapters``, only their rows (and chapter 0)."""
    section = re.search(r"^## Chapters\n(.*?)(?=^## |\Z)", readme, re.DOTALL | re.MULTILINE)
    rows = [line.strip() for line in (section.group(1) if section else "").splitlines()
            if line.strip().startswith("|")]
    if len(rows) < 3:
        raise ValueError("the README has no table under '## Chapters'")

    def cells(row: str) -> list[str]:  # a Markdown table row; \| is a pipe inside a cell
        return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]]

    header = cells(rows[0])
    if not set(CHAPTER_COLUMNS) <= set(header):
        raise ValueError(f"the README's chapter table needs the columns {CHAPTER_COLUMNS}, "
                         f"it has {header}")
    keep = [header.index(name) for name in CHAPTER_COLUMNS]
    table = [cells(row) for row in rows]
    table[1] = ["---"] * len(header)
    if chapters is not None:
        number = header.index("#")
        table = table[:2] + [row for row in table[2:]
                             if not row[number].isdigit() or int(row[number]) in chapters
                             or int(row[number]) == 0]
    return "\n".join("| " + " | ".join(row[k] for k in keep) + " |" for row in table)


def assignment_text(assignment: Assignment) -> str:
    """The README's paragraph on the assignment a copy was built for."""
    lines = [f"**This copy is for assignment `{assignment.id}`: {assignment.title}.** "
             f"Graded: exercises {', '.join(assignment.exercises)}."]
    if assignment.due is not None:
        lines.append(f"Due {assignment.due.strftime('%A %d %B %Y, %H:%M')} "
                     f"(UTC{assignment.due.strftime('%z')[:3]}:"
                     f"{assignment.due.strftime('%z')[3:]}).")
    if assignment.late is not None:
        lines.append(f"Late work: {assignment.late.describe()}.")
    built_on = sorted(set(assignment.chapters) - set(assignment.exercise_chapters))
    if built_on:
        lines.append(f"It builds on chapter{'s' if len(built_on) > 1 else ''} "
                     f"{', '.join(map(str, built_on))}: their notebooks are here, and their "
                     "exercises are yours to solve (or to keep from earlier work) so that "
                     "the later notebooks run; they are not graded again.")
    return " ".join(lines) + "\n\n"


def student_readme(root: Path = REPO_ROOT, submission_text: str | None = None,
                   badges: str | None = None, assignment: Assignment | None = None) -> str:
    """The student copy's README: the template ``README_TEMPLATE`` with the chapter table of
    the teacher's README in its chapters slot, ``badges`` (Markdown, see ``retarget``) in its
    badges slot or no slot at all, and, when given, ``submission_text`` (Markdown) instead of
    its default text on handing in work."""
    text = README_TEMPLATE.read_text(encoding="utf-8")
    if (text.count(CHAPTERS_SLOT) != 1 or len(SUBMISSION_SLOT.findall(text)) != 1
            or text.count(BADGES_SLOT) != 1):
        raise ValueError(f"{README_TEMPLATE.name} needs one {CHAPTERS_SLOT} line, one "
                         f"{BADGES_SLOT.strip()} line and one "
                         "<!-- submission --> ... <!-- /submission --> block")
    table = chapter_table((Path(root) / "README.md").read_text(encoding="utf-8"),
                          set(assignment.chapters) if assignment is not None else None)
    text = text.replace(CHAPTERS_SLOT, table)
    text = text.replace(BADGES_SLOT, f"{badges.strip()}\n\n" if badges else "")
    if submission_text is not None:
        if not submission_text.strip():
            raise ValueError("the submission text is empty")
        submission = submission_text.strip() + "\n"
    else:
        submission = SUBMISSION_SLOT.search(text).group(1)
    if assignment is not None:
        submission = assignment_text(assignment) + submission
    return SUBMISSION_SLOT.sub(lambda _: submission, text)


def build_release(out: Path = DEFAULT_OUT, root: Path = REPO_ROOT,
                  submission_text: str | None = None, repo: str | None = None,
                  branch: str | None = None, assignment: Assignment | None = None) -> Path:
    """Write the student copy to ``out`` (replacing what is there) and return ``out``.
    ``submission_text`` (Markdown) tells learners how to hand in their work, in the README;
    without it they read the template's default. ``repo`` (``OWNER/NAME``) and ``branch``
    name the class repository the copy's badges and Colab set-up point to (``retarget``).
    For an ``assignment``, the copy holds the welcome notebook and the notebooks of the
    chapters it grades or builds on, and its README says what is graded and when; every
    exercise stays a stub (``course_lib`` is whole: learners keep their earlier work)."""
    out, root = Path(out), Path(root)
    target = class_repository(root, repo, branch)  # ValueError before anything is written
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
    notebooks = [path for path in sorted((root / "notebooks").glob("*.ipynb"))
                 if assignment is None or not path.name[:2].isdigit()
                 or int(path.name[:2]) in {0, *assignment.chapters}]
    shipped = {path.name for path in notebooks} if assignment is not None else None
    for path in notebooks:
        _strip_notebook(path, out / "notebooks" / path.name, shipped)
    for name in TOP_FILES:
        if (root / name).exists():
            shutil.copy2(root / name, out / name)
    if (root / "binder").is_dir():
        _copy_tree(root / "binder", out / "binder")
    badges = retarget(out, *target) if target else None
    (out / "README.md").write_text(student_readme(root, submission_text, badges, assignment),
                                   encoding="utf-8")
    (out / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (out / "Makefile").write_text(MAKEFILE, encoding="utf-8")
    (out / ".gitignore").write_text("".join(f"{entry}\n" for entry in GITIGNORE),
                                    encoding="utf-8")
    return out


# --------------------------------------------------------------------------------------
# The class repository (--repo): where the copy's badges and Colab set-up point
# --------------------------------------------------------------------------------------

LAUNCH = Path("course_lib") / "launch.py"
LAUNCH_CONSTANTS = ("REPO_OWNER", "REPO_NAME", "BRANCH")  # REPO_URL, COLAB_HOME follow them
_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")  # GitHub's rules for an account
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")  # and for a repository's name
# git check-ref-format's rules for a branch, and no quote, # or % (they would break the
# set-up cell's strings or the badges' addresses).
_BAD_BRANCH = re.compile(r"""[\x00-\x20\x7f~^:?*\[\\"'`#%]|\.\.|@\{|//|^[-/]|[/.]$|(^|/)\."""
                         r"|\.lock(/|$)")


def parse_repo(repo: str) -> tuple[str, str]:
    """``(owner, name)`` of a GitHub repository written ``OWNER/NAME`` (ValueError unless
    both follow GitHub's rules)."""
    owner, slash, name = repo.partition("/") if isinstance(repo, str) else ("", "", "")
    if not (slash and _OWNER.fullmatch(owner) and _NAME.fullmatch(name)
            and name not in (".", "..") and not name.lower().endswith(".git")):
        raise ValueError(f"--repo must be a GitHub repository written OWNER/NAME (OWNER: up to "
                         f"39 letters, digits and hyphens, not starting with a hyphen; NAME: up "
                         f"to 100 letters, digits, '.', '-' and '_', without '.git'), got {repo!r}")
    return owner, name


def _launch_constants(path: Path) -> dict[str, str]:
    """The string constants ``LAUNCH_CONSTANTS`` of a ``launch.py``, read without running it."""
    found = {}
    for node in ast.parse(Path(path).read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Constant)
                and node.targets[0].id in LAUNCH_CONSTANTS):
            found[node.targets[0].id] = node.value.value
    return found


def class_repository(root: Path, repo: str | None,
                     branch: str | None = None) -> tuple[str, str, str] | None:
    """``(owner, name, branch)`` of the class repository ``repo`` (``OWNER/NAME``) on
    ``branch`` (by default that of the teacher's launch.py), or None without ``repo``;
    ValueError for a name GitHub or git would refuse."""
    if repo is None:
        if branch is not None:
            raise ValueError("--branch needs --repo")
        return None
    owner, name = parse_repo(repo)
    if branch is None:
        branch = _launch_constants(Path(root) / LAUNCH)["BRANCH"]
    if (not isinstance(branch, str) or not branch or len(branch) > 255
            or _BAD_BRANCH.search(branch)):
        raise ValueError(f"--branch must be a branch name git accepts (no spaces, '..', '~', "
                         f"'^', ':', '?', '*', '[', '\\', '@{{', quotes, '#' or '%'; not starting "
                         f"with '-' or ending with '.', '/' or '.lock'), got {branch!r}")
    return owner, name, branch


def _load_launch(path: Path):
    """The module of the ``launch.py`` at ``path`` (it imports only the standard library)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_release_launch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def retarget(out: Path, owner: str, name: str, branch: str) -> str:
    """Point the copy at ``out`` to the class repository ``owner/name`` on ``branch``: set the
    copy's launch.py constants, then write every notebook's badges line and Colab set-up cell
    anew from that launch.py (as ``scripts/sync_launch_cells.py`` does from the teacher's).
    Returns the README's badges (Markdown) for ``student_readme``."""
    import nbformat

    path = Path(out) / LAUNCH
    text = path.read_text(encoding="utf-8")
    for key, value in zip(LAUNCH_CONSTANTS, (owner, name, branch), strict=True):
        line = f'{key} = "{value}"'
        text, found = re.subn(rf'^{key} = "[^"\n]*"$', lambda _, line=line: line, text,
                              flags=re.MULTILINE)
        if found != 1:
            raise ValueError(f"{LAUNCH} has {found} lines '{key} = \"...\"', expected one")
    # The class repository has no in-browser site unless its teacher publishes one (make lite):
    # its notebooks offer none, rather than a link that leads nowhere.
    text, found = re.subn(r"^IN_BROWSER = True$", "IN_BROWSER = False", text, flags=re.MULTILINE)
    if found != 1:
        raise ValueError(f"{LAUNCH} has {found} lines 'IN_BROWSER = True', expected one")
    path.write_text(text, encoding="utf-8")
    launch = _load_launch(path)
    for notebook in sorted((Path(out) / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(notebook, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown" and launch.BADGES_PREFIX in cell.source:
                cell.source = "\n".join(launch.badges_markdown(notebook.name)
                                        if line.startswith(launch.BADGES_PREFIX) else line
                                        for line in cell.source.split("\n"))
            if cell.cell_type == "code" and cell.source.startswith(launch.SETUP_CELL_MARKER):
                cell.source = launch.colab_setup_cell()
        nbformat.write(nb, notebook)
    return (f"{launch.badges_markdown('00_welcome.ipynb')}\n\nThe class repository: "
            f"<{launch.REPO_URL}> (branch {launch.BRANCH}).")


def check_repo(out: Path, repo: str, root: Path = REPO_ROOT) -> list[str]:
    """Every problem with the copy at ``out`` built for the class repository ``repo``: a
    file that still names the course's repository (that of the teacher's launch.py, under
    ``root``), or a launch.py whose constants name another."""
    out = Path(out)
    owner, name = parse_repo(repo)
    teacher = _launch_constants(Path(root) / LAUNCH)
    course = f"{teacher['REPO_OWNER']}/{teacher['REPO_NAME']}"
    problems = []
    if course.lower() != f"{owner}/{name}".lower():
        for path in sorted(out.rglob("*")):
            if (path.is_file() and not {".git", ".venv", "__pycache__"} & set(path.parts)
                    and course.lower().encode() in path.read_bytes().lower()):
                problems.append(f"{path.relative_to(out)} still names the course's repository "
                                f"{course}, not {owner}/{name}")
    copy = _launch_constants(out / LAUNCH) if (out / LAUNCH).exists() else {}
    if (copy.get("REPO_OWNER"), copy.get("REPO_NAME")) != (owner, name):
        problems.append(f"{LAUNCH} names {copy.get('REPO_OWNER')}/{copy.get('REPO_NAME')}, "
                        f"not {owner}/{name}")
    return problems


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
    """No Markdown or saved output of the copy points to the references or shows the
    teacher's mode, no Markdown keeps a copy marker, and no code cell switches a reference
    on."""
    import nbformat

    problems = []
    for where, text in _markdown_texts(out).items():
        for word in REFERENCE_POINTERS + MARKERS + TEACHER_MODE:
            if word in text:
                problems.append(f"{where} mentions {word!r}")
    for path in sorted((out / "notebooks").glob("*.ipynb")):
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code":
                problems += [f"{path.relative_to(out)} cell {i} (code) calls "
                             f"use_reference({call.group(1)})"
                             for call in _REFERENCE_CALL.finditer(cell.source)
                             if "on=False" not in call.group(1)]
    return problems


# What the copy's course_lib says to a learner, gathered by running it there (in a process of
# its own, with the copy first on the path): every exercise's "not implemented yet" message for
# a notebook and for the terminal, what a later cell hears when a cell stopped at it, the
# set-up cell's status line, a check report, an experiment that stops at an exercise, and the
# command line's help.
_MESSAGE_PROBE = r"""
import contextlib, io, json, sys
from course_lib import exercises, notebook
from course_lib.__main__ import main as cli
texts = {}
for row in exercises.catalog():
    entry = exercises.get_exercise(row["id"])
    texts[f"exercise {row['id']}, unsolved (notebook)"] = entry.hint_for("notebook")
    texts[f"exercise {row['id']}, unsolved (terminal)"] = entry.hint_for("cli")
    texts[f"exercise {row['id']}, not made"] = str(notebook._unmade_error("x", row["id"]))
report = exercises.check("1.1", quiet=True)
texts["check 1.1 (notebook)"] = report.text()
texts["check 1.1 (terminal)"] = report.text(audience="cli")
for name, call in (("setup_notebook", lambda: notebook.setup_notebook(seed=0)),
                   ("run vickrey", lambda: cli(["run", "vickrey", "--quick", "--no-progress"])),
                   ("run --help", lambda: cli(["run", "--help"]))):
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            call()
        except SystemExit:
            pass
    texts[name] = sink.getvalue()
json.dump(texts, sys.stdout)
"""


def learner_messages(out: Path) -> dict[str, str]:
    """What the copy at ``out`` says to a learner (see ``_MESSAGE_PROBE``), by where."""
    import json
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(out), "COURSE_LIB_REFERENCE": "",
           "COURSE_LIB_QUICK": "1", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", _MESSAGE_PROBE], cwd=out, env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"the copy's messages could not be gathered: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def check_messages(out: Path) -> list[str]:
    """No message the copy's course_lib gives a learner points to the references."""
    return [f"the copy's message ({where}) mentions {word!r}"
            for where, text in learner_messages(out).items()
            for word in REFERENCE_POINTERS + TEACHER_MODE if word in text]


def check_release(out: Path = DEFAULT_OUT, root: Path = REPO_ROOT,
                  repo: str | None = None) -> list[str]:
    """Every problem found in the student copy at ``out`` (an empty list: it is clean);
    ``repo``: the class repository it was built for (``check_repo``)."""
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
    return (problems + check_hints(out, root, ids) + check_text(out) + check_paths(out)
            + check_messages(out) + (check_repo(out, repo, root) if repo else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classroom.release",
                                     description="Build and check the student copy.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--submission-text", type=Path, metavar="FILE",
                        help="Markdown telling learners how to hand in their work; it becomes "
                             "the README's 'Handing in your work' section (default: a note "
                             "that the teacher will say how)")
    parser.add_argument("--repo", metavar="OWNER/NAME",
                        help="the class repository on GitHub that will hold the copy: its "
                             "badges and Colab set-up point there (default: the public course, "
                             "for self-study)")
    parser.add_argument("--branch", metavar="B",
                        help="the class repository's branch (default: that of launch.py)")
    parser.add_argument("--assignment", metavar="ID",
                        help="an assignment of grading/assignments.toml: the copy holds the "
                             "notebooks of its chapters and says what is graded and when")
    args = parser.parse_args(argv)
    try:
        class_repository(REPO_ROOT, args.repo, args.branch)
        assignment = get_assignment(args.assignment) if args.assignment else None
    except ValueError as error:
        parser.error(str(error))
    submission = (None if args.submission_text is None
                  else args.submission_text.read_text(encoding="utf-8"))
    out = build_release(args.out, submission_text=submission, repo=args.repo,
                        branch=args.branch, assignment=assignment)
    problems = check_release(out, repo=args.repo)
    for problem in problems:
        print("PROBLEM:", problem)
    print(f"student copy written to {out}: " + ("clean" if not problems else
                                                 f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
