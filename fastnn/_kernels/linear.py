"""Linear-layer kernels: the small-batch fused y = act(x Wᵀ + b) (C, serial,
csrc/linear.h) that single-sample inference runs instead of BLAS's GEMV, and
``linear_chain``, the same for a run of layers in one call (Sequential's no-grad
path), and ``linear_chain_blocks``, that chain for many rows: blocks of rows on
the pool, each through every layer while it is in cache, one single-threaded
BLAS call per layer. ``linear_fwd`` is one layer for any number of rows: the
pooled GEMM with each thread adding the bias and applying the activation to the
rows it computed (Linear's forward), and ``linear_relu_bwd`` the backward of a
fused ReLU with the bias gradient in the same pass. Their NumPy twin is
reference.linear_fwd.

Larger batches stay on BLAS (numpy.dot): ``linear_small`` returns None for them,
and for any input it cannot take (strided, mixed dtypes, mismatched sizes), so
callers fall back to the validated path.
"""
import numpy as np

from . import engine, threads as _threads

__all__ = ["ACTIVATIONS", "linear_small", "linear_chain", "linear_chain_blocks", "linear_fwd",
           "linear_relu_bwd", "limits",
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


def linear_fwd(x, w, b=None, act=_cl.ACT_NONE):
    """act(x @ w.T + b) for a 2-D x on as many pool threads as the product earns
    (threads.gemm_threads), bitwise ``gemm.matmul`` then ``+= b`` and relu; None
    where the kernel does not take the operands."""
    if type(x) is not np.ndarray or x.ndim != 2 or type(w) is not np.ndarray or w.ndim != 2:
        return None
    return _cl.linear_fwd(x, w, b, act, _threads.gemm_threads(x.shape[0], w.shape[0], x.shape[1]))


def linear_relu_bwd(y, g):
    """(g where y > 0, its column sums) for 2-D y and g: the backward of a fused
    ReLU and the bias gradient under it in one pass, bitwise ``relu_bwd`` and
    ``.sum(axis=0)``; None where the kernel does not take them."""
    return _cl.linear_relu_bwd(y, g, _threads.threads_for(y.size))
