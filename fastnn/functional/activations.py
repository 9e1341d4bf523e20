"""Activation functions (same names, arguments and semantics as torch.nn.functional).

Each validates at the boundary (fastnn._checks) and calls one autograd Function
(fastnn.autograd.activations). The result has the input's dtype: float32 and float64
run as they are, float16 and bfloat16 are computed in float32; other dtypes raise
TypeError. ``inplace=True`` overwrites the input's buffer and returns a tensor on
that same buffer.

>>> import fastnn as fn, fastnn.functional as F
>>> F.relu(fn.tensor([-1.0, 0.0, 2.0])).numpy()
array([0., 0., 2.], dtype=float32)
"""
import numpy as np

from .. import _checks
from .. import random as _random
from ..autograd import activations as A
from ..autograd.function import apply_unary as _unary

__all__ = ["relu", "relu6", "leaky_relu", "prelu", "rrelu", "crelu", "srelu", "elu", "selu",
           "celu", "gelu", "silu", "softplus", "softsign", "sigmoid", "tanh", "hardtanh",
           "softmax", "log_softmax", "maxout"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _param(where, name, p, x):
    """A parameter tensor in x's dtype (arrays are cast; see _checks.float_param)."""
    return _checks.float_param(where, name, p, x.data.dtype)


def relu(x, inplace=False):
    """max(x, 0); the gradient at 0 is 0.

    Args:
        x: Tensor or array (float32/float64). inplace: write the result into x.

    Returns:
        Tensor of x's shape and dtype.

    Raises:
        TypeError: for a non-float input.

    >>> import fastnn.functional as F
    >>> F.relu([-1.0, 3.0]).numpy()
    array([0., 3.], dtype=float32)
    """
    if not inplace:
        y = _unary(A.ReLU, x)       # a float32/float64 Tensor: the shortest path
        if y is not None:
            return y
    x, back = _checks.float_input("relu", "input", x, inplace)
    return back(A.ReLU.apply(x, True) if inplace else A.ReLU.apply(x))


def relu6(x, inplace=False):
    """min(max(x, 0), 6); gradient 0 at 0 and at 6.

    >>> import fastnn.functional as F
    >>> F.relu6([-1.0, 3.0, 9.0]).numpy()
    array([0., 3., 6.], dtype=float32)
    """
    x, back = _checks.float_input("relu6", "input", x, inplace)
    return back(A.Hardtanh.apply(x, min_val=0.0, max_val=6.0, inplace=bool(inplace)))


def hardtanh(x, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp to [min_val, max_val]; gradient 0 at and beyond the bounds.

    Raises:
        ValueError: when min_val > max_val.

    >>> import fastnn.functional as F
    >>> F.hardtanh([-3.0, 0.5, 3.0]).numpy()
    array([-1. ,  0.5,  1. ], dtype=float32)
    """
    lo, hi = _checks.real("hardtanh", "min_val", min_val), _checks.real("hardtanh", "max_val", max_val)
    if lo > hi:
        raise ValueError(f"hardtanh: min_val must be <= max_val, got min_val={lo}, max_val={hi}.")
    x, back = _checks.float_input("hardtanh", "input", x, inplace)
    return back(A.Hardtanh.apply(x, min_val=lo, max_val=hi, inplace=bool(inplace)))


def leaky_relu(x, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x; the gradient at 0 is negative_slope.

    >>> import fastnn.functional as F
    >>> F.leaky_relu([-2.0, 2.0], 0.1).numpy()
    array([-0.2,  2. ], dtype=float32)
    """
    slope = _checks.real("leaky_relu", "negative_slope", negative_slope)
    x, back = _checks.float_input("leaky_relu", "input", x, inplace)
    return back(A.LeakyReLU.apply(x, negative_slope=slope, inplace=bool(inplace)))


def _channels(x):
    return x.shape[1] if x.ndim >= 2 else 1


def prelu(x, weight):
    """x if x > 0 else weight[c] * x, with c the channel (dim 1; one weight may serve all).

    Args:
        x: input (N, C, ...), or any shape with a single weight.
        weight: learnable slopes of size 1 or C.

    Raises:
        ValueError: when weight's size is neither 1 nor the number of channels.

    >>> import fastnn.functional as F
    >>> F.prelu([[-2.0, -2.0]], [0.5, 0.25]).numpy()
    array([[-1. , -0.5]], dtype=float32)
    """
    x, back = _checks.float_input("prelu", "input", x)
    w = _param("prelu", "weight", weight, x)
    c = _channels(x)
    if w.ndim > 1 or w.numel() not in (1, c):
        raise ValueError(f"prelu: weight must have 1 or {c} elements (channels = dim 1 of input "
                         f"shape {x.shape}), got weight of shape {w.shape}.")
    return back(A.PReLU.apply(x, w))


def rrelu(x, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False, generator=None):
    """Randomized leaky ReLU: x if x > 0 else r * x.

    In training r ~ U(lower, upper) is drawn per element from ``generator`` (the default
    generator when None); in eval r = (lower + upper) / 2, as torch.

    Raises:
        ValueError: when lower > upper.

    >>> import fastnn.functional as F
    >>> F.rrelu([-3.0, 1.0], 0.25, 0.75).numpy()
    array([-1.5,  1. ], dtype=float32)
    """
    lo, hi = _checks.real("rrelu", "lower", lower), _checks.real("rrelu", "upper", upper)
    if lo > hi:
        raise ValueError(f"rrelu: lower must be <= upper, got lower={lo}, upper={hi}.")
    x, back = _checks.float_input("rrelu", "input", x, inplace)
    if not training:
        return back(A.LeakyReLU.apply(x, negative_slope=(lo + hi) / 2, inplace=bool(inplace)))
    gen = _random.resolve(generator)
    dt = x.data.dtype
    slopes = gen.numpy.random(x.shape, dtype=dt)
    slopes *= dt.type(hi - lo)
    slopes += dt.type(lo)
    return back(A.RReLU.apply(x, slopes, inplace=bool(inplace)))


def crelu(x, dim=1):
    """Concatenated ReLU: concat(relu(x), relu(-x)) along ``dim`` (doubling its size).

    >>> import fastnn.functional as F
    >>> F.crelu([[1.0, -2.0]]).numpy()
    array([[1., 0., 0., 2.]], dtype=float32)
    """
    x, back = _checks.float_input("crelu", "input", x)
    if x.ndim == 0:
        raise ValueError("crelu: expected an input with at least 1 dimension, got a scalar.")
    return back(A.CReLU.apply(x, dim=_checks.dim("crelu", "dim", dim, x.ndim)))


def srelu(x, t_left, a_left, t_right, a_right):
    """S-shaped ReLU with learnable per-channel (dim 1) thresholds and slopes.

    y = t_right + a_right (x - t_right)  for x >= t_right
    y = x                               for t_left < x < t_right
    y = t_left + a_left (x - t_left)     for x <= t_left

    Args:
        x: input (N, C, ...). t_left, a_left, t_right, a_right: size 1 or C each.

    Raises:
        ValueError: when a parameter's size is neither 1 nor the number of channels.

    >>> import fastnn.functional as F
    >>> F.srelu([[-2.0, 0.5, 3.0]], 0.0, 0.1, 1.0, 2.0).numpy()
    array([[-0.2,  0.5,  5. ]], dtype=float32)
    """
    x, back = _checks.float_input("srelu", "input", x)
    c = _channels(x)
    ps = []
    for name, p in (("t_left", t_left), ("a_left", a_left), ("t_right", t_right), ("a_right", a_right)):
        p = _param("srelu", name, p, x)
        if p.ndim > 1 or p.numel() not in (1, c):
            raise ValueError(f"srelu: {name} must have 1 or {c} elements (channels = dim 1 of "
                             f"input shape {x.shape}), got shape {p.shape}.")
        ps.append(p)
    return back(A.SReLU.apply(x, *ps))


def elu(x, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1).

    >>> import fastnn.functional as F
    >>> F.elu([0.0, 2.0]).numpy()
    array([0., 2.], dtype=float32)
    """
    a = _checks.real("elu", "alpha", alpha)
    x, back = _checks.float_input("elu", "input", x, inplace)
    return back(A.ELU.apply(x, alpha=a, scale=1.0, input_scale=1.0, inplace=bool(inplace)))


def selu(x, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants (alpha≈1.6733, scale≈1.0507).

    >>> import fastnn.functional as F
    >>> F.selu([1.0]).numpy()
    array([1.050701], dtype=float32)
    """
    x, back = _checks.float_input("selu", "input", x, inplace)
    return back(A.ELU.apply(x, alpha=_SELU_ALPHA, scale=_SELU_SCALE, input_scale=1.0,
                            inplace=bool(inplace)))


def celu(x, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x / alpha) - 1).

    Raises:
        ValueError: when alpha is 0.

    >>> import fastnn.functional as F
    >>> F.celu([1.0], alpha=2.0).numpy()
    array([1.], dtype=float32)
    """
    a = _checks.real("celu", "alpha", alpha)
    if a == 0:
        raise ValueError("celu: alpha must be non-zero (it divides x), got 0.")
    x, back = _checks.float_input("celu", "input", x, inplace)
    return back(A.ELU.apply(x, alpha=a, scale=1.0, input_scale=1.0 / a, inplace=bool(inplace)))


def gelu(x, approximate="none"):
    """x * Φ(x) (Φ: standard normal CDF); approximate='tanh' uses
    0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).

    Raises:
        ValueError: for approximate other than 'none' or 'tanh'.

    >>> import fastnn.functional as F
    >>> F.gelu([0.0, 10.0]).numpy()
    array([ 0., 10.], dtype=float32)
    """
    _checks.option("gelu", "approximate", approximate, ("none", "tanh"))
    x, back = _checks.float_input("gelu", "input", x)
    return back(A.GELU.apply(x, approximate=approximate))


def silu(x, inplace=False):
    """x * sigmoid(x) (swish).

    >>> import fastnn.functional as F
    >>> F.silu([0.0]).numpy()
    array([0.], dtype=float32)
    """
    x, back = _checks.float_input("silu", "input", x, inplace)
    return back(A.SiLU.apply(x, inplace=bool(inplace)))


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta; x itself where beta x > threshold.

    Raises:
        ValueError: when beta is 0.

    >>> import fastnn.functional as F
    >>> F.softplus([0.0, 30.0]).numpy()
    array([ 0.6931472, 30.       ], dtype=float32)
    """
    b = _checks.real("softplus", "beta", beta)
    t = _checks.real("softplus", "threshold", threshold)
    if b == 0:
        raise ValueError("softplus: beta must be non-zero (it divides the result), got 0.")
    x, back = _checks.float_input("softplus", "input", x)
    return back(A.Softplus.apply(x, beta=b, threshold=t))


