"""Thread policy for every fastnn kernel: how many threads, and when to run serially.

The one place that decides parallelism. Rules, decided once:

* One pool owns the cores: fastnn's own (the ``_cpool`` extension, csrc/pool.h).
  Every C kernel runs its parallel loop on it, and so does every GEMM fastnn makes:
  products are split by rows over the pool, each part one single-threaded BLAS
  call, so NumPy's OpenBLAS never wakes its own threads under ours.
* ``set_num_threads(n)`` (or ``FASTNN_NUM_THREADS`` at start) governs all of it:
  the pool, Numba (the fallback engine), and OpenBLAS's own thread count for the
  rest of the process. :func:`threads` sets it for a ``with`` block.
* Calls on fewer than ``SERIAL_BELOW`` elements, and GEMMs under ``GEMM_SERIAL_BELOW``
  multiply-adds, run on the calling thread: a hand-off would cost more than it saves.
* After ``fork()``, a child of a process that already ran parallel work runs every
  kernel serially. fastnn's pool would survive (the child starts a fresh one), but
  GNU OpenMP's, which Numba uses, does not (a child entering a parallel region
  hangs), and forked workers (multiprocessing, Dask) already share the cores.
* Numba (the fallback engine) runs on GNU OpenMP, whose idle threads must not spin
  for long while the pool and BLAS need the cores: fastnn/_kernels/__init__.py sets
  a short ``GOMP_SPINCOUNT`` before libgomp loads. Where another library (torch)
  loaded libgomp before fastnn, that setting cannot apply any more, so Numba
  kernels run serially (``NUMBA_SERIAL_BELOW`` is raised out of reach).
* Numba's parallel kernels are entered by one Python thread at a time; a thread that
  finds them busy runs the serial build instead of waiting (Numba's threading layers
  are not safe under concurrent launches: workqueue aborts). fastnn's pool does the
  same for its own jobs: a call made while another thread's job runs, runs serially.
"""
import contextlib
import ctypes
import glob
import os
import threading

import numpy as np

__all__ = ["get_num_threads", "set_num_threads", "threads", "threads_for", "gemm_threads",
           "SERIAL_BELOW", "NUMBA_SERIAL_BELOW", "GEMM_SERIAL_BELOW", "numba_parallel_lock",
           "in_forked_child", "pool", "blas_info", "info"]

# Below this many elements a kernel runs on the calling thread. Chosen by benchmark
# (asv_bench/benchmarks/kernels.py, sizes sweep): in isolation a 2-thread C copy wins
# from ~16-32k elements, but inside a training loop every hand-off also wakes a thread
# that then competes with BLAS's workers; the MLP epoch (tests/test_mlp.py workload)
# was fastest with 128x256 activations (32k) kept serial.
SERIAL_BELOW = 1 << 16


def _libgomp_loaded():
    """True when GNU OpenMP is already mapped into this process (so it read its
    spin settings before fastnn could set them)."""
    try:
        with open("/proc/self/maps") as f:
            return any("libgomp" in line for line in f)
    except OSError:
        return False


_USER_OMP_POLICY = "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ
#: GNU OpenMP was initialised before fastnn (e.g. ``import torch`` first) with the
#: default spin policy, and no policy was asked for in the environment.
GOMP_PRELOADED = _libgomp_loaded() and not _USER_OMP_POLICY
# GNU OpenMP workers spin (without yielding) for ~300k iterations after each parallel
# region, while BLAS calls between our kernels need those cores: on 2 cores the MLP
# epoch took 12 s with the default spin, 1.6 s with 10k, 0.56 s with 1k (torch: 1.3 s).
# Read by libgomp when it loads (Numba's OpenMP layer loads it on first use); a
# user's OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
if not _USER_OMP_POLICY:
    os.environ["GOMP_SPINCOUNT"] = "1000"
# Numba's parallel launch costs more (measured: a Numba relu goes parallel-faster only
# from ~100k elements, the C loops from ~16-32k), so its kernels get their own bar.
# With libgomp's default spin (GOMP_PRELOADED) its idle threads would spin ~300k
# iterations after every region while BLAS and the pool need the cores: the MLP
# epoch ran 2.5x slower, and 1.0x with Numba serial.
NUMBA_SERIAL_BELOW = 1 << 62 if GOMP_PRELOADED else 1 << 17
# GEMMs below this many multiply-adds run as one BLAS call on the calling thread, and
# a thread gets at least two blocks of rows (pool.GEMM_ROWS each): each part of a
# split product packs its own copy of the right operand, so thin parts lose
# (asv_bench/benchmarks/gemm.py, GemmSplit, measures both sides of the line).
GEMM_SERIAL_BELOW = 1 << 22


def _cpu_count():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _env_threads():
    """The thread count asked for in the environment, or None."""
    for var in ("FASTNN_NUM_THREADS", "OMP_NUM_THREADS"):
        val = os.environ.get(var, "")
        if val.strip().isdigit() and int(val) > 0:
            return int(val)
    return None


def _load_pool():
    # through the engine: FASTNN_ENGINE=numba, a build this CPU cannot run or a missing
    # library leave the pool out like any C kernel (the twins then run)
    from . import engine
    return engine.extension("_cpool")


