/* Batch and layer normalisation (float32/float64), parallel only through
 * fnn_parallel_for with fixed-size blocks: every result is bitwise the same for any
 * thread count.
 *
 * Batch norm sees its input as (N, C, L): N samples, C channels, L positions per
 * channel (H*W for BatchNorm2d, 1 for BatchNorm1d on (N, C)). Per-channel sums run in
 * double and are shifted by the channel's first element, so one pass gives the mean
 * and the variance without the cancellation of a raw sum of squares. Two layouts:
 *   plane mode (L >= FNN_BN_PLANE_MIN): a block is one channel over a run of samples,
 *     each plane a contiguous run of L values;
 *   row mode (small L): a block is a run of samples over a chunk of the C*L
 *     contiguous columns, accumulated column-wise (vector loads across channels).
 * Partial sums are stored per block and added in block order.
 *
 * Layer norm sees (M, D): M independent rows normalised over their D values. Row
 * statistics are two-pass in double (the row sits in L1); the weight and bias
 * gradients are summed per fixed block of rows, then over blocks in order.
 *
 * NaN in gives NaN out: nothing clamps a NaN variance.
 */
#ifndef FASTNN_NORM_H
#define FASTNN_NORM_H
#include <stdlib.h>
#include "fastnn_common.h"
#include "parallel.h"

#define FNN_NORM_BLOCK 16384      /* elements per block of the elementwise passes */
#define FNN_BN_PLANE_MIN 16       /* plane mode from this many positions per channel */
#define FNN_BN_COLS 1024          /* row mode: columns per reduction block */
#define FNN_LN_GRAD_BLOCK 65536   /* layer norm: elements per weight-gradient block */

static inline ptrdiff_t fnn_cdiv(ptrdiff_t a, ptrdiff_t b) { return (a + b - 1) / b; }
static inline ptrdiff_t fnn_max1(ptrdiff_t a) { return a < 1 ? 1 : a; }
static inline ptrdiff_t fnn_min(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }

/* Reduction geometry of batch norm, a function of (N, C, L) only. */
typedef struct {
    ptrdiff_t N, C, L, K;      /* K = C * L */
    int plane;                 /* plane mode? */
    ptrdiff_t per;             /* plane mode: samples per block; row mode: rows per block */
    ptrdiff_t nchunk;          /* plane mode: blocks per channel; row mode: row blocks */
    ptrdiff_t ncol;            /* row mode: column chunks */
    ptrdiff_t nblocks;
} fnn_bn_geom;

static fnn_bn_geom fnn_bn_geometry(ptrdiff_t N, ptrdiff_t C, ptrdiff_t L) {
    fnn_bn_geom g;
    g.N = N; g.C = C; g.L = L; g.K = C * L;
    g.plane = L >= FNN_BN_PLANE_MIN;
    if (g.plane) {
        g.per = fnn_max1(FNN_NORM_BLOCK / L);
        g.nchunk = fnn_cdiv(N, g.per);
        g.ncol = 1;
        g.nblocks = C * g.nchunk;
    } else {
        g.per = fnn_max1(FNN_NORM_BLOCK / fnn_min(g.K, FNN_BN_COLS));
        g.nchunk = fnn_cdiv(N, g.per);
        g.ncol = fnn_cdiv(g.K, FNN_BN_COLS);
        g.nblocks = g.nchunk * g.ncol;
    }
    return g;
}

/* Size (doubles) of each of the two partial-sum buffers the reductions need. */
static ptrdiff_t fnn_bn_partial_size(ptrdiff_t N, ptrdiff_t C, ptrdiff_t L) {
    fnn_bn_geom g = fnn_bn_geometry(N, C, L);
    return g.plane ? g.nblocks : g.nchunk * g.K;
}

#define FNN_DEF_NORM(T, SFX, SQRT)                                                    \
                                                                                      \
/* ---- batch norm: per-channel sums ------------------------------------------- */ \
/* mode 0 (statistics): p1 += x - ref, p2 += (x - ref)^2                        */ \
/* mode 1 (backward):   p1 += g,       p2 += g (x - ref)                        */ \
typedef struct {                                                                    \
    const T *x, *g;                                                                 \
    const double *ref;      /* per channel (plane mode) or per column (row mode) */ \
    double *p1, *p2;                                                                \
    fnn_bn_geom geo;                                                                \
    int mode;                                                                       \
} FNN_CAT(fnn_bn_red_ctx, SFX);                                                     \
                                                                                    \
