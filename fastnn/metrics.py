"""Keras-style metrics (``fn.metrics``), same names, arguments and numbers as Keras 3.

A metric function returns one value per sample (``sparse_categorical_accuracy``,
``fn.losses.mae``, ...); a ``Metric`` object keeps a running state over batches
(``update_state``, ``result``, ``reset_state``). ``get`` resolves what
``compile(metrics=[...])`` receives: a name ('mae', 'AUC', 'precision', ...), a class,
an instance or any function ``f(y_true, y_pred)`` (wrapped in ``MeanMetricWrapper``).
'accuracy' is resolved by ``compile`` from the target and output shapes, as Keras does.

Metrics compute on arrays and never record a graph; the running sums are float64.

>>> import fastnn as fn
>>> m = fn.metrics.MeanAbsoluteError()
>>> m.update_state([[1.0], [2.0]], [[1.5], [2.0]]); m.result()
0.25
"""
import numbers

import numpy as np

from . import losses as _losses
from .autograd import no_grad

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError",
           "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
           "RootMeanSquaredError", "CosineSimilarity", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "KLDivergence",
           "Hinge", "SquaredHinge", "Precision", "Recall", "AUC", "TruePositives",
           "FalsePositives", "TrueNegatives", "FalseNegatives", "accuracy",
           "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "get",
           "ALL_METRICS"]


def _np(x):
    return np.asarray(getattr(x, "data", x))


def squeeze_or_expand_to_same_rank(a, b, expand_rank_1=True):
    """Keras's rule for two ranks that differ by one: a trailing axis of size 1 is
    dropped, or a rank-1 operand gains one (``expand_rank_1``)."""
    if a.ndim == b.ndim + 1 and a.shape[-1] == 1:
        if b.ndim == 1 and expand_rank_1:
            b = b[:, None]
        else:
            a = a[..., 0]
    elif b.ndim == a.ndim + 1 and b.shape[-1] == 1:
        if a.ndim == 1 and expand_rank_1:
            a = a[:, None]
        else:
            b = b[..., 0]
    return a, b


