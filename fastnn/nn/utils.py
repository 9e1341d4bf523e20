"""Gradient and parameter utilities (same as ``torch.nn.utils``): ``clip_grad_norm_``,
``clip_grad_value_``, ``parameters_to_vector``, ``vector_to_parameters``.

>>> import numpy as np, fastnn as fn
>>> w = fn.nn.Parameter(np.zeros(2, np.float32)); w.grad = np.array([3.0, 4.0], np.float32)
>>> fn.nn.utils.clip_grad_norm_([w], max_norm=1.0).item(), w.grad.round(4).tolist()
(5.0, [0.6, 0.8])
"""
import math
import numbers

import numpy as np

from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _params(parameters, where):
    if isinstance(parameters, Tensor):
        return [parameters]
    try:
        params = list(parameters)
    except TypeError:
        raise TypeError(f"{where}: expected a Tensor or an iterable of Tensors, got "
                        f"{type(parameters).__name__}.") from None
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}: parameter {i} is a {type(p).__name__}, not a Tensor.")
    return params


def _norm(a, norm_type):
    a = np.abs(a.astype(np.float64, copy=False)).ravel()
    if norm_type == math.inf:
        return a.max(initial=0.0)
    if norm_type == -math.inf:
        return a.min(initial=math.inf)
    if norm_type == 0:
        return float(np.count_nonzero(a))
    return float(np.sum(a ** norm_type) ** (1.0 / norm_type))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients in place so that their joint ``norm_type``-norm is at most
    ``max_norm`` (each ``.grad`` multiplied by min(1, max_norm / (norm + 1e-6)), as torch).

    Args:
        parameters: a Tensor or an iterable of Tensors (those without ``.grad`` are skipped).
        max_norm: the largest norm. norm_type: p of the p-norm (float('inf') for the max).
        error_if_nonfinite: raise when the total norm is NaN or infinite.
        foreach: accepted for torch compatibility.

    Returns:
        The total norm of the gradients before clipping (a 0-d float32 Tensor, or the
        gradients' dtype).

    Raises:
        RuntimeError: a non-finite norm with ``error_if_nonfinite``.

    >>> import numpy as np, fastnn as fn
    >>> m = fn.nn.Linear(2, 1); m(fn.ones(1, 2) * 100).sum().backward()
    >>> total = fn.nn.utils.clip_grad_norm_(m.parameters(), max_norm=1.0)
    >>> round(float(np.sqrt(sum((p.grad ** 2).sum() for p in m.parameters()))), 4)
    1.0
    """
    where = "clip_grad_norm_"
    grads = [p.grad for p in _params(parameters, where) if p.grad is not None]
    for name, v in (("max_norm", max_norm), ("norm_type", norm_type)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{where}: {name} must be a number, got {type(v).__name__} {v!r}.")
    if not grads:
        return Tensor._wrap(np.zeros((), np.float32))
    dtype = grads[0].dtype
    norm_type = float(norm_type)
    total = _norm(np.array([_norm(g, norm_type) for g in grads]), norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"{where}: the total norm of order {norm_type} for gradients is "
                           f"non-finite ({total}), so it cannot be clipped. To disable this error "
                           f"and scale the gradients by the non-finite norm anyway, set "
                           f"error_if_nonfinite=False.")
    coef = min(float(max_norm) / (total + 1e-6), 1.0) if not math.isnan(total) else math.nan
    for g in grads:
        g *= g.dtype.type(coef)
    return Tensor._wrap(np.asarray(total, dtype))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clip every gradient in place to [-clip_value, clip_value].

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.zeros(2, np.float32)); w.grad = np.array([-3.0, 0.5], np.float32)
    >>> fn.nn.utils.clip_grad_value_(w, 1.0); w.grad.tolist()
    [-1.0, 0.5]
    """
    v = float(clip_value)
    for p in _params(parameters, "clip_grad_value_"):
        if p.grad is not None:
            np.clip(p.grad, -v, v, out=p.grad)


def parameters_to_vector(parameters):
    """All parameters flattened into one 1-D tensor (a copy).

    >>> import fastnn as fn
    >>> fn.nn.utils.parameters_to_vector(fn.nn.Linear(2, 3).parameters()).shape
    (9,)
    """
    params = _params(parameters, "parameters_to_vector")
    return Tensor._wrap(np.concatenate([p.data.ravel() for p in params]))


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place.

    >>> import fastnn as fn
    >>> m = fn.nn.Linear(2, 1); fn.nn.utils.vector_to_parameters(fn.zeros(3), m.parameters())
    >>> m.weight
    Parameter containing:
    tensor([[0., 0.]], requires_grad=True)
    """
    v = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    params = _params(parameters, "vector_to_parameters")
    n = sum(p.data.size for p in params)
    if v.ndim != 1 or v.size != n:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {n} elements, got "
                         f"shape {v.shape}.")
    i = 0
    for p in params:
        k = p.data.size
        p.data[...] = v[i:i + k].reshape(p.data.shape)
        i += k
