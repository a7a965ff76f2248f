"""Where a submission's code runs: a worker process in a bubblewrap sandbox.

The worker sees, read-only, the Python installation (``sys.base_prefix`` and the virtual
environment), ``/usr`` and the worker's folder (``course_lib`` with the learner's modules,
their stubs and the worker's own two modules); a private ``/tmp`` of ``TMP_MB``; a read-only
``/dev`` with a private ``/dev/shm`` of ``SHM_MB``; fresh user, PID, network, IPC and UTS
namespaces (no network at all) and no further user namespace inside (``--disable-userns``,
bubblewrap 0.8+); no capabilities; a new session. Its resource limits: ``MEMORY_MB`` of heap
per process, ``MAX_FILE_MB`` per file, ``CPU_S`` of CPU time per process, and, where the
machine lets us make cgroups (``/sys/fs/cgroup/pids``, ``/sys/fs/cgroup/memory`` or cgroup
v2), ``MAX_PROCESSES`` processes and threads and ``GROUP_MEMORY_MB`` of memory in all. What
it prints goes through a pipe that the judge drains (``CappedDrain``): kept up to a cap,
never an error in the learner's code. When the judge ends the worker, the sandbox's
PID namespace ends with it, so nothing it started survives (``--die-with-parent`` covers a
judge that dies).

``mode``: ``"bwrap"`` needs the ``bwrap`` program and namespaces (root, or unprivileged user
namespaces). ``"uid"`` is for a disposable machine where bubblewrap cannot run but the grader
is root (a Gradescope container): the worker runs as the user ``nobody`` with the same limits
(there ``MAX_PROCESSES`` also holds as a per-user limit) and a network namespace where the
kernel allows one; it can read what is readable by every user, so the secrets must not be
(``run_autograder`` makes the course and the results readable by root only), and at the end
every process of ``nobody`` is killed. ``"none"`` runs the worker as a plain child process
with the same limits but without any isolation: the submission can then read the machine's
files, so only use it for code you trust. ``"auto"`` is ``"bwrap"`` where it works and
otherwise refuses.
"""

from __future__ import annotations

import ctypes
import functools
import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

