"""Batch norm, layer norm and embedding: kernels against the NumPy reference (both
engines, 1-3 threads bitwise equal), modules against torch (running statistics,
train/eval, momentum conventions), and the Keras momentum convention against Keras."""
import numpy as np
import pytest

import fastnn as fn
import fastnn.functional as F
from fastnn._kernels import norm as K
from fastnn._kernels import reference_norm as R

ENGINES = sorted(K.ENGINES)
BN_SHAPES = [(2, 3, 1), (5, 4, 1), (300, 7, 1), (3, 5, 7), (4, 3, 16), (2, 2, 40), (1, 2, 3000),
             (70, 1100, 1), (3, 1, 5), (0, 3, 4)]


def _x(rng, shape, dtype, shift=3.0):
    return (rng.standard_normal(shape) * 2 + shift).astype(dtype)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
def test_batch_norm_kernels_match_reference(engine, dtype, shape, rng):
    k = K.ENGINES[engine]
    x = _x(rng, shape, dtype)
    g = rng.standard_normal(shape).astype(dtype)
    mean, var = k["stats"](x)
    if shape[0] == 0:
        assert np.isnan(mean).all() and np.isnan(var).all()
        return
    rmean, rvar = R.batch_norm_stats(x)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(mean, rmean, rtol=tol, atol=tol)
    np.testing.assert_allclose(var, rvar, rtol=tol * 10, atol=tol)
    C = shape[1]
    a, c = rng.standard_normal(C), rng.standard_normal(C)
    y = k["affine"](x, mean, a, c)
    want = (x.astype(np.float64) - mean[:, None]) * a[:, None] + c[:, None]
    ytol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, want, rtol=ytol, atol=ytol)
    s1, s2 = k["bwd_sums"](g, x, mean)
    g64, x64 = g.astype(np.float64), x.astype(np.float64)
    np.testing.assert_allclose(s1, g64.sum(axis=(0, 2)), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(s2, (g64 * (x64 - mean[:, None])).sum(axis=(0, 2)),
                               rtol=1e-9, atol=1e-9)
    b = rng.standard_normal(C)
    gx = k["bwd_affine"](g, x, mean, a, b, c)
    want = a[:, None] * g64 + b[:, None] * (x64 - mean[:, None]) + c[:, None]
    np.testing.assert_allclose(gx, want, rtol=ytol, atol=ytol * 10)
    assert y.dtype == gx.dtype == dtype


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(4, 6), (33, 1024), (5, 1), (3, 5000), (0, 4)], ids=str)
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_kernels_match_reference(engine, dtype, shape, affine, rng):
    k = K.ENGINES[engine]
    x = _x(rng, shape, dtype)
    g = rng.standard_normal(shape).astype(dtype)
    D = shape[1]
    w = rng.standard_normal(D).astype(dtype) if affine else None
    b = rng.standard_normal(D).astype(dtype) if affine else None
    y, mean, rstd = k["ln_fwd"](x, w, b, 1e-5)
    tol = 2e-5 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(y, R.layer_norm(x, (D,), w, b), rtol=tol, atol=tol)
    gx, gw, gb = k["ln_bwd"](g, x, w, mean, rstd, affine, affine)
    # reference gradient through the float64 formulas
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    m = x64.mean(axis=1, keepdims=True)
    rs = 1 / np.sqrt(x64.var(axis=1, keepdims=True) + 1e-5)
    xh = (x64 - m) * rs
    gwx = g64 * (1.0 if w is None else w.astype(np.float64))
    want = rs * (gwx - gwx.mean(axis=1, keepdims=True) - xh * (gwx * xh).mean(axis=1, keepdims=True))
    np.testing.assert_allclose(gx, want, rtol=tol * 10, atol=tol * 10)
    if affine:
        np.testing.assert_allclose(gw, (g64 * xh).sum(axis=0), rtol=tol * 10, atol=tol * 100)
        np.testing.assert_allclose(gb, g64.sum(axis=0), rtol=tol, atol=tol * 10)
    else:
        assert gw is None and gb is None


