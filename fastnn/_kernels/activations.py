"""Activation kernels that are not one-in-one-out elementwise: softmax/log_softmax
(C, row-parallel), prelu/srelu (per-channel parameters on dim 1), crelu, maxout.
Each has its NumPy twin in reference.py.

prelu/srelu/crelu/maxout have two engines: C (``_cactivations``,
csrc/activations.h) where it loads, else the Numba twins in _nb_elementwise.py.

Callers pass float32/float64 arrays of one dtype and valid sizes (checked in
fastnn.functional); nothing here validates.
"""
import types

import numpy as np

from . import engine
from .elementwise import _ce, contiguous   # the C softmax or its twin (engine.py)
from .jit import float_signatures, numba_kernel
from .threads import threads_for

__all__ = ["softmax_fwd", "softmax_bwd", "log_softmax_fwd", "log_softmax_bwd",
           "prelu_fwd", "prelu_bwd", "srelu_fwd", "srelu_bwd", "crelu_fwd", "crelu_bwd",
           "maxout_fwd", "maxout_bwd", "channel_view", "engines"]

# the C extension of this family; the Numba loops below stand in for it where it
# does not load (and only there are they warmed up)
_EXT = "_cactivations"
_NB = "fastnn._kernels._nb_elementwise"
_A3, _A2, _A1 = "T[:, :, ::1]", "T[:, ::1]", "T[::1]"
_I3 = "int32[:, :, ::1]"
_prelu_fwd = numba_kernel(_NB, "prelu_fwd", float_signatures(f"void({_A3}, {_A1}, {_A3})"),
                          twin_of=_EXT)
_prelu_bwd = numba_kernel(_NB, "prelu_bwd", float_signatures(
    f"void({_A3}, {_A1}, {_A3}, {_A3}, {_A2})"), twin_of=_EXT)
_srelu_fwd = numba_kernel(_NB, "srelu_fwd", float_signatures(
    f"void({_A3}, {_A1}, {_A1}, {_A1}, {_A1}, {_A3})"), twin_of=_EXT)
_srelu_bwd = numba_kernel(_NB, "srelu_bwd", float_signatures(
    f"void({_A3}, {_A1}, {_A1}, {_A1}, {_A1}, {_A3}, {_A3}, {_A3})"), twin_of=_EXT)
_crelu_fwd = numba_kernel(_NB, "crelu_fwd", float_signatures(f"void({_A2}, {_A3})"), twin_of=_EXT)
_crelu_bwd = numba_kernel(_NB, "crelu_bwd", float_signatures(f"void({_A2}, {_A3}, {_A2})"),
                          twin_of=_EXT)
_maxout_fwd = numba_kernel(_NB, "maxout_fwd", float_signatures(
    f"void(T[:, :, :, ::1], {_A3}, {_I3})"), twin_of=_EXT)
_maxout_bwd = numba_kernel(_NB, "maxout_bwd", float_signatures(
    f"void({_A3}, {_I3}, T[:, :, :, ::1])"), twin_of=_EXT)
_cx = engine.extension(_EXT)


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


# ---- per-channel ops, crelu, maxout: the two engines' loops, one signature ------------
def _nb_prelu_fwd(x3, w, out):
    _prelu_fwd(x3.size, x3, w, out)


def _nb_prelu_bwd(x3, w, g3, gx):
    rows = np.empty(x3.shape[:2], x3.dtype)
    _prelu_bwd(x3.size, x3, w, g3, gx, rows)
    return rows


def _nb_srelu_fwd(x3, ps, out):
    _srelu_fwd(x3.size, x3, *ps, out)


def _nb_srelu_bwd(x3, ps, g3, gx):
    rows = np.empty(x3.shape[:2] + (4,), x3.dtype)
    _srelu_bwd(x3.size, x3, *ps, g3, gx, rows)
    return rows


def _nb_crelu_fwd(x2, out):
    _crelu_fwd(x2.size, x2, out)


def _nb_crelu_bwd(x2, g3, gx):
    _crelu_bwd(x2.size, x2, g3, gx)


def _nb_maxout_fwd(x4, out, idx):
    _maxout_fwd(x4.size, x4, out, idx)


