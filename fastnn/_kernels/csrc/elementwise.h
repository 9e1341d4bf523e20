/* Elementwise kernels: one scalar expression per op, loops generated per dtype.
 *
 * Unary ops read v = x[i] and params a, b, c (cast from double); binary ops read
 * u = first[i] (the op's input or output, whichever backward needs), g = grad[i].
 * Every expression must propagate NaN: write comparisons so NaN takes the
 * arithmetic branch (e.g. v > 0 ? v : a * EXPM1(v)).
 *
 * To add an op: add an X(...) row to a list below; the Python side picks it up
 * by name from fastnn._kernels._celementwise.UNARY / BINARY.
 */
#ifndef FASTNN_ELEMENTWISE_H
#define FASTNN_ELEMENTWISE_H
#include "fastnn_common.h"

#define FNN_SQRT1_2 0.70710678118654752440
#define FNN_INV_SQRT_2PI 0.39894228040143267794
/* gelu(approximate='tanh'): 0.5 x (1 + tanh(k0 (x + k1 x^3))), torch's constants */
#define FNN_GELU_K0 0.79788456080286535588
#define FNN_GELU_K1 0.044715
#define FNN_GELU_INNER(v) ((T)FNN_GELU_K0 * ((v) + (T)FNN_GELU_K1 * (v) * (v) * (v)))
/* Its derivative 0.5 (1 + t) + 0.5 x (1 - t^2) k0 (1 + 3 k1 x^2), t = tanh(z), with
 * 1 + t and 1 - t^2 written through e = exp(-2|z|) so neither cancels in the tails
 * (tanh rounds to +-1 there and float32 would lose every digit of 1 - t^2). */
#define FNN_GELU_TANH_DERIV(v) ({                                                 \
        const T z_ = FNN_GELU_INNER(v);                                           \
        const T e_ = EXP(-2 * FABS(z_));                                          \
        const T r_ = ONE / (ONE + e_);                                            \
        const T one_plus_t = 2 * (z_ >= 0 ? ONE : e_) * r_;                       \
        const T one_minus_t2 = 4 * e_ * r_ * r_;                                  \
        HALF * one_plus_t + HALF * (v) * one_minus_t2 * (T)FNN_GELU_K0            \
            * (ONE + (T)(3 * FNN_GELU_K1) * (v) * (v)); })
/* silu'(x) = s (1 + x (1 - s)), s = sigmoid(x) */
#define FNN_SILU_DERIV(v, s) ((s) * (ONE + (v) * (ONE - (s))))

/* float32 erf without exp: Eigen's rational minimax fit on [-4, 4] (odd degree-13
 * over even degree-8; erf rounds to +-1 in float32 beyond 4), accurate to a few
 * ulp. glibc's vector erff costs ~2x and torch's exp-based form ~1.3x this. The
 * clamp is written so that NaN passes through. */
static inline float fnn_erf_f32(float v) {
    const float x = v > 4.0f ? 4.0f : (v < -4.0f ? -4.0f : v);
    const float x2 = x * x;
    float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
    p = x2 * p - 2.10102402082508e-06f;
    p = x2 * p - 5.69250639462346e-05f;
    p = x2 * p - 7.34990630326855e-04f;
    p = x2 * p - 2.95459980854025e-03f;
    p = x2 * p - 1.60960333262415e-02f;
    float q = x2 * -1.45660718464996e-05f - 2.13374055278905e-04f;
    q = x2 * q - 1.68282697438203e-03f;
    q = x2 * q - 7.37332916720468e-03f;
    q = x2 * q - 1.42647390514189e-02f;
    return x * p / q;
}

#define FNN_UNARY_OPS(X)                                                        \
    X(copy,           v)                                                        \
    X(sigmoid_fwd,    ONE / (ONE + EXP(-v)))                                    \
    X(tanh_fwd,       TANH(v))                                                  \
    X(relu_fwd,       v < 0 ? (T)0 : v)                                         \
    X(leaky_relu_fwd, v < 0 ? v * a : v)                          /* a: slope */\
    X(hardtanh_fwd,   v < a ? a : (v > b ? b : v))                /* a,b: lo,hi */\
    X(elu_fwd,        v > 0 ? b * v : b * a * EXPM1(v * c))  /* alpha,scale,in_scale */\
    X(gelu_fwd,       HALF * v * (ONE + ERF(v * (T)FNN_SQRT1_2)))               \
    X(gelu_tanh_fwd,  HALF * v * (ONE + TANH(FNN_GELU_INNER(v))))               \
    X(silu_fwd,       v / (ONE + EXP(-v)))                                      \
    X(softplus_fwd,   v * a > b ? v : LOG1P(EXP(v * a)) / a)      /* beta,threshold */\
    X(softsign_fwd,   v / (ONE + FABS(v)))

