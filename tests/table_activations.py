"""Rows of the op table for activations (see ops_table.py).

Inputs of piecewise ops are kept at least 0.05 away from their kinks (0, thresholds,
clamp bounds, softplus's threshold, maxout ties) so float64 central differences are
exact there.
"""
import numpy as np

import fastnn.functional as F
from fastnn._kernels import reference as R
from ops_table import ErrorCase, Op

_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946, 1.0)


def _away(x, points, margin=0.05):
    """Push values within ``margin`` of any kink in ``points`` out to the margin."""
    x = np.array(x, copy=True)
    for p in points:
        d = x - p
        near = np.abs(d) < margin
        x[near] = p + np.where(d[near] >= 0, margin, -margin)
    return x


def inputs(*shapes, scale=2.0, kinks=(), params=()):
    """make(): normal inputs of ``shapes`` (times scale) away from ``kinks``, then
    the fixed parameter arrays ``params`` (given as float64, cast to dtype)."""
    def make(rng, dtype):
        xs = tuple(_away(scale * rng.standard_normal(s), kinks).astype(dtype) for s in shapes)
        return xs + tuple(np.asarray(p, dtype) for p in params)
    return make


def _torch_F():
    import torch.nn.functional as tF
    return tF


def _t(name, **fixed):
    """A torch.nn.functional callable by name, imported only when called."""
    def call(*args, **kw):
        return getattr(_torch_F(), name)(*args, **{**fixed, **kw})
    call.__name__ = f"torch_{name}"
    return call


def _torch_srelu(x, tl, al, tr, ar):
    import torch
    shape = (1, -1) + (1,) * (x.ndim - 2)
    tl, al, tr, ar = (p.reshape(shape) for p in (tl, al, tr, ar))
    return torch.where(x >= tr, tr + ar * (x - tr), torch.where(x <= tl, tl + al * (x - tl), x))


def _torch_crelu(x, dim=1):
    import torch
    return torch.cat([torch.relu(x), torch.relu(-x)], dim=dim)


