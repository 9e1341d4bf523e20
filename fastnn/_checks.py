"""Argument checks for every public boundary: one argument order, one message format,
one dtype policy.

Every check is ``check(where, name, value, ...)``: ``where`` is the public callable
the user called ("conv2d", "Conv2d", "Adam"), ``name`` the argument as they spelled
it. It returns the value normalised (an int, a float, a pair, a Tensor) or raises

    "{where}: {name} must be {what was expected}, got {what was received}."

with a hint on how to fix it where one helps. A value of the wrong type raises
:class:`ArgumentTypeError`, a TypeError that is also a ValueError (as scikit-learn's
``InvalidParameterError``), so callers that catch either keep working; a value of
the right type out of range raises ValueError. Checks that no helper here covers
build their message with :func:`error`, in the same format.

Dtype policy, decided here and nowhere else:

* float32 and float64 in native byte order are what the compiled kernels are built
  for (``KERNEL_FLOATS``): they pass through, never copied.
* float16, and bfloat16 where ml_dtypes registers it with NumPy, are computed in
  float32 and the result is returned in the input's dtype, as torch's CPU ops do.
* Non-native byte order ('>f4' on x86) is converted to native order once, here.
* Integer, bool, complex and every other dtype are refused by float ops with a
  TypeError naming the argument and the fix (``.astype(np.float32)``).

>>> from fastnn import _checks
>>> _checks.pair("conv2d", "stride", 2)
(2, 2)
>>> _checks.positive_int("Linear", "in_features", 0)
Traceback (most recent call last):
...
ValueError: Linear: in_features must be a positive int, got 0.
"""
import numbers

import numpy as np

from .autograd.cast import Cast

__all__ = ["ArgumentTypeError", "error", "integer", "positive_int", "real", "probability",
           "pair", "option", "dim", "tensor", "array", "float_input", "float_param",
           "kernel_dtype", "KERNEL_FLOATS", "typed", "is_int", "is_float", "numeric"]

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
KERNEL_FLOATS = (_F32, _F64)
_LOW_PRECISION = ("float16", "bfloat16")      # computed in float32
_FIX = "Convert it with .astype(np.float32)."

# fastnn.tensor's Tensor and as_array, bound by that module once they are defined
# (it imports this one)
Tensor = _as_array = None