# --- metric functions (one value per sample or element) ------------------------------
def accuracy(y_true, y_pred):
    """1.0 where y_pred equals y_true (exact match).

    >>> accuracy([1, 2], [1, 3]).tolist()
    [1.0, 0.0]
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(_np(y_true), _np(y_pred))
    return (y_true == y_pred).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where (y_pred > threshold) equals y_true, per element.

    >>> binary_accuracy([[1], [0]], [[0.8], [0.7]]).tolist()
    [[1.0], [0.0]]
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(_np(y_true), _np(y_pred))
    return ((y_pred > threshold).astype(y_true.dtype) == y_true).astype(np.float32)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) == argmax(y_true) (one-hot targets).

    >>> categorical_accuracy([[0, 1], [1, 0]], [[0.2, 0.8], [0.3, 0.7]]).tolist()
    [1.0, 0.0]
    """
    return (np.argmax(_np(y_pred), -1) == np.argmax(_np(y_true), -1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label.

    >>> sparse_categorical_accuracy([1, 0], [[0.2, 0.8], [0.3, 0.7]]).tolist()
    [1.0, 0.0]
    """
    y_true, y_pred = _np(y_true), _np(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (np.argmax(y_pred, -1) == y_true.astype(np.int64)).astype(np.float32)


def _in_top_k(labels, y_pred, k):
    # as Keras: the label's score is at least the k-th largest (ties count as hits)
    y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    labels = labels.reshape(-1).astype(np.int64)
    k = min(int(k), y_pred.shape[-1])
    kth = np.partition(y_pred, -k, axis=-1)[:, -k]
    return (np.take_along_axis(y_pred, labels[:, None], -1)[:, 0] >= kth).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target's class is among the k highest predictions.

    >>> top_k_categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=1).tolist()
    [0.0, 1.0]
    """
    y_true, y_pred = _np(y_true), _np(y_pred)
    labels = np.argmax(y_true, -1)
    return _in_top_k(labels, y_pred, k).reshape(labels.shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the k highest predictions.

    >>> sparse_top_k_categorical_accuracy([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=2).tolist()
    [1.0, 1.0]
    """
    y_true, y_pred = _np(y_true), _np(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return _in_top_k(y_true, y_pred, k).reshape(y_true.shape)


# --- the base classes -----------------------------------------------------------------
class Metric:
    """Base class of stateful metrics: ``update_state(y_true, y_pred, sample_weight=None)``
    accumulates, ``result()`` reads, ``reset_state()`` starts over; calling the metric
    updates and returns the result.

    ``direction`` ('up' or 'down') tells callbacks in mode 'auto' whether larger is
    better.

    >>> import numpy as np, fastnn as fn
    >>> m = fn.metrics.Mean()
    >>> isinstance(m, fn.metrics.Metric)
    True
    >>> m.update_state(np.array([1.0, 3.0], np.float32)); float(m.result())
    2.0
    >>> m.reset_state(); float(m.result())
    0.0
    """

    _direction = "down"

    def __init__(self, name=None, dtype=None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a string, got {name!r}.")
        self.name = name or _snake(type(self).__name__)
        self.dtype = "float32" if dtype is None else str(np.dtype(dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define update_state().")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} does not define result().")

    def reset_state(self):
        raise NotImplementedError(f"{type(self).__name__} does not define reset_state().")

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _snake(name):
    import re
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _samplewise(values, sample_weight, reduce):
    """Keras's reduce_to_samplewise_values: per-sample values (and weights)."""
    values = np.asarray(values, np.float64)
    if sample_weight is not None:
        sw = np.asarray(_np(sample_weight), np.float64)
        values, sw = squeeze_or_expand_to_same_rank(values, sw)
        if values.ndim > sw.ndim:
            values = reduce(values, axis=tuple(range(sw.ndim, values.ndim)))
        sw = np.broadcast_to(sw, values.shape)
        values = values * sw
        if sw.ndim > 1:
            sw = reduce(sw, axis=tuple(range(1, sw.ndim)))
        sample_weight = sw
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen.

    >>> m = Sum(); m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0]); m.result()
    4.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype)
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values, _ = _samplewise(_np(values), sample_weight, np.sum)
        self.total += float(np.sum(values))

    def result(self):
        return float(np.float32(self.total)) if self.dtype == "float32" else self.total

    def reset_state(self):
        self.total = 0.0


class Mean(Metric):
    """The (weighted) mean of the values seen: Σ w·v / Σ w.

    >>> m = Mean(); m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0]); m.result()
    2.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)
        self.total = self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values, sw = _samplewise(_np(values), sample_weight, np.mean)
        self.total += float(np.sum(values))
        if sw is not None:
            self.count += float(np.sum(sw))
        else:
            self.count += values.shape[0] if values.ndim else 1

    def result(self):
        r = self.total / self.count if self.count else 0.0
        return float(np.float32(r)) if self.dtype == "float32" else r

    def reset_state(self):
        self.total = self.count = 0.0


class MeanMetricWrapper(Mean):
    """The running mean of a per-sample function ``fn(y_true, y_pred, **kwargs)`` (a
    metric function or an ``fn.losses`` function).

    >>> import fastnn as fn
    >>> m = MeanMetricWrapper(fn.losses.mae, name="mae")
    >>> m.update_state([1.0, 2.0], [[1.5], [2.5]]); m.result()
    0.5
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper: fn must be callable, got {fn!r}.")
        super().__init__(name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        with no_grad():
            values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(_np(values), sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


def _wrapper(cls_name, fn, default_name, direction, doc, **defaults):
    """A MeanMetricWrapper subclass with Keras's name, arguments and direction."""
    def __init__(self, name=default_name, dtype=None, **kwargs):
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(f"{cls_name}: unexpected argument(s) {sorted(unknown)}; accepted: "
                            f"{sorted(defaults) + ['dtype', 'name']}.")
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **{**defaults, **kwargs})
        for k, v in {**defaults, **kwargs}.items():
            setattr(self, k, v)
    import inspect
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=v)
               for k, v in defaults.items()]
    params += [inspect.Parameter("name", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                 default=default_name),
               inspect.Parameter("dtype", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)]
    sig = inspect.Signature(params)

    def init(self, *args, **kwargs):
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        a = dict(bound.arguments)
        a.pop("self")
        __init__(self, a.pop("name"), a.pop("dtype"), **a)
    init.__signature__ = sig
    return type(cls_name, (MeanMetricWrapper,), {"__init__": init, "__doc__": doc,
                                                 "_direction": direction,
                                                 "__module__": __name__})


Accuracy = _wrapper("Accuracy", accuracy, "accuracy", "up",
                    """How often predictions equal labels exactly.

    >>> m = Accuracy(); m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]]); m.result()
    0.75
    """)
