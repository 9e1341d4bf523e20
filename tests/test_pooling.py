"""Pooling kernels on every engine (C and its Numba twin): against the NumPy
references, bit for bit across 1, 2 and 3 threads, NaN and ties, and the checks of
the C binding. The semantics through the public API are in test_conv.py and the op
table (table_conv.py)."""
import numpy as np
import pytest

from fastnn._kernels import pooling as K
from fastnn._kernels import reference_conv as R
from fastnn._kernels import threads

ENGINES = sorted(K.engines())
DTYPES = [np.float32, np.float64]

# (shape, kernel, stride, padding, dilation, ceil_mode); the first two take the C
# engine's 2x2 path, the others the general loop
POOLS = [((2, 3, 6, 8), (2, 2), (2, 2), (0, 0), (1, 1), False),
         ((2, 3, 7, 9), (2, 2), (2, 2), (0, 0), (1, 1), True),
         ((2, 3, 6, 7), (2, 2), (2, 2), (0, 0), (1, 1), False),
         ((1, 2, 7, 5), (3, 3), (2, 2), (1, 1), (1, 1), True),
         ((2, 2, 8, 8), (2, 3), (1, 2), (1, 0), (2, 1), False),
         ((1, 1, 5, 5), (3, 2), (2, 3), (1, 1), (1, 1), True)]
POOL_IDS = ["-".join(map(str, c[0] + c[1] + c[2] + c[3])) + ("-ceil" if c[5] else "") for c in POOLS]


def _out(case):
    shape, k, s, p, d, ceil = case
    return (R.pool_out_size(shape[2], k[0], s[0], p[0], d[0], ceil),
            R.pool_out_size(shape[3], k[1], s[1], p[1], d[1], ceil))


def _tol(dtype):
    return dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


def _input(shape, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    x.reshape(-1)[::7] = x.reshape(-1)[0]       # ties
    x.reshape(-1)[5::31] = np.nan               # NaN wins its window
    return x


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOLS, ids=POOL_IDS)
def test_max_pool_matches_reference(case, dtype, engine, rng):
    E = K.engines()[engine]
    shape, k, s, p, d, ceil = case
    x = _input(shape, dtype, rng)
    oh, ow = _out(case)
    y, idx = E.max_pool2d_fwd(x, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], oh, ow)
    ry, ridx = R.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(idx, ridx)
    g = rng.standard_normal(y.shape).astype(dtype)
    gx = E.max_pool2d_bwd(g, idx, shape)
    want = np.zeros(shape, dtype).reshape(shape[0] * shape[1], -1)
    for row, ii, gg in zip(want, ridx.reshape(len(want), -1), g.reshape(len(want), -1)):
        np.add.at(row, ii, gg)
    np.testing.assert_allclose(gx.reshape(want.shape), want, **_tol(dtype))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOLS, ids=POOL_IDS)
