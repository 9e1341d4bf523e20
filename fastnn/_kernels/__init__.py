"""fastnn's kernel layer: the only package that knows about threads, Numba and C.

Only fastnn.autograd and fastnn.optim import it (tests/test_layering.py); they call
plain functions with ndarrays (and ``out=``). One module per kernel family:

* :mod:`.elementwise` — activations' forward/backward and other pointwise loops.
* :mod:`.activations` — softmax/log_softmax, prelu, srelu, crelu, maxout.
* :mod:`.losses`      — loss values fused with their gradients.
* :mod:`.linear`      — the small-batch fused linear layer and its chain.
* :mod:`.conv`        — convolution (im2col + GEMM) and pooling.
* :mod:`.dropout`     — counter-based dropout masks fused with the apply.
* :mod:`.norm`        — batch and layer normalisation.
* :mod:`.optim`       — one fused step per optimizer.

and the machinery under them:

* ``_c*.pyx`` + ``csrc/`` — the C kernels; every wrapper checks its arrays through
  ``_ccheck.pxd`` before the kernel runs.
* :mod:`.engine`      — which engine (C build for this CPU, or Numba/NumPy twin) runs.
* :mod:`.jit`         — lazy, disk-cached Numba compilation (``_nb_*.py`` sources).
* :mod:`.threads`     — ``set_num_threads``/``get_num_threads``, fork and thread safety.
* ``reference*.py``   — the NumPy version of every kernel: the tests' oracle (also
  timed by ``python -m fastnn bench``; see tests/test_layering.py for who may import it).

Importing this package loads the C extensions but never imports Numba.
"""
import os

from . import threads  # noqa: E402  (first: sets the OpenMP spin policy before libgomp loads)
from .threads import get_num_threads, set_num_threads  # noqa: E402
from .jit import all_numba_kernels, kernels_in_use  # noqa: E402,F401

__all__ = ["get_num_threads", "set_num_threads", "warmup", "threads", "system_info"]

# Modules that declare Numba kernels; importing them registers the kernels
# (cheap: no Numba import until a kernel runs).
_KERNEL_MODULES = ["elementwise", "dropout", "optim", "activations", "conv"]
# Every kernel family module (importing one asks the engine for its C extension).
_FAMILY_MODULES = _KERNEL_MODULES + ["losses", "linear", "norm"]


def _register_all():
    import importlib
    # the elementwise twin declares Numba kernels too, but is imported only where the
    # C engine is not in use: warmup and the registry must see it either way
    for m in _KERNEL_MODULES + ["_twin_elementwise"]:
        importlib.import_module(f"{__name__}.{m}")


def warmup(verbose=False):
    """Compile the Numba kernels the engine in use can call, for float32 and float64,
    into the on-disk cache, so later calls and later processes start warm.

    Twins of C extensions that run here are skipped (they never run); serial builds
    come first, and parallel builds only where more than one thread is allowed.

    Returns:
        int: the number of kernels compiled.
    """
    _register_all()
    kernels = kernels_in_use()
    passes = ["serial"] + (["parallel"] if get_num_threads() > 1 else [])
    for build in passes:
        for i, k in enumerate(kernels):
            if verbose:
                print(f"[{build} {i + 1}/{len(kernels)}] {k.module.rsplit('.', 1)[-1]}.{k.name}",
                      flush=True)
            k.compile(parallel=build == "parallel", serial=build == "serial")
    return len(kernels)


def _version(dist):
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def system_info():
    """Engine, ISA build, CPU, threads and BLAS of this process, as a dict (what
    ``fastnn.show_config`` prints). Loads every kernel family's engine to report it."""
    import importlib
    import sys
    from . import engine
    errors = []
    for m in _FAMILY_MODULES:
        try:
            importlib.import_module(f"{__name__}.{m}")
        except ImportError as e:      # FASTNN_ENGINE=c with a missing build
            errors.append(str(e))
    try:
        from . import conv
        blas_found = conv._c_engine() is not None
    except ImportError as e:
        errors.append(str(e))
        blas_found = False
    eng = engine.config()
    eng["errors"] = errors
    if eng["families"].get("_cconv", {}).get("engine") == "c":
        eng["families"]["_cconv"]["blas"] = ("NumPy's OpenBLAS, called serially per thread"
                                             if blas_found else "not found: NumPy GEMM path")
    th = {"fastnn": get_num_threads(), "cpus_available": threads._cpu_count(),
          "serial_below": threads.SERIAL_BELOW, "forked_child_serial": threads.in_forked_child()}
    extra = getattr(threads, "info", None)
    if callable(extra):
        th.update(extra())
    env = {k: os.environ[k] for k in ("FASTNN_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "FASTNN_ENGINE",
                                      "FASTNN_ISA") if k in os.environ}
    numba = {"version": _version("numba"), "imported": "numba" in sys.modules}
    if numba["imported"]:
        nb = sys.modules["numba"]
        numba["threads"] = nb.config.NUMBA_NUM_THREADS
        try:
            numba["threading_layer"] = nb.threading_layer()
        except ValueError:   # no parallel kernel has run yet
            numba["threading_layer"] = None
    import numpy as np
    blas = {"numpy": np.__version__}
    try:
        dep = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas["numpy_blas"] = f"{dep.get('name')} {dep.get('version')}"
    except Exception:   # noqa: BLE001  (older NumPy: no dict mode)
        blas["numpy_blas"] = None
    try:
        from threadpoolctl import threadpool_info
        blas["pools"] = [{k: p.get(k) for k in ("user_api", "internal_api", "version",
                                                 "num_threads", "threading_layer", "filepath")}
                         for p in threadpool_info()]
    except ImportError:
        blas["pools"] = None
    return {"engine": eng, "cpu": engine.cpu(), "threads": th, "env": env, "numba": numba,
            "blas": blas}
