"""Activation Functions: forward and backward side by side, each a call into the
kernel layer (fastnn._kernels.elementwise / .activations).

What backward keeps (the smaller of input/output, or what the derivative needs):
  output y:  relu, leaky_relu (slope >= 0), hardtanh/relu6, elu/selu/celu (alpha >= 0),
             sigmoid, tanh, softmax, log_softmax — these also work in place.
  input x:   gelu, silu, softplus, prelu, srelu, crelu; leaky_relu/elu otherwise.
  other:     rrelu (training) keeps its slopes, maxout the int32 argmax of each group.

A plain pointwise activation (a ``name_fwd``/``name_bwd`` kernel pair, no in-place
form) needs no class here: ``pointwise("name")`` builds its Function from the pair.
The classes below are written out where an op has more: in-place buffers, a choice
of kernels, what to save depending on a parameter, or parameters that take gradients.

In-place forwards write into the input's buffer and return it; whatever backward
needs from the old input is copied before it is overwritten. Backward never writes
into its incoming grad. ``infer`` (no graph) is the forward without the saving.
"""
import numpy as np

from .._kernels import activations as KA
from .._kernels import elementwise as KE
from .function import Function

__all__ = ["pointwise", "ReLU", "LeakyReLU", "Hardtanh", "ELU", "GELU", "SiLU", "Softplus",
           "Sigmoid", "Tanh", "RReLU", "Softmax", "LogSoftmax", "PReLU", "SReLU", "CReLU",
           "Maxout"]


def _target(x, inplace):
    """``out=`` for a kernel: x itself when it can be written in place."""
    if inplace and x.flags.c_contiguous and x.flags.writeable:
        return x
    return None


def _settle(x, y, inplace):
    """Finish an in-place op whose kernel could not write into x directly."""
    if inplace and y is not x:
        np.copyto(x, y)
        return x
    return y


def _keep_input(ctx, x, inplace):
    """x for backward: a copy when an in-place forward is about to overwrite it."""
    return x.copy() if inplace and any(ctx.needs_input_grad) else x


def _g(g, like):
    return g if g.dtype == like.dtype else g.astype(like.dtype)


_POINTWISE = {}


def pointwise(name, saves="input"):
    """The Function of the pointwise activation whose kernels are ``name_fwd`` and
    ``name_bwd`` (rows of csrc/elementwise.h): built once per (name, saves), then the
    same class.

    ``apply(x, *params)`` runs ``name_fwd(x, *params)``; backward runs
    ``name_bwd(u, grad, *params)`` with u the input (``saves="input"``) or the output
    (``saves="output"``), whichever the backward row reads. ``params`` are the
    kernels' a, b, c (floats, no gradient).

    The public op keeps its Function in a module attribute (``_Name =
    A.pointwise("name")`` beside the op), built at import: that is how
    tests/test_ops.py::test_every_fastnn_function_is_gradchecked finds it and asks
    for its gradchecked op-table row, as for a hand-written Function.

    >>> import fastnn as fn
    >>> from fastnn.autograd.activations import pointwise
    >>> x = fn.tensor([-1.0, 2.0], requires_grad=True)
    >>> pointwise("silu").apply(x).sum().backward()
    >>> x.grad.round(4)
    array([0.0723, 1.0908], dtype=float32)
    """
    key = (name, saves)
    cls = _POINTWISE.get(key)
    if cls is not None:
        return cls
    if saves not in ("input", "output"):
        raise ValueError(f"pointwise: saves must be 'input' or 'output', got {saves!r}.")
    fwd, bwd = getattr(KE, name + "_fwd"), getattr(KE, name + "_bwd")
    keep_output = saves == "output"

    def forward(ctx, x, *params):
        if params:      # a call without *args is the cheaper call (the common one)
            y = fwd(x, *params)
            ctx.params = params
        else:
            y = fwd(x)
        ctx.saved_tensors = (y,) if keep_output else (x,)
        return y

    def backward(ctx, g):
        u, = ctx.saved_tensors
        params = ctx.__dict__.get("params")
        if params is None:
            return bwd(u, _g(g, u))
        return (bwd(u, _g(g, u), *params),) + (None,) * len(params)

    # pickle finds a class by module and qualified name: ``pointwise.<attr>`` (a graph
    # pickles its Functions, as those of a hand-written class)
    attr = name if saves == "input" else name + "_from_output"
    cls = type(name.title().replace("_", ""), (Function,), {
        "__doc__": f"{name}: kernels {name}_fwd / {name}_bwd, backward from the {saves}.",
        "__module__": __name__, "__qualname__": f"pointwise.{attr}",
        "forward": staticmethod(forward), "backward": staticmethod(backward),
        "infer": staticmethod(fwd), "kernels": (name + "_fwd", name + "_bwd"), "saves": saves})
    setattr(pointwise, attr, cls)
    _POINTWISE[key] = cls
    return cls


