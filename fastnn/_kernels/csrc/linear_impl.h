/* Template body of linear.h: included once per dtype. */
#ifndef FNN_LIN_ROWS
#define FNN_LIN_ROWS 4
#endif

/* Dot products of FNN_LIN_ROWS rows of w (stride k) with xi: FNN_LIN_ROWS
 * independent accumulator chains hide the FMA latency, and each load of xi
 * feeds all of them. */
static inline void FNN_CAT(lin_rows4, SFX)(const T *restrict xi, const T *restrict w,
                                           ptrdiff_t k, T *restrict out) {
    const T *restrict w0 = w, *restrict w1 = w + k, *restrict w2 = w + 2 * k, *restrict w3 = w + 3 * k;
    T a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    FNN_PRAGMA_(omp simd reduction(+:a0, a1, a2, a3))
    for (ptrdiff_t p = 0; p < k; p++) {
        const T v = xi[p];
        a0 += w0[p] * v;
        a1 += w1[p] * v;
        a2 += w2[p] * v;
        a3 += w3[p] * v;
    }
    out[0] = a0; out[1] = a1; out[2] = a2; out[3] = a3;
}

static inline T FNN_CAT(lin_row1, SFX)(const T *restrict xi, const T *restrict w0, ptrdiff_t k) {
    T a0 = 0;
    FNN_SIMD_SUM(a0)
    for (ptrdiff_t p = 0; p < k; p++)
        a0 += w0[p] * xi[p];
    return a0;
}

/* y (n, m) += b, then the activation, row by row (the same float operations as
 * NumPy's y += b and fastnn's relu, so every path gives the same bits). */
static inline void FNN_CAT(lin_epilogue, SFX)(T *restrict y, ptrdiff_t n, ptrdiff_t m,
                                              const T *restrict b, int act) {
    if (!b && act != FNN_ACT_RELU)
        return;
    for (ptrdiff_t i = 0; i < n; i++) {
        T *yi = y + i * m;
        if (b) {
            FNN_SIMD for (ptrdiff_t q = 0; q < m; q++) yi[q] += b[q];
        }
        if (act == FNN_ACT_RELU) {
            FNN_SIMD for (ptrdiff_t q = 0; q < m; q++) { const T v = yi[q]; yi[q] = v < 0 ? (T)0 : v; }
        }
    }
}

/* x (n, k), w (m, k), b (m,) or NULL, y (n, m); all C-contiguous. */
static void FNN_CAT(linear_small, SFX)(const T *x, ptrdiff_t n, ptrdiff_t k, const T *w,
                                       ptrdiff_t m, const T *b, T *y, int act) {
    ptrdiff_t j = 0;
    T acc[4];
    for (; j + 4 <= m; j += 4) {
        const T *wj = w + j * k;
        for (ptrdiff_t i = 0; i < n; i++) {
            FNN_CAT(lin_rows4, SFX)(x + i * k, wj, k, acc);
            T *yi = y + i * m + j;
            yi[0] = acc[0]; yi[1] = acc[1]; yi[2] = acc[2]; yi[3] = acc[3];
        }
    }
    for (; j < m; j++)
        for (ptrdiff_t i = 0; i < n; i++)
            y[i * m + j] = FNN_CAT(lin_row1, SFX)(x + i * k, w + j * k, k);
    FNN_CAT(lin_epilogue, SFX)(y, n, m, b, act);
}

/* Layers in a chain for the same rows, h_{l+1} = act_l(h_l w_lᵀ + b_l): a whole MLP
 * in one call, the intermediate activations alternating between two scratch
 * buffers of n * max(m_l) elements. ws/bs/ms/acts describe the L layers. */
static void FNN_CAT(linear_chain, SFX)(const T *x, ptrdiff_t n, ptrdiff_t k, int L,
                                       const void *const *ws, const void *const *bs,
                                       const ptrdiff_t *ms, const int *acts,
                                       T *y, T *scratch0, T *scratch1) {
    const T *in = x;
    for (int l = 0; l < L; l++) {
        T *out = l == L - 1 ? y : (l & 1 ? scratch1 : scratch0);
        FNN_CAT(linear_small, SFX)(in, n, k, (const T *)ws[l], ms[l], (const T *)bs[l], out, acts[l]);
        in = out;
        k = ms[l];
    }
}

/* The chain for many rows, on fastnn's pool: the rows are cut into blocks of
 * `rows` (a multiple of the GEMM's row unit, so each element is computed as one
 * BLAS call over all rows would) and each block goes through every layer before
 * the next starts, its activations in this thread's scratch, two buffers of
 * rows * widest, while they are still in cache: one single-threaded BLAS GEMM and
 * the bias/activation pass per layer. Blocks do not depend on the thread count,
 * so neither do the bits. Returns 0 where a scratch buffer or BLAS was missing. */
typedef struct {
    const T *x;
    ptrdiff_t n, k0, rows, widest;
    int L;
    const void *const *ws, *const *bs;
    const ptrdiff_t *ms;
    const int *acts;
    T *y;
    volatile int ok;
} FNN_CAT(lin_blocks_job, SFX);

