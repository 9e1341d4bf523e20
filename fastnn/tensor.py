"""``fn.Tensor``: an ndarray plus what autograd needs (``requires_grad``, ``.grad``,
and the node that produced it).

The chain rule at work, f(x, y, z) = (x + y) * z:

>>> import fastnn as fn
>>> x = fn.tensor(-2.0, requires_grad=True)
>>> y = fn.tensor(5.0, requires_grad=True)
>>> z = fn.tensor(-4.0, requires_grad=True)
>>> f = (x + y) * z
>>> f.backward()
>>> x.grad, y.grad, z.grad
(array(-4., dtype=float32), array(-4., dtype=float32), array(3., dtype=float32))
"""
import numbers

import numpy as np

from . import _checks
from .autograd import function as _function
from .autograd import tensor_ops as ops

__all__ = ["Tensor", "tensor", "as_tensor", "as_array", "empty_aligned"]

_DEFAULT_FLOAT = np.float32


def empty_aligned(shape, dtype=np.float32, align=64):
    """``np.empty`` whose data starts on an ``align``-byte boundary.

    Layer weights use it: NumPy's allocator aligns to 16 bytes only, and a weight
    row read with vector loads that straddle cache lines runs ~15% slower in the
    small-batch linear kernel.

    >>> empty_aligned((3, 5)).ctypes.data % 64
    0
    """
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    buf = np.empty(nbytes + align, np.uint8)
    start = -buf.ctypes.data % align
    return buf[start:start + nbytes].view(dtype).reshape(shape)


def as_array(data, dtype=None, where="input"):
    """Convert array-like ``data`` to an ndarray with fastnn's dtype rules.

    Float arrays keep their dtype; Python floats and lists of them become float32,
    Python ints int64. Object, string and complex data raise TypeError.
    """
    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, np.ndarray):
        arr = data
    else:
        try:
            arr = np.asarray(data)
        except ValueError as e:  # ragged nested lists
            raise ValueError(f"{where}: could not make an array from {type(data).__name__}: {e}") from None
        if arr.dtype == np.float64 and not isinstance(data, np.generic):
            arr = arr.astype(_DEFAULT_FLOAT)
    _checks.numeric(where, arr)
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    return arr


