"""The launch links and the Colab set-up cell (course_lib/launch.py), and every notebook's
agreement with them. (The Colab path itself is rehearsed by scripts/colab_rehearsal.py.)"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10, where pytest itself depends on tomli
    import tomli as tomllib

import nbformat
import pytest

from course_lib import launch

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(line.split(">=")[0].split("==")[0].strip().lower())
    return names


def test_links_point_at_the_notebook_on_the_branch():
    name = "03_cloned_vickrey_society.ipynb"
    assert launch.colab_url(name) == (
        "https://colab.research.google.com/github/markets-of-agents/markets-of-agents/blob/"
        "main/notebooks/03_cloned_vickrey_society.ipynb")
    assert launch.binder_url(name) == (
        "https://mybinder.org/v2/gh/markets-of-agents/markets-of-agents/main"
        "?urlpath=lab/tree/notebooks/03_cloned_vickrey_society.ipynb")
    assert launch.binder_url().endswith("notebooks/00_welcome.ipynb")
    badges = launch.badges_markdown(name)
    assert launch.colab_url(name) in badges and launch.binder_url(name) in badges


@pytest.mark.parametrize("bad", ["01_vickrey_auction", "notebooks/01_vickrey_auction.ipynb",
                                 "", None, 3])
def test_links_reject_what_is_not_a_notebook_name(bad):
    with pytest.raises(ValueError, match="notebook"):
        launch.colab_url(bad)


def test_setup_cell_is_valid_python_naming_the_repository_once():
    source = launch.colab_setup_cell()
    ast.parse(source)
    assert source.startswith(launch.SETUP_CELL_MARKER)
    assert source.count(launch.REPO_URL) == 1
    assert "google.colab" in source and launch.FORCE_COLAB_ENV in source


def test_setup_cell_does_nothing_outside_colab(tmp_path, monkeypatch):
    monkeypatch.delenv(launch.FORCE_COLAB_ENV, raising=False)
    monkeypatch.setenv(launch.HOME_ENV, str(tmp_path / "never"))
    result = subprocess.run([sys.executable, "-c", launch.colab_setup_cell()], cwd=tmp_path,
                            capture_output=True, text=True, check=True)
    assert result.stdout == "" and result.stderr == ""
    assert not (tmp_path / "never").exists()


def _colab_runtime() -> dict[str, str]:
    with open(ROOT / "tests" / "colab_runtime.toml", "rb") as file:
        packages = tomllib.load(file)["packages"]
    return {name.lower().replace("_", "-"): version for name, version in packages.items()}


def test_colab_needs_every_requirement_but_the_front_end_and_tools():
    needed = {launch._name(r) for r in launch.colab_requirements(ROOT)}
    everything = _requirement_names(ROOT / "requirements.txt")
    assert set(launch.COLAB_SKIPS) <= everything
    assert needed == everything - set(launch.COLAB_SKIPS)
    assert set(launch.COLAB_PROVIDES) <= needed and set(launch.KEEP_PYGAME) <= needed
    # A Colab bound only ever lowers what requirements.txt asks for (Colab's own front end).
    bounds = {launch._name(r): r.partition(">=")[2]
              for r in launch.read_requirements(ROOT / "requirements.txt")}
    colab = {launch._name(r): r.partition(">=")[2] for r in launch.colab_requirements(ROOT)}
    for name, bound in launch.COLAB_BOUNDS.items():
        assert colab[name] == bound
        assert launch._release(bound) < launch._release(bounds[name]), name


def test_colab_provides_what_its_list_has_at_versions_that_meet_the_bounds():
    """The set-up cell installs nothing that Colab ships: every bound of requirements.txt
    admits Colab's version (the Colab rehearsal runs the course on exactly those)."""
    colab = _colab_runtime()
    needed = {launch._name(r): r.partition(">=")[2] for r in launch.colab_requirements(ROOT)}
    assert set(launch.COLAB_PROVIDES) == set(needed) & set(colab)
    for name in launch.COLAB_PROVIDES:
        assert launch._release(needed[name]) <= launch._release(colab[name]), (
            f"requirements.txt asks for {name}>={needed[name]}, Colab has {colab[name]}")


