"""Convolution, pooling and padding (same as torch.nn.functional; NCHW).

Every function takes batched (N, C, H, W) or unbatched (C, H, W) input, as torch does,
and validates its arguments here: the ops below (fastnn/autograd/conv.py) and the
kernels trust them.
"""
from .. import _checks
from ..autograd.conv import AvgPool2d as _AvgPool2d
from ..autograd.conv import Conv2d as _Conv2d
from ..autograd.conv import MaxPool2d as _MaxPool2d
from ..autograd.conv import Pad as _Pad
from ..tensor import Tensor

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "pad"]


def _float_input(x, where, ranks=(3, 4)):
    """(x as a float Tensor the kernels take, back) after the rank check."""
    x, back = _checks.float_input(where, "input", x)
    if x.ndim not in ranks:
        raise ValueError(f"{where}: expected 3-D (C, H, W) unbatched or 4-D (N, C, H, W) "
                         f"batched input, got shape {x.shape}.")
    return x, back


def _batched(x):
    """(x as 4-D, whether it was unbatched)."""
    if x.ndim == 3:
        return x.reshape((1,) + x.shape), True
    return x, False


def _unbatch(y, unbatched):
    return y.reshape(y.shape[1:]) if unbatched else y


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation, as torch:
    y[n, o, r, q] = Σ_c,i,j x_pad[n, c, s·r + d·i, s·q + d·j] w[o, c, i, j] + b[o].

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_out, C_in / groups, kh, kw). bias: (C_out,) or None.
        stride, dilation: int or (h, w) pair, positive.
        padding: int or (h, w) pair of zeros on both sides, or 'valid' (none) or 'same'
            (output size = input size; stride 1 only; an odd total pads one more at the end).
        groups: split the channels into this many independent convolutions.

    Returns:
        Tensor (N, C_out, H_out, W_out) with H_out = (H + 2p - d(kh - 1) - 1) // s + 1;
        dtype of the input (weight and bias are cast to it).

    Raises:
        ValueError: for ranks, channel counts, bias size, non-positive stride, dilation
            or groups, negative padding, 'same' with stride > 1, or a kernel larger
            than the padded input. TypeError: for non-float input or non-int sizes.

    >>> import numpy as np, fastnn.functional as F
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    >>> F.conv2d(x, np.ones((1, 1, 2, 2), np.float32), stride=2).numpy()
    array([[[[10., 18.],
             [42., 50.]]]], dtype=float32)
    """
    where = "conv2d"
    x, back = _float_input(input, where)
    w = _checks.tensor(where, "weight", weight)
    b = None if bias is None else _checks.tensor(where, "bias", bias)
    if w.ndim != 4:
        raise ValueError(f"{where}: weight must be 4-D (out_channels, in_channels / groups, kh, kw), "
                         f"got shape {w.shape}.")
    w = _checks.float_param(where, "weight", w, x.data.dtype)
    b = None if b is None else _checks.float_param(where, "bias", b, x.data.dtype)
    groups = _checks.positive_int(where, "groups", groups)
    O, Cg, kh, kw = w.shape
    C = x.shape[-3]
    if O % groups:
        raise ValueError(f"{where}: out_channels (weight.shape[0] = {O}) must be divisible by "
                         f"groups = {groups}.")
    if C != Cg * groups:
        raise ValueError(f"{where}: weight of shape {w.shape} with groups={groups} expects input with "
                         f"{Cg * groups} channels (dim {x.ndim - 3}), got input of shape {x.shape}.")
    if b is not None and b.shape != (O,):
        raise ValueError(f"{where}: bias must have shape ({O},) to match weight {w.shape}, got {b.shape}.")
    sh, sw = _checks.pair(where, "stride", stride)
    dh, dw = _checks.pair(where, "dilation", dilation)
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise ValueError(f"{where}: padding='same' is not supported for strided convolutions "
                                 f"(got stride={stride!r}); use stride=1 or explicit padding.")
            th, tw = dh * (kh - 1), dw * (kw - 1)
            pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        else:
            raise ValueError(f"{where}: padding must be an int, a pair of ints, 'valid' or 'same', "
                             f"got {padding!r}.")
    else:
        ph, pw = _checks.pair(where, "padding", padding, low=0)
        pads = (ph, ph, pw, pw)
    H, W = x.shape[-2:]
    Hp, Wp = H + pads[0] + pads[1], W + pads[2] + pads[3]
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if eh > Hp or ew > Wp:
        raise ValueError(f"{where}: the padded input is {Hp}x{Wp} but the (dilated) kernel is "
                         f"{eh}x{ew}; the kernel can't be larger than the padded input.")
    geom = (sh, sw, pads[0], pads[2], dh, dw, (Hp - eh) // sh + 1, (Wp - ew) // sw + 1)
    x, unbatched = _batched(x)
    return back(_unbatch(_Conv2d.apply(x, w, b, geom=geom, groups=groups), unbatched))


def _pool_out(n, k, s, p, d, ceil_mode):
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1   # the last window must start inside the input or its left padding
    return out


def _pool_geom(x, kernel_size, stride, padding, dilation, ceil_mode, where):
    kh, kw = _checks.pair(where, "kernel_size", kernel_size)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        sh, sw = kh, kw
    else:
        sh, sw = _checks.pair(where, "stride", stride)
    ph, pw = _checks.pair(where, "padding", padding, low=0)
    dh, dw = _checks.pair(where, "dilation", dilation)
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"{where}: pad should be at most half of kernel size, got padding=({ph}, {pw}) "
                         f"for kernel_size=({kh}, {kw}).")
    H, W = x.shape[-2:]
    oh = _pool_out(H, kh, sh, ph, dh, ceil_mode)
    ow = _pool_out(W, kw, sw, pw, dw, ceil_mode)
    if oh < 1 or ow < 1:
        raise ValueError(f"{where}: input of shape {x.shape} gives an output of {oh}x{ow} for "
                         f"kernel_size=({kh}, {kw}), stride=({sh}, {sw}), padding=({ph}, {pw}), "
                         f"dilation=({dh}, {dw}); the output size is too small.")
    return kh, kw, sh, sw, ph, pw, dh, dw, oh, ow


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling, as torch: the maximum of each (dilated) window; padding counts as -inf.

    A NaN in a window makes that output NaN. The gradient goes to the window's maximum
    (its first occurrence on ties).

    Args:
        input: (N, C, H, W) or (C, H, W). kernel_size: int or pair.
        stride: int or pair (default: kernel_size). padding: at most half the kernel size.
        dilation: spacing of the window's taps. ceil_mode: round the output size up.
        return_indices: also return the int64 flat index (in each H*W plane) of each maximum.

    Returns:
        Tensor (N, C, H_out, W_out), or (Tensor, int64 indices Tensor) with return_indices.

    Raises:
        ValueError: bad sizes, padding over half the kernel, or an empty output.

    >>> import numpy as np, fastnn.functional as F
    >>> F.max_pool2d(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4), 2).numpy()
    array([[[[ 5.,  7.],
             [13., 15.]]]], dtype=float32)
    """
    where = "max_pool2d"
    x, back = _float_input(input, where)
    kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = _pool_geom(x, kernel_size, stride, padding, dilation,
                                                        ceil_mode, where)
    x, unbatched = _batched(x)
    sink = [] if return_indices else None
    y = _MaxPool2d.apply(x, geom=(kh, kw, sh, sw, ph, pw, dh, dw, oh, ow), sink=sink)
    y = back(_unbatch(y, unbatched))
    if return_indices:
        idx = sink[0]
        return y, Tensor(idx[0] if unbatched else idx)
    return y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling, as torch: window sum / divisor.

    The divisor is ``divisor_override`` when given, else the window's size counting the
    zero padding (``count_include_pad=True``; windows that ceil_mode adds past the padded
    edge are not counted) or counting only the input's elements.

    Args:
        input: (N, C, H, W) or (C, H, W). kernel_size: int or pair.
        stride: int or pair (default: kernel_size). padding: at most half the kernel size.
        ceil_mode: round the output size up. count_include_pad: see above.
        divisor_override: a non-zero int, or None.

    Returns:
        Tensor (N, C, H_out, W_out), the input's dtype.

    Raises:
        ValueError: bad sizes, padding over half the kernel, an empty output or a zero divisor.

    >>> import numpy as np, fastnn.functional as F
    >>> F.avg_pool2d(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4), 2).numpy()
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]], dtype=float32)
    """
    where = "avg_pool2d"
    x, back = _float_input(input, where)
    kh, kw, sh, sw, ph, pw, _, _, oh, ow = _pool_geom(x, kernel_size, stride, padding, 1, ceil_mode,
                                                      where)
    divisor = 0
    if divisor_override is not None:
        if not _checks.is_int(divisor_override):
            raise _checks.error(_checks.ArgumentTypeError, where, "divisor_override", "an int or None",
                                _checks.typed(divisor_override))
        divisor = int(divisor_override)
        if divisor == 0:
            raise _checks.error(ValueError, where, "divisor_override", "non-zero", "0")
        if divisor < 0:
            raise _checks.error(ValueError, where, "divisor_override", "positive", str(divisor))
    x, unbatched = _batched(x)
    y = _AvgPool2d.apply(x, geom=(kh, kw, sh, sw, ph, pw, oh, ow),
                         count_include_pad=bool(count_include_pad), divisor=divisor)
    return back(_unbatch(y, unbatched))


def pad(input, pad, mode="constant", value=0.0):
    """Pad (or, with negative widths, crop) the last dimensions, as torch's constant pad.

    ``pad`` lists (before, after) widths from the last dimension backwards:
    ``(left, right)`` pads the last dim, ``(left, right, top, bottom)`` the last two, ...

    Args:
        input: any float tensor. pad: a tuple of 2k ints, k <= input.ndim.
        mode: 'constant' (the only mode). value: the fill value (may be ±inf).

    Returns:
        Tensor of the input's dtype; differentiable with respect to the input.

    Raises:
        ValueError: odd or too long ``pad``, another mode, or a crop past a dimension's size.

    >>> import numpy as np, fastnn.functional as F
    >>> F.pad(np.ones((1, 2), np.float32), (1, 0), value=-np.inf).numpy()
    array([[-inf,   1.,   1.]], dtype=float32)
    """
    where = "pad"
    x, back = _checks.float_input(where, "input", input)
    if mode != "constant":
        raise ValueError(f"{where}: only mode='constant' is supported, got mode={mode!r}.")
    if not isinstance(pad, (tuple, list)):
        raise _checks.error(_checks.ArgumentTypeError, where, "pad", "a tuple of ints", _checks.typed(pad))
    if len(pad) % 2:
        raise ValueError(f"{where}: pad must have an even length (before, after per dimension), "
                         f"got {len(pad)} values: {tuple(pad)}.")
    if len(pad) // 2 > x.ndim:
        raise ValueError(f"{where}: pad {tuple(pad)} covers {len(pad) // 2} dimensions but the input "
                         f"has only {x.ndim} (shape {x.shape}).")
    p = [_checks.integer(where, "each pad width", v) for v in pad]
    widths = [(0, 0)] * x.ndim
    for k in range(len(p) // 2):
        axis = x.ndim - 1 - k
        lo, hi = p[2 * k], p[2 * k + 1]
        if max(-lo, 0) + max(-hi, 0) > x.shape[axis]:
            raise ValueError(f"{where}: pad ({lo}, {hi}) on dim {axis} of size {x.shape[axis]} crops "
                             f"more than the dimension holds.")
        widths[axis] = (p[2 * k], p[2 * k + 1])
    value = _checks.real(where, "value", value, what="a number")
    return back(_Pad.apply(x, widths=tuple(widths), value=value))
