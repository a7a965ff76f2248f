"""The judge's side of the sandbox: every exercise call goes to a worker and comes back as data.

``install(root, mode)`` makes ``course_lib``'s ``@exercise`` wrappers (which validate the
arguments here, in the judge) send each call to a sandboxed worker (``classroom.worker``)
instead of running a body. The value comes back decoded by ``classroom.codec`` into the judge's
own types; a random generator the call drew from takes the worker's new state; an exception
is raised again here with the learner's message (a built-in type keeps its type, anything
else becomes ``SubmissionError``; a type name that is not a Python name is refused). The
worker holds the learner's code to ``course_lib.contracts`` (inputs unchanged, results
new); the judge's wrapper then holds the value to the exercise's return contract. While a
test runs, an exercise it does not check is answered by its reference, whether the test or
the learner's code calls it (``Dispatcher.testing``). A tensor result that needs gradients
is tied to the call's inputs by an autograd function whose backward asks the worker for the
gradients.

A worker that dies, hangs, answers garbage or is interrupted (the per-test time limit raises in
the judge, which the submission cannot catch) is killed with everything it started, and the
next call starts a fresh one: only the calls it broke fail.
"""

from __future__ import annotations

import builtins
import importlib
import itertools
import json
import os
import pickle
import select
import struct
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from classroom import codec, sandbox
from classroom.worker import RemoteModule
from course_lib import exercises

# Exceptions a learner's code may raise that keep their type in the judge.
KEPT_EXCEPTIONS = ("ValueError", "TypeError", "IndexError", "KeyError", "ZeroDivisionError",
                   "ArithmeticError", "OverflowError", "FloatingPointError", "RuntimeError",
                   "AssertionError", "AttributeError", "LookupError", "NotImplementedError",
                   "ImportError", "ModuleNotFoundError", "RecursionError", "MemoryError",
                   "UnboundLocalError", "NameError", "OSError")
START_S = 120.0  # a worker that does not answer its first request in this time is dead
MAX_HEADER = 64 * 2**20
MAX_CALL_BYTES = codec.MAX_BYTES  # all the messages of one call together
MAX_NAME = 100  # an exception's type name
MAX_MESSAGE = 2000
PRINT_CAP = 64 * 2**10  # what one call may print into the log
LOG_CAP = 8 * 2**20  # the whole worker log


class SubmissionError(Exception):
    """The submission's code failed in a way the judge reports as a test failure."""


class WorkerDied(SubmissionError):
    """The worker ended (or broke the protocol) during a call."""


