"""Activation modules (same as torch.nn): thin wrappers over fastnn.functional.

>>> import fastnn as fn
>>> fn.nn.ReLU()(fn.tensor([-1.0, 2.0])).numpy()
array([0., 2.], dtype=float32)
"""
import warnings

import numpy as np

from .. import _checks
from .. import functional as F
from .module import Module, Parameter

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "CReLU", "SReLU", "ELU", "SELU",
           "CELU", "GELU", "SiLU", "Softplus", "Softsign", "Sigmoid", "Tanh", "Hardtanh",
           "Softmax", "LogSoftmax", "Maxout"]


class _Inplace(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = bool(inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """max(x, 0). See fastnn.functional.relu."""

    def forward(self, input):
        return F.relu(input, self.inplace)


class ReLU6(_Inplace):
    """min(max(x, 0), 6). See fastnn.functional.relu6."""

    def forward(self, input):
        return F.relu6(input, self.inplace)


class Hardtanh(Module):
    """Clamp to [min_val, max_val]. See fastnn.functional.hardtanh."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val must be <= max_val, got {min_val} > {max_val}.")
        self.min_val, self.max_val, self.inplace = min_val, max_val, bool(inplace)

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x. See fastnn.functional.leaky_relu."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, bool(inplace)

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """Leaky ReLU with learnable slopes: one shared, or one per channel (dim 1).

    Args:
        num_parameters: 1 or the number of channels. init: initial slope.
        dtype: parameter dtype (float32 default).

    >>> import fastnn as fn
    >>> fn.nn.PReLU(3).weight.numpy()
    array([0.25, 0.25, 0.25], dtype=float32)
    """

    def __init__(self, num_parameters=1, init=0.25, dtype=np.float32):
        super().__init__()
        self.num_parameters = _checks.positive_int("PReLU", "num_parameters", num_parameters)
        self.weight = Parameter(np.full(self.num_parameters, init, dtype))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: random slopes U(lower, upper) in training, their mean in eval.

    Args:
        lower, upper: slope range. inplace: overwrite the input.
        generator: fastnn.random.Generator or int seed for the training draws (default
            generator when None).
    """

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False, generator=None):
        super().__init__()
        if lower > upper:
            raise ValueError(f"RReLU: lower must be <= upper, got lower={lower}, upper={upper}.")
        self.lower, self.upper, self.inplace, self.generator = lower, upper, bool(inplace), generator

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace, self.generator)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}"


class CReLU(Module):
    """concat(relu(x), relu(-x)) along ``dim``. See fastnn.functional.crelu."""

    def __init__(self, dim=1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.crelu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class SReLU(Module):
    """S-shaped ReLU with four learnable parameters per channel (dim 1).

    Initialisation (deterministic, no draw): t_left = 0, a_left = 0.2, t_right = 1,
    a_right = 1 — the unit starts as LeakyReLU(0.2) (a_right = 1 makes the right
    segment continue the identity), so it trains like one until the thresholds and
    slopes move. See fastnn.functional.srelu for the formula.

    Args:
        num_parameters: 1 or the number of channels. dtype: parameter dtype.

    >>> import fastnn as fn
    >>> fn.nn.SReLU()(fn.tensor([[-1.0, 2.0]])).numpy()
    array([[-0.2,  2. ]], dtype=float32)
    """

    def __init__(self, num_parameters=1, dtype=np.float32):
        super().__init__()
        n = self.num_parameters = _checks.positive_int("SReLU", "num_parameters", num_parameters)
        self.t_left = Parameter(np.zeros(n, dtype))
        self.a_left = Parameter(np.full(n, 0.2, dtype))
        self.t_right = Parameter(np.ones(n, dtype))
        self.a_right = Parameter(np.ones(n, dtype))

    def forward(self, input):
        return F.srelu(input, self.t_left, self.a_left, self.t_right, self.a_right)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x if x > 0 else alpha (exp(x) - 1). See fastnn.functional.elu."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, bool(inplace)

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class SELU(_Inplace):
    """Scaled ELU with the self-normalising constants. See fastnn.functional.selu."""

    def forward(self, input):
        return F.selu(input, self.inplace)


class CELU(Module):
    """x if x > 0 else alpha (exp(x / alpha) - 1). See fastnn.functional.celu."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        if alpha == 0:
            raise ValueError("CELU: alpha must be non-zero, got 0.")
        self.alpha, self.inplace = alpha, bool(inplace)

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class GELU(Module):
    """x Φ(x); approximate='tanh' for the tanh form. See fastnn.functional.gelu."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}.")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(_Inplace):
    """x sigmoid(x). See fastnn.functional.silu."""

    def forward(self, input):
        return F.silu(input, self.inplace)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear above threshold. See fastnn.functional.softplus."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """x / (1 + |x|). See fastnn.functional.softsign."""

    def forward(self, input):
        return F.softsign(input)


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, input):
        return F.tanh(input)


def _implicit_dim(ndim):
    # torch's legacy rule for Softmax(dim=None), with torch's deprecation warning
    warnings.warn("Implicit dimension choice for softmax has been deprecated. "
                  "Change the call to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """softmax along ``dim`` (None: torch's legacy implicit choice, with its warning)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        dim = self.dim if self.dim is not None else \
            _implicit_dim(np.ndim(getattr(input, "data", input)))
        return F.softmax(input, dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log_softmax along ``dim`` (None: torch's legacy implicit choice, with its warning)."""

    def forward(self, input):
        dim = self.dim if self.dim is not None else \
            _implicit_dim(np.ndim(getattr(input, "data", input)))
        return F.log_softmax(input, dim)


class Maxout(Module):
    """Max over consecutive groups of ``pool_size`` along ``dim``. See fastnn.functional.maxout.

    >>> import fastnn as fn
    >>> fn.nn.Maxout(2)(fn.tensor([[1.0, 5.0, -2.0, -3.0]])).numpy()
    array([[ 5., -2.]], dtype=float32)
    """

    def __init__(self, pool_size, dim=-1):
        super().__init__()
        self.pool_size, self.dim = _checks.positive_int("Maxout", "pool_size", pool_size), dim

    def forward(self, input):
        return F.maxout(input, self.pool_size, self.dim)

    def extra_repr(self):
        return f"pool_size={self.pool_size}, dim={self.dim}"
