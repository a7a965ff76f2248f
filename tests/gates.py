"""Tests that need something from outside the repository (the package index, a browser, the
website's build tools, the grader's sandbox) skip without it, except where the environment says
they must run: CI sets these variables, so that a test that has to run there cannot pass by
skipping."""

from __future__ import annotations

import os

import pytest

REQUIRE_PYPI = "COURSE_LIB_REQUIRE_PYPI"
REQUIRE_BROWSER = "COURSE_LIB_REQUIRE_BROWSER"
# The course's website: Jupyter Book and npm, to build it when `make book` has not.
REQUIRE_BOOK = "COURSE_LIB_REQUIRE_BOOK"
# The grader's sandbox: bubblewrap (`make sandbox-setup`).
REQUIRE_SANDBOX = "COURSE_LIB_REQUIRE_SANDBOX"


def skip_or_fail(reason: str, required_by: str) -> None:
    """Skip with ``reason``, or fail with it where the variable ``required_by`` is "1"."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{required_by}=1 but {reason}", pytrace=False)
    pytest.skip(reason)
