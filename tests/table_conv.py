"""Rows of the op table for convolution, pooling and padding (see ops_table.py).

Inputs are small ((2, 2, 5, 5)-sized) so the full-Jacobian gradcheck stays fast. Max
pooling rows draw tie-free inputs (``distinct``): at a tie the max is not
differentiable and finite differences would straddle the kink.
"""
import warnings

import numpy as np

import fastnn.functional as F
from fastnn._kernels import reference_conv as R
from ops_table import ErrorCase, Op, randn
from table_core import distinct


def _tf(name):
    def call(*args, **kwargs):
        import torch
        with warnings.catch_warnings():   # 'same' with an even kernel: a padded copy
            warnings.simplefilter("ignore", UserWarning)
            return getattr(torch.nn.functional, name)(*args, **kwargs)
    return call


def conv(name, shapes, **kwargs):
    grad = tuple(range(len(shapes)))
    return Op(name, F.conv2d, R.conv2d, randn(*shapes), grad=grad, torch=_tf("conv2d"),
              kwargs=kwargs, rtol=1e-4, atol=1e-5)


def maxpool(name, shape, **kwargs):
    return Op(name, F.max_pool2d, R.max_pool2d, distinct(shape), torch=_tf("max_pool2d"),
              kwargs=kwargs)


def avgpool(name, shape, **kwargs):
    return Op(name, F.avg_pool2d, R.avg_pool2d, randn(shape), torch=_tf("avg_pool2d"),
              kwargs=kwargs, rtol=1e-5, atol=1e-6)


def pad(name, shape, **kwargs):
    return Op(name, F.pad, R.pad, randn(shape), torch=_tf("pad"), kwargs=kwargs)


OPS = [
    # --- conv2d ---------------------------------------------------------------------------
    conv("conv2d_bias", [(2, 2, 5, 5), (3, 2, 3, 3), (3,)]),
    conv("conv2d_no_bias", [(2, 2, 5, 5), (3, 2, 3, 3)]),
    conv("conv2d_stride2_pad1", [(2, 2, 5, 6), (3, 2, 3, 3), (3,)], stride=2, padding=1),
    conv("conv2d_tuple_args", [(2, 2, 6, 7), (3, 2, 2, 3), (3,)], stride=(2, 1), padding=(1, 2),
         dilation=(1, 2)),
    conv("conv2d_same_even_kernel", [(2, 2, 5, 5), (3, 2, 2, 3), (3,)], padding="same"),
    conv("conv2d_same_dilation", [(2, 2, 5, 6), (2, 2, 3, 3), (2,)], padding="same", dilation=2),
    conv("conv2d_valid", [(2, 2, 5, 5), (3, 2, 3, 2)], padding="valid"),
    conv("conv2d_groups", [(2, 4, 5, 5), (6, 2, 3, 3), (6,)], groups=2, padding=1),
    conv("conv2d_depthwise", [(2, 3, 5, 5), (6, 1, 3, 3), (6,)], groups=3),
    conv("conv2d_1x1", [(2, 3, 4, 4), (5, 3, 1, 1), (5,)]),
    conv("conv2d_1x1_stride2", [(2, 3, 5, 5), (4, 3, 1, 1), (4,)], stride=2),
    conv("conv2d_unbatched", [(2, 5, 5), (3, 2, 3, 3), (3,)], padding=1),
    conv("conv2d_kernel_fills_input", [(3, 2, 3, 3), (2, 2, 3, 3), (2,)]),
    # --- max_pool2d -----------------------------------------------------------------------
    maxpool("max_pool2d_k2", (2, 2, 6, 6), kernel_size=2),
    maxpool("max_pool2d_k3_s2_p1", (2, 2, 6, 5), kernel_size=3, stride=2, padding=1),
    maxpool("max_pool2d_ceil_mode", (2, 2, 6, 7), kernel_size=3, stride=2, ceil_mode=True),
    maxpool("max_pool2d_ceil_mode_pad", (2, 2, 5, 5), kernel_size=2, padding=1, ceil_mode=True),
    maxpool("max_pool2d_dilation", (2, 2, 6, 6), kernel_size=2, stride=1, dilation=2),
    maxpool("max_pool2d_tuple_args", (2, 2, 5, 7), kernel_size=(2, 3), stride=(1, 2), padding=(1, 1)),
    maxpool("max_pool2d_unbatched", (2, 5, 5), kernel_size=2, stride=1),
    # --- avg_pool2d -----------------------------------------------------------------------
    avgpool("avg_pool2d_k2", (2, 2, 6, 6), kernel_size=2),
    avgpool("avg_pool2d_k3_s2_p1", (2, 2, 6, 5), kernel_size=3, stride=2, padding=1),
    avgpool("avg_pool2d_exclude_pad", (2, 2, 6, 5), kernel_size=3, stride=2, padding=1,
            count_include_pad=False),
    avgpool("avg_pool2d_ceil_mode_pad", (2, 2, 5, 6), kernel_size=3, stride=2, padding=1,
            ceil_mode=True),
    avgpool("avg_pool2d_ceil_mode_exclude_pad", (2, 2, 5, 6), kernel_size=3, stride=2, padding=1,
            ceil_mode=True, count_include_pad=False),
    avgpool("avg_pool2d_divisor_override", (2, 2, 5, 5), kernel_size=(2, 3), padding=(1, 1),
            divisor_override=4),
    avgpool("avg_pool2d_unbatched", (2, 5, 5), kernel_size=2, stride=1),
    # --- pad ------------------------------------------------------------------------------
    pad("pad_last_dim", (2, 3, 4), pad=(1, 2)),
    pad("pad_last_two_dims", (2, 2, 3, 4), pad=(1, 2, 0, 3), value=0.5),
    # -inf padding then max pooling: Keras' padding='same' max pool (gradcheck needs the
    # -inf gone from the output: inf - inf is NaN in finite differences)
    Op("pad_neg_inf_then_max_pool", lambda x: F.max_pool2d(F.pad(x, (0, 1, 0, 1), value=-np.inf), 2),
       lambda x: R.max_pool2d(R.pad(x, (0, 1, 0, 1), value=-np.inf), 2), distinct((2, 2, 5, 5)),
       torch=lambda x: _tf("max_pool2d")(_tf("pad")(x, (0, 1, 0, 1), value=-np.inf), 2)),
    pad("pad_negative_crops", (2, 3, 5, 6), pad=(-1, 2, 1, -2)),
    pad("pad_three_dims", (2, 3, 4), pad=(1, 0, 0, 1, 2, 1)),
]


