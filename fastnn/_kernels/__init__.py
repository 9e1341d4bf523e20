"""fastnn's kernel layer: the only package that knows about threads, Numba and C.

Everything above calls plain functions with ndarrays (and ``out=``):

* :mod:`.elementwise` — activations' forward/backward and other pointwise loops.
* :mod:`.reference`   — the NumPy version of every kernel (test oracle).
* :mod:`.threads`     — ``set_num_threads``/``get_num_threads``, fork and thread safety.
* :mod:`.jit`         — lazy, disk-cached Numba compilation.

Importing this package loads the C extensions but never imports Numba.
"""
from . import threads  # noqa: E402  (first: sets the OpenMP spin policy before libgomp loads)
from .threads import get_num_threads, set_num_threads  # noqa: E402
from .jit import all_numba_kernels  # noqa: E402

__all__ = ["get_num_threads", "set_num_threads", "warmup", "threads"]

# Modules that declare Numba kernels; importing them registers the kernels
# (cheap: no Numba import until a kernel runs).
_KERNEL_MODULES = ["elementwise", "dropout", "optim", "activations", "conv"]


def _register_all():
    import importlib
    for m in _KERNEL_MODULES:
        importlib.import_module(f"{__name__}.{m}")


def warmup(verbose=False):
    """Compile every Numba kernel for float32 and float64 (serial and parallel builds).

    Compiled code goes to the on-disk cache, so later processes start warm.

    Returns:
        int: the number of kernels compiled.
    """
    _register_all()
    kernels = all_numba_kernels()
    for i, k in enumerate(kernels):
        if verbose:
            print(f"[{i + 1}/{len(kernels)}] {k.module.rsplit('.', 1)[-1]}.{k.name}", flush=True)
        k.compile()
    return len(kernels)
