/* Loss kernels: each loss computes its value and its gradient in the same pass.
 *
 * Pointwise losses are one row of FNN_POINTWISE_LOSSES: X(name, LOSS, GRAD), two
 * scalar expressions of v (prediction / input), y (target) and d = v - y, with the
 * parameter a (beta, delta, ...) cast to T. GRAD is dLOSS/dv. losses_impl.h
 * generates, per dtype, three loops for every row:
 *   name_sum   total of the losses (float blocks added in double), gradient * gscale optional
 *   name_elem  one loss per element, gradient optional (reduction='none')
 *   name_rows  one sum per row of `cols` elements (Keras: last axis reduced),
 *              gradient * gscale optional
 * Expressions must propagate NaN: comparisons are written so NaN takes the
 * arithmetic branch.
 *
 * Cross-entropy on logits (hard class indices or soft targets) is fused: per row
 * one max, one exp-sum (the exps land in the gradient row), one log, and the
 * gradient softmax*k - onehot written in place, parallel over rows.
 */
#ifndef FASTNN_LOSSES_H
#define FASTNN_LOSSES_H
#include "fastnn_common.h"

/* The sum loops add float blocks of this many elements into a double: accurate
 * totals, and no double accumulator inside a float SIMD loop (GCC 12 miscompiles
 * `omp simd reduction` of a double fed by float vector-math calls). */
#define FNN_LOSS_BLOCK 4096
/* A sum runs as parallel jobs of up to FNN_LOSS_GROUP blocks, each block's partial
 * total kept (on the stack) and added in block order after its job. */
#define FNN_LOSS_GROUP 256

/* A compiler barrier on one scalar: its value is taken as is, never re-derived by
 * reassociating the arithmetic around it (-ffast-math allows that otherwise). */
#if defined(__GNUC__) || defined(__clang__)
#define FNN_CE_KEEP(v) __asm__ volatile("" : "+m"(v))
#else
#define FNN_CE_KEEP(v) ((void)0)
#endif

/* Helpers for the expressions (NaN falls through every comparison). */
#define SGN(u) ((u) > 0 ? ONE : ((u) < 0 ? -ONE : (u)))   /* +-0 and NaN: u itself (u * 0 folds to 0 under -ffast-math) */
#define RELU(u) ((u) < 0 ? ZERO : (u))
#define CLIP(u, lo, hi) ((u) < (lo) ? (lo) : ((u) > (hi) ? (hi) : (u)))
#define INSIDE(u, lo, hi) ((u) >= (lo) && (u) <= (hi) ? ONE : ((u) == (u) ? ZERO : (u)))
#define LOGC(u) (LOG(u) < -100 ? (T)-100 : LOG(u))         /* torch BCE's log clamp */
#define LOG1PC(u) (LOG1P(u) < -100 ? (T)-100 : LOG1P(u))
#define KEPS ((T)1e-7)                                      /* Keras epsilon */
#define SIGM(u) (ONE / (ONE + EXP(-(u))))
#define SQ(u) ((u) * (u))
#define KP(u) CLIP(u, KEPS, ONE - KEPS)                     /* Keras prob clip */
#define MSLE_D (LOG((v < KEPS ? KEPS : v) + ONE) - LOG((y < KEPS ? KEPS : y) + ONE))

#define FNN_POINTWISE_LOSSES(X)                                                          \
    X(mse,        d * d,                                  2 * d)                         \
    X(l1,         FABS(d),                                SGN(d))                        \
    X(smooth_l1,  FABS(d) < a ? HALF * d * d / a : FABS(d) - HALF * a,                   \
                  FABS(d) < a ? d / a : SGN(d))                                          \
    X(huber,      FABS(d) <= a ? HALF * d * d : a * (FABS(d) - HALF * a),                \
                  FABS(d) <= a ? d : a * SGN(d))                                         \
    X(bce,        -(y * LOGC(v) + (ONE - y) * LOG1PC(-v)),                               \
                  (v - y) / ((ONE - v) * v < (T)1e-12 ? (T)1e-12 : (ONE - v) * v))       \
    X(bce_logits, RELU(v) - v * y + LOG1P(EXP(-FABS(v))),  SIGM(v) - y)                  \
    X(kl_div,     (y == 0 ? ZERO : y * LOG(y)) - y * v,   -y)                            \
    X(kl_div_log, EXP(y) * (y - v),                       -EXP(y))                       \
    X(k_mape,     100 * FABS(d) / (FABS(y) < KEPS ? KEPS : FABS(y)),                     \
                  100 * SGN(d) / (FABS(y) < KEPS ? KEPS : FABS(y)))                      \
    X(k_msle,     SQ(MSLE_D),  v < KEPS ? ZERO : 2 * MSLE_D / (v + ONE))                 \
    X(k_hinge,    RELU(ONE - y * v),                      ONE - y * v > 0 ? -y : ZERO)   \
    X(k_sq_hinge, SQ(RELU(ONE - y * v)),                  -2 * y * RELU(ONE - y * v))    \
    X(k_bce,      -(y * LOG(KP(v)) + (ONE - y) * LOG(ONE - KP(v))),                      \
                  INSIDE(v, KEPS, ONE - KEPS) * (KP(v) - y) / (KP(v) * (ONE - KP(v))))   \
    X(k_kld,      CLIP(y, KEPS, ONE) * LOG(CLIP(y, KEPS, ONE) / CLIP(v, KEPS, ONE)),     \
                  -INSIDE(v, KEPS, ONE) * CLIP(y, KEPS, ONE) / CLIP(v, KEPS, ONE))