_Softsign = A.pointwise("softsign")     # backward from the input: 1 / (1 + |x|)^2


def softsign(x):
    """x / (1 + |x|).

    >>> import fastnn.functional as F
    >>> F.softsign([-3.0, 0.0, 1.0]).numpy()
    array([-0.75,  0.  ,  0.5 ], dtype=float32)
    """
    x, back = _checks.float_input("softsign", "input", x)
    return back(_Softsign.apply(x))


def sigmoid(x):
    """1 / (1 + exp(-x)).

    >>> import fastnn.functional as F
    >>> F.sigmoid([0.0]).numpy()
    array([0.5], dtype=float32)
    """
    y = _unary(A.Sigmoid, x)
    if y is not None:
        return y
    x, back = _checks.float_input("sigmoid", "input", x)
    return back(A.Sigmoid.apply(x))


def tanh(x):
    """Hyperbolic tangent.

    >>> import fastnn.functional as F
    >>> F.tanh([0.0]).numpy()
    array([0.], dtype=float32)
    """
    y = _unary(A.Tanh, x)
    if y is not None:
        return y
    x, back = _checks.float_input("tanh", "input", x)
    return back(A.Tanh.apply(x))


def _softmax_input(x, dim, dtype, where):
    """(x for the kernels, back, the dim): ``dtype`` casts the input first (as torch,
    differentiably); dim None is torch's legacy implicit choice, with its warning."""
    if dtype is not None:
        dt = np.dtype(dtype)
        if not _checks.is_float(dt):
            raise _checks.error(TypeError, where, "dtype", "a floating point dtype", f"{dt}")
        x = _checks.tensor(where, "input", x).to(dt)
    x, back = _checks.float_input(where, "input", x)
    if dim is None:
        dim = _implicit_softmax_dim(x.ndim)
    return x, back, _checks.dim(where, "dim", dim, x.ndim)


