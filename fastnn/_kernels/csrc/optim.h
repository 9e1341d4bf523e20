/* Optimizer update kernels: one fused pass over parameter, gradient and state.
 *
 * Every kernel is fnn_<name>_step_<sfx>(args, count, hyper, nt): each of the count
 * ``args`` holds one flat parameter p, its gradient g and up to three state arrays
 * of n elements (a state that a flag switches off is not touched), ``hyper`` the
 * step's scalars by name, shared by all of them: a whole model's parameters are one
 * call.
 * The binding (_coptim.pyx) fills ``hyper`` from the layout declared once in
 * fastnn/_kernels/optim.py; derived values (bias corrections, 1 - beta) arrive
 * precomputed, and every scalar is cast to T before the loop, so float32 arrays
 * run float32 arithmetic throughout.
 *
 * The work is cut into blocks of FNN_OPT_BLOCK elements, each updated by the same
 * vector loop whatever thread runs it: results are bitwise the same for every
 * thread count (parallel.h). Flags become constant arguments of an always-inlined
 * loop, so each variant is its own branch-free vector loop.
 *
 * Maxima are written so that a NaN on either side wins, like torch.maximum;
 * nothing is sanitised (NaN in, NaN out).
 */
#ifndef FASTNN_OPTIM_H
#define FASTNN_OPTIM_H
#include "fastnn_common.h"
#include "parallel.h"
#include <stdlib.h>

#define FNN_OPT_BLOCK 4096
#define FNN_ALWAYS_INLINE static inline __attribute__((always_inline))

typedef struct {
    void *p;
    const void *g;
    void *s0, *s1, *s2;
    ptrdiff_t n;
} fnn_opt_args;

typedef struct {
    double lr, momentum, dampening_c, weight_decay, sign;
    int nesterov, has_momentum, first;
} fnn_sgd_hyper;

typedef struct {
    double clr, weight_decay, eps, sign;
} fnn_adagrad_hyper;

typedef struct {
    double lr, alpha, alpha_c, eps, weight_decay, momentum, sign;
    int centered, has_momentum;
} fnn_rmsprop_hyper;

typedef struct {
    double step_size, beta1_c, beta2, beta2_c, eps, weight_decay, sign, inv_bc2_sqrt, decay;
    int decoupled, amsgrad;
} fnn_adam_hyper;

typedef struct {
    double clr, beta1_c, beta2, eps, weight_decay, sign;
} fnn_adamax_hyper;

typedef struct {
    double lr, rho, rho_c, eps, weight_decay, sign;
} fnn_adadelta_hyper;

/* What a parallel range of blocks needs: the tensors, where each one's blocks start
 * in the call's numbering (start[j], start[count] = all blocks), the scalars. */
typedef struct {
    const fnn_opt_args *a;
    const ptrdiff_t *start;
    ptrdiff_t count;
    const void *h;
} fnn_opt_ctx;

#define FNN_OPT_NBLOCKS(n) (((n) + FNN_OPT_BLOCK - 1) / FNN_OPT_BLOCK)

/* The tensor that holds block k: the last j with start[j] <= k (empty tensors hold
 * no block and are stepped over). */
static inline ptrdiff_t fnn_opt_first(const fnn_opt_ctx *c, ptrdiff_t k) {
    ptrdiff_t lo = 0, hi = c->count - 1;
    while (lo < hi) {
        const ptrdiff_t mid = (lo + hi + 1) / 2;
        if (c->start[mid] <= k)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* Block k of the call: tensor a (cursor j, advanced from the range's first tensor),
 * the block's first element lo in it and its length. Each tensor is cut into blocks
 * from its own start, exactly as a call for that tensor alone would cut it. */
#define FNN_OPT_LOCATE(c, k, j, a, lo, len)                                        \
    while ((k) >= (c)->start[(j) + 1])                                             \
        (j)++;                                                                     \
    const fnn_opt_args *a = (c)->a + (j);                                          \
    const ptrdiff_t lo = ((k) - (c)->start[j]) * FNN_OPT_BLOCK;                    \
    const ptrdiff_t len = (a->n - lo < FNN_OPT_BLOCK) ? a->n - lo : FNN_OPT_BLOCK

/* One update of count tensors sharing the scalars h: all their blocks in one
 * parallel loop (one pool dispatch for a whole model). The block numbering needs
 * count + 1 integers; were they not to be had, each tensor runs alone (the same
 * result). */
static void fnn_opt_run(const fnn_opt_args *a, ptrdiff_t count, const void *h, int nt,
                        fnn_range_fn body) {
    ptrdiff_t local[33], *start = local;
    if (count <= 0)
        return;
    if (count + 1 > (ptrdiff_t)(sizeof local / sizeof local[0])) {
        start = (ptrdiff_t *)malloc((size_t)(count + 1) * sizeof(ptrdiff_t));
        if (!start) {
            for (ptrdiff_t j = 0; j < count; j++)
                fnn_opt_run(a + j, 1, h, nt, body);
            return;
        }
    }
    start[0] = 0;
    for (ptrdiff_t j = 0; j < count; j++)
        start[j + 1] = start[j] + FNN_OPT_NBLOCKS(a[j].n);
    fnn_opt_ctx c = {a, start, count, h};
    fnn_parallel_for(start[count], nt, body, &c);
    if (start != local)
        free(start);
}

/* ---- float32 ---- */
#define T float
#define SFX f32
#define SQRT sqrtf
#define FABS fabsf
#include "optim_impl.h"
#undef T
#undef SFX
#undef SQRT
#undef FABS

/* ---- float64 ---- */
#define T double
#define SFX f64
#define SQRT sqrt
#define FABS fabs
#include "optim_impl.h"
#undef T
#undef SFX
#undef SQRT
#undef FABS

/* ---- packs of small parameters ---------------------------------------------------
 * gather: flat[off[j]:off[j+1]] = src[j]; scatter: dst[j] = flat[off[j]:off[j+1]].
 * The pointers are taken from the arrays by the binding at each call and live only
 * for that call. Byte copies: one routine serves every dtype. */
typedef struct {
    char *const *ptrs;
    char *flat;
    const ptrdiff_t *off;
    size_t itemsize;
    int to_flat;
} fnn_pack_ctx;

static void fnn_pack_range(void *vctx, ptrdiff_t j0, ptrdiff_t j1) {
    const fnn_pack_ctx *c = (const fnn_pack_ctx *)vctx;
    for (ptrdiff_t j = j0; j < j1; j++) {
        char *f = c->flat + (size_t)c->off[j] * c->itemsize;
        const size_t bytes = (size_t)(c->off[j + 1] - c->off[j]) * c->itemsize;
        if (c->to_flat)
            memcpy(f, c->ptrs[j], bytes);
        else
            memcpy(c->ptrs[j], f, bytes);
    }
}

static void fnn_pack_copy(char *const *ptrs, char *flat, const ptrdiff_t *off, ptrdiff_t count,
                          size_t itemsize, int to_flat, int nt) {
    fnn_pack_ctx c = {ptrs, flat, off, itemsize, to_flat};
    fnn_parallel_for(count, nt, fnn_pack_range, &c);
}

#endif
