"""Keras-style losses (``fn.losses``): same formulas, 1e-7 clipping and label
conventions as Keras 3.

A plain function per loss holds the math and returns one loss per sample (last axis
reduced), differentiable with respect to ``y_pred``; each is one
``autograd.keras_losses.KerasLoss`` call (a fused value+gradient kernel). The
classes (``MeanSquaredError``, ``BinaryCrossentropy(from_logits=...)``, ...) wrap a
function with a reduction and sample weights, as Keras's ``LossFunctionWrapper``;
``ALL_LOSSES`` maps every name and alias, and ``get`` resolves a name, a class, a
callable or a loss object.

Targets and predictions whose ranks differ by one are aligned as Keras does: a
trailing axis of size 1 is dropped, or a rank-1 operand gains one, so targets of
shape (N,) against predictions (N, 1) give one loss per sample.

>>> import fastnn as fn
>>> fn.losses.mse([[1.0, 2.0]], [[1.0, 0.0]]).numpy()
array([2.], dtype=float32)
>>> fn.losses.mse([1.0, 2.0], [[1.0], [0.0]]).numpy()
array([0., 4.], dtype=float32)
"""
import numbers

import numpy as np

from . import _checks
from .autograd.keras_losses import KerasLoss
from .autograd.losses import index_str
from .tensor import Tensor, as_array, as_tensor

__all__ = ["mean_squared_error", "mse", "mean_absolute_error", "mae",
           "mean_absolute_percentage_error", "mape", "mean_squared_logarithmic_error", "msle",
           "squared_hinge", "hinge", "huber", "binary_crossentropy", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "kullback_leibler_divergence", "kld",
           "kl_divergence", "cosine_proximity", "cosine_similarity", "Loss",
           "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError",
           "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Hinge", "SquaredHinge",
           "Huber", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "KLDivergence", "CosineSimilarity", "ALL_LOSSES",
           "get"]


# --- argument handling -------------------------------------------------------------
def _pred(where, y_pred):
    p = as_tensor(y_pred, f"{where} y_pred")
    if not _checks.is_float(p.data.dtype):    # bfloat16 is a float: keep its graph
        p = Tensor._wrap(p.data.astype(np.float32))
    # float16 and byte-swapped predictions are computed in float32, Keras's loss dtype
    p = _checks.float_param(where, "y_pred", p, np.float32)
    if p.ndim < 1:
        raise ValueError(f"{where}: y_pred must have at least one dimension (the last is reduced), "
                         f"got a 0-d value.")
    return p


def _pair(where, y_true, y_pred):
    """(y_true ndarray in y_pred's dtype and shape, y_pred Tensor).

    Ranks that differ by one are aligned as Keras's ``squeeze_or_expand_to_same_rank``;
    then y_true broadcasts to y_pred's shape, or a ValueError names both shapes.
    """
    p = _pred(where, y_pred)
    t = as_array(y_true.data if isinstance(y_true, Tensor) else y_true, where=f"{where} y_true")
    t = t.astype(p.dtype, copy=False)
    if t.ndim == p.ndim + 1 and t.shape[-1] == 1:
        if p.ndim == 1:
            p = p.reshape(p.shape + (1,))
        else:
            t = t.reshape(t.shape[:-1])
    elif p.ndim == t.ndim + 1 and p.shape[-1] == 1:
        if t.ndim == 1:
            t = t.reshape(t.shape + (1,))
        else:
            p = p.reshape(p.shape[:-1])
    if t.shape != p.shape:
        try:
            t = np.broadcast_to(t, p.shape)
        except ValueError:
            raise ValueError(f"{where}: y_true and y_pred must have the same shape, got y_true of "
                             f"shape {t.shape} and y_pred of shape {p.shape}.") from None
    if p.ndim < 1:
        p, t = p.reshape(1), t.reshape(1)
    return t, p


def _axis(where, axis):
    if axis not in (-1, None):
        raise ValueError(f"{where}: only axis=-1 (the last axis) is supported, got axis={axis!r}.")


def _apply(where, kind, y_true, y_pred, transform=None, param=0.0):
    t, p = _pair(where, y_true, y_pred)
    if transform is not None:
        t = transform(t)
    return KerasLoss.apply(p, t, kind=kind, param=param)


