/* Convolution, one sample per task: im2col into a thread-private column buffer that
 * stays in cache, then a single-threaded BLAS GEMM on it, inside one OpenMP region.
 * Numpy's OpenBLAS is reached through function pointers handed in from Python (the
 * CBLAS symbols of the scipy-openblas64 library NumPy ships: 64-bit integers).
 *
 * Why not NumPy's matmul between Numba im2col calls: OpenBLAS's own threads
 * spin-yield between calls, so alternating them with another thread pool on a small
 * machine costs whole scheduler time slices, and a column matrix big enough for a
 * multithreaded GEMM falls out of cache. Here the only pool is OpenMP's, BLAS runs
 * serially inside it (its thread count is set to 1 for the call and restored).
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

#ifdef _OPENMP
#define FNN_THREAD_NUM() omp_get_thread_num()
#else
#define FNN_THREAD_NUM() 0
#endif

typedef struct {
    int64_t N, C, H, W, O, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, groups;
} fnn_conv_geom;

enum { FNN_ROW_MAJOR = 101, FNN_NO_TRANS = 111, FNN_TRANS = 112 };

typedef void (*fnn_sgemm_t)(int, int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                            const float *, int64_t, float, float *, int64_t);
typedef void (*fnn_dgemm_t)(int, int, int, int64_t, int64_t, int64_t, double, const double *, int64_t,
                            const double *, int64_t, double, double *, int64_t);
typedef void (*fnn_set_threads_t)(int);
typedef int (*fnn_get_threads_t)(void);

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

#define FNN_CONV_DEFINE(T, SFX, GEMM_T)                                                             \
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
/* y (N, O, oh, ow) = conv(x, w) + b; returns 0, or -1 when out of memory */                       \
static int fnn_conv_fwd_##SFX(const T *x, const T *w, const T *b, T *y, const fnn_conv_geom *g,    \
                              GEMM_T gemm, int nt)                                                 \
{                                                                                                  \
    const fnn_conv_dims d = fnn_conv_dims_of(g);                                                   \
    const int64_t O = g->O, L = d.L, G = g->groups, rows = fnn_tile_rows(g, &d, sizeof(T));        \
    int failed = 0;                                                                                \
    _Pragma("omp parallel num_threads(nt) if(nt > 1) reduction(|:failed)")                        \
    {                                                                                              \
        T *cols = malloc((size_t)(d.K * rows * d.row) * sizeof(T));                                \
        T *res = d.row != g->ow ? malloc((size_t)(O * d.lg) * sizeof(T)) : NULL;                   \
        T *xp = d.padded ? calloc((size_t)(g->C * d.Hp * d.Wp), sizeof(T)) : NULL;                 \
        int ok = cols && (d.row == g->ow || res) && (!d.padded || xp);                             \
        if (!ok) failed = 1;                                                                       \
        _Pragma("omp for schedule(static)")                                                        \
        for (int64_t n = 0; n < g->N; n++) {                                                       \
            if (!ok) continue;                                                                     \
            const T *xn = x + n * g->C * g->H * g->W;                                              \
            T *yn = y + n * O * L;                                                                 \
            T *out = res ? res : yn;                                                               \
            if (xp) fnn_pad_##SFX(xn, xp, g, &d);                                                  \
            for (int64_t oy0 = 0; oy0 < g->oh; oy0 += rows) {                                      \
                const int64_t oy1 = oy0 + rows < g->oh ? oy0 + rows : g->oh;                       \
                const int64_t p0 = oy0 * d.row;                                                    \
                const int64_t tp = (oy1 * d.row < d.lg ? oy1 * d.row : d.lg) - p0;                 \
                fnn_columns_##SFX(xp ? xp : xn, cols, oy0, oy1, p0, tp, g, &d);                    \
                for (int64_t q = 0; q < G; q++)                                                    \
                    gemm(FNN_ROW_MAJOR, FNN_NO_TRANS, FNN_NO_TRANS, d.Og, tp, d.Kg, 1,             \
                         w + q * d.Og * d.Kg, d.Kg, cols + q * d.Kg * tp, tp, 0,                   \
                         out + q * d.Og * d.lg + p0, d.lg);                                        \
            }                                                                                      \
            for (int64_t o = 0; o < O; o++) {                                                      \
                const T bo = b ? b[o] : (T)0;                                                      \
                if (!res && !b) continue;                                                          \
                for (int64_t oy = 0; oy < g->oh; oy++) {                                           \
                    const T *s = out + o * d.lg + oy * d.row;                                      \
                    T *t = yn + (o * g->oh + oy) * g->ow;                                          \
                    FNN_SIMD                                                                       \
                    for (int64_t ox = 0; ox < g->ow; ox++) t[ox] = s[ox] + bo;                     \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        free(cols); free(res); free(xp);                                                           \
    }                                                                                              \
    return failed ? -1 : 0;                                                                        \
}                                                                                                  \
                                                                                                   \
/* gx = d/dx and gw += d/dw (either may be NULL) for upstream g (N, O, oh, ow). gw_parts: nt      \
 * zeroed (O, C/groups, kh, kw) scratch accumulators, summed into gw in a fixed order. */          \
static int fnn_conv_bwd_##SFX(const T *x, const T *w, const T *gy, T *gx, T *gw, T *gw_parts,      \
                              const fnn_conv_geom *g, GEMM_T gemm, int nt)                         \
{                                                                                                  \
    const fnn_conv_dims d = fnn_conv_dims_of(g);                                                   \
    const int64_t O = g->O, L = d.L, G = g->groups, wsize = O * d.Kg;                              \
    const int64_t rows = fnn_tile_rows(g, &d, sizeof(T)), xsize = g->C * g->H * g->W;              \
    const int64_t psize = g->C * d.Hp * d.Wp;                                                      \
    int failed = 0;                                                                                \
    _Pragma("omp parallel num_threads(nt) if(nt > 1) reduction(|:failed)")                         \
    {                                                                                              \
        const int tid = FNN_THREAD_NUM();                                                          \
        T *gwt = gw ? gw_parts + tid * wsize : NULL;                                               \
        T *cols = malloc((size_t)(d.K * rows * d.row) * sizeof(T));                                \
        T *gt = d.row != g->ow ? calloc((size_t)(O * d.lg), sizeof(T)) : NULL;                     \
        T *xp = d.padded && gw ? calloc((size_t)psize, sizeof(T)) : NULL;                          \
        T *gxp = d.padded && gx ? malloc((size_t)psize * sizeof(T)) : NULL;                        \
        int ok = cols && (d.row == g->ow || gt) && (!d.padded || !gw || xp) && (!d.padded || !gx || gxp); \
        if (!ok) failed = 1;                                                                       \
        _Pragma("omp for schedule(static)")                                                        \
        for (int64_t n = 0; n < g->N; n++) {                                                       \
            if (!ok) continue;                                                                     \
            const T *xn = x + n * xsize, *gn = gy + n * O * L, *gg = gn;                           \
            T *gxn = gx ? gx + n * xsize : NULL;                                                   \
            T *dst = gxp ? gxp : gxn;                                                              \
            if (gt) { /* onto the grid; its unused columns stay zero from calloc */                \
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
                if (gw) {                                                                          \
                    fnn_columns_##SFX(xp ? xp : xn, cols, oy0, oy1, p0, tp, g, &d);                \
                    for (int64_t q = 0; q < G; q++)                                                \
                        gemm(FNN_ROW_MAJOR, FNN_NO_TRANS, FNN_TRANS, d.Og, d.Kg, tp, 1,            \
                             gg + q * d.Og * d.lg + p0, d.lg, cols + q * d.Kg * tp, tp, 1,         \
                             gwt + q * d.Og * d.Kg, d.Kg);                                         \
                }                                                                                  \
                if (gx) {                                                                          \
                    for (int64_t q = 0; q < G; q++)                                                \
                        gemm(FNN_ROW_MAJOR, FNN_TRANS, FNN_NO_TRANS, d.Kg, tp, d.Og, 1,            \
                             w + q * d.Og * d.Kg, d.Kg, gg + q * d.Og * d.lg + p0, d.lg, 0,        \
                             cols + q * d.Kg * tp, tp);                                            \
                    fnn_uncolumns_##SFX(cols, dst, oy0, oy1, p0, tp, g, &d);                       \
                }                                                                                  \
            }                                                                                      \
            if (gxp)                                                                               \
                for (int64_t c = 0; c < g->C; c++)                                                 \
                    for (int64_t y = 0; y < g->H; y++)                                             \
                        memcpy(gxn + (c * g->H + y) * g->W,                                        \
                               gxp + (c * d.Hp + y + g->ph) * d.Wp + g->pw, (size_t)g->W * sizeof(T)); \
        }                                                                                          \
        free(cols); free(gt); free(xp); free(gxp);                                                 \
    }                                                                                              \
    if (gw && !failed) {                                                                           \
        for (int t = 0; t < nt; t++)                                                               \
            for (int64_t k = 0; k < wsize; k++) gw[k] += gw_parts[t * wsize + k];                  \
    }                                                                                              \
    return failed ? -1 : 0;                                                                        \
}

FNN_CONV_DEFINE(float, f32, fnn_sgemm_t)
FNN_CONV_DEFINE(double, f64, fnn_dgemm_t)

#endif
