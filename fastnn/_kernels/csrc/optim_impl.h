/* Template body of optim.h: included once per dtype (T, SFX, SQRT, FABS).
 *
 * Per optimizer: an always-inlined loop over one block whose constant arguments
 * are the flags that decide which state arrays are read (a switched-off state may
 * be NULL), a range function running that loop block by block over the blocks of
 * every tensor of the call (FNN_OPT_LOCATE), and the entry point. Flags that only
 * change arithmetic are loop-invariant selects.
 */

/* ---- SGD: momentum, dampening, Nesterov, weight decay, maximize ---- */
FNN_ALWAYS_INLINE void FNN_CAT(sgd_blk, SFX)(T *p, const T *g, T *buf, ptrdiff_t n,
                                             const fnn_sgd_hyper *h, const int has_mom,
                                             const int first) {
    const T lr = (T)h->lr, mom = (T)h->momentum, damp_c = (T)h->dampening_c;
    const T wd = (T)h->weight_decay, sign = (T)h->sign;
    const int use_wd = h->weight_decay != 0, nesterov = h->nesterov;
    FNN_SIMD for (ptrdiff_t i = 0; i < n; i++) {
        const T pi = p[i];
        T d = sign * g[i];
        d = use_wd ? d + wd * pi : d;
        if (has_mom) {
            const T b = first ? d : mom * buf[i] + damp_c * d;
            buf[i] = b;
            d = nesterov ? d + mom * b : b;
        }
        p[i] = pi - lr * d;
    }
}

static void FNN_CAT(sgd_range, SFX)(void *vctx, ptrdiff_t b0, ptrdiff_t b1) {
    const fnn_opt_ctx *c = (const fnn_opt_ctx *)vctx;
    ptrdiff_t j = fnn_opt_first(c, b0);
    const fnn_sgd_hyper *h = (const fnn_sgd_hyper *)c->h;
    for (ptrdiff_t k = b0; k < b1; k++) {
        FNN_OPT_LOCATE(c, k, j, a, lo, len);
        T *p = (T *)a->p + lo;
        const T *g = (const T *)a->g + lo;
        if (!h->has_momentum)
            FNN_CAT(sgd_blk, SFX)(p, g, NULL, len, h, 0, 0);
        else if (h->first)
            FNN_CAT(sgd_blk, SFX)(p, g, (T *)a->s0 + lo, len, h, 1, 1);
        else
            FNN_CAT(sgd_blk, SFX)(p, g, (T *)a->s0 + lo, len, h, 1, 0);
    }
}

static void FNN_CAT(fnn_sgd_step, SFX)(const fnn_opt_args *a, ptrdiff_t count,
                                       const fnn_sgd_hyper *h, int nt) {
    fnn_opt_run(a, count, h, nt, FNN_CAT(sgd_range, SFX));
}

/* ---- Adagrad: s <- s + g^2, p <- p - clr g / (sqrt(s) + eps) ---- */
FNN_ALWAYS_INLINE void FNN_CAT(adagrad_blk, SFX)(T *p, const T *g, T *s, ptrdiff_t n,
                                                 const fnn_adagrad_hyper *h) {
    const T clr = (T)h->clr, wd = (T)h->weight_decay, eps = (T)h->eps, sign = (T)h->sign;
    const int use_wd = h->weight_decay != 0;
    FNN_SIMD for (ptrdiff_t i = 0; i < n; i++) {
        const T pi = p[i];
        T d = sign * g[i];
        d = use_wd ? d + wd * pi : d;
        const T si = s[i] + d * d;
        s[i] = si;
        p[i] = pi - clr * (d / (SQRT(si) + eps));
    }
}

static void FNN_CAT(adagrad_range, SFX)(void *vctx, ptrdiff_t b0, ptrdiff_t b1) {
    const fnn_opt_ctx *c = (const fnn_opt_ctx *)vctx;
    ptrdiff_t j = fnn_opt_first(c, b0);
    for (ptrdiff_t k = b0; k < b1; k++) {
        FNN_OPT_LOCATE(c, k, j, a, lo, len);
        FNN_CAT(adagrad_blk, SFX)((T *)a->p + lo, (const T *)a->g + lo, (T *)a->s0 + lo, len,
                                  (const fnn_adagrad_hyper *)c->h);
    }
}

static void FNN_CAT(fnn_adagrad_step, SFX)(const fnn_opt_args *a, ptrdiff_t count,
                                           const fnn_adagrad_hyper *h, int nt) {
    fnn_opt_run(a, count, h, nt, FNN_CAT(adagrad_range, SFX));
}

