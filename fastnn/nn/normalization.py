"""Normalisation layers (same as torch.nn): BatchNorm1d/2d/3d and LayerNorm."""
import numpy as np

from .. import _checks
from .. import functional as F
from .._device import check_device
from ..tensor import empty_aligned
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm"]


def _positive(where, name, v):
    return _checks.positive_int(where, name, v)


def _nonneg(where, name, v, allow_none=False):
    if v is None and allow_none:
        return None
    return _checks.real(where, name, v, low=0.0,
                        what="a non-negative number" + (" or None" if allow_none else ""))


class _BatchNorm(Module):
    _ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        where = type(self).__name__
        check_device(device, where)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.num_features = _positive(where, "num_features", num_features)
        self.eps = _nonneg(where, "eps", eps)
        self.momentum = _nonneg(where, "momentum", momentum, allow_none=True)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        C = self.num_features
        if self.affine:
            self.weight = Parameter(empty_aligned(C, dtype))
            self.bias = Parameter(empty_aligned(C, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(C, dtype))
            self.register_buffer("running_var", np.ones(C, dtype))
            self.register_buffer("num_batches_tracked", np.array(0, np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self._buffers["running_mean"][...] = 0
            self._buffers["running_var"][...] = 1
            self._buffers["num_batches_tracked"][...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
            self.bias.data[...] = 0

    def _check_input_dim(self, x):
        nd = np.ndim(getattr(x, "data", x))
        if nd not in self._ranks:
            want = " or ".join(f"{r}D" for r in self._ranks)
            raise ValueError(f"{type(self).__name__}: expected {want} input (got {nd}D input "
                             f"of shape {np.shape(getattr(x, 'data', x))}).")

    def forward(self, input):
        self._check_input_dim(input)
        buf = self._buffers
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            nbt = buf["num_batches_tracked"]
            if nbt is not None:
                nbt += 1
                factor = 1.0 / float(nbt) if self.momentum is None else self.momentum
        rm, rv = buf["running_mean"], buf["running_var"]
        use_batch = self.training or (rm is None and rv is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, rm if track else None, rv if track else None,
                            self.weight, self.bias, use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input over each channel C, as torch:
    batch statistics in training (running statistics updated with ``momentum``; with
    ``momentum=None`` a cumulative average), running statistics in eval.

    Args:
        num_features: C. eps: added to the variance. momentum: 0.1 or None.
        affine: learn weight (ones) and bias (zeros). track_running_stats: keep
            running_mean/running_var/num_batches_tracked buffers (else batch
            statistics in eval too). device: 'cpu' or None. dtype: float32 default.

    >>> import numpy as np, fastnn as fn
    >>> bn = fn.nn.BatchNorm1d(2)
    >>> bn(np.array([[1.0, 2.0], [3.0, 6.0]], np.float32)).numpy().round(3)
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    >>> bn.running_mean, int(bn.num_batches_tracked)
    (array([0.2, 0.4], dtype=float32), 1)
    """
    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input over each channel C (see BatchNorm1d).

    >>> import numpy as np, fastnn as fn
    >>> bn = fn.nn.BatchNorm2d(3).eval()
    >>> bn(np.ones((2, 3, 4, 4), np.float32)).shape
    (2, 3, 4, 4)
    """
    _ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) input over each channel C (see BatchNorm1d).

    >>> import numpy as np, fastnn as fn
    >>> fn.nn.BatchNorm3d(3)(np.ones((2, 3, 2, 2, 2), np.float32)).shape
    (2, 3, 2, 2, 2)
    """
    _ranks = (5,)


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` dims, as torch
    (weight ones and bias zeros, learnt with ``elementwise_affine``).

    Args:
        normalized_shape: int or tuple. eps: added to the variance.
        elementwise_affine: learn weight and bias. bias: learn the bias (when affine).
        device: 'cpu' or None. dtype: float32 default.

    >>> import fastnn as fn
    >>> fn.nn.LayerNorm(2)(fn.tensor([[1.0, 3.0]])).numpy().round(3)
    array([[-1.,  1.]], dtype=float32)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        where = "LayerNorm"
        check_device(device, where)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape, bool):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(_positive(where, "normalized_shape", s)
                                      for s in normalized_shape)
        self.eps = _nonneg(where, "eps", eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(empty_aligned(self.normalized_shape, dtype))
            if bias:
                self.bias = Parameter(empty_aligned(self.normalized_shape, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
