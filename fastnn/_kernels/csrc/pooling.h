/* 2-D max and average pooling over (P, H, W) planes, P = N * C.
 *
 * Each plane is one block of fnn_parallel_for: its outputs and its input gradient
 * belong to it alone, so no two threads write the same element and the result is
 * bitwise the same for every thread count. Semantics follow torch's CPU kernels
 * (and the Numba twins in _nb_conv.py):
 *
 *   max: the window's maximum, a NaN always taking over (the last NaN wins), the
 *        first index on ties; idx holds the flat index iy * W + ix of the maximum.
 *   avg: the window sum in double, divided by `divisor` when > 0, else by the
 *        window size counted with (include_pad) or without the padding.
 *
 * Backward of max pooling scatters through idx; an index outside its plane is
 * never followed (counted and reported instead).
 */
#ifndef FASTNN_POOLING_H
#define FASTNN_POOLING_H
#include "fastnn_common.h"
#include "parallel.h"

typedef struct {
    ptrdiff_t P, H, W, OH, OW;
    ptrdiff_t kh, kw, sh, sw, ph, pw, dh, dw;
    int include_pad;
    ptrdiff_t divisor;
} fnn_pool_geom;

typedef struct {
    const fnn_pool_geom *g;
    const void *in;
    void *out;
    const int64_t *idx_in;
    int64_t *idx_out;
    ptrdiff_t bad;          /* max_pool2d_bwd: indices outside their plane */
} fnn_pool_ctx;

/* torch's average-pool window along one axis: [*lo, *hi) inside the input, and the
 * window size counted with the padding. */
static inline ptrdiff_t fnn_avg_window(ptrdiff_t o, ptrdiff_t s, ptrdiff_t p, ptrdiff_t k,
                                       ptrdiff_t n, ptrdiff_t *lo, ptrdiff_t *hi) {
    const ptrdiff_t a = o * s - p;
    const ptrdiff_t e = a + k < n + p ? a + k : n + p;
    *lo = a > 0 ? a : 0;
    *hi = e < n ? e : n;
    return e - a;
}

static inline ptrdiff_t fnn_avg_divisor(const fnn_pool_geom *g, ptrdiff_t ysz, ptrdiff_t xsz,
                                        ptrdiff_t ya, ptrdiff_t ye, ptrdiff_t xa, ptrdiff_t xe) {
    if (g->divisor > 0)
        return g->divisor;
    return g->include_pad ? ysz * xsz : (ye - ya) * (xe - xa);
}

static inline int fnn_pool_is_2x2(const fnn_pool_geom *g) {
    return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->ph == 0 && g->pw == 0
        && 2 * g->OH <= g->H && 2 * g->OW <= g->W;
}

/* ---- float32 ---- */
#define T float
#define SFX f32
#define NEG_INF (-HUGE_VALF)
#include "pooling_impl.h"
#undef T
#undef SFX
#undef NEG_INF

/* ---- float64 ---- */
#define T double
#define SFX f64
#define NEG_INF (-HUGE_VAL)
#include "pooling_impl.h"
#undef T
#undef SFX
#undef NEG_INF

#endif
