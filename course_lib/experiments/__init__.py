"""Each chapter's headline experiment, one module each, run by the notebooks and the CLI.

An experiment module defines ``TITLE`` and ``run(quick=None, seed=0, progress=False) -> dict``;
the returned metrics are JSON-serialisable and their names are part of the public interface.
A module with variants also defines ``VARIANTS`` ({keyword: allowed values, default first}),
and its ``run`` takes those keywords.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
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


# Where the metrics of full-mode runs are kept with the course (see full_mode_results).
RESULTS_DIR = Path(__file__).resolve().parents[2] / "data"


def full_mode_results(name: str) -> dict[str, Any] | None:
    """The metrics of a full-mode run of experiment ``name`` kept with the course, or None.

    ``data/<name>-full.json`` is what ``python -m course_lib run <name> --json
    data/<name>-full.json`` wrote (data/README.md says when and how long it took). A notebook
    run in quick mode cites it beside its own numbers, so that a short budget's weaker result
    is not mistaken for a mistake in the learner's code."""
    get_experiment(name)  # an unknown name is an error, not a missing file
    path = RESULTS_DIR / f"{name}-full.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def get_experiment(name: str) -> Any:
    """The module of the experiment called ``name`` (see ``EXPERIMENTS``)."""
    if not isinstance(name, str):
        raise TypeError(f"experiment name must be a string, got {name!r}")
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; available: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(EXPERIMENTS[name])


def check_variants(name: str, variants: dict[str, Any]) -> dict[str, Any]:
    """``variants`` if experiment ``name`` has them all, else a ValueError naming the ones
    it has."""
    allowed = getattr(get_experiment(name), "VARIANTS", {})
    for key, value in variants.items():
        if key not in allowed:
            has = ", ".join(f"--{k}" for k in allowed) or "none"
            raise ValueError(f"experiment {name!r} has no --{key} variant (its variants: {has})")
        if value not in allowed[key]:
            raise ValueError(f"--{key} must be one of {', '.join(allowed[key])}, got {value!r}")
    return variants


def run_experiment(
    name: str, quick: bool | None = None, seed: int = 0, progress: bool = False,
    **variants: Any,
) -> dict[str, Any]:
    """Run one experiment (with any of its ``VARIANTS``) and return its metrics."""
    return get_experiment(name).run(quick=quick, seed=seed, progress=progress,
                                    **check_variants(name, variants))