def _hinge_labels(t):
    # Keras: labels that are all 0 or 1 become -1 or 1 (decided over the whole batch)
    if np.all((t == 0) | (t == 1)):
        return 2 * t - 1
    return t


def _smooth(where, label_smoothing):
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real) \
            or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{where}: label_smoothing must be in [0, 1], got {label_smoothing!r}.")
    return float(label_smoothing)


# --- the losses ------------------------------------------------------------------------
def mean_squared_error(y_true, y_pred):
    """mean((y_true − y_pred)², axis=−1).

    Args:
        y_true, y_pred: same shape (..., d).

    Returns:
        Tensor of shape (...,): one loss per sample.

    Raises:
        ValueError: shapes that differ.

    >>> import fastnn as fn
    >>> fn.losses.mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]]).numpy()
    array([0.5], dtype=float32)
    """
    return _apply("mean_squared_error", "mean_squared_error", y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true − y_pred|, axis=−1).

    Args:
        y_true, y_pred: same shape (..., d).

    Returns:
        Tensor of shape (...,).

    Raises:
        ValueError: shapes that differ.

    >>> import fastnn as fn
    >>> fn.losses.mean_absolute_error([[0.0, 1.0]], [[1.0, 3.0]]).numpy()
    array([1.5], dtype=float32)
    """
    return _apply("mean_absolute_error", "mean_absolute_error", y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 · mean(|y_true − y_pred| / max(|y_true|, 1e-7), axis=−1).

    Args:
        y_true, y_pred: same shape (..., d).

    Returns:
        Tensor of shape (...,).

    Raises:
        ValueError: shapes that differ.

    >>> import fastnn as fn
    >>> fn.losses.mean_absolute_percentage_error([[2.0, 4.0]], [[1.0, 4.0]]).numpy()
    array([25.], dtype=float32)
    """
    return _apply("mean_absolute_percentage_error", "mean_absolute_percentage_error", y_true,
                  y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, ε) + 1) − log(max(y_true, ε) + 1))², axis=−1), ε = 1e-7.

    Args:
        y_true, y_pred: same shape (..., d).

    Returns:
        Tensor of shape (...,).

    Raises:
        ValueError: shapes that differ.

    >>> import fastnn as fn
    >>> fn.losses.mean_squared_logarithmic_error([[0.0]], [[0.0]]).numpy()
    array([0.], dtype=float32)
    """
    return _apply("mean_squared_logarithmic_error", "mean_squared_logarithmic_error", y_true,
                  y_pred)


def hinge(y_true, y_pred):
    """mean(max(1 − y_true·y_pred, 0), axis=−1); labels all in {0, 1} become {−1, 1}.

    Args:
        y_true: labels in {−1, 1} (or {0, 1}). y_pred: same shape.

    Returns:
        Tensor of shape (...,).

    Raises:
        ValueError: shapes that differ.

    >>> import fastnn as fn
    >>> fn.losses.hinge([[1.0, 0.0]], [[0.5, 0.5]]).numpy()
    array([1.], dtype=float32)
    """
    return _apply("hinge", "hinge", y_true, y_pred, transform=_hinge_labels)


def squared_hinge(y_true, y_pred):
    """mean(max(1 − y_true·y_pred, 0)², axis=−1); labels all in {0, 1} become {−1, 1}.

    Args:
        y_true: labels in {−1, 1} (or {0, 1}). y_pred: same shape.

    Returns:
        Tensor of shape (...,).

    Raises:
        ValueError: shapes that differ.

    >>> import fastnn as fn
    >>> fn.losses.squared_hinge([[1.0, 0.0]], [[0.5, 0.5]]).numpy()
    array([1.25], dtype=float32)
    """
    return _apply("squared_hinge", "squared_hinge", y_true, y_pred, transform=_hinge_labels)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Log loss, mean over the last axis.

    Probabilities are clipped to [ε, 1 − ε] (ε = 1e-7): ℓ = −(y·log p + (1 − y)·log(1 − p));
    with from_logits, the stable max(x, 0) − x·y + log1p(exp(−|x|)). Label smoothing:
    y ← y·(1 − s) + s/2.

    Args:
        y_true: targets in [0, 1]. y_pred: probabilities (or logits), same shape.
        from_logits: y_pred holds logits. label_smoothing: s in [0, 1].

    Returns:
        Tensor of shape (...,).

    Raises:
        ValueError: shapes that differ; label_smoothing outside [0, 1].

    >>> import fastnn as fn
    >>> round(float(fn.losses.binary_crossentropy([[1.0]], [[0.5]]).numpy()[0]), 4)
    0.6931
    """
    s = _smooth("binary_crossentropy", label_smoothing)
    _axis("binary_crossentropy", axis)
    return _apply("binary_crossentropy",
                  "binary_crossentropy_logits" if from_logits else "binary_crossentropy",
                  y_true, y_pred, transform=(lambda t: t * (1 - s) + 0.5 * s) if s else None)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                             axis=-1):
    """−Σ y_true·log p over the last axis.

    p = softmax(y_pred) with from_logits (fused log-softmax), else y_pred normalised
    to sum 1 and clipped to [ε, 1 − ε]. Label smoothing: y ← y·(1 − s) + s/C.

    Args:
        y_true: one-hot (or probability) targets, shape (..., C). y_pred: same shape.
        from_logits: y_pred holds logits. label_smoothing: s in [0, 1].

    Returns:
        Tensor of shape (...,).

    Raises:
        ValueError: shapes that differ; label_smoothing outside [0, 1].

    >>> import fastnn as fn
    >>> round(float(fn.losses.categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]]).numpy()[0]), 4)
    0.6931
    """
    s = _smooth("categorical_crossentropy", label_smoothing)
    _axis("categorical_crossentropy", axis)
    t, p = _pair("categorical_crossentropy", y_true, y_pred)
    if s:
        t = t * (1 - s) + s / t.shape[-1]
    kind = "categorical_crossentropy_logits" if from_logits else "categorical_crossentropy"
    return KerasLoss.apply(p, t, kind=kind)


