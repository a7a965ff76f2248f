"""Graded assignments, declared in ``grading/assignments.toml``.

Each table ``[assignments.ID]`` names the exercises an assignment grades, its points, its due
date and its late policy::

    [assignments.a1]
    title = "Auctions and the bucket brigade"
    chapters = [1, 2]                        # every exercise of these chapters, and/or
    exercises = ["3.1"]                      # exercises by id
    builds_on = []                           # chapters whose code it uses (their notebooks
                                             # ship with its student copy)
    due = "2027-02-05T23:59:00+00:00"        # optional; an offset is required
    late = { policy = "percent_per_day", percent = 10, grace_minutes = 15, max_days = 5 }
    points = { "1.3" = 2 }                   # optional, per exercise

An exercise's points are, in order: the assignment's ``points``, ``grading/points.json``, or
one point per public test of the exercise (so a new exercise needs no entry anywhere).
``classroom.release``, ``classroom.grade`` and ``classroom.gradescope`` take
``--assignment ID``.
"""

from __future__ import annotations

import re
import tomllib  # Python >= 3.11, as the requirements need (scipy >= 1.16)
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from classroom.lateness import LatePolicy, parse_time
from course_lib.exercises import catalog

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS_FILE = REPO_ROOT / "grading" / "assignments.toml"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_KEYS = {"title", "chapters", "exercises", "builds_on", "due", "late", "points"}


@dataclass(frozen=True)
class Assignment:
    """One graded assignment (see the module docstring)."""

    id: str
    title: str
    exercises: tuple[str, ...]
    chapters: tuple[int, ...]  # of its exercises and the chapters it builds on, sorted
    points: dict[str, float] = field(default_factory=dict)  # set for this assignment
    due: datetime | None = None
    late: LatePolicy | None = None

    @property
    def exercise_chapters(self) -> tuple[int, ...]:
        """The chapters its exercises belong to (``chapters`` adds those it builds on)."""
        return tuple(sorted({_chapter(i) for i in self.exercises}))

    def describe(self) -> str:
        """Two or three lines for a report or a README."""
        lines = [f"{self.id}: {self.title} (exercises {', '.join(self.exercises)})"]
        if self.due is not None:
            lines.append(f"due {self.due.isoformat(timespec='minutes')}")
        if self.late is not None:
            lines.append(f"late work: {self.late.describe()}")
        return "; ".join(lines)


def _chapter(exercise_id: str) -> int:
    return int(exercise_id.split(".")[0])


def _ints(where: str, key: str, value: Any, known: set[int]) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{where}: {key} must be a list of chapter numbers, got {value!r}")
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValueError(f"{where}: {key} names chapters {unknown} that have no exercises "
                         f"(chapters: {sorted(known)})")
    return tuple(sorted(set(value)))


def parse_assignment(assignment_id: str, table: Any, ids: list[str]) -> Assignment:
    """One ``[assignments.ID]`` table, checked against the exercise ids ``ids``."""
    where = f"assignment {assignment_id!r}"
    if not _ID.match(assignment_id):
        raise ValueError(f"{where}: an id is letters, digits, '-' and '_' (at most 40)")
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown} (known: {sorted(_KEYS)})")
    known_chapters = {_chapter(i) for i in ids}
    chapters = _ints(where, "chapters", table.get("chapters", []), known_chapters)
    builds_on = _ints(where, "builds_on", table.get("builds_on", []), known_chapters)
    listed = table.get("exercises", [])
    if not isinstance(listed, list) or not all(isinstance(i, str) for i in listed):
        raise ValueError(f"{where}: exercises must be a list of ids like \"1.2\"")
    wrong = sorted(set(listed) - set(ids))
    if wrong:
        raise ValueError(f"{where}: unknown exercises {wrong}")
    chosen = [i for i in ids if _chapter(i) in chapters or i in listed]
    if not chosen:
        raise ValueError(f"{where} grades no exercise: give chapters = [...] or "
                         "exercises = [...]")
    points = table.get("points", {})
    if not isinstance(points, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
            for v in points.values()):
        raise ValueError(f"{where}: points must map exercise ids to numbers >= 0")
    stray = sorted(set(points) - set(chosen))
    if stray:
        raise ValueError(f"{where}: points for exercises it does not grade: {stray}")
    title = table.get("title", assignment_id)
    if not isinstance(title, str) or not title.strip():
        raise ValueError(f"{where}: title must be a non-empty string")
    due = table.get("due")
    if isinstance(due, datetime):  # TOML's own date-time
        if due.tzinfo is None:
            raise ValueError(f"{where}: due needs an offset, e.g. 2027-02-05T23:59:00+01:00")
    elif due is not None:
        if not isinstance(due, str):
            raise ValueError(f"{where}: due must be a date-time, got {due!r}")
        due = parse_time(due)
    late = table.get("late")
    if late is not None:
        if not isinstance(late, dict):
            raise ValueError(f"{where}: late must be a table, e.g. "
                             "{ policy = \"percent_per_day\", percent = 10 }")
        late = LatePolicy.from_dict(late)
        if due is None:
            raise ValueError(f"{where}: a late policy needs a due date")
    return Assignment(assignment_id, title.strip(), tuple(chosen),
                      tuple(sorted({*map(_chapter, chosen), *builds_on})),
                      {str(k): float(v) for k, v in points.items()}, due, late)


def load_assignments(path: Path = ASSIGNMENTS_FILE) -> dict[str, Assignment]:
    """Every assignment of ``path`` (none if the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path}: {err}") from None
    tables = data.get("assignments", {})
    stray = sorted(set(data) - {"assignments"})
    if stray or not isinstance(tables, dict):
        raise ValueError(f"{path}: only [assignments.ID] tables belong here (found {stray})")
    ids = [row["id"] for row in catalog()]
    return {key: parse_assignment(key, table, ids) for key, table in tables.items()}


def get_assignment(assignment_id: str, path: Path = ASSIGNMENTS_FILE) -> Assignment:
    """The assignment ``assignment_id``; a ValueError lists the known ones."""
    found = load_assignments(path)
    if assignment_id not in found:
        raise ValueError(f"no assignment {assignment_id!r} in {path} (known: "
                         f"{', '.join(found) or 'none'})")
    return found[assignment_id]
