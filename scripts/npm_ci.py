"""Install an npm package folder's locked dependencies somewhere else, once per lock file.

Used by scripts/build_book.py (the site's MathJax, from book/) and tests/npm_tools.py (the
tests' tools, from tests/npm/): ``npm ci`` in ``target`` from ``source``'s package.json and
package-lock.json, skipped while ``target`` holds an install of the same lock.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def npm_ci(source: Path, target: Path, timeout: float = 300) -> None:
    """``npm ci`` of ``source``'s lock into ``target`` (raises CalledProcessError on failure)."""
    lock = (source / "package-lock.json").read_text(encoding="utf-8")
    stamp = target / "installed-lock.json"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == lock:
        return
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(source / name, target / name)
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=target,
                   check=True, capture_output=True, text=True, timeout=timeout)
    stamp.write_text(lock, encoding="utf-8")