BinaryAccuracy = _wrapper("BinaryAccuracy", binary_accuracy, "binary_accuracy", "up",
                          """How often (y_pred > threshold) matches binary labels.

    >>> m = BinaryAccuracy(); m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    >>> m.result()
    0.75
    """, threshold=0.5)
CategoricalAccuracy = _wrapper("CategoricalAccuracy", categorical_accuracy,
                               "categorical_accuracy", "up",
                               """How often argmax(y_pred) matches one-hot labels.

    >>> m = CategoricalAccuracy()
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]); m.result()
    0.5
    """)
SparseCategoricalAccuracy = _wrapper("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                     "sparse_categorical_accuracy", "up",
                                     """How often argmax(y_pred) matches integer labels.

    >>> m = SparseCategoricalAccuracy()
    >>> m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]); m.result()
    0.5
    """)
TopKCategoricalAccuracy = _wrapper("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                   "top_k_categorical_accuracy", "up",
                                   """How often the one-hot target is in the top k predictions.

    >>> m = TopKCategoricalAccuracy(k=1)
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]); m.result()
    0.5
    """, k=5)
SparseTopKCategoricalAccuracy = _wrapper("SparseTopKCategoricalAccuracy",
                                         sparse_top_k_categorical_accuracy,
                                         "sparse_top_k_categorical_accuracy", "up",
                                         """How often the integer label is in the top k
    predictions.

    >>> m = SparseTopKCategoricalAccuracy(k=1)
    >>> m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]); m.result()
    0.5
    """, k=5)
MeanSquaredError = _wrapper("MeanSquaredError", _losses.mean_squared_error,
                            "mean_squared_error", "down",
                            """Running mean of ``fn.losses.mean_squared_error``.

    >>> m = MeanSquaredError(); m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]]); m.result()
    0.25
    """)
MeanAbsoluteError = _wrapper("MeanAbsoluteError", _losses.mean_absolute_error,
                             "mean_absolute_error", "down",
                             """Running mean of ``fn.losses.mean_absolute_error``.

    >>> m = MeanAbsoluteError(); m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]]); m.result()
    0.25
    """)
MeanAbsolutePercentageError = _wrapper("MeanAbsolutePercentageError",
                                       _losses.mean_absolute_percentage_error,
                                       "mean_absolute_percentage_error", "down",
                                       """Running mean of
    ``fn.losses.mean_absolute_percentage_error``.

    >>> m = MeanAbsolutePercentageError(); m.update_state([[2.0]], [[1.0]]); m.result()
    50.0
    """)
MeanSquaredLogarithmicError = _wrapper("MeanSquaredLogarithmicError",
                                       _losses.mean_squared_logarithmic_error,
                                       "mean_squared_logarithmic_error", "down",
                                       """Running mean of
    ``fn.losses.mean_squared_logarithmic_error``.

    >>> m = MeanSquaredLogarithmicError(); m.update_state([[0.0]], [[0.0]]); m.result()
    0.0
    """)
CosineSimilarity = _wrapper("CosineSimilarity", lambda t, p, axis=-1: -_np(
    _losses.cosine_similarity(t, p)), "cosine_similarity", "up",
    """Running mean of the cosine similarity (not its negative, unlike the loss).

    >>> m = CosineSimilarity(); m.update_state([[0.0, 1.0]], [[0.0, 2.0]]); m.result()
    1.0
    """, axis=-1)
BinaryCrossentropy = _wrapper("BinaryCrossentropy", _losses.binary_crossentropy,
                              "binary_crossentropy", "down",
                              """Running mean of ``fn.losses.binary_crossentropy``.

    >>> m = BinaryCrossentropy(); m.update_state([[1.0]], [[0.5]]); round(m.result(), 4)
    0.6931
    """, from_logits=False, label_smoothing=0.0)
CategoricalCrossentropy = _wrapper("CategoricalCrossentropy",
                                   _losses.categorical_crossentropy,
                                   "categorical_crossentropy", "down",
                                   """Running mean of ``fn.losses.categorical_crossentropy``.

    >>> m = CategoricalCrossentropy(); m.update_state([[0, 1]], [[0.5, 0.5]])
    >>> round(m.result(), 4)
    0.6931
    """, from_logits=False, label_smoothing=0.0)
