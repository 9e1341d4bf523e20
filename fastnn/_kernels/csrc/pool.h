/* fastnn's thread pool: the one set of worker threads every C kernel runs on.
 *
 * Compiled into one extension only (_cpool), built once for the baseline ISA;
 * kernel extensions reach it through the function table in parallel.h, fetched
 * as a capsule when they load, so every ISA variant of every kernel shares it.
 *
 * A job is `nchunks` contiguous ranges of `nblocks` blocks. The calling thread
 * posts it and starts on it at once; workers join as they arrive and claim
 * ranges from one atomic counter. A worker that is slow to wake (sleeping, or
 * sharing its core with another process) costs nothing: the others take its
 * ranges, and once every range is claimed the job is closed to latecomers, so
 * the caller waits only for ranges already running. Which thread runs a range
 * never changes its result: kernels keep per-block partials in block order.
 *
 * Idle workers spin for `spin_ns` (the next kernel of a training step usually
 * follows within microseconds), then sleep on a futex. They never spin-yield for
 * long while BLAS or Python need the cores, whatever libraries were loaded first.
 *
 * State word: bits 32-63 the job's generation, bit 31 "closed", bits 0-30 the
 * number of workers inside the job. A worker enters with a compare-and-swap on
 * the exact word it read, so it can never join a job other than the one whose
 * parameters it saw, and the caller's "closed, and nobody inside" test is one
 * load.
 *
 * Re-entrant and thread-safe: a call from inside a job, or while another thread
 * owns the pool, runs serially on its caller. After fork() the child starts with
 * no workers and an idle pool, and creates fresh workers on its first parallel
 * call (pthread_atfork), so it can never wait on a thread that does not exist.
 */
#ifndef FASTNN_POOL_H
#define FASTNN_POOL_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FNN_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define FNN_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define FNN_CPU_RELAX() ((void)0)
#endif

#include "parallel.h"

#define FNN_POOL_MAX_WORKERS 255
#define FNN_CLOSED ((uint64_t)1 << 31)
#define FNN_ACTIVE_MASK (FNN_CLOSED - 1)
/* guided ranges never get shorter than 1/FNN_MIN_RANGE_DIV of a thread's share */
#define FNN_MIN_RANGE_DIV 16

/* one per worker, on its own cache line: the futex word it sleeps on */
typedef struct {
    _Atomic uint32_t seq;
    _Atomic int sleeping;
    char pad[56];
} fnn_slot_t;

typedef struct {
    _Atomic uint64_t state;
    _Atomic int64_t next;            /* next range to claim */
    _Atomic int limit;               /* workers allowed in the current job */
    _Atomic int busy;                /* a caller owns the pool */
    fnn_range_fn body;
    void *ctx;
    ptrdiff_t nblocks, nchunks, grain;
    pthread_mutex_t grow;            /* serialises worker creation and fork */
    int nworkers;
    fnn_slot_t slot[FNN_POOL_MAX_WORKERS];
    int64_t spin_ns;                 /* how long idle workers spin before sleeping */
    /* counters for tests and `fastnn info` */
    _Atomic uint64_t jobs, serial_busy, ranges_by_workers, ranges_by_caller;
} fnn_pool_t;

static fnn_pool_t fnn_P = {.grow = PTHREAD_MUTEX_INITIALIZER, .spin_ns = 50000};
static __thread int fnn_tls_inside;  /* this thread is running a job (worker or caller) */
static pthread_key_t fnn_scratch_key;

/* ---- futex (Linux); elsewhere a short sleep stands in for the wait ---- */
static void fnn_futex_wait(_Atomic uint32_t *addr, uint32_t expected) {
#ifdef __linux__
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
#else
    (void)addr; (void)expected;
    struct timespec ts = {0, 50000};
    nanosleep(&ts, NULL);
#endif
}