static void FNN_CAT(fnn_bn_red_body, SFX)(void *vctx, ptrdiff_t b0, ptrdiff_t b1) { \
    FNN_CAT(fnn_bn_red_ctx, SFX) *c = vctx;                                         \
    const fnn_bn_geom G = c->geo;                                                   \
    for (ptrdiff_t b = b0; b < b1; b++) {                                           \
        if (G.plane) {                                                              \
            const ptrdiff_t ch = b / G.nchunk, k = b % G.nchunk;                    \
            const ptrdiff_t n0 = k * G.per, n1 = fnn_min(G.N, n0 + G.per);          \
            const double r = c->ref[ch];                                            \
            double s1 = 0, s2 = 0;                                                  \
            for (ptrdiff_t n = n0; n < n1; n++) {                                   \
                const T *xp = c->x + (n * G.C + ch) * G.L;                          \
                if (c->mode == 0) {                                                 \
                    FNN_PRAGMA_(omp simd reduction(+:s1, s2))                       \
                    for (ptrdiff_t l = 0; l < G.L; l++) {                           \
                        const double d = (double)xp[l] - r;                         \
                        s1 += d; s2 += d * d;                                       \
                    }                                                               \
                } else {                                                            \
                    const T *gp = c->g + (n * G.C + ch) * G.L;                      \
                    FNN_PRAGMA_(omp simd reduction(+:s1, s2))                       \
                    for (ptrdiff_t l = 0; l < G.L; l++) {                           \
                        const double gv = (double)gp[l];                            \
                        s1 += gv; s2 += gv * ((double)xp[l] - r);                   \
                    }                                                               \
                }                                                                   \
            }                                                                       \
            c->p1[b] = s1; c->p2[b] = s2;                                           \
        } else {                                                                    \
            const ptrdiff_t rc = b / G.ncol, cc = b % G.ncol;                       \
            const ptrdiff_t n0 = rc * G.per, n1 = fnn_min(G.N, n0 + G.per);         \
            const ptrdiff_t j0 = cc * FNN_BN_COLS, j1 = fnn_min(G.K, j0 + FNN_BN_COLS); \
            double *q1 = c->p1 + rc * G.K, *q2 = c->p2 + rc * G.K;                  \
            const double *r = c->ref;                                               \
            for (ptrdiff_t j = j0; j < j1; j++) { q1[j] = 0; q2[j] = 0; }           \
            for (ptrdiff_t n = n0; n < n1; n++) {                                   \
                const T *xp = c->x + n * G.K;                                       \
                if (c->mode == 0) {                                                 \
                    FNN_SIMD for (ptrdiff_t j = j0; j < j1; j++) {                  \
                        const double d = (double)xp[j] - r[j];                      \
                        q1[j] += d; q2[j] += d * d;                                 \
                    }                                                               \
                } else {                                                            \
                    const T *gp = c->g + n * G.K;                                   \
                    FNN_SIMD for (ptrdiff_t j = j0; j < j1; j++) {                  \
                        const double gv = (double)gp[j];                            \
                        q1[j] += gv; q2[j] += gv * ((double)xp[j] - r[j]);          \
                    }                                                               \
                }                                                                   \
            }                                                                       \
        }                                                                           \
    }                                                                               \
}                                                                                   \
                                                                                    \
/* Per-channel sums of a (N, C, L) array, relative to ref[c] (see mode above).     \
 * s1, s2: C doubles out. p1, p2: fnn_bn_partial_size(N, C, L) doubles of scratch. \
 * colref: K doubles of scratch (row mode). Returns 0, or -1 if the memory is short. */ \
