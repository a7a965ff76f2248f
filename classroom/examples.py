"""The property tests' examples, drawn once for a batch and replayed for every submission.

Hypothesis spends most of a judge's time drawing examples (about 8 of its 15 s for a full
submission), and under the grading seed it draws the same ones for every submission: while a
test passes, what it draws next depends only on the seed and on what it drew before (once
Hypothesis no longer mixes in constants of whatever local modules are loaded:
``draw_from_the_seed_alone``), and under
the grading profile a failing test stops at its first failing example. So a batch runs the
property tests once against the references (``record``: the drawn arguments of every call, in
order), and each submission's judge calls the test body on those arguments (``replay``), with
no engine: the same examples, in the same order, stopping at the first failure, whose
arguments the failure message shows (as Hypothesis's "Falsifying example" does).

A test is replayed only when every call drew plain data (no ``st.data()``, no
``st.randoms()``: their draws happen inside the body and may depend on the submission's
answers), its body is a function (not a method), and it passed against the references. Any
other test runs under Hypothesis as before. The file is written and read by the grader only;
no worker sees it.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import pytest

EXAMPLES_VAR = "GRADER_EXAMPLES"  # the judge replays the examples in this file
RECORD_VAR = "GRADER_RECORD_EXAMPLES"  # the judge records examples into this file


class _NotPlain(Exception):
    """An argument that must not be replayed (an object of Hypothesis's own)."""


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if type(obj).__module__.split(".")[0] == "hypothesis":
            raise _NotPlain(type(obj).__name__)
        return NotImplemented


def _dumps(value: Any) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def _body(item: Any) -> Any:
    """The Hypothesis handle of a property test that is a plain function (None otherwise)."""
    if getattr(item, "cls", None) is not None:
        return None
    return getattr(getattr(item, "obj", None), "hypothesis", None)


def is_property_test(item: Any) -> bool:
    return _body(item) is not None


class Recorder:
    """A pytest plugin that records the arguments each property test's body is called with,
    and keeps those of the tests that passed."""

    def __init__(self) -> None:
        self.examples: dict[str, list[bytes]] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: Any) -> Any:
        item = pyfuncitem
        handle = _body(item)
        if handle is None:
            yield
            return
        inner = handle.inner_test
        fixed = set(getattr(item, "funcargs", {}))
        calls: list[bytes] | None = []

        def recorded(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            if calls is not None:
                try:
                    if args:
                        raise _NotPlain("positional arguments")
                    calls.append(_dumps({k: v for k, v in kwargs.items() if k not in fixed}))
                except (_NotPlain, pickle.PicklingError, TypeError, AttributeError):
                    calls = None
            return inner(*args, **kwargs)

        handle.inner_test = recorded
        try:
            outcome = yield
        finally:
            handle.inner_test = inner
        if outcome.excinfo is None and calls:
            self.examples[item.nodeid] = calls

    def save(self, path: Path) -> None:
        with open(path, "wb") as f:
            pickle.dump(self.examples, f, protocol=pickle.HIGHEST_PROTOCOL)


def draw_from_the_seed_alone() -> bool:
    """Stop Hypothesis from mixing constants of the local modules loaded so far into its
    examples (it scans every module outside site-packages and the tests as it is imported).
    Under grading that pool would make the examples depend on what a judge happened to
    import: the references when recording, every test file in a single grade, a lazily
    imported module in one run and not in another. Without it, the grading seed alone draws
    them, in a batch's recording as in a single grade. False where this Hypothesis has no
    such pool (nothing to stop)."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a Hypothesis without the module
        return False
    if not hasattr(providers, "_get_local_constants") or not hasattr(providers, "Constants"):
        return False
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty
    return True


def load(path: Path) -> dict[str, list[bytes]]:
    """The examples recorded for a batch (node id -> pickled arguments of each call)."""
    with open(path, "rb") as f:
        examples = pickle.load(f)
    if not isinstance(examples, dict):
        raise ValueError(f"{path}: not a file of recorded examples")
    return examples


def _shown(drawn: dict[str, Any]) -> str:
    text = ", ".join(f"{name}={value!r}" for name, value in drawn.items())
    return text if len(text) <= 1000 else text[:1000] + " ..."


def replay(item: Any, calls: list[bytes]) -> None:
    """Call ``item``'s body on each recorded example in turn; the first failure is raised
    with its example named."""
    from hypothesis.errors import UnsatisfiedAssumption

    inner = _body(item).inner_test
    fixed = {name: item.funcargs[name] for name in item._fixtureinfo.argnames}
    for number, blob in enumerate(calls, 1):
        try:
            inner(**fixed, **pickle.loads(blob))
        except UnsatisfiedAssumption:
            continue
        except Exception as err:
            err.add_note(f"Falsifying example ({number} of {len(calls)}): "
                         f"{_shown(pickle.loads(blob))}")
            raise