@pytest.mark.skipif("c" not in K.ENGINES, reason="the C engine is not built")
@pytest.mark.parametrize("shape", [(64, 32, 28 * 28), (4096, 3, 1), (50, 2000, 1), (7, 5, 33)], ids=str)
def test_batch_norm_bitwise_same_for_1_2_3_threads(shape, rng, fastnn_threads):
    k = K.ENGINES["c"]
    x = _x(rng, shape, np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    C = shape[1]
    a, b, c = rng.standard_normal(C), rng.standard_normal(C), rng.standard_normal(C)
    runs = []
    for nt in (1, 2, 3):
        fastnn_threads(nt)
        mean, var = k["stats"](x)
        runs.append((mean, var, k["affine"](x, mean, a, c), *k["bwd_sums"](g, x, mean),
                     k["bwd_affine"](g, x, mean, a, b, c)))
    for other in runs[1:]:
        for u, v in zip(runs[0], other):
            assert np.array_equal(u, v)


@pytest.mark.skipif("c" not in K.ENGINES, reason="the C engine is not built")
@pytest.mark.parametrize("shape", [(4096, 1024), (300, 77), (5, 70000)], ids=str)
def test_layer_norm_bitwise_same_for_1_2_3_threads(shape, rng, fastnn_threads):
    k = K.ENGINES["c"]
    x = _x(rng, shape, np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    w, b = rng.standard_normal(shape[1]).astype(np.float32), rng.standard_normal(shape[1]).astype(np.float32)
    runs = []
    for nt in (1, 2, 3):
        fastnn_threads(nt)
        y, mean, rstd = k["ln_fwd"](x, w, b, 1e-5)
        runs.append((y, mean, rstd, *k["ln_bwd"](g, x, w, mean, rstd, True, True)))
    for other in runs[1:]:
        for u, v in zip(runs[0], other):
            assert np.array_equal(u, v)


def test_kernels_propagate_nan():
    x = np.ones((4, 2, 20), np.float32)
    x[1, 0, 3] = np.nan
    mean, var = K.batch_norm_stats(x)
    assert np.isnan(mean[0]) and np.isnan(var[0]) and not np.isnan(mean[1])
    y = F.batch_norm(x, None, None, training=True).numpy()
    assert np.isnan(y[:, 0]).all() and not np.isnan(y[:, 1]).any()
    z = F.layer_norm(np.array([[1.0, np.nan], [1.0, 2.0]], np.float32), 2).numpy()
    assert np.isnan(z[0]).all() and not np.isnan(z[1]).any()


@pytest.mark.skipif("c" not in K.ENGINES, reason="the C engine is not built")
def test_c_wrapper_refuses_other_dtypes():
    from fastnn._kernels import _cnorm
    x = np.zeros((2, 3, 4), np.float16)
    with pytest.raises(TypeError, match="float32 or float64"):
        _cnorm.bn_reduce(x, None, 2, 3, 4, np.zeros(3), 0, 1)
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(TypeError, match="dtype"):
        _cnorm.ln_fwd(x, np.zeros((2, 3), np.float64), 2, 3, None, None, 1e-5, 1)


# --- modules against torch ----------------------------------------------------------------------
def _bn_pair(torch, cls, C, **kw):
    f = getattr(fn.nn, cls)(C, **kw)
    t = getattr(torch.nn, cls)(C, **kw)
    rng = np.random.default_rng(C)
    if f.affine:
        w, b = rng.standard_normal(C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
        f.weight.data[...] = w
        f.bias.data[...] = b
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(w))
            t.bias.copy_(torch.from_numpy(b))
    return f, t


def _check_same(f, t, x, g, torch, train_params=True):
    xf = fn.Tensor(x.copy(), requires_grad=True)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    yf, yt = f(xf), t(xt)
    np.testing.assert_allclose(yf.numpy(), yt.detach().numpy(), rtol=1e-5, atol=2e-5)
    yf.backward(g)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xf.grad, xt.grad.numpy(), rtol=1e-4, atol=2e-5)
    if train_params and f.weight is not None:
        np.testing.assert_allclose(f.weight.grad, t.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(f.bias.grad, t.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
        f.zero_grad()
        t.zero_grad()
    for name, buf in t.named_buffers():
        np.testing.assert_allclose(getattr(f, name), buf.numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=name)


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (8, 5)), ("BatchNorm1d", (4, 5, 6)),
                                       ("BatchNorm2d", (4, 5, 6, 7)),
                                       ("BatchNorm3d", (2, 5, 3, 4, 2))])
@pytest.mark.parametrize("kw", [{}, {"momentum": None}, {"momentum": 0.3, "eps": 1e-3},
                                {"affine": False}, {"track_running_stats": False}], ids=str)
def test_batch_norm_module_matches_torch_over_train_and_eval(torch, cls, shape, kw, rng):
    f, t = _bn_pair(torch, cls, shape[1], **kw)
    for step in range(3):            # training steps update the running statistics
        x = _x(rng, shape, np.float32, shift=step)
        _check_same(f, t, x, rng.standard_normal(shape).astype(np.float32), torch)
    f.eval()
    t.eval()
    x = _x(rng, shape, np.float32, shift=5.0)
    _check_same(f, t, x, rng.standard_normal(shape).astype(np.float32), torch)
    f.train()
    t.train()
    _check_same(f, t, x, rng.standard_normal(shape).astype(np.float32), torch)
    if f.track_running_stats:
        assert int(f.num_batches_tracked) == int(t.num_batches_tracked) == 4


