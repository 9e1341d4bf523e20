"""Linear layer op: y = x Wᵀ + b on BLAS (NumPy's matmul)."""
import numpy as np

from .function import Function

__all__ = ["Linear"]


class Linear(Function):
    """y = x @ W.T + b for x of shape (..., in), W (out, in), b (out,) or None."""

    @staticmethod
    def compute(x, w, b=None):
        """The forward math alone (also the no-grad fast path of F.linear)."""
        y = np.dot(x, w.T) if x.ndim == 2 else np.matmul(x, w.T)
        if b is not None:
            y += b
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
