"""Flag copying among graded submissions: a teacher-only similarity report.

    python -m classroom.similarity FOLDER [--out similarity.csv]
                                   [--threshold 0.5] [--min-tokens 55]

FOLDER holds one submission per sub-folder or ``.zip`` (as for ``python -m classroom.grade
--batch``). For every exercise the learner solved, its body is compared with the public
reference in ``solutions/`` (every learner can read it in the public repository) and with
the same exercise of every other submission; the pairs that look copied go to a CSV file,
highest score first. A high score is a reason to look at two bodies side by side, never a
verdict: the report names the pairs, a person judges them.

How two bodies are compared (the method of MOSS and of copydetect: Schleimer, Wilkerson and
Aiken, "Winnowing: local algorithms for document fingerprinting", SIGMOD 2003):

1. **Normalise** (``normalised_tokens``): the body is parsed and printed back by ``ast``, so
   comments, docstrings, blank lines, line breaks, spacing and redundant parentheses are
   gone; string literals become ``'S'``; numbers are written one way (``1.0`` and ``1`` are
   ``1``); every variable becomes the placeholder ``V``: the names the body binds
   (assignments, loop and comprehension variables, ``with``/``except`` names, nested
   functions and their arguments) and the lower-case names it does not bind (the
   exercise's parameters, which a copier may rename in the signature too, and the module's
   helper functions). Names that carry the meaning of a solution and cannot be renamed
   without changing it are kept: attribute names (``.argmax``, ``.shape``, ``.payer``),
   keyword names (``axis=``), builtins (``range``, ``min``), library modules (``np``,
   ``torch``, ``F``, ``math``; ``numpy`` is spelt ``np``) and capitalised names the body
   does not bind (the module's classes and constants: ``AuctionOutcome``, ``TAX``). One
   placeholder for all variables (rather than ``V0, V1, ...`` in order of first appearance)
   keeps a copy whose statements were reordered as close as one whose variables were
   renamed: with numbered placeholders, moving one statement renumbers every later name.
   The canonical text is then cut into the tokens ``tokenize`` gives (by a regular
   expression, which is faster on text ``ast.unparse`` wrote); ``NEWLINE``, ``INDENT`` and
   ``DEDENT`` stay, as ``;``, ``{`` and ``}``, so the structure of loops and branches counts.
2. **Fingerprint** (``fingerprints``): every run of ``K`` consecutive tokens is hashed
   (``hashlib.blake2b``, so the fingerprints do not change between runs); winnowing keeps
   the smallest hash of every window of ``W`` consecutive hashes. Any run of at least
   ``K + W - 1`` tokens shared by two bodies is then guaranteed to give both a common
   fingerprint, however the rest differs.
3. **Score** (``similarity``): the *containment of the smaller set in the larger*,
   ``|A & B| / min(|A|, |B|)`` (the overlap coefficient), rather than Jaccard
   ``|A & B| / |A | B|``: padding a copied body with unused statements lowers Jaccard but
   not containment, and a learner who copied the reference and then added checks of their
   own still scores high against it. Its weakness, a short body that is entirely contained
   in a long one, is what ``min_tokens`` rules out: bodies shorter than that are not
   compared at all (a one-line ``return np.argmax(bids)`` written independently by many is
   no evidence).

The defaults were measured on the references (``tests/test_similarity.py`` has the
independent solutions and the disguised copies used): with ``K = 10`` and ``W = 4`` a
reference renamed, commented and reformatted scores 1.0 against itself (normalisation undoes
all of that), with its first two statements swapped 0.56 or more, with a padding statement
after *every* statement 0.30 to 0.91 (median 0.64; 18 of the 21 references long enough to be
compared still score 0.5 or more); two independent solutions of the same exercise (six
exercises, two each, against each other and the reference) score 0.00 to 0.24.
``THRESHOLD = 0.5`` is twice the highest independent score. ``MIN_TOKENS = 55``: some short
exercises have one natural form (PPO's clipped loss, 51 tokens, scores 1.0 written from the
textbook; padding images for the canvas, 39 tokens, 0.82), and a short body has too few
fingerprints for a score to mean much; 21 of the 26 references are longer.

Cost: each file is parsed once (remembered by its digest, so files that are the same in many
submissions, untouched stubs or copies, are parsed once) and each distinct body is
normalised and fingerprinted once. The pairs of one exercise are found through an index
(fingerprint -> the submissions that hold it): for each body a count of the fingerprints it
shares with every other, so that pairs sharing none are never looked at, and submissions
with identical fingerprint sets (verbatim copies) are scored once as a group. A synthetic
class of 200 (14 exercise modules, 200 KB, per submission; 4,700 solved bodies; 420,000
pairs of bodies of the same exercise) took 22 s on two busy cores: 11 s parsing the modules
(most of their text is the course's own docstrings), 8 s normalising and fingerprinting the
bodies, half a second finding the pairs.

Why no dependency: copydetect lexes whole files with pygments (plus numpy and jinja2 for its
HTML report) and MOSS sends the class's code to a third party's server; the winnowing itself
is twenty lines, and the normalisation is better done on the syntax tree, which knows which
names a body binds and which are attributes of a library, than on a lexer's tokens. ``ast``,
``tokenize`` and ``hashlib`` are in the standard library. What it does not catch: a copy
that moved the code into helper functions (only the exercise's own body is compared), or a
copy rewritten by hand statement by statement (which is then no longer a copy a program can
prove).
"""