static void fnn_futex_wake(_Atomic uint32_t *addr, int n) {
#ifdef __linux__
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
#else
    (void)addr; (void)n;
#endif
}

/* the low half of the state word (closed bit + active count) as a futex word */
static inline _Atomic uint32_t *fnn_state_low(void) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (_Atomic uint32_t *)((char *)&fnn_P.state + 4);
#else
    return (_Atomic uint32_t *)&fnn_P.state;
#endif
}

static inline int64_t fnn_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- running ranges ---- */
/* Claim and run ranges until none is left. nchunks > 0: that many equal ranges
 * (a kernel whose ranges each repeat a fixed cost). Otherwise guided: each claim
 * takes half of what remains divided among the threads, but at least `grain`
 * blocks, so the last ranges are short and a thread that loses its core near
 * the end holds up little. */
static void fnn_run_ranges(int worker) {
    const ptrdiff_t nb = fnn_P.nblocks, nc = fnn_P.nchunks, grain = fnn_P.grain;
    const ptrdiff_t split = 2 * (ptrdiff_t)(atomic_load_explicit(&fnn_P.limit, memory_order_relaxed) + 1);
    const fnn_range_fn body = fnn_P.body;
    void *ctx = fnn_P.ctx;
    uint64_t mine = 0;
    if (nc > 0) {
        for (;;) {
            const ptrdiff_t c = atomic_fetch_add(&fnn_P.next, 1);
            if (c >= nc)
                break;
            const ptrdiff_t b0 = (ptrdiff_t)((__int128)nb * c / nc);
            const ptrdiff_t b1 = (ptrdiff_t)((__int128)nb * (c + 1) / nc);
            if (b1 > b0)
                body(ctx, b0, b1);
            mine++;
        }
    } else {
        int64_t b0 = atomic_load(&fnn_P.next);
        while (b0 < nb) {
            ptrdiff_t take = (nb - b0) / split;
            if (take < grain)
                take = grain;
            const int64_t b1 = b0 + take < nb ? b0 + take : nb;
            if (!atomic_compare_exchange_weak(&fnn_P.next, &b0, b1))
                continue;  /* b0 now holds the current value */
            body(ctx, b0, b1);
            mine++;
            b0 = atomic_load(&fnn_P.next);
        }
    }
    atomic_fetch_add_explicit(worker ? &fnn_P.ranges_by_workers : &fnn_P.ranges_by_caller, mine,
                              memory_order_relaxed);
}

/* ---- workers ---- */
/* The next state word whose generation differs from last_gen. Worker `id` spins
 * first only when the last job used it (id < its limit): workers beyond the
 * current thread count sleep, so they never compete for the cores. */
static uint64_t fnn_wait_for_job(int id, uint32_t last_gen) {
    fnn_slot_t *slot = &fnn_P.slot[id];
    uint64_t s;
    if (id < atomic_load_explicit(&fnn_P.limit, memory_order_relaxed)) {
        const int64_t spin = fnn_P.spin_ns;
        int64_t deadline = 0;
        for (unsigned i = 0;; i++) {
            s = atomic_load(&fnn_P.state);
            if ((uint32_t)(s >> 32) != last_gen)
                return s;
            if ((i & 63) == 0) {
                const int64_t t = fnn_now_ns();
                if (!deadline)
                    deadline = t + spin;
                else if (t >= deadline)
                    break;
            }
            FNN_CPU_RELAX();
        }
    }
    for (;;) {
        const uint32_t seq = atomic_load(&slot->seq);
        atomic_store(&slot->sleeping, 1);
        s = atomic_load(&fnn_P.state);
        if ((uint32_t)(s >> 32) == last_gen)
            fnn_futex_wait(&slot->seq, seq);
        atomic_store(&slot->sleeping, 0);
        s = atomic_load(&fnn_P.state);
        if ((uint32_t)(s >> 32) != last_gen)
            return s;
    }
}

