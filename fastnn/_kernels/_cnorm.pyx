# cython: language_level=3
"""C batch- and layer-normalisation kernels (csrc/norm.h).

Callers (fastnn._kernels.norm) pass C-contiguous arrays of one float dtype (the
per-channel and per-row statistics are float64); each wrapper asserts the dtypes and
sizes it was built for before any pointer is taken.
"""
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t

from fastnn._kernels._ccheck cimport float_type, same_or_none

cnp.import_array()

cdef extern from "norm.h" nogil:
    ptrdiff_t fnn_bn_partial_size(ptrdiff_t, ptrdiff_t, ptrdiff_t)
    ptrdiff_t fnn_ln_grad_rows(ptrdiff_t)
    void fnn_bn_reduce_f32(const float *, const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                           const double *, int, double *, double *, double *, double *,
                           double *, int)
    void fnn_bn_reduce_f64(const double *, const double *, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                           const double *, int, double *, double *, double *, double *,
                           double *, int)
    void fnn_bn_affine_f32(const float *, const float *, float *, ptrdiff_t, ptrdiff_t,
                           ptrdiff_t, const float *, const float *, const float *,
                           const float *, int)
    void fnn_bn_affine_f64(const double *, const double *, double *, ptrdiff_t, ptrdiff_t,
                           ptrdiff_t, const double *, const double *, const double *,
                           const double *, int)
    void fnn_ln_fwd_f32(const float *, float *, ptrdiff_t, ptrdiff_t, const float *,
                        const float *, double, double *, double *, int)
    void fnn_ln_fwd_f64(const double *, double *, ptrdiff_t, ptrdiff_t, const double *,
                        const double *, double, double *, double *, int)
    void fnn_ln_bwd_f32(const float *, const float *, float *, ptrdiff_t, ptrdiff_t,
                        const float *, const double *, const double *, float *, float *,
                        double *, double *, int)
    void fnn_ln_bwd_f64(const double *, const double *, double *, ptrdiff_t, ptrdiff_t,
                        const double *, const double *, const double *, double *, double *,
                        double *, double *, int)

import numpy as np


# the dtype, layout and size checks shared by every C wrapper (_ccheck.pxd)
cdef inline int _float_type(object a, str name) except -1:
    return float_type(a, "_cnorm", name)


cdef inline int _same(object a, int t, ptrdiff_t n, str name) except -1:
    return same_or_none(a, t, n, "_cnorm", name)


