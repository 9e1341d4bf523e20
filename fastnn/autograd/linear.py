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
from .dropout import Dropout as _Dropout
from .function import Context, Function

__all__ = ["Linear", "LinearRun"]

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


class LinearRun(Function):
    """A run of Linear layers (each with a fused ReLU or none) and element dropouts,
    recorded as one op: Sequential's recording path for such a run. Each layer runs
    its own op's forward and backward (``Linear``, ``Dropout``) on arrays, in order,
    so the values, the gradients and the dropout keys drawn are those of the layers
    called one by one; the run just skips a graph node, a Tensor and an engine step
    per layer.

    ``LinearRun.apply(x, *params, run=run)``: ``params`` are the layers' weights
    and biases in order, of x's dtype; ``run`` is ``((op, arg), ...)`` with op
    LINEAR (arg: (activation code, has bias)) or DROPOUT (arg: (generator, p), a key
    drawn from the generator when the step runs). Inputs arrive validated
    (fastnn.functional.layers.linear_run).
    """

    LINEAR, DROPOUT = 0, 1

    @staticmethod
    def forward(ctx, x, *params, run):
        need = ctx.needs_input_grad
        steps = []
        want = need[0]         # does anything up to here need a gradient?
        i = 0
        for op, arg in run:
            if op == LinearRun.LINEAR:
                act, has_bias = arg
                w = params[i]
                b = params[i + 1] if has_bias else None
                nw = need[i + 1]
                nb = need[i + 2] if has_bias else False
                c = Context((want, nw, nb))
                x = Linear.forward(c, x, w, b, act)
                steps.append((c, i, has_bias))
                want = want or nw or nb
                i += 2 if has_bias else 1
            else:
                gen, p = arg
                c = Context((want,))
                x = _Dropout.forward(c, x, gen.next_key(), p)
                steps.append((c, -1, False))
        ctx.steps = steps
        return x

    @staticmethod
    def backward(ctx, g):
        grads = [None] * len(ctx.needs_input_grad)
        for c, i, has_bias in reversed(ctx.steps):
            if i < 0:
                g = _Dropout.backward(c, g)
            else:
                g, gw, gb = Linear.backward(c, g)
                grads[i + 1] = gw
                if has_bias:
                    grads[i + 2] = gb
            if g is None:       # nothing before this layer wants a gradient
                break
        grads[0] = g
        return tuple(grads)

