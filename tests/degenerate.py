"""Degenerate submissions: answers that do no work, which must earn nothing.

For every exercise, each *kind* below answers every call of that exercise (public and hidden
tests, in this process, through ``course_lib.exercises.set_dispatcher``) while every other
exercise runs its reference. The answer is built from the reference's own result on the same
call (so it has the right type and shape, which only helps it pass), then emptied of work:

* ``zeros``, ``ones``, ``constant`` (0.5), ``nan``, ``empty``: each number and array of the
  reference's answer replaced by that (``empty``: a length-0 array);
* ``echo``: the call's first array (or tensor) argument, copied;
* ``overwrite``: the inputs overwritten in place with zeros, and the answer zeros, so that a
  test which computes its expectation from the (now zero) inputs after the call agrees;
* ``lookup``: the reference's answer for the calls the *public* tests make (a table built by
  running them once), zeros for any other call: hard-coding the public tests.

The answer goes through the rules a learner's code meets under grading
(``course_lib.contracts.guarded_call``: inputs unchanged, result new) and the exercise's
return contract. ``score`` applies the grader's scoring (``classroom.grade``), public and
hidden tests together.

    python tests/degenerate.py                 # every exercise, every kind: a table
    python tests/degenerate.py 2.3 --kind empty --show
    python tests/degenerate.py --json rows.json   # what tests/test_degenerate_answers.py reads

All of it runs in one pytest session (two with ``lookup``: the table is recorded first), each
test once per kind.

Run with ``COURSE_LIB_QUICK=1``; it needs the repository copy (solutions/, tests/hidden/).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parent
for place in (str(REPO_ROOT), str(TESTS)):
    if place not in sys.path:
        sys.path.insert(0, place)

from mutant_runner import _hypothesis_profile, run_session  # noqa: E402

KINDS = ("zeros", "ones", "constant", "nan", "empty", "echo", "overwrite", "lookup")
PROFILE = "course-degenerate"


def _torch() -> Any:
    return sys.modules.get("torch")


def _is_tensor(value: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(value, torch.Tensor)


def _fill(value: Any, kind: str) -> Any:
    """``value`` (the reference's answer) with every number and array replaced per ``kind``."""
    number = {"zeros": 0.0, "ones": 1.0, "constant": 0.5, "nan": float("nan"),
              "overwrite": 0.0, "lookup": 0.0}.get(kind)
    if isinstance(value, np.ndarray):
        if kind == "empty":
            return np.empty(0, dtype=value.dtype)
        if value.dtype.kind in "iub" and kind == "nan":
            return np.zeros_like(value)
        return np.full_like(value, number if value.dtype.kind == "f" else int(number or 0))
    if _is_tensor(value):
        torch = _torch()
        if kind == "empty":
            return torch.empty(0, dtype=value.dtype)
        if not value.is_floating_point():
            return torch.zeros_like(value)
        return torch.full_like(value.detach(), number)
    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (int, np.integer)):
        return np.empty(0) if kind == "empty" else 0 if kind == "nan" else int(number)
    if isinstance(value, (float, np.floating)):
        return np.empty(0) if kind == "empty" else number
    if isinstance(value, tuple):
        return tuple(_fill(v, kind) for v in value)
    if isinstance(value, list):
        return [] if kind == "empty" else [_fill(v, kind) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, kind) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _fill(getattr(value, f.name), kind) for f in dataclasses.fields(value)
                  if f.init}
        keep = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)
                if f.init and isinstance(getattr(value, f.name), str)}
        return type(value)(**{**fields, **keep})
    return value


def _first_array(args: tuple, kwargs: dict) -> Any:
    for value in [*args, *kwargs.values()]:
        if isinstance(value, np.ndarray):
            return value.copy()
        if _is_tensor(value):
            return value.detach().clone()
    return 0.0


def _zero_inputs(args: tuple, kwargs: dict) -> None:
    for value in [*args, *kwargs.values()]:
        if isinstance(value, np.ndarray) and value.flags.writeable:
            value[...] = 0
        elif _is_tensor(value):
            value.data.zero_()


def _key(args: tuple, kwargs: dict) -> str | None:
    """A fingerprint of a call's arguments (None when they cannot be pickled)."""
    try:
        return hashlib.sha256(pickle.dumps((args, sorted(kwargs.items())))).hexdigest()
    except Exception:  # noqa: BLE001 - a module or generator among them: no entry
        return None


def degenerate(exercise: Any, kind: str, table: dict[str, Any] | None = None) -> Any:
    """The body of a degenerate submission of ``exercise``."""
    reference = exercise.reference()

    def body(*args: Any, **kwargs: Any) -> Any:
        if kind == "lookup":
            key = _key(args, kwargs)
            if key is not None and key in (table or {}):
                return pickle.loads(table[key])
        answer = reference(*args, **kwargs)
        if kind == "echo":
            return _first_array(args, kwargs)
        if kind == "overwrite":
            _zero_inputs(args, kwargs)
        return _fill(answer, kind)

    return body


def _files(hidden: bool = True) -> list[str]:
    """Every test file with exercise tests: the public ones and, with ``hidden``, the hidden."""
    from course_lib.exercises import catalog, get_exercise

    public = sorted({str(get_exercise(row["id"]).test_file) for row in catalog()})
    return public + (sorted(str(p) for p in (TESTS / "hidden").glob("test_*.py"))
                     if hidden else [])


