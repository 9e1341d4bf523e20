"""Linear layer op: y = act(x Wᵀ + b).

Most shapes run on BLAS (NumPy's dot). For a few rows a fused serial kernel reads W
once and applies the bias and the activation on the way out (single-sample
inference), and ``chain`` runs a whole stack of layers in one such call
(Sequential's no-grad plan). Inputs arrive validated (fastnn.functional.linear).
"""
import numpy as np

from .._kernels import elementwise as _ew
from .._kernels import linear as _kl
from .function import Function

__all__ = ["Linear"]

_CODES = _kl.ACTIVATIONS     # activation name -> the kernel's code
_NONE, _RELU = _CODES[None], _CODES["relu"]


class Linear(Function):
    """y = x @ W.T + b for x of shape (..., in), W (out, in), b (out,) or None.

    Without a graph, ``infer`` also applies a fused activation: ``act`` is a code
    from :meth:`activation`.
    """

    @staticmethod
    def activation(name):
        """The code ``infer`` and ``chain`` take for a fused activation (None or 'relu')."""
        return _CODES[name]

    @staticmethod
    def infer(x, w, b=None, act=_NONE):
        y = _kl.linear_small(x, w, b, act)
        if y is not None:
            return y
        y = np.dot(x, w.T) if x.ndim == 2 else np.matmul(x, w.T)
        if b is not None:
            y += b
        if act == _RELU:
            y = _ew.relu_fwd(y, out=y)
        return y

    # chain(x, layers): the layers ((weight, bias or None, act code), ...) applied in
    # order to x (n, k) in one fused call, weight and bias Tensors whose ``.data`` is
    # read now; None when the fused kernel does not take them all (then run ``infer``
    # layer by layer). The kernel itself: this sits on single-sample latency.
    chain = staticmethod(_kl.linear_chain)

    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        return Linear.infer(x, w, b)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = np.matmul(g, w) if need[0] else None
        gw = gb = None
        if need[1] or (ctx.has_bias and need[2]):
            g2 = g.reshape(-1, g.shape[-1])
            if need[1]:
                # np.dot, not matmul: matmul skips BLAS for a (n, 1) @ (1, k) outer
                # product (batch of 1) and runs a naive loop several times slower
                gw = np.dot(g2.T, x.reshape(-1, x.shape[-1]))
            if ctx.has_bias and need[2]:
                gb = g2.sum(axis=0)
        return gx, gw, gb
