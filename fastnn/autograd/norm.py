"""Normalisation and embedding ops: forward and backward side by side.

Arguments arrive validated from fastnn/functional/normalization.py and sparse.py;
weight and bias are cast to the input's dtype (the engine casts their gradients back).
"""
import numpy as np

from .._kernels import norm as _k
from .function import Function

__all__ = ["BatchNorm", "LayerNorm", "Embedding"]


def _cast(p, dt):
    return None if p is None else (p if p.dtype == dt else p.astype(dt))


class BatchNorm(Function):
    """y = (x - mean[c]) / sqrt(var[c] + eps) * w[c] + b[c] over (N, C, *) input.

    Training: batch statistics (biased variance), the running statistics updated in
    place: r = (1 - momentum) r + momentum s, with the unbiased variance unless
    ``unbiased_running_var=False``. Otherwise the running statistics normalise.

    Backward (training), with xhat = (x - mean) invstd and n values per channel:
        gx = w invstd (g - sum(g) / n - xhat sum(g xhat) / n)
        gw = sum(g xhat), gb = sum(g)
    and in eval gx = w invstd g (the statistics are constants).
    """

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, running_mean=None, running_var=None,
                training=True, momentum=0.1, eps=1e-5, unbiased_running_var=True):
        dt = x.dtype
        weight, bias = _cast(weight, dt), _cast(bias, dt)
        N, C = x.shape[:2]
        x3 = x.reshape(N, C, -1)
        if training:
            mean, var = _k.batch_norm_stats(x3)
            n = x3.shape[0] * x3.shape[2]
            # in float64, rounded once (as torch's CPU update)
            if running_mean is not None:
                running_mean[...] = momentum * mean + (1 - momentum) * running_mean.astype(np.float64)
            if running_var is not None:
                unbiased = var * n / (n - 1) if unbiased_running_var and n > 1 else var
                running_var[...] = momentum * unbiased + (1 - momentum) * running_var.astype(np.float64)
        else:
            mean = running_mean.astype(np.float64)
            var = running_var.astype(np.float64)
        invstd = 1.0 / np.sqrt(var + eps)
        a = invstd if weight is None else invstd * weight
        c = np.zeros(C) if bias is None else bias
        y = _k.batch_norm_affine(x3, mean, a, c)
        if getattr(ctx, "needs_input_grad", None):
            ctx.save_for_backward(x3, weight)
            ctx.mean, ctx.invstd, ctx.training = mean, invstd, training
            ctx.shape, ctx.has_bias = x.shape, bias is not None
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x3, weight = ctx.saved_tensors
        need = ctx.needs_input_grad
        need_w = weight is not None and need[1]
        need_b = ctx.has_bias and need[2]
        g3 = g.reshape(x3.shape)
        mean, invstd = ctx.mean, ctx.invstd
        C = x3.shape[1]
        n = x3.shape[0] * x3.shape[2]
        sum_g = sum_gd = None
        if ctx.training or need_w or need_b:
            sum_g, sum_gd = _k.batch_norm_bwd_sums(g3, x3, mean)
        gx = gw = gb = None
        if need[0]:
            w = np.ones(C) if weight is None else weight.astype(np.float64)
            a = w * invstd
            if ctx.training:
                b = -a * invstd * invstd * sum_gd / n
                c = -a * sum_g / n
            else:
                b = c = np.zeros(C)
            gx = _k.batch_norm_bwd_affine(g3, x3, mean, a, b, c).reshape(ctx.shape)
        dt = x3.dtype
        if need_w:
            gw = (sum_gd * invstd).astype(dt)
        if need_b:
            gb = sum_g.astype(dt)
        return gx, gw, gb


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b over the last ``nd`` dims of x.

    Backward, per row of D normalised values, xhat = (x - mean) rstd:
        gx = rstd (g w - mean(g w) - xhat mean(g w xhat)),
        gw = sum over rows of g xhat, gb = sum over rows of g.
    """

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, nd=1, eps=1e-5):
        dt = x.dtype
        weight, bias = _cast(weight, dt), _cast(bias, dt)
        D = int(np.prod(x.shape[x.ndim - nd:], dtype=np.int64))
        M = x.size // D if D else int(np.prod(x.shape[:x.ndim - nd], dtype=np.int64))
        x2 = x.reshape(M, D)
        w = None if weight is None else weight.reshape(D)
        b = None if bias is None else bias.reshape(D)
        y, mean, rstd = _k.layer_norm_fwd(x2, w, b, eps)
        if getattr(ctx, "needs_input_grad", None):
            ctx.save_for_backward(x2, w)
            ctx.mean, ctx.rstd, ctx.shape = mean, rstd, x.shape
            ctx.wshape, ctx.has_bias = None if weight is None else weight.shape, bias is not None
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x2, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        need_w = w is not None and need[1]
        need_b = ctx.has_bias and need[2]
        gx, gw, gb = _k.layer_norm_bwd(g.reshape(x2.shape), x2, w, ctx.mean, ctx.rstd,
                                       need_w, need_b)
        if gw is not None:
            gw = gw.reshape(ctx.wshape)
        if gb is not None:
            gb = gb.reshape(ctx.wshape if ctx.wshape is not None else gb.shape)
        return (gx.reshape(ctx.shape) if need[0] else None), gw, gb


class Embedding(Function):
    """y = weight[indices]; the gradient of each weight row is the sum of the output
    gradients of the positions that picked it (zero for ``padding_idx``; divided by
    the row's count in the batch with ``scale_grad_by_freq``)."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None, scale_grad_by_freq=False):
        if getattr(ctx, "needs_input_grad", None):
            ctx.indices, ctx.wshape, ctx.dtype = indices, weight.shape, weight.dtype
            ctx.padding_idx, ctx.scale = padding_idx, scale_grad_by_freq
        return np.take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, g):
        idx = ctx.indices.reshape(-1)
        V, D = ctx.wshape[0], int(np.prod(ctx.wshape[1:], dtype=np.int64))
        g2 = g.reshape(idx.size, D)
        if ctx.scale:
            counts = np.bincount(idx, minlength=V)
            g2 = g2 / counts[idx][:, None].astype(g2.dtype)
        gw = np.zeros((V, D), ctx.dtype)
        np.add.at(gw, idx, g2)
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw.reshape(ctx.wshape), None
