"""Convolution, pooling and padding (same as torch.nn.functional; NCHW).

Every function takes batched (N, C, H, W) or unbatched (C, H, W) input, as torch does,
and validates its arguments here: the ops below (fastnn/autograd/conv.py) and the
kernels trust them.
"""
import numpy as np

from .. import _checks
from ..autograd.conv import AdaptiveAvgPool2d as _AdaptiveAvgPool2d
from ..autograd.conv import AvgPool2d as _AvgPool2d
from ..autograd.conv import Conv2d as _Conv2d
from ..autograd.conv import MaxPool2d as _MaxPool2d
from ..autograd.conv import Pad as _Pad
from ..autograd.conv import PadIndexed as _PadIndexed
from ..tensor import Tensor

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "pad", "conv1d", "adaptive_avg_pool2d",
           "adaptive_avg_pool1d", "max_pool1d", "avg_pool1d"]


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


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative widths, crop) the last dimensions, as torch's ``F.pad``.

    ``pad`` lists (before, after) widths from the last dimension backwards:
    ``(left, right)`` pads the last dim, ``(left, right, top, bottom)`` the last two, ...

    Modes (as torch): 'constant' fills with ``value`` (default 0; any rank, any number
    of dims); 'reflect' mirrors without repeating the edge (widths < the dim's size),
    'replicate' repeats the edge, 'circular' wraps around (widths <= the size). The
    last three pad the last 1, 2 or 3 dims of a 2-3, 3-4 or 4-5 dimensional input;
    negative widths crop first.

    Args:
        input: any float tensor. pad: a tuple of 2k ints. mode: see above.
        value: the constant mode's fill value (may be ±inf).

    Returns:
        Tensor of the input's dtype; differentiable with respect to the input.

    Raises:
        ValueError: odd or too long ``pad``, an unknown mode, a rank the mode does not
            support, widths too large for the mode, a value with a non-constant mode, or
            a crop past a dimension's size.

    >>> import numpy as np, fastnn.functional as F
    >>> F.pad(np.ones((1, 2), np.float32), (1, 0), value=-np.inf).numpy()
    array([[-inf,   1.,   1.]], dtype=float32)
    >>> F.pad(np.array([[[0.0, 1.0, 2.0]]], np.float32), (2, 1), mode="reflect").numpy()
    array([[[2., 1., 0., 1., 2., 1.]]], dtype=float32)
    """
    where = "pad"
    x, back = _checks.float_input(where, "input", input)
    mode = _checks.option(where, "mode", mode, ("constant", "reflect", "replicate", "circular"))
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
    if mode != "constant":
        if value is not None and value != 0:
            raise ValueError(f"{where}: padding mode {mode!r} doesn't take in value argument "
                             f"(got value={value!r}).")
        return back(_pad_indexed(x, widths, len(p) // 2, mode, where))
    value = _checks.real(where, "value", 0.0 if value is None else value, what="a number")
    return back(_Pad.apply(x, widths=tuple(widths), value=value))


def _pad_indexed(x, widths, k, mode, where):
    if k == 0 or not (x.ndim in (k + 1, k + 2) and k <= 3):
        raise ValueError(f"{where}: padding size {2 * k} is not supported for {x.ndim}D input "
                         f"with mode={mode!r}. Supported: 2D or 3D input with 2 values (the last "
                         f"dim), 3D or 4D input with 4 (the last 2), 4D or 5D input with 6 "
                         f"(the last 3).")
    maps = []
    for axis in range(x.ndim - k, x.ndim):
        n = x.shape[axis]
        lo, hi = widths[axis]
        a, b = max(-lo, 0), max(-hi, 0)           # crop first, then pad the rest
        m, plo, phi = n - a - b, max(lo, 0), max(hi, 0)
        if mode == "reflect" and (plo >= m or phi >= m):
            raise ValueError(f"{where}: padding size should be less than the corresponding input "
                             f"dimension for mode='reflect', but got padding ({lo}, {hi}) at "
                             f"dimension {axis} of input {tuple(x.shape)}.")
        if mode == "circular" and (plo > m or phi > m):
            raise ValueError(f"{where}: padding ({lo}, {hi}) at dimension {axis} of input "
                             f"{tuple(x.shape)} wraps around more than once (mode='circular').")
        if mode == "replicate" and m == 0 and plo + phi:
            raise ValueError(f"{where}: cannot replicate-pad dimension {axis} of size 0.")
        pos = np.arange(-plo, m + phi)
        if mode == "reflect":
            idx = np.where(pos < 0, -pos, np.where(pos >= m, 2 * (m - 1) - pos, pos))
        elif mode == "replicate":
            idx = np.clip(pos, 0, m - 1)
        else:
            idx = np.mod(pos, m) if m else pos
        maps.append((axis, (idx + a).astype(np.intp), n))
    return _PadIndexed.apply(x, maps=tuple(maps))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation, as torch:
    y[n, o, t] = Σ_c,i x_pad[n, c, s·t + d·i] w[o, c, i] + b[o] (conv2d with a height of 1).

    Args:
        input: (N, C_in, L) or unbatched (C_in, L).
        weight: (C_out, C_in / groups, k). bias: (C_out,) or None.
        stride, dilation: positive ints. padding: an int, 'valid' or 'same' (stride 1).
        groups: independent channel groups.

    Returns:
        Tensor (N, C_out, L_out) with L_out = (L + 2p - d(k - 1) - 1) // s + 1.

    Raises:
        ValueError: ranks, channel counts, sizes (as conv2d). TypeError: non-float input.

    >>> import numpy as np, fastnn.functional as F
    >>> F.conv1d(np.arange(5, dtype=np.float32).reshape(1, 1, 5), np.ones((1, 1, 2), np.float32)).numpy()
    array([[[1., 3., 5., 7.]]], dtype=float32)
    """
    where = "conv1d"
    x, back = _checks.float_input(where, "input", input)
    if x.ndim not in (2, 3):
        raise ValueError(f"{where}: expected 2-D (C, L) unbatched or 3-D (N, C, L) batched input, "
                         f"got shape {x.shape}.")
    w = _checks.float_param(where, "weight", _checks.tensor(where, "weight", weight), x.data.dtype)
    if bias is not None:
        bias = _checks.float_param(where, "bias", _checks.tensor(where, "bias", bias), x.data.dtype)
    if w.ndim != 3:
        raise ValueError(f"{where}: weight must be 3-D (out_channels, in_channels / groups, k), "
                         f"got shape {w.shape}.")
    g = _checks.positive_int(where, "groups", groups)
    O, Cg, k = w.shape
    C = x.shape[-2]
    if O % g:
        raise ValueError(f"{where}: out_channels (weight.shape[0] = {O}) must be divisible by "
                         f"groups = {g}.")
    if C != Cg * g:
        raise ValueError(f"{where}: weight of shape {w.shape} with groups={g} expects input with "
                         f"{Cg * g} channels (dim {x.ndim - 2}), got input of shape {x.shape}.")
    if bias is not None and np.shape(getattr(bias, "data", bias)) != (O,):
        raise ValueError(f"{where}: bias must have shape ({O},) to match weight {w.shape}, got "
                         f"{np.shape(getattr(bias, 'data', bias))}.")
    s1, d1 = _single(stride, "stride", where), _single(dilation, "dilation", where)
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"{where}: padding must be an int, 'valid' or 'same', got {padding!r}.")
        if padding == "same" and s1 != 1:
            raise ValueError(f"{where}: padding='same' is not supported for strided convolutions "
                             f"(got stride={stride!r}); use stride=1 or explicit padding.")
        p2, p1 = padding, 0
    else:
        p1 = _single(padding, "padding", where, 0)
        p2 = (0, p1)
    L, span = x.shape[-1], d1 * (k - 1) + 1
    if span > L + 2 * p1 and padding != "same":
        raise ValueError(f"{where}: the padded input has length {L + 2 * p1} but the (dilated) "
                         f"kernel spans {span}; the kernel can't be longer than the padded input.")
    y = conv2d(x.unsqueeze(-2), w.unsqueeze(-2), bias, (1, s1), p2, (1, d1), g)
    return back(y.squeeze(-2))


