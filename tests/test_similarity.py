"""The teacher's similarity report (classroom/similarity.py): a copy of a reference or of
another submission is flagged however it was renamed, commented and reformatted; solutions
written independently, stubs and one-liners are not. Maintainer's test: it needs classroom/
and holds solutions of exercises, so it belongs in classroom.release.MAINTAINER_TESTS (out of
the student copy, and not collected by the grader).

The "independent" solutions below were written for this test to solve the exercise another
way than the reference (two per exercise: one with loops, one vectorised or otherwise built
differently); each is checked against the reference on random inputs, so they are correct
solutions, not strawmen. Measured with the defaults (K=10, W=4, containment): a disguised
reference scores 1.00 against its reference (normalisation undoes renaming, comments and
layout entirely); the independent solutions score 0.00 to 0.24 against the reference and
0.00 to 0.05 against each other (the highest, 0.24, is the branching version of 2.1 against
the reference: both build the same Transfer objects under the same conditions).
"""

from __future__ import annotations

import ast
import csv
import inspect
import io
import textwrap
import tokenize
from pathlib import Path

import numpy as np
import pytest

try:
    from classroom.similarity import (
        MIN_TOKENS,
        THRESHOLD,
        Pair,
        _canonical_text,
        _split,
        _tokenize_slowly,
        compare_batch,
        exercise_bodies,
        fingerprints,
        normalised_tokens,
        overlap,
        per_student,
        reference_bodies,
        similarity,
        write_similarity_csv,
    )
except ModuleNotFoundError:  # the student copy has no classroom/
    pytest.skip("the similarity report is a teacher's tool (classroom/)",
                allow_module_level=True)

from course_lib.auctions import AuctionOutcome
from course_lib.bucket_brigade import ENVIRONMENT, MINT, TAX, Transfer
from course_lib.exercises import catalog, solutions_available

ROOT = Path(__file__).resolve().parents[1]
ROWS = {row["id"]: row for row in catalog()}
FILES = sorted({row["file"] for row in ROWS.values()})
needs_solutions = pytest.mark.skipif(not solutions_available(),
                                     reason="needs solutions/ (the repository copy)")


# --------------------------------------------------------------------------------------
# Independent solutions: two per exercise, each with the stub's parameter names
# --------------------------------------------------------------------------------------


def vickrey_loops(bids):
    flat = bids.reshape(-1, bids.shape[-1])
    winners = np.empty(len(flat), dtype=int)
    prices = np.empty(len(flat))
    for row_index, row in enumerate(flat):
        best = 0
        for j in range(1, len(row)):
            if row[j] > row[best]:
                best = j
        others = [row[j] for j in range(len(row)) if j != best]
        winners[row_index] = best
        prices[row_index] = max(others) if others else 0.0
    shape = bids.shape[:-1]
    return AuctionOutcome(winners.reshape(shape), prices.reshape(shape))


def vickrey_masked(bids):
    top = bids.argmax(axis=-1)
    if bids.shape[-1] < 2:
        return AuctionOutcome(top, np.zeros_like(bids[..., 0]))
    is_top = np.arange(bids.shape[-1]) == np.expand_dims(top, -1)
    rest = np.where(is_top, -np.inf, bids)
    return AuctionOutcome(top, rest.max(axis=-1))


def step_transfers_branches(strengths, eligible, winner, supplier, reward, c_bid, tax_rate,
                            pricing="first"):
    payee = supplier if supplier is not None else ENVIRONMENT
    my_bid = c_bid * strengths[winner]
    result = []
    if pricing == "second":
        best_other = 0.0
        for rule in eligible:
            if rule != winner:
                best_other = max(best_other, c_bid * strengths[rule])
        paid = min(best_other, my_bid)
        result.append(Transfer(winner, payee, paid, "bid"))
        gap = my_bid - paid
        if gap > 0:
            result.append(Transfer(MINT, payee, gap, "mint"))
    else:
        result.append(Transfer(winner, payee, my_bid, "bid"))
    levy = tax_rate * strengths[winner]
    if levy > 0:
        result.append(Transfer(winner, TAX, levy, "tax"))
    if reward:
        source, sink = (ENVIRONMENT, winner) if reward > 0 else (winner, ENVIRONMENT)
        result.append(Transfer(source, sink, abs(reward), "reward"))
    return result