/* ---- float32 ---- */
#define T float
#define SFX f32
#define ZERO 0.0f
#define ONE 1.0f
#define HALF 0.5f
#define EXP expf
#define LOG logf
#define LOG1P log1pf
#define FABS fabsf
#define TINF HUGE_VALF
#include "losses_impl.h"
#undef T
#undef SFX
#undef ZERO
#undef ONE
#undef HALF
#undef EXP
#undef LOG
#undef LOG1P
#undef FABS
#undef TINF

/* ---- float64 ---- */
#define T double
#define SFX f64
#define ZERO 0.0
#define ONE 1.0
#define HALF 0.5
#define EXP exp
#define LOG log
#define LOG1P log1p
#define FABS fabs
#define TINF HUGE_VAL
#include "losses_impl.h"
#undef T
#undef SFX
#undef ZERO
#undef ONE
#undef HALF
#undef EXP
#undef LOG
#undef LOG1P
#undef FABS
#undef TINF

/* Tables indexed by the row number of FNN_POINTWISE_LOSSES. */
typedef double (*fnn_pw_sum_f32)(const float *, const float *, ptrdiff_t, double, float *, double, int);
typedef double (*fnn_pw_sum_f64)(const double *, const double *, ptrdiff_t, double, double *, double, int);
typedef void (*fnn_pw_elem_f32)(const float *, const float *, ptrdiff_t, double, float *, float *, int);
typedef void (*fnn_pw_elem_f64)(const double *, const double *, ptrdiff_t, double, double *, double *, int);
typedef void (*fnn_pw_rows_f32)(const float *, const float *, ptrdiff_t, ptrdiff_t, double, float *, float *, double, int);
typedef void (*fnn_pw_rows_f64)(const double *, const double *, ptrdiff_t, ptrdiff_t, double, double *, double *, double, int);

#define FNN_LNAME(name, l, g) #name,
static const char *fnn_pw_names[] = {FNN_POINTWISE_LOSSES(FNN_LNAME) NULL};
#define FNN_LSUM32(name, l, g) name##_sum_f32,
#define FNN_LSUM64(name, l, g) name##_sum_f64,
#define FNN_LELEM32(name, l, g) name##_elem_f32,
#define FNN_LELEM64(name, l, g) name##_elem_f64,
#define FNN_LROWS32(name, l, g) name##_rows_f32,
#define FNN_LROWS64(name, l, g) name##_rows_f64,
static const fnn_pw_sum_f32 fnn_pw_sum_table_f32[] = {FNN_POINTWISE_LOSSES(FNN_LSUM32) NULL};
static const fnn_pw_sum_f64 fnn_pw_sum_table_f64[] = {FNN_POINTWISE_LOSSES(FNN_LSUM64) NULL};
static const fnn_pw_elem_f32 fnn_pw_elem_table_f32[] = {FNN_POINTWISE_LOSSES(FNN_LELEM32) NULL};
static const fnn_pw_elem_f64 fnn_pw_elem_table_f64[] = {FNN_POINTWISE_LOSSES(FNN_LELEM64) NULL};
static const fnn_pw_rows_f32 fnn_pw_rows_table_f32[] = {FNN_POINTWISE_LOSSES(FNN_LROWS32) NULL};
static const fnn_pw_rows_f64 fnn_pw_rows_table_f64[] = {FNN_POINTWISE_LOSSES(FNN_LROWS64) NULL};
#endif
