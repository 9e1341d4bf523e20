"""Keras-style models (``fn.models``): ``Sequential``, functional ``Model(inputs,
outputs)`` and subclassed ``Model``, with Keras 3's compile / fit / evaluate / predict,
``summary``, ``get_layer`` and saving (``load_model``).

>>> import fastnn as fn, numpy as np
>>> inputs = fn.Input((4,))
>>> outputs = fn.layers.Dense(2, activation="softmax")(fn.layers.Dense(8, activation="relu")(inputs))
>>> model = fn.models.Model(inputs, outputs)
>>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
>>> x = np.random.default_rng(0).random((32, 4), dtype=np.float32); y = (x[:, 0] > 0.5).astype(int)
>>> sorted(model.fit(x, y, epochs=2, verbose=0).history)
['accuracy', 'loss']
"""
from ..layers.input_layer import Input
from .functional import Functional
from .model import Model
from .saving import load_model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "Functional", "Input", "load_model"]
