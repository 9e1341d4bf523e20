"""Keras-style losses (``fn.losses``): same formulas, 1e-7 clipping and label
conventions as Keras.

A plain function per loss holds the math and returns one loss per sample (last axis
reduced), differentiable with respect to ``y_pred``; each calls a fused
value+gradient kernel once (fastnn/_kernels/losses.py). The classes are thin
wrappers that reduce over the batch, and ``ALL_LOSSES`` maps every name and alias;
``get`` resolves a name, a callable or a loss object.

>>> import fastnn as fn
>>> fn.losses.mse([[1.0, 2.0]], [[1.0, 0.0]]).numpy()
array([2.], dtype=float32)
"""
import numpy as np

from . import _checks
from ._kernels import losses as K
from .autograd.losses import KerasRowLoss, index_str
from .tensor import Tensor, as_array, as_tensor

__all__ = ["mean_squared_error", "mse", "mean_absolute_error", "mae",
           "mean_absolute_percentage_error", "mape", "mean_squared_logarithmic_error", "msle",
           "squared_hinge", "hinge", "binary_crossentropy", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "kullback_leibler_divergence", "kld", "kl_divergence",
           "cosine_proximity", "cosine_similarity", "Loss", "MeanSquaredError", "MeanAbsoluteError",
           "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Hinge", "SquaredHinge",
           "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "KLDivergence", "CosineSimilarity", "ALL_LOSSES", "get"]


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
    """(y_true ndarray in y_pred's dtype, y_pred Tensor) of one shape.

    As Keras, a trailing axis of size 1 on either side is squeezed when the ranks
    differ by one; any other mismatch raises.
    """
    p = _pred(where, y_pred)
    t = as_array(y_true.data if isinstance(y_true, Tensor) else y_true, where=f"{where} y_true")
    t = t.astype(p.dtype, copy=False)
    if t.shape != p.shape:
        if t.ndim == p.ndim + 1 and t.shape[-1] == 1 and t.shape[:-1] == p.shape:
            t = t.reshape(p.shape)
        elif p.ndim == t.ndim + 1 and p.shape[-1] == 1 and p.shape[:-1] == t.shape:
            p = p.reshape(t.shape)
        else:
            raise ValueError(f"{where}: y_true and y_pred must have the same shape, got y_true of "
                             f"shape {t.shape} and y_pred of shape {p.shape}.")
    if p.ndim < 1:
        p, t = p.reshape(1), t.reshape(1)
    return t, p


def _row_kernel(op, mean=True):
    """Kernel over the last axis for a pointwise row of csrc/losses.h (mean or sum)."""
    def kernel(t, p, grad):
        cols = p.shape[-1]
        k = 1.0 / cols if mean and cols else 1.0
        out, g = K.pointwise_rows(op, p, t, 0.0, grad, k)
        if mean:
            out *= k
        return out, g
    return kernel


def _pointwise(where, op, y_true, y_pred, mean=True, transform=None):
    t, p = _pair(where, y_true, y_pred)
    if transform is not None:
        t = transform(t)
    return KerasRowLoss.apply(t, p, kernel=_row_kernel(op, mean))


def _hinge_labels(t):
    # Keras: labels that are all 0 or 1 become -1 or 1 (decided over the whole batch)
    if np.all((t == 0) | (t == 1)):
        return 2 * t - 1
    return t


def _smooth(where, label_smoothing):
    if not 0.0 <= label_smoothing <= 1.0:
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
    return _pointwise("mean_squared_error", "mse", y_true, y_pred)


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
    return _pointwise("mean_absolute_error", "l1", y_true, y_pred)


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
    return _pointwise("mean_absolute_percentage_error", "k_mape", y_true, y_pred)


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
    return _pointwise("mean_squared_logarithmic_error", "k_msle", y_true, y_pred)


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
    return _pointwise("hinge", "k_hinge", y_true, y_pred, transform=_hinge_labels)


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
    return _pointwise("squared_hinge", "k_sq_hinge", y_true, y_pred, transform=_hinge_labels)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
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
    return _pointwise("binary_crossentropy", "bce_logits" if from_logits else "k_bce", y_true, y_pred,
                      transform=(lambda t: t * (1 - s) + 0.5 * s) if s else None)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
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
    t, p = _pair("categorical_crossentropy", y_true, y_pred)
    if s:
        t = t * (1 - s) + s / t.shape[-1]

    if from_logits:
        def kernel(t, p, grad):
            c = p.shape[-1]
            rows, _, g = K.cross_entropy_soft(p.reshape(-1, c), t.reshape(-1, c), None, 0.0, grad)
            return rows.reshape(p.shape[:-1]), None if g is None else g.reshape(p.shape)
    else:
        def kernel(t, p, grad):
            return K.keras_cce_probs(p, t, grad)
    return KerasRowLoss.apply(t, p, kernel=kernel)


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


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
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
    p = _pred(where, y_pred)
    t = _sparse_labels(where, y_true, p)
    c = p.shape[-1]

    if from_logits:
        def kernel(t, p, grad):
            rows, _, _, _, g = K.cross_entropy_hard(p.reshape(-1, c), t, grad=grad)
            return rows.reshape(p.shape[:-1]), None if g is None else g.reshape(p.shape)
    else:
        def kernel(t, p, grad):
            loss, g = K.keras_scce_probs(p.reshape(-1, c), t, grad)
            return loss.reshape(p.shape[:-1]), None if g is None else g.reshape(p.shape)
    return KerasRowLoss.apply(t, p, kernel=kernel)


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
    return _pointwise("kullback_leibler_divergence", "k_kld", y_true, y_pred, mean=False)


def cosine_similarity(y_true, y_pred):
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
    t, p = _pair("cosine_similarity", y_true, y_pred)
    return KerasRowLoss.apply(t, p, kernel=lambda t, p, grad: K.cosine_similarity(p, t, grad))


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence = kullback_leibler_divergence
cosine_proximity = cosine_similarity


# --- classes -------------------------------------------------------------------------
class Loss:
    """Base of the Keras-style loss classes: ``loss(y_true, y_pred, sample_weight=None)``.

    Reductions: 'sum_over_batch_size' (default: the mean of the per-sample losses),
    'sum', 'none'.
    """

    fn = None
    _REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean")

    def __init__(self, reduction="sum_over_batch_size", name=None, **kwargs):
        if reduction not in self._REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of "
                             f"{', '.join(map(repr, self._REDUCTIONS))}, got {reduction!r}.")
        self.reduction = reduction
        self.name = name or _snake(type(self).__name__)
        self.kwargs = kwargs

    def call(self, y_true, y_pred):
        return type(self).fn(y_true, y_pred, **self.kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        loss = self.call(y_true, y_pred)
        if sample_weight is not None:
            sw = as_array(sample_weight, where=f"{self.name} sample_weight").astype(loss.dtype, copy=False)
            try:
                sw = np.broadcast_to(sw.reshape(sw.shape + (1,) * (loss.ndim - sw.ndim)), loss.shape)
            except ValueError:
                raise ValueError(f"{self.name}: sample_weight of shape {sw.shape} does not match the "
                                 f"per-sample losses of shape {loss.shape}.") from None
            loss = loss * sw
        if self.reduction == "none":
            return loss
        if self.reduction == "sum":
            return loss.sum()
        return loss.mean()

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self.kwargs}

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


