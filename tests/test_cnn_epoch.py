"""The CNN workload (fastnn.workloads): one epoch on the shipped digits at 28x28
learns, and reaches torch's test accuracy with the same network and data."""
import numpy as np
import pytest

import fastnn as fn
from fastnn import workloads as W


@pytest.fixture(scope="module")
def digits():
    return W.make_digits28()


def test_digits28_are_the_shipped_digits_scaled_and_shifted(digits):
    (x, y), (xt, yt) = digits
    assert x.shape == (10_000, 1, 28, 28) and x.dtype == np.float32
    assert xt.shape == (360, 1, 28, 28) and y.dtype == yt.dtype == np.int64
    assert set(np.unique(y)) == set(range(10))
    # the first 1437 training images are the 80% split, the rest shifted copies of them
    bg = np.float32(-0.1307 / 0.3081)
    assert np.isclose(x[:1437, :, :2].min(), bg) and np.isclose(x.min(), bg)
    assert -1 < x.mean() < 1     # normalised as MNIST (mean 0.1307, std 0.3081)


@pytest.mark.slow
def test_cnn_epoch_learns(digits):
    (x, y), (xt, yt) = digits
    m = W.cnn_fastnn()
    W.train_epoch_cnn_fastnn(m, fn.optim.Adam(m.parameters(), lr=1e-3), x, y)
    assert W.accuracy_fastnn(m, xt, yt) > 0.9


@pytest.mark.torch
@pytest.mark.slow
def test_cnn_epoch_accuracy_matches_torch(digits):
    torch = pytest.importorskip("torch")
    (x, y), (xt, yt) = digits
    m = W.cnn_fastnn()
    W.train_epoch_cnn_fastnn(m, fn.optim.Adam(m.parameters(), lr=1e-3), x, y)
    mt = W.cnn_torch()
    W.train_epoch_cnn_torch(mt, torch.optim.Adam(mt.parameters(), lr=1e-3), x, y)
    acc_fn, acc_t = W.accuracy_fastnn(m, xt, yt), W.accuracy_torch(mt, xt, yt)
    assert abs(acc_fn - acc_t) <= 0.02, (acc_fn, acc_t)
