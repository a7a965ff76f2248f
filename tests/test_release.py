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
    GITIGNORE,
    MARKER,
    MARKERS,
    REPO_ROOT,
    TORCH_INDEX,
    _body_lines,
    _release_hints,
    build_release,
    check_messages,
    check_paths,
    check_release,
    check_repo,
    class_repository,
    learner_messages,
    main,
    student_code,
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
    for needed in ("README.md", "requirements.txt", "pyproject.toml", "Makefile", ".gitignore",
                   "course_lib/exercises.py", "data/mnist_classifier.pt",
                   "notebooks/01_vickrey_auction.ipynb", "tests/conftest.py",
                   "tests/test_auctions.py", "binder/postBuild", "binder/requirements.txt",
                   "binder/runtime.txt", MARKER):
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
        student_text(c.source) if c.cell_type == "markdown" else student_code(c.source)
        for c in original.cells]
    code = [(o, c) for o, c in zip(original.cells, copy.cells, strict=True)
            if o.cell_type == "code"]
    first = next(k for k, (o, _) in enumerate(code) if "check(" in o.source)
    assert first > 0
    for o, c in code[:first]:  # kept, unless they show the teacher's mode (the status line)
        assert c.outputs == ([] if "reference solutions in use" in str(o.outputs)
                             else o.outputs)
    assert any(c.outputs for _, c in code[:first])
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
    # 7. a code cell that switches a reference on, and the teacher's status line kept
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[2].source += '\nuse_reference("2.1")'
    code[3].outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text="reference solutions in use: all exercises\n")]
    nbformat.write(nb, path)
    problems = "\n".join(check_release(leaky))
    assert f"cell {nb.cells.index(code[2])} (code) calls use_reference(\"2.1\")" in problems
    assert (f"cell {nb.cells.index(code[3])} (outputs) mentions 'reference solutions in use'"
            in problems)
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


def test_the_student_copy_imports_only_what_it_can_serve(release):
    assert student_code("from course_lib import check, hint, setup_notebook, use_reference\n\n"
                        "setup_notebook(seed=0)") == (
        "from course_lib import check, hint, setup_notebook\n\nsetup_notebook(seed=0)")
    demo = ("from course_lib import ExerciseNotImplementedError, use_reference\n"
            'with use_reference("1.1", on=False):\n    pass')
    assert student_code(demo) == demo  # the welcome's demonstration switches it off
    first = nbformat.read(release / "notebooks/01_vickrey_auction.ipynb", as_version=4)
    setup = next(c for c in first.cells if "setup_notebook(" in c.source)
    assert "hint" in setup.source and "use_reference" not in setup.source
    assert setup.outputs == []  # the teacher's status line named the references in use


def test_what_the_library_tells_a_learner_never_names_the_references(release, tmp_path):
    messages = learner_messages(release)
    assert len([k for k in messages if k.endswith("not made")]) == 26
    assert 'hint("6.6")' in messages["exercise 6.6, not made"]
    assert "course_lib ready" in messages["setup_notebook"]
    assert "python -m course_lib hint 1." in messages["run vickrey"]  # the first it meets
    assert check_messages(release) == []
    leaky = tmp_path / "leaky"
    shutil.copytree(release, leaky)
    path = leaky / "course_lib/notebook.py"
    text = path.read_text()
    assert "    if exercises.solutions_available():\n        way =" in text
    path.write_text(text.replace("    if exercises.solutions_available():\n        way =",
                                 "    if True:\n        way =", 1))
    problems = check_messages(leaky)
    assert len(problems) == 26 and all("not made) mentions 'use_reference'" in p
                                       for p in problems), problems


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


# --------------------------------------------------------------------------------------
# The student copy's README, Makefile and .gitignore
# --------------------------------------------------------------------------------------