cdef inline void *_ptr(object a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


def bn_reduce(cnp.ndarray x, cnp.ndarray g, ptrdiff_t N, ptrdiff_t C, ptrdiff_t L,
              cnp.ndarray ref, int mode, int nt):
    """Per-channel (s1, s2) float64 sums of x (N, C, L) relative to ref[c]:
    mode 0: s1 = sum(x - ref), s2 = sum((x - ref)^2); mode 1: s1 = sum(g),
    s2 = sum(g (x - ref))."""
    cdef int t = _float_type(x, "x")
    _same(x, t, N * C * L, "x")
    if mode == 1 or g is not None:
        if g is None:
            raise ValueError("_cnorm.bn_reduce: mode 1 needs g.")
        _same(g, t, N * C * L, "g")
    _same(ref, cnp.NPY_FLOAT64, C, "ref")
    cdef cnp.ndarray s1 = np.empty(C, np.float64), s2 = np.empty(C, np.float64)
    cdef ptrdiff_t ps = fnn_bn_partial_size(N, C, L)
    cdef cnp.ndarray p1 = np.empty(max(ps, 1), np.float64), p2 = np.empty(max(ps, 1), np.float64)
    cdef cnp.ndarray colref = np.empty(max(C * L, 1), np.float64)
    cdef void *p_colref = _ptr(colref)
    cdef void *p_g = _ptr(g)
    cdef void *p_p1 = _ptr(p1)
    cdef void *p_p2 = _ptr(p2)
    cdef void *p_ref = _ptr(ref)
    cdef void *p_s1 = _ptr(s1)
    cdef void *p_s2 = _ptr(s2)
    cdef void *p_x = _ptr(x)
    if t == cnp.NPY_FLOAT32:
        with nogil:
            fnn_bn_reduce_f32(<const float *>p_x, <const float *>p_g, N, C, L,
                              <const double *>p_ref, mode, <double *>p_s1,
                              <double *>p_s2, <double *>p_p1, <double *>p_p2,
                              <double *>p_colref, nt)
    else:
        with nogil:
            fnn_bn_reduce_f64(<const double *>p_x, <const double *>p_g, N, C, L,
                              <const double *>p_ref, mode, <double *>p_s1,
                              <double *>p_s2, <double *>p_p1, <double *>p_p2,
                              <double *>p_colref, nt)
    return s1, s2


def bn_affine(cnp.ndarray x, cnp.ndarray g, cnp.ndarray out, ptrdiff_t N, ptrdiff_t C,
              ptrdiff_t L, cnp.ndarray m, cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, int nt):
    """g None: out = (x - m[c]) a[c] + c[c]; else out = a[c] g + b[c] (x - m[c]) + c[c]."""
    cdef int t = _float_type(x, "x")
    _same(x, t, N * C * L, "x")
    _same(out, t, N * C * L, "out")
    _same(m, t, C, "m")
    _same(a, t, C, "a")
    _same(c, t, C, "c")
    if g is not None:
        _same(g, t, N * C * L, "g")
        if b is None:
            raise ValueError("_cnorm.bn_affine: the backward form needs b.")
        _same(b, t, C, "b")
    cdef void *p_a = _ptr(a)
    cdef void *p_b = _ptr(b)
    cdef void *p_c = _ptr(c)
    cdef void *p_g = _ptr(g)
    cdef void *p_m = _ptr(m)
    cdef void *p_out = _ptr(out)
    cdef void *p_x = _ptr(x)
    if t == cnp.NPY_FLOAT32:
        with nogil:
            fnn_bn_affine_f32(<const float *>p_x, <const float *>p_g, <float *>p_out,
                              N, C, L, <const float *>p_m, <const float *>p_a,
                              <const float *>p_b, <const float *>p_c, nt)
    else:
        with nogil:
            fnn_bn_affine_f64(<const double *>p_x, <const double *>p_g,
                              <double *>p_out, N, C, L, <const double *>p_m,
                              <const double *>p_a, <const double *>p_b,
                              <const double *>p_c, nt)
    return out


def ln_fwd(cnp.ndarray x, cnp.ndarray out, ptrdiff_t M, ptrdiff_t D, cnp.ndarray w,
           cnp.ndarray b, double eps, int nt):
    """Row-wise layer norm of x (M, D); returns (out, mean, rstd), the statistics float64."""
    cdef int t = _float_type(x, "x")
    _same(x, t, M * D, "x")
    _same(out, t, M * D, "out")
    _same(w, t, D, "weight")
    _same(b, t, D, "bias")
    cdef cnp.ndarray mean = np.empty(M, np.float64), rstd = np.empty(M, np.float64)
    cdef void *p_b = _ptr(b)
    cdef void *p_mean = _ptr(mean)
    cdef void *p_out = _ptr(out)
    cdef void *p_rstd = _ptr(rstd)
    cdef void *p_w = _ptr(w)
    cdef void *p_x = _ptr(x)
    if t == cnp.NPY_FLOAT32:
        with nogil:
            fnn_ln_fwd_f32(<const float *>p_x, <float *>p_out, M, D,
                           <const float *>p_w, <const float *>p_b, eps,
                           <double *>p_mean, <double *>p_rstd, nt)
    else:
        with nogil:
            fnn_ln_fwd_f64(<const double *>p_x, <double *>p_out, M, D,
                           <const double *>p_w, <const double *>p_b, eps,
                           <double *>p_mean, <double *>p_rstd, nt)
    return out, mean, rstd


def ln_bwd(cnp.ndarray g, cnp.ndarray x, cnp.ndarray gx, ptrdiff_t M, ptrdiff_t D,
           cnp.ndarray w, cnp.ndarray mean, cnp.ndarray rstd, bint need_w, bint need_b, int nt):
    """Layer-norm backward: fills gx; returns (gw, gb), each None unless asked for."""
    cdef int t = _float_type(x, "x")
    _same(x, t, M * D, "x")
    _same(g, t, M * D, "g")
    _same(gx, t, M * D, "gx")
    _same(w, t, D, "weight")
    _same(mean, cnp.NPY_FLOAT64, M, "mean")
    _same(rstd, cnp.NPY_FLOAT64, M, "rstd")
    dt = np.float32 if t == cnp.NPY_FLOAT32 else np.float64
    cdef cnp.ndarray gw = np.empty(D, dt) if need_w else None
    cdef cnp.ndarray gb = np.empty(D, dt) if need_b else None
    cdef ptrdiff_t nblk = (M + fnn_ln_grad_rows(D) - 1) // fnn_ln_grad_rows(D)
    cdef cnp.ndarray pw = np.empty(max(nblk * D, 1), np.float64) if need_w else None
    cdef cnp.ndarray pb = np.empty(max(nblk * D, 1), np.float64) if need_b else None
    cdef void *p_g = _ptr(g)
    cdef void *p_gb = _ptr(gb)
    cdef void *p_gw = _ptr(gw)
    cdef void *p_gx = _ptr(gx)
    cdef void *p_mean = _ptr(mean)
    cdef void *p_pb = _ptr(pb)
    cdef void *p_pw = _ptr(pw)
    cdef void *p_rstd = _ptr(rstd)
    cdef void *p_w = _ptr(w)
    cdef void *p_x = _ptr(x)
    if t == cnp.NPY_FLOAT32:
        with nogil:
            fnn_ln_bwd_f32(<const float *>p_g, <const float *>p_x, <float *>p_gx,
                           M, D, <const float *>p_w, <const double *>p_mean,
                           <const double *>p_rstd, <float *>p_gw, <float *>p_gb,
                           <double *>p_pw, <double *>p_pb, nt)
    else:
        with nogil:
            fnn_ln_bwd_f64(<const double *>p_g, <const double *>p_x, <double *>p_gx,
                           M, D, <const double *>p_w, <const double *>p_mean,
                           <const double *>p_rstd, <double *>p_gw, <double *>p_gb,
                           <double *>p_pw, <double *>p_pb, nt)
    return gw, gb
