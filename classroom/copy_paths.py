"""Every file, folder, ``make`` target and module that a copy of the course names is in it.

``check_paths(out)`` reads the copy's README and every cell of its notebooks and reports each
name that the copy lacks; ``classroom.release`` runs it on the student copy, which leaves out
the teacher's files (benchmarks, the website, the Colab rehearsal), so that a learner is never
sent to one of them. The rules for what counts as a name are in the notes below.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

# check_paths reads the copy's README and every cell of its notebooks: the Markdown, and the
# source of code cells (their strings and comments can print text too). What counts as a name:
#
# * Markdown link and image targets (``[text](target)``, ``[id]: target``, ``src=``/``href=``
#   attributes) are paths, except URLs with a scheme (``https:``, ``mailto:``), anchors
#   (``#...``) and absolute paths (``/content/...`` lies outside the copy). In code, a link
#   target counts only if it looks like a path (below): ``layers[0](x)`` is a call.
# * A backticked token without spaces is a path if it looks like one: it ends in ``/``, or
#   its name ends in one of ``EXTENSIONS``, or it holds a ``/`` and starts with a folder of
#   the copy (``course_lib/envs``). So ``owner/repo``, Gymnasium ids (``Org/Env-v0``) and
#   ``1/n`` are not paths, nor are tokens with placeholders (``tests/test_<module>.py``),
#   options (``--json``) or backslashes (``.venv\Scripts\activate``).
# * A backticked text with spaces, a line of a fenced block that is not Python, and a code
#   cell's ``!`` lines are shell commands, split at ``&&``, ``||``, ``;`` and ``|``, with
#   ``VAR=value`` prefixes and ``# comments`` dropped: ``make T ...`` names the targets T;
#   ``python X``, ``jupyter lab X``, ``. X``, ``source X`` and ``pip install -r X`` name the
#   path X (unless it is absolute or holds a variable or placeholder); ``python -m pkg.mod``
#   names a module, checked when ``pkg`` is a folder of the copy. Other arguments are not
#   checked (``--json out.json`` is written, not read), and ``make`` outside backticks is
#   English ("make sure"), not a command.
#
# A path must exist relative to the copy's root or, in a notebook, to ``notebooks/``, or lie
# under a plain entry (no wildcard) of the copy's ``.gitignore`` (made by setting up or running
# the course).

EXTENSIONS = frozenset({".py", ".ipynb", ".md", ".txt", ".toml", ".json", ".cfg", ".ini",
                        ".yml", ".yaml", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".pt",
                        ".csv", ".zip", ".sh", ".html"})
PYTHON_FENCES = frozenset({"python", "py", "python3", "ipython", "pycon"})
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$",
                    re.DOTALL | re.MULTILINE)
_SPAN = re.compile(r"(?<!`)(`+)(?!`)((?:(?!\n[ \t]*\n).)+?)(?<!`)\1(?!`)", re.DOTALL)
_SPAN_IN_CODE = re.compile(r"(?<!`)(`+)(?!`)([^\n]+?)(?<!`)\1(?!`)")
_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)")
_REFERENCE_LINK = re.compile(r"^[ \t]*\[(?!\^)[^\]\n]+\]:[ \t]*<?([^\s>]+)", re.MULTILINE)
_HTML_LINK = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""")
_SCHEME = re.compile(r"[A-Za-z][\w+.-]*:")
_PATHLIKE = re.compile(r"[\w.+-]+(?:/[\w.+-]*)*")
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=")
_PYTHON = re.compile(r"(.*/)?python[\d.]*|py")


def _command_names(command: str) -> list[tuple[str, str]]:
    """``(kind, name)`` for what a shell command line names (see the notes above): kinds
    ``make``, ``path`` and ``module``."""
    found = []
    command = re.sub(r"(^|\s)#.*", "", command)
    for part in re.split(r"&&|\|\||[;|]", command):
        words = part.split()
        while words and (_ASSIGNMENT.match(words[0]) or words[0] == "$"):
            words.pop(0)
        if not words:
            continue
        head, args = words[0].lstrip("!%"), words[1:]
        if _PYTHON.fullmatch(head):
            if args[:2] == ["-m", "pip"]:
                head, args = "pip", args[2:]
            elif args[:1] == ["-m"] and len(args) > 1:
                found.append(("module", args[1]))
            elif args and not args[0].startswith("-"):
                found.append(("path", args[0]))
        if head == "make" and not {"-C", "-f", "--file", "--directory"} & set(args):
            found += [("make", w) for w in args
                      if not w.startswith("-") and "=" not in w and not w.isdigit()]
        elif head in ("pip", "pip3"):
            found += [("path", value) for flag, value in zip(args, args[1:], strict=False)
                      if flag in ("-r", "--requirement")]
        elif head in (".", "source") and args:
            found.append(("path", args[0]))
        elif head == "jupyter" and args[:1] in (["lab"], ["notebook"]) and len(args) > 1:
            found += [("path", args[1])] if not args[1].startswith("-") else []
    return found


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _blank(text: str, match: re.Match) -> str:
    """``text`` with ``match`` replaced by spaces (its newlines kept, so lines still count)."""
    return (text[:match.start()] + re.sub(r"[^\n]", " ", match.group())
            + text[match.end():])


def _span_names(content: str) -> list[tuple[str, str]]:
    content = " ".join(content.split())
    return _command_names(content) if " " in content else [("token", content)]


