/* Dropout: a counter-based keep mask fused with the apply.
 *
 * Element i is kept when hash32(i; k0, k1) >= thr: two rounds of the lowbias32
 * integer mixer (Wellons' hash-prospector constants), the first keyed by k0 and
 * the low word of i, the second by k1 and the high word of i. The decision depends
 * on nothing but the key and i, so every block, thread count and engine gives the
 * same mask, bit for bit (the Numba twin _nb_dropout.py and the NumPy oracle
 * reference_dropout.py compute the same hash).
 *
 * Work is cut into blocks of FNN_DROPOUT_BLOCK elements (a power of two dividing
 * 2^32, so a block never straddles the high word) run through fnn_parallel_for.
 * The arithmetic stays in uint32 so it vectorises with 32-bit lanes.
 *
 * out = x * (keep ? s : 0) + (keep ? c1 : c0): a multiply, not a select, so NaN in
 * a dropped unit stays NaN, as in torch.
 */
#ifndef FASTNN_DROPOUT_H
#define FASTNN_DROPOUT_H
#include "fastnn_common.h"
#include "parallel.h"

/* 8192 elements: a 128 x 256 layer's mask is four blocks, so two threads share it
 * (the hash costs about 0.7 ns an element on one core). */
#define FNN_DROPOUT_BLOCK ((ptrdiff_t)1 << 13)

/* A zero the compiler cannot see through. Given a literal 0, GCC rewrites
 * x * (keep ? s : 0) as (x * s) & mask inside vector loops, which turns NaN * 0
 * into 0: a dropped NaN must stay NaN. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define FNN_OPAQUE(v) __asm__("" : "+x"(v))
#elif defined(__GNUC__) && defined(__aarch64__)
#define FNN_OPAQUE(v) __asm__("" : "+w"(v))
#else
#define FNN_OPAQUE(v) do { volatile double fnn_opaque_ = (v); (v) = fnn_opaque_; } while (0)
#endif
#define FNN_HASH_C1 0x7FEB352Du
#define FNN_HASH_C2 0x846CA68Bu
#define FNN_GOLDEN32 0x9E3779B9u

static inline uint32_t fnn_lowbias32(uint32_t h) {
    h ^= h >> 16;
    h *= FNN_HASH_C1;
    h ^= h >> 15;
    h *= FNN_HASH_C2;
    return h ^ (h >> 16);
}

/* The second round's key of the block starting at element `start`. */
static inline uint32_t fnn_block_key(uint32_t k1, ptrdiff_t start) {
    return k1 ^ ((uint32_t)((uint64_t)start >> 32) * FNN_GOLDEN32);
}

static inline uint32_t fnn_hash32(uint32_t lo, uint32_t k0, uint32_t kb) {
    return fnn_lowbias32(fnn_lowbias32(lo ^ k0) ^ kb);
}

typedef struct {
    const void *x;
    void *out;
    uint8_t *mask;
    ptrdiff_t n;
    uint32_t k0, k1, thr;
    double s, c1, c0;
    ptrdiff_t inner;       /* channel_apply: elements per row */
} fnn_dropout_args;

static void fnn_dropout_mask_range(void *vctx, ptrdiff_t b0, ptrdiff_t b1) {
    const fnn_dropout_args *a = (const fnn_dropout_args *)vctx;
    for (ptrdiff_t b = b0; b < b1; b++) {
        const ptrdiff_t start = b * FNN_DROPOUT_BLOCK;
        const ptrdiff_t len = a->n - start < FNN_DROPOUT_BLOCK ? a->n - start : FNN_DROPOUT_BLOCK;
        const uint32_t base = (uint32_t)start, k0 = a->k0, thr = a->thr;
        const uint32_t kb = fnn_block_key(a->k1, start);
        uint8_t *m = a->mask + start;
        FNN_SIMD for (ptrdiff_t j = 0; j < len; j++)
            m[j] = fnn_hash32(base + (uint32_t)j, k0, kb) >= thr;
    }
}

/* mask[i] = hash32(i) >= thr for i < n */
static void fnn_dropout_mask(uint8_t *mask, ptrdiff_t n, uint32_t k0, uint32_t k1, uint32_t thr,
                             int nt) {
    fnn_dropout_args a = {NULL, NULL, mask, n, k0, k1, thr, 0, 0, 0, 0};
    fnn_parallel_for((n + FNN_DROPOUT_BLOCK - 1) / FNN_DROPOUT_BLOCK, nt, fnn_dropout_mask_range, &a);
}

/* ---- float32 ---- */
#define T float
#define SFX f32
#include "dropout_impl.h"
#undef T
#undef SFX

/* ---- float64 ---- */
#define T double
#define SFX f64
#include "dropout_impl.h"
#undef T
#undef SFX

#endif
