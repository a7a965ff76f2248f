"""Property-based fuzzing of the public API: bad input must fail fast and clearly.

Every row of ``CASES`` names a public function (or constructor, or a method behind a small
wrapper) and a hypothesis strategy for a dict of *valid* keyword arguments, kept small. Each
example draws valid arguments, then replaces up to two of them with hostile values: None,
NaN, +-inf, huge integers (10**12, 2**64), negative numbers, bools, numeric and other
strings, complex numbers, empty, ragged and wrongly shaped lists and arrays, objects of the
wrong kind, and copies of the valid value with one entry spoiled. A call fails the test when

* it raises anything but ``ValueError``/``TypeError`` (the course's own errors derive from
  them), or raises one of those from inside numpy/torch/scipy rather than from course code;
* it runs longer than ``CALL_TIMEOUT_S`` seconds (a ``SIGALRM`` timer), or allocates past
  ``MEMORY_HEADROOM`` bytes (an address-space limit while the fuzzer runs);
* it succeeds on finite input but returns NaN or inf (where the function does not document
  NaN, ``nan_ok``), a non-numeric array, or warns that it cast or computed nonsense
  (numpy's ``ComplexWarning``, ``RuntimeWarning``);
* it *accepts* a value that is never valid there (None, NaN, inf, a bool, a string, a
  complex number, an object of the wrong kind, a ragged list; per parameter, ``allow``
  lifts and ``strict`` adds kinds);
* it rejects a single spoiled argument with a message that does not name that argument.

Set ``COURSE_LIB_FUZZ_SURVEY=1`` to record every call without failing (a count of what the
API does with hostile input) and ``COURSE_LIB_FUZZ_EXAMPLES=N`` to draw more examples; the
summary (calls per outcome) is printed at the end of the module and, with
``COURSE_LIB_FUZZ_REPORT=path``, written as JSON.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import signal
import sys
import threading
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib import (
    aloha,
    auctions,
    bidders,
    bucket_brigade,
    config,
    exercises,
    linear_critic,
    mu_k,
    option_society,
    ppo,
    q_learning,
    society,
    stats,
    validation,
    wireless_sac,
)
from course_lib.envs import mnist_canvas, toy_mdps, wireless, wireless_parallel

pytestmark = pytest.mark.skipif(not exercises.solutions_available(),
                                reason="fuzzing calls the exercises: needs reference solutions")

CALL_TIMEOUT_S = 2.0
MEMORY_HEADROOM = 3 * 2**30   # bytes of address space a call may add
MAX_EXAMPLES = int(os.environ.get("COURSE_LIB_FUZZ_EXAMPLES", "60"))
SURVEY = os.environ.get("COURSE_LIB_FUZZ_SURVEY", "") not in ("", "0")
_ROOT = Path(validation.__file__).resolve().parent.parent
COURSE_DIRS = (str(_ROOT / "course_lib"), str(_ROOT / "solutions"))

# warnings that mean a result was computed from nonsense (underflow is ignored: harmless)
NOISY_WARNINGS = (RuntimeWarning, np.exceptions.ComplexWarning)
# hostile kinds that no parameter accepts unless its case says so (``allow``)
NEVER_VALID = {"none", "nan", "inf", "bool", "str", "badstr", "complex", "object", "ragged"}


# ======================================================================================
# Hostile values
# ======================================================================================

GENERIC: list[tuple[str, Any]] = [
    ("none", None), ("nan", math.nan), ("inf", math.inf), ("inf", -math.inf),
    ("huge", 10**12), ("huge", 2**64), ("huge", -10**12), ("negative", -1), ("zero", 0),
    ("fraction", 0.5), ("negative", -0.5), ("huge", 1e12), ("bool", True), ("bool", False),
    ("str", "1"), ("str", "0.5"), ("badstr", "abc"), ("complex", 1j), ("complex", 1 + 0j),
    ("object", object()), ("empty", []), ("ragged", [[1.0], [2.0, 3.0]]),
    ("none", [None, 1.0]), ("empty", np.zeros(0)), ("shape", np.ones((2, 3, 4))),
    ("nan", np.array([math.nan, 1.0])), ("str", ["1", "2"]), ("complex", np.array([1j, 2])),
    ("bool", np.array([True, False])), ("empty", np.zeros((0, 3))),
    ("shape", np.ones((1, 1, 1, 1, 1))), ("huge", np.array([10**12, 1])),
    ("negative", np.array([-1, 0])),
]


def _spoil_array(a: np.ndarray) -> st.SearchStrategy:
    """Copies of a valid array with one entry (or its dtype or shape) spoiled."""
    options: list[st.SearchStrategy] = [
        st.just(("shape", a[..., None])), st.just(("shape", a.reshape(-1)[None, None])),
        st.just(("bool", a.astype(bool))), st.just(("str", a.astype(str))),
        st.just(("complex", a.astype(complex))),
    ]
    if a.ndim:
        options.append(st.just(("empty", a[:0])))
    if a.size:
        def put(kind: str, value: Any, dtype: Any) -> Callable[[int], tuple[str, Any]]:
            def spoil(i: int) -> tuple[str, Any]:
                b = a.astype(dtype if a.dtype.kind in "biu" or dtype is object else a.dtype)
                b.flat[i] = value
                return kind, b
            return spoil

        at = st.integers(0, a.size - 1)
        options += [at.map(put("nan", math.nan, float)), at.map(put("inf", math.inf, float)),
                    at.map(put("inf", -math.inf, float)), at.map(put("negative", -1, np.int64)),
                    at.map(put("huge", 10**12, np.int64)), at.map(put("none", None, object)),
                    at.map(put("fraction", 0.5, float))]
        rows = a.tolist()
        if a.ndim >= 1 and len(rows) >= 1:
            options.append(st.just(("ragged", [rows, [rows]] if a.ndim == 1 else
                                    [rows[0], *rows[1:], [0.0] * (len(rows[0]) + 1)])))
    return st.one_of(options)


def _spoil_tensor(t: torch.Tensor) -> st.SearchStrategy:
    options = [st.just(("shape", t[..., None])), st.just(("empty", t[:0])),
               st.just(("bool", t.bool())), st.just(("numpy", t.numpy().copy()))]
    if t.numel():
        def nan(i: int) -> tuple[str, Any]:
            u = t.double().clone()
            u.view(-1)[i] = math.nan
            return "nan", u
        options.append(st.integers(0, t.numel() - 1).map(nan))
    return st.one_of(options)


def spoiled(value: Any) -> st.SearchStrategy:
    """(kind, hostile value) pairs for a parameter whose valid value was ``value``."""
    generic = st.sampled_from(range(len(GENERIC))).map(lambda i: copy.deepcopy(GENERIC[i]))
    if isinstance(value, bool):
        special = st.sampled_from([("str", "True"), ("int01", 1), ("int01", 0)])
    elif isinstance(value, (int, np.integer)):
        special = st.sampled_from([("huge", int(value) + 10**12), ("negative", -int(value) - 1),
                                   ("floatint", float(value)), ("bool", bool(value)),
                                   ("str", str(value))])
    elif isinstance(value, float):
        special = st.sampled_from([("str", str(value)), ("complex", complex(value, 1.0)),
                                   ("huge", value + 1e12), ("negative", -value - 1.0)])
    elif isinstance(value, str):
        special = st.sampled_from([("badstr", value.upper() + "x"), ("badstr", ""),
                                   ("bytes", value.encode())])
    elif isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        special = _spoil_array(value)
    elif isinstance(value, torch.Tensor):
        special = _spoil_tensor(value)
    elif isinstance(value, (list, tuple)) and value:
        special = st.sampled_from([
            ("none", type(value)([None, *value[1:]])), ("str", type(value)(["1", *value[1:]])),
            ("nan", type(value)([math.nan, *value[1:]])), ("shape", type(value)(value[:-1])),
            ("ragged", type(value)([list(value), *value[1:]]))])
    else:
        special = st.sampled_from([("object", "not a " + type(value).__name__),
                                   ("object", {"x": 1})])
    return st.one_of(generic, special)


# ======================================================================================
# Valid arguments
# ======================================================================================

def kw(**strategies: Any) -> st.SearchStrategy:
    return st.fixed_dictionaries({k: v if isinstance(v, st.SearchStrategy) else st.just(v)
                                  for k, v in strategies.items()})


def floats(lo: float = 0.0, hi: float = 1.0) -> st.SearchStrategy:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def farray(shape: Any, lo: float = 0.0, hi: float = 1.0) -> st.SearchStrategy:
    return hnp.arrays(float, shape, elements=floats(lo, hi))


def iarray(shape: Any, lo: int, hi: int, dtype: Any = np.int64) -> st.SearchStrategy:
    return hnp.arrays(dtype, shape, elements=st.integers(lo, hi))


def shapes(min_dims: int = 1, max_dims: int = 2, max_side: int = 3) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1,
                            max_side=max_side)


ints = st.integers
seeds = ints(0, 1000)
unit = floats()
rngs = seeds.map(np.random.default_rng)
MECH = st.sampled_from(auctions.MECHANISMS)
SMECH = st.sampled_from(society.MECHANISMS)


@cache
def grids() -> tuple[wireless.WirelessGrid, ...]:
    return (wireless.make_grid(2, 3, 1, horizon=3), wireless.make_grid(2, 2, 2, deadline=1,
                                                                       horizon=2))


def grid_st() -> st.SearchStrategy:
    return st.sampled_from(grids())


def probs_for(g: wireless.WirelessGrid) -> st.SearchStrategy:
    return farray((g.n_users, g.n_states, g.n_actions), -3, 3).map(
        lambda logits: wireless_sac.policy_probs(logits, g.valid))


def valid_actions(g: wireless.WirelessGrid, shape: tuple[int, ...]) -> st.SearchStrategy:
    choices = [np.flatnonzero(g.valid[i]) for i in range(g.n_users)]
    return st.builds(lambda picks: np.array(picks).reshape(shape),
                     st.tuples(*[st.sampled_from(choices[i % g.n_users]) for i in
                                 range(int(np.prod(shape)))]))


def queues_for(g: wireless.WirelessGrid, copies: int) -> st.SearchStrategy:
    return iarray((copies, g.n_users, g.deadline), 0, 1, np.uint8)


def mdps() -> st.SearchStrategy:
    return st.sampled_from(toy_mdps.TASKS).map(toy_mdps.make_task)


def wait_policy(queues: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.zeros(queues.shape[:2], int)


# ---- composite argument sets -----------------------------------------------------------

bids = hnp.arrays(float, shapes(), elements=floats(0, 10))


def _paired_bids() -> st.SearchStrategy:
    return shapes().flatmap(lambda s: kw(values=farray(s, 0, 10), bids=farray(s, 0, 10),
                                         mechanism=MECH))


def _auction_pair(extra: bool) -> st.SearchStrategy:
    def build(batch: tuple[int, ...], n: int, m: int) -> st.SearchStrategy:
        out = dict(bids=farray(batch + (n,), -2, 2), next_bids=farray(batch + (m,), -2, 2),
                   next_exists=hnp.arrays(bool, batch), gamma=unit)
        if extra:
            out.update(mechanism=SMECH, rewards=farray(batch, -1, 1))
        return kw(**out)
    return st.tuples(shapes(0, 2), ints(1, 3), ints(1, 3)).flatmap(lambda a: build(*a))


def _gradient_args() -> st.SearchStrategy:
    def build(b: int, n: int, n_bins: int) -> st.SearchStrategy:
        return kw(utilities=farray((b, n), -3, 3), baselines=farray((b, n), -3, 3),
                  noise=farray((b, n), -3, 3), sigma=floats(0.01, 1),
                  bins=iarray((b, n), 0, n_bins - 1), n_bins=n_bins)
    return st.tuples(ints(1, 5), ints(1, 3), ints(1, 4)).flatmap(lambda a: build(*a))


def _step_args() -> st.SearchStrategy:
    def build(n: int, eligible: list[int]) -> st.SearchStrategy:
        return kw(strengths=farray((n,), 0, 10), eligible=eligible,
                  winner=st.sampled_from(eligible), supplier=st.none() | ints(0, n - 1),
                  reward=floats(-5, 5), c_bid=floats(0.01, 0.5), tax_rate=floats(0, 0.4),
                  pricing=st.sampled_from(bucket_brigade.PRICING))
    return ints(1, 6).flatmap(lambda n: st.lists(ints(0, n - 1), min_size=1, max_size=n,
                                                 unique=True).flatmap(lambda e: build(n, e)))


def _transfers(n: int) -> st.SearchStrategy:
    account = ints(0, n - 1) | st.sampled_from([bucket_brigade.ENVIRONMENT, bucket_brigade.TAX])
    normal = st.builds(bucket_brigade.Transfer, account, account, floats(0, 5),
                       st.sampled_from(["bid", "tax", "reward"]))
    mint = st.builds(bucket_brigade.Transfer, st.just(bucket_brigade.MINT), ints(0, n - 1),
                     floats(0, 5), st.just("mint"))
    return st.lists(normal | mint, max_size=4)


def _transfer_args() -> st.SearchStrategy:
    account = ints(0, 5) | st.sampled_from([bucket_brigade.ENVIRONMENT, bucket_brigade.TAX])
    return (kw(payer=account, payee=account, amount=floats(0, 10),
               kind=st.sampled_from(["bid", "tax", "reward"]))
            | kw(payer=bucket_brigade.MINT, payee=ints(0, 5), amount=floats(0, 10),
                 kind="mint"))


def _q_update_args() -> st.SearchStrategy:
    def build(S: int, A: int, b: int) -> st.SearchStrategy:
        return kw(q=farray((S, A), -1, 1), states=iarray((b,), 0, S - 1),
                  actions=iarray((b,), 0, A - 1), rewards=farray((b,), -1, 1),
                  next_states=iarray((b,), 0, S - 1), next_exists=hnp.arrays(bool, (b,)),
                  alpha=floats(0.01, 1), gamma=unit)
    return st.tuples(ints(1, 4), ints(1, 3), ints(0, 5)).flatmap(lambda a: build(*a))


def _td_args() -> st.SearchStrategy:
    def build(E: int, M: int) -> st.SearchStrategy:
        return kw(values=farray((E,), -2, 2), index=iarray((M,), 0, E - 1),
                  rewards=farray((M,), -1, 1), next_values=farray((M,), -2, 2), gamma=unit,
                  lr=floats(0.01, 1))
    return st.tuples(ints(1, 5), ints(0, 6)).flatmap(lambda a: build(*a))


def _linear_td_args() -> st.SearchStrategy:
    def build(E: int, F: int, M: int) -> st.SearchStrategy:
        return kw(weights=farray((E, F), -2, 2), index=iarray((M,), 0, E - 1),
                  features=farray((M, F), 0, 1), rewards=farray((M,), -1, 1),
                  next_values=farray((M,), -2, 2), gamma=unit, lr=floats(0.01, 1))
    return st.tuples(ints(1, 4), ints(1, 3), ints(0, 5)).flatmap(lambda a: build(*a))


def _policy_gradient_args() -> st.SearchStrategy:
    def build(g: wireless.WirelessGrid, E: int, T: int) -> st.SearchStrategy:
        shape = (E, T, g.n_users)
        return kw(probs=probs_for(g), states=iarray(shape, 0, g.n_states - 1),
                  actions=iarray(shape, 0, g.n_actions - 1), weights=farray(shape, -2, 2))
    return st.tuples(grid_st(), ints(1, 2), ints(1, 3)).flatmap(lambda a: build(*a))


def _per_grid(build: Callable[[wireless.WirelessGrid], dict[str, Any]]) -> st.SearchStrategy:
    return grid_st().flatmap(lambda g: kw(**build(g)))


def _sensitivity_args() -> st.SearchStrategy:
    def build(M: int, h: int) -> st.SearchStrategy:
        return kw(q_base=farray((M,), -2, 2), q_perturbed=farray((M,), -2, 2),
                  hops=iarray((M,), 1, h), max_hops=h)
    return st.tuples(ints(1, 6), ints(1, 4)).flatmap(lambda a: build(*a))


def _gae_args() -> st.SearchStrategy:
    def build(T: int, E: int) -> st.SearchStrategy:
        return kw(rewards=farray((T, E), -1, 1), values=farray((T, E), -1, 1),
                  dones=hnp.arrays(bool, (T, E)), last_values=farray((E,), -1, 1),
                  gamma=unit, lam=unit)
    return st.tuples(ints(1, 4), ints(1, 3)).flatmap(lambda a: build(*a))


def tensors(shape: Any, lo: float = -1.0, hi: float = 1.0) -> st.SearchStrategy:
    return farray(shape, lo, hi).map(lambda a: torch.tensor(a, dtype=torch.float32))


def _loss_args() -> st.SearchStrategy:
    return ints(1, 5).flatmap(lambda n: kw(new_log_prob=tensors((n,), -3, 0),
                                           old_log_prob=tensors((n,), -3, 0),
                                           advantages=tensors((n,)), clip=floats(0.01, 0.5)))


def _option_utility_args() -> st.SearchStrategy:
    def build(batch: tuple[int, ...], n: int, D: int) -> st.SearchStrategy:
        return kw(rewards=farray(batch + (D,), -1, 1), durations=iarray(batch, 1, D),
                  gamma=unit, bids=farray(batch + (n,), 0, 1),
                  next_bids=farray(batch + (n,), 0, 1), next_exists=hnp.arrays(bool, batch))
    return st.tuples(shapes(1, 2), ints(1, 3), ints(1, 3)).flatmap(lambda a: build(*a))


def _images(n: int, h: int = 8, w: int = 8) -> st.SearchStrategy:
    return tensors((n, 1, h, w), 0, 1)


class _TinyClassifier(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                       torch.nn.Linear(1, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _network_step(network: wireless.WirelessNetwork, actions: Any) -> Any:
    network.reset()
    return network.step(actions)


def _network_reset(network: wireless.WirelessNetwork, seed: Any) -> Any:
    return network.reset(seed)


def _parallel_step(env: wireless_parallel.WirelessParallelEnv, actions: Any) -> Any:
    env.reset()
    return env.step(actions)


def _user_cell(grid: wireless.WirelessGrid, user: Any) -> Any:
    return grid.user_cell(user)


def _line_act(line: bucket_brigade.ProductionLine, stage: Any, rule: Any) -> Any:
    return line.act(stage, rule)


def _ledger_pay(ledger: bucket_brigade.Ledger, payer: Any, payee: Any, paid: Any) -> Any:
    ledger.pay(payer, payee, paid, paid)
    return ledger.strengths


def _ledger_mint(ledger: bucket_brigade.Ledger, payee: Any, amount: Any) -> Any:
    ledger.mint(payee, amount)
    return ledger.strengths


def _critic_values(critic: Any, states: Any, actions: Any) -> Any:
    if isinstance(critic, wireless_sac.TruncatedCritic):
        return critic.lookup(critic.hash(states, actions))
    return critic.values(states, actions)


def _ratio_of(ratios: Any) -> Any:
    return bidders.LearnToBidResult("vickrey", ratios, np.zeros(1), np.zeros((1, 1))
                                    ).overall_ratio()


# ======================================================================================
# The table
# ======================================================================================


@dataclass
class Case:
    name: str
    func: Callable[..., Any]
    valid: st.SearchStrategy
    fuzz: tuple[str, ...] | None = None           # parameters to spoil (default: all)
    allow: dict[str, set[str]] = field(default_factory=dict)   # kinds a parameter accepts
    strict: dict[str, set[str]] = field(default_factory=dict)  # more kinds it must reject
    nan_ok: bool = False                           # NaN in the output is documented
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # names in messages


INDEX_KINDS = {"negative", "huge", "fraction", "floatint"}
UNIT = {"huge", "negative"}   # a probability or discount: huge and negative values are wrong


def _critic_case(name: str, make: Callable[[Any], Any]) -> Case:
    """A critic's values for a batch of states and valid actions of a small grid."""
    return Case(name, _critic_values,
                st.tuples(grid_st(), ints(1, 2)).flatmap(lambda gb: kw(
                    critic=st.just(gb[0]).map(make),
                    states=iarray((gb[1], gb[0].n_users), 0, gb[0].n_states - 1),
                    actions=valid_actions(gb[0], (gb[1], gb[0].n_users)))),
                fuzz=("states", "actions"),
                strict={"states": INDEX_KINDS, "actions": INDEX_KINDS})

