"""Weight initialisers, drawing from fastnn's seeded generator (as torch.nn.init)."""
import math

import numpy as np

from ..random import resolve

__all__ = ["uniform_", "normal_", "trunc_normal_", "zeros_", "ones_", "constant_",
           "kaiming_uniform_", "xavier_uniform_", "xavier_normal_",
           "calculate_fan_in_and_fan_out"]


def calculate_fan_in_and_fan_out(shape):
    if len(shape) < 2:
        raise ValueError(f"fan in/out need at least 2 dimensions, got shape {shape}.")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fill(t, values):
    t.data[...] = values
    return t


def uniform_(t, a=0.0, b=1.0, generator=None):
    return _fill(t, resolve(generator).numpy.uniform(a, b, t.shape))


def normal_(t, mean=0.0, std=1.0, generator=None):
    return _fill(t, resolve(generator).numpy.normal(mean, std, t.shape))


def trunc_normal_(t, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Normal(mean, std) truncated to [a, b] (absolute bounds, as torch): values
    outside are drawn again.

    >>> import numpy as np, fastnn as fn
    >>> t = fn.nn.init.trunc_normal_(fn.nn.Parameter(np.zeros(1000)), a=-0.5, b=0.5)
    >>> bool((abs(t.numpy()) <= 0.5).all())
    True
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a!r}, b={b!r}.")
    rng = resolve(generator).numpy
    out = rng.normal(mean, std, t.shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(t, out)


def zeros_(t):
    return _fill(t, 0)


def ones_(t):
    return _fill(t, 1)


def constant_(t, val):
    return _fill(t, val)


def kaiming_uniform_(t, a=0.0, generator=None):
    """He uniform with leaky-relu gain (torch's Linear default uses a=√5)."""
    fan_in, _ = calculate_fan_in_and_fan_out(t.shape)
    gain = math.sqrt(2.0 / (1 + a * a))
    bound = gain * math.sqrt(3.0 / fan_in) if fan_in else 0.0
    return uniform_(t, -bound, bound, generator)


def xavier_uniform_(t, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(t.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, generator)


def xavier_normal_(t, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(t.shape)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)
