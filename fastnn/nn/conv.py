"""Convolution and pooling layers (same as torch.nn; NCHW)."""
import math

import numpy as np

from .. import _checks
from .. import functional as F
from .._device import check_device
from ..tensor import empty_aligned
from . import init
from .module import Module, Parameter

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "Conv1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool1d",
           "MaxPool1d", "AvgPool1d"]


def _padding_mode(mode, where):
    return _checks.option(where, "padding_mode", mode, ("zeros", "reflect", "replicate", "circular"))


def _mode_pads(conv, nd):
    """F.pad widths (last dim first) for a module's padding: 'same' splits the total as
    conv2d does (the odd one at the end), ints pad both sides."""
    if conv.padding == "same":
        out = []
        for k, d in zip(reversed(conv.kernel_size), reversed(conv.dilation)):
            t = d * (k - 1)
            out += [t // 2, t - t // 2]
        return tuple(out)
    return tuple(p for v in reversed(conv.padding) for p in (v, v))


def _one(where, name, value):
    """(n,) from a positive int or a 1-tuple of one (torch's 1-D size arguments)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    return (_checks.positive_int(where, name, value),)


class Conv2d(Module):
    """2-D convolution over (N, C_in, H, W) input, with torch's default initialisation:
    W ~ kaiming_uniform(a=√5), i.e. U(−1/√fan_in, 1/√fan_in), b ~ U(−1/√fan_in, 1/√fan_in),
    fan_in = in_channels / groups · kh · kw.

    Args:
        in_channels, out_channels: channel counts (both divisible by groups).
        kernel_size, stride, dilation: int or (h, w). padding: int, (h, w), 'valid' or 'same'.
        groups: independent channel groups. bias: learn an additive bias.
        dtype: parameter dtype (float32 default). generator: seed source for init.

    Raises:
        ValueError: non-positive sizes, channels not divisible by groups, an unknown padding
            string or 'same' with a stride.

    >>> import numpy as np, fastnn as fn
    >>> m = fn.nn.Conv2d(3, 8, 3, padding=1)
    >>> m.weight.shape, m(np.zeros((2, 3, 5, 5), np.float32)).shape
    ((8, 3, 3, 3), (2, 8, 5, 5))
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=np.float32,
                 generator=None):
        super().__init__()
        where = "Conv2d"
        check_device(device, where)
        self.padding_mode = _padding_mode(padding_mode, where)
        self.in_channels = _checks.positive_int(where, "in_channels", in_channels)
        self.out_channels = _checks.positive_int(where, "out_channels", out_channels)
        self.groups = _checks.positive_int(where, "groups", groups)
        if self.in_channels % self.groups:
            raise ValueError(f"{where}: in_channels ({in_channels}) must be divisible by groups ({groups}).")
        if self.out_channels % self.groups:
            raise ValueError(f"{where}: out_channels ({out_channels}) must be divisible by groups "
                             f"({groups}).")
        self.kernel_size = _checks.pair(where, "kernel_size", kernel_size)
        self.stride = _checks.pair(where, "stride", stride)
        self.dilation = _checks.pair(where, "dilation", dilation)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{where}: padding must be an int, a pair, 'valid' or 'same', "
                                 f"got {padding!r}.")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"{where}: padding='same' is not supported for strided convolutions "
                                 f"(got stride={stride!r}).")
            self.padding = padding
        else:
            self.padding = _checks.pair(where, "padding", padding, low=0)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(empty_aligned(shape, dtype))
        if bias:
            self.bias = Parameter(empty_aligned(self.out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight.shape)
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, input):
        if self.padding_mode != "zeros" and self.padding != "valid":
            # torch: pad with the mode, then convolve without padding
            return F.conv2d(F.pad(input, _mode_pads(self, 2), mode=self.padding_mode), self.weight,
                            self.bias, self.stride, 0, self.dilation, self.groups)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _MaxPoolNd(Module):
    """What MaxPool1d and MaxPool2d share; ``_pool`` is the functional they call."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return self._pool(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling (see F.max_pool2d); stride defaults to kernel_size.

    >>> import numpy as np, fastnn as fn
    >>> m = fn.nn.MaxPool2d(2); m
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    >>> m(np.zeros((1, 3, 4, 4), np.float32)).shape
    (1, 3, 2, 2)
    """

    _pool = staticmethod(F.max_pool2d)


