"""Sequential under no_grad: the fused plan (Linear+ReLU in one kernel call, eval
dropout and Identity skipped, one Tensor wrap) must return what the module-by-module
path returns, for every layout, batch size and dtype, and follow later changes to
the Sequential."""
import numpy as np
import pytest

import fastnn as fn
from fastnn import nn


class ScaledLinear(nn.Linear):
    """A Linear subclass with its own forward: must not be fused."""

    def forward(self, x):
        return super().forward(x) * 2.0


def _mlp():
    return nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 3))


LAYOUTS = {
    "mlp": _mlp,
    "no_bias_identity": lambda: nn.Sequential(nn.Linear(20, 8, bias=False), nn.ReLU(inplace=True),
                                              nn.Identity(), nn.Linear(8, 3, bias=False)),
    "tanh_between": lambda: nn.Sequential(nn.Linear(20, 8), nn.Tanh(), nn.Linear(8, 3), nn.ReLU()),
    "subclass": lambda: nn.Sequential(ScaledLinear(20, 8), nn.ReLU(), nn.Linear(8, 3)),
    "nested": lambda: nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(20, 8), nn.ReLU()),
                                    nn.Linear(8, 3), nn.Softmax(dim=-1)),
    "alpha_dropout_first": lambda: nn.Sequential(nn.AlphaDropout(0.1), nn.Linear(20, 3)),
}


def _module_by_module(model, x):
    """The reference: every module called in turn, with grad mode on."""
    with fn.enable_grad():
        for m in model:
            x = m(x)
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("n", [1, 3, 300], ids=lambda n: f"n{n}")
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_nograd_plan_matches_module_by_module(layout, n, dtype, rng):
    fn.manual_seed(0)
    model = LAYOUTS[layout]().to(dtype).eval()
    x = rng.standard_normal((n, 20)).astype(dtype)
    want = _module_by_module(model, fn.tensor(x)).numpy()
    with fn.no_grad():
        got = model(x)
    assert isinstance(got, fn.Tensor) and not got.requires_grad
    assert got.dtype == dtype and got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6 if dtype == np.float32 else 1e-13, atol=1e-7)
    with fn.no_grad():
        again = model(fn.tensor(x))
    np.testing.assert_array_equal(again.numpy(), got.numpy())


def test_input_forms_and_result_ownership():
    fn.manual_seed(0)
    model = _mlp().eval()
    x = np.linspace(-1, 1, 20, dtype=np.float32)
    with fn.no_grad():
        row = model(x)                       # 1-D input: the unbatched form
        batch = model(x[None])
        from_list = model(x[None].tolist())
    assert row.shape == (3,) and batch.shape == (1, 3)
    np.testing.assert_allclose(row.numpy(), batch.numpy()[0], rtol=1e-6)
    np.testing.assert_allclose(from_list.numpy(), batch.numpy(), rtol=1e-6)
    assert from_list.dtype == np.float32
    before = x.copy()
    with fn.no_grad():
        y = model(x[None])
    y.numpy()[...] = 7
    np.testing.assert_array_equal(x, before)


