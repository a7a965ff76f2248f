"""Reference bodies for the exercises in ``course_lib/ppo.py``."""

from __future__ import annotations

import numpy as np
import torch


def compute_gae(rewards: np.ndarray, values: np.ndarray, dones: np.ndarray,
                last_values: np.ndarray, gamma: float | np.ndarray,
                lam: float) -> tuple[np.ndarray, np.ndarray]:
    advantages = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1])
    next_value = last_values
    for t in range(rewards.shape[0] - 1, -1, -1):
        alive = 1.0 - dones[t]
        delta = rewards[t] + gamma[t] * next_value * alive - values[t]
        running = delta + gamma[t] * lam * alive * running
        advantages[t] = running
        next_value = values[t]
    return advantages, advantages + values


def clipped_surrogate_loss(new_log_prob: torch.Tensor, old_log_prob: torch.Tensor,
                           advantages: torch.Tensor, clip: float) -> torch.Tensor:
    ratio = torch.exp(new_log_prob - old_log_prob)
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip) * advantages
    return -torch.min(unclipped, clipped).mean()
