"""Convolution and pooling beyond the op table: compiled kernels against their NumPy
references, max pooling's indices, NaN and ties, the modules (init, shapes, repr,
errors), and a tiny CNN trained side by side with torch."""
import math

import numpy as np
import pytest

import fastnn as fn
import fastnn.functional as F
from fastnn._kernels import conv as K
from fastnn._kernels import reference_conv as R


def _numpy_openblas():
    """Path of the OpenBLAS that NumPy's wheels ship, or None for another BLAS build."""
    import glob
    import os
    base = os.path.dirname(np.__file__)
    paths = (glob.glob(os.path.join(base, os.pardir, "numpy.libs", "libscipy_openblas64_*"))
             + glob.glob(os.path.join(base, ".dylibs", "libscipy_openblas64_*")))
    return paths[0] if paths else None


def _need_c_engine():
    """The C engine must load wherever NumPy ships its OpenBLAS; elsewhere (another BLAS)
    the fallback engine is all there is, and C-engine tests are skipped."""
    if K._c_engine() is None:
        from fastnn._kernels import engine
        if engine.extension("_cconv") is None:
            pytest.skip(f"the C kernels are off ({engine.failed().get('_cconv')}): twin engine only")
        assert _numpy_openblas() is None, "NumPy ships OpenBLAS, but the conv C engine did not load"
        pytest.skip("NumPy uses another BLAS: the conv C engine is off")

DTYPES = [np.float32, np.float64]


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@pytest.fixture(params=[1, 2], ids=["serial", "2threads"])
def threads(request, fastnn_threads, monkeypatch):
    """Run with 1 and 2 threads; 2 threads with the parallel build forced on small inputs."""
    fastnn_threads(request.param)
    if request.param > 1:
        from fastnn._kernels import threads as T
        monkeypatch.setattr(T, "NUMBA_SERIAL_BELOW", 2)
    return request.param


# --- compiled kernels vs references ---------------------------------------------------------
# (B, C, H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw)
GEOMS = [((2, 3, 6, 7), (3, 3), (1, 1), (1, 1), (1, 1)),
         ((1, 2, 5, 5), (2, 3), (2, 1), (0, 2), (1, 1)),
         ((3, 1, 8, 6), (3, 2), (3, 2), (2, 1), (2, 1)),
         ((2, 4, 4, 4), (1, 1), (1, 1), (0, 0), (1, 1))]


def _geom(shape, k, s, p, d):
    (H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = shape[2:], k, s, p, d
    return (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", GEOMS, ids=[str(g[0]) for g in GEOMS])
def test_im2col_col2im_match_reference(case, dtype, rng, threads):
    shape, (kh, kw), (sh, sw), (ph, pw), (dh, dw) = case
    oh, ow = _geom(*case)
    x = rng.standard_normal(shape).astype(dtype)
    args = (kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    cols = K.im2col(x, *args)
    np.testing.assert_array_equal(cols, R.im2col(x, *args))
    c = rng.standard_normal(cols.shape).astype(dtype)
    np.testing.assert_allclose(K.col2im(c, shape, *args), R.col2im(c, shape, *args), **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [g for g in GEOMS if g[2] == (1, 1)], ids=lambda g: str(g[0]))
def test_stride1_grid_columns_match_reference(case, dtype, rng, threads):
    """im2col_s1 on the zero-padded grid holds the reference columns (at ox < ow)."""
    shape, (kh, kw), _, (ph, pw), (dh, dw) = case
    B, C, H, W = shape
    oh, ow = _geom(*case)
    Hp, Wp = H + 2 * ph, W + 2 * pw
    lg = (oh - 1) * Wp + ow
    x = rng.standard_normal(shape).astype(dtype)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))).reshape(B, C, -1)
    cols = K.im2col_s1(xp, kh, kw, dh, dw, Wp, lg)
    want = R.im2col(x, kh, kw, 1, 1, ph, pw, dh, dw, oh, ow).reshape(-1, B, oh, ow)
    grid = np.zeros((cols.shape[0], B, oh * Wp), dtype)
    grid[:, :, :lg] = cols.reshape(-1, B, lg)
    np.testing.assert_array_equal(grid.reshape(-1, B, oh, Wp)[..., :ow], want)
    # col2im_s1 is its adjoint: <im2col(x), c> == <x, col2im(c)>
    c = rng.standard_normal(cols.shape).astype(np.float64)
    back = K.col2im_s1(c, (B, C, Hp * Wp), kh, kw, dh, dw, Wp, lg)
    np.testing.assert_allclose(np.vdot(cols.astype(np.float64), c), np.vdot(xp, back), rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case,groups", [(g, n) for g in GEOMS for n in (1, 2, g[0][1]) if g[0][1] % n == 0],
                         ids=lambda v: str(v))
