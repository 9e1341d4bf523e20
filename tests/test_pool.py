"""fastnn's thread pool (_cpool) and the GEMM on it: every block runs exactly once,
results are bitwise the same for any thread count, concurrent callers and fork()
neither hang nor corrupt, and the one thread knob governs BLAS too.

Scenarios that could hang or abort run in a child interpreter with a timeout.
"""
import statistics

import numpy as np
import pytest

import fastnn as fn
from fastnn._kernels import gemm, threads

pool = threads.pool
needs_pool = pytest.mark.skipif(pool is None, reason="C extensions not built (Numba/NumPy engine)")
needs_blas = pytest.mark.skipif(not threads._has_blas, reason="NumPy ships no OpenBLAS here")


# ---------------------------------------------------------------- the loop itself

@needs_pool
@pytest.mark.parametrize("nt", [1, 2, 3, 8])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 1001])
@pytest.mark.parametrize("nranges", [0, 1, 2, 5])
def test_every_block_runs_exactly_once(n, nt, nranges):
    hits = pool.probe(np.zeros(n, np.int64), nt, 20, nranges)
    np.testing.assert_array_equal(hits, np.ones(n, np.int64))


@needs_pool
def test_workers_take_part():
    before = pool.stats()["ranges_by_workers"]
    for _ in range(50):
        pool.probe(np.zeros(256, np.int64), 2, 20000)
    assert pool.stats()["ranges_by_workers"] > before


@needs_pool
def test_pool_statistics_report_workers_and_spin():
    st = pool.stats()
    assert set(st) >= {"workers", "jobs", "serial_busy", "blas_calls", "spin_us"}
    assert st["spin_us"] >= 0


_CONCURRENT = """
    import threading
    import numpy as np
    from fastnn._kernels import elementwise as E, losses as L, threads, gemm
    threads.set_num_threads(2)
    pool = threads.pool
    rng = np.random.default_rng(0)
    x = rng.uniform(-6, 6, 1 << 18).astype(np.float32)
    a = rng.standard_normal((200, 300)).astype(np.float32)
    b = rng.standard_normal((300, 150)).astype(np.float32)

    def run():
        return E.sigmoid_fwd(x), gemm.matmul(a, b), pool.probe(np.zeros(999, np.int64), 2, 50)

    want = run()
    errors = []

    def work():
        try:
            for _ in range(40):
                got = run()
                np.testing.assert_array_equal(got[0], want[0])
                np.testing.assert_array_equal(got[1], want[1])
                assert (got[2] == 1).all()
        except BaseException as e:
            errors.append(repr(e))

    ts = [threading.Thread(target=work) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[:3]
    print("ok", pool.stats()["serial_busy"] > 0)
"""


@needs_pool
def test_concurrent_callers_get_right_results(run_python):
    """8 Python threads share the pool: each job runs once; losers run serially."""
    out = run_python(_CONCURRENT, timeout=240)
    assert out.stdout.split()[0] == "ok"


_FORK = """
    import os, threading, multiprocessing as mp
    import numpy as np
    from fastnn._kernels import threads
    pool = threads.pool
    threads.set_num_threads(2)
    pool.probe(np.zeros(100, np.int64), 2, 100)        # workers exist in the parent

    def child(_):
        # the child's pool has no workers yet: it starts fresh ones
        h = pool.probe(np.zeros(4099, np.int64), 3, 100)
        return int(h.sum()), int((h == 1).all())

    # a long job in flight on another thread while the parent forks
    stop = []
    def busy():
        while not stop:
            pool.probe(np.zeros(512, np.int64), 2, 20000)
    t = threading.Thread(target=busy)
    t.start()
    try:
        with mp.get_context("fork").Pool(2) as p:
            got = p.map(child, range(6))
    finally:
        stop.append(1)
        t.join()
    assert got == [(4099, 1)] * 6, got
    assert (pool.probe(np.zeros(77, np.int64), 2) == 1).all()
    print("ok")
"""


@needs_pool
def test_fork_while_the_pool_is_busy_never_hangs(run_python):
    out = run_python(_FORK, timeout=180)
    assert out.stdout.split() == ["ok"]


