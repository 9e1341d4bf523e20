/* Small-batch fused linear: y[i, j] = act(sum_p x[i, p] * w[j, p] + b[j]).
 *
 * For a handful of rows (single-sample inference) BLAS's GEMV spends more on
 * dispatch and thread hand-off than on the arithmetic, and the bias add and the
 * activation each cost another pass and a Python call. This kernel reads W once,
 * in its stored (out, in) row-major layout, a few rows at a time, computing those
 * rows' dot products for every sample while they sit in L1. Serial on purpose:
 * waking a second thread costs more than the whole call.
 */
#ifndef FASTNN_LINEAR_H
#define FASTNN_LINEAR_H
#include "fastnn_common.h"
#include "parallel.h"

enum { FNN_ACT_NONE = 0, FNN_ACT_RELU = 1 };

/* out (r, m) = in (r, k) wᵀ for w (m, k), on the calling thread */
static inline int lin_gemm_f32(ptrdiff_t r, ptrdiff_t m, ptrdiff_t k, const float *in,
                               const float *w, float *out) {
    return fnn_pool->sgemm(0, 1, r, m, k, 1.0f, in, k, w, k, 0.0f, out, m);
}

static inline int lin_gemm_f64(ptrdiff_t r, ptrdiff_t m, ptrdiff_t k, const double *in,
                               const double *w, double *out) {
    return fnn_pool->dgemm(0, 1, r, m, k, 1.0, in, k, w, k, 0.0, out, m);
}

#define T float
#define SFX f32
#include "linear_impl.h"
#undef T
#undef SFX

#define T double
#define SFX f64
#include "linear_impl.h"
#undef T
#undef SFX

#endif
