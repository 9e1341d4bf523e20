/* Template body of elementwise.h: included once per dtype. */
#define FNN_DEF_UNARY(name, expr)                                                 \
    static void FNN_CAT(name, SFX)(const T *x, T *y, ptrdiff_t n, \
                                   const double *p, int nt) {                     \
        const T a = (T)p[0], b = (T)p[1], c = (T)p[2];                            \
        (void)a; (void)b; (void)c;                                                \
        FNN_PARFOR_SIMD for (ptrdiff_t i = 0; i < n; i++) {                       \
            const T v = x[i];                                                     \
            y[i] = (expr);                                                        \
        }                                                                         \
    }
#define FNN_DEF_BINARY(name, expr)                                                \
    static void FNN_CAT(name, SFX)(const T *first, const T *grad, \
                                   T *out, ptrdiff_t n, const double *p, int nt) { \
        const T a = (T)p[0], b = (T)p[1], c = (T)p[2];                            \
        (void)a; (void)b; (void)c;                                                \
        FNN_PARFOR_SIMD for (ptrdiff_t i = 0; i < n; i++) {                       \
            const T u = first[i], g = grad[i];                                    \
            out[i] = (expr);                                                      \
        }                                                                         \
    }
FNN_UNARY_OPS(FNN_DEF_UNARY)
FNN_BINARY_OPS(FNN_DEF_BINARY)
#undef FNN_DEF_UNARY
#undef FNN_DEF_BINARY