def _bind(tensor_cls, as_array):
    global Tensor, _as_array
    Tensor, _as_array = tensor_cls, as_array


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (also a ValueError, so either ``except`` catches it)."""


def error(exc, where, name, expected, received, hint=""):
    """The exception ``exc`` with fastnn's message; ``raise`` it at the boundary.

    >>> error(ValueError, "pad", "mode", "'constant'", "'reflect'")
    ValueError("pad: mode must be 'constant', got 'reflect'.")
    """
    return exc(f"{where}: {name} must be {expected}, got {received}." + (f" {hint}" if hint else ""))


def typed(value):
    """What was received, for a type error: 'float 1.5', 'str 'a'', 'an array of ...'."""
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return f"{type(value).__name__} {value!r}"


def is_float(dtype):
    """Whether ``dtype`` is a floating point dtype (bfloat16 included).

    >>> is_float(np.dtype(np.float16)), is_float(np.dtype(np.int8))
    (True, False)
    """
    return dtype.kind == "f" or dtype.name == "bfloat16"


def _bound(low):
    return "positive" if low == 1 else "non-negative" if low == 0 else f">= {low}"


def is_int(value):
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


# --- numbers ------------------------------------------------------------------------------
def integer(where, name, value, low=None, high=None):
    """``value`` as an int in [low, high] (either bound may be None); bools are refused.

    >>> integer("maxout", "pool_size", 2, low=1)
    2
    """
    if low is not None and high is None and low in (0, 1):
        what = f"a {_bound(low)} int"
    elif low is None and high is None:
        what = "an int"
    elif high is None:
        what = f"an int >= {low}"
    elif low is None:
        what = f"an int <= {high}"
    else:
        what = f"an int in [{low}, {high}]"
    if not is_int(value):
        raise error(ArgumentTypeError, where, name, what, typed(value))
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise error(ValueError, where, name, what, repr(v))
    return v


def positive_int(where, name, value):
    """``value`` as an int >= 1.

    >>> positive_int("Dense", "units", 3)
    3
    """
    return integer(where, name, value, low=1)


def real(where, name, value, low=None, high=None, low_open=False, high_open=False, what=None):
    """``value`` as a float within the bounds (open or closed; None: unbounded).

    NaN passes only when there is no bound (it fails every comparison). ``what``
    replaces the description of the range in the message.

    >>> real("Adam", "lr", 1e-3, low=0.0)
    0.001
    >>> real("Adam", "lr", -1, low=0.0)
    Traceback (most recent call last):
    ...
    ValueError: Adam: lr must be a real number >= 0.0, got -1.0.
    """
    if what is None:
        lo = "" if low is None else f"{'>' if low_open else '>='} {low}"
        hi = "" if high is None else f"{'<' if high_open else '<='} {high}"
        if lo and hi:
            what = f"a real number in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        else:
            what = f"a real number {lo or hi}".rstrip()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise error(ArgumentTypeError, where, name, what, typed(value))
    v = float(value)
    ok = ((low is None or (v > low if low_open else v >= low))
          and (high is None or (v < high if high_open else v <= high)))
    if not ok:
        raise error(ValueError, where, name, what, repr(v))
    return v


def probability(where, name, value):
    """``value`` as a float in [0, 1] (NaN refused).

    >>> probability("dropout", "p", 0.25)
    0.25
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise error(ArgumentTypeError, where, name, "a float in [0, 1]", typed(value))
    return real(where, name, value, 0.0, 1.0, what="a probability in [0, 1]")


def pair(where, name, value, low=1, one=True):
    """(a, b) from an int or a pair of ints, each >= low, as torch's ``_pair``; a
    one-element sequence counts as its element unless ``one=False`` (Keras).

    >>> pair("max_pool2d", "padding", (0, 1), low=0)
    (0, 1)
    """
    if isinstance(value, (tuple, list)):
        if len(value) == 1 and one:
            value = (value[0], value[0])
        if len(value) != 2:
            raise error(ArgumentTypeError, where, name, "an int or a pair of ints", repr(value))
        return _pair_item(where, name, value[0], low), _pair_item(where, name, value[1], low)
    a = _pair_item(where, name, value, low)
    return a, a


def _pair_item(where, name, v, low):
    if not is_int(v):
        raise error(ArgumentTypeError, where, name, "an int or a pair of ints", typed(v))
    v = int(v)
    if v < low:
        raise error(ValueError, where, name, _bound(low), repr(v))
    return v


def option(where, name, value, options):
    """``value`` when it is one of ``options`` (compared with ==).

    >>> option("gelu", "approximate", "tanh", ("none", "tanh"))
    'tanh'
    >>> option("mse_loss", "reduction", "avg", ("none", "mean", "sum"))
    Traceback (most recent call last):
    ...
    ValueError: mse_loss: reduction must be one of 'none', 'mean', 'sum', got 'avg'.
    """
    try:
        if value in options:
            return value
    except TypeError:        # unhashable or incomparable: not an option either
        pass
    names = [repr(o) for o in options]
    what = " or ".join(names) if len(names) == 2 else "one of " + ", ".join(names)
    raise error(ValueError, where, name, what, repr(value))


def dim(where, name, value, ndim):
    """A dimension index of an ``ndim``-dimensional input, made non-negative (a
    0-d input takes dim 0 or -1, as torch).

    >>> dim("softmax", "dim", -1, 3)
    2
    """
    n = max(ndim, 1)
    what = f"in [{-n}, {n - 1}] for an input with {ndim} dimensions"
    if not is_int(value):
        raise error(ArgumentTypeError, where, name, "an int", typed(value))
    if not -n <= value < n:
        raise error(ValueError, where, name, what, repr(int(value)))
    return int(value) % n


