"""Sequential's recording path for a run of Linear layers (a ReLU fused or none) and
element dropouts: one recorded op (``autograd.LinearRun``) instead of a node per
layer, with the values, gradients and dropout keys of the layers called one by one.

The run's modules are read at every call (training flags, p, the parameters), so a
layer switched to eval, given a new weight or a new p is followed without a rebuild.
"""
import numpy as np

from ..autograd.function import has_post_accumulate_grad_hooks
from ..autograd.linear import Linear as _LinearOp
from ..autograd.linear import LinearRun
from ..functional.layers import linear_run
from ..random import resolve
from ..tensor import Tensor
from .dropout import Dropout

__all__ = ["record_run"]

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_LINEAR, _DROPOUT = LinearRun.LINEAR, LinearRun.DROPOUT
_RELU, _NONE = _LinearOp.activation("relu"), _LinearOp.activation(None)


def record_run(run, x):
    """The run (``((module, fused ReLU), ...)``, Linears and exact ``Dropout``s)
    applied to ``x`` (a Tensor or an ndarray) as one op, or None where this call must
    go layer by layer: an input that is not float32/float64 (a cast between layers
    would round), an empty one (a dropout hands it back as is), an in-place dropout,
    a parameter that is not a Tensor of x's dtype, or one with a post-accumulate-grad
    hook (data-parallel training starts each gradient's reduction from it while
    backward runs)."""
    if type(x) is not Tensor:
        if type(x) is not np.ndarray:
            return None
        x = Tensor._wrap(x)    # as F.linear takes an array: a constant input
    d = x.data.dtype
    if (d is not _F32 and d is not _F64) or x.data.size == 0:
        return None
    params, ops = [], []
    for m, fused in run:
        if type(m) is Dropout:
            if not m.training or m.p == 0.0:
                continue                 # the identity, as F.dropout
            if m.inplace:
                return None
            ops.append((_DROPOUT, (resolve(m.generator), m.p)))
            continue
        w, b = m.weight, m.bias
        if not isinstance(w, Tensor) or w.data.dtype != d or (
                b is not None and (not isinstance(b, Tensor) or b.data.dtype != d)):
            return None
        params.append(w)
        if b is not None:
            params.append(b)
        ops.append((_LINEAR, (_RELU if fused else _NONE, b is not None)))
    if has_post_accumulate_grad_hooks(params):
        return None          # each layer's gradients must reach the hooks as they are made
    return linear_run(x, params, tuple(ops))
