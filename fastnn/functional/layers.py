"""Layer functions (same as torch.nn.functional)."""
from ..autograd import grad_mode
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
    # validation reads the arrays directly: this runs on every Linear call
    if not isinstance(x, Tensor):
        x = as_tensor(x, "linear input")
    if not isinstance(weight, Tensor):
        weight = as_tensor(weight, "linear weight")
    xs, ws = x.data.shape, weight.data.shape
    if len(ws) != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {ws}.")
    if not xs or xs[-1] != ws[1]:
        raise ValueError(f"linear: input has shape {xs} but weight has shape {ws}; "
                         f"expected input of shape (..., {ws[1]}).")
    if bias is not None:
        if not isinstance(bias, Tensor):
            bias = as_tensor(bias, "linear bias")
        if bias.data.shape != (ws[0],):
            raise ValueError(f"linear: bias must have shape ({ws[0]},), got {bias.data.shape}.")
    if x.data.dtype.kind != "f":
        raise TypeError(f"linear: input must be floating point, got dtype {x.data.dtype}.")
    if not grad_mode._state.enabled or not (x.requires_grad or weight.requires_grad or
                                            (bias is not None and bias.requires_grad)):
        # nothing to record: skip the Function machinery (single-sample inference)
        return Tensor._wrap(_Linear.compute(x.data, weight.data, None if bias is None else bias.data))
    return _Linear.apply(x, weight, bias)