from __future__ import annotations

import argparse
import ast
import builtins
import csv
import functools
import hashlib
import io
import re
import sys
import textwrap
import tokenize
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from course_lib.exercises import _is_stub_body, catalog

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "reference"  # the name of the references in a Pair; no submission may use it
K = 10  # tokens per k-gram
W = 4  # winnowing window (k-grams): a shared run of K + W - 1 = 13 tokens always shows
THRESHOLD = 0.5  # measured: see the module docstring
MIN_TOKENS = 55
CSV_COLUMNS = ("exercise", "first", "second", "score", "tokens")

LIBRARIES = frozenset({"np", "torch", "nn", "F", "math", "random", "itertools", "functools",
                       "collections", "operator", "scipy", "statistics"})
ALIASES = {"numpy": "np"}
_BUILTINS = frozenset(dir(builtins))
PLACEHOLDER = "V"
STRING = "S"


# --------------------------------------------------------------------------------------
# Bodies: the learner's and the references'
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _exercises() -> tuple[tuple[str, str, str], ...]:
    """(id, file, function) of every exercise, read once (the catalog reads every module)."""
    return tuple((row["id"], row["file"], row["function"]) for row in catalog())


def _id_key(exercise_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in exercise_id.split(".") if part.isdigit())


def _segment(lines: list[bytes], node: ast.AST, body: list[ast.stmt]) -> str:
    """The source of the statements ``body`` (of the function ``node``), dedented. Offsets are
    in UTF-8 bytes, as ``ast`` gives them; a body on the ``def`` line keeps its columns
    (the text before it becomes spaces) so that it dedents like any other."""
    first, last = body[0], body[-1]
    chunk = lines[first.lineno - 1:last.end_lineno]
    if len(chunk) == 1:
        chunk = [b" " * first.col_offset + chunk[0][first.col_offset:last.end_col_offset]]
    else:
        chunk[0] = b" " * first.col_offset + chunk[0][first.col_offset:]
        chunk[-1] = chunk[-1][:last.end_col_offset]
    text = b"\n".join(line.rstrip(b"\r\n") for line in chunk).decode("utf-8")
    return textwrap.dedent(text).strip("\n") + "\n"


def _bodies_of(source: bytes, functions: Mapping[str, str], skip_stubs: bool) -> dict[str, str]:
    """exercise id -> body source of the top-level functions named in ``functions``
    (name -> id) in ``source``; the last definition of a name wins, as in Python."""
    try:
        text = source.decode("utf-8-sig")
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return {}
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in functions:
            found[node.name] = node
    lines = text.encode("utf-8").splitlines(keepends=True)  # ast's offsets: UTF-8
    bodies = {}
    for name, node in found.items():
        if skip_stubs and _is_stub_body(node.body):
            continue
        body = node.body
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]  # the docstring
        if body:
            bodies[functions[name]] = _segment(lines, node, body)
    return bodies


_PARSED: dict[tuple, dict[str, str]] = {}  # (digest of a file, functions) -> its bodies
_PARSED_MAX = 4096


def _bodies_cached(source: bytes, functions: Mapping[str, str]) -> dict[str, str]:
    """``_bodies_of`` for a learner's file, remembered by the file's digest: parsing is most of
    the cost of a batch, and many files of a class are the same (untouched stubs, copies)."""
    key = (hashlib.blake2b(source, digest_size=16).digest(), tuple(sorted(functions.items())))
    found = _PARSED.get(key)
    if found is None:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        found = _PARSED[key] = _bodies_of(source, functions, skip_stubs=True)
    return dict(found)


