"""Core Keras-style layers: Dense, Activation, Dropout, Flatten, Reshape."""

import numpy as np

from .. import _checks
from .. import activations as _activations
from .. import functional as F
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..functional.layers import linear_act
from ..tensor import Tensor
from .base import Layer

__all__ = ["Dense", "Activation", "Dropout", "Flatten", "Reshape", "Embedding",
           "positive_int", "activation_name"]


def positive_int(where, v):
    """``v`` as an int >= 1; ``where`` is 'Layer argument' ('Dense units')."""
    layer, _, name = where.partition(" ")
    return _checks.positive_int(layer, name, v)


def activation_name(activation):
    """Registered name of ``activation``; None for a custom callable (not saveable)."""
    try:
        return _activations.serialize(activation)
    except ValueError:
        if callable(activation):
            return None
        raise


def _initializer_name(init):
    """A saveable form of an initializer argument. A custom one cannot be rebuilt by
    name, and needs not be: the saved weights replace what it would draw."""
    if isinstance(init, str):
        return init
    name = type(_initializers.get(init)).__name__
    return name if name in _initializers.ALL_INITIALIZERS else "zeros"


class Dense(Layer):
    """y = activation(inputs · kernel + bias), as ``keras.layers.Dense``; the last axis
    of the input is the one transformed.

    Args:
        units: output size. activation: name or callable (None: linear).
        use_bias: add a bias. kernel_initializer: default 'glorot_uniform'.
        bias_initializer: default 'zeros'. kernel_regularizer, bias_regularizer:
            penalties added to the loss (e.g. 'l2' or ``fn.regularizers.L2(1e-4)``).
        **kwargs: Layer's (name, dtype, trainable, input_shape, ...).

    ``get_weights`` gives the kernel as (in, units), as Keras; the Parameter
    ``weight`` is stored (units, in), the layout ``F.linear`` reads (``kernel`` is a
    (in, units) view of it).

    Raises:
        ValueError: units < 1, an unknown activation, or an input whose last axis is
            not the built input size.

    >>> import fastnn as fn
    >>> d = fn.layers.Dense(3, activation="relu", input_shape=(4,))
    >>> d(fn.tensor([[1.0, 2.0, 3.0, 4.0]])).shape, d.kernel.shape
    ((1, 3), (4, 3))
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = positive_int("Dense units", units)
        self.activation = _activations.get(activation)
        self.activation_name = activation_name(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.kernel_regularizer = _regularizers.get(kernel_regularizer)
        self.bias_regularizer = _regularizers.get(bias_regularizer)
        if kernel_constraint is not None or bias_constraint is not None or lora_rank is not None:
            raise ValueError("Dense: kernel_constraint, bias_constraint and lora_rank are not "
                             "supported by fastnn.")
        self._init_args = (kernel_initializer, bias_initializer)
        if self.input_shape is not None:
            self._build((None,) + self.input_shape)

    def build(self, input_shape):
        fan_in = input_shape[-1] if len(input_shape) else None
        if fan_in is None:
            raise ValueError(f"Dense '{self.name}': the last axis of the input must be known, "
                             f"got input shape {tuple(input_shape)}.")
        self.weight = self.add_weight(shape=(int(fan_in), self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel",
                                      _stored_axes=(1, 0))
        self.bias = (self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer, name="bias")
                     if self.use_bias else None)

    @property
    def kernel(self):
        """The kernel in Keras's (in, units) layout: a view of ``weight``."""
        return Tensor._wrap(self.weight.data.T)

    def call(self, inputs):
        shape = inputs.shape
        if not shape or shape[-1] != self.weight.shape[1]:
            raise ValueError(f"Dense '{self.name}': expected an input whose last axis has "
                             f"{self.weight.shape[1]} features, got shape {shape}.")
        if self.activation is F.relu:     # one recorded op, the bias and ReLU fused
            return linear_act(inputs, self.weight, self.bias, "relu")
        y = F.linear(inputs, self.weight, self.bias)
        return y if self.activation is None else self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def _layout_note(self, label):
        return " (in, units)" if label == "kernel" else ""

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation_name,
                "use_bias": self.use_bias,
                "kernel_initializer": _initializer_name(self._init_args[0]),
                "bias_initializer": _initializer_name(self._init_args[1]),
                "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": _regularizers.serialize(self.bias_regularizer)}


