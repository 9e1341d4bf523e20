"""Keras-style weight regularizers (``fn.regularizers``): a penalty on a weight that
``fit`` adds to the loss, same names, defaults and formulas as Keras 3.

>>> import fastnn as fn
>>> fn.regularizers.L2(0.5)(fn.tensor([1.0, 2.0])).item()
2.5
"""
import numbers

__all__ = ["Regularizer", "L1", "L2", "L1L2", "get", "serialize"]


def _factor(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{owner}: {name} must be a non-negative number, got {value!r}.")
    return float(value)


class Regularizer:
    """Base class: ``regularizer(weight) -> scalar Tensor`` (differentiable).

    >>> import numpy as np, fastnn as fn
    >>> class HalfSquares(fn.regularizers.Regularizer):
    ...     def __call__(self, w):
    ...         return 0.5 * (w * w).sum()
    >>> dense = fn.layers.Dense(1, kernel_regularizer=HalfSquares(), kernel_initializer='ones',
    ...                         input_shape=(2,))
    >>> _ = dense(np.ones((1, 2), np.float32)); [float(l) for l in dense.losses]
    [1.0]
    """

    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not define __call__.")

    def get_config(self):
        return {}

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class L1L2(Regularizer):
    """l1·Σ|x| + l2·Σx² (defaults 0, as Keras's L1L2).

    >>> import fastnn as fn
    >>> L1L2(l1=1.0, l2=1.0)(fn.tensor([-1.0, 2.0])).item()
    8.0
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(type(self).__name__, "l1", l1)
        self.l2 = _factor(type(self).__name__, "l2", l2)

    def __call__(self, x):
        out = None
        if self.l1:
            out = x.abs().sum() * self.l1
        if self.l2:
            sq = (x * x).sum() * self.l2
            out = sq if out is None else out + sq
        return x.sum() * 0.0 if out is None else out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """l1·Σ|x|, default l1=0.01.

    >>> import fastnn as fn
    >>> L1()(fn.tensor([-1.0, 2.0])).item()
    0.03
    """

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """l2·Σx², default l2=0.01.

    >>> import fastnn as fn
    >>> round(L2()(fn.tensor([-1.0, 2.0])).item(), 6)
    0.05
    """

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


_NAMES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def serialize(regularizer):
    """Plain data that ``get`` turns back into ``regularizer`` (None for None).

    >>> serialize(L2(0.1))
    {'class_name': 'L2', 'config': {'l2': 0.1}}
    """
    if regularizer is None:
        return None
    if type(regularizer).__name__ not in _NAMES or not isinstance(regularizer, Regularizer):
        raise ValueError(f"regularizers: cannot save the custom regularizer {regularizer!r}; "
                         f"use L1, L2 or L1L2.")
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def get(identifier):
    """A Regularizer from None, a name ('l1', 'l2', 'l1_l2'), a class, an instance or
    ``serialize``'s output.

    >>> get("l2")
    L2(l2=0.01)
    """
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if isinstance(identifier, dict) and identifier.get("class_name") in ("L1", "L2", "L1L2"):
        return _NAMES[identifier["class_name"]](**identifier.get("config", {}))
    if isinstance(identifier, str):
        if identifier not in _NAMES:
            raise ValueError(f"Unknown regularizer {identifier!r}; the valid names are: "
                             f"{', '.join(sorted(_NAMES))}.")
        return _NAMES[identifier]()
    if callable(identifier):
        return identifier
    raise TypeError(f"regularizers.get: expected None, a regularizer name, class, instance or "
                    f"callable, got {type(identifier).__name__} {identifier!r}.")
