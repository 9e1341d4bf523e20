/* Template body of elementwise.h: included once per dtype.
 *
 * Loops run over fixed-size blocks of FNN_BLOCK elements, and the last partial
 * block is padded into a full one: every element goes through the same vector
 * code whatever the thread count, the chunking or the array length (a scalar
 * epilogue would call the scalar libm, whose last bit can differ from libmvec's).
 */
#ifndef FNN_BLOCK
#define FNN_BLOCK 64
#endif
/* what a range of blocks needs: the arrays and the op's parameters */
typedef struct {
    const T *x, *g;
    T *y;
    T a, b, c;
} FNN_CAT(fnn_ew_ctx, SFX);
#define FNN_DEF_UNARY(name, expr)                                                 \
    static inline void FNN_CAT(name##_blk, SFX)(const T *x, T *y,                 \
                                                const T a, const T b, const T c) { \
        (void)a; (void)b; (void)c;                                                \
        FNN_SIMD for (int i = 0; i < FNN_BLOCK; i++) {                            \
            const T v = x[i];                                                     \
            y[i] = (expr);                                                        \
        }                                                                         \
    }                                                                             \
    static void FNN_CAT(name##_range, SFX)(void *vq, ptrdiff_t k0, ptrdiff_t k1) { \
        const FNN_CAT(fnn_ew_ctx, SFX) *q = (const FNN_CAT(fnn_ew_ctx, SFX) *)vq;  \
        for (ptrdiff_t k = k0; k < k1; k++)                                       \
            FNN_CAT(name##_blk, SFX)(q->x + k * FNN_BLOCK, q->y + k * FNN_BLOCK,  \
                                     q->a, q->b, q->c);                           \
    }                                                                             \
    static void FNN_CAT(name, SFX)(const T *x, T *y, ptrdiff_t n,                 \
                                   const double *p, int nt) {                     \
        const T a = (T)p[0], b = (T)p[1], c = (T)p[2];                            \
        const ptrdiff_t nb = n / FNN_BLOCK, r = n - nb * FNN_BLOCK;               \
        FNN_CAT(fnn_ew_ctx, SFX) q = {x, NULL, y, a, b, c};                       \
        fnn_parallel_for(nb, nt, FNN_CAT(name##_range, SFX), &q);                 \
        if (r) {                                                                  \
            T xt[FNN_BLOCK] = {0}, yt[FNN_BLOCK];                                 \
            memcpy(xt, x + nb * FNN_BLOCK, (size_t)r * sizeof(T));                \
            FNN_CAT(name##_blk, SFX)(xt, yt, a, b, c);                            \
            memcpy(y + nb * FNN_BLOCK, yt, (size_t)r * sizeof(T));                \
        }                                                                         \
    }
#define FNN_DEF_BINARY(name, expr)                                                \
    static inline void FNN_CAT(name##_blk, SFX)(const T *first, const T *grad,    \
                                                T *out, const T a, const T b,     \
                                                const T c) {                      \
        (void)a; (void)b; (void)c;                                                \
        FNN_SIMD for (int i = 0; i < FNN_BLOCK; i++) {                            \
            const T u = first[i], g = grad[i];                                    \
            out[i] = (expr);                                                      \
        }                                                                         \
    }                                                                             \
    static void FNN_CAT(name##_range, SFX)(void *vq, ptrdiff_t k0, ptrdiff_t k1) { \
        const FNN_CAT(fnn_ew_ctx, SFX) *q = (const FNN_CAT(fnn_ew_ctx, SFX) *)vq;  \
        for (ptrdiff_t k = k0; k < k1; k++)                                       \
            FNN_CAT(name##_blk, SFX)(q->x + k * FNN_BLOCK, q->g + k * FNN_BLOCK,  \
                                     q->y + k * FNN_BLOCK, q->a, q->b, q->c);     \
    }                                                                             \
    static void FNN_CAT(name, SFX)(const T *first, const T *grad,                 \
                                   T *out, ptrdiff_t n, const double *p, int nt) { \
        const T a = (T)p[0], b = (T)p[1], c = (T)p[2];                            \
        const ptrdiff_t nb = n / FNN_BLOCK, r = n - nb * FNN_BLOCK;               \
        FNN_CAT(fnn_ew_ctx, SFX) q = {first, grad, out, a, b, c};                 \
        fnn_parallel_for(nb, nt, FNN_CAT(name##_range, SFX), &q);                 \
        if (r) {                                                                  \
            T ut[FNN_BLOCK] = {0}, gt[FNN_BLOCK] = {0}, ot[FNN_BLOCK];            \
            memcpy(ut, first + nb * FNN_BLOCK, (size_t)r * sizeof(T));            \
            memcpy(gt, grad + nb * FNN_BLOCK, (size_t)r * sizeof(T));             \
            FNN_CAT(name##_blk, SFX)(ut, gt, ot, a, b, c);                        \
            memcpy(out + nb * FNN_BLOCK, ot, (size_t)r * sizeof(T));              \
        }                                                                         \
    }
FNN_UNARY_OPS(FNN_DEF_UNARY)
FNN_BINARY_OPS(FNN_DEF_BINARY)
#undef FNN_DEF_UNARY
#undef FNN_DEF_BINARY
