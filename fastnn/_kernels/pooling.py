"""2-D max and average pooling kernels (NCHW, float32/float64).

Loops run over (sample, channel) planes; max pooling keeps the int64 flat index of
each maximum in its H*W plane (torch's ``return_indices``) for backward. Engines: C
(``_cpooling``, csrc/pooling.h) where it loads, else the Numba twins in
``_nb_conv.py``; NumPy oracle: :mod:`.reference_conv`. Arguments are trusted
(fastnn/functional/conv.py validates them); arrays may be non-contiguous (copied
once here).
"""
import types

import numpy as np

from . import engine
from .elementwise import contiguous
from .jit import numba_kernel, float_signatures
from .threads import threads_for

__all__ = ["max_pool2d_fwd", "max_pool2d_bwd", "avg_pool2d_fwd", "avg_pool2d_bwd", "engines"]

# the C extension of this family; the Numba loops below stand in for it where it
# does not load (and only there are they warmed up)
_EXT = "_cpooling"
_NB = "fastnn._kernels._nb_conv"
_I8 = ", ".join(["int64"] * 8)
_max_fwd = numba_kernel(_NB, "max_pool2d_fwd", float_signatures(
    "void(T[:, :, ::1], T[:, :, ::1], int64[:, :, ::1], int64, int64, int64, int64, int64, int64, "
    "int64, int64)"), twin_of=_EXT)
_max_bwd = numba_kernel(_NB, "max_pool2d_bwd", float_signatures(
    "void(T[:, ::1], int64[:, ::1], T[:, ::1])"), twin_of=_EXT)
_avg_fwd = numba_kernel(_NB, "avg_pool2d_fwd", float_signatures(
    f"void(T[:, :, ::1], T[:, :, ::1], {_I8})"), twin_of=_EXT)
_avg_bwd = numba_kernel(_NB, "avg_pool2d_bwd", float_signatures(
    f"void(T[:, :, ::1], T[:, :, ::1], {_I8})"), twin_of=_EXT)
_cx = engine.extension(_EXT)


# --- the two engines' loops over (P, H, W) planes, one signature -----------------------

def _nb_max_fwd(x, y, idx, window):
    _max_fwd(x.size, x, y, idx, *window)


def _nb_max_bwd(g, idx, gx):
    P = g.shape[0]
    _max_bwd(gx.size, g.reshape(P, -1), idx.reshape(P, -1), gx.reshape(P, -1))


def _nb_avg_fwd(x, y, window, include_pad, divisor):
    _avg_fwd(x.size, x, y, *window, int(include_pad), int(divisor))


def _nb_avg_bwd(g, gx, window, include_pad, divisor):
    _avg_bwd(gx.size, g, gx, *window, int(include_pad), int(divisor))


def _c_max_fwd(x, y, idx, window):
    _cx.max_pool2d_fwd(x, y, idx, window, threads_for(x.size))


def _c_max_bwd(g, idx, gx):
    _cx.max_pool2d_bwd(g, idx, gx, threads_for(gx.size))


def _c_avg_fwd(x, y, window, include_pad, divisor):
    _cx.avg_pool2d_fwd(x, y, window, include_pad, int(divisor), threads_for(x.size))


def _c_avg_bwd(g, gx, window, include_pad, divisor):
    _cx.avg_pool2d_bwd(g, gx, window, include_pad, int(divisor), threads_for(gx.size))


def _api(max_fwd, max_bwd, avg_fwd, avg_bwd):
    """The public kernels over one engine's loops."""

    def max_pool2d_fwd(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
        """(y, idx): window maxima of x (N, C, H, W) and their flat int64 indices in each H*W plane."""
        x = contiguous(x)
        N, C, H, W = x.shape
        y = np.empty((N, C, oh, ow), x.dtype)
        idx = np.empty((N, C, oh, ow), np.int64)
        if y.size:
            max_fwd(x.reshape(N * C, H, W), y.reshape(N * C, oh, ow), idx.reshape(N * C, oh, ow),
                    (kh, kw, sh, sw, ph, pw, dh, dw))
        return y, idx

    def max_pool2d_bwd(g, idx, shape):
        """grad of x (``shape``): g added at the arg-max positions ``idx``."""
        g = contiguous(g)
        N, C, H, W = shape
        gx = np.empty(shape, g.dtype)
        P = N * C
        if gx.size:
            max_bwd(g.reshape(P, g.shape[2], g.shape[3]),
                    contiguous(idx).reshape(P, g.shape[2], g.shape[3]), gx.reshape(P, H, W))
        return gx

    def avg_pool2d_fwd(x, kh, kw, sh, sw, ph, pw, oh, ow, count_include_pad=True, divisor=0):
        """Window means of x (N, C, H, W); ``divisor`` > 0 overrides the window size."""
        x = contiguous(x)
        N, C, H, W = x.shape
        y = np.empty((N, C, oh, ow), x.dtype)
        if y.size:
            avg_fwd(x.reshape(N * C, H, W), y.reshape(N * C, oh, ow), (kh, kw, sh, sw, ph, pw),
                    bool(count_include_pad), divisor)
        return y

    def avg_pool2d_bwd(g, shape, kh, kw, sh, sw, ph, pw, count_include_pad=True, divisor=0):
        """grad of x (``shape``) for avg_pool2d_fwd's upstream gradient g."""
        g = contiguous(g)
        N, C, H, W = shape
        gx = np.empty(shape, g.dtype)
        if gx.size:
            avg_bwd(g.reshape(N * C, g.shape[2], g.shape[3]), gx.reshape(N * C, H, W),
                    (kh, kw, sh, sw, ph, pw), bool(count_include_pad), divisor)
        return gx

    return types.SimpleNamespace(max_pool2d_fwd=max_pool2d_fwd, max_pool2d_bwd=max_pool2d_bwd,
                                 avg_pool2d_fwd=avg_pool2d_fwd, avg_pool2d_bwd=avg_pool2d_bwd)


_ENGINES = {"numba": _api(_nb_max_fwd, _nb_max_bwd, _nb_avg_fwd, _nb_avg_bwd)}
if _cx is not None:
    _ENGINES["c"] = _api(_c_max_fwd, _c_max_bwd, _c_avg_fwd, _c_avg_bwd)
_RUN = _ENGINES["c" if _cx is not None else "numba"]

max_pool2d_fwd = _RUN.max_pool2d_fwd
max_pool2d_bwd = _RUN.max_pool2d_bwd
avg_pool2d_fwd = _RUN.avg_pool2d_fwd
avg_pool2d_bwd = _RUN.avg_pool2d_bwd


def engines():
    """{'c': kernels, 'numba': kernels} for the engines that can run here (tests run both)."""
    return dict(_ENGINES)
