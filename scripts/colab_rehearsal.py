"""The Colab path, rehearsed on Colab's own package versions (``make colab``; CI runs it).

1. Build a Python of the version Colab runs, holding exactly the packages and versions that
   Colab's public list gives (``tests/colab_runtime.toml``); nothing of the course. The
   environment is kept under ``build/colab-rehearsal/`` and reused while the list is the same
   (whatever a rehearsal installed into it is taken out again first).
2. Snapshot this checkout as a git repository: what the set-up cell clones instead of GitHub.
3. Run every notebook as Colab would: it arrives alone in Colab's working folder, and its first
   cell (the Colab set-up cell, detection forced on) clones the course and installs what Colab
   lacks. Each notebook runs twice, in learner mode (no reference solutions: the only errors
   allowed are the one-line messages naming an exercise) and with the references on (no error).
   Quick budgets, the kernel's own plotting backend (figures come back as images), in a kernel
   of that Python.
4. Judge what came back: the set-up cell and ``setup_notebook`` ran cleanly (autoreload on);
   every interactive widget was displayed as a widget; the set-up cell installed exactly the
   course's requirements that Colab lacks and changed none of Colab's packages (its pygame
   included); an edit to the clone's ``course_lib`` is used at the next cell; the editable
   install serves a new process; running the set-up cell again installs nothing.

Usage:
    python scripts/colab_rehearsal.py [--jobs 2] [--notebooks 01 04 ...] [--keep]
    python scripts/colab_rehearsal.py --prepare   # step 1 only (CI overlaps it with other work)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10, where pytest itself depends on tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from build_notebooks import WIDGET_PLACEHOLDER  # noqa: E402
from walkthrough import errors_in, stops_in, unfriendly  # noqa: E402

from course_lib import launch  # noqa: E402
from course_lib.notebook import AUTORELOAD_OFF  # noqa: E402

RUNTIME = ROOT / "tests" / "colab_runtime.toml"
CACHE = ROOT / "build" / "colab-rehearsal"
KERNEL = "colab-rehearsal"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# A widget that failed to display falls back to its repr, e.g. "<course_lib.widgets.X at 0x7f…>".
BARE_REPR = re.compile(r"<course_lib\.[\w.]+ (object )?at 0x[0-9a-f]+>")
READY = "course_lib ready"


# ---------------------------------------------------------------------------------------------
# 1. Colab's Python


def load_runtime(path: Path = RUNTIME) -> dict:
    """The pinned runtime: ``python`` (a "3.X" string), ``packages`` {name: version}, dates."""
    with open(path, "rb") as file:
        runtime = tomllib.load(file)
    if not re.fullmatch(r"3\.\d+", str(runtime.get("python", ""))):
        raise ValueError(f"{path}: python must be a '3.X' string, got {runtime.get('python')!r}")
    packages = runtime.get("packages")
    if not packages or not all(isinstance(v, str) for v in packages.values()):
        raise ValueError(f"{path}: [packages] must map names to version strings")
    return runtime


def find_python(version: str) -> Path:
    """An interpreter of ``version`` ("3.13"): the newest pyenv has, or one on PATH."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"),
                        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parents[1].name)],
                        reverse=True)
    on_path = shutil.which(f"python{version}")
    candidates += [Path(on_path)] if on_path else []
    for python in candidates:
        answer = subprocess.run([str(python), "-c", "import sys; print(*sys.version_info[:2])"],
                                capture_output=True, text=True)
        if answer.returncode == 0 and answer.stdout.split() == version.split("."):
            return python
    raise SystemExit(f"colab rehearsal: no Python {version} found (under {pyenv_root}/versions "
                     f"or on PATH as python{version}): install it, e.g. `pyenv install "
                     f"{version}`")


def _freeze(python: Path) -> dict[str, str]:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    return {_canonical(p["name"]): p["version"] for p in json.loads(out)}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(packages: dict[str, str], names) -> list[str]:
    return [f"{name}=={packages[name]}" for name in names]