CASES: list[Case] = [
    # ---- chapter 1: auctions and bidders -----------------------------------------------
    Case("auctions.as_bid_array", auctions.as_bid_array, kw(x=bids, name="x"),
         fuzz=("x",), strict={"x": {"negative"}}),
    Case("auctions.check_mechanism", auctions.check_mechanism, kw(mechanism=MECH)),
    Case("auctions.first_price_auction", auctions.first_price_auction, kw(bids=bids),
         strict={"bids": {"negative"}}),
    Case("auctions.vickrey_auction", auctions.vickrey_auction, kw(bids=bids),
         strict={"bids": {"negative"}}),
    Case("auctions.run_auction", auctions.run_auction, kw(bids=bids, mechanism=MECH)),
    Case("auctions.auction_utilities", auctions.auction_utilities, _paired_bids()),
    Case("auctions.equilibrium_bid_ratio", auctions.equilibrium_bid_ratio,
         kw(mechanism=MECH, n_bidders=ints(1, 10))),
    Case("auctions.utility_curve", auctions.utility_curve,
         kw(value=floats(0, 2), other_bids=farray(st.tuples(ints(1, 3)), 0, 2), mechanism=MECH,
            candidate_bids=floats(0, 2) | farray(st.tuples(ints(1, 4)), 0, 2))),
    Case("auctions.best_deviation_gains", auctions.best_deviation_gains,
         kw(mechanism=MECH, n_cases=ints(1, 20), n_bidders=ints(2, 4), n_deviations=ints(1, 8),
            seed=seeds)),
    Case("auctions.truthful_regret", auctions.truthful_regret,
         kw(mechanism=MECH, n_cases=ints(1, 20), n_bidders=ints(2, 4), n_deviations=ints(1, 8),
            seed=seeds)),
    Case("auctions.expected_revenue", auctions.expected_revenue,
         kw(mechanism=MECH, bid_ratio=floats(0, 2), n_bidders=ints(1, 4),
            n_auctions=ints(1, 50), seed=seeds)),
    Case("auctions.AuctionOutcome", auctions.AuctionOutcome,
         kw(winner=ints(0, 5), price=floats(0, 10)), strict={"winner": {"negative"}}),
    Case("bidders.bid_ratio_gradient", bidders.bid_ratio_gradient, _gradient_args(),
         strict={"bins": INDEX_KINDS}),
    Case("bidders.weighted_ratio", bidders.weighted_ratio,
         kw(ratios=farray(shapes(), 0, 2))),
    Case("bidders.LearnToBidResult.overall_ratio", _ratio_of,
         kw(ratios=farray(shapes(2, 2), 0, 2))),
    Case("bidders.learn_to_bid", bidders.learn_to_bid,
         kw(mechanism=MECH, n_bidders=ints(2, 3), n_bins=ints(1, 3), iterations=ints(1, 3),
            batch=ints(1, 8), lr=floats(0.001, 0.1),
            sigma=st.tuples(floats(0.01, 0.5), floats(0.01, 0.5)), init_ratio=unit,
            seed=seeds, callback=None), allow={"callback": {"none"}}),
    # ---- chapter 2: the bucket brigade -------------------------------------------------
    Case("bucket_brigade.Transfer", bucket_brigade.Transfer, _transfer_args(),
         allow={"payer": {"str"}, "payee": {"str"}}),
    Case("bucket_brigade.step_transfers", bucket_brigade.step_transfers, _step_args(),
         allow={"supplier": {"none"}}, strict={"strengths": {"negative"}}),
    Case("bucket_brigade.apply_transfers", bucket_brigade.apply_transfers,
         ints(1, 5).flatmap(lambda n: kw(strengths=farray((n,), 0, 10),
                                         transfers=_transfers(n)))),
    Case("bucket_brigade.money_created", bucket_brigade.money_created,
         ints(1, 5).flatmap(lambda n: kw(initial_strengths=farray((n,), 0, 10),
                                         final_strengths=farray((n,), 0, 10),
                                         transfers=_transfers(n)))),
    Case("bucket_brigade.steady_state_strengths", bucket_brigade.steady_state_strengths,
         kw(n_stages=ints(1, 10), reward=floats(-10, 10), c_bid=floats(0.05, 0.5),
            tax_rate=floats(0, 0.4))),
    Case("bucket_brigade.Ledger", bucket_brigade.Ledger,
         kw(initial_strengths=farray(st.tuples(ints(1, 5)), 0, 10))),
    Case("bucket_brigade.ProductionLine", bucket_brigade.ProductionLine,
         kw(n_stages=ints(1, 6), reward=floats(0.1, 10))),
    Case("bucket_brigade.run_bucket_brigade", bucket_brigade.run_bucket_brigade,
         kw(line=st.none() | st.builds(bucket_brigade.ProductionLine, ints(1, 3)),
            c_bid=floats(0.05, 0.5), tax_rate=floats(0, 0.4), episodes=ints(1, 5),
            epsilon=unit, explore_fraction=unit,
            pricing=st.sampled_from(bucket_brigade.PRICING), initial_strength=floats(0.1, 5),
            seed=seeds, max_strength=floats(1, 1e6), callback=None),
         allow={"line": {"none"}, "callback": {"none"}}),
    Case("bucket_brigade.ProductionLine.act", _line_act,
         ints(1, 4).flatmap(lambda n: ints(0, n - 1).flatmap(lambda k: kw(
             line=bucket_brigade.ProductionLine(n), stage=k, rule=ints(3 * k, 3 * k + 2)))),
         fuzz=("stage", "rule"), strict={"stage": INDEX_KINDS, "rule": INDEX_KINDS}),
    Case("bucket_brigade.Ledger.pay", _ledger_pay,
         ints(1, 4).flatmap(lambda n: kw(
             ledger=farray((n,), 1, 5).map(bucket_brigade.Ledger),
             payer=ints(0, n - 1) | st.just(bucket_brigade.ENVIRONMENT),
             payee=ints(0, n - 1) | st.just(bucket_brigade.TAX), paid=floats(0, 1))),
         fuzz=("payer", "payee", "paid"), allow={"payer": {"str"}, "payee": {"str"}}),
    Case("bucket_brigade.Ledger.mint", _ledger_mint,
         ints(1, 4).flatmap(lambda n: kw(ledger=farray((n,), 1, 5).map(bucket_brigade.Ledger),
                                         payee=ints(0, n - 1), amount=floats(0, 1))),
         fuzz=("payee", "amount")),
    # ---- chapter 3: societies, Q-learning, toy MDPs ------------------------------------
    Case("toy_mdps.TabularMDP", toy_mdps.TabularMDP,
         st.tuples(ints(1, 3), ints(1, 3)).flatmap(lambda sa: kw(
             name="task", transitions=iarray(sa, 0, sa[0] - 1), rewards=farray(sa, -1, 1),
             terminal=st.just(np.zeros(sa[0], bool)), start_state=0, max_steps=ints(1, 5),
             action_names=tuple(f"a{i}" for i in range(sa[1])))),
         fuzz=("transitions", "rewards", "terminal", "start_state", "max_steps"),
         allow={"terminal": {"bool"}}, strict={"transitions": INDEX_KINDS}),
    Case("society.check_society_mechanism", society.check_society_mechanism,
         kw(mechanism=SMECH)),
    Case("society.check_bid_table", society.check_bid_table,
         kw(x=farray(shapes(), -5, 5), name="x", min_bidders=ints(1, 2)), fuzz=("x",)),
    Case("society.top_two", society.top_two, kw(bids=farray(shapes(), -5, 5))),
    Case("society.check_auction_pair", society.check_auction_pair, _auction_pair(False),
         allow={"next_exists": {"bool"}}),
    Case("society.winner_utility", society.winner_utility, _auction_pair(True),
         allow={"next_exists": {"bool"}}),
    Case("society.society_auction", society.society_auction,
         kw(bids=farray(shapes(2, 3), -2, 2))),
    Case("society.money_created", society.money_created,
         _auction_pair(True).map(lambda d: {k: d[k] for k in ("mechanism", "gamma",
                                                              "next_bids", "next_exists")}),
         allow={"next_exists": {"bool"}}),
    Case("bidders.train_society", bidders.train_society,
         kw(mdp=mdps(), mechanisms=st.lists(SMECH, min_size=1, max_size=2),
            n_clones=ints(1, 2), gamma=unit, iterations=ints(1, 2), n_envs=ints(1, 3),
            lr=floats(0.001, 0.1), sigma=st.tuples(floats(0.01, 0.5), floats(0.01, 0.5)),
            init_bid=floats(-1, 1), seed=seeds, n_snapshots=ints(1, 3), callback=None,
            time_limit=st.sampled_from(bidders.TIME_LIMITS)),
         allow={"callback": {"none"}}),
    Case("q_learning.q_learning_update", q_learning.q_learning_update, _q_update_args(),
         allow={"next_exists": {"bool"}},
         strict={"states": INDEX_KINDS, "actions": INDEX_KINDS, "next_states": INDEX_KINDS}),
    Case("q_learning.run_q_learning", q_learning.run_q_learning,
         kw(mdp=mdps(), gamma=unit, env_steps=ints(1, 64), n_runs=ints(1, 2),
            n_envs=ints(1, 4), alpha=floats(0.01, 1), epsilon=unit, seed=seeds,
            callback=None), allow={"callback": {"none"}}),
    Case("toy_mdps.make_task", toy_mdps.make_task, kw(name=st.sampled_from(toy_mdps.TASKS)),
         aliases={"name": ("task",)}),
    Case("toy_mdps.value_iteration", toy_mdps.value_iteration,
         kw(mdp=mdps(), gamma=floats(0, 0.95), tol=floats(1e-8, 1e-2),
            max_iterations=ints(1, 1000))),
    # ---- chapter 4: PPO and the option society -----------------------------------------
    Case("ppo.PPOConfig", ppo.PPOConfig,
         kw(gamma=unit, gae_lambda=unit, clip=floats(0.01, 0.5), lr=floats(1e-4, 0.1),
            n_envs=ints(1, 4), n_steps=ints(1, 8), epochs=ints(1, 3), minibatches=1,
            ent_coef=unit, vf_coef=unit, max_grad_norm=floats(0.1, 1),
            hidden=st.lists(ints(1, 8), max_size=2).map(tuple),
            optimizer=st.sampled_from(ppo.OPTIMIZERS),
            image_shape=st.none() | st.tuples(ints(7, 9), ints(7, 9), ints(1, 3))),
         allow={"image_shape": {"none"}}, strict={"gamma": UNIT, "gae_lambda": UNIT},
         aliases={"image_shape": ("height", "width", "channels")}),
    Case("ppo.check_image_shape", ppo.check_image_shape,
         kw(shape=st.tuples(ints(7, 9), ints(7, 9), ints(1, 3))),
         aliases={"shape": ("height", "width", "channels")}),
    Case("ppo.ImageEncoder", ppo.ImageEncoder,
         kw(image_shape=st.tuples(ints(7, 9), ints(7, 9), ints(1, 3))),
         aliases={"image_shape": ("height", "width", "channels")}),
    Case("ppo.ActorCritic", ppo.ActorCritic,
         kw(obs_dim=ints(1, 8), n_outputs=ints(1, 4),
            kind=st.sampled_from(["categorical", "beta"]),
            hidden=st.lists(ints(1, 8), max_size=2).map(tuple), image_shape=None),
         allow={"image_shape": {"none"}}),
    # ``dones`` is left out: its check (ppo._check_gae_args) still takes complex 1+0j for
    # True and lets a ragged list reach numpy (a change for ppo.py's owners)
    Case("ppo.compute_gae", ppo.compute_gae, _gae_args(),
         fuzz=("rewards", "values", "last_values", "gamma", "lam"),
         strict={"gamma": UNIT, "lam": UNIT}),
    Case("ppo.clipped_surrogate_loss", ppo.clipped_surrogate_loss, _loss_args()),
    Case("option_society.option_utility", option_society.option_utility,
         _option_utility_args(), allow={"next_exists": {"bool"}},
         strict={"durations": INDEX_KINDS}),
    Case("option_society.clone_utilities", option_society.clone_utilities,
         st.tuples(ints(1, 3), ints(1, 3), ints(1, 3)).flatmap(
             lambda s: kw(bids=farray(s, 0, 1), utility=farray((s[0],), -1, 1))),
         aliases={"bids": ("auction",)}),
    Case("option_society.OptionSociety", option_society.OptionSociety,
         kw(obs_dim=ints(1, 6), n_primitives=ints(1, 3), n_clones=ints(1, 3),
            hidden=st.lists(ints(1, 8), min_size=1, max_size=2).map(tuple),
            image_shape=None), allow={"image_shape": {"none"}}),
    # ---- chapter 5: the MNIST canvas ---------------------------------------------------
    Case("mnist_canvas.place_on_canvas", mnist_canvas.place_on_canvas,
         kw(images=ints(0, 2).flatmap(lambda n: tensors((n, 28, 28), 0, 1)),
            size=st.sampled_from([28, 30, 64]))),
    Case("mnist_canvas.affine_theta", mnist_canvas.affine_theta,
         ints(0, 3).flatmap(lambda n: kw(angles=farray((n,), -360, 360),
                                         shifts=farray((n, 2), -2, 2)))),
    Case("mnist_canvas.transform", mnist_canvas.transform,
         ints(1, 2).flatmap(lambda n: kw(images=_images(n), theta=tensors((n, 2, 3)))),
         aliases={"images": ("image",)}),
    Case("mnist_canvas.apply_inputs", mnist_canvas.apply_inputs,
         ints(0, 2).flatmap(lambda n: kw(images=_images(n), transform_ids=iarray((n,), 0, 7))),
         strict={"transform_ids": INDEX_KINDS}, aliases={"images": ("image",)}),
    Case("mnist_canvas.apply_primitives", mnist_canvas.apply_primitives,
         ints(0, 2).flatmap(lambda n: kw(images=_images(n), primitive_ids=iarray((n,), 0, 5))),
         strict={"primitive_ids": INDEX_KINDS}, aliases={"images": ("image",)}),
    Case("mnist_canvas.oracle_primitives", mnist_canvas.oracle_primitives,
         kw(transform_ids=ints(0, 3).flatmap(lambda n: iarray((n,), 0, 7))),
         strict={"transform_ids": INDEX_KINDS}),
    Case("mnist_canvas.classifier_reward", mnist_canvas.classifier_reward,
         ints(0, 2).flatmap(lambda n: kw(classifier=st.builds(_TinyClassifier),
                                         images=_images(n), labels=iarray((n,), 0, 9))),
         strict={"labels": INDEX_KINDS}, aliases={"images": ("image",)}),
    # ---- chapter 6: the wireless network ------------------------------------------------
    Case("wireless.access_matrix", wireless.access_matrix,
         kw(height=ints(2, 3), width=ints(2, 3), users_per_cell=ints(1, 2))),
    Case("wireless.make_grid", wireless.make_grid,
         kw(height=ints(2, 3), width=ints(2, 3), users_per_cell=ints(1, 2),
            deadline=ints(1, 3), arrival_prob=unit, success_prob=st.just("random") | unit,
            gamma=unit, horizon=ints(1, 5), seed=seeds),
         allow={"success_prob": {"str"}},
         strict={"arrival_prob": UNIT, "gamma": UNIT, "success_prob": UNIT}),
    Case("wireless.WirelessGrid.user_cell", _user_cell,
         grid_st().flatmap(lambda g: kw(grid=g, user=ints(0, g.n_users - 1))),
         fuzz=("user",), strict={"user": INDEX_KINDS}),
    Case("wireless.neighbourhoods", wireless.neighbourhoods,
         _per_grid(lambda g: dict(access=g.access, k=ints(0, 4))),
         allow={"access": {"bool"}}),
    Case("wireless.neighbour_lists", wireless.neighbour_lists,
         _per_grid(lambda g: dict(access=g.access, k=ints(0, 4))),
         allow={"access": {"bool"}}),
    Case("wireless.hop_distances", wireless.hop_distances,
         _per_grid(lambda g: dict(access=g.access)), allow={"access": {"bool"}}),
    Case("wireless.state_index", wireless.state_index,
         _per_grid(lambda g: dict(queues=queues_for(g, 2))),
         allow={"queues": {"bool"}}, strict={"queues": INDEX_KINDS}),
    Case("wireless.WirelessNetwork", wireless.WirelessNetwork,
         kw(grid=grid_st(), n_copies=ints(1, 4), link_prob=unit, seed=seeds,
            horizon=st.none() | ints(1, 5)), allow={"horizon": {"none"}}),
    Case("wireless.WirelessNetwork.step", _network_step,
         st.tuples(grid_st(), ints(1, 2)).flatmap(
             lambda gc: kw(network=st.just(gc).map(lambda a: wireless.WirelessNetwork(*a)),
                           actions=valid_actions(gc[0], (gc[1], gc[0].n_users)))),
         fuzz=("actions",), strict={"actions": INDEX_KINDS}),
    Case("wireless.WirelessNetwork.reset", _network_reset,
         kw(network=grid_st().map(wireless.WirelessNetwork), seed=st.none() | seeds),
         fuzz=("seed",), allow={"seed": {"none"}}),
    Case("wireless.discounted_return", wireless.discounted_return,
         kw(grid=grid_st(), policy=wait_policy, episodes=ints(1, 4), seed=seeds,
            link_prob=unit)),
    Case("wireless_parallel.WirelessParallelEnv", wireless_parallel.WirelessParallelEnv,
         kw(grid=st.none() | grid_st(), link_prob=unit), allow={"grid": {"none"}}),
    Case("wireless_parallel.WirelessParallelEnv.step", _parallel_step,
         grid_st().flatmap(lambda g: kw(
             env=st.just(g).map(wireless_parallel.WirelessParallelEnv),
             actions=st.fixed_dictionaries({f"user_{i}": st.just(0)
                                            for i in range(g.n_users)}))),
         fuzz=("actions",)),
    Case("aloha.access_point_weights", aloha.access_point_weights, kw(grid=grid_st())),
    Case("aloha.aloha_actions", aloha.aloha_actions,
         st.tuples(grid_st(), ints(1, 3)).flatmap(lambda gc: kw(
             queues=queues_for(*gc), weights=aloha.access_point_weights(gc[0]), p_send=unit,
             rng=rngs)), allow={"queues": {"bool"}}, strict={"queues": INDEX_KINDS}),
    Case("aloha.aloha_policy", aloha.aloha_policy, kw(grid=grid_st(), p_send=unit)),
    Case("aloha.tune_aloha", aloha.tune_aloha,
         kw(grid=grid_st(), send_probs=st.lists(unit, min_size=1, max_size=3),
            episodes=ints(1, 4), seed=seeds, link_prob=unit)),
    Case("aloha.stale_start_return", aloha.stale_start_return,
         ints(1, 4).flatmap(lambda e: kw(grid=grid_st(), p_send=unit, episodes=e,
                                         rounds=ints(1, e), seed=seeds))),
    Case("aloha.user_classes", aloha.user_classes, kw(grid=grid_st())),
    Case("aloha.rich_aloha_policy", aloha.rich_aloha_policy,
         _per_grid(lambda g: dict(grid=g, table=farray(
             (len(aloha.user_classes(g)[1]), 2 ** g.deadline - 1), 0, 1)))),
    Case("aloha.tune_rich_aloha", aloha.tune_rich_aloha,
         kw(grid=grid_st(), start=unit, episodes=ints(1, 3), seed=seeds, link_prob=unit,
            sweeps=ints(1, 2), values=st.lists(unit, min_size=1, max_size=2))),
    Case("wireless_sac.TruncatedCritic", wireless_sac.TruncatedCritic,
         kw(grid=grid_st(), k=ints(0, 3), seed=seeds)),
    Case("linear_critic.LinearCritic", linear_critic.LinearCritic,
         kw(grid=grid_st(), k=ints(0, 3))),
    _critic_case("wireless_sac.TruncatedCritic.lookup",
                 lambda g: wireless_sac.TruncatedCritic(g, 1)),
    _critic_case("linear_critic.LinearCritic.values", lambda g: linear_critic.LinearCritic(g, 2)),
    Case("wireless_sac.td_update", wireless_sac.td_update, _td_args(),
         strict={"index": INDEX_KINDS, "gamma": UNIT, "lr": UNIT}),
    Case("linear_critic.linear_td_update", linear_critic.linear_td_update, _linear_td_args(),
         strict={"index": INDEX_KINDS, "gamma": UNIT, "lr": UNIT}),
    Case("wireless_sac.policy_probs", wireless_sac.policy_probs,
         _per_grid(lambda g: dict(logits=farray((g.n_users, g.n_states, g.n_actions), -5, 5),
                                  valid=g.valid)), allow={"valid": {"bool"}}),
    Case("wireless_sac.sample_actions", wireless_sac.sample_actions,
         st.tuples(grid_st(), ints(1, 3)).flatmap(lambda gb: kw(
             probs=probs_for(gb[0]), states=iarray((gb[1], gb[0].n_users), 0,
                                                   gb[0].n_states - 1), rng=rngs)),
         strict={"states": INDEX_KINDS, "probs": UNIT}),
    Case("wireless_sac.policy_gradient", wireless_sac.policy_gradient, _policy_gradient_args(),
         strict={"states": INDEX_KINDS, "actions": INDEX_KINDS, "probs": UNIT}),
    Case("wireless_sac.SACConfig", wireless_sac.SACConfig,
         kw(k=ints(0, 3), critic=st.sampled_from(wireless_sac.CRITICS), baseline=st.booleans(),
            episodes=ints(1, 1000), batch=ints(1, 100), critic_lr=floats(0.01, 1),
            actor_lr=floats(0.01, 20), link_prob=unit, eval_every=ints(1, 1000),
            eval_episodes=ints(1, 1000)),
         allow={"critic": {"str"}, "baseline": {"bool"}}, strict={"baseline": {"int01"}}),
    Case("wireless_sac.train_sac", wireless_sac.train_sac,
         kw(grid=grid_st(), cfg=st.builds(wireless_sac.SACConfig, k=ints(0, 1),
                                           critic=st.sampled_from(wireless_sac.CRITICS),
                                           baseline=st.booleans(), episodes=ints(1, 4),
                                           batch=ints(1, 2), eval_every=ints(1, 4),
                                           eval_episodes=ints(1, 4)),
            seed=seeds), fuzz=("grid", "seed")),
    Case("wireless_sac.sensitivity_by_hop", wireless_sac.sensitivity_by_hop,
         _sensitivity_args(), nan_ok=True, strict={"hops": INDEX_KINDS | {"zero"}}),
    Case("wireless_sac.rollout_q", wireless_sac.rollout_q,
         st.tuples(grid_st(), ints(1, 2)).flatmap(lambda gb: kw(
             grid=gb[0], probs=probs_for(gb[0]), queues=queues_for(*gb),
             actions=valid_actions(gb[0], (gb[1], gb[0].n_users)), seed=seeds,
             link_prob=unit)),
         strict={"actions": INDEX_KINDS, "queues": INDEX_KINDS}),
    Case("wireless_sac.measure_mu_decay", wireless_sac.measure_mu_decay,
         _per_grid(lambda g: dict(grid=g, probs=probs_for(g), starts=ints(1, 3),
                                  rollouts=ints(1, 2), link_prob=unit, seed=seeds)),
         nan_ok=True),
    Case("wireless_sac.measure_mu_k", wireless_sac.measure_mu_k,
         _per_grid(lambda g: dict(grid=g, probs=probs_for(g), starts=ints(1, 3),
                                  rollouts=ints(1, 2), link_prob=unit, seed=seeds,
                                  quantile=unit))),
    Case("mu_k.estimate_mu_k", mu_k.estimate_mu_k,
         _per_grid(lambda g: dict(grid=g, probs=probs_for(g), starts=ints(1, 3),
                                  rollouts=ints(2, 3), candidates=ints(1, 2),
                                  confirm=ints(2, 3), search_steps=ints(0, 2),
                                  proposals=ints(2, 3), link_prob=unit, seed=seeds,
                                  confidence=st.floats(0.5, 0.99)))),
    Case("wireless_sac.summarize_mu_k", wireless_sac.summarize_mu_k,
         kw(gaps=farray(shapes(2, 2), 0, 1), quantile=unit)),
    Case("wireless_sac.replay_episode", wireless_sac.replay_episode,
         _per_grid(lambda g: dict(grid=g, probs=probs_for(g), seed=seeds, link_prob=unit))),
    # ---- shared helpers ----------------------------------------------------------------
    Case("stats.ci95_half_width", stats.ci95_half_width,
         kw(values=farray(st.tuples(ints(1, 5)), -5, 5))),
    Case("stats.paired_difference", stats.paired_difference,
         ints(1, 5).flatmap(lambda n: kw(a=farray((n,), -5, 5), b=farray((n,), -5, 5),
                                         confidence=st.floats(0.5, 0.99)))),
    Case("stats.paired_t_power", stats.paired_t_power,
         kw(effect=floats(-2, 2), sd=floats(0.1, 2), n=ints(2, 8),
            alpha=st.floats(0.01, 0.2))),
    Case("stats.minimum_detectable_difference", stats.minimum_detectable_difference,
         kw(sd=floats(0.1, 2), n=ints(2, 8), alpha=st.floats(0.01, 0.2),
            power=st.floats(0.5, 0.95))),
    Case("validation.check_int", validation.check_int,
         kw(name="value", value=ints(-5, 5), minimum=st.none() | ints(-5, -5)),
         fuzz=("value",)),
    Case("validation.check_float", validation.check_float,
         kw(name="value", value=floats(-5, 5)), fuzz=("value",)),
    Case("validation.check_unit", validation.check_unit, kw(name="value", value=unit),
         fuzz=("value",), strict={"value": UNIT}),
    Case("validation.as_float_array", validation.as_float_array,
         kw(x=farray(shapes(), -5, 5), name="x"), fuzz=("x",),
         allow={"x": {"nan", "inf"}}),  # NaN is a number: finite=True refuses it
    Case("validation.check_finite", validation.check_finite,
         kw(arr=farray(shapes(), -5, 5), name="arr"), fuzz=("arr",)),
    Case("validation.check_choice", validation.check_choice,
         kw(name="value", value=st.sampled_from(["a", "b"]), choices=("a", "b")),
         fuzz=("value",)),
    Case("validation.check_schedule", validation.check_schedule,
         kw(name="value", value=st.tuples(floats(0.01, 1), floats(0.01, 1))),
         fuzz=("value",)),
    Case("config.check_seed", config.check_seed, kw(seed=seeds)),
    Case("config.resolve_quick", config.resolve_quick, kw(quick=st.booleans()),
         allow={"quick": {"none", "bool"}}, strict={"quick": {"int01"}}),
]


