"""Convolution and pooling kernels (NCHW, float32/float64).

Convolution is im2col + GEMM, with two engines:

* ``"c"`` (default, :mod:`._cconv` / csrc/conv.h): one parallel loop over samples on
  fastnn's pool; each thread builds a sample's columns a tile at a time into its own
  buffer (which stays in cache) and multiplies them with a serial GEMM from NumPy's
  own OpenBLAS (kept single-threaded under the pool). Backward rebuilds the columns
  instead of keeping them from forward (as torch does) and sums the weight gradient
  per fixed group of samples, the groups added in order: the same bits for any
  thread count.
* ``"numpy"`` (the fallback where NumPy has another BLAS): Numba im2col/col2im over
  chunks of samples and NumPy GEMMs on the chunk's ``(C*kh*kw, B*L)`` column matrix.
  Measured slower: OpenBLAS's threads spin-yield between calls, and alternating them
  with the Numba pool on two cores costs whole scheduler time slices.

Stride 1 uses the padded grid in both: every column row is one contiguous run of the
zero-bordered input plane (a memcpy), and output rows carry Wp - ow unused columns. A
1x1, stride-1, unpadded convolution needs no columns: it is a GEMM on the input itself.

Pooling lives in :mod:`.pooling` (re-exported here).

Arguments are trusted (fastnn/functional/conv.py validates them); arrays may be
non-contiguous (copied once here). NumPy twins: :mod:`.reference_conv`.
"""
import numpy as np

from . import threads as _threads
from .elementwise import contiguous
from .jit import numba_kernel, float_signatures
from .pooling import max_pool2d_fwd, max_pool2d_bwd, avg_pool2d_fwd, avg_pool2d_bwd  # noqa: F401

__all__ = ["conv2d_fwd", "conv2d_bwd", "im2col", "col2im", "im2col_s1", "col2im_s1",
           "max_pool2d_fwd", "max_pool2d_bwd",
           "avg_pool2d_fwd", "avg_pool2d_bwd", "CHUNK_BYTES"]

_NB = "fastnn._kernels._nb_conv"
_I10 = ", ".join(["int64"] * 10)
_im2col = numba_kernel(_NB, "im2col", float_signatures(f"void(T[:, :, :, ::1], T[:, ::1], {_I10})"),
                       twin_of="_cconv")
_col2im = numba_kernel(_NB, "col2im", float_signatures(f"void(T[:, ::1], T[:, :, :, ::1], {_I10})"),
                       twin_of="_cconv")
_I6 = ", ".join(["int64"] * 6)
_im2col_s1 = numba_kernel(_NB, "im2col_s1", float_signatures(f"void(T[:, :, ::1], T[:, ::1], {_I6})"),
                          twin_of="_cconv")
_col2im_s1 = numba_kernel(_NB, "col2im_s1", float_signatures(f"void(T[:, ::1], T[:, :, ::1], {_I6})"),
                          twin_of="_cconv")

# Bytes of column matrix per chunk: big enough for long GEMM rows, small enough to be
# re-read from cache by the GEMM right after im2col wrote it.
CHUNK_BYTES = 4 << 20


