"""Normalisation functions (same as torch.nn.functional): batch_norm, layer_norm.

Both validate here and call one autograd Function (fastnn/autograd/norm.py), whose
kernels are compiled (fastnn/_kernels/norm.py).
"""
import numpy as np

from .. import _checks
from ..autograd.norm import BatchNorm as _BatchNorm
from ..autograd.norm import LayerNorm as _LayerNorm
from ..tensor import Tensor

__all__ = ["batch_norm", "layer_norm"]


def _param(p, shape, where, name, dtype):
    if p is None:
        return None
    p = _checks.tensor(where, name, p)
    if not _checks.is_float(p.data.dtype):
        raise TypeError(f"{where}: {name} must be floating point, got dtype {p.data.dtype}.")
    if p.shape != tuple(shape):
        raise ValueError(f"{where}: {name} must have shape {tuple(shape)}, got {p.shape}.")
    return _checks.float_param(where, name, p, dtype)


def _stat(a, C, where, name):
    """A running statistic: the float ndarray itself (updated in place), shape (C,)."""
    if a is None:
        return None
    arr = a.data if isinstance(a, Tensor) else a
    if not isinstance(arr, np.ndarray) or not _checks.is_float(arr.dtype):
        raise TypeError(f"{where}: {name} must be a float ndarray or Tensor of shape ({C},) "
                        f"(it is updated in place), got {type(a).__name__}"
                        f"{' of dtype ' + str(arr.dtype) if isinstance(arr, np.ndarray) else ''}.")
    if arr.shape != (C,):
        raise ValueError(f"{where}: {name} must have shape ({C},) to match the input's "
                         f"{C} channels, got {arr.shape}.")
    if not arr.flags.writeable:
        raise ValueError(f"{where}: {name} is read-only; it must be writeable (updated in place).")
    return arr


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, *, unbiased_running_var=True):
    """Batch normalisation over (N, C, *) input, per channel c (dim 1), as torch:
    y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c].

    Args:
        input: (N, C) or (N, C, *) float tensor.
        running_mean, running_var: (C,) float arrays or tensors, or None. In training
            they are updated in place: r = (1 - momentum) r + momentum * batch value
            (the batch variance unbiased, n / (n - 1), as torch). Outside training
            they normalise the input.
        weight, bias: (C,) affine parameters, or None.
        training: use the batch's statistics (biased variance) instead of the running ones.
        momentum: weight of the new batch in the running statistics (torch's
            convention; Keras' momentum m is torch's 1 - m).
        eps: added to the variance.
        unbiased_running_var: keyword-only. False updates the running variance with the
            biased batch variance (Keras' convention); the output is the same.

    Returns:
        Tensor of the input's shape and dtype.

    Raises:
        ValueError: input with fewer than 2 dims, a shape mismatch, one value per channel
            in training, no running statistics outside training. TypeError: non-float input.

    >>> import numpy as np, fastnn.functional as F
    >>> rm, rv = np.zeros(2, np.float32), np.ones(2, np.float32)
    >>> x = np.array([[1.0, 2.0], [3.0, 6.0]], np.float32)
    >>> F.batch_norm(x, rm, rv, training=True).numpy().round(3)
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    >>> rm, rv
    (array([0.2, 0.4], dtype=float32), array([1.1, 1.7], dtype=float32))
    """
    where = "batch_norm"
    x, back = _checks.float_input(where, "input", input)
    if x.ndim < 2:
        raise ValueError(f"{where}: expected input of shape (N, C) or (N, C, *), got shape {x.shape}.")
    C = x.shape[1]
    rm = _stat(running_mean, C, where, "running_mean")
    rv = _stat(running_var, C, where, "running_var")
    w = _param(weight, (C,), where, "weight", x.data.dtype)
    b = _param(bias, (C,), where, "bias", x.data.dtype)
    eps = _checks.real(where, "eps", eps, low=0.0)
    if training:
        momentum = _checks.real(where, "momentum", momentum)
        per_channel = x.data.size // C if C else 0
        if per_channel <= 1:
            raise ValueError(f"{where}: expected more than 1 value per channel when training, "
                             f"got input of shape {x.shape}.")
    elif rm is None or rv is None:
        raise ValueError(f"{where}: running_mean and running_var must be given when "
                         f"training=False (or pass training=True to use the batch statistics).")
    return back(_BatchNorm.apply(x, w, b, running_mean=rm, running_var=rv,
                                 training=bool(training), momentum=momentum, eps=eps,
                                 unbiased_running_var=bool(unbiased_running_var)))


def _shape(normalized_shape, where):
    if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape, bool):
        normalized_shape = (int(normalized_shape),)
    try:
        shape = tuple(int(s) for s in normalized_shape)
        if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) for s in normalized_shape):
            raise TypeError
    except TypeError:
        raise TypeError(f"{where}: normalized_shape must be an int or a tuple of ints, got "
                        f"{normalized_shape!r}.") from None
    if not shape or any(s < 0 for s in shape):
        raise ValueError(f"{where}: normalized_shape must be a non-empty tuple of non-negative "
                         f"ints, got {normalized_shape!r}.")
    return shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the last ``len(normalized_shape)`` dims, as torch:
    y = (x - mean) / sqrt(var + eps) * weight + bias (biased variance per row).

    Args:
        input: float tensor whose trailing dims equal ``normalized_shape``.
        normalized_shape: int or tuple of ints.
        weight, bias: tensors of shape ``normalized_shape``, or None.
        eps: added to the variance.

    Returns:
        Tensor of the input's shape and dtype.

    Raises:
        ValueError: trailing dims or parameter shapes that do not match.

    >>> import fastnn.functional as F
    >>> F.layer_norm([[1.0, 3.0], [2.0, 2.0]], 2).numpy().round(3)
    array([[-1.,  1.],
           [ 0.,  0.]], dtype=float32)
    """
    where = "layer_norm"
    x, back = _checks.float_input(where, "input", input)
    shape = _shape(normalized_shape, where)
    if x.shape[x.ndim - len(shape):] != shape or x.ndim < len(shape):
        raise ValueError(f"{where}: expected input with trailing dims {shape} "
                         f"(normalized_shape), got input of shape {x.shape}.")
    w = _param(weight, shape, where, "weight", x.data.dtype)
    b = _param(bias, shape, where, "bias", x.data.dtype)
    eps = _checks.real(where, "eps", eps, low=0.0)
    return back(_LayerNorm.apply(x, w, b, nd=len(shape), eps=eps))
