"""The hint ladder (course_lib/hints.py): every exercise has one, it climbs one rung per call
in a notebook and at the command line alike, and the unsolved message points to it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
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
        # the last rung is announced as the recipe; the others as before
        label = " — the recipe, in words:" if shown == len(ladder) else ":"
        assert out.splitlines()[0] == (f"Hint {shown} of {len(ladder)} for exercise 1.3 "
                                       f"(Bidders' utilities){label}")
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


def test_the_position_is_kept_in_each_copy_of_the_course(tmp_path, monkeypatch):
    """A new copy of the course starts every ladder at its first hint, whatever another copy
    on the same account has climbed: the file lies in the copy's own folder."""
    monkeypatch.delenv(hints.PROGRESS_ENV)
    first, second = tmp_path / "first-copy", tmp_path / "second-copy"
    for root in (first, second):
        root.mkdir()
    monkeypatch.setattr(exercises, "REPO_ROOT", first)
    assert hints.progress_path() == first / ".hint-progress.json"
    assert [hints.next_hint("1.3")[0] for _ in range(3)] == [1, 2, 3]
    monkeypatch.setattr(exercises, "REPO_ROOT", second)
    assert hints.progress_path() == second / ".hint-progress.json"
    assert hints.next_hint("1.3")[0] == 1  # not 4: the first copy's position stays there
    assert json.loads((first / ".hint-progress.json").read_text()) == {"1.3": 3}
    assert json.loads((second / ".hint-progress.json").read_text()) == {"1.3": 1}
    monkeypatch.setattr(exercises, "REPO_ROOT", first)
    assert hints.next_hint("1.3")[0] == 4  # and each copy goes on from its own
    monkeypatch.setenv(hints.PROGRESS_ENV, str(tmp_path / "chosen.json"))  # still overrides
    assert hints.progress_path() == tmp_path / "chosen.json"
    assert hints.next_hint("1.3")[0] == 1


def test_an_unwritable_course_folder_keeps_each_copys_position_in_memory(tmp_path, monkeypatch):
    monkeypatch.delenv(hints.PROGRESS_ENV)
    for name in ("first", "second"):  # files, not folders: nothing can be written "inside"
        (tmp_path / name).write_text("")
    monkeypatch.setattr(exercises, "REPO_ROOT", tmp_path / "first")
    assert [hints.next_hint("2.1")[0] for _ in range(2)] == [1, 2]
    monkeypatch.setattr(exercises, "REPO_ROOT", tmp_path / "second")
    assert hints.next_hint("2.1")[0] == 1
    monkeypatch.setattr(exercises, "REPO_ROOT", tmp_path / "first")
    assert hints.next_hint("2.1")[0] == 3


def test_format_hint_labels_only_the_last_rung_as_the_recipe():
    ladder = HINTS["1.1"]
    for rung, text in enumerate(ladder, 1):
        for audience in ("notebook", "cli"):
            first = hints.format_hint("1.1", rung, len(ladder), text, audience).splitlines()[0]
            assert first.startswith(f"Hint {rung} of {len(ladder)} for exercise 1.1 (")
            assert first.endswith(" — the recipe, in words:" if rung == len(ladder) else "):")
    for args, error in [((0, 4, "x"), ValueError), ((5, 4, "x"), ValueError),
                        ((1.0, 4, "x"), TypeError), ((1, True, "x"), TypeError),
                        ((1, 4, None), TypeError)]:
        with pytest.raises(error):
            hints.format_hint("1.1", *args)


_NAMED_EXERCISE = re.compile(r"(?<![\d.])(\d+)\.(\d+)(?![\d])")


def _foreign_exercises(ladders: dict[str, tuple[str, ...]]) -> list[str]:
    """Every hint that names an exercise of another chapter without naming that chapter:
    a learner who took the chapters in another order cannot tell where it comes from."""
    problems = []
    for exercise_id, ladder in ladders.items():
        chapter = exercise_id.split(".")[0]
        for rung, text in enumerate(ladder, 1):
            for match in _NAMED_EXERCISE.finditer(text):
                if match.group(0) not in HINTS:  # a number such as 1.0, not an exercise
                    continue
                other = match.group(1)
                if other != chapter and not re.search(rf"\bchapter {other}\b", text,
                                                      re.IGNORECASE):
                    problems.append(f"hint {rung} of {exercise_id} names exercise "
                                    f"{match.group(0)} but not chapter {other}")
    return problems


def test_hints_name_exercises_of_other_chapters_only_with_their_chapter():
    assert _foreign_exercises(HINTS) == []
    # the check itself: it finds the wording the hints had, and lets a chapter's own pass
    assert _foreign_exercises({"6.3": ("Like exercise 3.4 but on a flat table.",),
                               "1.2": ("As in 1.1, subtract it from 1.0.",),
                               "4.3": ("Chapter 3's ccv utility (exercise 3.1).",)}) == [
        "hint 1 of 6.3 names exercise 3.4 but not chapter 3"]


def test_no_hint_says_an_input_the_checks_refuse_is_allowed():
    """6.6 once said what happens with no feature at all (F = 0): its input check refuses
    weights without a feature, so the hint must not describe that case."""
    from course_lib.linear_critic import linear_td_update

    with pytest.raises(ValueError, match="at least one feature"):
        linear_td_update(np.zeros((2, 0)), [0], np.zeros((1, 0)), [1.0], [0.0], 0.5, 0.1)
    assert not any("F = 0" in text for text in HINTS["6.6"])


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
