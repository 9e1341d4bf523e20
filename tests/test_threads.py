"""Thread policy of the kernel layer: the thread-count setting, determinism across
thread counts, concurrent callers, and fork safety.

Crash- or hang-prone scenarios (many Python threads, a fork pool) run in a child
interpreter with a timeout, so an abort or a deadlock fails one test.
"""
import numpy as np
import pytest

import fastnn._kernels as K
from fastnn._kernels import elementwise, threads

K._register_all()
SPECS = elementwise.SPECS
# Odd length: chunk and vector boundaries differ between 1 and 2 threads.
N_PARALLEL = 4 * threads.SERIAL_BELOW + 7


@pytest.mark.parametrize("bad", [1.5, "2", None, True, 2.0])
def test_set_num_threads_rejects_non_int(bad, fastnn_threads):
    with pytest.raises(TypeError, match="expected a positive int"):
        threads.set_num_threads(bad)


@pytest.mark.parametrize("bad", [0, -1])
def test_set_num_threads_rejects_non_positive(bad, fastnn_threads):
    with pytest.raises(ValueError, match="expected a positive int, got " + str(bad)):
        threads.set_num_threads(bad)


def test_set_num_threads_roundtrip(fastnn_threads):
    for n in (1, 3, 2):
        fastnn_threads(n)
        assert threads.get_num_threads() == n


def test_threads_for_runs_small_calls_serially(fastnn_threads):
    fastnn_threads(4)
    assert threads.threads_for(0) == 1
    assert threads.threads_for(threads.SERIAL_BELOW - 1) == 1
    assert 1 < threads.threads_for(64 * threads.SERIAL_BELOW) <= 4
    fastnn_threads(1)
    assert threads.threads_for(64 * threads.SERIAL_BELOW) == 1


def test_thread_count_from_environment(run_python):
    code = """
        from fastnn._kernels import threads
        print(threads.get_num_threads())
    """
    out = run_python(code, env={"FASTNN_NUM_THREADS": 3, "OMP_NUM_THREADS": 1})
    assert out.stdout.split() == ["3"]
    out = run_python(code, env={"FASTNN_NUM_THREADS": "", "OMP_NUM_THREADS": 1})
    assert out.stdout.split() == ["1"]


@pytest.mark.parametrize("threads_n", [2, 3], ids=lambda n: f"{n}threads")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_same_bits_whatever_the_thread_count(name, dtype, threads_n, rng, fastnn_threads):
    """A result may not depend on the machine's core count: 1 thread and 2 or 3
    threads give identical bits (odd thread counts split the array mid-vector)."""
    spec = SPECS[name]
    arrays = [rng.uniform(*spec.domain, N_PARALLEL).astype(dtype)]
    if spec.arity == 2:
        arrays.append(rng.standard_normal(N_PARALLEL).astype(dtype))
    fastnn_threads(1)
    serial = spec.kernel(*arrays, *spec.params)
    fastnn_threads(threads_n)
    assert threads.threads_for(N_PARALLEL) == threads_n
    parallel = spec.kernel(*arrays, *spec.params)
    np.testing.assert_array_equal(serial, parallel)


_CONCURRENT = """
    import threading
    import numpy as np
    from fastnn._kernels import elementwise as E, threads
    threads.set_num_threads(2)
    n = {n}
    rng = np.random.default_rng(0)
    x = rng.uniform(-6, 6, n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    # one C kernel and one unary + one binary Numba kernel
    nb1, nb2 = E.nb_unary("relu_fwd"), E.nb_binary("relu_bwd")

    def run():
        return {{"c": E.sigmoid_fwd(x), "nb1": nb1(x), "nb2": nb2(x, g)}}

    want = run()
    errors = []

    def work(seed):
        try:
            for i in range(30):
                got = run()
                for k in want:
                    np.testing.assert_allclose(got[k], want[k], rtol=1e-6, atol=0)
        except BaseException as e:
            errors.append(repr(e))

    ts = [threading.Thread(target=work, args=(s,)) for s in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[:3]
    print("ok")
"""


def test_many_python_threads_call_kernels_concurrently(run_python):
    """8 Python threads call a parallel-sized C kernel and Numba kernels at once."""
    out = run_python(_CONCURRENT.format(n=N_PARALLEL), timeout=180)
    assert out.stdout.split() == ["ok"]


_FORK_POOL = """
    import multiprocessing as mp
    import numpy as np
    from fastnn._kernels import elementwise as E, threads
    threads.set_num_threads(2)
    n = {n}

    def data(seed):
        rng = np.random.default_rng(seed)
        return rng.uniform(-6, 6, n).astype(np.float32), rng.standard_normal(n).astype(np.float32)

    nb1, nb2 = E.nb_unary("relu_fwd"), E.nb_binary("relu_bwd")

    def run(seed):
        x, g = data(seed)
        return E.sigmoid_fwd(x), E.tanh_fwd(x), nb1(x), nb2(x, g)

    def child(seed):
        return threads.in_forked_child(), threads.get_num_threads(), run(seed)

    # The parent enters parallel regions of both engines before forking.
    want = [run(s) for s in range(4)]
    assert threads._parallel_used
    with mp.get_context("fork").Pool(2) as pool:
        got = pool.map(child, range(4))
    for seed, (serial_only, nt, outs) in enumerate(got):
        assert serial_only and nt == 1, (serial_only, nt)
        for a, b in zip(outs, want[seed]):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=0)
    # The parent keeps its thread count and still runs in parallel.
    assert threads.get_num_threads() == 2 and not threads.in_forked_child()
    for a, b in zip(run(0), want[0]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=0)
    print("ok")
"""


def test_fork_pool_after_parallel_kernels(run_python):
    """Children forked after the parent ran parallel kernels compute right, serially."""
    out = run_python(_FORK_POOL.format(n=N_PARALLEL), timeout=120)
    assert out.stdout.split() == ["ok"]
