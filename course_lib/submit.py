"""``python -m course_lib submit``: check your work and pack it into ``submission.zip``.

1. Each exercise you have written runs its public tests on your own code (``check``); an
   exercise still a stub is "not implemented yet". Failing tests do not stop the submission:
   partial work may be submitted. ``--no-tests`` skips this step.
2. The files that are graded are listed: the exercise modules (``course_lib/...py``) and the
   notebooks (``notebooks/*.ipynb``, whose written answers are graded by hand).
3. What the grader would reject is refused, with the file and the reason: a module that is
   too large, a symbolic link or does not parse; a notebook that is too large or not a
   Jupyter notebook.
4. Those files, and nothing else, are written into ``submission.zip`` in the course folder
   (``--out`` elsewhere).
"""

from __future__ import annotations

import ast
import json
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_lib import exercises

# What the grader accepts (classroom/grade.py and classroom/written.py read these): an
# exercise module of at most MAX_MODULE_KB, a notebook of at most MAX_NOTEBOOK_MB.
MAX_MODULE_KB = 512
MAX_NOTEBOOK_MB = 20
NOTEBOOK_FOLDER = "notebooks"
DEFAULT_NAME = "submission.zip"


class SubmissionError(ValueError):
    """The course folder cannot be submitted as it is; the message says which file and why."""


