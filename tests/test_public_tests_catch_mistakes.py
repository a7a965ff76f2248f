"""The public tests of every exercise catch the mistakes its docstring or notebook warns about.

``mutants.py`` holds, for each exercise, small wrong implementations that each make one such
mistake (ties going to the highest index, the identity dropped, the bootstrap not masked at
the end of an episode, ...). ``mutant_runner.py`` runs the exercise's *public* tests (the
ones ``check`` runs, from ``Exercise.test_file``) with the exercise's calls sent to each mutant
through ``course_lib.exercises.set_dispatcher``, the other exercises on their references. Here
every mutant must make at least one public test fail: a learner who makes a warned mistake
learns it from ``check``, not only from the hidden tests.

All the runs happen in one subprocess (one torch import), started once for this module. When
a mutant survives, its test names it and its mistake; add a public test that catches it to the
exercise's test file (by hand-computed values: the student copy has no references), and see
``python tests/mutant_runner.py <id> --all-failures`` for the details.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mutant_runner import run_tool
from mutants import MUTANTS

from course_lib import exercises

pytestmark = pytest.mark.skipif(not exercises.solutions_available(),
                                reason="compares mutants with the public tests: needs the "
                                       "reference solutions")

TESTS = Path(__file__).resolve().parent
RUNNER = TESTS / "mutant_runner.py"
# What ``make test`` sets: the references for the library code, quick experiments.
RUN_ENV = {"COURSE_LIB_REFERENCE": "all", "COURSE_LIB_QUICK": "1", "MPLBACKEND": "Agg",
           "OMP_NUM_THREADS": "1"}
EXERCISE_IDS = [row["id"] for row in exercises.catalog()]


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every mutant's verdict and every exercise's control run, from one run of the runner."""
    out = tmp_path_factory.mktemp("mutants") / "verdicts.json"
    return run_tool(RUNNER, out, RUN_ENV, timeout=600)


def test_every_exercise_has_a_mutant():
    covered = {m.exercise for m in MUTANTS}
    assert not set(EXERCISE_IDS) - covered, (
        f"exercises without a mutant in tests/mutants.py: {sorted(set(EXERCISE_IDS) - covered)}")
    assert not covered - set(EXERCISE_IDS), (
        f"mutants of unknown exercises: {sorted(covered - set(EXERCISE_IDS))}")
    for m in MUTANTS:
        assert m.name.isidentifier() and m.mistake.strip(), m.id


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_public_tests_pass_with_the_reference_behind_the_seam(verdicts, exercise_id):
    """The control: with the reference in the mutant's place every public test passes, so a
    failing test below is the mutant's doing, not the harness's."""
    control = verdicts["controls"][exercise_id]
    assert control["ok"], (
        f"the public tests of exercise {exercise_id} do not all pass with the reference "
        f"routed through set_dispatcher: failed {control['failed']}, errors "
        f"{control['errors']}, {control['ran']} ran")
    assert control["calls"] > 0, f"no public test of exercise {exercise_id} called it"


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_public_tests_catch_the_mistake(verdicts, mutant):
    found = [v for v in verdicts["mutants"]
             if v["exercise"] == mutant.exercise and v["name"] == mutant.name]
    assert len(found) == 1, f"the runner reported {len(found)} verdicts for {mutant.id}"
    verdict = found[0]
    test_file = exercises.get_exercise(mutant.exercise).test_file.relative_to(TESTS.parent)
    assert not verdict["errors"], (
        f"the public tests of exercise {mutant.exercise} did not load: {verdict['errors']}")
    assert verdict["calls"] > 0, (
        f"mutant {mutant.id} was never called by the public tests of exercise "
        f"{mutant.exercise}")
    assert verdict["killed"], (
        f"mutant {mutant.id} survived: all {verdict['ran']} public tests of exercise "
        f"{mutant.exercise} ({test_file}) pass although it makes this mistake: "
        f"{mutant.mistake} Add a public test there that catches it.")
