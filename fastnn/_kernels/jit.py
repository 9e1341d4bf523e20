"""Lazy Numba kernels: nothing imports or compiles Numba until a kernel first runs.

A kernel is a plain Python function written with ``prange``; ``numba_kernel``
wraps it into a :class:`NumbaKernel` that holds two builds — ``parallel=True`` and a
serial one — each compiled on its first use, for the one signature that call needs
(or by ``warmup``), and cached on disk. A kernel that is the twin of a C extension
(``twin_of="_cfoo"``) runs, and is warmed up, only where that extension does not.

Kernel modules (``_nb_*.py``) import Numba at their top; they are imported only from
inside :meth:`NumbaKernel._load`, never at ``import fastnn``.
"""
import importlib
import os
import types
import warnings

from . import threads as _threads
from .._interrupts import sigint_deferred

__all__ = ["numba_kernel", "NumbaKernel", "all_numba_kernels", "kernels_in_use", "float_signatures"]

# fastmath without 'nnan'/'ninf': NaN in must mean NaN out.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

_registry = []
_numba = None


def _import_numba():
    global _numba
    if _numba is None:
        # Ctrl-C mid-import would leave Numba half-initialised for the whole process
        with sigint_deferred():
            if "NUMBA_THREADING_LAYER" not in os.environ and "NUMBA_THREADING_LAYER_PRIORITY" not in os.environ:
                # OpenMP first: a launch costs ~4 us against ~60 us on workqueue. Its two
                # hazards are handled by threads.py: a forked child runs only serial builds
                # (GNU OpenMP's pool hangs after fork), and concurrent launches are
                # serialised by numba_parallel_lock (the losers run the serial build).
                import numba.core.config as cfg
                cfg.THREADING_LAYER_PRIORITY = ["omp", "tbb", "workqueue"]
            import numba
        _numba = numba
    return _numba


def _jit(pyfunc, parallel, exact=False):
    """njit with an on-disk cache, falling back to no cache where none is writable."""
    numba = _import_numba()
    opts = dict(nogil=True, fastmath=False if exact else FASTMATH, parallel=parallel,
                error_model="numpy")
    try:
        return numba.njit(cache=True, **opts)(pyfunc)
    except RuntimeError:
        # "cannot cache function ...: no locator available": read-only package
        # directory and no writable NUMBA_CACHE_DIR / home cache.
        return numba.njit(cache=False, **opts)(pyfunc)


def _renamed(func, suffix):
    # A distinct qualname gives the serial build its own cache file.
    f = types.FunctionType(func.__code__, func.__globals__, func.__name__ + suffix,
                           func.__defaults__, func.__closure__)
    f.__qualname__ = func.__qualname__ + suffix
    f.__module__ = func.__module__
    return f


class NumbaKernel:
    """One Numba kernel, built parallel and serial on first use.

    Args:
        module: dotted module name holding the Python source of the kernel.
        name: function name in that module.
        signatures: Numba signature strings compiled by ``warmup``.
        twin_of: name of the C extension this kernel stands in for, or None.
        exact: compile with IEEE semantics (no fastmath): the serial and the parallel
            build then round every element alike, so results do not depend on which
            build (that is, how many threads) ran; for kernels with no reduction.
    """

    __slots__ = ("module", "name", "signatures", "twin_of", "exact", "_pyfunc", "_par", "_ser")

    def __init__(self, module, name, signatures, twin_of=None, exact=False):
        self.module, self.name, self.signatures = module, name, tuple(signatures)
        self.twin_of, self.exact = twin_of, exact
        self._pyfunc = self._par = self._ser = None

    def _source(self):
        if self._pyfunc is None:
            with sigint_deferred():
                self._pyfunc = getattr(importlib.import_module(self.module), self.name)
        return self._pyfunc

    def _build(self, slot, parallel):
        # each build's first call compiles (or loads the cache), which imports more of
        # Numba: it runs with Ctrl-C deferred, then the slot holds the bare dispatcher
        with sigint_deferred():
            src = self._source()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # NumbaPerformanceWarning on tiny loops
                disp = _jit(src if parallel else _renamed(src, "__serial"), parallel, self.exact)
        setattr(self, slot, _FirstCall(self, slot, disp))

    def _serial(self):
        if self._ser is None:
            self._build("_ser", False)
        return self._ser

    def _parallel(self):
        if self._par is None:
            self._build("_par", True)
        return self._par

    def _load(self):
        self._serial()
        self._parallel()

    def __call__(self, n, *args):
        """Run over ``n`` elements of work; parallel when large and the pool is free."""
        nt = _threads.threads_for(n, _threads.NUMBA_SERIAL_BELOW)
        if nt > 1:
            lock = _threads.numba_parallel_lock
            if lock.acquire(blocking=False):
                try:
                    par = self._parallel()
                    _numba.set_num_threads(min(nt, _numba.config.NUMBA_NUM_THREADS))
                    return par(*args)
                finally:
                    lock.release()
        return self._serial()(*args)

    def compile(self, parallel=True, serial=True, signatures=None):
        """Compile the declared signatures (or ``signatures``): serial build, then parallel."""
        sigs = self.signatures if signatures is None else signatures
        for want, build in ((serial, self._serial), (parallel, self._parallel)):
            if want:
                disp = build()
                with sigint_deferred():
                    for sig in sigs:
                        disp.compile(sig)


class _FirstCall:
    """A build until its first call returns: that call runs with Ctrl-C deferred,
    then the kernel's slot holds the bare dispatcher (attributes pass through)."""

    __slots__ = ("kernel", "slot", "dispatcher")

    def __init__(self, kernel, slot, dispatcher):
        self.kernel, self.slot, self.dispatcher = kernel, slot, dispatcher

    def __call__(self, *args):
        with sigint_deferred():
            out = self.dispatcher(*args)
        setattr(self.kernel, self.slot, self.dispatcher)
        return out

    def __getattr__(self, name):
        return getattr(self.dispatcher, name)


def numba_kernel(module, name, signatures, twin_of=None, exact=False):
    """Declare a lazily compiled Numba kernel (see :class:`NumbaKernel`); ``twin_of``
    names the C extension it stands in for (it then runs only where that one does not)."""
    k = NumbaKernel(module, name, signatures, twin_of, exact)
    _registry.append(k)
    return k


def all_numba_kernels():
    return list(_registry)


def kernels_in_use():
    """The declared kernels the engine in use can call: those with no C twin, and the
    twins of C extensions that do not run here."""
    from . import engine
    return [k for k in _registry if k.twin_of is None or engine.extension(k.twin_of) is None]


def float_signatures(template):
    """Expand a signature template over float32/float64: ``T`` is the float type.

    >>> float_signatures("void(T[::1], T)")
    ['void(float32[::1], float32)', 'void(float64[::1], float64)']
    """
    return [template.replace("T", t) for t in ("float32", "float64")]
