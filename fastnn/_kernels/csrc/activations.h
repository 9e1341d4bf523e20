/* Activations that are not one-in-one-out elementwise: per-channel prelu and srelu
 * on x viewed as (N, C, S) with parameters indexing dim 1, crelu on (outer, M) ->
 * (outer, 2, M), maxout on (outer, G, K, inner) -> (outer, G, inner).
 *
 * Parallel (fnn_parallel_for) over rows that own their outputs: (n, c) rows for the
 * channel ops, each leaving its parameter-gradient partial sums (in double) in its
 * own slot for the caller to add up over n, so results are bitwise the same for
 * every thread count. Comparisons are written so NaN falls through to the value
 * (NaN in, NaN out); maxout keeps the first maximum, and the first NaN of a group.
 */
#ifndef FASTNN_ACTIVATIONS_H
#define FASTNN_ACTIVATIONS_H
#include "fastnn_common.h"
#include "parallel.h"

typedef struct {
    ptrdiff_t N, C, S;          /* channel ops: x (N, C, S); crelu: (N outer, M = S) */
    ptrdiff_t G, K;             /* maxout: x (N outer, G, K, S inner) */
    const void *x, *g;
    const void *p0, *p1, *p2, *p3;   /* per-channel parameters (C,) */
    void *out, *gx;
    double *rows;               /* per-row partial sums of the parameter gradients */
    int32_t *idx;               /* maxout's arg-max */
    const int32_t *idx_in;
    ptrdiff_t bad;              /* maxout_bwd: indices outside [0, K) */
} fnn_act_args;

/* ---- float32 ---- */
#define T float
#define SFX f32
#include "activations_impl.h"
#undef T
#undef SFX

/* ---- float64 ---- */
#define T double
#define SFX f64
#include "activations_impl.h"
#undef T
#undef SFX

#endif