class Activation(Layer):
    """Apply an activation (a name such as 'relu', or a callable).

    >>> import fastnn as fn
    >>> fn.layers.Activation("relu")(fn.tensor([[-1.0, 2.0]])).numpy()
    array([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _activations.get(activation)
        self.activation_name = activation_name(activation)

    def call(self, inputs):
        return inputs if self.activation is None else self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation_name}


class Dropout(Layer):
    """Zero a fraction ``rate`` of the inputs while training, scaling the rest by
    1/(1 - rate) (``keras.layers.Dropout``); the identity in inference.

    Args:
        rate: the fraction to drop, in [0, 1). seed: int for a reproducible mask.

    >>> import fastnn as fn, numpy as np
    >>> fn.layers.Dropout(0.5)(np.ones((1, 4), np.float32), training=False).numpy()
    array([[1., 1., 1., 1.]], dtype=float32)
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        rate = _checks.real("Dropout", "rate", rate, 0.0, 1.0, high_open=True)
        if noise_shape is not None:
            raise ValueError("Dropout: noise_shape is not supported by fastnn; use "
                             "fn.nn.Dropout2d for channel-wise dropout.")
        self.rate, self.seed = float(rate), seed
        self._gen = None if seed is None else _seeded(seed)

    def call(self, inputs, training=None):
        return F.dropout(inputs, p=self.rate, training=bool(training), generator=self._gen)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


def _seeded(seed):
    from ..random import resolve
    return resolve(int(seed))


class Flatten(Layer):
    """Flatten all but the batch axis (channels-last order, as Keras by default).

    >>> import fastnn as fn, numpy as np
    >>> fn.layers.Flatten()(np.zeros((2, 3, 4), np.float32)).shape
    (2, 12)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        from .conv import data_format_arg
        self.data_format = data_format_arg("Flatten", data_format)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.transpose(0, *range(2, inputs.ndim), 1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        n = None if any(d is None for d in rest) else int(np.prod(rest))
        return (input_shape[0], n)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (one entry may be -1), as
    ``keras.layers.Reshape``.

    Raises:
        ValueError: a target that does not hold the sample's size, or more than one -1.

    >>> import fastnn as fn, numpy as np
    >>> fn.layers.Reshape((3, -1))(np.zeros((2, 12), np.float32)).shape
    (2, 3, 4)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise TypeError(f"Reshape: target_shape must be a tuple of ints, got "
                            f"{target_shape!r}.") from None
        if sum(d == -1 for d in target) > 1 or any(d == 0 or d < -1 for d in target):
            raise ValueError(f"Reshape: target_shape must hold positive sizes and at most one "
                             f"-1, got {target}.")
        self.target_shape = target

    def _resolve(self, sample_shape, where):
        if any(d is None for d in sample_shape):
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = int(np.prod(sample_shape))
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        if -1 in self.target_shape:
            if known == 0 or size % known:
                raise ValueError(f"Reshape '{self.name}': cannot reshape samples of shape "
                                 f"{tuple(sample_shape)} ({size} values) to {self.target_shape}.")
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            raise ValueError(f"Reshape '{self.name}': cannot reshape samples of shape "
                             f"{tuple(sample_shape)} ({size} values) to {self.target_shape} "
                             f"({known} values).")
        return self.target_shape

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0],) + self._resolve(inputs.shape[1:], "call"))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(input_shape[1:], "shape")

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Embedding(Layer):
    """Map integer indices to dense vectors, as ``keras.layers.Embedding``: the output
    for index i is row i of ``embeddings`` (input_dim, output_dim), via ``F.embedding``.
    Float indices (e.g. from a float32 ``fn.Input``) are cast to integers, as Keras.

    Args:
        input_dim: the vocabulary size. output_dim: the vector size.
        embeddings_initializer: default 'uniform' (U(±0.05)).
        embeddings_regularizer: a penalty added to the loss.

    Raises:
        ValueError: sizes < 1, mask_zero=True (masks are not supported by fastnn).
        IndexError: an index outside [0, input_dim).

    >>> import fastnn as fn
    >>> e = fn.layers.Embedding(10, 3)
    >>> e(fn.tensor([[1, 2, 9]])).shape
    (1, 3, 3)
    """

    _accepts_int_input = True

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = positive_int("Embedding input_dim", input_dim)
        self.output_dim = positive_int("Embedding output_dim", output_dim)
        if mask_zero or embeddings_constraint is not None or lora_rank is not None:
            raise ValueError("Embedding: mask_zero, embeddings_constraint and lora_rank are not "
                             "supported by fastnn.")
        self.embeddings_initializer = _initializers.get(embeddings_initializer)
        self.embeddings_regularizer = _regularizers.get(embeddings_regularizer)
        self._init_name = embeddings_initializer
        self._build(None)
        if weights is not None:
            self.set_weights(weights)

    def build(self, input_shape=None):
        if "embeddings" in self._parameters:
            return
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          name="embeddings")

    def call(self, inputs):
        idx = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        if idx.dtype.kind not in "iu":
            idx = idx.astype(np.int64)
        return F.embedding(idx, self.embeddings)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def _output_dtype(self, x):
        return self._dtype

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": _initializer_name(self._init_name),
                "embeddings_regularizer": _regularizers.serialize(self.embeddings_regularizer)}