static void *fnn_worker_main(void *arg) {
    const int id = (int)((uintptr_t)arg & 0xffff);
    uint32_t last_gen = (uint32_t)((uintptr_t)arg >> 16);
    fnn_tls_inside = 1;
    for (;;) {
        uint64_t s = fnn_wait_for_job(id, last_gen);
        const uint32_t gen = (uint32_t)(s >> 32);
        last_gen = gen;
        if (id >= atomic_load(&fnn_P.limit))
            continue;
        for (;;) {  /* enter the job this word describes, if it still takes workers */
            if ((uint32_t)(s >> 32) != gen || (s & FNN_CLOSED)
                || (int)(s & FNN_ACTIVE_MASK) >= atomic_load(&fnn_P.limit))
                break;
            if (atomic_compare_exchange_weak(&fnn_P.state, &s, s + 1)) {
                fnn_run_ranges(1);
                const uint64_t was = atomic_fetch_sub(&fnn_P.state, 1);
                if ((was & FNN_CLOSED) && (was & FNN_ACTIVE_MASK) == 1)
                    fnn_futex_wake(fnn_state_low(), 1);
                break;
            }
        }
    }
    return NULL;
}

/* Make sure n workers exist; returns how many do (thread creation can fail). */
static int fnn_grow(int n) {
    if (n > FNN_POOL_MAX_WORKERS)
        n = FNN_POOL_MAX_WORKERS;
    if (fnn_P.nworkers >= n)
        return fnn_P.nworkers;
    pthread_mutex_lock(&fnn_P.grow);
    if (fnn_P.nworkers < n) {
        /* workers take no signals: Python handles them on the main thread */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const uint32_t gen = (uint32_t)(atomic_load(&fnn_P.state) >> 32);
        while (fnn_P.nworkers < n) {
            pthread_t t;
            const uintptr_t arg = (uintptr_t)gen << 16 | (uintptr_t)fnn_P.nworkers;
            if (pthread_create(&t, &attr, fnn_worker_main, (void *)arg) != 0)
                break;
#ifdef __GLIBC__
            pthread_setname_np(t, "fastnn-pool");
#endif
            fnn_P.nworkers++;
        }
        pthread_attr_destroy(&attr);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    const int have = fnn_P.nworkers;
    pthread_mutex_unlock(&fnn_P.grow);
    return have;
}

/* ---- the entry point behind fnn_parallel_for ---- */
static void fnn_pool_parallel_for(ptrdiff_t nblocks, int nt, ptrdiff_t nchunks,
                                  fnn_range_fn body, void *ctx) {
    if (nblocks <= 0)
        return;
    if (nt > nblocks)
        nt = (int)(nblocks < FNN_POOL_MAX_WORKERS + 1 ? nblocks : FNN_POOL_MAX_WORKERS + 1);
    if (nt <= 1 || fnn_tls_inside) {
        body(ctx, 0, nblocks);
        return;
    }
    int expected = 0;
    if (!atomic_compare_exchange_strong(&fnn_P.busy, &expected, 1)) {
        /* another thread's job is running: do this one here rather than queue */
        atomic_fetch_add_explicit(&fnn_P.serial_busy, 1, memory_order_relaxed);
        body(ctx, 0, nblocks);
        return;
    }
    const int workers = fnn_grow(nt - 1);
    if (workers <= 0) {
        atomic_store(&fnn_P.busy, 0);
        body(ctx, 0, nblocks);
        return;
    }
    const int limit = nt - 1 < workers ? nt - 1 : workers;
    if (nchunks > nblocks)
        nchunks = nblocks;
    const ptrdiff_t grain = nblocks / ((ptrdiff_t)(limit + 1) * FNN_MIN_RANGE_DIV);
    fnn_P.grain = grain > 0 ? grain : 1;
    fnn_P.body = body;
    fnn_P.ctx = ctx;
    fnn_P.nblocks = nblocks;
    fnn_P.nchunks = nchunks;
    atomic_store(&fnn_P.next, 0);
    atomic_store(&fnn_P.limit, limit);
    const uint64_t gen = (atomic_load(&fnn_P.state) >> 32) + 1;
    atomic_store(&fnn_P.state, gen << 32);           /* open, nobody inside */
    for (int i = 0; i < limit; i++) {
        fnn_slot_t *slot = &fnn_P.slot[i];
        if (atomic_load(&slot->sleeping)) {
            atomic_fetch_add(&slot->seq, 1);
            fnn_futex_wake(&slot->seq, 1);
        }
    }
    fnn_tls_inside = 1;
    fnn_run_ranges(0);
    fnn_tls_inside = 0;
    /* every range is claimed: close the job and wait for the ranges still running */
    uint64_t s = atomic_fetch_or(&fnn_P.state, FNN_CLOSED) | FNN_CLOSED;
    for (unsigned i = 0; s & FNN_ACTIVE_MASK; i++) {
        if (i < 4096)
            FNN_CPU_RELAX();
        else
            fnn_futex_wait(fnn_state_low(), (uint32_t)s);
        s = atomic_load(&fnn_P.state);
    }
    atomic_fetch_add_explicit(&fnn_P.jobs, 1, memory_order_relaxed);
    atomic_store(&fnn_P.busy, 0);
}

/* ---- per-thread scratch memory ---- */
typedef struct { size_t size; void *ptr; } fnn_scratch_t;

static void fnn_scratch_free(void *p) {
    fnn_scratch_t *s = (fnn_scratch_t *)p;
    if (s) {
        free(s->ptr);
        free(s);
    }
}

static void *fnn_pool_scratch(size_t bytes) {
    fnn_scratch_t *s = (fnn_scratch_t *)pthread_getspecific(fnn_scratch_key);
    if (!s) {
        s = (fnn_scratch_t *)calloc(1, sizeof *s);
        if (!s || pthread_setspecific(fnn_scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (bytes > s->size) {
        free(s->ptr);
        s->ptr = NULL;
        s->size = 0;
        const size_t want = (bytes + bytes / 4 + 4095) & ~(size_t)4095;
        void *p = NULL;
        if (posix_memalign(&p, 64, want) != 0)
            return NULL;
        s->ptr = p;
        s->size = want;
    }
    return s->ptr;
}

/* ---- fork ---- */
static void fnn_atfork_prepare(void) { pthread_mutex_lock(&fnn_P.grow); }
static void fnn_atfork_parent(void) { pthread_mutex_unlock(&fnn_P.grow); }
static void fnn_atfork_child(void) {
    /* the workers did not survive: forget them and any job in flight */
    fnn_P.nworkers = 0;
    const uint64_t gen = atomic_load(&fnn_P.state) >> 32;
    atomic_store(&fnn_P.state, (gen + 1) << 32 | FNN_CLOSED);
    for (int i = 0; i < FNN_POOL_MAX_WORKERS; i++)
        atomic_store(&fnn_P.slot[i].sleeping, 0);
    atomic_store(&fnn_P.busy, 0);
    atomic_store(&fnn_P.next, 0);
    fnn_tls_inside = 0;
    pthread_mutex_init(&fnn_P.grow, NULL);
}

static int fnn_pool_init(void) {
    const char *spin = getenv("FASTNN_SPIN_US");
    if (spin && *spin) {
        char *end;
        const long us = strtol(spin, &end, 10);
        if (*end == 0 && us >= 0 && us <= 1000000)
            fnn_P.spin_ns = (int64_t)us * 1000;
    }
    atomic_store(&fnn_P.state, FNN_CLOSED);
    if (pthread_key_create(&fnn_scratch_key, fnn_scratch_free) != 0)
        return -1;
    return pthread_atfork(fnn_atfork_prepare, fnn_atfork_parent, fnn_atfork_child) == 0 ? 0 : -1;
}

#endif
