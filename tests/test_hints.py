"""The hint ladder (course_lib/hints.py): every exercise has one, it climbs one rung per call
in a notebook and at the command line alike, and the unsolved message points to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from course_lib import exercises, hints
from course_lib.exercises import catalog, get_exercise
from course_lib.hint_text import HINTS


@pytest.fixture(autouse=True)
def progress(tmp_path, monkeypatch):
    """Each test climbs its own ladder, in a file of its own."""
    path = tmp_path / "progress.json"
    monkeypatch.setenv(hints.PROGRESS_ENV, str(path))
    hints._SEEN.clear()
    return path


def test_every_exercise_has_a_ladder_of_at_least_two_hints():
    ids = [row["id"] for row in catalog()]
    assert list(HINTS) == ids
    for exercise_id, ladder in HINTS.items():
        assert isinstance(ladder, tuple) and len(ladder) >= 2, exercise_id
        assert all(isinstance(h, str) and h.strip() for h in ladder), exercise_id
        assert len(set(ladder)) == len(ladder), f"{exercise_id} repeats a hint"


def test_each_call_climbs_one_rung_and_stays_on_the_last(progress, capsys):
    ladder = HINTS["1.3"]
    for rung in range(1, len(ladder) + 2):
        hints.hint("1.3")
        out = capsys.readouterr().out
        shown = min(rung, len(ladder))
        assert out.startswith(f"Hint {shown} of {len(ladder)} for exercise 1.3 "
                              f"(Bidders' utilities):")
        assert ladder[shown - 1] in out
        assert ("again for the next hint" in out) == (shown < len(ladder))
        assert ('check("1.3")' in out) == (shown == len(ladder))
    assert json.loads(progress.read_text()) == {"1.3": len(ladder)}
    hints.hint("1.3", level=1)  # back to the start, and on from there
    assert capsys.readouterr().out.startswith("Hint 1 of")
    hints.hint("1.3")
    assert capsys.readouterr().out.startswith("Hint 2 of")
    hints.hint("1.1")  # ladders are kept apart
    assert capsys.readouterr().out.startswith("Hint 1 of")


def test_the_command_line_climbs_the_same_ladder(progress):
    hints.next_hint("2.1")  # rung 1 seen in a notebook
    env = {**os.environ, hints.PROGRESS_ENV: str(progress)}
    run = subprocess.run([sys.executable, "-m", "course_lib", "hint", "2.1"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"Hint 2 of {len(HINTS['2.1'])} for exercise 2.1")
    assert "python -m course_lib " in run.stdout and 'hint("' not in run.stdout  # its wording
    assert hints.next_hint("2.1")[0] == min(3, len(HINTS["2.1"]))
    run = subprocess.run([sys.executable, "-m", "course_lib", "hint", "2.1", "--level", "9"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "has hints 1 to" in run.stderr
    run = subprocess.run([sys.executable, "-m", "course_lib", "hint", "9.9"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "no exercise '9.9' has hints" in run.stderr


@pytest.mark.parametrize(("args", "error", "match"), [
    ((1.3,), TypeError, "strings like"),
    (("1.3", True), TypeError, "level must be an integer"),
    (("1.3", 1.0), TypeError, "level must be an integer"),
    (("1.3", 0), ValueError, "has hints 1 to"),
    (("1.3", 99), ValueError, "has hints 1 to"),
    (("7.1",), ValueError, "no exercise '7.1' has hints"),
])
def test_bad_input_is_refused_clearly(args, error, match):
    with pytest.raises(error, match=match):
        hints.hint(*args)


def test_a_damaged_or_unwritable_progress_file_does_not_stop_the_hints(progress, monkeypatch):
    progress.write_text("{not json")
    assert hints.next_hint("1.1")[0] == 1
    progress.write_text(json.dumps({"1.1": "two", "1.2": -3, "1.4": 1}))
    assert hints.next_hint("1.4")[0] == 2 and hints.next_hint("1.2")[0] == 1
    blocked = progress.parent / "a-file"
    blocked.write_text("")
    monkeypatch.setenv(hints.PROGRESS_ENV, str(blocked / "progress.json"))  # cannot be made
    hints._SEEN.clear()
    assert [hints.next_hint("3.1")[0] for _ in range(2)] == [1, 2]  # climbs in memory


def test_the_unsolved_message_points_to_the_hints_in_both_copies(monkeypatch):
    entry = get_exercise("1.3")
    assert 'hint("1.3") shows a hint' in entry.hint_for("notebook")
    assert "python -m course_lib hint 1.3" in entry.hint_for("cli")
    monkeypatch.setattr(exercises, "solutions_available", lambda: False)  # a student copy
    for audience in ("notebook", "cli"):
        text = entry.hint_for(audience)
        assert "hint" in text and "reference" not in text, text
        assert "\n" not in text
