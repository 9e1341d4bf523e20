"""Linear layer op: y = x Wᵀ + b as a GEMM on fastnn's pool (_kernels.gemm), or for
a few rows the fused serial kernel that also applies the bias and an activation."""
from .._kernels import elementwise as _ew
from .._kernels import linear as _kl
from .._kernels.gemm import matmul as _matmul
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
        x2 = x.reshape(-1, x.shape[-1])
        y = _matmul(x2, w, trans_b=True)
        if x.ndim != 2:
            y = y.reshape(x.shape[:-1] + (w.shape[0],))
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
        g2 = g.reshape(-1, g.shape[-1])
        gx = gw = gb = None
        if need[0]:
            gx = _matmul(g2, w).reshape(g.shape[:-1] + (w.shape[1],))
        if need[1]:
            gw = _matmul(g2, x.reshape(-1, x.shape[-1]), trans_a=True)
        if ctx.has_bias and need[2]:
            gb = g2.sum(axis=0)
        return gx, gw, gb
