/* Template body of pooling.h: included once per dtype (T, SFX, NEG_INF). */

/* A 2x2 window, stride 2, no padding: four loads per output, branch-free, in the
 * generic loop's order (row by row), so ties and NaNs resolve the same way. */
static inline void FNN_CAT(max_pool_2x2_plane, SFX)(const fnn_pool_geom *g, const T *x, T *y,
                                                    int64_t *idx) {
    const ptrdiff_t W = g->W, OH = g->OH, OW = g->OW;
    for (ptrdiff_t oy = 0; oy < OH; oy++) {
        const T *r0 = x + 2 * oy * W, *r1 = r0 + W;
        T *yr = y + oy * OW;
        int64_t *ir = idx + oy * OW;
        const int64_t base = 2 * oy * W;
        FNN_SIMD for (ptrdiff_t ox = 0; ox < OW; ox++) {
            const T a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
            T best = a;
            int64_t at = 0;
            const int tb = b > best || b != b;
            best = tb ? b : best;
            at = tb ? 1 : at;
            const int tc = c > best || c != c;
            best = tc ? c : best;
            at = tc ? W : at;
            const int td = d > best || d != d;
            best = td ? d : best;
            at = td ? W + 1 : at;
            yr[ox] = best;
            ir[ox] = base + 2 * ox + at;
        }
    }
}

static void FNN_CAT(max_pool_fwd_range, SFX)(void *vctx, ptrdiff_t p0, ptrdiff_t p1) {
    const fnn_pool_ctx *c = (const fnn_pool_ctx *)vctx;
    const fnn_pool_geom *g = c->g;
    const ptrdiff_t H = g->H, W = g->W, OH = g->OH, OW = g->OW;
    const int fast = fnn_pool_is_2x2(g);
    for (ptrdiff_t p = p0; p < p1; p++) {
        const T *x = (const T *)c->in + p * H * W;
        T *y = (T *)c->out + p * OH * OW;
        int64_t *idx = c->idx_out + p * OH * OW;
        if (fast) {
            FNN_CAT(max_pool_2x2_plane, SFX)(g, x, y, idx);
            continue;
        }
        for (ptrdiff_t oy = 0; oy < OH; oy++) {
            ptrdiff_t y0 = oy * g->sh - g->ph;
            const ptrdiff_t y1e = y0 + (g->kh - 1) * g->dh + 1;
            const ptrdiff_t y1 = y1e < H ? y1e : H;
            while (y0 < 0)
                y0 += g->dh;
            for (ptrdiff_t ox = 0; ox < OW; ox++) {
                ptrdiff_t x0 = ox * g->sw - g->pw;
                const ptrdiff_t x1e = x0 + (g->kw - 1) * g->dw + 1;
                const ptrdiff_t x1 = x1e < W ? x1e : W;
                while (x0 < 0)
                    x0 += g->dw;
                T best = NEG_INF;
                int64_t at = y0 * W + x0;
                for (ptrdiff_t iy = y0; iy < y1; iy += g->dh)
                    for (ptrdiff_t ix = x0; ix < x1; ix += g->dw) {
                        const T v = x[iy * W + ix];
                        /* torch's rule: a NaN always takes over, so NaN in -> NaN out */
                        if (v > best || v != v) {
                            best = v;
                            at = iy * W + ix;
                        }
                    }
                y[oy * OW + ox] = best;
                idx[oy * OW + ox] = at;
            }
        }
    }
}

static void FNN_CAT(fnn_max_pool2d_fwd, SFX)(const T *x, T *y, int64_t *idx,
                                             const fnn_pool_geom *g, int nt) {
    fnn_pool_ctx c = {g, x, y, NULL, idx, 0};
    fnn_parallel_for(g->P, nt, FNN_CAT(max_pool_fwd_range, SFX), &c);
}

static void FNN_CAT(max_pool_bwd_range, SFX)(void *vctx, ptrdiff_t p0, ptrdiff_t p1) {
    fnn_pool_ctx *c = (fnn_pool_ctx *)vctx;
    const fnn_pool_geom *g = c->g;
    const ptrdiff_t HW = g->H * g->W, L = g->OH * g->OW;
    ptrdiff_t bad = 0;
    for (ptrdiff_t p = p0; p < p1; p++) {
        const T *gy = (const T *)c->in + p * L;
        const int64_t *idx = c->idx_in + p * L;
        T *gx = (T *)c->out + p * HW;
        memset(gx, 0, (size_t)HW * sizeof(T));
        for (ptrdiff_t o = 0; o < L; o++) {
            const int64_t k = idx[o];
            if (k < 0 || k >= HW) {
                bad++;
                continue;
            }
            gx[k] += gy[o];
        }
    }
    if (bad)
        __atomic_fetch_add(&c->bad, bad, __ATOMIC_RELAXED);
}

