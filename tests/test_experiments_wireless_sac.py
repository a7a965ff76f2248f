"""Chapter 6's headline experiment (course_lib/experiments/wireless_sac.py), quick mode."""

from __future__ import annotations

import json

import numpy as np
import pytest

from course_lib import exercises
from course_lib.experiments import EXPERIMENTS, get_experiment, wireless_sac

pytestmark = pytest.mark.skipif(not exercises.solutions_available(),
                                reason="needs reference solutions")


@pytest.fixture(scope="module")
def metrics():
    with exercises.use_reference("all"):  # module-scoped: set up before the per-test switch
        return get_experiment("wireless-sac").run(quick=True, seed=0)


def test_registered_under_its_cli_name():
    assert EXPERIMENTS["wireless-sac"].endswith("wireless_sac")
    assert wireless_sac.BUDGETS["full"]["seeds"] >= 3


def test_metric_names_are_the_documented_interface(metrics):
    assert set(metrics) >= {"returns", "aloha_send_prob", "episodes", "q_table_entries",
                            "mu_decay", "wall_s"}
    assert set(metrics["returns"]) == {"k0", "k1", "k2", "aloha"}
    assert set(metrics["q_table_entries"]) == {"k0", "k1", "k2"}
    assert metrics["episodes"] == wireless_sac.BUDGETS["quick"]["episodes"]
    assert 0.0 < metrics["aloha_send_prob"] < 1.0
    assert len(metrics["mu_decay"]) == 3 and len(metrics["mu_decay_links"]) == 3
    assert set(metrics["returns_links"]) == {"k0", "k1", "k2", "aloha"}
    assert metrics["seeds"] == [0]
    for key in ("returns_fa", "returns_fa_links"):
        assert set(metrics[key]) == {"k0", "k1", "k2"}
    for key in ("mu_k", "mu_k_q95", "mu_k_mean", "mu_k_links", "mu_k_links_q95",
                "mu_k_links_mean"):
        assert len(metrics[key]) == 3, key   # k = 0, 1, 2 (the network's diameter is 3)
    assert set(metrics["aloha_stale_start"]) == {"send_prob", "return"}
    assert set(metrics["returns_gamma0"]) == {"tabular", "linear"}
    every = metrics["episodes_to_024_every"]
    assert every == wireless_sac.BUDGETS["quick"]["eval_every"]
    assert set(metrics["episodes_to_024"]) == {"tabular_nobaseline", "tabular_baseline",
                                               "linear_nobaseline", "linear_baseline"}
    for reached in metrics["episodes_to_024"].values():
        assert len(reached) == 1 and all(e is None or e % every == 0 for e in reached)
    rich = metrics["aloha_rich"]
    assert rich["classes"] == [1, 2, 4] and np.array(rich["table"]).shape == (3, 3)
    assert metrics["returns_aloha_rich"] == rich["fresh"]["aloha_rich"]
    json.dumps(metrics)  # serialisable


def test_the_tuned_benchmarks_are_scored_again_on_fresh_episodes(metrics):
    rich = metrics["aloha_rich"]
    assert rich["fresh_episodes"] == wireless_sac.BUDGETS["quick"]["aloha_episodes"]
    assert abs(rich["fresh"]["aloha"] - metrics["returns"]["aloha"]) < 0.01
    # nine send probabilities, each at least as good as the one they started from on the
    # tuning episodes: on fresh ones the richer rule is not far behind the plain one
    assert rich["fresh"]["aloha_rich"] > rich["fresh"]["aloha"] - 0.01


def test_quick_mode_k1_beats_the_tuned_benchmark(metrics):
    returns = metrics["returns"]
    assert returns["k1"] > returns["aloha"] > returns["k0"], returns
    entries = metrics["q_table_entries"]
    assert entries["k0"] < entries["k1"]  # the critic grows with the neighbourhood
    full = metrics["q_table_full"]
    assert full["k0"] < 1e4 < 1e20 < full["k1"] < full["k2"]


def test_quick_mode_measures_mu_decay(metrics):
    decay, linked = metrics["mu_decay"], metrics["mu_decay_links"]
    assert decay[0] > 10 * decay[1]          # influence fades fast with distance
    assert linked[1] > decay[1]               # random links carry it further