class Worker:
    """One sandboxed worker process, started on first use."""

    def __init__(self, root: Path, mode: str, modules: list[str], log: Path) -> None:
        self.root, self.mode, self.modules, self.log = root, mode, modules, log
        self.proc: subprocess.Popen | None = None
        self.output: sandbox.CappedDrain | None = None
        self.cgroup: sandbox.Cgroup | None = None
        self.requests = self.replies = None
        self.ids = itertools.count()
        self.starts = 0

    def start(self) -> None:
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        self.cgroup = sandbox.Cgroup()
        self.proc = subprocess.Popen(
            sandbox.worker_command(self.mode, self.root, request_r, reply_w),
            cwd=self.root, env=sandbox.worker_env(self.mode, self.root, self.modules),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(request_r, reply_w),
            preexec_fn=lambda: sandbox.limits(self.cgroup, self.mode))
        # What the learner's code prints is read as it comes (a full pipe never blocks it, a
        # flood never fails it): kept up to a cap per call, the rest counted and dropped.
        self.output = sandbox.CappedDrain(self.proc.stdout, self.log, PRINT_CAP, LOG_CAP)
        os.close(request_r)
        os.close(reply_w)
        self.requests = os.fdopen(request_w, "wb", buffering=0)
        self.replies = os.fdopen(reply_r, "rb", buffering=0)
        self.starts += 1

    def stop(self) -> None:
        """Kill the worker and everything it started."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, 9)
            except OSError:
                pass
            self.proc.kill()
            self.proc.wait()
            if self.output is not None:
                self.output.join(5.0)
        if self.cgroup is not None:
            self.cgroup.kill_all()
        if self.mode == "uid":
            sandbox.kill_unprivileged()
        for stream in (self.requests, self.replies):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        self.proc = self.cgroup = self.requests = self.replies = self.output = None

    # -- one exchange ------------------------------------------------------------------------

    def _read(self, n: int, deadline_s: float | None) -> bytearray:
        """Exactly ``n`` bytes, read into one buffer (no second copy of a large reply)."""
        buffer, done = bytearray(n), 0
        view = memoryview(buffer)
        while done < n:
            if deadline_s is not None:
                ready, _, _ = select.select([self.replies], [], [], deadline_s)
                if not ready:
                    raise WorkerDied("the worker did not start")
            got = self.replies.readinto(view[done:done + (1 << 20)])
            if not got:
                raise WorkerDied(self._death())
            done += got
        return buffer

    def _death(self) -> str:
        code = self.proc.poll() if self.proc is not None else None
        if code is None:
            return "the worker closed its reply channel"
        return f"the worker process ended (exit code {code})"

    def warm(self) -> None:
        """Start the worker, if none runs, and wait until it answers (before a test's time
        limit starts: starting Python in a sandbox is not the submission's time)."""
        if self.proc is not None:
            return
        try:
            self.exchange({"op": "ping"})
        except Exception:  # noqa: BLE001 - the test's own call will report it
            self.stop()

    def _send(self, request: dict[str, Any]) -> None:
        body = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.requests.write(struct.pack(">Q", len(body)) + body)
        except (BrokenPipeError, OSError):
            raise WorkerDied(self._death()) from None

    def exchange(self, request: dict[str, Any], flagged: list | None = None,
                 answer: Any = None) -> Any:
        """Send one request, return the decoded reply (tensors that need gradients go to
        ``flagged``), answering the worker's questions on the way with ``answer(callback)``;
        on any failure, kill the worker."""
        first = self.proc is None
        if first:
            self.start()
        if self.output is not None:
            self.output.allow(PRINT_CAP)
        budget = {"left": MAX_CALL_BYTES}
        try:
            self._send(request)
            while True:
                # a callback's tensors are its own: they never count as the call's outputs
                mine: list = []
                reply = self._receive(START_S if first else None, mine, budget)
                if not (isinstance(reply, dict) and "callback" in reply):
                    if flagged is not None:
                        flagged.extend(mine)
                    break
                if answer is None:
                    raise WorkerDied("the worker asked something it may not ask")
                response = answer(reply["callback"])
                # a large request must not live on in the traceback of a later failure
                reply = mine = None
                self._send(response)
        except BaseException:
            self.stop()  # a timeout in the judge lands here too
            raise
        if not isinstance(reply, dict):
            self.stop()
            raise WorkerDied("the worker's reply is not a dict")
        return reply

    def _receive(self, wait: float | None, flagged: list, budget: dict[str, int]) -> Any:
        (size,) = struct.unpack(">Q", self._read(8, wait))
        if size > MAX_HEADER or size > budget["left"]:
            raise WorkerDied("the worker's reply is too large")
        header = self._read(size, wait)
        try:
            sizes = json.loads(header).get("sizes", [])
            total = sum(int(s) for s in sizes)
        except (ValueError, TypeError, AttributeError, RecursionError):
            raise WorkerDied("the worker's reply is not readable") from None
        budget["left"] -= size + max(total, 0)
        if total > codec.MAX_BYTES or total < 0 or budget["left"] < 0:
            raise WorkerDied("the worker's replies to one call are too large")
        payload = memoryview(self._read(total, wait))
        try:
            return codec.decode(header, payload, flagged)
        except codec.CodecError as err:
            raise WorkerDied(str(err)) from None


def _answer(callback: Any, modules: list, dispatcher: Dispatcher | None = None,
            limit: int | None = None) -> dict[str, Any]:
    """Carry out a worker's request: a call of one of the call's modules (a test's network)
    with at most ``limit`` bytes of tensors, or another exercise that the learner's code
    called (answered by its reference)."""
    if (isinstance(callback, list) and len(callback) == 4 and callback[0] == "exercise"
            and dispatcher is not None):
        return dispatcher.stand_in(callback[1], callback[2], callback[3])
    torch = _torch()
    if not (isinstance(callback, list) and len(callback) == 4 and type(callback[0]) is int
            and 0 <= callback[0] < len(modules) and callback[1] in ("call", "train", "training")
            and isinstance(callback[2], list) and type(callback[3]) is bool):
        raise WorkerDied("the worker asked something it may not ask")
    module, method, args = modules[callback[0]], callback[1], callback[2]
    try:
        if method == "training":
            return {"value": bool(module.training)}
        if method == "train":
            if len(args) != 1 or type(args[0]) is not bool:
                raise TypeError("train() takes one bool")
            module.train(args[0])
            return {"value": None}
        if not all(isinstance(a, torch.Tensor) for a in args):
            raise TypeError("a module is called with tensors only while grading")
        if limit is not None and sum(a.numel() * a.element_size() for a in args) > limit:
            raise ValueError("a module is called with more data than the exercise was given "
                             "while grading")
        with torch.set_grad_enabled(callback[3]):
            out = module(*args)
        if isinstance(out, torch.Tensor):
            out = out.detach().requires_grad_(out.requires_grad and out.is_floating_point())
        return {"value": out}
    except Exception as err:  # noqa: BLE001 - the learner's request failed: tell the worker
        return {"error": f"{type(err).__name__}: {err}"}


def _raise(error: Any, exercise: exercises.Exercise) -> None:
    if not (isinstance(error, list) and len(error) == 2 and all(isinstance(e, str)
                                                                for e in error)):
        raise WorkerDied("the worker's error report is malformed")
    name, message = error
    if not name.isidentifier() or len(name) > MAX_NAME:
        raise SubmissionError("the submission raised an exception whose type name is not a "
                              "Python name")
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "…"
    if name in ("ExerciseNotImplementedError",):
        raise exercises.ExerciseNotImplementedError(message, exercise.id)
    if name in KEPT_EXCEPTIONS:
        raise getattr(builtins, name)(message)
    raise SubmissionError(f"{name}: {message}")


class Dispatcher:
    """Routes exercise calls to the worker; installed with ``course_lib.exercises``.

    ``testing`` (set by the judge for each test) names the exercises the running test checks:
    a call of any other exercise, by the test or by the learner's code, is answered by its
    reference where this copy has one (``stand_ins`` records which), so that a mistake in one
    exercise costs only that exercise's tests."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.calls = 0
        self.testing: set[str] | None = None
        self.stand_ins: set[str] = set()

    def _reference_for(self, exercise_id: str) -> Any:
        if self.testing is None or exercise_id in self.testing:
            return None
        if not exercises.solutions_available():
            return None
        entry = exercises._REGISTRY.get(exercise_id)
        return None if entry is None else entry

    def stand_in(self, exercise_id: Any, args: Any, kwargs: Any) -> dict[str, Any]:
        """Answer the worker's call of another exercise (``exercise_id``) with its reference,
        or tell it to run its own code."""
        if not (isinstance(exercise_id, str) and isinstance(args, list)
                and isinstance(kwargs, dict) and all(type(k) is str for k in kwargs)):
            raise WorkerDied("the worker asked something it may not ask")
        entry = self._reference_for(exercise_id)
        if entry is None:
            return {"own": True}
        self.stand_ins.add(exercise_id)
        wrapper = getattr(importlib.import_module(entry.module), entry.function)
        try:
            with exercises.use_reference(exercise_id):
                return {"value": wrapper(*args, **kwargs)}
        except Exception as err:  # noqa: BLE001 - the arguments were refused: tell the worker
            return {"error": [type(err).__name__, str(err)[:MAX_MESSAGE]]}

    def __call__(self, exercise: exercises.Exercise, args: tuple, kwargs: dict) -> Any:
        stand_in = self._reference_for(exercise.id)
        if stand_in is not None:  # the test calls an exercise it does not check
            self.stand_ins.add(exercise.id)
            return stand_in.reference()(*args, **kwargs)
        torch = _torch()
        grad_keys, grad_inputs, modules = [], [], []
        send_args, send_kwargs = list(args), dict(kwargs)
        if torch is not None:
            for key, value in [*enumerate(args), *kwargs.items()]:
                if isinstance(value, torch.nn.Module):
                    modules.append(value)
                    proxy = RemoteModule(len(modules) - 1)
                    if isinstance(key, int):
                        send_args[key] = proxy
                    else:
                        send_kwargs[key] = proxy
                elif (isinstance(value, torch.Tensor) and value.requires_grad
                      and torch.is_grad_enabled()):
                    grad_keys.append(key)
                    grad_inputs.append(value)
                    copy = value.detach().clone().requires_grad_(True)
                    if isinstance(key, int):
                        send_args[key] = copy
                    else:
                        send_kwargs[key] = copy
        call_id = next(self.worker.ids)
        self.calls += 1
        flagged: list = []
        reply = self.worker.exchange({
            "op": "call", "id": call_id, "module": exercise.module,
            "function": exercise.function, "args": tuple(send_args), "kwargs": send_kwargs,
            "grad": grad_keys}, flagged,
            lambda callback: _answer(callback, modules, self, _module_budget(args, kwargs)))
        if "error" in reply:
            _raise(reply["error"], exercise)
        if set(reply) != {"value", "rng"} or not isinstance(reply["rng"], list):
            raise WorkerDied("the worker's reply is malformed")
        self._advance_generators(reply["rng"], args, kwargs)
        value = reply["value"]
        if grad_inputs and flagged:
            value = self._attach_gradients(value, call_id, grad_inputs, flagged)
        return value

    @staticmethod
    def _advance_generators(states: list, args: tuple, kwargs: dict) -> None:
        """A random generator the call drew from takes the state it has in the worker."""
        for entry in states:
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
                    and isinstance(entry[1], dict)):
                raise WorkerDied("the worker's reply is malformed")
            key, state = entry
            target = args[int(key)] if key.isdigit() and int(key) < len(args) else kwargs.get(key)
            if not isinstance(target, np.random.Generator):
                raise WorkerDied("the worker's reply is malformed")
            try:
                target.bit_generator.state = state
            except (ValueError, TypeError, KeyError, OverflowError):
                raise WorkerDied("the worker sent back a random generator state that does "
                                 "not fit") from None

    def _attach_gradients(self, value: Any, call_id: int, inputs: list, flagged: list) -> Any:
        torch = _torch()
        marked = {id(t) for t in flagged}
        outputs = [v for v in _tensor_leaves(value)
                   if id(v) in marked and v.dtype.is_floating_point]
        if not outputs:
            return value
        worker, starts = self.worker, self.worker.starts

        class RemoteCall(torch.autograd.Function):
            @staticmethod
            def forward(ctx: Any, *tensors: Any) -> Any:
                return tuple(t.clone() for t in tensors[len(inputs):])

            @staticmethod
            def backward(ctx: Any, *grads: Any) -> Any:
                if worker.starts != starts or worker.proc is None:
                    raise SubmissionError("the worker that computed this value has ended")
                reply = worker.exchange({"op": "vjp", "id": call_id, "grads": [
                    g.detach().contiguous() for g in grads]}, None, None)
                if "error" in reply:
                    raise SubmissionError(f"computing the gradient failed: {reply['error']}")
                found = reply.get("value")
                if not isinstance(found, list) or len(found) != len(inputs):
                    raise WorkerDied("the worker's gradients are malformed")
                back = []
                for g, x in zip(found, inputs, strict=True):
                    if g is not None and (not isinstance(g, torch.Tensor) or g.shape != x.shape):
                        raise WorkerDied("the worker's gradients are malformed")
                    back.append(None if g is None else g.to(x.dtype))
                return (*back, *([None] * len(outputs)))

        tied = RemoteCall.apply(*inputs, *outputs)
        tied = tied if isinstance(tied, tuple) else (tied,)
        swap = {id(old): new for old, new in zip(outputs, tied, strict=True)}
        return _replace(value, swap)


def _module_budget(args: tuple, kwargs: dict) -> int:
    """What the learner's code may send to a test's network in one request: twice the
    exercise's own array and tensor arguments, and a megabyte (the network computes in the
    judge: it must not be fed more than the test gave)."""
    torch = _torch()
    size = 0
    for value in [*args, *kwargs.values()]:
        if isinstance(value, np.ndarray):
            size += value.nbytes
        elif torch is not None and isinstance(value, torch.Tensor):
            size += value.numel() * value.element_size()
    return 2 * size + 2**20


def _torch() -> Any:
    import sys

    return sys.modules.get("torch")


def _tensor_leaves(value: Any) -> list[Any]:
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _tensor_leaves(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _tensor_leaves(v)]
    return []


def _replace(value: Any, swap: dict[int, Any]) -> Any:
    if id(value) in swap:
        return swap[id(value)]
    if isinstance(value, list):
        return [_replace(v, swap) for v in value]
    if isinstance(value, tuple):
        return tuple(_replace(v, swap) for v in value)
    if isinstance(value, dict):
        return {k: _replace(v, swap) for k, v in value.items()}
    return value


def install(root: Path, mode: str, modules: list[str], log: Path) -> Dispatcher:
    """Send every exercise call of this process to a worker over ``root``."""
    dispatcher = Dispatcher(Worker(Path(root), mode, modules, Path(log)))
    exercises.set_dispatcher(dispatcher)
    return dispatcher
