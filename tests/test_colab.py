"""The Colab path, rehearsed here without Colab and without GitHub.

Notebook 01 runs as Colab would run it: alone in a folder, in a kernel whose Python holds only
what Colab ships (a part of it: the numerical stack, the Jupyter kernel, pytest; no course, no
gymnasium, no mlxtend). Its set-up cell runs with Colab detection forced on and the clone step
pointed at a snapshot of this checkout. Then every cell must run in the same kernel (no
restart), the course must come from the clone, and an edit to a file of the clone's
``course_lib`` must take effect at the next cell.

It needs PyPI (the fresh environment installs from it). Without PyPI it skips, unless
``COURSE_LIB_REQUIRE_PYPI=1`` (CI sets it) turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import venv
from pathlib import Path

import nbformat
import pytest
from gates import REQUIRE_PYPI, skip_or_fail

from course_lib import launch
from course_lib.exercises import solutions_available

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "01_vickrey_auction.ipynb"
# What Colab ships that chapter 1 uses, plus mlxtend's own requirements (Colab has them too,
# and they are large). Chapter 1 does not import torch.
COLAB_LIKE = ("numpy", "scipy", "matplotlib", "pandas", "scikit-learn", "tqdm", "ipykernel",
              "ipywidgets", "nbformat", "pytest")

pytestmark = pytest.mark.skipif(not solutions_available(), reason="needs the repository copy")


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


def _require_pypi() -> None:
    if _pypi_reachable():
        return
    skip_or_fail("PyPI is not reachable: the rehearsal installs a fresh environment from it",
                 REQUIRE_PYPI)


def _snapshot(dest: Path) -> Path:
    """A git repository holding this checkout's files as they are now, on branch main."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    git = ["git", "-c", "user.name=course", "-c", "user.email=course@localhost"]
    for command in (["init", "--quiet", "--initial-branch", launch.BRANCH], ["add", "-A"],
                    ["commit", "--quiet", "-m", "snapshot"]):
        subprocess.run([*git, *command], cwd=dest, check=True)
    return dest


def _colab_like_python(dest: Path) -> Path:
    venv.create(dest, with_pip=True, clear=True)
    python = dest / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *COLAB_LIKE], check=True)
    return python


def _kernelspec(jupyter_path: Path, python: Path) -> str:
    spec = jupyter_path / "kernels" / "colab-rehearsal"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab rehearsal", "language": "python"}))
    return "colab-rehearsal"


def _code(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source)


def test_colab_path_runs_notebook_01_and_picks_up_edits(tmp_path, monkeypatch):
    _require_pypi()
    repo = _snapshot(tmp_path / "repo")
    python = _colab_like_python(tmp_path / "colab-python")
    content = tmp_path / "content"  # Colab's working folder: the notebook arrives alone
    content.mkdir()
    home = content / launch.REPO_NAME
    kernel = _kernelspec(tmp_path / "jupyter", python)

    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv(launch.FORCE_COLAB_ENV, "1")
    monkeypatch.setenv(launch.REPO_ENV, repo.as_uri())
    monkeypatch.setenv(launch.HOME_ENV, str(home))
    monkeypatch.setenv("COURSE_LIB_REFERENCE", "all")
    monkeypatch.setenv("COURSE_LIB_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for name in ("VIRTUAL_ENV", "PYTHONPATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", f"{python.parent}{os.pathsep}{os.environ['PATH']}")

    nb = nbformat.read(ROOT / "notebooks" / NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    setup = next(c for c in nb.cells if c.cell_type == "code")
    assert setup.source == launch.colab_setup_cell()

    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=600, kernel_name=kernel,
                            resources={"metadata": {"path": str(content)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)  # raises on the first error

        def run(source: str) -> str:
            nb.cells.append(_code(source))
            client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
            return "".join(o.get("text", "") for o in nb.cells[-1].outputs)

        where = run("import course_lib, os, sys\n"
                    "print(course_lib.__file__, os.getcwd(), sys.executable, sep='\\n')")
        # An edit to the clone's library is used at the next cell, without a restart.
        with open(home / "course_lib" / "auctions.py", "a", encoding="utf-8") as module:
            module.write("\n\ndef colab_edit_probe():\n    return 'edited on colab'\n")
        edited = run("from course_lib import auctions\nprint(auctions.colab_edit_probe())")

    module_file, cwd, executable = where.split()
    assert Path(module_file) == home / "course_lib" / "__init__.py"
    assert Path(cwd) == home / "notebooks"
    assert Path(executable).parent == python.parent
    assert edited.strip() == "edited on colab"
    setup_text = "".join(o.get("text", "") for o in setup.outputs)
    assert f"Course ready in {home}" in setup_text
    for requirement in launch.COLAB_INSTALLS:
        assert requirement in setup_text, f"{requirement} should have been installed"

    # The editable install serves new processes too (``check`` and the CLI start them).
    probe = subprocess.run([str(python), "-c", "import course_lib; print(course_lib.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True)
    assert Path(probe.stdout.strip()) == home / "course_lib" / "__init__.py"
    # Running the cell again (a second "Run all") changes nothing and installs nothing.
    again = subprocess.run(
        [str(python), "-c", launch.colab_setup_cell()], cwd=content, capture_output=True,
        text=True, check=True, env=os.environ)
    assert "Installed: nothing new" in again.stdout