def colab_python(runtime: dict, cache: Path = CACHE) -> Path:
    """A virtual environment holding exactly the pinned packages, built once and reused."""
    packages = {_canonical(k): v for k, v in runtime["packages"].items()}
    key = hashlib.sha256(json.dumps([runtime["python"], sorted(packages.items())])
                         .encode()).hexdigest()[:12]
    env = cache / f"python-{runtime['python']}-{key}"
    python = env / "bin" / "python"
    pristine = env / "pristine.json"
    if pristine.is_file() and python.is_file():
        _restore(python, json.loads(pristine.read_text()), packages)
        return python
    shutil.rmtree(env, ignore_errors=True)
    started = time.perf_counter()
    base = find_python(runtime["python"])
    subprocess.run([str(base), "-m", "venv", str(env)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if "pip" in packages:
        subprocess.run([*pip, *_pins(packages, ["pip"])], check=True)
    subprocess.run([*pip, *_pins(packages, sorted(set(packages) - {"pip"}))], check=True)
    frozen = _freeze(python)
    wrong = {n: (v, frozen.get(n)) for n, v in packages.items() if frozen.get(n) != v}
    if wrong:
        raise SystemExit(f"colab rehearsal: the environment does not hold the pins: {wrong}")
    pristine.write_text(json.dumps(frozen, indent=1, sort_keys=True))
    print(f"built Colab's Python {runtime['python']} with {len(packages)} pinned packages "
          f"({len(frozen)} in all) in {time.perf_counter() - started:.0f} s", flush=True)
    return python


# Names of the installed distributions that miss some of their files: uninstalling one that
# had overwritten another's files (pygame-ce over pygame) takes those files away from both.
# (RECORD is read line by line: some of pygame's file names trip up the csv reader that
# ``Distribution.files`` uses, which then sees only part of the list.)
_DAMAGED = """
from importlib import metadata
for dist in metadata.distributions():
    paths = (line.rsplit(",", 2)[0].strip('"') for line in
             (dist.read_text("RECORD") or "").splitlines() if line.strip())
    if any(not dist.locate_file(p).exists() for p in paths if not p.endswith(".pyc")):
        print(dist.metadata["Name"])
"""


def _restore(python: Path, pristine: dict[str, str], packages: dict[str, str]) -> None:
    """Take out what an earlier rehearsal installed; put back what it changed or damaged."""
    now = _freeze(python)
    extra = sorted(set(now) - set(pristine))
    if extra:
        subprocess.run([str(python), "-m", "pip", "uninstall", "--quiet", "--yes", *extra],
                       check=True)
    damaged = subprocess.run([str(python), "-c", _DAMAGED], capture_output=True, text=True,
                             check=True).stdout.split()
    redo = sorted({n for n, v in pristine.items() if now.get(n) != v}
                  | {_canonical(n) for n in damaged})
    if redo:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps",
                        "--force-reinstall", *(f"{n}=={pristine[n]}" for n in redo)], check=True)
    if extra or redo:
        print(f"restored the Colab environment (removed {extra}, reinstalled {redo})")
    assert all(_freeze(python).get(n) == v for n, v in packages.items())


# ---------------------------------------------------------------------------------------------
# 2. The clone's source


def snapshot(dest: Path) -> Path:
    """A git repository holding this checkout's files as they are now, on the course's branch."""
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


# ---------------------------------------------------------------------------------------------
# 3. Running notebooks as Colab would


