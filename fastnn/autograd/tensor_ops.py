"""The Tensor's own ops (arithmetic, reductions, shape, indexing), each a Function:
forward and backward side by side. Gradients returned in broadcast shape are summed
back to each input's shape by the engine.

Backward functions never write into their incoming ``grad``: the engine may have
handed the same array to a leaf's ``.grad``.
"""
import numpy as np

from .function import Function

__all__ = ["Add", "Sub", "Mul", "Div", "Pow", "Neg", "MatMul", "Sum", "Mean", "Max",
           "Reshape", "Transpose", "GetItem", "Exp", "Log", "Sqrt", "Abs", "Clip"]


def _shape(x):
    return np.shape(x)


def _mm(a, b):
    # np.dot for 2-D: np.matmul skips BLAS for (n, 1) @ (1, k) (a batch of 1) and
    # runs a naive loop several times slower
    return np.dot(a, b) if a.ndim == 2 and b.ndim == 2 else np.matmul(a, b)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, -g if ctx.needs_input_grad[1] else None


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (g * b if need[0] else None), (g * a if need[1] else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.divide(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        ga = g / b if need[0] else None
        gb = -g * a / (b * b) if need[1] else None
        return ga, gb


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        y = np.power(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        ga = g * b * np.power(a, b - 1) if need[0] else None
        gb = None
        if need[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                # d/db a**b = a**b * log(a); torch gives 0 where a == 0 and b >= 0
                gb = g * np.where(a == 0, 0, y * np.log(np.where(a == 0, 1, a)))
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, g):
        return -g


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:           # dot product
            return (g * b if need[0] else None), (g * a if need[1] else None)
        if a.ndim == 1:                            # (k,) @ (..., k, n)
            if need[0]:
                ga = np.matmul(b, g[..., None])[..., 0]
            if need[1]:
                gb = a[:, None] * g[..., None, :]
            return ga, gb
        if b.ndim == 1:                            # (..., m, k) @ (k,)
            if need[0]:
                ga = g[..., None] * b
            if need[1]:
                gb = np.matmul(np.swapaxes(a, -1, -2), g[..., None])[..., 0]
            return ga, gb
        if need[0]:
            ga = _mm(g, np.swapaxes(b, -1, -2))
        if need[1]:
            gb = _mm(np.swapaxes(a, -1, -2), g)
        return ga, gb


def _norm_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim if ndim else a for a in axis)


def _expand_back(g, shape, axis, keepdims):
    """Broadcastable view of a reduction's grad against the input shape."""
    if axis is None and not keepdims:
        return g.reshape((1,) * len(shape))
    if not keepdims:
        for a in sorted(_norm_axis(axis, len(shape))):
            g = np.expand_dims(g, a)
    return g


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        # the ufunc directly: np.sum's Python dispatch costs more than a small sum
        return np.asarray(np.add.reduce(a, axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx, g):
        g = _expand_back(g, ctx.shape, ctx.axis, ctx.keepdims)
        return np.broadcast_to(g, ctx.shape)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        out = np.mean(a, axis=axis, keepdims=keepdims)
        ctx.count = a.size // max(np.size(out), 1) if a.size else 0
        return np.asarray(out, dtype=a.dtype)

    @staticmethod
    def backward(ctx, g):
        g = _expand_back(g, ctx.shape, ctx.axis, ctx.keepdims)
        return np.broadcast_to(g / max(ctx.count, 1), ctx.shape)


class Max(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        out = np.max(a, axis=axis, keepdims=True)
        ctx.save_for_backward(a, out)
        ctx.axis, ctx.keepdims = axis, keepdims
        return np.asarray(out if keepdims else np.max(a, axis=axis))

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        # ties share the gradient equally, as torch's amax does
        mask = (a == out)
        count = mask.sum(axis=ctx.axis, keepdims=True)
        g = _expand_back(g, a.shape, ctx.axis, ctx.keepdims)
        return mask * (g / count)


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Transpose(Function):
    @staticmethod
    def forward(ctx, a, axes=None):
        ctx.axes = axes
        return np.transpose(a, axes)

    @staticmethod
    def backward(ctx, g):
        if ctx.axes is None:
            return np.transpose(g)
        return np.transpose(g, np.argsort(ctx.axes))


class GetItem(Function):
    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        return np.asarray(a[index])

    @staticmethod
    def backward(ctx, g):
        out = np.zeros(ctx.shape, ctx.dtype)
        np.add.at(out, ctx.index, g)   # repeated indices accumulate
        return out


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        y = np.exp(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * y


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g / a


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        y = np.sqrt(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g / (2 * y)


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * np.sign(a)


class Clip(Function):
    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        ctx.save_for_backward(a)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(a, lo, hi)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        keep = np.ones(a.shape, bool)
        if ctx.lo is not None:
            keep &= a >= ctx.lo
        if ctx.hi is not None:
            keep &= a <= ctx.hi
        return g * keep
