/* Optimizer update kernels: one fused pass over parameter, gradient and state.
 *
 * Every kernel is fnn_<name>_step_<sfx>(args, hyper, nt): ``args`` holds the flat
 * parameter p, its gradient g and up to three state arrays of n elements (a state
 * that a flag switches off is not touched), ``hyper`` the step's scalars by name.
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

/* What a parallel range of blocks needs: the arrays, the scalars, the variant. */
typedef struct {
    const fnn_opt_args *a;
    const void *h;
} fnn_opt_ctx;

#define FNN_OPT_NBLOCKS(n) (((n) + FNN_OPT_BLOCK - 1) / FNN_OPT_BLOCK)
#define FNN_OPT_BOUNDS(k, n, lo, len)                                              \
    const ptrdiff_t lo = (k) * FNN_OPT_BLOCK;                                      \
    const ptrdiff_t len = ((n) - lo < FNN_OPT_BLOCK) ? (n) - lo : FNN_OPT_BLOCK

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
