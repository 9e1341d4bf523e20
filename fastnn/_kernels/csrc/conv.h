/* Convolution, one sample per task: im2col into a per-thread column buffer that
 * stays in cache, then a single-threaded BLAS GEMM on it, on fastnn's pool
 * (parallel.h). BLAS is NumPy's OpenBLAS, reached through the pool's GEMM, which
 * keeps it single-threaded while the pool's threads call it.
 *
 * Why not NumPy's matmul between Numba im2col calls: OpenBLAS's own threads
 * spin-yield between calls, so alternating them with another thread pool on a small
 * machine costs whole scheduler time slices, and a column matrix big enough for a
 * multithreaded GEMM falls out of cache. Here the only threads are the pool's.
 *
 * Column layout per sample: cols[(c*kh + i)*kw + j][p]. For stride 1 on the padded
 * grid (p = oy*Wp + ox, lg = (oh-1)*Wp + ow columns; ox >= ow unused) each row is one
 * contiguous run of the zero-bordered plane; for other strides p = oy*ow + ox.
 *
 * Reference: fastnn/_kernels/reference_conv.py (conv2d).
 */
#ifndef FASTNN_CONV_H
#define FASTNN_CONV_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fastnn_common.h"

/* the weight gradient is summed in at most this many groups of samples */
#define FNN_CONV_GROUPS 16

typedef struct {
    int64_t N, C, H, W, O, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, groups;
} fnn_conv_geom;

/* derived sizes of one geometry */
typedef struct {
    int grid, padded;
    int64_t Hp, Wp, lg, row, K, Og, Kg, L;
} fnn_conv_dims;

static inline fnn_conv_dims fnn_conv_dims_of(const fnn_conv_geom *g)
{
    fnn_conv_dims d;
    d.grid = g->sh == 1 && g->sw == 1;
    d.Hp = g->oh + (g->kh - 1) * g->dh;
    d.Wp = g->ow + (g->kw - 1) * g->dw;
    d.padded = d.grid && (d.Hp != g->H || d.Wp != g->W);
    d.lg = d.grid ? (g->oh - 1) * d.Wp + g->ow : g->oh * g->ow;
    d.row = d.grid ? d.Wp : g->ow;
    d.K = g->C * g->kh * g->kw;
    d.Og = g->O / g->groups;
    d.Kg = d.K / g->groups;
    d.L = g->oh * g->ow;
    return d;
}

/* the first o in [0, n_out) with o*s + off >= 0, and one past the last with o*s + off < size */
static inline void fnn_span(int64_t n_out, int64_t s, int64_t off, int64_t size, int64_t *lo, int64_t *hi)
{
    int64_t a = off < 0 ? (-off + s - 1) / s : 0;
    int64_t e = size - 1 - off >= 0 ? (size - 1 - off) / s + 1 : 0;
    if (e > n_out) e = n_out;
    if (a > e) a = e;
    *lo = a;
    *hi = e;
}

/* Column tiles: a sample's columns are built and multiplied a block of output rows at
 * a time, so a tile (K x tp) stays in L2 between im2col and the GEMM that reads it. */
#ifndef FNN_CONV_TILE_BYTES
#define FNN_CONV_TILE_BYTES (1024 * 1024)
#endif

static inline int64_t fnn_tile_rows(const fnn_conv_geom *g, const fnn_conv_dims *d, size_t size)
{
    int64_t r = (int64_t)(FNN_CONV_TILE_BYTES / ((size_t)(d->K * d->row) * size));
    return r < 1 ? 1 : (r > g->oh ? g->oh : r);
}

#define FNN_CONV_DEFINE(T, SFX)                                                             \
/* the zero-bordered copy (C, Hp, Wp) of a sample, when the stride-1 path pads */                  \
static void fnn_pad_##SFX(const T *xn, T *xp, const fnn_conv_geom *g, const fnn_conv_dims *d)      \
{                                                                                                  \
    for (int64_t c = 0; c < g->C; c++)                                                             \
        for (int64_t y = 0; y < g->H; y++)                                                         \
            memcpy(xp + (c * d->Hp + y + g->ph) * d->Wp + g->pw, xn + (c * g->H + y) * g->W,       \
                   (size_t)g->W * sizeof(T));                                                      \
}                                                                                                  \
                                                                                                   \