def _check_modules(modules: object, what: str = "modules") -> None:
    if not isinstance(modules, Mapping):
        raise TypeError(f"{what} must be a dict of repository path -> file bytes (as "
                        f"classroom.grade.read_submission gives), got {type(modules).__name__}")
    for path, data in modules.items():
        if not isinstance(path, str):
            raise TypeError(f"{what}: a path must be a str like 'course_lib/auctions.py', "
                            f"got {path!r}")
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"{what}[{path!r}] must be the file's bytes, got "
                            f"{type(data).__name__} (read files in binary mode)")


def exercise_bodies(modules: dict[str, bytes]) -> dict[str, str]:
    """exercise id -> the source of the learner's body of that exercise (docstring dropped),
    for exercises whose body is not the stub; a file that does not parse contributes nothing.

    ``modules`` maps repository paths (``"course_lib/auctions.py"``) to file bytes, as
    ``classroom.grade.read_submission`` returns them. An exercise is found by the catalog's
    file and function name (so a learner who dropped the decorator is still compared)."""
    _check_modules(modules)
    by_file: dict[str, dict[str, str]] = defaultdict(dict)
    for exercise_id, file, function in _exercises():
        by_file[file][function] = exercise_id
    bodies: dict[str, str] = {}
    for file, functions in by_file.items():
        if file in modules:
            bodies.update(_bodies_cached(bytes(modules[file]), functions))
    return dict(sorted(bodies.items(), key=lambda item: _id_key(item[0])))


def reference_bodies(root: Path = REPO_ROOT) -> dict[str, str]:
    """exercise id -> body source of the reference in ``solutions/`` ({} where solutions/ is
    absent). The reference of ``course_lib/envs/wireless.py``'s exercise is the function of the
    same name in ``solutions/envs/wireless.py``."""
    if not isinstance(root, (str, Path)):
        raise TypeError(f"root must be a path, got {type(root).__name__}")
    folder = Path(root) / "solutions"
    if not folder.is_dir():
        return {}
    by_file: dict[str, dict[str, str]] = defaultdict(dict)
    for exercise_id, file, function in _exercises():
        by_file[file][function] = exercise_id
    bodies: dict[str, str] = {}
    for file, functions in by_file.items():
        path = folder / Path(file).relative_to("course_lib")
        if path.is_file():
            bodies.update(_bodies_of(path.read_bytes(), functions, skip_stubs=False))
    return dict(sorted(bodies.items(), key=lambda item: _id_key(item[0])))


# --------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------


def _parse_body(body_source: str) -> list[ast.stmt]:
    """The statements of a body, whether dedented or still indented as in its function."""
    try:
        return ast.parse(textwrap.dedent(body_source)).body
    except SyntaxError:
        pass
    try:  # e.g. a multi-line string whose lines start further left than the code
        return ast.parse("def _body():\n" + body_source).body[0].body
    except SyntaxError as err:
        raise ValueError(f"the body does not parse as Python: line {err.lineno}: "
                         f"{err.msg}") from None


