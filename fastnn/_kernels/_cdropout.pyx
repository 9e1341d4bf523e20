# cython: language_level=3
"""C dropout kernels (csrc/dropout.h): the counter-based keep mask fused with the apply.

Callers (fastnn._kernels.dropout) pass C-contiguous arrays; every array is checked
here (float32/float64 data of one dtype in native byte order, uint8 masks, sizes:
the shared checks of _ccheck.pxd), so no call can make the C code read or write past
a buffer or misread its bytes.
"""
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport uint8_t, uint32_t

from fastnn._kernels._ccheck cimport float_type, is_kernel_array, same

cnp.import_array()

cdef extern from "parallel.h":
    int fnn_pool_import() except -1

fnn_pool_import()   # the parallel loops run on fastnn's pool (the _cpool extension)

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


# dtype, byte order, layout and size: the checks shared by every C wrapper (_ccheck.pxd)
cdef void *_data(str where, str name, object a, int t, ptrdiff_t n, bint write) except? NULL:
    """The data pointer of a checked array: type number t, native byte order,
    C-contiguous, n elements (writeable when the kernel writes it)."""
    same(a, t, n, where, name)
    if write and not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a):
        raise ValueError(f"{where}: {name} must be writeable, got a read-only array.")
    return cnp.PyArray_DATA(<cnp.ndarray>a)


cdef uint8_t *_mask(str where, str name, object a, ptrdiff_t n, bint write) except? NULL:
    """A checked uint8 mask of n elements (_ccheck names float and int64 arrays only)."""
    if not is_kernel_array(a, cnp.NPY_UINT8):
        if not isinstance(a, cnp.ndarray):
            raise TypeError(f"{where}: {name} must be a C-contiguous uint8 array, got "
                            f"{type(a).__name__}.")
        raise TypeError(f"{where}: {name} must be a C-contiguous uint8 array, got an array of "
                        f"dtype {a.dtype}, shape {a.shape}, "
                        f"C-contiguous={a.flags.c_contiguous}.")
    if cnp.PyArray_SIZE(<cnp.ndarray>a) != n:
        raise ValueError(f"{where}: {name} must hold {n} elements, got shape {a.shape}.")
    if write and not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a):
        raise ValueError(f"{where}: {name} must be writeable, got a read-only array.")
    return <uint8_t *>cnp.PyArray_DATA(<cnp.ndarray>a)


def dropout_fwd(x, out, mask, uint32_t k0, uint32_t k1, uint32_t thr, double s, double c1,
                double c0, int nt):
    """out = x * (keep ? s : 0) + (keep ? c1 : c0), mask = keep (uint8); out may be x."""
    cdef int t = float_type(x, "dropout_fwd", "x")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(<cnp.ndarray>x)
    cdef const void *xp = cnp.PyArray_DATA(<cnp.ndarray>x)
    cdef void *op = _data("dropout_fwd", "out", out, t, n, True)
    cdef uint8_t *mp = _mask("dropout_fwd", "mask", mask, n, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_dropout_fwd_f32(<const float *>xp, <float *>op, mp, n, k0, k1, thr, s, c1, c0, nt)
        else:
            fnn_dropout_fwd_f64(<const double *>xp, <double *>op, mp, n, k0, k1, thr, s, c1, c0, nt)


def dropout_mask(mask, uint32_t k0, uint32_t k1, uint32_t thr, int nt):
    """mask[i] = hash32(i) >= thr (uint8), the decisions dropout_fwd makes."""
    if not isinstance(mask, cnp.ndarray):
        raise TypeError(f"dropout_mask: mask must be a C-contiguous uint8 array, got "
                        f"{type(mask).__name__}.")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(<cnp.ndarray>mask)
    cdef uint8_t *mp = _mask("dropout_mask", "mask", mask, n, True)
    with nogil:
        fnn_dropout_mask(mp, n, k0, k1, thr, nt)


def dropout_bwd(g, mask, out, double s, int nt):
    """out = g * (mask ? s : 0)."""
    cdef int t = float_type(g, "dropout_bwd", "g")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(<cnp.ndarray>g)
    cdef const void *gp = cnp.PyArray_DATA(<cnp.ndarray>g)
    cdef const uint8_t *mp = _mask("dropout_bwd", "mask", mask, n, False)
    cdef void *op = _data("dropout_bwd", "out", out, t, n, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_dropout_bwd_f32(<const float *>gp, mp, <float *>op, n, s, nt)
        else:
            fnn_dropout_bwd_f64(<const double *>gp, mp, <double *>op, n, s, nt)


def channel_apply(x, mask, out, double s, double c1, double c0, int nt):
    """Row r of x viewed as (mask.size, -1): out = x * (m ? s : 0) + (m ? c1 : c0)."""
    cdef int t = float_type(x, "channel_apply", "x")
    cdef ptrdiff_t n = cnp.PyArray_SIZE(<cnp.ndarray>x)
    if not isinstance(mask, cnp.ndarray):
        raise TypeError(f"channel_apply: mask must be a C-contiguous uint8 array, got "
                        f"{type(mask).__name__}.")
    cdef ptrdiff_t rows = cnp.PyArray_SIZE(<cnp.ndarray>mask)
    if (rows == 0 and n != 0) or (rows > 0 and n % rows != 0):
        raise ValueError(f"channel_apply: x of {n} elements is not {rows} rows.")
    cdef ptrdiff_t inner = n // rows if rows > 0 else 0
    cdef const uint8_t *mp = _mask("channel_apply", "mask", mask, rows, False)
    cdef const void *xp = cnp.PyArray_DATA(<cnp.ndarray>x)
    cdef void *op = _data("channel_apply", "out", out, t, n, True)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fnn_channel_apply_f32(<const float *>xp, mp, <float *>op, rows, inner, s, c1, c0, nt)
        else:
            fnn_channel_apply_f64(<const double *>xp, mp, <double *>op, rows, inner, s, c1, c0, nt)