static void FNN_CAT(fnn_bn_reduce, SFX)(const T *x, const T *g, ptrdiff_t N, ptrdiff_t C, \
                                        ptrdiff_t L, const double *ref, int mode,   \
                                        double *s1, double *s2, double *p1,         \
                                        double *p2, double *colref, int nt) {       \
    FNN_CAT(fnn_bn_red_ctx, SFX) c;                                                 \
    c.x = x; c.g = g; c.p1 = p1; c.p2 = p2; c.mode = mode;                          \
    c.geo = fnn_bn_geometry(N, C, L);                                               \
    if (c.geo.plane) {                                                              \
        c.ref = ref;                                                                \
    } else {                                                                        \
        for (ptrdiff_t j = 0; j < c.geo.K; j++) colref[j] = ref[j / L];             \
        c.ref = colref;                                                             \
    }                                                                               \
    fnn_parallel_for(c.geo.nblocks, nt, FNN_CAT(fnn_bn_red_body, SFX), &c);          \
    for (ptrdiff_t ch = 0; ch < C; ch++) { s1[ch] = 0; s2[ch] = 0; }                \
    if (c.geo.plane) {                                                              \
        for (ptrdiff_t ch = 0; ch < C; ch++)                                        \
            for (ptrdiff_t k = 0; k < c.geo.nchunk; k++) {                          \
                s1[ch] += p1[ch * c.geo.nchunk + k];                                \
                s2[ch] += p2[ch * c.geo.nchunk + k];                                \
            }                                                                       \
    } else {                                                                        \
        for (ptrdiff_t rc = 0; rc < c.geo.nchunk; rc++)                             \
            for (ptrdiff_t j = 0; j < c.geo.K; j++) {                               \
                s1[j / L] += p1[rc * c.geo.K + j];                                  \
                s2[j / L] += p2[rc * c.geo.K + j];                                  \
            }                                                                       \
    }                                                                               \
}                                                                                   \
                                                                                    \
/* ---- batch norm: per-channel affine passes ------------------------------------ */ \
/* fwd: out = (x - m[c]) * a[c] + cc[c]                                          */ \
/* bwd: out = a[c] * g + b[c] * (x - m[c]) + cc[c]                               */ \
typedef struct {                                                                    \
    const T *x, *g, *m, *a, *bb, *cc;                                               \
    T *out;                                                                         \
    ptrdiff_t N, C, L, per;                                                         \
    int plane;                                                                      \
} FNN_CAT(fnn_bn_aff_ctx, SFX);                                                     \
                                                                                    \
static void FNN_CAT(fnn_bn_aff_body, SFX)(void *vctx, ptrdiff_t b0, ptrdiff_t b1) { \
    FNN_CAT(fnn_bn_aff_ctx, SFX) *c = vctx;                                         \
    const ptrdiff_t C = c->C, L = c->L;                                             \
    if (c->plane) {                                                                 \
        const ptrdiff_t P = c->N * C;                                               \
        const ptrdiff_t p0 = b0 * c->per, p1 = fnn_min(P, b1 * c->per);             \
        for (ptrdiff_t p = p0; p < p1; p++) {                                       \
            const ptrdiff_t ch = p % C;                                             \
            const T *xp = c->x + p * L;                                             \
            T *op = c->out + p * L;                                                 \
            const T m = c->m[ch], a = c->a[ch], cc = c->cc[ch];                     \
            if (c->g == NULL) {                                                     \
                FNN_SIMD for (ptrdiff_t l = 0; l < L; l++) op[l] = (xp[l] - m) * a + cc; \
            } else {                                                                \
                const T *gp = c->g + p * L;                                         \
                const T bb = c->bb[ch];                                             \
                FNN_SIMD for (ptrdiff_t l = 0; l < L; l++)                          \
                    op[l] = a * gp[l] + bb * (xp[l] - m) + cc;                      \
            }                                                                       \
        }                                                                           \
    } else {                                                                        \
        const ptrdiff_t K = C * L;                                                  \
        const ptrdiff_t n0 = b0 * c->per, n1 = fnn_min(c->N, b1 * c->per);         \
        for (ptrdiff_t n = n0; n < n1; n++) {                                       \
            const T *xp = c->x + n * K;                                             \
            T *op = c->out + n * K;                                                 \
            if (L == 1) {                                                           \
                const T *m = c->m, *a = c->a, *cc = c->cc;                          \
                if (c->g == NULL) {                                                 \
                    FNN_SIMD for (ptrdiff_t j = 0; j < C; j++)                      \
                        op[j] = (xp[j] - m[j]) * a[j] + cc[j];                      \
                } else {                                                            \
                    const T *gp = c->g + n * K, *bb = c->bb;                        \
                    FNN_SIMD for (ptrdiff_t j = 0; j < C; j++)                      \
                        op[j] = a[j] * gp[j] + bb[j] * (xp[j] - m[j]) + cc[j];      \
                }                                                                   \
            } else {                                                                \
                for (ptrdiff_t ch = 0; ch < C; ch++) {                              \
                    const T m = c->m[ch], a = c->a[ch], cc = c->cc[ch];             \
                    const T *xq = xp + ch * L;                                      \
                    T *oq = op + ch * L;                                            \
                    if (c->g == NULL) {                                             \
                        for (ptrdiff_t l = 0; l < L; l++) oq[l] = (xq[l] - m) * a + cc; \
                    } else {                                                        \
                        const T *gq = c->g + n * K + ch * L;                        \
                        const T bb = c->bb[ch];                                     \
                        for (ptrdiff_t l = 0; l < L; l++)                           \
                            oq[l] = a * gq[l] + bb * (xq[l] - m) + cc;              \
                    }                                                               \
                }                                                                   \
            }                                                                       \
        }                                                                           \
    }                                                                               \
}                                                                                   \
                                                                                    \