# ======================================================================================
# One guarded call
# ======================================================================================


class CallTimeout(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` swallows it."""


def _alarm(signum: int, frame: Any) -> None:
    raise CallTimeout


def _walk(obj: Any, depth: int = 0) -> Any:
    """Every array-like leaf of an argument or a result (a few levels deep)."""
    if depth > 3:
        return
    if isinstance(obj, (np.ndarray, np.generic, float, complex, torch.Tensor)):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _walk(v, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj[:1000]:
            yield from _walk(v, depth + 1)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from _walk(getattr(obj, f.name), depth + 1)


def _finite(leaf: Any) -> bool:
    if isinstance(leaf, torch.Tensor):
        return not (leaf.is_floating_point() or leaf.is_complex()) or \
            bool(torch.isfinite(leaf).all())
    a = np.asarray(leaf)
    return a.dtype.kind not in "fc" or bool(np.isfinite(a).all())


def _origin(err: BaseException) -> str:
    """Where an exception was raised: "course" (course_lib, solutions, this file) or the
    library whose Python or Cython code raised it (numpy, torch, ...)."""
    tb = traceback.extract_tb(err.__traceback__)
    if not tb or tb[-1].filename.startswith("<"):
        return "course"
    last = tb[-1].filename
    if last.endswith(".pyx"):
        return last.split("/")[0]
    last = str(Path(last).resolve())
    if last.startswith(COURSE_DIRS) or last == str(Path(__file__).resolve()):
        return "course"
    parts = Path(last).parts
    return parts[parts.index("site-packages") + 1] if "site-packages" in parts else \
        Path(last).stem


def guarded_call(case: Case, kwargs: dict[str, Any], spoilt: dict[str, str]) -> tuple[str, str]:
    """Call ``case.func(**kwargs)``; return (outcome, detail). Outcomes starting with 'bad'
    fail the test."""
    use_alarm = threading.current_thread() is threading.main_thread() and \
        hasattr(signal, "setitimer")
    if use_alarm:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, CALL_TIMEOUT_S)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
                result = case.func(**kwargs)
    except CallTimeout:
        return "bad: timeout", f"longer than {CALL_TIMEOUT_S} s"
    except (ValueError, TypeError) as err:
        kind = "ValueError" if isinstance(err, ValueError) else "TypeError"
        where = _origin(err)
        if where != "course":
            return f"bad: {kind} from {where}", f"{type(err).__name__}: {err}"
        if len(spoilt) == 1:
            (name,) = spoilt
            names = (name, *case.aliases.get(name, ()))
            if not any(n in str(err) for n in names):
                return f"bad: {kind} not naming the argument", f"{type(err).__name__}: {err}"
        return kind, str(err)
    except Exception as err:  # noqa: BLE001 - every other type is what we are looking for
        return f"bad: {type(err).__name__}", f"{type(err).__name__}: {err}"[:300]
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    noisy = [w for w in caught if issubclass(w.category, NOISY_WARNINGS)]
    if noisy:
        return f"bad: {noisy[0].category.__name__}", str(noisy[0].message)
    for name, kind in spoilt.items():
        refused = (NEVER_VALID | case.strict.get(name, set())) - case.allow.get(name, set())
        if kind in refused:
            return f"bad: accepted {kind}", f"{name}={kwargs[name]!r:.120}"
    finite_input = all(_finite(leaf) for leaf in _walk(kwargs))
    if finite_input:
        for leaf in _walk(result):
            if not case.nan_ok and not _finite(leaf):
                return "bad: non-finite output", f"{leaf!r:.200}"
            if isinstance(leaf, np.ndarray) and leaf.dtype.kind in "OUS":
                return "bad: non-numeric output", f"{leaf!r:.200}"
    return "ok", ""


# ======================================================================================
# The test
# ======================================================================================

COUNTS: Counter[tuple[str, str]] = Counter()
EXAMPLES: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module", autouse=True)
def _memory_cap_and_summary(request: pytest.FixtureRequest):
    """Cap the address space while fuzzing (a huge allocation then fails with MemoryError
    instead of swapping), and print the counts at the end."""
    try:
        import resource
    except ImportError:  # not on this platform: no cap
        resource = None
    if resource is not None:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        cap = used + MEMORY_HEADROOM
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        if resource is not None:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        _report(request)


def _report(request: pytest.FixtureRequest) -> None:
    by_outcome = Counter()
    for (_, outcome), n in COUNTS.items():
        by_outcome[outcome] += n
    total = sum(by_outcome.values())
    lines = [f"fuzz: {total} calls over {len({c for c, _ in COUNTS})} public functions"]
    lines += [f"  {n:6d}  {outcome}" for outcome, n in by_outcome.most_common()]
    bad = [(key, n) for key, n in sorted(COUNTS.items()) if key[1].startswith("bad")]
    lines += [f"  {n:4d} x {c}: {o} -- {EXAMPLES[(c, o)][:160]}" for (c, o), n in bad]
    text = "\n".join(lines)
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(text)
    else:
        print(text, file=sys.stderr)
    path = os.environ.get("COURSE_LIB_FUZZ_REPORT")
    if path:
        Path(path).write_text(json.dumps(
            {"calls": total, "outcomes": dict(by_outcome),
             "per_function": {f"{c} | {o}": n for (c, o), n in sorted(COUNTS.items())},
             "examples": {f"{c} | {o}": EXAMPLES[(c, o)] for (c, o), _ in bad}}, indent=1))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_public_function_fails_fast_and_clearly(case: Case, data: st.DataObject) -> None:
    kwargs = dict(data.draw(case.valid, label="valid"))
    names = [n for n in kwargs if case.fuzz is None or n in case.fuzz]
    chosen = data.draw(st.lists(st.sampled_from(names), max_size=2, unique=True),
                       label="spoil") if names else []
    spoilt = {}
    for name in chosen:
        spoilt[name], kwargs[name] = data.draw(spoiled(kwargs[name]), label=name)
    outcome, detail = guarded_call(case, kwargs, spoilt)
    COUNTS[(case.name, outcome)] += 1
    EXAMPLES.setdefault((case.name, outcome), f"{spoilt}: {detail}")
    if not SURVEY:
        assert not outcome.startswith("bad"), f"{case.name}: {outcome}: {detail}"


def test_the_table_covers_the_public_functions_of_the_issue() -> None:
    """The findings of issue 18 name these; the table must keep fuzzing them."""
    named = {c.name.rsplit(".", 1)[-1] for c in CASES}
    for name in ("sample_actions", "hop_distances", "best_deviation_gains", "truthful_regret",
                 "expected_revenue", "make_grid", "WirelessNetwork", "access_matrix",
                 "ActorCritic", "PPOConfig", "SACConfig", "neighbourhoods", "TruncatedCritic",
                 "sensitivity_by_hop", "td_update", "policy_gradient", "state_index",
                 "top_two", "policy_probs", "utility_curve", "vickrey_auction"):
        assert name in named, name