def _implicit_softmax_dim(ndim):
    # torch's legacy rule for dim=None, with torch's deprecation warning
    import warnings
    warnings.warn("Implicit dimension choice for softmax has been deprecated. "
                  "Change the call to include dim=X as an argument.", stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(x, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, computed stably (max subtracted first).

    Args:
        x: float tensor. dim: the axis (None: torch's legacy implicit choice, with its
            deprecation warning). dtype: cast the input to this dtype first (as torch).

    Raises:
        ValueError: when dim is out of range.

    >>> import fastnn as fn, fastnn.functional as F
    >>> F.softmax([[1e4, 1e4]], dim=1).numpy()
    array([[0.5, 0.5]], dtype=float32)
    >>> F.softmax(fn.tensor([[0.0, 1.0]]), dim=1, dtype=fn.float64).dtype
    dtype('float64')
    """
    x, back, d = _softmax_input(x, dim, dtype, "softmax")
    return back(A.Softmax.apply(x, dim=d))


def log_softmax(x, dim=None, _stacklevel=3, dtype=None):
    """x - log(sum(exp(x))) along ``dim``, computed stably (``dim`` and ``dtype`` as softmax).

    Raises:
        ValueError: when dim is out of range.

    >>> import fastnn.functional as F
    >>> F.log_softmax([[0.0, 0.0]], dim=1).numpy()
    array([[-0.6931472, -0.6931472]], dtype=float32)
    """
    x, back, d = _softmax_input(x, dim, dtype, "log_softmax")
    return back(A.LogSoftmax.apply(x, dim=d))


def maxout(x, pool_size, dim=-1):
    """Max over consecutive groups of ``pool_size`` along ``dim`` (which shrinks by that factor).

    The gradient goes to the first maximum of each group.

    Raises:
        ValueError: when pool_size is not a positive int or does not divide x.shape[dim].

    >>> import fastnn.functional as F
    >>> F.maxout([[1.0, 5.0, -2.0, -3.0]], 2).numpy()
    array([[ 5., -2.]], dtype=float32)
    """
    x, back = _checks.float_input("maxout", "input", x)
    pool_size = _checks.positive_int("maxout", "pool_size", pool_size)
    if x.ndim == 0:
        raise ValueError("maxout: expected an input with at least 1 dimension, got a scalar.")
    d = _checks.dim("maxout", "dim", dim, x.ndim)
    if x.shape[d] % pool_size:
        raise ValueError(f"maxout: pool_size={pool_size} does not divide the size {x.shape[d]} of "
                         f"dim {dim} (input shape {x.shape}).")
    return back(A.Maxout.apply(x, pool_size=pool_size, dim=d))
