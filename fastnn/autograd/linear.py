"""Linear layer op: y = x Wᵀ + b on BLAS (NumPy's matmul), or for a few rows the
fused serial kernel that also applies the bias and an activation."""
import numpy as np

from .._kernels import elementwise as _ew
from .._kernels import linear as _kl
from .function import Function

_ACTS = _kl.ACTIVATIONS

__all__ = ["Linear"]


class Linear(Function):
    """y = x @ W.T + b for x of shape (..., in), W (out, in), b (out,) or None."""

    @staticmethod
    def compute(x, w, b=None, act=None):
        """act(x @ w.T + b) on arrays: the forward math alone, also the no-grad path
        of F.linear and of Sequential (which fuses a following ReLU as act="relu")."""
        y = _kl.linear_small(x, w, b, _ACTS[act])
        if y is not None:
            return y
        y = np.dot(x, w.T) if x.ndim == 2 else np.matmul(x, w.T)
        if b is not None:
            y += b
        if act == "relu":
            y = _ew.relu_fwd(y, out=y)
        return y

    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        return Linear.compute(x, w, b)

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
                # product (batch of 1) and runs a naive loop ~7x slower
                gw = np.dot(g2.T, x.reshape(-1, x.shape[-1]))
            if ctx.has_bias and need[2]:
                gb = g2.sum(axis=0)
        return gx, gw, gb
