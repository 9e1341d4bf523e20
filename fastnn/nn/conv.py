"""Convolution and pooling layers (same as torch.nn; NCHW)."""
import math

import numpy as np

from .. import _checks
from .. import functional as F
from ..tensor import empty_aligned
from . import init
from .module import Module, Parameter

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d"]


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
                 groups=1, bias=True, dtype=np.float32, generator=None):
        super().__init__()
        where = "Conv2d"
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

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

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
        return s


class MaxPool2d(Module):
    """2-D max pooling (see F.max_pool2d); stride defaults to kernel_size.

    >>> import numpy as np, fastnn as fn
    >>> m = fn.nn.MaxPool2d(2); m
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    >>> m(np.zeros((1, 3, 4, 4), np.float32)).shape
    (1, 3, 2, 2)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


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

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
