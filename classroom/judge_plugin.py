"""The pytest plugin of the judge: the process that runs the tests and writes the results.

No code of the submission runs in this process. At start-up the plugin routes every exercise
call to a sandboxed worker (``classroom.dispatch``) over the worker folder named by
``$GRADER_WORKER_ROOT``. It records, for every collected test, the exercises it checks and its
outcome, and appends it to ``$GRADER_RESULTS`` (JSON lines, in a folder the worker cannot see)
after every test, so that a run stopped half-way keeps what ran. A test that runs longer than
``$GRADER_TEST_TIMEOUT`` seconds is stopped by an alarm in this process (the submission cannot
catch it); the worker it was waiting for is killed, and the next call starts a fresh one.
After ``TIMEOUTS_IN_A_ROW`` such tests of one exercise in a row, its other tests are not run;
once ``$GRADER_BUDGET`` seconds are spent, no further test runs (each is reported as not run,
with the reason). While a test runs, calls of exercises it does not check are answered by
their references (``classroom.dispatch.Dispatcher.testing``); the results name them.
The public tests run first and the hidden ones follow in the same worker; the teacher's extra
tests (``$GRADER_EXTRA``) get a fresh one, as would any test of a kind that ran earlier: so
nothing a submission saw during a hidden or extra test can reach a public test's failure
message (nor a hidden one an extra test's). In a batch, the property tests replay the
examples drawn once for the batch (``classroom.examples``).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from classroom import dispatch, examples
from course_lib.exercises import ExerciseSelector

_RESULTS: dict[str, dict[str, Any]] = {}
_OUT = os.environ.get("GRADER_RESULTS", "")
_PER_TEST = float(os.environ.get("GRADER_TEST_TIMEOUT", "60"))
_BUDGET = float(os.environ.get("GRADER_BUDGET", "600"))
TIMEOUTS_IN_A_ROW = 2  # an exercise whose tests time out this often in a row: the rest not run
TIMED_OUT = "the test ran longer than"
# where a failure message names its failing example: a replay's note, Hypothesis's own
EXAMPLE_NOTES = ("\nFalsifying example (", "\nFailing test case:")


def clipped(message: str, head: int = 1000, tail: int = 500, example: int = 1200) -> str:
    """A failure message cut to a few kilobytes: the head of the error (``grade._reason``
    reads its first line), its tail, and the failing example's note whole (up to
    ``example`` characters), however long the error printed before it."""
    cut = max(message.rfind(marker) for marker in EXAMPLE_NOTES)
    error, note = (message[:cut], message[cut:]) if cut >= 0 else (message, "")
    if len(error) > head + tail:
        error = error[:head] + "\n…\n" + error[-tail:]
    if len(note) > example:
        note = note[:example] + " …"
    return error + note


_STATE: dict[str, Any] = {"dispatcher": None, "phase": None, "start": time.monotonic(),
                          "timeouts": {}, "examples": {}, "recorder": None}


def _save(*nodeids: str) -> None:
    """Append the entries of ``nodeids`` to ``$GRADER_RESULTS``, one JSON line each (a
    later line of a test replaces an earlier one; ``classroom.grade.read_results`` reads
    them). Appending keeps the cost of a report constant: rewriting every result after
    every test made grading quadratic in the number of tests."""
    if not _OUT:
        return
    with open(_OUT, "a", encoding="utf-8") as f:
        f.write("".join(json.dumps({"id": n, **_RESULTS[n]}) + "\n" for n in nodeids))


def pytest_configure(config: Any) -> None:
    examples.draw_from_the_seed_alone()
    if os.environ.get(examples.RECORD_VAR):  # the batch's one run against the references
        from course_lib import exercises

        exercises._state_from_environment()  # a judge forked from the server: read it anew
        _STATE["recorder"] = examples.Recorder()
        config.pluginmanager.register(_STATE["recorder"], "grader-examples")
    if os.environ.get(examples.EXAMPLES_VAR):
        _STATE["examples"] = examples.load(Path(os.environ[examples.EXAMPLES_VAR]))
    root = os.environ.get("GRADER_WORKER_ROOT")
    if root:
        modules = [m for m in os.environ.get("GRADER_EXERCISE_MODULES", "").split(",") if m]
        _STATE["dispatcher"] = dispatch.install(
            Path(root), os.environ.get("GRADER_SANDBOX", "bwrap"), modules,
            Path(os.environ.get("GRADER_WORKER_LOG", os.devnull)))


def pytest_unconfigure(config: Any) -> None:
    if _STATE["recorder"] is not None:
        _STATE["recorder"].save(Path(os.environ[examples.RECORD_VAR]))
    if _STATE["dispatcher"] is not None:
        _STATE["dispatcher"].worker.stop()


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    only = {i for i in os.environ.get("GRADER_ONLY", "").split(",") if i}
    if only:  # grading some exercises only
        _keep(config, items, lambda item: only & {str(i) for mark in
                                                  item.iter_markers("exercise")
                                                  for i in mark.args})
    if _STATE["recorder"] is not None:  # only the property tests draw examples
        _keep(config, items, examples.is_property_test)
    for item in items:
        _RESULTS[item.nodeid] = {"outcome": "not run", "exercises": _exercises(item),
                                 "message": ""}
    _save(*(item.nodeid for item in items))


def _keep(config: Any, items: list[Any], wanted: Any) -> None:
    """Deselect the items for which ``wanted(item)`` is false."""
    keep = [item for item in items if wanted(item)]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep


def _timeout(signum: int, frame: Any) -> None:
    raise TimeoutError(f"the test ran longer than {_PER_TEST:g} s")


def _exercises(item: Any) -> list[str]:
    return sorted(ExerciseSelector.marked_ids(item))


def _why_not_run(item: Any) -> str:
    """Why ``item`` is not run: the submission's time is spent, or its exercise's tests keep
    running out of time ('' when it runs)."""
    if time.monotonic() - _STATE["start"] > _BUDGET:
        return f"not run: the submission's time budget ({_BUDGET:g} s) ran out"
    for ex in _exercises(item):
        if _STATE["timeouts"].get(ex, 0) >= TIMEOUTS_IN_A_ROW:
            return (f"not run: {TIMEOUTS_IN_A_ROW} tests of exercise {ex} in a row ran out of "
                    "time")
    return ""


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: Any, nextitem: Any) -> Any:
    why = _why_not_run(item) if _STATE["dispatcher"] is not None else ""
    if not why:
        return None
    _RESULTS.setdefault(item.nodeid, {"exercises": _exercises(item)}).update(
        {"outcome": "not run", "message": why})
    _save(item.nodeid)
    return True  # handled: the test does not run


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_setup(item: Any) -> Any:
    extra = os.environ.get("GRADER_EXTRA", "")
    phase = ("extra" if extra and str(item.path).startswith(extra + os.sep) else
             "hidden" if "/hidden/" in f"/{item.nodeid}" else "public")
    dispatcher = _STATE["dispatcher"]
    if dispatcher is not None:
        if phase != _STATE["phase"] and (_STATE["phase"], phase) != ("public", "hidden"):
            dispatcher.worker.stop()  # a fresh worker: see the module's docstring
        # calls of any other exercise are answered by its reference (one mistake, one loss)
        dispatcher.testing = set(_exercises(item))
        dispatcher.stand_ins = set()
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


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: Any) -> Any:
    calls = _STATE["examples"].get(pyfuncitem.nodeid)
    if calls is None or not examples.is_property_test(pyfuncitem):
        return None
    examples.replay(pyfuncitem, calls)  # the batch's examples, without Hypothesis's engine
    return True


def pytest_runtest_logreport(report: Any) -> None:
    entry = _RESULTS.setdefault(report.nodeid, {"outcome": "not run", "exercises": [],
                                                "message": ""})
    if report.when == "call" or (report.when == "setup" and not report.passed):
        entry["outcome"] = "passed" if report.passed else ("skipped" if report.skipped
                                                           else "failed")
        if report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            message = crash.message if crash is not None else str(report.longrepr)
            entry["message"] = clipped(message)
        dispatcher = _STATE["dispatcher"]
        if dispatcher is not None and dispatcher.stand_ins:
            entry["stand_ins"] = sorted(dispatcher.stand_ins)
        timed_out = report.failed and TIMED_OUT in entry["message"]
        for ex in entry.get("exercises", []):
            _STATE["timeouts"][ex] = _STATE["timeouts"].get(ex, 0) + 1 if timed_out else 0
        _save(report.nodeid)
