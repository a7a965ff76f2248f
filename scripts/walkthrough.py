"""A learner's path through the course, proven end to end (``make walkthrough``; CI runs it).

1. Clone the repository afresh (what is committed on the current branch) into a temporary
   folder, as a contributor would from GitHub, and follow the README's set-up there
   (``make setup``: a new ``.venv`` with every requirement).
2. Build the student copy from it (``classroom.release``): what a learner of a class holds,
   with no reference solutions.
3. Walk every notebook of the student copy as a learner who works through it in order, in a
   kernel that imports the copy's own ``course_lib`` (quick budgets):

   - cells run in order; when one stops at an unsolved exercise, that exercise must be one the
     notebook has already introduced (its ``### Exercise x.y`` heading or its ``check("x.y")``
     cell; exercises of earlier chapters count as done), and the message must be one line;
   - every call a message suggests (``hint("x.y")``, ``check("x.y", verbose=True)``,
     ``use_reference(...)``, a ``python -m ...`` command for the terminal) is run and must
     work in the student copy;
   - then the learner solves the exercise: the stub's body in the copy's file becomes a call
     of the reference solution (kept outside the copy, so the copy still has none), as an edit
     would, and the cell runs again; it must now run without an error;
   - a ``check("x.y")`` cell must report a pass once its exercise is solved.

With the reference solutions on, every notebook runs without an error in `make test` (nbval,
on CI's packages) and in the Colab rehearsal (`make colab`, on Colab's): not repeated here.

Usage:
    python scripts/walkthrough.py [--source REPO] [--workdir DIR] [--keep]
    python scripts/walkthrough.py --here [NOTEBOOK ...]   # steps 2 and 3 from this checkout
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's course_lib (for reading exercise modules)
FRIENDLY = "ExerciseNotImplementedError"
NAMES_EXERCISE = re.compile(r"\bexercise (\d+\.\d+)\b", re.IGNORECASE)
# Where a notebook introduces an exercise: its heading, or the cell that checks it.
HEADING = re.compile(r"^#+\s*Exercise (\d+\.\d+)\b", re.MULTILINE)
CHECK_CALL = re.compile(r"\bcheck\(\s*[\"'](\d+\.\d+)[\"']")
# Calls a message suggests, to be run as they are written.
SUGGESTED_CALL = re.compile(r"\b(?:hint|check|use_reference)\(\"\d+\.\d+\"(?:, [a-z_]+=\w+)*\)")
SUGGESTED_COMMAND = re.compile(r"^\s*(python -m (?:pytest|course_lib) [^\n`]*?)\s*$",
                               re.MULTILINE)
PASSED = re.compile(r"^Exercise (\d+\.\d+) - .*: PASSED", re.MULTILINE)


def _run(command: list[str], cwd: Path, **kwargs) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, cwd=cwd, check=True, **kwargs)


def fresh_clone(source: str, workdir: Path) -> Path:
    """Clone ``source`` into ``workdir`` and run the README's set-up there."""
    clone = workdir / "markets-of-agents"
    _run(["git", "clone", "--quiet", source, str(clone)], cwd=workdir)
    started = time.perf_counter()
    _run(["make", "setup"], cwd=clone)
    print(f"set-up took {time.perf_counter() - started:.0f} s", flush=True)
    return clone


def _id_key(exercise_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in exercise_id.split("."))


# --------------------------------------------------------------------------------------
# Reading a notebook's outputs
# --------------------------------------------------------------------------------------


