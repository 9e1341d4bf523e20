"""Keras-style layers (``fn.layers``) on fastnn's engine. Input sizes are inferred on
first call; a layer given ``input_shape`` builds at once.

Layers are fn.nn Modules, so they train with the same autograd and optimizers.
"""
import math

import numpy as np

from . import activations as _activations
from . import functional as F
from .nn.module import Module, Parameter
from .random import resolve
from .tensor import as_tensor, empty_aligned

__all__ = ["Layer", "Dense", "Flatten", "Dropout", "Activation", "LAYERS"]


def _positive_int(where, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{where}: expected a positive int, got {v!r}.")
    return int(v)


def _activation_name(activation):
    """Registered name of ``activation``; None for a custom callable (not saveable)."""
    try:
        return _activations.serialize(activation)
    except ValueError:
        if callable(activation):
            return None
        raise


class Layer(Module):
    """Base Keras-style layer: ``build(input_shape)`` on first call, ``get_config()``."""

    def __init__(self, input_shape=None, name=None):
        super().__init__()
        self.built = False
        self.name = name or type(self).__name__.lower()
        self.input_shape = None if input_shape is None else tuple(input_shape)

    def build(self, input_shape):
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def __call__(self, x):
        x = as_tensor(x, f"{self.name} input")
        if not self.built:
            self.build(x.shape)
        return self.forward(x)

    def get_config(self):
        return {"name": self.name}

    def count_params(self):
        return int(sum(p.size for p in self.parameters()))


class Dense(Layer):
    """y = activation(x · kernel + bias), kernel glorot-uniform, bias zeros (Keras defaults).

    Args:
        units: output size. activation: name or callable (None: linear).
        use_bias: add a bias. input_shape: (features,) to build at once.

    >>> import fastnn as fn
    >>> d = fn.layers.Dense(3, activation="relu", input_shape=(4,))
    >>> d(fn.tensor([[1.0, 2.0, 3.0, 4.0]])).shape
    (1, 3)
    """

    def __init__(self, units, activation=None, use_bias=True, input_shape=None, name=None,
                 generator=None):
        super().__init__(input_shape, name)
        self.units = _positive_int("Dense units", units)
        self.activation = _activations.get(activation)
        self.activation_name = _activation_name(activation)
        self.use_bias = bool(use_bias)
        self._generator = generator
        if input_shape is not None:
            self.build((None,) + self.input_shape)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        limit = math.sqrt(6.0 / (fan_in + self.units))
        g = resolve(self._generator).numpy
        # stored as (units, in): the layout F.linear multiplies without a transpose copy
        w = empty_aligned((self.units, fan_in), np.float32)
        w[...] = g.uniform(-limit, limit, (self.units, fan_in))
        self.weight = Parameter(w)
        if self.use_bias:
            b = empty_aligned(self.units, np.float32)
            b[...] = 0
            self.bias = Parameter(b)
        else:
            self.bias = None
        self.built = True

    def forward(self, x):
        y = F.linear(x, self.weight, self.bias)
        return y if self.activation is None else self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {"name": self.name, "units": self.units, "activation": self.activation_name,
                "use_bias": self.use_bias}


class Flatten(Layer):
    """Flatten all but the batch axis."""

    def forward(self, x):
        return x.reshape(x.shape[0], -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:])))


class Dropout(Layer):
    """Randomly zero a fraction ``rate`` of inputs while training (scaled by 1/(1-rate))."""

    def __init__(self, rate, seed=None, input_shape=None, name=None):
        super().__init__(input_shape, name)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout rate: expected a value in [0, 1), got {rate!r}.")
        self.rate, self.seed = float(rate), seed
        self._gen = None if seed is None else resolve(int(seed))

    def forward(self, x):
        return F.dropout(x, p=self.rate, training=self.training, generator=self._gen)

    def get_config(self):
        return {"name": self.name, "rate": self.rate, "seed": self.seed}


class Activation(Layer):
    """Apply a named activation."""

    def __init__(self, activation, input_shape=None, name=None):
        super().__init__(input_shape, name)
        self.activation = _activations.get(activation)
        self.activation_name = _activation_name(activation)

    def forward(self, x):
        return x if self.activation is None else self.activation(x)

    def get_config(self):
        return {"name": self.name, "activation": self.activation_name}


LAYERS = {cls.__name__: cls for cls in (Dense, Flatten, Dropout, Activation)}