/* g == NULL: forward form; else backward form (b used). */                         \
static void FNN_CAT(fnn_bn_affine, SFX)(const T *x, const T *g, T *out, ptrdiff_t N, \
                                        ptrdiff_t C, ptrdiff_t L, const T *m,       \
                                        const T *a, const T *b, const T *cc, int nt) { \
    FNN_CAT(fnn_bn_aff_ctx, SFX) c;                                                 \
    c.x = x; c.g = g; c.out = out; c.m = m; c.a = a; c.bb = b; c.cc = cc;           \
    c.N = N; c.C = C; c.L = L;                                                      \
    c.plane = L >= FNN_BN_PLANE_MIN;                                                \
    ptrdiff_t nblocks;                                                              \
    if (c.plane) {                                                                  \
        c.per = fnn_max1(FNN_NORM_BLOCK / L);                                       \
        nblocks = fnn_cdiv(N * C, c.per);                                           \
    } else {                                                                        \
        c.per = fnn_max1(FNN_NORM_BLOCK / fnn_max1(C * L));                         \
        nblocks = fnn_cdiv(N, c.per);                                               \
    }                                                                               \
    fnn_parallel_for(nblocks, nt, FNN_CAT(fnn_bn_aff_body, SFX), &c);                \
}                                                                                   \
                                                                                    \
/* ---- layer norm ------------------------------------------------------------------ */ \
typedef struct {                                                                    \
    const T *x, *g, *w, *b;                                                         \
    T *out;                                                                         \
    double *mean, *rstd, *pw, *pb;                                                  \
    ptrdiff_t M, D, per;                                                            \
    double eps;                                                                     \
} FNN_CAT(fnn_ln_ctx, SFX);                                                         \
                                                                                    \
static void FNN_CAT(fnn_ln_fwd_body, SFX)(void *vctx, ptrdiff_t b0, ptrdiff_t b1) { \
    FNN_CAT(fnn_ln_ctx, SFX) *c = vctx;                                             \
    const ptrdiff_t D = c->D;                                                       \
    const ptrdiff_t r0 = b0 * c->per, r1 = fnn_min(c->M, b1 * c->per);              \
    for (ptrdiff_t r = r0; r < r1; r++) {                                           \
        const T *xr = c->x + r * D;                                                 \
        T *yr = c->out + r * D;                                                     \
        double s = 0, v = 0;                                                        \
        FNN_SIMD_SUM(s) for (ptrdiff_t j = 0; j < D; j++) s += (double)xr[j];       \
        const double mu = s / (double)D;                                            \
        FNN_SIMD_SUM(v) for (ptrdiff_t j = 0; j < D; j++) {                         \
            const double d = (double)xr[j] - mu;                                    \
            v += d * d;                                                             \
        }                                                                           \
        const double rs = 1.0 / sqrt(v / (double)D + c->eps);                       \
        c->mean[r] = mu; c->rstd[r] = rs;                                           \
        const T m = (T)mu, k = (T)rs;                                               \
        if (c->w != NULL && c->b != NULL) {                                         \
            const T *w = c->w, *b = c->b;                                           \
            FNN_SIMD for (ptrdiff_t j = 0; j < D; j++) yr[j] = (xr[j] - m) * k * w[j] + b[j]; \
        } else if (c->w != NULL) {                                                  \
            const T *w = c->w;                                                      \
            FNN_SIMD for (ptrdiff_t j = 0; j < D; j++) yr[j] = (xr[j] - m) * k * w[j]; \
        } else if (c->b != NULL) {                                                  \
            const T *b = c->b;                                                      \
            FNN_SIMD for (ptrdiff_t j = 0; j < D; j++) yr[j] = (xr[j] - m) * k + b[j]; \
        } else {                                                                    \
            FNN_SIMD for (ptrdiff_t j = 0; j < D; j++) yr[j] = (xr[j] - m) * k;     \
        }                                                                           \
    }                                                                               \
}                                                                                   \
                                                                                    \
