"""Reference bodies for the exercises in ``course_lib/aloha.py``."""

from __future__ import annotations

import numpy as np

from course_lib.envs.wireless import MAX_REACH


def aloha_actions(queues: np.ndarray, weights: np.ndarray, p_send: float,
                  rng: np.random.Generator) -> np.ndarray:
    has_packet = queues.any(-1)
    slot = queues.argmax(-1)  # the lowest occupied slot where one exists
    send = has_packet & (rng.random(has_packet.shape) < p_send)
    cumulative = np.cumsum(weights, -1)
    u = rng.random(has_packet.shape)[..., None]
    r = np.minimum((u >= cumulative[None]).sum(-1), MAX_REACH - 1)
    return np.where(send, 1 + slot * MAX_REACH + r, 0)
