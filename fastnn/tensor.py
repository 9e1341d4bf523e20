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
import collections
import numbers

import numpy as np

from . import _checks
from ._device import check_device
from .autograd import function as _function
from .autograd.function import apply_binary as _apply_binary
from .autograd import tensor_ops as ops
from .autograd.grad_mode import _state as _grad_state

__all__ = ["Tensor", "tensor", "as_tensor", "as_array", "empty_aligned", "where", "maximum",
           "minimum", "MaxResult", "MinResult"]

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


MaxResult = collections.namedtuple("max", ["values", "indices"])
MinResult = collections.namedtuple("min", ["values", "indices"])
SortResult = collections.namedtuple("sort", ["values", "indices"])
TopkResult = collections.namedtuple("topk", ["values", "indices"])



_F = None     # fastnn.functional, bound on first use (it imports this module)


def _functional():
    global _F
    if _F is None:
        from . import functional
        _F = functional
    return _F


class Tensor:
    """An n-dimensional array that records operations for backpropagation.

    Args:
        data: ndarray (kept without a copy), Tensor, nested list or scalar.
        requires_grad: record operations on this tensor so ``backward`` reaches it.

    Attributes:
        data: the underlying ndarray. grad: ndarray or None.

    Methods follow torch's names and arguments (``size(dim)``, ``view``, ``permute``,
    ``transpose(dim0, dim1)``, ``max(dim)`` returning ``(values, indices)``, ``eq``,
    ``to``, in-place ``add_``/``mul_``/``zero_``/``copy_``, ...); reductions take torch's
    ``dim=``/``keepdim=`` and NumPy's ``axis=``/``keepdims=``.

    >>> import fastnn as fn
    >>> t = fn.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    >>> t.size(), t.size(1), t.numel()
    ((2, 3), 3, 6)
    >>> values, indices = t.max(dim=1); indices
    tensor([1, 0])
    >>> (t.argmax(1) == fn.tensor([1, 0])).all().item()
    True
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
    def device(self):
        """Always the CPU."""
        return _cpu()

    is_cuda = False

    def size(self, dim=None):
        """The shape (a tuple), or the size of dimension ``dim``.

        >>> import fastnn as fn
        >>> fn.zeros(2, 3).size(), fn.zeros(2, 3).size(-1)
        ((2, 3), 3)
        """
        if dim is None:
            return self.data.shape
        return self.data.shape[_dim(dim, self.data.ndim, "size")]

    def numel(self):
        """Number of elements (``nelement`` too).

        >>> import fastnn as fn
        >>> fn.zeros(2, 3).numel()
        6
        """
        return self.data.size

    nelement = numel

    def dim(self):
        """Number of dimensions (``ndim``).

        >>> import fastnn as fn
        >>> fn.zeros(2, 3).dim()
        2
        """
        return self.data.ndim

    def element_size(self):
        return self.data.itemsize

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

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` after each backward has accumulated this leaf's ``.grad``
        (once per backward, all contributions summed), as torch's; returns a handle
        whose ``remove()`` unregisters it.

        >>> import fastnn as fn
        >>> w = fn.tensor([1.0, 2.0], requires_grad=True)
        >>> h = w.register_post_accumulate_grad_hook(lambda t: print("grad", t.grad))
        >>> (w * w).sum().backward()
        grad [2. 4.]
        >>> h.remove()
        """
        return _function.register_post_accumulate_grad_hook(self, hook)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.data.dtype != _DEFAULT_FLOAT and _checks.is_float(self.data.dtype):
            extra = f", dtype={self.data.dtype}" + extra
        return f"tensor({body}{extra})"

    def __format__(self, spec):
        if self.data.ndim == 0:
            return format(self.data.item(), spec)
        return format(repr(self), spec)

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __index__(self):
        if self.data.ndim or self.data.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors of a single element can be converted to an "
                            f"index, got dtype {self.data.dtype} and shape {self.data.shape}.")
        return int(self.data)

    def __hash__(self):
        return id(self)

    # --- dtype and device ----------------------------------------------------------
    def to(self, *args, **kwargs):
        """This tensor in another dtype and/or on a device, as torch's ``to``:
        ``to(dtype)``, ``to('cpu')``, ``to(device, dtype)``, ``to(other_tensor)``,
        ``to(dtype=..., device=..., copy=False)``. Returns self when nothing changes.
        Only the CPU exists: any other device raises ValueError.

        >>> import fastnn as fn
        >>> fn.tensor([1.5, 2.5]).to("cpu").to(fn.float64).dtype
        dtype('float64')
        """
        dtype, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"Tensor.to: unexpected keyword arguments {sorted(kwargs)}.")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.data.dtype
            elif isinstance(a, bool):
                continue            # to(dtype, non_blocking)
            elif isinstance(a, str) or type(a).__name__ == "device":
                dev = a
            else:
                dtype = a
        check_device(dev, "Tensor.to")
        out = self if dtype is None else self._cast(dtype)
        return out.clone() if copy and out is self else out

    def cpu(self):
        """Self: fastnn tensors live on the CPU.

        >>> import fastnn as fn
        >>> t = fn.zeros(1); t.cpu() is t
        True
        """
        return self

    def cuda(self, *args, **kwargs):
        raise ValueError("Tensor.cuda: fastnn runs on the CPU only (fn.cuda.is_available() is False).")

    def _cast(self, dtype):
        try:
            dt = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"Tensor.to: expected a dtype, a device or a tensor, got "
                            f"{type(dtype).__name__} {dtype!r}.") from None
        if dt == self.data.dtype:
            return self
        if _checks.is_float(dt) and _checks.is_float(self.data.dtype):
            return ops.Cast.apply(self, dtype=dt)
        return Tensor._wrap(self.data.astype(dt))

    def float(self):
        """float32 version (self if already float32).

        >>> import fastnn as fn
        >>> fn.tensor([1, 2]).float()
        tensor([1., 2.])
        """
        return self._cast(np.float32)

    def double(self):
        """float64 version (self if already float64); differentiable from a float tensor.

        >>> import fastnn as fn
        >>> fn.tensor([1.0]).double().dtype
        dtype('float64')
        """
        return self._cast(np.float64)

    def long(self):
        """int64 version (self if already int64).

        >>> import fastnn as fn
        >>> fn.tensor([1.7, -2.2]).long()
        tensor([ 1, -2])
        """
        return self._cast(np.int64)

    def int(self):
        """int32 version.

        >>> import fastnn as fn
        >>> fn.tensor([1.5]).int().dtype
        dtype('int32')
        """
        return self._cast(np.int32)

    def bool(self):
        """bool version (nonzero is True).

        >>> import fastnn as fn
        >>> fn.tensor([0, 3]).bool()
        tensor([False,  True])
        """
        return self._cast(np.bool_)

    def astype(self, dtype):
        return Tensor._wrap(self.data.astype(dtype))

    def type_as(self, other):
        """This tensor in ``other``'s dtype.

        >>> import fastnn as fn
        >>> fn.tensor([1, 2]).type_as(fn.zeros(1)).dtype
        dtype('float32')
        """
        return self._cast(other.dtype)

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

    def add(self, other, alpha=1):
        """self + alpha * other.

        >>> import fastnn as fn
        >>> fn.tensor([1.0]).add(fn.tensor([2.0]), alpha=3)
        tensor([7.])
        """
        return _binary(ops.Add, self, other if alpha == 1 else _operand(other, "add") * alpha, "+")

    def sub(self, other, alpha=1):
        """self - alpha * other.

        >>> import fastnn as fn
        >>> fn.tensor([1.0]).sub(2.0, alpha=0.5)
        tensor([0.])
        """
        return _binary(ops.Sub, self, other if alpha == 1 else _operand(other, "sub") * alpha, "-")

    mul = __mul__
    div = __truediv__
    pow = __pow__
    neg = __neg__
    matmul = __matmul__

    def __floordiv__(self, other):
        """Elementwise floor division (not differentiable, as torch's ``//``).

        >>> import fastnn as fn
        >>> fn.tensor([7, -7]) // 2
        tensor([ 3, -4])
        """
        return Tensor._wrap(np.asarray(np.floor_divide(self.data, _raw(_operand(other, "//")))))

    def __rfloordiv__(self, other):
        return Tensor._wrap(np.asarray(np.floor_divide(_raw(_operand(other, "//")), self.data)))

    def __mod__(self, other):
        """Elementwise remainder with the divisor's sign (torch's ``remainder``, Python's
        ``%``); differentiable for floats: a - floor(a / b) * b.

        >>> import fastnn as fn
        >>> fn.tensor([7.0, -7.0]) % 3
        tensor([1., 2.])
        """
        other = _operand(other, "%")
        if not _checks.is_float(self.data.dtype) and not _checks.is_float(np.asarray(_raw(other)).dtype):
            return Tensor._wrap(np.asarray(np.mod(self.data, _raw(other))))
        q = Tensor._wrap(np.asarray(np.floor_divide(self.data, _raw(other))))
        return self - q * other

    floor_divide = __floordiv__
    remainder = __mod__

    def bmm(self, other):
        """Batched matrix product of (b, n, m) and (b, m, p) tensors.

        >>> import fastnn as fn
        >>> fn.ones(2, 1, 3).bmm(fn.ones(2, 3, 1)).shape
        (2, 1, 1)
        """
        if self.data.ndim != 3 or np.ndim(_raw(other)) != 3:
            raise ValueError(f"bmm: expected two 3-D tensors, got shapes {self.shape} and "
                             f"{np.shape(_raw(other))}.")
        if self.shape[0] != np.shape(_raw(other))[0]:
            raise ValueError(f"bmm: batch sizes differ: {self.shape} and {np.shape(_raw(other))}.")
        return _matmul(self, other)

    def dot(self, other):
        """Inner product of two 1-D tensors of the same length.

        >>> import fastnn as fn
        >>> fn.tensor([1.0, 2.0]).dot(fn.tensor([3.0, 4.0]))
        tensor(11.)
        """
        if self.data.ndim != 1 or np.ndim(_raw(other)) != 1:
            raise ValueError(f"dot: expected two 1-D tensors, got shapes {self.shape} and "
                             f"{np.shape(_raw(other))}.")
        return _matmul(self, other)

    def mm(self, other):
        """Matrix product of two 2-D tensors.

        >>> import fastnn as fn
        >>> fn.tensor([[1.0, 2.0]]).mm(fn.tensor([[3.0], [4.0]]))
        tensor([[11.]])
        """
        if self.data.ndim != 2 or np.ndim(_raw(other)) != 2:
            raise ValueError(f"mm: expected two 2-D tensors, got shapes {self.shape} and "
                             f"{np.shape(_raw(other))}.")
        return _matmul(self, other)

    # --- in-place (on the array itself when nothing records) --------------------------
    def __iadd__(self, other):
        return self._inplace(ops.Add, np.add, other, "+=", rebind=True)

    def __isub__(self, other):
        return self._inplace(ops.Sub, np.subtract, other, "-=", rebind=True)

    def __imul__(self, other):
        return self._inplace(ops.Mul, np.multiply, other, "*=", rebind=True)

    def __itruediv__(self, other):
        return self._inplace(ops.Div, np.divide, other, "/=", rebind=True)

    def add_(self, other, alpha=1):
        """self += alpha * other, in place (see ``_check_inplace`` for when that is allowed:
        not on a leaf that requires grad unless under ``fn.no_grad()``).

        >>> import fastnn as fn
        >>> w = fn.tensor([1.0, 2.0], requires_grad=True)
        >>> with fn.no_grad():
        ...     _ = w.add_(fn.tensor([1.0, 1.0]), alpha=-0.5)
        >>> w
        tensor([0.5, 1.5], requires_grad=True)
        """
        return self._inplace(ops.Add, np.add, other if alpha == 1 else _raw(other) * alpha, "add_")

    def sub_(self, other, alpha=1):
        """self -= alpha * other, in place.

        >>> import fastnn as fn
        >>> fn.tensor([3.0]).sub_(1.0)
        tensor([2.])
        """
        return self._inplace(ops.Sub, np.subtract, other if alpha == 1 else _raw(other) * alpha,
                             "sub_")

    def mul_(self, other):
        """self *= other, in place.

        >>> import fastnn as fn
        >>> fn.tensor([3.0]).mul_(2.0)
        tensor([6.])
        """
        return self._inplace(ops.Mul, np.multiply, other, "mul_")

    def div_(self, other):
        """self /= other, in place.

        >>> import fastnn as fn
        >>> fn.tensor([3.0]).div_(2.0)
        tensor([1.5])
        """
        return self._inplace(ops.Div, np.divide, other, "div_")

    def zero_(self):
        """Fill with zeros in place.

        >>> import fastnn as fn
        >>> fn.tensor([3.0, 4.0]).zero_()
        tensor([0., 0.])
        """
        self._check_inplace(None, "zero_")
        self.data[...] = 0
        return self

    def fill_(self, value):
        """Fill with ``value`` in place.

        >>> import fastnn as fn
        >>> fn.zeros(2).fill_(7.0)
        tensor([7., 7.])
        """
        self._check_inplace(value, "fill_")
        self.data[...] = _raw(value)
        return self

    def copy_(self, src):
        """Copy ``src`` (broadcast to this shape) into this tensor's array, in place.

        >>> import fastnn as fn
        >>> fn.zeros(2, 2).copy_(fn.tensor([1.0, 2.0]))
        tensor([[1., 2.],
                [1., 2.]])
        """
        self._check_inplace(src, "copy_")
        self.data[...] = _raw(src)
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        """Fill in place with draws from U(a, b) (fastnn's default generator unless
        ``generator`` is given).

        >>> import fastnn as fn
        >>> w = fn.zeros(1000).uniform_(-0.1, 0.1); bool((w.abs() <= 0.1).all())
        True
        """
        from .random import resolve
        self._check_inplace(None, "uniform_")
        self._check_float("uniform_")
        self.data[...] = resolve(generator).numpy.uniform(a, b, self.shape)
        return self

    def normal_(self, mean=0.0, std=1.0, generator=None):
        """Fill in place with draws from N(mean, std²).

        >>> import fastnn as fn
        >>> w = fn.zeros(10000).normal_(0.0, 0.02); bool(abs(w.std().item() - 0.02) < 0.002)
        True
        """
        from .random import resolve
        self._check_inplace(None, "normal_")
        self._check_float("normal_")
        self.data[...] = resolve(generator).numpy.normal(mean, std, self.shape)
        return self

    def masked_fill_(self, mask, value):
        """Set the elements where ``mask`` holds to ``value``, in place.

        >>> import fastnn as fn
        >>> x = fn.tensor([1.0, 2.0, 3.0]); x.masked_fill_(x > 1.5, 0.0)
        tensor([1., 0., 0.])
        """
        self._check_inplace(value, "masked_fill_")
        m = np.asarray(_raw(mask))
        if m.dtype != np.bool_:
            raise TypeError(f"masked_fill_: mask must be a bool tensor, got dtype {m.dtype}.")
        np.copyto(self.data, np.asarray(_raw(value), self.data.dtype), where=m)
        return self

    def _check_float(self, name):
        if not _checks.is_float(self.data.dtype):
            raise TypeError(f"{name}: expected a floating point tensor, got {self.data.dtype}.")

    def clamp_(self, min=None, max=None):
        """Clip to [min, max] in place (``clip_`` too).

        >>> import fastnn as fn
        >>> fn.tensor([-2.0, 0.5, 3.0]).clamp_(-1, 1)
        tensor([-1. ,  0.5,  1. ])
        """
        self._check_inplace(None, "clamp_")
        np.clip(self.data, min, max, out=self.data)
        return self

    clip_ = clamp_

    def __setitem__(self, index, value):
        self._check_inplace(value, "item assignment")
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        self.data[index] = _raw(value)

    def _check_inplace(self, other, name):
        """In-place changes of the array are allowed unless they must be recorded."""
        if not _grad_state.enabled:
            return
        if self.requires_grad and self._node is None:
            raise RuntimeError(f"{name}: a leaf tensor that requires grad is being used in an "
                               f"in-place operation; wrap the update in `with fn.no_grad():`.")
        if self.requires_grad or (isinstance(other, Tensor) and other.requires_grad):
            raise RuntimeError(f"{name}: in-place changes of a tensor that is part of a recorded "
                               f"graph are not supported; use the out-of-place form "
                               f"(e.g. `y = y + x`, `fn.where`) or run under `fn.no_grad()`.")

    def _inplace(self, fcls, ufunc, other, name, rebind=False):
        if _grad_state.enabled and rebind and (self.requires_grad or (
                isinstance(other, Tensor) and other.requires_grad)):
            if self.requires_grad and self._node is None:
                self._check_inplace(other, name)
            # `y += x` in a recorded graph: y is rebound to the recorded result, exactly
            # as `y = y + x` (ops that used the old y keep their inputs)
            out = _binary(fcls, self, other, name[:-1])
            if out.shape != self.shape:
                raise ValueError(f"operator {name}: the result has shape {out.shape}, which "
                                 f"does not match the tensor's shape {self.shape}.")
            return out if out.dtype == self.dtype else out._cast(self.dtype)
        self._check_inplace(other, name)
        try:
            ufunc(self.data, _raw(other), out=self.data, casting="same_kind")
        except TypeError as e:     # UFuncTypeError: int tensor += float, ...
            raise TypeError(f"{name}: the result cannot be stored in a tensor of dtype "
                            f"{self.data.dtype} ({e}).") from None
        except ValueError:
            raise ValueError(f"{name}: an operand of shape {np.shape(_raw(other))} cannot be "
                             f"broadcast to the tensor's shape {self.shape}.") from None
        return self

    # --- comparisons and logic (plain, non-differentiable tensors) ---------------------
    def _compare(self, ufunc, other, sym):
        if other is None or isinstance(other, (str, bytes)):
            return NotImplemented
        try:
            return Tensor._wrap(np.asarray(ufunc(self.data, _raw(other))))
        except ValueError:
            raise ValueError(f"operator {sym}: shapes {self.shape} and {np.shape(_raw(other))} "
                             f"cannot be broadcast together.") from None

    def __eq__(self, other):
        """Elementwise ``==`` (also ``eq``): a bool tensor, not a Python bool.

        >>> import fastnn as fn
        >>> fn.tensor([1, 2, 3]) == fn.tensor([1, 0, 3])
        tensor([ True, False,  True])
        """
        return self._compare(np.equal, other, "==")

    def __ne__(self, other):
        """Elementwise ``!=`` (also ``ne``).

        >>> import fastnn as fn
        >>> fn.tensor([1, 2]).ne(1)
        tensor([False,  True])
        """
        return self._compare(np.not_equal, other, "!=")

    def __lt__(self, other):
        """Elementwise ``<`` (also ``lt``).

        >>> import fastnn as fn
        >>> fn.tensor([1, 2]).lt(2)
        tensor([ True, False])
        """
        return self._compare(np.less, other, "<")

    def __le__(self, other):
        """Elementwise ``<=`` (also ``le``).

        >>> import fastnn as fn
        >>> fn.tensor([1, 2]) <= 1
        tensor([ True, False])
        """
        return self._compare(np.less_equal, other, "<=")

    def __gt__(self, other):
        """Elementwise ``>`` (also ``gt``).

        >>> import fastnn as fn
        >>> (fn.tensor([-1.0, 2.0]) > 0).sum()
        tensor(1)
        """
        return self._compare(np.greater, other, ">")

    def __ge__(self, other):
        """Elementwise ``>=`` (also ``ge``).

        >>> import fastnn as fn
        >>> fn.tensor([1, 2]).ge(2)
        tensor([False,  True])
        """
        return self._compare(np.greater_equal, other, ">=")

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def equal(self, other):
        """True when ``other`` has the same shape and elements (a Python bool).

        >>> import fastnn as fn
        >>> fn.tensor([1, 2]).equal(fn.tensor([1, 2]))
        True
        """
        o = _raw(other)
        return bool(self.data.shape == np.shape(o) and np.array_equal(self.data, o))

    def __and__(self, other):
        return Tensor._wrap(np.bitwise_and(self.data, _raw(other)))

    __rand__ = __and__

    def __or__(self, other):
        return Tensor._wrap(np.bitwise_or(self.data, _raw(other)))

    __ror__ = __or__

    def __xor__(self, other):
        return Tensor._wrap(np.bitwise_xor(self.data, _raw(other)))

    __rxor__ = __xor__

    def __invert__(self):
        return Tensor._wrap(np.invert(self.data))

    logical_not = __invert__

    def all(self, dim=None, keepdim=False):
        """True where every element (along ``dim``) is nonzero.

        >>> import fastnn as fn
        >>> fn.tensor([[True, False], [True, True]]).all(dim=1)
        tensor([False,  True])
        """
        return Tensor._wrap(np.asarray(np.all(self.data, axis=_dim_arg(dim, None, self.ndim, "all"),
                                              keepdims=keepdim)))

    def any(self, dim=None, keepdim=False):
        """True where some element (along ``dim``) is nonzero.

        >>> import fastnn as fn
        >>> fn.tensor([0, 2]).any()
        tensor(True)
        """
        return Tensor._wrap(np.asarray(np.any(self.data, axis=_dim_arg(dim, None, self.ndim, "any"),
                                              keepdims=keepdim)))

    # --- indexing -----------------------------------------------------------------------
    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        return ops.GetItem.apply(self, index)

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` holds, else this tensor's element (differentiable).

        >>> import fastnn as fn
        >>> x = fn.tensor([1.0, 2.0, 3.0]); x.masked_fill(x > 1.5, 0.0)
        tensor([1., 0., 0.])
        """
        return where(mask, value, self)

    def where(self, condition, other):
        """This tensor where ``condition`` holds, else ``other``.

        >>> import fastnn as fn
        >>> x = fn.tensor([1.0, -2.0]); x.where(x > 0, fn.zeros(2))
        tensor([1., 0.])
        """
        return where(condition, self, other)

    # --- reductions -----------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        """Sum over ``dim`` (int, tuple or None for all; ``axis=`` too); integer and bool
        sums are int64.

        >>> import fastnn as fn
        >>> fn.tensor([[1, 2], [3, 4]]).sum(dim=1, keepdim=True)
        tensor([[3],
                [7]])
        """
        t = self if dtype is None else self._cast(dtype)
        return ops.Sum.apply(t, axis=_dim_arg(dim, axis, self.ndim, "sum"),
                             keepdims=_keep(keepdim, keepdims))

    def mean(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        """Mean over ``dim`` (``axis=`` too). Integer and bool tensors need ``dtype=``
        (as torch).

        Raises:
            TypeError: integer or bool input without a float ``dtype``.

        >>> import fastnn as fn
        >>> fn.tensor([[1.0, 2.0], [3.0, 5.0]]).mean(dim=0), fn.tensor([1, 2]).mean(dtype=fn.float32)
        (tensor([2. , 3.5]), tensor(1.5))
        """
        t = self if dtype is None else self._cast(dtype)
        if not _checks.is_float(t.data.dtype):
            raise TypeError(f"mean(): could not infer output dtype. Input dtype must be floating "
                            f"point, got {t.data.dtype}; use .float().mean() or mean(dtype=...).")
        return ops.Mean.apply(t, axis=_dim_arg(dim, axis, self.ndim, "mean"),
                              keepdims=_keep(keepdim, keepdims))

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None):
        """Variance with Bessel's correction by default (``correction=1``), as torch,
        including its positional forms: ``var(dim, unbiased, keepdim)`` and
        ``var(unbiased)`` (so ``x.var(1, False)`` is the biased variance along dim 1).

        >>> import fastnn as fn
        >>> x = fn.tensor([[1.0, 2.0, 3.0]])
        >>> x.var(), x.var(correction=0), x.var(1, False), x.var(1, keepdim=True).shape
        (tensor(1.), tensor(0.6666667), tensor([0.6666667]), (1, 1))
        """
        if isinstance(dim, (bool, np.bool_)):          # torch's var(unbiased) overload
            dim, unbiased = None, bool(dim)
        if unbiased is not None:
            if correction is not None:
                raise TypeError("var(): pass either unbiased= or correction=, not both.")
            if not isinstance(unbiased, (bool, np.bool_)):
                raise TypeError(f"var(): unbiased must be a bool, got {type(unbiased).__name__} "
                                f"{unbiased!r} (the positional order is dim, unbiased, keepdim).")
            correction = 1 if unbiased else 0
        correction = 1 if correction is None else _checks.real("var", "correction", correction)
        d = _dim_arg(dim, axis, self.ndim, "var")
        k = _keep(keepdim, keepdims)
        if not _checks.is_float(self.data.dtype):
            raise TypeError(f"var(): expected a floating point tensor, got {self.data.dtype}.")
        dims = range(self.ndim) if d is None else (d,) if isinstance(d, int) else d
        n = int(np.prod([self.shape[i] for i in dims], dtype=np.int64))
        dev = self - self.mean(d, keepdim=True)
        with np.errstate(divide="ignore", invalid="ignore"):   # n <= correction: NaN, as torch
            return (dev * dev).sum(d, keepdim=k) / max(n - correction, 0)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None):
        """Standard deviation (the square root of ``var``, with the same arguments).

        >>> import fastnn as fn
        >>> fn.tensor([1.0, 3.0]).std(), fn.tensor([[1.0, 3.0]]).std(1, False)
        (tensor(1.4142135), tensor([1.]))
        """
        return self.var(dim, unbiased, keepdim, correction=correction, axis=axis,
                        keepdims=keepdims).sqrt()

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """The maximum: of all elements (``max()``), ``(values, indices)`` along ``dim``
        (``max(dim)``, as torch), the elementwise maximum with a tensor (``max(other)``),
        or the values over ``axis=`` (NumPy's spelling; ties share the gradient).

        >>> import fastnn as fn
        >>> x = fn.tensor([[1.0, 5.0], [7.0, 2.0]])
        >>> x.max(), x.max(1).indices, x.max(axis=0)
        (tensor(7.), tensor([1, 0]), tensor([7., 5.]))
        """
        return self._extreme(dim, keepdim, axis, keepdims, True)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """The minimum, with the same forms as ``max``.

        >>> import fastnn as fn
        >>> values, indices = fn.tensor([[1.0, 5.0], [7.0, 2.0]]).min(dim=1); values
        tensor([1., 2.])
        """
        return self._extreme(dim, keepdim, axis, keepdims, False)

    def _extreme(self, dim, keepdim, axis, keepdims, largest):
        name = "max" if largest else "min"
        if isinstance(dim, (Tensor, np.ndarray)):
            return (maximum if largest else minimum)(self, dim)
        k = _keep(keepdim, keepdims)
        if axis is not None or dim is None or isinstance(dim, (tuple, list)):
            op = ops.Max if largest else ops.Min
            return op.apply(self, axis=_dim_arg(dim, axis, self.ndim, name), keepdims=k)
        d = _dim(dim, max(self.ndim, 1), name)
        sink = []
        values = ops.ArgReduce.apply(self, dim=d, keepdim=k, largest=largest, sink=sink)
        return (MaxResult if largest else MinResult)(values, Tensor._wrap(sink[0]))

    def amax(self, dim=None, keepdim=False):
        """Maximum over ``dim`` (all when None); ties share the gradient equally.

        >>> import fastnn as fn
        >>> fn.tensor([[1.0, 5.0], [7.0, 2.0]]).amax(dim=0)
        tensor([7., 5.])
        """
        dim = None if dim == () else dim
        return ops.Max.apply(self, axis=_dim_arg(dim, None, self.ndim, "amax"), keepdims=keepdim)

    def amin(self, dim=None, keepdim=False):
        """Minimum over ``dim`` (all when None); ties share the gradient equally.

        >>> import fastnn as fn
        >>> fn.tensor([[1.0, 5.0], [7.0, 2.0]]).amin(dim=(0, 1))
        tensor(1.)
        """
        dim = None if dim == () else dim
        return ops.Min.apply(self, axis=_dim_arg(dim, None, self.ndim, "amin"), keepdims=keepdim)

    def argmax(self, dim=None, keepdim=False):
        """Index of the maximum: over the flattened tensor (dim=None) or along ``dim``
        (int64, the first one on ties).

        >>> import fastnn as fn
        >>> x = fn.tensor([[1.0, 5.0], [7.0, 2.0]])
        >>> x.argmax(), x.argmax(dim=1), x.argmax(dim=1, keepdim=True).shape
        (tensor(2), tensor([1, 0]), (2, 1))
        """
        return self._arg(np.argmax, dim, keepdim, "argmax")

    def argmin(self, dim=None, keepdim=False):
        """Index of the minimum (see argmax).

        >>> import fastnn as fn
        >>> fn.tensor([[1.0, 5.0], [7.0, 2.0]]).argmin(dim=0)
        tensor([0, 1])
        """
        return self._arg(np.argmin, dim, keepdim, "argmin")

    def _arg(self, f, dim, keepdim, name):
        a = self.data
        if dim is None:
            idx = np.asarray(f(a), np.int64)
            return Tensor._wrap(idx.reshape((1,) * a.ndim) if keepdim else idx)
        d = _dim(dim, max(a.ndim, 1), name)
        if a.ndim == 0:
            return Tensor._wrap(np.zeros((), np.int64))
        return Tensor._wrap(np.asarray(f(a, axis=d, keepdims=bool(keepdim)), np.int64))

    def prod(self, dim=None, keepdim=False, dtype=None):
        """Product of all elements, or along ``dim``; integer and bool products are int64.

        >>> import fastnn as fn
        >>> fn.tensor([[1.0, 2.0], [3.0, 4.0]]).prod(1), fn.tensor([2, 3]).prod()
        (tensor([ 2., 12.]), tensor(6))
        """
        t = self if dtype is None else self._cast(dtype)
        d = None if dim is None else _dim(dim, max(self.ndim, 1), "prod")
        if self.ndim == 0:
            d = None
        return ops.Prod.apply(t, axis=d, keepdims=bool(keepdim) and d is not None)

    def cumsum(self, dim, dtype=None):
        """Running sum along ``dim``; integer and bool inputs give int64.

        >>> import fastnn as fn
        >>> fn.tensor([[1, 2, 3]]).cumsum(dim=1)
        tensor([[1, 3, 6]])
        """
        t = self if dtype is None else self._cast(dtype)
        return ops.CumSum.apply(t, dim=_dim(dim, max(self.ndim, 1), "cumsum") if self.ndim else 0)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """Vector p-norm of all elements, or along ``dim`` (an int or a tuple): 'fro' and
        2 are the Euclidean norm, also inf, -inf, 0, 1 and any real p.

        >>> import fastnn as fn
        >>> fn.tensor([[3.0, 4.0], [0.0, 1.0]]).norm(), fn.tensor([[3.0, -4.0]]).norm(1, dim=1)
        (tensor(5.0990195), tensor([7.]))
        """
        t = self if dtype is None else self._cast(dtype)
        if not _checks.is_float(t.data.dtype):
            raise TypeError(f"norm(): expected a floating point tensor, got {t.data.dtype}; "
                            f"use .float().norm().")
        if p in ("fro", None):
            p = 2.0
        elif isinstance(p, str) or isinstance(p, bool) or not isinstance(p, (int, float, np.number)):
            raise TypeError(f"norm(): p must be a number, 'fro' or None, got {p!r}.")
        if isinstance(dim, list):
            dim = tuple(dim)
        d = _dim_arg(dim, None, self.ndim, "norm")
        if self.ndim == 0:
            d = None
        return ops.Norm.apply(t, p=float(p), axis=d, keepdims=bool(keepdim) and d is not None)

    def logsumexp(self, dim, keepdim=False):
        """log Σ exp(x) along ``dim`` (an int or a tuple), computed stably.

        >>> import fastnn as fn
        >>> fn.tensor([[0.0, 0.0]]).logsumexp(1)
        tensor([0.6931472])
        """
        d = _dim_arg(dim, None, self.ndim, "logsumexp")
        with np.errstate(invalid="ignore"):
            m = np.max(self.data, axis=d, keepdims=True) if self.data.size else \
                np.zeros((1,) * self.ndim, self.data.dtype)
        m = np.where(np.isfinite(m), m, 0).astype(self.data.dtype)
        with np.errstate(divide="ignore"):      # all -inf: log 0 = -inf, as torch
            out = (self - m).exp().sum(d, keepdim=True).log() + m
        if keepdim:
            return out
        return out.reshape(np.sum(self.data, axis=d).shape) if d is not None else out.reshape(())

    def gather(self, dim, index):
        """Values along ``dim`` at ``index`` (int64, same rank; its other sizes at most
        this tensor's), as torch: out[i][j] = self[i][index[i][j]] for dim 1. Differentiable.

        >>> import fastnn as fn
        >>> fn.tensor([[1.0, 2.0], [3.0, 4.0]]).gather(1, fn.tensor([[1], [0]]))
        tensor([[2.],
                [3.]])
        """
        d = _dim(dim, max(self.ndim, 1), "gather")
        idx = np.asarray(_raw(index))
        if idx.dtype.kind not in "iu":
            raise TypeError(f"gather: index must be an int64 tensor, got dtype {idx.dtype}.")
        if idx.ndim != self.ndim:
            raise ValueError(f"gather: index must have as many dimensions as input, got index of "
                             f"shape {idx.shape} for input of shape {self.shape}.")
        for k, (i, n) in enumerate(zip(idx.shape, self.shape)):
            if k != d and i > n:
                raise ValueError(f"gather: index size {i} exceeds input size {n} in dimension "
                                 f"{k} (only dimension {d} may differ).")
        if idx.size and (idx.min() < 0 or idx.max() >= self.shape[d]):
            raise IndexError(f"gather: index out of range for dimension {d} of size "
                             f"{self.shape[d]}.")
        return ops.Gather.apply(self, index=np.asarray(idx, np.intp), dim=d)

    def index_select(self, dim, index):
        """The slices at ``index`` (a 1-D int tensor) along ``dim``.

        >>> import fastnn as fn
        >>> fn.tensor([[1, 2, 3]]).index_select(1, fn.tensor([2, 0]))
        tensor([[3, 1]])
        """
        d = _dim(dim, max(self.ndim, 1), "index_select")
        idx = np.asarray(_raw(index))
        if idx.dtype.kind not in "iu" or idx.ndim > 1:
            raise TypeError(f"index_select: index must be a 1-D int tensor, got dtype {idx.dtype} "
                            f"and shape {idx.shape}.")
        return self[(slice(None),) * d + (idx.reshape(-1),)]

    def _sorted(self, dim, descending, where):
        """(indices along dim in order, dim) with a stable order (ties keep index order)."""
        d = _dim(dim, max(self.ndim, 1), where)
        a = self.data
        if a.ndim == 0:
            return np.zeros((), np.int64), 0
        key = a
        if descending:
            key = -a if _checks.is_float(a.dtype) or a.dtype.kind == "i" else ~a \
                if a.dtype.kind == "b" else -a.astype(np.int64)
        if _checks.is_float(a.dtype):
            key = np.where(np.isnan(a), -np.inf if descending else np.inf, key)  # NaN largest
        return np.argsort(key, axis=d, kind="stable").astype(np.int64), d

    def sort(self, dim=-1, descending=False, stable=False):
        """``(values, indices)`` sorted along ``dim`` (NaN counts as the largest; equal
        values keep their order). Differentiable in the values.

        >>> import fastnn as fn
        >>> fn.tensor([3.0, 1.0, 2.0]).sort(descending=True)
        sort(values=tensor([3., 2., 1.]), indices=tensor([0, 2, 1]))
        """
        idx, d = self._sorted(dim, descending, "sort")
        if self.ndim == 0:
            return SortResult(self.clone(), Tensor._wrap(idx))
        return SortResult(self.gather(d, idx), Tensor._wrap(idx))

    def argsort(self, dim=-1, descending=False, stable=False):
        """Indices that sort along ``dim`` (see sort).

        >>> import fastnn as fn
        >>> fn.tensor([3.0, 1.0, 2.0]).argsort()
        tensor([1, 2, 0])
        """
        return Tensor._wrap(self._sorted(dim, descending, "argsort")[0])

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """``(values, indices)`` of the ``k`` largest (smallest) along ``dim``, in order.

        >>> import fastnn as fn
        >>> fn.tensor([[1.0, 5.0, 3.0]]).topk(2)
        topk(values=tensor([[5., 3.]]), indices=tensor([[1, 2]]))
        """
        k = _checks.integer("topk", "k", k, low=0)
        idx, d = self._sorted(dim, largest, "topk")
        n = self.shape[d] if self.ndim else 1
        if k > n:
            raise ValueError(f"topk: k ({k}) is larger than the size {n} of dimension {d}.")
        if self.ndim == 0:
            return TopkResult(self.clone(), Tensor._wrap(idx))
        idx = np.take(idx, np.arange(k), axis=d)
        return TopkResult(self.gather(d, idx), Tensor._wrap(idx))

    def split(self, split_size_or_sections, dim=0):
        """Pieces along ``dim``: of ``split_size`` each (the last may be smaller), or of
        the sizes in a list. Differentiable views.

        >>> import fastnn as fn
        >>> [t.shape for t in fn.arange(5).split(2)], [t.shape for t in fn.arange(5).split([1, 4])]
        ([(2,), (2,), (1,)], [(1,), (4,)])
        """
        d = _dim(dim, max(self.ndim, 1), "split")
        n = self.shape[d]
        s = split_size_or_sections
        if isinstance(s, (tuple, list)):
            sizes = [_checks.integer("split", "split_sizes", v, low=0) for v in s]
            if sum(sizes) != n:
                raise ValueError(f"split: split_sizes {list(sizes)} must sum to the size {n} of "
                                 f"dimension {d}, got {sum(sizes)}.")
        else:
            s = _checks.integer("split", "split_size", s, low=0)
            if s == 0 and n:
                raise ValueError(f"split: split_size can only be 0 if dimension {d} is empty.")
            sizes = [min(s, n - i) for i in range(0, n, s)] if s else [0]
        out, at = [], 0
        for size in sizes:
            out.append(self[(slice(None),) * d + (slice(at, at + size),)])
            at += size
        return tuple(out)

    def chunk(self, chunks, dim=0):
        """Up to ``chunks`` pieces of equal size ceil(n / chunks) along ``dim``.

        >>> import fastnn as fn
        >>> [t.shape for t in fn.zeros(2, 5).chunk(2, dim=1)]
        [(2, 3), (2, 2)]
        """
        chunks = _checks.positive_int("chunk", "chunks", chunks)
        n = self.shape[_dim(dim, max(self.ndim, 1), "chunk")]
        return self.split(max(-(-n // chunks), 1) if n else 1, dim) if n else self.split([0], dim)

    def unbind(self, dim=0):
        """The slices along ``dim``, each without that dimension.

        >>> import fastnn as fn
        >>> fn.tensor([[1, 2], [3, 4]]).unbind(1)
        (tensor([1, 3]), tensor([2, 4]))
        """
        d = _dim(dim, max(self.ndim, 1), "unbind")
        return tuple(self[(slice(None),) * d + (i,)] for i in range(self.shape[d]))

    def narrow(self, dim, start, length):
        """``length`` elements from ``start`` along ``dim`` (a view).

        >>> import fastnn as fn
        >>> fn.arange(6).narrow(0, 2, 3)
        tensor([2, 3, 4])
        """
        d = _dim(dim, max(self.ndim, 1), "narrow")
        n = self.shape[d]
        start = _checks.integer("narrow", "start", start, low=-n) % max(n, 1)
        length = _checks.integer("narrow", "length", length, low=0)
        if start + length > n:
            raise ValueError(f"narrow: start ({start}) + length ({length}) exceeds the size {n} "
                             f"of dimension {d}.")
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def flip(self, *dims):
        """The elements in reverse order along each of ``dims``.

        >>> import fastnn as fn
        >>> fn.tensor([[1, 2, 3]]).flip(1)
        tensor([[3, 2, 1]])
        """
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        index = [slice(None)] * self.ndim
        for d in dims:
            index[_dim(d, max(self.ndim, 1), "flip")] = slice(None, None, -1)
        return self[tuple(index)]

    def roll(self, shifts, dims=None):
        """Elements shifted along ``dims`` (the flattened tensor when None), wrapping round.

        >>> import fastnn as fn
        >>> fn.tensor([1, 2, 3, 4]).roll(1)
        tensor([4, 1, 2, 3])
        """
        if dims is None:
            if isinstance(shifts, (tuple, list)):
                raise ValueError("roll: with dims=None, shifts must be one int.")
            n = self.data.size
            return self.reshape(-1)[(np.arange(n) - int(shifts)) % max(n, 1)].reshape(self.shape)
        shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if len(shifts) != len(dims):
            raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length.")
        out = self
        for s, d in zip(shifts, dims):
            d = _dim(d, max(self.ndim, 1), "roll")
            n = self.shape[d]
            out = out[(slice(None),) * d + ((np.arange(n) - int(s)) % max(n, 1),)]
        return out

    def repeat(self, *sizes):
        """The tensor tiled ``sizes[i]`` times along dimension i (torch's repeat, NumPy's
        tile; more sizes than dims add leading dims).

        >>> import fastnn as fn
        >>> fn.tensor([1, 2]).repeat(2, 2)
        tensor([[1, 2, 1, 2],
                [1, 2, 1, 2]])
        """
        reps = _size(sizes, "repeat")
        if len(reps) < self.ndim:
            raise ValueError(f"repeat: number of repeat dims ({len(reps)}) can not be smaller "
                             f"than the number of dimensions of the tensor ({self.ndim}).")
        return ops.Repeat.apply(self, reps=reps)

    def isnan(self):
        """Bool tensor: where the element is NaN.

        >>> import fastnn as fn
        >>> fn.tensor([1.0, float("nan")]).isnan()
        tensor([False,  True])
        """
        return Tensor._wrap(np.isnan(self.data) if _checks.is_float(self.data.dtype) else
                            np.zeros(self.shape, bool))

    def isinf(self):
        """Bool tensor: where the element is ±inf.

        >>> import fastnn as fn
        >>> fn.tensor([1.0, float("-inf")]).isinf()
        tensor([False,  True])
        """
        return Tensor._wrap(np.isinf(self.data) if _checks.is_float(self.data.dtype) else
                            np.zeros(self.shape, bool))

    def isfinite(self):
        """Bool tensor: where the element is neither NaN nor ±inf.

        >>> import fastnn as fn
        >>> fn.tensor([1.0, float("nan")]).isfinite()
        tensor([ True, False])
        """
        return Tensor._wrap(np.isfinite(self.data) if _checks.is_float(self.data.dtype) else
                            np.ones(self.shape, bool))

    def is_floating_point(self):
        """Whether the dtype is a floating point one.

        >>> import fastnn as fn
        >>> fn.zeros(1).is_floating_point(), fn.tensor([1]).is_floating_point()
        (True, False)
        """
        return _checks.is_float(self.data.dtype)

    def nonzero(self, as_tuple=False):
        """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor
        per dimension with ``as_tuple=True``.

        >>> import fastnn as fn
        >>> fn.tensor([[0, 1], [2, 0]]).nonzero()
        tensor([[0, 1],
                [1, 0]])
        """
        idx = np.nonzero(np.atleast_1d(self.data))
        if as_tuple:
            return tuple(Tensor._wrap(i.astype(np.int64)) for i in idx)
        return Tensor._wrap(np.stack(idx, axis=-1).astype(np.int64).reshape(-1, max(self.ndim, 1))
                            if self.ndim else np.stack(idx, -1).astype(np.int64).reshape(-1, 0))

    def count_nonzero(self, dim=None):
        """Number of non-zero elements (along ``dim``), int64.

        >>> import fastnn as fn
        >>> fn.tensor([[0, 1], [2, 3]]).count_nonzero(dim=1)
        tensor([1, 2])
        """
        d = _dim_arg(dim, None, self.ndim, "count_nonzero")
        return Tensor._wrap(np.asarray(np.count_nonzero(self.data, axis=d), np.int64))

    # --- shape ------------------------------------------------------------------------------
    def reshape(self, *shape):
        """The same elements in another shape (``view`` is the same method): a tuple or
        varargs, one size may be -1.

        >>> import fastnn as fn
        >>> fn.arange(6).view(2, -1)
        tensor([[0, 1, 2],
                [3, 4, 5]])
        """
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            return ops.Reshape.apply(self, shape=shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} "
                             f"({self.data.size} elements) into shape {shape}.") from None

    view = reshape

    def view_as(self, other):
        """This tensor in ``other``'s shape (``reshape_as`` too).

        >>> import fastnn as fn
        >>> fn.arange(6).view_as(fn.zeros(3, 2)).shape
        (3, 2)
        """
        return self.reshape(np.shape(_raw(other)))

    reshape_as = view_as

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dims start_dim..end_dim into one (a 0-d tensor becomes 1-d).

        >>> import fastnn as fn
        >>> fn.zeros(2, 3, 4).flatten(1).shape
        (2, 12)
        """
        nd = self.ndim
        if nd == 0:
            return self.reshape(1)
        s, e = _dim(start_dim, nd, "flatten"), _dim(end_dim, nd, "flatten")
        if s > e:
            raise ValueError(f"flatten: start_dim ({start_dim}) cannot come after end_dim "
                             f"({end_dim}) for a tensor of shape {self.shape}.")
        return self.reshape(self.shape[:s] + (-1 if self.data.size else
                                              int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:])

    def unflatten(self, dim, sizes):
        """Split dimension ``dim`` into ``sizes``.

        >>> import fastnn as fn
        >>> fn.zeros(2, 12).unflatten(1, (3, 4)).shape
        (2, 3, 4)
        """
        d = _dim(dim, self.ndim, "unflatten")
        return self.reshape(self.shape[:d] + tuple(sizes) + self.shape[d + 1:])

    def unsqueeze(self, dim):
        """A new dimension of size 1 at ``dim`` (-ndim-1 <= dim <= ndim).

        >>> import fastnn as fn
        >>> fn.zeros(2, 3).unsqueeze(1).shape
        (2, 1, 3)
        """
        d = _dim(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def squeeze(self, dim=None):
        """Drop dimensions of size 1 (all, or those in ``dim`` that have size 1).

        >>> import fastnn as fn
        >>> fn.zeros(2, 1, 3).squeeze().shape, fn.zeros(2, 1, 3).squeeze(0).shape
        ((2, 3), (2, 1, 3))
        """
        if dim is None:
            dims = [i for i, n in enumerate(self.shape) if n == 1]
        else:
            ds = dim if isinstance(dim, (tuple, list)) else (dim,)
            dims = [d for d in (_dim(d, max(self.ndim, 1), "squeeze") for d in ds)
                    if self.ndim and self.shape[d] == 1]
        if not dims:
            return self
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in dims))

    def permute(self, *dims):
        """The dimensions reordered: dimension i of the result is ``dims[i]`` of this one.

        >>> import fastnn as fn
        >>> fn.zeros(2, 3, 4).permute(2, 0, 1).shape
        (4, 2, 3)
        """
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        nd = self.ndim
        axes = tuple(_dim(d, max(nd, 1), "permute") for d in dims)
        if sorted(axes) != list(range(nd)):
            raise ValueError(f"permute: dims {tuple(dims)} must be a permutation of the "
                             f"{nd} dimensions of a tensor of shape {self.shape}.")
        return ops.Transpose.apply(self, axes=axes)

    def transpose(self, *dims):
        """torch's ``transpose(dim0, dim1)``: swap two dimensions, on any rank.

        Also NumPy's forms: ``transpose()`` reverses the dimensions and a full
        permutation (``transpose(2, 0, 1)`` on 3 dims, or a tuple) acts as ``permute``.

        >>> import fastnn as fn
        >>> fn.tensor([[1, 2, 3]]).transpose(0, 1).shape
        (3, 1)
        """
        if len(dims) == 2 and not isinstance(dims[0], (tuple, list)):
            nd = max(self.ndim, 1)
            a, b = _dim(dims[0], nd, "transpose"), _dim(dims[1], nd, "transpose")
            if self.ndim < 2 or a == b:
                return ops.Reshape.apply(self, shape=self.shape)
            axes = list(range(self.ndim))
            axes[a], axes[b] = axes[b], axes[a]
            return ops.Transpose.apply(self, axes=tuple(axes))
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if dims and len(dims) != self.ndim:
            raise ValueError(f"transpose: axes {dims} do not match a tensor of {self.ndim} "
                             f"dimensions (shape {self.shape}); use transpose(dim0, dim1) to "
                             f"swap two dimensions or permute(*dims).")
        return ops.Transpose.apply(self, axes=dims or None)

    def swapaxes(self, dim0, dim1):
        return self.transpose(dim0, dim1)

    swapdims = swapaxes

    def t(self):
        """Transpose of a tensor with at most 2 dimensions.

        >>> import fastnn as fn
        >>> fn.zeros(2, 3).t().shape
        (3, 2)
        """
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dimensions, got shape {self.shape}.")
        return ops.Transpose.apply(self, axes=None)

    @property
    def T(self):
        return ops.Transpose.apply(self, axes=None)

    def expand(self, *sizes):
        """A broadcast view to ``sizes`` (-1 keeps a dimension; new ones lead).

        >>> import fastnn as fn
        >>> fn.tensor([[1], [2]]).expand(2, 3)
        tensor([[1, 1, 1],
                [2, 2, 2]])
        """
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: the number of sizes ({len(sizes)}) must be at least the "
                             f"number of dimensions ({self.ndim}).")
        shape = tuple(self.shape[i - lead] if s == -1 and i >= lead else s
                      for i, s in enumerate(sizes))
        try:
            return ops.Expand.apply(self, shape=shape)
        except ValueError:
            raise ValueError(f"expand: a tensor of shape {self.shape} cannot be expanded to "
                             f"{tuple(sizes)}.") from None

    def expand_as(self, other):
        """A broadcast view to ``other``'s shape.

        >>> import fastnn as fn
        >>> fn.tensor([1, 2]).expand_as(fn.zeros(3, 2)).shape
        (3, 2)
        """
        return self.expand(np.shape(_raw(other)))

    def contiguous(self):
        """Self when its array is C-contiguous, else a contiguous copy.

        >>> import fastnn as fn
        >>> fn.zeros(2, 3).t().contiguous().numpy().flags.c_contiguous
        True
        """
        return self if self.data.flags.c_contiguous else ops.Clone.apply(self)

    def clone(self):
        """A copy that stays in the graph.

        >>> import fastnn as fn
        >>> a = fn.tensor([1.0]); b = a.clone(); b += 1; a, b
        (tensor([1.]), tensor([2.]))
        """
        return ops.Clone.apply(self)

    def new_zeros(self, *size):
        """Zeros of this tensor's dtype.

        >>> import fastnn as fn
        >>> fn.tensor([1, 2]).new_zeros(3)
        tensor([0, 0, 0])
        """
        return Tensor._wrap(np.zeros(_size(size, "new_zeros"), self.dtype))

    def new_ones(self, *size):
        """Ones of this tensor's dtype.

        >>> import fastnn as fn
        >>> fn.tensor([1.0]).new_ones(2, 1).shape
        (2, 1)
        """
        return Tensor._wrap(np.ones(_size(size, "new_ones"), self.dtype))

    def new_full(self, size, fill_value):
        """``fill_value`` in shape ``size``, this tensor's dtype.

        >>> import fastnn as fn
        >>> fn.tensor([1.0]).new_full((2,), 4)
        tensor([4., 4.])
        """
        return Tensor._wrap(np.full(_size((size,), "new_full"), fill_value, self.dtype))

    def new_tensor(self, data):
        """``data`` as a new tensor of this tensor's dtype.

        >>> import fastnn as fn
        >>> fn.tensor([1.0]).new_tensor([2, 3])
        tensor([2., 3.])
        """
        return Tensor._wrap(np.array(_raw(data), dtype=self.dtype))

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

    def sin(self):
        """Elementwise sine.

        >>> import fastnn as fn
        >>> fn.tensor([0.0]).sin()
        tensor([0.])
        """
        return ops.Sin.apply(self)

    def cos(self):
        """Elementwise cosine.

        >>> import fastnn as fn
        >>> fn.tensor([0.0]).cos()
        tensor([1.])
        """
        return ops.Cos.apply(self)

    def log1p(self):
        """log(1 + x), accurate near 0.

        >>> import fastnn as fn
        >>> fn.tensor([0.0]).log1p()
        tensor([0.])
        """
        return ops.Log1p.apply(self)

    def expm1(self):
        """exp(x) - 1, accurate near 0.

        >>> import fastnn as fn
        >>> fn.tensor([0.0]).expm1()
        tensor([0.])
        """
        return ops.Expm1.apply(self)

    def rsqrt(self):
        """1 / sqrt(x).

        >>> import fastnn as fn
        >>> fn.tensor([4.0]).rsqrt()
        tensor([0.5])
        """
        return 1.0 / self.sqrt()

    def reciprocal(self):
        """1 / x.

        >>> import fastnn as fn
        >>> fn.tensor([4.0]).reciprocal()
        tensor([0.25])
        """
        return 1.0 / self

    def _piecewise(self, ufunc):
        if not _checks.is_float(self.data.dtype):
            return Tensor._wrap(np.asarray(ufunc(self.data)).astype(self.data.dtype))
        return ops.Piecewise.apply(self, ufunc=ufunc)

    def sign(self):
        """-1, 0 or 1 by the sign (zero gradient).

        >>> import fastnn as fn
        >>> fn.tensor([-2.0, 0.0, 3.0]).sign()
        tensor([-1.,  0.,  1.])
        """
        return self._piecewise(np.sign)

    def floor(self):
        """Round down (zero gradient).

        >>> import fastnn as fn
        >>> fn.tensor([-1.5, 1.5]).floor()
        tensor([-2.,  1.])
        """
        return self._piecewise(np.floor)

    def ceil(self):
        """Round up (zero gradient).

        >>> import fastnn as fn
        >>> fn.tensor([-1.5, 1.5]).ceil()
        tensor([-1.,  2.])
        """
        return self._piecewise(np.ceil)

    def round(self):
        """Round half to even, as torch (zero gradient).

        >>> import fastnn as fn
        >>> fn.tensor([0.5, 1.5, 2.4]).round()
        tensor([0., 2., 2.])
        """
        return self._piecewise(np.rint)

    def trunc(self):
        """Round toward zero (zero gradient).

        >>> import fastnn as fn
        >>> fn.tensor([-1.7, 1.7]).trunc()
        tensor([-1.,  1.])
        """
        return self._piecewise(np.trunc)

    def square(self):
        """Elementwise square.

        >>> import fastnn as fn
        >>> fn.tensor([-2.0, 3.0]).square()
        tensor([4., 9.])
        """
        return self * self

    def relu(self):
        """max(x, 0) (see F.relu).

        >>> import fastnn as fn
        >>> fn.tensor([-1.0, 2.0]).relu()
        tensor([0., 2.])
        """
        return (_F or _functional()).relu(self)

    def sigmoid(self):
        """1 / (1 + exp(-x)) (see F.sigmoid).

        >>> import fastnn as fn
        >>> fn.tensor([0.0]).sigmoid()
        tensor([0.5])
        """
        return (_F or _functional()).sigmoid(self)

    def tanh(self):
        """Hyperbolic tangent (see F.tanh).

        >>> import fastnn as fn
        >>> fn.tensor([0.0]).tanh()
        tensor([0.])
        """
        return (_F or _functional()).tanh(self)

    def softmax(self, dim, dtype=None):
        """softmax along ``dim`` (see F.softmax; ``dtype`` casts first).

        >>> import fastnn as fn
        >>> fn.tensor([[0.0, 0.0]]).softmax(1)
        tensor([[0.5, 0.5]])
        """
        return (_F or _functional()).softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim, dtype=None):
        """log_softmax along ``dim`` (see F.log_softmax).

        >>> import fastnn as fn
        >>> fn.tensor([[0.0, 0.0]]).log_softmax(dim=1).exp()
        tensor([[0.5, 0.5]])
        """
        return (_F or _functional()).log_softmax(self, dim, dtype=dtype)


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _cpu():
    from ._device import device
    return device("cpu")


def _dim(d, ndim, where, name="dim"):
    """``d`` as an index in [0, ndim), checked (negative counts from the end)."""
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be an int, got {type(d).__name__} {d!r}.")
    if not -ndim <= d < ndim:
        raise ValueError(f"{where}: {name} {d} is out of range for a tensor with "
                         f"{ndim} dimensions (expected {-ndim} <= {name} < {ndim}).")
    return int(d) % ndim


def _dim_arg(dim, axis, ndim, where):
    """A reduction's dims from torch's ``dim=`` or NumPy's ``axis=`` (not both): None,
    an int or a tuple, each checked."""
    name = "dim"
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{where}: got both dim={dim!r} and axis={axis!r}; pass one.")
        dim, name = axis, "axis"
    if dim is None:
        return None
    n = max(ndim, 1)
    if isinstance(dim, (tuple, list)):
        return tuple(_dim(d, n, where, name) for d in dim)
    return _dim(dim, n, where, name)


def _keep(keepdim, keepdims):
    return bool(keepdim if keepdims is None else keepdims)


def _size(size, where):
    """A shape from varargs ints or one tuple/list."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"{where}: sizes must be non-negative ints, got {tuple(size)!r}.")
    return tuple(int(s) for s in size)


def _operand(x, where):
    """A Tensor, or a Python scalar left as is (NumPy keeps the tensor's dtype)."""
    if isinstance(x, Tensor) or isinstance(x, numbers.Number) and not isinstance(x, bool):
        return x
    return Tensor._wrap(as_array(x, where=where))


def _binary(fn, a, b, sym):
    try:
        if type(a) is Tensor and type(b) is Tensor:     # the common case, shortest path
            return _apply_binary(fn, a, b)
        a, b = _operand(a, sym), _operand(b, sym)
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


def tensor(data, dtype=None, device=None, requires_grad=False):
    """Make a Tensor from array-like ``data`` (copies lists; keeps ndarray dtype unless ``dtype``).

    >>> tensor([1, 2]).dtype, tensor([1.5]).dtype
    (dtype('int64'), dtype('float32'))
    """
    check_device(device, "tensor")
    arr = as_array(data, dtype=dtype, where="tensor")
    return Tensor(arr, requires_grad=requires_grad)


def where(condition, input, other):
    """``input`` where ``condition`` holds, else ``other`` (broadcast together);
    differentiable in ``input`` and ``other``.

    >>> import fastnn as fn
    >>> x = fn.tensor([-1.0, 2.0])
    >>> fn.where(x > 0, x, 0.0)
    tensor([0., 2.])
    """
    c = _raw(condition)
    c = np.asarray(c)
    if c.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {c.dtype}.")
    a, b = _operand(input, "where"), _operand(other, "where")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return Tensor._wrap(np.where(c, a, b))
    if not isinstance(a, Tensor):
        a = Tensor._wrap(np.asarray(a, dtype=b.dtype))
    if not isinstance(b, Tensor):
        b = Tensor._wrap(np.asarray(b, dtype=a.dtype))
    try:
        return ops.Where.apply(a, b, cond=c)
    except ValueError:
        raise ValueError(f"where: condition {c.shape}, input {a.shape} and other {b.shape} "
                         f"cannot be broadcast together.") from None


def maximum(input, other):
    """Elementwise maximum (NaN propagates; ties share the gradient).

    >>> import fastnn as fn
    >>> fn.maximum(fn.tensor([1.0, 5.0]), fn.tensor([3.0, 2.0]))
    tensor([3., 5.])
    """
    return _binary(ops.Maximum, input, other, "maximum")


def minimum(input, other):
    """Elementwise minimum (NaN propagates; ties share the gradient).

    >>> import fastnn as fn
    >>> fn.minimum(fn.tensor([1.0, 5.0]), 2.0)
    tensor([1., 2.])
    """
    return _binary(ops.Minimum, input, other, "minimum")


def as_tensor(x, where="input"):
    """``x`` as a Tensor (no copy for Tensors and ndarrays)."""
    if isinstance(x, Tensor):
        return x
    return Tensor._wrap(as_array(x, where=where))


_function._bind()
_checks._bind(Tensor, as_array)
