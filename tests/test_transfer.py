"""Public tests for chapter 4's transfer study: exercise 4.4 (the weight-shift metric) and the
protocol around it (``run_transfer``, reading success rates from a training log).

Tests marked ``@pytest.mark.exercise("4.4")`` check the exercise; ``course_lib.check("4.4")``
runs them against your own code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from oracles import loop_weight_shift

from course_lib.options import load_options
from course_lib.ppo import ActorCritic, TrainingLog
from course_lib.transfer import (
    METHODS,
    chance_success,
    final_success,
    run_transfer,
    steps_to,
    train_phase,
    weight_shift,
    windowed_success,
)

# ======================================================================================
# 4.4 The weight-shift metric
# ======================================================================================


@pytest.mark.exercise("4.4")
def test_weight_shift_hand_computed():
    before = {"w": np.array([[0.0, 1.0], [2.0, 3.0]]), "b": np.array([0.0, 0.0])}
    after = {"w": np.array([[0.0, 1.5], [2.0, 2.0]]), "b": np.array([0.05, -0.2])}
    # moved by more than 0.1: w[0,1], w[1,1], b[1] -> 3 of 6 scalars
    assert weight_shift(before, after, 0.1) == pytest.approx(0.5)
    # moved by more than 0.5: only w[1,1] (w[0,1] moved by exactly 0.5) -> 1 of 6 scalars
    assert weight_shift(before, after, 0.5) == pytest.approx(1 / 6)


@pytest.mark.exercise("4.4")
def test_weight_shift_counts_scalars_not_tensors():
    before = {"big": np.zeros(9), "small": np.zeros(1)}
    after = {"big": np.zeros(9), "small": np.ones(1)}
    assert weight_shift(before, after, 0.5) == pytest.approx(0.1)


@pytest.mark.exercise("4.4")
def test_weight_shift_is_strict_and_symmetric_in_sign():
    before = {"w": np.array([0.0, 0.0, 0.0, 0.0])}
    after = {"w": np.array([0.25, -0.25, 0.5, -0.5])}
    assert weight_shift(before, after, 0.25) == pytest.approx(0.5)  # exactly 0.25 is not more
    assert weight_shift(before, after, 0.0) == pytest.approx(1.0)
    assert weight_shift(before, before, 0.0) == pytest.approx(0.0)


@pytest.mark.exercise("4.4")
def test_weight_shift_accepts_state_dicts_and_modules():
    torch.manual_seed(0)
    net = ActorCritic(5, 3, hidden=(4,))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        net.value.bias += 1.0  # one of the scalars
    n = sum(p.numel() for p in net.parameters())
    assert weight_shift(before, net, 0.5) == pytest.approx(1 / n)
    assert weight_shift(before, net.state_dict(), 0.5) == pytest.approx(1 / n)


@pytest.mark.exercise("4.4")
@pytest.mark.parametrize("threshold", [0.0, 0.01, 0.3, 2.0])
def test_weight_shift_matches_a_loop(threshold):
    """The threshold under test, and 0.4 (some scalars moved, some not), agree with a loop."""
    rng = np.random.default_rng(int(threshold * 100))
    before = {"a": rng.normal(size=(7, 3)), "b": rng.normal(size=5)}
    after = {k: v + rng.normal(size=v.shape) * 0.5 for k, v in before.items()}
    result = weight_shift(before, after, threshold)
    assert isinstance(result, float)
    assert result == pytest.approx(loop_weight_shift(before, after, threshold))
    middle = loop_weight_shift(before, after, 0.4)
    assert 0.0 < middle < 1.0 and middle != 0.5
    assert weight_shift(before, after, 0.4) == pytest.approx(middle)


@pytest.mark.exercise("4.4")
def test_weight_shift_pairs_the_parameters_by_name():
    """Catches pairing before and after by position (zip of the values): the same names may
    come in another order, as two state_dicts built differently do."""
    before = {"a": np.array([0.0, 0.0]), "b": np.array([5.0, 5.0])}
    after = {"b": np.array([5.0, 5.0]), "a": np.array([1.0, 0.0])}
    # only a[0] moved (by 1): 1 of 4 scalars; by position all four would seem to move by 4 or 5
    assert weight_shift(before, after, 0.5) == pytest.approx(0.25)


@pytest.mark.parametrize(("before", "after", "threshold", "error", "match"), [
    ({"w": [0.0]}, {"v": [0.0]}, 0.1, ValueError, "same parameters"),
    ({"w": [0.0, 1.0]}, {"w": [0.0]}, 0.1, ValueError, "shape"),
    ({"w": [0.0]}, {"w": [np.nan]}, 0.1, ValueError, "finite"),
    ({"w": [0.0]}, {"w": [0.0]}, -0.1, ValueError, "threshold"),
    ({"w": [0.0]}, {"w": [0.0]}, "0.1", TypeError, "threshold"),
    ([0.0], {"w": [0.0]}, 0.1, TypeError, "before"),
    ({"w": ["a"]}, {"w": [0.0]}, 0.1, TypeError, "before"),
    ({}, {}, 0.1, ValueError, "no parameters"),
])
def test_weight_shift_rejects_bad_input(before, after, threshold, error, match):
    with pytest.raises(error, match=match):
        weight_shift(before, after, threshold)


# ======================================================================================
# Reading a training log
# ======================================================================================


def make_log(rows):
    log = TrainingLog()
    for steps, successes in rows:
        log.record(steps, [float(s) for s in successes], successes)
    return log


def test_windowed_success_weights_updates_by_their_episodes():
    log = make_log([(1000, [False] * 10), (2000, [True] * 30), (3000, [True] * 10)])
    rate = windowed_success(log, window=2000, min_episodes=10)
    np.testing.assert_allclose(rate, [0.0, 30 / 40, 1.0])


def test_windowed_success_waits_for_enough_episodes():
    log = make_log([(1000, [True] * 3), (2000, []), (3000, [True] * 9)])
    rate = windowed_success(log, window=10_000, min_episodes=10)
    assert math.isnan(rate[0]) and math.isnan(rate[1]) and rate[2] == 1.0


def test_steps_to_and_final_success():
    log = make_log([(1000, [False] * 20), (2000, [True] * 10 + [False] * 10),
                    (3000, [True] * 20), (4000, [True] * 19 + [False])])
    assert steps_to(log, 0.9, window=1000) == 3000
    assert steps_to(log, 0.5, window=1000) == 2000
    assert steps_to(log, 1.01, window=1000) is None
    assert final_success(log, window=1000) == pytest.approx(0.95)
    assert final_success(make_log([(100, [])])) == 0.0


# ======================================================================================
# The protocol
# ======================================================================================


@pytest.fixture(scope="module")
def options():
    return load_options()


@pytest.mark.parametrize("method", METHODS)
def test_run_transfer_trains_both_phases(method, options):
    run = run_transfer(method, 600, 600, seed=0, options=options)
    assert run.method == method and run.seed == 0
    assert run.pretrain.steps[-1] >= 600 and run.transfer.steps[-1] >= 600
    if method == "flat":
        assert run.weight_shift is None
    else:
        assert 0.0 < run.weight_shift <= 1.0


@pytest.mark.parametrize("method", ["society", "hierarchical"])
def test_run_transfer_on_pixels_with_sgd_gives_each_bidder_its_own_cnn(method, options):
    run = run_transfer(method, 600, 600, seed=0, options=options, observation="pixels",
                       optimizer="sgd")
    convs = [m for m in run.learner.modules() if isinstance(m, torch.nn.Conv2d)]
    # The society: one CNN (three convolutions) per primitive; the hierarchical learner: one.
    assert len(convs) == (3 * len(options) if method == "society" else 3)
    assert 0.0 < run.weight_shift <= 1.0
    obs = torch.zeros(1, 147)
    if method == "society":
        assert run.learner.mean_bids(obs).shape == (1, len(options))
    else:
        assert run.learner.distribution(obs).probs.shape == (1, len(options))


def test_config_for_sets_the_view_and_the_optimizer():
    from course_lib.transfer import CONFIGS, SGD_LR, config_for

    assert config_for("society") == CONFIGS["society"]
    pixels = config_for("flat", "pixels", "sgd", ent_coef=0.05)
    assert pixels.image_shape == (7, 7, 3) and pixels.optimizer == "sgd"
    assert pixels.lr == SGD_LR["flat"] and pixels.ent_coef == 0.05
    with pytest.raises(ValueError, match="observation"):
        config_for("flat", "rgb")
    with pytest.raises(ValueError, match="optimizer"):
        config_for("flat", "compact", "lbfgs")
    with pytest.raises(TypeError, match="unknown"):
        config_for("flat", learning_rate=0.1)
    with pytest.raises(ValueError, match="image_shape"):
        train_phase("flat", "green", 100, 0, cfg=config_for("flat"), observation="pixels")


def test_weight_shift_curve_falls_with_the_threshold_and_brackets_the_mean():
    from course_lib.transfer import TransferRun, weight_shift_curve

    def fake(seed):
        torch.manual_seed(seed)
        net = ActorCritic(4, 2, hidden=(8,))
        before = {k: v.clone() for k, v in net.state_dict().items()}
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn_like(p) * 0.01 * (seed + 1))
        return TransferRun("society", seed, TrainingLog(), TrainingLog(), None, net, before)

    runs = [fake(s) for s in range(3)]
    curve = weight_shift_curve(runs, (0.0, 0.001, 0.01, 1.0))
    assert [row[0] for row in curve] == [0.0, 0.001, 0.01, 1.0]
    means = [row[1] for row in curve]
    assert means[0] == 1.0 and means[-1] == 0.0
    assert all(a >= b for a, b in zip(means[:-1], means[1:], strict=True))
    for _, mean, low, high in curve:
        assert 0.0 <= low <= mean <= high <= 1.0
    each = [weight_shift(r.pretrained, r.learner.state_dict(), 0.01) for r in runs]
    assert curve[2][1] == pytest.approx(np.mean(each))
    assert curve[2][2] < curve[2][1] < curve[2][3]  # three different runs: a real interval
    single = weight_shift_curve(runs[:1], (0.01,))
    assert single[0][2:] == [0.0, 1.0]  # one run says nothing about the spread
    assert single[0][1] == pytest.approx(each[0])
    with pytest.raises(ValueError, match="one method"):
        weight_shift_curve([runs[0], TransferRun("hierarchical", 0, TrainingLog(),
                                                 TrainingLog(), None, runs[1].learner,
                                                 runs[1].pretrained)])


def test_chance_is_reproducible_and_far_from_certain(options):
    chance = chance_success("blue", episodes=100, options=options)
    assert 0.05 < chance < 0.9
    assert chance == chance_success("blue", episodes=100, options=options)
    assert chance != chance_success("blue", episodes=100, seed=1, options=options)


def test_protocol_rejects_bad_input(options):
    with pytest.raises(ValueError, match="method"):
        run_transfer("tabular", 100, 100, options=options)
    with pytest.raises(ValueError, match="transfer_steps"):
        run_transfer("society", 100, -5, options=options)
    with pytest.raises(ValueError, match="threshold"):
        run_transfer("society", 100, 100, options=options, threshold=-1.0)
    with pytest.raises(ValueError, match="method"):
        train_phase("monolithic", "green", 100, 0, options=options)
    with pytest.raises(ValueError, match="target"):
        chance_success("red", options=options)


def test_weight_shift_per_primitive_finds_the_bidder_that_moved():
    from course_lib.option_society import OptionSociety
    from course_lib.transfer import TransferRun, weight_shift_per_primitive

    society = OptionSociety(50, 3, 2)
    before = {k: v.clone() for k, v in society.state_dict().items()}
    with torch.no_grad():
        for p in society.bidders[1].parameters():
            p += 1.0
    run = TransferRun("society", 0, TrainingLog(), TrainingLog(), None, society, before)
    assert weight_shift_per_primitive(run, 0.5) == pytest.approx([0.0, 1.0, 0.0])
    other = TransferRun("hierarchical", 0, TrainingLog(), TrainingLog(), None, society, before)
    with pytest.raises(ValueError, match="society"):
        weight_shift_per_primitive(other)


# ======================================================================================
# Scale-free measures of the shift and paired statistics (no training)
# ======================================================================================


def test_relative_change_of_a_layer_scaled_by_two_is_one():
    from course_lib.transfer import relative_change, relative_change_per_layer

    before = {"a.weight": np.array([[3.0, 0.0], [0.0, 4.0]]), "a.bias": np.array([0.0, 0.0]),
              "b.weight": np.array([1.0, 2.0, 2.0])}
    after = {"a.weight": 2 * before["a.weight"], "a.bias": before["a.bias"],
             "b.weight": before["b.weight"] + np.array([0.0, 0.0, 1.5])}
    per_layer = relative_change_per_layer(before, after)
    # a: weight and bias form one layer, doubled -> 1; b: ||(0, 0, 1.5)|| / ||(1, 2, 2)|| = 0.5
    assert per_layer == pytest.approx({"a": 1.0, "b": 0.5})
    assert list(per_layer) == ["a", "b"]
    assert relative_change(before, after) == pytest.approx(0.75)
    assert relative_change(before, before) == 0.0


def test_relative_change_ignores_the_scale_and_size_of_a_layer():
    from course_lib.transfer import relative_change

    rng = np.random.default_rng(0)
    before = {"x.weight": rng.normal(size=(6, 4)), "y.weight": rng.normal(size=3)}
    after = {k: v + 0.1 * rng.normal(size=v.shape) for k, v in before.items()}
    base = relative_change(before, after)
    scaled = {"x.weight": 10.0, "y.weight": 0.01}  # each layer on its own scale
    assert relative_change({k: v * scaled[k] for k, v in before.items()},
                           {k: v * scaled[k] for k, v in after.items()}) == pytest.approx(base)
    # a copy of the network beside itself (twice the parameters) moves as far
    both = {f"{c}.{k}": v for c in ("p", "q") for k, v in before.items()}
    both_after = {f"{c}.{k}": v for c in ("p", "q") for k, v in after.items()}
    assert relative_change(both, both_after) == pytest.approx(base)


def test_effective_share_is_k_over_n_for_k_equal_moves():
    from course_lib.transfer import effective_share_moved

    before = {"w": np.ones(10)}
    after = {"w": np.ones(10)}
    after["w"][[2, 5, 7]] += 0.3  # 3 of 10 scalars move by the same amount
    assert effective_share_moved(before, after) == pytest.approx(0.3)
    after["w"][5] -= 0.6  # the same size of move in the other direction
    assert effective_share_moved(before, after) == pytest.approx(0.3)
    assert effective_share_moved(before, before) == 0.0
    everything = {"w": np.full(10, 1.5)}
    assert effective_share_moved(before, everything) == pytest.approx(1.0)
    # two moves of sizes 1 and 2 in units of the layer: (1 + 4)^2 / (10 * (1 + 16)) = 25 / 170
    uneven = {"w": np.r_[2.0, 3.0, np.ones(8)]}
    assert effective_share_moved(before, uneven) == pytest.approx(25 / 170)


def test_effective_share_reads_changes_in_each_layers_units():
    from course_lib.transfer import effective_share_moved

    # Layer "big" lives at scale 100, layer "small" at scale 1; one scalar of each moves by 10 %
    # of its layer's scale: two equal moves of four scalars -> share 0.5.
    before = {"big.weight": np.full(2, 100.0), "small.weight": np.ones(2)}
    after = {"big.weight": np.array([110.0, 100.0]), "small.weight": np.array([1.1, 1.0])}
    assert effective_share_moved(before, after) == pytest.approx(0.5)
    # Multiplying every change by a constant leaves it unchanged.
    tiny = {k: before[k] + 1e-9 * (after[k] - before[k]) for k in before}
    assert effective_share_moved(before, tiny) == pytest.approx(0.5)


@pytest.mark.parametrize(("before", "after", "error", "match"), [
    ({"a.w": [0.0, 0.0]}, {"a.w": [1.0, 0.0]}, ValueError, "all zeros"),
    ({"a.w": [1.0]}, {"b.w": [1.0]}, ValueError, "same parameters"),
    ({"a.w": [1.0, 2.0]}, {"a.w": [1.0]}, ValueError, "shape"),
    ({"a.w": [1.0]}, {"a.w": [np.inf]}, ValueError, "finite"),
    ("weights", {"a.w": [1.0]}, TypeError, "before"),
])
def test_scale_free_measures_reject_bad_input(before, after, error, match):
    from course_lib.transfer import effective_share_moved, relative_change

    for measure in (relative_change, effective_share_moved):
        with pytest.raises(error, match=match):
            measure(before, after)


def fake_run(method, seed, factor):
    """A run whose every parameter grew by ``factor`` during transfer: its relative change
    is exactly ``factor``."""
    from course_lib.transfer import TransferRun

    net = torch.nn.Linear(3, 2)
    with torch.no_grad():
        net.weight.copy_(torch.arange(1.0, 7.0).reshape(2, 3))
        net.bias.copy_(torch.tensor([1.0, -1.0]))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(1 + factor)
    return TransferRun(method, seed, TrainingLog(), TrainingLog(), None, net, before)


def test_paired_shift_differences_the_runs_of_each_seed():
    from course_lib.transfer import paired_shift

    hier, soc = [0.3, 0.5, 0.4], [0.1, 0.2, 0.3]  # differences 0.2, 0.3, 0.1
    runs = [fake_run("society", s, f) for s, f in zip((7, 8, 9), soc, strict=True)]
    runs += [fake_run("hierarchical", s, f) for s, f in zip((9, 7, 8), hier[::-1][:1]
                                                             + hier[:2], strict=True)]
    runs.append(fake_run("flat", 7, 5.0))  # ignored
    result = paired_shift(runs, "relative_change")
    assert result["seeds"] == [7, 8, 9]
    assert result["hierarchical"] == pytest.approx(hier)
    assert result["society"] == pytest.approx(soc)
    assert result["differences"] == pytest.approx([0.2, 0.3, 0.1])
    assert (result["mean"], result["sd"], result["n"]) == pytest.approx((0.2, 0.1, 3))
    half = 4.302653 * 0.1 / math.sqrt(3)  # t(0.975, 2 df) from a table
    assert (result["low"], result["high"]) == pytest.approx((0.2 - half, 0.2 + half), abs=1e-5)
    # Every scalar moved by far more than 0.01: both shares are 1, the difference 0.
    shares = paired_shift(runs, "weight_shift", 0.01)
    assert shares["threshold"] == 0.01 and shares["differences"] == [0.0, 0.0, 0.0]
    # Each run's change is proportional to the same parameters, and the share ignores the
    # size of the change: every run has the same share, whatever its factor.
    effective = paired_shift(runs, "effective_share")
    assert effective["differences"] == pytest.approx([0.0] * 3, abs=1e-6)


def test_pair_by_seed_refuses_runs_that_do_not_pair():
    from course_lib.transfer import pair_by_seed, paired_shift

    runs = [fake_run("society", 0, 0.1), fake_run("hierarchical", 0, 0.2),
            fake_run("society", 1, 0.1)]
    with pytest.raises(ValueError, match=r"seeds \[1\]"):
        pair_by_seed(runs)
    with pytest.raises(ValueError, match="share seed 0"):
        pair_by_seed(runs[:2] + [fake_run("society", 0, 0.3)])
    with pytest.raises(ValueError, match="no pair"):
        pair_by_seed([fake_run("flat", 0, 0.1)])
    with pytest.raises(TypeError, match="TransferRun"):
        pair_by_seed([{"method": "society"}])
    with pytest.raises(TypeError, match="runs"):
        pair_by_seed(None)
    with pytest.raises(ValueError, match="different"):
        pair_by_seed(runs, "society", "society")
    with pytest.raises(ValueError, match="measure"):
        paired_shift(runs[:2], "l2")
    one = paired_shift(runs[:2])
    assert one["n"] == 1 and one["mean"] == pytest.approx(0.1)
    assert one["low"] is None and one["high"] is None  # one seed says nothing about spread


def test_paired_difference_of_known_data():
    from course_lib.stats import paired_difference

    r = paired_difference([3.0, 5.0, 4.0], [1.0, 2.0, 3.0])  # differences 2, 3, 1
    assert (r["mean"], r["sd"], r["n"], r["differences"]) == (2.0, 1.0, 3, [2.0, 3.0, 1.0])
    half = 4.302653 * 1.0 / math.sqrt(3)  # t(0.975, 2 df) from a table
    assert (r["low"], r["high"]) == pytest.approx((2 - half, 2 + half), abs=1e-5)
    t = 2.0 / (1.0 / math.sqrt(3))
    assert r["p_value"] == pytest.approx(1 - t / math.sqrt(2 + t * t))  # t with 2 df, closed form
    r90 = paired_difference([3.0, 5.0, 4.0], [1.0, 2.0, 3.0], confidence=0.9)
    assert r90["high"] - r90["mean"] == pytest.approx(2.919986 / math.sqrt(3), abs=1e-5)
    same = paired_difference([1.0, 2.0], [0.5, 1.5])
    assert (same["sd"], same["low"], same["high"], same["p_value"]) == (0.0, 0.5, 0.5, None)
    single = paired_difference([1.0], [0.25])
    assert single["mean"] == 0.75 and single["sd"] is None and single["low"] is None


@pytest.mark.parametrize(("a", "b", "kwargs", "error", "match"), [
    ([1.0, 2.0], [1.0], {}, ValueError, "same length"),
    ([], [], {}, ValueError, "empty"),
    ([1.0, np.nan], [1.0, 2.0], {}, ValueError, "a"),
    (["x"], [1.0], {}, TypeError, "a"),
    ([[1.0]], [[1.0]], {}, ValueError, "1-d"),
    ([1.0, 2.0], [1.0, 3.0], {"confidence": 1.0}, ValueError, "confidence"),
    ([1.0, 2.0], [1.0, 3.0], {"confidence": "95%"}, TypeError, "confidence"),
])
def test_paired_difference_rejects_bad_input(a, b, kwargs, error, match):
    from course_lib.stats import paired_difference

    with pytest.raises(error, match=match):
        paired_difference(a, b, **kwargs)


def test_the_detectable_difference_is_detected_with_the_stated_probability():
    from scipy import stats as sps

    from course_lib.stats import minimum_detectable_difference, paired_t_power

    assert paired_t_power(0.0, 1.0, 5) == pytest.approx(0.05)  # no effect: false alarms only
    mdd = minimum_detectable_difference(2.0, 5)
    assert paired_t_power(mdd, 2.0, 5) == pytest.approx(0.8, abs=1e-6)
    assert paired_t_power(-mdd, 2.0, 5) == pytest.approx(0.8, abs=1e-6)
    assert paired_t_power(mdd / 2, 2.0, 5) < 0.8 < paired_t_power(2 * mdd, 2.0, 5)
    assert mdd == pytest.approx(2 * minimum_detectable_difference(1.0, 5))  # in units of sd
    # Simulated: 20,000 experiments of 5 pairs whose true difference is mdd.
    rng = np.random.default_rng(0)
    d = mdd + 2.0 * rng.standard_normal((20_000, 5))
    t = d.mean(1) / (d.std(1, ddof=1) / math.sqrt(5))
    assert np.mean(np.abs(t) > sps.t.ppf(0.975, 4)) == pytest.approx(0.8, abs=0.015)
    # Many pairs: the normal approximation (z_0.975 + z_0.8) * sd / sqrt(n).
    assert minimum_detectable_difference(1.0, 400) == pytest.approx(2.8016 / 20, rel=0.005)
    assert minimum_detectable_difference(1.0, 2) > 10  # one degree of freedom: hopeless
    assert minimum_detectable_difference(1.0, 5, power=0.5) < mdd / 2


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda f, p: p(0.1, 0.0, 5), ValueError, "sd"),
    (lambda f, p: p(0.1, 1.0, 1), ValueError, "n"),
    (lambda f, p: p(0.1, 1.0, 5.0), TypeError, "n"),
    (lambda f, p: p(0.1, 1.0, 5, alpha=0.0), ValueError, "alpha"),
    (lambda f, p: p(np.nan, 1.0, 5), ValueError, "effect"),
    (lambda f, p: f(-1.0, 5), ValueError, "sd"),
    (lambda f, p: f(1.0, 5, power=0.01), ValueError, "power"),
    (lambda f, p: f(1.0, 5, power=1.0), ValueError, "power"),
])
def test_power_functions_reject_bad_input(call, error, match):
    from course_lib.stats import minimum_detectable_difference, paired_t_power

    with pytest.raises(error, match=match):
        call(minimum_detectable_difference, paired_t_power)