SparseCategoricalCrossentropy = _wrapper("SparseCategoricalCrossentropy",
                                         _losses.sparse_categorical_crossentropy,
                                         "sparse_categorical_crossentropy", "down",
                                         """Running mean of
    ``fn.losses.sparse_categorical_crossentropy``.

    >>> m = SparseCategoricalCrossentropy(); m.update_state([1], [[0.5, 0.5]])
    >>> round(m.result(), 4)
    0.6931
    """, from_logits=False)
KLDivergence = _wrapper("KLDivergence", _losses.kullback_leibler_divergence,
                        "kl_divergence", "down",
                        """Running mean of ``fn.losses.kl_divergence``.

    >>> m = KLDivergence(); m.update_state([[0.5, 0.5]], [[0.5, 0.5]]); m.result()
    0.0
    """)
Hinge = _wrapper("Hinge", _losses.hinge, "hinge", "down",
                 """Running mean of ``fn.losses.hinge``.

    >>> m = Hinge(); m.update_state([[1.0, 0.0]], [[0.5, 0.5]]); m.result()
    1.0
    """)
SquaredHinge = _wrapper("SquaredHinge", _losses.squared_hinge, "squared_hinge", "down",
                        """Running mean of ``fn.losses.squared_hinge``.

    >>> m = SquaredHinge(); m.update_state([[1.0, 0.0]], [[0.5, 0.5]]); m.result()
    1.25
    """)


class RootMeanSquaredError(Mean):
    """sqrt of the running mean of the squared error.

    >>> m = RootMeanSquaredError(); m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> m.result()
    0.5
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = squeeze_or_expand_to_same_rank(_np(y_true).astype(np.float64),
                                              _np(y_pred).astype(np.float64))
        super().update_state((p - t) ** 2, sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


# --- confusion-matrix metrics ----------------------------------------------------------
def _thresholds(where, thresholds, default):
    if thresholds is None:
        return np.array([default], np.float64), True
    single = isinstance(thresholds, numbers.Real)
    t = np.atleast_1d(np.asarray(thresholds, np.float64))
    if t.ndim != 1 or not np.all((t >= 0) & (t <= 1)):
        raise ValueError(f"{where}: thresholds must be numbers in [0, 1], got {thresholds!r}.")
    return t, single


class _Confusion(Metric):
    """Counts of true/false positives/negatives of predictions > each threshold, over
    every element (labels cast to bool), as Keras's confusion metrics."""

    def __init__(self, thresholds, default, top_k, class_id, name, dtype):
        super().__init__(name, dtype)
        self.init_thresholds = thresholds
        self.thresholds_array, self._single = _thresholds(type(self).__name__, thresholds,
                                                          default)
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral)
                                  or top_k < 1):
            raise ValueError(f"{type(self).__name__}: top_k must be a positive int, got {top_k!r}.")
        if class_id is not None and (isinstance(class_id, bool) or
                                     not isinstance(class_id, numbers.Integral) or class_id < 0):
            raise ValueError(f"{type(self).__name__}: class_id must be a non-negative int, got "
                             f"{class_id!r}.")
        self.top_k, self.class_id = top_k, class_id
        self.reset_state()

    def reset_state(self):
        n = len(self.thresholds_array)
        self.true_positives = np.zeros(n)
        self.false_positives = np.zeros(n)
        self.true_negatives = np.zeros(n)
        self.false_negatives = np.zeros(n)

    def _prepare(self, y_true, y_pred):
        return _np(y_true), _np(y_pred).astype(np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = self._prepare(y_true, y_pred)
        y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true.astype(np.float64))
        sw = None
        if sample_weight is not None:
            sw = np.asarray(_np(sample_weight), np.float64)[..., None]
            _, sw = squeeze_or_expand_to_same_rank(y_true, sw, expand_rank_1=False)
            sw = np.broadcast_to(sw, y_true.shape)
        if self.top_k is not None:
            k = min(self.top_k, y_pred.shape[-1])
            kth = np.partition(y_pred, -k, axis=-1)[..., -k:][..., :1]
            y_pred = np.where(y_pred >= kth, y_pred, -np.inf)
        if self.class_id is not None:
            if y_pred.ndim < 2:
                raise ValueError(f"{self.name}: with class_id, y_pred must be 2-D "
                                 f"(samples, classes), got shape {y_pred.shape}.")
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
            sw = None if sw is None else sw[..., self.class_id]
        pred = y_pred.reshape(-1)[:, None] > self.thresholds_array[None, :]
        label = (y_true.reshape(-1) != 0)[:, None]
        w = np.ones(pred.shape[0]) if sw is None else sw.reshape(-1)
        w = w[:, None]
        self.true_positives += np.sum(w * (pred & label), axis=0)
        self.false_positives += np.sum(w * (pred & ~label), axis=0)
        self.true_negatives += np.sum(w * (~pred & ~label), axis=0)
        self.false_negatives += np.sum(w * (~pred & label), axis=0)

    def _out(self, values):
        values = np.asarray(values, np.float64)
        if self._single:
            return float(np.float32(values[0]))
        return values.astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


