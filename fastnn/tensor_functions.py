"""torch's top-level tensor functions (``fn.cat``, ``fn.stack``, ``fn.flatten``,
``fn.max``, ...): each is the Tensor method or op of the same name, so the math is
defined once (fastnn/tensor.py, fastnn/autograd/tensor_ops.py).

>>> import fastnn as fn
>>> fn.cat([fn.zeros(1, 2), fn.ones(1, 2)]).shape, fn.stack([fn.zeros(2), fn.ones(2)], dim=1).shape
((2, 2), (2, 2))
"""
import numpy as np

from .autograd import tensor_ops as ops
from .tensor import Tensor, _dim, as_tensor, maximum, minimum, where

__all__ = ["cat", "concat", "concatenate", "stack", "flatten", "where", "maximum", "minimum",
           "max", "min", "amax", "amin", "argmax", "argmin", "sum", "mean", "std", "var", "exp",
           "log", "sqrt", "abs", "clamp", "clip", "matmul", "mm", "transpose", "permute",
           "reshape", "squeeze", "unsqueeze", "equal", "allclose", "sigmoid", "tanh", "relu",
           "softmax", "log_softmax", "t", "sin", "cos", "prod", "cumsum", "norm", "logsumexp",
           "gather", "index_select", "sort", "argsort", "topk", "split", "chunk", "unbind",
           "narrow", "flip", "roll", "isnan", "isinf", "isfinite", "is_floating_point",
           "nonzero", "count_nonzero", "eq", "ne", "lt", "le", "gt", "ge", "bmm", "dot", "add",
           "sub", "mul", "div", "remainder", "floor_divide", "log1p", "expm1", "rsqrt",
           "reciprocal", "sign", "floor", "ceil", "round", "trunc"]


def _tensors(tensors, where):
    if isinstance(tensors, (Tensor, np.ndarray)) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{where}: expected a sequence of tensors, got {type(tensors).__name__}.")
    ts = [as_tensor(t, f"{where} tensor {i}") for i, t in enumerate(tensors)]
    if not ts:
        raise ValueError(f"{where}: expected a non-empty list of tensors.")
    return ts


def cat(tensors, dim=0):
    """Concatenate tensors along an existing dimension ``dim`` (their other sizes must
    match; 1-D empty tensors are skipped, as torch does). Differentiable.

    Raises:
        ValueError: an empty list, different ranks, or sizes that differ off ``dim``.

    >>> import fastnn as fn
    >>> fn.cat([fn.tensor([[1, 2]]), fn.tensor([[3], [4]]).T], dim=1)
    tensor([[1, 2, 3, 4]])
    """
    ts = _tensors(tensors, "cat")
    if any(t.ndim > 1 for t in ts):
        ts = [t for t in ts if not (t.ndim == 1 and t.shape[0] == 0)]
    nd = ts[0].ndim
    if nd == 0:
        raise ValueError("cat: zero-dimensional tensor (at position 0) cannot be concatenated.")
    d = _dim(dim, nd, "cat")
    ref = ts[0].shape
    for i, t in enumerate(ts):
        if t.ndim != nd:
            raise ValueError(f"cat: tensors must have the same number of dimensions: got {nd} "
                             f"and {t.ndim} (tensor number {i}).")
        for k in range(nd):
            if k != d and t.shape[k] != ref[k]:
                raise ValueError(f"cat: sizes of tensors must match except in dimension {d}. "
                                 f"Expected size {ref[k]} but got size {t.shape[k]} for tensor "
                                 f"number {i} in the list.")
    return ops.Cat.apply(*ts, dim=d)


concat = concatenate = cat


def stack(tensors, dim=0):
    """Stack equally shaped tensors along a new dimension ``dim``. Differentiable.

    >>> import fastnn as fn
    >>> fn.stack([fn.tensor([1, 2]), fn.tensor([3, 4])], dim=1)
    tensor([[1, 3],
            [2, 4]])
    """
    ts = _tensors(tensors, "stack")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ValueError(f"stack: expects each tensor to be equal size, but got "
                             f"{ts[0].shape} at entry 0 and {t.shape} at entry {i}.")
    d = _dim(dim, ts[0].ndim + 1, "stack")
    return ops.Stack.apply(*ts, dim=d)


