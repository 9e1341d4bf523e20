/* softmax / log_softmax over the last axis of a C-contiguous (rows, d) array.
 *
 * One parallel loop over rows (fnn_parallel_for); each row is read three times while it sits in L1:
 * max (so exp never overflows: logits of +-1e4 stay finite), exp + sum, scale.
 * A NaN anywhere in a row makes the whole row NaN (exp(NaN - m) poisons the sum),
 * as in torch. Backward:
 *   softmax      dx = y (g - sum(g y))
 *   log_softmax  dx = g - exp(y) sum(g)
 */
#ifndef FASTNN_SOFTMAX_H
#define FASTNN_SOFTMAX_H
#include "fastnn_common.h"

/* A row's last d % FNN_SM_TAIL elements go through the same vector exp as the rest,
 * in a block padded with -inf (exp gives 0): a scalar tail cost ~15% at d = 1000. */
#define FNN_SM_TAIL 16
#define FNN_DEF_SOFTMAX(T, SFX, EXP, LOG)                                           \
typedef struct {                                                                    \
    const T *x, *g;                                                                 \
    T *y;                                                                           \
    ptrdiff_t d;                                                                    \
    int log_out;                                                                    \
} FNN_CAT(fnn_sm_ctx, SFX);                                                         \
static void FNN_CAT(fnn_softmax_range, SFX)(void *vq, ptrdiff_t r0, ptrdiff_t r1) { \
    const FNN_CAT(fnn_sm_ctx, SFX) *q = (const FNN_CAT(fnn_sm_ctx, SFX) *)vq;       \
    const ptrdiff_t d = q->d;                                                       \
    const int log_out = q->log_out;                                                 \
    for (ptrdiff_t r = r0; r < r1; r++) {                                           \
        const T *xr = q->x + r * d;                                                 \
        T *yr = q->y + r * d;                                                       \
        T m = -(T)INFINITY;                                                         \
        const ptrdiff_t dm = d - d % FNN_SM_TAIL;                                    \
        FNN_SIMD_MAX(m) for (ptrdiff_t i = 0; i < d; i++) m = xr[i] > m ? xr[i] : m; \
        if (m == (T)INFINITY || m == -(T)INFINITY) m = 0; /* inf rows: NaN via inf-inf */ \
        T s = 0;                                                                    \
        if (log_out) {                                                              \
            /* store x - m first: -ffast-math would fold x - m - ls into          \
             * x - (m + ls), which rounds away ls at |m| ~ 1e4 in float32 */      \
            FNN_SIMD_SUM(s) for (ptrdiff_t i = 0; i < dm; i++) {                    \
                const T z = xr[i] - m;                                              \
                yr[i] = z;                                                          \
                s += EXP(z);                                                        \
            }                                                                       \
            if (dm < d) {  /* the tail through the vector exp too (padded block) */ \
                T t[FNN_SM_TAIL];                                                   \
                for (int k = 0; k < FNN_SM_TAIL; k++)                               \
                    t[k] = dm + k < d ? xr[dm + k] - m : -(T)INFINITY;              \
                for (int k = 0; dm + k < d; k++) yr[dm + k] = t[k];                 \
                T ts = 0;                                                           \
                FNN_SIMD_SUM(ts) for (int k = 0; k < FNN_SM_TAIL; k++) ts += EXP(t[k]); \
                s += ts;                                                            \
            }                                                                       \
            const T ls = LOG(s);                                                    \
            FNN_SIMD for (ptrdiff_t i = 0; i < d; i++) yr[i] -= ls;                 \
        } else {                                                                    \
            FNN_SIMD_SUM(s) for (ptrdiff_t i = 0; i < dm; i++) {                    \
                const T e = EXP(xr[i] - m);                                         \
                yr[i] = e;                                                          \
                s += e;                                                             \
            }                                                                       \
            if (dm < d) {                                                           \
                T t[FNN_SM_TAIL];                                                   \
                for (int k = 0; k < FNN_SM_TAIL; k++)                               \
                    t[k] = dm + k < d ? xr[dm + k] - m : -(T)INFINITY;              \
                T ts = 0;                                                           \
                FNN_SIMD_SUM(ts) for (int k = 0; k < FNN_SM_TAIL; k++) {            \
                    t[k] = EXP(t[k]);                                               \
                    ts += t[k];                                                     \
                }                                                                   \
                for (int k = 0; dm + k < d; k++) yr[dm + k] = t[k];                 \
                s += ts;                                                            \
            }                                                                       \
            const T inv = (T)1 / s;                                                 \
            FNN_SIMD for (ptrdiff_t i = 0; i < d; i++) yr[i] *= inv;                \
        }                                                                           \
    }                                                                               \
}                                                                                   \
static void FNN_CAT(fnn_softmax, SFX)(const T *x, T *y, ptrdiff_t rows, ptrdiff_t d,\
                                      int log_out, int nt) {                        \
    FNN_CAT(fnn_sm_ctx, SFX) q = {x, NULL, y, d, log_out};                          \
    fnn_parallel_for(rows, nt, FNN_CAT(fnn_softmax_range, SFX), &q);                \
}                                                                                   \
static void FNN_CAT(fnn_softmax_bwd_range, SFX)(void *vq, ptrdiff_t r0, ptrdiff_t r1) {\
    const FNN_CAT(fnn_sm_ctx, SFX) *q = (const FNN_CAT(fnn_sm_ctx, SFX) *)vq;       \
    const ptrdiff_t d = q->d;                                                       \
    const int log_out = q->log_out;                                                 \
    for (ptrdiff_t r = r0; r < r1; r++) {                                           \
        const T *yr = q->x + r * d, *gr = q->g + r * d;                             \
        T *orow = q->y + r * d;                                                     \
        T s = 0;                                                                    \
        if (log_out) {                                                              \
            FNN_SIMD_SUM(s) for (ptrdiff_t i = 0; i < d; i++) s += gr[i];           \
            FNN_SIMD for (ptrdiff_t i = 0; i < d; i++) orow[i] = gr[i] - EXP(yr[i]) * s; \
        } else {                                                                    \
            FNN_SIMD_SUM(s) for (ptrdiff_t i = 0; i < d; i++) s += gr[i] * yr[i];   \
            FNN_SIMD for (ptrdiff_t i = 0; i < d; i++) orow[i] = yr[i] * (gr[i] - s); \
        }                                                                           \
    }                                                                               \
}                                                                                   \
static void FNN_CAT(fnn_softmax_bwd, SFX)(const T *y, const T *g, T *out,           \
                                          ptrdiff_t rows, ptrdiff_t d,              \
                                          int log_out, int nt) {                    \
    FNN_CAT(fnn_sm_ctx, SFX) q = {y, g, out, d, log_out};                           \
    fnn_parallel_for(rows, nt, FNN_CAT(fnn_softmax_bwd_range, SFX), &q);            \
}

FNN_DEF_SOFTMAX(float, f32, expf, logf)
FNN_DEF_SOFTMAX(double, f64, exp, log)
#undef FNN_DEF_SOFTMAX
#endif
