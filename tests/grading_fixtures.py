"""Submissions for the autograder's tests, built on the fly (nothing here holds answers: a
correct submission is assembled from solutions/, which only the repository has)."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from course_lib.exercises import catalog

ROOT = Path(__file__).resolve().parents[1]


def _solved_source(module_file: str, only: set[str] | None = None) -> str:
    """The module's source with the bodies of its exercises (all, or those in ``only``)
    replaced by the reference bodies from solutions/, and the imports those need."""
    path = ROOT / module_file
    source = path.read_text().splitlines(keepends=True)
    module = ".".join(Path(module_file).with_suffix("").parts)
    solution = ROOT / "solutions" / Path(module_file).relative_to("course_lib")
    sol_text = solution.read_text()
    sol_tree = ast.parse(sol_text)
    sol_lines = sol_text.splitlines(keepends=True)
    bodies = {n.name: n for n in sol_tree.body if isinstance(n, ast.FunctionDef)}
    imports = [ast.get_source_segment(sol_text, n) for n in sol_tree.body
               if isinstance(n, (ast.Import, ast.ImportFrom))
               and not (isinstance(n, ast.ImportFrom) and n.module in (module, "__future__"))]
    ids = {row["function"]: row["id"] for row in catalog() if row["file"] == module_file}
    tree = ast.parse("".join(source))
    edits = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in ids and (
                only is None or ids[node.name] in only):
            sol = bodies[node.name]
            first = sol.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                first = sol.body[1]
            new_body = "".join(sol_lines[first.lineno - 1:sol.end_lineno])
            stub = node.body[1] if isinstance(node.body[0], ast.Expr) else node.body[0]
            start = stub.lineno - 1
            while start > 0 and source[start - 1].strip().startswith("#"):
                start -= 1  # the TODO comment goes too
            edits.append((start, node.end_lineno, new_body))
    for start, end, text in sorted(edits, reverse=True):
        source[start:end] = [text]
    text = "".join(source)
    marker = "from __future__ import annotations\n"
    return text.replace(marker, marker + "\n" + "\n".join(imports) + "\n", 1)


def make_submission(dest: Path, solved: set[str] | None = None,
                    extra: dict[str, str] | None = None) -> Path:
    """A learner's course_lib under ``dest``: the exercises in ``solved`` (None: all) solved
    with the reference bodies, the others left as stubs; ``extra`` appends code to modules
    (file -> text), for hostile submissions."""
    lib = dest / "course_lib"
    shutil.copytree(ROOT / "course_lib", lib, ignore=shutil.ignore_patterns("__pycache__"))
    for module_file in sorted({row["file"] for row in catalog()}):
        wanted = None if solved is None else {
            row["id"] for row in catalog() if row["file"] == module_file} & solved
        if wanted is None or wanted:
            (dest / module_file).write_text(_solved_source(module_file, wanted))
    for module_file, text in (extra or {}).items():
        path = dest / module_file
        path.write_text(path.read_text() + "\n" + text)
    return dest