/* ---- RMSprop: centered, momentum ---- */
FNN_ALWAYS_INLINE void FNN_CAT(rmsprop_blk, SFX)(T *p, const T *g, T *sq, T *gavg, T *buf,
                                                 ptrdiff_t n, const fnn_rmsprop_hyper *h,
                                                 const int centered, const int has_mom) {
    const T lr = (T)h->lr, alpha = (T)h->alpha, alpha_c = (T)h->alpha_c, eps = (T)h->eps;
    const T wd = (T)h->weight_decay, mom = (T)h->momentum, sign = (T)h->sign;
    const int use_wd = h->weight_decay != 0;
    FNN_SIMD for (ptrdiff_t i = 0; i < n; i++) {
        const T pi = p[i];
        T d = sign * g[i];
        d = use_wd ? d + wd * pi : d;
        T s = alpha * sq[i] + alpha_c * (d * d);
        sq[i] = s;
        if (centered) {
            T av = gavg[i];
            av = av + alpha_c * (d - av);
            gavg[i] = av;
            s = s - av * av;
        }
        const T avg = SQRT(s) + eps;
        if (has_mom) {
            const T b = mom * buf[i] + d / avg;
            buf[i] = b;
            p[i] = pi - lr * b;
        } else {
            p[i] = pi - lr * (d / avg);
        }
    }
}

static void FNN_CAT(rmsprop_range, SFX)(void *vctx, ptrdiff_t b0, ptrdiff_t b1) {
    const fnn_opt_ctx *c = (const fnn_opt_ctx *)vctx;
    ptrdiff_t j = fnn_opt_first(c, b0);
    const fnn_rmsprop_hyper *h = (const fnn_rmsprop_hyper *)c->h;
    for (ptrdiff_t k = b0; k < b1; k++) {
        FNN_OPT_LOCATE(c, k, j, a, lo, len);
        T *p = (T *)a->p + lo, *sq = (T *)a->s0 + lo;
        const T *g = (const T *)a->g + lo;
        T *gavg = h->centered ? (T *)a->s1 + lo : NULL;
        T *buf = h->has_momentum ? (T *)a->s2 + lo : NULL;
        if (h->centered && h->has_momentum)
            FNN_CAT(rmsprop_blk, SFX)(p, g, sq, gavg, buf, len, h, 1, 1);
        else if (h->centered)
            FNN_CAT(rmsprop_blk, SFX)(p, g, sq, gavg, buf, len, h, 1, 0);
        else if (h->has_momentum)
            FNN_CAT(rmsprop_blk, SFX)(p, g, sq, gavg, buf, len, h, 0, 1);
        else
            FNN_CAT(rmsprop_blk, SFX)(p, g, sq, gavg, buf, len, h, 0, 0);
    }
}

static void FNN_CAT(fnn_rmsprop_step, SFX)(const fnn_opt_args *a, ptrdiff_t count,
                                           const fnn_rmsprop_hyper *h, int nt) {
    fnn_opt_run(a, count, h, nt, FNN_CAT(rmsprop_range, SFX));
}

/* ---- Adam / AdamW / AMSGrad ---- */
FNN_ALWAYS_INLINE void FNN_CAT(adam_blk, SFX)(T *p, const T *g, T *m, T *v, T *vmax,
                                              ptrdiff_t n, const fnn_adam_hyper *h,
                                              const int amsgrad) {
    const T step_size = (T)h->step_size, beta1_c = (T)h->beta1_c, beta2 = (T)h->beta2;
    const T beta2_c = (T)h->beta2_c, eps = (T)h->eps, wd = (T)h->weight_decay;
    const T sign = (T)h->sign, inv_bc2_sqrt = (T)h->inv_bc2_sqrt, decay = (T)h->decay;
    const int decoupled = h->decoupled, coupled = h->weight_decay != 0 && !h->decoupled;
    FNN_SIMD for (ptrdiff_t i = 0; i < n; i++) {
        T pi = p[i];
        T d = sign * g[i];
        d = coupled ? d + wd * pi : d;
        pi = decoupled ? pi * decay : pi;
        T mi = m[i];
        mi = mi + beta1_c * (d - mi);
        m[i] = mi;
        T vi = beta2 * v[i] + beta2_c * (d * d);
        v[i] = vi;
        if (amsgrad) {
            T vm = vmax[i];
            vm = (vi > vm || vi != vi) ? vi : vm;
            vmax[i] = vm;
            vi = vm;
        }
        p[i] = pi - step_size * (mi / (SQRT(vi) * inv_bc2_sqrt + eps));
    }
}