#define FNN_BINARY_OPS(X)                                                       \
    X(sigmoid_bwd,    g * u * (ONE - u))                              /* u = y */\
    X(tanh_bwd,       g * (ONE - u * u))                              /* u = y */\
    X(relu_bwd,       u <= 0 ? (T)0 : g)                              /* u = y */\
    X(leaky_relu_bwd, u > 0 ? g : g * a)          /* u = x, or y when slope >= 0 */\
    X(hardtanh_bwd,   (u <= a || u >= b) ? (T)0 : g)             /* u = x or y */\
    X(elu_bwd,        u <= 0 ? g * c * (u + a * b) : g * b)  /* u = y, alpha >= 0 */\
    X(elu_bwd_x,      u <= 0 ? g * c * a * b * EXP(u * c) : g * b)    /* u = x */\
    X(gelu_bwd,       g * (HALF * (ONE + ERF(u * (T)FNN_SQRT1_2))                \
                           + u * (T)FNN_INV_SQRT_2PI * EXP(-HALF * u * u)))      \
    X(gelu_tanh_bwd,  g * FNN_GELU_TANH_DERIV(u))                     /* u = x */\
    X(silu_bwd,       g * FNN_SILU_DERIV(u, ONE / (ONE + EXP(-u))))    /* u = x */\
    X(softplus_bwd,   u * a > b ? g : g / (ONE + EXP(-u * a)))          /* u = x */\
    X(softsign_bwd,   g / ((ONE + FABS(u)) * (ONE + FABS(u))))          /* u = x */\
    X(rrelu_noise,    u <= 0 ? g : ONE)          /* u = x, g = drawn slopes */\
    X(mul,            u * g)

typedef void (*fnn_unary_f32)(const float *, float *, ptrdiff_t, const double *, int);
typedef void (*fnn_unary_f64)(const double *, double *, ptrdiff_t, const double *, int);
typedef void (*fnn_binary_f32)(const float *, const float *, float *, ptrdiff_t, const double *, int);
typedef void (*fnn_binary_f64)(const double *, const double *, double *, ptrdiff_t, const double *, int);

/* ---- float32 ---- */
#define T float
#define SFX f32
#define ONE 1.0f
#define HALF 0.5f
#define EXP expf
#define EXPM1 expm1f
#define LOG logf
#define LOG1P log1pf
#define TANH tanhf
#define ERF fnn_erf_f32
#define FABS fabsf
#define SQRT sqrtf
#include "elementwise_impl.h"
#undef T
#undef SFX
#undef ONE
#undef HALF
#undef EXP
#undef EXPM1
#undef LOG
#undef LOG1P
#undef TANH
#undef ERF
#undef FABS
#undef SQRT

/* ---- float64 ---- */
#define T double
#define SFX f64
#define ONE 1.0
#define HALF 0.5
#define EXP exp
#define EXPM1 expm1
#define LOG log
#define LOG1P log1p
#define TANH tanh
#define ERF erf
#define FABS fabs
#define SQRT sqrt
#include "elementwise_impl.h"

#define FNN_NAME(name, expr) #name,
static const char *fnn_unary_names[] = {FNN_UNARY_OPS(FNN_NAME) NULL};
static const char *fnn_binary_names[] = {FNN_BINARY_OPS(FNN_NAME) NULL};
#define FNN_PTR32(name, expr) name##_f32,
#define FNN_PTR64(name, expr) name##_f64,
static const fnn_unary_f32 fnn_unary_table_f32[] = {FNN_UNARY_OPS(FNN_PTR32) NULL};
static const fnn_unary_f64 fnn_unary_table_f64[] = {FNN_UNARY_OPS(FNN_PTR64) NULL};
static const fnn_binary_f32 fnn_binary_table_f32[] = {FNN_BINARY_OPS(FNN_PTR32) NULL};
static const fnn_binary_f64 fnn_binary_table_f64[] = {FNN_BINARY_OPS(FNN_PTR64) NULL};
#undef T
#undef SFX
#undef ONE
#undef HALF
#undef EXP
#undef EXPM1
#undef LOG
#undef LOG1P
#undef TANH
#undef ERF
#undef FABS
#undef SQRT
#endif
