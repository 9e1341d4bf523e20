# cython: language_level=3
"""C 2-D pooling kernels (csrc/pooling.h) over (P, H, W) planes, P = N * C.

Callers (fastnn._kernels.pooling) pass C-contiguous arrays and the geometry that
fastnn.functional validated; the geometry and every array are checked again here
(dtypes, byte order and layout through the shared _ccheck.pxd; shapes, strides and
paddings that keep every window inside the plane), so no call can make the C code
read or write past a buffer.
"""
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport int64_t

from fastnn._kernels._ccheck cimport float_type, same

cnp.import_array()

cdef extern from "parallel.h":
    int fnn_pool_import() except -1

fnn_pool_import()   # the parallel loops run on fastnn's pool (the _cpool extension)

cdef extern from "pooling.h" nogil:
    ctypedef struct fnn_pool_geom:
        ptrdiff_t P, H, W, OH, OW
        ptrdiff_t kh, kw, sh, sw, ph, pw, dh, dw
        int include_pad
        ptrdiff_t divisor
    void fnn_max_pool2d_fwd_f32(const float *, float *, int64_t *, const fnn_pool_geom *, int)
    void fnn_max_pool2d_fwd_f64(const double *, double *, int64_t *, const fnn_pool_geom *, int)
    ptrdiff_t fnn_max_pool2d_bwd_f32(const float *, const int64_t *, float *, const fnn_pool_geom *, int)
    ptrdiff_t fnn_max_pool2d_bwd_f64(const double *, const int64_t *, double *, const fnn_pool_geom *, int)
    void fnn_avg_pool2d_fwd_f32(const float *, float *, const fnn_pool_geom *, int)
    void fnn_avg_pool2d_fwd_f64(const double *, double *, const fnn_pool_geom *, int)
    void fnn_avg_pool2d_bwd_f32(const float *, float *, const fnn_pool_geom *, int)
    void fnn_avg_pool2d_bwd_f64(const double *, double *, const fnn_pool_geom *, int)


# dtype, byte order and layout: the checks shared by every C wrapper (_ccheck.pxd)
cdef void *_plane(str where, str name, object a, int t, ptrdiff_t P, ptrdiff_t H, ptrdiff_t W,
                  bint write) except? NULL:
    """The data of a checked (P, H, W) array of type number t (native byte order,
    C-contiguous), writeable when the kernel writes it."""
    same(a, t, -1, where, name)
    cdef cnp.ndarray x = <cnp.ndarray>a
    if cnp.PyArray_NDIM(x) != 3 or x.shape[0] != P or x.shape[1] != H or x.shape[2] != W:
        raise ValueError(f"{where}: {name} must be of shape ({P}, {H}, {W}), got shape "
                         f"{a.shape}.")
    if write and not cnp.PyArray_ISWRITEABLE(x):
        raise ValueError(f"{where}: {name} must be writeable, got a read-only array.")
    return cnp.PyArray_DATA(x)


cdef tuple _shape3(str where, str name, object a):
    if not isinstance(a, cnp.ndarray):
        raise TypeError(f"{where}: {name} must be a numpy.ndarray, got {type(a).__name__}.")
    if cnp.PyArray_NDIM(<cnp.ndarray>a) != 3:
        raise ValueError(f"{where}: {name} must have 3 dimensions (planes, height, width), "
                         f"got shape {a.shape}.")
    return tuple(a.shape)


cdef int _geometry(str where, fnn_pool_geom *g, tuple in_shape, tuple out_shape, tuple window,
                   bint dilated) except -1:
    g.P, g.H, g.W = in_shape
    _, g.OH, g.OW = out_shape
    if out_shape[0] != g.P:
        raise ValueError(f"{where}: {g.P} input planes but {out_shape[0]} output planes.")
    if dilated:
        g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw = window
    else:
        g.kh, g.kw, g.sh, g.sw, g.ph, g.pw = window
        g.dh = g.dw = 1
    if min(g.kh, g.kw, g.sh, g.sw, g.dh, g.dw) < 1 or min(g.ph, g.pw) < 0 \
            or min(g.P, g.H, g.W, g.OH, g.OW) < 0:
        raise ValueError(f"{where}: kernel, stride and dilation must be >= 1, padding and "
                         f"shapes >= 0, got window {window}, shapes {in_shape} -> {out_shape}.")
    # every output window must start inside the padded plane; the loops clip the rest
    if g.OH > 0 and (g.OH - 1) * g.sh - g.ph >= g.H or g.OW > 0 and (g.OW - 1) * g.sw - g.pw >= g.W:
        raise ValueError(f"{where}: output {g.OH}x{g.OW} has windows that start past the "
                         f"input {g.H}x{g.W} (window {window}).")
    return 0


