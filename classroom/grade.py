"""The autograder: grade a learner's ``course_lib`` with the public (and hidden) tests.

    python -m classroom.grade SUBMISSION [--hidden] [--out results.json]
                              [--format gradescope|json|markdown] [--timeout SECONDS]
                              [--budget SECONDS] [--secret TEXT] [--publish]
                              [--extra-tests DIR] [--sandbox auto|bwrap|none]
    python -m classroom.grade --batch FOLDER --out-dir grades/ [--hidden] [--publish]
                              [--assignment ID] [--jobs N] [--no-cache] [--times CSV]

SUBMISSION is a folder or a ``.zip`` holding the package (a ``course_lib`` folder of any
name, e.g. ``course_lib (1)``; the whole tree, or only the modules with exercises), or the
exercise modules themselves (``auctions.py``, ``wireless.py``, ...: names are unique across
the package), found by their paths in the package (``locate_modules``). Backslashes in a zip
are read as folders; ``__MACOSX``, ``.DS_Store``, ``.ipynb_checkpoints``, ``__pycache__``,
``.venv`` and the like are skipped without counting against the limits. Only the exercise
modules are read (regular files of at most ``MAX_MODULE_KB`` each; symbolic links are
refused, and nothing else of a zip is unpacked); the report counts the files not graded.

How a submission is judged: the tests run in a *judge* process (``classroom.judge_plugin``)
with this repository's ``course_lib``, in which no code of the submission ever runs. Every
exercise call goes to a *worker* in a sandbox (``classroom.sandbox``) that holds the
learner's modules and nothing else of the course: no tests, no solutions, no results. The
worker answers in plain data (``classroom.codec``). The judge writes the results into this
grader's scratch folder, which the worker cannot see; this process turns them into scores.

A batch (``--batch``) is graded ``--jobs`` submissions at a time, by judges forked from one
server that imported their libraries once (``JudgeServer``, ``classroom.judge_server``);
a submission whose exercise modules are unchanged since the last run keeps its grade
(``GradeCache``). With ``--assignment``, only that assignment's exercises are graded, with
its points, and its late policy turns the submission times (``--times``, Gradescope's
``--submission-metadata``) into a factor on the score (``classroom.assignments``,
``classroom.lateness``). The notebooks of a submission are read for their written answers
(``classroom.written``): one HTML page and one PDF per student.

Points per exercise come from the assignment, else ``grading/points.json``, else one per
public test: without the hidden tests, an exercise's public tests share its points equally;
with them, the hidden tests share the fixed ``hidden_share`` of the points and the public
tests the rest. A test that failed,
timed out or did not run earns nothing. The hidden tests' cases and the property tests'
examples are drawn from the grading secret. A learner's report shows the public results
only until the teacher publishes (``--publish``); ``grades.csv`` holds every score, and
``similarity.csv`` the exercise bodies that look copied (``classroom.similarity``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import pickle
import pwd
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classroom import examples, sandbox
from classroom.assignments import Assignment, get_assignment
from classroom.lateness import Lateness, LatePolicy, assess, gradescope_metadata, times_from_csv
from classroom.release import MAINTAINER_TESTS
from course_lib.exercises import catalog
from course_lib.submit import MAX_MODULE_KB

REPO_ROOT = Path(__file__).resolve().parent.parent
POINTS_FILE = REPO_ROOT / "grading" / "points.json"
MAX_ZIP_MEMBERS = 20_000
MAX_WALK = 20_000
WORKER_FILES = ("__init__.py", "codec.py", "worker.py")
JUDGE_MEMORY_MB = 6144
JUDGE_FILE_MB = 64  # any one file the judge writes (its results: a few hundred KB)
JUDGE_LOG_MB = 4  # pytest's own output, kept for the teacher
SECRET_VAR = "COURSE_LIB_GRADING_SECRET"
PUBLIC_SECRET = "public-default-secret"  # as tests/hidden/conftest.py: public, reproducible
DEFAULT_HIDDEN_SHARE = 0.9
DEFAULT_BUDGET_S = 300.0  # one submission, all its tests (an honest one: about 30 s)


def load_points(path: Path = POINTS_FILE) -> dict[str, float]:
    """Points per exercise id as ``path`` lists them (an exercise it leaves out gets one
    point per public test: ``exercise_points``)."""
    raw = json.loads(Path(path).read_text())["points"]
    known = {row["id"] for row in catalog()}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"{path} gives points to exercises that do not exist: {unknown}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
               for v in raw.values()):
        raise ValueError(f"{path}: points must be numbers >= 0")
    return {str(k): float(v) for k, v in raw.items()}


def exercise_points(expected: dict[str, list[str]], ids: list[str] | None = None,
                    assignment: Assignment | None = None) -> dict[str, float]:
    """The points of each exercise graded (``ids``, the assignment's, or all): the
    assignment's own, else ``grading/points.json``'s, else one per public test."""
    listed = load_points()
    ids = (list(assignment.exercises) if assignment is not None else
           ids if ids is not None else [row["id"] for row in catalog()])
    own = assignment.points if assignment is not None else {}
    public = {i: sum(i in marks and "/hidden/" not in t for t, marks in expected.items())
              for i in ids}
    return {i: own.get(i, listed.get(i, float(public[i]))) for i in ids}


def load_hidden_share(path: Path = POINTS_FILE) -> float:
    """The fixed share of each exercise's points that its hidden tests carry."""
    share = json.loads(Path(path).read_text()).get("hidden_share", DEFAULT_HIDDEN_SHARE)
    if not (isinstance(share, (int, float)) and 0 <= share <= 1):
        raise ValueError(f"{path}: hidden_share must be a number in [0, 1], got {share!r}")
    return float(share)


class SubmissionRejected(ValueError):
    """The submission cannot be graded (its score is 0); the message says why."""


# --------------------------------------------------------------------------------------
# Reading a submission: only the exercise modules, never a link, never more than we need
# --------------------------------------------------------------------------------------


def exercise_files() -> list[str]:
    return sorted({row["file"] for row in catalog()})


def _check_module(rel: str, size: int) -> None:
    if size > MAX_MODULE_KB * 1024:
        raise SubmissionRejected(f"{rel} is larger than {MAX_MODULE_KB} KB")


# Folders and files that are never part of a submission: skipped without counting against the
# limits (an editor's, an OS's or a virtual environment's leftovers).
IGNORED_PARTS = frozenset({"__MACOSX", ".DS_Store", ".ipynb_checkpoints", "__pycache__",
                           ".venv", "venv", ".git", ".hypothesis", ".pytest_cache",
                           "node_modules", "Thumbs.db"})
MAX_ENTRIES_SEEN = 1_000_000  # ignored ones included: the work done on any submission


class Submission(dict):
    """The exercise modules read (repository path -> bytes); ``skipped`` lists the other files
    of the submission, which are not graded."""

    skipped: list[str]


def _ignored(parts: tuple[str, ...] | list[str]) -> bool:
    return any(p in IGNORED_PARTS or p.startswith("._") for p in parts)


def locate_modules(paths: list[str]) -> dict[str, str]:
    """Which submitted path is which exercise module (repository path -> submitted path).

    The package may sit in a folder of any name (``course_lib``, ``course_lib (1)``,
    ``Course_Lib``, ``student/course_lib``) or at the top: the folder under which the most
    exercise modules lie at their paths in the package wins (``course_lib``-like names first,
    then the shallowest), so ``experiments/society.py`` is never taken for ``society.py``.
    Modules uploaded one by one into that folder (``wireless.py`` beside ``auctions.py``,
    without ``envs/``) are found by their names, which are unique among the exercise modules."""
    inner = {rel: rel.split("/", 1)[1] for rel in exercise_files()}
    by_root: dict[str, dict[str, str]] = {}
    for path in paths:
        for rel, tail in inner.items():
            if path == tail or path.endswith("/" + tail):
                by_root.setdefault(path[:len(path) - len(tail)], {})[rel] = path
    for path in paths:  # one by one: by name, directly in a folder
        folder, _, name = path.rpartition("/")
        for rel, tail in inner.items():
            if "/" in tail and name == tail.rsplit("/", 1)[1]:
                by_root.setdefault(folder + "/" if folder else "", {}).setdefault(rel, path)
    if not by_root:
        return {}

    def rank(root: str) -> tuple:
        name = root.rstrip("/").rsplit("/", 1)[-1].lower().replace(" ", "_")
        return (-len(by_root[root]), not name.startswith("course_lib"), root.count("/"), root)

    return by_root[min(by_root, key=rank)]


def read_submission(submission: Path) -> Submission:
    """The submission's exercise modules (repository path -> bytes), from a folder or a zip."""
    submission = Path(submission)
    if submission.is_symlink():
        raise SubmissionRejected(f"{submission.name} is a symbolic link")
    if submission.is_file() and submission.suffix.lower() == ".zip":
        return _read_zip(submission)
    if submission.is_dir():
        return _read_folder(submission)
    raise SubmissionRejected(f"a submission is a folder or a .zip file, got {submission.name}")


def _finish(found: dict[str, bytes], paths: list[str], where: dict[str, str]) -> Submission:
    result = Submission(found)
    taken = set(where.values())
    result.skipped = sorted(p for p in paths if p not in taken)
    return result


def _read_zip(path: Path) -> Submission:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise SubmissionRejected(f"{path.name} is not a readable zip file: {err}") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ENTRIES_SEEN:
            raise SubmissionRejected(f"the zip holds more than {MAX_ENTRIES_SEEN} entries")
        if not members:
            raise SubmissionRejected(f"the zip {path.name} is empty")
        names: dict[str, zipfile.ZipInfo] = {}
        for member in members:
            # Windows tools (PowerShell's Compress-Archive) write backslashes
            name = member.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p not in ("", ".")]
            if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
                raise SubmissionRejected(f"unsafe path in the zip: {member.filename}")
            if member.is_dir() or name.endswith("/") or not parts or _ignored(parts):
                continue
            names["/".join(parts)] = member
            if len(names) > MAX_ZIP_MEMBERS:
                raise SubmissionRejected(f"the zip holds more than {MAX_ZIP_MEMBERS} files")
        where = locate_modules(list(names))
        if not where:
            raise SubmissionRejected(f"no course_lib folder and no exercise module "
                                     f"(auctions.py, ...) in the zip {path.name}")
        found = {}
        for rel, name in where.items():
            member = names[name]
            if stat.S_ISLNK(member.external_attr >> 16):
                raise SubmissionRejected(f"{rel} is a symbolic link in the zip")
            _check_module(rel, member.file_size)
            with archive.open(member) as f:
                data = f.read(MAX_MODULE_KB * 1024 + 1)
            _check_module(rel, len(data))
            found[rel] = data
        return _finish(found, list(names), where)


