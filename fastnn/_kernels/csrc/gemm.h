/* GEMM on fastnn's pool, with BLAS kept single-threaded under it (part of _cpool).
 *
 * BLAS is NumPy's own OpenBLAS, reached through the CBLAS symbols of the
 * scipy-openblas64 library NumPy ships (installed from Python by fnn_blas_install).
 * While any fastnn call is inside a BLAS section, OpenBLAS's process-wide thread
 * count is 1, so it never wakes its own threads under ours; the count it had
 * (the one fn.set_num_threads sets for everybody else) comes back when the last
 * section ends.
 *
 * A parallel GEMM splits C by rows into blocks of FNN_GEMM_ROWS, each block one
 * serial BLAS call on one pool thread. OpenBLAS computes each element of C with
 * the same k-order whatever the row offset of a call, as long as the offset is a
 * multiple of its kernel's unroll (12 rows for sgemm on Haswell/Zen, 1 for dgemm),
 * so a split at multiples of FNN_GEMM_ROWS gives the same bits as one call: the
 * result does not depend on the thread count (tests/test_threads.py checks it).
 */
#ifndef FASTNN_GEMM_H
#define FASTNN_GEMM_H
#include "pool.h"

#ifndef FNN_GEMM_ROWS
#define FNN_GEMM_ROWS 24
#endif

typedef void (*fnn_blas_set_threads_t)(int);
typedef int (*fnn_blas_get_threads_t)(void);

static fnn_sgemm_t fnn_blas_sgemm;
static fnn_dgemm_t fnn_blas_dgemm;
static fnn_blas_set_threads_t fnn_blas_set;
static fnn_blas_get_threads_t fnn_blas_get;
static pthread_mutex_t fnn_blas_lock = PTHREAD_MUTEX_INITIALIZER;
static int fnn_blas_depth;      /* BLAS sections in progress */
static int fnn_blas_outside;    /* OpenBLAS's thread count outside the sections */
static _Atomic uint64_t fnn_blas_calls;

static void fnn_blas_serial_begin(void) {
    if (!fnn_blas_set)
        return;
    pthread_mutex_lock(&fnn_blas_lock);
    if (fnn_blas_depth++ == 0) {
        fnn_blas_outside = fnn_blas_get();
        if (fnn_blas_outside != 1)
            fnn_blas_set(1);
    }
    pthread_mutex_unlock(&fnn_blas_lock);
}

static void fnn_blas_serial_end(void) {
    if (!fnn_blas_set)
        return;
    pthread_mutex_lock(&fnn_blas_lock);
    if (--fnn_blas_depth == 0 && fnn_blas_outside != 1)
        fnn_blas_set(fnn_blas_outside);
    pthread_mutex_unlock(&fnn_blas_lock);
}

/* OpenBLAS's thread count for everything outside fastnn's sections; returns the old one. */
static int fnn_blas_set_outside(int n) {
    if (!fnn_blas_set)
        return 0;
    pthread_mutex_lock(&fnn_blas_lock);
    int old;
    if (fnn_blas_depth > 0) {
        old = fnn_blas_outside;
        fnn_blas_outside = n;
    } else {
        old = fnn_blas_get();
        if (old != n)
            fnn_blas_set(n);
    }
    pthread_mutex_unlock(&fnn_blas_lock);
    return old;
}

static int fnn_blas_get_outside(void) {
    if (!fnn_blas_get)
        return 0;
    pthread_mutex_lock(&fnn_blas_lock);
    const int n = fnn_blas_depth > 0 ? fnn_blas_outside : fnn_blas_get();
    pthread_mutex_unlock(&fnn_blas_lock);
    return n;
}

