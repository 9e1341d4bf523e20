"""Layer functions (same as torch.nn.functional)."""
from ..autograd import grad_mode
from .._kernels.linear import ACTIVATIONS as _ACTS, linear_small as _linear_small
from ..autograd.linear import Linear as _Linear
from ..tensor import Tensor, as_tensor

__all__ = ["linear"]


def linear(x, weight, bias=None):
    """y = x Wᵀ + b.

    Args:
        x: (..., in_features). weight: (out_features, in_features). bias: (out_features,) or None.

    Raises:
        ValueError: when the feature sizes do not match.

    >>> import fastnn as fn, fastnn.functional as F
    >>> F.linear([[1.0, 2.0]], [[1.0, 1.0], [0.0, 1.0]], [0.5, 0.0]).numpy()
    array([[3.5, 2. ]], dtype=float32)
    """
    if not grad_mode._state.enabled and isinstance(x, Tensor) and isinstance(weight, Tensor) \
            and (bias is None or isinstance(bias, Tensor)):
        # single-sample inference: the kernel's own checks stand in for validation
        y = _linear_small(x.data, weight.data, None if bias is None else bias.data, _ACTS[None])
        if y is not None:
            return Tensor._wrap(y)
    # validation reads the arrays directly: this runs on every Linear call
    if not isinstance(x, Tensor):
        x = as_tensor(x, "linear input")
    if not isinstance(weight, Tensor):
        weight = as_tensor(weight, "linear weight")
    if bias is not None and not isinstance(bias, Tensor):
        bias = as_tensor(bias, "linear bias")
    _check(x.data, weight.data, None if bias is None else bias.data)
    if not grad_mode._state.enabled or not (x.requires_grad or weight.requires_grad or
                                            (bias is not None and bias.requires_grad)):
        # nothing to record: skip the Function machinery
        return Tensor._wrap(_Linear.compute(x.data, weight.data, None if bias is None else bias.data))
    return _Linear.apply(x, weight, bias)


def _check(x, w, b):
    xs, ws = x.shape, w.shape
    if len(ws) != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {ws}.")
    if not xs or xs[-1] != ws[1]:
        raise ValueError(f"linear: input has shape {xs} but weight has shape {ws}; "
                         f"expected input of shape (..., {ws[1]}).")
    if b is not None and b.shape != (ws[0],):
        raise ValueError(f"linear: bias must have shape ({ws[0]},), got {b.shape}.")
    if x.dtype.kind != "f":
        raise TypeError(f"linear: input must be floating point, got dtype {x.dtype}.")


def linear_nograd(x, w, b=None, act=None):
    """act(x Wᵀ + b) on ndarrays, recording nothing: the no-grad step that
    Sequential runs for a Linear (act=None) or a Linear followed by a ReLU
    (act="relu"). Validates like ``linear`` where the fused kernel declines."""
    y = _linear_small(x, w, b, _ACTS[act])
    if y is not None:
        return y
    _check(x, w, b)
    return _Linear.compute(x, w, b, act)
