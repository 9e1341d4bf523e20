/* Template body of losses.h: included once per dtype (T, SFX, EXP, LOG, ... bound). */

/* ---- pointwise losses: sum / elem / rows loops for every X row ---- */
/* What a range needs. sum: the partial total of block first + b in part[b], added
 * in block order afterwards (the total does not depend on the thread count);
 * elem: blocks of FNN_LOSS_BLOCK elements; rows: one row per block. */
typedef struct {
    const T *x, *y;
    T *grad, *loss;
    ptrdiff_t n, cols;
    T a, gs;
    double *part;
    ptrdiff_t first;
} FNN_CAT(fnn_pw_ctx, SFX);
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
    static void FNN_CAT(name##_sum_range, SFX)(void *vq, ptrdiff_t b0, ptrdiff_t b1) {   \
        const FNN_CAT(fnn_pw_ctx, SFX) *q = (const FNN_CAT(fnn_pw_ctx, SFX) *)vq;           \
        for (ptrdiff_t b = b0; b < b1; b++) {                                              \
            const ptrdiff_t lo = (q->first + b) * FNN_LOSS_BLOCK;                          \
            const ptrdiff_t hi = lo + FNN_LOSS_BLOCK < q->n ? lo + FNN_LOSS_BLOCK : q->n;  \
            q->part[b] = (double)FNN_CAT(name##_block, SFX)(q->x, q->y, q->grad, lo, hi,   \
                                                            q->a, q->gs);                  \
        }                                                                                  \
    }                                                                                      \
    static double FNN_CAT(name##_sum, SFX)(const T *x, const T *yt, ptrdiff_t n, double p, \
                                           T *grad, double gscale, int nt) {               \
        const ptrdiff_t nb = (n + FNN_LOSS_BLOCK - 1) / FNN_LOSS_BLOCK;                    \
        double part[FNN_LOSS_GROUP], s = 0;                                                \
        FNN_CAT(fnn_pw_ctx, SFX) q = {x, yt, grad, NULL, n, 0, (T)p, (T)gscale, part, 0};  \
        for (q.first = 0; q.first < nb; q.first += FNN_LOSS_GROUP) {                       \
            const ptrdiff_t gn = nb - q.first < FNN_LOSS_GROUP ? nb - q.first : FNN_LOSS_GROUP; \
            fnn_parallel_for(gn, nt, FNN_CAT(name##_sum_range, SFX), &q);                  \
            for (ptrdiff_t b = 0; b < gn; b++) s += part[b];                               \
        }                                                                                  \
        return s;                                                                          \
    }                                                                                      \
    static void FNN_CAT(name##_elem_range, SFX)(void *vq, ptrdiff_t b0, ptrdiff_t b1) {  \
        const FNN_CAT(fnn_pw_ctx, SFX) *q = (const FNN_CAT(fnn_pw_ctx, SFX) *)vq;           \
        const T *x = q->x, *yt = q->y;                                                     \
        T *loss = q->loss, *grad = q->grad;                                                \
        const T a = q->a; (void)a;                                                         \
        const ptrdiff_t lo = b0 * FNN_LOSS_BLOCK;                                          \
        const ptrdiff_t hi = b1 * FNN_LOSS_BLOCK < q->n ? b1 * FNN_LOSS_BLOCK : q->n;      \
        if (grad) {                                                                        \
            FNN_SIMD for (ptrdiff_t i = lo; i < hi; i++) {                                 \
                FNN_PW_BODY_DECL                                                           \
                loss[i] = (LOSS);                                                          \
                grad[i] = (GRAD);                                                          \
            }                                                                              \
        } else {                                                                           \
            FNN_SIMD for (ptrdiff_t i = lo; i < hi; i++) {                                 \
                FNN_PW_BODY_DECL                                                           \
                loss[i] = (LOSS);                                                          \
            }                                                                              \
        }                                                                                  \
    }                                                                                      \
    static void FNN_CAT(name##_elem, SFX)(const T *x, const T *yt, ptrdiff_t n, double p,  \
                                          T *loss, T *grad, int nt) {                      \
        FNN_CAT(fnn_pw_ctx, SFX) q = {x, yt, grad, loss, n, 0, (T)p, 0, NULL, 0};          \
        fnn_parallel_for((n + FNN_LOSS_BLOCK - 1) / FNN_LOSS_BLOCK, nt,                    \
                         FNN_CAT(name##_elem_range, SFX), &q);                             \
    }                                                                                      \
    static void FNN_CAT(name##_rows_range, SFX)(void *vq, ptrdiff_t r0, ptrdiff_t r1) {  \
        const FNN_CAT(fnn_pw_ctx, SFX) *q = (const FNN_CAT(fnn_pw_ctx, SFX) *)vq;           \
        const ptrdiff_t cols = q->cols;                                                    \
        for (ptrdiff_t r = r0; r < r1; r++) {                                              \
            const T *x = q->x + r * cols, *yt = q->y + r * cols;                           \
            T *grad = q->grad ? q->grad + r * cols : NULL;                                 \
            double s = 0;                                                                  \
            for (ptrdiff_t lo = 0; lo < cols; lo += FNN_LOSS_BLOCK) {                      \
                const ptrdiff_t hi = lo + FNN_LOSS_BLOCK < cols ? lo + FNN_LOSS_BLOCK : cols; \
                s += (double)FNN_CAT(name##_block, SFX)(x, yt, grad, lo, hi, q->a, q->gs); \
            }                                                                              \
            q->loss[r] = (T)s;                                                             \
        }                                                                                  \
    }                                                                                      \
    static void FNN_CAT(name##_rows, SFX)(const T *xx, const T *yy, ptrdiff_t rows,        \
                                          ptrdiff_t cols, double p, T *out, T *gg,         \
                                          double gscale, int nt) {                         \
        FNN_CAT(fnn_pw_ctx, SFX) q = {xx, yy, gg, out, 0, cols, (T)p, (T)gscale, NULL, 0}; \
        fnn_parallel_for(rows, nt, FNN_CAT(name##_rows_range, SFX), &q);                   \
    }
FNN_POINTWISE_LOSSES(FNN_DEF_PW)
#undef FNN_DEF_PW
#undef FNN_PW_BODY_DECL

/* BCE with logits and pos_weight pw (one value per column):
 *   l = (1 - y) x + (1 + (pw - 1) y) (log1p(exp(-|x|)) + max(-x, 0))
 *   dl/dx = (1 - y) - (1 + (pw - 1) y) sigmoid(-x)
 * loss (per element) and grad (times gscale) are optional; returns the total. */
typedef struct {
    const T *x, *y, *pw;
    ptrdiff_t rows, cols, rb;
    T *loss, *grad;
    T gs;
    double *part;
    ptrdiff_t first;
} FNN_CAT(fnn_bcepw_ctx, SFX);

static void FNN_CAT(bce_logits_pw_range, SFX)(void *vq, ptrdiff_t b0, ptrdiff_t b1) {
    const FNN_CAT(fnn_bcepw_ctx, SFX) *q = (const FNN_CAT(fnn_bcepw_ctx, SFX) *)vq;
    const ptrdiff_t cols = q->cols;
    const T *pw = q->pw, gs = q->gs;
    for (ptrdiff_t b = b0; b < b1; b++) {
        const ptrdiff_t blk = q->first + b;
        const ptrdiff_t r1 = (blk + 1) * q->rb < q->rows ? (blk + 1) * q->rb : q->rows;
        double total = 0;
        for (ptrdiff_t r = blk * q->rb; r < r1; r++) {
            const T *x = q->x + r * cols, *yt = q->y + r * cols;
            T *loss = q->loss ? q->loss + r * cols : NULL, *grad = q->grad ? q->grad + r * cols : NULL;
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
        q->part[b] = total;
    }
}

static double FNN_CAT(bce_logits_pw, SFX)(const T *xx, const T *yy, const T *pw, ptrdiff_t rows,
                                          ptrdiff_t cols, T *ll, T *gg, double gscale, int nt) {
    /* blocks of whole rows, ~FNN_LOSS_BLOCK elements each, totalled in block order */
    ptrdiff_t rb = cols > 0 ? FNN_LOSS_BLOCK / cols : rows;
    if (rb < 1) rb = 1;
    const ptrdiff_t nb = rows > 0 ? (rows + rb - 1) / rb : 0;
    double part[FNN_LOSS_GROUP], total = 0;
    FNN_CAT(fnn_bcepw_ctx, SFX) q = {xx, yy, pw, rows, cols, rb, ll, gg, (T)gscale, part, 0};
    for (q.first = 0; q.first < nb; q.first += FNN_LOSS_GROUP) {
        const ptrdiff_t gn = nb - q.first < FNN_LOSS_GROUP ? nb - q.first : FNN_LOSS_GROUP;
        fnn_parallel_for(gn, nt, FNN_CAT(bce_logits_pw_range, SFX), &q);
        for (ptrdiff_t b = 0; b < gn; b++) total += part[b];
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
typedef struct {
    const T *x, *y, *w;
    const int64_t *t;
    ptrdiff_t C;
    int64_t ignore;
    T *loss, *grad;
    T eps, g, k0, tw, e1;
} FNN_CAT(fnn_ce_ctx, SFX);

/* One row's loss and gradient from its max m, the exponentials e_j = exp(x_j - m)
 * already in gr (when a gradient is wanted), their sum s and ls = log(s). */
static inline void FNN_CAT(ce_hard_finish, SFX)(const FNN_CAT(fnn_ce_ctx, SFX) *q, ptrdiff_t i,
                                                const T *xr, T *gr, int64_t tt, T m, T s,
                                                T ls) {
    const ptrdiff_t C = q->C;
    const T *w = q->w, eps = q->eps, g = q->g, k0 = q->k0, tw = q->tw;
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
    q->loss[i] = li;
    if (gr) {
        const T aa = g * ((ONE - eps) * wt + k0 * tw) / s;
        const T b = g * k0;
        if (eps != 0 && w) {
            FNN_SIMD for (ptrdiff_t j = 0; j < C; j++) gr[j] = gr[j] * aa - b * w[j];
        } else {
            FNN_SIMD for (ptrdiff_t j = 0; j < C; j++) gr[j] = gr[j] * aa - b;
        }
        gr[tt] -= g * (ONE - eps) * wt;
    }
}

static inline int FNN_CAT(ce_hard_skip, SFX)(const FNN_CAT(fnn_ce_ctx, SFX) *q, ptrdiff_t i,
                                             T *gr, int64_t tt) {
    if (tt == q->ignore || tt < 0 || tt >= q->C) {
        q->loss[i] = 0;
        if (gr) FNN_SIMD for (ptrdiff_t j = 0; j < q->C; j++) gr[j] = 0;
        return 1;
    }
    return 0;
}

/* Few classes (the usual classifier head): a row is shorter than a vector or two,
 * and a vector exp per row would run mostly on its scalar remainder. Rows are taken
 * FNN_CE_TILE elements at a time instead: x_j - m of every row of the tile written
 * contiguously, one long vector exp over the tile, then each row finished alone.
 * Rows stay independent, so the result does not depend on the thread count. */
#ifndef FNN_CE_TILE
#define FNN_CE_TILE 1024
#define FNN_CE_TILE_BELOW 64
#endif
static void FNN_CAT(ce_hard_tiles, SFX)(const FNN_CAT(fnn_ce_ctx, SFX) *q, ptrdiff_t i0,
                                        ptrdiff_t i1) {
    const ptrdiff_t C = q->C, R = FNN_CE_TILE / C;
    T buf[FNN_CE_TILE], mx[FNN_CE_TILE];
    for (ptrdiff_t r0 = i0; r0 < i1; r0 += R) {
        const ptrdiff_t r1 = r0 + R < i1 ? r0 + R : i1, n = (r1 - r0) * C;
        const T *xt = q->x + r0 * C;
        T *e = q->grad ? q->grad + r0 * C : buf;
        for (ptrdiff_t r = 0; r < r1 - r0; r++) {
            const T *xr = xt + r * C;
            T m = -TINF;
            for (ptrdiff_t j = 0; j < C; j++) m = xr[j] > m ? xr[j] : m;
            mx[r] = m;
            for (ptrdiff_t j = 0; j < C; j++) e[r * C + j] = xr[j] - m;
        }
        FNN_SIMD for (ptrdiff_t k = 0; k < n; k++) e[k] = EXP(e[k]);
        for (ptrdiff_t r = 0; r < r1 - r0; r++) {
            const ptrdiff_t i = r0 + r;
            T *gr = q->grad ? e + r * C : NULL;
            const int64_t tt = q->t[i];
            if (FNN_CAT(ce_hard_skip, SFX)(q, i, gr, tt)) continue;
            T s = 0;
            for (ptrdiff_t j = 0; j < C; j++) s += e[r * C + j];
            FNN_CAT(ce_hard_finish, SFX)(q, i, xt + r * C, gr, tt, mx[r], s, LOG(s));
        }
    }
}

static void FNN_CAT(ce_hard_range, SFX)(void *vq, ptrdiff_t i0, ptrdiff_t i1) {
    const FNN_CAT(fnn_ce_ctx, SFX) *q = (const FNN_CAT(fnn_ce_ctx, SFX) *)vq;
    const ptrdiff_t C = q->C;
    if (C > 0 && C < FNN_CE_TILE_BELOW) {
        FNN_CAT(ce_hard_tiles, SFX)(q, i0, i1);
        return;
    }
    for (ptrdiff_t i = i0; i < i1; i++) {
        const T *xr = q->x + i * C;
        T *gr = q->grad ? q->grad + i * C : NULL;
        const int64_t tt = q->t[i];
        if (FNN_CAT(ce_hard_skip, SFX)(q, i, gr, tt)) continue;
        FNN_CE_ROW_LSE
        FNN_CAT(ce_hard_finish, SFX)(q, i, xr, gr, tt, m, s, ls);
    }
}

static double FNN_CAT(ce_hard, SFX)(const T *x, const int64_t *t, ptrdiff_t N, ptrdiff_t C,
                                    const T *w, int64_t ignore, double eps_d, T *loss, T *grad,
                                    double gscale, int mean, double *den_out, ptrdiff_t *bad_out,
                                    int nt) {
    double den = 0, W = (double)C;
    ptrdiff_t bad = N;
    if (w) {
        W = 0;
        for (ptrdiff_t j = 0; j < C; j++) W += w[j];
    }
    for (ptrdiff_t i = 0; i < N; i++) {
        const int64_t tt = t[i];
        if (tt != ignore && tt >= 0 && tt < C) den += w ? (double)w[tt] : 1.0;
        else if (tt != ignore && i < bad) bad = i;
    }
    *den_out = den;
    *bad_out = bad;
    if (mean) gscale = den != 0 ? gscale / den : 0;
    FNN_CAT(fnn_ce_ctx, SFX) q = {x, NULL, w, t, C, ignore, loss, grad, (T)eps_d, (T)gscale,
                                  (T)(eps_d / (double)C), (T)W, 0};
    fnn_parallel_for(N, nt, FNN_CAT(ce_hard_range, SFX), &q);
    /* the row losses added in row order: the same total for any thread count */
    double total = 0;
    for (ptrdiff_t i = 0; i < N; i++) total += (double)loss[i];
    return total;
}

/* Cross-entropy of logits x (N, C) with soft targets y (N, C) (class probabilities),
 * fused with its gradient; y' = (1-eps) y + eps/C, w = class weights or NULL:
 *   loss_i = sum_j w_j y'_ij (lse_i - x_ij)
 *   grad_ij = gscale (softmax_ij sum_k w_k y'_ik - w_j y'_ij)
 * Returns the sum of the row losses. */
static void FNN_CAT(ce_soft_range, SFX)(void *vq, ptrdiff_t i0, ptrdiff_t i1) {
    const FNN_CAT(fnn_ce_ctx, SFX) *q = (const FNN_CAT(fnn_ce_ctx, SFX) *)vq;
    const ptrdiff_t C = q->C;
    const T *w = q->w, e1 = q->e1, k0 = q->k0, g = q->g;
    for (ptrdiff_t i = i0; i < i1; i++) {
        const T *xr = q->x + i * C, *yr = q->y + i * C;
        T *gr = q->grad ? q->grad + i * C : NULL;
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
        q->loss[i] = li;
        if (gr) {
            const T aa = g * sy / s;
            if (w) {
                FNN_SIMD for (ptrdiff_t j = 0; j < C; j++) gr[j] = gr[j] * aa - g * w[j] * (e1 * yr[j] + k0);
            } else {
                FNN_SIMD for (ptrdiff_t j = 0; j < C; j++) gr[j] = gr[j] * aa - g * (e1 * yr[j] + k0);
            }
        }
    }
}

static double FNN_CAT(ce_soft, SFX)(const T *x, const T *y, ptrdiff_t N, ptrdiff_t C,
                                    const T *w, double eps_d, T *loss, T *grad, double gscale,
                                    int nt) {
    FNN_CAT(fnn_ce_ctx, SFX) q = {x, y, w, NULL, C, 0, loss, grad, 0, (T)gscale,
                                  (T)(eps_d / (double)C), 0, (T)(1.0 - eps_d)};
    fnn_parallel_for(N, nt, FNN_CAT(ce_soft_range, SFX), &q);
    double total = 0;
    for (ptrdiff_t i = 0; i < N; i++) total += (double)loss[i];
    return total;
}

/* out = a * s (backward of a reduced loss: the saved gradient times the incoming one). */
typedef struct { const T *a; T *out; ptrdiff_t n; T k; } FNN_CAT(fnn_scale_ctx, SFX);

static void FNN_CAT(scale_range, SFX)(void *vq, ptrdiff_t b0, ptrdiff_t b1) {
    const FNN_CAT(fnn_scale_ctx, SFX) *q = (const FNN_CAT(fnn_scale_ctx, SFX) *)vq;
    const ptrdiff_t lo = b0 * FNN_LOSS_BLOCK, hi = b1 * FNN_LOSS_BLOCK < q->n ? b1 * FNN_LOSS_BLOCK : q->n;
    const T *a = q->a, k = q->k;
    T *out = q->out;
    FNN_SIMD for (ptrdiff_t i = lo; i < hi; i++) out[i] = a[i] * k;
}

static void FNN_CAT(scale, SFX)(const T *a, T *out, ptrdiff_t n, double s, int nt) {
    FNN_CAT(fnn_scale_ctx, SFX) q = {a, out, n, (T)s};
    fnn_parallel_for((n + FNN_LOSS_BLOCK - 1) / FNN_LOSS_BLOCK, nt, FNN_CAT(scale_range, SFX), &q);
}
#undef FNN_CE_ROW_LSE
