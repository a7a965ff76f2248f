"""What the in-browser chapters (Pyodide) need of the course, checked natively: an exercise
call asks the file system nothing once it knows whether the solutions are there, and a check
in the browser runs without Hypothesis's explain phase."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from hypothesis import Phase, settings

from course_lib import exercises

# tests/conftest.py, loaded under a name of its own: ``import conftest`` finds whichever
# conftest pytest loaded last (tests/hidden has one too).
_SPEC = importlib.util.spec_from_file_location(
    "course_tests_conftest", Path(__file__).with_name("conftest.py"))
course_conftest = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(course_conftest)
default_profile = course_conftest.default_profile


def test_solutions_available_searches_once_until_what_it_found_from_changes(monkeypatch):
    searches = []
    real = exercises._find_solutions

    def counted():
        searches.append(1)
        return real()

    monkeypatch.setattr(exercises, "_find_solutions", counted)
    monkeypatch.setitem(exercises._SOLUTIONS_SEEN, "key", None)
    first = exercises.solutions_available()
    for _ in range(1000):
        assert exercises.solutions_available() is first
    assert len(searches) == 1
    monkeypatch.setattr(sys, "path", [*sys.path, "/nowhere"])  # the path changed: look again
    assert exercises.solutions_available() is first and len(searches) == 2
    monkeypatch.setitem(sys.modules, "solutions", None)  # as in a copy without solutions/
    assert exercises.solutions_available() is False and len(searches) == 3
    monkeypatch.delitem(sys.modules, "solutions")
    assert exercises.solutions_available() is first and len(searches) == 4


def test_a_check_in_the_browser_skips_only_the_explain_phase():
    assert default_profile("linux") == "course" and default_profile("emscripten") == "browser"
    phases = settings.get_profile("browser").phases
    assert Phase.explain not in phases
    assert {Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink} <= set(phases)
    assert settings.get_profile("browser").deadline is None