MEMORY_MB = 3072
MAX_FILE_MB = 16
TMP_MB = 64
SHM_MB = 64
CPU_S = 900
MAX_PROCESSES = 64
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")
MEMORY_CGROUP = Path("/sys/fs/cgroup/memory")  # cgroup v1's memory controller
GROUP_MEMORY_MB = 4096  # the worker and all it starts, together
MODES = ("auto", "bwrap", "uid", "none")
UNPRIVILEGED = "nobody"
CGROUP_PREFIX_VAR = "GRADER_CGROUP_PREFIX"  # the judge's cgroups are named after it
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class CappedDrain:
    """Reads a child's output pipe in a thread until it closes, so that the child never
    blocks on a full pipe and never fails on a full disk: the first bytes (``allow(n)`` opens
    ``n`` more, up to ``total`` in all) go to ``log``, the rest is counted, dropped, and noted
    at the end of the log."""

    def __init__(self, stream: Any, log: Path, allowance: int, total: int) -> None:
        self.stream, self.log, self.total = stream, Path(log), total
        self.left, self.written, self.dropped = allowance, 0, 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def allow(self, n: int) -> None:
        with self.lock:
            self.left = n

    def _run(self) -> None:
        fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            while True:
                try:
                    chunk = self.stream.read1(1 << 16)
                except (OSError, ValueError):
                    break
                if not chunk:
                    break
                with self.lock:
                    n = max(0, min(len(chunk), self.left, self.total - self.written))
                    self.left -= n
                    self.written += n
                self.dropped += len(chunk) - n
                if n:
                    try:
                        os.write(fd, chunk[:n])
                    except OSError:
                        self.dropped += n
            if self.dropped:
                try:
                    os.write(fd, f"\n[{self.dropped} bytes of output not kept]\n".encode())
                except OSError:
                    pass
        finally:
            os.close(fd)

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot run on this machine."""


def _bwrap_base(root: Path) -> list[str]:
    prefixes = sorted({str(Path(p).resolve()) for p in (sys.base_prefix, sys.prefix,
                                                        sys.exec_prefix)})
    cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
           "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "sbin"):
        if Path(f"/{name}").is_symlink():
            cmd += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
        elif Path(f"/{name}").is_dir():
            cmd += ["--ro-bind", f"/{name}", f"/{name}"]
    for path in ("/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime"):
        cmd += ["--ro-bind-try", path, path]
    # The private /tmp first: a Python installed under /tmp is bound on top of it.
    cmd += ["--size", str(TMP_MB * 2**20), "--tmpfs", "/tmp"]
    for prefix in prefixes:
        cmd += ["--ro-bind", prefix, prefix]
    venv = Path(sys.prefix)  # the interpreter may be reached through the venv's own path
    if str(venv) not in prefixes:
        cmd += ["--ro-bind", str(venv), str(venv)]
    # /dev: the usual device nodes, read-only, and a small /dev/shm (the one place there
    # that takes writes, as shared memory needs); no user namespace inside the sandbox.
    cmd += ["--proc", "/proc", "--dev", "/dev", "--size", str(SHM_MB * 2**20),
            "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
            "--ro-bind", str(root), "/worker", "--chdir", "/worker",
            "--uid", "65534", "--gid", "65534", *_userns_flags(), "--"]
    return cmd


@functools.cache
def _userns_flags() -> tuple[str, ...]:
    """``--disable-userns`` where this bubblewrap has it (0.8 and later)."""
    try:
        text = subprocess.run(["bwrap", "--help"], capture_output=True, text=True,
                              timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return ("--unshare-user", "--disable-userns") if "--disable-userns" in text else ()


@functools.cache
def bwrap_works() -> str:
    """'' when a bubblewrap sandbox starts here, else the reason it does not."""
    if shutil.which("bwrap") is None:
        return "the bwrap program is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        with tempfile.TemporaryDirectory() as empty:
            done = subprocess.run([*_bwrap_base(Path(empty)), sys.executable, "-c",
                                   "import numpy; print('ok')"],
                                  capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bwrap did not start: {err}"
    if done.returncode != 0 or done.stdout.strip() != "ok":
        return f"bwrap did not start: {done.stderr.strip()[-300:]}"
    return ""


def resolve_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"sandbox mode must be one of {MODES}, got {mode!r}")
    if mode == "none":
        return mode
    if mode == "uid":
        if os.geteuid() != 0:
            raise SandboxUnavailable("--sandbox uid needs the grader to run as root")
        try:
            pwd.getpwnam(UNPRIVILEGED)
        except KeyError:
            raise SandboxUnavailable(f"--sandbox uid needs a user {UNPRIVILEGED!r} on this "
                                     "machine") from None
        return mode
    reason = bwrap_works()
    if reason:
        raise SandboxUnavailable(
            f"the grading sandbox is unavailable: {reason}. Submissions are untrusted code; "
            "install bubblewrap (and allow user namespaces, or run as root), or grade code you "
            "trust with --sandbox none.")
    return "bwrap"


class Cgroup:
    """A pids cgroup (v1 or v2) holding the worker and all it starts, where one can be made,
    with a memory limit of ``GROUP_MEMORY_MB`` for all of them together (cgroup v2: the same
    group; v1: a memory group beside it) where the memory controller allows."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.memory: Path | None = None
        prefix = os.environ.get(CGROUP_PREFIX_VAR, "markets-grader")
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        for base in (PIDS_CGROUP, Path("/sys/fs/cgroup")):
            if (base / "cgroup.procs").exists() and os.access(base, os.W_OK):
                path = _make_group(base / name, "pids.max", str(MAX_PROCESSES))
                if path is not None:
                    self.path = path
                    if (path / "memory.max").exists():  # v2: one group, both limits
                        try:
                            (path / "memory.max").write_text(str(GROUP_MEMORY_MB * 2**20))
                        except OSError:
                            pass
                    break
        if (MEMORY_CGROUP / "cgroup.procs").exists() and os.access(MEMORY_CGROUP, os.W_OK):
            self.memory = _make_group(MEMORY_CGROUP / name, "memory.limit_in_bytes",
                                      str(GROUP_MEMORY_MB * 2**20))

    def join(self) -> None:  # in the child, before exec
        for path in (self.path, self.memory):
            if path is not None:
                (path / "cgroup.procs").write_text(str(os.getpid()))

    def kill_all(self) -> None:
        for path in (self.path, self.memory):
            if path is not None:
                _empty(path)