static void FNN_CAT(adam_range, SFX)(void *vctx, ptrdiff_t b0, ptrdiff_t b1) {
    const fnn_opt_ctx *c = (const fnn_opt_ctx *)vctx;
    ptrdiff_t j = fnn_opt_first(c, b0);
    const fnn_adam_hyper *h = (const fnn_adam_hyper *)c->h;
    for (ptrdiff_t k = b0; k < b1; k++) {
        FNN_OPT_LOCATE(c, k, j, a, lo, len);
        T *p = (T *)a->p + lo, *m = (T *)a->s0 + lo, *v = (T *)a->s1 + lo;
        const T *g = (const T *)a->g + lo;
        if (h->amsgrad)
            FNN_CAT(adam_blk, SFX)(p, g, m, v, (T *)a->s2 + lo, len, h, 1);
        else
            FNN_CAT(adam_blk, SFX)(p, g, m, v, NULL, len, h, 0);
    }
}

static void FNN_CAT(fnn_adam_step, SFX)(const fnn_opt_args *a, ptrdiff_t count,
                                        const fnn_adam_hyper *h, int nt) {
    fnn_opt_run(a, count, h, nt, FNN_CAT(adam_range, SFX));
}

/* ---- Adamax: u <- max(beta2 u, |g| + eps) ---- */
FNN_ALWAYS_INLINE void FNN_CAT(adamax_blk, SFX)(T *p, const T *g, T *m, T *u, ptrdiff_t n,
                                                const fnn_adamax_hyper *h) {
    const T clr = (T)h->clr, beta1_c = (T)h->beta1_c, beta2 = (T)h->beta2, eps = (T)h->eps;
    const T wd = (T)h->weight_decay, sign = (T)h->sign;
    const int use_wd = h->weight_decay != 0;
    FNN_SIMD for (ptrdiff_t i = 0; i < n; i++) {
        const T pi = p[i];
        T d = sign * g[i];
        d = use_wd ? d + wd * pi : d;
        T mi = m[i];
        mi = mi + beta1_c * (d - mi);
        m[i] = mi;
        T ui = beta2 * u[i];
        const T av = FABS(d) + eps;
        ui = (av > ui || av != av) ? av : ui;
        u[i] = ui;
        p[i] = pi - clr * (mi / ui);
    }
}

static void FNN_CAT(adamax_range, SFX)(void *vctx, ptrdiff_t b0, ptrdiff_t b1) {
    const fnn_opt_ctx *c = (const fnn_opt_ctx *)vctx;
    ptrdiff_t j = fnn_opt_first(c, b0);
    for (ptrdiff_t k = b0; k < b1; k++) {
        FNN_OPT_LOCATE(c, k, j, a, lo, len);
        FNN_CAT(adamax_blk, SFX)((T *)a->p + lo, (const T *)a->g + lo, (T *)a->s0 + lo,
                                 (T *)a->s1 + lo, len, (const fnn_adamax_hyper *)c->h);
    }
}

static void FNN_CAT(fnn_adamax_step, SFX)(const fnn_opt_args *a, ptrdiff_t count,
                                          const fnn_adamax_hyper *h, int nt) {
    fnn_opt_run(a, count, h, nt, FNN_CAT(adamax_range, SFX));
}

/* ---- Adadelta ---- */
FNN_ALWAYS_INLINE void FNN_CAT(adadelta_blk, SFX)(T *p, const T *g, T *sq, T *acc, ptrdiff_t n,
                                                  const fnn_adadelta_hyper *h) {
    const T lr = (T)h->lr, rho = (T)h->rho, rho_c = (T)h->rho_c, eps = (T)h->eps;
    const T wd = (T)h->weight_decay, sign = (T)h->sign;
    const int use_wd = h->weight_decay != 0;
    FNN_SIMD for (ptrdiff_t i = 0; i < n; i++) {
        const T pi = p[i];
        T d = sign * g[i];
        d = use_wd ? d + wd * pi : d;
        const T s = rho * sq[i] + rho_c * (d * d);
        sq[i] = s;
        const T ai = acc[i];
        const T delta = SQRT(ai + eps) / SQRT(s + eps) * d;
        acc[i] = rho * ai + rho_c * (delta * delta);
        p[i] = pi - lr * delta;
    }
}

static void FNN_CAT(adadelta_range, SFX)(void *vctx, ptrdiff_t b0, ptrdiff_t b1) {
    const fnn_opt_ctx *c = (const fnn_opt_ctx *)vctx;
    ptrdiff_t j = fnn_opt_first(c, b0);
    for (ptrdiff_t k = b0; k < b1; k++) {
        FNN_OPT_LOCATE(c, k, j, a, lo, len);
        FNN_CAT(adadelta_blk, SFX)((T *)a->p + lo, (const T *)a->g + lo, (T *)a->s0 + lo,
                                   (T *)a->s1 + lo, len, (const fnn_adadelta_hyper *)c->h);
    }
}

static void FNN_CAT(fnn_adadelta_step, SFX)(const fnn_opt_args *a, ptrdiff_t count,
                                            const fnn_adadelta_hyper *h, int nt) {
    fnn_opt_run(a, count, h, nt, FNN_CAT(adadelta_range, SFX));
}