def _x(*shape):
    return np.zeros(shape, np.float32)


def _w(*shape):
    return np.zeros(shape, np.float32)


ERRORS = [
    ErrorCase("conv2d_input_2d", lambda: F.conv2d(_x(5, 5), _w(1, 1, 3, 3)), ValueError,
              r"conv2d: expected 3-D \(C, H, W\) unbatched or 4-D .* got shape \(5, 5\)"),
    ErrorCase("conv2d_weight_3d", lambda: F.conv2d(_x(1, 2, 5, 5), _w(3, 2, 3)), ValueError,
              r"conv2d: weight must be 4-D .* got shape \(3, 2, 3\)"),
    ErrorCase("conv2d_channels_mismatch", lambda: F.conv2d(_x(1, 3, 5, 5), _w(4, 2, 3, 3)), ValueError,
              r"expects input with 2 channels .* got input of shape \(1, 3, 5, 5\)"),
    ErrorCase("conv2d_groups_channels", lambda: F.conv2d(_x(1, 3, 5, 5), _w(4, 3, 3, 3), groups=2),
              ValueError, r"groups=2 expects input with 6 channels"),
    ErrorCase("conv2d_groups_out_channels", lambda: F.conv2d(_x(1, 4, 5, 5), _w(3, 2, 3, 3), groups=2),
              ValueError, r"out_channels .* must be divisible by groups = 2"),
    ErrorCase("conv2d_groups_zero", lambda: F.conv2d(_x(1, 2, 5, 5), _w(3, 2, 3, 3), groups=0),
              ValueError, r"conv2d: groups must be a positive int, got 0"),
    ErrorCase("conv2d_bias_shape", lambda: F.conv2d(_x(1, 2, 5, 5), _w(3, 2, 3, 3), _w(2)), ValueError,
              r"bias must have shape \(3,\) .* got \(2,\)"),
    ErrorCase("conv2d_stride_zero", lambda: F.conv2d(_x(1, 2, 5, 5), _w(3, 2, 3, 3), stride=0),
              ValueError, r"conv2d: stride must be positive, got 0"),
    ErrorCase("conv2d_dilation_zero", lambda: F.conv2d(_x(1, 2, 5, 5), _w(3, 2, 3, 3), dilation=(1, 0)),
              ValueError, r"conv2d: dilation must be positive, got 0"),
    ErrorCase("conv2d_padding_negative", lambda: F.conv2d(_x(1, 2, 5, 5), _w(3, 2, 3, 3), padding=-1),
              ValueError, r"conv2d: padding must be non-negative, got -1"),
    ErrorCase("conv2d_padding_string", lambda: F.conv2d(_x(1, 2, 5, 5), _w(3, 2, 3, 3), padding="full"),
              ValueError, r"padding must be an int, a pair of ints, 'valid' or 'same', got 'full'"),
    ErrorCase("conv2d_same_strided", lambda: F.conv2d(_x(1, 2, 5, 5), _w(3, 2, 3, 3), stride=2,
                                                      padding="same"),
              ValueError, r"padding='same' is not supported for strided convolutions"),
    ErrorCase("conv2d_kernel_too_big", lambda: F.conv2d(_x(1, 2, 5, 5), _w(3, 2, 7, 7)), ValueError,
              r"padded input is 5x5 but the \(dilated\) kernel is 7x7"),
    ErrorCase("conv2d_stride_float", lambda: F.conv2d(_x(1, 2, 5, 5), _w(3, 2, 3, 3), stride=1.5),
              TypeError, r"stride must be an int or a pair of ints, got float 1.5"),
    ErrorCase("conv2d_stride_triple", lambda: F.conv2d(_x(1, 2, 5, 5), _w(3, 2, 3, 3), stride=(1, 1, 1)),
              ValueError, r"stride must be an int or a pair of ints, got \(1, 1, 1\)"),
    ErrorCase("conv2d_int_input", lambda: F.conv2d(np.zeros((1, 2, 5, 5), np.int64), _w(3, 2, 3, 3)),
              TypeError, r"conv2d: input must be floating point .* got dtype int64"),
    ErrorCase("max_pool2d_pad_over_half", lambda: F.max_pool2d(_x(1, 2, 5, 5), 2, padding=2), ValueError,
              r"max_pool2d: pad should be at most half of kernel size, got padding=\(2, 2\)"),
    ErrorCase("max_pool2d_output_too_small", lambda: F.max_pool2d(_x(1, 2, 5, 5), 7), ValueError,
              r"max_pool2d: input of shape \(1, 2, 5, 5\) gives an output of 0x0 .* too small"),
    ErrorCase("max_pool2d_kernel_zero", lambda: F.max_pool2d(_x(1, 2, 5, 5), 0), ValueError,
              r"max_pool2d: kernel_size must be positive, got 0"),
    ErrorCase("max_pool2d_stride_zero", lambda: F.max_pool2d(_x(1, 2, 5, 5), 2, stride=0), ValueError,
              r"max_pool2d: stride must be positive, got 0"),
    ErrorCase("max_pool2d_input_2d", lambda: F.max_pool2d(_x(5, 5), 2), ValueError,
              r"max_pool2d: expected 3-D .* got shape \(5, 5\)"),
    ErrorCase("avg_pool2d_pad_over_half", lambda: F.avg_pool2d(_x(1, 2, 5, 5), 3, padding=2), ValueError,
              r"avg_pool2d: pad should be at most half of kernel size"),
    ErrorCase("avg_pool2d_divisor_zero", lambda: F.avg_pool2d(_x(1, 2, 5, 5), 2, divisor_override=0),
              ValueError, r"avg_pool2d: divisor_override must be non-zero, got 0"),
    ErrorCase("avg_pool2d_divisor_float", lambda: F.avg_pool2d(_x(1, 2, 5, 5), 2, divisor_override=2.5),
              TypeError, r"divisor_override must be an int or None, got float 2.5"),
    ErrorCase("pad_odd_length", lambda: F.pad(_x(2, 3), (1, 2, 3)), ValueError,
              r"pad: pad must have an even length .* got 3 values"),
    ErrorCase("pad_too_many_dims", lambda: F.pad(_x(3), (1, 1, 1, 1)), ValueError,
              r"pad: pad \(1, 1, 1, 1\) covers 2 dimensions but the input has only 1"),
    ErrorCase("pad_crop_too_much", lambda: F.pad(_x(2, 3), (-2, -2)), ValueError,
              r"pad: pad \(-2, -2\) on dim 1 of size 3 crops more than the dimension holds"),
    ErrorCase("pad_reflect_mode", lambda: F.pad(_x(1, 2, 3), (1, 1), mode="reflect"), ValueError,
              r"pad: only mode='constant' is supported, got mode='reflect'"),
]
