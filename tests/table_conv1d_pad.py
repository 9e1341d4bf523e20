"""Rows of the op table for F.pad's reflect/replicate/circular modes, conv1d and
adaptive average pooling (see ops_table.py)."""
import warnings

import numpy as np

import fastnn.functional as F
from fastnn._kernels import reference_conv as R
from ops_table import ErrorCase, Op, randn

_NP_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _tf(name):
    def call(*args, **kwargs):
        import torch
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return getattr(torch.nn.functional, name)(*args, **kwargs)
    return call


def pad_ref(x, pad, mode):
    """np.pad on the last dims after cropping negative widths (torch's order)."""
    k = len(pad) // 2
    sl = [slice(None)] * x.ndim
    widths = [(0, 0)] * x.ndim
    for i in range(k):
        axis = x.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        sl[axis] = slice(max(-lo, 0), x.shape[axis] - max(-hi, 0))
        widths[axis] = (max(lo, 0), max(hi, 0))
    return np.pad(x[tuple(sl)], widths, mode=_NP_MODE[mode])


def pad(name, shape, pad_, mode):
    return Op(name, lambda x: F.pad(x, pad_, mode=mode), lambda x: pad_ref(x, pad_, mode),
              randn(shape), torch=lambda x: _tf("pad")(x, pad_, mode=mode))