def course_root() -> Path:
    """The folder that holds this ``course_lib`` (where the learner works)."""
    return Path(exercises.__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------
# The files: which ones, and whether the grader would take them
# --------------------------------------------------------------------------------------


@dataclass
class Member:
    """One file of the submission: its path in the zip (forward slashes) and its bytes."""

    name: str
    data: bytes
    mtime: float


def module_names() -> list[str]:
    """The exercise modules, as paths from the course folder (``course_lib/auctions.py``)."""
    return sorted({row["file"] for row in exercises.catalog()})


def _link_in_path(root: Path, name: str) -> str | None:
    """The first part of ``root/name`` (below ``root``) that is a symbolic link, or None."""
    here = root
    for part in name.split("/"):
        here = here / part
        if here.is_symlink():
            return here.relative_to(root).as_posix()
    return None


def _read(root: Path, name: str, limit: int, limit_text: str) -> tuple[bytes, float]:
    """The bytes of ``root/name``: a regular file, no link on the way, at most ``limit`` bytes."""
    path = root / name
    link = _link_in_path(root, name)
    if link == name:
        raise SubmissionError(f"{name} is a symbolic link: the grader does not follow links; "
                              "replace it with the file itself")
    if link is not None:
        raise SubmissionError(f"{name} lies in {link}, a symbolic link: the grader does not "
                              "follow links; replace it with the folder itself")
    if not path.exists():
        raise SubmissionError(f"{name} is missing")
    if not path.is_file():
        raise SubmissionError(f"{name} is not a regular file")
    size = path.stat().st_size
    if size > limit:
        raise SubmissionError(f"{name} is larger than {limit_text} ({_size_text(size)}): "
                              "the grader refuses it")
    return path.read_bytes(), path.stat().st_mtime


def check_module(name: str, data: bytes) -> None:
    """Refuse a module that Python cannot read (naming the line)."""
    try:
        ast.parse(data.decode("utf-8"), filename=name)
    except SyntaxError as err:
        source = f" ({err.text.strip()})" if err.text and err.text.strip() else ""
        raise SubmissionError(f"{name}, line {err.lineno}: SyntaxError: {err.msg}{source}; "
                              "fix it first") from None
    except (UnicodeDecodeError, ValueError) as err:  # not UTF-8, null bytes
        raise SubmissionError(f"{name} cannot be read as Python source: {err}") from None


def check_notebook(name: str, data: bytes) -> None:
    """Refuse a notebook that is not valid JSON in the Jupyter notebook format (nbformat 4)."""
    try:
        notebook = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError(f"{name} is not a Jupyter notebook (not UTF-8 text)") from None
    except json.JSONDecodeError as err:
        raise SubmissionError(f"{name} is not valid JSON (line {err.lineno}: {err.msg}); "
                              "open it in Jupyter, or take it again from the course") from None
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4 or not isinstance(
            notebook.get("cells"), list):
        raise SubmissionError(f"{name} is not a Jupyter notebook in nbformat 4")


def collect(root: Path) -> list[Member]:
    """Every file of the submission, read and checked; a ``SubmissionError`` names each file
    the grader would refuse (all of them, one per line)."""
    root = Path(root)
    if not (root / "course_lib").is_dir():
        raise SubmissionError(f"{root} is not a course folder (it has no course_lib folder)")
    members, problems = [], []
    for name in module_names():
        try:
            data, mtime = _read(root, name, MAX_MODULE_KB * 1024, f"{MAX_MODULE_KB} KB")
            check_module(name, data)
            members.append(Member(name, data, mtime))
        except SubmissionError as err:
            problems.append(str(err))
    folder = root / NOTEBOOK_FOLDER
    for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
        name = f"{NOTEBOOK_FOLDER}/{path.name}"
        try:
            data, mtime = _read(root, name, MAX_NOTEBOOK_MB * 2**20, f"{MAX_NOTEBOOK_MB} MB")
            check_notebook(name, data)
            members.append(Member(name, data, mtime))
        except SubmissionError as err:
            problems.append(str(err))
    if problems:
        raise SubmissionError("\n".join(problems))
    return members


def _size_text(size: int) -> str:
    if size < 2**20:
        return f"{size / 1024:.1f} KB"
    return f"{size / 2**20:.1f} MB"


def output_path(out: str | Path | None, root: Path) -> Path:
    """Where the zip goes: ``out`` (a ``.zip`` in a folder that exists) or the course folder."""
    path = Path(root) / DEFAULT_NAME if out is None else Path(out)
    if path.suffix.lower() != ".zip":
        raise SubmissionError(f"--out must name a .zip file, got {str(path)!r}")
    if path.is_dir():
        raise SubmissionError(f"--out {path} is a folder; name the zip file, e.g. "
                              f"{path / DEFAULT_NAME}")
    if not path.parent.is_dir():
        raise SubmissionError(f"--out {path}: the folder {path.parent} does not exist")
    return path


def write_zip(members: Iterable[Member], out: Path) -> None:
    """The zip of ``members`` at ``out``, written beside it first and then moved in place."""
    part = out.with_name(out.name + ".part")
    try:
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as archive:
            for member in members:
                stamp = time.localtime(max(member.mtime, 315_619_200))[:6]  # zip: 1980 or later
                archive.writestr(zipfile.ZipInfo(member.name, date_time=stamp), member.data,
                                 compress_type=zipfile.ZIP_DEFLATED)
        part.replace(out)
    finally:
        part.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------
# The public tests, on the learner's own code
# --------------------------------------------------------------------------------------


def run_public_tests(rows: list[dict[str, Any]]) -> dict[str, exercises.CheckReport | None]:
    """For each exercise of ``rows``: its check report, or None when its body is still the
    stub or its file does not parse (then its tests are not run: they all fail)."""
    return {row["id"]: exercises.check(row["id"], quiet=True)
            if row["solved"] and not row["broken"] else None for row in rows}


def verdict(row: dict[str, Any], report: exercises.CheckReport | None) -> str:
    """One phrase: "passes public tests", "fails N of M public tests", "not implemented yet"."""
    if row.get("broken"):
        return f"cannot be loaded: {row['broken']}"
    if report is None:
        return "not implemented yet"
    if report.problem:
        return "public tests cannot run: " + report.problem.splitlines()[0]
    total = len(report.outcomes)
    if total == 0:
        return "no public tests ran"
    if report.passed:
        return "passes public tests"
    return f"fails {total - report.n_passed} of {total} public tests"


def with_test_results(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (catalog rows) with their public tests run: each gains ``passes`` (True or
    False) and ``public_tests`` (what ``verdict`` says), as ``list --check`` shows them."""
    results = run_public_tests(rows)
    return [{**row, "passes": bool(results[row["id"]] and results[row["id"]].passed),
             "public_tests": verdict(row, results[row["id"]])} for row in rows]


def select(only: str | None) -> list[dict[str, Any]]:
    """The catalog rows of the ids in ``only`` ("1.2" or "1.1,2.3"; None: every exercise)."""
    rows = exercises.catalog()
    if only is None:
        return rows
    wanted = [part.strip() for part in only.split(",") if part.strip()]
    unknown = [i for i in wanted if i not in {row["id"] for row in rows}]
    if unknown or not wanted:
        named = ", ".join(unknown) if unknown else repr(only)
        raise SubmissionError(f"--only: unknown exercise id(s) {named}; "
                              f"known: {', '.join(row['id'] for row in rows)}")
    return [row for row in rows if row["id"] in wanted]


# --------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------


def submit(root: str | Path | None = None, out: str | Path | None = None, *,
           tests: bool = True, only: str | None = None) -> Path:
    """Check the course folder ``root`` (default: this course), run the public tests (unless
    ``tests`` is False; ``only`` restricts them to some ids), print the files and write the
    zip. Returns its path; raises ``SubmissionError`` when the grader would refuse a file."""
    here = course_root()
    root = here if root is None else Path(root).resolve()
    target = output_path(out, root)
    members = collect(root)
    if tests:
        if root != here:
            raise SubmissionError(
                f"the public tests run on the course_lib of {here}, not on {root}: run the "
                "command from that course folder, or add --no-tests")
        rows = select(only)
        print("Public tests, on your own code (failing tests do not stop the submission):")
        results = run_public_tests(rows)
        width = max(len(f"{row['id']} {row['title']}") for row in rows)
        for row in rows:
            name = f"{row['id']} {row['title']}"
            print(f"  {name:<{width}}  {verdict(row, results[row['id']])}")
        print()
    print(f"Files to submit ({len(members)}):")
    width = max(len(m.name) for m in members)
    for m in members:
        note = "  (written answers, graded by hand)" if m.name.endswith(".ipynb") else ""
        print(f"  {m.name:<{width}}  {_size_text(len(m.data)):>9}{note}")
    if not any(m.name.endswith(".ipynb") for m in members):
        print(f"  (no notebooks in {root / NOTEBOOK_FOLDER}: their written answers are missing)")
    replaced = target.exists()
    write_zip(members, target)
    print()
    print(f"{'Replaced' if replaced else 'Wrote'} {target} ({_size_text(target.stat().st_size)}, "
          f"{len(members)} files). Upload this zip.")
    return target
