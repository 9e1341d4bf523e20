# cython: language_level=3
"""fastnn's thread pool (csrc/pool.h) and the GEMM that runs on it (csrc/gemm.h).

One instance per process. Kernel extensions reach it through the capsule
``_C_API`` (csrc/parallel.h); Python reaches it through :mod:`fastnn._kernels.threads`
(thread counts, BLAS) and :mod:`fastnn._kernels.gemm`, whose arrays each wrapper
checks (``_ccheck``: dtype, byte order, layout, shapes) before the GIL is released.
"""
cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_New
from libc.stdint cimport int64_t, uint64_t, uintptr_t

from fastnn._kernels._ccheck cimport float_type, ndim, same

cnp.import_array()

cdef extern from "gemm.h" nogil:
    ctypedef void (*fnn_range_fn)(void *, ptrdiff_t, ptrdiff_t)
    ctypedef struct fnn_pool_api:
        pass
    ctypedef void (*fnn_sgemm_t)(int, int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                                 const float *, int64_t, float, float *, int64_t)
    ctypedef void (*fnn_dgemm_t)(int, int, int, int64_t, int64_t, int64_t, double, const double *, int64_t,
                                 const double *, int64_t, double, double *, int64_t)
    ctypedef void (*fnn_blas_set_threads_t)(int)
    ctypedef int (*fnn_blas_get_threads_t)()
    ctypedef struct fnn_pool_t:
        int nworkers
        int64_t spin_ns
        uint64_t jobs, serial_busy, ranges_by_workers, ranges_by_caller
    fnn_pool_t fnn_P
    const fnn_pool_api fnn_pool_table
    fnn_sgemm_t fnn_blas_sgemm
    fnn_dgemm_t fnn_blas_dgemm
    fnn_blas_set_threads_t fnn_blas_set
    fnn_blas_get_threads_t fnn_blas_get
    uint64_t fnn_blas_calls
    int fnn_pool_init()
    int fnn_grow(int)
    void fnn_pool_parallel_for(ptrdiff_t, int, ptrdiff_t, fnn_range_fn, void *)
    int fnn_blas_set_outside(int)
    int fnn_blas_get_outside()
    int fnn_sgemm_nt(int, int, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *,
                     int64_t, float, float *, int64_t, int)
    int fnn_dgemm_nt(int, int, int64_t, int64_t, int64_t, double, const double *, int64_t, const double *,
                     int64_t, double, double *, int64_t, int)
    const char *FNN_POOL_CAPSULE
    int FNN_GEMM_ROWS

if fnn_pool_init() != 0:
    raise ImportError("fastnn._kernels._cpool: could not set up the thread pool (pthread_atfork)")

_C_API = PyCapsule_New(<void *>&fnn_pool_table, FNN_POOL_CAPSULE, NULL)

#: rows per GEMM block: a split at multiples of this keeps BLAS's bits
GEMM_ROWS = FNN_GEMM_ROWS


def set_blas(uintptr_t sgemm, uintptr_t dgemm, uintptr_t set_threads, uintptr_t get_threads):
    """Install CBLAS sgemm/dgemm (row-major, 64-bit integers) and BLAS's thread-count
    setter/getter, as addresses (0 for none)."""
    global fnn_blas_sgemm, fnn_blas_dgemm, fnn_blas_set, fnn_blas_get
    fnn_blas_sgemm = <fnn_sgemm_t>sgemm
    fnn_blas_dgemm = <fnn_dgemm_t>dgemm
    fnn_blas_get = <fnn_blas_get_threads_t>get_threads
    fnn_blas_set = <fnn_blas_set_threads_t>set_threads


def blas_available():
    """True once set_blas installed both GEMMs and the thread-count controls."""
    return (fnn_blas_sgemm != NULL and fnn_blas_dgemm != NULL and fnn_blas_set != NULL
            and fnn_blas_get != NULL)


def set_blas_threads(int n):
    """BLAS's own thread count outside fastnn's calls (fastnn's calls always run it
    single-threaded on the pool); returns the previous count, 0 without BLAS."""
    return fnn_blas_set_outside(n)


