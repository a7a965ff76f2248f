"""The sandboxed worker: the only process in which a submission's code runs while it is graded.

    python -m classroom.worker REQUEST_FD REPLY_FD

It sees a copy of ``course_lib`` with the learner's exercise modules in it (and, in
``stubs/``, the student-copy version of each such module) and nothing else of the course: no
tests, no solutions, no results. The judge sends requests (pickles: the judge is trusted);
the worker answers in plain data (``classroom.codec``):

* ``{"op": "call", "id", "module", "function", "args", "kwargs", "grad"}``: call the exercise
  (the learner's function behind its ``@exercise`` wrapper). The reply holds the value, the
  array arguments the call changed in place, or the exception's type and message. ``grad``
  lists which tensor arguments require gradients; their graph is kept for a later
  ``{"op": "vjp", "id", "grads"}``, which answers with the gradients for those arguments.

A ``torch.nn.Module`` argument stays in the judge (the tests' own networks are classes the
worker does not have): the learner's code gets a ``RemoteModule`` whose calls, ``eval()``,
``train(mode)`` and ``training`` are carried out on the judge's module, tensors in and out
(``{"callback": [index, method, args, grad_enabled]}`` in the worker's reply stream).

A learner's module that fails to import (a syntax error, ``raise SystemExit``) is replaced by
its stub, so that the modules importing it still work; calls of its exercises then answer
with the import error.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.abc
import importlib.machinery
import os
import pickle
import struct
import sys
import traceback
from collections import OrderedDict
from pathlib import Path
from typing import Any

from classroom import codec

STUBS = Path(__file__).resolve().parent.parent / "stubs"  # stubs/course_lib/....py
FAILED: dict[str, str] = {}  # module -> why the learner's version did not import
KEPT_GRAPHS = 64
MAX_REQUEST = 1 << 31


class _Channel:
    """The worker's two pipes, so that a RemoteModule can ask the judge in mid-call."""

    requests: Any = None
    replies: Any = None

    @classmethod
    def send(cls, value: Any) -> None:
        header, buffers = codec.encode(value)
        cls.replies.write(codec.frame(header, buffers))
        cls.replies.flush()

    @classmethod
    def receive(cls) -> Any:
        head = _read_exact(cls.requests, 8)
        if head is None:
            raise SystemExit(0)
        (size,) = struct.unpack(">Q", head)
        body = _read_exact(cls.requests, size) if size <= MAX_REQUEST else None
        if body is None:
            raise SystemExit(0)
        return pickle.loads(body)  # from the judge


class RemoteModule:
    """Stands for a ``torch.nn.Module`` that lives in the judge."""

    def __init__(self, index: int) -> None:
        self._index = index

    def _ask(self, method: str, *args: Any) -> Any:
        torch = sys.modules.get("torch")
        grad = bool(torch.is_grad_enabled()) if torch is not None else False
        _Channel.send({"callback": [self._index, method, list(args), grad]})
        answer = _Channel.receive()
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer["value"]

    def __call__(self, *args: Any) -> Any:
        return self._ask("call", *args)

    def forward(self, *args: Any) -> Any:
        return self._ask("call", *args)

    def eval(self) -> RemoteModule:
        self._ask("train", False)
        return self

    def train(self, mode: bool = True) -> RemoteModule:
        self._ask("train", bool(mode))
        return self

    @property
    def training(self) -> bool:
        return bool(self._ask("training"))


