"""course_lib: the small library the *Markets of Agents* notebooks run on.

Exercises are functions marked ``@exercise``; see ``course_lib.exercises``. Typical use in a
notebook::

    from course_lib import setup_notebook, check, use_reference
    setup_notebook()
"""

from __future__ import annotations

from .config import device, is_quick, seed_everything, set_quick
from .exercises import (
    ExerciseNotImplementedError,
    catalog,
    check,
    references_in_use,
    use_reference,
)

__version__ = "0.1.0"

__all__ = [
    "ExerciseNotImplementedError",
    "catalog",
    "check",
    "device",
    "is_quick",
    "references_in_use",
    "seed_everything",
    "set_quick",
    "setup_notebook",
    "use_reference",
]


def setup_notebook(seed: int = 0, **kwargs) -> None:
    """Prepare a notebook session; see ``course_lib.notebook.setup_notebook``.

    (Imported lazily so that ``import course_lib`` stays light.)
    """
    from .notebook import setup_notebook as _setup

    _setup(seed=seed, **kwargs)