static void FNN_CAT(fnn_ln_fwd, SFX)(const T *x, T *y, ptrdiff_t M, ptrdiff_t D,    \
                                     const T *w, const T *b, double eps,            \
                                     double *mean, double *rstd, int nt) {          \
    FNN_CAT(fnn_ln_ctx, SFX) c;                                                     \
    c.x = x; c.g = NULL; c.w = w; c.b = b; c.out = y; c.mean = mean; c.rstd = rstd; \
    c.M = M; c.D = D; c.eps = eps;                                                  \
    c.per = fnn_max1(FNN_NORM_BLOCK / fnn_max1(D));                                 \
    fnn_parallel_for(fnn_cdiv(M, c.per), nt, FNN_CAT(fnn_ln_fwd_body, SFX), &c);     \
}                                                                                   \
                                                                                    \
/* gx = rstd (g w - mean_j(g w) - xhat mean_j(g w xhat)); per block of rows, the    \
 * partial sums pw[blk, j] = sum g xhat and pb[blk, j] = sum g (when pw != NULL). */ \
static void FNN_CAT(fnn_ln_bwd_body, SFX)(void *vctx, ptrdiff_t b0, ptrdiff_t b1) { \
    FNN_CAT(fnn_ln_ctx, SFX) *c = vctx;                                             \
    const ptrdiff_t D = c->D;                                                       \
    const T *w = c->w;                                                              \
    const double invD = 1.0 / (double)D;                                            \
    for (ptrdiff_t blk = b0; blk < b1; blk++) {                                     \
        const ptrdiff_t r0 = blk * c->per, r1 = fnn_min(c->M, r0 + c->per);         \
        double *pw = c->pw ? c->pw + blk * D : NULL;                                \
        double *pb = c->pb ? c->pb + blk * D : NULL;                                \
        if (pw) for (ptrdiff_t j = 0; j < D; j++) pw[j] = 0;                        \
        if (pb) for (ptrdiff_t j = 0; j < D; j++) pb[j] = 0;                        \
        for (ptrdiff_t r = r0; r < r1; r++) {                                       \
            const T *xr = c->x + r * D, *gr = c->g + r * D;                         \
            T *gx = c->out + r * D;                                                 \
            const T m = (T)c->mean[r], k = (T)c->rstd[r];                           \
            double sa = 0, sb = 0;                                                  \
            if (w != NULL) {                                                        \
                FNN_PRAGMA_(omp simd reduction(+:sa, sb))                           \
                for (ptrdiff_t j = 0; j < D; j++) {                                 \
                    const T gw = gr[j] * w[j];                                      \
                    sa += (double)gw;                                               \
                    sb += (double)(gw * ((xr[j] - m) * k));                         \
                }                                                                   \
            } else {                                                                \
                FNN_PRAGMA_(omp simd reduction(+:sa, sb))                           \
                for (ptrdiff_t j = 0; j < D; j++) {                                 \
                    sa += (double)gr[j];                                            \
                    sb += (double)(gr[j] * ((xr[j] - m) * k));                      \
                }                                                                   \
            }                                                                       \
            const T ma = (T)(sa * invD), mb = (T)(sb * invD);                       \
            if (pw) {                                                               \
                FNN_SIMD for (ptrdiff_t j = 0; j < D; j++)                          \
                    pw[j] += (double)(gr[j] * ((xr[j] - m) * k));                   \
            }                                                                       \
            if (pb) {                                                               \
                FNN_SIMD for (ptrdiff_t j = 0; j < D; j++) pb[j] += (double)gr[j];  \
            }                                                                       \
            if (w != NULL) {                                                        \
                FNN_SIMD for (ptrdiff_t j = 0; j < D; j++)                          \
                    gx[j] = k * (gr[j] * w[j] - ma - (xr[j] - m) * k * mb);         \
            } else {                                                                \
                FNN_SIMD for (ptrdiff_t j = 0; j < D; j++)                          \
                    gx[j] = k * (gr[j] - ma - (xr[j] - m) * k * mb);                \
            }                                                                       \
        }                                                                           \
    }                                                                               \
}                                                                                   \
                                                                                    \