def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out=None):
    """Columns ``(C*kh*kw, B*oh*ow)`` of x (B, C, H, W); ph/pw are the top/left padding."""
    x = contiguous(x)
    B, C = x.shape[:2]
    if out is None:
        out = np.empty((C * kh * kw, B * oh * ow), x.dtype)
    _im2col(out.size, x, out, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    return out


def col2im(cols, shape, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out=None):
    """The adjoint of im2col: sums columns back into an array of ``shape`` (B, C, H, W)."""
    if out is None:
        out = np.empty(shape, cols.dtype)
    _col2im(cols.size, contiguous(cols), out, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    return out


def im2col_s1(xp, kh, kw, dh, dw, wp, lg, out=None):
    """Stride-1 columns ``(C*kh*kw, B*lg)`` on the padded grid of xp (B, C, Hp*Wp):
    column ``b*lg + oy*wp + ox`` is output (oy, ox) of sample b (ox >= ow: unused)."""
    B, C = xp.shape[:2]
    if out is None:
        out = np.empty((C * kh * kw, B * lg), xp.dtype)
    _im2col_s1(out.size, contiguous(xp), out, kh, kw, dh, dw, wp, lg)
    return out


def col2im_s1(cols, shape, kh, kw, dh, dw, wp, lg, out=None):
    """The adjoint of im2col_s1: sums columns back onto padded planes of ``shape`` (B, C, Hp*Wp)."""
    if out is None:
        out = np.empty(shape, cols.dtype)
    _col2im_s1(cols.size, contiguous(cols), out, kh, kw, dh, dw, wp, lg)
    return out


def _chunk(n, rows, cols_per_sample, itemsize):
    return max(1, min(n, CHUNK_BYTES // max(1, rows * cols_per_sample * itemsize)))


class _Plan:
    """Shapes and buffers of one convolution, chunk by chunk.

    Stride 1 uses the padded grid: the input is copied once per chunk into zero-bordered
    planes (Hp, Wp), every column row is then one contiguous run of a plane, and an
    output row keeps Wp - ow unused columns (``lg = (oh - 1) * Wp + ow`` per sample).
    Other strides use the direct im2col (``lg = oh * ow``).
    """

    def __init__(self, x, w, geom, groups):
        sh, sw, ph, pw, dh, dw, oh, ow = geom
        self.N, self.C, self.H, self.W = x.shape
        self.O, _, self.kh, self.kw = w.shape
        self.geom, self.groups = geom, groups
        self.grid = sh == 1 and sw == 1
        self.K = self.C * self.kh * self.kw
        if self.grid:
            self.Hp, self.Wp = oh + (self.kh - 1) * dh, ow + (self.kw - 1) * dw
            self.lg = (oh - 1) * self.Wp + ow
            self.padded = (self.Hp, self.Wp) != (self.H, self.W)
        else:
            self.lg = oh * ow
        self.B = _chunk(self.N, self.K, self.lg, x.itemsize)
        self.dtype = x.dtype
        self.cols = np.empty(self.K * self.B * self.lg, x.dtype)
        self.xp = self.gxp = None
        if self.grid and self.padded:
            self.xp = np.zeros((self.B, self.C, self.Hp, self.Wp), x.dtype)

    def chunks(self):
        for n0 in range(0, self.N, self.B):
            yield n0, min(self.B, self.N - n0)

    def columns(self, x, n0, nb):
        """The column matrix (K, nb*lg) of samples n0:n0+nb."""
        sh, sw, ph, pw, dh, dw, oh, ow = self.geom
        cols = self.cols[:self.K * nb * self.lg].reshape(self.K, nb * self.lg)
        if not self.grid:
            return im2col(x[n0:n0 + nb], self.kh, self.kw, sh, sw, ph, pw, dh, dw, oh, ow, out=cols)
        if self.padded:
            xp = self.xp[:nb]
            xp[:, :, ph:ph + self.H, pw:pw + self.W] = x[n0:n0 + nb]   # the borders stay zero
        else:
            xp = x[n0:n0 + nb]
        return im2col_s1(xp.reshape(nb, self.C, -1), self.kh, self.kw, dh, dw, self.Wp, self.lg,
                         out=cols)

    def output_view(self, res, nb):
        """(nb, O, oh, ow) view of a GEMM result (O, nb*lg) in column coordinates."""
        oh, ow = self.geom[6:]
        s = res.itemsize
        row = self.Wp if self.grid else ow
        v = np.lib.stride_tricks.as_strided(res, (self.O, nb, oh, ow),
                                            (nb * self.lg * s, self.lg * s, row * s, s))
        return v.transpose(1, 0, 2, 3)

    def add_to_input_grad(self, gcols, gx, n0, nb):
        sh, sw, ph, pw, dh, dw, oh, ow = self.geom
        if not self.grid:
            col2im(gcols, (nb, self.C, self.H, self.W), self.kh, self.kw, sh, sw, ph, pw, dh, dw, oh, ow,
                   out=gx[n0:n0 + nb])
            return
        if not self.padded:
            col2im_s1(gcols, (nb, self.C, self.H * self.W), self.kh, self.kw, dh, dw, self.Wp, self.lg,
                      out=gx[n0:n0 + nb].reshape(nb, self.C, -1))
            return
        if self.gxp is None:     # not self.xp: its zero borders must survive
            self.gxp = np.empty(self.xp.shape, self.dtype)
        gxp = self.gxp[:nb]
        col2im_s1(gcols, (nb, self.C, self.Hp * self.Wp), self.kh, self.kw, dh, dw, self.Wp, self.lg,
                  out=gxp.reshape(nb, self.C, -1))
        gx[n0:n0 + nb] = gxp[:, :, ph:ph + self.H, pw:pw + self.W]


def _is_pointwise(x, w, geom, groups):
    sh, sw, ph, pw, dh, dw, oh, ow = geom
    return (groups == 1 and w.shape[2:] == (1, 1) and (sh, sw, ph, pw) == (1, 1, 0, 0))


# "c": the C engine (when NumPy's OpenBLAS is found), "numpy": NumPy GEMMs between Numba
# im2col calls (the fallback, kept selectable for tests and comparison).
ENGINE = "c"


def _c_engine():
    """The _cconv module when it and NumPy's OpenBLAS are available, else None."""
    if ENGINE != "c":
        return None
    from . import engine
    mod = engine.extension("_cconv")
    return mod if mod is not None and _threads._has_blas else None


def _sample_threads(x, w, N):
    # work ~ the column matrix's size; one sample per task, so never more threads than samples
    return max(1, min(_threads.threads_for(x.size * w.shape[2] * w.shape[3]), N))


def conv2d_fwd(x, w, b, geom, groups=1):
    """y (N, O, oh, ow) = conv(x (N, C, H, W), w (O, C/groups, kh, kw)) + b.

    ``geom`` is ``(sh, sw, ph, pw, dh, dw, oh, ow)`` with ph/pw the top/left padding
    (bottom/right padding only shows in oh/ow).
    """
    x = contiguous(x)
    N, C, H, W = x.shape
    O = w.shape[0]
    oh, ow = geom[6:]
    y = np.empty((N, O, oh, ow), x.dtype)
    if y.size == 0:
        return y
    if _is_pointwise(x, w, geom, groups):
        np.matmul(w.reshape(O, C), x.reshape(N, C, H * W), out=y.reshape(N, O, H * W))
        if b is not None:
            y += b.reshape(O, 1, 1)
        return y
    c = _c_engine()
    if c is not None and w.dtype == x.dtype:
        c.conv2d_fwd(x, contiguous(w), None if b is None else contiguous(b), y, tuple(geom), groups,
                     _sample_threads(x, w, N))
        return y
    plan = _Plan(x, w, geom, groups)
    wg = contiguous(w).reshape(groups, O // groups, plan.K // groups)
    res_buf = np.empty(O * plan.B * plan.lg, x.dtype)
    for n0, nb in plan.chunks():
        cols = plan.columns(x, n0, nb)
        res = res_buf[:O * nb * plan.lg].reshape(groups, O // groups, nb * plan.lg)
        np.matmul(wg, cols.reshape(groups, plan.K // groups, nb * plan.lg), out=res)
        view = plan.output_view(res, nb)
        if b is None:
            np.copyto(y[n0:n0 + nb], view)
        else:
            np.add(view, b.reshape(1, O, 1, 1), out=y[n0:n0 + nb])
    return y


def conv2d_bwd(x, w, g, geom, groups=1, need_x=True, need_w=True, need_b=True):
    """(grad_x, grad_w, grad_b) of conv2d_fwd for the upstream gradient g (None where not needed)."""
    x = contiguous(x)
    g = contiguous(g)
    N, C, H, W = x.shape
    O = w.shape[0]
    gb = g.sum(axis=(0, 2, 3)) if need_b else None
    gx = np.empty(x.shape, x.dtype) if need_x else None
    gw = np.zeros(w.shape, w.dtype) if need_w else None
    if g.size == 0 or not (need_x or need_w):
        if need_x:
            gx[...] = 0
        return gx, gw, gb
    if _is_pointwise(x, w, geom, groups):
        g3 = g.reshape(N, O, H * W)
        x3 = x.reshape(N, C, H * W)
        if need_x:
            np.matmul(w.reshape(O, C).T, g3, out=gx.reshape(N, C, H * W))
        if need_w:
            # sum over samples of g[n] x[n]^T: one GEMM over (C, N*H*W)
            gw[...] = np.dot(g3.transpose(1, 0, 2).reshape(O, -1),
                             x3.transpose(1, 0, 2).reshape(C, -1).T).reshape(w.shape)
        return gx, gw, gb
    c = _c_engine()
    if c is not None and w.dtype == x.dtype:
        c.conv2d_bwd(x, contiguous(w), g, gx, gw, tuple(geom), groups, _sample_threads(x, w, N))
        return gx, gw, gb
    plan = _Plan(x, w, geom, groups)
    K, lg = plan.K, plan.lg
    Og, Kg = O // groups, K // groups
    wT = contiguous(w).reshape(groups, Og, Kg).transpose(0, 2, 1)
    gw3 = gw.reshape(groups, Og, Kg) if need_w else None
    gt_buf = np.empty(O * plan.B * lg, x.dtype)
    for n0, nb in plan.chunks():
        gt = gt_buf[:O * nb * lg].reshape(O, nb * lg)
        if plan.grid and plan.Wp != geom[7]:
            gt[...] = 0       # the unused grid columns must add nothing
        np.copyto(plan.output_view(gt, nb), g[n0:n0 + nb])
        gt3 = gt.reshape(groups, Og, nb * lg)
        if need_w:
            cols = plan.columns(x, n0, nb)
            gw3 += np.matmul(gt3, cols.reshape(groups, Kg, nb * lg).transpose(0, 2, 1))
        if need_x:
            gcols = plan.cols[:K * nb * lg].reshape(K, nb * lg)
            np.matmul(wT, gt3, out=gcols.reshape(groups, Kg, nb * lg))
            plan.add_to_input_grad(gcols, gx, n0, nb)
    return gx, gw, gb
