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
