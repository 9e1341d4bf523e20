"""The Tensor's own ops (arithmetic, reductions, shape, indexing), each a Function:
forward and backward side by side. Gradients returned in broadcast shape are summed
back to each input's shape by the engine.

Backward functions never write into their incoming ``grad``: the engine may have
handed the same array to a leaf's ``.grad``.
"""
import numpy as np

from .function import Function

__all__ = ["Add", "Sub", "Mul", "Div", "Pow", "Neg", "MatMul", "Sum", "Mean", "Max",
           "Reshape", "Transpose", "GetItem", "Exp", "Log", "Sqrt", "Abs", "Clip", "Min",
           "ArgReduce", "Maximum", "Minimum", "Cast", "Clone", "Expand", "Cat", "Stack", "Where",
           "Sin", "Cos", "Gather", "Prod", "CumSum", "Norm", "Repeat",
           "Log1p", "Expm1", "Piecewise"]


def _shape(x):
    return np.shape(x)


def _mm(a, b):
    # np.dot for 2-D: np.matmul skips BLAS for (n, 1) @ (1, k) (a batch of 1) and
    # runs a naive loop several times slower
    return np.dot(a, b) if a.ndim == 2 and b.ndim == 2 else np.matmul(a, b)


class Add(Function):
    infer = staticmethod(np.add)     # no graph: the ufunc alone
    stateless = True

    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    infer = staticmethod(np.subtract)     # no graph: the ufunc alone
    stateless = True

    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, -g if ctx.needs_input_grad[1] else None


