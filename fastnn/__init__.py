"""fastnn: a CPU-only neural-network engine.

NumPy arrays in; hot loops compiled with Numba and C (OpenMP SIMD); a torch-style
autograd/layer API and a Keras-style front on the same engine.

>>> import fastnn as fn
>>> x = fn.tensor([[1.0, -2.0]], requires_grad=True)
>>> (x * x).sum().backward(); x.grad
array([[ 2., -4.]], dtype=float32)
"""
import importlib

from ._interrupts import sigint_deferred as _sigint_deferred

# a Ctrl-C half-way through these imports (NumPy's among them) would leave modules
# half-initialised for the rest of the process: it is raised once they are done
with _sigint_deferred():
    from . import autograd                                       # noqa: F401
    from ._kernels import get_num_threads, set_num_threads       # noqa: F401
    from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
    from .random import Generator, manual_seed, initial_seed    # noqa: F401
    from .tensor import Tensor, tensor, as_tensor                # noqa: F401
    from ._device import cuda, device                            # noqa: F401

__version__ = "0.1.0"

_LAZY = {"nn", "functional", "optim", "losses", "layers", "models", "utils", "callbacks",
         "datasets", "metrics", "random", "serialization", "data"}


def __getattr__(name):
    # submodules load on first use so `import fastnn` stays light
    if name in _LAZY:
        with _sigint_deferred():
            return importlib.import_module(f"{__name__}.{name}")
    if name in ("save", "load", "LoadError"):
        return getattr(__getattr__("serialization"), name)
    raise AttributeError(f"module 'fastnn' has no attribute '{name}'")


def show_config(mode="stdout"):
    """Print (or with ``mode="dicts"`` return) the engine each kernel family runs on
    (C, and which ISA build, or the Numba/NumPy twin), the CPU's features, thread
    counts and the BLAS in use; ``python -m fastnn info`` prints the same.

    >>> import fastnn as fn
    >>> sorted(fn.show_config(mode="dicts"))
    ['blas', 'cpu', 'engine', 'env', 'numba', 'threads']
    """
    from ._kernels import system_info
    from .__main__ import format_info
    if mode not in ("stdout", "dicts"):
        raise ValueError(f"show_config: expected mode 'stdout' or 'dicts', got {mode!r}.")
    info = system_info()
    if mode == "dicts":
        return info
    print(format_info(info))
    return None


def warmup(verbose=False):
    """Compile every Numba kernel now (into the on-disk cache), so later calls and
    later processes start warm. Returns the number of kernels compiled."""
    from ._kernels import warmup as _warmup
    return _warmup(verbose=verbose)
