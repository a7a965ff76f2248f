"""Interactive widgets for the notebooks (ipywidgets). The logic sits in plain methods so
that tests can drive a widget without a browser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .auctions import MECHANISMS, as_bid_array, run_auction, utility_curve
from .plots import (
    MECHANISM_LABELS,
    draw_network,
    plot_auction,
    plot_strengths_at,
    plot_utility_vs_bid,
)


class _Shown:
    """Shows its ``box`` (an ipywidgets container) when a cell displays it.

    IPython asks ``_ipython_display_`` first, in IPython 7 and 8 alike; handing the box to
    ``display`` lets ipywidgets render it its own way (``_ipython_display_`` in ipywidgets 7, as
    on Colab; ``_repr_mimebundle_`` in ipywidgets 8).
    """

    box: Any

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)


class AuctionPlayground(_Shown):
    """Set your value and your bid against fixed opponents; see who wins, the price and your
    utility under both mechanisms, and the whole utility-vs-bid curve.

    You are bidder 0, so you win ties (the course's tie rule: lowest index wins).

    Parameters
    ----------
    other_bids : sequence of float
        The opponents' sealed bids (non-negative).
    value : float
        Your value for the item, in [0, 1].
    bid : float, optional
        Your starting bid (defaults to your value).
    """

    def __init__(self, other_bids: Sequence[float] = (0.45, 0.62), value: float = 0.8,
                 bid: float | None = None) -> None:
        import ipywidgets as W

        others = as_bid_array(other_bids, "other_bids")
        if others.ndim != 1:
            raise ValueError(f"other_bids must be a flat list of bids, got shape {others.shape}")
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"value must lie in [0, 1], got {value!r}")
        self.other_bids = others
        top = float(max(1.2, 1.1 * others.max()))
        self.value_slider = W.FloatSlider(value=float(value), min=0.0, max=1.0, step=0.01,
                                          description="your value", continuous_update=False)
        self.bid_slider = W.FloatSlider(value=float(value if bid is None else bid), min=0.0,
                                        max=top, step=0.01, description="your bid",
                                        continuous_update=False)
        self.result = W.HTML()
        self.figure = W.Output()
        for slider in (self.value_slider, self.bid_slider):
            slider.observe(lambda _change: self.update(), names="value")
        header = W.HTML(f"<b>Opponents' bids:</b> {', '.join(f'{b:.2f}' for b in others)}")
        self.box = W.VBox([header, self.value_slider, self.bid_slider, self.result, self.figure])
        self.update()

    def outcomes(self) -> dict[str, dict[str, Any]]:
        """For each mechanism: ``won`` (bool), ``price`` and ``utility`` at the current settings."""
        value, bid = self.value_slider.value, self.bid_slider.value
        bids = np.concatenate([[bid], self.other_bids])
        rows = {}
        for mechanism in MECHANISMS:
            outcome = run_auction(bids, mechanism)
            won = outcome.winner == 0
            utility = float(utility_curve(value, self.other_bids, mechanism, np.array([bid]))[0])
            rows[mechanism] = {"won": bool(won), "price": outcome.price, "utility": utility}
        return rows

    def summary_html(self) -> str:
        rows = "".join(
            f"<tr><td>{MECHANISM_LABELS[m]}</td><td>{'you win' if r['won'] else 'you lose'}</td>"
            f"<td>{r['price']:.2f}</td>"
            f"<td class='utility' data-mechanism='{m}'><b>{r['utility']:+.2f}</b></td></tr>"
            for m, r in self.outcomes().items())
        return ("<table><tr><th>mechanism</th><th>outcome</th><th>price paid by the winner</th>"
                f"<th>your utility</th></tr>{rows}</table>")

    def update(self) -> None:
        """Recompute the table and redraw the curve (called whenever a slider moves)."""
        self.result.value = self.summary_html()
        self.figure.clear_output(wait=True)
        with self.figure:
            fig, ax = plt.subplots(figsize=(7, 3.6))
            plot_utility_vs_bid(self.value_slider.value, list(self.other_bids),
                                bid=self.bid_slider.value, ax=ax,
                                max_bid=self.bid_slider.max)
            plt.show()
            plt.close(fig)


class _SliderFigure(_Shown):
    """A figure redrawn from a slider's position, with a play button; subclasses ``draw``."""

    def __init__(self, last: int, description: str, step: int = 1, play_step: int = 1,
                 interval: int = 200, width: str | None = None) -> None:
        import ipywidgets as W

        self.slider = W.IntSlider(value=0, min=0, max=last, step=step, description=description,
                                  continuous_update=False,
                                  layout=W.Layout(width=width) if width else W.Layout())
        self.play = W.Play(value=0, min=0, max=last, step=play_step, interval=interval)
        W.jslink((self.play, "value"), (self.slider, "value"))
        self.figure = W.Output()
        self.slider.observe(lambda _change: self.update(), names="value")
        self.box = W.VBox([W.HBox([self.play, self.slider]), self.figure])
        self.update()

    def draw(self, position: int) -> Any:
        """Draw the figure for ``position``; return it."""
        raise NotImplementedError

    def update(self) -> None:
        self.figure.clear_output(wait=True)
        with self.figure:
            fig = self.draw(self.slider.value)
            plt.show()
            plt.close(fig)


class BrigadeExplorer(_SliderFigure):
    """A slider over the episodes of a bucket-brigade run: every rule's strength at that point.

    Parameters
    ----------
    result : BrigadeResult
        From ``run_bucket_brigade``.
    """

    def __init__(self, result: Any) -> None:
        self.result = result
        episodes = result.strengths.shape[0] - 1
        super().__init__(episodes, "episode", step=max(1, episodes // 200),
                         play_step=max(1, episodes // 50), width="60%")

    def draw(self, position: int) -> Any:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        plot_strengths_at(self.result, position, ax=ax)
        return fig


class SocietyReplay(_SliderFigure):
    """Step through a replayed episode of a society of options: the frame at each auction
    beside every clone's bid (the winner outlined).

    Parameters
    ----------
    steps : list of SocietyStep
        From ``run_society_episode(..., render=True)``.
    option_names : sequence of str
        One name per primitive, in the society's order.
    """

    def __init__(self, steps: Sequence[Any], option_names: Sequence[str]) -> None:
        if not steps or any(getattr(s, "frame", None) is None for s in steps):
            raise ValueError("steps must be a non-empty replay recorded with render=True")
        self.steps, self.option_names = list(steps), list(option_names)
        super().__init__(len(self.steps) - 1, "auction", interval=900)

    def draw(self, position: int) -> Any:
        fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.2), width_ratios=[1.3, 1])
        plot_auction(self.steps[position], self.option_names, axes,
                     title=f"auction {position}")
        return fig


class NetworkReplay(_SliderFigure):
    """Step through one episode of the wireless network: who sent where, which sends were
    delivered and which collided, and every user's queue.

    Parameters
    ----------
    grid : WirelessGrid
    replay : EpisodeReplay
        From ``course_lib.wireless_sac.replay_episode``.
    """

    def __init__(self, grid: Any, replay: Any) -> None:
        if len(getattr(replay, "sent", ())) == 0:
            raise ValueError("replay must be an EpisodeReplay with at least one step")
        self.grid, self.replay = grid, replay
        super().__init__(len(replay.sent) - 1, "step", interval=900)

    def draw(self, position: int) -> Any:
        fig, ax = plt.subplots(figsize=(1.6 * self.grid.width + 1, 1.6 * self.grid.height + 0.6))
        draw_network(self.grid, self.replay, position, ax=ax)
        return fig