/* One GEMM on the calling thread (the caller holds a BLAS section). */
#define FNN_GEMM_DEFINE(T, P, BLASFN)                                                            \
static int fnn_##P##gemm_here(int ta, int tb, int64_t M, int64_t N, int64_t K, T alpha,          \
                              const T *A, int64_t lda, const T *B, int64_t ldb, T beta, T *C,    \
                              int64_t ldc) {                                                     \
    if (!BLASFN)                                                                                 \
        return 0;                                                                                \
    if (M > 0 && N > 0)                                                                          \
        BLASFN(FNN_ROW_MAJOR, ta ? FNN_TRANS : FNN_NO_TRANS, tb ? FNN_TRANS : FNN_NO_TRANS,      \
               M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);                                    \
    atomic_fetch_add_explicit(&fnn_blas_calls, 1, memory_order_relaxed);                         \
    return 1;                                                                                    \
}                                                                                                \
                                                                                                 \
/* The same for a caller outside any section (a kernel body on a pool thread). */                \
static int fnn_##P##gemm_serial(int ta, int tb, int64_t M, int64_t N, int64_t K, T alpha,        \
                                const T *A, int64_t lda, const T *B, int64_t ldb, T beta, T *C,  \
                                int64_t ldc) {                                                   \
    fnn_blas_serial_begin();                                                                     \
    const int ok = fnn_##P##gemm_here(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);     \
    fnn_blas_serial_end();                                                                       \
    return ok;                                                                                   \
}                                                                                                \
                                                                                                 \
typedef struct {                                                                                 \
    int ta, tb;                                                                                  \
    int64_t M, N, K, lda, ldb, ldc;                                                              \
    T alpha, beta;                                                                               \
    const T *A, *B;                                                                              \
    T *C;                                                                                        \
} fnn_##P##gemm_job;                                                                             \
                                                                                                 \
static void fnn_##P##gemm_rows(void *ctx, ptrdiff_t b0, ptrdiff_t b1) {                          \
    const fnn_##P##gemm_job *j = (const fnn_##P##gemm_job *)ctx;                                 \
    const int64_t m0 = (int64_t)b0 * FNN_GEMM_ROWS;                                              \
    const int64_t m1 = (int64_t)b1 * FNN_GEMM_ROWS < j->M ? (int64_t)b1 * FNN_GEMM_ROWS : j->M;  \
    const T *a = j->ta ? j->A + m0 : j->A + m0 * j->lda;                                         \
    fnn_##P##gemm_here(j->ta, j->tb, m1 - m0, j->N, j->K, j->alpha, a, j->lda, j->B, j->ldb,     \
                       j->beta, j->C + m0 * j->ldc, j->ldc);                                     \
}                                                                                                \
                                                                                                 \
static int fnn_##P##gemm_nt(int ta, int tb, int64_t M, int64_t N, int64_t K, T alpha,            \
                            const T *A, int64_t lda, const T *B, int64_t ldb, T beta, T *C,      \
                            int64_t ldc, int nt) {                                               \
    if (!BLASFN)                                                                                 \
        return 0;                                                                                \
    const ptrdiff_t nb = (ptrdiff_t)((M + FNN_GEMM_ROWS - 1) / FNN_GEMM_ROWS);                   \
    fnn_blas_serial_begin();                                                                     \
    if (nt > 1 && nb > 1) {                                                                      \
        fnn_##P##gemm_job j = {ta, tb, M, N, K, lda, ldb, ldc, alpha, beta, A, B, C};            \
        /* one range per thread: each range packs its own copy of B */                           \
        fnn_pool_parallel_for(nb, nt, nt, fnn_##P##gemm_rows, &j);                               \
    } else {                                                                                     \
        fnn_##P##gemm_here(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);                \
    }                                                                                            \
    fnn_blas_serial_end();                                                                       \
    return 1;                                                                                    \
}

FNN_GEMM_DEFINE(float, s, fnn_blas_sgemm)
FNN_GEMM_DEFINE(double, d, fnn_blas_dgemm)

static const fnn_pool_api fnn_pool_table = {
    FNN_POOL_ABI,
    fnn_pool_parallel_for,
    fnn_pool_scratch,
    fnn_sgemm_serial,
    fnn_dgemm_serial,
    fnn_sgemm_nt,
    fnn_dgemm_nt,
    fnn_blas_serial_begin,
    fnn_blas_serial_end,
};

#endif