def step_transfers_table(strengths, eligible, winner, supplier, reward, c_bid, tax_rate,
                         pricing="first"):
    offers = {rule: c_bid * strengths[rule] for rule in eligible}
    own_offer = offers[winner]
    seller = ENVIRONMENT if supplier is None else supplier
    rivals = sorted((v for r, v in offers.items() if r != winner), reverse=True)
    if pricing == "first":
        charged = own_offer
    else:
        charged = min(rivals[0], own_offer) if rivals else 0.0
    levy = tax_rate * strengths[winner]
    candidates = [
        (True, winner, seller, charged, "bid"),
        (own_offer - charged > 0, MINT, seller, own_offer - charged, "mint"),
        (levy > 0, winner, TAX, levy, "tax"),
        (reward > 0, ENVIRONMENT, winner, reward, "reward"),
        (reward < 0, winner, ENVIRONMENT, -reward, "reward"),
    ]
    return [Transfer(*fields) for wanted, *fields in candidates if wanted]


def q_learning_loops(q, states, actions, rewards, next_states, next_exists, alpha, gamma):
    sums = {}
    for s, a, r, s2, alive in zip(states, actions, rewards, next_states, next_exists,
                                  strict=True):
        future = q[s2].max() if alive else 0.0
        err = r + gamma * future - q[s, a]
        total, n = sums.get((s, a), (0.0, 0))
        sums[(s, a)] = (total + err, n + 1)
    out = np.array(q, dtype=float, copy=True)
    for (s, a), (total, n) in sums.items():
        out[s, a] = q[s, a] + alpha * total / n
    return out


def q_learning_flat(q, states, actions, rewards, next_states, next_exists, alpha, gamma):
    n_actions = q.shape[1]
    flat = states * n_actions + actions
    best_next = np.where(next_exists, q.max(axis=1)[next_states], 0.0)
    td = rewards + gamma * best_next - q.reshape(-1)[flat]
    hits = np.bincount(flat, minlength=q.size)
    summed = np.bincount(flat, weights=td, minlength=q.size)
    mean_td = np.divide(summed, hits, out=np.zeros(q.size), where=hits > 0)
    return q + alpha * mean_td.reshape(q.shape)


def gae_loop(rewards, values, dones, last_values, gamma, lam):
    horizon = len(rewards)
    adv = np.zeros(rewards.shape)
    carry = np.zeros(rewards.shape[1:])
    for step in reversed(range(horizon)):
        bootstrap = last_values if step == horizon - 1 else values[step + 1]
        keep = np.logical_not(dones[step])
        td_error = rewards[step] + gamma[step] * np.where(keep, bootstrap, 0.0) - values[step]
        carry = td_error + np.where(keep, gamma[step] * lam * carry, 0.0)
        adv[step] = carry
    return adv, adv + values


def gae_discount_sums(rewards, values, dones, last_values, gamma, lam):
    not_done = 1.0 - dones.astype(float)
    following = np.concatenate([values[1:], last_values[None]], axis=0)
    deltas = rewards + gamma * following * not_done - values
    decay = gamma * lam * not_done
    # A_t = sum over j >= t of (product of decay_t .. decay_{j-1}) * delta_j
    out = np.empty_like(deltas)
    for t in range(len(deltas)):
        factors = np.cumprod(np.concatenate([np.ones_like(decay[:1]), decay[t:-1]]), axis=0)
        out[t] = (factors * deltas[t:]).sum(axis=0)
    return out, out + values


def neighbourhoods_bfs(access, k):
    n_users = access.shape[0]
    out = np.zeros((n_users, n_users), dtype=bool)
    for start in range(n_users):
        seen = {start}
        frontier = [start]
        for _ in range(k):
            reached = []
            for user in frontier:
                points = np.flatnonzero(access[user])
                for other in np.flatnonzero(access[:, points].any(axis=1)):
                    if other not in seen:
                        seen.add(int(other))
                        reached.append(int(other))
            frontier = reached
        out[start, sorted(seen)] = True
    return out


def neighbourhoods_distances(access, k):
    n = len(access)
    shares = (access[:, None, :] & access[None, :, :]).any(-1)
    hops = np.where(shares, 1, n + 1)
    np.fill_diagonal(hops, 0)
    for middle in range(n):  # Floyd-Warshall on hop counts
        hops = np.minimum(hops, hops[:, middle:middle + 1] + hops[middle:middle + 1, :])
    return hops <= k