def max_pool2d_fwd(x, y, idx, tuple window, int nt):
    """y, idx (P, OH, OW) = window maxima of x (P, H, W) and their flat indices;
    window = (kh, kw, sh, sw, ph, pw, dh, dw)."""
    cdef fnn_pool_geom g
    cdef int t = float_type(x, "max_pool2d_fwd", "x")
    _geometry("max_pool2d_fwd", &g, _shape3("max_pool2d_fwd", "x", x),
              _shape3("max_pool2d_fwd", "y", y), window, True)
    cdef const void *xp = _plane("max_pool2d_fwd", "x", x, t, g.P, g.H, g.W, False)
    cdef void *yp = _plane("max_pool2d_fwd", "y", y, t, g.P, g.OH, g.OW, True)
    cdef int64_t *ip = <int64_t *>_plane("max_pool2d_fwd", "idx", idx, cnp.NPY_INT64,
                                          g.P, g.OH, g.OW, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_max_pool2d_fwd_f32(<const float *>xp, <float *>yp, ip, &g, nt)
        else:
            fnn_max_pool2d_fwd_f64(<const double *>xp, <double *>yp, ip, &g, nt)


def max_pool2d_bwd(gy, idx, gx, int nt):
    """gx (P, H, W) = gy (P, OH, OW) added at the flat indices idx (P, OH, OW)."""
    cdef fnn_pool_geom g
    cdef int t = float_type(gy, "max_pool2d_bwd", "gy")
    g.P, g.OH, g.OW = _shape3("max_pool2d_bwd", "gy", gy)
    _, g.H, g.W = _shape3("max_pool2d_bwd", "gx", gx)
    cdef const void *gyp = _plane("max_pool2d_bwd", "gy", gy, t, g.P, g.OH, g.OW, False)
    cdef const int64_t *ip = <const int64_t *>_plane("max_pool2d_bwd", "idx", idx, cnp.NPY_INT64,
                                                      g.P, g.OH, g.OW, False)
    cdef void *gxp = _plane("max_pool2d_bwd", "gx", gx, t, g.P, g.H, g.W, True)
    cdef ptrdiff_t bad
    with nogil:
        if t == cnp.NPY_FLOAT32:
            bad = fnn_max_pool2d_bwd_f32(<const float *>gyp, ip, <float *>gxp, &g, nt)
        else:
            bad = fnn_max_pool2d_bwd_f64(<const double *>gyp, ip, <double *>gxp, &g, nt)
    if bad:
        raise ValueError(f"max_pool2d_bwd: {bad} indices lie outside their {g.H}x{g.W} plane.")


def avg_pool2d_fwd(x, y, tuple window, bint include_pad, ptrdiff_t divisor, int nt):
    """y (P, OH, OW) = window means of x (P, H, W); window = (kh, kw, sh, sw, ph, pw)."""
    cdef fnn_pool_geom g
    cdef int t = float_type(x, "avg_pool2d_fwd", "x")
    _geometry("avg_pool2d_fwd", &g, _shape3("avg_pool2d_fwd", "x", x),
              _shape3("avg_pool2d_fwd", "y", y), window, False)
    g.include_pad, g.divisor = include_pad, divisor
    cdef const void *xp = _plane("avg_pool2d_fwd", "x", x, t, g.P, g.H, g.W, False)
    cdef void *yp = _plane("avg_pool2d_fwd", "y", y, t, g.P, g.OH, g.OW, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_avg_pool2d_fwd_f32(<const float *>xp, <float *>yp, &g, nt)
        else:
            fnn_avg_pool2d_fwd_f64(<const double *>xp, <double *>yp, &g, nt)


def avg_pool2d_bwd(gy, gx, tuple window, bint include_pad, ptrdiff_t divisor, int nt):
    """gx (P, H, W): each output's gradient spread over its window, / the divisor."""
    cdef fnn_pool_geom g
    cdef int t = float_type(gy, "avg_pool2d_bwd", "gy")
    _geometry("avg_pool2d_bwd", &g, _shape3("avg_pool2d_bwd", "gx", gx),
              _shape3("avg_pool2d_bwd", "gy", gy), window, False)
    g.include_pad, g.divisor = include_pad, divisor
    cdef const void *gyp = _plane("avg_pool2d_bwd", "gy", gy, t, g.P, g.OH, g.OW, False)
    cdef void *gxp = _plane("avg_pool2d_bwd", "gx", gx, t, g.P, g.H, g.W, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_avg_pool2d_bwd_f32(<const float *>gyp, <float *>gxp, &g, nt)
        else:
            fnn_avg_pool2d_bwd_f64(<const double *>gyp, <double *>gxp, &g, nt)
