"""prelu, srelu, crelu and maxout kernels on every engine (C and its Numba twin):
against the NumPy references, bit for bit across 1, 2 and 3 threads, NaN in NaN out,
and the checks of the C binding. The ops through the public API (gradcheck, torch)
are rows of the op table (table_activations.py)."""
import numpy as np
import pytest

from fastnn._kernels import activations as K
from fastnn._kernels import reference as R
from fastnn._kernels import threads

ENGINES = sorted(K.engines())
DTYPES = [np.float32, np.float64]


def _tol(dtype):
    return dict(rtol=2e-6, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


def _x(shape, dtype, rng, nan=True):
    x = rng.standard_normal(shape).astype(dtype)
    x.reshape(-1)[::5] = 0.0                      # the kinks
    if nan:
        x.reshape(-1)[3::17] = np.nan
    return x


def _close(got, want, dtype):
    np.testing.assert_allclose(got, want, **_tol(dtype))
    assert got.dtype == dtype


# (shape, per-channel parameter count): channels on dim 1, or one shared parameter
CHANNEL_CASES = [((4, 3, 5, 2), 3), ((4, 3), 3), ((6, 7), 1), ((2, 5, 33), 5)]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,c", CHANNEL_CASES, ids=[str(c[0]) for c in CHANNEL_CASES])
def test_prelu_matches_reference(shape, c, dtype, engine, rng):
    E = K.engines()[engine]
    x = _x(shape, dtype, rng)
    w = rng.uniform(-0.5, 0.5, c).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    _close(E.prelu_fwd(x, w), R.prelu_fwd(x, w), dtype)
    gx, gw = E.prelu_bwd(x, w, g)
    rgx, rgw = R.prelu_bwd(x, w, g)
    _close(gx, rgx, dtype)
    _close(gw, rgw, dtype)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,c", CHANNEL_CASES, ids=[str(c[0]) for c in CHANNEL_CASES])
def test_srelu_matches_reference(shape, c, dtype, engine, rng):
    E = K.engines()[engine]
    x = 2 * _x(shape, dtype, rng)
    params = (rng.uniform(-1.5, -0.5, c).astype(dtype), rng.uniform(0, 0.3, c).astype(dtype),
              rng.uniform(0.5, 1.5, c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype))
    g = rng.standard_normal(shape).astype(dtype)
    _close(E.srelu_fwd(x, *params), R.srelu_fwd(x, *params), dtype)
    for got, want in zip(E.srelu_bwd(x, *params, g), R.srelu_bwd(x, *params, g)):
        _close(got, want, dtype)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", [((3, 4, 2), 1), ((3, 4), -1), ((5,), 0), ((2, 3, 4), 0)])
def test_crelu_matches_reference(shape, dim, dtype, engine, rng):
    E = K.engines()[engine]
    x = _x(shape, dtype, rng, nan=False)
    y = E.crelu_fwd(x, dim)
    _close(y, R.crelu_fwd(x, dim), dtype)
    g = rng.standard_normal(y.shape).astype(dtype)
    _close(E.crelu_bwd(x, g, dim), R.crelu_bwd(x, g, dim), dtype)
    xn = x.copy()
    xn.reshape(-1)[0] = np.nan
    assert np.isnan(E.crelu_fwd(xn, dim)).sum() == 2        # NaN in, NaN out, both halves


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,pool,dim", [((3, 6), 3, -1), ((2, 4, 3), 2, 1), ((8, 5), 4, 0),
                                            ((2, 6, 5, 3), 3, 1)])
def test_maxout_matches_reference(shape, pool, dim, dtype, engine, rng):
    E = K.engines()[engine]
    x = rng.standard_normal(shape).astype(dtype)
    x.reshape(-1)[::4] = x.reshape(-1)[0]         # ties: the first maximum wins
    y, idx = E.maxout_fwd(x, pool, dim)
    _close(y, R.maxout_fwd(x, pool, dim), dtype)
    g = rng.standard_normal(y.shape).astype(dtype)
    _close(E.maxout_bwd(idx, g, x.shape, pool, dim), R.maxout_bwd(x, g, pool, dim), dtype)
    xn = x.copy()
    xn.reshape(-1)[[1, 2]] = np.nan               # the first NaN of a group wins
    yn, idxn = E.maxout_fwd(xn, pool, dim)
    np.testing.assert_array_equal(np.isnan(yn), np.isnan(R.maxout_fwd(xn, pool, dim)))
    np.testing.assert_allclose(E.maxout_bwd(idxn, g, x.shape, pool, dim),
                               R.maxout_bwd(xn, g, pool, dim), **_tol(dtype))


