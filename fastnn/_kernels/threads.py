"""Thread policy for every fastnn kernel: how many threads, and when to run serially.

The one place that decides parallelism. Rules, decided once:

* ``set_num_threads(n)`` governs both engines (the OpenMP C loops and Numba).
* Calls on fewer than ``SERIAL_BELOW`` elements run serially, so small calls pay no
  thread hand-off.
* After ``fork()``, a child of a process that already ran a parallel region runs
  every kernel serially: GNU OpenMP's pool does not survive fork (a child that
  enters a parallel region hangs).
* Numba's parallel kernels are entered by one Python thread at a time; a thread that
  finds them busy runs the serial build instead of waiting (Numba's threading layers
  are not safe under concurrent launches: workqueue aborts). Numba uses its OpenMP
  layer (launch ~5 us, workqueue ~60 us), which is why the fork rule above covers it.
"""
import os
import threading

__all__ = ["get_num_threads", "set_num_threads", "threads_for", "SERIAL_BELOW", "NUMBA_SERIAL_BELOW",
           "numba_parallel_lock", "blas_threads_lock", "in_forked_child"]

# Below this many elements a kernel runs on the calling thread. Chosen by benchmark
# (asv_bench/benchmarks/kernels.py, sizes sweep): in isolation a 2-thread C copy wins
# from ~16-32k elements, but inside a training loop every hand-off also wakes a thread
# that then competes with BLAS's workers; the MLP epoch (tests/test_mlp.py workload)
# was fastest with 128x256 activations (32k) kept serial.
SERIAL_BELOW = 1 << 16
# Numba's parallel launch costs more (measured: a Numba relu goes parallel-faster only
# from ~100k elements, the C loops from ~16-32k), so its kernels get their own bar.
NUMBA_SERIAL_BELOW = 1 << 17


def _cpu_count():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _initial_threads():
    for var in ("FASTNN_NUM_THREADS", "OMP_NUM_THREADS"):
        val = os.environ.get(var, "")
        if val.strip().isdigit() and int(val) > 0:
            return int(val)
    return _cpu_count()


_num_threads = _initial_threads()
_parallel_used = False   # has this process entered a parallel region yet?
_serial_only = False     # set in a forked child of a process that had
numba_parallel_lock = threading.Lock()
# Held by the conv C engine while OpenBLAS's process-wide thread count is switched
# to 1: two overlapping calls would restore each other's value wrongly.
blas_threads_lock = threading.Lock()


def get_num_threads():
    """Number of threads fastnn's kernels use for large inputs.

    >>> import fastnn as fn
    >>> fn.get_num_threads() >= 1
    True
    """
    return 1 if _serial_only else _num_threads


def set_num_threads(n):
    """Set the number of threads for fastnn's own kernels (not BLAS).

    Args:
        n: a positive int.

    Raises:
        TypeError, ValueError: if ``n`` is not a positive int.

    >>> import fastnn as fn
    >>> old = fn.get_num_threads(); fn.set_num_threads(1); fn.get_num_threads()
    1
    >>> fn.set_num_threads(old)
    """
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: expected a positive int, got {type(n).__name__} {n!r}.")
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n}.")
    _num_threads = n


def threads_for(n, serial_below=SERIAL_BELOW):
    """Threads to use for a kernel over ``n`` elements (1 means serial)."""
    global _parallel_used
    if n < serial_below or _num_threads == 1 or _serial_only:
        return 1
    _parallel_used = True
    # at least serial_below/2 elements per thread, so mid-size calls use fewer threads
    return min(_num_threads, max(2, n // (serial_below >> 1)))


def in_forked_child():
    """True in a forked child whose kernels were switched to serial."""
    return _serial_only


def _after_fork_in_child():
    global _serial_only, numba_parallel_lock, blas_threads_lock
    # A lock held by another thread at fork time would stay locked forever.
    numba_parallel_lock = threading.Lock()
    blas_threads_lock = threading.Lock()
    if _parallel_used:
        _serial_only = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
