/* fastnn's one parallel loop for C kernels, and the GEMM they share.
 *
 * fnn_parallel_for(nblocks, nt, body, ctx) calls body(ctx, b0, b1) on contiguous
 * ranges that together cover blocks [0, nblocks) exactly once, on at most nt
 * threads (nt <= 1 or nblocks <= 1: one call on the calling thread, no thread
 * touched). A range may run on any thread, and one thread may run several, so a
 * kernel cuts its work into fixed-size blocks that do not depend on nt and
 * combines per-block partial results in block order: its result is then bitwise
 * the same for every thread count.
 *
 * The threads are fastnn's own pool (csrc/pool.h, compiled once into the _cpool
 * extension). A kernel extension fetches the pool's function table when it loads:
 *
 *     cdef extern from "parallel.h":
 *         int fnn_pool_import() except -1
 *     fnn_pool_import()
 *
 * Every C kernel goes through fnn_parallel_for, never through "#pragma omp
 * parallel" ("#pragma omp simd" inside a block is fine): one pool owns the cores.
 *
 * Inside a body, fnn_scratch(bytes) is this thread's reusable scratch buffer
 * (64-byte aligned; valid until its next call on the same thread; NULL when out
 * of memory), and fnn_sgemm/fnn_dgemm run a row-major GEMM on the calling thread
 * with BLAS kept single-threaded (NumPy's OpenBLAS; 0 returned where no BLAS was
 * found). fnn_sgemm_nt/fnn_dgemm_nt split a GEMM over the pool by rows.
 */
#ifndef FASTNN_PARALLEL_H
#define FASTNN_PARALLEL_H
#include <Python.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*fnn_range_fn)(void *ctx, ptrdiff_t b0, ptrdiff_t b1);

/* CBLAS row-major GEMM with 64-bit integers (the scipy-openblas64 interface) */
enum { FNN_ROW_MAJOR = 101, FNN_NO_TRANS = 111, FNN_TRANS = 112 };
typedef void (*fnn_sgemm_t)(int, int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                            const float *, int64_t, float, float *, int64_t);
typedef void (*fnn_dgemm_t)(int, int, int, int64_t, int64_t, int64_t, double, const double *, int64_t,
                            const double *, int64_t, double, double *, int64_t);

#define FNN_POOL_ABI 1
#define FNN_POOL_CAPSULE "fastnn._kernels._cpool._C_API"

typedef struct {
    int abi;
    /* nchunks <= 0: the pool's default number of ranges */
    void (*parallel_for)(ptrdiff_t nblocks, int nt, ptrdiff_t nchunks, fnn_range_fn body, void *ctx);
    void *(*scratch)(size_t bytes);
    /* C = alpha op(A) op(B) + beta C, row-major, on the calling thread; 0 without BLAS */
    int (*sgemm)(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                 int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
    int (*dgemm)(int ta, int tb, int64_t M, int64_t N, int64_t K, double alpha, const double *A,
                 int64_t lda, const double *B, int64_t ldb, double beta, double *C, int64_t ldc);
    /* the same split over nt pool threads by blocks of rows (bitwise the same for any nt) */
    int (*sgemm_nt)(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                    int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc, int nt);
    int (*dgemm_nt)(int ta, int tb, int64_t M, int64_t N, int64_t K, double alpha, const double *A,
                    int64_t lda, const double *B, int64_t ldb, double beta, double *C, int64_t ldc, int nt);
    /* bracket BLAS calls made from pool threads: BLAS runs single-threaded inside */
    void (*blas_serial_begin)(void);
    void (*blas_serial_end)(void);
} fnn_pool_api;

static const fnn_pool_api *fnn_pool = NULL;

/* Fetch the pool's table (call once at module init, with the GIL); -1 with an
 * ImportError set when the _cpool extension is missing or from another build. */
static int fnn_pool_import(void) {
    /* import the pool's module first: PyCapsule_Import only walks attributes, and the
       submodule is not one until imported (the Numba engine never loads it itself) */
    PyObject *mod = PyImport_ImportModule("fastnn._kernels._cpool");
    if (!mod)
        return -1;
    Py_DECREF(mod);
    const fnn_pool_api *api = (const fnn_pool_api *)PyCapsule_Import(FNN_POOL_CAPSULE, 0);
    if (!api)
        return -1;
    if (api->abi != FNN_POOL_ABI) {
        PyErr_Format(PyExc_ImportError, "fastnn._kernels._cpool has ABI %d, this extension needs %d: "
                     "rebuild fastnn (python setup.py build_ext --inplace)", api->abi, FNN_POOL_ABI);
        return -1;
    }
    fnn_pool = api;
    return 0;
}

static inline void fnn_parallel_for(ptrdiff_t nblocks, int nt, fnn_range_fn body, void *ctx) {
    if (nblocks <= 0)
        return;
    if (nt > 1 && nblocks > 1 && fnn_pool)
        fnn_pool->parallel_for(nblocks, nt, 0, body, ctx);
    else
        body(ctx, 0, nblocks);
}

/* The same, with the number of ranges chosen by the kernel (e.g. one per thread
 * when each range repeats a fixed cost such as packing a GEMM operand). */
static inline void fnn_parallel_for_ranges(ptrdiff_t nblocks, int nt, ptrdiff_t nranges,
                                           fnn_range_fn body, void *ctx) {
    if (nblocks <= 0)
        return;
    if (nt > 1 && nblocks > 1 && fnn_pool)
        fnn_pool->parallel_for(nblocks, nt, nranges, body, ctx);
    else
        body(ctx, 0, nblocks);
}

static inline void *fnn_scratch(size_t bytes) {
    return fnn_pool ? fnn_pool->scratch(bytes) : NULL;
}

#endif