/* gx (P, H*W) = gy (P, OH*OW) added at the arg-max positions idx; returns the count
 * of indices outside their plane (skipped). */
static ptrdiff_t FNN_CAT(fnn_max_pool2d_bwd, SFX)(const T *gy, const int64_t *idx, T *gx,
                                                  const fnn_pool_geom *g, int nt) {
    fnn_pool_ctx c = {g, gy, gx, idx, NULL, 0};
    fnn_parallel_for(g->P, nt, FNN_CAT(max_pool_bwd_range, SFX), &c);
    return c.bad;
}

static void FNN_CAT(avg_pool_fwd_range, SFX)(void *vctx, ptrdiff_t p0, ptrdiff_t p1) {
    const fnn_pool_ctx *c = (const fnn_pool_ctx *)vctx;
    const fnn_pool_geom *g = c->g;
    const ptrdiff_t H = g->H, W = g->W, OH = g->OH, OW = g->OW;
    for (ptrdiff_t p = p0; p < p1; p++) {
        const T *x = (const T *)c->in + p * H * W;
        T *y = (T *)c->out + p * OH * OW;
        for (ptrdiff_t oy = 0; oy < OH; oy++) {
            ptrdiff_t ya, ye;
            const ptrdiff_t ysz = fnn_avg_window(oy, g->sh, g->ph, g->kh, H, &ya, &ye);
            for (ptrdiff_t ox = 0; ox < OW; ox++) {
                ptrdiff_t xa, xe;
                const ptrdiff_t xsz = fnn_avg_window(ox, g->sw, g->pw, g->kw, W, &xa, &xe);
                if (ye <= ya || xe <= xa) {
                    y[oy * OW + ox] = 0;
                    continue;
                }
                double acc = 0.0;   /* double sums, as torch's CPU accumulator */
                for (ptrdiff_t iy = ya; iy < ye; iy++)
                    for (ptrdiff_t ix = xa; ix < xe; ix++)
                        acc += x[iy * W + ix];
                y[oy * OW + ox] = (T)(acc / (double)fnn_avg_divisor(g, ysz, xsz, ya, ye, xa, xe));
            }
        }
    }
}

static void FNN_CAT(fnn_avg_pool2d_fwd, SFX)(const T *x, T *y, const fnn_pool_geom *g, int nt) {
    fnn_pool_ctx c = {g, x, y, NULL, NULL, 0};
    fnn_parallel_for(g->P, nt, FNN_CAT(avg_pool_fwd_range, SFX), &c);
}

static void FNN_CAT(avg_pool_bwd_range, SFX)(void *vctx, ptrdiff_t p0, ptrdiff_t p1) {
    const fnn_pool_ctx *c = (const fnn_pool_ctx *)vctx;
    const fnn_pool_geom *g = c->g;
    const ptrdiff_t H = g->H, W = g->W, OH = g->OH, OW = g->OW;
    for (ptrdiff_t p = p0; p < p1; p++) {
        const T *gy = (const T *)c->in + p * OH * OW;
        T *gx = (T *)c->out + p * H * W;
        memset(gx, 0, (size_t)(H * W) * sizeof(T));
        for (ptrdiff_t oy = 0; oy < OH; oy++) {
            ptrdiff_t ya, ye;
            const ptrdiff_t ysz = fnn_avg_window(oy, g->sh, g->ph, g->kh, H, &ya, &ye);
            for (ptrdiff_t ox = 0; ox < OW; ox++) {
                ptrdiff_t xa, xe;
                const ptrdiff_t xsz = fnn_avg_window(ox, g->sw, g->pw, g->kw, W, &xa, &xe);
                if (ye <= ya || xe <= xa)
                    continue;
                const double v = (double)gy[oy * OW + ox]
                    / (double)fnn_avg_divisor(g, ysz, xsz, ya, ye, xa, xe);
                for (ptrdiff_t iy = ya; iy < ye; iy++)
                    for (ptrdiff_t ix = xa; ix < xe; ix++)
                        gx[iy * W + ix] = (T)((double)gx[iy * W + ix] + v);
            }
        }
    }
}

static void FNN_CAT(fnn_avg_pool2d_bwd, SFX)(const T *gy, T *gx, const fnn_pool_geom *g, int nt) {
    fnn_pool_ctx c = {g, gy, gx, NULL, NULL, 0};
    fnn_parallel_for(g->P, nt, FNN_CAT(avg_pool_bwd_range, SFX), &c);
}
