"""Every dtype works or is refused at the boundary (fastnn._checks' dtype policy),
swept with hypothesis over dtypes x byte orders x memory layouts x sizes:

* every row of the op table (tests/ops_table.py) with a reference: its inputs drawn in
  float16, bfloat16 (where ml_dtypes registers it), float32, float64 or a byte-swapped
  float, laid out contiguous, strided or Fortran-ordered; the output must match the
  NumPy reference run in float64 on the same (rounded) values, in the input's dtype,
  and gradients must come back in each input's dtype;
* the elementwise activations, the pointwise losses, linear, dropout and pooling at
  sizes 0, 1, around the SIMD width and past the parallel threshold;
* integer, bool and complex inputs to float ops: a TypeError naming the argument.

float16/bfloat16 are computed in float32 and rounded once at the end, so their
tolerance is that final rounding (a few units in their last place).
"""
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastnn as fn
import fastnn.functional as F
from fastnn._kernels import reference as R
from fastnn._kernels import reference_losses as RL
from fastnn._kernels.threads import SERIAL_BELOW
from ops_table import OPS

try:
    import ml_dtypes
    BF16 = [np.dtype(ml_dtypes.bfloat16)]
except ImportError:       # bfloat16 exists only where ml_dtypes registers it
    BF16 = []

FLOATS = [np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64),
          np.dtype(">f4"), np.dtype(">f8")] + BF16
LAYOUTS = ["contiguous", "strided", "fortran"]
SIZES = [0, 1, 7, 8, 9, 31, 32, 33, SERIAL_BELOW + 5]
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
SIZE_SETTINGS = settings(SETTINGS, max_examples=40)     # more combinations, cheap calls


def _low(dtype):
    return dtype.name in ("float16", "bfloat16")


def _tol(dtype, row=None):
    """(rtol, atol relative to the output's scale) for results in ``dtype``."""
    if dtype.name == "float16":
        return 4e-3, 4e-3
    if dtype.name == "bfloat16":
        return 3e-2, 3e-2
    if dtype.itemsize == 4:
        return (row.rtol, row.atol) if row is not None else (1e-5, 1e-6)
    return (getattr(row, "rtol64", 1e-10), getattr(row, "atol64", 1e-12)) if row is not None \
        else (1e-10, 1e-12)


def _laid_out(a, layout):
    """``a``'s values in the given memory layout (a copy; same dtype)."""
    if layout == "strided" and a.ndim and a.size:
        buf = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        view = buf[..., ::2]
        view[...] = a
        return view
    if layout == "fortran" and a.ndim >= 2:
        return np.asfortranarray(a)
    return a.copy()


def _convert(a, dtype, layout):
    return _laid_out(np.asarray(a, np.float64).astype(dtype), layout)


def _as64(a):
    return np.asarray(a).astype(np.float64)


def _check_close(got, want, dtype, what, row=None):
    got, want = _as64(got), _as64(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    rtol, atol = _tol(dtype, row)
    scale = max(1.0, float(np.nanmax(np.abs(want)))) if want.size and np.isfinite(want).any() else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * scale, err_msg=what)


def _out_dtype_ok(out, dtype, row_name):
    """The input's dtype (or its native twin); float32 too where that is the anchor's
    rule: Keras computes losses in float32, and Tensor arithmetic on bfloat16 follows
    NumPy's (ml_dtypes') promotion to float32."""
    ok = (dtype, dtype.newbyteorder("="))
    if dtype.name == "bfloat16" or (row_name.startswith("keras_") and
                                    (_low(dtype) or not dtype.isnative)):
        ok += (np.dtype(np.float32),)
    return out.dtype in ok


# --- the op table --------------------------------------------------------------------------
_ROWS = [r for r in OPS if r.reference is not None]


