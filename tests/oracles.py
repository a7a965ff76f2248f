"""Plain-Python oracles shared by the public and the hidden tests.

Each recomputes an exercise's answer the slow, obvious way, one case at a time, so that a
test never checks the library against itself.
"""

from __future__ import annotations

import numpy as np

from course_lib.bucket_brigade import Transfer


def loop_gae(rewards, values, dones, last_values, gamma, lam):
    """GAE by plain Python loops, one environment at a time: (advantages, returns)."""
    T, n = len(rewards), len(rewards[0])
    advantages = [[0.0] * n for _ in range(T)]
    for i in range(n):
        running, next_value = 0.0, float(last_values[i])
        for t in reversed(range(T)):
            if dones[t][i]:
                running, next_value = 0.0, 0.0
            delta = float(rewards[t][i]) + gamma * next_value - float(values[t][i])
            running = delta + gamma * lam * running
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
    assert [r[:3] for r in got] == [r[:3] for r in expected], (got, expected)
    np.testing.assert_allclose([r[3] for r in got], [r[3] for r in expected],
                               rtol=0, atol=atol)
