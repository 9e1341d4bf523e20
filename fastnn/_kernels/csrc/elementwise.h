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

#define FNN_UNARY_OPS(X)                                                        \
    X(copy,        v)                                                           \
    X(sigmoid_fwd, ONE / (ONE + EXP(-v)))                                       \
    X(tanh_fwd,    TANH(v))

#define FNN_BINARY_OPS(X)                                                       \
    X(sigmoid_bwd, g * u * (ONE - u))                                           \
    X(tanh_bwd,    g * (ONE - u * u))

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
#define ERF erff
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