@pytest.mark.parametrize("engine", ["c", "numpy"])
def test_conv2d_kernels_match_reference(case, groups, engine, dtype, rng, threads, monkeypatch):
    """Both engines: the C one (per-sample GEMMs in OpenMP) and the NumPy/Numba fallback."""
    shape, k, s, p, d = case
    B, C, H, W = shape
    if engine == "c":
        _need_c_engine()
    monkeypatch.setattr(K, "ENGINE", engine)
    monkeypatch.setattr(K, "CHUNK_BYTES", 1)    # one sample per chunk: the chunk loop runs
    oh, ow = _geom(*case)
    geom = (s[0], s[1], p[0], p[1], d[0], d[1], oh, ow)
    x = rng.standard_normal(shape).astype(dtype)
    O = 2 * groups if groups > 2 else 4
    w = rng.standard_normal((O, C // groups) + k).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    kw = dict(stride=s, padding=p, dilation=d, groups=groups)
    y = K.conv2d_fwd(x, w, b, geom, groups)
    np.testing.assert_allclose(y, R.conv2d(x, w, b, **kw), **_tol(dtype))
    g = rng.standard_normal(y.shape).astype(dtype)
    gx, gw, gb = K.conv2d_bwd(x, w, g, geom, groups)
    # conv is bilinear, so for random probes v, u: <gx, v> = <g, conv(v, w)> and
    # <gw, u> = <g, conv(x, u)>, with the right sides from the float64 reference
    v = rng.standard_normal(x.shape)
    u = rng.standard_normal(w.shape)
    g64, rt = g.astype(np.float64), (1e-4 if dtype == np.float32 else 1e-10)
    np.testing.assert_allclose(np.vdot(gx, v), np.vdot(g64, R.conv2d(v, w.astype(np.float64), **kw)), rtol=rt)
    np.testing.assert_allclose(np.vdot(gw, u), np.vdot(g64, R.conv2d(x.astype(np.float64), u, **kw)), rtol=rt)
    np.testing.assert_allclose(gb, g.sum(axis=(0, 2, 3)), **_tol(dtype))


POOLS = [((2, 3, 6, 7), (2, 2), (2, 2), (0, 0), (1, 1), False),
         ((1, 2, 7, 5), (3, 3), (2, 2), (1, 1), (1, 1), True),
         ((2, 2, 8, 8), (2, 3), (1, 2), (1, 0), (2, 1), False),
         ((1, 1, 5, 5), (3, 2), (2, 3), (1, 1), (1, 1), True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOLS, ids=[str(c[0]) for c in POOLS])
def test_max_pool_kernels_match_reference(case, dtype, rng, threads):
    shape, k, s, p, d, ceil = case
    x = rng.standard_normal(shape).astype(dtype)
    x.reshape(-1)[::7] = x.reshape(-1)[0]       # ties
    oh = R.pool_out_size(shape[2], k[0], s[0], p[0], d[0], ceil)
    ow = R.pool_out_size(shape[3], k[1], s[1], p[1], d[1], ceil)
    y, idx = K.max_pool2d_fwd(x, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], oh, ow)
    ry, ridx = R.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(idx, ridx)
    g = rng.standard_normal(y.shape).astype(dtype)
    gx = K.max_pool2d_bwd(g, idx, shape)
    want = np.zeros(shape, dtype).reshape(shape[0] * shape[1], -1)
    for row, ii, gg in zip(want, ridx.reshape(len(want), -1), g.reshape(len(want), -1)):
        np.add.at(row, ii, gg)
    np.testing.assert_allclose(gx.reshape(want.shape), want, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOLS, ids=[str(c[0]) for c in POOLS])
@pytest.mark.parametrize("include_pad,divisor", [(True, 0), (False, 0), (True, 5)])
def test_avg_pool_kernels_match_reference(case, include_pad, divisor, dtype, rng, threads):
    shape, k, s, p, _, ceil = case
    x = rng.standard_normal(shape).astype(dtype)
    oh = R.pool_out_size(shape[2], k[0], s[0], p[0], 1, ceil)
    ow = R.pool_out_size(shape[3], k[1], s[1], p[1], 1, ceil)
    geom = (k[0], k[1], s[0], s[1], p[0], p[1])
    y = K.avg_pool2d_fwd(x, *geom, oh, ow, include_pad, divisor)
    kw = dict(ceil_mode=ceil, count_include_pad=include_pad, divisor_override=divisor or None)
    np.testing.assert_allclose(y, R.avg_pool2d(x, k, s, p, **kw), **_tol(dtype))
    # backward is the adjoint of forward
    g = rng.standard_normal(y.shape).astype(dtype)
    gx = K.avg_pool2d_bwd(g, shape, *geom, include_pad, divisor)
    np.testing.assert_allclose(np.vdot(gx.astype(np.float64), x), np.vdot(g.astype(np.float64), y),
                               rtol=1e-5 if dtype == np.float32 else 1e-12)


# --- max pooling semantics ----------------------------------------------------------------------
def test_max_pool2d_nan_propagates_and_gets_the_gradient():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    xt = fn.Tensor(x, requires_grad=True)
    y, idx = F.max_pool2d(xt, 2, return_indices=True)
    assert np.isnan(y.data[0, 0, 0, 0]) and not np.isnan(y.data[0, 0, 1]).any()
    assert idx.data[0, 0, 0, 0] == 1
    y.sum().backward()
    assert xt.grad[0, 0, 0, 1] == 1.0 and xt.grad[0, 0, 1, 1] == 0.0


def test_max_pool2d_ties_route_to_first_index():
    xt = fn.Tensor(np.ones((1, 1, 2, 2), np.float64), requires_grad=True)
    y, idx = F.max_pool2d(xt, 2, return_indices=True)
    y.sum().backward()
    assert idx.data.item() == 0
    np.testing.assert_array_equal(xt.grad[0, 0], [[1.0, 0.0], [0.0, 0.0]])


def test_max_pool2d_return_indices_dtype_and_unbatched():
    x = np.random.default_rng(0).standard_normal((3, 6, 6)).astype(np.float32)
    y, idx = F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    assert y.shape == idx.shape == (3, 3, 3) and idx.dtype == np.int64
    np.testing.assert_array_equal(idx.data, R.max_pool2d_indices(x, 3, 2, 1))


def test_max_pool2d_return_indices_match_torch(torch, rng):
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    kw = dict(kernel_size=(3, 2), stride=(2, 1), padding=1, dilation=(1, 2), ceil_mode=True)
    y, idx = F.max_pool2d(x, return_indices=True, **kw)
    ty, tidx = torch.nn.functional.max_pool2d(torch.from_numpy(x), return_indices=True, **kw)
    np.testing.assert_array_equal(y.data, ty.numpy())
    np.testing.assert_array_equal(idx.data, tidx.numpy())


def test_avg_pool2d_nan_propagates():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 3, 3] = np.nan
    y = F.avg_pool2d(x, 2).data
    assert np.isnan(y[0, 0, 1, 1]) and np.isfinite(y.reshape(-1)[:3]).all()


def test_conv2d_nan_propagates():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 0, 0] = np.nan
    y = F.conv2d(x, np.ones((1, 1, 2, 2), np.float32)).data
    assert np.isnan(y[0, 0, 0, 0]) and np.isfinite(y[0, 0, 1:, 1:]).all()


