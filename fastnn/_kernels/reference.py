"""Plain NumPy versions of every compiled kernel: the test oracle and the readable spec.

Each function has the same positional signature as its compiled twin and returns a
new array. Backward functions take (u, g): u is the op's input or output (whichever
the compiled backward reads), g the incoming gradient.
"""
import numpy as np


def copy(x):
    return np.array(x, copy=True)


def sigmoid_fwd(x):
    with np.errstate(over="ignore"):
        return (1 / (1 + np.exp(-x))).astype(x.dtype)


def sigmoid_bwd(y, g):
    return g * y * (1 - y)


def tanh_fwd(x):
    return np.tanh(x)


def tanh_bwd(y, g):
    return g * (1 - y * y)


def relu_fwd(x):
    return np.where(x < 0, np.zeros((), x.dtype), x)


def relu_bwd(x, g):
    return np.where(x > 0, g, np.zeros((), g.dtype))


def relu_bwd_from_output(y, g):
    """torch's threshold_backward on the output: zero where y <= 0 (NaN passes g)."""
    return np.where(y <= 0, np.zeros((), g.dtype), g)


# ---- activations (the oracles of elementwise.py and activations.py) -----------------
# Forward functions take x; backward ones (u, g, *params) where u is what the compiled
# backward reads (noted per op). Parameters follow the C kernels' (a, b, c) order.

def _z(x):
    return np.zeros((), x.dtype)


def leaky_relu_fwd(x, a):
    return np.where(x < 0, x * x.dtype.type(a), x)


def leaky_relu_bwd(u, g, a):
    return np.where(u > 0, g, g * g.dtype.type(a))


def hardtanh_fwd(x, a, b):
    lo, hi = x.dtype.type(a), x.dtype.type(b)
    return np.where(x < lo, lo, np.where(x > hi, hi, x))


def hardtanh_bwd(u, g, a, b):
    return np.where((u <= a) | (u >= b), _z(g), g)


def elu_fwd(x, a, b, c):
    """ELU family: scale * (x if x > 0 else alpha * expm1(x * input_scale))."""
    t = x.dtype.type
    return np.where(x > 0, t(b) * x, t(b) * t(a) * np.expm1(np.minimum(x, 0) * t(c)))


def elu_bwd(y, g, a, b, c):
    """From the output y (valid for alpha >= 0)."""
    t = g.dtype.type
    return np.where(y <= 0, g * t(c) * (y + t(a) * t(b)), g * t(b))


def elu_bwd_x(x, g, a, b, c):
    """From the input x."""
    t = g.dtype.type
    with np.errstate(over="ignore"):
        return np.where(x <= 0, g * t(c) * t(a) * t(b) * np.exp(np.minimum(x, 0) * t(c)), g * t(b))


def _erf(x):
    from math import erf
    return np.vectorize(erf, otypes=[np.float64])(x).astype(x.dtype)


def gelu_fwd(x):
    return (0.5 * x * (1 + _erf(x / np.sqrt(2)))).astype(x.dtype)


def gelu_bwd(x, g):
    with np.errstate(over="ignore"):
        pdf = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    return (g * (0.5 * (1 + _erf(x / np.sqrt(2))) + x * pdf)).astype(g.dtype)


_K0, _K1 = np.sqrt(2 / np.pi), 0.044715


def gelu_tanh_fwd(x):
    with np.errstate(over="ignore", invalid="ignore"):
        return (0.5 * x * (1 + np.tanh(_K0 * (x + _K1 * x ** 3)))).astype(x.dtype)


def gelu_tanh_bwd(x, g):
    with np.errstate(over="ignore", invalid="ignore"):
        t = np.tanh(_K0 * (x + _K1 * x ** 3))
        d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _K0 * (1 + 3 * _K1 * x * x)
    return (g * d).astype(g.dtype)


def silu_fwd(x):
    with np.errstate(over="ignore"):
        return (x / (1 + np.exp(-x))).astype(x.dtype)


def silu_bwd(x, g):
    with np.errstate(over="ignore"):
        s = 1 / (1 + np.exp(-x))
    return (g * s * (1 + x * (1 - s))).astype(g.dtype)


def softplus_fwd(x, a, b):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""
    t = x.dtype.type
    bx = x * t(a)
    with np.errstate(over="ignore"):
        return np.where(bx > t(b), x, np.log1p(np.exp(np.minimum(bx, t(b)))) / t(a)).astype(x.dtype)


def softplus_bwd(x, g, a, b):
    t = g.dtype.type
    bx = x * t(a)
    z = np.exp(np.minimum(bx, t(b)))
    return np.where(bx > t(b), g, g * z / (z + 1)).astype(g.dtype)


def softsign_fwd(x):
    """x / (1 + |x|), written as torch writes it (NaN at +-inf, as torch)."""
    with np.errstate(invalid="ignore"):
        return x / (1 + np.abs(x))


def softsign_bwd(x, g):
    """From the input: 1 / (1 + |x|)^2."""
    d = 1 + np.abs(x)
    with np.errstate(over="ignore"):
        return g / (d * d)


