"""classroom.lateness: late policies, lateness at the boundaries, and the sources of
submission times (Gradescope's metadata, a CSV, the files' own times)."""

from __future__ import annotations

import json
import os
import zipfile
from datetime import UTC, datetime, timedelta, timezone

import pytest

from classroom.lateness import (
    LatePolicy,
    assess,
    gradescope_metadata,
    parse_time,
    times_from_csv,
    times_from_files,
)

DUE = datetime(2027, 2, 1, 23, 59, tzinfo=UTC)
TEN = LatePolicy.from_dict({"policy": "percent_per_day", "percent": 10, "grace_minutes": 15,
                            "max_days": 5})


def late(**delta):
    return DUE + timedelta(**delta)


def test_exactly_at_due_is_on_time():
    got = assess(TEN, DUE, DUE)
    assert (got.seconds_late, got.days_late, got.factor, got.text) == (0, 0, 1.0, "on time")


def test_before_due_is_on_time():
    got = assess(TEN, DUE, late(days=-3))
    assert (got.seconds_late, got.days_late, got.factor) == (0, 0, 1.0)


def test_inside_grace_is_on_time_but_reported():
    got = assess(TEN, DUE, late(minutes=15))  # the last second of the grace
    assert got.days_late == 0 and got.factor == 1.0
    assert got.seconds_late == 900
    assert got.text.startswith("on time") and "grace" in got.text


def test_one_second_after_grace_is_one_day():
    got = assess(TEN, DUE, late(minutes=15, seconds=1))
    assert got.days_late == 1
    assert got.factor == pytest.approx(0.9)
    assert got.text == "1 day late (-10 %)"


def test_25_hours_late_is_two_days():
    got = assess(LatePolicy("percent_per_day", percent=10), DUE, late(hours=25))
    assert got.days_late == 2
    assert got.factor == pytest.approx(0.8)
    assert got.text == "2 days late (-20 %)"
    # exactly 24 h is still the first day
    assert assess(LatePolicy("percent_per_day", percent=10), DUE, late(hours=24)).days_late == 1


def test_max_days_boundary():
    on_last_day = assess(TEN, DUE, late(days=5, minutes=15))  # 5 days after the grace
    assert on_last_day.days_late == 5 and on_last_day.factor == pytest.approx(0.5)
    past = assess(TEN, DUE, late(days=5, minutes=15, seconds=1))
    assert past.days_late == 6 and past.factor == 0.0
    assert "more than 5 days" in past.text


def test_percent_never_below_zero():
    policy = LatePolicy("percent_per_day", percent=40)
    got = assess(policy, DUE, late(days=3))
    assert got.factor == 0.0 and got.text == "3 days late (-100 %)"


def test_none_and_zero_policies():
    none = assess(LatePolicy("none"), DUE, late(days=2))
    assert (none.days_late, none.factor, none.text) == (2, 1.0, "2 days late (no penalty)")
    zero = LatePolicy.from_dict({"policy": "zero", "grace_minutes": 5})
    assert assess(zero, DUE, late(minutes=5)).factor == 1.0
    assert assess(zero, DUE, late(minutes=5, seconds=1)).factor == 0.0


def test_unknown_submission_time_costs_nothing():
    got = assess(TEN, DUE, None)
    assert got.factor == 1.0 and got.text == "no submission time known"


def test_other_timezones_compare_as_instants():
    pacific = timezone(timedelta(hours=-8))
    got = assess(TEN, DUE, datetime(2027, 2, 1, 16, 0, tzinfo=pacific))  # 00:00 UTC
    assert got.seconds_late == 60 and got.days_late == 0


def test_describe():
    assert TEN.describe() == "10 % off per day late, after 15 minutes' grace; nothing after 5 days"
    assert LatePolicy("zero", grace_minutes=1).describe() == \
        "A late submission earns 0, after 1 minute's grace"
    assert "no penalty" in LatePolicy("none").describe().lower()


@pytest.mark.parametrize("table, word", [
    ({"policy": "percent_per_day", "percent": 10, "grace": 15}, "'grace'"),
    ({"percent": 10}, "'policy'"),
    ({"policy": "halve"}, "'halve'"),
    ({"policy": "percent_per_day"}, "percent"),
    ({"policy": "percent_per_day", "percent": 150}, "150"),
    ({"policy": "percent_per_day", "percent": "10"}, "'10'"),
    ({"policy": "percent_per_day", "percent": True}, "True"),
    ({"policy": "percent_per_day", "percent": 10, "grace_minutes": -1}, "grace_minutes"),
    ({"policy": "percent_per_day", "percent": 10, "max_days": 0}, "max_days"),
    ({"policy": "zero", "percent": 10}, "percent"),
    ({"policy": "zero", "max_days": 3}, "max_days"),
    ({"policy": 3}, "3"),
])
def test_policy_validation_names_the_bad_key(table, word):
    with pytest.raises(ValueError, match=word):
        LatePolicy.from_dict(table)


def test_parse_time_formats():
    utc = datetime(2027, 2, 1, 23, 59, tzinfo=UTC)
    assert parse_time("2027-02-01T23:59:00Z") == utc
    assert parse_time("2027-02-01T23:59:00+00:00") == utc
    assert parse_time("2027-02-01 23:59Z") == utc
    assert parse_time("2027-02-01T15:59:00.000000-08:00") == utc  # Gradescope's
    assert parse_time("2027-02-02T00:59:00+0100") == utc
    assert parse_time("2027-02-01T23:59:00.5Z").microsecond == 500000
    assert parse_time("2027-02-01T23:59:00.365935123Z").microsecond == 365935