def _nb_maxout_bwd(g3, idx, gx):
    _maxout_bwd(gx.size, g3, idx, gx)


def _c_prelu_fwd(x3, w, out):
    _cx.prelu_fwd(x3, w, out, threads_for(x3.size))


def _c_prelu_bwd(x3, w, g3, gx):
    rows = np.empty(x3.shape[:2], np.float64)
    _cx.prelu_bwd(x3, w, g3, gx, rows, threads_for(x3.size))
    return rows


def _c_srelu_fwd(x3, ps, out):
    _cx.srelu_fwd(x3, *ps, out, threads_for(x3.size))


def _c_srelu_bwd(x3, ps, g3, gx):
    rows = np.empty(x3.shape[:2] + (4,), np.float64)
    _cx.srelu_bwd(x3, *ps, g3, gx, rows, threads_for(x3.size))
    return rows


def _c_crelu_fwd(x2, out):
    _cx.crelu_fwd(x2, out, threads_for(x2.size))


def _c_crelu_bwd(x2, g3, gx):
    _cx.crelu_bwd(x2, g3, gx, threads_for(x2.size))


def _c_maxout_fwd(x4, out, idx):
    _cx.maxout_fwd(x4, out, idx, threads_for(x4.size))


def _c_maxout_bwd(g3, idx, gx):
    _cx.maxout_bwd(g3, idx, gx, threads_for(gx.size))


def channel_view(x, n_params):
    """x as a C-contiguous (N, C, S) array; C = 1 when one parameter serves all channels."""
    x = contiguous(x)
    if n_params == 1:
        lead = x.shape[0] if x.ndim >= 2 else 1
        return x.reshape(lead, 1, -1)
    return x.reshape(x.shape[0], x.shape[1], -1)


def _param(w, dtype):
    return np.ascontiguousarray(np.asarray(w, dtype).reshape(-1))


def _split(shape, dim):
    outer = int(np.prod(shape[:dim], dtype=np.int64))
    return outer, int(np.prod(shape[dim:], dtype=np.int64))


def _groups(shape, pool_size, dim):
    outer = int(np.prod(shape[:dim], dtype=np.int64))
    inner = int(np.prod(shape[dim + 1:], dtype=np.int64))
    return outer, shape[dim] // pool_size, pool_size, inner


def _nan_channels(ps):
    """Channels with a NaN among srelu's four parameters, or None: the loops compare
    x with the thresholds, and a comparison with NaN is false, so without this a NaN
    threshold would pass x through instead of giving NaN."""
    bad = np.isnan(ps[0]) | np.isnan(ps[1]) | np.isnan(ps[2]) | np.isnan(ps[3])
    return bad if bad.any() else None


