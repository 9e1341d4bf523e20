"""Plain float64 NumPy normalisation: the oracle for fastnn._kernels.norm and the ops
built on it (batch norm, layer norm), written as the textbook formulas."""
import numpy as np


def batch_norm_stats(x):
    """(mean, biased variance) per channel of x (N, C, L)."""
    x = x.astype(np.float64)
    return x.mean(axis=(0, 2)), x.var(axis=(0, 2))


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """torch.nn.functional.batch_norm on (N, C, *) input; returns (y, new_running_mean,
    new_running_var) (the running statistics are not modified in place here)."""
    x = np.asarray(x, np.float64)
    C = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, C) + (1,) * (x.ndim - 2)
    rm = None if running_mean is None else np.array(running_mean, np.float64)
    rv = None if running_var is None else np.array(running_var, np.float64)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        n = x.size // C
        if rm is not None:
            rm = (1 - momentum) * rm + momentum * mean
        if rv is not None:
            rv = (1 - momentum) * rv + momentum * var * n / max(n - 1, 1)
    else:
        mean, var = rm, rv
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        y = y * np.asarray(weight, np.float64).reshape(shape)
    if bias is not None:
        y = y + np.asarray(bias, np.float64).reshape(shape)
    return y, rm, rv


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """torch.nn.functional.layer_norm: normalise over the last len(normalized_shape) dims."""
    x = np.asarray(x, np.float64)
    axes = tuple(range(x.ndim - len(tuple(normalized_shape)), x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        y = y * np.asarray(weight, np.float64)
    if bias is not None:
        y = y + np.asarray(bias, np.float64)
    return y


def embedding(indices, weight, padding_idx=None):
    """Rows of ``weight`` picked by integer ``indices`` (any shape)."""
    return np.asarray(weight)[np.asarray(indices)]
