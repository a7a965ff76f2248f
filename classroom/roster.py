"""Put the scores of ``grades.csv`` into a learning platform's gradebook.

    python -m classroom.roster --grades grades/grades.csv --roster export.csv \\
        --platform canvas --column "Assignment 1 (12345)" --out upload.csv \\
        [--due 2027-02-01T23:59:00+00:00 --late-policy '{"policy": "percent_per_day",
         "percent": 10}' [--times times.csv | --times-from-files FOLDER]] [--missing-zero]

The roster is the platform's own export, and the upload is written in the shape the platform
imports:

* **Canvas**: the gradebook export (Grades > Export): ``Student,ID,SIS User ID,SIS Login ID,
  Section,<assignment columns such as "Assignment 1 (12345)">,...``; its second row holds
  each column's ``Points Possible``, and a course may list a ``Student, Test``. The upload
  keeps the identity columns and the one assignment column (``--column``), without those two
  rows: Canvas imports a CSV of a student column (name, ID or SIS User ID), SIS Login ID,
  Section and the assignment (The Ohio State University's guide to Canvas's import,
  https://teaching.resources.osu.edu/toolsets/carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades;
  the "Points Possible" and test-student rows as described for the export in
  github.com/cora-schallock/canvas-grader, README.md; Instructure's guide: "How do I import
  grades in the Gradebook?", community.canvaslms.com/t5/Instructor-Guide/
  How-do-I-import-grades-in-the-Gradebook/ta-p/807).
* **Moodle**: the assignment's offline grading worksheet (View all submissions > Download
  grading worksheet): ``Identifier,Full name,Email address,Status,Grade,Maximum grade,Grade
  can be changed,Last modified (submission),Last modified (grade),Feedback comments``, each
  Identifier ``Participant 12345``. The upload is the worksheet with ``Grade`` and
  ``Feedback comments`` filled and every other column as exported: Moodle's importer
  (mod/assign/feedback/offline/importgradeslib.php) needs the ``Identifier``, ``Grade`` and
  ``Last modified (grade)`` columns, strips the "Participant " prefix to find the
  participant, and compares the last-modified time to skip grades changed in Moodle since
  the download (lang strings ``recordid`` = "Identifier", ``hiddenuser`` = "Participant ").

How a ``grades.csv`` student is found in the roster, in order:

1. a trailing ``_<digits>`` (``lastfirst_<canvas user id>``, ``Full Name_<participant id>``,
   as ``classroom.grade`` names a platform's single-file uploads) equal to Canvas's ``ID``
   or Moodle's participant number;
2. else the name (case-insensitive) equal to the SIS Login ID, the SIS User ID, the email,
   the email's local part, or the roster name written as Canvas writes it in file names
   (``Smith, John`` -> ``smithjohn``: letters and digits only); with a trailing
   ``_<digits>`` that no roster row has, the part before it is tried too.

Two roster rows for one student, or two students for one roster row, are reported, never
guessed: their cells stay empty. Roster students without a submission get an empty cell (a
platform reads an empty cell as "not graded", where 0 would be a grade), unless
``--missing-zero``.

When the roster gives the assignment's maximum (Canvas's Points Possible, Moodle's Maximum
grade) and it differs from grades.csv's ``max_score``, the score is rescaled to it
(``--no-rescale`` keeps the raw score). Lateness (``classroom.lateness``), when a due time is
given: the final score is the score times the policy's factor. ``final.csv``, next to
grades.csv, lists for every student the score, the platform's late mark (Canvas's ``_LATE``),
the lateness, the factor and the final score.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from classroom.lateness import (
    Lateness,
    LatePolicy,
    assess,
    parse_time,
    times_from_csv,
    times_from_files,
)

PLATFORMS = ("canvas", "moodle")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_ID, MOODLE_GRADE, MOODLE_FEEDBACK = "Identifier", "Grade", "Feedback comments"
TRAILING_ID = re.compile(r"^(?P<stem>.*?)_(?P<id>\d+)$")


@dataclass
class RosterRow:
    """One student of the platform's export: ``key`` (Canvas ID, Moodle participant number),
    ``label`` (for the reports), the values matched against, and the CSV row itself."""

    key: str
    label: str
    ids: set[str]
    names: set[str]
    row: dict[str, str]


@dataclass
class ExportReport:
    """What ``export`` did: ``rows_written`` (roster rows in the upload), ``filled`` (those
    given a score), ``unmatched`` (grades.csv students found in no roster row),
    ``without_submission`` (roster students not in grades.csv: an empty cell, or 0 with
    ``missing_zero``), ``ambiguous`` (one line per student or roster row that could not be
    matched with certainty; their cells are left empty), ``notes`` (rescaling, platform late
    marks without a time), and where ``final.csv`` and the upload were written."""

    rows_written: int = 0
    filled: int = 0
    unmatched: list[str] = field(default_factory=list)
    without_submission: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    out: Path | None = None
    final_csv: Path | None = None

    def lines(self) -> list[str]:
        text = [f"{self.out}: {self.rows_written} roster rows, {self.filled} with a score",
                f"{self.final_csv}: every student's score, lateness and final score"]
        text += [f"note: {n}" for n in self.notes]
        text += [f"not in the roster (no score written): {s}" for s in self.unmatched]
        text += [f"not matched with certainty (no score written): {s}"
                 for s in self.ambiguous]
        text += [f"no submission: {s}" for s in self.without_submission]
        return text


def _squash(text: str) -> str:
    """A name as Canvas writes it in download file names: letters and digits, lower case."""
    return "".join(c for c in text.casefold() if c.isalnum())


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x == x else ""


def _float(text: str | None) -> float | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if value == value else None


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8-sig") as f:  # Excel's BOM is fine
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]
    return header, rows


def _person_keys(*values: str) -> set[str]:
    keys = set()
    for value in values:
        value = value.strip().casefold()
        if value:
            keys.add(value)
            if "@" in value:
                keys.add(value.split("@", 1)[0])
    return keys


def read_canvas(path: Path, column: str | None) -> tuple[list[str], list[RosterRow],
                                                         float | None]:
    """Canvas's gradebook export: (header, students, the column's points possible)."""
    header, rows = _read_csv(path)
    missing = [c for c in ("Student", "ID") if c not in header]
    if missing:
        raise ValueError(f"{path}: not a Canvas gradebook export (no column {missing[0]!r}; "
                         f"found {header[:6]})")
    if column is None or column not in header:
        choices = [c for c in header if c not in CANVAS_IDENTITY]
        what = "no assignment column given" if column is None else f"no column {column!r}"
        raise ValueError(f"{path}: {what}; name the assignment column with --column, one of: "
                         f"{', '.join(repr(c) for c in choices)}")
    possible, students = None, []
    for row in rows:
        name, key = row["Student"].strip(), row["ID"].strip()
        if name == "Points Possible":
            possible = _float(row.get(column))
            continue
        if not key or _squash(name) in ("studenttest", "teststudent"):
            continue  # the test student Canvas adds ("Student, Test"), or a blank line
        students.append(RosterRow(
            key, f"{name} (ID {key})",
            _person_keys(row.get("SIS Login ID", ""), row.get("SIS User ID", "")),
            {_squash(name)} - {""}, row))
    return header, students, possible


def read_moodle(path: Path) -> tuple[list[str], list[RosterRow], float | None]:
    """Moodle's grading worksheet: (header, students, the maximum grade)."""
    header, rows = _read_csv(path)
    missing = [c for c in (MOODLE_ID, MOODLE_GRADE, "Last modified (grade)") if c not in header]
    if missing:
        raise ValueError(f"{path}: not a Moodle grading worksheet (no column {missing[0]!r}, "
                         f"which Moodle's import needs; found {header[:6]})")
    maxima, students = set(), []
    for row in rows:
        found = re.search(r"(\d+)\s*$", row[MOODLE_ID])
        if not found:
            continue
        key, name = found[1], row.get("Full name", "").strip()
        maximum = _float(row.get("Maximum grade"))
        if maximum is not None:
            maxima.add(maximum)
        students.append(RosterRow(
            key, f"{name or row.get('Email address', '')} ({row[MOODLE_ID].strip()})",
            _person_keys(row.get("Email address", "")), {_squash(name)} - {""}, row))
    return header, students, maxima.pop() if len(maxima) == 1 else None