def test_conv2d_weight_dtype_follows_input():
    x = np.ones((1, 2, 4, 4), np.float64)
    w = fn.Tensor(np.ones((3, 2, 3, 3), np.float32), requires_grad=True)
    y = F.conv2d(x, w)
    assert y.dtype == np.float64
    y.sum().backward()
    assert w.grad.dtype == np.float32


def test_conv2d_matches_torch_on_a_multi_chunk_batch(torch, rng):
    """A batch large enough to be split into several chunks, stride 1 padded and strided."""
    x = rng.standard_normal((24, 16, 20, 20)).astype(np.float32)
    w = (rng.standard_normal((32, 16, 3, 3)) * 0.1).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    for kw in (dict(padding=1), dict(stride=2, padding=(1, 0)), dict(padding="same", dilation=2)):
        xt, wt, bt = (fn.Tensor(a, requires_grad=True) for a in (x, w, b))
        y = F.conv2d(xt, wt, bt, **kw)
        tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_(True) for a in (x, w, b))
        ty = torch.nn.functional.conv2d(tx, tw, tb, **kw)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-4, atol=1e-4)
        g = rng.standard_normal(y.shape).astype(np.float32)
        y.backward(g)
        ty.backward(torch.from_numpy(g))
        for ours, theirs in ((xt, tx), (wt, tw), (bt, tb)):
            np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-3, atol=1e-3)