_NO_OPENMP = """
    import numpy as np
    import fastnn.functional as F
    from fastnn._kernels import elementwise as E, threads
    threads.set_num_threads(2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3, 16, 16)).astype(np.float32)
    w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    E.tanh_fwd(rng.standard_normal(1 << 20).astype(np.float32))
    F.conv2d(x, w).numpy()
    F.cross_entropy(rng.standard_normal((4096, 10)).astype(np.float32), np.zeros(4096, np.int64))
    F.softmax(rng.standard_normal((4096, 100)).astype(np.float32), dim=1)
    with open("/proc/self/maps") as f:
        print("libgomp" in f.read())
"""


@needs_pool
def test_c_kernels_start_no_openmp_runtime(run_python):
    """The C engine's only threads are the pool's: no OpenMP runtime gets loaded (so
    a libgomp that another library initialised first cannot slow it down)."""
    out = run_python(_NO_OPENMP, timeout=120)
    assert out.stdout.split() == ["False"]


# ---------------------------------------------------------------- GEMM

@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("shape", [(1, 1, 1), (5, 7, 3), (128, 784, 256), (97, 33, 250), (300, 128, 10)])
def test_matmul_matches_numpy(shape, ta, tb, dtype, rng):
    m, k, n = shape
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
    got = gemm.matmul(a, b, trans_a=ta, trans_b=tb)
    assert got.dtype == dtype and got.shape == (m, n)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.sqrt(k) * 4)


@needs_blas
def test_matmul_takes_fortran_views_and_empty_products(rng):
    a = rng.standard_normal((40, 30)).astype(np.float32)
    b = rng.standard_normal((30, 20)).astype(np.float32)
    np.testing.assert_allclose(gemm.matmul(np.asfortranarray(a), b), a @ b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gemm.matmul(a.T, a.T, trans_b=True), a.T @ a, rtol=1e-5, atol=1e-4)
    z = gemm.matmul(np.ones((3, 0), np.float32), np.ones((0, 4), np.float32))
    np.testing.assert_array_equal(z, np.zeros((3, 4), np.float32))
    # mixed dtypes take NumPy's path, with NumPy's promotion
    assert gemm.matmul(a, b.astype(np.float64)).dtype == np.float64


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("ta,tb", [(False, True), (False, False), (True, False)])
@pytest.mark.parametrize("m", [128, 257, 1000])
def test_gemm_same_bits_for_any_thread_count(m, ta, tb, dtype, rng):
    """Row blocks of GEMM_ROWS keep BLAS's bits: 1, 2 and 3 threads agree exactly."""
    k, n = 784, 256
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    outs = []
    for nt in (1, 2, 3):
        c = np.empty((m, n), dtype)
        assert pool.gemm(a, b, c, ta, tb, 1.0, 0.0, nt)
        outs.append(c)
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])


@needs_blas
def test_small_products_run_single_threaded(fastnn_threads):
    fastnn_threads(2)
    assert threads.gemm_threads(32, 256, 784) == 1          # batch-32 inference layer
    assert threads.gemm_threads(1 << 12, 256, 784) == 2
    assert threads.gemm_threads(40, 1 << 12, 1 << 12) == 1   # under two blocks of rows
    fastnn_threads(1)
    assert threads.gemm_threads(1 << 12, 256, 784) == 1