def _bound_names(stmts: list[ast.stmt]) -> set[str]:
    """Every name the statements bind: the body's own variables."""
    bound: set[str] = set()
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                bound.add(node.id)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                bound.add(node.name)
            elif isinstance(node, ast.alias):
                bound.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
                bound.add(node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                bound.add(node.rest)
    return bound


def _number(value: int | float | complex) -> int | float | complex:
    """One spelling per number: 1.0 is 1, 1e3 is 1000."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


class _Normaliser(ast.NodeTransformer):
    def __init__(self, bound: set[str]) -> None:
        self.bound = bound

    def name(self, name: str) -> str:
        name = ALIASES.get(name, name)
        if name in LIBRARIES:
            return name
        if name in self.bound:
            return PLACEHOLDER
        if name in _BUILTINS or name[:1].isupper():
            return name
        return PLACEHOLDER  # a parameter, or a lower-case name of the module

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.name(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg, node.annotation = PLACEHOLDER, None
        return node

    def visit_alias(self, node: ast.alias) -> ast.alias:
        if node.asname:
            node.asname = self.name(node.asname)
        return node

    def _function(self, node):
        node.name, node.returns = PLACEHOLDER, None
        return self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:
        node.name = PLACEHOLDER
        return self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        if node.name:
            node.name = PLACEHOLDER
        return self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign):
        if node.value is None:
            return None  # a bare annotation does nothing
        return self.visit(ast.copy_location(ast.Assign([node.target], node.value), node))

    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        if isinstance(node.value, (str, bytes)):
            node.value = STRING
        elif isinstance(node.value, (int, float, complex)) and not isinstance(node.value, bool):
            node.value = _number(node.value)
        node.kind = None
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.Constant:
        return ast.copy_location(ast.Constant(STRING), node)

    def visit_Expr(self, node: ast.Expr):
        if isinstance(node.value, ast.Constant):
            return None  # a docstring, a string used as a comment, a bare ...
        return self.generic_visit(node)

    def visit_Pass(self, node: ast.Pass) -> None:
        return None


def _fill_empty_blocks(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """Put ``pass`` back where removing no-ops emptied a block that needs a statement."""
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(getattr(node, "body", None), list) and not node.body:
                node.body.append(ast.Pass())
    return stmts


# ``ast.unparse`` writes one logical line per line, four spaces per level, and after the
# normalisation the only string literal left is 'S': a regular expression cuts that text
# into the tokens ``tokenize`` would give, five times faster (``_tokenize_slowly`` is the
# reference the tests compare it with).
_TOKEN = re.compile(r"""
    '[^'\\]*(?:\\.[^'\\]*)*' | "[^"\\]*(?:\\.[^"\\]*)*"     # strings
  | (?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?[jJ]?     # numbers
  | \w+                                                               # names
  | \.\.\. | \*\*= | //= | >>= | <<= | -> | := | == | != | <= | >= | \*\* | // | << | >>
  | [-+*/%@&|^]= | \S                                                  # operators
""", re.VERBOSE)


def _split(text: str) -> list[str]:
    """The tokens of canonical text: ``;`` ends a line, ``{`` and ``}`` open and close a
    block (``tokenize``'s NEWLINE, INDENT and DEDENT)."""
    tokens: list[str] = []
    levels = [0]
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if not stripped:
            continue
        indent = len(line) - len(stripped)
        if indent > levels[-1]:
            levels.append(indent)
            tokens.append("{")
        while indent < levels[-1]:
            levels.pop()
            tokens.append("}")
        tokens += _TOKEN.findall(stripped)
        tokens.append(";")
    tokens += "}" * (len(levels) - 1)
    return tokens


_STRUCTURE = {tokenize.NEWLINE: ";", tokenize.INDENT: "{", tokenize.DEDENT: "}"}
_SKIP = {tokenize.ENCODING, tokenize.ENDMARKER, tokenize.NL, tokenize.COMMENT}


def _tokenize_slowly(text: str) -> list[str]:
    """What ``_split`` gives, by ``tokenize``: for the tests."""
    return [_STRUCTURE.get(tok.type, tok.string)
            for tok in tokenize.generate_tokens(io.StringIO(text).readline)
            if tok.type not in _SKIP]


def normalised_tokens(body_source: str) -> list[str]:
    """The tokens of a body after normalisation (the module docstring says what and why):
    the body is parsed and printed back by ``ast`` (no comments, docstrings or formatting
    left), every variable and parameter is ``V``, strings are ``'S'``, numbers have one
    spelling; attribute and keyword names, builtins, library modules and capitalised names
    of the module are kept. Raises ValueError when the body does not parse."""
    if not isinstance(body_source, str):
        raise TypeError(f"body_source must be a str (the source of a function body), got "
                        f"{type(body_source).__name__}")
    return _split(_canonical_text(body_source))


def _canonical_text(body_source: str) -> str:
    """The body normalised and printed back by ``ast.unparse`` ("" when nothing is left)."""
    stmts = _parse_body(body_source)
    normaliser = _Normaliser(_bound_names(stmts))
    kept = [new for stmt in stmts if (new := normaliser.visit(stmt)) is not None]
    if not kept:
        return ""
    return ast.unparse(ast.fix_missing_locations(ast.Module(_fill_empty_blocks(kept), [])))


# --------------------------------------------------------------------------------------
# Fingerprints and scores
# --------------------------------------------------------------------------------------


def _hash(gram: list[str]) -> int:
    digest = hashlib.blake2b("\x1f".join(gram).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def winnow(tokens: list[str], k: int = K, w: int = W) -> frozenset[int]:
    """The winnowed fingerprints of a token list: the smallest hash of every ``w``
    consecutive ``k``-gram hashes. A list shorter than ``k`` is one gram."""
    if k < 1 or w < 1:
        raise ValueError(f"k and w must be at least 1, got k={k}, w={w}")
    if not tokens:
        return frozenset()
    hashes = [_hash(tokens[i:i + k]) for i in range(max(1, len(tokens) - k + 1))]
    if len(hashes) <= w:
        return frozenset({min(hashes)})
    return frozenset(min(hashes[i:i + w]) for i in range(len(hashes) - w + 1))


def fingerprints(body_source: str, k: int = K, w: int = W) -> frozenset[int]:
    """The winnowed fingerprints of a body's normalised tokens."""
    return winnow(normalised_tokens(body_source), k, w)


def overlap(a: frozenset[int], b: frozenset[int]) -> float:
    """``|a & b| / min(|a|, |b|)``: how much of the smaller set the larger one contains."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def similarity(a: str, b: str) -> float:
    """0..1 similarity of two bodies: the containment of the smaller set of winnowed k-gram
    fingerprints of their normalised tokens in the larger (1.0: every fingerprint of one is
    in the other). Why containment and not Jaccard: see the module docstring."""
    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str (the source of a function body), got "
                            f"{type(value).__name__}")
    return overlap(fingerprints(a), fingerprints(b))


# --------------------------------------------------------------------------------------
# A batch
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """Two bodies of one exercise that look copied: ``second`` is another submission or
    ``"reference"``; ``tokens`` is the length of the shorter of the two (normalised tokens)."""

    first: str
    second: str
    exercise: str
    score: float
    tokens: int


def _check_batch(submissions: object, references: object, threshold: object,
                 min_tokens: object) -> None:
    if not isinstance(submissions, Mapping):
        raise TypeError(f"submissions must be a dict of name -> modules (repository path -> "
                        f"bytes), got {type(submissions).__name__}")
    for name, modules in submissions.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"a submission's name must be a non-empty str, got {name!r}")
        if name == REFERENCE:
            raise ValueError(f"{REFERENCE!r} names the references in the report; rename that "
                             f"submission")
        _check_modules(modules, f"submissions[{name!r}]")
    if references is not None:
        if not isinstance(references, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in references.items()):
            raise TypeError("references must be a dict of exercise id -> body source (str), "
                            "or None for solutions/")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
            or not 0 < threshold <= 1:
        raise ValueError(f"threshold must be a number in (0, 1], got {threshold!r}")
    if isinstance(min_tokens, bool) or not isinstance(min_tokens, int) or min_tokens < 0:
        raise ValueError(f"min_tokens must be an int >= 0, got {min_tokens!r}")


def _prints(body: str) -> tuple[frozenset[int], int] | None:
    try:
        tokens = normalised_tokens(body)
    except (ValueError, RecursionError):
        return None
    return winnow(tokens), len(tokens)


def compare_batch(submissions: dict[str, dict[str, bytes]],
                  references: dict[str, str] | None = None,
                  threshold: float = THRESHOLD, min_tokens: int = MIN_TOKENS) -> list[Pair]:
    """Pairs scoring at least ``threshold``: each submission against the references
    (``second="reference"``) and against every other submission, per exercise.

    ``submissions`` maps a name (the student) to the modules of the submission, as
    ``classroom.grade.read_submission`` returns them; ``references`` maps exercise ids to
    body sources (``None``: the references in ``solutions/``; ``{}``: none). Bodies shorter
    than ``min_tokens`` normalised tokens are not compared, nor are stubs. In a pair of two
    submissions ``first`` sorts before ``second``. Sorted by score, highest first (then by
    exercise and names)."""
    _check_batch(submissions, references, threshold, min_tokens)
    if references is None:
        references = reference_bodies()
    per_exercise: dict[str, dict[str, tuple[frozenset[int], int]]] = defaultdict(dict)
    seen: dict[str, tuple[frozenset[int], int] | None] = {}  # body -> prints (copies: once)
    for name in sorted(submissions):
        for exercise_id, body in exercise_bodies(submissions[name]).items():
            if body not in seen:
                seen[body] = _prints(body)
            found = seen[body]
            if found is not None and found[1] >= min_tokens and found[0]:
                per_exercise[exercise_id][name] = found
    pairs: list[Pair] = []
    for exercise_id, entries in per_exercise.items():
        reference = _prints(references[exercise_id]) if exercise_id in references else None
        if reference is not None and reference[1] >= min_tokens and reference[0]:
            for name, (prints, count) in entries.items():
                score = overlap(prints, reference[0])
                if score >= threshold:
                    pairs.append(Pair(name, REFERENCE, exercise_id, score,
                                      min(count, reference[1])))
        pairs += _pairs_among(exercise_id, entries, threshold)
    pairs.sort(key=lambda p: (-p.score, _id_key(p.exercise), p.first, p.second))
    return pairs


def _pairs_among(exercise_id: str, entries: dict[str, tuple[frozenset[int], int]],
                 threshold: float) -> list[Pair]:
    """The pairs of one exercise's bodies that score at least ``threshold``. Identical
    fingerprint sets form one group (scored 1.0 among themselves); an index from each
    fingerprint to the groups that hold it counts, for each group, the fingerprints it shares
    with every other, so pairs that share none are never looked at."""
    groups: dict[frozenset[int], list[str]] = defaultdict(list)
    for name in sorted(entries):
        groups[entries[name][0]].append(name)
    keys = list(groups)
    members = [groups[key] for key in keys]
    index: dict[int, list[int]] = defaultdict(list)
    for g, key in enumerate(keys):
        for fingerprint in key:
            index[fingerprint].append(g)
    pairs = []

    def add(a: str, b: str, score: float) -> None:
        first, second = sorted((a, b))
        pairs.append(Pair(first, second, exercise_id, score,
                          min(entries[a][1], entries[b][1])))

    for g, key in enumerate(keys):
        group = members[g]
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                add(a, b, 1.0)
        shared: Counter[int] = Counter()
        for fingerprint in key:
            shared.update(index[fingerprint])
        for h, count in shared.items():
            if h <= g:
                continue
            score = count / min(len(key), len(keys[h]))
            if score >= threshold:
                for a in group:
                    for b in members[h]:
                        add(a, b, score)
    return pairs


def per_student(pairs: list[Pair]) -> dict[str, list[Pair]]:
    """Student -> the pairs they are in (against the reference or another student), highest
    score first; students sorted by name."""
    found: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        if not isinstance(pair, Pair):
            raise TypeError(f"pairs must hold Pair objects, got {type(pair).__name__}")
        found[pair.first].append(pair)
        if pair.second != REFERENCE:
            found[pair.second].append(pair)
    return {name: sorted(found[name], key=lambda p: (-p.score, _id_key(p.exercise)))
            for name in sorted(found)}


def write_similarity_csv(pairs: list[Pair], path: Path) -> Path:
    """Write one row per pair (``exercise, first, second, score, tokens``, the score with
    three decimals) under a header; return the path."""
    rows = list(pairs)
    for pair in rows:
        if not isinstance(pair, Pair):
            raise TypeError(f"pairs must hold Pair objects, got {type(pair).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for p in rows:
            writer.writerow([p.exercise, p.first, p.second, f"{p.score:.3f}", p.tokens])
    return path


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def read_folder(folder: Path) -> dict[str, dict[str, bytes]]:
    """Every submission (sub-folder or .zip) of ``folder``, named as ``classroom.grade
    --batch`` names them; one that cannot be read is left out with a line on stderr."""
    from classroom.grade import SubmissionRejected, read_submission

    submissions = {}
    for entry in sorted(Path(folder).iterdir()):
        if entry.is_symlink() or not (entry.is_dir() or entry.suffix == ".zip"):
            continue
        name = entry.stem if entry.is_file() else entry.name
        try:
            submissions[name] = read_submission(entry)
        except SubmissionRejected as err:
            print(f"{name}: left out: {err}", file=sys.stderr)
    return submissions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m classroom.similarity",
        description="Flag exercise bodies that look copied from the references or from "
                    "another submission.")
    parser.add_argument("folder", type=Path, help="one submission per sub-folder or .zip")
    parser.add_argument("--out", type=Path, default=Path("similarity.csv"))
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--min-tokens", type=int, default=MIN_TOKENS)
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder")
    submissions = read_folder(args.folder)
    pairs = compare_batch(submissions, threshold=args.threshold, min_tokens=args.min_tokens)
    write_similarity_csv(pairs, args.out)
    print(f"{len(submissions)} submissions, {len(pairs)} pairs at or above "
          f"{args.threshold}: {args.out}")
    for name, found in per_student(pairs).items():
        print(f"  {name}: " + ", ".join(
            f"{p.exercise} with {p.second if p.first == name else p.first} ({p.score:.2f})"
            for p in found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
