"""classroom.roster: grades.csv into a Canvas gradebook import and a Moodle grading
worksheet, matching students by id, login, email or name, with lateness applied."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest

from classroom.lateness import LatePolicy
from classroom.roster import export, main

DUE = datetime(2027, 2, 1, 23, 59, tzinfo=UTC)
COLUMN = "Assignment 1 (12345)"

# Canvas: Grades > Export. Row 2 is "Points Possible" (Canvas pads it with spaces); the
# test student is listed as "Student, Test".
CANVAS = """\
Student,ID,SIS User ID,SIS Login ID,Section,Assignment 1 (12345),Assignment 2 (12399),\
Assignments Current Score,Current Score,Unposted Current Score,Final Score
    Points Possible,,,,,10.00,20.00,(read only),(read only),(read only),(read only)
"Lovelace, Ada",4242,20270001,alovelace,Markets of Agents 101,,15.00,75.00,75.00,75.00,50.00
"Hopper, Grace",5150,20270003,GHopper,Markets of Agents 101,,18.00,90.00,90.00,90.00,60.00
"Smith, John",1717,20270002,jsmith1,Markets of Agents 101,,,,,,
"Smith, John",1818,20270006,jsmith2,Markets of Agents 102,,,,,,
"Noether, Emmy",7070,20270005,enoether,Markets of Agents 102,,,,,,
"Turing, Alan",6060,20270004,aturing,Markets of Agents 101,,,,,,
"Student, Test",9999,,,Markets of Agents 101,,,,,,
"""

GRADES_HEADER = "student,score,max_score,1.1,1.2,late,problem\n"
CANVAS_GRADES = GRADES_HEADER + """\
lovelaceada_4242,80,100,40,40,late,
ghopper,100,100,50,50,,
smithjohn,60,100,30,30,,
20270005,50,100,25,25,,the tests timed out on 1.2
stranger,70,100,35,35,,
"""

MOODLE = """\
Identifier,Full name,Email address,Status,Grade,Maximum grade,Grade can be changed,\
Last modified (submission),Last modified (grade),Feedback comments
Participant 123456,Ada Lovelace,ada@example.edu,Submitted for grading,,100.00,Yes,\
"Tuesday, 2 February 2027, 9:15 AM",-,
Participant 123457,Grace Hopper,grace.hopper@example.edu,Submitted for grading,,100.00,Yes,\
"Monday, 1 February 2027, 8:00 PM",-,Nice auctions.
Participant 123458,Alan Turing,alan.turing@example.edu,No submission,,100.00,Yes,-,-,
"""

MOODLE_GRADES = GRADES_HEADER + """\
Ada Lovelace_123456,80,100,40,40,,
grace.hopper,90,100,45,45,,the tests timed out on 1.2
Someone Else_999999,10,100,5,5,,
"""


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def canvas(tmp_path):
    (tmp_path / "grades").mkdir()
    grades = write(tmp_path / "grades" / "grades.csv", CANVAS_GRADES)
    roster = write(tmp_path / "export.csv", CANVAS)
    return grades, roster, tmp_path / "upload.csv"


def test_canvas_export(canvas):
    grades, roster, out = canvas
    report = export(grades, roster, "canvas", out, column=COLUMN)
    rows = read(out)
    assert list(rows[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", COLUMN]
    by_id = {r["ID"]: r[COLUMN] for r in rows}
    # no Points Possible row, no test student
    assert set(by_id) == {"4242", "5150", "1717", "1818", "7070", "6060"}
    assert by_id["4242"] == "8"  # by the trailing Canvas id; 80/100 rescaled to 10 points
    assert by_id["5150"] == "10"  # by SIS Login ID, case-insensitively
    assert by_id["7070"] == "5"  # by SIS User ID
    assert by_id["1717"] == by_id["1818"] == ""  # "smithjohn" matches both: not guessed
    assert by_id["6060"] == ""  # no submission: empty, not 0
    assert report.rows_written == 6 and report.filled == 3
    assert report.unmatched == ["stranger"]
    assert len(report.ambiguous) == 1 and "smithjohn" in report.ambiguous[0]
    assert "Turing, Alan (ID 6060)" in report.without_submission
    assert not any("Smith" in s for s in report.without_submission)
    assert any("rescaled" in n for n in report.notes)


def test_canvas_final_csv_keeps_late_mark_and_problem(canvas):
    grades, roster, out = canvas
    report = export(grades, roster, "canvas", out, column=COLUMN)
    assert report.final_csv == grades.parent / "final.csv"
    final = {r["student"]: r for r in read(report.final_csv)}
    assert final["lovelaceada_4242"]["platform_late"] == "late"
    assert final["lovelaceada_4242"]["roster_id"] == "4242"
    assert final["lovelaceada_4242"]["final"] == "80"
    assert final["lovelaceada_4242"]["exported"] == "8"
    assert final["stranger"]["roster_id"] == "" and "not in the roster" in \
        final["stranger"]["problem"]
    assert "timed out" in final["20270005"]["problem"]
    assert "with certainty" in final["smithjohn"]["problem"]


def test_canvas_lateness_applied(canvas, tmp_path):
    grades, roster, out = canvas
    policy = LatePolicy.from_dict({"policy": "percent_per_day", "percent": 10})
    times = {"lovelaceada_4242": DUE + timedelta(hours=25),  # 2 days: -20 %
             "ghopper": DUE - timedelta(hours=1)}
    report = export(grades, roster, "canvas", out, column=COLUMN, policy=policy, due=DUE,
                    times=times, final_csv=tmp_path / "final.csv")
    by_id = {r["ID"]: r[COLUMN] for r in read(out)}
    assert by_id["4242"] == "6.4"  # 80 x 0.8 = 64 of 100 -> 6.4 of 10
    assert by_id["5150"] == "10"
    final = {r["student"]: r for r in read(tmp_path / "final.csv")}
    assert final["lovelaceada_4242"]["lateness"] == "2 days late (-20 %)"
    assert final["lovelaceada_4242"]["factor"] == "0.8"
    assert final["lovelaceada_4242"]["final"] == "64"
    assert final["ghopper"]["lateness"] == "on time"
    assert final["20270005"]["lateness"] == "no submission time known"
    assert report.final_csv == tmp_path / "final.csv"


def test_canvas_late_mark_without_time_is_reported(canvas):
    grades, roster, out = canvas
    report = export(grades, roster, "canvas", out, column=COLUMN,
                    policy=LatePolicy("zero"), due=DUE, times={})
    assert {r["ID"]: r[COLUMN] for r in read(out)}["4242"] == "8"  # no time: no penalty
    assert any("lovelaceada_4242" in n and "no submission time" in n for n in report.notes)


def test_missing_zero(canvas):
    grades, roster, out = canvas
    export(grades, roster, "canvas", out, column=COLUMN, missing_zero=True)
    by_id = {r["ID"]: r[COLUMN] for r in read(out)}
    assert by_id["6060"] == "0"
    assert by_id["1717"] == ""  # ambiguous: still not guessed


def test_no_rescale(canvas):
    grades, roster, out = canvas
    export(grades, roster, "canvas", out, column=COLUMN, rescale=False)
    assert {r["ID"]: r[COLUMN] for r in read(out)}["4242"] == "80"


def test_bad_column_lists_the_columns(canvas):
    grades, roster, out = canvas
    with pytest.raises(ValueError, match=r"'Assignment 1'.*'Assignment 1 \(12345\)'.*"
                                         r"'Assignment 2 \(12399\)'"):
        export(grades, roster, "canvas", out, column="Assignment 1")
    with pytest.raises(ValueError, match="no assignment column given"):
        export(grades, roster, "canvas", out)
    assert not out.exists()


def test_two_submissions_for_one_student_are_not_guessed(canvas):
    grades, roster, out = canvas
    write(grades, CANVAS_GRADES + "alovelace,100,100,50,50,,\n")
    report = export(grades, roster, "canvas", out, column=COLUMN)
    assert {r["ID"]: r[COLUMN] for r in read(out)}["4242"] == ""
    assert any("lovelaceada_4242" in a and "alovelace" in a for a in report.ambiguous)
    assert not any("Lovelace" in s for s in report.without_submission)


def test_policy_or_times_need_a_due_time(canvas):
    grades, roster, out = canvas
    with pytest.raises(ValueError, match="due"):
        export(grades, roster, "canvas", out, column=COLUMN, policy=LatePolicy("zero"))


def test_moodle_export(tmp_path):
    grades = write(tmp_path / "grades.csv", MOODLE_GRADES)
    roster = write(tmp_path / "worksheet.csv", MOODLE)
    out = tmp_path / "upload.csv"
    policy = LatePolicy("percent_per_day", percent=10, grace_minutes=15)
    times = {"Ada Lovelace_123456": DUE + timedelta(hours=9, minutes=16)}
    report = export(grades, roster, "moodle", out, policy=policy, due=DUE, times=times)
    rows = read(out)
    assert list(rows[0]) == list(read(roster)[0])  # every column, as exported
    by_id = {r["Identifier"]: r for r in rows}
    ada = by_id["Participant 123456"]
    assert ada["Grade"] == "72"  # by participant number; 1 day late: -10 %
    assert ada["Feedback comments"] == "1 day late (-10 %)"
    assert ada["Last modified (grade)"] == "-"  # Moodle's import compares this: untouched
    grace = by_id["Participant 123457"]
    assert grace["Grade"] == "90"  # by the email's local part
    assert grace["Feedback comments"] == "Nice auctions. (the tests timed out on 1.2)"
    assert by_id["Participant 123458"]["Grade"] == ""
    assert report.unmatched == ["Someone Else_999999"]
    assert report.without_submission == ["Alan Turing (Participant 123458)"]
    assert report.filled == 2 and report.rows_written == 3


def test_moodle_rejects_a_canvas_export(tmp_path):
    grades = write(tmp_path / "grades.csv", MOODLE_GRADES)
    roster = write(tmp_path / "export.csv", CANVAS)
    with pytest.raises(ValueError, match="not a Moodle grading worksheet"):
        export(grades, roster, "moodle", tmp_path / "upload.csv")


def test_cli(canvas, tmp_path, capsys):
    grades, roster, out = canvas
    times = write(tmp_path / "times.csv",
                  "student,submitted_at\nlovelaceada_4242,2027-02-03T00:00:00Z\n")
    code = main(["--grades", str(grades), "--roster", str(roster), "--platform", "canvas",
                 "--column", COLUMN, "--out", str(out), "--due", "2027-02-01T23:59:00+00:00",
                 "--late-policy", '{"policy": "percent_per_day", "percent": 10}',
                 "--times", str(times)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "10 % off per day late" in printed
    assert "not in the roster (no score written): stranger" in printed
    assert "no submission: Turing, Alan (ID 6060)" in printed
    assert {r["ID"]: r[COLUMN] for r in read(out)}["4242"] == "6.4"
    code = main(["--grades", str(grades), "--roster", str(roster), "--platform", "canvas",
                 "--column", COLUMN, "--out", str(out), "--due", "2027-02-01T23:59:00"])
    assert code == 2 and "no UTC offset" in capsys.readouterr().err


def test_grades_of_an_assignment_carry_their_lateness_once(canvas):
    """grades.csv of ``classroom.grade --assignment`` counts the late policy in its scores
    (a lateness column): the export takes the scores as they are, says why in the feedback,
    and refuses to apply a policy a second time."""
    grades, roster, out = canvas
    write(grades, "student,score,max_score,1.1,late,lateness,problem\n"
                  "lovelaceada_4242,8,10,10,,2 days late (-20 %),\n"
                  "ghopper,10,10,10,,on time,\n")
    export(grades, roster, "canvas", out, column=COLUMN)
    scores = {r["ID"]: r[COLUMN] for r in read(out)}
    assert (scores["4242"], scores["5150"]) == ("8", "10")
    with pytest.raises(ValueError, match="late policy already"):
        export(grades, roster, "canvas", out, column=COLUMN, due=DUE)