def test_batch_norm_state_dict_matches_torch_keys_and_loads(torch, rng):
    f, t = _bn_pair(torch, "BatchNorm2d", 3)
    assert list(f.state_dict()) == list(t.state_dict())
    t.train()
    t(torch.from_numpy(_x(rng, (4, 3, 5, 5), np.float32)))
    f.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    f.eval()
    t.eval()
    x = _x(rng, (2, 3, 5, 5), np.float32)
    np.testing.assert_allclose(f(x).numpy(), t(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_batch_norm_module_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 2D input"):
        fn.nn.BatchNorm2d(3)(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D"):
        fn.nn.BatchNorm1d(3)(np.zeros((4, 3, 2, 2), np.float32))
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        fn.nn.BatchNorm1d(0)
    with pytest.raises(ValueError, match="fastnn runs on the CPU only"):
        fn.nn.BatchNorm1d(3, device="cuda")


def test_batch_norm_float64_module():
    bn = fn.nn.BatchNorm1d(3, dtype=np.float64)
    y = bn(np.random.default_rng(0).standard_normal((5, 3)))
    assert y.dtype == np.float64 and bn.running_mean.dtype == np.float64


@pytest.mark.keras
def test_keras_momentum_convention_matches_keras_batch_normalization(keras, rng):
    """Keras: moving = moving * m + batch * (1 - m), biased batch variance."""
    layer = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    x = _x(rng, (16, 4), np.float32)
    layer.build((None, 4))
    rm, rv = np.zeros(4, np.float32), np.ones(4, np.float32)
    for step in range(3):
        xs = x + step
        yk = keras.ops.convert_to_numpy(layer(xs, training=True))
        yf = F.batch_norm(xs, rm, rv, training=True, momentum=1 - 0.9, eps=1e-3,
                          unbiased_running_var=False).numpy()
        np.testing.assert_allclose(yf, yk, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rm, keras.ops.convert_to_numpy(layer.moving_mean), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv, keras.ops.convert_to_numpy(layer.moving_variance), rtol=1e-5, atol=1e-6)
    yk = keras.ops.convert_to_numpy(layer(x, training=False))
    np.testing.assert_allclose(F.batch_norm(x, rm, rv, eps=1e-3).numpy(), yk, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape,ns,kw", [((4, 6), 6, {}), ((2, 3, 4, 5), (4, 5), {"eps": 1e-3}),
                                         ((3, 7), 7, {"elementwise_affine": False}),
                                         ((3, 7), 7, {"bias": False})], ids=str)
def test_layer_norm_module_matches_torch(torch, shape, ns, kw, rng):
    f, t = fn.nn.LayerNorm(ns, **kw), torch.nn.LayerNorm(ns, **kw)
    if f.weight is not None:
        w = rng.standard_normal(f.weight.shape).astype(np.float32)
        f.weight.data[...] = w
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(w))
    x = _x(rng, shape, np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    xf, xt = fn.Tensor(x, requires_grad=True), torch.from_numpy(x.copy()).requires_grad_(True)
    yf, yt = f(xf), t(xt)
    np.testing.assert_allclose(yf.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    yf.backward(g)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xf.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), (_, q) in zip(f.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name)
    assert list(f.state_dict()) == list(t.state_dict())


# --- embedding ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 1}, {"padding_idx": -2},
                                {"scale_grad_by_freq": True}, {"max_norm": 1.0},
                                {"max_norm": 0.5, "norm_type": 1.0}], ids=str)
def test_embedding_module_matches_torch(torch, kw, rng):
    f, t = fn.nn.Embedding(10, 4, **kw), torch.nn.Embedding(10, 4, **kw)
    w = rng.standard_normal((10, 4)).astype(np.float32)
    f.weight.data[...] = w
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(w))
    idx = np.array([[1, 2, 4, 5], [4, 3, 2, 9], [1, 1, 1, 0]])
    yf, yt = f(fn.tensor(idx)), t(torch.from_numpy(idx))
    np.testing.assert_allclose(yf.numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(f.weight.numpy(), t.weight.detach().numpy(), rtol=1e-6, atol=1e-6)
    g = rng.standard_normal(yf.shape).astype(np.float32)
    yf.backward(g)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(f.weight.grad, t.weight.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_embedding_init_and_padding_row(torch):
    fn.manual_seed(0)
    e = fn.nn.Embedding(1000, 8, padding_idx=3)
    assert np.all(e.weight.numpy()[3] == 0)
    w = np.delete(e.weight.numpy(), 3, axis=0)
    assert abs(w.mean()) < 0.05 and abs(w.std() - 1) < 0.05     # N(0, 1), as torch


def test_embedding_from_pretrained_freezes():
    e = fn.nn.Embedding.from_pretrained(np.eye(3, dtype=np.float32))
    assert not e.weight.requires_grad
    e2 = fn.nn.Embedding.from_pretrained(np.eye(3, dtype=np.float32), freeze=False)
    out = e2(fn.tensor([2, 2]))
    out.sum().backward()
    np.testing.assert_array_equal(e2.weight.grad, [[0, 0, 0], [0, 0, 0], [2, 2, 2]])


def test_embedding_errors():
    with pytest.raises(IndexError, match="index 10 is out of range"):
        fn.nn.Embedding(10, 2)(fn.tensor([10]))
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        fn.nn.Embedding(10, 2, padding_idx=10)
