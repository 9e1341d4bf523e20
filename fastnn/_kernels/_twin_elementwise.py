"""NumPy twin of the C extension ``_celementwise`` (csrc/elementwise.h, softmax.h).

Same names, signatures and results (to round-off) as the compiled module; used by
:mod:`.engine` where the C kernels cannot run. Each op is the C expression written
with NumPy in the array's dtype (parameters cast to it first, as the C loops do), NaN
taking the same branch. The erf-based pair (gelu) runs as Numba loops: NumPy has no
erf. ``nt`` (threads) is accepted and ignored: NumPy's ufuncs are serial.
"""
import numpy as np

from .jit import float_signatures, numba_kernel

HAS_OPENMP = False

_SQRT1_2 = 0.70710678118654752440
_INV_SQRT_2PI = 0.39894228040143267794
_K0, _K1 = 0.79788456080286535588, 0.044715

_NB = "fastnn._kernels._nb_twins"
_gelu_fwd = numba_kernel(_NB, "gelu_fwd", float_signatures("void(T[::1], T[::1])"),
                         twin_of="_celementwise")
_gelu_bwd = numba_kernel(_NB, "gelu_bwd", float_signatures("void(T[::1], T[::1], T[::1])"),
                         twin_of="_celementwise")


def _where(cond, a, b, t):
    return np.where(cond, a, b).astype(t, copy=False)


def _sigmoid(v, t):
    return t(1) / (t(1) + np.exp(-v))


def _gelu_inner(v, t):
    return t(_K0) * (v + t(_K1) * v * v * v)


def _gelu_tanh_deriv(v, t):
    # 1 + tanh(z) and 1 - tanh(z)^2 through e = exp(-2|z|): neither cancels in the tails
    z = _gelu_inner(v, t)
    e = np.exp(t(-2) * np.abs(z))
    r = t(1) / (t(1) + e)
    one_plus_t = t(2) * np.where(z >= 0, t(1), e) * r
    one_minus_t2 = t(4) * e * r * r
    return (t(0.5) * one_plus_t + t(0.5) * v * one_minus_t2 * t(_K0)
            * (t(1) + t(3 * _K1) * v * v))


def _nb_unary(kernel):
    def run(v, a, b, c, t):
        v = np.ascontiguousarray(v).reshape(-1)
        out = np.empty_like(v)
        kernel(v.size, v, out)
        return out
    return run


def _nb_binary(kernel):
    def run(u, g, a, b, c, t):
        u = np.ascontiguousarray(u).reshape(-1)
        g = np.ascontiguousarray(g).reshape(-1)
        out = np.empty_like(u)
        kernel(u.size, u, g, out)
        return out
    return run


