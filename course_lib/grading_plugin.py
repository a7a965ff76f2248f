"""A pytest plugin the autograder loads into the process that runs a submission's tests.

It records, for every collected test, the exercises it checks and its outcome, and writes them
to ``$GRADER_RESULTS`` (JSON) after every test, so that a run that dies half-way still leaves
the results of what ran. It stops a test that runs longer than ``$GRADER_TEST_TIMEOUT``
seconds, and it snapshots the functions the tests rely on to judge (numpy's and pytest's
assertions, pytest's reporting) before any submission code is imported: a test after which
one of them has been replaced is recorded as ``tampered`` and earns nothing; the originals are
then put back, so that the tests after it are judged fairly.
"""

from __future__ import annotations

import json
import os
import signal
from typing import Any

import numpy.testing
import pytest
from _pytest import reports, runner

_RESULTS: dict[str, dict[str, Any]] = {}
_OUT = os.environ.get("GRADER_RESULTS", "")
_PER_TEST = float(os.environ.get("GRADER_TEST_TIMEOUT", "60"))
_GUARDED = {
    "numpy.testing.assert_allclose": (numpy.testing, "assert_allclose"),
    "numpy.testing.assert_array_equal": (numpy.testing, "assert_array_equal"),
    "numpy.testing.assert_array_almost_equal": (numpy.testing, "assert_array_almost_equal"),
    "pytest.approx": (pytest, "approx"),
    "pytest.raises": (pytest, "raises"),
    "pytest.fail": (pytest, "fail"),
    "_pytest.runner.call_and_report": (runner, "call_and_report"),
    "_pytest.reports.TestReport": (reports, "TestReport"),
}
_ORIGINAL = {name: getattr(owner, attr) for name, (owner, attr) in _GUARDED.items()}


def _save() -> None:
    if not _OUT:
        return
    tmp = _OUT + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(_RESULTS, f)
    os.replace(tmp, _OUT)


def _check_guards() -> list[str]:
    return [name for name, (owner, attr) in _GUARDED.items()
            if getattr(owner, attr) is not _ORIGINAL[name]]


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        ids = sorted({str(i) for mark in item.iter_markers("exercise") for i in mark.args})
        _RESULTS[item.nodeid] = {"outcome": "not run", "exercises": ids, "message": ""}
    _save()


def _timeout(signum: int, frame: Any) -> None:
    raise TimeoutError(f"the test ran longer than {_PER_TEST:g} s")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_call(item: Any) -> Any:
    previous = signal.signal(signal.SIGALRM, _timeout)
    # After the limit the alarm repeats every 0.1 s, so that code which catches the first
    # TimeoutError and runs again (a property-based test replaying its example) stops too.
    signal.setitimer(signal.ITIMER_REAL, _PER_TEST, 0.1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def pytest_runtest_logreport(report: Any) -> None:
    entry = _RESULTS.setdefault(report.nodeid, {"outcome": "not run", "exercises": [],
                                                "message": ""})
    broken = _check_guards()
    if broken:  # this test earns nothing; the originals come back for the next one
        entry["outcome"] = "tampered"
        entry["message"] = "the test framework was modified: " + ", ".join(broken)
        for name in broken:
            owner, attr = _GUARDED[name]
            setattr(owner, attr, _ORIGINAL[name])
    elif entry["outcome"] != "tampered" and (
            report.when == "call" or (report.when == "setup" and not report.passed)):
        entry["outcome"] = "passed" if report.passed else ("skipped" if report.skipped
                                                           else "failed")
        if report.failed:
            entry["message"] = str(report.longrepr)[-1500:]
    _save()
