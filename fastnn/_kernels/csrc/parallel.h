/* fastnn's one parallel loop for C kernels.
 *
 * fnn_parallel_for(nblocks, nt, body, ctx) calls body(ctx, b0, b1) on contiguous
 * ranges that together cover blocks [0, nblocks) exactly once, on at most nt
 * threads (nt <= 1 or nblocks <= 1: one call on the calling thread, no runtime
 * touched). A kernel cuts its work into fixed-size blocks that do not depend on
 * nt and combines per-block partial results in block order, so its result is
 * bitwise the same for every thread count.
 *
 * Every new C kernel goes through this function, never through its own
 * "#pragma omp parallel": the runtime behind it is chosen here, in one place.
 */
#ifndef FASTNN_PARALLEL_H
#define FASTNN_PARALLEL_H
#include <stddef.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef void (*fnn_range_fn)(void *ctx, ptrdiff_t b0, ptrdiff_t b1);

static void fnn_parallel_for(ptrdiff_t nblocks, int nt, fnn_range_fn body, void *ctx) {
    if (nblocks <= 0)
        return;
    if (nt > nblocks)
        nt = (int)nblocks;
#ifdef _OPENMP
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        {
            const ptrdiff_t t = omp_get_thread_num(), n = omp_get_num_threads();
            const ptrdiff_t b0 = nblocks * t / n, b1 = nblocks * (t + 1) / n;
            if (b1 > b0)
                body(ctx, b0, b1);
        }
        return;
    }
#endif
    body(ctx, 0, nblocks);
}

#endif
