"""Modes, seeds and devices (course_lib/config.py)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import config


def test_quick_mode_follows_the_environment_and_the_override(monkeypatch):
    monkeypatch.setenv(config.QUICK_ENV_VAR, "1")
    assert config.is_quick()
    monkeypatch.setenv(config.QUICK_ENV_VAR, "0")
    assert not config.is_quick()
    config.set_quick(True)
    try:
        assert config.is_quick() and config.resolve_quick(None)
        assert config.resolve_quick(False) is False
    finally:
        config.set_quick(None)
    monkeypatch.setenv(config.QUICK_ENV_VAR, "maybe")
    with pytest.raises(ValueError, match=config.QUICK_ENV_VAR):
        config.is_quick()


def test_seed_everything_makes_runs_repeatable():
    a = config.seed_everything(5).random(3), np.random.random(3)
    b = config.seed_everything(5).random(3), np.random.random(3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    torch = pytest.importorskip("torch")
    config.seed_everything(7)
    x = torch.rand(2)
    config.seed_everything(7)
    assert torch.equal(x, torch.rand(2))


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, None])
def test_bad_seeds_are_rejected(bad):
    with pytest.raises((TypeError, ValueError)):
        config.check_seed(bad)


def test_device_is_cpu_or_cuda():
    pytest.importorskip("torch")
    assert config.device().type in {"cpu", "cuda"}
    assert config.device_name().startswith("cpu (torch ")  # where the experiments run


def test_device_name_marks_a_visible_gpu_as_unused(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Test GPU")
    name = config.device_name()
    assert name.startswith("cpu (torch ") and name.endswith("GPU present but unused: Test GPU")