def kernel_environment(python: Path, work: Path, repo: Path) -> dict[str, str]:
    """The environment of a rehearsal kernel: Colab detection forced, clone from ``repo``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "MPLBACKEND", "COURSE_LIB_REFERENCE")}
    kernels = work / "jupyter" / "kernels" / KERNEL
    kernels.mkdir(parents=True, exist_ok=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab rehearsal", "language": "python"}))
    env.update({
        "JUPYTER_PATH": str(work / "jupyter"),
        launch.FORCE_COLAB_ENV: "1",
        launch.REPO_ENV: repo.as_uri(),
        launch.HOME_ENV: str(content_folder(work) / launch.REPO_NAME),
        "COURSE_LIB_QUICK": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # the kernel's debugger: no frozen-module notes
        # Two kernels at a time: one thread each, or their torch thread pools fight over the
        # cores (notebook 05 took 474 s that way, against about 200 s alone).
        "OMP_NUM_THREADS": "1",
        "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
    })
    return env


def content_folder(work: Path) -> Path:
    return work / "content"  # Colab's working folder; the course is cloned inside it


def execute(notebook: Path, env: dict[str, str], references: bool, work: Path):
    """Run a notebook's code cells in a fresh kernel, going on after errors; save the result."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    content = content_folder(work)
    content.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name=KERNEL, allow_errors=True,
                   resources={"metadata": {"path": str(content)}}).execute(
        env={**env, "COURSE_LIB_REFERENCE": "all" if references else ""})
    seconds = time.perf_counter() - started
    mode = "references" if references else "learner"
    nbformat.write(nb, work / "executed" / f"{notebook.stem}.{mode}.ipynb")
    return nb, seconds


# ---------------------------------------------------------------------------------------------
# 4. Judging