def test_the_student_readme_is_written_for_the_learner_of_the_copy(release):
    readme = (release / "README.md").read_text()
    for notebook in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):  # the chapter table
        assert f"[`{notebook.stem}`](notebooks/{notebook.name}) |" in readme, notebook.name
    assert "| # | notebook | what you learn | time |" in readme and "| ready |" not in readme
    for needed in ("make setup", "make lab", "make test", "make setup TORCH_INDEX=",
                   f"pip install torch torchvision --index-url {TORCH_INDEX}",
                   "pip install -r requirements.txt", "pip install --no-deps -e .",
                   "jupyter lab notebooks/00_welcome.ipynb", 'check("1.2")', 'hint("1.2")',
                   "python -m course_lib list", "python -m course_lib check 1.2",
                   "python -m course_lib hint 1.2", "python -m course_lib run vickrey",
                   "COURSE_LIB_QUICK=1", "## Handing in your work",
                   "Your teacher will tell you where to hand in your work",
                   "python -m course_lib submit", "writes `submission.zip`",
                   "What is graded: the exercise functions in `course_lib/`",
                   "**Your answer (1.a)**"):
        assert needed in readme, needed
    for absent in ("reference solution", "use_reference", "--reference", "solutions/",
                   "<!--", "make book", "make colab", "benchmarks/", "binder/", "docs/"):
        assert absent not in readme, absent
    # The teacher's README is no longer passed through student_text: it keeps no copy markers.
    teacher = (REPO_ROOT / "README.md").read_text()
    assert not any(f"<!-- {marker}" in teacher or f"<!-- /{marker}" in teacher
                   for marker in MARKERS)


def test_the_teacher_says_how_to_hand_in_work(tmp_path, capsys):
    text = tmp_path / "submit.md"
    text.write_text("Zip your `course_lib/` folder and upload it to the class page by Friday.\n")
    out = tmp_path / "student"
    main(["--out", str(out), "--submission-text", str(text)])
    assert str(out) in capsys.readouterr().out
    readme = (out / "README.md").read_text()
    section = readme.split("## Handing in your work\n", 1)[1].split("\n## ", 1)[0]
    assert section.strip() == text.read_text().strip()
    assert "Your teacher will tell you" not in readme
    text.write_text("  \n")
    with pytest.raises(ValueError, match="submission text is empty"):
        build_release(out, submission_text=text.read_text())


def test_the_gitignore_keeps_what_setting_up_and_running_make(release):
    lines = (release / ".gitignore").read_text().splitlines()
    assert lines == list(GITIGNORE)
    for entry in (".venv/", "__pycache__/", "*.egg-info/", ".pytest_cache/", ".hypothesis/",
                  ".ipynb_checkpoints/", ".hint-progress.json", "data/cache/", "data/MNIST/"):
        assert entry in lines, entry
    assert not any(line.startswith(("course_lib", "notebooks", "tests")) for line in lines)


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")