def td_update_loops(values, index, rewards, next_values, gamma, lr):
    targets = {}
    for entry, r, v in zip(index, rewards, next_values, strict=True):
        targets.setdefault(int(entry), []).append(r + gamma * v)
    new_values = values.astype(float)
    for entry, found in targets.items():
        goal = sum(found) / len(found)
        new_values[entry] = values[entry] + lr * (goal - values[entry])
    return new_values


def td_update_add_at(values, index, rewards, next_values, gamma, lr):
    total = np.zeros(values.shape)
    visits = np.zeros(values.shape)
    np.add.at(total, index, rewards + gamma * next_values)
    np.add.at(visits, index, 1)
    visited = np.nonzero(visits)[0]
    result = np.copy(values)
    result[visited] = (1 - lr) * values[visited] + lr * total[visited] / visits[visited]
    return result


INDEPENDENT = {
    "1.2": (vickrey_loops, vickrey_masked),
    "2.1": (step_transfers_branches, step_transfers_table),
    "3.4": (q_learning_loops, q_learning_flat),
    "4.1": (gae_loop, gae_discount_sums),
    "6.1": (neighbourhoods_bfs, neighbourhoods_distances),
    "6.3": (td_update_loops, td_update_add_at),
}


def _cases(exercise_id: str) -> list[tuple]:
    """Arguments to call exercise ``exercise_id`` with (checked, random, seeded)."""
    rng = np.random.default_rng(7)
    if exercise_id == "1.2":
        return [(rng.random((5, 4)),), (rng.random(3),), (rng.random((3, 1)),),
                (rng.integers(0, 3, (6, 4)).astype(float),)]
    if exercise_id == "2.1":
        s = rng.random(6)
        return [(s, [0, 2, 3, 5], 2, None, 1.5, 0.1, 0.01, "first"),
                (s, [0, 2, 3, 5], 3, 1, -0.5, 0.1, 0.0, "second"),
                (s, [0, 2, 3, 5], 0, 4, 0.0, 0.2, 0.05, "second"),
                (s, [2], 2, None, 1.0, 0.1, 0.01, "second")]
    if exercise_id == "3.4":
        return [(rng.random((4, 3)), rng.integers(0, 4, 20), rng.integers(0, 3, 20),
                 rng.random(20), rng.integers(0, 4, 20), rng.random(20) < 0.7, 0.5, 0.9)]
    if exercise_id == "4.1":
        shape = (6, 3)
        return [(rng.random(shape), rng.random(shape), rng.random(shape) < 0.3, rng.random(3),
                 rng.uniform(0.8, 1.0, shape), 0.95)]
    if exercise_id == "6.1":
        access = rng.random((7, 4)) < 0.3
        return [(access, k) for k in range(4)] + [(np.zeros((3, 2), dtype=bool), 2)]
    if exercise_id == "6.3":
        return [(rng.random(5), rng.integers(0, 5, 12), rng.random(12), rng.random(12), 0.9,
                 0.5)]
    raise KeyError(exercise_id)


def _same(a, b) -> bool:
    if isinstance(a, AuctionOutcome):
        return _same(a.winner, b.winner) and _same(a.price, b.price)
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, list):
        return a == b
    return np.shape(a) == np.shape(b) and np.allclose(a, b)


def _solution_file(exercise_id: str) -> Path:
    return ROOT / "solutions" / Path(ROWS[exercise_id]["file"]).relative_to("course_lib")


def _reference_source(exercise_id: str) -> str:
    """The ``def`` of the reference, read from solutions/."""
    text = _solution_file(exercise_id).read_text(encoding="utf-8")
    return ast.get_source_segment(text, _function_node(text, ROWS[exercise_id]["function"]))


def _reference(exercise_id: str, def_text: str | None = None):
    """The reference function (or the function ``def_text`` defines) run with the imports of
    the reference's module, torch left out (the exercises checked here use numpy only, and
    importing torch would take longer than all these tests)."""
    tree = ast.parse(_solution_file(exercise_id).read_text(encoding="utf-8"))
    namespace: dict = {}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and "torch" not in ast.dump(node):
            exec(compile(ast.Module([node], []), "<imports>", "exec"), namespace)
    exec(compile(def_text or _reference_source(exercise_id), "<reference>", "exec"), namespace)
    return namespace[ROWS[exercise_id]["function"]]


