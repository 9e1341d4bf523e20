"""Fitting on an iterable of batches: data that does not fit in memory.

``fit(batches)`` / ``partial_fit(batches)`` take any iterable of ``(x, y)`` (or
``(x, y, sample_weight)``) batches: a list, a ``fn.data.DataLoader``, a
``fastnn.dask.batches(...)`` view of dask arrays, or an object reading ``.npy``
files one at a time. Each batch is one optimizer step; one pass over the iterable is
one epoch (``fit`` makes up to ``max_iter`` passes, so its iterable must be
re-iterable; ``partial_fit`` makes one). Batches are validated as they come, like
``fit``'s input.
"""
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_consistent_length, validate_data

__all__ = ["is_batches", "as_numpy", "iterate", "fit_batches", "collect_classes", "checked_x"]


def as_numpy(v):
    """A batch element as a NumPy array (fastnn and torch tensors give their data)."""
    if isinstance(v, np.ndarray) or sp.issparse(v):
        return v
    if hasattr(v, "numpy") and callable(v.numpy):
        return np.asarray(v.numpy())
    return v


def _is_batch(b):
    return isinstance(b, (tuple, list)) and len(b) in (2, 3) and \
        (getattr(b[0], "ndim", 0) or 0) >= 1 and not isinstance(b[0], (str, bytes))


def is_batches(X):
    """Whether X is an iterable of (x, y) batches rather than one data matrix.

    >>> import numpy as np
    >>> is_batches([(np.ones((2, 3)), np.zeros(2))]), is_batches(np.ones((2, 3)))
    (True, False)
    """
    if X is None or isinstance(X, (np.ndarray, str, bytes, numbers.Number)) or sp.issparse(X):
        return False
    if hasattr(X, "__array__") or hasattr(X, "iloc") or hasattr(X, "__dask_graph__"):
        return False        # arrays, tensors, DataFrames, dask collections: one data set
    if isinstance(X, (list, tuple)):
        return len(X) > 0 and _is_batch(X[0])
    return hasattr(X, "__iter__")


def iterate(batches, where):
    """Yield (x, y, sample_weight or None) from an iterable of batches, checking each."""
    for i, b in enumerate(batches):
        if not isinstance(b, (tuple, list)) or len(b) not in (2, 3):
            raise TypeError(f"{where}: batch {i} must be a pair (x, y) or a triple (x, y, "
                            f"sample_weight), got {type(b).__name__}"
                            f"{' of length %d' % len(b) if hasattr(b, '__len__') else ''}.")
        yield as_numpy(b[0]), as_numpy(b[1]), (as_numpy(b[2]) if len(b) == 3 else None)


def check_reiterable(batches, epochs, where):
    if epochs > 1 and iter(batches) is batches:
        raise TypeError(f"{where}: got a one-shot iterator ({type(batches).__name__}) but "
                        f"training makes up to {epochs} passes over the batches; pass a "
                        f"re-iterable object (a list, a fn.data.DataLoader, "
                        f"fastnn.dask.batches(...)), or call partial_fit once per pass.")


def collect_classes(batches, where):
    """Every label in the batches (one extra pass over them)."""
    labels = [np.unique(np.asarray(y)) for _, y, _ in iterate(batches, where)]
    if not labels:
        raise ValueError(f"{where}: the iterable of batches is empty.")
    return unique_labels(*labels)


def fit_batches(est, batches, sample_weight, incremental, classes):
    """``fit`` (incremental=False) or ``partial_fit`` of an MLP estimator on batches."""
    name = type(est).__name__
    where = f"{name}.{'partial_fit' if incremental else 'fit'}"
    if sample_weight is not None:
        raise ValueError(f"{where}: with batches, give sample weights inside them as "
                         f"(x, y, sample_weight) triples, not as sample_weight=.")
    if est.solver not in ("adam", "sgd"):
        raise ValueError(f"{where}: fitting on batches needs a stochastic solver ('adam' or "
                         f"'sgd'), got solver={est.solver!r}.")
    if est.early_stopping:
        raise ValueError(f"{where}: early_stopping=True needs the whole data set to split off "
                         f"a validation set; it is not available when fitting on batches.")
    epochs = 1 if incremental else est.max_iter
    check_reiterable(batches, epochs, where)
    first_pass = not hasattr(est, "coefs_") or (not est.warm_start and not incremental)
    if is_classifier(est) and first_pass and not incremental and classes is None:
        classes = collect_classes(batches, where)
    est._random_state = check_random_state(est.random_state)
    solver = net = None
    try:
        est.n_iter_ = 0
        for epoch in range(epochs):
            accumulated, seen = 0.0, 0
            for x, y, sw in iterate(batches, where):
                reset = first_pass and net is None
                x = checked_x(est, x, reset)
                y = np.asarray(y)
                check_consistent_length(x, y)
                if net is None:
                    net, solver = _start(est, x, y, classes, first_pass, incremental, where)
                Y = _encode_targets(est, y, where)
                dtype = net.dtype
                x = x.astype(dtype, copy=False) if isinstance(x, np.ndarray) else \
                    x.tocsr().astype(dtype, copy=False)
                if isinstance(x, np.ndarray):
                    x = np.ascontiguousarray(x)
                if sw is not None:
                    sw = _check_sample_weight(sw, x).astype(dtype, copy=False)
                if Y.shape[1] != est.n_outputs_:
                    raise ValueError(f"{where}: a batch has {Y.shape[1]} target columns, the "
                                     f"model {est.n_outputs_}.")
                loss = net.backprop(x, Y.astype(dtype, copy=False), sw)
                accumulated += loss * x.shape[0]
                seen += x.shape[0]
                solver.step()
            if net is None:
                raise ValueError(f"{where}: the iterable of batches is empty.")
            est._epoch_ends(accumulated / max(seen, 1), seen, solver, False, None, None, None)
            if est._stop(solver, False):
                break
            if not incremental and est.n_iter_ == est.max_iter:
                warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the "
                              "optimization hasn't converged yet." % est.max_iter,
                              ConvergenceWarning)
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.")
    est._check_finite()
    return est