@pytest.mark.parametrize("engine", ENGINES)
def test_same_bits_with_1_2_and_3_threads(engine, rng, fastnn_threads):
    E = K.engines()[engine]
    shape = (16, 9, 2100)                          # 302k elements: both engines go parallel
    assert np.prod(shape) > 2 * threads.NUMBA_SERIAL_BELOW
    x = _x(shape, np.float32, rng)
    g = rng.standard_normal(shape).astype(np.float32)
    w = rng.uniform(-0.5, 0.5, 9).astype(np.float32)
    ps = [rng.uniform(lo, hi, 9).astype(np.float32) for lo, hi in ((-1, 0), (0, .3), (0, 1), (1, 2))]
    g2 = rng.standard_normal((16, 18, 2100)).astype(np.float32)
    g3 = rng.standard_normal((16, 9, 700)).astype(np.float32)
    runs = []
    for nt in (1, 2, 3):
        fastnn_threads(nt)
        y, idx = E.maxout_fwd(x, 3, -1)
        runs.append((E.prelu_fwd(x, w), *E.prelu_bwd(x, w, g), E.srelu_fwd(x, *ps),
                     *E.srelu_bwd(x, *ps, g), E.crelu_fwd(x, 1), E.crelu_bwd(x, g2, 1),
                     y, idx, E.maxout_bwd(idx, g3, x.shape, 3, -1)))
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


F16 = r"x must be a C-contiguous float32 or float64 array in native byte order, .*float16"


def test_c_binding_refuses_bad_arrays():
    if "c" not in ENGINES:
        pytest.skip("the C extension is not in use")
    from fastnn._kernels import _cactivations as C
    x = np.ones((2, 3, 4), np.float32)
    with pytest.raises(TypeError, match=F16):
        C.prelu_fwd(x.astype(np.float16), np.ones(3, np.float32), x, 1)
    with pytest.raises(ValueError, match=r"parameter 0 must be of shape \(3,\), got shape \(2,\)"):
        C.prelu_fwd(x, np.ones(2, np.float32), np.empty_like(x), 1)
    with pytest.raises(TypeError, match="rows must be a C-contiguous float64 .*float32"):
        C.prelu_bwd(x, np.ones(3, np.float32), x, np.empty_like(x), np.empty((2, 3), np.float32), 1)
    with pytest.raises(ValueError, match=r"out must be of shape \(2, 2, 12\)"):
        C.crelu_fwd(x.reshape(2, 12), np.empty((2, 12), np.float32), 1)
    with pytest.raises(TypeError, match="native byte order, got an array of dtype >f8"):
        C.prelu_fwd(x.astype(np.float64), np.ones(3, ">f8"), np.empty(x.shape), 1)
    with pytest.raises(TypeError, match="idx must be a C-contiguous int32 array.*dtype int64"):
        C.maxout_fwd(x.reshape(2, 3, 2, 2), np.empty((2, 3, 2), np.float32),
                     np.empty((2, 3, 2), np.int64), 1)
    with pytest.raises(TypeError, match="C-contiguous=False"):
        C.srelu_fwd(np.ones((2, 3, 8), np.float32)[:, :, ::2], *[np.ones(3, np.float32)] * 4,
                    np.empty_like(x), 1)
    with pytest.raises(ValueError, match=r"2 indices lie outside \[0, 2\)"):
        idx = np.zeros((1, 2, 3), np.int32)
        idx[0, 0, :2] = 5
        C.maxout_bwd(np.ones((1, 2, 3), np.float32), idx, np.empty((1, 2, 2, 3), np.float32), 1)
