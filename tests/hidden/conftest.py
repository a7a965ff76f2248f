"""The grading secret the secret-case tests (``test_secret_cases.py``) draw their cases from.

``secret_rng`` gives each test its own generator, seeded from
``sha256(secret + "\\0" + the test's node id)``. The secret is the environment variable
``COURSE_LIB_GRADING_SECRET``; without it (unset or empty) a fixed default is used, which is
public: the cases are then reproducible by anyone who reads this file.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

SECRET_VAR = "COURSE_LIB_GRADING_SECRET"
PUBLIC_DEFAULT_SECRET = "public-default-secret"  # public: anyone can reproduce its cases


def grading_secret() -> str:
    """The grader's secret, or the public default when ``COURSE_LIB_GRADING_SECRET`` is unset
    or empty."""
    return os.environ.get(SECRET_VAR) or PUBLIC_DEFAULT_SECRET


@pytest.fixture
def secret_rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator of this test's cases: the same secret and test give the same cases."""
    digest = hashlib.sha256(f"{grading_secret()}\0{request.node.nodeid}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest, "big"))
