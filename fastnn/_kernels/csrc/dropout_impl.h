/* Template body of dropout.h: included once per dtype (T, SFX). */

static void FNN_CAT(dropout_fwd_range, SFX)(void *vctx, ptrdiff_t b0, ptrdiff_t b1) {
    const fnn_dropout_args *a = (const fnn_dropout_args *)vctx;
    const T s = (T)a->s, c1 = (T)a->c1, c0 = (T)a->c0;
    T z = 0;
    FNN_OPAQUE(z);
    for (ptrdiff_t b = b0; b < b1; b++) {
        const ptrdiff_t start = b * FNN_DROPOUT_BLOCK;
        const ptrdiff_t len = a->n - start < FNN_DROPOUT_BLOCK ? a->n - start : FNN_DROPOUT_BLOCK;
        const uint32_t base = (uint32_t)start, k0 = a->k0, thr = a->thr;
        const uint32_t kb = fnn_block_key(a->k1, start);
        const T *x = (const T *)a->x + start;
        T *out = (T *)a->out + start;
        uint8_t *m = a->mask + start;
        FNN_SIMD for (ptrdiff_t j = 0; j < len; j++) {
            const int keep = fnn_hash32(base + (uint32_t)j, k0, kb) >= thr;
            m[j] = (uint8_t)keep;
            out[j] = x[j] * (keep ? s : z) + (keep ? c1 : c0);
        }
    }
}

/* out = x * (keep ? s : 0) + (keep ? c1 : c0); mask = keep (one pass; out may be x) */
static void FNN_CAT(fnn_dropout_fwd, SFX)(const T *x, T *out, uint8_t *mask, ptrdiff_t n,
                                          uint32_t k0, uint32_t k1, uint32_t thr, double s,
                                          double c1, double c0, int nt) {
    fnn_dropout_args a = {x, out, mask, n, k0, k1, thr, s, c1, c0, 0};
    fnn_parallel_for((n + FNN_DROPOUT_BLOCK - 1) / FNN_DROPOUT_BLOCK, nt,
                     FNN_CAT(dropout_fwd_range, SFX), &a);
}

static void FNN_CAT(dropout_bwd_range, SFX)(void *vctx, ptrdiff_t b0, ptrdiff_t b1) {
    const fnn_dropout_args *a = (const fnn_dropout_args *)vctx;
    const T s = (T)a->s;
    T z = 0;
    FNN_OPAQUE(z);
    const ptrdiff_t lo = b0 * FNN_DROPOUT_BLOCK;
    const ptrdiff_t hi = b1 * FNN_DROPOUT_BLOCK < a->n ? b1 * FNN_DROPOUT_BLOCK : a->n;
    const T *g = (const T *)a->x;
    T *out = (T *)a->out;
    const uint8_t *m = a->mask;
    FNN_SIMD for (ptrdiff_t i = lo; i < hi; i++)
        out[i] = g[i] * (m[i] ? s : z);
}

/* out = g * (mask ? s : 0) */
static void FNN_CAT(fnn_dropout_bwd, SFX)(const T *g, const uint8_t *mask, T *out, ptrdiff_t n,
                                          double s, int nt) {
    fnn_dropout_args a = {g, out, (uint8_t *)mask, n, 0, 0, 0, s, 0, 0, 0};
    fnn_parallel_for((n + FNN_DROPOUT_BLOCK - 1) / FNN_DROPOUT_BLOCK, nt,
                     FNN_CAT(dropout_bwd_range, SFX), &a);
}

static void FNN_CAT(channel_apply_range, SFX)(void *vctx, ptrdiff_t r0, ptrdiff_t r1) {
    const fnn_dropout_args *a = (const fnn_dropout_args *)vctx;
    const T s = (T)a->s, c1 = (T)a->c1, c0 = (T)a->c0;
    T z = 0;
    FNN_OPAQUE(z);
    const ptrdiff_t inner = a->inner;
    for (ptrdiff_t r = r0; r < r1; r++) {
        const int keep = a->mask[r] != 0;
        const T sc = keep ? s : z, c = keep ? c1 : c0;
        const T *x = (const T *)a->x + r * inner;
        T *out = (T *)a->out + r * inner;
        FNN_SIMD for (ptrdiff_t j = 0; j < inner; j++)
            out[j] = x[j] * sc + c;
    }
}

/* Row r of x (rows of `inner` elements): out = x * (m ? s : 0) + (m ? c1 : c0) */
static void FNN_CAT(fnn_channel_apply, SFX)(const T *x, const uint8_t *mask, T *out,
                                            ptrdiff_t rows, ptrdiff_t inner, double s,
                                            double c1, double c0, int nt) {
    fnn_dropout_args a = {x, out, (uint8_t *)mask, rows * inner, 0, 0, 0, s, c1, c0, inner};
    fnn_parallel_for(rows, nt, FNN_CAT(channel_apply_range, SFX), &a);
}
