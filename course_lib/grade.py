"""The autograder: grade a learner's ``course_lib`` with the public (and hidden) tests.

    python -m course_lib.grade SUBMISSION [--hidden] [--out results.json]
                               [--format gradescope|json|markdown] [--timeout SECONDS]
    python -m course_lib.grade --batch FOLDER --out-dir grades/ [--hidden]

SUBMISSION is a folder or a ``.zip`` holding a ``course_lib`` folder (the whole tree, or only
the modules with exercises). Only the exercise modules are taken from it; everything else
comes from this repository. Grading runs in a fresh workspace, in a separate process with a
per-test time limit (``--timeout``), a memory cap and a cap on file sizes, and it never makes
the reference solutions importable (a stand-in ``solutions`` module refuses to load).

Points per exercise come from ``grading/points.json``; each test that checks an exercise
earns an equal share of its points. A test that did not run (the submission crashed, hung,
was killed, or deleted it) earns nothing; so does a test during which the test framework's
judging functions were replaced (see ``course_lib.grading_plugin``).

Limits: all tests of a submission run in one process, so a submission that deletes test files
while it is imported loses the tests not yet collected (other submissions are unaffected:
each gets a fresh workspace), and code running inside that process could in principle forge
the results file; grading untrusted code at scale wants an operating-system sandbox too.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .exercises import catalog
from .release import MAINTAINER_TESTS

REPO_ROOT = Path(__file__).resolve().parent.parent
POINTS_FILE = REPO_ROOT / "grading" / "points.json"
MEMORY_MB = 4096
MAX_FILE_MB = 64
BLOCKER = 'raise ImportError("the reference solutions are not available while grading")\n'


def load_points(path: Path = POINTS_FILE) -> dict[str, float]:
    """Points per exercise id; every exercise of ``course_lib`` must have an entry."""
    points = {str(k): float(v) for k, v in json.loads(Path(path).read_text())["points"].items()}
    missing = sorted({row["id"] for row in catalog()} - set(points))
    if missing:
        raise ValueError(f"{path} has no points for exercises {missing}")
    return points


# --------------------------------------------------------------------------------------
# Workspace and test run
# --------------------------------------------------------------------------------------


def find_course_lib(submission: Path, scratch: Path) -> Path:
    """The folder that holds the submission's ``course_lib`` (zips are unpacked safely)."""
    submission = Path(submission)
    if submission.is_file() and submission.suffix == ".zip":
        target = scratch / "unzipped"
        with zipfile.ZipFile(submission) as archive:
            for member in archive.namelist():
                resolved = (target / member).resolve()
                if not resolved.is_relative_to(target.resolve()):
                    raise ValueError(f"unsafe path in the zip: {member}")
            archive.extractall(target)
        submission = target
    if not submission.is_dir():
        raise ValueError(f"a submission is a folder or a .zip, got {submission}")
    candidates = sorted(p.parent for p in submission.rglob("course_lib") if p.is_dir()
                        and "__MACOSX" not in p.parts)
    if not candidates:
        raise ValueError(f"no course_lib folder in {submission}")
    return min(candidates, key=lambda p: len(p.parts))


def prepare_workspace(submitted: Path | None, work: Path, hidden: bool) -> list[str]:
    """Fill ``work`` with this repository's course_lib, the submission's exercise modules on
    top, the tests and the data. Returns the modules taken from the submission."""
    shutil.copytree(REPO_ROOT / "course_lib", work / "course_lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    taken = []
    for rel in sorted({row["file"] for row in catalog()}):
        src = submitted / rel if submitted is not None else None
        if src is not None and src.is_file():
            shutil.copy2(src, work / rel)
            taken.append(rel)
    (work / "tests").mkdir()
    for path in sorted((REPO_ROOT / "tests").glob("*.py")):
        if path.name not in MAINTAINER_TESTS:
            shutil.copy2(path, work / "tests" / path.name)
    if hidden:
        shutil.copytree(REPO_ROOT / "tests" / "hidden", work / "tests" / "hidden",
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO_ROOT / "data", work / "data",
                    ignore=shutil.ignore_patterns("cache", "MNIST"))
    (work / "solutions.py").write_text(BLOCKER)
    return taken


def _limits() -> None:  # runs in the child before exec
    os.setsid()
    memory = MEMORY_MB * 2**20
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))  # heap and anonymous maps
    size = MAX_FILE_MB * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails, not the run