# --------------------------------------------------------------------------------------
# Building submissions
# --------------------------------------------------------------------------------------


def _stubs() -> dict[str, bytes]:
    """A submission in which nothing is solved: every exercise module of this repository."""
    return {file: (ROOT / file).read_bytes() for file in FILES}


def _function_node(text: str, name: str) -> ast.FunctionDef:
    return next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)
                and n.name == name)


def _body_text(func) -> str:
    """The body of a function (or of the ``def`` in a source text), dedented."""
    source = textwrap.dedent(func if isinstance(func, str) else inspect.getsource(func))
    node = ast.parse(source).body[0]
    lines = source.splitlines(keepends=True)
    return textwrap.dedent("".join(lines[node.body[0].lineno - 1:node.end_lineno]))


def _solve(modules: dict[str, bytes], exercise_id: str, body: str) -> dict[str, bytes]:
    """The submission with the stub of ``exercise_id`` (after its docstring, the TODO comment
    included) replaced by ``body``."""
    file, function = ROWS[exercise_id]["file"], ROWS[exercise_id]["function"]
    text = modules[file].decode("utf-8")
    node = _function_node(text, function)
    lines = text.splitlines(keepends=True)
    start = node.body[1].lineno - 1
    while lines[start - 1].strip().startswith("#"):
        start -= 1
    lines[start:node.end_lineno] = [textwrap.indent(textwrap.dedent(body), "    ")]
    return {**modules, file: "".join(lines).encode("utf-8")}


def _replace_def(modules: dict[str, bytes], exercise_id: str, def_text: str) -> dict[str, bytes]:
    """The submission with the whole ``def`` of ``exercise_id`` (its decorator kept) replaced
    by ``def_text``, renamed parameters and all."""
    file, function = ROWS[exercise_id]["file"], ROWS[exercise_id]["function"]
    text = modules[file].decode("utf-8")
    node = _function_node(text, function)
    lines = text.splitlines(keepends=True)
    lines[node.lineno - 1:node.end_lineno] = [def_text.rstrip("\n") + "\n"]
    return {**modules, file: "".join(lines).encode("utf-8")}


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node):
        node.id = self.names.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.names.get(node.arg, node.arg)
        return node


def disguise(func, name: str | None = None) -> str:
    """What a learner who copies ``func`` (a function or its source) and hides it might hand
    in: every variable and parameter renamed, a docstring and a comment on every line added,
    the lines broken differently, the code printed afresh (quotes, spacing, parentheses)."""
    source = textwrap.dedent(func if isinstance(func, str) else inspect.getsource(func))
    node = ast.parse(source).body[0]
    bound = sorted({n.arg for n in ast.walk(node) if isinstance(n, ast.arg)}
                   | {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                      and isinstance(n.ctx, ast.Store)})
    node = _Rename({old: f"my_{old[::-1]}_{i}" for i, old in enumerate(bound)}).visit(node)
    node.name, node.decorator_list = name or node.name, []
    node.body.insert(0, ast.Expr(ast.Constant("My own solution, worked out on paper.")))
    text = ast.unparse(ast.fix_missing_locations(node))
    cuts = {}  # line -> the column after its first "(" (a line break goes there)
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.OP and tok.string == "(" and tok.start[0] not in cuts:
            cuts[tok.start[0]] = tok.end[1]
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        indent = " " * (len(line) - len(line.lstrip()))
        out.append(f"{indent}# step {number}: as I worked it out")
        col = cuts.get(number)
        if col is not None and line[col:].strip():
            out += [line[:col], indent + "        " + line[col:].strip() + "  # mine"]
        else:
            out.append(line + "  # mine")
        out.append("")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------
# 0. The independent solutions are correct, and the disguised copies still compute the same
# --------------------------------------------------------------------------------------


@needs_solutions
@pytest.mark.parametrize("exercise_id", sorted(INDEPENDENT))
def test_independent_solutions_and_disguised_copies_agree_with_the_reference(exercise_id):
    reference = _reference(exercise_id)
    copy = _reference(exercise_id, disguise(_reference_source(exercise_id)))
    for args in _cases(exercise_id):
        expected = reference(*args)
        for own in (*INDEPENDENT[exercise_id], copy):
            assert _same(own(*args), expected), (own.__name__, args)


