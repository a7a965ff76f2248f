"""Plain-Python oracles shared by the public and the hidden tests.

Each recomputes an exercise's answer the slow, obvious way, one case at a time, so that a
test never checks the library against itself.
"""

from __future__ import annotations

import numpy as np

from course_lib.bucket_brigade import Transfer


def loop_gae(rewards, values, dones, last_values, gamma, lam):
    """GAE by plain Python loops, one environment at a time: (advantages, returns).
    ``gamma`` is one float or a (T, n_envs) table of per-step discounts."""
    T, n = len(rewards), len(rewards[0])
    advantages = [[0.0] * n for _ in range(T)]
    for i in range(n):
        running, next_value = 0.0, float(last_values[i])
        for t in reversed(range(T)):
            if dones[t][i]:
                running, next_value = 0.0, 0.0
            g = float(gamma[t][i]) if np.ndim(gamma) else float(gamma)
            delta = float(rewards[t][i]) + g * next_value - float(values[t][i])
            running = delta + g * lam * running
            advantages[t][i] = running
            next_value = float(values[t][i])
    returns = [[advantages[t][i] + float(values[t][i]) for i in range(n)] for t in range(T)]
    return np.array(advantages), np.array(returns)


def loop_utility(mechanism, reward, gamma, bids, next_bids, next_exists):
    """One society auction by hand: the winner's utility under ``mechanism``."""
    ordered = sorted((float(b) for b in bids), reverse=True)
    own, second = ordered[0], (ordered[1] if len(ordered) > 1 else 0.0)
    following = sorted((float(b) for b in next_bids), reverse=True)
    next_first = following[0] if next_exists else 0.0
    next_second = (following[1] if len(following) > 1 else 0.0) if next_exists else 0.0
    return {"bb": reward + gamma * next_first - own,
            "v": reward + gamma * next_first - second,
            "ccv": reward + gamma * next_second - second,
            "env": reward}[mechanism]


def rows(transfers) -> list[tuple]:
    """Transfers as (payer, payee, kind, amount) tuples, after checking their type."""
    transfers = list(transfers)
    for t in transfers:
        assert isinstance(t, Transfer), f"expected Transfer objects, got {type(t).__name__}"
    return [(t.payer, t.payee, t.kind, t.amount) for t in transfers]


def assert_transfers(actual, expected, atol: float = 1e-12) -> None:
    """Same payers, payees and kinds in the same order; amounts equal up to ``atol``."""
    got = rows(actual)
    if [r[:3] for r in got] != [r[:3] for r in expected]:
        raise AssertionError("the transfers (payer, payee, kind) differ:\n"
                             f"  got      {[r[:3] for r in got]}\n"
                             f"  expected {[r[:3] for r in expected]}")
    np.testing.assert_allclose([r[3] for r in got], [r[3] for r in expected], rtol=0,
                               atol=atol, err_msg="the transfers' amounts differ (in order)")


def loop_option_utility(rewards, duration, gamma, bids, next_bids, next_exists):
    """One semi-MDP ccv auction by hand: the winner's utility after an option of ``duration``
    primitive steps (``rewards`` may be longer; the rest is padding)."""
    earned = sum(gamma**j * float(rewards[j]) for j in range(int(duration)))
    following = sorted((float(b) for b in next_bids), reverse=True)
    next_second = (following[1] if len(following) > 1 else 0.0) if next_exists else 0.0
    ordered = sorted((float(b) for b in bids), reverse=True)
    price = ordered[1] if len(ordered) > 1 else 0.0
    return earned + gamma ** int(duration) * next_second - price


def loop_weight_shift(before, after, threshold):
    """Fraction of scalars that moved by more than ``threshold``, one scalar at a time."""
    moved = total = 0
    for key in before:
        for b, a in zip(np.ravel(before[key]), np.ravel(after[key]), strict=True):
            moved += abs(float(a) - float(b)) > threshold
            total += 1
    return moved / total


def bfs_neighbourhoods(access, k):
    """k-hop neighbourhoods by breadth-first search from every user, one user at a time."""
    access = np.asarray(access, dtype=bool)
    n = access.shape[0]
    neighbours = [[j for j in range(n) if (access[i] & access[j]).any()] for i in range(n)]
    out = np.zeros((n, n), bool)
    for i in range(n):
        frontier, seen = [i], {i}
        for _ in range(k):
            frontier = [j for u in frontier for j in neighbours[u] if j not in seen]
            seen.update(frontier)
        out[i, sorted(seen)] = True
    return out


def loop_td_update(values, index, rewards, next_values, gamma, lr):
    """Batched TD(0) one entry at a time: the mean target of each visited entry."""
    out = [float(v) for v in values]
    targets = {}
    for m, e in enumerate(index):
        targets.setdefault(int(e), []).append(float(rewards[m]) + gamma * float(next_values[m]))
    for e, ts in targets.items():
        out[e] = float(values[e]) + lr * (sum(ts) / len(ts) - float(values[e]))
    return np.array(out)


def loop_policy_gradient(probs, states, actions, weights):
    """Softmax policy gradient by loops over episodes, steps and users."""
    grad = np.zeros_like(np.asarray(probs, dtype=float))
    B, T, n = np.shape(states)
    for b in range(B):
        for t in range(T):
            for i in range(n):
                s, a, w = states[b][t][i], actions[b][t][i], weights[b][t][i]
                for c in range(grad.shape[2]):
                    grad[i, s, c] += w * ((1.0 if c == a else 0.0) - probs[i][s][c])
    return grad / B


def loop_sensitivity(q_base, q_perturbed, hops, max_hops):
    """Mean absolute change per hop distance, by a loop over samples."""
    sums, counts = [0.0] * max_hops, [0] * max_hops
    for a, b, h in zip(q_base, q_perturbed, hops, strict=True):
        if 1 <= h <= max_hops:
            sums[h - 1] += abs(float(a) - float(b))
            counts[h - 1] += 1
    return np.array([s / c if c else np.nan for s, c in zip(sums, counts, strict=True)])


def loop_linear_td_update(weights, index, features, rewards, next_values, gamma, lr):
    """Normalised linear TD(0), one row and one feature at a time, predictions from the
    weights on entry."""
    w = np.array(weights, dtype=float)
    out = w.copy()
    n_features = w.shape[1]
    deltas = [float(rewards[m]) + gamma * float(next_values[m])
              - sum(w[int(e), f] * float(features[m][f]) for f in range(n_features))
              for m, e in enumerate(index)]
    for e in {int(e) for e in index}:
        mine = [m for m, row in enumerate(index) if int(row) == e]
        for f in range(n_features):
            norm = sum(float(features[m][f]) ** 2 for m in mine)
            if norm > 0:
                step = sum(deltas[m] * float(features[m][f]) for m in mine) / norm
                out[e, f] = w[e, f] + lr / n_features * step
    return out
