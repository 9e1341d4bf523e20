"""Keras-style merge layers: Add, Subtract, Multiply, Average (elementwise over a list
of inputs, broadcasting as NumPy), and the op recorded by KerasTensor arithmetic."""
from .base import Layer

__all__ = ["Add", "Subtract", "Multiply", "Average"]


def _broadcast_shapes(where, shapes):
    rank = max(len(s) for s in shapes)
    out = []
    for dims in zip(*[(1,) * (rank - len(s)) + tuple(s) for s in shapes]):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"{where}: inputs with shapes {[tuple(s) for s in shapes]} cannot "
                             f"be broadcast together.")
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


class _Merge(Layer):
    _min_inputs = 2

    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < self._min_inputs:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a list of at least "
                             f"{self._min_inputs} inputs, got {type(inputs).__name__}"
                             f"{'' if not isinstance(inputs, (list, tuple)) else f' of length {len(inputs)}'}.")

    def build(self, input_shape):
        self._check(input_shape)
        _broadcast_shapes(f"{type(self).__name__} '{self.name}'", input_shape)

    def call(self, inputs):
        self._check(inputs)
        return self._merge(list(inputs))

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return _broadcast_shapes(f"{type(self).__name__} '{self.name}'", input_shape)


class Add(_Merge):
    """Elementwise sum of a list of inputs.

    >>> import fastnn as fn
    >>> fn.layers.Add()([fn.tensor([[1.0, 2.0]]), fn.tensor([[3.0, 4.0]])]).numpy()
    array([[4., 6.]], dtype=float32)
    """

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """The first of exactly two inputs minus the second.

    >>> import fastnn as fn
    >>> fn.layers.Subtract()([fn.tensor([[1.0]]), fn.tensor([[3.0]])]).numpy()
    array([[-2.]], dtype=float32)
    """

    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"Subtract '{self.name}': expected a list of exactly 2 inputs, got "
                             f"{inputs!r}.")

    def _merge(self, xs):
        return xs[0] - xs[1]


class Multiply(_Merge):
    """Elementwise product of a list of inputs.

    >>> import fastnn as fn
    >>> fn.layers.Multiply()([fn.tensor([[2.0]]), fn.tensor([[3.0]])]).numpy()
    array([[6.]], dtype=float32)
    """

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """Elementwise mean of a list of inputs.

    >>> import fastnn as fn
    >>> fn.layers.Average()([fn.tensor([[2.0]]), fn.tensor([[4.0]])]).numpy()
    array([[3.]], dtype=float32)
    """

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out * (1.0 / len(xs))


class _SymbolicOp(_Merge):
    """The layer recorded by arithmetic on KerasTensors (``a + b``, ``2 * a``, ``-a``):
    a named elementwise op on one or two operands (a KerasTensor or a number)."""

    _OPS = {"add": lambda a, b: a + b, "subtract": lambda a, b: a - b,
            "multiply": lambda a, b: a * b, "divide": lambda a, b: a / b,
            "negative": lambda a: -a}
    _min_inputs = 1

    def __init__(self, op, **kwargs):
        super().__init__(**kwargs)
        if "name" not in kwargs:
            self.__dict__["name"] = op      # still auto-named: unique per model
        if op not in self._OPS:
            raise ValueError(f"unknown KerasTensor op {op!r}; expected one of {sorted(self._OPS)}.")
        self.op = op

    def _merge(self, xs):
        return self._OPS[self.op](*xs)

    def compute_output_shape(self, input_shape):
        shapes = [s for s in input_shape if isinstance(s, tuple) and len(s) > 0]
        return _broadcast_shapes(f"KerasTensor {self.op}", shapes) if shapes else ()

    def build(self, input_shape):
        pass

    def get_config(self):
        return {**super().get_config(), "op": self.op}