def errors_in(nb) -> list[tuple[int, dict]]:
    """(code cell number, error output) for every error a notebook shows."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    return [(i, out) for i, cell in enumerate(code, 1) for out in cell.get("outputs", [])
            if out.get("output_type") == "error"]


def unfriendly(errors: list[tuple[int, dict]], known_ids: set[str]) -> list[str]:
    """The errors that are not a one-line message naming a known exercise (for a run that
    goes on after errors, as the Colab rehearsal's learner-mode run does)."""
    bad = []
    for cell, out in errors:
        named = NAMES_EXERCISE.search(out.get("evalue", ""))
        if (out.get("ename") != FRIENDLY or len(out.get("traceback", [])) != 1
                or named is None or named.group(1) not in known_ids):
            bad.append(f"cell {cell}: {out.get('ename')}: {out.get('evalue', '')[:300]}")
    return bad


def stops_in(errors: list[tuple[int, dict]]) -> list[str]:
    """The exercises that a notebook's errors name, in course order."""
    named = (NAMES_EXERCISE.search(out.get("evalue", "")) for _, out in errors)
    return sorted({m.group(1) for m in named if m}, key=_id_key)


def output_text(cell) -> str:
    """Everything a code cell showed as text: streams, plain-text results, error messages."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue', '')}")
        else:
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def introduced_by(cell) -> set[str]:
    """The exercises a cell introduces: an ``Exercise x.y`` heading, or ``check("x.y")``."""
    pattern = HEADING if cell.cell_type == "markdown" else CHECK_CALL
    return set(pattern.findall(cell.source))


def stop_of(cell) -> tuple[str | None, str]:
    """(the exercise a cell stopped at, or None; a problem with how it stopped, or "")."""
    errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    if not errors:
        return None, ""
    out = errors[0]
    named = NAMES_EXERCISE.search(out.get("evalue", ""))
    text = f"{out.get('ename')}: {out.get('evalue', '')[:300]}"
    if out.get("ename") != FRIENDLY or named is None:
        return None, f"an error that names no exercise: {text}"
    if len(out.get("traceback", [])) != 1:
        return named.group(1), f"a message of more than one line: {text}"
    return named.group(1), ""


def suggestions(text: str) -> tuple[list[str], list[str]]:
    """The notebook calls and the terminal commands that ``text`` suggests, in order."""
    calls = list(dict.fromkeys(SUGGESTED_CALL.findall(text)))
    commands = list(dict.fromkeys(SUGGESTED_COMMAND.findall(text)))
    return calls, commands


# --------------------------------------------------------------------------------------
# Solving an exercise in the copy, as a learner's edit would
# --------------------------------------------------------------------------------------


def _exercise_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """The module's ``@exercise`` functions by id, read as the exercise catalog reads them."""
    from course_lib.exercises import _exercise_decorator

    return {found[0]: node for node in tree.body if isinstance(node, ast.FunctionDef)
            and (found := _exercise_decorator(node))}


def _forwarding_call(args: ast.arguments) -> str:
    """The argument list that passes a function's own parameters on unchanged."""
    parts = [a.arg for a in args.posonlyargs + args.args]
    if args.vararg:
        parts.append("*" + args.vararg.arg)
    parts += [f"{a.arg}={a.arg}" for a in args.kwonlyargs]
    if args.kwarg:
        parts.append("**" + args.kwarg.arg)
    return ", ".join(parts)


def solve(copy: Path, exercise_id: str) -> Path:
    """Replace the stub of ``exercise_id`` in ``copy``'s ``course_lib`` by a call of its
    reference (``solutions.<module>``, importable from outside the copy). Returns the file."""
    for path in sorted((copy / "course_lib").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "@exercise(" not in text:
            continue
        node = _exercise_functions(ast.parse(text)).get(exercise_id)
        if node is None:
            continue
        lines = text.splitlines(keepends=True)
        body = node.body
        first = body[1] if (isinstance(body[0], ast.Expr)
                            and isinstance(body[0].value, ast.Constant)) else body[0]
        start = (body[0].end_lineno if first is not body[0] else first.lineno - 1)
        module = ".".join(path.relative_to(copy).with_suffix("").parts[1:])
        indent = " " * first.col_offset
        new_body = (f"{indent}from solutions.{module} import {node.name} as _solved\n\n"
                    f"{indent}return _solved({_forwarding_call(node.args)})\n")
        lines[start:node.end_lineno] = [new_body]
        before = path.stat().st_mtime
        path.write_text("".join(lines), encoding="utf-8")
        later = max(time.time(), before + 1)  # autoreload compares modification times
        os.utime(path, (later, later))
        return path
    raise ValueError(f"exercise {exercise_id} is not in {copy / 'course_lib'}")


def exercise_ids(copy: Path) -> list[str]:
    """Every exercise of the copy, in course order."""
    ids = []
    for path in (copy / "course_lib").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "@exercise(" in text:
            ids += _exercise_functions(ast.parse(text))
    return sorted(ids, key=_id_key)


# --------------------------------------------------------------------------------------
# The walk
# --------------------------------------------------------------------------------------


@dataclass
class Walk:
    """What walking one notebook found."""

    notebook: str
    stops: list[str] = field(default_factory=list)  # "x.y at cell n"
    tried: list[str] = field(default_factory=list)  # suggested calls and commands that ran
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def learner_environment(copy: Path, references: Path) -> dict[str, str]:
    """The environment of a learner's kernel: the copy's course_lib first on the path (not one
    installed elsewhere), the references only where ``solve`` looks for them, quick budgets."""
    # the learner's terminal has the environment activated: its python comes first
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path,
           "PYTHONPATH": os.pathsep.join([str(copy), str(references)]),
           "COURSE_LIB_REFERENCE": "", "COURSE_LIB_QUICK": "1", "MPLBACKEND": "Agg",
           "PYTHONHASHSEED": "0"}
    for name in ("VIRTUAL_ENV", "COURSE_LIB_HINT_PROGRESS"):  # the hints' place is the copy's
        env.pop(name, None)
    return env


def _run_command(command: str, copy: Path, env: dict[str, str]) -> str:
    """Run a suggested terminal command in the copy; a problem, or ""."""
    try:
        done = subprocess.run(shlex.split(command), cwd=copy, env=env, capture_output=True,
                              text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"the suggested command `{command}` did not run: {err}"
    # 0: all passed, 1: a test or a check failed (what the learner is told to look at)
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:
        return (f"the suggested command `{command}` failed ({done.returncode}): "
                f"{(done.stderr or done.stdout)[-300:]}")
    return ""


def walk_notebook(path: Path, copy: Path, references: Path) -> Walk:
    """Walk one notebook of the student copy ``copy`` as a learner (see the module docstring).
    ``references`` is the folder that holds ``solutions/``, outside the copy."""
    import nbformat
    from nbclient import NotebookClient

    walk = Walk(path.name)
    env = learner_environment(copy, references)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits it
    chapter = int(path.name.split("_", 1)[0])
    ids = exercise_ids(copy)
    solved = set()
    for exercise_id in ids:  # a learner who reaches chapter n has done the chapters before
        if _id_key(exercise_id)[0] < chapter:
            solve(copy, exercise_id)
            solved.add(exercise_id)
    introduced = set(solved)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    tried: set[str] = set()

    def follow(text: str, where: str) -> None:
        calls, commands = suggestions(text)
        for call in calls:
            if call in tried:
                continue
            tried.add(call)
            walk.tried.append(call)
            probe = nbformat.v4.new_code_cell(call)
            nb.cells.append(probe)  # the client writes each executed cell back in place
            try:
                client.execute_cell(probe, len(nb.cells) - 1)
            finally:
                nb.cells.pop()
            error = next((o for o in probe.outputs if o.get("output_type") == "error"), None)
            if error is not None:
                walk.problems.append(f"{where}: the suggested call {call} fails: "
                                     f"{error.get('ename')}: {error.get('evalue', '')[:200]}")
        for command in commands:
            if command in tried:
                continue
            tried.add(command)
            walk.tried.append(command)
            problem = _run_command(command, copy, env)
            if problem:
                walk.problems.append(f"{where}: {problem}")

    with client.setup_kernel():
        code_number = 0
        for index, cell in enumerate(nb.cells):
            introduced |= introduced_by(cell)
            if cell.cell_type != "code":
                continue
            code_number += 1
            where = f"{path.name} code cell {code_number}"
            client.execute_cell(cell, index)
            exercise_id, problem = stop_of(cell)
            if problem:
                walk.problems.append(f"{where} stopped with {problem}")
            follow(output_text(cell), where)
            checked = introduced_by(cell)
            if exercise_id is None and not problem and checked:
                unpassed = [i for i in checked if i not in PASSED.findall(output_text(cell))]
                if not unpassed:
                    continue
                exercise_id = unpassed[0]
            elif exercise_id is None:
                continue
            walk.stops.append(f"{exercise_id} at cell {code_number}")
            if exercise_id not in introduced:
                walk.problems.append(
                    f"{where} stops at exercise {exercise_id}, which the notebook has not "
                    f"introduced yet")
            if exercise_id in solved:
                walk.problems.append(f"{where} stops at exercise {exercise_id}, solved already")
                continue
            solve(copy, exercise_id)
            solved.add(exercise_id)
            client.execute_cell(cell, index)
            again, problem = stop_of(cell)
            if again or problem:
                walk.problems.append(f"{where} fails again once {exercise_id} is solved: "
                                     f"{problem or again}")
            for checked_id in introduced_by(cell):
                if checked_id not in PASSED.findall(output_text(cell)):
                    walk.problems.append(f"{where}: check({checked_id!r}) does not pass once "
                                         f"it is solved: {output_text(cell)[:300]}")
    walk.seconds = time.perf_counter() - started
    return walk


def _walk_in_own_copy(path_name: str, student: Path, references: Path, workdir: Path) -> Walk:
    """Walk one notebook in a copy of the student copy of its own (solving changes files)."""
    copy = workdir / path_name.removesuffix(".ipynb")
    shutil.copytree(student, copy)
    try:
        return walk_notebook(copy / "notebooks" / path_name, copy, references)
    except Exception:  # report it with the others, not as a crash of the pool
        return Walk(path_name, problems=[f"{path_name}: the walk itself failed: "
                                         f"{traceback.format_exc()}"])


def walk_student_copy(root: Path, notebooks: list[str] | None = None, jobs: int = 2) -> list[str]:
    """Steps 2 and 3 for the checkout at ``root`` (run with that checkout's interpreter);
    returns the problems found. Notebooks walk ``jobs`` at a time, each in its own kernel."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from classroom.release import build_release

    workdir = Path(tempfile.mkdtemp(prefix="learner-walk-"))
    try:
        student = build_release(workdir / "student", root)
        references = workdir / "references"
        shutil.copytree(root / "solutions", references / "solutions",
                        ignore=shutil.ignore_patterns("__pycache__"))
        names = notebooks or sorted(p.name for p in (student / "notebooks").glob("*.ipynb"))
        if jobs > 1:  # one thread per kernel, or their thread pools fight over the cores
            os.environ.setdefault("OMP_NUM_THREADS", "1")
        # the later chapters train longest: started first, they keep both workers busy
        order = sorted(names, reverse=True)
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
            walked = dict(zip(order, pool.map(
                _walk_in_own_copy, order, [student] * len(order), [references] * len(order),
                [workdir] * len(order)), strict=True))
        walks = [walked[name] for name in names]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{'notebook':<36} {'s':>4}  stops (exercise at code cell), then solved")
    problems: list[str] = []
    for walk in walks:
        problems += walk.problems
        print(f"{walk.notebook:<36} {walk.seconds:>4.0f}  {'; '.join(walk.stops) or '-'}")
    tried = sorted({call for walk in walks for call in walk.tried})
    print(f"\nsuggested calls and commands run: {len(tried)}")
    for call in tried:
        print("  " + call)
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(ROOT),
                        help="repository to clone (default: this checkout's committed state)")
    parser.add_argument("--workdir", type=Path, help="where to clone (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the clone and its .venv")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks walked at a time (default: 2, or 1 on one core)")
    parser.add_argument("--here", action="store_true",
                        help="only build the student copy and walk it, from this checkout, "
                             "with this Python")
    parser.add_argument("notebooks", nargs="*", help="notebook file names (default: all)")
    args = parser.parse_args(argv)
    if args.here:
        problems = walk_student_copy(ROOT, args.notebooks or None, max(1, args.jobs))
        for problem in problems:
            print("PROBLEM:", problem)
        print("walk-through:", "FAILED" if problems else "passed")
        return 1 if problems else 0

    if args.source == str(ROOT) and subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
            capture_output=True, text=True, check=True).stdout.strip():
        print("note: uncommitted changes are not part of the walk-through (it clones HEAD)")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="walkthrough-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        clone = fresh_clone(args.source, workdir)
        python = clone / ".venv" / "bin" / "python"
        env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}"}
        env.pop("VIRTUAL_ENV", None)
        return subprocess.run([str(python), str(clone / "scripts" / "walkthrough.py"),
                               "--here", "--jobs", str(args.jobs), *args.notebooks],
                              cwd=clone, env=env).returncode
    finally:
        if not args.keep:
            shutil.rmtree(workdir / "markets-of-agents", ignore_errors=True)
            if args.workdir is None:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
