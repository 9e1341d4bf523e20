"""Loss functions (same as torch.nn.functional; pass the arguments after ``target``
by keyword).

Each validates its arguments once here, then calls one autograd Function whose
kernel computes the loss and its gradient in a single pass (fastnn/_kernels/losses.py).
"""
import warnings

import numpy as np

from .. import _checks
from ..autograd.losses import CrossEntropy, NLLLoss, PointwiseLoss
from ..tensor import Tensor

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(where, reduction, allowed=_REDUCTIONS):
    return _checks.option(where, "reduction", reduction, allowed)


def _float_input(where, x):
    """(x as a Tensor the kernels take, back: the loss in x's dtype)."""
    return _checks.float_input(where, "input", x)


def _class_weight(where, weight, n_classes, dtype):
    if weight is None:
        return None
    w = _checks.array(where, "weight", weight)
    if w.shape != (n_classes,):
        raise ValueError(f"{where}: weight must have one entry per class, shape ({n_classes},), "
                         f"got shape {w.shape}.")
    return np.ascontiguousarray(w, dtype)


def _class_targets(where, x, target, allow_soft):
    """Validate (input, target) for class-index losses; returns the target ndarray or Tensor."""
    if x.ndim < 1:
        raise ValueError(f"{where}: input must have a class dimension, shape (C,), (N, C) or "
                         f"(N, C, d1, ...), got a 0-d input.")
    idx_shape = () if x.ndim == 1 else (x.shape[0],) + tuple(x.shape[2:])
    t = _checks.array(where, "target", target)
    if t.dtype.kind in "iu":
        if t.shape != idx_shape:
            raise ValueError(f"{where}: input of shape {x.shape} needs class indices of shape "
                             f"{idx_shape}, got target of shape {t.shape}.")
        return t
    if _checks.is_float(t.dtype):
        if allow_soft and t.shape == x.shape:
            return target if isinstance(target, Tensor) else t
        if t.shape == idx_shape:
            raise ValueError(f"{where}: target of shape {t.shape} has float dtype {t.dtype}, but class "
                             f"indices must be integers (e.g. {t.reshape(-1)[:1].tolist()}); "
                             f"convert with target.astype(np.int64)"
                             + (f", or pass class probabilities of shape {x.shape}." if allow_soft else "."))
        raise ValueError(f"{where}: input of shape {x.shape} needs integer class indices of shape "
                         f"{idx_shape}" + (f" or class probabilities of shape {x.shape}" if allow_soft else "")
                         + f", got float target of shape {t.shape}.")
    raise TypeError(f"{where}: target must hold integer class indices, got dtype {t.dtype}.")