def test_quick_mode_mu_k_falls_with_k_and_links_carry_influence_further(metrics):
    for suffix in ("", "_links"):
        top, q95, mean = (metrics[f"mu_k{suffix}{x}"] for x in ("", "_q95", "_mean"))
        assert all(a >= b >= 0 and a >= c >= 0 for a, b, c in zip(top, q95, mean, strict=True))
        assert mean[0] > 5 * mean[1] >= 0
    assert metrics["mu_k_links_mean"][1] > metrics["mu_k_mean"][1]


def test_quick_mode_mu_k_in_stages_confirms_k0_and_bounds_what_it_never_saw(metrics):
    for suffix in ("", "_links"):
        ci, found = metrics[f"mu_k{suffix}_ci"], metrics[f"mu_k{suffix}_search_ci"]
        assert len(ci) == len(metrics[f"mu_k{suffix}"]) == len(found)
        assert ci[0][0] > 0.1 and found[0][0] > 0.1  # a k = 0 gap, confirmed on fresh rollouts
        assert all(0 <= low <= high for low, high in ci + found)
        for differ, bound, eligible in zip(metrics[f"mu_k{suffix}_differ"],
                                           metrics[f"mu_k{suffix}_zero_bound"],
                                           metrics[f"mu_k{suffix}_eligible"], strict=True):
            budget = wireless_sac.BUDGETS["quick"]
            assert (bound is None) == (differ > 0)
            assert bound is None or bound == pytest.approx(3 / (eligible * budget["mu_rollouts"]))


def test_quick_mode_tabular_critic_values_are_mostly_single_steps(metrics):
    # the measured finding of section 6: nearly every k >= 1 configuration is seen once
    share, entries = metrics["q_values_one_step"], metrics["q_table_entries"]
    assert share["k1"] > 0.9 and share["k2"] > 0.9
    assert entries["k2"] / metrics["td_samples"] > 0.9


def test_quick_mode_linear_critic_beats_the_benchmark(metrics):
    assert metrics["returns_fa"]["k1"] > metrics["returns"]["aloha"]
    assert metrics["critic_bytes_fa"]["k1"] < metrics["q_table_entries"]["k1"]


def test_the_authors_evaluation_slip_lowers_the_benchmark(metrics):
    stale = metrics["aloha_stale_start"]["return"]
    assert stale < metrics["returns"]["aloha"] - 0.02


def test_the_stages_refuse_what_another_stage_did_not_make():
    with pytest.raises(TypeError, match="train_tabular"):
        wireless_sac.train_linear(None)
    with pytest.raises(ValueError, match="grid, budgets, seed missing"):
        wireless_sac.train_linear({})
    with pytest.raises(ValueError, match="runs_fa"):
        wireless_sac.summarize_linear({"runs": [], "runs_links": []})
    with pytest.raises(ValueError, match="train_tabular"):
        wireless_sac.measure_influence({"grid": None})


def test_the_kept_full_mode_run_is_a_full_mode_run():
    """Notebook 06 in quick mode cites data/<name>-full.json beside its own numbers."""
    from course_lib.experiments import full_mode_results, wireless_scale

    sac = full_mode_results("wireless-sac")
    assert sac["episodes"] == wireless_sac.BUDGETS["full"]["episodes"]
    assert len(sac["seeds"]) == wireless_sac.BUDGETS["full"]["seeds"]
    assert set(sac["returns"]) == {"k0", "k1", "k2", "aloha"} and set(sac["returns_fa"]) == {
        "k0", "k1", "k2"}
    scale = full_mode_results("wireless-scale")
    assert scale["episodes"][0] == wireless_scale.BUDGETS["full"]["episodes"]
    assert len(scale["n_users"]) == len(scale["returns_fa"]) == len(scale["returns_aloha"]) == (
        wireless_scale.BUDGETS["full"]["grids"])
    with pytest.raises(ValueError, match="unknown experiment"):
        full_mode_results("wireless")
    assert full_mode_results("vickrey") is None  # none kept for this one