static void FNN_CAT(lin_blocks_body, SFX)(void *ctx, ptrdiff_t b0, ptrdiff_t b1) {
    FNN_CAT(lin_blocks_job, SFX) *j = (FNN_CAT(lin_blocks_job, SFX) *)ctx;
    T *s = (T *)fnn_scratch((size_t)(2 * j->rows * j->widest) * sizeof(T));
    if (!s) {
        j->ok = 0;
        return;
    }
    for (ptrdiff_t bi = b0; bi < b1; bi++) {
        const ptrdiff_t r0 = bi * j->rows;
        const ptrdiff_t r = j->n - r0 < j->rows ? j->n - r0 : j->rows;
        const T *in = j->x + r0 * j->k0;
        ptrdiff_t k = j->k0;
        for (int l = 0; l < j->L; l++) {
            const ptrdiff_t m = j->ms[l];
            T *out = l == j->L - 1 ? j->y + r0 * m : s + (l & 1) * j->rows * j->widest;
            if (!FNN_CAT(lin_gemm, SFX)(r, m, k, in, (const T *)j->ws[l], out)) {
                j->ok = 0;
                return;
            }
            FNN_CAT(lin_epilogue, SFX)(out, r, m, (const T *)j->bs[l], j->acts[l]);
            in = out;
            k = m;
        }
    }
}

static int FNN_CAT(linear_chain_blocks, SFX)(const T *x, ptrdiff_t n, ptrdiff_t k, int L,
                                             const void *const *ws, const void *const *bs,
                                             const ptrdiff_t *ms, const int *acts, T *y,
                                             ptrdiff_t rows, ptrdiff_t widest, int nt) {
    FNN_CAT(lin_blocks_job, SFX) j = {x, n, k, rows, widest, L, ws, bs, ms, acts, y, 1};
    const ptrdiff_t nb = (n + rows - 1) / rows;
    fnn_pool->blas_serial_begin();
    fnn_parallel_for(nb, nt, FNN_CAT(lin_blocks_body, SFX), &j);
    fnn_pool->blas_serial_end();
    return j.ok;
}

/* One layer, y = act(x wᵀ + b), for any number of rows on fastnn's pool: the rows
 * are split exactly as the pooled GEMM splits them (units of `unit` rows, one range
 * per thread, one serial BLAS call per range) and each range's bias and activation
 * pass runs on the thread that just wrote those rows, while they are in its cache.
 * Bitwise the pooled GEMM followed by y += b and relu. Returns 0 where BLAS was
 * missing. */
typedef struct {
    const T *x, *w, *b;
    T *y;
    ptrdiff_t n, k, m, unit;
    int act;
    volatile int ok;
} FNN_CAT(lin_fwd_job, SFX);

static void FNN_CAT(lin_fwd_body, SFX)(void *ctx, ptrdiff_t b0, ptrdiff_t b1) {
    FNN_CAT(lin_fwd_job, SFX) *j = (FNN_CAT(lin_fwd_job, SFX) *)ctx;
    const ptrdiff_t r0 = b0 * j->unit, r1 = b1 * j->unit < j->n ? b1 * j->unit : j->n;
    if (r1 <= r0)
        return;
    T *out = j->y + r0 * j->m;
    if (!FNN_CAT(lin_gemm, SFX)(r1 - r0, j->m, j->k, j->x + r0 * j->k, j->w, out)) {
        j->ok = 0;
        return;
    }
    FNN_CAT(lin_epilogue, SFX)(out, r1 - r0, j->m, j->b, j->act);
}

static int FNN_CAT(linear_fwd, SFX)(const T *x, ptrdiff_t n, ptrdiff_t k, const T *w,
                                    ptrdiff_t m, const T *b, T *y, int act, ptrdiff_t unit,
                                    int nt) {
    FNN_CAT(lin_fwd_job, SFX) j = {x, w, b, y, n, k, m, unit, act, 1};
    const ptrdiff_t nb = (n + unit - 1) / unit;
    fnn_pool->blas_serial_begin();
    fnn_parallel_for_ranges(nb, nt, nt, FNN_CAT(lin_fwd_body, SFX), &j);
    fnn_pool->blas_serial_end();
    return j.ok;
}


/* Backward of a fused relu and the bias under it: gm (n, m) = g where y > 0, else 0
 * (relu_bwd from the output: NaN in y lets g through), and gb (m,) = gm's column
 * sums, each column's rows added in order from 0 (the bits of NumPy's
 * gm.sum(axis=0)). Columns are cut into blocks of `cols`, so the bits do not
 * depend on the thread count. */
typedef struct {
    const T *y, *g;
    T *gm, *gb;
    ptrdiff_t n, m, cols;
} FNN_CAT(lin_relu_bwd_job, SFX);

static void FNN_CAT(lin_relu_bwd_body, SFX)(void *ctx, ptrdiff_t b0, ptrdiff_t b1) {
    const FNN_CAT(lin_relu_bwd_job, SFX) *j = (const FNN_CAT(lin_relu_bwd_job, SFX) *)ctx;
    const ptrdiff_t m = j->m, c0 = b0 * j->cols, c1 = b1 * j->cols < m ? b1 * j->cols : m;
    T *restrict gb = j->gb;
    for (ptrdiff_t q = c0; q < c1; q++)
        gb[q] = 0;
    for (ptrdiff_t i = 0; i < j->n; i++) {
        const T *restrict yi = j->y + i * m, *restrict gi = j->g + i * m;
        T *restrict oi = j->gm + i * m;
        FNN_SIMD for (ptrdiff_t q = c0; q < c1; q++) {
            const T v = yi[q] <= 0 ? (T)0 : gi[q];
            oi[q] = v;
            gb[q] += v;
        }
    }
}

static void FNN_CAT(linear_relu_bwd, SFX)(const T *y, const T *g, T *gm, T *gb, ptrdiff_t n,
                                          ptrdiff_t m, ptrdiff_t cols, int nt) {
    FNN_CAT(lin_relu_bwd_job, SFX) j = {y, g, gm, gb, n, m, cols};
    fnn_parallel_for((m + cols - 1) / cols, nt, FNN_CAT(lin_relu_bwd_body, SFX), &j);
}