def _single(v, name, where, low=1):
    """An int (or a 1-tuple of one), >= low."""
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise _checks.error(ValueError, where, name, "an int or a 1-tuple", repr(v))
        v = v[0]
    return _checks.integer(where, name, v, low=low)


def _adaptive_matrix(n, m):
    """(m, n): row i averages inputs floor(i n / m) .. ceil((i + 1) n / m) - 1."""
    a = np.zeros((m, n))
    for i in range(m):
        s, e = (i * n) // m, -((-(i + 1) * n) // m)
        a[i, s:e] = 1.0 / (e - s)
    return a


def _out_size(v, n, name, where):
    return n if v is None else _checks.positive_int(where, name, v)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed ``output_size`` (int or (h, w); None keeps that size):
    output cell i covers input rows floor(i H / h) .. ceil((i + 1) H / h) - 1, as torch.

    Raises:
        ValueError: not 3-D/4-D input, non-positive sizes.

    >>> import numpy as np, fastnn.functional as F
    >>> F.adaptive_avg_pool2d(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4), 1).numpy()
    array([[[[7.5]]]], dtype=float32)
    """
    where = "adaptive_avg_pool2d"
    x, back = _float_input(input, where)
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"{where}: output_size must be an int or a pair, got {output_size!r}.")
        oh, ow = output_size
    else:
        oh = ow = output_size
    H, W = x.shape[-2:]
    oh, ow = _out_size(oh, H, "output_size", where), _out_size(ow, W, "output_size", where)
    if H == 0 or W == 0:
        raise ValueError(f"{where}: input of shape {x.shape} has an empty spatial dimension.")
    return back(_AdaptiveAvgPool2d.apply(x, ah=_adaptive_matrix(H, oh), aw=_adaptive_matrix(W, ow)))


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) or (C, L) input to ``output_size`` positions (as torch).

    >>> import numpy as np, fastnn.functional as F
    >>> F.adaptive_avg_pool1d(np.arange(6, dtype=np.float32).reshape(1, 1, 6), 2).numpy()
    array([[[1., 4.]]], dtype=float32)
    """
    where = "adaptive_avg_pool1d"
    x, back = _checks.float_input(where, "input", input)
    if x.ndim not in (2, 3):
        raise ValueError(f"{where}: expected 2-D (C, L) unbatched or 3-D (N, C, L) batched "
                         f"input, got shape {x.shape}.")
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 1:
            raise ValueError(f"{where}: output_size must be an int, got {output_size!r}.")
        output_size = output_size[0]
    return back(adaptive_avg_pool2d(x.unsqueeze(-2), (1, output_size)).squeeze(-2))