class _Runs:
    """pytest plugin: each kept test runs once per kind, with the calls of the exercises it
    checks answered by that kind's body (held to the grading rules) and every other exercise
    by its reference; ``passed[(node id, kind)]`` records the outcome."""

    def __init__(self, ids: set[str] | None, kinds: list[str], tables: dict[str, dict]) -> None:
        from course_lib import exercises

        self.selector = exercises.ExerciseSelector(ids)
        self.kinds, self.tables = kinds, tables
        self.passed: dict[tuple[str, str], bool] = {}
        self.current: dict[str, Any] = {"ids": set(), "kind": None}
        self.bodies: dict[tuple[str, str], Any] = {}

    def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
        self.selector.pytest_collection_modifyitems(config, items)

    def dispatch(self, exercise: Any, args: tuple, kwargs: dict) -> Any:
        from course_lib import contracts

        kind = self.current["kind"]
        if exercise.id not in self.current["ids"]:
            return exercise.reference()(*args, **kwargs)
        body = self.bodies.get((exercise.id, kind))
        if body is None:
            table = self.tables.get(exercise.id, {})
            body = self.bodies[exercise.id, kind] = (
                exercise.reference() if kind == "record" else degenerate(exercise, kind, table))
        names = {f"argument {i}": a for i, a in enumerate(args)} | dict(kwargs)
        value = contracts.guarded_call(exercise.function, body, args, kwargs, names)
        if kind == "record":
            key = _key(args, kwargs)
            if key is not None:
                self.tables.setdefault(exercise.id, {})[key] = pickle.dumps(value)
        return value

    def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> bool:
        from _pytest.runner import runtestprotocol

        self.current["ids"] = self.selector.marked_ids(item)
        for kind in self.kinds:
            self.current["kind"] = kind
            reports = runtestprotocol(item, log=False, nextitem=nextitem)
            calls = [r for r in reports if r.when == "call"]
            self.passed[item.nodeid, kind] = bool(calls) and all(r.passed for r in reports)
        return True


def run(ids: set[str] | None, kinds: list[str], files: list[str], seed: int,
        tables: dict[str, dict] | None = None) -> _Runs:
    """One pytest session over ``files``: every test of the exercises ``ids`` (None: all),
    once per kind; hypothesis draws its examples from ``seed``."""
    runs = _Runs(ids, kinds, {} if tables is None else tables)
    run_session(files, runs.dispatch, runs, "-p", "no:randomly", f"--hypothesis-seed={seed}")
    if runs.selector.errors:
        raise RuntimeError(f"test files did not load: {runs.selector.errors}")
    return runs


def table(ids: set[str] | None = None, kinds: list[str] | tuple[str, ...] = KINDS
          ) -> list[dict[str, Any]]:
    """The grader's score of every degenerate submission (``kinds``) of every exercise
    (``ids``; None: all), public and hidden tests together, as rows."""
    from classroom.grade import load_hidden_share, load_points, score_results

    kinds = list(kinds)
    tables: dict[str, dict] = {}
    if "lookup" in kinds:  # what a student records by running the public tests
        run(ids, ["record"], _files(hidden=False), seed=1, tables=tables)
    # graded as the judge grades: property tests draw from another seed (the secret's)
    runs = run(ids, kinds, _files(), seed=2, tables=tables)
    points, share = load_points(), load_hidden_share()
    rows = []
    for exercise_id in sorted(ids or points, key=lambda i: tuple(map(int, i.split(".")))):
        tests = {node: row["exercises"] for node, row in runs.selector.results.items()
                 if exercise_id in row["exercises"]}
        for kind in kinds:
            results = {node: {"outcome": "passed" if runs.passed.get((node, kind)) else
                              "failed", "message": ""} for node in tests}
            (row,) = score_results(results, tests, {exercise_id: points[exercise_id]}, share)
            rows.append({"exercise": exercise_id, "kind": kind, "score": row.score,
                         "max": row.max_score, "passed": row.passed, "total": row.total,
                         "passing": sorted(n for n in tests if runs.passed.get((n, kind)))})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("--kind", action="append", choices=KINDS)
    parser.add_argument("--show", action="store_true", help="list the tests that pass")
    parser.add_argument("--json", metavar="PATH", help="write the rows to this file")
    options = parser.parse_args(argv)
    # examples from --hypothesis-seed: the lookup table is recorded under one seed and graded
    # under another, as the judge's seed comes from the grading secret
    _hypothesis_profile(PROFILE, derandomize=False)
    os.environ.pop("PYTEST_ADDOPTS", None)
    start = time.perf_counter()
    rows = table(set(options.exercises) or None, options.kind or KINDS)
    if options.json:
        Path(options.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    total: dict[str, float] = {}
    for row in rows:
        total[row["kind"]] = total.get(row["kind"], 0.0) + row["score"]
        print(f"{row['exercise']} {row['kind']:9s} {row['score']:.4g} / {row['max']:g}  public "
              f"{row['passed']['public']}/{row['total']['public']} hidden "
              f"{row['passed']['hidden']}/{row['total']['hidden']}")
        if options.show and row["passing"]:
            print("    passing: " + ", ".join(n.split("::")[-1] for n in row["passing"]))
    maximum = sum(r["max"] for r in rows) / max(len({r["kind"] for r in rows}), 1)
    print(f"total per kind (of {maximum:g}): "
          + ", ".join(f"{k} {v:.4g}" for k, v in total.items())
          + f"  ({time.perf_counter() - start:.0f} s)")
    return 1 if any(r["score"] > 0 for r in rows if r["kind"] != "lookup") else 0


if __name__ == "__main__":
    sys.exit(main())
