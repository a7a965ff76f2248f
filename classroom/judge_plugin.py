"""The pytest plugin of the judge: the process that runs the tests and writes the results.

No code of the submission runs in this process. At start-up the plugin routes every exercise
call to a sandboxed worker (``classroom.dispatch``) over the worker folder named by
``$GRADER_WORKER_ROOT``. It records, for every collected test, the exercises it checks and its
outcome, and rewrites ``$GRADER_RESULTS`` (JSON, in a folder the worker cannot see) after
every test, so that a run stopped half-way keeps what ran. A test that runs longer than
``$GRADER_TEST_TIMEOUT`` seconds is stopped by an alarm in this process (the submission cannot
catch it); the worker it was waiting for is killed, and the next call starts a fresh one.
Public and hidden tests get different workers, so that nothing a submission saw during a
hidden test can reach a public test's failure message.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from classroom import dispatch

_RESULTS: dict[str, dict[str, Any]] = {}
_OUT = os.environ.get("GRADER_RESULTS", "")
_PER_TEST = float(os.environ.get("GRADER_TEST_TIMEOUT", "60"))
_STATE: dict[str, Any] = {"dispatcher": None, "phase": None}


def _save() -> None:
    if not _OUT:
        return
    tmp = _OUT + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(_RESULTS, f)
    os.replace(tmp, _OUT)


def pytest_configure(config: Any) -> None:
    root = os.environ.get("GRADER_WORKER_ROOT")
    if root:
        modules = [m for m in os.environ.get("GRADER_EXERCISE_MODULES", "").split(",") if m]
        _STATE["dispatcher"] = dispatch.install(
            Path(root), os.environ.get("GRADER_SANDBOX", "bwrap"), modules,
            Path(os.environ.get("GRADER_WORKER_LOG", os.devnull)))


def pytest_unconfigure(config: Any) -> None:
    if _STATE["dispatcher"] is not None:
        _STATE["dispatcher"].worker.stop()


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    only = {i for i in os.environ.get("GRADER_ONLY", "").split(",") if i}
    if only:  # grading some exercises only
        keep = [item for item in items if only & {str(i) for mark in
                                                  item.iter_markers("exercise")
                                                  for i in mark.args}]
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep
    for item in items:
        ids = sorted({str(i) for mark in item.iter_markers("exercise") for i in mark.args})
        _RESULTS[item.nodeid] = {"outcome": "not run", "exercises": ids, "message": ""}
    _save()


def _timeout(signum: int, frame: Any) -> None:
    raise TimeoutError(f"the test ran longer than {_PER_TEST:g} s")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: Any, nextitem: Any) -> Any:
    phase = "hidden" if "/hidden/" in f"/{item.nodeid}" else "public"
    dispatcher = _STATE["dispatcher"]
    if dispatcher is not None and phase != _STATE["phase"]:
        dispatcher.worker.stop()  # a fresh worker for each kind of test
    _STATE["phase"] = phase
    yield


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_call(item: Any) -> Any:
    if _STATE["dispatcher"] is not None:
        _STATE["dispatcher"].worker.warm()
    previous = signal.signal(signal.SIGALRM, _timeout)
    # After the limit the alarm repeats every 0.1 s, so that a property-based test replaying
    # its example after the first TimeoutError stops too.
    signal.setitimer(signal.ITIMER_REAL, _PER_TEST, 0.1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def pytest_runtest_logreport(report: Any) -> None:
    entry = _RESULTS.setdefault(report.nodeid, {"outcome": "not run", "exercises": [],
                                                "message": ""})
    if report.when == "call" or (report.when == "setup" and not report.passed):
        entry["outcome"] = "passed" if report.passed else ("skipped" if report.skipped
                                                           else "failed")
        if report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            entry["message"] = (crash.message if crash is not None
                                else str(report.longrepr))[-1500:]
    _save()
