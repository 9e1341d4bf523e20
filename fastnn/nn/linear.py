"""Fully connected layers."""
import math

import numpy as np

from .. import _checks
from .. import functional as F
from ..tensor import empty_aligned
from . import init
from .module import Module, Parameter

__all__ = ["Linear", "Identity", "Flatten"]


class Linear(Module):
    """y = x Wᵀ + b, with torch's default initialisation (U(−1/√in, 1/√in) for W and b).

    Args:
        in_features, out_features: sizes. bias: learn an additive bias.
        dtype: parameter dtype (float32 default). generator: seed source for init.

    >>> import fastnn as fn
    >>> fn.nn.Linear(784, 10).weight.shape
    (10, 784)
    """

    def __init__(self, in_features, out_features, bias=True, dtype=np.float32, generator=None):
        super().__init__()
        self.in_features = _checks.positive_int("Linear", "in_features", in_features)
        self.out_features = _checks.positive_int("Linear", "out_features", out_features)
        self.weight = Parameter(empty_aligned((self.out_features, self.in_features), dtype))
        self.bias = Parameter(empty_aligned(self.out_features, dtype)) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    def forward(self, x):
        return x


class Flatten(Module):
    """Flatten dims start_dim..end_dim (default: all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        from ..tensor import as_tensor
        x = as_tensor(x, "Flatten input")
        nd = x.ndim
        s, e = self.start_dim % nd, self.end_dim % nd
        shape = x.shape[:s] + (-1,) + x.shape[e + 1:]
        return x.reshape(shape)