def _code_names(code: str) -> list[tuple[int, str, str]]:
    """``(line, kind, name)`` for what code names: backticked tokens and commands in its
    strings and comments, link targets, and its shell (``!``) lines."""
    found = []
    shell = re.match(r"%%(bash|sh|script)\b", code)
    for number, line in enumerate(code.splitlines(), 1):
        if (shell and number > 1) or line.lstrip().startswith("!"):
            found += [(number, kind, name) for kind, name in _command_names(line.lstrip())]
            continue
        for match in _SPAN_IN_CODE.finditer(line):
            found += [(number, kind, name) for kind, name in _span_names(match.group(2))]
        for match in (*_LINK.finditer(line), *_HTML_LINK.finditer(line)):
            found.append((number, "token", match.group(1)))
    return found


def _markdown_names(text: str) -> list[tuple[int, str, str]]:
    """``(line, kind, name)`` for what Markdown names (see the notes above); kinds ``link``
    (a path unless a URL or an anchor), ``token`` (a path if it looks like one), ``path``,
    ``make`` and ``module``."""
    found = []
    for fence in _FENCE.finditer(text):
        first = _line(text, fence.start(3))
        if fence.group(2).lower() in PYTHON_FENCES:
            found += [(first + n - 1, kind, name) for n, kind, name in _code_names(fence.group(3))]
        else:
            body = re.sub(r"\\\n", " ", fence.group(3))  # continued lines: one command
            found += [(first + n, kind, name) for n, line in enumerate(body.splitlines())
                      for kind, name in _command_names(line)]
        text = _blank(text, fence)
    for span in _SPAN.finditer(text):
        found += [(_line(text, span.start()), kind, name)
                  for kind, name in _span_names(span.group(2))]
        text = _blank(text, span)
    for pattern in (_LINK, _REFERENCE_LINK, _HTML_LINK):
        found += [(_line(text, m.start()), "link", m.group(1)) for m in pattern.finditer(text)]
    return found


def _makefile_targets(out: Path) -> set[str]:
    """The targets the copy's Makefile defines (none without a Makefile)."""
    path = out / "Makefile"
    if not path.exists():
        return set()
    targets = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        rule = re.match(r"([^\s#:=][^:=#]*?)\s*::?(?!=)", line)
        if rule:
            targets.update(t for t in rule.group(1).split()
                           if "$" not in t and not t.startswith("."))
    return targets


def _generated(out: Path) -> list[str]:
    """The plain entries of the copy's ``.gitignore``: what setting up or running it makes."""
    path = out / ".gitignore"
    if not path.exists():
        return []
    entries = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [e.strip("/") for e in entries
            if e and not e.startswith(("#", "!")) and not any(c in e for c in "*?[")]


def check_paths(out: Path) -> list[str]:
    """Every path, ``make`` target and ``python -m`` module of the course that the copy's
    README and notebooks (Markdown cells and code cells) name is in the copy; the rules are in
    the notes above ``EXTENSIONS``."""
    import nbformat

    out = Path(out)
    texts = []  # (where, in a notebook, Markdown, text)
    if (out / "README.md").exists():
        texts.append(("README.md", False, True, (out / "README.md").read_text(encoding="utf-8")))
    for path in sorted((out / "notebooks").glob("*.ipynb")):
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
            code = cell.cell_type == "code"
            texts.append((f"{path.relative_to(out)} cell {i}" + (" (code)" if code else ""),
                          True, not code, cell.source))
    targets = _makefile_targets(out)
    generated = _generated(out)

    def missing(path: str, in_notebook: bool) -> bool:
        for base in ("", "notebooks") if in_notebook else ("",):
            full = posixpath.normpath(posixpath.join(base, path))
            if full == ".." or full.startswith("../"):
                continue
            if (out / full).exists() or any(full == g or full.startswith(g + "/")
                                            for g in generated):
                return False
        return True

    def looks_like_path(token: str, in_notebook: bool) -> bool:
        if not _PATHLIKE.fullmatch(token) or token.startswith("-") or "..." in token:
            return False
        if token.endswith("/") or PurePosixPath(token).suffix.lower() in EXTENSIONS:
            return True
        top = token.split("/")[0]
        return "/" in token and ((out / top).is_dir()
                                 or (in_notebook and (out / "notebooks" / top).is_dir()))

    problems = []
    for where, in_notebook, markdown, text in texts:
        names = _markdown_names(text) if markdown else _code_names(text)
        for line, kind, name in names:
            at = f"{where} line {line}" if where == "README.md" else where
            if kind in ("link", "token", "path"):
                path = unquote(name.split("#")[0].split("?")[0])
                if kind == "link" and (not path or _SCHEME.match(name) or name[0] in "/~#"):
                    continue
                if kind == "token" and not looks_like_path(path, in_notebook):
                    continue
                if kind == "path" and not _PATHLIKE.fullmatch(path):  # $HOME/x, /abs, <a>
                    continue
                if missing(path, in_notebook):
                    problems.append(f"{at}: {path} is not in the copy")
            elif kind == "make" and name not in targets:
                problems.append(f"{at}: `make {name}`: the copy's Makefile has no such target")
            elif kind == "module" and (out / name.split(".")[0]).is_dir():
                module = out / name.replace(".", "/")
                if not any(p.exists() for p in (module.with_suffix(".py"),
                                                module / "__init__.py", module / "__main__.py")):
                    problems.append(f"{at}: `python -m {name}`: no such module in the copy")
    return list(dict.fromkeys(problems))