def test_train_mode_dropout_still_applies_under_no_grad():
    def build():
        fn.manual_seed(0)
        return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.5, generator=3), nn.Linear(64, 64))
    a, b = build(), build()
    x = np.ones((2, 20), np.float32)
    with fn.no_grad():
        got = a(x).numpy()
    want = _module_by_module(b, fn.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    with fn.no_grad():
        a.eval()
        assert not np.allclose(a(x).numpy(), got)   # eval: no mask, so a different result


def test_errors_name_what_was_expected():
    model = _mlp().eval()
    with fn.no_grad():
        with pytest.raises(ValueError, match=r"linear: input has shape \(1, 19\).*\(\.\.\., 20\)"):
            model(np.ones((1, 19), np.float32))
        with pytest.raises(TypeError, match="floating point"):
            model(np.ones((1, 20), np.int64))
        with pytest.raises(TypeError, match="numeric"):
            model(np.array([["a"] * 20]))


def test_nan_in_nan_out():
    model = _mlp().eval()
    x = np.ones((1, 20), np.float32)
    x[0, 5] = np.nan
    with fn.no_grad():
        assert np.isnan(model(x).numpy()).all()


def test_plan_follows_changes_to_the_sequential(rng):
    fn.manual_seed(0)
    model = _mlp().eval()
    x = rng.standard_normal((1, 20)).astype(np.float32)

    def check():
        with fn.no_grad():
            got = model(x).numpy()
        np.testing.assert_allclose(got, _module_by_module(model, fn.tensor(x)).numpy(), rtol=1e-6)
        return got

    check()
    model[5] = nn.Linear(12, 4)                   # __setitem__
    assert check().shape == (1, 4)
    model.append(nn.Sigmoid())
    assert (check() > 0).all()
    del model[6]
    del model[1]                                  # the ReLU after the first Linear
    check()
    setattr(model, "0", nn.Linear(20, 16))        # replace by attribute name
    check()
    model[0].weight = nn.Parameter(np.zeros((16, 20), np.float32))   # a new weight on a child
    zeros = check()
    model[0].weight.data = np.ones((16, 20), np.float32)              # new data, same Parameter
    assert not np.allclose(check(), zeros)
    model[0].register_parameter("bias", None)
    check()
    model[0].weight.data = np.ones((16, 19), np.float32)              # data of the wrong shape
    with fn.no_grad(), pytest.raises(ValueError, match="linear: input has shape"):
        model(x)


def test_plans_of_every_sequential_holding_a_layer_follow_its_new_weight(rng):
    shared = nn.Linear(6, 3)
    a, b = nn.Sequential(shared, nn.ReLU()), nn.Sequential(nn.Identity(), shared)
    x = rng.standard_normal((1, 6)).astype(np.float32)
    with fn.no_grad():
        a(x), b(x)                                   # both plans built, both hold `shared`
        shared.weight = nn.Parameter(np.zeros((3, 6), np.float32))
        shared.bias = nn.Parameter(np.full(3, 2.0, np.float32))
        np.testing.assert_array_equal(a(x).numpy(), np.full((1, 3), 2.0, np.float32))
        np.testing.assert_array_equal(b(x).numpy(), np.full((1, 3), 2.0, np.float32))


def test_an_unpickled_sequential_runs_its_own_weights(rng):
    import pickle
    model = _mlp().eval()
    x = rng.standard_normal((1, 20)).astype(np.float32)
    with fn.no_grad():
        want = model(x).numpy()
        copy = pickle.loads(pickle.dumps(model))
        copy[0].weight = nn.Parameter(np.zeros_like(copy[0].weight.data))
        np.testing.assert_array_equal(model(x).numpy(), want)     # the original untouched
        assert not np.allclose(copy(x).numpy(), want)


def test_weights_are_cache_line_aligned():
    for layer in (nn.Linear(784, 256), nn.Linear(3, 5, dtype=np.float64)):
        for p in layer.parameters():
            assert p.data.ctypes.data % 64 == 0 and p.data.flags.c_contiguous
    dense = fn.layers.Dense(7, input_shape=(5,))
    assert all(p.data.ctypes.data % 64 == 0 for p in dense.parameters())


@pytest.mark.parametrize("n", [1, 5, 4096])
def test_single_sample_inference_matches_torch(n, torch, rng):
    from fastnn import workloads as W
    model, tmodel = W.mlp_fastnn().eval(), W.mlp_torch().eval()
    with torch.no_grad():
        for p, tp in zip(model.parameters(), tmodel.parameters()):
            tp.copy_(torch.from_numpy(p.numpy()))
    x = rng.standard_normal((n, 784)).astype(np.float32)
    with fn.no_grad():
        got = model(x).numpy()
    with torch.no_grad():
        want = tmodel(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_batch_inference_runs_in_blocks_bitwise_as_layer_by_layer(rng):
    """A big batch under no_grad takes the blocked chain (one pass per block of rows
    through every layer) and gives the bits of the layers run one by one."""
    from fastnn import workloads as W
    from fastnn.autograd.linear import Linear as LinearOp
    model = W.mlp_fastnn().eval()
    x = rng.standard_normal((1000, 784)).astype(np.float32)
    plan = model._build_plan()
    assert LinearOp.chain(x, plan[0][1]) is None            # too big for the serial kernel
    with fn.no_grad():
        got = model(x).numpy()
    h = x
    for layer in (model[0], model[3], model[5]):
        h = fn.functional.layers.linear_nograd(h, layer.weight.data, layer.bias.data,
                                               "relu" if layer is not model[5] else None)
    np.testing.assert_array_equal(got, h)
    model.train()                                            # dropout on: the layers one by one
    with fn.no_grad():
        assert model(x).shape == (1000, 10)


def test_infer4096_benchmark_child_runs():
    """``python -m fastnn bench``'s batch-4096 table: each engine in its own child."""
    from fastnn import _bench
    times = _bench._scenario_times("infer4096", "alone", engines=["fastnn"], repeat=1, rows=4096,
                                   timeout=300)
    assert list(times) == ["fastnn"] and len(times["fastnn"]) == 1 and times["fastnn"][0] > 0
