"""Keras-style metrics: one function per metric (per-sample values), one registry.

``metrics=['accuracy']`` resolves to binary, categorical or sparse-categorical
accuracy from the shapes, as Keras does.
"""
import numpy as np

__all__ = ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "get", "resolve_accuracy"]


def _np(x):
    return np.asarray(getattr(x, "data", x))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Per-sample mean of (y_pred > threshold) == y_true over the last axis.

    >>> binary_accuracy([[1], [0]], [[0.8], [0.7]]).tolist()
    [1.0, 0.0]
    """
    y_true, y_pred = _np(y_true), _np(y_pred)
    y_true = y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true
    hit = (y_pred > threshold).astype(np.float32) == y_true.astype(np.float32)
    return hit.mean(axis=-1) if hit.ndim > 1 else hit.astype(np.float32)


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


_REGISTRY = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
}


def resolve_accuracy(y_true_shape, y_pred_shape):
    """Keras's choice for 'accuracy' given the target and prediction shapes."""
    if y_pred_shape[-1] == 1:
        return binary_accuracy
    if len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1:
        return sparse_categorical_accuracy
    return categorical_accuracy


def get(identifier):
    """A metric function by name (or the callable itself). 'accuracy'/'acc' return None:
    the caller resolves them from the shapes with :func:`resolve_accuracy`."""
    if callable(identifier):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            return None
        if key in _REGISTRY:
            return _REGISTRY[key]
        raise ValueError(f"metrics: unknown metric '{identifier}'; valid names are "
                         f"{sorted(list(_REGISTRY) + ['accuracy', 'acc'])}.")
    raise TypeError(f"metrics: expected a metric name or callable, got {type(identifier).__name__}.")