@pytest.mark.parametrize("text", ["2027-02-01T23:59:00", "2027-02-01 23:59"])
def test_naive_time_refused_with_advice(text):
    with pytest.raises(ValueError, match="no UTC offset.*add one"):
        parse_time(text)


@pytest.mark.parametrize("text", ["tomorrow", "2027-02-30T10:00Z", "01/02/2027 23:59+00:00"])
def test_bad_time_refused(text):
    with pytest.raises(ValueError, match="not a time"):
        parse_time(text)


def test_assess_refuses_naive_times():
    with pytest.raises(ValueError, match="offset"):
        assess(TEN, datetime(2027, 2, 1, 23, 59), DUE)


METADATA = {  # as /autograder/submission_metadata.json (Gradescope's documented fields)
    "id": 123456789,
    "created_at": "2027-02-03T09:15:42.365935-08:00",
    "assignment": {
        "due_date": "2027-02-01T23:59:00.000000-08:00",
        "group_size": None,
        "group_submission": False,
        "id": 25828,
        "course_id": 1234,
        "late_due_date": "2027-02-08T23:59:00.000000-08:00",
        "release_date": "2027-01-18T00:00:00.000000-08:00",
        "title": "Markets of Agents: Assignment 1",
        "total_points": "100.0",
    },
    "submission_method": "upload",
    "users": [{"email": "ada@example.edu", "id": 4242, "name": "Ada Lovelace",
               "sid": "20270001"}],
    "previous_submissions": [{"submission_time": "2027-02-01T20:00:00.000000-08:00",
                              "score": 60.0, "results": {}}],
}


def test_gradescope_metadata(tmp_path):
    path = tmp_path / "submission_metadata.json"
    path.write_text(json.dumps(METADATA))
    submitted, due = gradescope_metadata(path)
    assert submitted == datetime(2027, 2, 3, 17, 15, 42, 365935, tzinfo=UTC)
    assert due == datetime(2027, 2, 2, 7, 59, tzinfo=UTC)  # not the late due date
    got = assess(LatePolicy("percent_per_day", percent=10), due, submitted)
    assert got.days_late == 2


def test_gradescope_metadata_extension_and_no_due(tmp_path):
    path = tmp_path / "submission_metadata.json"
    data = json.loads(json.dumps(METADATA))
    data["users"][0]["assignment"] = {"due_date": "2027-02-04T23:59:00.000000-08:00",
                                      "late_due_date": None,
                                      "release_date": "2027-01-18T00:00:00.000000-08:00"}
    path.write_text(json.dumps(data))
    assert gradescope_metadata(path)[1] == parse_time("2027-02-04T23:59:00-08:00")
    data["assignment"]["due_date"] = None
    del data["users"][0]["assignment"]
    path.write_text(json.dumps(data))
    assert gradescope_metadata(path)[1] is None
    path.write_text(json.dumps({"id": 1}))
    with pytest.raises(ValueError, match="created_at"):
        gradescope_metadata(path)


def test_times_from_csv(tmp_path):
    path = tmp_path / "times.csv"
    path.write_text("\ufeffstudent,submitted_at\n"
                    "ada,2027-02-01T22:00:00Z\n"
                    "lovelaceada_4242,2027-02-02T10:00:00+01:00\n"
                    "nobody,\n")
    assert times_from_csv(path) == {
        "ada": datetime(2027, 2, 1, 22, tzinfo=UTC),
        "lovelaceada_4242": datetime(2027, 2, 2, 9, tzinfo=UTC)}


@pytest.mark.parametrize("body, word", [
    ("student,time\nada,2027-02-01T22:00:00Z\n", "submitted_at"),
    ("student,submitted_at\nada,2027-02-01T22:00:00\n", "line 2.*no UTC offset"),
    ("student,submitted_at\nada,2027-02-01T22:00Z\nada,2027-02-01T23:00Z\n", "twice"),
])
def test_times_from_csv_errors(tmp_path, body, word):
    path = tmp_path / "times.csv"
    path.write_text(body)
    with pytest.raises(ValueError, match=word):
        times_from_csv(path)


def test_times_from_files(tmp_path):
    def touch(path, when):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
        os.utime(path, (when.timestamp(), when.timestamp()))

    folder = tmp_path / "ada"
    touch(folder / "course_lib" / "auctions.py", DUE - timedelta(hours=2))
    touch(folder / "course_lib" / "wireless.py", DUE + timedelta(hours=3))
    outside = tmp_path / "outside.py"
    touch(outside, DUE + timedelta(days=30))
    (folder / "link.py").symlink_to(outside)  # not followed
    archive = tmp_path / "bob.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("course_lib/auctions.py", "x")
    os.utime(archive, (DUE.timestamp(), DUE.timestamp()))
    single = tmp_path / "smithjohn_12_34_auctions.py"
    touch(single, DUE - timedelta(days=1))
    (tmp_path / "empty").mkdir()
    got = times_from_files({"ada": folder, "bob": archive, "smithjohn_12": [single],
                            "empty": tmp_path / "empty"})
    assert got == {"ada": DUE + timedelta(hours=3), "bob": DUE,
                   "smithjohn_12": DUE - timedelta(days=1)}
    assert all(t.tzinfo is not None for t in got.values())
