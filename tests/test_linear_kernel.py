"""The small-batch fused linear kernel (csrc/linear.h) against its NumPy reference,
and when it declines (returns None) so callers take the BLAS path."""
import numpy as np
import pytest

from fastnn._kernels import linear as KL
from fastnn._kernels import reference as ref

DTYPES = [np.float32, np.float64]
ACTS = [None, "relu"]
# (n, k, m): single rows, ragged sizes around the 4-row block, empty dimensions
SHAPES = [(1, 784, 256), (1, 1, 1), (2, 7, 5), (3, 33, 9), (4, 64, 3), (1, 5, 4),
          (16, 32, 10), (0, 8, 3), (2, 0, 3), (2, 8, 0)]


def _tol(dtype, k):
    return dict(rtol=1e-5, atol=1e-5 * max(k, 1) ** 0.5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("act", ACTS, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_reference(shape, dtype, act, bias, rng):
    n, k, m = shape
    x = rng.standard_normal((n, k)).astype(dtype)
    w = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal(m).astype(dtype) if bias else None
    before = (x.copy(), w.copy())
    y = KL.linear_small(x, w, b, KL.ACTIVATIONS[act])
    assert y is not None and y.dtype == dtype and y.shape == (n, m) and y.flags.c_contiguous
    np.testing.assert_allclose(y, ref.linear_fwd(x, w, b, act), **_tol(dtype, k))
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(w, before[1])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_nan_and_inf_propagate(dtype, rng):
    x = rng.standard_normal((1, 9)).astype(dtype)
    w = rng.standard_normal((6, 9)).astype(dtype)
    x[0, 3] = np.nan
    for act in ACTS:
        assert np.isnan(KL.linear_small(x, w, None, KL.ACTIVATIONS[act])).all()
    x[0, 3] = np.inf
    w[:, 3] = np.array([1, -1, 0, 1, -1, 0], dtype)
    y = KL.linear_small(x, w, None, KL.ACTIVATIONS[None])[0]
    assert np.isposinf(y[[0, 3]]).all() and np.isneginf(y[[1, 4]]).all() and np.isnan(y[[2, 5]]).all()
    relu = KL.linear_small(x, w, None, KL.ACTIVATIONS["relu"])[0]
    assert np.isposinf(relu[[0, 3]]).all() and (relu[[1, 4]] == 0).all() and np.isnan(relu[[2, 5]]).all()


def _declines(x, w, b):
    return KL.linear_small(x, w, b, KL.ACTIVATIONS[None]) is None


def test_declines_what_it_cannot_take(rng):
    x = rng.standard_normal((2, 8)).astype(np.float32)
    w = rng.standard_normal((3, 8)).astype(np.float32)
    b = np.zeros(3, np.float32)
    assert not _declines(x, w, b)
    assert _declines(x.astype(np.float64), w, b)                      # mixed dtypes
    assert _declines(x, w, b.astype(np.float64))
    assert _declines(x.astype(np.int64), w.astype(np.int64), None)    # not float
    assert _declines(x.astype(np.float16), w.astype(np.float16), None)
    assert _declines(np.asfortranarray(np.ones((2, 8), np.float32)), w, b)   # strided
    assert _declines(x, np.ones((8, 3), np.float32).T, b)
    assert _declines(x, w, np.zeros(6, np.float32)[::2])
    assert _declines(x[:, :4], w, b)                                  # size mismatch
    assert _declines(x, w, np.zeros(4, np.float32))
    assert _declines(x[0], w, b)                                      # not 2-D
    assert _declines(x, w[None], b)
    assert _declines(x.tolist(), w, b)                                # not an ndarray


def test_declines_large_batches_but_takes_one_row_of_a_big_layer(rng):
    max_work, max_gemv = KL.limits()
    w = np.ones((256, 784), np.float32)
    assert 256 * 784 <= max_gemv
    assert not _declines(np.ones((1, 784), np.float32), w, None)
    assert _declines(np.ones((128, 784), np.float32), w, None)        # a training batch: BLAS
    assert _declines(np.ones((1, 4096), np.float32), np.ones((4096, 4096), np.float32), None)
    n = max_work // (16 * 16)
    assert not _declines(np.ones((n, 16), np.float32), np.ones((16, 16), np.float32), None)
    assert _declines(np.ones((n + 1, 16), np.float32), np.ones((16, 16), np.float32), None)


def test_limits_can_be_changed_and_restored(rng):
    saved = KL.limits()
    try:
        KL.set_limits(0, 0)
        assert _declines(np.ones((1, 2), np.float32), np.ones((3, 2), np.float32), None)
    finally:
        KL.set_limits(*saved)
    assert KL.limits() == saved


class _P:
    """Stands in for a Parameter: linear_chain reads the array from ``.data``."""

    def __init__(self, data):
        self.data = data


def _chain_reference(x, layers):
    for w, b, act in layers:
        x = ref.linear_fwd(x, w, b, act)
    return x


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("sizes", [(784, 256, 128, 10), (5, 3), (7, 1, 9, 2, 4), (3, 0, 4), (6, 6, 6)],
                         ids=str)
@pytest.mark.parametrize("n", [1, 3, 0])
def test_chain_matches_layer_by_layer_reference(n, sizes, dtype, rng):
    x = rng.standard_normal((n, sizes[0])).astype(dtype)
    layers, params = [], []
    for i, (k, m) in enumerate(zip(sizes, sizes[1:])):
        w = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal(m).astype(dtype) if i % 2 == 0 else None
        act = "relu" if i < len(sizes) - 2 else None
        layers.append((w, b, act))
        params.append((_P(w), None if b is None else _P(b), KL.ACTIVATIONS[act]))
    y = KL.linear_chain(x, tuple(params))
    max_work, max_gemv = KL.limits()
    if any(n * k * m > (max_gemv if n == 1 else max_work) for k, m in zip(sizes, sizes[1:])):
        assert y is None        # a layer too big for the serial kernel: the caller runs BLAS
        return
    assert y is not None and y.dtype == dtype and y.shape == (n, sizes[-1])
    np.testing.assert_allclose(y, _chain_reference(x, layers), **_tol(dtype, max(sizes)))


def test_chain_declines_what_it_cannot_take():
    f32 = np.float32
    x = np.ones((1, 4), f32)
    good = (_P(np.ones((3, 4), f32)), _P(np.ones(3, f32)), 0)
    assert KL.linear_chain(x, (good,)) is not None
    nxt = (_P(np.ones((2, 3), f32)), None, 0)
    assert KL.linear_chain(x, (good, nxt)) is not None
    assert KL.linear_chain(x, (good, (_P(np.ones((2, 5), f32)), None, 0))) is None     # sizes do not chain
    assert KL.linear_chain(x, (good, (_P(np.ones((2, 3))), None, 0))) is None          # float64 in a float32 chain
    assert KL.linear_chain(x, (good, (_P(np.ones((2, 3), f32)), _P(np.ones(3, f32)), 0))) is None
    assert KL.linear_chain(x, ((_P(np.ones((4, 3), f32).T), None, 0),)) is None         # strided weight
    assert KL.linear_chain(x.astype(np.float64), (good,)) is None
    assert KL.linear_chain(np.ones((128, 784), f32), ((_P(np.ones((256, 784), f32)), None, 0),)) is None
    assert KL.linear_chain(x, ()) is None
    square = (_P(np.ones((4, 4), f32)), None, 0)
    assert KL.linear_chain(x, (square,) * 32) is not None
    assert KL.linear_chain(x, (square,) * 33) is None                                   # longer than its buffers


def _chain_params(rng, sizes, dtype):
    params = []
    for i, (k, m) in enumerate(zip(sizes, sizes[1:])):
        w = (rng.standard_normal((m, k)) / max(k, 1) ** 0.5).astype(dtype)
        b = rng.standard_normal(m).astype(dtype) if i % 2 == 0 else None
        act = "relu" if i < len(sizes) - 2 else None
        params.append((_P(w), None if b is None else _P(b), KL.ACTIVATIONS[act]))
    return tuple(params)


def _layer_by_layer_blas(x, params):
    """The chain as the one-by-one path runs it: pooled GEMM, then y += b, then ReLU."""
    from fastnn._kernels import gemm
    for w, b, act in params:
        x = gemm.matmul(x, w.data, trans_b=True)
        if b is not None:
            x += b.data
        if act == KL.ACTIVATIONS["relu"]:
            x = np.where(x < 0, x.dtype.type(0), x)     # NaN stays NaN, as in the kernel
    return x


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("n", [1, 23, 24, 191, 192, 193, 1000])
@pytest.mark.parametrize("sizes", [(784, 256, 128, 10), (5, 3), (7, 1, 9, 2, 4)], ids=str)
def test_chain_blocks_bitwise_layer_by_layer_for_every_thread_count(sizes, n, dtype, rng):
    """Blocks of rows through every layer give the bits of the layer-by-layer BLAS path,
    whatever the thread count and wherever the block boundaries fall (a ragged last
    block); NaN in an input row comes out as NaN in that row only."""
    import fastnn as fn
    x = rng.standard_normal((n, sizes[0])).astype(dtype)
    x[n // 2, 0] = np.nan
    params = _chain_params(rng, sizes, dtype)
    want = _layer_by_layer_blas(x, params)
    np.testing.assert_allclose(want, _chain_reference(x, [(w.data, None if b is None else b.data, a and "relu")
                                                          for w, b, a in params]),
                               **_tol(dtype, max(sizes)))
    for threads in (1, 2, 3):
        with fn.threads(threads):
            y = KL.linear_chain_blocks(x, params)
        assert y is not None and y.dtype == dtype and y.shape == (n, sizes[-1])
        np.testing.assert_array_equal(y, want)
    assert np.isnan(y[n // 2]).any() and not np.isnan(np.delete(y, n // 2, axis=0)).any()


def test_chain_blocks_block_size_changes_no_bits(rng):
    x = rng.standard_normal((500, 64)).astype(np.float32)
    params = _chain_params(rng, (64, 48, 10), np.float32)
    old = KL.block_rows()
    try:
        outs = []
        for rows in (24, 96, 480):
            KL.set_block_rows(rows)
            outs.append(KL.linear_chain_blocks(x, params))
    finally:
        KL.set_block_rows(old)
    for y in outs[1:]:
        np.testing.assert_array_equal(y, outs[0])
    with pytest.raises(ValueError, match="multiple of 24"):
        KL.set_block_rows(100)


def test_chain_blocks_declines_what_it_cannot_take():
    f32 = np.float32
    x = np.ones((300, 4), f32)
    good = (_P(np.ones((3, 4), f32)), _P(np.ones(3, f32)), 0)
    assert KL.linear_chain_blocks(x, (good,)) is not None
    assert KL.linear_chain_blocks(x, (good, (_P(np.ones((2, 5), f32)), None, 0))) is None
    assert KL.linear_chain_blocks(x, (good, (_P(np.ones((2, 3))), None, 0))) is None
    assert KL.linear_chain_blocks(x.astype(np.float64), (good,)) is None
    assert KL.linear_chain_blocks(x[:, :3], ((_P(np.ones((3, 3), f32)), None, 0),)) is None   # strided input
    assert KL.linear_chain_blocks(x, ()) is None
    assert KL.linear_chain_blocks(np.ones((5, 0), f32), ((_P(np.ones((3, 0), f32)), None, 0),)) is None
    assert KL.linear_chain_blocks(x, ((_P(np.ones((0, 4), f32)), None, 0),)).shape == (300, 0)


# --- one layer on the pool (Linear's forward) and the fused ReLU's backward -------------

@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("act", ACTS, ids=str)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("n,k,m", [(128, 784, 256), (128, 128, 10), (1, 5, 3), (23, 7, 2),
                                   (1000, 64, 33), (0, 4, 3), (50, 1, 1)], ids=str)
def test_linear_fwd_bitwise_matmul_bias_relu_for_every_thread_count(n, k, m, bias, act, dtype, rng):
    """The pooled layer gives the bits of the pooled GEMM, then y += b, then relu, for
    any thread count; NaN in an input row stays in that row; the reference agrees."""
    import fastnn as fn
    x = rng.standard_normal((n, k)).astype(dtype)
    if n:
        x[n // 2, 0] = np.nan
    w = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal(m).astype(dtype) if bias else None
    code = KL.ACTIVATIONS[act]
    want = _layer_by_layer_blas(x, [(_P(w), None if b is None else _P(b), code)])
    if n:
        np.testing.assert_allclose(np.delete(want, n // 2, axis=0),
                                   np.delete(ref.linear_fwd(x, w, b, act), n // 2, axis=0),
                                   **_tol(dtype, k))
    for threads in (1, 2, 3):
        with fn.threads(threads):
            y = KL.linear_fwd(x, w, b, code)
        assert y is not None and y.dtype == dtype and y.shape == (n, m)
        np.testing.assert_array_equal(y, want)
    if n:
        assert np.isnan(y[n // 2]).all() and not np.isnan(np.delete(y, n // 2, axis=0)).any()


def test_linear_fwd_declines_what_it_cannot_take():
    f32 = np.float32
    x = np.ones((300, 4), f32)
    assert KL.linear_fwd(x, np.ones((3, 4), f32), np.ones(3, f32)) is not None
    assert KL.linear_fwd(x, np.ones((3, 4)), None) is None                 # mixed dtypes
    assert KL.linear_fwd(x, np.ones((3, 4), f32), np.ones(3)) is None
    assert KL.linear_fwd(x, np.ones((3, 5), f32), None) is None            # sizes
    assert KL.linear_fwd(x, np.ones((3, 4), f32), np.ones(2, f32)) is None
    assert KL.linear_fwd(x[:, :2], np.ones((3, 2), f32), None) is None     # strided input
    assert KL.linear_fwd(x, np.ones((4, 3), f32).T, None) is None          # strided weight
    assert KL.linear_fwd(x.astype(np.int32), np.ones((3, 4), np.int32), None) is None
    assert KL.linear_fwd(np.ones((5, 0), f32), np.ones((3, 0), f32), None) is None   # k == 0
    assert KL.linear_fwd(x.reshape(2, 150, 4), np.ones((3, 4), f32), None) is None


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("n,m", [(128, 256), (128, 10), (1, 1), (1000, 70), (3000, 300), (0, 5), (5, 0)],
                         ids=str)
def test_linear_relu_bwd_bitwise_relu_bwd_and_column_sums(n, m, dtype, rng):
    """gm is relu_bwd from the output (NaN in y lets g through, y == 0 stops it) and gb
    the bits of NumPy's gm.sum(axis=0), for any thread count."""
    import fastnn as fn
    from fastnn._kernels import elementwise as E
    y = rng.standard_normal((n, m)).astype(dtype)
    g = (rng.standard_normal((n, m)) * 100).astype(dtype)
    if n and m:
        y[0, 0], g[-1, -1], y[n // 2, m // 2] = np.nan, np.nan, 0
    want = E.relu_bwd(y, g)
    for threads in (1, 2, 3):
        with fn.threads(threads):
            gm, gb = KL.linear_relu_bwd(y, g)
        np.testing.assert_array_equal(gm, want)
        np.testing.assert_array_equal(gb, want.sum(axis=0))
        assert not np.signbit(gb[gb == 0]).any()      # sums start from +0, as NumPy's
    assert KL.linear_relu_bwd(y, g.astype(np.float16)) is None
    if n and m > 1:
        assert KL.linear_relu_bwd(y, g[:, ::-1]) is None                  # strided
    if n > 1:
        assert KL.linear_relu_bwd(y[:1], g) is None                       # shapes differ
