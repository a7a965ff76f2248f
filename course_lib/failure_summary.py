"""Failures in a few lines: what was called, what came back, where and how a test failed.

``check()`` (course_lib.exercises) runs an exercise's public tests in the learner's process
and shows each failure through ``summarise_failure``: the last call of the exercise and what
it returned, the test line that failed (and the line of the course's code beneath it), and the
informative part of the failure: pytest's comparison, numpy's mismatch with its two arrays
labelled, the example hypothesis found. Long output is cut to a few lines of ``WIDTH``
characters, each cut marked with '…' (``shows_cut`` finds them, so that the report can say
how to see the rest); ``check(id, verbose=True)`` shows it in full, the call with every
argument and what came back (``call_details``) above pytest's own report.
"""

from __future__ import annotations

import ast
import io
import linecache
import re
import tokenize
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
# The exercise plumbing: its frames say nothing about where a learner's code or a test failed.
_PLUMBING = frozenset(Path(__file__).resolve().parent / name
                      for name in ("exercises.py", "failure_summary.py"))

def relative(path: str | Path) -> str:
    """``path`` relative to the repository root where it lies inside it (as messages show it)."""
    try:
        return Path(path).resolve().relative_to(REPO_ROOT.resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


WIDTH = 100  # characters of one line of a failure summary
_MAX_LINES = 12  # lines of one failure summary; the rest is cut with a marker
DETAILED = 3  # failing tests shown in full summary; further ones get one line each
_MORE = "…"

# Left out of the short summary (the full output keeps them): pytest's advice, which does not
# apply inside check(), and numpy's largest differences (its ACTUAL and DESIRED say more).
_NOISE = re.compile(r"^(\.\.\.)?\s*(Use -v+ to get more diff|Full output truncated"
                    r"|Max (absolute|relative) difference)")
_ARRAY_LABEL = re.compile(r"^\s*(ACTUAL|DESIRED|x|y): ")  # numpy's two arrays
_MISMATCH_ITEM = re.compile(r"^\s*\[[\d, ]*\]: ")  # numpy's list of mismatched indices


def walk_traceback(tb: Any) -> Iterable[Any]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


def is_course_file(filename: str) -> bool:
    """Whether a traceback frame lies in the course's own code or tests (not in a library,
    not in this module's plumbing)."""
    if filename.startswith("<"):  # <frozen importlib._bootstrap>, <string>
        return False
    path = Path(filename).resolve()
    if path in _PLUMBING or not path.is_relative_to(REPO_ROOT.resolve()):
        return False
    return not {".venv", "venv", "site-packages"} & set(path.parts)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def cut(text: str, width: int = WIDTH) -> str:
    """``text`` in at most ``width`` characters with a '…' marker, cut after a space or an
    opening bracket or comma (so not inside a word or number, unless one fills the line)."""
    if len(text) <= width:
        return text
    head = text[: width - 2]
    breaks = [m.end() for m in re.finditer(r"[ ,(\[{]", head) if m.end() > width // 3]
    return head[: breaks[-1] if breaks else len(head)].rstrip() + " " + _MORE


def _full_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as err:  # a broken __repr__ must not hide the failure itself
        return f"<repr failed: {type(err).__name__}>"


def _short_repr(value: Any, width: int) -> str:
    return cut(_one_line(_full_repr(value)), width)


def _cap(lines: list[str], limit: int = _MAX_LINES) -> list[str]:
    """At most ``limit`` lines, the last one saying how many were left out."""
    if len(lines) <= limit:
        return lines
    return lines[: limit - 1] + [f"{_MORE} ({len(lines) - limit + 1} more lines)"]


def _compact_numpy(lines: list[str]) -> list[str]:
    """numpy's messages: each array on one line (cut later), at most 3 mismatched indices."""
    out: list[str] = []
    items = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if _ARRAY_LABEL.match(line):  # the array's repr goes on over indented lines
            block = [line.strip()]
            while i < len(lines) and lines[i].startswith(" ") and not _ARRAY_LABEL.match(lines[i]):
                block.append(lines[i].strip())
                i += 1
            out.append(" ".join(block))
            continue
        items = items + 1 if _MISMATCH_ITEM.match(line) else 0
        if items <= 3:
            out.append(line)
        elif items == 4:
            out[-1] += f" {_MORE}"
    return out


def _message_lines(exc: BaseException, text: str | None = None) -> list[str]:
    """The informative lines of an exception's message (its type too, unless an assertion)."""
    text = str(exc) if text is None else text
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    lines = _compact_numpy([line for line in lines if not _NOISE.match(line)])
    if isinstance(exc, AssertionError):
        return lines or ["AssertionError (the assertion has no message)"]
    kind = type(exc).__name__
    return [f"{kind}: {lines[0]}"] + lines[1:] if lines else [kind]


def _compact_example(note: str) -> list[str]:
    """hypothesis' "Falsifying example: test(\\n    x=1,\\n)" on one line when it fits."""
    lines = note.splitlines()
    if len(lines) > 2 and lines[0].endswith("(") and lines[-1].strip() == ")":
        one = lines[0] + " ".join(line.strip() for line in lines[1:-1]).rstrip(",") + ")"
        if len(one) <= WIDTH:
            return [one]
    return lines


def _notes(exc: BaseException) -> list[str]:
    """The notes hypothesis (or a test) attached: the falsifying example first of all.
    Left out: the "Explanation" block (lines run by failing cases) and how to replay the
    failure with ``@reproduce_failure``; the full output keeps them."""
    kept: list[str] = []
    in_explanation = False
    for note in getattr(exc, "__notes__", None) or []:
        note = str(note)
        if note.startswith("Explanation:"):
            in_explanation = True
            continue
        if (in_explanation and note.startswith(" ")) or "reproduce_failure" in note:
            continue
        in_explanation = False
        kept += _compact_example(note)
    return kept


def sub_exceptions(exc: BaseException) -> list[BaseException]:
    subs = getattr(exc, "exceptions", None)  # an ExceptionGroup (hypothesis: several failures)
    if isinstance(subs, (list, tuple)) and subs and all(isinstance(s, BaseException) for s in subs):
        return list(subs)
    return []



def _without_comments(source: str) -> str:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return source
    return tokenize.untokenize(t for t in tokens if t.type != tokenize.COMMENT)


def _statement(entry: Any) -> str:
    """The whole statement of a traceback entry, on one line, without comments."""
    try:
        source = str(entry.statement)
    except Exception:  # no source (e.g. code run from a string)
        source = linecache.getline(str(entry.path), entry.lineno + 1)
    return _one_line(_without_comments(source))


def _failure_site(exc: BaseException, test_file: Path | None) -> tuple[list[str], Any]:
    """Where the test failed: its own line and, if the failure happened deeper in the course's
    code (a helper of the tests, the learner's function), that line too. Also returns the
    innermost such traceback entry (to read the assert there)."""
    import pytest

    if exc.__traceback__ is None:
        return [], None
    entries = [e for e in pytest.ExceptionInfo.from_exception(exc).traceback
               if is_course_file(str(e.path))]
    if not entries:
        return [], None
    in_test = [e for e in entries if test_file is not None
               and Path(e.path).resolve() == test_file.resolve()
               and not _statement(e).startswith("@")]  # hypothesis' frame at the decorator
    shown = [in_test[0] if in_test else entries[0]]
    if entries[-1] is not shown[0]:
        shown.append(entries[-1])
    lines = [cut(f"{label}{relative(e.path)}, line {e.lineno + 1}: {_statement(e)}")
             for label, e in zip(("failed:   ", "          "), shown, strict=False)]
    return lines, entries[-1]


def _labelled_message(entry: Any, text: str) -> tuple[list[str], str]:
    """For ``assert got == expected, (got, expected)``: name the values of the message
    (``got = ...``, ``expected = ...``) instead of printing them as a bare tuple."""
    try:
        node = ast.parse(_statement(entry)).body[0]
    except (SyntaxError, IndexError):
        return [], text
    if not isinstance(node, ast.Assert) or node.msg is None:
        return [], text
    names = node.msg.elts if isinstance(node.msg, ast.Tuple) else [node.msg]
    if not names or not all(isinstance(n, ast.Name) for n in names):
        return [], text
    scope = entry.frame.f_locals
    if not all(n.id in scope for n in names):
        return [], text
    values = [scope[n.id] for n in names]
    if not isinstance(node.msg, ast.Tuple) and isinstance(values[0], str):
        return [], text  # a message in words: shown as it is
    shown = str(tuple(values) if isinstance(node.msg, ast.Tuple) else values[0])
    if not text.startswith(shown):
        return [], text
    labels = [f"{n.id} = {_short_repr(v, WIDTH - len(n.id) - 3)}"
              for n, v in zip(names, values, strict=True)]
    return labels, text[len(shown):]


def _call_lines(call: dict[str, Any] | None) -> list[str]:
    """The last call of the checked exercise during the test and what it returned."""
    if not call:
        return []
    parts = [_short_repr(a, 40) for a in call["args"]]
    parts += [f"{k}={_short_repr(v, 40)}" for k, v in call["kwargs"].items()]
    lines = [cut(f"called:   {call['function']}({', '.join(parts)})")]
    if "returned" in call:
        lines.append("returned: " + _short_repr(call["returned"], WIDTH - 10))
    return lines


def _placed(label: str, text: str) -> list[str]:
    """``label`` then ``text``; the further lines of a multi-line repr (a 2-D array) are
    indented by the label's width, so that they stay aligned under its first line."""
    first, *rest = text.splitlines() or [""]
    return [label + first] + [" " * len(label) + line for line in rest]


def call_details(exc: BaseException, call: dict[str, Any] | None) -> list[str]:
    """The last call of the checked exercise and what it returned, nothing cut: for the
    verbose report, whose pytest part shows neither. Empty when there is no call to show (the
    exercise was not reached, is not solved yet, or hypothesis found several failures, which
    the last call cannot stand for)."""
    if not call or _is_unsolved(exc) or sub_exceptions(exc):
        return []
    parts = [("", _full_repr(a)) for a in call["args"]]
    parts += [(f"{k}=", _full_repr(v)) for k, v in call["kwargs"].items()]
    label = "called:   "
    one = f"{call['function']}({', '.join(name + text for name, text in parts)})"
    if "\n" not in one and len(label) + len(one) <= WIDTH:
        lines = [label + one]
    else:  # one argument a line, a multi-line repr aligned under its own start
        lines = [f"{label}{call['function']}("]
        for name, text in parts:
            lines += _placed(" " * (len(label) + 4) + name, text + ",")
        lines.append(" " * len(label) + ")")
    if "returned" in call:
        lines += _placed("returned: ", _full_repr(call["returned"]))
    return lines


_CUT_MARK = re.compile(rf"(?:^|\s){_MORE}(?=$|[\s,)\]}}])", re.MULTILINE)


def shows_cut(text: str) -> bool:
    """Whether a summary (or a report made of summaries) left something out: a value or a
    line cut with the '…' marker, or lines dropped."""
    if not isinstance(text, str):
        raise TypeError(f"expected the text of a summary, got {type(text).__name__}")
    return _CUT_MARK.search(text) is not None


def _shown_as_actual(returned: str, message: list[str]) -> bool:
    """Whether numpy's ACTUAL line shows the same value as the "returned:" line."""
    value = returned.removeprefix("returned: ").removesuffix(" " + _MORE)
    # the "returned:" line has its spaces squeezed, numpy's line not (array([0.5 , 0.  , 1.]))
    return any(_one_line(line).startswith("ACTUAL: " + value) for line in message)


def _summary_parts(exc: BaseException, test_file: Path | None,
                   call: dict[str, Any] | None) -> tuple[list[str], list[str]]:
    """(the call, the place and the message; the notes) of one failure, each line cut."""
    site, entry = _failure_site(exc, test_file)
    labels, text = _labelled_message(entry, str(exc)) if entry is not None else ([], str(exc))
    message = _message_lines(exc, text)
    called = _call_lines(call)
    if len(called) == 2 and _shown_as_actual(called[1], message):
        called = called[:1]  # numpy's ACTUAL already shows what came back
    return ([cut(line) for line in called + site + labels + message],
            [cut(line) for line in _notes(exc)])


def _is_unsolved(exc: BaseException) -> bool:
    """Whether ``exc`` is course_lib.exercises' ExerciseNotImplementedError (told by the
    exercise id it carries; importing that module here would make the imports circular)."""
    return isinstance(exc, NotImplementedError) and hasattr(exc, "exercise_id")


def summarise_failure(exc: BaseException, test_file: Path | None = None,
                      call: dict[str, Any] | None = None) -> list[str]:
    """A few lines about one failing test: the call of the exercise and what came back, the
    test line that failed, and the informative part of the error (pytest's comparison of the
    two sides, numpy's mismatch report, the example hypothesis found)."""
    if _is_unsolved(exc):
        return [str(exc)]
    subs = sub_exceptions(exc)
    if not subs:
        head, notes = _summary_parts(exc, test_file, call)
        return _cap(head) + _cap(notes, 6)  # the example is never cut off by a long message
    # Several distinct failures (hypothesis): the first few, each with its example.
    lines = [_one_line(str(getattr(exc, "message", exc))).rstrip(".") + ":"]
    for k, sub in enumerate(subs[:3], 1):
        if _is_unsolved(sub) or sub_exceptions(sub):
            part = _cap(summarise_failure(sub, test_file), 6)
        else:
            head, notes = _summary_parts(sub, test_file, None)
            part = _cap(head, 4) + _cap(notes, 3)
        lines += [f"{k}. {part[0]}"] + [f"   {line}" for line in part[1:]]
    if len(subs) > 3:
        lines.append(f"{_MORE} and {len(subs) - 3} more")
    return lines


_CONTEXT = re.compile(r"^(called: |returned: |failed: |          |\w+ = )")


def headline(message: str) -> str:
    """The line of a summary that says most in one line: the error, not its context (the
    call, the place, the named values)."""
    lines = message.splitlines()
    fallback = lines[0] if lines else ""
    return next((line for line in lines if not _CONTEXT.match(line)), fallback)


def summarise_text(text: str) -> list[str]:
    """A failure known only as text (pytest's report): its informative lines."""
    for prefix in ("course_lib.exercises.ExerciseNotImplementedError: ", "AssertionError: "):
        text = text.replace(prefix, "")
    return _cap([cut(line) for line in _message_lines(AssertionError(), text)])
