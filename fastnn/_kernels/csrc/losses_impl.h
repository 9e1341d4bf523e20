/* Template body of losses.h: included once per dtype (T, SFX, EXP, LOG, ... bound). */

/* ---- pointwise losses: sum / elem / rows loops for every X row ---- */
#define FNN_PW_BODY_DECL const T v = x[i], y = yt[i], d = v - y; (void)d;
#define FNN_DEF_PW(name, LOSS, GRAD)                                                       \
    /* sum of the loss over [lo, hi) in T, gradient (times gs) written when grad != NULL */ \
    static inline T FNN_CAT(name##_block, SFX)(const T *x, const T *yt, T *grad,           \
                                               ptrdiff_t lo, ptrdiff_t hi, T a, T gs) {     \
        (void)a; (void)gs;                                                                 \
        T bs = 0;                                                                          \
        if (grad) {                                                                        \
            FNN_SIMD_SUM(bs) for (ptrdiff_t i = lo; i < hi; i++) {                         \
                FNN_PW_BODY_DECL                                                           \
                bs += (LOSS);                                                              \
                grad[i] = gs * (GRAD);                                                     \
            }                                                                              \
        } else {                                                                           \
            FNN_SIMD_SUM(bs) for (ptrdiff_t i = lo; i < hi; i++) {                         \
                FNN_PW_BODY_DECL                                                           \
                bs += (LOSS);                                                              \
            }                                                                              \
        }                                                                                  \
        return bs;                                                                         \
    }                                                                                      \
    static double FNN_CAT(name##_sum, SFX)(const T *x, const T *yt, ptrdiff_t n, double p, \
                                           T *grad, double gscale, int nt) {               \
        const T a = (T)p, gs = (T)gscale;                                                  \
        const ptrdiff_t nb = (n + FNN_LOSS_BLOCK - 1) / FNN_LOSS_BLOCK;                    \
        double s = 0;                                                                      \
        FNN_LOSS_PARFOR_RED(reduction(+:s)) for (ptrdiff_t b = 0; b < nb; b++) {           \
            const ptrdiff_t lo = b * FNN_LOSS_BLOCK;                                       \
            const ptrdiff_t hi = lo + FNN_LOSS_BLOCK < n ? lo + FNN_LOSS_BLOCK : n;        \
            s += (double)FNN_CAT(name##_block, SFX)(x, yt, grad, lo, hi, a, gs);           \
        }                                                                                  \
        return s;                                                                          \
    }                                                                                      \
    static void FNN_CAT(name##_elem, SFX)(const T *x, const T *yt, ptrdiff_t n, double p,  \
                                          T *loss, T *grad, int nt) {                      \
        const T a = (T)p; (void)a;                                                         \
        if (grad) {                                                                        \
            FNN_PARFOR_SIMD for (ptrdiff_t i = 0; i < n; i++) {                            \
                FNN_PW_BODY_DECL                                                           \
                loss[i] = (LOSS);                                                          \
                grad[i] = (GRAD);                                                          \
            }                                                                              \
        } else {                                                                           \
            FNN_PARFOR_SIMD for (ptrdiff_t i = 0; i < n; i++) {                            \
                FNN_PW_BODY_DECL                                                           \
                loss[i] = (LOSS);                                                          \
            }                                                                              \
        }                                                                                  \
    }                                                                                      \
    static void FNN_CAT(name##_rows, SFX)(const T *xx, const T *yy, ptrdiff_t rows,        \
                                          ptrdiff_t cols, double p, T *out, T *gg,         \
                                          double gscale, int nt) {                         \
        const T a = (T)p, gs = (T)gscale;                                                  \
        FNN_PARFOR for (ptrdiff_t r = 0; r < rows; r++) {                                  \
            const T *x = xx + r * cols, *yt = yy + r * cols;                               \
            T *grad = gg ? gg + r * cols : NULL;                                           \
            double s = 0;                                                                  \
            for (ptrdiff_t lo = 0; lo < cols; lo += FNN_LOSS_BLOCK) {                      \
                const ptrdiff_t hi = lo + FNN_LOSS_BLOCK < cols ? lo + FNN_LOSS_BLOCK : cols; \
                s += (double)FNN_CAT(name##_block, SFX)(x, yt, grad, lo, hi, a, gs);       \
            }                                                                              \
            out[r] = (T)s;                                                                 \
        }                                                                                  \
    }
FNN_POINTWISE_LOSSES(FNN_DEF_PW)
#undef FNN_DEF_PW
#undef FNN_PW_BODY_DECL

/* BCE with logits and pos_weight pw (one value per column):
 *   l = (1 - y) x + (1 + (pw - 1) y) (log1p(exp(-|x|)) + max(-x, 0))
 *   dl/dx = (1 - y) - (1 + (pw - 1) y) sigmoid(-x)
 * loss (per element) and grad (times gscale) are optional; returns the total. */
static double FNN_CAT(bce_logits_pw, SFX)(const T *xx, const T *yy, const T *pw, ptrdiff_t rows,
                                          ptrdiff_t cols, T *ll, T *gg, double gscale, int nt) {
    const T gs = (T)gscale;
    double total = 0;
    FNN_LOSS_PARFOR_RED(reduction(+:total)) for (ptrdiff_t r = 0; r < rows; r++) {
        const T *x = xx + r * cols, *yt = yy + r * cols;
        T *loss = ll ? ll + r * cols : NULL, *grad = gg ? gg + r * cols : NULL;
        T s = 0;
        FNN_SIMD_SUM(s) for (ptrdiff_t i = 0; i < cols; i++) {
            const T v = x[i], y = yt[i], lw = ONE + (pw[i] - ONE) * y;
            const T l = (ONE - y) * v + lw * (LOG1P(EXP(-FABS(v))) + RELU(-v));
            s += l;
            if (loss) loss[i] = l;
            if (grad) grad[i] = gs * ((ONE - y) - lw * SIGM(-v));
        }
        total += (double)s;
    }
    return total;
}

/* Row max m, then exp(x - m) into e (the gradient row), their sum s and ls = log(s).
 * A row's log-softmax is (x_j - m) - ls, never x_j - (m + ls): m + ls rounds ls away
 * once |m| is large (float32: 1e4 + 0.693 = 10000.6934, and 1e8 + 0.693 = 1e8), so
 * every loss below is written with the exact differences m - x_j and ls added last.
 * FNN_CE_KEEP pins a row value in memory so that -ffast-math cannot reassociate
 * (m - x) + ls back into (m + ls) - x. */
#define FNN_CE_ROW_LSE                                                                     \
    T m = -TINF;                                                                           \
    FNN_SIMD_MAX(m) for (ptrdiff_t j = 0; j < C; j++) m = xr[j] > m ? xr[j] : m;           \
    T s = 0;                                                                               \
    if (gr) {                                                                              \
        FNN_SIMD_SUM(s) for (ptrdiff_t j = 0; j < C; j++) {                                \
            const T e = EXP(xr[j] - m);                                                    \
            gr[j] = e;                                                                     \
            s += e;                                                                        \
        }                                                                                  \
    } else {                                                                               \
        FNN_SIMD_SUM(s) for (ptrdiff_t j = 0; j < C; j++) s += EXP(xr[j] - m);             \
    }                                                                                      \
    const T ls = LOG(s);

/* Cross-entropy of logits x (N, C) with class indices t, fused with its gradient.
 * With eps = label_smoothing, w = class weights (NULL: all 1), W = sum(w):
 *   loss_i = (1-eps) w_t (lse_i - x_it) + eps/C sum_j w_j (lse_i - x_ij)
 *   grad_ij = gscale' (softmax_ij ((1-eps) w_t + eps/C W) - (1-eps) w_t [j=t] - eps/C w_j)
 * Rows whose target is ignore_index give 0 and a zero gradient. With mean != 0,
 * gscale' = gscale / den, den = sum of w_t over the counted rows (torch's mean).
 * A target outside [0, C) (not ignore_index) sets *bad to the first such row.
 * Returns the sum of the row losses. */
static double FNN_CAT(ce_hard, SFX)(const T *x, const int64_t *t, ptrdiff_t N, ptrdiff_t C,
                                    const T *w, int64_t ignore, double eps_d, T *loss, T *grad,
                                    double gscale, int mean, double *den_out, ptrdiff_t *bad_out,
                                    int nt) {
    double den = 0, W = (double)C;
    if (w) {
        W = 0;
        for (ptrdiff_t j = 0; j < C; j++) W += w[j];
    }
    for (ptrdiff_t i = 0; i < N; i++) {
        const int64_t tt = t[i];
        if (tt != ignore && tt >= 0 && tt < C) den += w ? (double)w[tt] : 1.0;
    }
    *den_out = den;
    if (mean) gscale = den != 0 ? gscale / den : 0;
    const T eps = (T)eps_d, g = (T)gscale, k0 = (T)(eps_d / (double)C);
    const T tw = (T)W;
    double total = 0;
    ptrdiff_t bad = N;
    FNN_LOSS_PARFOR_RED(reduction(+:total) reduction(min:bad)) for (ptrdiff_t i = 0; i < N; i++) {
        const T *xr = x + i * C;
        T *gr = grad ? grad + i * C : NULL;
        const int64_t tt = t[i];
        if (tt == ignore || tt < 0 || tt >= C) {
            if (tt != ignore && i < bad) bad = i;
            loss[i] = 0;
            if (gr) FNN_SIMD for (ptrdiff_t j = 0; j < C; j++) gr[j] = 0;
            continue;
        }
        FNN_CE_ROW_LSE
        const T wt = w ? w[tt] : ONE;
        T dt = m - xr[tt];                      /* -log_softmax_t = dt + ls */
        FNN_CE_KEEP(dt);
        T li = (ONE - eps) * wt * (dt + ls);
        if (eps != 0) {
            /* sum_j w_j (m - x_j) + ls sum_j w_j */
            T sm = 0;
            if (w) {
                FNN_SIMD_SUM(sm) for (ptrdiff_t j = 0; j < C; j++) sm += w[j] * (m - xr[j]);
            } else {
                FNN_SIMD_SUM(sm) for (ptrdiff_t j = 0; j < C; j++) sm += m - xr[j];
            }
            FNN_CE_KEEP(sm);
            li += k0 * (sm + ls * tw);
        }
        loss[i] = li;
        total += (double)li;
        if (gr) {
            const T aa = g * ((ONE - eps) * wt + k0 * tw) / s;
            if (eps != 0 && w) {
                const T b = g * k0;
                FNN_SIMD for (ptrdiff_t j = 0; j < C; j++) gr[j] = gr[j] * aa - b * w[j];
            } else {
                const T b = g * k0;
                FNN_SIMD for (ptrdiff_t j = 0; j < C; j++) gr[j] = gr[j] * aa - b;
            }
            gr[tt] -= g * (ONE - eps) * wt;
        }
    }
    *bad_out = bad;
    return total;
}

/* Cross-entropy of logits x (N, C) with soft targets y (N, C) (class probabilities),
 * fused with its gradient; y' = (1-eps) y + eps/C, w = class weights or NULL:
 *   loss_i = sum_j w_j y'_ij (lse_i - x_ij)
 *   grad_ij = gscale (softmax_ij sum_k w_k y'_ik - w_j y'_ij)
 * Returns the sum of the row losses. */
static double FNN_CAT(ce_soft, SFX)(const T *x, const T *y, ptrdiff_t N, ptrdiff_t C,
                                    const T *w, double eps_d, T *loss, T *grad, double gscale,
                                    int nt) {
    const T e1 = (T)(1.0 - eps_d), k0 = (T)(eps_d / (double)C), g = (T)gscale;
    double total = 0;
    FNN_LOSS_PARFOR_RED(reduction(+:total)) for (ptrdiff_t i = 0; i < N; i++) {
        const T *xr = x + i * C, *yr = y + i * C;
        T *gr = grad ? grad + i * C : NULL;
        FNN_CE_ROW_LSE
        /* sum_j wy_j (m - x_j) + ls sum_j wy_j */
        T li = 0, sy = 0;
        if (w) {
            _Pragma("omp simd reduction(+:li,sy)") for (ptrdiff_t j = 0; j < C; j++) {
                const T wy = w[j] * (e1 * yr[j] + k0);
                li += wy * (m - xr[j]);
                sy += wy;
            }
        } else {
            _Pragma("omp simd reduction(+:li,sy)") for (ptrdiff_t j = 0; j < C; j++) {
                const T wy = e1 * yr[j] + k0;
                li += wy * (m - xr[j]);
                sy += wy;
            }
        }
        FNN_CE_KEEP(li);
        li += ls * sy;
        loss[i] = li;
        total += (double)li;
        if (gr) {
            const T aa = g * sy / s;
            if (w) {
                FNN_SIMD for (ptrdiff_t j = 0; j < C; j++) gr[j] = gr[j] * aa - g * w[j] * (e1 * yr[j] + k0);
            } else {
                FNN_SIMD for (ptrdiff_t j = 0; j < C; j++) gr[j] = gr[j] * aa - g * (e1 * yr[j] + k0);
            }
        }
    }
    return total;
}

/* out = a * s (backward of a reduced loss: the saved gradient times the incoming one). */
static void FNN_CAT(scale, SFX)(const T *a, T *out, ptrdiff_t n, double s, int nt) {
    const T k = (T)s;
    FNN_PARFOR_SIMD for (ptrdiff_t i = 0; i < n; i++) out[i] = a[i] * k;
}
#undef FNN_CE_ROW_LSE
