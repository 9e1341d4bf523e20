"""Linear-layer kernels: the small-batch fused y = act(x Wᵀ + b) (C, serial,
csrc/linear.h) that single-sample inference runs instead of BLAS's GEMV, and
``linear_chain``, the same for a run of layers in one call (Sequential's no-grad
path). Their NumPy twin is reference.linear_fwd.

Larger batches stay on BLAS (numpy.dot): ``linear_small`` returns None for them,
and for any input it cannot take (strided, mixed dtypes, mismatched sizes), so
callers fall back to the validated path.
"""
from . import engine

__all__ = ["ACTIVATIONS", "linear_small", "linear_chain", "limits", "set_limits"]

# the C extension, or its NumPy twin where it cannot run (see engine.py)
_cl = engine.module("_clinear", twin="_twin_linear")

# activations the kernel fuses into its output pass
ACTIVATIONS = {None: _cl.ACT_NONE, "relu": _cl.ACT_RELU}

linear_small = _cl.linear_small
linear_chain = _cl.linear_chain
limits = _cl.limits
set_limits = _cl.set_limits
