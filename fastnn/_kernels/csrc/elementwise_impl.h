/* Template body of elementwise.h: included once per dtype.
 *
 * The parallel SIMD loop covers a multiple of FNN_BLOCK elements and the rest runs
 * in a plain loop after it: chunk boundaries then fall on whole vectors whatever the
 * thread count, so 1 and N threads give the same bits (the vector and scalar
 * versions of expf & co. differ in the last ulp). */
#define FNN_BLOCK 64
#define FNN_DEF_UNARY(name, expr)                                                 \
    static void FNN_CAT(name, SFX)(const T *x, T *y, ptrdiff_t n,                 \
                                   const double *p, int nt) {                     \
        const T a = (T)p[0], b = (T)p[1], c = (T)p[2];                            \
        (void)a; (void)b; (void)c;                                                \
        const ptrdiff_t nm = n - n % FNN_BLOCK;                                   \
        FNN_PARFOR_SIMD for (ptrdiff_t i = 0; i < nm; i++) {                      \
            const T v = x[i];                                                     \
            y[i] = (expr);                                                        \
        }                                                                         \
        for (ptrdiff_t i = nm; i < n; i++) {                                      \
            const T v = x[i];                                                     \
            y[i] = (expr);                                                        \
        }                                                                         \
    }
#define FNN_DEF_BINARY(name, expr)                                                \
    static void FNN_CAT(name, SFX)(const T *first, const T *grad,                 \
                                   T *out, ptrdiff_t n, const double *p, int nt) { \
        const T a = (T)p[0], b = (T)p[1], c = (T)p[2];                            \
        (void)a; (void)b; (void)c;                                                \
        const ptrdiff_t nm = n - n % FNN_BLOCK;                                   \
        FNN_PARFOR_SIMD for (ptrdiff_t i = 0; i < nm; i++) {                      \
            const T u = first[i], g = grad[i];                                    \
            out[i] = (expr);                                                      \
        }                                                                         \
        for (ptrdiff_t i = nm; i < n; i++) {                                      \
            const T u = first[i], g = grad[i];                                    \
            out[i] = (expr);                                                      \
        }                                                                         \
    }
FNN_UNARY_OPS(FNN_DEF_UNARY)
FNN_BINARY_OPS(FNN_DEF_BINARY)
#undef FNN_DEF_UNARY
#undef FNN_DEF_BINARY
#undef FNN_BLOCK