def _read_folder(root: Path) -> Submission:
    paths, links, seen, kept = [], [], 0, 0
    for here, dirs, files in os.walk(root, followlinks=False):
        seen += 1 + len(dirs) + len(files)
        if seen > MAX_ENTRIES_SEEN:
            raise SubmissionRejected(f"the folder holds more than {MAX_ENTRIES_SEEN} entries")
        dirs[:] = sorted(d for d in dirs if not _ignored([d]))
        rel_here = Path(here).relative_to(root)
        links += [(rel_here / d).as_posix() for d in dirs if (Path(here) / d).is_symlink()]
        for name in sorted(files):
            if _ignored([name]):
                continue
            kept += 1
            if kept > MAX_WALK:
                raise SubmissionRejected(f"the folder holds more than {MAX_WALK} files")
            paths.append((rel_here / name).as_posix())
    where = locate_modules(paths)
    if not where:
        raise SubmissionRejected(f"{links[0]} is a symbolic link" if links else
                                 f"no course_lib folder and no exercise module "
                                 f"(auctions.py, ...) in {root.name}")
    _refuse_linked_folders(links, where)
    found = {}
    for rel, name in where.items():
        path = root / name
        try:
            info = os.lstat(path)
        except OSError:
            continue
        _refuse_links_on_the_way(root, path, rel)
        if stat.S_ISLNK(info.st_mode):
            raise SubmissionRejected(f"{rel} is a symbolic link")
        if not stat.S_ISREG(info.st_mode):
            continue
        _check_module(rel, info.st_size)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_MODULE_KB * 1024 + 1)
        _check_module(rel, len(data))
        found[rel] = data
    return _finish(found, paths, where)


def _refuse_linked_folders(links: list[str], where: dict[str, str]) -> None:
    """A linked folder (never followed) where an exercise module of the package would lie
    (``course_lib/envs`` -> a classmate's folder) is refused, not silently skipped."""
    for rel, name in where.items():
        tail = rel.split("/", 1)[1]
        if name == tail or name.endswith("/" + tail):
            root = name[:len(name) - len(tail)]
            break
    else:  # only modules found by name: the folder they are in
        root = name.rpartition("/")[0] + "/" if "/" in name else ""
    for link in links:
        for module in exercise_files():
            if (root + module.split("/", 1)[1]).startswith(link + "/"):
                raise SubmissionRejected(f"{link} (on the way to {module}) is a symbolic link")


def _refuse_links_on_the_way(root: Path, path: Path, rel: str) -> None:
    """Every folder between the submission's root and ``path`` must be a real folder: a link
    anywhere on the way (``course_lib/envs`` -> a classmate's folder) is refused."""
    here = Path(root)
    for part in Path(path).relative_to(root).parts[:-1]:
        here = here / part
        if here.is_symlink():
            raise SubmissionRejected(f"{here.relative_to(root)} (on the way to {rel}) is a "
                                     "symbolic link")


# --------------------------------------------------------------------------------------
# The worker's folder and the judge's run
# --------------------------------------------------------------------------------------


