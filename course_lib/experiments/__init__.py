"""Each chapter's headline experiment, one module each, run by the notebooks and the CLI.

An experiment module defines ``TITLE`` and ``run(quick=None, seed=0, progress=False) -> dict``;
the returned metrics are JSON-serialisable and their names are part of the public interface.
"""

from __future__ import annotations

import importlib
from typing import Any

EXPERIMENTS: dict[str, str] = {
    "vickrey": "course_lib.experiments.vickrey",
    "bucket-brigade": "course_lib.experiments.bucket_brigade",
    "society": "course_lib.experiments.society",
    "minigrid-transfer": "course_lib.experiments.minigrid_transfer",
    "mnist-analogy": "course_lib.experiments.mnist_analogy",
    "wireless-sac": "course_lib.experiments.wireless_sac",
    "wireless-scale": "course_lib.experiments.wireless_scale",
}


def get_experiment(name: str) -> Any:
    """The module of the experiment called ``name`` (see ``EXPERIMENTS``)."""
    if not isinstance(name, str):
        raise TypeError(f"experiment name must be a string, got {name!r}")
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; available: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(EXPERIMENTS[name])


def run_experiment(
    name: str, quick: bool | None = None, seed: int = 0, progress: bool = False
) -> dict[str, Any]:
    """Run one experiment and return its metrics."""
    return get_experiment(name).run(quick=quick, seed=seed, progress=progress)