class ReLU(Function):
    @staticmethod
    def infer(x, inplace=False):
        if not inplace:
            return KE.relu_fwd(x)
        return _settle(x, KE.relu_fwd(x, out=_target(x, inplace)), inplace)

    @staticmethod
    def forward(ctx, x, inplace=False):
        y = KE.relu_fwd(x) if not inplace else ReLU.infer(x, inplace)
        ctx.saved_tensors = (y,)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return KE.relu_bwd(y, _g(g, y))


class LeakyReLU(Function):
    @staticmethod
    def infer(x, negative_slope=0.01, inplace=False):
        return _settle(x, KE.leaky_relu_fwd(x, negative_slope, out=_target(x, inplace)), inplace)

    @staticmethod
    def forward(ctx, x, negative_slope=0.01, inplace=False):
        ctx.slope = negative_slope
        keep_x = negative_slope < 0   # then the sign of y does not tell the sign of x
        saved = _keep_input(ctx, x, inplace) if keep_x else None
        y = _settle(x, KE.leaky_relu_fwd(x, negative_slope, out=_target(x, inplace)), inplace)
        ctx.save_for_backward(saved if keep_x else y)
        return y

    @staticmethod
    def backward(ctx, g):
        u, = ctx.saved_tensors
        return KE.leaky_relu_bwd(u, _g(g, u), ctx.slope)


class Hardtanh(Function):
    """Clamp to [min_val, max_val]; relu6 is Hardtanh(0, 6). Gradient 0 at the bounds."""

    @staticmethod
    def infer(x, min_val=-1.0, max_val=1.0, inplace=False):
        return _settle(x, KE.hardtanh_fwd(x, min_val, max_val, out=_target(x, inplace)), inplace)

    @staticmethod
    def forward(ctx, x, min_val=-1.0, max_val=1.0, inplace=False):
        ctx.lo, ctx.hi = min_val, max_val
        y = Hardtanh.infer(x, min_val, max_val, inplace)
        ctx.save_for_backward(y)   # y <= lo iff x <= lo, y >= hi iff x >= hi
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return KE.hardtanh_bwd(y, _g(g, y), ctx.lo, ctx.hi)


class ELU(Function):
    """scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1)): elu, selu, celu."""

    @staticmethod
    def infer(x, alpha=1.0, scale=1.0, input_scale=1.0, inplace=False):
        return _settle(x, KE.elu_fwd(x, alpha, scale, input_scale, out=_target(x, inplace)), inplace)

    @staticmethod
    def forward(ctx, x, alpha=1.0, scale=1.0, input_scale=1.0, inplace=False):
        ctx.params = (alpha, scale, input_scale)
        ctx.from_y = alpha >= 0
        saved = None if ctx.from_y else _keep_input(ctx, x, inplace)
        y = _settle(x, KE.elu_fwd(x, alpha, scale, input_scale, out=_target(x, inplace)), inplace)
        ctx.save_for_backward(y if ctx.from_y else saved)
        return y

    @staticmethod
    def backward(ctx, g):
        u, = ctx.saved_tensors
        k = KE.elu_bwd if ctx.from_y else KE.elu_bwd_x
        return k(u, _g(g, u), *ctx.params)