def rrelu_noise(x, r):
    return np.where(x <= 0, r, np.ones((), r.dtype))


def mul(u, g):
    return u * g


def softmax_fwd(x, dim=-1):
    m = np.max(x, axis=dim, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    e = np.exp(x - m)
    return e / e.sum(axis=dim, keepdims=True)


def softmax_bwd(y, g, dim=-1):
    return y * (g - (g * y).sum(axis=dim, keepdims=True))


def log_softmax_fwd(x, dim=-1):
    m = np.max(x, axis=dim, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    return x - m - np.log(np.exp(x - m).sum(axis=dim, keepdims=True))


def log_softmax_bwd(y, g, dim=-1):
    return g - np.exp(y) * g.sum(axis=dim, keepdims=True)


def _per_channel(x, w):
    """Per-channel parameter ``w`` shaped to broadcast over dim 1 of x (size 1: a scalar)."""
    w = np.asarray(w, x.dtype)
    return w.reshape((1, -1) + (1,) * (x.ndim - 2)) if w.size > 1 else w.reshape(())


def _sum_to_param(v, x, w):
    """Sum an x-shaped array over everything but the channel dim (to w's shape)."""
    if np.size(w) > 1:
        axes = (0,) + tuple(range(2, x.ndim))
        return v.sum(axis=axes).reshape(np.shape(w))
    return np.asarray(v.sum()).reshape(np.shape(w))


def prelu_fwd(x, w):
    return np.where(x > 0, x, _per_channel(x, w) * x)


def prelu_bwd(x, w, g):
    """Returns (grad_x, grad_w)."""
    a = _per_channel(x, w)
    neg = ~(x > 0)
    gx = np.where(neg, a * g, g)
    gw = _sum_to_param(np.where(neg, g * x, _z(g)), x, w)
    return gx, gw


def srelu_fwd(x, tl, al, tr, ar):
    tl, al, tr, ar = (_per_channel(x, p) for p in (tl, al, tr, ar))
    out = np.where(x >= tr, tr + ar * (x - tr), np.where(x <= tl, tl + al * (x - tl), x))
    # a NaN parameter makes its channel NaN (NaN in, NaN out)
    return np.where(_srelu_nan(tl, al, tr, ar), np.nan, out).astype(out.dtype)


def _srelu_nan(*params):
    bad = np.isnan(params[0])
    for p in params[1:]:
        bad = bad | np.isnan(p)
    return bad


def srelu_bwd(x, tl, al, tr, ar, g):
    """Returns (grad_x, grad_t_left, grad_a_left, grad_t_right, grad_a_right)."""
    params = (tl, al, tr, ar)
    tl_, al_, tr_, ar_ = (_per_channel(x, p) for p in params)
    right = x >= tr_
    left = ~right & (x <= tl_)
    z = _z(g)
    gx = np.where(right, g * ar_, np.where(left, g * al_, g))
    parts = (np.where(left, g * (1 - al_), z), np.where(left, g * (x - tl_), z),
             np.where(right, g * (1 - ar_), z), np.where(right, g * (x - tr_), z))
    bad = _srelu_nan(tl_, al_, tr_, ar_)
    gx = np.where(bad, np.nan, gx).astype(gx.dtype)
    parts = tuple(np.where(bad, np.nan, v).astype(v.dtype) for v in parts)
    return (gx,) + tuple(_sum_to_param(v, x, p) for v, p in zip(parts, params))


def crelu_fwd(x, dim=1):
    return np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], axis=dim)


def crelu_bwd(x, g, dim=1):
    g1, g2 = np.split(g, 2, axis=dim)
    return np.where(x > 0, g1, _z(g)) - np.where(x < 0, g2, _z(g))


def maxout_fwd(x, pool_size, dim=-1):
    dim = dim % x.ndim
    s = x.shape
    return x.reshape(s[:dim] + (s[dim] // pool_size, pool_size) + s[dim + 1:]).max(axis=dim + 1)


def maxout_bwd(x, g, pool_size, dim=-1):
    """Gradient to the first maximum of each group (np.argmax's choice; NaN wins)."""
    dim = dim % x.ndim
    s = x.shape
    xg = x.reshape(s[:dim] + (s[dim] // pool_size, pool_size) + s[dim + 1:])
    idx = np.expand_dims(np.argmax(xg, axis=dim + 1), dim + 1)
    out = np.zeros(xg.shape, g.dtype)
    np.put_along_axis(out, idx, np.expand_dims(g, dim + 1), axis=dim + 1)
    return out.reshape(s)


def linear_fwd(x, w, b=None, act=None):
    """act(x @ w.T + b), accumulated in float64 (the oracle for _clinear.linear_small)."""
    y = x.astype(np.float64) @ w.astype(np.float64).T
    if b is not None:
        y = y + b
    if act == "relu":
        y = np.where(y < 0, 0.0, y)
    return y.astype(x.dtype)
