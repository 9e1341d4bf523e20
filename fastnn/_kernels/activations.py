"""Activation kernels that are not one-in-one-out elementwise: softmax/log_softmax
(C, row-parallel), prelu/srelu (per-channel parameters on dim 1), crelu, maxout
(Numba, see _nb_elementwise.py). Each has its NumPy twin in reference.py.

Callers pass float32/float64 arrays of one dtype and valid sizes (checked in
fastnn.functional); nothing here validates.
"""
import numpy as np

from .elementwise import _ce, contiguous   # the C softmax or its twin (engine.py)
from .jit import float_signatures, numba_kernel
from .threads import threads_for

__all__ = ["softmax_fwd", "softmax_bwd", "log_softmax_fwd", "log_softmax_bwd",
           "prelu_fwd", "prelu_bwd", "srelu_fwd", "srelu_bwd", "crelu_fwd", "crelu_bwd",
           "maxout_fwd", "maxout_bwd", "channel_view"]

_NB = "fastnn._kernels._nb_elementwise"
_A3, _A2, _A1 = "T[:, :, ::1]", "T[:, ::1]", "T[::1]"
_I3 = "int32[:, :, ::1]"
_prelu_fwd = numba_kernel(_NB, "prelu_fwd", float_signatures(f"void({_A3}, {_A1}, {_A3})"))
_prelu_bwd = numba_kernel(_NB, "prelu_bwd", float_signatures(
    f"void({_A3}, {_A1}, {_A3}, {_A3}, {_A2})"))
_srelu_fwd = numba_kernel(_NB, "srelu_fwd", float_signatures(
    f"void({_A3}, {_A1}, {_A1}, {_A1}, {_A1}, {_A3})"))
_srelu_bwd = numba_kernel(_NB, "srelu_bwd", float_signatures(
    f"void({_A3}, {_A1}, {_A1}, {_A1}, {_A1}, {_A3}, {_A3}, {_A3})"))
_crelu_fwd = numba_kernel(_NB, "crelu_fwd", float_signatures(f"void({_A2}, {_A3})"))
_crelu_bwd = numba_kernel(_NB, "crelu_bwd", float_signatures(f"void({_A2}, {_A3}, {_A2})"))
_maxout_fwd = numba_kernel(_NB, "maxout_fwd", float_signatures(
    f"void(T[:, :, :, ::1], {_A3}, {_I3})"))
_maxout_bwd = numba_kernel(_NB, "maxout_bwd", float_signatures(
    f"void({_A3}, {_I3}, T[:, :, :, ::1])"))


# ---- softmax ---------------------------------------------------------------------
def _rows(kernel_fwd, x, dim, log_out):
    """Run a last-axis row kernel along ``dim`` (other axes: via a contiguous transpose)."""
    last = dim in (-1, x.ndim - 1) or x.ndim == 0
    xl = contiguous(x if last else np.moveaxis(x, dim, -1))
    out = np.empty(xl.shape, xl.dtype)
    d = xl.shape[-1] if xl.ndim else 1
    _ce.softmax_rows(xl, out, d, log_out, threads_for(xl.size))
    return out if last else np.moveaxis(out, -1, dim)


def _rows_bwd(y, g, dim, log_out):
    last = dim in (-1, y.ndim - 1) or y.ndim == 0
    yl = contiguous(y if last else np.moveaxis(y, dim, -1))
    gl = contiguous(g if last else np.moveaxis(g, dim, -1))
    out = np.empty(yl.shape, yl.dtype)
    d = yl.shape[-1] if yl.ndim else 1
    _ce.softmax_bwd_rows(yl, gl, out, d, log_out, threads_for(yl.size))
    return out if last else np.moveaxis(out, -1, dim)


def softmax_fwd(x, dim=-1):
    """exp(x - max) / sum(exp(x - max)) along ``dim``."""
    return _rows(None, x, dim, False)


def softmax_bwd(y, g, dim=-1):
    """y * (g - sum(g * y)) along ``dim``, from the output y."""
    return _rows_bwd(y, g, dim, False)


def log_softmax_fwd(x, dim=-1):
    """x - max - log(sum(exp(x - max))) along ``dim``."""
    return _rows(None, x, dim, True)


def log_softmax_bwd(y, g, dim=-1):
    """g - exp(y) * sum(g) along ``dim``, from the output y."""
    return _rows_bwd(y, g, dim, True)


# ---- per-channel ops ---------------------------------------------------------------
def channel_view(x, n_params):
    """x as a C-contiguous (N, C, S) array; C = 1 when one parameter serves all channels."""
    x = contiguous(x)
    if n_params == 1:
        lead = x.shape[0] if x.ndim >= 2 else 1
        return x.reshape(lead, 1, -1)
    return x.reshape(x.shape[0], x.shape[1], -1)


def _param(w, dtype):
    return np.ascontiguousarray(np.asarray(w, dtype).reshape(-1))


