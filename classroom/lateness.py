"""Late submissions: a policy, the submission times, and what lateness costs.

A policy comes from the teacher's TOML (``late = { policy = "percent_per_day", percent = 10,
grace_minutes = 15, max_days = 5 }``) or the command line (the same keys, as JSON), through
``LatePolicy.from_dict``. ``assess(policy, due, submitted)`` says how late a submission was
and the factor its score is multiplied by.

Where submission times come from, best first:

* the platform's own mark: Gradescope's ``/autograder/submission_metadata.json``
  (``gradescope_metadata``), or a CSV the teacher exports from the platform
  (``times_from_csv``: columns ``student,submitted_at``);
* the files' modification times (``times_from_files``): a fallback only, since a download
  from a learning platform does not reliably keep the upload time as the file time.

Every time is timezone-aware: a time without a UTC offset is refused (``parse_time``), since
"23:59" means a different instant for the teacher, the platform and the grading machine.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

KINDS = ("none", "percent_per_day", "zero")
DAY_S = 86400.0


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value):
        raise ValueError(f"late policy: {key} must be a number, not {value!r}")
    if value < 0:
        raise ValueError(f"late policy: {key} must not be negative, not {value!r}")
    return float(value)


def _fmt(x: float) -> str:
    """A number as a person writes it: 10, 2.5 (never 10.0)."""
    return f"{x:.6g}"


def _plural(n: float, word: str) -> str:
    return f"{_fmt(n)} {word}" + ("" if n == 1 else "s")


@dataclass(frozen=True)
class LatePolicy:
    """What a late submission costs. ``kind``: ``"none"`` (no penalty: lateness is only
    reported), ``"percent_per_day"`` (``percent`` % of the score off per started day late,
    never below 0) or ``"zero"`` (a late submission earns 0). A submission at most
    ``grace_minutes`` after the due time is on time. Past ``max_days`` days late (counted
    after the grace), a submission earns 0 whatever the kind."""

    kind: str = "none"
    percent: float = 0
    grace_minutes: float = 0
    max_days: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"late policy: policy must be one of {', '.join(KINDS)}, "
                             f"not {self.kind!r}")
        _number("percent", self.percent)
        _number("grace_minutes", self.grace_minutes)
        if self.max_days is not None and _number("max_days", self.max_days) == 0:
            raise ValueError("late policy: max_days must be more than 0 (leave it out for "
                             "no limit; policy = \"zero\" gives nothing for any lateness)")
        if self.kind == "percent_per_day":
            if not 0 < self.percent <= 100:
                raise ValueError(f"late policy: percent must be more than 0 and at most 100 "
                                 f"for policy \"percent_per_day\", not {self.percent!r}")
        elif self.percent:
            raise ValueError(f"late policy: percent is only for policy \"percent_per_day\", "
                             f"not {self.kind!r}")
        if self.kind == "zero" and self.max_days is not None:
            raise ValueError("late policy: max_days means nothing with policy \"zero\" "
                             "(any late submission already earns 0)")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LatePolicy:
        """A policy from a TOML table or JSON object: ``policy`` (the kind; required),
        ``percent``, ``grace_minutes``, ``max_days``. Unknown keys are refused."""
        if not isinstance(d, Mapping):
            raise ValueError(f"late policy: expected a table of keys, not {d!r}")
        known = {"policy", "percent", "grace_minutes", "max_days"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"late policy: unknown key {unknown[0]!r} (the keys are "
                             f"{', '.join(sorted(known))})")
        if "policy" not in d:
            raise ValueError(f"late policy: the key 'policy' is missing (one of "
                             f"{', '.join(KINDS)})")
        kind = d["policy"]
        if not isinstance(kind, str):
            raise ValueError(f"late policy: policy must be one of {', '.join(KINDS)}, "
                             f"not {kind!r}")
        max_days = d.get("max_days")
        return cls(kind=kind,
                   percent=_number("percent", d.get("percent", 0)),
                   grace_minutes=_number("grace_minutes", d.get("grace_minutes", 0)),
                   max_days=None if max_days is None else _number("max_days", max_days))

    def describe(self) -> str:
        """One sentence for the teacher and the students."""
        if self.kind == "none":
            text = "no penalty for lateness (it is only reported)"
        elif self.kind == "zero":
            text = "a late submission earns 0"
        else:
            text = f"{_fmt(self.percent)} % off per day late"
        if self.grace_minutes:
            s = "'s" if self.grace_minutes == 1 else "s'"
            text += f", after {_fmt(self.grace_minutes)} minute{s} grace"
        if self.max_days is not None:
            text += f"; nothing after {_plural(self.max_days, 'day')}"
        return text[0].upper() + text[1:]


# ISO 8601 as platforms write it: "2027-02-01T23:59:00Z", "...00.000000-08:00", "...+0100",
# a space for the "T". Python 3.10's fromisoformat takes only 3 or 6 decimals and "+HH:MM".
_TIME = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<hms>\d{2}:\d{2}(?::\d{2})?)"
                   r"(?:[.,](?P<frac>\d+))?\s*(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?$")


def parse_time(text: str) -> datetime:
    """A timezone-aware time from ISO 8601 with a UTC offset or ``Z``, such as Gradescope's
    ``2027-02-01T23:59:00.000000-08:00``. A time without an offset is refused."""
    raw = str(text).strip()
    found = _TIME.match(raw)
    if not found:
        raise ValueError(f"not a time: {text!r} (write ISO 8601 with a UTC offset, e.g. "
                         f"2027-02-01T23:59:00+01:00 or 2027-02-01T22:59:00Z)")
    tz = found["tz"]
    if tz is None:
        raise ValueError(f"the time {text!r} has no UTC offset, so it could mean any of 24 "
                         f"instants: add one, e.g. {found['date']}T{found['hms']}+01:00, or "
                         f"Z for UTC")
    if tz in ("Z", "z"):
        tz = "+00:00"
    elif len(tz) == 3:
        tz += ":00"
    elif ":" not in tz:
        tz = f"{tz[:3]}:{tz[3:]}"
    hms = found["hms"] if found["hms"].count(":") == 2 else found["hms"] + ":00"
    frac = (found["frac"] or "")[:6]
    micro = f".{frac.ljust(6, '0')}" if frac else ""
    try:
        return datetime.fromisoformat(f"{found['date']}T{hms}{micro}{tz}")
    except ValueError as err:
        raise ValueError(f"not a time: {text!r} ({err})") from None


@dataclass
class Lateness:
    """How late one submission was: ``seconds_late`` after the due time (0 if on time),
    ``days_late`` (started days after the grace), ``factor`` (what its score is multiplied
    by) and ``text`` for the reports ("on time", "2 days late (-20 %)")."""

    submitted: datetime | None
    due: datetime
    seconds_late: float
    days_late: int
    factor: float
    text: str


def assess(policy: LatePolicy, due: datetime, submitted: datetime | None) -> Lateness:
    """The lateness of a submission at ``submitted`` for work due at ``due``. Without a
    submission time nothing is taken off, and the text says that no time is known."""
    for name, value in (("due", due), ("submitted", submitted)):
        if value is not None and value.utcoffset() is None:
            raise ValueError(f"{name} time {value.isoformat()} has no UTC offset")
    if submitted is None:
        return Lateness(None, due, 0.0, 0, 1.0, "no submission time known")
    seconds = max(0.0, (submitted - due).total_seconds())
    after_grace = seconds - policy.grace_minutes * 60
    if after_grace <= 0:
        text = "on time" if seconds == 0 else \
            f"on time ({_late_by(seconds)} late, within the grace period)"
        return Lateness(submitted, due, seconds, 0, 1.0, text)
    days = math.ceil(after_grace / DAY_S)
    late = f"{_plural(days, 'day')} late"
    if policy.max_days is not None and after_grace > policy.max_days * DAY_S:
        return Lateness(submitted, due, seconds, days, 0.0,
                        f"{late} (more than {_plural(policy.max_days, 'day')}: 0)")
    if policy.kind == "none":
        return Lateness(submitted, due, seconds, days, 1.0, f"{late} (no penalty)")
    if policy.kind == "zero":
        return Lateness(submitted, due, seconds, days, 0.0, f"{late} (-100 %)")
    off = min(100.0, policy.percent * days)
    return Lateness(submitted, due, seconds, days, round(1 - off / 100, 10),
                    f"{late} (-{_fmt(off)} %)")


def _late_by(seconds: float) -> str:
    if seconds < 60:
        return _plural(round(seconds), "second")
    if seconds < 3600:
        return _plural(round(seconds / 60), "minute")
    return _plural(round(seconds / 3600, 1), "hour")


def gradescope_metadata(path: Path | str = "/autograder/submission_metadata.json"
                        ) -> tuple[datetime, datetime | None]:
    """(submission time, due time) from Gradescope's ``submission_metadata.json``.

    The schema, from Gradescope's autograder documentation
    (https://gradescope-autograders.readthedocs.io/en/latest/submission_metadata/):
    ``created_at`` is the submission time; ``assignment`` holds ``due_date`` and
    ``late_due_date`` (null when not set: the hard deadline after which Gradescope refuses
    submissions, not the due time); ``users`` lists ``name``, ``email``, ``id`` (a group
    submission lists several). Newer files also give each user an ``assignment`` with that
    student's own dates (an extension moves their ``due_date``; seen in third-party models
    of the file, not on that page): when present, the latest of these is the due time, so
    no member of a group is charged for an extension another member was given.
    The due time is None when the assignment has none."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "created_at" not in data:
        raise ValueError(f"{path}: no created_at (not a Gradescope submission_metadata.json)")
    submitted = parse_time(data["created_at"])
    dues = []
    for user in data.get("users") or []:
        own = user.get("assignment") if isinstance(user, dict) else None
        if isinstance(own, dict) and own.get("due_date"):
            dues.append(parse_time(own["due_date"]))
    if not dues:
        assignment = data.get("assignment") or {}
        if assignment.get("due_date"):
            dues.append(parse_time(assignment["due_date"]))
    return submitted, max(dues) if dues else None


