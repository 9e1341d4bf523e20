"""Every public name of the torch-style surface carries a docstring with a ``>>>``
example (pytest runs them as doctests: ``--doctest-modules`` over fastnn/)."""
import pytest

import fastnn as fn
import fastnn.functional as F
from fastnn import data, tensor_functions

TENSOR_METHODS = [
    "size", "numel", "dim", "view", "view_as", "reshape", "flatten", "unflatten", "unsqueeze",
    "squeeze", "permute", "transpose", "t", "expand", "expand_as", "contiguous", "clone",
    "argmax", "argmin", "max", "min", "amax", "amin", "sum", "mean", "var", "std", "all", "any",
    "eq", "ne", "lt", "le", "gt", "ge", "equal", "float", "double", "long", "int", "bool", "to",
    "cpu", "mm", "add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "clamp_",
    "masked_fill", "where", "new_zeros", "new_ones", "new_full", "new_tensor", "type_as",
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "square",
]
TOP_LEVEL = ["zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
             "full_like", "rand", "randn", "rand_like", "randn_like", "randint", "randperm",
             "arange", "linspace", "eye", "from_numpy", "as_tensor", "is_tensor", "numel",
             "get_default_dtype", "device", "where", "maximum", "minimum"] + \
    [n for n in tensor_functions.__all__]
NN = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "Embedding", "Conv1d",
      "AdaptiveAvgPool2d", "AdaptiveAvgPool1d"]
FUNCTIONAL = ["batch_norm", "layer_norm", "embedding", "conv1d", "adaptive_avg_pool2d",
              "adaptive_avg_pool1d", "pad", "softmax", "log_softmax"]
UTILS = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]
SCHEDULERS = ["LinearLR", "ConstantLR", "PolynomialLR", "OneCycleLR"]
#: every optimizer of fn.optim (the checklist of fastnn/_kernels/__init__.py relies on it)
OPTIMIZERS = [n for n in fn.optim.__all__ if isinstance(getattr(fn.optim, n), type)
              and issubclass(getattr(fn.optim, n), fn.optim.Optimizer) and n != "Optimizer"]

NAMES = ([("Tensor." + n, getattr(fn.Tensor, n)) for n in TENSOR_METHODS]
         + [("fn." + n, getattr(fn, n)) for n in TOP_LEVEL]
         + [("fn.nn." + n, getattr(fn.nn, n)) for n in NN]
         + [("F." + n, getattr(F, n)) for n in FUNCTIONAL]
         + [("fn.nn.utils." + n, getattr(fn.nn.utils, n)) for n in UTILS]
         + [("lr_scheduler." + n, getattr(fn.optim.lr_scheduler, n)) for n in SCHEDULERS]
         + [("fn.optim." + n, getattr(fn.optim, n)) for n in OPTIMIZERS]
         + [("fn.data." + n, getattr(data, n)) for n in data.__all__]
         + [("fn.cuda.is_available", fn.cuda.is_available)])


@pytest.mark.parametrize("name,obj", NAMES, ids=[n for n, _ in NAMES])
def test_public_name_has_an_example(name, obj):
    doc = getattr(obj, "__doc__", None) or ""
    assert ">>>" in doc, f"{name} has no >>> example in its docstring"