def prelu_fwd(x, w):
    """x if x > 0 else w[c] * x (c: index on dim 1)."""
    w = _param(w, x.dtype)
    x3 = channel_view(x, w.size)
    out = np.empty(x3.shape, x.dtype)
    _prelu_fwd(x.size, x3, w, out)
    return out.reshape(x.shape)


def prelu_bwd(x, w, g):
    """(grad_x, grad_w) of prelu from its input x."""
    w_shape = np.shape(w)
    w = _param(w, x.dtype)
    x3 = channel_view(x, w.size)
    g3 = channel_view(g, w.size)
    gx = np.empty(x3.shape, x.dtype)
    rows = np.empty(x3.shape[:2], x.dtype)
    _prelu_bwd(x.size, x3, w, g3, gx, rows)
    return gx.reshape(x.shape), rows.sum(axis=0).reshape(w_shape)


def srelu_fwd(x, tl, al, tr, ar):
    """S-shaped ReLU with absolute per-channel thresholds (see fastnn.functional.srelu)."""
    c = max(np.size(p) for p in (tl, al, tr, ar))
    x3 = channel_view(x, c)
    ps = [np.ascontiguousarray(np.broadcast_to(_param(p, x.dtype), (x3.shape[1],)))
          for p in (tl, al, tr, ar)]
    out = np.empty(x3.shape, x.dtype)
    _srelu_fwd(x.size, x3, *ps, out)
    return out.reshape(x.shape)


def srelu_bwd(x, tl, al, tr, ar, g):
    """(grad_x, grad_t_left, grad_a_left, grad_t_right, grad_a_right) from the input x."""
    params = (tl, al, tr, ar)
    c = max(np.size(p) for p in params)
    x3 = channel_view(x, c)
    g3 = channel_view(g, c)
    ps = [np.ascontiguousarray(np.broadcast_to(_param(p, x.dtype), (x3.shape[1],)))
          for p in params]
    gx = np.empty(x3.shape, x.dtype)
    rows = np.empty(x3.shape[:2] + (4,), x.dtype)
    _srelu_bwd(x.size, x3, *ps, g3, gx, rows)
    tot = rows.sum(axis=0)   # (C, 4)
    grads = tuple(tot[:, k].sum() if np.size(p) == 1 and c > 1 else tot[:, k]
                  for k, p in enumerate(params))
    return (gx.reshape(x.shape),) + tuple(np.asarray(gk, x.dtype).reshape(np.shape(p))
                                          for gk, p in zip(grads, params))


# ---- crelu, maxout -----------------------------------------------------------------
def _split(shape, dim):
    outer = int(np.prod(shape[:dim], dtype=np.int64))
    return outer, int(np.prod(shape[dim:], dtype=np.int64))


def crelu_fwd(x, dim=1):
    """concat(relu(x), relu(-x)) along ``dim``."""
    dim = dim % x.ndim
    x = contiguous(x)
    outer, m = _split(x.shape, dim)
    out = np.empty((outer, 2, m), x.dtype)
    _crelu_fwd(x.size, x.reshape(outer, m), out)
    shape = x.shape[:dim] + (2 * x.shape[dim],) + x.shape[dim + 1:]
    return out.reshape(shape)


def crelu_bwd(x, g, dim=1):
    """Gradient of crelu from its input x and the output grad g."""
    dim = dim % x.ndim
    x, g = contiguous(x), contiguous(g)
    outer, m = _split(x.shape, dim)
    gx = np.empty((outer, m), x.dtype)
    _crelu_bwd(x.size, x.reshape(outer, m), g.reshape(outer, 2, m), gx)
    return gx.reshape(x.shape)


def _groups(shape, pool_size, dim):
    outer = int(np.prod(shape[:dim], dtype=np.int64))
    inner = int(np.prod(shape[dim + 1:], dtype=np.int64))
    return outer, shape[dim] // pool_size, pool_size, inner


def maxout_fwd(x, pool_size, dim=-1):
    """(max over consecutive groups of ``pool_size`` along ``dim``, argmax as int32)."""
    dim = dim % x.ndim
    x = contiguous(x)
    o, gr, k, i = _groups(x.shape, pool_size, dim)
    out = np.empty((o, gr, i), x.dtype)
    idx = np.empty((o, gr, i), np.int32)
    _maxout_fwd(x.size, x.reshape(o, gr, k, i), out, idx)
    shape = x.shape[:dim] + (gr,) + x.shape[dim + 1:]
    return out.reshape(shape), idx


def maxout_bwd(idx, g, x_shape, pool_size, dim=-1):
    """Scatter g to the argmax ``idx`` of each group (zeros elsewhere)."""
    dim = dim % len(x_shape)
    o, gr, k, i = _groups(x_shape, pool_size, dim)
    gx = np.empty((o, gr, k, i), g.dtype)
    _maxout_bwd(gx.size, contiguous(g).reshape(o, gr, i), idx, gx)
    return gx.reshape(x_shape)