def _texts(cell) -> list[str]:
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            texts.append(out.get("text", ""))
        texts.extend(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
    return texts


def widget_cells(committed) -> list[int]:
    """Positions of the code cells that show a widget in the committed notebook."""
    code = [c for c in committed.cells if c.cell_type == "code"]
    return [i for i, cell in enumerate(code)
            if any(WIDGET_PLACEHOLDER in t for t in _texts(cell))]


def judge(run, committed, known: set[str], references: bool) -> list[str]:
    """What is wrong with one executed notebook (empty when nothing is)."""
    code = [c for c in run.cells if c.cell_type == "code"]
    problems = []
    setup = "".join(_texts(code[0]))
    if "Course ready in" not in setup or any(o.get("output_type") == "error"
                                             for o in code[0].outputs):
        problems.append(f"the Colab set-up cell did not finish: {setup[-300:]!r}")
    every_text = "\n".join(t for cell in code for t in _texts(cell))
    if READY not in every_text:
        problems.append("setup_notebook() did not report 'course_lib ready'")
    if AUTORELOAD_OFF in every_text:
        line = next(x for x in every_text.splitlines() if AUTORELOAD_OFF in x)
        problems.append(f"setup_notebook() could not turn autoreload on: {line}")
    for match in BARE_REPR.finditer(every_text):
        problems.append(f"an object was shown as its bare repr (a display that failed): "
                        f"{match.group()}")
    if "Traceback (most recent call last)" in every_text:
        problems.append("a traceback was printed: "
                        + every_text[every_text.index("Traceback"):][:300])
    errors = errors_in(run)
    if references:
        problems += [f"cell {cell}: {out.get('ename')}: {out.get('evalue', '')[:300]}"
                     for cell, out in errors]
        for i in widget_cells(committed):
            if not any(WIDGET_VIEW in o.get("data", {}) for o in code[i].outputs):
                shown = "; ".join(_texts(code[i]))[:200] or "nothing"
                problems.append(f"code cell {i + 1} should show a widget, showed: {shown}")
    else:
        problems += unfriendly(errors, known)
    return problems


def _one(notebook: Path, env: dict[str, str], references: bool, work: Path, known: set[str]):
    import nbformat

    run, seconds = execute(notebook, env, references, work)
    committed = nbformat.read(notebook, as_version=4)
    problems = judge(run, committed, known, references)
    setup_text = "".join(_texts(next(c for c in run.cells if c.cell_type == "code")))
    return problems, stops_in(errors_in(run)), seconds, setup_text


def installed_by_setup(setup_text: str) -> list[str]:
    """The requirements a set-up cell's summary line says it installed."""
    match = re.search(r"Installed: (.*?)\.(?: Widgets:|$)", setup_text, re.MULTILINE)
    if match is None or match.group(1) == "nothing new":
        return []
    return [item.split(" (")[0] for item in match.group(1).split(", ")]


def check_environment(python: Path, runtime: dict, installed: list[str], root: Path) -> list[str]:
    """After the notebooks: Colab's packages are as Colab has them, and the set-up cell
    installed exactly the kernel requirements that Colab lacks."""
    problems = []
    packages = {_canonical(k): v for k, v in runtime["packages"].items()}
    frozen = _freeze(python)
    for name, version in sorted(packages.items()):
        if frozen.get(name) != version:
            problems.append(f"Colab's {name} {version} became {frozen.get(name)}")
    lacking = [r for r in launch.colab_requirements(root)
               if _canonical(r.partition(">=")[0]) not in packages]
    if sorted(installed) != sorted(lacking):
        problems.append(f"the set-up cell installed {installed}; Colab lacks {lacking}")
    if "pygame" in packages:
        for clash in ("pygame-ce",):
            if clash in frozen:
                problems.append(f"{clash} {frozen[clash]} was installed over Colab's pygame")
        probe = subprocess.run([str(python), "-c", "import pygame, minigrid; "
                                "print(pygame.version.ver)"], capture_output=True, text=True)
        seen = (probe.stdout.strip().splitlines() or [""])[-1]  # after pygame's greeting
        if seen != packages["pygame"]:
            problems.append(f"pygame after the set-up: {seen or probe.stderr[-300:]}")
    return problems


def edit_probe(env: dict[str, str], work: Path) -> list[str]:
    """An edit to the clone's course_lib is used at the next cell (autoreload), the editable
    install serves a new process, and a second set-up run installs nothing."""
    import nbformat
    from nbclient import NotebookClient

    home = Path(env[launch.HOME_ENV])
    module = home / "course_lib" / "auctions.py"
    original = module.read_text(encoding="utf-8")
    cells = [launch.colab_setup_cell(),
             "from course_lib.notebook import setup_notebook\nsetup_notebook()",
             "from course_lib import auctions\nimport course_lib, os, sys\n"
             "print(course_lib.__file__, os.getcwd(), sep='\\n')"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(nb, timeout=600, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(content_folder(work))}})
    problems = []
    try:
        with client.setup_kernel(env={**env, "COURSE_LIB_REFERENCE": "all"}):
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            where = "".join(_texts(nb.cells[-1])).split()
            module.write_text(original + "\n\ndef colab_edit_probe():\n"
                              "    return 'edited on colab'\n", encoding="utf-8")
            later = time.time() + 5
            os.utime(module, (later, later))
            nb.cells.append(nbformat.v4.new_code_cell("print(auctions.colab_edit_probe())"))
            client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
            edited = "".join(_texts(nb.cells[-1])).strip()
    except Exception as error:  # a cell failed: report it, with what the cells printed
        shown = " | ".join("".join(_texts(c))[-200:] for c in nb.cells)
        return [f"edit probe: {type(error).__name__}: {str(error)[:300]} ({shown})"]
    finally:
        module.write_text(original, encoding="utf-8")
    if where != [str(home / "course_lib" / "__init__.py"), str(home / "notebooks")]:
        problems.append(f"edit probe: course_lib and the working folder were {where}")
    if edited != "edited on colab":
        problems.append(f"edit probe: the edit was not picked up at the next cell: {edited!r}")
    python = Path(env["PATH"].split(os.pathsep)[0]) / "python"
    probe = subprocess.run([str(python), "-c", "import course_lib; print(course_lib.__file__)"],
                           cwd=work, capture_output=True, text=True, env=env)
    if probe.stdout.strip() != str(home / "course_lib" / "__init__.py"):
        problems.append(f"a new process imports course_lib from {probe.stdout or probe.stderr}")
    again = subprocess.run([str(python), "-c", launch.colab_setup_cell()],
                           cwd=content_folder(work), capture_output=True, text=True, env=env)
    if "Installed: nothing new" not in again.stdout:
        problems.append(f"a second set-up run: {(again.stdout + again.stderr)[-300:]!r}")
    return problems


