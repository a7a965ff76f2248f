"""Run modes, seeds and the compute device, in one place.

``COURSE_LIB_QUICK=1`` (set by CI) shrinks every training budget so that each notebook runs
in about a minute; without it, experiments use the budgets that reproduce the chapter's
headline result.
"""

from __future__ import annotations

import importlib.util
import os
import random
from typing import Any

import numpy as np

from .validation import check_int

QUICK_ENV_VAR = "COURSE_LIB_QUICK"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}
_quick_override: bool | None = None


def is_quick() -> bool:
    """Whether experiments run with their small (quick) budgets."""
    if _quick_override is not None:
        return _quick_override
    raw = os.environ.get(QUICK_ENV_VAR, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"{QUICK_ENV_VAR} must be 0 or 1 (or true/false), got {raw!r}")


def set_quick(quick: bool | None) -> None:
    """Force quick (True) or full (False) mode; ``None`` goes back to the environment variable."""
    global _quick_override
    if quick is not None and not isinstance(quick, bool):
        raise TypeError(f"quick must be True, False or None, got {quick!r}")
    _quick_override = quick


def resolve_quick(quick: bool | None) -> bool:
    """An experiment's ``quick`` argument: ``None`` means "whatever the mode says"."""
    if quick is None:
        return is_quick()
    if not isinstance(quick, bool):
        raise TypeError(f"quick must be True, False or None, got {quick!r}")
    return quick


MAX_SEED = 2**64 - 1  # the largest seed torch.manual_seed takes


def check_seed(seed: Any, name: str = "seed") -> int:
    """Seeds are non-negative Python or numpy integers, at most ``MAX_SEED``."""
    return check_int(name, seed, 0, MAX_SEED)


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's ``random``, numpy's global state and torch (when installed).

    Returns a fresh ``numpy.random.Generator`` seeded with ``seed``, which is what the
    course's own code uses.
    """
    seed = check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if torch_available():
        import torch

        torch.manual_seed(seed)
    return np.random.default_rng(seed)


def device() -> Any:
    """``torch.device("cuda")`` when a GPU is visible, else ``torch.device("cpu")``."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_name() -> str:
    """Where the course's torch code runs, e.g. ``"cpu (torch 2.4.0, 2 threads)"``.

    The experiments keep their small networks on the CPU; a visible GPU is named but marked
    unused, so that a metrics file never suggests a GPU timing that was not taken.
    """
    if not torch_available():
        return "cpu (torch not installed)"
    import torch

    name = f"cpu (torch {torch.__version__}, {torch.get_num_threads()} threads)"
    if torch.cuda.is_available():
        name += f"; GPU present but unused: {torch.cuda.get_device_name(0)}"
    return name