def _sparse_labels(where, y_true, p):
    t = as_array(y_true.data if isinstance(y_true, Tensor) else y_true, where=f"{where} y_true")
    if t.shape != p.shape[:-1]:
        if t.ndim == p.ndim and t.shape[-1] == 1 and t.shape[:-1] == p.shape[:-1]:
            t = t.reshape(p.shape[:-1])
        else:
            raise ValueError(f"{where}: y_true must hold one class index per sample, shape "
                             f"{p.shape[:-1]} for y_pred of shape {p.shape}; got y_true of shape "
                             f"{t.shape}.")
    if t.dtype.kind == "f":
        frac = np.flatnonzero(t.reshape(-1) != np.floor(t.reshape(-1)))
        if frac.size:
            i = int(frac[0])
            raise ValueError(f"{where}: y_true must hold integer class indices, got "
                             f"y_true{index_str(i, t.shape)} = {float(t.reshape(-1)[i])!r}; pass integer labels (or one-hot targets to "
                             f"categorical_crossentropy).")
    elif t.dtype.kind not in "iub":
        raise TypeError(f"{where}: y_true must hold integer class indices, got dtype {t.dtype}.")
    t = t.astype(np.int64, copy=False).reshape(-1)
    c = p.shape[-1]
    bad = np.flatnonzero((t < 0) | (t >= c))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{where}: y_true{index_str(i, p.shape[:-1])} = {int(t[i])} is out of range for {c} classes; "
                         f"expected class indices in [0, {c - 1}].")
    return t


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Categorical crossentropy with integer targets: −log p[y_true].

    p = softmax(y_pred) with from_logits (fused log-softmax), else y_pred normalised
    to sum 1 and clipped to [ε, 1 − ε].

    Args:
        y_true: class indices, shape (...,) or (..., 1) (whole-number floats accepted).
        y_pred: probabilities or logits, shape (..., C). from_logits: y_pred holds logits.

    Returns:
        Tensor of shape (...,).

    Raises:
        ValueError: a class index out of range or non-integral (names its position),
            or shapes that do not match.

    >>> import fastnn as fn
    >>> round(float(fn.losses.sparse_categorical_crossentropy([1], [[0.5, 0.5]]).numpy()[0]), 4)
    0.6931
    """
    where = "sparse_categorical_crossentropy"
    _axis(where, axis)
    if ignore_class is not None:
        raise ValueError(f"{where}: ignore_class is not supported by fastnn; got "
                         f"ignore_class={ignore_class!r}.")
    p = _pred(where, y_pred)
    t = _sparse_labels(where, y_true, p)
    kind = "sparse_categorical_crossentropy_logits" if from_logits else \
        "sparse_categorical_crossentropy"
    return KerasLoss.apply(p, t, kind=kind)


def kullback_leibler_divergence(y_true, y_pred):
    """Σ y·log(y / p) over the last axis, with y and p clipped to [1e-7, 1].

    Args:
        y_true, y_pred: probability distributions, same shape (..., C).

    Returns:
        Tensor of shape (...,).

    Raises:
        ValueError: shapes that differ.

    >>> import fastnn as fn
    >>> round(float(fn.losses.kld([[0.5, 0.5]], [[0.25, 0.75]]).numpy()[0]), 4)
    0.1438
    """
    return _apply("kl_divergence", "kl_divergence", y_true, y_pred)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity over the last axis: −Σ ŷ_true·ŷ_pred, where
    x̂ = x / sqrt(max(Σx², 1e-12)) (0 for a zero vector).

    Args:
        y_true, y_pred: same shape (..., d).

    Returns:
        Tensor of shape (...,), in [−1, 1].

    Raises:
        ValueError: shapes that differ.

    >>> import fastnn as fn
    >>> fn.losses.cosine_similarity([[1.0, 0.0]], [[2.0, 0.0]]).numpy()
    array([-1.], dtype=float32)
    """
    _axis("cosine_similarity", axis)
    return _apply("cosine_similarity", "cosine_similarity", y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    """mean(h(y_true − y_pred), axis=−1) with h(e) = e²/2 for |e| ≤ delta, else
    delta·(|e| − delta/2), as Keras's huber.

    Args:
        y_true, y_pred: same shape (..., d). delta: > 0.

    Returns:
        Tensor of shape (...,).

    >>> import fastnn as fn
    >>> fn.losses.huber([[0.0, 0.0]], [[0.5, 3.0]]).numpy()
    array([1.3125], dtype=float32)
    """
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not delta > 0:
        raise ValueError(f"huber: delta must be a positive number, got {delta!r}.")
    return _apply("huber", "huber", y_true, y_pred, param=float(delta))


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence = kullback_leibler_divergence
cosine_proximity = cosine_similarity


# --- classes -------------------------------------------------------------------------
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


class Loss:
    """Base of the Keras-style loss classes: ``loss(y_true, y_pred, sample_weight=None)``
    reduces ``call(y_true, y_pred)`` (one loss per sample) to a scalar Tensor.

    Reductions (as Keras): 'sum_over_batch_size' and 'mean' (the default: the sum of
    the weighted losses over their number), 'sum', 'mean_with_sample_weight' (over the
    sum of the weights), 'none'/None (no reduction).

    Args:
        name: the loss's name. reduction: above. dtype: compute in this float dtype
            (default: the predictions').

    Raises:
        ValueError: an unknown reduction, or sample weights that do not broadcast to
            the per-sample losses.

    >>> import numpy as np, fastnn as fn
    >>> loss = fn.losses.MeanSquaredError()
    >>> isinstance(loss, fn.losses.Loss), float(loss(np.zeros((2, 1)), np.ones((2, 1))))
    (True, 1.0)
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of "
                             f"{', '.join(map(repr, _REDUCTIONS))}, got {reduction!r}.")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a string, got {name!r}.")
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction
        self.dtype = None if dtype is None else str(np.dtype(dtype))

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} does not define call().")

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.dtype is not None:
            y_pred = as_tensor(y_pred, f"{self.name} y_pred")
            if y_pred.dtype != self.dtype:
                y_pred = y_pred.astype(self.dtype)
        loss = self.call(y_true, y_pred)
        if not isinstance(loss, Tensor):
            loss = as_tensor(loss, f"{self.name} loss")
        return reduce_weighted_values(loss, sample_weight, self.reduction, self.name)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


def reduce_weighted_values(loss, sample_weight=None, reduction="sum_over_batch_size",
                           where="loss"):
    """Keras's reduction of per-sample losses (a Tensor) with optional sample weights.

    >>> import fastnn as fn
    >>> reduce_weighted_values(fn.tensor([1.0, 3.0]), [1.0, 0.0]).item()
    0.5
    """
    sw = None
    if sample_weight is not None:
        sw = as_array(sample_weight.data if isinstance(sample_weight, Tensor) else sample_weight,
                      where=f"{where} sample_weight").astype(loss.dtype, copy=False)
        if sw.ndim == loss.ndim + 1 and sw.shape[-1] == 1:
            sw = sw.reshape(sw.shape[:-1])
        elif loss.ndim == sw.ndim + 1 and loss.shape[-1] == 1:
            sw = sw.reshape(sw.shape + (1,))
        try:
            sw = np.broadcast_to(sw, loss.shape)
        except ValueError:
            raise ValueError(f"{where}: sample_weight of shape {sw.shape} does not match the "
                             f"per-sample losses of shape {loss.shape}.") from None
        loss = loss * sw
    if reduction in ("none", None) or loss.ndim == 0 or loss.shape == (0,):
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sw is not None:
        den = float(sw.sum())
    else:
        den = float(loss.data.size)
    return total * (1.0 / den) if den else total * 0.0


def _snake(name):
    import re
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class LossFunctionWrapper(Loss):
    """A Loss from a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    >>> import fastnn as fn
    >>> LossFunctionWrapper(fn.losses.mae)([[0.0, 1.0]], [[1.0, 3.0]]).item()
    1.5
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: fn must be callable, got {fn!r}.")
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn, self._fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


class MeanSquaredError(LossFunctionWrapper):
    """Mean of ``mean_squared_error`` over the batch, as ``keras.losses.MeanSquaredError``.

    >>> import fastnn as fn
    >>> fn.losses.MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]]).item()
    0.5
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of ``mean_absolute_error`` over the batch.

    >>> import fastnn as fn
    >>> fn.losses.MeanAbsoluteError()([[0.0, 1.0]], [[1.0, 3.0]]).item()
    1.5
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean of ``mean_absolute_percentage_error`` over the batch.

    >>> import fastnn as fn
    >>> fn.losses.MeanAbsolutePercentageError()([[2.0, 4.0]], [[1.0, 4.0]]).item()
    25.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name,
                         dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean of ``mean_squared_logarithmic_error`` over the batch.

    >>> import fastnn as fn
    >>> fn.losses.MeanSquaredLogarithmicError()([[0.0]], [[0.0]]).item()
    0.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name,
                         dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Mean of ``cosine_similarity`` (the negative cosine) over the batch.

    >>> import fastnn as fn
    >>> fn.losses.CosineSimilarity()([[1.0, 0.0]], [[2.0, 0.0]]).item()
    -1.0
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype,
                         axis=axis)


class Huber(LossFunctionWrapper):
    """Mean of ``huber`` over the batch.

    >>> import fastnn as fn
    >>> fn.losses.Huber(delta=1.0)([[0.0, 0.0]], [[0.5, 3.0]]).item()
    1.3125
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


class Hinge(LossFunctionWrapper):
    """Mean of ``hinge`` over the batch.

    >>> import fastnn as fn
    >>> fn.losses.Hinge()([[1.0, 0.0]], [[0.5, 0.5]]).item()
    1.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """Mean of ``squared_hinge`` over the batch.

    >>> import fastnn as fn
    >>> fn.losses.SquaredHinge()([[1.0, 0.0]], [[0.5, 0.5]]).item()
    1.25
    """

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    """Mean of ``kl_divergence`` over the batch.

    >>> import fastnn as fn
    >>> fn.losses.KLDivergence()([[0.5, 0.5]], [[0.5, 0.5]]).item()
    0.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kullback_leibler_divergence, reduction=reduction, name=name, dtype=dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """Mean of ``binary_crossentropy`` over the batch, as ``keras.losses.BinaryCrossentropy``.

    Args:
        from_logits: y_pred holds logits (not probabilities). label_smoothing: in [0, 1].
        axis: -1. reduction, name, dtype: as Loss.

    >>> import fastnn as fn
    >>> round(fn.losses.BinaryCrossentropy(from_logits=True)([[1.0]], [[0.0]]).item(), 4)
    0.6931
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        _smooth("BinaryCrossentropy", label_smoothing)
        _axis("BinaryCrossentropy", axis)
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=label_smoothing)
        self.from_logits, self.label_smoothing = bool(from_logits), label_smoothing


class CategoricalCrossentropy(LossFunctionWrapper):
    """Mean of ``categorical_crossentropy`` over the batch.

    Args:
        from_logits: y_pred holds logits. label_smoothing: in [0, 1]. axis: -1.
        reduction, name, dtype: as Loss.

    >>> import fastnn as fn
    >>> round(fn.losses.CategoricalCrossentropy(from_logits=True)([[0.0, 1.0]], [[0.0, 0.0]]).item(), 4)
    0.6931
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        _smooth("CategoricalCrossentropy", label_smoothing)
        _axis("CategoricalCrossentropy", axis)
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=label_smoothing)
        self.from_logits, self.label_smoothing = bool(from_logits), label_smoothing


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Mean of ``sparse_categorical_crossentropy`` over the batch.

    Args:
        from_logits: y_pred holds logits. ignore_class: must be None (not supported).
        reduction, name, dtype: as Loss.

    >>> import fastnn as fn
    >>> round(fn.losses.SparseCategoricalCrossentropy(from_logits=True)([1], [[0.0, 0.0]]).item(), 4)
    0.6931
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        if ignore_class is not None:
            raise ValueError(f"SparseCategoricalCrossentropy: ignore_class is not supported by "
                             f"fastnn; got ignore_class={ignore_class!r}.")
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=bool(from_logits))
        self.from_logits = bool(from_logits)


