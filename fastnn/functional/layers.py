"""Layer functions (same as torch.nn.functional)."""
from ..autograd.linear import Linear as _Linear
from ..tensor import as_tensor

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
    x, weight = as_tensor(x, "linear input"), as_tensor(weight, "linear weight")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}.")
    if x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has shape {x.shape} but weight has shape {weight.shape}; "
                         f"expected input of shape (..., {weight.shape[1]}).")
    if bias is not None:
        bias = as_tensor(bias, "linear bias")
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}.")
    if x.data.dtype.kind != "f":
        raise TypeError(f"linear: input must be floating point, got dtype {x.dtype}.")
    return _Linear.apply(x, weight, bias)
