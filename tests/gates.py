"""Tests that need something from outside the repository (the package index, a browser) skip
without it, except where the environment says they must run: CI sets these variables, so that
a test that has to run there cannot pass by skipping."""

from __future__ import annotations

import os

import pytest

REQUIRE_PYPI = "COURSE_LIB_REQUIRE_PYPI"
REQUIRE_BROWSER = "COURSE_LIB_REQUIRE_BROWSER"


def skip_or_fail(reason: str, required_by: str) -> None:
    """Skip with ``reason``, or fail with it where the variable ``required_by`` is "1"."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{required_by}=1 but {reason}", pytrace=False)
    pytest.skip(reason)