# --- modules ------------------------------------------------------------------------------
def test_conv2d_module_shapes_and_init_bounds():
    m = fn.nn.Conv2d(6, 8, (3, 2), groups=2, generator=0)
    assert m.weight.shape == (8, 3, 3, 2) and m.bias.shape == (8,)
    assert m.weight.dtype == np.float32 and m.weight.data.ctypes.data % 64 == 0
    bound = 1 / math.sqrt(3 * 3 * 2)   # kaiming_uniform(a=√5) gives U(±1/√fan_in)
    assert np.abs(m.weight.data).max() <= bound and np.abs(m.weight.data).max() > 0.8 * bound
    assert np.abs(m.bias.data).max() <= bound
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    m2 = fn.nn.Conv2d(3, 4, 3, bias=False, dtype=np.float64)
    assert m2.bias is None and m2.weight.dtype == np.float64
    assert [n for n, _ in m2.named_parameters()] == ["weight"]


def test_conv2d_module_seeded_init_repeats():
    a = fn.nn.Conv2d(3, 4, 3, generator=fn.Generator(5))
    b = fn.nn.Conv2d(3, 4, 3, generator=fn.Generator(5))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)


def test_module_reprs_match_torch(torch):
    pairs = [(fn.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(3, 4, 3)),
             (fn.nn.Conv2d(4, 4, (3, 2), stride=2, padding=(1, 0), groups=2, bias=False),
              torch.nn.Conv2d(4, 4, (3, 2), stride=2, padding=(1, 0), groups=2, bias=False)),
             (fn.nn.Conv2d(3, 4, 3, padding="same", dilation=2),
              torch.nn.Conv2d(3, 4, 3, padding="same", dilation=2)),
             (fn.nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
             (fn.nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
             (fn.nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
             (fn.nn.AvgPool2d((2, 3), padding=1), torch.nn.AvgPool2d((2, 3), padding=1))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_pool_modules_forward(rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    np.testing.assert_array_equal(fn.nn.MaxPool2d(2)(x).data, R.max_pool2d(x, 2))
    y, idx = fn.nn.MaxPool2d(2, return_indices=True)(x)
    assert idx.dtype == np.int64
    np.testing.assert_allclose(fn.nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x).data,
                               R.avg_pool2d(x, 3, 1, 1, count_include_pad=False), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: fn.nn.Conv2d(3, 4, 3)(np.zeros((5, 5), np.float32)), ValueError,
     r"conv2d: expected 3-D \(C, H, W\) unbatched or 4-D"),
    (lambda: fn.nn.Conv2d(3, 4, 3)(np.zeros((1, 2, 5, 5), np.float32)), ValueError,
     r"expects input with 3 channels .* got input of shape \(1, 2, 5, 5\)"),
    (lambda: fn.nn.Conv2d(3, 4, 3, groups=2), ValueError, r"in_channels \(3\) must be divisible by groups"),
    (lambda: fn.nn.Conv2d(4, 3, 3, groups=2), ValueError, r"out_channels \(3\) must be divisible by groups"),
    (lambda: fn.nn.Conv2d(0, 3, 3), ValueError, r"Conv2d: in_channels must be a positive int, got 0"),
    (lambda: fn.nn.Conv2d(3, 3, 3, stride=2, padding="same"), ValueError,
     r"padding='same' is not supported for strided convolutions"),
    (lambda: fn.nn.Conv2d(3, 3, 3, padding="full"), ValueError, r"padding must be .* got 'full'"),
    (lambda: fn.nn.MaxPool2d(2)(np.zeros((4, 4), np.float32)), ValueError, r"max_pool2d: expected 3-D"),
])
def test_module_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --- a tiny CNN against torch ---------------------------------------------------------------
def _tiny_cnn(nn, **kw):
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, **kw), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, stride=1, **kw), nn.ReLU(), nn.AvgPool2d(2),
                         nn.Flatten(), nn.Linear(6, 3, **kw))


