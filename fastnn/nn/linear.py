"""Fully connected layers."""
import math

import numpy as np

from .. import _checks
from .. import functional as F
from ..tensor import empty_aligned
from . import init
from .module import Module, Parameter

__all__ = ["Linear", "Identity", "Flatten", "Unflatten"]


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

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    def forward(self, input):
        return input


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (the inverse of Flatten).

    >>> import fastnn as fn
    >>> fn.nn.Unflatten(1, (2, 5))(fn.zeros(3, 10)).shape
    (3, 2, 5)
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        from ..tensor import _dim, as_tensor
        x = as_tensor(input, "Unflatten input")
        d = _dim(self.dim, max(x.ndim, 1), "Unflatten")
        sizes = self.unflattened_size
        known = 1
        for s in sizes:
            known *= s if s != -1 else 1
        n = x.shape[d]
        if (-1 not in sizes and known != n) or (-1 in sizes and (known == 0 or n % known)):
            raise ValueError(f"Unflatten: unflattened_size {sizes} does not match the size {n} "
                             f"of dimension {d} (input shape {x.shape}).")
        return x.reshape(x.shape[:d] + sizes + x.shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Flatten(Module):
    """Flatten dims start_dim..end_dim (default: all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        from ..tensor import as_tensor
        return as_tensor(input, "Flatten input").flatten(self.start_dim, self.end_dim)