def _snake(name):
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _loss_class(name, fn, doc, **defaults):
    def __init__(self, reduction="sum_over_batch_size", name=None, **kwargs):
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected argument(s) {sorted(unknown)}; "
                            f"accepted: {sorted(defaults) + ['name', 'reduction']}.")
        Loss.__init__(self, reduction, name, **{**defaults, **kwargs})
    return type(name, (Loss,), {"fn": staticmethod(fn), "__init__": __init__, "__doc__": doc,
                                "__module__": __name__})


MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error,
                               """Mean of mean_squared_error over the batch.

    >>> import fastnn as fn
    >>> fn.losses.MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]]).item()
    0.5
    """)
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error,
                                "Mean of mean_absolute_error over the batch.")
MeanAbsolutePercentageError = _loss_class("MeanAbsolutePercentageError", mean_absolute_percentage_error,
                                          "Mean of mean_absolute_percentage_error over the batch.")
MeanSquaredLogarithmicError = _loss_class("MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
                                          "Mean of mean_squared_logarithmic_error over the batch.")
Hinge = _loss_class("Hinge", hinge, "Mean of hinge over the batch.")
SquaredHinge = _loss_class("SquaredHinge", squared_hinge, "Mean of squared_hinge over the batch.")
BinaryCrossentropy = _loss_class("BinaryCrossentropy", binary_crossentropy,
                                 "Mean of binary_crossentropy over the batch "
                                 "(from_logits=False, label_smoothing=0.0).",
                                 from_logits=False, label_smoothing=0.0)
CategoricalCrossentropy = _loss_class("CategoricalCrossentropy", categorical_crossentropy,
                                      """Mean of categorical_crossentropy over the batch
    (from_logits=False, label_smoothing=0.0).

    >>> import fastnn as fn
    >>> round(fn.losses.CategoricalCrossentropy(from_logits=True)([[0.0, 1.0]], [[0.0, 0.0]]).item(), 4)
    0.6931
    """, from_logits=False, label_smoothing=0.0)
SparseCategoricalCrossentropy = _loss_class("SparseCategoricalCrossentropy",
                                            sparse_categorical_crossentropy,
                                            "Mean of sparse_categorical_crossentropy over the batch "
                                            "(from_logits=False).", from_logits=False)
KLDivergence = _loss_class("KLDivergence", kullback_leibler_divergence,
                           "Mean of kullback_leibler_divergence over the batch.")
CosineSimilarity = _loss_class("CosineSimilarity", cosine_similarity,
                               "Mean of cosine_similarity over the batch.")


# --- registry -----------------------------------------------------------------------
ALL_LOSSES = {
    "mean_squared_error": mean_squared_error, "mse": mse, "MSE": mse,
    "mean_absolute_error": mean_absolute_error, "mae": mae, "MAE": mae,
    "mean_absolute_percentage_error": mean_absolute_percentage_error, "mape": mape, "MAPE": mape,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error, "msle": msle, "MSLE": msle,
    "squared_hinge": squared_hinge, "hinge": hinge,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "kullback_leibler_divergence": kullback_leibler_divergence, "kl_divergence": kld,
    "kld": kld, "KLD": kld,
    "cosine_proximity": cosine_proximity, "cosine_similarity": cosine_similarity,
}
_CLASSES = {c.__name__: c for c in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    Hinge, SquaredHinge, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    KLDivergence, CosineSimilarity)}


def get(identifier):
    """Resolve a loss: a name or alias ('mse', 'categorical_crossentropy', ...), a class
    name ('MeanSquaredError', giving an instance), a callable or a Loss (returned as is).

    Args:
        identifier: str, callable, Loss instance or None.

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
    if isinstance(identifier, str):
        if identifier in ALL_LOSSES:
            return ALL_LOSSES[identifier]
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(f"Unknown loss {identifier!r}; the valid names are: "
                         f"{', '.join(sorted(ALL_LOSSES) + sorted(_CLASSES))}.")
    raise TypeError(f"losses.get: expected a loss name, a callable or a Loss, got "
                    f"{type(identifier).__name__} {identifier!r}.")