def _pool1d_input(input, where):
    x, back = _checks.float_input(where, "input", input)
    if x.ndim not in (2, 3):
        raise ValueError(f"{where}: expected 2-D (C, L) unbatched or 3-D (N, C, L) batched "
                         f"input, got shape {x.shape}.")
    return x, back


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L) input, as torch (max_pool2d with a height
    of 1); ``return_indices`` gives the positions along L.

    >>> import numpy as np, fastnn.functional as F
    >>> F.max_pool1d(np.array([[[1.0, 3.0, 2.0, 5.0]]], np.float32), 2).numpy()
    array([[[3., 5.]]], dtype=float32)
    """
    where = "max_pool1d"
    x, back = _pool1d_input(input, where)
    k = _single(kernel_size, "kernel_size", where)
    s = k if stride is None or stride == () else _single(stride, "stride", where)
    p = _single(padding, "padding", where, 0)
    d = _single(dilation, "dilation", where)
    out = max_pool2d(x.unsqueeze(-2), (1, k), (1, s), (0, p), (1, d), ceil_mode=ceil_mode,
                     return_indices=return_indices)
    if return_indices:
        return back(out[0].squeeze(-2)), out[1].squeeze(-2)
    return back(out.squeeze(-2))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L) input, as torch.

    >>> import numpy as np, fastnn.functional as F
    >>> F.avg_pool1d(np.array([[[1.0, 3.0, 2.0, 6.0]]], np.float32), 2).numpy()
    array([[[2., 4.]]], dtype=float32)
    """
    where = "avg_pool1d"
    x, back = _pool1d_input(input, where)
    k = _single(kernel_size, "kernel_size", where)
    s = k if stride is None or stride == () else _single(stride, "stride", where)
    p = _single(padding, "padding", where, 0)
    return back(avg_pool2d(x.unsqueeze(-2), (1, k), (1, s), (0, p), ceil_mode,
                           count_include_pad).squeeze(-2))
