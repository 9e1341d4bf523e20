"""Hyper-parameter checks for the fastnn.sklearn estimators, run at the start of
``fit``/``partial_fit`` (scikit-learn's convention: ``__init__`` only stores).

Messages follow scikit-learn's: "The 'alpha' parameter of MLPClassifier must be a
float in the range [0.0, inf). Got -1 instead."
"""
import numbers

import numpy as np

__all__ = ["InvalidParameterError", "check_params", "Options", "Real", "Integer", "Bool",
           "RandomState", "LayerSizes", "Verbose", "FloatDType", "Callable"]


class InvalidParameterError(ValueError, TypeError):
    """A hyper-parameter has a wrong type or value (a ValueError and a TypeError, as
    scikit-learn's own InvalidParameterError)."""


class Options:
    def __init__(self, *values):
        self.values = values

    def ok(self, v):
        return isinstance(v, str) and v in self.values

    def __str__(self):
        return "a str among {" + ", ".join(repr(v) for v in sorted(self.values)) + "}"


class Real:
    """A real number in [low, high], each end open or closed."""

    def __init__(self, low=None, high=None, closed="both"):
        self.low, self.high, self.closed = low, high, closed

    def ok(self, v):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or np.isnan(v):
            return False
        lo_closed = self.closed in ("both", "left")
        hi_closed = self.closed in ("both", "right")
        if self.low is not None and (v < self.low or (v == self.low and not lo_closed)):
            return False
        if self.high is not None and (v > self.high or (v == self.high and not hi_closed)):
            return False
        return True

    def _range(self):
        lo = "-inf" if self.low is None else float(self.low)
        hi = "inf" if self.high is None else float(self.high)
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        return f"{left}{lo}, {hi}{right}"

    def __str__(self):
        return f"a float in the range {self._range()}"


class Integer(Real):
    def ok(self, v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and super().ok(v)

    def __str__(self):
        return "an int in the range " + self._range().replace(".0", "")


class Bool:
    def ok(self, v):
        return isinstance(v, (bool, np.bool_))

    def __str__(self):
        return "an instance of 'bool'"


class Verbose:
    def ok(self, v):
        return isinstance(v, (bool, np.bool_, numbers.Integral))

    def __str__(self):
        return "an int or a bool"


class RandomState:
    def ok(self, v):
        return v is None or isinstance(v, np.random.RandomState) or (
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and 0 <= v < 2 ** 32)

    def __str__(self):
        return ("an int in the range [0, 4294967295], an instance of "
                "'numpy.random.RandomState' or None")


class LayerSizes:
    def ok(self, v):
        if isinstance(v, str):
            return False
        if isinstance(v, numbers.Integral) and not isinstance(v, bool):
            return v >= 1
        try:
            sizes = list(v)
        except TypeError:
            return False
        return all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1
                   for s in sizes)

    def __str__(self):
        return "an int >= 1 or an array-like of ints >= 1"


class FloatDType:
    """float32 or float64, as a name, a NumPy type or a dtype."""

    def ok(self, v):
        try:
            return np.dtype(v) in (np.dtype(np.float32), np.dtype(np.float64)) and v is not None
        except TypeError:
            return False

    def __str__(self):
        return "'float32' or 'float64'"


class Callable:
    def ok(self, v):
        return callable(v)

    def __str__(self):
        return "a callable"


def check_params(estimator, constraints):
    """Raise InvalidParameterError for the first parameter that meets none of its
    constraints (a list: any one may match)."""
    name = type(estimator).__name__
    for param, allowed in constraints.items():
        value = getattr(estimator, param)
        if not any(c is None and value is None or c is not None and c.ok(value) for c in allowed):
            kinds = [("None" if c is None else str(c)) for c in allowed]
            expected = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " or " + kinds[-1]
            raise InvalidParameterError(f"The {param!r} parameter of {name} must be {expected}. "
                                        f"Got {value!r} instead.")