def match(student: str, roster: list[RosterRow]) -> list[RosterRow]:
    """The roster rows a grades.csv student matches (see the module's docstring): one row,
    none, or several (ambiguous)."""
    trailing = TRAILING_ID.match(student)
    if trailing:
        found = [r for r in roster if r.key == trailing["id"]]
        if found:
            return found
    for name in [student] + ([trailing["stem"]] if trailing else []):
        key, squashed = name.strip().casefold(), _squash(name)
        found = [r for r in roster if key in r.ids or (squashed and squashed in r.names)]
        if found:
            return found
    return []


def read_grades(path: Path) -> list[dict[str, str]]:
    header, rows = _read_csv(path)
    missing = [c for c in ("student", "score", "max_score") if c not in header]
    if missing:
        raise ValueError(f"{path}: no column {missing[0]!r} (not a classroom.grade "
                         f"grades.csv)")
    seen: set[str] = set()
    for row in rows:
        if row["student"] in seen:
            raise ValueError(f"{path}: {row['student']!r} is listed twice")
        seen.add(row["student"])
    return rows


def export(grades_csv: Path, roster_csv: Path, platform: str, out: Path,
           column: str | None = None, policy: LatePolicy | None = None,
           due: datetime | None = None, times: dict[str, datetime] | None = None,
           missing_zero: bool = False, rescale: bool = True,
           final_csv: Path | None = None) -> ExportReport:
    """Write ``out``, the roster with the scores of ``grades_csv``, for ``platform``'s import
    (Canvas: the assignment column ``column``; Moodle: the ``Grade`` column), and
    ``final.csv`` beside grades.csv (or at ``final_csv``). With ``due``, each score is
    multiplied by the lateness factor of ``policy`` (by default no penalty: lateness is
    only reported), from the submission ``times`` (grades.csv student -> time). With
    ``rescale``, scores go onto the platform's maximum where the roster gives one that
    differs from grades.csv's ``max_score``; ``missing_zero`` writes 0, not an empty cell,
    for roster students without a submission."""
    grades_csv, roster_csv, out = Path(grades_csv), Path(roster_csv), Path(out)
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, not {platform!r}")
    if due is None and (policy is not None or times):
        raise ValueError("a late policy or submission times need a due time (--due)")
    if due is not None:
        if due.utcoffset() is None:
            raise ValueError(f"the due time {due.isoformat()} has no UTC offset")
        policy = policy or LatePolicy("none")
    times = times or {}
    if platform == "canvas":
        header, roster, possible = read_canvas(roster_csv, column)
        target = column
    else:
        header, roster, possible = read_moodle(roster_csv)
        target = MOODLE_GRADE
    grades = read_grades(grades_csv)
    if due is not None and any(g.get("lateness") for g in grades):
        raise ValueError(f"{grades_csv} was graded with an assignment's late policy already "
                         "(its lateness column): its scores count it; leave out the due "
                         "time and the policy here")
    report = ExportReport(out=out, final_csv=final_csv or grades_csv.parent / "final.csv")

    claims: dict[str, list[str]] = {}  # roster key -> grades.csv students
    matched: dict[str, RosterRow] = {}
    disputed: set[str] = set()  # roster keys that a submission may belong to: left empty
    for g in grades:
        found = match(g["student"], roster)
        if not found:
            report.unmatched.append(g["student"])
        elif len(found) > 1:
            report.ambiguous.append(f"{g['student']} matches several roster rows: "
                                    f"{'; '.join(r.label for r in found)}")
            disputed.update(r.key for r in found)
        else:
            matched[g["student"]] = found[0]
            claims.setdefault(found[0].key, []).append(g["student"])
    for key, students in claims.items():
        if len(students) > 1:
            row = matched[students[0]]
            report.ambiguous.append(f"{row.label} is matched by several submissions: "
                                    f"{', '.join(students)}")
            for s in students:
                del matched[s]
            disputed.add(key)

    finals: dict[str, tuple[float, str]] = {}  # roster key -> (exported score, feedback)
    final_rows = []
    for g in grades:
        student = g["student"]
        score, maximum = _float(g["score"]), _float(g["max_score"])
        lateness: Lateness | None = None
        if due is not None and policy is not None:
            lateness = assess(policy, due, times.get(student))
            if lateness.submitted is None and g.get("late"):
                lateness.text = f"marked {g['late']} by the platform, but no submission " \
                                f"time known: no penalty"
                report.notes.append(f"{student}: {lateness.text}")
        factor = lateness.factor if lateness else 1.0
        final = None if score is None else round(score * factor, 4)
        exported = final
        if final is not None and rescale and possible and maximum and possible != maximum:
            exported = round(final * possible / maximum, 4)
        row = matched.get(student)
        problem = g.get("problem", "").strip()
        if row is None:
            why = "not in the roster" if student in report.unmatched else \
                "not matched with certainty"
        else:
            why = ""
            told = lateness is not None and (
                lateness.days_late > 0 or (lateness.submitted is None and g.get("late")))
            graded_late = g.get("lateness", "")  # the grader's policy, already in the score
            feedback = "; ".join(t for t in (problem, lateness.text if told else "",
                                             graded_late if "late (" in graded_late else "")
                                 if t)
            if exported is None:
                report.ambiguous.append(f"{student}: no score in grades.csv "
                                        f"({g['score']!r})")
            else:
                finals[row.key] = (exported, feedback)
        final_rows.append([student, row.key if row else "", g["score"], g["max_score"],
                           g.get("late", ""), lateness.text if lateness else "",
                           _fmt(factor), "" if final is None else _fmt(final),
                           "" if exported is None else _fmt(exported),
                           "; ".join(t for t in (why, problem) if t)])
    if rescale and possible:
        maxima = {_float(g["max_score"]) for g in grades} - {None, possible}
        if maxima:
            report.notes.append(f"scores rescaled from {', '.join(_fmt(m) for m in maxima)} "
                                f"to the platform's maximum, {_fmt(possible)} points")

    missing = {r.key for r in roster} - {row.key for row in matched.values()} - disputed
    report.without_submission = [r.label for r in roster if r.key in missing]

    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        if platform == "canvas":
            columns = [c for c in CANVAS_IDENTITY if c in header] + [target]
            writer.writerow(columns)
        else:
            columns = header
            writer.writerow(header)
        for r in roster:
            cells = dict(r.row)
            if r.key in finals:
                exported, feedback = finals[r.key]
                cells[target] = _fmt(exported)
                report.filled += 1
                if platform == "moodle" and MOODLE_FEEDBACK in cells and feedback and \
                        feedback not in cells[MOODLE_FEEDBACK]:
                    old = cells[MOODLE_FEEDBACK].strip()
                    cells[MOODLE_FEEDBACK] = f"{old} ({feedback})" if old else feedback
            elif r.key in missing and missing_zero:
                cells[target] = "0"
                report.filled += 1
            else:
                cells[target] = ""
            writer.writerow([cells.get(c, "") for c in columns])
            report.rows_written += 1

    report.final_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(report.final_csv, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "roster_id", "score", "max_score", "platform_late",
                         "lateness", "factor", "final", "exported", "problem"])
        writer.writerows(final_rows)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m classroom.roster",
        description="Write grades.csv's scores into a Canvas or Moodle gradebook upload.")
    parser.add_argument("--grades", type=Path, required=True, help="grades.csv of "
                        "classroom.grade --batch")
    parser.add_argument("--roster", type=Path, required=True,
                        help="the platform's export (Canvas gradebook CSV, Moodle grading "
                             "worksheet)")
    parser.add_argument("--platform", choices=PLATFORMS, required=True)
    parser.add_argument("--column", help="Canvas: the assignment column to fill, e.g. "
                                         "'Assignment 1 (12345)'")
    parser.add_argument("--out", type=Path, required=True, help="the CSV to upload")
    parser.add_argument("--final", type=Path, help="where to write final.csv (default: "
                                                   "beside grades.csv)")
    parser.add_argument("--due", help="due time, ISO 8601 with an offset "
                                      "(2027-02-01T23:59:00+00:00)")
    parser.add_argument("--late-policy", help='JSON, e.g. \'{"policy": "percent_per_day", '
                                              '"percent": 10, "grace_minutes": 15}\'')
    times = parser.add_mutually_exclusive_group()
    times.add_argument("--times", type=Path, help="CSV of student,submitted_at")
    times.add_argument("--times-from-files", type=Path, metavar="FOLDER",
                       help="the batch folder: the files' modification times (a fallback: "
                            "downloads do not reliably keep upload times)")
    parser.add_argument("--missing-zero", action="store_true",
                        help="write 0 for roster students without a submission (default: "
                             "an empty cell)")
    parser.add_argument("--no-rescale", action="store_true",
                        help="keep grades.csv's scale even where the platform's maximum "
                             "differs")
    args = parser.parse_args(argv)
    try:
        policy = None
        if args.late_policy:
            try:
                raw = json.loads(args.late_policy)
            except json.JSONDecodeError as err:
                raise ValueError(f"--late-policy is not JSON: {err}") from None
            policy = LatePolicy.from_dict(raw)
        due = parse_time(args.due) if args.due else None
        times_map = None
        if args.times:
            times_map = times_from_csv(args.times)
        elif args.times_from_files:
            from classroom.grade import batch_entries  # only here: it loads the grader
            batch = batch_entries(args.times_from_files)
            entries: dict = dict(batch.entries)
            entries.update({s: [p for p, _ in files] for s, files in batch.uploads.items()})
            times_map = times_from_files(entries)
        report = export(args.grades, args.roster, args.platform, args.out, args.column,
                        policy, due, times_map, args.missing_zero, not args.no_rescale,
                        args.final)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if policy is not None:
        print(f"late policy: {policy.describe()}")
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