# ---------------------------------------------------------------------------------------------


def rehearse(notebooks: list[Path], jobs: int, work: Path) -> list[str]:
    from course_lib.exercises import catalog

    runtime = load_runtime()
    print(f"Colab runtime: Python {runtime['python']}, {len(runtime['packages'])} packages "
          f"(listed {runtime['listed']}, read {runtime['read']}, {runtime['source']})",
          flush=True)
    python = colab_python(runtime)
    version = subprocess.run([str(python), "--version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    (work / "executed").mkdir(parents=True, exist_ok=True)
    repo = snapshot(work / "repo")
    env = kernel_environment(python, work, repo)
    os.environ["JUPYTER_PATH"] = env["JUPYTER_PATH"]  # where this process finds the kernel
    known = {row["id"] for row in catalog()}
    # The first run starts the "session": its set-up cell clones and installs; the others find
    # everything there (running them all at once would have several pips install at once).
    # Then the longest first (with references on, the later chapters train the most), so that
    # no long run starts last.
    runs = [(notebooks[0], False)] + sorted(
        ((nb, references) for nb in notebooks for references in (True, False)
         if (nb, references) != (notebooks[0], False)),
        key=lambda run: (not run[1], [-ord(c) for c in run[0].name]))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        results = {runs[0]: pool.submit(_one, runs[0][0], env, runs[0][1], work, known).result()}
        futures = {run: pool.submit(_one, run[0], env, run[1], work, known) for run in runs[1:]}
        results.update({run: future.result() for run, future in futures.items()})

    print(f"\n{version}; {'notebook':<36} {'learner mode: stops at':<26} {'s':>4}  "
          f"{'references on':<14} {'s':>4}")
    problems = []
    for nb in notebooks:
        learner, reference = results[(nb, False)], results[(nb, True)]
        problems += [f"{nb.name} (learner mode): {p}" for p in learner[0]]
        problems += [f"{nb.name} (references on): {p}" for p in reference[0]]
        status = "problems" if reference[0] else "no error"
        print(f"{'':<{len(version) + 2}}{nb.name:<36} {', '.join(learner[1]) or '-':<26} "
              f"{learner[2]:>4.0f}  {status:<14} {reference[2]:>4.0f}")
    installed = installed_by_setup(results[runs[0]][3])
    print(f"\nthe first set-up cell installed: {', '.join(installed) or 'nothing'}")
    problems += check_environment(python, runtime, installed, repo)
    problems += edit_probe(env, work)
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebook runs at a time (default 2)")
    parser.add_argument("--notebooks", nargs="*", default=[],
                        help="chapter numbers or file names (default: every notebook)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder (clone, executed notebooks)")
    parser.add_argument("--prepare", action="store_true",
                        help="only build (or check) Colab's Python, for a rehearsal later")
    args = parser.parse_args(argv)
    if args.prepare:
        print(f"Colab's Python ready: {colab_python(load_runtime())}")
        return 0
    every = sorted((ROOT / "notebooks").glob("*.ipynb"))
    chosen = [nb for nb in every if not args.notebooks
              or any(nb.name.startswith(a) or nb.name == a for a in args.notebooks)]
    if not chosen:
        parser.error(f"no notebook matches {args.notebooks}")
    work = Path(tempfile.mkdtemp(prefix="colab-rehearsal-"))
    started = time.perf_counter()
    try:
        problems = rehearse(chosen, max(1, args.jobs), work)
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for problem in problems:
        print("PROBLEM:", problem)
    print(f"Colab rehearsal: {'FAILED' if problems else 'passed'} "
          f"({time.perf_counter() - started:.0f} s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
