"""Dropout Functions: forward writes the output and a uint8 keep mask in one pass;
backward is grad * (mask ? scale : 0) in one pass.

Every variant is out = x * (keep ? s : 0) + (keep ? c_kept : c_dropped):

* dropout:        s = 1/(1-p), offsets 0.
* alpha dropout:  torch's formula, with alpha' = 1.7580993408473766 (= SELU scale * alpha)
  and a = ((1 - p)(1 + p alpha'^2))^(-1/2): s = a, c_kept = alpha' a p,
  c_dropped = -alpha' a (1 - p); zero mean and unit variance are preserved.
* p = 1:          s = 0 and offsets 0 (zeros, as torch), whatever the variant.

Channel ("feature") variants draw one unit per row of x viewed as (units, -1).
"""
import math

from .._kernels import dropout as K
from .function import Function

__all__ = ["Dropout", "affine_constants", "ALPHA"]

ALPHA = 1.7580993408473766


def affine_constants(p, alpha):
    """(s, c_kept, c_dropped) of the variant (see the module docstring)."""
    if p == 1:
        return 0.0, 0.0, 0.0
    if not alpha:
        return 1.0 / (1.0 - p), 0.0, 0.0
    a = 1.0 / math.sqrt((ALPHA * ALPHA * p + 1) * (1 - p))
    return a, ALPHA * a * p, ALPHA * a * (p - 1)


class Dropout(Function):
    """All dropout variants.

    ``Dropout.apply(x, key=, p=, alpha=False, units=None, out=None)``: key from
    Generator.next_key(); units is None (one draw per element) or the number of
    channels (rows of x); out is None or x's own contiguous buffer (in-place calls).
    """

    @staticmethod
    def forward(ctx, x, key, p, alpha=False, units=None, out=None):
        keys = K.mask_keys(*key)
        thr = K.keep_threshold(p)
        s, c1, c0 = affine_constants(p, alpha)
        if units is None:
            y, mask = K.dropout_fwd(x, keys, thr, s, c1, c0, out=out)
        else:
            mask = K.dropout_mask(units, keys, thr)
            y = K.channel_apply(x, mask, s, c1, c0, out=out)
        ctx.mask, ctx.s, ctx.units = mask, s, units
        return y

    @staticmethod
    def backward(ctx, g):
        if ctx.units is None:
            return K.dropout_bwd(g, ctx.mask, ctx.s)
        return K.channel_apply(g, ctx.mask, ctx.s)