def _divide_no_nan(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.where(b != 0, a / np.where(b != 0, b, 1), 0.0)


class Precision(_Confusion):
    """TP / (TP + FP) of predictions > threshold (0.5), as ``keras.metrics.Precision``.

    Args:
        thresholds: a float or list in [0, 1] (one result per threshold).
        top_k: only the k highest predictions of a sample count as positive.
        class_id: the class (column) to score.

    >>> m = Precision(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); round(m.result(), 4)
    0.6667
    """

    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, 0.5 if top_k is None else -np.inf, top_k, class_id, name,
                         dtype)

    def result(self):
        return self._out(_divide_no_nan(self.true_positives,
                                        self.true_positives + self.false_positives))


class Recall(_Confusion):
    """TP / (TP + FN) of predictions > threshold (0.5), as ``keras.metrics.Recall``.

    >>> m = Recall(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); round(m.result(), 4)
    0.6667
    """

    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, 0.5 if top_k is None else -np.inf, top_k, class_id, name,
                         dtype)

    def result(self):
        return self._out(_divide_no_nan(self.true_positives,
                                        self.true_positives + self.false_negatives))


def _count_metric(cls_name, attr, default_name, doc):
    def __init__(self, thresholds=None, name=default_name, dtype=None):
        _Confusion.__init__(self, thresholds, 0.5, None, None, name, dtype)

    def result(self):
        return self._out(getattr(self, attr))
    return type(cls_name, (_Confusion,), {"__init__": __init__, "result": result,
                                          "__doc__": doc, "_direction": "up" if
                                          attr.startswith("true") else "down",
                                          "__module__": __name__})


TruePositives = _count_metric("TruePositives", "true_positives", "true_positives",
                              """The (weighted) count of true positives.

    >>> m = TruePositives(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()
    2.0
    """)
FalsePositives = _count_metric("FalsePositives", "false_positives", "false_positives",
                               """The (weighted) count of false positives.

    >>> m = FalsePositives(); m.update_state([0, 1, 0, 0], [0, 0, 1, 1]); m.result()
    2.0
    """)
TrueNegatives = _count_metric("TrueNegatives", "true_negatives", "true_negatives",
                              """The (weighted) count of true negatives.

    >>> m = TrueNegatives(); m.update_state([0, 1, 0, 0], [1, 1, 0, 0]); m.result()
    2.0
    """)
FalseNegatives = _count_metric("FalseNegatives", "false_negatives", "false_negatives",
                               """The (weighted) count of false negatives.

    >>> m = FalseNegatives(); m.update_state([0, 1, 1, 1], [0, 1, 0, 0]); m.result()
    2.0
    """)