def _make_group(path: Path, limit_file: str, limit: str) -> Path | None:
    try:
        path.mkdir()
        (path / limit_file).write_text(limit)
    except OSError:
        try:
            path.rmdir()
        except OSError:
            pass
        return None
    return path


def _empty(path: Path) -> None:
    """Kill every process in the group, then remove it."""
    for _ in range(50):
        try:
            pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
        except OSError:
            return
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    try:
        path.rmdir()
    except OSError:
        pass


def sweep_cgroups(prefix: str) -> None:
    """Kill what is left in the cgroups named after ``prefix`` and remove them (after a judge
    that was killed before it could clean up)."""
    for base in (PIDS_CGROUP, Path("/sys/fs/cgroup"), MEMORY_CGROUP):
        for path in sorted(base.glob(f"{prefix}-*")) if base.is_dir() else []:
            _empty(path)


def limits(cgroup: Cgroup, mode: str = "bwrap") -> None:
    """Run in the child before exec: its own session, the resource limits, the cgroup, and
    in ``uid`` mode a network namespace (where allowed) and the unprivileged user."""
    os.setsid()
    memory = MEMORY_MB * 2**20
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    size = MAX_FILE_MB * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_S, CPU_S))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails, not the worker
    cgroup.join()
    if mode == "uid":
        _unshare_network()
        user = pwd.getpwnam(UNPRIVILEGED)
        resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    elif mode == "none":
        _die_with_parent()


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _unshare_network() -> None:
    try:
        _libc().unshare(0x40000000)  # CLONE_NEWNET; refused without CAP_SYS_ADMIN: no matter
    except (OSError, AttributeError):
        pass


def _die_with_parent() -> None:
    try:
        _libc().prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def kill_unprivileged() -> None:
    """``uid`` mode: kill every process of the unprivileged user (from a child that becomes
    that user, so that nothing else can be hit)."""
    pid = os.fork()
    if pid == 0:
        try:
            user = pwd.getpwnam(UNPRIVILEGED)
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            for _ in range(20):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def worker_command(mode: str, root: Path, request_fd: int, reply_fd: int) -> list[str]:
    python = [sys.executable, "-s", "-B", "-m", "classroom.worker", str(request_fd),
              str(reply_fd)]
    if mode == "bwrap":
        return _bwrap_base(root) + python
    return python


def worker_env(mode: str, root: Path, modules: list[str]) -> dict[str, str]:
    place = "/worker" if mode == "bwrap" else str(root)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": place, "HOME": "/tmp" if mode == "bwrap"
           else str(root / "home"), "TMPDIR": "/tmp" if mode == "bwrap" else str(root / "home"),
           "MPLBACKEND": "Agg", "COURSE_LIB_QUICK": "1",
           "COURSE_LIB_REFERENCE": "", "PYTHONDONTWRITEBYTECODE": "1",
           "GRADER_EXERCISE_MODULES": ",".join(modules), "LANG": "C.UTF-8"}
    env.update({name: "1" for name in THREAD_VARS})
    return env