# A stand-in for the copy's .venv/bin/python: logs every call, and fails the call that asks
# PyTorch's CPU index when FAIL_INDEX is set, as pip does when the index cannot be reached.
FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$CALLS"
case " $* " in *" --index-url "*) [ -z "$FAIL_INDEX" ] || exit 1 ;; esac
exit 0
"""


def _setup_with_fake_python(release, tmp_path, fail_index, *make_args):
    copy = tmp_path / "copy"
    copy.mkdir(parents=True)
    for name in ("Makefile", "requirements.txt", "pyproject.toml"):
        shutil.copy2(release / name, copy / name)
    (copy / ".venv/bin").mkdir(parents=True)
    fake = copy / ".venv/bin/python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    calls = tmp_path / "calls.txt"
    env = {**os.environ, "CALLS": str(calls), "FAIL_INDEX": "1" if fail_index else ""}
    done = subprocess.run(["make", "setup", *make_args], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (copy / ".venv/.course-installed").exists()
    return done.stdout, calls.read_text().splitlines()


@needs_make
def test_make_setup_installs_the_cpu_torch_first_and_falls_back_on_pypi(release, tmp_path):
    dry = subprocess.run(["make", "-n", "setup"], cwd=release, capture_output=True, text=True,
                         timeout=60).stdout
    cpu = dry.index(f"--retries 0 --timeout 15 \\\n    --index-url {TORCH_INDEX} torch torchvision")
    assert cpu < dry.index("|| \\\n  echo \"Could not install") < dry.index(
        "pip install --quiet -r requirements.txt") < dry.index("--no-deps -e .")

    stdout, calls = _setup_with_fake_python(release, tmp_path / "down", True)
    index_call = (f"-m pip install --quiet --retries 0 --timeout 15 --index-url {TORCH_INDEX} "
                  "torch torchvision")
    assert calls == ["-m pip install --quiet --upgrade pip", index_call,
                     "-m pip install --quiet -r requirements.txt",
                     "-m pip install --quiet --no-deps -e ."]
    said = [line for line in stdout.splitlines() if "PyTorch" in line]
    assert said == [f"Installing PyTorch's CPU build from {TORCH_INDEX}",
                    f"Could not install PyTorch's CPU build from {TORCH_INDEX} (unreachable? "
                    "see .venv/torch-cpu.log): installing PyPI's build instead"]

    stdout, calls = _setup_with_fake_python(release, tmp_path / "up", False)
    assert calls[1] == index_call and "Could not install" not in stdout

    stdout, calls = _setup_with_fake_python(release, tmp_path / "skip", True, "TORCH_INDEX=")
    assert not any("--index-url" in call for call in calls) and "PyTorch" not in stdout
    assert calls[-2:] == ["-m pip install --quiet -r requirements.txt",
                          "-m pip install --quiet --no-deps -e ."]


# --------------------------------------------------------------------------------------
# Every path and make target the copy names is in the copy
# --------------------------------------------------------------------------------------


def test_check_paths_finds_names_of_what_the_copy_lacks(release, tmp_path):
    before = set(check_paths(release))
    bad = tmp_path / "bad"
    shutil.copytree(release, bad)
    readme = bad / "README.md"
    readme.write_text(readme.read_text() + """
## Extra

