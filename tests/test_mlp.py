"""The headline workload: fastnn's MLP epoch reaches torch's accuracy."""
import numpy as np
import pytest

import fastnn as fn
from fastnn import workloads as W


@pytest.fixture(scope="module")
def data():
    x, y = W.make_teacher_data()
    return x, y


def test_mlp_epoch_learns(data):
    x, y = data
    m = W.mlp_fastnn()
    W.train_epoch_fastnn(m, fn.optim.Adam(m.parameters(), lr=1e-3), x, y)
    acc = W.accuracy_fastnn(m, x, y)
    assert acc > 0.8, acc


@pytest.mark.torch
def test_mlp_epoch_accuracy_matches_torch(data):
    torch = pytest.importorskip("torch")
    x, y = data
    m = W.mlp_fastnn()
    W.train_epoch_fastnn(m, fn.optim.Adam(m.parameters(), lr=1e-3), x, y)
    acc_fn = W.accuracy_fastnn(m, x, y)
    mt = W.mlp_torch()
    W.train_epoch_torch(mt, torch.optim.Adam(mt.parameters(), lr=1e-3), x, y)
    acc_t = W.accuracy_torch(mt, x, y)
    assert abs(acc_fn - acc_t) <= 0.02, (acc_fn, acc_t)


def test_single_sample_inference_matches_numpy():
    m = W.mlp_fastnn().eval()
    s = np.random.default_rng(1).standard_normal((1, 784), dtype=np.float32)
    with fn.no_grad():
        out = m(s)
    assert not out.requires_grad
    p = [q.data for q in m.parameters()]
    h = np.maximum(s @ p[0].T + p[1], 0)
    h = np.maximum(h @ p[2].T + p[3], 0)
    np.testing.assert_allclose(out.numpy(), h @ p[4].T + p[5], rtol=1e-5, atol=1e-5)
