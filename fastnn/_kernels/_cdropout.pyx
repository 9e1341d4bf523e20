# cython: language_level=3
"""C dropout kernels (csrc/dropout.h): the counter-based keep mask fused with the apply.

Callers (fastnn._kernels.dropout) pass C-contiguous arrays; every array is checked
here (float32/float64 data of one dtype, uint8 masks, sizes), so no call can make the
C code read or write past a buffer.
"""
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport uint8_t, uint32_t

cnp.import_array()

cdef extern from "dropout.h" nogil:
    void fnn_dropout_mask(uint8_t *, ptrdiff_t, uint32_t, uint32_t, uint32_t, int)
    void fnn_dropout_fwd_f32(const float *, float *, uint8_t *, ptrdiff_t, uint32_t, uint32_t,
                             uint32_t, double, double, double, int)
    void fnn_dropout_fwd_f64(const double *, double *, uint8_t *, ptrdiff_t, uint32_t, uint32_t,
                             uint32_t, double, double, double, int)
    void fnn_dropout_bwd_f32(const float *, const uint8_t *, float *, ptrdiff_t, double, int)
    void fnn_dropout_bwd_f64(const double *, const uint8_t *, double *, ptrdiff_t, double, int)
    void fnn_channel_apply_f32(const float *, const uint8_t *, float *, ptrdiff_t, ptrdiff_t,
                               double, double, double, int)
    void fnn_channel_apply_f64(const double *, const uint8_t *, double *, ptrdiff_t, ptrdiff_t,
                               double, double, double, int)


cdef int _float(str where, str name, object a) except -1:
    if type(a) is not cnp.ndarray:
        raise TypeError(f"{where}: expected {name} to be a numpy.ndarray, got {type(a).__name__}.")
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>a)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError(f"{where}: expected {name} of dtype float32 or float64, got "
                        f"{(<cnp.ndarray>a).dtype}.")
    if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a):
        raise ValueError(f"{where}: expected {name} to be C-contiguous.")
    return t


cdef void *_data(str where, str name, object a, int t, ptrdiff_t n, bint write) except? NULL:
    """The data pointer of a checked array: type number t, C-contiguous, n elements."""
    if type(a) is not cnp.ndarray:
        raise TypeError(f"{where}: expected {name} to be a numpy.ndarray, got {type(a).__name__}.")
    cdef cnp.ndarray x = <cnp.ndarray>a
    if cnp.PyArray_TYPE(x) != t:
        raise TypeError(f"{where}: expected {name} of dtype "
                        f"{cnp.PyArray_DescrFromType(t)}, got {x.dtype}.")
    if not cnp.PyArray_IS_C_CONTIGUOUS(x):
        raise ValueError(f"{where}: expected {name} to be C-contiguous.")
    if cnp.PyArray_SIZE(x) != n:
        raise ValueError(f"{where}: expected {name} of {n} elements, got {cnp.PyArray_SIZE(x)}.")
    if write and not cnp.PyArray_ISWRITEABLE(x):
        raise ValueError(f"{where}: {name} is read-only.")
    return cnp.PyArray_DATA(x)


def dropout_fwd(x, out, mask, uint32_t k0, uint32_t k1, uint32_t thr, double s, double c1,
                double c0, int nt):
    """out = x * (keep ? s : 0) + (keep ? c1 : c0), mask = keep (uint8); out may be x."""
    cdef int t = _float("dropout_fwd", "x", x)
    cdef ptrdiff_t n = cnp.PyArray_SIZE(<cnp.ndarray>x)
    cdef const void *xp = cnp.PyArray_DATA(<cnp.ndarray>x)
    cdef void *op = _data("dropout_fwd", "out", out, t, n, True)
    cdef uint8_t *mp = <uint8_t *>_data("dropout_fwd", "mask", mask, cnp.NPY_UINT8, n, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_dropout_fwd_f32(<const float *>xp, <float *>op, mp, n, k0, k1, thr, s, c1, c0, nt)
        else:
            fnn_dropout_fwd_f64(<const double *>xp, <double *>op, mp, n, k0, k1, thr, s, c1, c0, nt)


def dropout_mask(mask, uint32_t k0, uint32_t k1, uint32_t thr, int nt):
    """mask[i] = hash32(i) >= thr (uint8), the decisions dropout_fwd makes."""
    if type(mask) is not cnp.ndarray:
        raise TypeError(f"dropout_mask: expected mask to be a numpy.ndarray, got {type(mask).__name__}.")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(<cnp.ndarray>mask)
    cdef uint8_t *mp = <uint8_t *>_data("dropout_mask", "mask", mask, cnp.NPY_UINT8, n, True)
    with nogil:
        fnn_dropout_mask(mp, n, k0, k1, thr, nt)


def dropout_bwd(g, mask, out, double s, int nt):
    """out = g * (mask ? s : 0)."""
    cdef int t = _float("dropout_bwd", "g", g)
    cdef ptrdiff_t n = cnp.PyArray_SIZE(<cnp.ndarray>g)
    cdef const void *gp = cnp.PyArray_DATA(<cnp.ndarray>g)
    cdef const uint8_t *mp = <const uint8_t *>_data("dropout_bwd", "mask", mask, cnp.NPY_UINT8, n, False)
    cdef void *op = _data("dropout_bwd", "out", out, t, n, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_dropout_bwd_f32(<const float *>gp, mp, <float *>op, n, s, nt)
        else:
            fnn_dropout_bwd_f64(<const double *>gp, mp, <double *>op, n, s, nt)


def channel_apply(x, mask, out, double s, double c1, double c0, int nt):
    """Row r of x viewed as (mask.size, -1): out = x * (m ? s : 0) + (m ? c1 : c0)."""
    cdef int t = _float("channel_apply", "x", x)
    cdef ptrdiff_t n = cnp.PyArray_SIZE(<cnp.ndarray>x)
    if type(mask) is not cnp.ndarray:
        raise TypeError(f"channel_apply: expected mask to be a numpy.ndarray, got {type(mask).__name__}.")
    cdef ptrdiff_t rows = cnp.PyArray_SIZE(<cnp.ndarray>mask)
    if (rows == 0 and n != 0) or (rows > 0 and n % rows != 0):
        raise ValueError(f"channel_apply: x of {n} elements is not {rows} rows.")
    cdef ptrdiff_t inner = n // rows if rows > 0 else 0
    cdef const uint8_t *mp = <const uint8_t *>_data("channel_apply", "mask", mask, cnp.NPY_UINT8,
                                                    rows, False)
    cdef const void *xp = cnp.PyArray_DATA(<cnp.ndarray>x)
    cdef void *op = _data("channel_apply", "out", out, t, n, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_channel_apply_f32(<const float *>xp, mp, <float *>op, rows, inner, s, c1, c0, nt)
        else:
            fnn_channel_apply_f64(<const double *>xp, mp, <double *>op, rows, inner, s, c1, c0, nt)
