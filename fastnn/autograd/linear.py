"""Linear layer op: y = act(x Wᵀ + b).

Most shapes run as a GEMM on fastnn's pool (_kernels.linear.linear_fwd:
single-threaded BLAS calls, one per block of rows, bitwise the same for any thread
count), each thread adding the bias and applying a fused activation to the rows it
computed. For a few rows a fused serial kernel reads W once and applies the bias
and the activation on the way out (single-sample inference), and ``chain`` runs a
whole stack of layers in one such call (Sequential's no-grad plan). A fused ReLU
is recorded with the layer, one node instead of two (Sequential's recording path).
Inputs arrive validated (fastnn.functional.linear).
"""
from .._kernels import elementwise as _ew
from .._kernels import linear as _kl
from .._kernels.gemm import matmul as _matmul
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
        x2 = x.reshape(-1, x.shape[-1])
        y = _kl.linear_fwd(x2, w, b, act)
        if y is not None:
            return y if x.ndim == 2 else y.reshape(x.shape[:-1] + (w.shape[0],))
        y = _matmul(x2, w, trans_b=True)
        if x.ndim != 2:
            y = y.reshape(x.shape[:-1] + (w.shape[0],))
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
    # chain_blocks(x, layers): the same for any number of rows, blocks of rows on the
    # pool (None where BLAS or the layers do not allow it)
    chain_blocks = staticmethod(_kl.linear_chain_blocks)

    @staticmethod
    def forward(ctx, x, w, b=None, act=_NONE):
        y = Linear.infer(x, w, b, act)
        # relu's backward masks from the output, as the ReLU op's does
        ctx.save_for_backward(x, w, y if act == _RELU else None)
        ctx.has_bias = b is not None
        return y

    @staticmethod
    def backward(ctx, g):
        x, w, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gw = gb = None
        if y is not None:
            if g.dtype != y.dtype:
                g = g.astype(y.dtype)
            both = None
            if ctx.has_bias and need[2] and y.ndim == 2:
                both = _kl.linear_relu_bwd(y, g)
            if both is None:
                g = _ew.relu_bwd(y, g)
            else:
                g, gb = both
        g2 = g.reshape(-1, g.shape[-1])
        if need[0]:
            gx = _matmul(g2, w).reshape(g.shape[:-1] + (w.shape[1],))
        if need[1]:
            # always BLAS (np.matmul would run a (n, 1) @ (1, k) outer product, a batch
            # of 1, as a naive loop several times slower)
            gw = _matmul(g2, x.reshape(-1, x.shape[-1]), trans_a=True)
        if ctx.has_bias and need[2] and gb is None:
            gb = g2.sum(axis=0)
        return gx, gw, gb