def prepare_worker_root(modules: dict[str, bytes], root: Path) -> list[str]:
    """``root``: this repository's ``course_lib`` with the submitted modules on top, the
    stubs of every exercise module (``stubs/``) and the worker's own modules. Returns the
    paths taken from the submission."""
    shutil.copytree(REPO_ROOT / "course_lib", root / "course_lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for rel in exercise_files():
        (root / "stubs" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / rel, root / "stubs" / rel)
    for rel, data in modules.items():
        (root / rel).write_bytes(data)
    (root / "classroom").mkdir()
    for name in WORKER_FILES:
        source = Path(__file__).with_name(name)
        (root / "classroom" / name).write_bytes(
            source.read_bytes() if name != "__init__.py" else b"")
    (root / "home").mkdir()
    return sorted(modules)


def test_files(hidden: bool) -> list[str]:
    files = [f"tests/{p.name}" for p in sorted((REPO_ROOT / "tests").glob("test_*.py"))
             if p.name not in MAINTAINER_TESTS]
    if hidden:
        files.append("tests/hidden")
    return files


def _module_names() -> list[str]:
    return [rel[:-3].replace("/", ".") for rel in exercise_files()]


def pycache_dir() -> Path:
    """The judges' bytecode cache (``PYTHONPYCACHEPREFIX``), the grading user's own: what
    Python compiles and what pytest's assertion rewriting makes, kept between submissions."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "markets-of-agents-grader" / "pycache"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def judge_base_env() -> dict[str, str]:
    """What every judge's environment holds besides its job: quick budgets, no display, no
    references, this checkout on the path, and compiled modules and pytest's rewritten tests
    in the grader's own cache (``pycache_dir``), not in this checkout: compiled once, not for
    every submission."""
    env = {**os.environ, "COURSE_LIB_QUICK": "1", "MPLBACKEND": "Agg",
           "COURSE_LIB_REFERENCE": "", "PYTHONPATH": str(REPO_ROOT),
           "PYTHONPYCACHEPREFIX": str(pycache_dir())}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the cache above is the grader's
    return env


def hypothesis_seed(secret: str) -> int:
    """The seed of the property tests' examples under grading, drawn from the secret."""
    return int.from_bytes(hashlib.sha256(f"hypothesis\0{secret}".encode()).digest()[:8], "big")


def _judge_limits() -> None:  # in the judge's process, before exec
    os.setsid()
    os.umask(0o077)  # the results and logs: readable by the grader's user only
    memory = JUDGE_MEMORY_MB * 2**20
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    size = JUDGE_FILE_MB * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def run_judge(scratch: Path, worker_root: Path | None, hidden: bool, mode: str,
              per_test: float = 60.0, total: float = 600.0, collect_only: bool = False,
              files: list[str] | None = None, only: set[str] | None = None,
              secret: str | None = None, record: Path | None = None) -> dict[str, dict[str, Any]]:
    """Run the exercise tests (of ``files``; of the exercises ``only``) in a judge process;
    its results (empty if none came back). ``secret`` draws the hidden tests' cases (see
    ``tests/hidden/conftest.py``); None keeps ``$COURSE_LIB_GRADING_SECRET``. ``record``:
    run the property tests only, against the references, and record their examples there
    (``classroom.examples``); in a batch, the other judges replay those of its server."""
    results = scratch / "results.json"
    env = {**judge_base_env(), "GRADER_RESULTS": str(results),
           "GRADER_TEST_TIMEOUT": str(per_test), "GRADER_SANDBOX": mode,
           "GRADER_WORKER_LOG": str(scratch / "worker.log"),
           "GRADER_EXERCISE_MODULES": ",".join(_module_names()),
           # a failing property test stops at its first counterexample (no shrinking) and
           # nothing is written into this checkout (no example database)
           "HYPOTHESIS_PROFILE": "grading", "GRADER_BUDGET": str(total)}
    secret = secret if secret is not None else os.environ.get(SECRET_VAR) or PUBLIC_SECRET
    env[SECRET_VAR] = secret  # the judge's only: the worker's environment is built anew
    env.pop("GRADER_WORKER_ROOT", None)
    env["GRADER_ONLY"] = ",".join(sorted(only)) if only else ""
    outside = [str(Path(f).resolve()) for f in (files or []) if Path(f).is_absolute()]
    env["GRADER_EXTRA"] = outside[0] if outside else ""  # a teacher's own tests, if any
    env[sandbox.CGROUP_PREFIX_VAR] = f"markets-grader-{os.getpid()}-{time.monotonic_ns()}"
    if worker_root is not None:
        env["GRADER_WORKER_ROOT"] = str(worker_root)
    env.pop(examples.RECORD_VAR, None)
    env.pop(examples.EXAMPLES_VAR, None)
    server = JudgeServer.current
    if record is not None:
        env.update({examples.RECORD_VAR: str(record), "COURSE_LIB_REFERENCE": "all"})
    elif server is not None and server.examples is not None and not collect_only:
        env[examples.EXAMPLES_VAR] = str(server.examples)
    files = test_files(hidden) if files is None else files
    cmd = [sys.executable, "-m", "pytest", *files, "-m", "exercise", "-q",
           "-p", "classroom.judge_plugin", "-p", "no:cacheprovider", "-p", "no:nbval",
           "-p", "no:xdist", "--rootdir", str(REPO_ROOT), "--continue-on-collection-errors",
           # the property tests' examples, like the hidden cases, come from the secret: the
           # same on every regrade, unknown to a student who has not got the secret
           f"--hypothesis-seed={hypothesis_seed(secret)}"]
    if collect_only:
        cmd.append("--collect-only")
    if server is not None:  # a batch: the judge is a fork of the server
        server.run(cmd[3:], env, scratch / "judge.log", total + 60)
    else:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, preexec_fn=_judge_limits)
        log = sandbox.CappedDrain(proc.stdout, scratch / "judge.log", JUDGE_LOG_MB * 2**20,
                                  JUDGE_LOG_MB * 2**20)
        try:  # the judge stops itself at the budget (GRADER_BUDGET); this is the backstop
            proc.wait(timeout=total + 60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.join(10.0)
    sandbox.sweep_cgroups(env[sandbox.CGROUP_PREFIX_VAR])  # should the judge have died
    try:
        return read_results(results)
    except OSError:
        return {}


class JudgeServer:
    """The judges of a batch, forked from one process that has imported what they need
    (``classroom.judge_server``): ``with JudgeServer():`` makes ``run_judge`` use it, from any
    number of threads."""

    current: JudgeServer | None = None

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[int, dict[str, Any]] = {}
        self.next_id = 0
        self.proc: subprocess.Popen | None = None
        self.examples: Path | None = None  # the property tests' examples, once recorded
        self._scratch: tempfile.TemporaryDirectory | None = None

    def record_examples(self, files: list[str], secret: str | None,
                        only: set[str] | None = None) -> int:
        """Run the property tests of ``files`` once against the references and keep their
        examples for every judge of this server (``classroom.examples``); how many tests'
        examples were recorded (0: every judge draws its own, as a single grade does)."""
        self._scratch = tempfile.TemporaryDirectory(prefix="grader-examples-")
        scratch = Path(self._scratch.name)
        path = scratch / "examples.pickle"
        run_judge(scratch, None, False, "none", files=files, only=only, secret=secret,
                  record=path)
        try:  # the recorder keeps the tests that passed against the references only
            recorded = examples.load(path)
        except (OSError, ValueError, EOFError, pickle.UnpicklingError):
            return 0
        self.examples = path if recorded else None
        return len(recorded)

    def __enter__(self) -> JudgeServer:
        self.proc = subprocess.Popen([sys.executable, "-m", "classroom.judge_server"],
                                     cwd=REPO_ROOT, env=judge_base_env(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)
        threading.Thread(target=self._listen, daemon=True).start()
        JudgeServer.current = self
        return self

    def __exit__(self, *exc: Any) -> None:
        JudgeServer.current = None
        if self._scratch is not None:
            self._scratch.cleanup()
        assert self.proc is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _listen(self) -> None:
        for line in self.proc.stdout:
            event = json.loads(line)
            with self.lock:
                job = self.jobs.get(event["id"])
            if job is None:
                continue
            if "pid" in event:
                job["pid"] = event["pid"]
                job["started"].set()
            else:
                job["ended"].set()
        with self.lock:  # the server is gone: no job will end any other way
            for job in self.jobs.values():
                job["started"].set()
                job["ended"].set()

    def run(self, args: list[str], env: dict[str, str], log: Path, timeout: float) -> None:
        """Run one judge (pytest ``args`` in ``env``, output to ``log``) to its end, killing
        it after ``timeout`` seconds."""
        with self.lock:
            self.next_id += 1
            job_id = self.next_id
            job = self.jobs[job_id] = {"started": threading.Event(),
                                       "ended": threading.Event(), "pid": None}
            self.proc.stdin.write((json.dumps({"id": job_id, "args": args, "env": env,
                                               "cwd": str(REPO_ROOT), "log": str(log)})
                                   + "\n").encode())
            self.proc.stdin.flush()
        try:
            if not job["ended"].wait(timeout) and job["pid"]:
                try:
                    os.killpg(job["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass
                job["ended"].wait(30)
        finally:
            with self.lock:
                del self.jobs[job_id]


def read_results(path: Path) -> dict[str, dict[str, Any]]:
    """The results a judge appended to ``path`` (``classroom.judge_plugin._save``): the last
    entry of each test. A line cut short by a judge killed while writing is left out."""
    results: dict[str, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                results[entry.pop("id")] = entry
    return results


_COLLECTED: dict[tuple[str, ...], dict[str, list[str]]] = {}


def _collect(files: list[str]) -> dict[str, list[str]]:
    """The exercise tests of ``files`` (node id -> exercise ids), collected once per grader
    process by a judge that runs nothing."""
    key = tuple(files)
    if key not in _COLLECTED:
        with tempfile.TemporaryDirectory() as tmp:
            found = run_judge(Path(tmp), None, False, "none", collect_only=True, files=files)
        _COLLECTED[key] = {k: v["exercises"] for k, v in found.items() if v["exercises"]}
    return _COLLECTED[key]


def expected_tests(hidden: bool) -> dict[str, list[str]]:
    """Every exercise test of this repository (node id -> exercise ids)."""
    found = _collect(test_files(hidden))
    if not found:
        raise RuntimeError("collecting the exercise tests failed; see pytest's output")
    return found


def extra_tests(folder: Path) -> dict[str, list[str]]:
    """The exercise tests of a teacher's private folder (node id -> exercise ids)."""
    found = _collect([str(Path(folder).resolve())])
    if not found:
        raise ValueError(f"{folder} holds no test marked @pytest.mark.exercise")
    return found


def load_extra_points(folder: Path) -> dict[str, float]:
    """The points of a teacher's private tests: ``points.json`` in their folder,
    ``{"points": {"1.2": 1, ...}}`` (the exercises it names, and only those)."""
    path = Path(folder) / "points.json"
    try:
        raw = json.loads(path.read_text())["points"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: expected {{\"points\": {{\"1.2\": 1, ...}}}} ({err})") \
            from None
    known = {row["id"] for row in catalog()}
    if not isinstance(raw, dict) or not raw or set(raw) - known or not all(
            isinstance(v, (int, float)) and v >= 0 for v in raw.values()):
        raise ValueError(f"{path}: points must map known exercise ids to numbers >= 0")
    return {str(k): float(v) for k, v in raw.items()}


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
    stand_ins: list[str] = field(default_factory=list)  # references that stood in for others


@dataclass
class GradeResult:
    submission: str
    exercises: list[ExerciseScore]
    modules: list[str]
    error: str = ""
    seconds: float = 0.0
    extra: list[ExerciseScore] = field(default_factory=list)  # the teacher's private tests
    skipped: list[str] = field(default_factory=list)  # the submission's files not graded
    assignment: str = ""  # its id, when an assignment was graded
    lateness: str = ""  # "2 days late (-20 %)": what the late policy found
    factor: float = 1.0  # the late policy's: the score counts this much

    @property
    def raw_score(self) -> float:
        """The tests' points, before any late penalty."""
        return round(sum(e.score for e in self.exercises + self.extra), 4)

    @property
    def score(self) -> float:
        """The grade: the tests' points times the late policy's factor."""
        return round(self.raw_score * self.factor, 4)

    def apply_lateness(self, lateness: Lateness | None) -> None:
        """Record how late the submission was, and the factor its policy gives."""
        if lateness is not None:
            self.lateness, self.factor = lateness.text, lateness.factor

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises + self.extra), 4)


def score_results(results: dict[str, dict[str, Any]], expected: dict[str, list[str]],
                  points: dict[str, float],
                  hidden_share: float = DEFAULT_HIDDEN_SHARE) -> list[ExerciseScore]:
    """Each exercise's score. Without hidden tests, its points times the share of its public
    tests passed; with them, its public tests carry ``1 - hidden_share`` of its points and its
    hidden tests ``hidden_share`` (each kind's tests share their part equally)."""
    titles = {row["id"]: row["title"] for row in catalog()}
    scores = []
    for ex in sorted(points, key=lambda i: tuple(int(p) for p in i.split("."))):
        tests = [t for t, ids in expected.items() if ex in ids]
        passed = {"public": 0, "hidden": 0}
        total = {"public": 0, "hidden": 0}
        failures, stand_ins = [], set()
        for t in tests:
            kind = "hidden" if "/hidden/" in t else "public"
            total[kind] += 1
            got = results.get(t, {"outcome": "not run", "message": ""})
            stand_ins.update(i for i in got.get("stand_ins", []) if i in points)
            if got["outcome"] == "passed":
                passed[kind] += 1
            elif kind == "public":  # a hidden test's message is never shown
                failures.append(f"{t.split('::')[-1]}: {_reason(got)}")
        weights = kind_weights(total, hidden_share)
        share = sum(weights[k] * passed[k] / total[k] for k in weights if total[k])
        scores.append(ExerciseScore(ex, titles.get(ex, ""), round(points[ex] * share, 4),
                                    points[ex], passed, total, failures,
                                    sorted(stand_ins - {ex})))
    return scores


def score_extra(results: dict[str, dict[str, Any]], expected: dict[str, list[str]],
                points: dict[str, float]) -> list[ExerciseScore]:
    """The teacher's private tests: each exercise's extra tests share its extra points.
    Like hidden tests, they are counted and never described."""
    titles = {row["id"]: row["title"] for row in catalog()}
    scores = []
    for ex in sorted(points, key=lambda i: tuple(int(p) for p in i.split("."))):
        tests = [t for t, ids in expected.items() if ex in ids]
        passed = sum(results.get(t, {}).get("outcome") == "passed" for t in tests)
        share = passed / len(tests) if tests else 0.0
        scores.append(ExerciseScore(ex, f"{titles.get(ex, '')} (extra tests)",
                                    round(points[ex] * share, 4), points[ex],
                                    {"public": 0, "hidden": passed},
                                    {"public": 0, "hidden": len(tests)}))
    return scores


def kind_weights(total: dict[str, int], hidden_share: float) -> dict[str, float]:
    """The share of an exercise's points that its public and its hidden tests carry."""
    if not total["hidden"]:
        return {"public": 1.0, "hidden": 0.0}
    if not total["public"]:
        return {"public": 0.0, "hidden": 1.0}
    return {"public": 1.0 - hidden_share, "hidden": hidden_share}


def _reason(result: dict[str, Any]) -> str:
    """One short line on why a public test did not pass."""
    outcome, message = str(result.get("outcome", "not run")), str(result.get("message", ""))
    if "is not implemented yet" in message:
        return "not implemented yet"
    line = next((part.strip() for part in message.splitlines() if part.strip()), "")
    for prefix in ("course_lib.exercises.ExerciseNotImplementedError: ", "AssertionError: ",
                   "classroom.dispatch."):
        line = line.removeprefix(prefix)
    if not line:
        return outcome
    return f"{outcome}: {line if len(line) <= 200 else line[:199] + '…'}"


def grade(submission: Path, hidden: bool = False, per_test: float = 60.0,
          total: float = DEFAULT_BUDGET_S, points: dict[str, float] | None = None,
          mode: str = "auto", only: set[str] | None = None,
          secret: str | None = None, extra: Path | None = None,
          assignment: Assignment | None = None) -> GradeResult:
    """Grade one submission (on the tests of the exercises ``only``, of the ``assignment``,
    or all) within ``total`` seconds; never raises for a broken submission (its score is
    then 0). ``points``: per exercise (default ``exercise_points``). ``secret`` draws the
    hidden tests' cases (None: ``$COURSE_LIB_GRADING_SECRET``, else a public default).
    ``extra``: a folder of the teacher's own tests, with their points (``points.json``),
    graded beside the course's. Raises ``sandbox.SandboxUnavailable`` where the sandbox
    cannot run (see ``mode``)."""
    start = time.perf_counter()
    mode = sandbox.resolve_mode(mode)
    if assignment is not None:
        if only is not None:
            raise ValueError("give an assignment or the exercises to grade, not both")
        only = set(assignment.exercises)
    if only is not None:
        unknown = set(only) - {row["id"] for row in catalog()}
        if unknown:
            raise ValueError(f"unknown exercises {sorted(unknown)}")
    hidden_share = load_hidden_share()
    expected = expected_tests(hidden)
    if points is None:
        points = exercise_points(expected, sorted(only) if only is not None else None,
                                 assignment)
    files = None
    if only is not None:
        points = {i: p for i, p in points.items() if i in only}
        expected = {t: ids for t, ids in expected.items() if set(ids) & set(only)}
        files = sorted({t.split("::")[0] for t in expected})
    extra_expected, extra_points = {}, {}
    if extra is not None:
        extra_points = {i: p for i, p in load_extra_points(extra).items()
                        if only is None or i in only}
        extra_expected = {t: ids for t, ids in extra_tests(extra).items()
                          if set(ids) & set(extra_points)}
        files = (test_files(hidden) if files is None else files) + [str(Path(extra).resolve())]
    tag = assignment.id if assignment is not None else ""
    try:
        modules = read_submission(Path(submission))
    except SubmissionRejected as err:
        return GradeResult(str(submission), score_results({}, expected, points, hidden_share),
                           [], error=str(err), seconds=round(time.perf_counter() - start, 1),
                           extra=score_extra({}, extra_expected, extra_points),
                           assignment=tag)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        scratch = Path(tmp)
        os.chmod(scratch, 0o711 if mode == "uid" else 0o700)  # uid: the worker may pass
        worker_root = scratch / "worker"
        taken = prepare_worker_root(modules, worker_root)
        if mode == "uid":  # its home is the one place it may write
            user = pwd.getpwnam(sandbox.UNPRIVILEGED)
            os.chown(worker_root / "home", user.pw_uid, user.pw_gid)
        results = run_judge(scratch, worker_root, hidden, mode, per_test, total,
                            files=files, only=only, secret=secret)
        error = "" if results else "the tests could not run (a problem of the grader, not " \
                                   "of the submission: ask your teacher)"
    if not taken and not error:
        error = "the submission holds none of the exercise modules (course_lib/*.py)"
    if any(r.get("message", "").startswith("not run: the submission's time budget")
           for r in results.values()):
        error = error or f"grading stopped: the submission used its time budget ({total:g} s)"
    return GradeResult(str(submission), score_results(results, expected, points, hidden_share),
                       taken, error, round(time.perf_counter() - start, 1),
                       score_extra(results, extra_expected, extra_points),
                       list(getattr(modules, "skipped", [])), tag)


NOT_IMPLEMENTED = "not implemented yet"


def failure_lines(score: ExerciseScore) -> list[str]:
    """Why an exercise's public tests did not pass, in a few lines: one line for all the
    tests that stopped at an unsolved exercise, then one per other failing test."""
    stopped = [f for f in score.failures if f.endswith(": " + NOT_IMPLEMENTED)]
    others = [f for f in score.failures if f not in stopped]
    lines = []
    if stopped:
        everything = len(stopped) == score.total["public"]
        lines.append(f"{NOT_IMPLEMENTED}: " + (
            f"all {len(stopped)} public tests stopped at an unsolved exercise" if everything
            else f"{len(stopped)} public tests stopped at an unsolved exercise"))
    return lines + others


def stand_in_line(score: ExerciseScore) -> str:
    """One line on the references that stood in for the exercises this one's tests call."""
    if not score.stand_ins:
        return ""
    return (f"graded with the reference standing in for {', '.join(score.stand_ins)} "
            "(a mistake there counts only in its own tests)")


def _public_score(e: ExerciseScore) -> float:
    return round(e.max_score * e.passed["public"] / e.total["public"], 4) if e.total[
        "public"] else 0.0


def to_gradescope(result: GradeResult) -> dict[str, Any]:
    """Gradescope's results.json. Hidden tests are "after_published": with any test hidden,
    Gradescope keeps the total from students until the grades are published. No timings."""
    tests = []
    hidden_share = load_hidden_share()
    for e in result.exercises:
        weights = kind_weights(e.total, hidden_share)
        for kind in ("public", "hidden"):
            if not e.total[kind]:
                continue
            share = e.max_score * weights[kind]
            notes = ([stand_in_line(e)] if e.stand_ins else []) + (
                failure_lines(e) if kind == "public" else [])
            tests.append({
                "name": f"Exercise {e.id} {e.title} ({kind} tests)",
                "score": round(share * e.passed[kind] / e.total[kind], 4),
                "max_score": round(share, 4),
                "output": "\n".join([f"{e.passed[kind]} of {e.total[kind]} passed", *notes]),
                "visibility": "visible" if kind == "public" else "after_published",
            })
    for e in result.extra:
        tests.append({"name": f"Exercise {e.id} {e.title}", "score": e.score,
                      "max_score": e.max_score,
                      "output": f"{e.passed['hidden']} of {e.total['hidden']} passed",
                      "visibility": "after_published"})
    output = result.error or "graded"
    if result.lateness:
        output += f"\nSubmitted: {result.lateness}" + (
            f" (the tests earned {result.raw_score:g}; the late policy counts "
            f"{result.factor:.0%} of that)" if result.factor != 1 else "")
    return {"score": result.score, "output": output, "tests": tests}


def to_markdown(result: GradeResult, publish: bool = True) -> str:
    """The report. Unpublished (``publish=False``, a student's report before the teacher
    publishes): the public tests only, no total, no hidden counts, no times."""
    hidden = publish and any(e.total["hidden"] for e in result.exercises)
    if publish:
        lines = [f"# Grade: {result.score:g} / {result.max_score:g}", ""]
    else:
        lines = ["# Public tests", "", "Your grade, with the hidden tests, appears when your "
                 "teacher publishes it.", ""]
    if result.assignment:
        lines += [f"Assignment {result.assignment}.", ""]
    if result.lateness:
        penalty = (f" The tests earned {result.raw_score:g}; the late policy counts "
                   f"{result.factor:.0%} of that." if publish and result.factor != 1 else "")
        lines += [f"**Submitted:** {result.lateness}.{penalty}", ""]
    if result.error:
        lines += [f"**Problem:** {result.error}", ""]
    if result.skipped:
        shown = ", ".join(result.skipped[:5]) + (", …" if len(result.skipped) > 5 else "")
        lines += [f"Read: {len(result.modules)} exercise modules; not graded: "
                  f"{len(result.skipped)} other files ({shown}).", ""]
    header = "| exercise | score | public tests |" + (" hidden tests |" if hidden else "")
    lines += [header, "|---|---|---|" + ("---|" if hidden else "")]
    for e in result.exercises:
        if publish:
            row = f"| {e.id} {e.title} | {e.score:g} / {e.max_score:g} | " \
                  f"{e.passed['public']}/{e.total['public']} |"
            if hidden:
                row += (f" {e.passed['hidden']}/{e.total['hidden']} |" if e.total["hidden"]
                        else " – |")
        else:
            row = f"| {e.id} {e.title} | – | {e.passed['public']}/{e.total['public']} |"
        lines.append(row)
    if publish and result.extra:
        lines += ["", "| your teacher's own tests | score | tests passed |", "|---|---|---|"]
        lines += [f"| {e.id} {e.title} | {e.score:g} / {e.max_score:g} | "
                  f"{e.passed['hidden']}/{e.total['hidden']} |" for e in result.extra]
    failing = [e for e in result.exercises if e.failures or e.stand_ins]
    if failing:
        lines += ["", "## Public tests that did not pass"]
        for e in failing:
            lines += ["", f"### {e.id} {e.title}: {e.passed['public']} of "
                          f"{e.total['public']} public tests passed", ""]
            lines += [f"- {line}" for line in ([stand_in_line(e)] if e.stand_ins else [])
                      + failure_lines(e)]
    return "\n".join(lines) + "\n"


def to_json(result: GradeResult, publish: bool = True) -> dict[str, Any]:
    """The report as data; unpublished, as ``to_markdown``: public results only."""
    if publish:
        return {"submission": result.submission, "score": result.score,
                "max_score": result.max_score, "raw_score": result.raw_score,
                "assignment": result.assignment, "lateness": result.lateness,
                "factor": result.factor, "error": result.error,
                "seconds": result.seconds, "modules": result.modules,
                "skipped": result.skipped,
                "exercises": [e.__dict__ for e in result.exercises],
                "extra": [e.__dict__ for e in result.extra]}
    return {"submission": result.submission, "error": result.error,
            "assignment": result.assignment, "lateness": result.lateness,
            "modules": result.modules, "skipped": result.skipped,
            "exercises": [{"id": e.id, "title": e.title, "max_score": e.max_score,
                           "public_passed": e.passed["public"],
                           "public_total": e.total["public"], "failures": e.failures,
                           "stand_ins": e.stand_ins} for e in result.exercises]}


# A learning platform's download of single-file uploads: Canvas names each file
# "<name>[_LATE]_<user id>_<submission id>_<file>" (a resubmission adds "-1" before the
# extension), Moodle "<Full Name>_<id>_assignsubmission_file_<file>".
CANVAS_FILE = re.compile(r"^(?P<name>[^_]+)(?P<late>_LATE)?_(?P<id>\d+)_\d+_(?P<file>.+)$")
MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_file_(?P<file>.+)$")


@dataclass
class Batch:
    """What a folder of submissions holds: ``entries`` (student -> a sub-folder or a zip),
    ``uploads`` (student -> the files a platform saved one by one, each with its original
    name), ``late`` (students a platform marked late) and ``skipped`` (entries that are none
    of these, each with the reason)."""

    entries: dict[str, Path] = field(default_factory=dict)
    uploads: dict[str, list[tuple[Path, str]]] = field(default_factory=dict)
    late: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        return sorted({*self.entries, *self.uploads})


def _upload(name: str) -> tuple[str, str, bool] | None:
    """(student, original file name, late) for a platform's single-file upload."""
    for pattern in (CANVAS_FILE, MOODLE_FILE):
        found = pattern.match(name)
        if found:
            original = re.sub(r"-\d+(?=\.py$)", "", found["file"])
            student = f"{found['name']}_{found['id']}"
            return student, original, bool(found.groupdict().get("late"))
    return None


def batch_entries(folder: Path) -> Batch:
    """The submissions of a batch folder. Two entries that map to one student (``s01/`` and
    ``s01.zip``; a folder and a platform's uploads of one id) are an error naming both."""
    batch, owner = Batch(), {}

    def claim(student: str, what: str) -> None:
        if student in owner and owner[student] != what:
            raise ValueError(f"two submissions are named {student!r}: {owner[student]} and "
                             f"{what}; rename one and grade again")
        owner[student] = what

    for entry in sorted(Path(folder).iterdir()):
        if _ignored([entry.name]):
            continue
        if entry.is_symlink():
            batch.skipped.append(f"{entry.name}: a symbolic link")
            continue
        if entry.is_dir() or entry.suffix.lower() == ".zip":
            name = entry.name if entry.is_dir() else entry.stem
            claim(name, entry.name)
            batch.entries[name] = entry
            continue
        upload = _upload(entry.name) if entry.suffix == ".py" else None
        if upload is None:
            batch.skipped.append(f"{entry.name}: not a folder, a zip or a platform's upload")
            continue
        student, original, late = upload
        claim(student, f"the uploads of {student}")
        files = batch.uploads.setdefault(student, [])
        if original in {o for _, o in files}:
            raise ValueError(f"{student} uploaded {original} twice: "
                             f"{[p.name for p, o in files if o == original][0]} and "
                             f"{entry.name}; keep one and grade again")
        files.append((entry, original))
        if late:
            batch.late.add(student)
    return batch


def course_digest(hidden: bool, extra: Path | None = None) -> str:
    """A hash of everything a grade depends on besides the submission: the course's package,
    references, tests, points and assignments, the grader itself and the teacher's extra
    tests. A cached grade (``GradeCache``) is reused only while this is unchanged."""
    digest = hashlib.sha256()
    folders = [REPO_ROOT / name for name in ("course_lib", "classroom", "solutions", "grading")]
    folders += [REPO_ROOT / "tests" / "hidden"] if hidden else []
    paths = [p for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()
             and "__pycache__" not in p.parts and p.name != "secret"]
    paths += [REPO_ROOT / f for f in test_files(False)]
    if extra is not None:
        paths += sorted(p for p in Path(extra).rglob("*") if p.is_file())
    for path in paths:
        digest.update(f"{path}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


class GradeCache:
    """Grades kept in ``folder`` by the hash of the submission's exercise modules and of the
    grading set-up (``course_digest``, the options, the secret): a batch graded again skips
    every submission that did not change."""

    def __init__(self, folder: Path, setup: dict[str, Any]) -> None:
        self.folder = Path(folder)
        self.setup = json.dumps(setup, sort_keys=True)

    def key(self, modules: dict[str, bytes]) -> str:
        digest = hashlib.sha256(self.setup.encode())
        for rel in sorted(modules):
            digest.update(f"\0{rel}\0{len(modules[rel])}\0".encode())
            digest.update(modules[rel])
        return digest.hexdigest()

    def get(self, key: str) -> GradeResult | None:
        try:
            data = json.loads((self.folder / f"{key}.json").read_text())
            data["exercises"] = [ExerciseScore(**e) for e in data["exercises"]]
            data["extra"] = [ExerciseScore(**e) for e in data["extra"]]
            return GradeResult(**data)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def put(self, key: str, result: GradeResult) -> None:
        """Keep ``result``, unless it may depend on more than the submission: a problem of
        the grader, or a test stopped by the clock (a busy machine): graded again."""
        timed = any("ran longer than" in f or "not run:" in f
                    for e in result.exercises for f in e.failures)
        if result.error or timed or not result.exercises:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {k: v for k, v in result.__dict__.items() if k not in ("lateness", "factor")}
        data["exercises"] = [e.__dict__ for e in result.exercises]
        data["extra"] = [e.__dict__ for e in result.extra]
        tmp = self.folder / f"{key}.json.tmp"
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.folder / f"{key}.json")


def grade_folder(folder: Path, out_dir: Path, hidden: bool = False, per_test: float = 60.0,
                 total: float = DEFAULT_BUDGET_S, mode: str = "auto",
                 only: set[str] | None = None, publish: bool = False,
                 secret: str | None = None, extra: Path | None = None,
                 assignment: Assignment | None = None, jobs: int = 1,
                 times: dict[str, Any] | None = None, cache: bool = True) -> Path:
    """Grade every submission of ``folder`` (a sub-folder, a .zip, or the files a learning
    platform saved one by one, grouped by student id), ``jobs`` at a time; write each
    student's report (``<name>.md``, ``<name>.json``: public results only unless
    ``publish``) as soon as it is graded, their written answers (``written/<name>.html``
    and ``.pdf``) where the submission holds notebooks, and for the teacher ``grades.csv``
    (every score, the platform's late mark, the lateness the ``assignment``'s policy found
    from the submission ``times``), ``summary.txt`` (every entry that was not graded, and
    each student's files that were not) and ``similarity.csv`` (pairs of submissions, or a
    submission and a reference, whose exercise bodies look copied). With ``cache``, a
    submission whose exercise modules are unchanged since an earlier run with the same
    set-up (``out_dir/.cache``) keeps its grade without being graded again."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from classroom import written  # it reads submissions with this module's rules

    folder, out_dir = Path(folder), Path(out_dir)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a whole number >= 1, got {jobs!r}")
    mode = sandbox.resolve_mode(mode)  # refuse before anything is written
    batch = batch_entries(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    if assignment is not None:
        only = set(assignment.exercises)
    expected = expected_tests(hidden)  # collected once, for every submission
    points = exercise_points(expected, sorted(only) if only is not None else None,
                             assignment)
    ids = list(points)
    store = GradeCache(out_dir / ".cache", {
        "course": course_digest(hidden, extra), "hidden": hidden, "per_test": per_test,
        "total": total, "mode": mode, "points": points,
        "assignment": assignment.id if assignment is not None else None,
        "secret": hashlib.sha256((secret if secret is not None else os.environ.get(
            SECRET_VAR) or PUBLIC_SECRET).encode()).hexdigest()}) if cache else None
    answers = written.course_answer_ids()
    if assignment is not None:
        answers = [(nb, i) for nb, i in answers
                   if int(i.split(".")[0]) in assignment.exercise_chapters]
    rows: dict[str, list[Any]] = {}
    bodies: dict[str, dict[str, bytes]] = {}
    notes: dict[str, list[str]] = {}
    header = ["student", "score", "max_score", *ids,
              *(["extra tests"] if extra is not None else []), "late", "lateness", "problem"]

    def save_csv() -> None:
        tmp = out_dir / "grades.csv.tmp"
        with open(tmp, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows[name] for name in sorted(rows))
        os.replace(tmp, out_dir / "grades.csv")

    def run(name: str, entry: Path) -> tuple[GradeResult, bool]:
        try:
            modules = read_submission(entry)
        except SubmissionRejected:
            modules = None
        if modules is not None:
            bodies[name] = modules
        key = store.key(modules) if store is not None and modules is not None else None
        cached = store.get(key) if key is not None else None
        if cached is not None:
            return cached, True
        try:
            result = grade(entry, hidden, per_test, total, points, mode,
                           None if assignment is not None else only, secret, extra, assignment)
        except Exception as err:  # noqa: BLE001 - one student must not sink the others
            result = GradeResult(str(entry), [], [], error=f"grader error: {err!r}")
        if key is not None:
            store.put(key, result)
        return result, False

    with tempfile.TemporaryDirectory(prefix="uploads-") as uploads:
        entries = {}
        for name in batch.names():
            entry = batch.entries.get(name)
            if entry is None:  # a platform's single files: a folder of them, by their names
                entry = Path(uploads) / name
                entry.mkdir()
                for path, original in batch.uploads[name]:
                    shutil.copyfile(path, entry / original)
            entries[name] = entry
        with JudgeServer() as server, ThreadPoolExecutor(max_workers=jobs) as pool:
            # the property tests' examples: drawn once, for every submission
            graded = set(assignment.exercises) if assignment is not None else only
            files = test_files(hidden) if graded is None else sorted(
                {t.split("::")[0] for t, ids in expected.items() if set(ids) & graded})
            server.record_examples(files + ([str(Path(extra).resolve())] if extra else []),
                                   secret, graded)
            running = {pool.submit(run, name, entry): name for name, entry in entries.items()}
            for done in as_completed(running):
                name = running[done]
                result, cached = done.result()
                if assignment is not None and assignment.due is not None:
                    result.apply_lateness(assess(assignment.late or LatePolicy(),
                                                 assignment.due, (times or {}).get(name)))
                try:
                    pages = written.write_written(name, entries[name], out_dir / "written",
                                                  answers)
                except Exception as err:  # noqa: BLE001 - the tests' grade stands
                    pages = None
                    notes.setdefault(name, []).append(f"written answers not collected: {err}")
                if pages is not None:  # its notebooks were read after all: for their answers
                    result.skipped = [p for p in result.skipped if not p.endswith(".ipynb")]
                    notes.setdefault(name, []).append(
                        f"written answers: {pages[0].relative_to(out_dir)}, "
                        f"{pages[1].relative_to(out_dir)}")
                (out_dir / f"{name}.md").write_text(to_markdown(result, publish))
                (out_dir / f"{name}.json").write_text(json.dumps(to_json(result, publish),
                                                                 indent=2))
                by_id = {e.id: e.score for e in result.exercises}
                rows[name] = [name, result.score, result.max_score,
                              *[by_id.get(i, 0) for i in ids],
                              *([round(sum(e.score for e in result.extra), 4)]
                                if extra is not None else []),
                              "late" if name in batch.late else "", result.lateness,
                              result.error[:200]]
                save_csv()
                notes.setdefault(name, []).extend(
                    [f"not graded: {path}" for path in result.skipped]
                    + (["unchanged since it was last graded: grade kept"] if cached else []))
    summary = [f"{len(batch.names())} submissions graded"
               + (f" for assignment {assignment.describe()}" if assignment else "")]
    summary += [f"not graded: {line}" for line in batch.skipped]
    summary += [f"{name}: {line}" for name in sorted(notes) for line in notes[name]]
    (out_dir / "summary.txt").write_text("\n".join(summary) + "\n")
    save_csv()
    write_similarity(bodies, out_dir / "similarity.csv")
    return out_dir / "grades.csv"


def write_similarity(bodies: dict[str, dict[str, bytes]], path: Path) -> Path:
    """The teacher's list of suspiciously similar exercise bodies (``classroom.similarity``)."""
    from classroom import similarity

    pairs = similarity.compare_batch(bodies, similarity.reference_bodies(REPO_ROOT))
    return similarity.write_similarity_csv(pairs, path)


def _lateness_of_one(assignment: Assignment | None, metadata: Path | None) -> Any:
    """The lateness of a single submission from Gradescope's ``submission_metadata.json``,
    under the assignment's policy (its due date, else Gradescope's)."""
    if metadata is None or not Path(metadata).exists():
        return None
    submitted, due = gradescope_metadata(metadata)
    if assignment is not None and assignment.due is not None:
        # Gradescope's date counts where it is later: an extension given there
        due = assignment.due if due is None else max(due, assignment.due)
    if due is None:
        return None
    policy = (assignment.late if assignment is not None else None) or LatePolicy()
    return assess(policy, due, submitted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classroom.grade",
                                     description="Grade course_lib submissions.")
    parser.add_argument("submission", nargs="?", type=Path)
    parser.add_argument("--hidden", action="store_true", help="run the hidden tests too")
    parser.add_argument("--assignment", metavar="ID",
                        help="grade this assignment of grading/assignments.toml: its "
                             "exercises, points, due date and late policy")
    parser.add_argument("--out", type=Path, help="write the report here")
    parser.add_argument("--format", choices=("gradescope", "json", "markdown"),
                        default="markdown")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per test")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S,
                        help="seconds per submission, all its tests together")
    parser.add_argument("--batch", type=Path, help="grade every submission in this folder")
    parser.add_argument("--out-dir", type=Path, default=Path("grades"))
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="--batch: grade N submissions at a time (about one per core)")
    parser.add_argument("--no-cache", action="store_true",
                        help="--batch: grade every submission again, even those unchanged "
                             "since the last run (kept in OUT_DIR/.cache)")
    parser.add_argument("--times", type=Path, metavar="CSV",
                        help="--batch: when each student submitted (columns student, "
                             "submitted_at), for the assignment's late policy")
    parser.add_argument("--submission-metadata", type=Path, metavar="JSON",
                        help="one submission: Gradescope's submission_metadata.json (its "
                             "time, and the due date if the assignment has none)")
    parser.add_argument("--publish", action="store_true",
                        help="students' reports show the hidden results and the total "
                             "(without it they show the public tests only)")
    parser.add_argument("--secret", default=None,
                        help=f"draws the hidden tests' cases (default: ${SECRET_VAR}, else a "
                             "public default: anyone can reproduce those cases)")
    parser.add_argument("--extra-tests", type=Path, default=None, metavar="DIR",
                        help="a folder of your own tests (marked @pytest.mark.exercise) and "
                             "their points.json, graded beside the course's")
    parser.add_argument("--sandbox", choices=sandbox.MODES, default="auto",
                        help="where submission code runs: bwrap (default where it works) or "
                             "none (no isolation: only for code you trust)")
    args = parser.parse_args(argv)
    if args.sandbox == "none":
        print("WARNING: --sandbox none: the submission's code runs WITHOUT isolation and can "
              "read this machine's files. Use it only for code you trust.", file=sys.stderr)
    if args.hidden and args.secret is None and not os.environ.get(SECRET_VAR):
        print(f"note: no grading secret (--secret or ${SECRET_VAR}): the hidden tests draw "
              "the public default cases, which anyone can reproduce.", file=sys.stderr)
    try:
        assignment = get_assignment(args.assignment) if args.assignment else None
        if args.batch is not None:
            times = times_from_csv(args.times) if args.times is not None else None
            print(grade_folder(args.batch, args.out_dir, args.hidden, args.timeout,
                               args.budget, mode=args.sandbox, publish=args.publish,
                               secret=args.secret, extra=args.extra_tests,
                               assignment=assignment, jobs=args.jobs, times=times,
                               cache=not args.no_cache))
            return 0
        if args.submission is None:
            parser.error("give a SUBMISSION or --batch FOLDER")
        result = grade(args.submission, args.hidden, args.timeout, args.budget,
                       mode=args.sandbox, secret=args.secret, extra=args.extra_tests,
                       assignment=assignment)
        result.apply_lateness(_lateness_of_one(assignment, args.submission_metadata))
    except sandbox.SandboxUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    text = (to_markdown(result, args.publish) if args.format == "markdown" else json.dumps(
        to_gradescope(result) if args.format == "gradescope"
        else to_json(result, args.publish), indent=2))
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
