"""Loss modules (same as torch.nn): thin wrappers holding the options of the
matching fastnn.functional loss."""
import numpy as np

from .. import functional as F
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
           "BCELoss", "BCEWithLogitsLoss", "KLDivLoss"]


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        # a buffer, as torch: saved in the state dict, never trained
        self.register_buffer("weight", None if weight is None else np.asarray(weight))


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits (fused log_softmax + NLL); see F.cross_entropy.

    >>> import fastnn as fn
    >>> round(fn.nn.CrossEntropyLoss()([[2.0, 0.0, 0.0]], [0]).item(), 4)
    0.2395
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities; see F.nll_loss.

    >>> import fastnn as fn
    >>> fn.nn.NLLLoss()([[-0.5, -1.0]], [1]).item()
    1.0
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error; see F.mse_loss.

    >>> import fastnn as fn
    >>> fn.nn.MSELoss()([1.0, 2.0], [0.0, 0.0]).item()
    2.5
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error; see F.l1_loss.

    >>> import fastnn as fn
    >>> fn.nn.L1Loss()([1.0, -2.0], [0.0, 0.0]).item()
    1.5
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss; see F.smooth_l1_loss.

    >>> import fastnn as fn
    >>> fn.nn.SmoothL1Loss(beta=1.0)([0.5, 3.0], [0.0, 0.0]).item()
    1.3125
    """

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss; see F.huber_loss.

    >>> import fastnn as fn
    >>> fn.nn.HuberLoss(delta=1.0)([0.5, 3.0], [0.0, 0.0]).item()
    1.3125
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities; see F.binary_cross_entropy.

    >>> import fastnn as fn
    >>> round(fn.nn.BCELoss()([0.8, 0.0], [1.0, 0.0]).item(), 4)
    0.1116
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of logits (stable form, optional pos_weight); see
    F.binary_cross_entropy_with_logits.

    >>> import fastnn as fn
    >>> round(fn.nn.BCEWithLogitsLoss(pos_weight=[2.0])([[0.0]], [[1.0]]).item(), 4)
    1.3863
    """

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", None if pos_weight is None else np.asarray(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """KL divergence with log-probability input; see F.kl_div.

    >>> import fastnn as fn, numpy as np
    >>> round(fn.nn.KLDivLoss(reduction='sum')(np.log([0.5, 0.5]), [0.25, 0.75]).item(), 4)
    0.1308
    """

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