# --------------------------------------------------------------------------------------
# 1. A disguised copy of a reference is flagged
# --------------------------------------------------------------------------------------


@needs_solutions
def test_a_disguised_reference_normalises_to_the_reference():
    for exercise_id in ("1.2", "2.1", "6.1", "3.4", "4.1"):
        copy = disguise(_reference_source(exercise_id))
        body = exercise_bodies(_replace_def(_stubs(), exercise_id, copy))
        assert list(body) == [exercise_id]
        assert "my_" in body[exercise_id] and "# mine" in body[exercise_id]
        assert normalised_tokens(body[exercise_id]) == \
            normalised_tokens(reference_bodies()[exercise_id])


@needs_solutions
def test_every_disguised_reference_is_flagged_against_the_reference():
    references = reference_bodies()
    long_enough = [i for i, body in references.items()
                   if len(normalised_tokens(body)) >= MIN_TOKENS]
    assert len(long_enough) >= 20 and {"1.2", "2.1", "6.1"} <= set(long_enough)
    submission = _stubs()
    for exercise_id in long_enough:
        submission = _replace_def(submission, exercise_id, disguise(_reference_source(exercise_id)))
    pairs = compare_batch({"mallory": submission})
    assert {p.exercise for p in pairs} == set(long_enough)
    assert all(p.first == "mallory" and p.second == "reference" for p in pairs)
    assert min(p.score for p in pairs) > 0.9


@needs_solutions
def test_a_copy_padded_with_code_of_its_own_is_still_flagged():
    body = _body_text(_reference_source("3.4"))
    padding = ("if q.ndim != 2:\n    raise ValueError('q must be a table')\n"
               "checked = [int(s) for s in states if s >= 0]\nassert len(checked) >= 0\n")
    submission = _solve(_stubs(), "3.4", padding + body + "\n")
    (pair,) = compare_batch({"pat": submission})
    assert pair.exercise == "3.4" and pair.score > 0.9


# --------------------------------------------------------------------------------------
# 2. Independent solutions are not flagged, against each other or the reference
# --------------------------------------------------------------------------------------


@needs_solutions
@pytest.mark.parametrize("exercise_id", sorted(INDEPENDENT))
def test_independent_solutions_are_not_flagged(exercise_id):
    first, second = INDEPENDENT[exercise_id]
    reference = reference_bodies()[exercise_id]
    for own in (first, second):
        assert len(normalised_tokens(_body_text(own))) >= MIN_TOKENS, own.__name__
        assert similarity(_body_text(own), reference) < THRESHOLD
    assert similarity(_body_text(first), _body_text(second)) < THRESHOLD
    batch = {"ann": _solve(_stubs(), exercise_id, _body_text(first)),
             "bob": _solve(_stubs(), exercise_id, _body_text(second))}
    assert set(exercise_bodies(batch["ann"])) == {exercise_id}
    assert compare_batch(batch) == []


# --------------------------------------------------------------------------------------
# 3. Stubs never pair; 4. nor do short bodies
# --------------------------------------------------------------------------------------


def test_stubs_never_produce_pairs():
    stubs = _stubs()
    assert exercise_bodies(stubs) == {}
    # a stub with its comment edited and a pass added is still a stub
    text = stubs["course_lib/auctions.py"].decode("utf-8").replace(
        "    # TODO(exercise 1.2)", "    pass  # I will do this later\n    # TODO(exercise 1.2)")
    edited = {**stubs, "course_lib/auctions.py": text.encode("utf-8")}
    batch = {f"student{i}": stubs for i in range(5)} | {"eve": edited}
    assert compare_batch(batch, references={}, threshold=0.01, min_tokens=0) == []
    if solutions_available():
        assert compare_batch(batch, threshold=0.01, min_tokens=0) == []


def test_short_bodies_are_not_compared():
    one_liner = "return transform(images, primitive_thetas()[primitive_ids])\n"
    short = "winner = np.argmax(bids, axis=-1)\nreturn AuctionOutcome(winner, np.max(bids, -1))\n"
    submission = _solve(_solve(_stubs(), "5.3", one_liner), "1.1", short)
    assert set(exercise_bodies(submission)) == {"1.1", "5.3"}
    for body in exercise_bodies(submission).values():
        assert len(normalised_tokens(body)) < MIN_TOKENS
    batch = {"ann": submission, "bob": submission, "cat": submission}
    assert compare_batch(batch, references={}) == []
    # it is min_tokens that holds them back: with none, the three identical bodies pair up
    pairs = compare_batch(batch, references={}, min_tokens=0)
    assert len(pairs) == 6 and all(p.score == 1.0 for p in pairs)