# --- arrays and dtypes ----------------------------------------------------------------------
def kernel_dtype(where, name, dtype):
    """The dtype a float op computes in for input of ``dtype``: itself for
    float32/float64, float32 for float16 and bfloat16, the native-order twin of a
    byte-swapped float; TypeError for anything else.

    >>> kernel_dtype("relu", "input", np.dtype(">f8"))
    dtype('float64')
    """
    if dtype is _F32 or dtype is _F64:
        return dtype
    if dtype.name in _LOW_PRECISION:
        return _F32
    if dtype.kind == "f" and dtype.itemsize in (4, 8):
        return dtype.newbyteorder("=")
    raise error(ArgumentTypeError, where, name, "floating point (float16, float32 or float64)",
                f"dtype {dtype}", _FIX)


def numeric(where, arr):
    """Refuse arrays that are not numbers (object, string, complex, structured ...);
    ``where`` names the argument."""
    d = arr.dtype
    if d.kind not in "fiub" and d.name != "bfloat16":
        raise TypeError(f"{where}: expected numeric data (float, int or bool), got an array of "
                        f"dtype {d} (shape {arr.shape}).")


def array(where, name, value, dtype=None):
    """``value`` as an ndarray (a Tensor's data, no copy for ndarrays) of numeric dtype."""
    return _as_array(value, dtype=dtype, where=f"{where} {name}")


def tensor(where, name, value):
    """``value`` as a Tensor (no copy for Tensors and ndarrays) of numeric dtype."""
    if isinstance(value, Tensor):
        return value
    return Tensor._wrap(array(where, name, value))


def _same(t):
    return t


class _Restore:
    """Casts an op's float32 result back to the caller's dtype (differentiably); for
    an in-place op, also writes it into the caller's buffer."""

    __slots__ = ("like", "inplace")

    def __init__(self, like, inplace):
        self.like, self.inplace = like, inplace

    def __call__(self, y):
        out = Cast.apply(y, dtype=self.like.data.dtype)
        if self.inplace:
            self.like.data[...] = out.data
            out.data = self.like.data
        return out


def float_input(where, name, x, inplace=False):
    """(x as a Tensor the kernels take, ``back``): ``back(y)`` returns the op's result
    ``y`` in x's dtype, and for ``inplace`` in x's buffer.

    float32/float64 Tensors and arrays pass through (``back`` is the identity);
    float16, bfloat16 and byte-swapped floats are cast to their kernel dtype (a
    differentiable cast, so gradients come back in x's dtype); anything else raises
    TypeError naming ``name``.

    >>> import numpy as np
    >>> t, back = float_input("relu", "input", np.ones(2, np.float16))
    >>> t.dtype, back(t).dtype
    (dtype('float32'), dtype('float16'))
    """
    if type(x) is not Tensor and not isinstance(x, Tensor):
        x = Tensor._wrap(array(where, name, x))
    d = x.data.dtype
    if d is _F32 or d is _F64:
        return x, _same
    k = kernel_dtype(where, name, d)
    if k == d:       # a kernel float that is not the builtin descriptor object
        return x, _same
    return Cast.apply(x, dtype=k), _Restore(x, inplace)


def float_param(where, name, p, dtype):
    """Parameter ``p`` (Tensor or array-like) as a Tensor the kernels take alongside
    an input computed in ``dtype``.

    Arrays are cast to ``dtype``; a Tensor keeps a kernel float dtype (the op casts
    it, and the gradient comes back in it) and is cast differentiably from float16,
    bfloat16 or a byte-swapped float; non-float values raise TypeError.
    """
    if not isinstance(p, Tensor):
        return Tensor._wrap(array(where, name, p).astype(dtype, copy=False))
    d = p.data.dtype
    if d is _F32 or d is _F64:
        return p
    k = kernel_dtype(where, name, d)
    return p if k == d else Cast.apply(p, dtype=dtype)