def _api(k):
    """The public kernels over one engine's loops ``k`` (a namespace of _xx_* functions)."""

    def prelu_fwd(x, w):
        """x if x > 0 else w[c] * x (c: index on dim 1)."""
        w = _param(w, x.dtype)
        x3 = channel_view(x, w.size)
        out = np.empty(x3.shape, x.dtype)
        k.prelu_fwd(x3, w, out)
        return out.reshape(x.shape)

    def prelu_bwd(x, w, g):
        """(grad_x, grad_w) of prelu from its input x."""
        w_shape = np.shape(w)
        w = _param(w, x.dtype)
        x3 = channel_view(x, w.size)
        g3 = channel_view(g, w.size)
        gx = np.empty(x3.shape, x.dtype)
        rows = k.prelu_bwd(x3, w, g3, gx)
        return gx.reshape(x.shape), rows.sum(axis=0).astype(x.dtype).reshape(w_shape)

    def srelu_fwd(x, tl, al, tr, ar):
        """S-shaped ReLU with absolute per-channel thresholds (see fastnn.functional.srelu)."""
        c = max(np.size(p) for p in (tl, al, tr, ar))
        x3 = channel_view(x, c)
        ps = [np.ascontiguousarray(np.broadcast_to(_param(p, x.dtype), (x3.shape[1],)))
              for p in (tl, al, tr, ar)]
        out = np.empty(x3.shape, x.dtype)
        k.srelu_fwd(x3, ps, out)
        bad = _nan_channels(ps)
        if bad is not None:
            out[:, bad] = np.nan
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
        tot = k.srelu_bwd(x3, ps, g3, gx).sum(axis=0)   # (C, 4)
        bad = _nan_channels(ps)
        if bad is not None:
            gx[:, bad] = np.nan
            tot[bad] = np.nan
        grads = tuple(tot[:, j].sum() if np.size(p) == 1 and c > 1 else tot[:, j]
                      for j, p in enumerate(params))
        return (gx.reshape(x.shape),) + tuple(np.asarray(gk, x.dtype).reshape(np.shape(p))
                                              for gk, p in zip(grads, params))

    def crelu_fwd(x, dim=1):
        """concat(relu(x), relu(-x)) along ``dim``."""
        dim = dim % x.ndim
        x = contiguous(x)
        outer, m = _split(x.shape, dim)
        out = np.empty((outer, 2, m), x.dtype)
        k.crelu_fwd(x.reshape(outer, m), out)
        shape = x.shape[:dim] + (2 * x.shape[dim],) + x.shape[dim + 1:]
        return out.reshape(shape)

    def crelu_bwd(x, g, dim=1):
        """Gradient of crelu from its input x and the output grad g."""
        dim = dim % x.ndim
        x, g = contiguous(x), contiguous(g)
        outer, m = _split(x.shape, dim)
        gx = np.empty((outer, m), x.dtype)
        k.crelu_bwd(x.reshape(outer, m), g.reshape(outer, 2, m), gx)
        return gx.reshape(x.shape)

    def maxout_fwd(x, pool_size, dim=-1):
        """(max over consecutive groups of ``pool_size`` along ``dim``, argmax as int32)."""
        dim = dim % x.ndim
        x = contiguous(x)
        o, gr, kk, i = _groups(x.shape, pool_size, dim)
        out = np.empty((o, gr, i), x.dtype)
        idx = np.empty((o, gr, i), np.int32)
        k.maxout_fwd(x.reshape(o, gr, kk, i), out, idx)
        shape = x.shape[:dim] + (gr,) + x.shape[dim + 1:]
        return out.reshape(shape), idx

    def maxout_bwd(idx, g, x_shape, pool_size, dim=-1):
        """Scatter g to the argmax ``idx`` of each group (zeros elsewhere)."""
        dim = dim % len(x_shape)
        o, gr, kk, i = _groups(x_shape, pool_size, dim)
        gx = np.empty((o, gr, kk, i), g.dtype)
        k.maxout_bwd(contiguous(g).reshape(o, gr, i), contiguous(idx), gx)
        return gx.reshape(x_shape)

    return types.SimpleNamespace(prelu_fwd=prelu_fwd, prelu_bwd=prelu_bwd, srelu_fwd=srelu_fwd,
                                 srelu_bwd=srelu_bwd, crelu_fwd=crelu_fwd, crelu_bwd=crelu_bwd,
                                 maxout_fwd=maxout_fwd, maxout_bwd=maxout_bwd)


def _loops(prefix):
    names = ("prelu_fwd", "prelu_bwd", "srelu_fwd", "srelu_bwd", "crelu_fwd", "crelu_bwd",
             "maxout_fwd", "maxout_bwd")
    return types.SimpleNamespace(**{n: globals()[f"{prefix}_{n}"] for n in names})


_ENGINES = {"numba": _api(_loops("_nb"))}
if _cx is not None:
    _ENGINES["c"] = _api(_loops("_c"))
_RUN = _ENGINES["c" if _cx is not None else "numba"]

prelu_fwd = _RUN.prelu_fwd
prelu_bwd = _RUN.prelu_bwd
srelu_fwd = _RUN.srelu_fwd
srelu_bwd = _RUN.srelu_bwd
crelu_fwd = _RUN.crelu_fwd
crelu_bwd = _RUN.crelu_bwd
maxout_fwd = _RUN.maxout_fwd
maxout_bwd = _RUN.maxout_bwd


def engines():
    """{'c': kernels, 'numba': kernels} for prelu/srelu/crelu/maxout on the engines that
    can run here (tests run both)."""
    return dict(_ENGINES)