class Tensor:
    """An n-dimensional array that records operations for backpropagation.

    Args:
        data: ndarray (kept without a copy), Tensor, nested list or scalar.
        requires_grad: record operations on this tensor so ``backward`` reaches it.

    Attributes:
        data: the underlying ndarray. grad: ndarray or None.
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "__weakref__")
    __array_priority__ = 1000   # ndarray (op) Tensor defers to Tensor's reflected op

    def __init__(self, data, requires_grad=False):
        self.data = as_array(data, where="Tensor")
        self.grad = None
        self._node = None
        if requires_grad and not _checks.is_float(self.data.dtype):
            raise TypeError(f"Tensor: only floating point tensors can require grad, "
                            f"got dtype {self.data.dtype}.")
        self.requires_grad = bool(requires_grad)

    @classmethod
    def _wrap(cls, arr):
        t = object.__new__(Tensor)
        t.data = arr if type(arr) is np.ndarray else np.asarray(arr)
        t.grad = None
        t._node = None
        t.requires_grad = False
        return t

    # --- basic properties -------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def grad_fn(self):
        return self._node

    @property
    def is_leaf(self):
        return self._node is None

    def __len__(self):
        return len(self.data)

    def numpy(self):
        """The underlying ndarray (no copy)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def item(self):
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def detach(self):
        """A tensor sharing the data, cut from the graph."""
        return Tensor._wrap(self.data)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not _checks.is_float(self.data.dtype):
            raise TypeError(f"requires_grad_: only floating point tensors can require grad, "
                            f"got dtype {self.data.dtype}.")
        self.requires_grad = bool(requires_grad)
        return self

    def zero_grad(self):
        self.grad = None

    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` that requires grad.

        Args:
            grad: gradient w.r.t. this tensor; required unless it has one element.
            retain_graph: keep the graph's buffers for another backward.

        Raises:
            ValueError: non-scalar without ``grad``, or ``grad`` of another shape.
        """
        _function.backward(self, grad, retain_graph)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.data.dtype != _DEFAULT_FLOAT and _checks.is_float(self.data.dtype):
            extra = f", dtype={self.data.dtype}" + extra
        return f"tensor({body}{extra})"

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __hash__(self):
        return id(self)

    # --- arithmetic ---------------------------------------------------------------
    def __add__(self, other):
        return _binary(ops.Add, self, other, "+")

    def __radd__(self, other):
        return _binary(ops.Add, other, self, "+")

    def __sub__(self, other):
        return _binary(ops.Sub, self, other, "-")

    def __rsub__(self, other):
        return _binary(ops.Sub, other, self, "-")

    def __mul__(self, other):
        return _binary(ops.Mul, self, other, "*")

    def __rmul__(self, other):
        return _binary(ops.Mul, other, self, "*")

    def __truediv__(self, other):
        return _binary(ops.Div, self, other, "/")

    def __rtruediv__(self, other):
        return _binary(ops.Div, other, self, "/")

    def __pow__(self, other):
        return _binary(ops.Pow, self, other, "**")

    def __rpow__(self, other):
        return _binary(ops.Pow, other, self, "**")

    def __matmul__(self, other):
        return _matmul(self, other)

    def __rmatmul__(self, other):
        return _matmul(other, self)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __pos__(self):
        return self

    # comparisons give plain (non-differentiable) boolean tensors
    def __lt__(self, other):
        return Tensor._wrap(self.data < _raw(other))

    def __le__(self, other):
        return Tensor._wrap(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor._wrap(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor._wrap(self.data >= _raw(other))

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        return ops.GetItem.apply(self, index)

    # --- reductions and shape --------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return ops.Sum.apply(self, axis=_axis(axis, self.ndim), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops.Mean.apply(self, axis=_axis(axis, self.ndim), keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return ops.Max.apply(self, axis=_axis(axis, self.ndim), keepdims=keepdims)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            return ops.Reshape.apply(self, shape=shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} "
                             f"({self.size} elements) into shape {shape}.") from None

    view = reshape

    def flatten(self, start_dim=0):
        return self.reshape(self.shape[:start_dim] + (-1,))

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if axes and len(axes) != self.ndim:
            raise ValueError(f"transpose: axes {axes} do not match a tensor of {self.ndim} "
                             f"dimensions (shape {self.shape}).")
        return ops.Transpose.apply(self, axes=axes or None)

    @property
    def T(self):
        return ops.Transpose.apply(self, axes=None)

    # --- elementwise math ---------------------------------------------------------
    def exp(self):
        return ops.Exp.apply(self)

    def log(self):
        return ops.Log.apply(self)

    def sqrt(self):
        return ops.Sqrt.apply(self)

    def abs(self):
        return ops.Abs.apply(self)

    def clip(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given.")
        return ops.Clip.apply(self, lo=min, hi=max)

    clamp = clip

    def astype(self, dtype):
        return Tensor._wrap(self.data.astype(dtype))


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _axis(axis, ndim):
    if axis is None or isinstance(axis, (int, np.integer)):
        if axis is not None and not -ndim <= axis < max(ndim, 1):
            raise ValueError(f"axis {axis} is out of range for a tensor with {ndim} dimensions.")
        return None if axis is None else int(axis)
    return tuple(int(a) for a in axis)


def _operand(x, where):
    """A Tensor, or a Python scalar left as is (NumPy keeps the tensor's dtype)."""
    if isinstance(x, Tensor) or isinstance(x, numbers.Number) and not isinstance(x, bool):
        return x
    return Tensor._wrap(as_array(x, where=where))


def _binary(fn, a, b, sym):
    a, b = _operand(a, sym), _operand(b, sym)
    try:
        return fn.apply(a, b)
    except ValueError:
        sa, sb = np.shape(_raw(a)), np.shape(_raw(b))
        try:
            np.broadcast_shapes(sa, sb)
        except ValueError:
            raise ValueError(f"operator {sym}: shapes {sa} and {sb} cannot be broadcast "
                             f"together (NumPy broadcasting rules).") from None
        raise


def _matmul(a, b):
    a, b = _operand(a, "@"), _operand(b, "@")
    try:
        return ops.MatMul.apply(a, b)
    except ValueError:
        raise ValueError(f"operator @: shapes {np.shape(_raw(a))} and {np.shape(_raw(b))} "
                         f"are not aligned for matrix multiplication.") from None


def tensor(data, dtype=None, requires_grad=False):
    """Make a Tensor from array-like ``data`` (copies lists; keeps ndarray dtype unless ``dtype``).

    >>> tensor([1, 2]).dtype, tensor([1.5]).dtype
    (dtype('int64'), dtype('float32'))
    """
    arr = as_array(data, dtype=dtype, where="tensor")
    return Tensor(arr, requires_grad=requires_grad)


def as_tensor(x, where="input"):
    """``x`` as a Tensor (no copy for Tensors and ndarrays)."""
    if isinstance(x, Tensor):
        return x
    return Tensor._wrap(as_array(x, where=where))


_function._bind()
_checks._bind(Tensor, as_array)
