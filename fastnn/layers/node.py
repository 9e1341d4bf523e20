"""Symbolic tensors for the functional API: ``KerasTensor`` (a shape and a dtype, no
data) and ``Node`` (one call of a layer on KerasTensors). Calling a layer on
KerasTensors records a Node; ``fn.models.Model(inputs, outputs)`` walks the Nodes back
from the outputs and replays them on real data.

>>> import fastnn as fn
>>> x = fn.Input((4,))
>>> y = fn.layers.Dense(3)(x)
>>> y.shape, y.dtype
((None, 3), 'float32')
"""
import numpy as np

__all__ = ["KerasTensor", "Node", "flatten", "map_structure", "is_symbolic"]


def flatten(struct):
    """The leaves of nested lists/tuples/dicts (dicts in key order), in order."""
    if isinstance(struct, (list, tuple)):
        return [leaf for s in struct for leaf in flatten(s)]
    if isinstance(struct, dict):
        return [leaf for k in struct for leaf in flatten(struct[k])]
    return [struct]


def map_structure(fn, struct):
    """``struct`` with every leaf replaced by ``fn(leaf)``."""
    if isinstance(struct, list):
        return [map_structure(fn, s) for s in struct]
    if isinstance(struct, tuple):
        return tuple(map_structure(fn, s) for s in struct)
    if isinstance(struct, dict):
        return {k: map_structure(fn, v) for k, v in struct.items()}
    return fn(struct)


def is_symbolic(struct):
    """True when ``struct`` is a KerasTensor or a list/tuple/dict holding one."""
    if isinstance(struct, KerasTensor):
        return True
    if isinstance(struct, (list, tuple, dict)):
        return any(isinstance(leaf, KerasTensor) for leaf in flatten(struct))
    return False


class KerasTensor:
    """A symbolic tensor: the shape (``None`` for the batch and any unknown size) and
    dtype of a value that a functional model will compute. Arithmetic between
    KerasTensors (``+ - * /``, unary ``-``) records an op as a layer would.

    >>> import fastnn as fn
    >>> a = fn.Input((2,)); b = fn.Input((2,))
    >>> (a + b).shape
    (None, 2)
    """

    __slots__ = ("shape", "dtype", "name", "_history")

    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = str(np.dtype(dtype))
        self.name = name
        self._history = history     # (node, output index) or None for an Input

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, dtype=None, copy=None):
        raise TypeError(f"{self!r} is symbolic: it has no values. Build a model with "
                        f"fn.models.Model(inputs, outputs) and call it (or predict) on data.")

    def __bool__(self):
        raise TypeError(f"{self!r} is symbolic: it has no truth value.")

    def __hash__(self):
        return id(self)

    def _op(self, name, other=None, reverse=False):
        from .merging import _SymbolicOp
        args = [self] if other is None else ([other, self] if reverse else [self, other])
        return _SymbolicOp(name)(args)

    def __add__(self, other):
        return self._op("add", other)

    def __radd__(self, other):
        return self._op("add", other, reverse=True)

    def __sub__(self, other):
        return self._op("subtract", other)

    def __rsub__(self, other):
        return self._op("subtract", other, reverse=True)

    def __mul__(self, other):
        return self._op("multiply", other)

    def __rmul__(self, other):
        return self._op("multiply", other, reverse=True)

    def __truediv__(self, other):
        return self._op("divide", other)

    def __rtruediv__(self, other):
        return self._op("divide", other, reverse=True)

    def __neg__(self):
        return self._op("negative")


class Node:
    """One call of ``layer`` on symbolic ``args`` (with constant ``kwargs``), producing
    the KerasTensors ``outputs`` (their structure kept in ``output_struct``)."""

    __slots__ = ("layer", "args", "kwargs", "inputs", "outputs", "output_struct")

    def __init__(self, layer, args, kwargs, output_struct):
        self.layer, self.args, self.kwargs = layer, args, kwargs
        self.inputs = [t for t in flatten(args) if isinstance(t, KerasTensor)]
        self.output_struct = output_struct
        self.outputs = flatten(output_struct)
        for i, t in enumerate(self.outputs):
            t._history = (self, i)

    def run(self, values):
        """Call the layer on real values: ``values`` maps id(KerasTensor) -> value."""
        args = map_structure(lambda t: values[id(t)] if isinstance(t, KerasTensor) else t,
                             self.args)
        return self.layer(*args, **self.kwargs)
