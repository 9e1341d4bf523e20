"""Batch norm folded into the Linear or Conv before it, for Sequential's no-grad plan.

In eval mode a BatchNorm is a per-channel affine map with constants from its running
statistics: bn(z) = z s + t, s = weight / sqrt(running_var + eps),
t = bias - running_mean s. After a Linear or a convolution z = W x + b, so

    bn(W x + b) = (s W) x + (s b + t)

and the pair is one layer. ``fold`` replaces each exact (Linear, BatchNorm1d) or
(Conv1d/Conv2d, BatchNorm1d/2d) pair of a module list, with a ReLU after it when
there is one, by a :class:`FoldedBatchNorm` step. The folded constants are computed
on every call from the current parameters and statistics (a few operations per
channel, or one pass over a convolution's small weight), so nothing goes stale when
they change; a BatchNorm in training mode (or without running statistics) makes the
step run its modules one after the other, as before.
"""
import numpy as np

from .. import functional as F
from ..tensor import Tensor
from .activation import ReLU
from .conv import Conv1d, Conv2d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d

__all__ = ["fold", "FoldedBatchNorm"]

_PAIRS = {Linear: (BatchNorm1d,), Conv1d: (BatchNorm1d,), Conv2d: (BatchNorm2d,)}


def fold(modules):
    """``modules`` with each foldable (layer, BatchNorm[, ReLU]) run replaced by one step."""
    out, i = [], 0
    while i < len(modules):
        m = modules[i]
        bns = _PAIRS.get(type(m))
        if bns and i + 1 < len(modules) and type(modules[i + 1]) in bns \
                and getattr(m, "padding_mode", "zeros") == "zeros":
            relu = i + 2 < len(modules) and type(modules[i + 2]) is ReLU
            out.append(FoldedBatchNorm(m, modules[i + 1], modules[i + 2] if relu else None))
            i += 3 if relu else 2
            continue
        out.append(m)
        i += 1
    return out


def scale_shift(bn):
    """(s, t) float64 with bn(z) = z s + t per channel, from the eval statistics."""
    s = 1.0 / np.sqrt(bn.running_var.astype(np.float64) + bn.eps)
    if bn.weight is not None:
        s = s * bn.weight.data
    t = -bn.running_mean * s
    if bn.bias is not None:
        t = t + bn.bias.data
    return s, t


class FoldedBatchNorm:
    """One plan step for layer -> BatchNorm (-> ReLU): in eval mode the layer with the
    normalisation folded into its weight and bias; otherwise the modules in turn.

    >>> import numpy as np, fastnn as fn
    >>> net = fn.nn.Sequential(fn.nn.Linear(3, 4), fn.nn.BatchNorm1d(4), fn.nn.ReLU()).eval()
    >>> x = fn.randn(5, 3)
    >>> with fn.no_grad():
    ...     folded = net(x)
    >>> step = net._build_plan()[0][1]; type(step).__name__
    'FoldedBatchNorm'
    >>> unfolded = net[2](net[1](net[0](x)))
    >>> bool(np.allclose(folded.numpy(), unfolded.numpy(), atol=1e-5))
    True
    """

    training = False       # the plan skips nothing for it: it is always called

    def __init__(self, layer, bn, relu=None):
        self.layer, self.bn, self.relu = layer, bn, relu

    def _unfolded(self, x):
        y = self.bn(self.layer(x))
        return y if self.relu is None else self.relu(y)

    def __call__(self, x):
        bn, layer = self.bn, self.layer
        if bn.training or bn.running_mean is None or bn.running_var is None:
            return self._unfolded(x)
        x = x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))
        if x.data.dtype not in (np.float32, np.float64):
            return self._unfolded(x)      # the modules give the error message
        dt = x.data.dtype
        s, t = scale_shift(bn)
        w = layer.weight.data
        b = t if layer.bias is None else t + s * layer.bias.data
        want = {Linear: 2, Conv1d: 3, Conv2d: 4}[type(layer)]
        if x.ndim != want or s.shape[0] != w.shape[0]:
            return self._unfolded(x)       # other ranks: the modules decide (or raise)
        if type(layer) is Linear:
            # y = (x W^T) s + b': the scale on the output, O(rows x out), not on W
            y = F.linear(x, w.astype(dt, copy=False)).data
            y *= s.astype(dt)
            y += b.astype(dt)
        else:
            wf = (w * s.reshape((-1,) + (1,) * (w.ndim - 1))).astype(dt)
            conv = F.conv2d if type(layer) is Conv2d else F.conv1d
            pad = layer.padding if isinstance(layer.padding, str) or type(layer) is Conv2d \
                else layer.padding[0]
            y = conv(x, wf, b.astype(dt), layer.stride, pad, layer.dilation, layer.groups).data
        if self.relu is not None:
            np.maximum(y, 0, out=y)
        return Tensor._wrap(y)