@needs_blas
def test_linear_training_step_same_bits_for_any_thread_count(rng, fastnn_threads):
    x = rng.standard_normal((512, 784)).astype(np.float32)
    y = rng.integers(0, 10, 512)
    results = []
    for nt in (1, 2, 3):
        fastnn_threads(nt)
        fn.manual_seed(0)
        m = fn.nn.Sequential(fn.nn.Linear(784, 256), fn.nn.ReLU(), fn.nn.Linear(256, 10))
        loss = fn.functional.cross_entropy(m(x), y)
        loss.backward()
        results.append([loss.item()] + [p.grad.copy() for p in m.parameters()])
    for other in results[1:]:
        assert other[0] == results[0][0]
        for g0, g1 in zip(results[0][1:], other[1:]):
            np.testing.assert_array_equal(g0, g1)


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("kwargs", [{"padding": 1}, {"stride": 2}, {}], ids=str)
def test_conv_same_bits_for_any_thread_count(kwargs, dtype, rng, fastnn_threads):
    x = rng.standard_normal((37, 8, 15, 15)).astype(dtype)
    w = rng.standard_normal((16, 8, 3, 3)).astype(dtype)
    g = None
    results = []
    for nt in (1, 2, 3):
        fastnn_threads(nt)
        xt, wt = fn.Tensor(x, requires_grad=True), fn.Tensor(w, requires_grad=True)
        y = fn.functional.conv2d(xt, wt, **kwargs)
        if g is None:
            g = rng.standard_normal(y.shape).astype(dtype)
        y.backward(g)
        results.append((y.numpy().copy(), xt.grad.copy(), wt.grad.copy()))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_loss_totals_same_bits_for_any_thread_count(rng, fastnn_threads):
    n = 3 * (1 << 20) + 17
    x = rng.standard_normal(n).astype(np.float32)
    t = rng.standard_normal(n).astype(np.float32)
    logits = rng.standard_normal((20000, 37)).astype(np.float32)
    labels = rng.integers(0, 37, 20000)
    vals = []
    for nt in (1, 2, 3):
        fastnn_threads(nt)
        vals.append((fn.functional.mse_loss(x, t).item(), fn.functional.l1_loss(x, t).item(),
                     fn.functional.cross_entropy(logits, labels).item()))
    assert vals[0] == vals[1] == vals[2]


# ---------------------------------------------------------------- the one knob

@needs_blas
def test_set_num_threads_governs_blas(fastnn_threads):
    for n in (1, 3, 2):
        fastnn_threads(n)
        assert threads.blas_info()["threads"] == n


@needs_blas
def test_fastnn_gemm_leaves_blas_count_as_it_was(fastnn_threads, rng):
    fastnn_threads(2)
    a = rng.standard_normal((2000, 300)).astype(np.float32)
    gemm.matmul(a, a, trans_b=True)
    assert threads.blas_info()["threads"] == 2
    assert pool.stats()["blas_calls"] > 0


def test_threads_context_manager_restores_on_error(fastnn_threads):
    fastnn_threads(2)
    blas_before = threads.blas_info()["threads"]
    with pytest.raises(KeyError):
        with fn.threads(1):
            assert fn.get_num_threads() == 1
            if threads._has_blas:
                assert threads.blas_info()["threads"] == 1
            raise KeyError("inside")
    assert fn.get_num_threads() == 2
    assert threads.blas_info()["threads"] == blas_before


def test_threads_context_manager_validates(fastnn_threads):
    with pytest.raises(ValueError, match="positive int"):
        with fn.threads(0):
            pass
    with pytest.raises(TypeError, match="positive int"):
        with fn.threads("2"):
            pass


def test_environment_sets_blas_threads_too(run_python):
    out = run_python("""
        from fastnn._kernels import threads
        print(threads.get_num_threads(), threads.blas_info()["threads"] or 1)
    """, env={"FASTNN_NUM_THREADS": 1})
    assert out.stdout.split() == ["1", "1"]


# ---------------------------------------------------------------- torch imported first

_EPOCH = """
    import sys, time
    if {torch_first}:
        import torch
    import fastnn as fn
    from fastnn import workloads as W
    fn.set_num_threads(2)
    x, y = W.make_teacher_data(8192)
    m = W.mlp_fastnn(); opt = fn.optim.Adam(m.parameters(), lr=1e-3)
    W.train_epoch_fastnn(m, opt, x[:1024], y[:1024])
    ts = []
    for _ in range(3):
        t = time.perf_counter(); W.train_epoch_fastnn(m, opt, x, y); ts.append(time.perf_counter() - t)
    print(min(ts))
"""


@pytest.mark.slow
def test_importing_torch_first_costs_at_most_20_percent(run_python, torch):
    """MLP epochs in fresh processes, fastnn alone and with torch imported first,
    interleaved; the median torch-first time is within 20% of the median alone."""
    alone, first = [], []
    for _ in range(5):
        alone.append(float(run_python(_EPOCH.format(torch_first=False), timeout=300).stdout))
        first.append(float(run_python(_EPOCH.format(torch_first=True), timeout=300).stdout))
    ratio = statistics.median(first) / statistics.median(alone)
    assert ratio <= 1.2, f"torch first {first} vs alone {alone}: {ratio:.2f}x"
