"""Answers that do no work earn nothing, and hard-coding the public tests earns little.

``degenerate.py`` grades, for every exercise, the degenerate submissions of its ``KINDS``
(zeros, ones, a constant, NaN, an empty array, an input echoed, the inputs overwritten plus
zeros, and a table of the public tests' answers) on the public and hidden tests, with the
grader's scoring (``classroom.grade.score_results``: hidden tests carry ``hidden_share``).
All of it runs in one subprocess, once for this module. When a row fails here, run
``python tests/degenerate.py <id> --kind <kind> --show`` to see which tests it passes, and
make those tests check a value that the degenerate answer cannot have.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from degenerate import KINDS
from mutant_runner import run_tool

from course_lib import exercises

pytestmark = pytest.mark.skipif(not exercises.solutions_available(),
                                reason="builds degenerate answers from the references")

TESTS = Path(__file__).resolve().parent
LOOKUP_LIMIT = 0.10  # of all the points: what a table of the public tests' answers may earn


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("degenerate") / "rows.json"
    # no COURSE_LIB_REFERENCE: the exercises under test must reach the tool
    env = {"COURSE_LIB_QUICK": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
           "COURSE_LIB_REFERENCE": ""}
    return run_tool(TESTS / "degenerate.py", out, env, timeout=900)


def test_every_exercise_and_kind_was_graded(rows):
    ids = {row["id"] for row in exercises.catalog()}
    assert {(r["exercise"], r["kind"]) for r in rows} == {(i, k) for i in ids for k in KINDS}
    assert all(r["total"]["public"] and r["total"]["hidden"] for r in rows)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "lookup"])
def test_a_degenerate_answer_earns_nothing(rows, kind):
    earning = {r["exercise"]: (r["score"], r["passing"]) for r in rows
               if r["kind"] == kind and r["score"] > 0}
    assert not earning, f"{kind} answers earn points: {earning}"


def test_a_table_of_the_public_answers_earns_little(rows):
    table = [r for r in rows if r["kind"] == "lookup"]
    earned, total = sum(r["score"] for r in table), sum(r["max"] for r in table)
    assert earned <= LOOKUP_LIMIT * total, (earned, total)
    # it is a real table: it passes most public tests (so the limit above means something)
    public = sum(r["passed"]["public"] for r in table) / sum(r["total"]["public"] for r in table)
    assert public > 0.5