/* columns p0 <= p < p0 + tp (output rows oy0 <= oy < oy1) of one sample into cols (K, tp);       \
 * src: the padded plane (grid) or the sample itself */                                            \
static void fnn_columns_##SFX(const T *src, T *cols, int64_t oy0, int64_t oy1, int64_t p0,         \
                              int64_t tp, const fnn_conv_geom *g, const fnn_conv_dims *d)          \
{                                                                                                  \
    const int64_t C = g->C, H = g->H, W = g->W, kh = g->kh, kw = g->kw;                            \
    if (d->grid) {                                                                                 \
        const int64_t plane = d->padded ? d->Hp * d->Wp : H * W;                                   \
        for (int64_t c = 0; c < C; c++)                                                            \
            for (int64_t i = 0; i < kh; i++)                                                       \
                for (int64_t j = 0; j < kw; j++)                                                   \
                    memcpy(cols + ((c * kh + i) * kw + j) * tp,                                    \
                           src + c * plane + i * g->dh * d->Wp + j * g->dw + p0, (size_t)tp * sizeof(T)); \
        return;                                                                                    \
    }                                                                                              \
    const int64_t ow = g->ow, sh = g->sh, sw = g->sw;                                              \
    for (int64_t c = 0; c < C; c++)                                                                \
        for (int64_t i = 0; i < kh; i++) {                                                         \
            int64_t ylo, yhi;                                                                      \
            fnn_span(g->oh, sh, i * g->dh - g->ph, H, &ylo, &yhi);                                 \
            for (int64_t j = 0; j < kw; j++) {                                                     \
                int64_t xlo, xhi;                                                                  \
                const int64_t x0 = j * g->dw - g->pw;                                              \
                fnn_span(ow, sw, x0, W, &xlo, &xhi);                                               \
                T *r = cols + ((c * kh + i) * kw + j) * tp;                                        \
                for (int64_t oy = oy0; oy < oy1; oy++) {                                           \
                    T *seg = r + (oy - oy0) * ow;                                                  \
                    if (oy < ylo || oy >= yhi) {                                                   \
                        memset(seg, 0, (size_t)ow * sizeof(T));                                    \
                        continue;                                                                  \
                    }                                                                              \
                    const T *s = src + (c * H + oy * sh + i * g->dh - g->ph) * W + x0;             \
                    for (int64_t ox = 0; ox < xlo; ox++) seg[ox] = 0;                              \
                    for (int64_t ox = xlo; ox < xhi; ox++) seg[ox] = s[ox * sw];                   \
                    for (int64_t ox = xhi; ox < ow; ox++) seg[ox] = 0;                             \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
}                                                                                                  \
                                                                                                   \
/* the adjoint of fnn_columns: dst (padded plane or the sample's gradient) += col2im(gcols) */    \
static void fnn_uncolumns_##SFX(const T *gcols, T *dst, int64_t oy0, int64_t oy1, int64_t p0,      \
                                int64_t tp, const fnn_conv_geom *g, const fnn_conv_dims *d)        \
{                                                                                                  \
    const int64_t C = g->C, H = g->H, W = g->W, kh = g->kh, kw = g->kw;                            \
    if (d->grid) {                                                                                 \
        const int64_t plane = d->padded ? d->Hp * d->Wp : H * W;                                   \
        for (int64_t c = 0; c < C; c++)                                                            \
            for (int64_t i = 0; i < kh; i++)                                                       \
                for (int64_t j = 0; j < kw; j++) {                                                 \
                    T *o = dst + c * plane + i * g->dh * d->Wp + j * g->dw + p0;                   \
                    const T *s = gcols + ((c * kh + i) * kw + j) * tp;                             \
                    FNN_SIMD                                                                       \
                    for (int64_t p = 0; p < tp; p++) o[p] += s[p];                                 \
                }                                                                                  \
        return;                                                                                    \
    }                                                                                              \
    const int64_t ow = g->ow, sh = g->sh, sw = g->sw;                                              \
    for (int64_t c = 0; c < C; c++)                                                                \
        for (int64_t i = 0; i < kh; i++) {                                                         \
            int64_t ylo, yhi;                                                                      \
            fnn_span(g->oh, sh, i * g->dh - g->ph, H, &ylo, &yhi);                                 \
            if (ylo < oy0) ylo = oy0;                                                              \
            if (yhi > oy1) yhi = oy1;                                                              \
            for (int64_t j = 0; j < kw; j++) {                                                     \
                int64_t xlo, xhi;                                                                  \
                const int64_t x0 = j * g->dw - g->pw;                                              \
                fnn_span(ow, sw, x0, W, &xlo, &xhi);                                               \
                const T *r = gcols + ((c * kh + i) * kw + j) * tp;                                 \
                for (int64_t oy = ylo; oy < yhi; oy++) {                                           \
                    T *o = dst + (c * H + oy * sh + i * g->dh - g->ph) * W + x0;                   \
                    const T *seg = r + (oy - oy0) * ow;                                            \
                    for (int64_t ox = xlo; ox < xhi; ox++) o[ox * sw] += seg[ox];                  \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
}                                                                                                  \
                                                                                                   \
/* what a range of samples (forward) or of sample groups (backward) needs */                       \
typedef struct {                                                                                   \
    const T *x, *w, *b, *gy;                                                                       \
    T *y, *gx, *gparts;                                                                            \
    const fnn_conv_geom *g;                                                                        \
    fnn_conv_dims d;                                                                               \
    int64_t rows, group;                                                                           \
    int failed;                                                                                    \
} fnn_conv_ctx_##SFX;                                                                              \
                                                                                                   \
/* carve a thread's scratch into n 64-byte aligned buffers of the given element counts */          \
static int fnn_conv_scratch_##SFX(T **bufs, const int64_t *counts, int n)                          \
{                                                                                                  \
    size_t total = 0;                                                                              \
    for (int i = 0; i < n; i++) total += ((size_t)counts[i] * sizeof(T) + 63) & ~(size_t)63;       \
    char *p = (char *)fnn_scratch(total ? total : 64);                                             \
    if (!p) return -1;                                                                             \
    for (int i = 0; i < n; i++) {                                                                  \
        bufs[i] = counts[i] ? (T *)p : NULL;                                                       \
        p += ((size_t)counts[i] * sizeof(T) + 63) & ~(size_t)63;                                   \
    }                                                                                              \
    return 0;                                                                                      \
}                                                                                                  \
                                                                                                   \
static void fnn_conv_fwd_range_##SFX(void *vq, ptrdiff_t n0, ptrdiff_t n1)                         \
{                                                                                                  \
    fnn_conv_ctx_##SFX *q = (fnn_conv_ctx_##SFX *)vq;                                              \
    const fnn_conv_geom *g = q->g;                                                                 \
    const fnn_conv_dims d = q->d;                                                                  \
    const int64_t O = g->O, L = d.L, G = g->groups, rows = q->rows;                                \
    T *buf[3];                                                                                     \
    const int64_t counts[3] = {d.K * rows * d.row, d.row != g->ow ? O * d.lg : 0,                  \
                               d.padded ? g->C * d.Hp * d.Wp : 0};                                 \
    if (fnn_conv_scratch_##SFX(buf, counts, 3)) { q->failed = 1; return; }                         \
    T *cols = buf[0], *res = buf[1], *xp = buf[2];                                                 \
    if (xp) memset(xp, 0, (size_t)counts[2] * sizeof(T));   /* the borders stay zero */            \
    for (int64_t n = n0; n < n1; n++) {                                                            \
        const T *xn = q->x + n * g->C * g->H * g->W;                                               \
        T *yn = q->y + n * O * L;                                                                  \
        T *out = res ? res : yn;                                                                   \
        if (xp) fnn_pad_##SFX(xn, xp, g, &d);                                                      \
        for (int64_t oy0 = 0; oy0 < g->oh; oy0 += rows) {                                          \
            const int64_t oy1 = oy0 + rows < g->oh ? oy0 + rows : g->oh;                           \
            const int64_t p0 = oy0 * d.row;                                                        \
            const int64_t tp = (oy1 * d.row < d.lg ? oy1 * d.row : d.lg) - p0;                     \
            fnn_columns_##SFX(xp ? xp : xn, cols, oy0, oy1, p0, tp, g, &d);                        \
            for (int64_t k = 0; k < G; k++)                                                        \
                GEMM(0, 0, d.Og, tp, d.Kg, 1, q->w + k * d.Og * d.Kg, d.Kg, cols + k * d.Kg * tp, tp, 0,\
                     out + k * d.Og * d.lg + p0, d.lg);                                            \
        }                                                                                          \
        if (!res && !q->b) continue;                                                               \
        for (int64_t o = 0; o < O; o++) {                                                          \
            const T bo = q->b ? q->b[o] : (T)0;                                                    \
            for (int64_t oy = 0; oy < g->oh; oy++) {                                               \
                const T *s = out + o * d.lg + oy * d.row;                                          \
                T *t = yn + (o * g->oh + oy) * g->ow;                                              \
                FNN_SIMD                                                                           \
                for (int64_t ox = 0; ox < g->ow; ox++) t[ox] = s[ox] + bo;                         \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
}                                                                                                  \
                                                                                                   \
/* y (N, O, oh, ow) = conv(x, w) + b on nt pool threads, one range of samples each;                \
 * returns 0, or -1 when out of memory */                                                          \
static int fnn_conv_fwd_##SFX(const T *x, const T *w, const T *b, T *y, const fnn_conv_geom *g, int nt)\
{                                                                                                  \
    fnn_conv_ctx_##SFX q = {x, w, b, NULL, y, NULL, NULL, g, fnn_conv_dims_of(g), 0, 0, 0};        \
    q.rows = fnn_tile_rows(g, &q.d, sizeof(T));                                                    \
    fnn_pool->blas_serial_begin();                                                                 \
    fnn_parallel_for(g->N, nt, fnn_conv_fwd_range_##SFX, &q);                                      \
    fnn_pool->blas_serial_end();                                                                   \
    return q.failed ? -1 : 0;                                                                      \
}                                                                                                  \
                                                                                                   \
static void fnn_conv_bwd_range_##SFX(void *vq, ptrdiff_t q0, ptrdiff_t q1)                         \
{                                                                                                  \
    fnn_conv_ctx_##SFX *q = (fnn_conv_ctx_##SFX *)vq;                                              \
    const fnn_conv_geom *g = q->g;                                                                 \
    const fnn_conv_dims d = q->d;                                                                  \
    const int64_t O = g->O, L = d.L, G = g->groups, wsize = O * d.Kg, rows = q->rows;              \
    const int64_t xsize = g->C * g->H * g->W, psize = g->C * d.Hp * d.Wp;                          \
    const int need_w = q->gparts != NULL, need_x = q->gx != NULL;                                  \
    T *buf[4];                                                                                     \
    const int64_t counts[4] = {d.K * rows * d.row, d.row != g->ow ? O * d.lg : 0,                  \
                               d.padded && need_w ? psize : 0, d.padded && need_x ? psize : 0};    \
    if (fnn_conv_scratch_##SFX(buf, counts, 4)) { q->failed = 1; return; }                         \
    T *cols = buf[0], *gt = buf[1], *xp = buf[2], *gxp = buf[3];                                   \
    if (gt) memset(gt, 0, (size_t)counts[1] * sizeof(T));   /* unused grid columns stay zero */    \
    if (xp) memset(xp, 0, (size_t)counts[2] * sizeof(T));                                          \
    for (int64_t grp = q0; grp < q1; grp++) {                                                      \
        T *gwt = need_w ? q->gparts + grp * wsize : NULL;                                          \
        if (gwt) memset(gwt, 0, (size_t)wsize * sizeof(T));                                        \
        const int64_t s1 = (grp + 1) * q->group < g->N ? (grp + 1) * q->group : g->N;              \
        for (int64_t n = grp * q->group; n < s1; n++) {                                            \
            const T *xn = q->x + n * xsize, *gn = q->gy + n * O * L, *gg = gn;                     \
            T *gxn = need_x ? q->gx + n * xsize : NULL;                                            \
            T *dst = gxp ? gxp : gxn;                                                              \
            if (gt) {  /* onto the grid */                                                         \
                for (int64_t o = 0; o < O; o++)                                                    \
                    for (int64_t oy = 0; oy < g->oh; oy++)                                         \
                        memcpy(gt + o * d.lg + oy * d.row, gn + (o * g->oh + oy) * g->ow,          \
                               (size_t)g->ow * sizeof(T));                                         \
                gg = gt;                                                                           \
            }                                                                                      \
            if (xp) fnn_pad_##SFX(xn, xp, g, &d);                                                  \
            if (dst) memset(dst, 0, (size_t)(gxp ? psize : xsize) * sizeof(T));                    \
            for (int64_t oy0 = 0; oy0 < g->oh; oy0 += rows) {                                      \
                const int64_t oy1 = oy0 + rows < g->oh ? oy0 + rows : g->oh;                       \
                const int64_t p0 = oy0 * d.row;                                                    \
                const int64_t tp = (oy1 * d.row < d.lg ? oy1 * d.row : d.lg) - p0;                 \
                if (gwt) {                                                                         \
                    fnn_columns_##SFX(xp ? xp : xn, cols, oy0, oy1, p0, tp, g, &d);                \
                    for (int64_t k = 0; k < G; k++)                                                \
                        GEMM(0, 1, d.Og, d.Kg, tp, 1, gg + k * d.Og * d.lg + p0, d.lg, cols + k * d.Kg * tp,\
                             tp, 1, gwt + k * d.Og * d.Kg, d.Kg);                                  \
                }                                                                                  \
                if (need_x) {                                                                      \
                    for (int64_t k = 0; k < G; k++)                                                \
                        GEMM(1, 0, d.Kg, tp, d.Og, 1, q->w + k * d.Og * d.Kg, d.Kg, gg + k * d.Og * d.lg + p0,\
                             d.lg, 0, cols + k * d.Kg * tp, tp);                                   \
                    fnn_uncolumns_##SFX(cols, dst, oy0, oy1, p0, tp, g, &d);                       \
                }                                                                                  \
            }                                                                                      \
            if (gxp)                                                                               \
                for (int64_t c = 0; c < g->C; c++)                                                 \
                    for (int64_t y = 0; y < g->H; y++)                                             \
                        memcpy(gxn + (c * g->H + y) * g->W, gxp + (c * d.Hp + y + g->ph) * d.Wp + g->pw,\
                               (size_t)g->W * sizeof(T));                                          \
        }                                                                                          \
    }                                                                                              \
}                                                                                                  \
                                                                                                   \
/* gx = d/dx and gw += d/dw (either may be NULL) for upstream g (N, O, oh, ow), on nt pool         \
 * threads. The weight gradient is summed per group of samples (a fixed number of groups           \
 * whatever nt), then the groups' sums are added in group order: the same bits for any             \
 * thread count. Returns 0, or -1 when out of memory. */                                           \
static int fnn_conv_bwd_##SFX(const T *x, const T *w, const T *gy, T *gx, T *gw, const fnn_conv_geom *g,\
                              int nt)                                                              \
{                                                                                                  \
    fnn_conv_ctx_##SFX q = {x, w, NULL, gy, NULL, gx, NULL, g, fnn_conv_dims_of(g), 0, 0, 0};      \
    q.rows = fnn_tile_rows(g, &q.d, sizeof(T));                                                    \
    const int64_t ngroups = g->N < FNN_CONV_GROUPS ? g->N : FNN_CONV_GROUPS;                       \
    if (ngroups <= 0) return 0;                                                                    \
    q.group = (g->N + ngroups - 1) / ngroups;                                                      \
    const int64_t nq = (g->N + q.group - 1) / q.group, wsize = g->O * q.d.Kg;                      \
    if (gw) {                                                                                      \
        q.gparts = (T *)malloc((size_t)(nq * wsize) * sizeof(T));                                  \
        if (!q.gparts) return -1;                                                                  \
    }                                                                                              \
    fnn_pool->blas_serial_begin();                                                                 \
    fnn_parallel_for(nq, nt, fnn_conv_bwd_range_##SFX, &q);                                        \
    fnn_pool->blas_serial_end();                                                                   \
    if (gw && !q.failed)                                                                           \
        for (int64_t grp = 0; grp < nq; grp++) {                                                   \
            const T *part = q.gparts + grp * wsize;                                                \
            FNN_SIMD                                                                               \
            for (int64_t k = 0; k < wsize; k++) gw[k] += part[k];                                  \
        }                                                                                          \
    free(q.gparts);                                                                                \
    return q.failed ? -1 : 0;                                                                      \
}

#define GEMM fnn_pool->sgemm
FNN_CONV_DEFINE(float, f32)
#undef GEMM
#define GEMM fnn_pool->dgemm
FNN_CONV_DEFINE(double, f64)
#undef GEMM

#endif
