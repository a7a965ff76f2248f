"""The Gradescope autograder bundle (``make gradescope``).

    python -m classroom.gradescope [--out build/gradescope/autograder.zip] [--assignment ID]

The zip holds what Gradescope asks for at its top level, ``setup.sh`` (run once when the image
is built: a Python >= 3.11 found or installed, bubblewrap, the requirements) and
``run_autograder`` (run for each submission), beside the course as the grader needs it:
``course_lib``, ``classroom``, ``solutions`` (the references stand in for the exercises a
test does not check: one mistake costs one exercise), the public and hidden tests, the data,
the points and the project files, and, with ``--secret``, the grading secret the hidden cases
are drawn from (``grading/secret``). It has none of the maintainers' tests. Everything in it
is for root only once ``run_autograder`` starts: the submission's code never sees it.

``run_autograder`` grades ``/autograder/submission`` (a ``course_lib`` folder, a zip, or the
exercise modules uploaded one by one; with ``--assignment``, that assignment's exercises, its
points and its late policy applied to the time in Gradescope's ``submission_metadata.json``)
with the hidden tests into
``/autograder/results/results.json``; it uses the bubblewrap sandbox where it starts, and the
``uid`` sandbox otherwise (Gradescope's containers run as root but may refuse namespaces),
after making the course and the results readable by root only. ``AUTOGRADER_ROOT`` and
``AUTOGRADER_PYTHON`` move it elsewhere (the tests run it in a simulated layout).
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import zipfile
from pathlib import Path

from classroom.release import MAINTAINER_TESTS

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "build" / "gradescope" / "autograder.zip"
PROJECT_FILES = ("pyproject.toml", "requirements.txt", "requirements-lock.txt", "README.md",
                 "LICENSE", "grading/points.json", "grading/assignments.toml")
FOLDERS = ("course_lib", "classroom", "data", "solutions")
SECRET_FILE = "grading/secret"
ASSIGNMENT_FILE = "grading/assignment"  # the id of the assignment the bundle grades

# setup.sh finds or installs a Python the requirements support (Ubuntu 22.04's python3 is
# 3.10), then bubblewrap and the requirements: see the script's own comments.
SETUP_SH = Path(__file__).with_name("gradescope_setup.sh").read_text(encoding="utf-8")

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission, as root: /autograder/submission in,
# /autograder/results/results.json out.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
RESULTS="$ROOT/results"
mkdir -p "$RESULTS"
# The course (hidden tests) and the results are for root only: in the uid sandbox the
# submission runs as nobody.
chmod 700 "$SOURCE" "$RESULTS"
cd "$SOURCE"
# The hidden tests draw their cases from the grading secret, when the bundle has one.
if [ -f grading/secret ]; then
    COURSE_LIB_GRADING_SECRET="$(cat grading/secret)"
    export COURSE_LIB_GRADING_SECRET
fi
if "$PYTHON" -c 'from classroom.sandbox import bwrap_works; raise SystemExit(bool(bwrap_works()))'
then MODE=bwrap
else MODE=uid
fi
ARGS=()
# A bundle for one assignment grades its exercises, with its points and late policy.
if [ -f grading/assignment ]; then
    ARGS+=(--assignment "$(cat grading/assignment)")
fi
# When the student submitted (and Gradescope's due date, with any extension it gave).
if [ -f "$ROOT/submission_metadata.json" ]; then
    ARGS+=(--submission-metadata "$ROOT/submission_metadata.json")
fi
if ! "$PYTHON" -m classroom.grade "$ROOT/submission" --hidden --sandbox "$MODE" "${ARGS[@]}" \\
        --format gradescope --out "$RESULTS/results.json" > "$RESULTS/grader.log" 2>&1; then
    MESSAGE="The autograder itself failed (not your code): ask your teacher."
    printf '{"score": 0, "output": "%s", "visibility": "visible"}\\n' "$MESSAGE" \\
        > "$RESULTS/results.json"
fi
"""


def bundle_files(root: Path = REPO_ROOT) -> dict[str, Path]:
    """Zip path -> file, for everything of the course that goes into the bundle."""
    files = {}
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(
                    ".pyc") and not {"cache", "MNIST"} & set(path.relative_to(root).parts):
                files[path.relative_to(root).as_posix()] = path
    for path in sorted((root / "tests").glob("*.py")):
        if path.name not in MAINTAINER_TESTS:
            files[f"tests/{path.name}"] = path
    for path in sorted((root / "tests" / "hidden").glob("*.py")):
        files[f"tests/hidden/{path.name}"] = path
    for name in PROJECT_FILES:
        if (root / name).is_file():
            files[name] = root / name
    return files


def _script(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFREG | 0o755) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def build_bundle(out: Path = DEFAULT_OUT, root: Path = REPO_ROOT,
                 secret: str | None = None, assignment: str | None = None) -> Path:
    """The bundle; ``secret`` (without it: the public default cases) goes into it, and the
    id of the ``assignment`` it grades (without it: every exercise)."""
    if assignment is not None:
        from classroom.assignments import get_assignment

        get_assignment(assignment, Path(root) / "grading" / "assignments.toml")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        _script(archive, "setup.sh", SETUP_SH)
        _script(archive, "run_autograder", RUN_AUTOGRADER)
        for name, path in bundle_files(root).items():
            archive.write(path, name)
        if assignment is not None:
            archive.writestr(ASSIGNMENT_FILE, assignment + "\n")
        if secret:
            info = zipfile.ZipInfo(SECRET_FILE)
            info.external_attr = (stat.S_IFREG | 0o600) << 16
            archive.writestr(info, secret)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classroom.gradescope",
                                     description="Build the Gradescope autograder zip.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--secret", default=os.environ.get("COURSE_LIB_GRADING_SECRET"),
                        help="the grading secret the hidden cases are drawn from (default: "
                             "$COURSE_LIB_GRADING_SECRET; without one, the public default "
                             "cases, which anyone can reproduce)")
    parser.add_argument("--assignment", metavar="ID",
                        help="grade only this assignment of grading/assignments.toml (its "
                             "exercises, points, due date and late policy)")
    args = parser.parse_args(argv)
    if not args.secret:
        print("note: no grading secret: the hidden tests will draw the public default cases",
              file=sys.stderr)
    try:
        out = build_bundle(args.out, secret=args.secret, assignment=args.assignment)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"gradescope: {out} ({out.stat().st_size / 2**20:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
