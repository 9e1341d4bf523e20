/* Template body of activations.h: included once per dtype (T, SFX). */

/* ---- prelu: x if x > 0 else w[c] x ---- */
static void FNN_CAT(prelu_fwd_range, SFX)(void *vctx, ptrdiff_t r0, ptrdiff_t r1) {
    const fnn_act_args *a = (const fnn_act_args *)vctx;
    const ptrdiff_t C = a->C, S = a->S;
    for (ptrdiff_t r = r0; r < r1; r++) {
        const T w = ((const T *)a->p0)[r % C];
        const T *x = (const T *)a->x + r * S;
        T *out = (T *)a->out + r * S;
        FNN_SIMD for (ptrdiff_t s = 0; s < S; s++) {
            const T v = x[s];
            out[s] = v > 0 ? v : v * w;
        }
    }
}

static void FNN_CAT(fnn_prelu_fwd, SFX)(fnn_act_args *a, int nt) {
    fnn_parallel_for(a->N * a->C, nt, FNN_CAT(prelu_fwd_range, SFX), a);
}

/* gx = g if x > 0 else w g; rows[n, c] = the sum of g x where x <= 0 (or NaN) */
static void FNN_CAT(prelu_bwd_range, SFX)(void *vctx, ptrdiff_t r0, ptrdiff_t r1) {
    const fnn_act_args *a = (const fnn_act_args *)vctx;
    const ptrdiff_t C = a->C, S = a->S;
    for (ptrdiff_t r = r0; r < r1; r++) {
        const T w = ((const T *)a->p0)[r % C];
        const T *x = (const T *)a->x + r * S, *g = (const T *)a->g + r * S;
        T *gx = (T *)a->gx + r * S;
        double acc = 0.0;
        for (ptrdiff_t s = 0; s < S; s++) {
            const T v = x[s], gv = g[s];
            if (v > 0) {
                gx[s] = gv;
            } else {
                gx[s] = gv * w;
                acc += (double)(gv * v);
            }
        }
        a->rows[r] = acc;
    }
}

static void FNN_CAT(fnn_prelu_bwd, SFX)(fnn_act_args *a, int nt) {
    fnn_parallel_for(a->N * a->C, nt, FNN_CAT(prelu_bwd_range, SFX), a);
}

/* ---- srelu: piecewise linear with per-channel thresholds and slopes ---- */
static void FNN_CAT(srelu_fwd_range, SFX)(void *vctx, ptrdiff_t r0, ptrdiff_t r1) {
    const fnn_act_args *a = (const fnn_act_args *)vctx;
    const ptrdiff_t C = a->C, S = a->S;
    for (ptrdiff_t r = r0; r < r1; r++) {
        const ptrdiff_t c = r % C;
        const T tl = ((const T *)a->p0)[c], al = ((const T *)a->p1)[c];
        const T tr = ((const T *)a->p2)[c], ar = ((const T *)a->p3)[c];
        const T *x = (const T *)a->x + r * S;
        T *out = (T *)a->out + r * S;
        FNN_SIMD for (ptrdiff_t s = 0; s < S; s++) {
            const T v = x[s];
            out[s] = v >= tr ? tr + ar * (v - tr) : (v <= tl ? tl + al * (v - tl) : v);
        }
    }
}

static void FNN_CAT(fnn_srelu_fwd, SFX)(fnn_act_args *a, int nt) {
    fnn_parallel_for(a->N * a->C, nt, FNN_CAT(srelu_fwd_range, SFX), a);
}

/* rows[(n, c), 0..3] = partial gradients of (t_left, a_left, t_right, a_right) */
static void FNN_CAT(srelu_bwd_range, SFX)(void *vctx, ptrdiff_t r0, ptrdiff_t r1) {
    const fnn_act_args *a = (const fnn_act_args *)vctx;
    const ptrdiff_t C = a->C, S = a->S;
    for (ptrdiff_t r = r0; r < r1; r++) {
        const ptrdiff_t c = r % C;
        const T tl = ((const T *)a->p0)[c], al = ((const T *)a->p1)[c];
        const T tr = ((const T *)a->p2)[c], ar = ((const T *)a->p3)[c];
        const double one_m_al = 1.0 - (double)al, one_m_ar = 1.0 - (double)ar;
        const T *x = (const T *)a->x + r * S, *g = (const T *)a->g + r * S;
        T *gx = (T *)a->gx + r * S;
        double d_tl = 0.0, d_al = 0.0, d_tr = 0.0, d_ar = 0.0;
        for (ptrdiff_t s = 0; s < S; s++) {
            const T v = x[s], gv = g[s];
            if (v >= tr) {
                gx[s] = gv * ar;
                d_tr += (double)gv * one_m_ar;
                d_ar += (double)(gv * (v - tr));
            } else if (v <= tl) {
                gx[s] = gv * al;
                d_tl += (double)gv * one_m_al;
                d_al += (double)(gv * (v - tl));
            } else {
                gx[s] = gv;
            }
        }
        double *row = a->rows + 4 * r;
        row[0] = d_tl;
        row[1] = d_al;
        row[2] = d_tr;
        row[3] = d_ar;
    }
}

