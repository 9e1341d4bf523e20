"""Keras-style layers (``fn.layers``), same names, arguments and defaults as Keras 3,
on fastnn's engine: each layer is an ``fn.nn.Module`` whose ``call`` runs fastnn's ops.

Input sizes are inferred on the first call; a layer given ``input_shape`` builds at
once. Called on ``fn.Input`` KerasTensors, layers build a functional graph.

>>> import fastnn as fn
>>> fn.layers.Dense(2)(fn.tensor([[1.0, 2.0, 3.0]])).shape
(1, 2)
"""
from .base import Layer
from .conv import (AveragePooling2D, AvgPool2D, Conv2D, GlobalAveragePooling2D,
                   GlobalAvgPool2D, GlobalMaxPool2D, GlobalMaxPooling2D, MaxPool2D,
                   MaxPooling2D)
from .core import Activation, Dense, Dropout, Embedding, Flatten, Reshape
from .input_layer import Input, InputLayer
from .merging import Add, Average, Multiply, Subtract
from .node import KerasTensor
from .normalization import BatchNormalization, LayerNormalization

__all__ = ["Layer", "InputLayer", "Input", "KerasTensor", "Dense", "Activation", "Dropout",
           "Flatten", "Reshape", "Embedding", "BatchNormalization", "LayerNormalization", "Conv2D", "MaxPooling2D", "AveragePooling2D", "MaxPool2D",
           "AvgPool2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAvgPool2D",
           "GlobalMaxPool2D", "Add", "Subtract", "Multiply", "Average", "LAYERS", "get"]

#: Every layer class a saved model may name (the one registry of layer types).
LAYERS = {cls.__name__: cls for cls in (
    InputLayer, Dense, Activation, Dropout, Flatten, Reshape, Embedding, BatchNormalization,
    LayerNormalization, Conv2D, MaxPooling2D,
    AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, Add, Subtract, Multiply,
    Average)}


def get(class_name):
    """The layer class registered under ``class_name``.

    Raises:
        ValueError: an unknown name (the valid ones are listed).

    >>> get("Dense") is Dense
    True
    """
    cls = LAYERS.get(class_name)
    if cls is None:
        raise ValueError(f"Unknown layer type {class_name!r}; the known layers are: "
                         f"{', '.join(sorted(LAYERS))}.")
    return cls
