"""Dropout layers (same as torch.nn): active in train mode, the identity in eval mode.

Each takes, keyword-only, ``keep_prob=`` (1 - p, never with p) and ``generator=``: a
:class:`fastnn.random.Generator` or an int seed (made into the module's own generator
once, so successive calls differ and the run is reproducible), or None for the
default generator (``fn.manual_seed``).
"""
from .. import functional as F
from ..functional.dropout import P_DEFAULT, drop_probability
from ..random import resolve
from ..tensor import Tensor
from .module import Module

__all__ = ["Dropout", "AlphaDropout", "Dropout2d", "Dropout3d", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    _fn = None

    def __init__(self, p=P_DEFAULT, inplace=False, *, keep_prob=None, generator=None):
        super().__init__()
        self.p = drop_probability(p, keep_prob, type(self).__name__)
        self.inplace = bool(inplace)
        self.generator = None if generator is None else resolve(generator)

    def forward(self, input):
        if not self.training and type(input) is Tensor:
            return input      # eval: the identity, with no call (inference latency)
        return type(self)._fn(input, self.p, self.training, self.inplace, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero elements with probability p in training, scaling survivors by 1/(1-p).

    Args:
        p: drop probability. inplace: write into the input. keep_prob: 1 - p.
        generator: Generator, int seed or None (default generator).

    >>> import numpy as np, fastnn as fn
    >>> m = fn.nn.Dropout(0.5, generator=0); x = np.ones(8, np.float32)
    >>> set(m(x).numpy().tolist()) <= {0.0, 2.0}, m.eval()(x).numpy() is x
    (True, True)
    """
    _fn = staticmethod(F.dropout)


class AlphaDropout(_DropoutNd):
    """Alpha dropout for SELU networks (keeps zero mean, unit variance); see F.alpha_dropout.

    >>> import fastnn as fn
    >>> fn.nn.AlphaDropout(0.2)
    AlphaDropout(p=0.2, inplace=False)
    """
    _fn = staticmethod(F.alpha_dropout)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) input; see F.dropout2d.

    >>> import fastnn as fn
    >>> fn.nn.Dropout2d(keep_prob=0.75).p
    0.25
    """
    _fn = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) input; see F.dropout3d.

    >>> import fastnn as fn
    >>> fn.nn.Dropout3d(0.1).training
    True
    """
    _fn = staticmethod(F.dropout3d)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels; see F.feature_alpha_dropout.

    >>> import fastnn as fn
    >>> fn.nn.FeatureAlphaDropout(0.3).p
    0.3
    """
    _fn = staticmethod(F.feature_alpha_dropout)