# --------------------------------------------------------------------------------------
# 5. A copy of another submission is flagged; the CSV and the per-student view
# --------------------------------------------------------------------------------------


def test_a_renamed_copy_of_another_submission_is_flagged(tmp_path):
    ann = _stubs()
    carol = _stubs()
    for exercise_id in ("1.2", "3.4", "6.1"):
        own = INDEPENDENT[exercise_id][0]
        ann = _solve(ann, exercise_id, _body_text(own))
        name = ROWS[exercise_id]["function"]
        carol = _replace_def(carol, exercise_id, disguise(own, name))
    bob = _solve(_stubs(), "1.2", _body_text(INDEPENDENT["1.2"][1]))
    pairs = compare_batch({"carol": carol, "ann": ann, "bob": bob}, references={})
    assert [(p.first, p.second) for p in pairs] == [("ann", "carol")] * 3
    assert sorted(p.exercise for p in pairs) == ["1.2", "3.4", "6.1"]
    assert all(p.score > 0.9 and p.tokens >= MIN_TOKENS for p in pairs)
    assert pairs == sorted(pairs, key=lambda p: -p.score)

    path = write_similarity_csv(pairs, tmp_path / "report" / "similarity.csv")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["exercise", "first", "second", "score", "tokens"]
    assert len(rows) == 1 + len(pairs)
    assert {tuple(r[:3]) for r in rows[1:]} == {(p.exercise, "ann", "carol") for p in pairs}
    assert all(0.9 < float(r[3]) <= 1.0 and int(r[4]) >= MIN_TOKENS for r in rows[1:])

    by_student = per_student(pairs)
    assert list(by_student) == ["ann", "carol"] and by_student["ann"] == by_student["carol"]
    reference_pair = Pair("bob", "reference", "1.2", 0.8, 40)
    assert per_student([reference_pair]) == {"bob": [reference_pair]}


def test_the_index_finds_what_comparing_every_pair_finds():
    """compare_batch scores only pairs that share a fingerprint and groups identical bodies:
    the same pairs and scores as scoring every pair with similarity()."""
    rng = np.random.default_rng(3)
    variants = {}
    for exercise_id in ("1.2", "3.4", "6.1"):
        first, second = INDEPENDENT[exercise_id]
        name = ROWS[exercise_id]["function"]
        variants[exercise_id] = [
            ("solve", _body_text(first)), ("solve", _body_text(second)),
            ("def", disguise(first, name)), ("def", disguise(second, name)),
            ("solve", "checked = 0\n" + _body_text(first)), ("stub", "")]
    batch = {}
    files = {ROWS[exercise_id]["file"] for exercise_id in variants}
    for i in range(24):
        submission = {f: text for f, text in _stubs().items() if f in files}
        for exercise_id, options in variants.items():
            how, text = options[rng.integers(len(options))]
            if how == "solve":
                submission = _solve(submission, exercise_id, text)
            elif how == "def":
                submission = _replace_def(submission, exercise_id, text)
        batch[f"s{i:02d}"] = submission
    prints = {name: {i: fingerprints(body) for i, body in exercise_bodies(modules).items()}
              for name, modules in batch.items()}
    expected = set()
    names = sorted(batch)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for exercise_id in set(prints[a]) & set(prints[b]):
                score = overlap(prints[a][exercise_id], prints[b][exercise_id])
                if score >= 0.2:
                    expected.add((a, b, exercise_id, round(score, 9)))
    found = compare_batch(batch, references={}, threshold=0.2, min_tokens=0)
    assert {(p.first, p.second, p.exercise, round(p.score, 9)) for p in found} == expected
    assert len(expected) > 50


# --------------------------------------------------------------------------------------
# 6. Bad input
# --------------------------------------------------------------------------------------


