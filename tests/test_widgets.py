"""The auction playground, driven without a browser."""

from __future__ import annotations

import pytest

from course_lib.widgets import AuctionPlayground


def test_playground_reports_outcomes_and_reacts_to_the_sliders():
    pg = AuctionPlayground(other_bids=[0.45, 0.62], value=0.8)
    first = pg.outcomes()
    assert first["first_price"] == {"won": True, "price": pytest.approx(0.8), "utility": 0.0}
    assert first["vickrey"]["won"] and first["vickrey"]["utility"] == pytest.approx(0.18)
    html_before = pg.result.value
    pg.bid_slider.value = 0.7  # shading: still wins under both
    after = pg.outcomes()
    assert after["first_price"]["utility"] == pytest.approx(0.1)
    assert after["vickrey"]["utility"] == pytest.approx(0.18)
    assert pg.result.value != html_before and "+0.10" in pg.result.value
    pg.bid_slider.value = 0.5  # too low: loses under both
    assert not pg.outcomes()["vickrey"]["won"]
    assert pg.outcomes()["vickrey"]["utility"] == 0.0


def test_playground_rejects_bad_settings():
    with pytest.raises(ValueError):
        AuctionPlayground(other_bids=[], value=0.5)
    with pytest.raises(ValueError):
        AuctionPlayground(other_bids=[0.3], value=1.5)
    with pytest.raises(TypeError):
        AuctionPlayground(other_bids="0.3", value=0.5)


def test_brigade_explorer_follows_its_slider(monkeypatch):
    import course_lib.widgets as widgets
    from course_lib.bucket_brigade import run_bucket_brigade

    drawn = []
    monkeypatch.setattr(widgets, "plot_strengths_at",
                        lambda result, episode, ax=None: drawn.append(episode))
    result = run_bucket_brigade(episodes=40, seed=0)
    explorer = widgets.BrigadeExplorer(result)
    assert explorer.slider.max == 40 and drawn == [0]
    explorer.slider.value = 40
    assert drawn == [0, 40]


def test_society_replay_follows_its_slider(monkeypatch):
    import course_lib.widgets as widgets
    from course_lib.envs.two_rooms import make_two_rooms
    from course_lib.option_society import OptionSociety, run_society_episode
    from course_lib.options import OPTION_NAMES, OptionEnv, load_options

    drawn = []
    monkeypatch.setattr(widgets, "plot_auction",
                        lambda step, names, axes=None, title="": drawn.append(step))
    env = OptionEnv(make_two_rooms("blue", render_mode="rgb_array"), load_options(), 0.99)
    steps = run_society_episode(OptionSociety(50, 3, 2), env, seed=1, render=True)
    replay = widgets.SocietyReplay(steps, OPTION_NAMES)
    assert replay.slider.max == len(steps) - 1 and drawn == [steps[0]]
    replay.slider.value = len(steps) - 1
    assert drawn[-1] is steps[-1]
    with pytest.raises(ValueError, match="render=True"):
        widgets.SocietyReplay(run_society_episode(OptionSociety(50, 3, 2), env, seed=1),
                              OPTION_NAMES)


def test_network_replay_follows_its_slider(monkeypatch):
    import numpy as np

    import course_lib.widgets as widgets
    from course_lib.envs.wireless import make_grid
    from course_lib.wireless_sac import policy_probs, replay_episode

    drawn = []
    monkeypatch.setattr(widgets, "draw_network",
                        lambda grid, replay, step, ax=None: drawn.append(step))
    g = make_grid()
    replay = replay_episode(g, policy_probs(np.zeros((24, 4, g.n_actions)), g.valid), seed=0)
    view = widgets.NetworkReplay(g, replay)
    assert view.slider.max == g.horizon - 1 and drawn == [0]
    view.slider.value = 7
    assert drawn == [0, 7]
    with pytest.raises(ValueError, match="EpisodeReplay"):
        widgets.NetworkReplay(g, None)


def test_widgets_hand_their_box_to_display(monkeypatch):
    """``_ipython_display_`` is what IPython 7 and 8 both ask first; ipywidgets 7 (Colab's) has
    no ``_repr_mimebundle_`` to forward to, so the box is displayed as ipywidgets sees fit."""
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    pg = AuctionPlayground(other_bids=[0.45, 0.62], value=0.8)
    pg._ipython_display_()
    assert shown == [pg.box]
    assert not hasattr(pg, "_repr_mimebundle_")