def conv1d_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    if padding == "same":
        t = dilation * (w.shape[-1] - 1)
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(t // 2, t - t // 2)])
        padding = 0
    y = R.conv2d(x[..., None, :], w[..., None, :], b, stride=(1, stride), padding=(0, padding),
                 dilation=(1, dilation), groups=groups)
    return y[..., 0, :]


def conv1d(name, shapes, **kw):
    return Op(name, F.conv1d, conv1d_ref, randn(*shapes),
              grad=tuple(range(len(shapes))), torch=_tf("conv1d"), kwargs=kw,
              rtol=1e-4, atol=1e-5)


def adaptive_ref(x, out):
    H, W = x.shape[-2:]
    oh, ow = (out, out) if isinstance(out, int) else out
    oh, ow = oh or H, ow or W
    y = np.empty(x.shape[:-2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, r1 = i * H // oh, -(-(i + 1) * H // oh)
            c0, c1 = j * W // ow, -(-(j + 1) * W // ow)
            y[..., i, j] = x[..., r0:r1, c0:c1].mean(axis=(-2, -1))
    return y


def adaptive(name, shape, out):
    return Op(name, lambda x: F.adaptive_avg_pool2d(x, out), lambda x: adaptive_ref(x, out),
              randn(shape), torch=lambda x: _tf("adaptive_avg_pool2d")(x, out))


OPS = [
    pad("pad_reflect_1d", (2, 3, 5), (2, 1), "reflect"),
    pad("pad_reflect_2d", (2, 2, 4, 5), (1, 3, 2, 1), "reflect"),
    pad("pad_reflect_3d_5d_input", (1, 2, 3, 4, 3), (1, 1, 2, 0, 1, 2), "reflect"),
    pad("pad_replicate_1d_unbatched", (3, 4), (3, 2), "replicate"),
    pad("pad_replicate_2d", (2, 2, 3, 4), (2, 2, 1, 3), "replicate"),
    pad("pad_circular_2d", (2, 2, 3, 4), (1, 4, 3, 0), "circular"),
    pad("pad_circular_crop", (1, 2, 5), (-1, 2), "circular"),
    pad("pad_replicate_crop", (1, 2, 4, 5), (0, 3, -1, 2), "replicate"),
    conv1d("conv1d_bias", [(2, 3, 7), (4, 3, 3), (4,)]),
    conv1d("conv1d_stride_pad_dilation", [(2, 2, 9), (3, 2, 2), (3,)], stride=2, padding=1, dilation=2),
    conv1d("conv1d_groups_no_bias", [(2, 4, 6), (6, 2, 3)], groups=2),
    conv1d("conv1d_same_even_kernel", [(2, 2, 6), (3, 2, 4), (3,)], padding="same"),
    conv1d("conv1d_unbatched", [(2, 6), (3, 2, 3), (3,)]),
    adaptive("adaptive_avg_pool2d_global", (2, 3, 5, 4), 1),
    adaptive("adaptive_avg_pool2d_uneven", (2, 2, 7, 5), (3, 2)),
    adaptive("adaptive_avg_pool2d_upsample", (1, 2, 3, 2), (5, 4)),
    adaptive("adaptive_avg_pool2d_keep_width", (2, 2, 6, 3), (4, None)),
    Op("adaptive_avg_pool1d", lambda x: F.adaptive_avg_pool1d(x, 3),
       lambda x: adaptive_ref(x[..., None, :], (1, 3))[..., 0, :], randn((2, 3, 8)),
       torch=lambda x: _tf("adaptive_avg_pool1d")(x, 3)),
]


def _x(*shape):
    return np.zeros(shape, np.float32)


ERRORS = [
    ErrorCase("pad_reflect_too_wide", lambda: F.pad(_x(1, 2, 3), (3, 0), mode="reflect"), ValueError,
              r"padding size should be less than the corresponding input dimension .* "
              r"padding \(3, 0\) at dimension 2 of input \(1, 2, 3\)"),
    ErrorCase("pad_circular_wraps_twice", lambda: F.pad(_x(1, 2, 3), (4, 0), mode="circular"),
              ValueError, r"wraps around more than once"),
    ErrorCase("pad_mode_rank", lambda: F.pad(_x(3), (1, 1), mode="reflect"), ValueError,
              r"padding size 2 is not supported for 1D input with mode='reflect'"),
    ErrorCase("pad_mode_with_value", lambda: F.pad(_x(1, 2, 3), (1, 1), mode="replicate", value=2.0),
              ValueError, r"padding mode 'replicate' doesn't take in value argument"),
    ErrorCase("pad_unknown_mode", lambda: F.pad(_x(1, 2, 3), (1, 1), mode="bogus"), ValueError,
              r"pad: mode must be one of 'constant', 'reflect', 'replicate', 'circular', got 'bogus'"),
    ErrorCase("conv1d_input_4d", lambda: F.conv1d(_x(1, 2, 3, 4), _x(1, 2, 3)), ValueError,
              r"conv1d: expected 2-D \(C, L\) unbatched or 3-D \(N, C, L\) batched input"),
    ErrorCase("conv1d_channels", lambda: F.conv1d(_x(1, 3, 5), _x(2, 2, 3)), ValueError,
              r"conv1d: weight of shape \(2, 2, 3\) with groups=1 expects input with 2 channels"),
    ErrorCase("conv1d_kernel_too_long", lambda: F.conv1d(_x(1, 2, 3), _x(1, 2, 5)), ValueError,
              r"conv1d: the padded input has length 3 but the \(dilated\) kernel spans 5"),
    ErrorCase("conv1d_same_strided", lambda: F.conv1d(_x(1, 2, 5), _x(1, 2, 3), stride=2,
                                                      padding="same"),
              ValueError, r"padding='same' is not supported for strided convolutions"),
    ErrorCase("adaptive_avg_pool2d_zero", lambda: F.adaptive_avg_pool2d(_x(1, 2, 4, 4), 0), ValueError,
              r"adaptive_avg_pool2d: output_size must be a positive int, got 0"),
    ErrorCase("adaptive_avg_pool2d_rank", lambda: F.adaptive_avg_pool2d(_x(4, 4), 2), ValueError,
              r"adaptive_avg_pool2d: expected 3-D \(C, H, W\) unbatched or 4-D"),
]


def _np_pool1d(x, k, s, p, reduce, fill):
    """Pooling windows of (N, C, L) by brute force (padding filled with ``fill``)."""
    xp = np.pad(x, ((0, 0), (0, 0), (p, p)), constant_values=fill)
    n = (xp.shape[-1] - k) // s + 1
    return np.stack([reduce(xp[..., i * s:i * s + k], axis=-1) for i in range(n)], -1)


def _distinct1d(shape):
    def make(rng, dtype):
        n = int(np.prod(shape))
        return ((rng.permutation(n).reshape(shape) - n / 2) * 0.1).astype(dtype),
    return make


OPS += [
    Op("max_pool1d_stride_pad", lambda x: F.max_pool1d(x, 3, 2, 1),
       lambda x: _np_pool1d(x, 3, 2, 1, np.max, -np.inf), _distinct1d((2, 3, 9)),
       torch=lambda x: _tf("max_pool1d")(x, 3, 2, 1)),
    Op("avg_pool1d_pad", lambda x: F.avg_pool1d(x, 2, padding=1),
       lambda x: _np_pool1d(x, 2, 2, 1, np.mean, 0.0), randn((2, 3, 7)),
       torch=lambda x: _tf("avg_pool1d")(x, 2, padding=1)),
]
ERRORS += [
    ErrorCase("max_pool1d_rank", lambda: F.max_pool1d(_x(1, 2, 3, 4), 2), ValueError,
              r"max_pool1d: expected 2-D \(C, L\) unbatched or 3-D \(N, C, L\) batched input"),
]