def flatten(input, start_dim=0, end_dim=-1):
    """``input.flatten(start_dim, end_dim)``.

    >>> import fastnn as fn
    >>> fn.flatten(fn.zeros(2, 3, 4), 1).shape
    (2, 12)
    """
    return as_tensor(input, "flatten input").flatten(start_dim, end_dim)


# name -> (call, its printed result): each wrapper's docstring example
_EXAMPLES = {
    "max": ("fn.max(fn.tensor([[1.0, 5.0], [7.0, 2.0]]), 1).indices", "tensor([1, 0])"),
    "min": ("fn.min(fn.tensor([[1.0, 5.0], [7.0, 2.0]]))", "tensor(1.)"),
    "amax": ("fn.amax(fn.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)", "tensor([5., 7.])"),
    "amin": ("fn.amin(fn.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)", "tensor([1., 2.])"),
    "argmax": ("fn.argmax(fn.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)", "tensor([1, 0])"),
    "argmin": ("fn.argmin(fn.tensor([3, 1, 2]))", "tensor(1)"),
    "sum": ("fn.sum(fn.tensor([[1, 2], [3, 4]]), dim=0)", "tensor([4, 6])"),
    "mean": ("fn.mean(fn.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=1)", "tensor([1.5, 3.5])"),
    "std": ("fn.std(fn.tensor([1.0, 3.0]))", "tensor(1.4142135)"),
    "var": ("fn.var(fn.tensor([1.0, 3.0]))", "tensor(2.)"),
    "exp": ("fn.exp(fn.tensor([0.0]))", "tensor([1.])"),
    "log": ("fn.log(fn.tensor([1.0]))", "tensor([0.])"),
    "sqrt": ("fn.sqrt(fn.tensor([4.0]))", "tensor([2.])"),
    "sin": ("fn.sin(fn.tensor([0.0]))", "tensor([0.])"),
    "cos": ("fn.cos(fn.tensor([0.0]))", "tensor([1.])"),
    "abs": ("fn.abs(fn.tensor([-2.0]))", "tensor([2.])"),
    "clamp": ("fn.clamp(fn.tensor([-2.0, 0.5, 2.0]), -1, 1)", "tensor([-1. ,  0.5,  1. ])"),
    "matmul": ("fn.matmul(fn.ones(2, 3), fn.ones(3)).shape", "(2,)"),
    "mm": ("fn.mm(fn.ones(2, 3), fn.ones(3, 4)).shape", "(2, 4)"),
    "transpose": ("fn.transpose(fn.zeros(2, 3, 4), 0, 2).shape", "(4, 3, 2)"),
    "permute": ("fn.permute(fn.zeros(2, 3, 4), (1, 2, 0)).shape", "(3, 4, 2)"),
    "reshape": ("fn.reshape(fn.arange(6), (2, 3)).shape", "(2, 3)"),
    "squeeze": ("fn.squeeze(fn.zeros(1, 3, 1)).shape", "(3,)"),
    "unsqueeze": ("fn.unsqueeze(fn.zeros(3), 0).shape", "(1, 3)"),
    "t": ("fn.t(fn.zeros(2, 3)).shape", "(3, 2)"),
    "sigmoid": ("fn.sigmoid(fn.tensor([0.0]))", "tensor([0.5])"),
    "tanh": ("fn.tanh(fn.tensor([0.0]))", "tensor([0.])"),
    "relu": ("fn.relu(fn.tensor([-1.0, 1.0]))", "tensor([0., 1.])"),
    "softmax": ("fn.softmax(fn.tensor([[0.0, 0.0]]), dim=1)", "tensor([[0.5, 0.5]])"),
    "log_softmax": ("fn.log_softmax(fn.tensor([[0.0, 0.0]]), dim=1).exp()", "tensor([[0.5, 0.5]])"),
    "prod": ("fn.prod(fn.tensor([2.0, 3.0]))", "tensor(6.)"),
    "cumsum": ("fn.cumsum(fn.tensor([1, 2, 3]), dim=0)", "tensor([1, 3, 6])"),
    "norm": ("fn.norm(fn.tensor([3.0, 4.0]))", "tensor(5.)"),
    "logsumexp": ("fn.logsumexp(fn.tensor([0.0, 0.0]), dim=0)", "tensor(0.6931472)"),
    "gather": ("fn.gather(fn.tensor([[1, 2], [3, 4]]), 1, fn.tensor([[1], [0]]))",
               "tensor([[2],\n            [3]])"),
    "index_select": ("fn.index_select(fn.tensor([5, 6, 7]), 0, fn.tensor([2, 0]))", "tensor([7, 5])"),
    "sort": ("fn.sort(fn.tensor([2, 1])).values", "tensor([1, 2])"),
    "argsort": ("fn.argsort(fn.tensor([2, 1]))", "tensor([1, 0])"),
    "topk": ("fn.topk(fn.tensor([1.0, 3.0, 2.0]), 2).indices", "tensor([1, 2])"),
    "split": ("[t.shape for t in fn.split(fn.zeros(5), 2)]", "[(2,), (2,), (1,)]"),
    "chunk": ("[t.shape for t in fn.chunk(fn.zeros(4), 2)]", "[(2,), (2,)]"),
    "unbind": ("fn.unbind(fn.tensor([[1, 2], [3, 4]]))", "(tensor([1, 2]), tensor([3, 4]))"),
    "narrow": ("fn.narrow(fn.arange(5), 0, 1, 2)", "tensor([1, 2])"),
    "flip": ("fn.flip(fn.tensor([1, 2, 3]), [0])", "tensor([3, 2, 1])"),
    "roll": ("fn.roll(fn.tensor([1, 2, 3]), 1, 0)", "tensor([3, 1, 2])"),
    "isnan": ("fn.isnan(fn.tensor([0.0, float('nan')]))", "tensor([False,  True])"),
    "isinf": ("fn.isinf(fn.tensor([0.0, float('inf')]))", "tensor([False,  True])"),
    "isfinite": ("fn.isfinite(fn.tensor([0.0, float('inf')]))", "tensor([ True, False])"),
    "is_floating_point": ("fn.is_floating_point(fn.zeros(1))", "True"),
    "nonzero": ("fn.nonzero(fn.tensor([0, 3, 0, 4]))", "tensor([[1],\n            [3]])"),
    "count_nonzero": ("fn.count_nonzero(fn.tensor([0, 3, 0, 4]))", "tensor(2)"),
    "eq": ("fn.eq(fn.tensor([1, 2]), fn.tensor([1, 0]))", "tensor([ True, False])"),
    "ne": ("fn.ne(fn.tensor([1, 2]), fn.tensor([1, 0]))", "tensor([False,  True])"),
    "lt": ("fn.lt(fn.tensor([1, 2]), 2)", "tensor([ True, False])"),
    "le": ("fn.le(fn.tensor([1, 2]), 2)", "tensor([ True,  True])"),
    "gt": ("fn.gt(fn.tensor([1, 2]), 1)", "tensor([False,  True])"),
    "ge": ("fn.ge(fn.tensor([1, 2]), 2)", "tensor([False,  True])"),
    "bmm": ("fn.bmm(fn.ones(2, 1, 3), fn.ones(2, 3, 4)).shape", "(2, 1, 4)"),
    "dot": ("fn.dot(fn.tensor([1.0, 2.0]), fn.tensor([3.0, 4.0]))", "tensor(11.)"),
    "add": ("fn.add(fn.tensor([1.0]), fn.tensor([2.0]), alpha=2)", "tensor([5.])"),
    "sub": ("fn.sub(fn.tensor([1.0]), 1.0)", "tensor([0.])"),
    "mul": ("fn.mul(fn.tensor([2.0]), 3.0)", "tensor([6.])"),
    "div": ("fn.div(fn.tensor([3.0]), 2.0)", "tensor([1.5])"),
    "remainder": ("fn.remainder(fn.tensor([-1.0, 5.0]), 3)", "tensor([2., 2.])"),
    "floor_divide": ("fn.floor_divide(fn.tensor([7, -7]), 2)", "tensor([ 3, -4])"),
    "log1p": ("fn.log1p(fn.tensor([0.0]))", "tensor([0.])"),
    "expm1": ("fn.expm1(fn.tensor([0.0]))", "tensor([0.])"),
    "rsqrt": ("fn.rsqrt(fn.tensor([4.0]))", "tensor([0.5])"),
    "reciprocal": ("fn.reciprocal(fn.tensor([4.0]))", "tensor([0.25])"),
    "sign": ("fn.sign(fn.tensor([-2.0, 3.0]))", "tensor([-1.,  1.])"),
    "floor": ("fn.floor(fn.tensor([1.5]))", "tensor([1.])"),
    "ceil": ("fn.ceil(fn.tensor([1.5]))", "tensor([2.])"),
    "round": ("fn.round(fn.tensor([2.5]))", "tensor([2.])"),
    "trunc": ("fn.trunc(fn.tensor([-1.5]))", "tensor([-1.])"),
}