static void FNN_CAT(fnn_srelu_bwd, SFX)(fnn_act_args *a, int nt) {
    fnn_parallel_for(a->N * a->C, nt, FNN_CAT(srelu_bwd_range, SFX), a);
}

/* ---- crelu: (outer, M) -> (outer, 2, M) = (relu(x), relu(-x)) ---- */
static void FNN_CAT(crelu_fwd_range, SFX)(void *vctx, ptrdiff_t o0, ptrdiff_t o1) {
    const fnn_act_args *a = (const fnn_act_args *)vctx;
    const ptrdiff_t M = a->S;
    for (ptrdiff_t o = o0; o < o1; o++) {
        const T *x = (const T *)a->x + o * M;
        T *pos = (T *)a->out + 2 * o * M, *neg = pos + M;
        FNN_SIMD for (ptrdiff_t m = 0; m < M; m++) {
            const T v = x[m], w = -v;
            pos[m] = v < 0 ? (T)0 : v;
            neg[m] = w < 0 ? (T)0 : w;
        }
    }
}

static void FNN_CAT(fnn_crelu_fwd, SFX)(fnn_act_args *a, int nt) {
    fnn_parallel_for(a->N, nt, FNN_CAT(crelu_fwd_range, SFX), a);
}

/* gx = g_pos where x > 0, -g_neg where x < 0, else 0 */
static void FNN_CAT(crelu_bwd_range, SFX)(void *vctx, ptrdiff_t o0, ptrdiff_t o1) {
    const fnn_act_args *a = (const fnn_act_args *)vctx;
    const ptrdiff_t M = a->S;
    for (ptrdiff_t o = o0; o < o1; o++) {
        const T *x = (const T *)a->x + o * M;
        const T *gp = (const T *)a->g + 2 * o * M, *gn = gp + M;
        T *gx = (T *)a->gx + o * M;
        FNN_SIMD for (ptrdiff_t m = 0; m < M; m++) {
            const T v = x[m];
            gx[m] = v > 0 ? gp[m] : (v < 0 ? -gn[m] : (T)0);
        }
    }
}

static void FNN_CAT(fnn_crelu_bwd, SFX)(fnn_act_args *a, int nt) {
    fnn_parallel_for(a->N, nt, FNN_CAT(crelu_bwd_range, SFX), a);
}

/* ---- maxout: (outer, G, K, inner) -> max over K, first maximum (first NaN) wins ---- */
static void FNN_CAT(maxout_fwd_range, SFX)(void *vctx, ptrdiff_t r0, ptrdiff_t r1) {
    const fnn_act_args *a = (const fnn_act_args *)vctx;
    const ptrdiff_t K = a->K, L = a->S;
    for (ptrdiff_t r = r0; r < r1; r++) {        /* r = (outer, group) */
        const T *x = (const T *)a->x + r * K * L;
        T *best = (T *)a->out + r * L;
        int32_t *idx = a->idx + r * L;
        FNN_SIMD for (ptrdiff_t i = 0; i < L; i++) {
            best[i] = x[i];
            idx[i] = 0;
        }
        for (ptrdiff_t j = 1; j < K; j++) {
            const T *xj = x + j * L;
            FNN_SIMD for (ptrdiff_t i = 0; i < L; i++) {
                const T v = xj[i], b = best[i];
                const int take = v > b || (v != v && b == b);
                best[i] = take ? v : b;
                idx[i] = take ? (int32_t)j : idx[i];
            }
        }
    }
}

static void FNN_CAT(fnn_maxout_fwd, SFX)(fnn_act_args *a, int nt) {
    fnn_parallel_for(a->N * a->G, nt, FNN_CAT(maxout_fwd_range, SFX), a);
}

static void FNN_CAT(maxout_bwd_range, SFX)(void *vctx, ptrdiff_t r0, ptrdiff_t r1) {
    fnn_act_args *a = (fnn_act_args *)vctx;
    const ptrdiff_t K = a->K, L = a->S;
    ptrdiff_t bad = 0;
    for (ptrdiff_t r = r0; r < r1; r++) {
        const T *g = (const T *)a->g + r * L;
        const int32_t *idx = a->idx_in + r * L;
        T *gx = (T *)a->gx + r * K * L;
        for (ptrdiff_t i = 0; i < L; i++)
            bad += idx[i] < 0 || idx[i] >= K;
        for (ptrdiff_t j = 0; j < K; j++) {
            T *gj = gx + j * L;
            FNN_SIMD for (ptrdiff_t i = 0; i < L; i++)
                gj[i] = idx[i] == j ? g[i] : (T)0;
        }
    }
    if (bad)
        __atomic_fetch_add(&a->bad, bad, __ATOMIC_RELAXED);
}

/* returns the count of indices outside [0, K) (their gradient is dropped) */
static ptrdiff_t FNN_CAT(fnn_maxout_bwd, SFX)(fnn_act_args *a, int nt) {
    a->bad = 0;
    fnn_parallel_for(a->N * a->G, nt, FNN_CAT(maxout_bwd_range, SFX), a);
    return a->bad;
}