class AUC(_Confusion):
    """Area under the ROC or PR curve from confusion counts at ``num_thresholds``
    thresholds (0 - 1e-7, i/(n-1), 1 + 1e-7), as ``keras.metrics.AUC``: the trapezoid
    rule ('interpolation'), or left/right sums ('minoring'/'majoring'); PR
    'interpolation' is Davis & Goadrich's.

    Args:
        num_thresholds: > 1 (default 200). curve: 'ROC' or 'PR'.
        summation_method: 'interpolation', 'minoring' or 'majoring'.
        thresholds: explicit thresholds in [0, 1] instead of num_thresholds.
        from_logits: apply a sigmoid to the predictions first.

    >>> m = AUC(num_thresholds=3)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]); m.result()
    0.75
    """

    _direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name="auc", dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}.")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: summation_method must be 'interpolation', 'minoring' or "
                             f"'majoring', got {summation_method!r}.")
        if multi_label or num_labels is not None or label_weights is not None:
            raise ValueError("AUC: multi_label, num_labels and label_weights are not supported "
                             "by fastnn.")
        if thresholds is not None:
            inner, _ = _thresholds("AUC", thresholds, 0.5)
            inner = sorted(inner.tolist())
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, numbers.Integral) \
                    or num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be an integer > 1, got "
                                 f"{num_thresholds!r}.")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds = len(inner) + 2
        self.curve, self.summation_method, self.from_logits = curve, summation_method, \
            bool(from_logits)
        self._init_thresholds = thresholds
        all_thresholds = [0.0 - 1e-7] + inner + [1.0 + 1e-7]
        Metric.__init__(self, name, dtype)
        self.init_thresholds = thresholds
        self.thresholds_array = np.asarray(all_thresholds, np.float64)
        self._single = False
        self.top_k = self.class_id = None
        self.reset_state()

    @property
    def thresholds(self):
        return self.thresholds_array.tolist()

    def _prepare(self, y_true, y_pred):
        y_true, y_pred = super()._prepare(y_true, y_pred)
        if self.from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred))
        return y_true, y_pred

    def _interpolate_pr_auc(self):
        n = self.num_thresholds
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:n - 1] - tp[1:]
        p = tp + fp
        dp = p[:n - 1] - p[1:]
        prec_slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = np.where((p[:n - 1] > 0) & (p[1:] > 0),
                                _divide_no_nan(p[:n - 1], np.maximum(p[1:], 0)), np.ones_like(p[1:]))
        pr_auc_increment = _divide_no_nan(
            prec_slope * (dtp + intercept * np.log(safe_p_ratio)), np.maximum(tp[1:] + fn[1:], 0))
        return float(np.float32(np.sum(pr_auc_increment)))

    def result(self):
        n = self.num_thresholds
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:n - 1], y[1:])
        else:
            heights = np.maximum(y[:n - 1], y[1:])
        return float(np.float32(np.sum((x[:n - 1] - x[1:]) * heights)))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "num_thresholds": self.num_thresholds,
                "curve": self.curve, "summation_method": self.summation_method,
                "from_logits": self.from_logits, "thresholds": self._init_thresholds}


# --- registry -------------------------------------------------------------------------
_CLASSES = (Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
            MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
            RootMeanSquaredError, CosineSimilarity, BinaryCrossentropy, CategoricalCrossentropy,
            SparseCategoricalCrossentropy, KLDivergence, Hinge, SquaredHinge, Precision, Recall,
            AUC, TruePositives, FalsePositives, TrueNegatives, FalseNegatives)

#: Names (class names, their snake case, and Keras's short aliases) -> metric classes.
ALL_METRICS = {**{c.__name__: c for c in _CLASSES}, **{_snake(c.__name__): c for c in _CLASSES},
               "mse": MeanSquaredError, "MSE": MeanSquaredError,
               "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
               "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
               "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
               "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "auc": AUC}


def get(identifier):
    """A Metric from a name ('mae', 'precision', 'AUC', 'top_k_categorical_accuracy',
    ...), a class, an instance (returned as is) or a function (wrapped in a
    MeanMetricWrapper named after it). 'accuracy'/'acc' are resolved by ``compile``.

    Raises:
        ValueError: an unknown name (the valid ones are listed).
        TypeError: anything else.

    >>> get("mae").name, get("AUC").name
    ('mean_absolute_error', 'auc')
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        cls = ALL_METRICS.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown metric {identifier!r}; the valid names are: "
                             f"{', '.join(sorted(set(ALL_METRICS) | {'accuracy', 'acc'}))} "
                             f"(or pass a Metric or a function f(y_true, y_pred)).")
        return cls()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"metrics: expected a metric name, a Metric, a Metric class or a function "
                    f"f(y_true, y_pred), got {type(identifier).__name__} {identifier!r}.")


def resolve_accuracy(y_true_shape, y_pred_shape, name="accuracy"):
    """Keras's choice for 'accuracy': binary when the output has one unit, sparse
    categorical when the targets are labels, else categorical.

    >>> type(resolve_accuracy((8,), (8, 3))).__name__
    'SparseCategoricalAccuracy'
    """
    y_true_shape, y_pred_shape = tuple(y_true_shape), tuple(y_pred_shape)
    if y_pred_shape and y_pred_shape[-1] == 1 or len(y_pred_shape) <= 1:
        return BinaryAccuracy(name=name)
    if len(y_true_shape) < len(y_pred_shape) or (y_true_shape and y_true_shape[-1] == 1):
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)