def cross_entropy(input, target, *, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy of logits, fused log_softmax + NLL (as torch).

    loss_i = (1 − ε)·w[t_i]·(logsumexp(x_i) − x_i[t_i]) + ε/C·Σ_j w_j (logsumexp(x_i) − x_ij);
    'mean' divides the sum by Σ w[t_i] over the rows not ignored.

    Args:
        input: logits of shape (C,), (N, C) or (N, C, d1, ...).
        target: class indices (any integer dtype) of shape (), (N,) or (N, d1, ...), or
            class probabilities of the input's shape.
        weight: per-class weights, shape (C,). ignore_index: target value that
            contributes nothing. reduction: 'none' | 'mean' | 'sum'.
        label_smoothing: ε in [0, 1].

    Returns:
        Tensor: the loss (scalar unless reduction='none').

    Raises:
        ValueError: target shape, or a class index out of range (names its position);
            label_smoothing outside [0, 1]; float labels where indices are needed.

    >>> import fastnn.functional as F
    >>> round(F.cross_entropy([[2.0, 0.0, 0.0]], [0]).item(), 4)
    0.2395
    """
    x, back = _float_input("cross_entropy", input)
    t = _class_targets("cross_entropy", x, target, allow_soft=True)
    if reduction not in _REDUCTIONS:
        _reduction("cross_entropy", reduction)
    eps = label_smoothing
    if type(eps) is not float or not 0.0 <= eps <= 1.0:    # the default skips the full check
        eps = _checks.real("cross_entropy", "label_smoothing", label_smoothing, 0.0, 1.0)
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    w = _class_weight("cross_entropy", weight, c, x.dtype)
    return back(CrossEntropy.apply(x, t, weight=w, ignore_index=int(ignore_index),
                                   reduction=reduction, label_smoothing=eps))


def nll_loss(input, target, *, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities (as torch).

    loss_i = −w[t_i]·x_i[t_i]; 'mean' divides by Σ w[t_i] over the rows not ignored.

    Args:
        input: log-probabilities, shape (C,), (N, C) or (N, C, d1, ...).
        target: class indices. weight, ignore_index, reduction: as cross_entropy.

    Returns:
        Tensor: the loss.

    Raises:
        ValueError: bad target shape or class index out of range.

    >>> import fastnn.functional as F
    >>> F.nll_loss([[-0.5, -1.0]], [1]).item()
    1.0
    """
    x, back = _float_input("nll_loss", input)
    t = _class_targets("nll_loss", x, target, allow_soft=False)
    _reduction("nll_loss", reduction)
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    w = _class_weight("nll_loss", weight, c, x.dtype)
    return back(NLLLoss.apply(x, t, weight=w, ignore_index=int(ignore_index), reduction=reduction))


def _pair(where, input, target):
    x, back = _float_input(where, input)
    y = _checks.tensor(where, "target", target)
    if y.shape != x.shape:
        try:
            np.broadcast_shapes(x.shape, y.shape)
        except ValueError:
            raise ValueError(f"{where}: input of shape {x.shape} and target of shape {y.shape} "
                             f"cannot be broadcast together; pass a target of shape {x.shape}.") from None
        warnings.warn(f"{where}: using a target size {y.shape} that is different from the input size "
                      f"{x.shape}; they will be broadcast, which is likely not what you want.",
                      UserWarning, stacklevel=3)
    return x, y, back


def _pointwise(where, op, input, target, reduction, p=0.0, weight=None, pos_weight=None,
               allowed=_REDUCTIONS):
    x, y, back = _pair(where, input, target)
    _reduction(where, reduction, allowed)
    if weight is not None:
        weight = _checks.array(where, "weight", weight).astype(x.dtype, copy=False)
        try:
            np.broadcast_shapes(weight.shape, x.shape)
        except ValueError:
            raise ValueError(f"{where}: weight of shape {weight.shape} cannot be broadcast to the "
                             f"input's shape {x.shape}.") from None
    return back(PointwiseLoss.apply(x, y, op=op, reduction=reduction, p=p, weight=weight,
                                    pos_weight=pos_weight))


def mse_loss(input, target, *, reduction="mean"):
    """Mean squared error: ℓ = (x − y)².

    Args:
        input, target: same shape (broadcast with a warning otherwise).
        reduction: 'none' | 'mean' | 'sum'.

    Returns:
        Tensor: the loss.

    Raises:
        ValueError: shapes that cannot be broadcast; unknown reduction.

    >>> import fastnn.functional as F
    >>> F.mse_loss([1.0, 2.0], [0.0, 0.0]).item()
    2.5
    """
    return _pointwise("mse_loss", "mse", input, target, reduction)


def l1_loss(input, target, *, reduction="mean"):
    """Mean absolute error: ℓ = |x − y|.

    Args:
        input, target: same shape. reduction: 'none' | 'mean' | 'sum'.

    Returns:
        Tensor: the loss.

    Raises:
        ValueError: shapes that cannot be broadcast; unknown reduction.

    >>> import fastnn.functional as F
    >>> F.l1_loss([1.0, -2.0], [0.0, 0.0]).item()
    1.5
    """
    return _pointwise("l1_loss", "l1", input, target, reduction)


def smooth_l1_loss(input, target, *, reduction="mean", beta=1.0):
    """Smooth L1: ℓ = 0.5 d²/β if |d| < β else |d| − 0.5 β, with d = x − y.

    Args:
        input, target: same shape. reduction: 'none' | 'mean' | 'sum'. beta: ≥ 0
            (0 gives the L1 loss).

    Returns:
        Tensor: the loss.

    Raises:
        ValueError: negative beta, bad shapes or reduction.

    >>> import fastnn.functional as F
    >>> F.smooth_l1_loss([0.5, 3.0], [0.0, 0.0]).item()
    1.3125
    """
    beta = _checks.real("smooth_l1_loss", "beta", beta, low=0.0)
    if beta == 0:
        return _pointwise("smooth_l1_loss", "l1", input, target, reduction)
    return _pointwise("smooth_l1_loss", "smooth_l1", input, target, reduction, p=beta)


def huber_loss(input, target, *, reduction="mean", delta=1.0):
    """Huber: ℓ = 0.5 d² if |d| ≤ δ else δ(|d| − 0.5 δ), with d = x − y.

    Args:
        input, target: same shape. reduction: 'none' | 'mean' | 'sum'. delta: > 0.

    Returns:
        Tensor: the loss.

    Raises:
        ValueError: delta ≤ 0, bad shapes or reduction.

    >>> import fastnn.functional as F
    >>> F.huber_loss([0.5, 3.0], [0.0, 0.0]).item()
    1.3125
    """
    delta = _checks.real("huber_loss", "delta", delta, low=0.0, low_open=True)
    return _pointwise("huber_loss", "huber", input, target, reduction, p=delta)


def binary_cross_entropy(input, target, *, weight=None, reduction="mean"):
    """Binary cross-entropy of probabilities (as torch: each log clamped at −100):

    ℓ = −w·(y·log x + (1 − y)·log(1 − x)).

    Args:
        input: probabilities in [0, 1]. target: same shape. weight: broadcast to the
            input. reduction: 'none' | 'mean' | 'sum'.

    Returns:
        Tensor: the loss (finite for inputs of exactly 0 or 1).

    Raises:
        ValueError: an input outside [0, 1] (names its position), bad shapes.

    >>> import fastnn.functional as F
    >>> round(F.binary_cross_entropy([0.8, 0.0], [1.0, 0.0]).item(), 4)
    0.1116
    """
    out = _pointwise("binary_cross_entropy", "bce", input, target, reduction, weight=weight)
    if np.isnan(out.data).any():
        x = _checks.tensor("binary_cross_entropy", "input", input).data
        bad = np.argwhere((x < 0) | (x > 1))
        if bad.size:
            pos = tuple(int(i) for i in bad[0])
            raise ValueError(f"binary_cross_entropy: input must hold probabilities in [0, 1], got "
                             f"input{list(pos)} = {float(x[pos])!r}; use binary_cross_entropy_with_logits "
                             f"for logits.")
    return out


def binary_cross_entropy_with_logits(input, target, *, weight=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross-entropy of logits, in the stable form:

    ℓ = max(x, 0) − x·y + log1p(exp(−|x|)); with pos_weight p:
    ℓ = (1 − y)·x + (1 + (p − 1)·y)·(log1p(exp(−|x|)) + max(−x, 0)).

    Args:
        input: logits. target: same shape, in [0, 1]. weight: broadcast to the input.
        reduction: 'none' | 'mean' | 'sum'. pos_weight: weight of positives, one per
            class (broadcast along the last axis).

    Returns:
        Tensor: the loss (finite for logits of any size).

    Raises:
        ValueError: bad shapes, pos_weight that does not match the last axis.

    >>> import fastnn.functional as F
    >>> round(F.binary_cross_entropy_with_logits([100.0, -100.0], [1.0, 0.0]).item(), 4)
    0.0
    """
    if pos_weight is not None:
        x, _ = _float_input("binary_cross_entropy_with_logits", input)
        pw = _checks.array("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
        c = x.shape[-1] if x.ndim else 1
        if pw.ndim > 1 or pw.size not in (1, c):
            raise ValueError(f"binary_cross_entropy_with_logits: pos_weight must have shape ({c},) "
                             f"(one per class on the input's last axis) or (1,), got shape {pw.shape}.")
        pos_weight = pw.astype(x.dtype, copy=False)
    return _pointwise("binary_cross_entropy_with_logits", "bce_logits", input, target, reduction,
                      weight=weight, pos_weight=pos_weight)


def kl_div(input, target, *, reduction="mean", log_target=False):
    """Kullback-Leibler divergence, input given as log-probabilities (as torch):

    ℓ = y·(log y − x) (0 where y = 0); with log_target: ℓ = exp(y)·(y − x).
    'mean' divides by the number of elements, 'batchmean' by the batch size.

    Args:
        input: log-probabilities. target: probabilities (or log-probabilities with
            log_target=True). reduction: 'none' | 'mean' | 'sum' | 'batchmean'.

    Returns:
        Tensor: the loss.

    Raises:
        ValueError: bad shapes or reduction.

    >>> import fastnn.functional as F, numpy as np
    >>> round(F.kl_div(np.log([0.5, 0.5]), [0.25, 0.75], reduction='sum').item(), 4)
    0.1308
    """
    return _pointwise("kl_div", "kl_div_log" if log_target else "kl_div", input, target, reduction,
                      allowed=_REDUCTIONS + ("batchmean",))