def get_blas_threads():
    """BLAS's thread count outside fastnn's calls (0 without BLAS)."""
    return fnn_blas_get_outside()


def set_spin_us(int us):
    """How long idle workers spin before they sleep (microseconds)."""
    fnn_P.spin_ns = <int64_t>us * 1000


def stats():
    """Counters: workers alive, parallel jobs run, jobs run serially because another
    thread held the pool, ranges run by workers / by callers, BLAS calls, spin (us)."""
    return {"workers": fnn_P.nworkers, "jobs": fnn_P.jobs, "serial_busy": fnn_P.serial_busy,
            "ranges_by_workers": fnn_P.ranges_by_workers, "ranges_by_caller": fnn_P.ranges_by_caller,
            "blas_calls": fnn_blas_calls, "spin_us": fnn_P.spin_ns // 1000}


def gemm(cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, bint ta, bint tb, double alpha, double beta,
         int nt):
    """c = alpha op(a) op(b) + beta c on up to nt pool threads (op: transpose when ta/tb);
    all 2-D, C-contiguous, one float dtype. Returns False where no BLAS is installed."""
    cdef int t = float_type(c, "gemm", "c")
    same(a, t, -1, "gemm", "a")
    same(b, t, -1, "gemm", "b")
    ndim(a, 2, "gemm", "a")
    ndim(b, 2, "gemm", "b")
    ndim(c, 2, "gemm", "c")
    cdef int64_t am = a.shape[1] if ta else a.shape[0], ak = a.shape[0] if ta else a.shape[1]
    cdef int64_t bk = b.shape[1] if tb else b.shape[0], bn = b.shape[0] if tb else b.shape[1]
    if am != c.shape[0] or bn != c.shape[1] or ak != bk:
        raise ValueError(f"gemm: op(a) {(am, ak)} @ op(b) {(bk, bn)} does not give c of shape "
                         f"{(<object>c).shape}.")
    cdef int64_t M = cnp.PyArray_DIM(c, 0), N = cnp.PyArray_DIM(c, 1)
    cdef int64_t K = cnp.PyArray_DIM(a, 0) if ta else cnp.PyArray_DIM(a, 1)
    cdef int64_t lda = cnp.PyArray_DIM(a, 1), ldb = cnp.PyArray_DIM(b, 1), ldc = N
    cdef void *ap = cnp.PyArray_DATA(a)
    cdef void *bp = cnp.PyArray_DATA(b)
    cdef void *cp = cnp.PyArray_DATA(c)
    cdef int ok
    if cnp.PyArray_TYPE(c) == cnp.NPY_FLOAT32:
        with nogil:
            ok = fnn_sgemm_nt(ta, tb, M, N, K, <float>alpha, <const float *>ap, lda, <const float *>bp, ldb,
                              <float>beta, <float *>cp, ldc, nt)
    else:
        with nogil:
            ok = fnn_dgemm_nt(ta, tb, M, N, K, alpha, <const double *>ap, lda, <const double *>bp, ldb,
                              beta, <double *>cp, ldc, nt)
    return bool(ok)


# ---- probes for the pool's own tests ----

cdef struct _probe:
    int64_t *hits
    int64_t spin


cdef void _probe_body(void *ctx, ptrdiff_t b0, ptrdiff_t b1) noexcept nogil:
    cdef _probe *p = <_probe *>ctx
    cdef ptrdiff_t b
    cdef int64_t i
    cdef volatile int64_t sink = 0
    for b in range(b0, b1):
        p.hits[b] += 1
        for i in range(p.spin):
            sink += i


def probe(cnp.ndarray hits, int nt, int64_t spin=0, int64_t nranges=0):
    """hits[b] += 1 for every block b of len(hits) (int64), through the pool on nt
    threads, each block also spinning ``spin`` iterations."""
    same(hits, cnp.NPY_INT64, -1, "probe", "hits")
    cdef _probe p
    p.hits = <int64_t *>cnp.PyArray_DATA(hits)
    p.spin = spin
    cdef ptrdiff_t n = cnp.PyArray_SIZE(hits)
    with nogil:
        fnn_pool_parallel_for(n, nt, nranges, _probe_body, &p)
    return hits