class GELU(Function):
    @staticmethod
    def infer(x, approximate="none"):
        return (KE.gelu_tanh_fwd if approximate == "tanh" else KE.gelu_fwd)(x)

    @staticmethod
    def forward(ctx, x, approximate="none"):
        ctx.tanh = approximate == "tanh"
        ctx.save_for_backward(x)
        return (KE.gelu_tanh_fwd if ctx.tanh else KE.gelu_fwd)(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return (KE.gelu_tanh_bwd if ctx.tanh else KE.gelu_bwd)(x, _g(g, x))


class SiLU(Function):
    @staticmethod
    def infer(x, inplace=False):
        return _settle(x, KE.silu_fwd(x, out=_target(x, inplace)), inplace)

    @staticmethod
    def forward(ctx, x, inplace=False):
        ctx.save_for_backward(_keep_input(ctx, x, inplace))
        return _settle(x, KE.silu_fwd(x, out=_target(x, inplace)), inplace)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return KE.silu_bwd(x, _g(g, x))


class Softplus(Function):
    @staticmethod
    def infer(x, beta=1.0, threshold=20.0):
        return KE.softplus_fwd(x, beta, threshold)

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        ctx.params = (beta, threshold)
        ctx.save_for_backward(x)
        return KE.softplus_fwd(x, beta, threshold)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return KE.softplus_bwd(x, _g(g, x), *ctx.params)


Sigmoid = pointwise("sigmoid", saves="output")
Tanh = pointwise("tanh", saves="output")


class RReLU(Function):
    """Training-mode rrelu: x if x > 0 else r * x with r ~ U(lower, upper) per element.

    ``slopes`` (drawn by the caller) becomes the noise backward multiplies by.
    """

    @staticmethod
    def forward(ctx, x, slopes, inplace=False):
        x = KE.contiguous(x) if not inplace else x
        noise = KE.rrelu_noise(x, slopes, out=slopes)   # r where x <= 0, else 1
        ctx.save_for_backward(noise)
        return _settle(x, KE.mul(x, noise, out=_target(x, inplace)), inplace)

    @staticmethod
    def backward(ctx, g):
        noise, = ctx.saved_tensors
        return KE.mul(noise, _g(g, noise)), None


class Softmax(Function):
    """softmax along dim; LogSoftmax is the same op with the log kernels. Both save y."""
    kernels = (KA.softmax_fwd, KA.softmax_bwd)

    @classmethod
    def infer(cls, x, dim=-1):
        return cls.kernels[0](x, dim)

    @classmethod
    def forward(cls, ctx, x, dim=-1):
        y = cls.kernels[0](x, dim)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @classmethod
    def backward(cls, ctx, g):
        y, = ctx.saved_tensors
        return cls.kernels[1](y, _g(g, y), ctx.dim)


class LogSoftmax(Softmax):
    kernels = (KA.log_softmax_fwd, KA.log_softmax_bwd)


class PReLU(Function):
    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        return KA.prelu_fwd(x, weight)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx, gw = KA.prelu_bwd(x, w, _g(g, x))
        need = ctx.needs_input_grad
        return (gx if need[0] else None), (gw if need[1] else None)


class SReLU(Function):
    @staticmethod
    def forward(ctx, x, t_left, a_left, t_right, a_right):
        ctx.save_for_backward(x, t_left, a_left, t_right, a_right)
        return KA.srelu_fwd(x, t_left, a_left, t_right, a_right)

    @staticmethod
    def backward(ctx, g):
        x, *params = ctx.saved_tensors
        grads = KA.srelu_bwd(x, *params, _g(g, x))
        return tuple(gi if need else None for gi, need in zip(grads, ctx.needs_input_grad))


class CReLU(Function):
    @staticmethod
    def forward(ctx, x, dim=1):
        ctx.dim = dim
        ctx.save_for_backward(x)
        return KA.crelu_fwd(x, dim)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return KA.crelu_bwd(x, _g(g, x), ctx.dim)


class Maxout(Function):
    @staticmethod
    def forward(ctx, x, pool_size, dim=-1):
        y, idx = KA.maxout_fwd(x, pool_size, dim)
        ctx.shape, ctx.pool_size, ctx.dim = x.shape, pool_size, dim
        ctx.save_for_backward(idx)
        return y

    @staticmethod
    def backward(ctx, g):
        idx, = ctx.saved_tensors
        return KA.maxout_bwd(idx, g, ctx.shape, ctx.pool_size, ctx.dim)