def _torch_maxout(x, pool_size, dim=-1):
    d = dim % x.ndim
    return x.unflatten(d, (x.shape[d] // pool_size, pool_size)).max(dim=d + 1).values


def _maxout_make(shape, pool_size, dim):
    """Groups whose members differ by at least 0.1 (no ties within the gradcheck step)."""
    def make(rng, dtype):
        n = int(np.prod(shape))
        x = rng.permutation(n).reshape(shape) * 0.1 - n * 0.05
        return (x.astype(dtype),)
    return make


def _loose64(op, rtol):
    """float64 tolerance against torch (test_ops reads ``rtol64``). celu needs it: torch's
    celu backward passes 1/alpha as a C float (derivatives.yaml: alpha.toFloat()), so its
    float64 gradient is off by ~1e-7 relative; ours keeps the double."""
    op.rtol64 = rtol
    return op


SRELU_PARAMS = ([-0.5, 0.0, -1.0], [0.2, 0.5, -0.1], [0.5, 1.0, 2.0], [1.5, 0.5, 2.0])

OPS = [
    Op("relu", F.relu, R.relu_fwd, inputs((4, 7), kinks=(0,)), torch=_t("relu")),
    Op("relu6", F.relu6, lambda x: np.clip(x, 0, 6), inputs((4, 7), scale=4, kinks=(0, 6)),
       torch=_t("relu6")),
    Op("hardtanh", F.hardtanh, lambda x, min_val, max_val: np.clip(x, min_val, max_val),
       inputs((4, 7), kinks=(-0.5, 1.5)), kwargs=dict(min_val=-0.5, max_val=1.5),
       torch=_t("hardtanh")),
    Op("leaky_relu", F.leaky_relu, lambda x, negative_slope: R.leaky_relu_fwd(x, negative_slope),
       inputs((4, 7), kinks=(0,)), kwargs=dict(negative_slope=0.2), torch=_t("leaky_relu")),
    Op("leaky_relu_negative_slope", F.leaky_relu,
       lambda x, negative_slope: R.leaky_relu_fwd(x, negative_slope),
       inputs((4, 7), kinks=(0,)), kwargs=dict(negative_slope=-0.3), torch=_t("leaky_relu")),
    Op("rrelu_eval", F.rrelu, lambda x, lower, upper: R.leaky_relu_fwd(x, (lower + upper) / 2),
       inputs((4, 7), kinks=(0,)), kwargs=dict(lower=0.1, upper=0.3), torch=_t("rrelu")),
    # random slopes from the default generator: the table driver seeds it before each
    # call, so every gradcheck evaluation draws the same slopes
    Op("rrelu_train", F.rrelu, None, inputs((4, 7), kinks=(0,)),
       kwargs=dict(lower=0.1, upper=0.3, training=True)),
    Op("elu", F.elu, lambda x, alpha: R.elu_fwd(x, alpha, 1.0, 1.0), inputs((4, 7), kinks=(0,)),
       kwargs=dict(alpha=1.3), torch=_t("elu")),
    Op("elu_negative_alpha", F.elu, lambda x, alpha: R.elu_fwd(x, alpha, 1.0, 1.0),
       inputs((4, 7), kinks=(0,)), kwargs=dict(alpha=-0.5), torch=_t("elu")),
    Op("selu", F.selu, lambda x: R.elu_fwd(x, *_SELU), inputs((4, 7), kinks=(0,)),
       torch=_t("selu")),
    _loose64(Op("celu", F.celu, lambda x, alpha: R.elu_fwd(x, alpha, 1.0, 1.0 / alpha),
                inputs((4, 7), kinks=(0,)), kwargs=dict(alpha=0.7), torch=_t("celu")), 1e-6),
    Op("gelu", F.gelu, R.gelu_fwd, inputs((4, 7), scale=3), torch=_t("gelu")),
    Op("gelu_tanh", F.gelu, lambda x, approximate: R.gelu_tanh_fwd(x), inputs((4, 7), scale=3),
       kwargs=dict(approximate="tanh"), torch=_t("gelu")),
    Op("silu", F.silu, R.silu_fwd, inputs((4, 7), scale=4), torch=_t("silu")),
    Op("softplus", F.softplus, lambda x, beta, threshold: R.softplus_fwd(x, beta, threshold),
       inputs((4, 7), scale=3, kinks=(2.5,)), kwargs=dict(beta=2.0, threshold=5.0),
       torch=_t("softplus")),
    Op("softsign", F.softsign, R.softsign_fwd, inputs((4, 7), scale=3), torch=_t("softsign")),
    Op("sigmoid", F.sigmoid, R.sigmoid_fwd, inputs((4, 7), scale=4), torch=_t("sigmoid")),
    Op("tanh", F.tanh, R.tanh_fwd, inputs((4, 7)), torch=_t("tanh")),
    Op("softmax_last", F.softmax, R.softmax_fwd, inputs((3, 6)), kwargs=dict(dim=-1),
       torch=_t("softmax")),
    Op("softmax_dim1_3d", F.softmax, R.softmax_fwd, inputs((2, 4, 3)), kwargs=dict(dim=1),
       torch=_t("softmax")),
    Op("log_softmax_last", F.log_softmax, R.log_softmax_fwd, inputs((3, 6)), kwargs=dict(dim=1),
       torch=_t("log_softmax")),
    Op("log_softmax_dim0", F.log_softmax, R.log_softmax_fwd, inputs((4, 3)), kwargs=dict(dim=0),
       torch=_t("log_softmax")),
    Op("prelu_channels", F.prelu, R.prelu_fwd, inputs((3, 4, 5), kinks=(0,), params=([0.1, -0.2, 0.3, 0.5],)),
       grad=(0, 1), torch=_t("prelu")),
    Op("prelu_shared", F.prelu, R.prelu_fwd, inputs((3, 4), kinks=(0,), params=([0.25],)),
       grad=(0, 1), torch=_t("prelu")),
    Op("srelu", F.srelu, R.srelu_fwd,
       inputs((4, 3, 2), kinks=(-1.0, -0.5, 0.0, 0.5, 1.0, 2.0), params=SRELU_PARAMS),
       grad=(0, 1, 2, 3, 4), torch=_torch_srelu),
    Op("crelu", F.crelu, R.crelu_fwd, inputs((3, 4, 2), kinks=(0,)), kwargs=dict(dim=1),
       torch=_torch_crelu),
    Op("crelu_last", F.crelu, R.crelu_fwd, inputs((3, 4), kinks=(0,)), kwargs=dict(dim=-1),
       torch=_torch_crelu),
    Op("maxout", F.maxout, R.maxout_fwd, _maxout_make((3, 6), 3, -1),
       kwargs=dict(pool_size=3, dim=-1), torch=_torch_maxout),
    Op("maxout_dim1", F.maxout, R.maxout_fwd, _maxout_make((2, 4, 3), 2, 1),
       kwargs=dict(pool_size=2, dim=1), torch=_torch_maxout),
]


_X = np.zeros((2, 3, 4), np.float32)

ERRORS = [
    ErrorCase("gelu_unknown_approximate", lambda: F.gelu(_X, approximate="fast"),
              ValueError, r"approximate must be 'none' or 'tanh', got 'fast'"),
    ErrorCase("prelu_weight_size", lambda: F.prelu(_X, np.ones(5, np.float32)),
              ValueError, r"prelu: weight must have 1 or 3 elements .*shape \(2, 3, 4\).*\(5,\)"),
    ErrorCase("srelu_param_size", lambda: F.srelu(_X, 0.0, np.ones(2), 1.0, 1.0),
              ValueError, r"srelu: a_left must have 1 or 3 elements.*\(2,\)"),
    ErrorCase("maxout_not_divisible", lambda: F.maxout(_X, 3, dim=-1),
              ValueError, r"maxout: pool_size=3 does not divide the size 4 of dim -1"),
    ErrorCase("maxout_bad_pool_size", lambda: F.maxout(_X, 0),
              ValueError, r"pool_size must be a positive int, got 0"),
    ErrorCase("softmax_dim_out_of_range", lambda: F.softmax(_X, dim=3),
              ValueError, r"softmax: dim must be in \[-3, 2\] for an input with 3 dimensions, got 3"),
    ErrorCase("relu_int_input", lambda: F.relu(np.arange(3)),
              TypeError, r"relu: input must be floating point .*, got dtype int64"),
    ErrorCase("hardtanh_bounds", lambda: F.hardtanh(_X, 2.0, 1.0),
              ValueError, r"min_val must be <= max_val"),
    ErrorCase("rrelu_bounds", lambda: F.rrelu(_X, 0.5, 0.1), ValueError, r"lower must be <= upper"),
    ErrorCase("celu_zero_alpha", lambda: F.celu(_X, alpha=0.0), ValueError, r"alpha must be non-zero"),
]
