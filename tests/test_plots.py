"""The figures draw what they claim (course_lib/plots.py)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib import plots
from course_lib.bidders import LearnToBidResult


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_utility_vs_bid_draws_both_mechanisms_and_marks_the_bid():
    ax = plots.plot_utility_vs_bid(0.8, [0.45, 0.62], bid=0.7)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "first price" in labels and "Vickrey (second price)" in labels
    vickrey = next(line for line in ax.get_lines() if line.get_label().startswith("Vickrey"))
    x, y = vickrey.get_data()
    assert np.isclose(y[np.searchsorted(x, 0.7)], 0.18)  # wins and pays 0.62
    assert "np.float64" not in ax.get_title()


def test_learned_bids_and_history_plot_one_line_per_bidder():
    res = LearnToBidResult("first_price", np.full((3, 4), 0.6), np.array([.125, .375, .625, .875]),
                           np.full((5, 3), 0.6))
    ax = plots.plot_learned_bids({"first_price": res})
    assert len(ax.get_lines()) == 1 + 3  # theory + one per bidder
    ax = plots.plot_ratio_history({"first_price": res})
    assert len(ax.get_lines()) == 3 + 1


def test_ratio_vs_n_and_deviation_gains_and_economies():
    ax = plots.plot_ratio_vs_n([2, 3], {"first_price": [0.5, 0.66]})
    theory = ax.get_lines()[0].get_ydata()
    assert np.allclose(theory, [0.5, 2 / 3])
    ax = plots.plot_deviation_gains({"vickrey": np.zeros(10), "first_price": np.linspace(0, 1, 10)})
    assert ax.get_yscale() == "log" and len(ax.patches) == 2
    fig = plots.draw_economies()
    assert len(fig.axes) == 2


def test_chapter_two_plots():
    from course_lib.bucket_brigade import run_bucket_brigade

    result = run_bucket_brigade(episodes=30, seed=0)
    ax = plots.plot_strength_history(result, steady_state=[1.0, 2.0, 3.0, 4.0])
    assert len([ln for ln in ax.get_lines() if ln.get_label().startswith("assemble")]) == 4
    assert len(ax.get_lines()) == 4 + 4  # four assemblers, four steady-state lines
    ax = plots.plot_strengths_at(result, 30)
    assert len(ax.patches) == result.line.n_rules
    assert np.isclose(sum(p.get_height() for p in ax.patches), result.strengths[30].sum())


def test_chapter_three_plots():
    from course_lib.bidders import train_society
    from course_lib.envs.toy_mdps import make_task
    from course_lib.society import MECHANISMS

    mdp = make_task("bandit")
    results = {c > 1: train_society(mdp, list(MECHANISMS), c, 0.99, iterations=5, n_envs=4)
               for c in (1, 2)}
    q = np.array([[0.2, 0.4, 0.6, 0.8], [0.0, 0.0, 0.0, 0.0]])
    axes = plots.plot_bids_vs_q(q, results, ~mdp.terminal, "bandit")
    assert len(axes) == len(MECHANISMS)
    ax = plots.plot_bid_history(results[True], 0, q, ~mdp.terminal, mdp.action_names)
    assert len([ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]) == 4
    rows = [{"task": "bandit", "mechanism": m, "cloned": c, "bid_error": 0.1 + k,
             "bid_error_ci95": 0.01} for k, m in enumerate(MECHANISMS) for c in (False, True)]
    ax = plots.plot_metric_bars(rows, "bid_error")
    heights = sorted(p.get_height() for p in ax.patches)
    assert np.allclose(heights, sorted([0.1 + k for k in range(4)] * 2))


def test_chapter_four_plots():
    from course_lib.envs.two_rooms import make_two_rooms
    from course_lib.option_society import OptionSociety, run_society_episode
    from course_lib.options import OPTION_NAMES, OptionEnv, load_options
    from course_lib.ppo import TrainingLog
    from course_lib.transfer import TransferRun

    env = OptionEnv(make_two_rooms("blue", render_mode="rgb_array"), load_options(), 0.99)
    society = OptionSociety(50, 3, 2)
    steps = run_society_episode(society, env, seed=0, render=True)
    fig = plots.plot_replay(steps, OPTION_NAMES)
    assert len(fig.axes) == 2 * len(steps)
    ax_frame, ax_bids = plots.plot_auction(steps[0], OPTION_NAMES)
    assert len(ax_bids.patches) == 6  # 3 options x 2 clones
    outlined = [p for p in ax_bids.patches if p.get_linewidth() == 2 and p.get_edgecolor()[3]]
    assert len(outlined) == 1 and outlined[0].get_height() == pytest.approx(steps[0].bids.max())

    def log(successes):
        out = TrainingLog()
        for k, s in enumerate(successes):
            out.record(4096 * (k + 1), [1.0] * 10, [s] * 10)
        return out

    before = {k: v.clone() for k, v in society.state_dict().items()}
    runs = [TransferRun(m, seed, log([False, True]), log([False, True, True]), 0.5, society,
                        before) for m in ("society", "hierarchical", "flat") for seed in (0, 1)]
    axes = plots.plot_transfer_curves(runs)
    labels = [line.get_label() for line in axes[1].get_lines()]
    assert {"society (2 seeds)", "hierarchical (2 seeds)", "flat (2 seeds)"} <= set(labels)
    ax = plots.plot_weight_shift(runs, thresholds=[1e-3, 1e-1])
    curves = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    assert len(curves) == 4 and all(np.allclose(c.get_ydata(), 0.0) for c in curves)
    rows = {"society": [[1e-3, 0.5, 0.4, 0.6], [1e-2, 0.2, 0.1, 0.3]],
            "hierarchical": [[1e-3, 0.7, 0.7, 0.7], [1e-2, 0.4, 0.3, 0.5]]}
    axes = plots.plot_weight_shift_curves({"Adam": rows, "SGD": rows})
    assert [ax.get_title() for ax in axes] == ["Adam", "SGD"]
    means = [line for line in axes[0].get_lines() if line.get_label() in rows]
    assert [list(line.get_ydata()) for line in means] == [[0.5, 0.2], [0.7, 0.4]]
    assert len(axes[0].collections) == 2  # one band per learner
    with pytest.raises(ValueError, match="empty"):
        plots.plot_weight_shift_curves({})


def test_chapter_five_plots():
    from course_lib.analogy import AnalogyEpisode, AnalogyLog, AnalogyRun
    from course_lib.envs.mnist_canvas import PRIMITIVE_NAMES

    fig = plots.plot_images(np.zeros((10, 1, 8, 8)), [str(k) for k in range(10)], ncols=4)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 10 and shown[3].get_title() == "3"
    with pytest.raises(ValueError, match="one title per image"):
        plots.plot_images(np.zeros((2, 8, 8)), ["a"])
    with pytest.raises(ValueError, match="shape"):
        plots.plot_images(np.zeros((8, 8)))

    def run(name, seed, rewards):
        log = AnalogyLog(eval_steps=[100, 200], eval_reward=rewards)
        return AnalogyRun(name, seed, None, log, rewards[-1])

    runs = [run("society", 0, [0.2, 0.8]), run("society", 1, [0.4, 0.9]),
            run("monolithic", 0, [0.1, 0.7])]
    ax = plots.plot_analogy_curves(runs, {"no transformation": 0.1, "oracle": 0.97})
    society = next(line for line in ax.get_lines() if line.get_label() == "society (2 seeds)")
    np.testing.assert_allclose(society.get_ydata(), [0.3, 0.85])
    assert any(line.get_label() == "monolithic (1 seed)" for line in ax.get_lines())
    assert sorted(line.get_ydata()[0] for line in ax.get_lines()
                  if line.get_linestyle() in (":", "--")) == [0.1, 0.97]

    bids = np.zeros((2, 2, 6))
    bids[0, 0, 4], bids[0, 1, 1] = 0.9, 0.8
    episode = AnalogyEpisode(np.zeros((2, 3, 8, 8)), np.array([[4, 1], [0, 0]]), bids,
                             np.array([3, 5]), np.array([3, 7]), np.array([1.0, 0.0]))
    fig = plots.plot_analogy_gallery(episode, PRIMITIVE_NAMES)
    assert len(fig.axes) == 6
    assert fig.axes[1].get_title() == "shift left\nbid 0.90"
    assert fig.axes[2].get_xlabel() == "reads 3 (is 3)"
    assert fig.axes[5].get_xlabel() == "reads 5 (is 7)"
    fig = plots.plot_primitive_bids(episode, PRIMITIVE_NAMES, rows=[0])
    bars = fig.axes[1].patches
    assert len(bars) == 6 and bars[4].get_width() == pytest.approx(0.9)


def test_chapter_six_plots():
    from course_lib.envs.wireless import make_grid
    from course_lib.wireless_sac import SACConfig, SACRun, policy_probs, replay_episode

    g = make_grid()
    ax = plots.draw_network(g)
    assert len(ax.collections) == 2  # access points and users
    probs = policy_probs(np.zeros((24, 4, g.n_actions)), g.valid)
    replay = replay_episode(g, probs, seed=0)
    assert replay.queues.shape == (g.horizon + 1, 24, 2) and replay.sent.shape == (10, 24)
    step = int(np.argmax(replay.collided.sum(1)))
    ax = plots.draw_network(g, replay, step)
    arrows = [a for a in ax.texts if a.arrow_patch is not None]
    assert len(arrows) == int((replay.sent[step] >= 0).sum())
    assert f"{int(replay.collided[step].sum())} collided" in ax.get_title()

    def run(k, seed, returns):
        return SACRun(SACConfig(k=k), seed, np.zeros(1), None, [0, 100], returns)

    runs = [run(1, 0, [0.0, 0.2]), run(1, 1, [0.0, 0.3]), run(0, 0, [0.0, 0.01])]
    ax = plots.plot_sac_curves(runs, aloha=0.18)
    k1 = next(line for line in ax.get_lines() if line.get_label().startswith("SAC, k = 1"))
    np.testing.assert_allclose(k1.get_ydata(), [0.0, 0.25])
    assert any("ALOHA" in line.get_label() for line in ax.get_lines())
    axes = plots.plot_critic_size({"k0": 480, "k1": 2e6}, {"k0": 480, "k1": 1e24},
                                  {"k0": 0.01, "k1": 0.25})
    assert [p.get_height() for p in axes[1].patches] == [0.01, 0.25]
    ax = plots.plot_mu_decay([1e-3, 1e-5, 0.0], [1e-3, 5e-4, 0.0], 0.2)
    assert len(ax.patches) == 6
    assert [t.get_text() for t in ax.texts] == ["0", "0"]


def test_plot_paired_shifts_scales_each_row_by_the_societys_mean():
    entry = {"mean": 0.2, "low": 0.1, "high": 0.3, "n": 3, "differences": [0.2, 0.3, 0.1],
             "society": [0.1, 0.2, 0.3], "detectable": 0.1}
    zero = {"mean": 0.05, "low": None, "high": None, "n": 2, "differences": [0.1, 0.0],
            "society": [0.0, 0.0], "detectable": None}
    ax = plots.plot_paired_shifts({"relative": entry, "left out": zero})
    assert [t.get_text() for t in ax.get_yticklabels()] == ["relative"]
    mean = [line for line in ax.get_lines() if line.get_marker() == "D"]
    assert mean[0].get_xdata()[0] == pytest.approx(0.2 / 0.2)  # mean difference / society mean
    band = ax.collections[0].get_paths()[0].vertices[:, 0]
    assert (band.min(), band.max()) == pytest.approx((-0.5, 0.5))  # detectable 0.1 / 0.2
    with pytest.raises(ValueError, match="empty"):
        plots.plot_paired_shifts({})