@pytest.mark.parametrize("row", _ROWS, ids=[r.name for r in _ROWS])
@SETTINGS
@given(dtype=st.sampled_from(FLOATS), layout=st.sampled_from(LAYOUTS))
def test_table_op_in_any_float_dtype_and_layout_matches_reference(row, dtype, layout):
    seed = zlib.crc32(row.name.encode())
    arrays = row.make(np.random.default_rng(seed), np.float64)
    floats = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays]
    inputs = [_convert(a, dtype, layout) if f else a for a, f in zip(arrays, floats)]
    tensors = [fn.Tensor(a, requires_grad=(i in row.grad and floats[i]))
               if isinstance(a, np.ndarray) else a for i, a in enumerate(inputs)]
    fn.manual_seed(seed)
    out = row.fn(*tensors, **row.kwargs)
    ref_in = [_as64(a) if f else a for a, f in zip(inputs, floats)]
    expected = row.reference(*ref_in, **row.kwargs)
    got = out.data if isinstance(out, fn.Tensor) else np.asarray(out)
    assert _out_dtype_ok(got, dtype, row.name), f"{row.name}: {dtype} in, {got.dtype} out"
    _check_close(got, expected.data if isinstance(expected, fn.Tensor) else expected,
                 got.dtype if not _low(dtype) else dtype, f"{row.name} ({dtype}, {layout})", row)
    if isinstance(out, fn.Tensor) and out.requires_grad:
        out.backward(np.ones(out.shape, out.dtype))
        for t, f in zip(tensors, floats):
            if isinstance(t, fn.Tensor) and t.requires_grad:
                assert t.grad is not None and t.grad.dtype == t.dtype, \
                    f"{row.name}: gradient {None if t.grad is None else t.grad.dtype} for {t.dtype}"


# --- sizes: elementwise activations, pointwise losses, linear, dropout, pooling ----------
def _unary(f, ref):
    return lambda x: (f(x), ref(_as64(x)))


UNARY = {
    "relu": _unary(F.relu, R.relu_fwd),
    "sigmoid": _unary(F.sigmoid, R.sigmoid_fwd),
    "tanh": _unary(F.tanh, R.tanh_fwd),
    "gelu": _unary(F.gelu, R.gelu_fwd),
    "silu": _unary(F.silu, R.silu_fwd),
    "elu": _unary(F.elu, lambda x: R.elu_fwd(x, 1.0, 1.0, 1.0)),
    "leaky_relu": _unary(lambda x: F.leaky_relu(x, 0.1), lambda x: R.leaky_relu_fwd(x, 0.1)),
    "hardtanh": _unary(F.hardtanh, lambda x: R.hardtanh_fwd(x, -1.0, 1.0)),
    "softplus": _unary(F.softplus, lambda x: R.softplus_fwd(x, 1.0, 20.0)),
    "softmax": _unary(lambda x: F.softmax(x, dim=-1), lambda x: R.softmax_fwd(x, -1)),
    "log_softmax": _unary(lambda x: F.log_softmax(x, dim=-1), lambda x: R.log_softmax_fwd(x, -1)),
}

PAIRS = {
    "mse_loss": (F.mse_loss, "mse"),
    "l1_loss": (F.l1_loss, "l1"),
    "huber_loss": (F.huber_loss, "huber"),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits, "bce_logits"),
}


