"""Chapter 6's network behind PettingZoo's ParallelEnv interface."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pettingzoo")
from pettingzoo.test import parallel_api_test  # noqa: E402

from course_lib.envs.wireless import make_grid  # noqa: E402
from course_lib.envs.wireless_parallel import WirelessParallelEnv  # noqa: E402


def test_passes_pettingzoos_api_test():
    parallel_api_test(WirelessParallelEnv(), num_cycles=30)


def test_local_actions_map_to_the_networks_actions():
    env = WirelessParallelEnv(make_grid(2, 2, 1, arrival_prob=1.0, success_prob=1.0))
    obs, _ = env.reset(seed=0)
    assert env.action_space("user_0").n == 3  # wait, or slot 0 / slot 1 to its one point
    assert obs["user_0"].tolist() == [0, 1]
    actions = {a: 0 for a in env.agents}
    actions["user_0"] = 2  # slot 1 to its access point: alone, q = 1
    obs, rewards, terms, truncs, _ = env.step(actions)
    assert rewards["user_0"] == 1.0 and sum(rewards.values()) == 1.0
    assert not any(terms.values()) and not any(truncs.values())


def test_episodes_end_by_time_limit_and_bad_actions_are_rejected():
    env = WirelessParallelEnv()
    env.reset(seed=1)
    with pytest.raises(ValueError, match="user_0 chose 9"):
        env.step({a: (9 if a == "user_0" else 0) for a in env.agents})
    with pytest.raises(ValueError, match="missing"):
        env.step({"user_0": 0})
    for _ in range(env.grid.horizon):
        _, _, _, truncs, _ = env.step({a: 0 for a in env.agents})
    assert all(truncs.values()) and env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})
    assert np.isfinite(env.grid.success_prob).all()