def test_tiny_cnn_trains_like_torch(torch, rng):
    ours = _tiny_cnn(fn.nn, dtype=np.float64)
    theirs = _tiny_cnn(torch.nn).double()
    with torch.no_grad():
        for (_, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            tp.copy_(torch.from_numpy(p.data))
    x = rng.standard_normal((5, 1, 8, 8))
    y = rng.integers(0, 3, 5)
    opt = fn.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    for step in range(4):
        opt.zero_grad()
        topt.zero_grad()
        out = ours(x)
        tout = theirs(torch.from_numpy(x))
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9, atol=1e-11)
        loss = F.cross_entropy(out, y)
        tloss = torch.nn.functional.cross_entropy(tout, torch.from_numpy(y))
        loss.backward()
        tloss.backward()
        assert abs(loss.item() - tloss.item()) < 1e-10
        for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-8, atol=1e-11, err_msg=name)
        opt.step()
        topt.step()
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-8, atol=1e-10, err_msg=name)


def test_tiny_cnn_float32_inference_matches_torch(torch, rng):
    ours = _tiny_cnn(fn.nn).eval()
    theirs = _tiny_cnn(torch.nn).eval()
    with torch.no_grad():
        for (_, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            tp.copy_(torch.from_numpy(p.data))
    x = rng.standard_normal((7, 1, 8, 8)).astype(np.float32)
    with fn.no_grad():
        out = ours(x)
    np.testing.assert_allclose(out.data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_c_engine_restores_the_blas_thread_count(rng, fastnn_threads):
    """The C engine sets OpenBLAS to one thread for its call only."""
    import ctypes
    _need_c_engine()
    get = ctypes.CDLL(_numpy_openblas()).scipy_openblas_get_num_threads64_
    before = get()
    fastnn_threads(2)
    x = rng.standard_normal((8, 16, 32, 32)).astype(np.float32)
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    xt = fn.Tensor(x, requires_grad=True)
    F.conv2d(xt, w, padding=1).sum().backward()
    assert get() == before


def test_c_engine_from_several_python_threads_keeps_the_blas_thread_count(rng, fastnn_threads):
    """Overlapping convs from Python threads: results right, BLAS's thread count intact."""
    import ctypes
    import threading
    _need_c_engine()
    get = ctypes.CDLL(_numpy_openblas()).scipy_openblas_get_num_threads64_
    before = get()
    fastnn_threads(2)
    x = rng.standard_normal((8, 8, 24, 24)).astype(np.float32)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    want = F.conv2d(x, w, padding=1).data
    errors = []

    def work():
        try:
            for _ in range(20):
                xt = fn.Tensor(x, requires_grad=True)
                y = F.conv2d(xt, w, padding=1)
                y.sum().backward()
                np.testing.assert_allclose(y.data, want, rtol=1e-5, atol=1e-5)
        except Exception as e:      # reported below: a failure in a thread must fail the test
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert get() == before