def _shape(n, layout):
    # 2-D so the Fortran layout differs from C; n elements in all
    return (n, 1) if layout != "fortran" or n < 2 else (1, n) if n % 2 else (2, n // 2)


def _values(n, dtype, layout, seed=0, low=-4.0, high=4.0):
    rng = np.random.default_rng(seed + n)
    x = rng.uniform(low, high, _shape(n, layout))
    return _convert(x, dtype, layout)


@pytest.mark.parametrize("name", sorted(UNARY))
@SIZE_SETTINGS
@given(dtype=st.sampled_from(FLOATS), layout=st.sampled_from(LAYOUTS), n=st.sampled_from(SIZES))
def test_activation_at_every_size_dtype_and_layout(name, dtype, layout, n):
    x = _values(n, dtype, layout)
    out, want = UNARY[name](x)
    assert out.dtype in (dtype, dtype.newbyteorder("=")), f"{name}: {dtype} in, {out.dtype} out"
    _check_close(out.data, want, dtype, f"{name} n={n} ({dtype}, {layout})")


@pytest.mark.parametrize("name", sorted(PAIRS))
@SIZE_SETTINGS
@given(dtype=st.sampled_from(FLOATS), layout=st.sampled_from(LAYOUTS),
       n=st.sampled_from([s for s in SIZES if s]), reduction=st.sampled_from(["none", "mean"]))
def test_pointwise_loss_at_every_size_dtype_and_layout(name, dtype, layout, n, reduction):
    f, op = PAIRS[name]
    x = _values(n, dtype, layout, 1)
    y = _values(n, dtype, layout, 2, 0.0, 1.0)
    out = f(x, y, reduction=reduction)
    want = RL.pointwise(op, _as64(x), _as64(y), 1.0 if op == "huber" else 0.0)[0]
    want = want if reduction == "none" else want.mean()
    assert out.dtype in (dtype, dtype.newbyteorder("="))
    _check_close(out.data, want, dtype, f"{name} n={n} ({dtype}, {layout}, {reduction})")


@SIZE_SETTINGS
@given(dtype=st.sampled_from(FLOATS), layout=st.sampled_from(LAYOUTS),
       rows=st.sampled_from([0, 1, 2, 9, 33]), k=st.sampled_from([1, 7, 8, 9, 33]))
def test_linear_at_every_size_dtype_and_layout(dtype, layout, rows, k):
    rng = np.random.default_rng(rows * 100 + k)
    x = _laid_out(rng.standard_normal((rows, k)).astype(dtype), layout)
    w = _laid_out(rng.standard_normal((5, k)).astype(dtype), layout)
    b = rng.standard_normal(5).astype(dtype)
    out = F.linear(x, w, b)
    assert out.dtype in (dtype, dtype.newbyteorder("="))
    _check_close(out.data, R.linear_fwd(_as64(x), _as64(w), _as64(b)), dtype,
                 f"linear {rows}x{k} ({dtype}, {layout})")
    with fn.no_grad():       # Sequential's no-grad plan: the fused chain or layer by layer
        net = fn.nn.Sequential(fn.nn.Linear(k, 5), fn.nn.ReLU(), fn.nn.Linear(5, 3))
        got = net(x)
    want = R.linear_fwd(np.maximum(R.linear_fwd(_as64(x), _as64(net[0].weight.data),
                                                _as64(net[0].bias.data)), 0),
                        _as64(net[2].weight.data), _as64(net[2].bias.data))
    _check_close(got.data, want, np.dtype(np.float32) if not _low(dtype) else dtype,
                 f"Sequential {rows}x{k} ({dtype}, {layout})")


@SIZE_SETTINGS
@given(dtype=st.sampled_from(FLOATS), layout=st.sampled_from(LAYOUTS), n=st.sampled_from(SIZES))
def test_dropout_at_every_size_dtype_and_layout(dtype, layout, n):
    x = _values(n, dtype, layout, 3)
    y = F.dropout(x, 0.5, generator=7)
    assert y.dtype in (dtype, dtype.newbyteorder("="))
    kept = y.data != 0
    got = _as64(y.data)[kept]
    _check_close(got, 2 * _as64(x)[kept], dtype, f"dropout n={n} ({dtype}, {layout})")
    # the mask does not depend on the dtype: float32 draws the same one
    y32 = F.dropout(_as64(x).astype(np.float32), 0.5, generator=7)
    np.testing.assert_array_equal(kept | (_as64(x) == 0), (y32.data != 0) | (_as64(x) == 0))


@SIZE_SETTINGS
@given(dtype=st.sampled_from(FLOATS), layout=st.sampled_from(["contiguous", "strided"]),
       hw=st.sampled_from([1, 2, 7, 9, 33]))
def test_pooling_and_conv_at_every_size_dtype_and_layout(dtype, layout, hw):
    rng = np.random.default_rng(hw)
    x = _laid_out(rng.standard_normal((2, 3, hw, hw)).astype(dtype), layout)
    x64 = _as64(x)
    k = min(2, hw)
    mp = F.max_pool2d(x, k)
    assert mp.dtype in (dtype, dtype.newbyteorder("="))
    oh = hw // k
    want = x64[:, :, :oh * k, :oh * k].reshape(2, 3, oh, k, oh, k).max(axis=(3, 5))
    _check_close(mp.data, want, dtype, f"max_pool2d {hw} ({dtype}, {layout})")
    ap = F.avg_pool2d(x, k)
    want = x64[:, :, :oh * k, :oh * k].reshape(2, 3, oh, k, oh, k).mean(axis=(3, 5))
    _check_close(ap.data, want, dtype, f"avg_pool2d {hw} ({dtype}, {layout})")
    w = rng.standard_normal((4, 3, k, k)).astype(dtype)
    y = F.conv2d(x, w)
    assert y.dtype in (dtype, dtype.newbyteorder("="))
    cols = np.lib.stride_tricks.sliding_window_view(x64, (k, k), axis=(2, 3))
    want = np.einsum("nchwij,ocij->nohw", cols, _as64(w))
    _check_close(y.data, want, dtype, f"conv2d {hw} ({dtype}, {layout})")


# --- refused dtypes -------------------------------------------------------------------------
REFUSED = [np.dtype(np.int64), np.dtype(np.int8), np.dtype(np.uint16), np.dtype(np.bool_),
           np.dtype(np.complex64)]

FLOAT_OPS = {
    "relu": lambda x: F.relu(x), "sigmoid": lambda x: F.sigmoid(x),
    "softmax": lambda x: F.softmax(x, dim=-1), "gelu": lambda x: F.gelu(x),
    "dropout": lambda x: F.dropout(x, 0.5), "linear": lambda x: F.linear(x, np.ones((2, 4))),
    "mse_loss": lambda x: F.mse_loss(x, np.zeros((3, 4), np.float32)),
    "cross_entropy": lambda x: F.cross_entropy(x, np.zeros(3, np.int64)),
    "conv2d": lambda x: F.conv2d(x.reshape(1, 1, 3, 4), np.ones((1, 1, 2, 2), np.float32)),
    "max_pool2d": lambda x: F.max_pool2d(x.reshape(1, 1, 3, 4), 2),
    "pad": lambda x: F.pad(x, (1, 1)),
}


@pytest.mark.parametrize("name", sorted(FLOAT_OPS))
@pytest.mark.parametrize("dtype", REFUSED, ids=str)
def test_non_float_input_to_a_float_op_is_a_type_error_naming_it(name, dtype):
    x = np.ones((3, 4), dtype)
    with pytest.raises(TypeError, match=rf"{name}:? input.*{dtype}"):
        FLOAT_OPS[name](x)


def test_float16_gradients_flow_back_in_float16():
    x = fn.tensor(np.linspace(-2, 2, 12, dtype=np.float16).reshape(3, 4), requires_grad=True)
    w = fn.tensor(np.ones((2, 4), np.float16), requires_grad=True)
    loss = F.mse_loss(F.linear(F.gelu(x), w), np.zeros((3, 2), np.float16))
    assert loss.dtype == np.float16
    loss.backward()
    assert x.grad.dtype == np.float16 and w.grad.dtype == np.float16
    x32 = fn.tensor(x.data.astype(np.float32), requires_grad=True)
    w32 = fn.tensor(w.data.astype(np.float32), requires_grad=True)
    F.mse_loss(F.linear(F.gelu(x32), w32), np.zeros((3, 2), np.float32)).backward()
    np.testing.assert_allclose(x.grad.astype(np.float32), x32.grad, rtol=4e-3, atol=1e-3)


def test_big_endian_input_gives_the_native_results():
    x = np.random.default_rng(0).standard_normal((4, 5))
    for f in (lambda a: F.mse_loss(a, np.zeros_like(a)), lambda a: F.softmax(a, dim=1),
              lambda a: F.linear(a, np.ones((3, 5), a.dtype))):
        np.testing.assert_array_equal(_as64(f(x.astype(">f8")).data), f(x).data)
