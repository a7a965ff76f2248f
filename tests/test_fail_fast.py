"""Bad input fails fast and clearly (issue 18): one row per finding of the fuzzer.

Each row calls a public function with one bad argument and expects a ``ValueError`` or
``TypeError`` whose message names that argument, raised at once: before any large
allocation or long loop (every call here must return within a second). The property-based
search that found these lives in ``test_fuzz_public_api.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from course_lib import (
    aloha,
    auctions,
    bidders,
    bucket_brigade,
    exercises,
    linear_critic,
    option_society,
    ppo,
    q_learning,
    society,
    stats,
    wireless_sac,
)
from course_lib.envs import mnist_canvas, toy_mdps, wireless
from course_lib.envs.wireless import MAX_USERS

pytestmark = pytest.mark.skipif(not exercises.solutions_available(),
                                reason="the rows call exercises: needs reference solutions")

NAN = float("nan")
GRID = wireless.make_grid()  # the chapter's 24 users
N, S, A = GRID.n_users, GRID.n_states, GRID.n_actions
PROBS = wireless_sac.policy_probs(np.zeros((N, S, A)), GRID.valid)
RNG = np.random.default_rng(0)
ZEROS = np.zeros((1, 1, N), int)


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


# (id, call, error, pattern the message must contain: the argument's name)
FINDINGS: list[tuple[str, Callable[[], Any], type, str]] = [
    # ---- exceptions of the wrong type ----------------------------------------------------
    ("sample_actions probs=None",
     lambda: wireless_sac.sample_actions(None, np.zeros((1, N), int), rng()), TypeError,
     "probs"),
    ("hop_distances access=nan", lambda: wireless.hop_distances(NAN), ValueError, "access"),
    ("hop_distances access=-1 entries",
     lambda: wireless.hop_distances(np.array([[-1, 0], [1, 1]])), ValueError, "access"),
    ("best_deviation_gains seed=nan",
     lambda: auctions.best_deviation_gains("vickrey", 10, seed=NAN), TypeError, "seed"),
    ("truthful_regret seed=nan",
     lambda: auctions.truthful_regret("vickrey", 10, seed=NAN), TypeError, "seed"),
    ("expected_revenue seed=nan",
     lambda: auctions.expected_revenue("vickrey", 1.0, 2, 10, seed=NAN), TypeError, "seed"),
    ("learn_to_bid seed=-1", lambda: bidders.learn_to_bid("vickrey", seed=-1), ValueError,
     "seed"),
    ("truthful_regret n_bidders=10**12",
     lambda: auctions.truthful_regret("vickrey", 10, n_bidders=10**12), ValueError,
     "n_bidders"),
    ("AuctionOutcome winner='1'", lambda: auctions.AuctionOutcome("1", 0.5), TypeError,
     "winner"),
    ("weighted_ratio ratios=nan", lambda: bidders.weighted_ratio(NAN), ValueError, "ratios"),
    ("sample_actions states=0.5",
     lambda: wireless_sac.sample_actions(PROBS, np.full((1, N), 0.5), rng()), TypeError,
     "states"),
    ("clone_utilities bids=None",
     lambda: option_society.clone_utilities(None, np.zeros(1)), TypeError, "bids"),
    ("transform images=numpy",
     lambda: mnist_canvas.transform(np.zeros((1, 1, 8, 8), np.float32),
                                    torch.zeros(1, 2, 3)), TypeError, "images"),
    ("oracle_primitives transform_ids=True",
     lambda: mnist_canvas.oracle_primitives(True), TypeError, "transform_ids"),
    ("society_auction bids of no auction",
     lambda: society.society_auction(np.zeros((0, 2, 2))), ValueError, "bids"),
    ("Ledger.pay paid='1'",
     lambda: bucket_brigade.Ledger([1.0, 1.0]).pay(0, 1, "1", "1"), TypeError, "paid"),
    ("TabularMDP ragged transitions",
     lambda: toy_mdps.TabularMDP("t", [[0], [0, 0]], [[0.0], [0.0]], np.zeros(2, bool), 0,
                                 5, ("a",)), TypeError, "transitions"),
    ("TruncatedCritic.hash states=10**12",
     lambda: wireless_sac.TruncatedCritic(GRID, 1).hash(np.full((1, N), 10**12),
                                                        np.zeros((1, N), int)),
     ValueError, "states"),
    # ---- huge sizes that used to allocate ------------------------------------------------
    ("make_grid users_per_cell=10**9", lambda: wireless.make_grid(users_per_cell=10**9),
     ValueError, r"users_per_cell = 12,000,000,000 users exceeds the limit of 50,000 "
                 r"\(MAX_USERS\)"),
    ("access_matrix height=10**9", lambda: wireless.access_matrix(10**9, 4, 2), ValueError,
     r"height \* width \* users_per_cell.*MAX_USERS"),
    ("WirelessNetwork n_copies=10**9", lambda: wireless.WirelessNetwork(GRID, 10**9),
     ValueError, r"n_copies \* n_users \* deadline = .* exceeds the limit .*MAX_ELEMENTS"),
    ("discounted_return episodes=10**12",
     lambda: wireless.discounted_return(GRID, lambda q, r: np.zeros(q.shape[:2], int), 10**12),
     ValueError, "episodes"),
    ("stale_start_return episodes=10**12",
     lambda: aloha.stale_start_return(GRID, 0.5, episodes=10**12), ValueError, "episodes"),
    ("stale_start_return rounds=10**12",
     lambda: aloha.stale_start_return(GRID, 0.5, episodes=8, rounds=10**12), ValueError,
     "rounds"),
    ("measure_mu_k starts=10**12",
     lambda: wireless_sac.measure_mu_k(GRID, PROBS, starts=10**12), ValueError, "starts"),
    ("run_bucket_brigade episodes=10**12",
     lambda: bucket_brigade.run_bucket_brigade(episodes=10**12), ValueError, "episodes"),
    ("steady_state_strengths n_stages=10**12",
     lambda: bucket_brigade.steady_state_strengths(10**12, 1.0, 0.1, 0.0), ValueError,
     "n_stages"),
    ("learn_to_bid iterations=10**12",
     lambda: bidders.learn_to_bid("vickrey", iterations=10**12), ValueError, "iterations"),
    ("run_q_learning env_steps=10**12",
     lambda: q_learning.run_q_learning(toy_mdps.make_task("chain"), 0.9, 10**12), ValueError,
     "env_steps"),
    ("ActorCritic obs_dim=10**9", lambda: ppo.ActorCritic(10**9, 2), ValueError, "obs_dim"),
    ("ActorCritic hidden=(10**6, 10**6)", lambda: ppo.ActorCritic(4, 2, hidden=(10**6, 10**6)),
     ValueError, "hidden"),
    ("PPOConfig n_envs=10**12", lambda: ppo.PPOConfig(n_envs=10**12, minibatches=1),
     ValueError, "n_envs"),
    ("PPOConfig epochs=10**12", lambda: ppo.PPOConfig(epochs=10**12), ValueError, "epochs"),
    ("PPOConfig hidden=(10**9, 10**9)", lambda: ppo.PPOConfig(hidden=(10**9, 10**9)),
     ValueError, "hidden"),
    ("SACConfig eval_every=10**12", lambda: wireless_sac.SACConfig(eval_every=10**12),
     ValueError, "eval_every"),
    ("SACConfig k=10**12", lambda: wireless_sac.SACConfig(k=10**12), ValueError, "k must"),
    ("OptionSociety n_primitives=10**9",
     lambda: option_society.OptionSociety(4, 10**9), ValueError, "n_primitives"),
    ("place_on_canvas size=10**9",
     lambda: mnist_canvas.place_on_canvas(torch.zeros(0, 28, 28), 10**9), ValueError,
     "size"),
    # ---- hangs ---------------------------------------------------------------------------
    ("sensitivity_by_hop max_hops=10**9",
     lambda: wireless_sac.sensitivity_by_hop([1.0], [2.0], [1], 10**9), ValueError,
     "max_hops"),
    ("LinearCritic k=10**9", lambda: linear_critic.LinearCritic(GRID, 10**9), ValueError,
     "k must"),
    ("neighbourhoods of too many users for dense matrices",
     lambda: wireless.neighbourhoods(np.ones((20_000, 1), bool), 1), ValueError,
     "MAX_DENSE_USERS"),
    # ---- silent wrong results ------------------------------------------------------------
    ("td_update values=[None, 1]",
     lambda: wireless_sac.td_update([None, 1], [0], [1.0], [1.0], 0.5, 0.5), TypeError,
     "values"),
    ("td_update rewards=[nan]",
     lambda: wireless_sac.td_update([0.0, 1.0], [0], [NAN], [1.0], 0.5, 0.5), ValueError,
     "rewards"),
    ("td_update next_values=[inf]",
     lambda: wireless_sac.td_update([0.0, 1.0], [0], [1.0], [np.inf], 0.5, 0.5), ValueError,
     "next_values"),
    ("td_update values=[1j]",
     lambda: wireless_sac.td_update([1j], [0], [1.0], [1.0], 0.5, 0.5), TypeError, "values"),
    ("policy_gradient weights=nan",
     lambda: wireless_sac.policy_gradient(PROBS, ZEROS, ZEROS, np.full((1, 1, N), NAN)),
     ValueError, "weights"),
    ("policy_gradient probs=nan",
     lambda: wireless_sac.policy_gradient(np.full_like(PROBS, NAN), ZEROS, ZEROS,
                                          np.zeros((1, 1, N))), ValueError, "probs"),
    ("state_index queues=-1", lambda: wireless.state_index(np.array([[-1, 0]])), ValueError,
     "queues"),
    ("state_index queues=10**6", lambda: wireless.state_index(np.array([[10**6, 0]])),
     ValueError, "queues"),
    ("sample_actions states=-1",
     lambda: wireless_sac.sample_actions(PROBS, np.full((1, N), -1), rng()), ValueError,
     "states"),
    ("sample_actions probs=nan",
     lambda: wireless_sac.sample_actions(np.full_like(PROBS, NAN), np.zeros((1, N), int),
                                         rng()), ValueError, "probs"),
    ("sample_actions probs not summing to 1",
     lambda: wireless_sac.sample_actions(PROBS * 2, np.zeros((1, N), int), rng()),
     ValueError, "probs"),
    ("top_two of strings", lambda: society.top_two(np.array(["a", "b", "c"])), TypeError,
     "bids"),
    ("top_two of nan", lambda: society.top_two(np.array([NAN, 1.0])), ValueError, "bids"),
    ("policy_probs logits=nan", lambda: wireless_sac.policy_probs(NAN, GRID.valid),
     ValueError, "logits"),
    ("policy_probs logits with nan entries",
     lambda: wireless_sac.policy_probs(np.full((N, S, A), NAN), GRID.valid), ValueError,
     "logits"),
    ("utility_curve candidate_bids=1j",
     lambda: auctions.utility_curve(0.5, [0.3], "vickrey", 1j), TypeError, "candidate_bids"),
    ("sensitivity_by_hop hops=-1",
     lambda: wireless_sac.sensitivity_by_hop([1.0, 1.0], [2.0, 2.0], [-1, 1], 2), ValueError,
     "hops"),
    ("sensitivity_by_hop hops=10**6",
     lambda: wireless_sac.sensitivity_by_hop([1.0, 1.0], [2.0, 2.0], [10**6, 1], 2),
     ValueError, "hops"),
    ("make_grid success_prob=True", lambda: wireless.make_grid(2, 2, 1, success_prob=True),
     TypeError, "success_prob"),
    ("make_grid seed=2**40", lambda: wireless.make_grid(seed=2**40), ValueError, "seed"),
    ("vickrey_auction numeric strings", lambda: auctions.vickrey_auction(["1", "2"]),
     TypeError, "bids"),
    ("vickrey_auction bools", lambda: auctions.vickrey_auction([True, False]), TypeError,
     "bids"),
    ("first_price_auction numeric strings", lambda: auctions.first_price_auction(["0.5"]),
     TypeError, "bids"),
    ("auction_utilities bool values",
     lambda: auctions.auction_utilities([True, False], [0.5, 0.2], "vickrey"), TypeError,
     "values"),
    ("aloha_policy p_send=None", lambda: aloha.aloha_policy(GRID, None), TypeError, "p_send"),
    ("tune_aloha send_probs=[]", lambda: aloha.tune_aloha(GRID, []), ValueError,
     "send_probs"),
    ("LearnToBidResult ratios=nan",
     lambda: bidders.LearnToBidResult("vickrey", np.full((2, 2), NAN), np.zeros(2),
                                      np.zeros((1, 2))), ValueError, "ratios"),
    ("Ledger initial_strengths complex",
     lambda: bucket_brigade.Ledger(np.array([1j, 1.0])), TypeError, "initial_strengths"),
    ("step_transfers numeric-string strengths",
     lambda: bucket_brigade.step_transfers(["1", "2"], [0, 1], 0, None, 0.0, 0.1, 0.0),
     TypeError, "strengths"),
    ("ci95_half_width values=[inf, 1]", lambda: stats.ci95_half_width([np.inf, 1.0]),
     ValueError, "values"),
    ("summarize_mu_k quantile=-1",
     lambda: wireless_sac.summarize_mu_k(np.zeros((2, 3)), -1.0), ValueError, "quantile"),
    ("measure_mu_decay grid=array",
     lambda: wireless_sac.measure_mu_decay(np.zeros(3), PROBS), TypeError, "grid"),
    ("rollout_q queues=1j",
     lambda: wireless_sac.rollout_q(GRID, PROBS, np.full((1, N, 2), 1j), np.zeros((1, N), int),
                                    0), TypeError, "queues"),
    ("LinearCritic.values actions=-1",
     lambda: linear_critic.LinearCritic(GRID, 1).values(np.zeros((1, N), int),
                                                        np.full((1, N), -1)),
     ValueError, "actions"),
    ("WirelessNetwork.step ragged actions",
     lambda: wireless.WirelessNetwork(GRID).step([[0] * N, [0]]), TypeError, "actions"),
]


@pytest.mark.parametrize(("call", "error", "pattern"), [row[1:] for row in FINDINGS],
                         ids=[row[0] for row in FINDINGS])
def test_bad_input_fails_fast_naming_the_argument(call, error, pattern):
    started = time.perf_counter()
    with pytest.raises(error, match=pattern):
        call()
    assert time.perf_counter() - started < 1.0


def test_a_huge_hop_radius_is_capped_not_looped_over():
    """k beyond the number of users reaches nothing new: it is capped, in no time."""
    started = time.perf_counter()
    far = wireless.neighbourhoods(GRID.access, 10**9)
    critic = wireless_sac.TruncatedCritic(GRID, 10**9)
    assert time.perf_counter() - started < 1.0
    np.testing.assert_array_equal(far, wireless.neighbourhoods(GRID.access, N))
    np.testing.assert_array_equal(critic.members, far)


def test_far_samples_of_sensitivity_by_hop_are_ignored_as_documented():
    # distances beyond max_hops are real distances (ignored); impossible ones are refused
    out = wireless_sac.sensitivity_by_hop([0.0, 0.0], [1.0, 5.0], [1, 7], 2)
    np.testing.assert_array_equal(out[:1], [1.0])
    assert np.isnan(out[1])
    with pytest.raises(ValueError, match="hops"):
        wireless_sac.sensitivity_by_hop([0.0], [1.0], [MAX_USERS], 2)