def run_tests(work: Path, per_test: float = 60.0, total: float = 600.0,
              collect_only: bool = False) -> dict[str, dict[str, Any]]:
    """Run the exercise tests in ``work`` in a separate process; the plugin's results."""
    results = work / f".grader-{os.getpid()}-{time.monotonic_ns()}.json"
    env = {**os.environ, "PYTHONPATH": str(work), "COURSE_LIB_QUICK": "1",
           "MPLBACKEND": "Agg", "COURSE_LIB_REFERENCE": "", "GRADER_RESULTS": str(results),
           "GRADER_TEST_TIMEOUT": str(per_test), "PYTHONDONTWRITEBYTECODE": "1",
           # a failing property test stops at its first counterexample (no shrinking)
           "HYPOTHESIS_PROFILE": "stubs"}
    cmd = [sys.executable, "-m", "pytest", "tests", "-m", "exercise", "-q", "-p",
           "course_lib.grading_plugin", "-p", "no:cacheprovider", "--rootdir", str(work),
           "--continue-on-collection-errors"]
    if collect_only:
        cmd.append("--collect-only")
    with open(work / "pytest.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=_limits)
        try:
            proc.wait(timeout=total)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    try:
        return json.loads(results.read_text())
    except (OSError, ValueError):
        return {}


_EXPECTED: dict[bool, dict[str, list[str]]] = {}


def expected_tests(hidden: bool) -> dict[str, list[str]]:
    """Every exercise test (node id -> exercise ids), collected once from this repository."""
    if hidden not in _EXPECTED:
        with tempfile.TemporaryDirectory() as tmp:
            prepare_workspace(None, Path(tmp), hidden)
            found = run_tests(Path(tmp), collect_only=True)
        _EXPECTED[hidden] = {k: v["exercises"] for k, v in found.items() if v["exercises"]}
        if not _EXPECTED[hidden]:
            raise RuntimeError("collecting the exercise tests failed; see pytest's output")
    return _EXPECTED[hidden]


# --------------------------------------------------------------------------------------
# Scores and reports
# --------------------------------------------------------------------------------------


@dataclass
class ExerciseScore:
    id: str
    title: str
    score: float
    max_score: float
    passed: dict[str, int]          # "public"/"hidden" -> tests passed
    total: dict[str, int]           # "public"/"hidden" -> tests
    failures: list[str] = field(default_factory=list)


@dataclass
class GradeResult:
    submission: str
    exercises: list[ExerciseScore]
    modules: list[str]
    error: str = ""
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 4)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 4)


def score_results(results: dict[str, dict[str, Any]], expected: dict[str, list[str]],
                  points: dict[str, float]) -> list[ExerciseScore]:
    titles = {row["id"]: row["title"] for row in catalog()}
    scores = []
    for ex in sorted(points, key=lambda i: tuple(int(p) for p in i.split("."))):
        tests = [t for t, ids in expected.items() if ex in ids]
        passed = {"public": 0, "hidden": 0}
        total = {"public": 0, "hidden": 0}
        failures = []
        for t in tests:
            kind = "hidden" if "/hidden/" in t else "public"
            total[kind] += 1
            got = results.get(t, {"outcome": "not run", "message": ""})
            if got["outcome"] == "passed":
                passed[kind] += 1
            elif kind == "public":
                failures.append(f"{t.split('::')[-1]}: {got['outcome']}")
        share = (passed["public"] + passed["hidden"]) / max(len(tests), 1)
        scores.append(ExerciseScore(ex, titles.get(ex, ""), round(points[ex] * share, 4),
                                    points[ex], passed, total, failures))
    return scores


def grade(submission: Path, hidden: bool = False, per_test: float = 60.0,
          total: float = 600.0, points: dict[str, float] | None = None) -> GradeResult:
    """Grade one submission; never raises for a broken submission (its score is then 0)."""
    start = time.perf_counter()
    points = points if points is not None else load_points()
    expected = expected_tests(hidden)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        try:
            submitted = find_course_lib(Path(submission), scratch)
        except (ValueError, OSError, zipfile.BadZipFile) as err:
            return GradeResult(str(submission), score_results({}, expected, points), [],
                               error=str(err), seconds=time.perf_counter() - start)
        work = scratch / "work"
        work.mkdir()
        modules = prepare_workspace(submitted, work, hidden)
        results = run_tests(work, per_test, total)
        error = "" if results else "no test ran: " + _tail(work / "pytest.log")
    return GradeResult(str(submission), score_results(results, expected, points), modules,
                       error, round(time.perf_counter() - start, 1))