@pytest.mark.parametrize("include_pad,divisor", [(True, 0), (False, 0), (True, 5)])
def test_avg_pool_matches_reference(case, include_pad, divisor, dtype, engine, rng):
    E = K.engines()[engine]
    shape, k, s, p, _, ceil = case
    x = rng.standard_normal(shape).astype(dtype)
    oh, ow = _out(case[:4] + ((1, 1), ceil))
    geom = (k[0], k[1], s[0], s[1], p[0], p[1])
    y = E.avg_pool2d_fwd(x, *geom, oh, ow, include_pad, divisor)
    kw = dict(ceil_mode=ceil, count_include_pad=include_pad, divisor_override=divisor or None)
    np.testing.assert_allclose(y, R.avg_pool2d(x, k, s, p, **kw), **_tol(dtype))
    g = rng.standard_normal(y.shape).astype(dtype)
    gx = E.avg_pool2d_bwd(g, shape, *geom, include_pad, divisor)
    # backward is the adjoint of forward
    np.testing.assert_allclose(np.vdot(gx.astype(np.float64), x), np.vdot(g.astype(np.float64), y),
                               rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", [POOLS[0], POOLS[3]], ids=[POOL_IDS[0], POOL_IDS[3]])
def test_same_bits_with_1_2_and_3_threads(case, engine, rng, fastnn_threads):
    E = K.engines()[engine]
    _, k, s, p, d, ceil = case
    shape = (8, 17, 66, 64)                       # 575k elements: both engines go parallel
    assert np.prod(shape) > 2 * threads.NUMBA_SERIAL_BELOW
    x = _input(shape, np.float32, rng)
    oh = R.pool_out_size(shape[2], k[0], s[0], p[0], d[0], ceil)
    ow = R.pool_out_size(shape[3], k[1], s[1], p[1], d[1], ceil)
    g = rng.standard_normal((shape[0], shape[1], oh, ow)).astype(np.float32)
    runs = []
    for nt in (1, 2, 3):
        fastnn_threads(nt)
        y, idx = E.max_pool2d_fwd(x, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], oh, ow)
        geom = (k[0], k[1], s[0], s[1], p[0], p[1])
        runs.append((y, idx, E.max_pool2d_bwd(g, idx, shape),
                     E.avg_pool2d_fwd(x, *geom, oh, ow, False, 0),
                     E.avg_pool2d_bwd(g, shape, *geom, False, 0)))
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


F16 = r"x must be a C-contiguous float32 or float64 array in native byte order, .*float16"


def test_c_binding_refuses_bad_arrays_and_geometry():
    if "c" not in ENGINES:
        pytest.skip("the C extension is not in use")
    from fastnn._kernels import _cpooling as C
    x = np.ones((2, 6, 6), np.float32)
    y, idx = np.empty((2, 3, 3), np.float32), np.empty((2, 3, 3), np.int64)
    win = (2, 2, 2, 2, 0, 0, 1, 1)
    with pytest.raises(TypeError, match=F16):
        C.max_pool2d_fwd(x.astype(np.float16), y, idx, win, 1)
    with pytest.raises(TypeError, match="y must be a C-contiguous float64 array .*float32"):
        C.max_pool2d_fwd(x.astype(np.float64), y, idx, win, 1)
    with pytest.raises(ValueError, match=r"idx must be of shape \(2, 3, 3\), got .*\(2, 3, 2\)"):
        C.max_pool2d_fwd(x, y, np.empty((2, 3, 2), np.int64), win, 1)
    with pytest.raises(ValueError, match="must be >= 1"):
        C.max_pool2d_fwd(x, y, idx, (2, 2, 2, 2, 0, 0, 0, 1), 1)
    with pytest.raises(ValueError, match="windows that start past the input"):
        C.avg_pool2d_fwd(x, np.empty((2, 9, 9), np.float32), (2, 2, 2, 2, 0, 0), True, 0, 1)
    with pytest.raises(ValueError, match="gx must have 3 dimensions"):
        C.avg_pool2d_bwd(y, x.reshape(2, 36), (2, 2, 2, 2, 0, 0), True, 0, 1)
    with pytest.raises(TypeError, match="C-contiguous=False"):
        C.max_pool2d_fwd(np.ones((2, 6, 12), np.float32)[:, :, ::2], y, idx, win, 1)
    with pytest.raises(TypeError, match="native byte order, got an array of dtype >f4"):
        C.avg_pool2d_fwd(x.astype(">f4"), y, (2, 2, 2, 2, 0, 0), True, 0, 1)
    with pytest.raises(TypeError, match="idx must be a C-contiguous int64 array.*dtype int32"):
        C.max_pool2d_fwd(x, y, idx.astype(np.int32), win, 1)
    bad = np.full((2, 3, 3), 36, np.int64)          # one past a 6x6 plane
    with pytest.raises(ValueError, match="18 indices lie outside their 6x6 plane"):
        C.max_pool2d_bwd(y, bad, np.empty_like(x), 1)