Speed: `benchmarks/bench_auctions.py`. ![a screenshot](docs/images/shot.png)
Build the website with `make book`, or `COURSE_LIB_QUICK=1 make lab colab`.
Retrain with `python -m course_lib.nowhere`; see [the guide](docs/teaching.md#grading).

```bash
python scripts/walkthrough.py   # the newcomer's path
```

Not paths, or made by the course: `mbchang/decentralized-rl`, `MiniGrid/Empty-8x8-v0`, `1/n`,
`course_lib/<module>.py`, `--json out.json`, `/content/markets-of-agents/course_lib/`,
`data/cache/`, `data/MNIST/`, [a site](https://example.org/a/b.png), [up](#chapters),
`.venv/bin/activate`, `python -m course_lib.auctions`, `python -m pytest tests`; make sure
of it.
""")
    path = bad / "notebooks/02_bucket_brigade.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(
        "The [book's set-up](../book/_config.yml) and [chapter 3](03_cloned_vickrey_society.ipynb)"
        " and `course_lib/bucket_brigade.py` and `../course_lib/auctions.py`."))
    nb.cells.append(nbformat.v4.new_code_cell(
        'print("Timings: `tests/colab_runtime.toml`")  # make the point\n'
        "!make colab\nlayers[0](x)\n"))
    nbformat.write(nb, path)
    new = set(check_paths(bad)) - before
    at = len(nb.cells) - 2
    line = readme.read_text().splitlines().index(next(  # the line of `benchmarks/...`
        x for x in readme.read_text().splitlines() if x.startswith("Speed:"))) + 1
    assert new == {
        f"README.md line {line}: benchmarks/bench_auctions.py is not in the copy",
        f"README.md line {line}: docs/images/shot.png is not in the copy",
        f"README.md line {line + 1}: `make book`: the copy's Makefile has no such target",
        f"README.md line {line + 1}: `make colab`: the copy's Makefile has no such target",
        f"README.md line {line + 2}: `python -m course_lib.nowhere`: no such module in the copy",
        f"README.md line {line + 2}: docs/teaching.md is not in the copy",
        f"README.md line {line + 5}: scripts/walkthrough.py is not in the copy",
        f"notebooks/02_bucket_brigade.ipynb cell {at}: ../book/_config.yml is not in the copy",
        f"notebooks/02_bucket_brigade.ipynb cell {at + 1} (code): tests/colab_runtime.toml is "
        "not in the copy",
        f"notebooks/02_bucket_brigade.ipynb cell {at + 1} (code): `make colab`: the copy's "
        "Makefile has no such target",
    }, sorted(new)
    assert new <= set(check_release(bad))
    (bad / "Makefile").unlink()  # without a Makefile, every make target is missing
    assert any("`make setup`" in problem for problem in check_paths(bad))


def test_the_copy_names_only_what_it_holds(release):
    assert check_paths(release) == []


# --------------------------------------------------------------------------------------
# The class repository (--repo): the copy's badges and Colab set-up point there
# --------------------------------------------------------------------------------------

CLASS_REPO, CLASS_BRANCH = "alice/ml-class", "spring"
CLASS_URL = "https://github.com/alice/ml-class"
COURSE = "markets-of-agents/markets-of-agents"  # the teacher's launch.py constants


def _teacher_files() -> dict[str, bytes]:
    """The bytes of every teacher's file the class build reads and could have rewritten."""
    paths = [REPO_ROOT / "course_lib/launch.py", REPO_ROOT / "README.md",
             REPO_ROOT / "classroom/student_readme.md",
             *(REPO_ROOT / "notebooks").glob("*.ipynb"), *(REPO_ROOT / "binder").iterdir()]
    return {str(p.relative_to(REPO_ROOT)): p.read_bytes() for p in sorted(paths) if p.is_file()}


@pytest.fixture(scope="module")
def class_release(tmp_path_factory):
    """The copy for the class repository alice/ml-class (branch spring), built and checked
    (check_repo included) by the command line, and the teacher's files before and after."""
    out = tmp_path_factory.mktemp("class") / "student"
    before = _teacher_files()
    assert main(["--out", str(out), "--repo", CLASS_REPO, "--branch", CLASS_BRANCH]) == 0
    return out, before, _teacher_files()


def _launch_of(copy: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("class_launch", copy / "course_lib/launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_class_copy_points_to_the_class_repository(class_release):
    copy, before, after = class_release
    assert after == before  # the teacher's launch.py, notebooks, READMEs and binder/
    launch = _launch_of(copy)
    assert (launch.REPO_OWNER, launch.REPO_NAME, launch.BRANCH) == ("alice", "ml-class", "spring")
    assert launch.REPO_URL == CLASS_URL and launch.COLAB_HOME == "/content/ml-class"
    # no in-browser site for the class repository unless its teacher publishes one: no link
    assert launch.IN_BROWSER is False and launch.browser_url("01_vickrey_auction.ipynb") is None
    for path in sorted(copy.glob("notebooks/*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        assert launch.badges_markdown(path.name) in cells[0].source.split("\n"), path.name
        assert "Run in the browser" not in cells[0].source and "github.io" not in cells[0].source
        setup = next(c for c in cells if c.cell_type == "code")
        assert setup.source == launch.colab_setup_cell(), path.name
        assert f'"{CLASS_URL}"' in setup.source and '"--branch", "spring"' in setup.source
    readme = (copy / "README.md").read_text()
    for link in ("https://colab.research.google.com/github/alice/ml-class/blob/spring/"
                 "notebooks/00_welcome.ipynb",
                 "https://mybinder.org/v2/gh/alice/ml-class/spring?urlpath=lab/tree/"
                 "notebooks/00_welcome.ipynb", f"<{CLASS_URL}>"):
        assert f"]({link})" in readme or link in readme, link
    assert "<!--" not in readme
    for name in ("postBuild", "requirements.txt", "runtime.txt"):  # Binder builds the copy
        assert (copy / "binder" / name).read_bytes() == (REPO_ROOT / "binder" / name).read_bytes()
    assert check_repo(copy, CLASS_REPO) == [] and check_paths(copy) == []


def test_without_repo_the_copy_points_to_the_public_course(release):
    readme = (release / "README.md").read_text()
    assert COURSE not in readme and "<!--" not in readme  # no badges: self-study
    assert (release / "course_lib/launch.py").read_bytes() == (
        REPO_ROOT / "course_lib/launch.py").read_bytes()
    assert COURSE in (release / "notebooks/01_vickrey_auction.ipynb").read_text()
    assert (release / "binder/postBuild").is_file()


@pytest.mark.parametrize("repo", [
    "alice", "alice/", "/ml-class", "alice/ml/class", "-alice/ml-class", "al_ice/ml-class",
    "a" * 40 + "/x", "alice/" + "x" * 101, "alice/ml class", "alice/..", "alice/ml-class.git",
    "alice/ml-class\n", "ali ce/x", "alice/ml\"class"])
def test_bad_repository_names_are_refused(repo, tmp_path, capsys):
    with pytest.raises(ValueError, match="OWNER/NAME"):
        build_release(tmp_path / "student", repo=repo)
    assert not (tmp_path / "student").exists()
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path / "student"), f"--repo={repo}"])
    assert "OWNER/NAME" in capsys.readouterr().err


@pytest.mark.parametrize("branch", [
    "", "spring term", "a..b", "-spring", "spring/", "spring.", "spring.lock", "a//b",
    ".hidden", "a/.b", "x@{1}", "a~1", "a^", "a:b", "a?", "a*", "a[b", "a\\b", 'a"b', "a#b",
    "a%b", "tab\tb"])
def test_bad_branch_names_are_refused(branch, tmp_path):
    with pytest.raises(ValueError, match="--branch"):
        build_release(tmp_path / "student", repo=CLASS_REPO, branch=branch)
    assert not (tmp_path / "student").exists()


def test_good_names_are_accepted_and_the_branch_defaults_to_launch_py():
    assert class_repository(REPO_ROOT, None) is None
    assert class_repository(REPO_ROOT, "alice/ml-class") == ("alice", "ml-class", "main")
    assert class_repository(REPO_ROOT, "A" * 39 + "/" + "x._-" * 25, "term/2025-spring_v1.2") \
        == ("A" * 39, "x._-" * 25, "term/2025-spring_v1.2")
    assert class_repository(REPO_ROOT, "alice-2/.github-io", "main")[1] == ".github-io"
    with pytest.raises(ValueError, match="--branch needs --repo"):
        class_repository(REPO_ROOT, None, "spring")


def test_check_repo_finds_the_course_address_left_in_the_copy(class_release, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(class_release[0], bad)
    postbuild = bad / "binder/postBuild"
    postbuild.write_text(postbuild.read_text() + f"# from https://github.com/{COURSE}\n")
    path = bad / "notebooks/03_cloned_vickrey_society.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"[The course](https://GitHub.com/{COURSE.upper()}/tree/main)"))
    nbformat.write(nb, path)
    problems = check_repo(bad, CLASS_REPO)
    assert sorted(p.split(" ")[0] for p in problems) == [
        "binder/postBuild", "notebooks/03_cloned_vickrey_society.ipynb"], problems
    assert all(f"still names the course's repository {COURSE}" in p for p in problems)
    # A copy built for another repository, or for none, is caught by its launch.py too.
    assert "course_lib/launch.py names alice/ml-class, not bob/other" in check_repo(
        class_release[0], "bob/other")