# --- registry -----------------------------------------------------------------------
ALL_LOSSES = {
    "mean_squared_error": mean_squared_error, "mse": mse, "MSE": mse,
    "mean_absolute_error": mean_absolute_error, "mae": mae, "MAE": mae,
    "mean_absolute_percentage_error": mean_absolute_percentage_error, "mape": mape, "MAPE": mape,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error, "msle": msle, "MSLE": msle,
    "squared_hinge": squared_hinge, "hinge": hinge, "huber": huber,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "kullback_leibler_divergence": kullback_leibler_divergence, "kl_divergence": kld,
    "kld": kld, "KLD": kld,
    "cosine_proximity": cosine_proximity, "cosine_similarity": cosine_similarity,
}
_CLASSES = {c.__name__: c for c in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    Hinge, SquaredHinge, Huber, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, KLDivergence, CosineSimilarity)}


def get(identifier):
    """Resolve a loss: a name or alias ('mse', 'categorical_crossentropy', ...), a class
    name ('MeanSquaredError', giving an instance), a Loss class, a config dict
    ``{'class_name': ..., 'config': {...}}``, a callable or a Loss (returned as is).

    Args:
        identifier: str, dict, class, callable, Loss instance or None.

    Returns:
        A callable loss(y_true, y_pred), or None for None.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
        TypeError: anything else.

    >>> import fastnn as fn
    >>> fn.losses.get('mse') is fn.losses.mean_squared_error
    True
    """
    if identifier is None or isinstance(identifier, Loss) or (callable(identifier)
                                                               and not isinstance(identifier, type)):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    if isinstance(identifier, str):
        if identifier in ALL_LOSSES:
            return ALL_LOSSES[identifier]
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(f"Unknown loss {identifier!r}; the valid names are: "
                         f"{', '.join(sorted(ALL_LOSSES) + sorted(_CLASSES))}.")
    raise TypeError(f"losses.get: expected a loss name, a callable or a Loss, got "
                    f"{type(identifier).__name__} {identifier!r}.")


def serialize(loss):
    """Plain data that ``get`` turns back into ``loss`` (a name for a registered
    function, a config dict for a loss class); None for a custom callable.

    >>> serialize(BinaryCrossentropy(from_logits=True))["class_name"]
    'BinaryCrossentropy'
    """
    if isinstance(loss, str):
        return loss
    for name, f in ALL_LOSSES.items():
        if f is loss:
            return name
    if type(loss).__name__ in _CLASSES and type(loss) is _CLASSES[type(loss).__name__]:
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    return None
