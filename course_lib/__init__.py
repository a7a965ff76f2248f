"""course_lib: the small library the *Markets of Agents* notebooks run on.

Exercises are functions marked ``@exercise``; see ``course_lib.exercises``. Typical use in a
notebook::

    from course_lib import setup_notebook, check, hint, use_reference
    setup_notebook()
    check("1.1")   # the public tests of exercise 1.1 on your code
    hint("1.1")    # stuck? the next hint (call it again for the one after)
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
    "hint",
    "is_quick",
    "references_in_use",
    "seed_everything",
    "set_quick",
    "setup_notebook",
    "use_reference",
]


def hint(exercise_id: str, level: int | None = None) -> None:
    """Print an exercise's next hint; see ``course_lib.hints.hint``."""
    from .hints import hint as _hint

    _hint(exercise_id, level)


def setup_notebook(seed: int = 0, **kwargs) -> None:
    """Prepare a notebook session; see ``course_lib.notebook.setup_notebook``.

    (Imported lazily so that ``import course_lib`` stays light.)
    """
    from .notebook import setup_notebook as _setup

    _setup(seed=seed, **kwargs)