# name -> f(v, a, b, c, t): the C table's rows, in its order
_UNARY = {
    "copy": lambda v, a, b, c, t: v.copy(),
    "sigmoid_fwd": lambda v, a, b, c, t: _sigmoid(v, t),
    "tanh_fwd": lambda v, a, b, c, t: np.tanh(v),
    "relu_fwd": lambda v, a, b, c, t: _where(v < 0, t(0), v, t),
    "leaky_relu_fwd": lambda v, a, b, c, t: _where(v < 0, v * a, v, t),
    "hardtanh_fwd": lambda v, a, b, c, t: _where(v < a, a, _where(v > b, b, v, t), t),
    "elu_fwd": lambda v, a, b, c, t: _where(v > 0, b * v, b * a * np.expm1(np.minimum(v, t(0)) * c), t),
    "gelu_fwd": _nb_unary(_gelu_fwd),
    "gelu_tanh_fwd": lambda v, a, b, c, t: t(0.5) * v * (t(1) + np.tanh(_gelu_inner(v, t))),
    "silu_fwd": lambda v, a, b, c, t: v / (t(1) + np.exp(-v)),
    "softplus_fwd": lambda v, a, b, c, t: _where(
        v * a > b, v, np.log1p(np.exp(np.minimum(v * a, b))) / a, t),
    "softsign_fwd": lambda v, a, b, c, t: v / (t(1) + np.abs(v)),
}
# name -> f(u, g, a, b, c, t)
_BINARY = {
    "sigmoid_bwd": lambda u, g, a, b, c, t: g * u * (t(1) - u),
    "tanh_bwd": lambda u, g, a, b, c, t: g * (t(1) - u * u),
    "relu_bwd": lambda u, g, a, b, c, t: _where(u <= 0, t(0), g, t),
    "leaky_relu_bwd": lambda u, g, a, b, c, t: _where(u > 0, g, g * a, t),
    "hardtanh_bwd": lambda u, g, a, b, c, t: _where((u <= a) | (u >= b), t(0), g, t),
    "elu_bwd": lambda u, g, a, b, c, t: _where(u <= 0, g * c * (u + a * b), g * b, t),
    "elu_bwd_x": lambda u, g, a, b, c, t: _where(
        u <= 0, g * c * a * b * np.exp(np.minimum(u, t(0)) * c), g * b, t),
    "gelu_bwd": _nb_binary(_gelu_bwd),
    "gelu_tanh_bwd": lambda u, g, a, b, c, t: g * _gelu_tanh_deriv(u, t),
    "silu_bwd": lambda u, g, a, b, c, t: g * (
        _sigmoid(u, t) * (t(1) + u * (t(1) - _sigmoid(u, t)))),
    "softplus_bwd": lambda u, g, a, b, c, t: _where(
        u * a > b, g, g / (t(1) + np.exp(np.maximum(-u * a, -b))), t),
    "softsign_bwd": lambda u, g, a, b, c, t: g / ((t(1) + np.abs(u)) * (t(1) + np.abs(u))),
    "rrelu_noise": lambda u, g, a, b, c, t: _where(u <= 0, g, t(1), t),
    "mul": lambda u, g, a, b, c, t: u * g,
}
_UNARY_F = list(_UNARY.values())
_BINARY_F = list(_BINARY.values())

UNARY = {name: i for i, name in enumerate(_UNARY)}
BINARY = {name: i for i, name in enumerate(_BINARY)}


def _store(out, r, where="elementwise"):
    r = np.asarray(r)
    if out.size != r.size:     # the C wrappers' size check (_ccheck.same)
        raise ValueError(f"{where}: out must hold {r.size} elements, got shape {out.shape}.")
    np.copyto(out.reshape(-1), np.asarray(r).reshape(-1), casting="unsafe")
    return out


def unary(op, x, out, a, b, c, nt):
    """out[i] = op(x[i]; a, b, c); ``out=None`` returns a new array of x's shape."""
    t = x.dtype.type
    with np.errstate(all="ignore"):
        return _store(np.empty(x.shape, x.dtype) if out is None else out,
                      _UNARY_F[op](x, t(a), t(b), t(c), t), "unary")


def binary(op, u, g, out, a, b, c, nt):
    """out[i] = op(u[i], g[i]; a, b, c); ``out=None`` returns a new array of u's shape."""
    t = u.dtype.type
    with np.errstate(all="ignore"):
        return _store(np.empty(u.shape, u.dtype) if out is None else out,
                      _BINARY_F[op](u, g, t(a), t(b), t(c), t), "binary")


def _row_max(x2):
    # the C max skips NaN (x > m is false); a NaN row still ends NaN through exp's sum
    m = np.fmax.reduce(x2, axis=1, keepdims=True)
    return np.where(np.isinf(m) | np.isnan(m), np.zeros((), x2.dtype), m)


def softmax_rows(x, out, d, log_out, nt):
    """Row-wise (log_)softmax of a C-contiguous array viewed as (size // d, d)."""
    if d <= 0 or x.size == 0:
        return out
    x2 = x.reshape(-1, d)
    with np.errstate(all="ignore"):
        z = x2 - _row_max(x2)
        s = np.exp(z).sum(axis=1, keepdims=True)
        r = z - np.log(s) if log_out else np.exp(z) * (x.dtype.type(1) / s)
    return _store(out, r)


def softmax_bwd_rows(y, g, out, d, log_out, nt):
    """Row-wise gradient of (log_)softmax from its output ``y`` and grad ``g``."""
    if d <= 0 or y.size == 0:
        return out
    y2, g2 = y.reshape(-1, d), g.reshape(-1, d)
    with np.errstate(all="ignore"):
        if log_out:
            r = g2 - np.exp(y2) * g2.sum(axis=1, keepdims=True)
        else:
            r = y2 * (g2 - (g2 * y2).sum(axis=1, keepdims=True))
    return _store(out, r)