class AvgPool2d(Module):
    """2-D average pooling (see F.avg_pool2d); stride defaults to kernel_size.

    >>> import numpy as np, fastnn as fn
    >>> fn.nn.AvgPool2d(2, padding=1)
    AvgPool2d(kernel_size=2, stride=2, padding=1)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Conv1d(Module):
    """1-D convolution over (N, C_in, L) input (see F.conv1d), with torch's default
    initialisation (kaiming_uniform(a=√5): U(−1/√fan_in, 1/√fan_in), fan_in = C_in/groups·k)
    and ``padding_mode`` ('zeros', 'reflect', 'replicate', 'circular').

    >>> import numpy as np, fastnn as fn
    >>> m = fn.nn.Conv1d(4, 8, 3, padding=1, padding_mode="reflect")
    >>> m.weight.shape, m(np.zeros((2, 4, 10), np.float32)).shape
    ((8, 4, 3), (2, 8, 10))
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=np.float32,
                 generator=None):
        super().__init__()
        where = "Conv1d"
        check_device(device, where)
        self.in_channels = _checks.positive_int(where, "in_channels", in_channels)
        self.out_channels = _checks.positive_int(where, "out_channels", out_channels)
        self.groups = _checks.positive_int(where, "groups", groups)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"{where}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups}).")
        self.kernel_size = _one(where, "kernel_size", kernel_size)
        self.stride = _one(where, "stride", stride)
        self.dilation = _one(where, "dilation", dilation)
        self.padding_mode = _padding_mode(padding_mode, where)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{where}: padding must be an int, 'valid' or 'same', got {padding!r}.")
            if padding == "same" and self.stride != (1,):
                raise ValueError(f"{where}: padding='same' is not supported for strided convolutions "
                                 f"(got stride={stride!r}).")
            self.padding = padding
        else:
            p = padding[0] if isinstance(padding, (tuple, list)) and len(padding) == 1 else padding
            self.padding = (_checks.integer(where, "padding", p, low=0),)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(empty_aligned(shape, dtype))
        if bias:
            self.bias = Parameter(empty_aligned(self.out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    reset_parameters = Conv2d.reset_parameters

    def forward(self, input):
        if self.padding_mode != "zeros" and self.padding != "valid":
            return F.conv1d(F.pad(input, _mode_pads(self, 1), mode=self.padding_mode), self.weight,
                            self.bias, self.stride, 0, self.dilation, self.groups)
        pad = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(input, self.weight, self.bias, self.stride, pad, self.dilation, self.groups)

    extra_repr = Conv2d.extra_repr


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (see F.adaptive_avg_pool2d).

    >>> import numpy as np, fastnn as fn
    >>> fn.nn.AdaptiveAvgPool2d((1, 1))(np.ones((2, 3, 5, 7), np.float32)).shape
    (2, 3, 1, 1)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of (N, C, L) input to a fixed length (see F.adaptive_avg_pool1d).

    >>> import numpy as np, fastnn as fn
    >>> fn.nn.AdaptiveAvgPool1d(2)(np.ones((2, 3, 5), np.float32)).shape
    (2, 3, 2)
    """

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling (see F.max_pool1d); stride defaults to kernel_size.

    >>> import numpy as np, fastnn as fn
    >>> fn.nn.MaxPool1d(2)(np.zeros((1, 3, 8), np.float32)).shape
    (1, 3, 4)
    """

    _pool = staticmethod(F.max_pool1d)


class AvgPool1d(Module):
    """1-D average pooling (see F.avg_pool1d); stride defaults to kernel_size.

    >>> import numpy as np, fastnn as fn
    >>> fn.nn.AvgPool1d(3, stride=1)(np.zeros((2, 5), np.float32)).shape
    (2, 3)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