class Mul(Function):
    infer = staticmethod(np.multiply)     # no graph: the ufunc alone

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
    infer = staticmethod(np.divide)     # no graph: the ufunc alone

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
        ga = None
        if need[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                ga = g * b * np.power(a, b - 1)
            if np.any(np.equal(b, 0)):    # d/da a**0 is 0, also at a == 0 (torch)
                ga = np.where(np.equal(b, 0), np.zeros((), ga.dtype), ga)
        gb = None
        if need[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                # d/db a**b = a**b * log(a); torch gives 0 where a == 0 and b >= 0
                gb = g * np.where(a == 0, 0, y * np.log(np.where(a == 0, 1, a)))
        return ga, gb


class Neg(Function):
    infer = staticmethod(np.negative)     # no graph: the ufunc alone
    stateless = True

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
        # the ufunc directly: np.sum's Python dispatch costs more than a small sum;
        # integer and bool sums are int64, as torch's
        if a.dtype.kind in "biu":
            return np.asarray(np.add.reduce(a, axis=axis, keepdims=keepdims, dtype=np.int64))
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


class Min(Function):
    """amin: the minimum over ``axis``; ties share the gradient equally (torch's amin)."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        out = np.min(a, axis=axis, keepdims=True)
        ctx.save_for_backward(a, out)
        ctx.axis, ctx.keepdims = axis, keepdims
        return np.asarray(out if keepdims else np.min(a, axis=axis))

    backward = Max.backward


class ArgReduce(Function):
    """max(dim)/min(dim) values: the element at the arg-max (arg-min) along ``dim``
    (the first one on ties, NaN counting as the largest); its gradient goes to that
    element alone. The int64 indices are appended to ``sink``."""

    @staticmethod
    def forward(ctx, a, dim=0, keepdim=False, largest=True, sink=None):
        if a.ndim == 0:
            idx = np.zeros((), np.int64)
            values = np.array(a)
        else:
            pick = np.argmax if largest else np.argmin      # both stop at a NaN, as torch
            idx = np.expand_dims(pick(a, axis=dim), dim).astype(np.int64)
            values = np.take_along_axis(a, idx, axis=dim)
            if not keepdim:
                values, idx = values.squeeze(dim), idx.squeeze(dim)
        if any(getattr(ctx, "needs_input_grad", ())):
            ctx.idx, ctx.shape, ctx.dim, ctx.keepdim = idx, a.shape, dim, keepdim
        if sink is not None:
            sink.append(idx)
        return values

    @staticmethod
    def backward(ctx, g):
        if not ctx.shape:
            return np.array(g)
        idx, g = ctx.idx, np.asarray(g)
        if not ctx.keepdim:
            idx, g = np.expand_dims(idx, ctx.dim), np.expand_dims(g, ctx.dim)
        out = np.zeros(ctx.shape, g.dtype)
        np.put_along_axis(out, idx, g, axis=ctx.dim)
        return out


class Maximum(Function):
    """Elementwise max(a, b); at ties each side gets half the gradient (torch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        w = (a > b) + 0.5 * (a == b)
        need = ctx.needs_input_grad
        return (g * w if need[0] else None), (g * (1 - w) if need[1] else None)


class Minimum(Function):
    """Elementwise min(a, b); at ties each side gets half the gradient (torch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        w = (a < b) + 0.5 * (a == b)
        need = ctx.needs_input_grad
        return (g * w if need[0] else None), (g * (1 - w) if need[1] else None)


class Cast(Function):
    """The values in another float dtype; the gradient is cast back by the engine."""

    @staticmethod
    def forward(ctx, a, dtype=None):
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g


class Clone(Function):
    """A copy (C-contiguous) that stays in the graph."""

    @staticmethod
    def forward(ctx, a):
        return np.array(a, copy=True, order="C")

    @staticmethod
    def backward(ctx, g):
        return g


class Expand(Function):
    """A broadcast view to ``shape``; the engine sums the gradient back to the input's shape."""

    @staticmethod
    def forward(ctx, a, shape=None):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return g


class Cat(Function):
    """Concatenation along ``dim``; each input gets its slice of the gradient."""

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.sizes, ctx.dim = [a.shape[dim] for a in arrays], dim
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        cuts = np.cumsum(ctx.sizes)[:-1]
        return tuple(np.split(g, cuts, axis=ctx.dim))


class Stack(Function):
    """Stacking along a new axis ``dim``; each input gets its slice of the gradient."""

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.n, ctx.dim = len(arrays), dim
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return tuple(np.take(g, i, axis=ctx.dim) for i in range(ctx.n))


class Where(Function):
    """where(cond, a, b); the gradient goes to a where cond holds and to b elsewhere."""

    @staticmethod
    def forward(ctx, a, b, cond=None):
        ctx.cond = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        need, c = ctx.needs_input_grad, ctx.cond
        zero = np.zeros((), g.dtype)
        return (np.where(c, g, zero) if need[0] else None), (np.where(c, zero, g) if need[1] else None)


class Sin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * np.cos(a)


class Cos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return -g * np.sin(a)


def _along(index, dim):
    """The full index tuple picking ``index`` (an int array) along ``dim``: every other
    dimension runs over index's own extent, as torch's gather/scatter."""
    grid = list(np.ogrid[tuple(slice(0, n) for n in index.shape)])
    grid[dim] = index
    return tuple(grid)


class Gather(Function):
    """out[i][j][k] = a[i][index[i][j][k]][k] for dim 1 (torch's gather); the gradient
    is scattered back and repeated indices accumulate."""

    @staticmethod
    def forward(ctx, a, index=None, dim=0):
        where = _along(index, dim)
        ctx.shape, ctx.where = a.shape, where
        return np.asarray(a[where])

    @staticmethod
    def backward(ctx, g):
        out = np.zeros(ctx.shape, np.asarray(g).dtype)
        np.add.at(out, ctx.where, g)
        return out


class Prod(Function):
    """Product over ``axis`` (all when None); integer and bool products are int64, as
    torch's. The gradient is the product of the other elements (exclusive cumulative
    products from both sides, so zeros need no division)."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        if a.dtype.kind in "biu":
            return np.asarray(np.prod(a, axis=axis, keepdims=keepdims, dtype=np.int64))
        ctx.save_for_backward(a)
        ctx.axis, ctx.keepdims = axis, keepdims
        return np.asarray(np.prod(a, axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        if ctx.axis is None:
            flat = a.reshape(-1)
            return (_others(flat, 0) * np.asarray(g)).reshape(a.shape)
        g = _expand_back(np.asarray(g), a.shape, ctx.axis, ctx.keepdims)
        return _others(a, ctx.axis) * g


def _others(a, axis):
    """Product of all elements along ``axis`` except each one itself."""
    a = np.moveaxis(a, axis, -1)
    ones = np.ones(a.shape[:-1] + (1,), a.dtype)
    left = np.cumprod(np.concatenate([ones, a[..., :-1]], -1), -1)
    right = np.cumprod(np.concatenate([ones, a[..., :0:-1]], -1), -1)[..., ::-1]
    return np.moveaxis(left * right, -1, axis)


class CumSum(Function):
    """Running sum along ``dim``; integer and bool inputs give int64, as torch's."""

    @staticmethod
    def forward(ctx, a, dim=0):
        ctx.dim = dim
        if a.ndim == 0:
            return np.array(a, np.int64 if a.dtype.kind in "biu" else a.dtype)
        if a.dtype.kind in "biu":
            return np.cumsum(a, axis=dim, dtype=np.int64)
        return np.cumsum(a, axis=dim)

    @staticmethod
    def backward(ctx, g):
        g = np.asarray(g)
        if g.ndim == 0:
            return np.array(g)
        d = ctx.dim
        return np.flip(np.cumsum(np.flip(g, d), axis=d), d)


class Norm(Function):
    """Vector p-norm over ``axis`` (all when None): (Σ|x|^p)^(1/p), max|x| for p=inf,
    min|x| for p=-inf, the count of non-zeros for p=0. At a zero norm the gradient is
    0 (torch's subgradient), never NaN."""

    @staticmethod
    def forward(ctx, a, p=2.0, axis=None, keepdims=False):
        x = np.abs(a)
        if p == np.inf:
            y = np.max(x, axis=axis, keepdims=True)
        elif p == -np.inf:
            y = np.min(x, axis=axis, keepdims=True)
        elif p == 0:
            y = np.sum(x != 0, axis=axis, keepdims=True).astype(a.dtype)
        elif p == 1:
            y = np.sum(x, axis=axis, keepdims=True)
        elif p == 2:
            y = np.sqrt(np.sum(a * a, axis=axis, keepdims=True))
        else:
            y = np.sum(x ** p, axis=axis, keepdims=True) ** (1.0 / p)
        y = np.asarray(y, a.dtype)
        ctx.save_for_backward(a, y)
        ctx.p, ctx.axis, ctx.keepdims = p, axis, keepdims
        if keepdims:
            return y
        return np.asarray(y.reshape(()) if axis is None else np.squeeze(y, axis))

    @staticmethod
    def backward(ctx, g):
        a, y = ctx.saved_tensors
        p = ctx.p
        g = np.asarray(g)
        g = g.reshape((1,) * a.ndim) if ctx.axis is None and not ctx.keepdims else \
            _expand_back(g, a.shape, ctx.axis, ctx.keepdims)
        if p == 0:
            return np.zeros(a.shape, a.dtype)
        if p in (np.inf, -np.inf):
            hit = np.abs(a) == y
            share = hit / np.maximum(np.sum(hit, axis=ctx.axis, keepdims=True), 1)
            return np.sign(a) * share * g
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 1:
                return np.sign(a) * g
            if p == 2:
                d = a / y
            else:
                d = np.sign(a) * np.abs(a) ** (p - 1) / y ** (p - 1)
        return np.where(y == 0, 0, d) * g


class Repeat(Function):
    """torch's repeat: the tensor tiled ``reps`` times along each dimension (leading
    new dimensions when ``reps`` is longer than the rank); the gradient sums the tiles."""

    @staticmethod
    def forward(ctx, a, reps=()):
        ctx.orig = a.shape
        a = a.reshape((1,) * (len(reps) - a.ndim) + a.shape)
        ctx.shape, ctx.reps = a.shape, reps
        return np.tile(a, reps)

    @staticmethod
    def backward(ctx, g):
        inter = []
        for r, s in zip(ctx.reps, ctx.shape):
            inter += [r, s]
        g = np.asarray(g).reshape(inter)
        return g.sum(axis=tuple(range(0, 2 * len(ctx.reps), 2))).reshape(ctx.orig)


class Log1p(Function):
    """log(1 + x), accurate for small x."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log1p(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (1 + a)


class Expm1(Function):
    """exp(x) - 1, accurate for small x."""

    @staticmethod
    def forward(ctx, a):
        y = np.expm1(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y + 1)


class Piecewise(Function):
    """A piecewise-constant map (sign, floor, ceil, round, trunc): zero gradient, as torch."""

    @staticmethod
    def forward(ctx, a, ufunc=None):
        ctx.shape, ctx.dtype = a.shape, a.dtype
        return np.asarray(ufunc(a))

    @staticmethod
    def backward(ctx, g):
        return np.zeros(ctx.shape, ctx.dtype)
