"""Convolution, pooling and padding ops: forward and backward side by side.

Geometry (stride, padding, dilation, output size) arrives resolved from
fastnn/functional/conv.py; inputs here are always batched (N, C, H, W).
"""
import numpy as np

from .._kernels import conv as _k
from .function import Function

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "Pad"]


class Conv2d(Function):
    """y = conv(x, w) + b; geom = (sh, sw, ph, pw, dh, dw, oh, ow), ph/pw top/left padding.

    Backward: grad_w = sum over samples of g · colsᵀ, grad_x = col2im(wᵀ · g),
    grad_b = g summed over (N, H, W).
    """

    @staticmethod
    def forward(ctx, x, w, b=None, geom=None, groups=1):
        if w.dtype != x.dtype:       # the input's dtype wins (the engine casts grads back)
            w = w.astype(x.dtype)
        if b is not None and b.dtype != x.dtype:
            b = b.astype(x.dtype)
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(x, w)
            ctx.geom, ctx.groups, ctx.has_bias = geom, groups, b is not None
        return _k.conv2d_fwd(x, w, b, geom, groups)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx, gw, gb = _k.conv2d_bwd(x, w, g, ctx.geom, ctx.groups, need_x=need[0], need_w=need[1],
                                   need_b=ctx.has_bias and need[2])
        return gx, gw, gb


class MaxPool2d(Function):
    """y = window maximum; the gradient goes to the arg-max (first index on ties)."""

    @staticmethod
    def forward(ctx, x, geom=None, sink=None):
        y, idx = _k.max_pool2d_fwd(x, *geom)
        ctx.indices, ctx.in_shape = idx, x.shape
        if sink is not None:      # F.max_pool2d(return_indices=True) reads them here
            sink.append(idx)
        return y

    @staticmethod
    def backward(ctx, g):
        return _k.max_pool2d_bwd(g, ctx.indices, ctx.in_shape)


class AvgPool2d(Function):
    """y = window sum / divisor; each input in a window gets g / divisor."""

    @staticmethod
    def forward(ctx, x, geom=None, count_include_pad=True, divisor=0):
        ctx.geom, ctx.flags, ctx.in_shape = geom, (count_include_pad, divisor), x.shape
        return _k.avg_pool2d_fwd(x, *geom, count_include_pad, divisor)

    @staticmethod
    def backward(ctx, g):
        kh, kw, sh, sw, ph, pw, oh, ow = ctx.geom
        return _k.avg_pool2d_bwd(g, ctx.in_shape, kh, kw, sh, sw, ph, pw, *ctx.flags)


class Pad(Function):
    """Constant padding: y = value outside, x inside (negative widths crop);
    the gradient is g over the region x landed in."""

    @staticmethod
    def forward(ctx, x, widths=None, value=0.0):
        # widths: one (before, after) per axis of x
        src, dst, shape = [], [], []
        for n, (lo, hi) in zip(x.shape, widths):
            a, e = max(-lo, 0), n - max(-hi, 0)
            src.append(slice(a, e))
            dst.append(slice(max(lo, 0), max(lo, 0) + e - a))
            shape.append(n + lo + hi)
        y = np.full(shape, value, x.dtype)
        y[tuple(dst)] = x[tuple(src)]
        ctx.src, ctx.dst, ctx.in_shape = tuple(src), tuple(dst), x.shape
        return y

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(ctx.in_shape, g.dtype)
        gx[ctx.src] = g[ctx.dst]
        return gx