def _start(est, x, y, classes, first_pass, incremental, where):
    """Set up labels, weights and solver from the first batch."""
    classifier = is_classifier(est)
    if classifier and incremental:
        est._first_partial_fit(y, classes)
    elif classifier and first_pass:
        est._label_binarizer = LabelBinarizer()
        if y.ndim == 2 and y.shape[1] > 1 and type_of_target(y).startswith("multilabel"):
            est._label_binarizer.fit(y)
        else:
            est._label_binarizer.fit(classes)
        est.classes_ = est._label_binarizer.classes_
    if classifier:
        n_outputs = len(est._label_binarizer.transform(est.classes_[:1]).T)
    else:
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
    dtype = est._compute_dtype(x.dtype)
    layer_units = [x.shape[1]] + est._hidden_sizes() + [n_outputs]
    if first_pass:
        est._initialize(np.empty((0, n_outputs)), layer_units, dtype)
    else:
        dtype = est.coefs_[0].dtype
        est._check_layers(layer_units)
    est.n_outputs_ = n_outputs
    net = est._network(dtype)
    return net, est._bound_solver(net, incremental)


def checked_x(est, x, reset):
    """A batch's features, validated as ``fit`` validates X. A float ndarray of the
    fitted width only needs its finiteness checked (validate_data costs ~0.1 ms per
    call, as much as a small batch's step)."""
    if not reset and isinstance(x, np.ndarray) and x.ndim == 2 and x.dtype.kind == "f" \
            and x.dtype.itemsize in (4, 8) and x.shape[0] > 0 \
            and x.shape[1] == getattr(est, "n_features_in_", -1) \
            and not hasattr(est, "feature_names_in_"):
        if not np.isfinite(x.sum()) and not np.isfinite(x).all():
            raise ValueError("Input X contains NaN or infinity.")
        return x
    return validate_data(est, x, accept_sparse=["csr", "csc"],
                         dtype=(np.float64, np.float32), reset=reset)


def _encode_targets(est, y, where):
    """Targets of one batch as a 2-D float array (one-hot / indicator for classifiers)."""
    if is_classifier(est):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        classes = est.classes_
        if y.ndim == 1 and len(classes) >= 2 and est._label_binarizer.y_type_ != \
                "multilabel-indicator":
            # LabelBinarizer.transform's result, by a sorted lookup (it validates the
            # target type per call: milliseconds per batch)
            idx = np.searchsorted(classes, y)
            idx[idx == len(classes)] = 0
            bad = classes[idx] != y
            if bad.any():
                raise ValueError(f"{where}: a batch has classes not in `classes_`. `classes_` "
                                 f"has {classes}, the batch has {np.unique(y[bad])}.")
            if len(classes) == 2:
                return idx.astype(np.float64)[:, np.newaxis]
            Y = np.zeros((len(y), len(classes)))
            Y[np.arange(len(y)), idx] = 1.0
            return Y
        labels = unique_labels(y)
        if len(np.setdiff1d(labels, classes, assume_unique=True)):
            raise ValueError(f"{where}: a batch has classes not in `classes_`. `classes_` "
                             f"has {classes}, the batch has {labels}.")
        Y = est._label_binarizer.transform(y)
    else:
        Y = np.asarray(y, dtype=np.float64)
        if not np.isfinite(Y).all():
            raise ValueError(f"{where}: a batch's y contains NaN or infinity.")
    return Y.reshape(len(Y), -1)
