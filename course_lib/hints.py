"""The hint ladder: ``hint("1.3")`` shows exercise 1.3's next hint each time it is called.

Every exercise has an ordered list of hints (``hint_text.HINTS``): a nudge first, then the
structure and the pitfall, and last the recipe in words, never the code. The ladder is the
same in the teacher's copy of the course and in the student copy (which has no reference
solutions), and ``python -m course_lib hint 1.3`` climbs the same ladder from a terminal:
how far a learner has climbed is kept in a small JSON file (``progress_path()``), so a
notebook and a terminal, or two sessions, share it. The file lies in the copy of the course
itself (``.hint-progress.json`` in the folder that holds ``course_lib``), so a fresh copy
starts every ladder at its first hint, whatever another copy on the same account has seen;
``$COURSE_LIB_HINT_PROGRESS`` names another file, and where the file cannot be written the
position is kept in memory for the session.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from . import exercises
from .exercises import catalog
from .hint_text import HINTS

PROGRESS_ENV = "COURSE_LIB_HINT_PROGRESS"  # where to keep the ladder's position (a file)
PROGRESS_FILE = ".hint-progress.json"  # its name in the course folder (git ignores it)


def progress_path() -> Path:
    """The file that remembers the next hint of every exercise: ``$COURSE_LIB_HINT_PROGRESS``
    if set, else ``.hint-progress.json`` in this copy of the course (the folder that holds
    ``course_lib``). One file per copy: a global one let a second copy of the course start
    where the first had got to."""
    if os.environ.get(PROGRESS_ENV):
        return Path(os.environ[PROGRESS_ENV])
    # looked up at each call: the course root can be pointed elsewhere (tests do)
    return Path(exercises.REPO_ROOT) / PROGRESS_FILE


def hints_for(exercise_id: Any) -> tuple[str, ...]:
    """Every hint of an exercise, in order (a ``ValueError`` for an unknown id)."""
    if not isinstance(exercise_id, str):
        raise TypeError(f'exercise ids are strings like "1.3", got {exercise_id!r:.80}')
    if exercise_id not in HINTS:
        known = ", ".join(HINTS)
        raise ValueError(f"no exercise {exercise_id!r} has hints; the exercises are {known}")
    return HINTS[exercise_id]


# A session in which the progress file cannot be written still climbs, in memory: one
# position per progress file, so that two courses never share one in memory either.
_SEEN: dict[Path, dict[str, int]] = {}


def _load(path: Path) -> dict[str, int]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return dict(_SEEN.get(path, {}))
    if not isinstance(data, dict):
        return dict(_SEEN.get(path, {}))
    # a hand-edited or damaged file must not break hint(): keep the entries that make sense
    return {k: v for k, v in data.items()
            if isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v > 0}


def _save(path: Path, seen: dict[str, int]) -> None:
    _SEEN[path] = dict(seen)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(seen, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a read-only home: the position lives in this session only


def next_hint(exercise_id: str, level: Any = None) -> tuple[int, int, str]:
    """Advance the ladder of ``exercise_id`` and return (rung, rungs, text), rungs counted
    from 1. ``level`` shows that rung instead (the ladder goes on from there); past the last
    rung the last one is shown again."""
    ladder = hints_for(exercise_id)
    path = progress_path()  # once: the file read is the file written
    seen = _load(path)
    if level is not None:
        if isinstance(level, bool) or not isinstance(level, int):
            raise TypeError(f"level must be an integer (1 = the first hint), got {level!r:.80}")
        if not 1 <= level <= len(ladder):
            raise ValueError(f"exercise {exercise_id} has hints 1 to {len(ladder)}, got "
                             f"level {level}")
        rung = level
    else:
        rung = min(seen.get(exercise_id, 0) + 1, len(ladder))
    seen[exercise_id] = rung
    _save(path, seen)
    return rung, len(ladder), ladder[rung - 1]


def format_hint(exercise_id: str, rung: int, rungs: int, text: str, audience: str = "notebook"
                ) -> str:
    """The hint as a learner sees it: which rung, the text, and how to get the next one.
    The last rung (``rung == rungs``) is announced as the recipe."""
    if audience not in ("notebook", "cli"):
        raise ValueError(f'audience must be "notebook" or "cli", got {audience!r}')
    for name, value in (("rung", rung), ("rungs", rungs)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an integer, got {value!r:.80}")
    if not 1 <= rung <= rungs:
        raise ValueError(f"rung must lie in 1 .. rungs = {rungs}, got {rung}")
    if not isinstance(text, str):
        raise TypeError(f"text must be a string (the hint), got {type(text).__name__}")
    title = next((row["title"] for row in catalog() if row["id"] == exercise_id), "")
    if audience == "notebook":
        again, check, restart = f'hint("{exercise_id}")', f'check("{exercise_id}")', "level=1"
    else:
        again = f"python -m course_lib hint {exercise_id}"
        check, restart = f"python -m course_lib check {exercise_id}", "--level 1"
    last = rung == rungs
    tail = (f"(run {again} again for the next hint)" if not last else
            f"(that was the last hint. {check} tests your code; {restart} starts the ladder "
            f"again)")
    # the last rung is the recipe: say so before the learner reads it
    return (f"Hint {rung} of {rungs} for exercise {exercise_id}"
            + (f" ({title})" if title else "")
            + (" — the recipe, in words:" if last else ":") + f"\n  {text}\n{tail}")


def hint(exercise_id: str, level: int | None = None) -> None:
    """Print the next hint of an exercise: ``hint("1.3")``, then again for the next one.

    ``hint("1.3", level=1)`` shows the first hint again (and the ladder goes on from there).
    The last hint of each exercise is the recipe in words; none of them is the solution.
    """
    print(format_hint(exercise_id, *next_hint(exercise_id, level)))
