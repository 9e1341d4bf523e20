"""``Sequential``: a linear stack of layers, as ``keras.Sequential``."""
import operator

import numpy as np

from ..autograd import grad_mode, no_grad
from ..layers.base import Layer, unique_names
from ..layers.input_layer import InputLayer
from ..layers.node import KerasTensor
from ..nn.module import Module
from ..tensor import Tensor
from .model import Model

__all__ = ["Sequential"]


def _output_shape(layer, shape):
    """``layer``'s output shape for ``shape``: its compute_output_shape, else one run on
    zeros (unknown sizes as 1) in eval mode, recording nothing."""
    if isinstance(layer, Layer) and layer._has_output_shape():
        return tuple(layer.compute_output_shape(shape))
    mode = layer.training
    layer.train(False)
    try:
        with no_grad():
            y = layer(Tensor._wrap(np.zeros(tuple(1 if d is None else d for d in shape),
                                            np.float32)))
    finally:
        layer.train(mode)
    return (shape[0],) + tuple(np.shape(getattr(y, "data", y)))[1:]


class Sequential(Model):
    """A stack of layers, each fed the previous one's output (``keras.Sequential``).

    Give the input with a first ``fn.Input(shape)`` (or ``input_shape=`` on the first
    layer) to build at once, so ``summary()`` works before ``fit``; otherwise the model
    builds on its first batch.

    Args:
        layers: a list of layers (an ``fn.Input`` may come first). name: the model's name.

    Raises:
        TypeError: something that is not a layer.

    >>> import fastnn as fn, numpy as np
    >>> m = fn.Sequential([fn.Input((4,)), fn.layers.Dense(8, activation="relu"),
    ...                    fn.layers.Dense(3, activation="softmax")])
    >>> m.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    >>> x = np.random.default_rng(0).random((64, 4), dtype=np.float32); y = (x[:, 0] * 3).astype(int)
    >>> h = m.fit(x, y, epochs=2, batch_size=16, verbose=0)
    >>> sorted(h.history), [layer.name for layer in m.layers]
    (['accuracy', 'loss'], ['dense', 'dense_1'])
    """

    # the no-grad plan holds this process's Parameter objects
    _transient = ("_plan",)

    def __init__(self, layers=None, trainable=True, name=None):
        Model.__init__(self, trainable=trainable, name=name)
        d = self.__dict__
        d["_plan"] = None
        d["_stack"] = []
        d["_input_layer"] = None
        d["_build_input_shape"] = None
        if layers is not None and not isinstance(layers, (list, tuple)):
            raise TypeError(f"Sequential: layers must be a list of layers, got "
                            f"{type(layers).__name__}.")
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build()

    @property
    def layers(self):
        """The layers (the Input excluded, as Keras)."""
        return list(self._stack)

    def add(self, layer, rebuild=True):
        """Append ``layer`` (a Keras layer, an ``fn.nn`` module, or a first ``fn.Input``).

        Raises:
            TypeError: anything else. ValueError: an Input after other layers.
        """
        if isinstance(layer, KerasTensor):
            origin = layer._history[0].layer if layer._history else None
            if not isinstance(origin, InputLayer):
                raise TypeError("Sequential.add: a KerasTensor can only be added as the model's "
                                "input (from fn.Input).")
            layer = origin
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError("Sequential.add: an Input must come first, before any layer.")
            self.__dict__["_input_layer"] = layer
            if rebuild:
                self._maybe_build()
            return
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.add: only layers (fn.layers.Layer or fn.nn.Module) can "
                            f"be added to a Sequential model, got {type(layer).__name__} "
                            f"{layer!r}.")
        self.add_module(str(len(self._stack)), layer)
        self._stack.append(layer)
        unique_names([l for l in self._stack if isinstance(l, Layer)],
                     f"Sequential '{self.name}'")
        self.__dict__["built"] = False
        if rebuild:
            self._maybe_build()

    def pop(self, rebuild=True):
        """Remove and return the last layer."""
        if not self._stack:
            raise IndexError("Sequential.pop: there are no layers to remove.")
        layer = self._stack.pop()
        del self._modules[str(len(self._stack))]
        self.__dict__.pop(str(len(self._stack)), None)
        if rebuild:
            self._maybe_build()
        return layer

    def _known_input_shape(self):
        if self._input_layer is not None:
            il = self._input_layer
            return (il.batch_size,) + tuple(il.sample_shape)
        if self._stack and getattr(self._stack[0], "input_shape", None) is not None:
            return (None,) + tuple(self._stack[0].input_shape)
        return self._build_input_shape

    def _maybe_build(self):
        shape = self._known_input_shape()
        if shape is not None and self._stack:
            self.build(shape)

    def build(self, input_shape=None):
        """Build every layer for inputs of ``input_shape`` (batch axis included)."""
        if input_shape is None:
            input_shape = self._known_input_shape()
            if input_shape is None:
                raise ValueError(f"Sequential '{self.name}'.build: the input shape is unknown; "
                                 f"give it, e.g. build((None, 784)), or start with fn.Input.")
        shape = (None,) + tuple(input_shape)[1:]
        self.__dict__["_build_input_shape"] = shape
        for layer in self._stack:
            if isinstance(layer, Layer):
                if not layer.built:
                    layer._build(shape)
                layer.__dict__["_summary_shape"] = _output_shape(layer, shape)
                shape = layer._summary_shape
            else:
                shape = _output_shape(layer, shape)
        self.__dict__["built"] = True

    def call(self, inputs, training=None):
        if not training and not grad_mode._state.enabled:
            return self._run_nograd(inputs)
        x = inputs
        for layer in self._stack:
            x = layer(x)
        return x

    def _run_nograd(self, x):
        """Inference through fn.nn.Sequential's no-grad plan: each Dense (linear or ReLU)
        becomes the fn.nn.Linear (+ ReLU) it computes, sharing its Parameters, and an
        inference Dropout the identity, so runs of them fuse as in fn.nn.Sequential."""
        # the plan stands while no layer changed its weights or a dropout its mode
        stack = self._stack
        key = (tuple(map(_VERSION, stack)), tuple(map(_TRAINING, stack)), len(stack))
        plan = self._plan
        if plan is None or plan[0] != key:
            plan = (key, _nograd().build_plan(self._plan_modules()))
            self.__dict__["_plan"] = plan
        return _nograd().run_plan(plan[1], x)

    def _plan_modules(self):
        from ..layers.core import Dense, Dropout
        from ..nn import Identity, Linear, ReLU, Sigmoid, Softmax, Tanh
        after = {"linear": None, "relu": ReLU, "softmax": lambda: Softmax(dim=-1),
                 "sigmoid": Sigmoid, "tanh": Tanh}
        mods = []
        for layer in self._stack:
            if type(layer) is Dense and layer.built and layer.activation_name in after:
                lin = Linear(1, 1, bias=layer.bias is not None)
                lin.weight = layer.weight
                if layer.bias is not None:
                    lin.bias = layer.bias
                mods.append(lin)
                if after[layer.activation_name] is not None:
                    mods.append(after[layer.activation_name]())
            elif type(layer) is Dropout and not layer.training:
                mods.append(Identity())
            else:
                mods.append(layer)
        return mods

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._stack:
            shape = _output_shape(layer, shape)
        return shape

    def _input_float_dtype(self):
        if self._input_layer is not None and np.dtype(self._input_layer.input_dtype).kind != "f":
            return None
        first = self._stack[0] if self._stack else None
        if getattr(first, "_accepts_int_input", False):
            return None
        return np.dtype(self.dtype)

    def _summary_rows(self):
        if not self.built and self._known_input_shape() is not None:
            self.build()
        return super()._summary_rows()

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "build_input_shape": None if self._build_input_shape is None
                else list(self._build_input_shape),
                "input_dtype": None if self._input_layer is None else
                self._input_layer.input_dtype,
                "layers": [saving_layer_config(layer) for layer in self._stack]}

    @classmethod
    def from_config(cls, config, where="load_model"):
        from .saving import layer_from_config
        model = cls(name=config["name"], trainable=config.get("trainable", True))
        shape = config.get("build_input_shape")
        if config.get("input_dtype") is not None and shape is not None:
            from ..layers.input_layer import Input
            model.add(Input(batch_shape=tuple(shape), dtype=config["input_dtype"]), rebuild=False)
        for spec in config["layers"]:
            model.add(layer_from_config(spec, where), rebuild=False)
        if shape is not None:
            model.build(tuple(shape))
        return model


def _VERSION(layer):
    return layer.__dict__.get("_version", 0)


_TRAINING = operator.attrgetter("training")


def _nograd():
    from ..nn import _nograd as plan
    return plan


def saving_layer_config(layer):
    from .saving import layer_config
    return layer_config(layer)