class _StubOnFailure(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports a learner's exercise module; if running it raises anything, the module is run
    again from the stub instead (and the reason is kept in ``FAILED``)."""

    def __init__(self, modules: set[str]) -> None:
        self.modules = modules

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in self.modules:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None:
            return None
        spec.loader_state = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        try:
            module.__spec__.loader_state.exec_module(module)
        except BaseException as err:  # noqa: BLE001 - SystemExit too: the learner's code
            FAILED[module.__name__] = _describe(err)
            keep = {k: module.__dict__[k] for k in ("__name__", "__spec__", "__loader__",
                                                   "__package__", "__path__", "__file__")
                    if k in module.__dict__}
            module.__dict__.clear()
            module.__dict__.update(keep)
            stub = STUBS.joinpath(*module.__name__.split(".")).with_suffix(".py")
            exec(compile(stub.read_text(encoding="utf-8"), module.__file__, "exec"),
                 module.__dict__)


def _describe(err: BaseException) -> str:
    frames = traceback.extract_tb(err.__traceback__)
    where = next((f"{Path(f.filename).name}, line {f.lineno}" for f in reversed(frames)
                  if "course_lib" in f.filename), "")
    if isinstance(err, SyntaxError):
        where = f"{Path(err.filename or '').name}, line {err.lineno}"
    text = f"{type(err).__name__}: {err}"[:500]
    return f"{text} ({where})" if where else text


def _read_exact(stream: Any, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _generators(args: list, kwargs: dict) -> list[tuple[Any, Any]]:
    import numpy as np

    found = [(i, a) for i, a in enumerate(args) if isinstance(a, np.random.Generator)]
    return found + [(k, a) for k, a in kwargs.items() if isinstance(a, np.random.Generator)]


def _call(request: dict[str, Any], graphs: OrderedDict) -> Any:
    module_name = request["module"]
    module = importlib.import_module(module_name)
    if module_name in FAILED:
        raise ImportError(f"{module_name.replace('.', '/')}.py could not be imported: "
                          f"{FAILED[module_name]}")
    function = _body(getattr(module, request["function"]), request["function"])
    args, kwargs = list(request["args"]), dict(request["kwargs"])
    inputs = [args[k] if isinstance(k, int) else kwargs[k] for k in request.get("grad", [])]
    value = function(*args, **kwargs)
    # A generator the call drew from goes back in its new state, as it would in-process.
    states = [[str(key), rng.bit_generator.state] for key, rng in _generators(args, kwargs)]
    if inputs:
        torch = sys.modules["torch"]
        outputs = [v for v in _leaves(value) if isinstance(v, torch.Tensor) and v.requires_grad]
        if outputs:
            graphs[request["id"]] = (inputs, outputs)
            while len(graphs) > KEPT_GRAPHS:
                graphs.popitem(last=False)
    return {"value": value, "rng": states}


def _body(wrapper: Any, name: str) -> Any:
    """The learner's function behind an ``@exercise`` wrapper, held to the contracts'
    two rules (its inputs unchanged, its result new). The judge has validated the arguments
    already (a RemoteModule would not pass the check for a torch module)."""
    from course_lib import contracts, exercises

    entry = None
    if getattr(wrapper, "__exercise__", None) is not None:
        entry = exercises._REGISTRY[wrapper.__exercise__.id]
    body = entry.impl if entry is not None else wrapper  # else: the learner rebound the name

    def call(*args: Any, **kwargs: Any) -> Any:
        arguments = _by_name(body, args, kwargs)
        if entry is not None:
            return exercises.run_body(entry, args, kwargs, arguments)
        return contracts.guarded_call(name, body, args, kwargs, arguments)

    return call


def _nested(exercise: Any, args: tuple, kwargs: dict) -> Any:
    """An exercise called by the learner's code of another one: the judge answers it with the
    reference, so that one mistake is counted once (or says to run the learner's own)."""

    try:
        _Channel.send({"callback": ["exercise", exercise.id, list(args), dict(kwargs)]})
    except codec.CodecError:  # arguments that cannot travel: the learner's own code
        return _own(exercise, args, kwargs)
    answer = _Channel.receive()
    if answer.get("own"):
        return _own(exercise, args, kwargs)
    if "error" in answer:  # the reference refused these arguments
        name, message = answer["error"]
        kind = getattr(builtins, name, None)
        if not (isinstance(kind, type) and issubclass(kind, Exception)):
            kind = RuntimeError
        raise kind(message)
    return answer["value"]


def _own(exercise: Any, args: tuple, kwargs: dict) -> Any:
    from course_lib import exercises

    return exercises.run_body(exercise, args, kwargs, _by_name(exercise.impl, args, kwargs))


def _by_name(body: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The call's arguments by parameter name (by position where the signature does not
    take them: the call itself will then say why)."""
    import inspect

    try:
        bound = inspect.signature(body).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return {**{f"argument {i}": a for i, a in enumerate(args)}, **kwargs}
    bound.apply_defaults()
    return dict(bound.arguments)


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    return [value]


def _vjp(request: dict[str, Any], graphs: OrderedDict) -> Any:
    import torch

    if request["id"] not in graphs:
        raise RuntimeError("the graph of this call is no longer kept")
    inputs, outputs = graphs.pop(request["id"])
    grads = torch.autograd.grad(outputs, inputs, request["grads"], allow_unused=True)
    return {"value": list(grads), "rng": []}


def serve(requests: Any, replies: Any) -> None:
    _Channel.requests, _Channel.replies = requests, replies
    graphs: OrderedDict = OrderedDict()
    while True:
        try:
            request = _Channel.receive()
        except SystemExit:
            return
        try:
            if request["op"] == "ping":  # started and ready: the judge's clock starts now
                answer = {"value": "ready", "rng": []}
            else:
                answer = (_vjp if request["op"] == "vjp" else _call)(request, graphs)
            header, buffers = codec.encode(answer)
        except BaseException as err:  # noqa: BLE001 - whatever the learner's code raised
            if isinstance(err, KeyboardInterrupt):
                raise
            header, buffers = codec.encode({"error": [type(err).__name__,
                                                      str(err)[:2000]]})
        replies.write(codec.frame(header, buffers))
        replies.flush()


def main(argv: list[str]) -> int:
    request_fd, reply_fd = int(argv[0]), int(argv[1])
    os.set_inheritable(request_fd, False)
    os.set_inheritable(reply_fd, False)
    modules = set(os.environ.get("GRADER_EXERCISE_MODULES", "").split(","))
    sys.meta_path.insert(0, _StubOnFailure(modules - {""}))
    from course_lib import exercises

    exercises.set_dispatcher(_nested)  # only calls made by the learner's code reach it
    with os.fdopen(request_fd, "rb", buffering=0) as requests, \
            os.fdopen(reply_fd, "wb", buffering=0) as replies:
        serve(requests, replies)
    return 0


if __name__ == "__main__":  # run as classroom.worker, so that pickles find RemoteModule here
    from classroom.worker import main as _main

    sys.exit(_main(sys.argv[1:]))
