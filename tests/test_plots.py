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