def _method(name):
    where = f"{name} input"

    def call(input, *args, **kwargs):
        if type(input) is not Tensor:
            input = as_tensor(input, where)
        return getattr(input, name)(*args, **kwargs)
    code, out = _EXAMPLES[name]
    call.__name__ = call.__qualname__ = name
    call.__doc__ = (f"``input.{name}(...)``: see Tensor.{name}.\n\n"
                    f"    >>> import fastnn as fn\n    >>> {code}\n    {out}\n    ")
    return call


max = _method("max")
min = _method("min")
amax = _method("amax")
amin = _method("amin")
argmax = _method("argmax")
argmin = _method("argmin")
sum = _method("sum")
mean = _method("mean")
std = _method("std")
var = _method("var")
exp = _method("exp")
log = _method("log")
sqrt = _method("sqrt")
sin = _method("sin")
cos = _method("cos")
prod = _method("prod")
cumsum = _method("cumsum")
norm = _method("norm")
logsumexp = _method("logsumexp")
gather = _method("gather")
index_select = _method("index_select")
sort = _method("sort")
argsort = _method("argsort")
topk = _method("topk")
split = _method("split")
chunk = _method("chunk")
unbind = _method("unbind")
narrow = _method("narrow")
flip = _method("flip")
roll = _method("roll")
isnan = _method("isnan")
isinf = _method("isinf")
isfinite = _method("isfinite")
is_floating_point = _method("is_floating_point")
nonzero = _method("nonzero")
count_nonzero = _method("count_nonzero")
eq = _method("eq")
ne = _method("ne")
lt = _method("lt")
le = _method("le")
gt = _method("gt")
ge = _method("ge")
bmm = _method("bmm")
dot = _method("dot")
add = _method("add")
sub = _method("sub")
mul = _method("mul")
div = _method("div")
remainder = _method("remainder")
floor_divide = _method("floor_divide")
log1p = _method("log1p")
expm1 = _method("expm1")
rsqrt = _method("rsqrt")
reciprocal = _method("reciprocal")
sign = _method("sign")
floor = _method("floor")
ceil = _method("ceil")
round = _method("round")
trunc = _method("trunc")
abs = _method("abs")
clamp = clip = _method("clamp")
matmul = _method("matmul")
mm = _method("mm")
transpose = _method("transpose")
permute = _method("permute")
reshape = _method("reshape")
squeeze = _method("squeeze")
unsqueeze = _method("unsqueeze")
t = _method("t")
sigmoid = _method("sigmoid")
tanh = _method("tanh")
relu = _method("relu")
softmax = _method("softmax")
log_softmax = _method("log_softmax")


def equal(input, other):
    """True when both have the same shape and elements (a Python bool).

    >>> import fastnn as fn
    >>> fn.equal(fn.tensor([1, 2]), fn.tensor([1, 2])), fn.equal(fn.tensor([1]), fn.tensor([2]))
    (True, False)
    """
    return as_tensor(input, "equal input").equal(other)


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    """True when every element is within atol + rtol * |other| (a Python bool).

    >>> import fastnn as fn
    >>> fn.allclose(fn.tensor([1.0]), fn.tensor([1.0 + 1e-7]))
    True
    """
    a = input.data if isinstance(input, Tensor) else np.asarray(input)
    b = other.data if isinstance(other, Tensor) else np.asarray(other)
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))
