"""Tensor creation (same names, arguments and default dtypes as torch): ``zeros``,
``ones``, ``full``, ``empty`` and their ``*_like`` forms, ``rand``, ``randn``,
``randint``, ``randperm``, ``arange``, ``linspace``, ``eye``, ``from_numpy``,
``as_tensor``; and torch's dtype names (``fn.float32``, ``fn.long``, ...), which are
NumPy dtypes.

Floats default to float32; random draws come from ``generator=`` or fastnn's default
generator (``fn.manual_seed``); ``device`` may only be the CPU.

>>> import fastnn as fn
>>> fn.zeros(2, 3).shape, fn.arange(5).dtype, fn.full((2,), 1.5).dtype
((2, 3), dtype('int64'), dtype('float32'))
"""
import numbers

import numpy as np

from ._device import check_device
from .random import resolve
from .tensor import Tensor, _size, as_array

__all__ = ["zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
           "rand", "randn", "rand_like", "randn_like", "randint", "randperm", "arange", "linspace",
           "eye", "from_numpy", "as_tensor", "get_default_dtype", "is_tensor", "numel", "DTYPES"]

#: torch's dtype names, as NumPy dtypes (``x.dtype == fn.long`` works as in torch).
DTYPES = {
    "float32": np.dtype(np.float32), "float": np.dtype(np.float32),
    "float64": np.dtype(np.float64), "double": np.dtype(np.float64),
    "float16": np.dtype(np.float16), "half": np.dtype(np.float16),
    "int64": np.dtype(np.int64), "long": np.dtype(np.int64),
    "int32": np.dtype(np.int32), "int": np.dtype(np.int32),
    "int16": np.dtype(np.int16), "short": np.dtype(np.int16),
    "int8": np.dtype(np.int8), "uint8": np.dtype(np.uint8),
    "bool": np.dtype(np.bool_),
}

_FLOAT = np.dtype(np.float32)


def get_default_dtype():
    """float32, fastnn's (and torch's) default float dtype.

    >>> import fastnn as fn
    >>> fn.get_default_dtype()
    dtype('float32')
    """
    return _FLOAT


def _dtype(dtype, default, where):
    if dtype is None:
        return np.dtype(default)
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: dtype must be a dtype such as fn.float32, got "
                        f"{type(dtype).__name__} {dtype!r}.") from None


