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
#define FNN_DEF_UNARY(name, expr)                                                 \
    static inline void FNN_CAT(name##_blk, SFX)(const T *x, T *y,                 \
                                                const T a, const T b, const T c) { \
        (void)a; (void)b; (void)c;                                                \
        FNN_SIMD for (int i = 0; i < FNN_BLOCK; i++) {                            \
            const T v = x[i];                                                     \
            y[i] = (expr);                                                        \
        }                                                                         \
    }                                                                             \
    static void FNN_CAT(name, SFX)(const T *x, T *y, ptrdiff_t n,                 \
                                   const double *p, int nt) {                     \
        const T a = (T)p[0], b = (T)p[1], c = (T)p[2];                            \
        const ptrdiff_t nb = n / FNN_BLOCK, r = n - nb * FNN_BLOCK;               \
        FNN_PARFOR for (ptrdiff_t k = 0; k < nb; k++)                             \
            FNN_CAT(name##_blk, SFX)(x + k * FNN_BLOCK, y + k * FNN_BLOCK, a, b, c); \
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
    static void FNN_CAT(name, SFX)(const T *first, const T *grad,                 \
                                   T *out, ptrdiff_t n, const double *p, int nt) { \
        const T a = (T)p[0], b = (T)p[1], c = (T)p[2];                            \
        const ptrdiff_t nb = n / FNN_BLOCK, r = n - nb * FNN_BLOCK;               \
        FNN_PARFOR for (ptrdiff_t k = 0; k < nb; k++)                             \
            FNN_CAT(name##_blk, SFX)(first + k * FNN_BLOCK, grad + k * FNN_BLOCK, \
                                     out + k * FNN_BLOCK, a, b, c);               \
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