def times_from_csv(path: Path | str) -> dict[str, datetime]:
    """Submission times from a CSV with the columns ``student`` (as in grades.csv) and
    ``submitted_at`` (ISO 8601 with an offset). A row with an empty time is left out (no
    time known); a student listed twice is an error."""
    times: dict[str, datetime] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = {"student", "submitted_at"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: no column {sorted(missing)[0]!r} (the columns must "
                             f"be student,submitted_at; found {reader.fieldnames})")
        for row in reader:
            student = (row["student"] or "").strip()
            when = (row["submitted_at"] or "").strip()
            if not student or not when:
                continue
            if student in times:
                raise ValueError(f"{path}, line {reader.line_num}: {student!r} is listed "
                                 f"twice")
            try:
                times[student] = parse_time(when)
            except ValueError as err:
                raise ValueError(f"{path}, line {reader.line_num}: {err}") from None
    return times


def _newest(paths: Iterable[Path]) -> float | None:
    newest = None
    for path in paths:
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            for root, _dirs, files in os.walk(path, followlinks=False):
                for name in files:
                    try:
                        sub = os.lstat(os.path.join(root, name))
                    except OSError:
                        continue
                    if stat.S_ISREG(sub.st_mode):
                        newest = sub.st_mtime if newest is None else max(newest, sub.st_mtime)
        elif stat.S_ISREG(info.st_mode):  # a file, or a zip: its own time
            newest = info.st_mtime if newest is None else max(newest, info.st_mtime)
    return newest


def times_from_files(entries: Mapping[str, Path | Iterable[Path]]) -> dict[str, datetime]:
    """Submission times from the files themselves: for each student, the newest modification
    time of their entry: a file, a folder (walked without following symbolic links), or a
    zip (its own time, not its members'); a list of files (a platform's single uploads) is
    read as one entry. Students with no regular file are left out.

    A fallback only: a learning platform's download does not reliably keep the upload time
    as the file time (Canvas's does not; unzipping, copying or syncing may reset it to the
    download time). A CSV of the platform's own submission times (``times_from_csv``) or
    the platform's mark (Gradescope's metadata; Canvas's ``_LATE`` in the file names) is
    better."""
    times: dict[str, datetime] = {}
    for student, entry in entries.items():
        paths = [Path(entry)] if isinstance(entry, (str, os.PathLike)) else \
            [Path(p) for p in entry]
        newest = _newest(paths)
        if newest is not None:
            times[student] = datetime.fromtimestamp(newest, tz=UTC)
    return times
