"""The epochs' GEMM floor (fastnn._bench.gemm_floor): the products it runs are the
networks' own, and the MLP's bare kernel sequence (MlpKernelSteps), which splits
what is not a GEMM into the kernels' work and the framework's, is the training loop
bit for bit."""
import numpy as np
import pytest

import fastnn as fn
from fastnn import _bench
from fastnn import workloads as W


@pytest.mark.parametrize("workload", ["mlp_epoch", "cnn_epoch"])
def test_gemm_list_matches_the_networks_products(workload):
    # the floor's products have the shapes of the layers they stand for
    items = _bench._gemm_list(workload, 8)
    flops = sum(2 * (a.shape[0] if ta else a.shape[1]) * a.size // (a.shape[0] if ta else a.shape[1])
                * (w.shape[0] if tb else w.shape[1]) for a, w, ta, tb in items)
    if workload == "mlp_epoch":
        fwd = 2 * 8 * (784 * 256 + 256 * 128 + 128 * 10)
        assert flops == fwd * 3 - 2 * 8 * 784 * 256     # no input gradient for the data
    else:
        conv = 2 * 8 * (784 * 16 * 9 + 196 * 32 * 144)
        lin = 2 * 8 * 1568 * 10
        assert flops == 2 * conv + 2 * 8 * 196 * 32 * 144 + 2 * lin


def test_gemm_floor_refuses_an_unknown_workload():
    with pytest.raises(ValueError, match="expected a workload"):
        _bench._gemm_list("rnn", 8)


@pytest.mark.parametrize("rows", [512, 300])      # whole batches; a short last batch
def test_mlp_kernel_steps_are_the_training_loop_bitwise(rows):
    x, y = W.make_teacher_data(rows)
    model = W.mlp_fastnn(seed=3)
    model[2].generator = fn.random.Generator(11)
    bare = _bench.MlpKernelSteps(model, generator=fn.random.Generator(11))
    opt = fn.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        W.train_epoch_fastnn(model, opt, x, y)
        bare.epoch(x, y)
    params = list(model.parameters())
    assert bare.steps == 2 * len(range(0, rows, 128))
    for p, q, (m, v) in zip(params, bare.params, bare.state):
        np.testing.assert_array_equal(p.data, q)
        np.testing.assert_array_equal(opt.state[p]["exp_avg"], m)
        np.testing.assert_array_equal(opt.state[p]["exp_avg_sq"], v)
    assert not np.array_equal(params[0].data, W.mlp_fastnn(seed=3)[0].weight.data)


def test_mlp_kernel_steps_train_their_own_copy():
    model = W.mlp_fastnn()
    before = [p.data.copy() for p in model.parameters()]
    x, y = W.make_teacher_data(128)
    _bench.MlpKernelSteps(model, generator=0).epoch(x, y)
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


def test_mlp_kernel_steps_refuse_another_network():
    with pytest.raises(ValueError, match="expected workloads.mlp_fastnn"):
        _bench.MlpKernelSteps(W.cnn_fastnn())


def test_gemm_floor_reports_the_kernels_alone_for_the_mlp():
    r = _bench.gemm_floor("mlp_epoch", threads=1, repeat=1, rows=640)
    assert r["kernels"] > 0 and r["kernels_over_floor"] == r["kernels"] / r["floor"]
    assert r["epoch_over_floor"] == r["epoch"] / r["floor"]
    c = _bench.gemm_floor("cnn_epoch", threads=1, repeat=1, rows=128)
    assert c["kernels"] is None and c["kernels_over_floor"] is None and c["floor"] > 0
