"""Linear-layer kernels: the small-batch fused y = act(x Wᵀ + b) (C, serial,
csrc/linear.h) that single-sample inference runs instead of BLAS's GEMV, and
``linear_chain``, the same for a run of layers in one call (Sequential's no-grad
path), and ``linear_chain_blocks``, that chain for many rows: blocks of rows on
the pool, each through every layer while it is in cache, one single-threaded
BLAS call per layer. Their NumPy twin is reference.linear_fwd.

Larger batches stay on BLAS (numpy.dot): ``linear_small`` returns None for them,
and for any input it cannot take (strided, mixed dtypes, mismatched sizes), so
callers fall back to the validated path.
"""
import numpy as np

from . import engine, threads as _threads

__all__ = ["ACTIVATIONS", "linear_small", "linear_chain", "linear_chain_blocks", "limits",
           "set_limits", "block_rows", "set_block_rows"]

# the C extension, or its NumPy twin where it cannot run (see engine.py)
_cl = engine.module("_clinear", twin="_twin_linear")

# activations the kernel fuses into its output pass
ACTIVATIONS = {None: _cl.ACT_NONE, "relu": _cl.ACT_RELU}

linear_small = _cl.linear_small
linear_chain = _cl.linear_chain
limits = _cl.limits
set_limits = _cl.set_limits
block_rows = _cl.block_rows
set_block_rows = _cl.set_block_rows


def linear_chain_blocks(x, layers):
    """``linear_chain`` for any number of rows, on as many pool threads as the first
    layer's product earns (threads.gemm_threads); None where it does not apply."""
    if type(x) is not np.ndarray or x.ndim != 2:
        return None
    w = layers[0][0].data if layers and len(layers[0]) == 3 else None
    if type(w) is not np.ndarray or w.ndim != 2:
        return None
    return _cl.linear_chain_blocks(x, layers, _threads.gemm_threads(x.shape[0], w.shape[0], x.shape[1]))
