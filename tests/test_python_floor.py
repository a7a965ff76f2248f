"""One Python floor, the same everywhere a learner, a lecturer or a maintainer meets it:
the package's metadata, the README, `make setup`'s check, Binder's runtime and the set-up of
Gradescope's image. (scipy >= 1.16, in requirements.txt, has no build below 3.11.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def floor() -> str:
    with open(ROOT / "pyproject.toml", "rb") as file:
        requires = tomllib.load(file)["project"]["requires-python"]
    match = re.fullmatch(r">=(3\.\d+)", requires)
    assert match, f"requires-python should be a plain floor (>=3.X), not {requires!r}"
    return match.group(1)


def test_the_floor_is_one_that_the_requirements_install_on():
    assert Version(floor()) >= Version("3.11")  # scipy >= 1.16: wheels from 3.11 on
    assert "scipy>=1.16" in (ROOT / "requirements.txt").read_text().replace(" ", "")


def test_readme_makefile_binder_and_gradescope_name_the_same_floor():
    version = floor()
    major, minor = version.split(".")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.findall(r"Python ≥ (3\.\d+)", readme) == [version]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"sys.version_info >= ({major}, {minor})" in makefile
    assert f'"Python >= {version} needed"' in makefile
    setup = (ROOT / "classroom" / "gradescope_setup.sh").read_text(encoding="utf-8")
    assert re.findall(r"^PYTHON_FLOOR=(\S+)$", setup, re.M) == [version]
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    assert Version(runtime.removeprefix("python-")) in SpecifierSet(f">={version}")


def test_the_student_copy_names_the_same_floor():
    from classroom import release

    version = floor()
    assert release.PYTHON_FLOOR == version
    assert f'requires-python = ">={version}"' in release.PYPROJECT
    assert f'"Python >= {version} needed"' in release.MAKEFILE
    readme = release.README_TEMPLATE.read_text(encoding="utf-8")
    assert re.findall(r"Python (3\.\d+) or newer", readme) == [version]
