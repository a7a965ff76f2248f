"""A server of judges for a batch: the libraries every judge imports are imported once, and
each submission's judge is a fork of this process.

    python -m classroom.judge_server        (started by classroom.grade.JudgeServer)

A judge (``classroom.grade.run_judge``) spends about 2.5 s importing torch, pytest,
hypothesis and the course before its first test. Here that happens once per batch: the
server imports them (never a test module, never ``classroom.judge_plugin``: those read the
job's environment when they load) and then reads jobs from stdin, one JSON line each
(``id``, ``args``, ``env``, ``log``). For each it forks a child that takes the job's
environment and limits (``classroom.grade._judge_limits``: its own session, memory and file
limits), sends its output through a capped pipe to the job's log, runs
``pytest.main(args)`` and exits. The server answers on stdout, one JSON line per event:
``{"id": .., "pid": ..}`` when the judge starts and ``{"id": .., "exit": ..}`` when it has
ended. No code of a submission runs here or in a judge (see ``classroom.grade``).
"""

from __future__ import annotations

import json
import os
import select
import sys
from typing import Any

# What every judge imports (each in well under a second once these are loaded).
PRELOAD = ("numpy", "scipy", "matplotlib", "torch", "pytest", "hypothesis",
           "hypothesis.extra.numpy", "gymnasium", "minigrid", "course_lib",
           "course_lib.exercises", "course_lib.option_society", "course_lib.analogy",
           "course_lib.transfer", "course_lib.wireless_sac", "classroom.dispatch",
           "classroom.codec", "classroom.sandbox", "classroom.grade")


def _say(event: dict[str, Any]) -> None:
    os.write(1, (json.dumps(event) + "\n").encode())  # unbuffered: children inherit no data


def _judge(job: dict[str, Any]) -> int:
    """In the forked child: become the judge of ``job`` and return pytest's exit code."""
    from classroom import grade, sandbox

    grade._judge_limits()
    os.environ.clear()
    os.environ.update(job["env"])
    os.chdir(job["cwd"])
    read, write = os.pipe()
    os.dup2(write, 1)
    os.dup2(write, 2)
    os.close(write)
    cap = grade.JUDGE_LOG_MB * 2**20
    drain = sandbox.CappedDrain(os.fdopen(read, "rb"), job["log"], cap, cap)
    import pytest

    try:
        code = int(pytest.main(job["args"]))
    except BaseException:  # noqa: BLE001 - the judge's end, whatever happened
        import traceback

        traceback.print_exc()
        code = 99
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os.close(1)
    os.close(2)
    drain.join(10.0)
    return code


def serve() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    running: dict[int, Any] = {}
    buffer = b""
    open_input = True
    while open_input or running:
        ready = select.select([0], [], [], 0.05)[0] if open_input else []
        if ready:
            chunk = os.read(0, 1 << 16)
            open_input = bool(chunk)
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                job = json.loads(line)
                pid = os.fork()
                if pid == 0:  # the judge: never the server's input (and fd 0 stays taken,
                    # so that the output pipe below is not fd 0, which pytest's capture
                    # replaces with /dev/null)
                    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                    code = 99
                    try:
                        code = _judge(job)
                    finally:
                        os._exit(code)
                running[pid] = job["id"]
                _say({"id": job["id"], "pid": pid})
        elif not open_input:
            select.select([], [], [], 0.05)
        while running:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            _say({"id": running.pop(pid), "exit": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    serve()
