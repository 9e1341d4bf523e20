"""Keras-style weight initializers (``fn.initializers``), same names, arguments and
distributions as Keras 3; the values are drawn by ``fn.nn.init`` from fastnn's seeded
generator.

Fans follow Keras's convention for the shape asked for: (fan_in, fan_out) =
(shape[0], shape[1]) for a matrix, and for a kernel (..., in, out) the receptive field
times in and out.

>>> import fastnn as fn
>>> w = fn.initializers.GlorotUniform(seed=0)((4, 3))
>>> w.shape, bool((abs(w.numpy()) <= (6 / 7) ** 0.5).all())
((4, 3), True)
"""
import math

import numpy as np

from .nn import init as _init
from .random import Generator, resolve
from .tensor import Tensor, empty_aligned

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal",
           "HeUniform", "HeNormal", "LecunUniform", "LecunNormal", "compute_fans", "get"]


def compute_fans(shape):
    """Keras's (fan_in, fan_out) for a weight of ``shape``.

    >>> compute_fans((3, 3, 8, 16))
    (72, 144)
    """
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``init(shape, dtype=None)`` returns a new Tensor of that shape.

    Subclasses implement ``fill(tensor, generator)``, or ``__call__(shape, dtype=None)``
    returning an array as in Keras; ``seed`` (int or fastnn.random.Generator) makes the
    draw reproducible, else the default generator (``fn.manual_seed``) is used.

    >>> import numpy as np, fastnn as fn
    >>> class Constant3(fn.initializers.Initializer):
    ...     def __call__(self, shape, dtype=None):
    ...         return np.full(shape, 3.0, dtype or 'float32')
    >>> fn.layers.Dense(2, kernel_initializer=Constant3(), input_shape=(1,)).get_weights()[0]
    array([[3., 3.]], dtype=float32)
    """

    def __init__(self, seed=None):
        if seed is not None and not isinstance(seed, Generator) and (
                isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise TypeError(f"{type(self).__name__}: seed must be None, an int or a "
                            f"fastnn.random.Generator, got {type(seed).__name__} {seed!r}.")
        self.seed = seed
        self._generator = None if seed is None else resolve(seed)

    def __call__(self, shape, dtype=None, generator=None):
        t = Tensor._wrap(empty_aligned(tuple(int(d) for d in shape),
                                       np.dtype(dtype or np.float32)))
        return self.fill(t, self._generator if self._generator is not None else generator)

    def fill(self, t, generator=None):
        raise NotImplementedError(f"{type(self).__name__} does not define fill().")

    def get_config(self):
        return {"seed": self.seed} if isinstance(self.seed, (int, np.integer)) else {}

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class Zeros(Initializer):
    """All zeros.

    >>> Zeros()((2,)).numpy()
    array([0., 0.], dtype=float32)
    """

    def __init__(self):
        super().__init__()

    def fill(self, t, generator=None):
        return _init.zeros_(t)


class Ones(Initializer):
    """All ones.

    >>> Ones()((2,)).numpy()
    array([1., 1.], dtype=float32)
    """

    def __init__(self):
        super().__init__()

    def fill(self, t, generator=None):
        return _init.ones_(t)


class Constant(Initializer):
    """Every element equal to ``value``.

    >>> Constant(0.5)((2,)).numpy()
    array([0.5, 0.5], dtype=float32)
    """

    def __init__(self, value=0.0):
        super().__init__()
        self.value = float(value)

    def fill(self, t, generator=None):
        return _init.constant_(t, self.value)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    """Normal(mean, stddev); Keras's default stddev 0.05.

    >>> RandomNormal(seed=1)((3,)).shape
    (3,)
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def fill(self, t, generator=None):
        return _init.normal_(t, self.mean, self.stddev, generator)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(Initializer):
    """Uniform[minval, maxval); Keras's defaults ±0.05.

    >>> bool((abs(RandomUniform(seed=1)((100,)).numpy()) <= 0.05).all())
    True
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def fill(self, t, generator=None):
        return _init.uniform_(t, self.minval, self.maxval, generator)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class TruncatedNormal(Initializer):
    """Normal(mean, stddev) with values beyond two standard deviations drawn again.

    >>> bool((abs(TruncatedNormal(seed=1)((100,)).numpy()) <= 0.1).all())
    True
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def fill(self, t, generator=None):
        return _init.trunc_normal_(t, self.mean, self.stddev, self.mean - 2 * self.stddev,
                                   self.mean + 2 * self.stddev, generator)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class VarianceScaling(Initializer):
    """Keras's VarianceScaling: n = fan_in, fan_out or their mean (``mode``);
    'truncated_normal' draws N(0, sqrt(scale/n)/0.8796...) truncated at two standard
    deviations, 'untruncated_normal' N(0, sqrt(scale/n)), 'uniform' U(±sqrt(3 scale/n)).

    >>> VarianceScaling(2.0, "fan_in", "uniform", seed=0)((8, 4)).shape
    (8, 4)
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform", "normal")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if not scale > 0:
            raise ValueError(f"{type(self).__name__}: scale must be positive, got {scale!r}.")
        if mode not in self._MODES:
            raise ValueError(f"{type(self).__name__}: mode must be one of {self._MODES}, "
                             f"got {mode!r}.")
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"{type(self).__name__}: distribution must be one of "
                             f"{self._DISTRIBUTIONS}, got {distribution!r}.")
        self.scale, self.mode = float(scale), mode
        self.distribution = "truncated_normal" if distribution == "normal" else distribution

    def fill(self, t, generator=None):
        fan_in, fan_out = compute_fans(t.shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            std = math.sqrt(scale) / 0.87962566103423978
            return _init.trunc_normal_(t, 0.0, std, -2 * std, 2 * std, generator)
        if self.distribution == "untruncated_normal":
            return _init.normal_(t, 0.0, math.sqrt(scale), generator)
        limit = math.sqrt(3.0 * scale)
        return _init.uniform_(t, -limit, limit, generator)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


def _variance_scaling(cls_name, scale, mode, distribution, doc):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return Initializer.get_config(self)
    doc += f"""

    >>> import fastnn as fn
    >>> w = fn.initializers.{cls_name}(seed=0)((64, 32)).numpy()
    >>> w.shape, str(w.dtype)
    ((64, 32), 'float32')
    """
    return type(cls_name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                               "__doc__": doc, "__module__": __name__})


GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform",
                                  "U(±sqrt(6 / (fan_in + fan_out))): Keras's default kernel "
                                  "initializer.")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                                 "Truncated normal, stddev sqrt(2 / (fan_in + fan_out)).")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform",
                              "U(±sqrt(6 / fan_in)).")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal",
                             "Truncated normal, stddev sqrt(2 / fan_in).")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform",
                                 "U(±sqrt(3 / fan_in)).")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal",
                                "Truncated normal, stddev sqrt(1 / fan_in).")

_CLASSES = (Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
            VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform,
            LecunNormal)


def _snake(name):
    return "".join(("_" + c.lower()) if c.isupper() and i else c.lower()
                   for i, c in enumerate(name))


ALL_INITIALIZERS = {**{c.__name__: c for c in _CLASSES},
                    **{_snake(c.__name__): c for c in _CLASSES},
                    "zero": Zeros, "one": Ones, "normal": RandomNormal, "uniform": RandomUniform}


def get(identifier):
    """An Initializer from a name ('glorot_uniform', 'he_normal', 'zeros', ... or the
    class name), a class, or an instance; any other callable ``f(shape, dtype=None)``
    is returned as is, as in Keras.

    Raises:
        ValueError: an unknown name (the valid ones are listed). TypeError: anything else.

    >>> get("he_normal")
    HeNormal()
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, str):
        cls = ALL_INITIALIZERS.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown initializer {identifier!r}; the valid names are: "
                             f"{', '.join(sorted(ALL_INITIALIZERS))}.")
        return cls()
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    raise TypeError(f"initializers.get: expected an initializer name, class, instance or "
                    f"callable, got "
                    f"{type(identifier).__name__} {identifier!r}.")
