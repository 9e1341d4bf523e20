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
    from ._kernels.threads import threads                        # noqa: F401
    from .autograd import (enable_grad, inference_mode, is_grad_enabled, no_grad,  # noqa: F401
                           set_grad_enabled)
    from .random import Generator, manual_seed, initial_seed    # noqa: F401
    from .tensor import Tensor, tensor                           # noqa: F401
    from ._device import accelerator, backends, cuda, device     # noqa: F401
    from .creation import (zeros, ones, empty, full, zeros_like, ones_like,  # noqa: F401
                           empty_like, full_like, rand, randn, rand_like, randn_like, randint,
                           randperm, arange, linspace, eye, from_numpy, as_tensor,
                           get_default_dtype, is_tensor, numel)
    from .creation import DTYPES as _DTYPES
    from .tensor_functions import *                              # noqa: F401,F403

# torch's dtype names (NumPy dtypes): fn.float32, fn.long, ...
float32, float, float64, double = (_DTYPES[k] for k in ("float32", "float", "float64", "double"))
float16, half, int64, long = (_DTYPES[k] for k in ("float16", "half", "int64", "long"))
int32, int, int16, short = (_DTYPES[k] for k in ("int32", "int", "int16", "short"))
int8, uint8, bool = (_DTYPES[k] for k in ("int8", "uint8", "bool"))

__version__ = "0.1.0"

_LAZY = {"nn", "functional", "optim", "losses", "layers", "models", "utils", "callbacks",
         "datasets", "metrics", "random", "serialization", "data", "optimizers",
         "initializers", "regularizers"}
# Keras's top-level names (keras.Input, keras.Sequential, keras.Model): module, attribute
_KERAS_NAMES = {"Input": ("layers", "Input"), "Sequential": ("models", "Sequential"),
                "Model": ("models", "Model")}


def __getattr__(name):
    # submodules load on first use so `import fastnn` stays light
    if name in _LAZY:
        with _sigint_deferred():
            return importlib.import_module(f"{__name__}.{name}")
    if name in _KERAS_NAMES:
        module, attr = _KERAS_NAMES[name]
        return getattr(__getattr__(module), attr)
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