def test_bad_input_gets_a_clear_error():
    stubs = _stubs()
    with pytest.raises(TypeError, match="submissions must be a dict"):
        compare_batch(["ann"])
    with pytest.raises(TypeError, match="must be the file's bytes, got str"):
        compare_batch({"ann": {"course_lib/auctions.py": "def f(): pass"}}, references={})
    with pytest.raises(TypeError, match="a path must be a str"):
        compare_batch({"ann": {3: b""}}, references={})
    with pytest.raises(TypeError, match="name must be a non-empty str"):
        compare_batch({"": stubs}, references={})
    with pytest.raises(ValueError, match="'reference' names the references"):
        compare_batch({"reference": stubs}, references={})
    with pytest.raises(TypeError, match="references must be a dict"):
        compare_batch({"ann": stubs}, references={"1.2": 3})
    for threshold in (0, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="threshold must be a number in"):
            compare_batch({"ann": stubs}, references={}, threshold=threshold)
    for min_tokens in (-1, 2.5):
        with pytest.raises(ValueError, match="min_tokens must be an int"):
            compare_batch({"ann": stubs}, references={}, min_tokens=min_tokens)
    with pytest.raises(TypeError, match="modules must be a dict"):
        exercise_bodies([b"x"])
    with pytest.raises(TypeError, match="body_source must be a str"):
        normalised_tokens(b"return 1")
    with pytest.raises(ValueError, match="does not parse"):
        normalised_tokens("return (1,\n")
    with pytest.raises(TypeError, match="b must be a str"):
        similarity("return 1", None)
    with pytest.raises(TypeError, match="pairs must hold Pair"):
        per_student([("ann", "bob")])


def test_a_file_that_does_not_parse_contributes_nothing():
    body = "winner = np.argmax(bids, axis=-1)\nreturn AuctionOutcome(winner, bids.max(-1))\n"
    solved = _solve(_stubs(), "1.1", body)
    assert set(exercise_bodies(solved)) == {"1.1"}
    broken = solved["course_lib/auctions.py"] + b"\ndef oops(:\n"
    assert exercise_bodies({**solved, "course_lib/auctions.py": broken}) == {}
    assert exercise_bodies({"course_lib/auctions.py": b"\xff\xfe not utf-8"}) == {}
    # Windows line ends and a byte-order mark change nothing
    windows = b"\xef\xbb\xbf" + solved["course_lib/auctions.py"].replace(b"\n", b"\r\n")
    assert exercise_bodies({"course_lib/auctions.py": windows}) == exercise_bodies(solved)
    assert exercise_bodies({"course_lib/not_an_exercise_module.py": b"x = 1\n"}) == {}


def test_normalisation_keeps_meaning_and_drops_names_and_layout():
    a = "best = np.argmax(bids, axis=-1)  # the winner\nreturn AuctionOutcome(best, 'x')\n"
    b = ('"""Docstring."""\nw = np.argmax(\n    bids,\n    axis=-1.0,\n)\n\n'
         'return (AuctionOutcome(w, "a longer string"))\n')
    assert normalised_tokens(a) == normalised_tokens(b)
    assert normalised_tokens(a)[:6] == ["V", "=", "np", ".", "argmax", "("]
    assert "axis" in normalised_tokens(a) and "AuctionOutcome" in normalised_tokens(a)
    assert normalised_tokens(a) != normalised_tokens(a.replace("argmax", "argmin"))
    assert normalised_tokens("x = numpy.sort(v)\n") == normalised_tokens("y = np.sort(v)\n")
    assert similarity(a, b) == 1.0 and similarity("", a) == 0.0
    # a body still indented as in its function (a string's lines further left) parses too
    assert normalised_tokens("    text = '''\nleft'''\n    return text\n") == \
        ["V", "=", "'S'", ";", "return", "V", ";"]


def test_reference_bodies_are_empty_without_solutions(tmp_path):
    assert reference_bodies(tmp_path) == {}
    if solutions_available():
        bodies = reference_bodies()
        assert set(bodies) == set(ROWS)
        assert not any('"""' in body for body in bodies.values())


def test_the_fast_tokeniser_gives_what_tokenize_gives():
    bodies = list(reference_bodies().values()) + [
        _body_text(own) for pair in INDEPENDENT.values() for own in pair]
    bodies.append("x = a.b(1e-10, .5, 2j, c=...)\nx **= 2; x //= 3\nwhile x >= -1:\n"
                  "    x -= 1\n    if (y := x) != 0:\n        break\n"
                  "return {k: v for k, v in f()}\n")
    for body in bodies:
        text = _canonical_text(body)
        assert _split(text) == _tokenize_slowly(text), text