def _tail(path: Path, size: int = 1500) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - size))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def to_gradescope(result: GradeResult) -> dict[str, Any]:
    """Gradescope's results.json: hidden tests are visible after the grades are published."""
    tests = []
    for e in result.exercises:
        for kind in ("public", "hidden"):
            if not e.total[kind]:
                continue
            share = e.max_score * e.total[kind] / (e.total["public"] + e.total["hidden"])
            tests.append({
                "name": f"Exercise {e.id} {e.title} ({kind} tests)",
                "score": round(share * e.passed[kind] / e.total[kind], 4),
                "max_score": round(share, 4),
                "output": (f"{e.passed[kind]} of {e.total[kind]} passed"
                           + ("\n" + "\n".join(e.failures) if kind == "public" and e.failures
                              else "")),
                "visibility": "visible" if kind == "public" else "after_published",
            })
    return {"score": result.score, "output": result.error or "graded", "tests": tests,
            "visibility": "visible", "execution_time": result.seconds}


def to_markdown(result: GradeResult) -> str:
    lines = [f"# Grade: {result.score:g} / {result.max_score:g}", ""]
    if result.error:
        lines += [f"**Problem:** {result.error}", ""]
    lines += ["| exercise | score | public tests | hidden tests |", "|---|---|---|---|"]
    for e in result.exercises:
        hidden = f"{e.passed['hidden']}/{e.total['hidden']}" if e.total["hidden"] else "–"
        lines.append(f"| {e.id} {e.title} | {e.score:g} / {e.max_score:g} | "
                     f"{e.passed['public']}/{e.total['public']} | {hidden} |")
    failing = [(e.id, f) for e in result.exercises for f in e.failures]
    if failing:
        lines += ["", "## Public tests that did not pass", ""]
        lines += [f"- {ex}: {f}" for ex, f in failing]
    return "\n".join(lines) + "\n"


def to_json(result: GradeResult) -> dict[str, Any]:
    return {"submission": result.submission, "score": result.score,
            "max_score": result.max_score, "error": result.error, "seconds": result.seconds,
            "modules": result.modules,
            "exercises": [e.__dict__ for e in result.exercises]}


def grade_folder(folder: Path, out_dir: Path, hidden: bool = False, per_test: float = 60.0,
                 total: float = 600.0) -> Path:
    """Grade every submission (sub-folder or .zip) of ``folder``; write each student's
    Markdown and JSON report as soon as it is graded, and ``grades.csv``."""
    folder, out_dir = Path(folder), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    points = load_points()
    ids = list(points)
    csv_path = out_dir / "grades.csv"
    with open(csv_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "score", "max_score", *ids, "problem"])
        for entry in sorted(folder.iterdir()):
            if not (entry.is_dir() or entry.suffix == ".zip"):
                continue
            name = entry.stem if entry.is_file() else entry.name
            try:
                result = grade(entry, hidden, per_test, total, points)
            except Exception as err:  # noqa: BLE001 - one student must not sink the others
                result = GradeResult(str(entry), [], [], error=f"grader error: {err!r}")
            (out_dir / f"{name}.md").write_text(to_markdown(result))
            (out_dir / f"{name}.json").write_text(json.dumps(to_json(result), indent=2))
            by_id = {e.id: e.score for e in result.exercises}
            writer.writerow([name, result.score, result.max_score,
                             *[by_id.get(i, 0) for i in ids], result.error[:200]])
            f.flush()
    return csv_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grade",
                                     description="Grade course_lib submissions.")
    parser.add_argument("submission", nargs="?", type=Path)
    parser.add_argument("--hidden", action="store_true", help="run the hidden tests too")
    parser.add_argument("--out", type=Path, help="write the report here")
    parser.add_argument("--format", choices=("gradescope", "json", "markdown"),
                        default="markdown")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per test")
    parser.add_argument("--batch", type=Path, help="grade every submission in this folder")
    parser.add_argument("--out-dir", type=Path, default=Path("grades"))
    args = parser.parse_args(argv)
    if args.batch is not None:
        print(grade_folder(args.batch, args.out_dir, args.hidden, args.timeout))
        return 0
    if args.submission is None:
        parser.error("give a SUBMISSION or --batch FOLDER")
    result = grade(args.submission, args.hidden, args.timeout)
    text = (to_markdown(result) if args.format == "markdown" else json.dumps(
        to_gradescope(result) if args.format == "gradescope" else to_json(result), indent=2))
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