/* Column sums over the blocks, in block order, a chunk of columns per block. */    \
typedef struct {                                                                    \
    const double *pw, *pb;                                                          \
    T *gw, *gb;                                                                     \
    ptrdiff_t nblk, D;                                                              \
} FNN_CAT(fnn_ln_sum_ctx, SFX);                                                     \
                                                                                    \
static void FNN_CAT(fnn_ln_sum_body, SFX)(void *vctx, ptrdiff_t b0, ptrdiff_t b1) { \
    FNN_CAT(fnn_ln_sum_ctx, SFX) *c = vctx;                                         \
    const ptrdiff_t j0 = b0 * 256, j1 = fnn_min(c->D, b1 * 256);                    \
    for (ptrdiff_t j = j0; j < j1; j++) {                                           \
        double sw = 0, sb = 0;                                                      \
        for (ptrdiff_t k = 0; k < c->nblk; k++) {                                   \
            if (c->gw) sw += c->pw[k * c->D + j];                                   \
            if (c->gb) sb += c->pb[k * c->D + j];                                   \
        }                                                                           \
        if (c->gw) c->gw[j] = (T)sw;                                                \
        if (c->gb) c->gb[j] = (T)sb;                                                \
    }                                                                               \
}                                                                                   \
                                                                                    \
/* Rows per weight-gradient block (fixed by D): callers size pw/pb from it. */      \
static void FNN_CAT(fnn_ln_bwd, SFX)(const T *g, const T *x, T *gx, ptrdiff_t M,    \
                                     ptrdiff_t D, const T *w, const double *mean,   \
                                     const double *rstd, T *gw, T *gb,              \
                                     double *pw, double *pb, int nt) {              \
    FNN_CAT(fnn_ln_ctx, SFX) c;                                                     \
    c.x = x; c.g = g; c.w = w; c.b = NULL; c.out = gx;                              \
    c.mean = (double *)mean; c.rstd = (double *)rstd;                               \
    c.pw = gw ? pw : NULL; c.pb = gb ? pb : NULL;                                   \
    c.M = M; c.D = D; c.eps = 0;                                                    \
    c.per = fnn_max1(FNN_LN_GRAD_BLOCK / fnn_max1(D));                              \
    const ptrdiff_t nblk = fnn_cdiv(M, c.per);                                      \
    fnn_parallel_for(nblk, nt, FNN_CAT(fnn_ln_bwd_body, SFX), &c);                   \
    if (gw || gb) {                                                                 \
        FNN_CAT(fnn_ln_sum_ctx, SFX) s;                                             \
        s.pw = pw; s.pb = pb; s.gw = gw; s.gb = gb; s.nblk = nblk; s.D = D;         \
        fnn_parallel_for(fnn_cdiv(D, 256), nt, FNN_CAT(fnn_ln_sum_body, SFX), &s);   \
    }                                                                               \
}

FNN_DEF_NORM(float, f32, sqrtf)
FNN_DEF_NORM(double, f64, sqrt)
#undef FNN_DEF_NORM

/* Rows per layer-norm weight-gradient block, for sizing the partial buffers. */
static ptrdiff_t fnn_ln_grad_rows(ptrdiff_t D) { return fnn_max1(FNN_LN_GRAD_BLOCK / fnn_max1(D)); }

#endif
