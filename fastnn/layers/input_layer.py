"""``fn.Input`` and ``InputLayer``: the entry points of a functional model."""
import numpy as np

from .base import Layer
from .node import KerasTensor, Node

__all__ = ["Input", "InputLayer"]


def _shape_arg(where, shape):
    if isinstance(shape, (int, np.integer)) or not isinstance(shape, (tuple, list)):
        raise ValueError(f"{where}: shape must be a tuple of the sizes of one sample (without "
                         f"the batch), e.g. shape=(784,), got {shape!r}.")
    out = []
    for d in shape:
        if d is None:
            out.append(None)
        elif isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
            raise ValueError(f"{where}: shape must hold non-negative ints or None, got {shape!r}.")
        else:
            out.append(int(d))
    return tuple(out)


def _any_dtype(where, dtype):
    try:
        dt = np.dtype(dtype or "float32")
    except TypeError:
        raise TypeError(f"{where}: dtype must be a NumPy dtype name such as 'float32' or "
                        f"'int64', got {dtype!r}.") from None
    if dt.kind not in "fiub":
        raise TypeError(f"{where}: dtype must be numeric, got {dtype!r}.")
    return str(dt)


class InputLayer(Layer):
    """The layer behind ``fn.Input``: it holds the model input's KerasTensor (``output``)
    and casts data to its dtype. It has no weights.

    >>> import fastnn as fn
    >>> fn.layers.InputLayer(shape=(3,)).output.shape
    (None, 3)
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if sparse:
            raise ValueError("InputLayer: sparse inputs are not supported by fastnn.")
        if input_tensor is not None:
            raise ValueError("InputLayer: input_tensor is not supported by fastnn.")
        if shape is not None and batch_shape is not None:
            raise ValueError("Input: pass shape= or batch_shape=, not both.")
        if batch_shape is not None:
            batch_shape = _shape_arg("Input batch_shape", batch_shape)
            if not batch_shape:
                raise ValueError("Input: batch_shape must include the batch axis.")
            batch_size, shape = batch_shape[0], batch_shape[1:]
        elif shape is None:
            raise ValueError("Input: shape is required (the sizes of one sample, e.g. (784,)).")
        else:
            shape = _shape_arg("Input shape", shape)
        if batch_size is not None and (isinstance(batch_size, bool) or
                                       not isinstance(batch_size, (int, np.integer)) or
                                       batch_size < 1):
            raise ValueError(f"Input: batch_size must be a positive int or None, got "
                             f"{batch_size!r}.")
        self.__dict__["input_dtype"] = _any_dtype("Input", dtype)
        self.__dict__["sample_shape"] = tuple(shape)
        self.__dict__["batch_size"] = batch_size
        self.__dict__["optional"] = bool(optional)
        self.__dict__["built"] = True
        out = KerasTensor((batch_size,) + tuple(shape), self.input_dtype, name=self.name)
        Node(self, (), {}, out)
        self.__dict__["output"] = out

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {"name": self.name, "batch_shape": [self.batch_size, *self.sample_shape],
                "dtype": self.input_dtype}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        bs = config.pop("batch_shape")
        return cls(batch_shape=tuple(bs), **config)


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """A symbolic input for a functional model, as ``keras.Input``.

    Args:
        shape: the sizes of one sample, without the batch (None for a size that
            varies). batch_size: a fixed batch size, or None. dtype: default 'float32'
            (data are cast to it; 'int64' for token ids). batch_shape: the shape with the
            batch axis, instead of shape. name: the input's name (keys of dict inputs).

    Returns:
        A KerasTensor: call layers on it, then ``fn.models.Model(inputs, outputs)``.

    Raises:
        ValueError: a shape that is not a tuple of sizes, or sparse=True.

    >>> import fastnn as fn
    >>> x = fn.Input(shape=(28, 28, 1), name="image")
    >>> x.shape, x.name
    ((None, 28, 28, 1), 'image')
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, input_tensor=tensor, optional=optional,
                       name=name)
    return layer.output