#: The ``_cpool`` extension (fastnn's thread pool and GEMM), or None where the C
#: engine does not run (then every kernel runs on the Numba/NumPy engine).
pool = _load_pool()


def _find_openblas():
    """ctypes handle of the scipy-openblas64 library NumPy's wheels ship, or None."""
    base = os.path.dirname(np.__file__)
    paths = (glob.glob(os.path.join(base, os.pardir, "numpy.libs", "libscipy_openblas64_*"))
             + glob.glob(os.path.join(base, ".dylibs", "libscipy_openblas64_*")))
    for path in paths:
        try:
            lib = ctypes.CDLL(path)   # NumPy loaded it already: the same copy
            lib.scipy_cblas_sgemm64_, lib.scipy_cblas_dgemm64_   # noqa: B018 (probe)
            return path, lib
        except (OSError, AttributeError):
            continue
    return None, None


_BLAS_SYMBOLS = ("scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_",
                 "scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_")
_blas_path = None


def _install_blas():
    """Hand NumPy's OpenBLAS to the pool; True when it was found."""
    global _blas_path
    if pool is None:
        return False
    path, lib = _find_openblas()
    if lib is None:
        return False
    try:
        addrs = [ctypes.cast(getattr(lib, name), ctypes.c_void_p).value for name in _BLAS_SYMBOLS]
    except AttributeError:
        return False
    pool.set_blas(*addrs)
    _blas_path = path
    return True


def blas_info():
    """Which BLAS fastnn's GEMMs use and its thread count outside fastnn's calls.

    >>> info = blas_info(); sorted(info)
    ['library', 'threads']
    """
    if _blas_path is None:
        return {"library": None, "threads": None}
    return {"library": os.path.basename(_blas_path), "threads": pool.get_blas_threads()}


_env_n = _env_threads()
_num_threads = _env_n or _cpu_count()
_has_blas = _install_blas()
if _has_blas and os.environ.get("FASTNN_NUM_THREADS", "").strip().isdigit() and _env_n:
    pool.set_blas_threads(_env_n)   # the one knob, set in the environment
_parallel_used = False   # has this process entered a parallel region yet?
_serial_only = False     # set in a forked child of a process that had
numba_parallel_lock = threading.Lock()


def get_num_threads():
    """Number of threads fastnn uses for large inputs (its kernels and its GEMMs).

    >>> import fastnn as fn
    >>> fn.get_num_threads() >= 1
    True
    """
    return 1 if _serial_only else _num_threads


def set_num_threads(n):
    """Set the number of threads for everything fastnn runs: its kernels, its GEMMs,
    and NumPy's OpenBLAS for the rest of the process.

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
    if _has_blas:
        pool.set_blas_threads(n)


@contextlib.contextmanager
def threads(n):
    """``with fn.threads(n):`` runs the block on ``n`` threads (fastnn and BLAS), then
    restores the previous count. The count is process-wide, as ``set_num_threads``.

    >>> import fastnn as fn
    >>> with fn.threads(1):
    ...     fn.get_num_threads()
    1
    """
    old_n, old_blas = _num_threads, pool.get_blas_threads() if _has_blas else 0
    set_num_threads(n)
    try:
        yield n
    finally:
        set_num_threads(old_n)
        if _has_blas:
            pool.set_blas_threads(old_blas)


def threads_for(n, serial_below=SERIAL_BELOW):
    """Threads to use for a kernel over ``n`` elements (1 means serial)."""
    global _parallel_used
    if n < serial_below or _num_threads == 1 or _serial_only:
        return 1
    _parallel_used = True
    # at least serial_below/2 elements per thread, so mid-size calls use fewer threads
    return min(_num_threads, max(2, n // (serial_below >> 1)))


def gemm_threads(m, n, k):
    """Threads for an (m, k) x (k, n) product: 1 below ``GEMM_SERIAL_BELOW``
    multiply-adds, else at most one per two blocks of rows."""
    global _parallel_used
    if m * n * k < GEMM_SERIAL_BELOW or _num_threads == 1 or _serial_only:
        return 1
    rows = pool.GEMM_ROWS if pool is not None else 1
    nt = min(_num_threads, m // (2 * rows))
    if nt < 2:
        return 1
    _parallel_used = True
    return nt


def info():
    """The pool and BLAS as ``python -m fastnn info`` reports them (a dict).

    >>> sorted(info())
    ['blas', 'blas_threads_outside', 'pool', 'pool_workers']
    """
    b = blas_info()
    return {"pool": "fastnn (_cpool)" if pool is not None else "none (Numba/NumPy engine)",
            "pool_workers": pool.stats()["workers"] if pool is not None else 0,
            "blas": (f"{b['library']}, single-threaded inside fastnn's calls"
                     if b["library"] else "NumPy's dot (BLAS not reached)"),
            "blas_threads_outside": b["threads"]}


def in_forked_child():
    """True in a forked child whose kernels were switched to serial."""
    return _serial_only


def _after_fork_in_child():
    global _serial_only, numba_parallel_lock
    # A lock held by another thread at fork time would stay locked forever.
    numba_parallel_lock = threading.Lock()
    if _parallel_used:
        _serial_only = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