def _make(arr, requires_grad, device, where):
    check_device(device, where)
    return Tensor(arr, requires_grad=requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros of shape ``size`` (ints or one tuple), float32 by default.

    >>> import fastnn as fn
    >>> fn.zeros((2,), dtype=fn.long)
    tensor([0, 0])
    """
    return _make(np.zeros(_size(size, "zeros"), _dtype(dtype, _FLOAT, "zeros")), requires_grad,
                 device, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones of shape ``size``, float32 by default.

    >>> import fastnn as fn
    >>> fn.ones(2)
    tensor([1., 1.])
    """
    return _make(np.ones(_size(size, "ones"), _dtype(dtype, _FLOAT, "ones")), requires_grad,
                 device, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of shape ``size``, float32 by default.

    >>> import fastnn as fn
    >>> fn.empty(2, 2).shape
    (2, 2)
    """
    return _make(np.empty(_size(size, "empty"), _dtype(dtype, _FLOAT, "empty")), requires_grad,
                 device, "empty")


def _fill_dtype(value):
    if isinstance(value, (bool, np.bool_)):
        return np.bool_
    if isinstance(value, numbers.Integral):
        return np.int64
    return _FLOAT


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of shape ``size`` filled with ``fill_value``; the dtype follows the value
    (bool, int64, or float32) unless given.

    >>> import fastnn as fn
    >>> fn.full((2, 2), 7)
    tensor([[7, 7],
            [7, 7]])
    """
    if isinstance(size, (int, np.integer)):
        size = (size,)
    dt = _dtype(dtype, _fill_dtype(fill_value), "full")
    return _make(np.full(_size((size,), "full"), fill_value, dt), requires_grad, device, "full")


def _like(input, dtype, where):
    a = input.data if isinstance(input, Tensor) else as_array(input, where=f"{where} input")
    return a.shape, (a.dtype if dtype is None else _dtype(dtype, None, where))


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    """Zeros of ``input``'s shape and dtype.

    >>> import fastnn as fn
    >>> fn.zeros_like(fn.tensor([1, 2]))
    tensor([0, 0])
    """
    shape, dt = _like(input, dtype, "zeros_like")
    return _make(np.zeros(shape, dt), requires_grad, device, "zeros_like")


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    """Ones of ``input``'s shape and dtype.

    >>> import fastnn as fn
    >>> fn.ones_like(fn.zeros(2, dtype=fn.float64))
    tensor([1., 1.], dtype=float64)
    """
    shape, dt = _like(input, dtype, "ones_like")
    return _make(np.ones(shape, dt), requires_grad, device, "ones_like")


def empty_like(input, *, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of ``input``'s shape and dtype.

    >>> import fastnn as fn
    >>> fn.empty_like(fn.zeros(2, 3)).shape
    (2, 3)
    """
    shape, dt = _like(input, dtype, "empty_like")
    return _make(np.empty(shape, dt), requires_grad, device, "empty_like")


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    """``fill_value`` in ``input``'s shape and dtype.

    >>> import fastnn as fn
    >>> fn.full_like(fn.zeros(2), 0.5)
    tensor([0.5, 0.5])
    """
    shape, dt = _like(input, dtype, "full_like")
    return _make(np.full(shape, fill_value, dt), requires_grad, device, "full_like")


def _float_dtype(dtype, where):
    dt = _dtype(dtype, _FLOAT, where)
    if dt.kind != "f":
        raise TypeError(f"{where}: expected a floating point dtype, got {dt}.")
    return dt


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1), float32 by default.

    >>> import fastnn as fn
    >>> x = fn.rand(3, generator=fn.random.Generator(0)); bool((x >= 0).all() and (x < 1).all())
    True
    """
    dt = _float_dtype(dtype, "rand")
    rng = resolve(generator).numpy
    shape = _size(size, "rand")
    arr = rng.random(shape, dtype=dt) if dt in (np.float32, np.float64) else \
        rng.random(shape).astype(dt)
    return _make(arr, requires_grad, device, "rand")


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples, float32 by default.

    >>> import fastnn as fn
    >>> fn.randn(2, 3, generator=fn.random.Generator(0)).shape
    (2, 3)
    """
    dt = _float_dtype(dtype, "randn")
    rng = resolve(generator).numpy
    shape = _size(size, "randn")
    arr = rng.standard_normal(shape, dtype=dt) if dt in (np.float32, np.float64) else \
        rng.standard_normal(shape).astype(dt)
    return _make(arr, requires_grad, device, "randn")


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform [0, 1) samples in ``input``'s shape and (float) dtype.

    >>> import fastnn as fn
    >>> fn.rand_like(fn.zeros(2, dtype=fn.float64)).dtype
    dtype('float64')
    """
    shape, dt = _like(input, dtype, "rand_like")
    return rand(shape, generator=generator, dtype=dt, device=device, requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples in ``input``'s shape and (float) dtype.

    >>> import fastnn as fn
    >>> fn.randn_like(fn.zeros(2, 3)).shape
    (2, 3)
    """
    shape, dt = _like(input, dtype, "randn_like")
    return randn(shape, generator=generator, dtype=dt, device=device, requires_grad=requires_grad)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform integers in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``,
    int64 by default.

    >>> import fastnn as fn
    >>> x = fn.randint(3, 7, (100,)); x.dtype, int(x.min()) >= 3, int(x.max()) < 7
    (dtype('int64'), True, True)
    """
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        low, (high, size) = 0, args
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size).")
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)):
            raise TypeError(f"randint: {name} must be an int, got {type(v).__name__} {v!r}.")
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}.")
    dt = _dtype(dtype, np.int64, "randint")
    arr = resolve(generator).numpy.integers(low, high, size=_size((size,), "randint"))
    return _make(arr.astype(dt, copy=False), requires_grad, device, "randint")


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64 by default).

    >>> import fastnn as fn
    >>> sorted(fn.randperm(4).tolist())
    [0, 1, 2, 3]
    """
    if isinstance(n, bool) or not isinstance(n, (numbers.Integral, np.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}.")
    arr = resolve(generator).numpy.permutation(int(n)).astype(_dtype(dtype, np.int64, "randperm"))
    return _make(arr, requires_grad, device, "randperm")


def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` up to (not including) ``end`` by ``step``: int64 when all three
    are ints, else float32 (as torch).

    >>> import fastnn as fn
    >>> fn.arange(3), fn.arange(0, 1, 0.25)
    (tensor([0, 1, 2]), tensor([0.  , 0.25, 0.5 , 0.75]))
    """
    if end is None:
        start, end = 0, start
    for name, v in (("start", start), ("end", end), ("step", step)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"arange: {name} must be a number, got {type(v).__name__} {v!r}.")
    if step == 0:
        raise ValueError("arange: step must be nonzero.")
    if (end - start) * step < 0:
        raise ValueError(f"arange: upper bound and larger bound inconsistent with step sign "
                         f"(start={start}, end={end}, step={step}).")
    ints = all(isinstance(v, (numbers.Integral, np.integer)) for v in (start, end, step))
    dt = _dtype(dtype, np.int64 if ints else _FLOAT, "arange")
    if ints:
        arr = np.arange(start, end, step, dtype=np.int64).astype(dt, copy=False)
    else:
        n = int(np.ceil((end - start) / step))
        arr = (start + np.arange(n, dtype=np.float64) * step).astype(dt)
    return _make(arr, requires_grad, device, "arange")


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end inclusive (float32 by default).

    >>> import fastnn as fn
    >>> fn.linspace(0, 1, 5)
    tensor([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    if isinstance(steps, bool) or not isinstance(steps, (numbers.Integral, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}.")
    arr = np.linspace(start, end, int(steps)).astype(_dtype(dtype, _FLOAT, "linspace"))
    return _make(arr, requires_grad, device, "linspace")


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """The n x m identity (m = n by default), float32 by default.

    >>> import fastnn as fn
    >>> fn.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    return _make(np.eye(n, m, dtype=_dtype(dtype, _FLOAT, "eye")), requires_grad, device, "eye")


def from_numpy(ndarray):
    """A tensor sharing ``ndarray``'s memory and dtype (changes show in both).

    Raises:
        TypeError: not an ndarray, or an unsupported dtype.

    >>> import numpy as np, fastnn as fn
    >>> a = np.array([1.0, 2.0]); t = fn.from_numpy(a); a[0] = 5.0; t
    tensor([5., 2.], dtype=float64)
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__}).")
    return Tensor(ndarray)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory when it already is an ndarray or Tensor of
    that dtype (as torch's ``as_tensor``).

    >>> import numpy as np, fastnn as fn
    >>> a = np.zeros(2, np.float32); fn.as_tensor(a).numpy() is a
    True
    """
    check_device(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    arr = as_array(data, dtype=None if dtype is None else _dtype(dtype, None, "as_tensor"),
                   where="as_tensor")
    return Tensor._wrap(arr)


def is_tensor(obj):
    """True for a fastnn Tensor.

    >>> import fastnn as fn
    >>> fn.is_tensor(fn.zeros(1)), fn.is_tensor([0.0])
    (True, False)
    """
    return isinstance(obj, Tensor)


def numel(input):
    """Number of elements of a tensor.

    >>> import fastnn as fn
    >>> fn.numel(fn.zeros(2, 3))
    6
    """
    return input.numel() if isinstance(input, Tensor) else np.size(input)