def test_the_package_declares_the_bounds_of_requirements_txt():
    with open(ROOT / "pyproject.toml", "rb") as file:
        declared = tomllib.load(file)["project"]["dependencies"]
    assert set(declared) <= set(launch.read_requirements(ROOT / "requirements.txt"))


def test_requirements_file_lines_are_names_with_lower_bounds(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("# a comment\nnumpy>=2.1  # why\n\nruff\n")
    assert launch.read_requirements(path) == ("numpy>=2.1", "ruff")
    for bad in ("numpy==2.1", "numpy>=2.1,<3", "-r other.txt", "numpy[extra]>=1"):
        path.write_text(bad + "\n")
        with pytest.raises(ValueError, match="requirements.txt:1"):
            launch.read_requirements(path)


def test_missing_compares_release_numbers():
    assert launch._release("1.26.4rc1") == (1, 26, 4)
    assert launch._release("2.14.1+cpu") == (2, 14, 1)
    assert launch._release("10.0") > launch._release("9.9")
    assert launch._missing(("numpy>=1.0",)) == []
    assert launch._missing(("numpy>=999",)) == ["numpy>=999"]
    assert launch._missing(("surely-not-installed-xyz>=1",)) == ["surely-not-installed-xyz>=1"]


def test_setup_colab_refuses_a_folder_without_the_course(tmp_path):
    with pytest.raises(ValueError, match="does not hold the course"):
        launch.setup_colab(tmp_path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_opens_with_the_badges_and_the_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    title = nb.cells[0]
    assert title.cell_type == "markdown"
    assert launch.badges_markdown(path.name) in title.source.splitlines()
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code.source == launch.colab_setup_cell()
    assert first_code.outputs == []  # it prints nothing outside Colab


def test_sync_script_agrees_with_the_notebooks():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "sync_launch_cells.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sync_script_adds_and_updates_the_cells(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 09 · A chapter\n\nText."),
                nbformat.v4.new_code_cell("x = 1", execution_count=1)]
    path = tmp_path / "09_chapter.ipynb"
    nbformat.write(nb, path)
    script = [sys.executable, str(ROOT / "scripts" / "sync_launch_cells.py")]
    assert subprocess.run([*script, "--check", str(path)], capture_output=True).returncode == 1
    subprocess.run([*script, str(path)], check=True, capture_output=True)
    synced = nbformat.read(path, as_version=4)
    assert synced.cells[0].source.splitlines()[:3] == [
        "# 09 · A chapter", "", launch.badges_markdown(path.name)]
    assert synced.cells[1].source == launch.colab_setup_cell()
    assert [c.execution_count for c in synced.cells[1:]] == [1, 2]  # still a saved run
    assert subprocess.run([*script, "--check", str(path)], capture_output=True).returncode == 0


def test_every_package_the_notebooks_import_is_on_colab_after_the_setup_cell():
    """Notebook 00 asserts that none of these is missing, on Colab too."""
    from course_lib.notebook import NOTEBOOK_PACKAGES

    on_colab = {launch._name(r) for r in launch.colab_requirements(ROOT)}
    assert set(NOTEBOOK_PACKAGES) <= on_colab
    assert set(NOTEBOOK_PACKAGES) <= _requirement_names(ROOT / "requirements.txt")


@pytest.mark.parametrize("path", NOTEBOOKS[:2], ids=lambda p: p.name)
def test_badges_render_as_links_around_images(path):
    """Markdown must render the badges line as two linked images, not as literal text."""
    import mistune

    html = mistune.html(nbformat.read(path, as_version=4).cells[0].source)
    for url, badge in ((launch.colab_url(path.name), launch.COLAB_BADGE),
                       (launch.binder_url(path.name), launch.BINDER_BADGE)):
        assert f'<a href="{url}"><img src="{badge}"' in html
    assert "[![" not in html
