"""Batches for ``fit``/``evaluate``/``predict``, as Keras's data adapters.

Two sources:

* arrays: a NumPy array or Tensor, a list/tuple of them (one per model input) or a
  dict (by input name), with targets and sample weights alike; sliced per batch (views
  when not shuffled), shuffled per epoch with fastnn's seeded generator;
* any iterable of batches: a generator, ``fn.data.DataLoader``, a list of (x, y)
  tuples, or an object with ``__len__`` and ``__getitem__`` (Keras's PyDataset).
  Each batch is ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``; a
  re-iterable source is iterated afresh each epoch, a one-shot generator continues.
"""
import math
import numbers
import warnings

import numpy as np

from .. import _checks
from ..layers.node import flatten, map_structure
from ..tensor import Tensor

__all__ = ["EpochIterator", "train_validation_split", "unpack_batch", "is_array_data",
           "class_weight_to_sample_weights", "check_batch_size"]


def _leaf_is_array(v):
    return isinstance(v, (np.ndarray, Tensor))


def is_array_data(x):
    """True for arrays (or lists/tuples/dicts of arrays) that fit slices per batch;
    False for an iterable of batches."""
    if x is None or _leaf_is_array(x) or isinstance(x, (numbers.Number, np.generic)):
        return True
    if isinstance(x, dict):
        return True
    if isinstance(x, (list, tuple)):
        if not x:
            return True
        if all(_leaf_is_array(e) for e in x):
            return True
        # a list of (x, y) tuples of arrays is a list of batches
        if all(isinstance(e, (list, tuple, dict)) and flatten(e) and
               all(_leaf_is_array(leaf) for leaf in flatten(e)) for e in x):
            return False
        return True     # nested lists of numbers
    return not (hasattr(x, "__iter__") or (hasattr(x, "__getitem__") and hasattr(x, "__len__")))


def _to_array(v, where):
    if isinstance(v, Tensor):
        return v.data
    if isinstance(v, np.ndarray):
        return v
    try:
        arr = np.asarray(v)
    except ValueError as e:
        raise ValueError(f"{where}: could not make an array from {type(v).__name__}: {e}") from None
    if arr.dtype == np.float64 and not isinstance(v, np.ndarray):
        arr = arr.astype(np.float32)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{where}: expected numeric data (float, int or bool), got an array of "
                        f"dtype {arr.dtype} (shape {arr.shape}).")
    return arr


def _standardize(struct, where):
    """Arrays of ``struct`` (an array, a list/tuple of them, or a dict)."""
    if struct is None:
        return None
    if isinstance(struct, (list, tuple)) and struct and all(_leaf_is_array(e) for e in struct):
        return [_to_array(e, f"{where}[{i}]") for i, e in enumerate(struct)]
    if isinstance(struct, dict):
        return {k: _to_array(v, f"{where}[{k!r}]") for k, v in struct.items()}
    return _to_array(struct, where)


def check_batch_size(where, batch_size, default=32):
    """``batch_size`` as a positive int (``default`` for None)."""
    if batch_size is None:
        return default
    return _checks.positive_int(where, "batch_size", batch_size)


def _cardinality(where, **structs):
    sizes = {}
    for name, s in structs.items():
        if s is None:
            continue
        for leaf in flatten(s):
            if leaf.ndim == 0:
                raise ValueError(f"{where}: {name} must have a first (samples) axis, got a "
                                 f"0-d value.")
            sizes.setdefault(name, []).append(leaf.shape[0])
    flat = {n for v in sizes.values() for n in v}
    if len(flat) > 1:
        x = sizes.get("x", [None])[0]
        for name in ("y", "sample_weight"):
            for n in sizes.get(name, []):
                if x is not None and n != x:
                    raise ValueError(f"{where}: x has {x} samples but {name} has {n}; every "
                                     f"array needs the same number of samples (first axis).")
        raise ValueError(f"{where}: the input arrays have different numbers of samples: "
                         f"{sizes}; every array needs the same number (first axis).")
    return flat.pop() if flat else 0


def class_weight_to_sample_weights(y, class_weight):
    """Keras's per-sample weights from ``class_weight`` (a dict class -> weight) and the
    targets (labels, or one-hot rows whose argmax is the class).

    >>> class_weight_to_sample_weights(np.array([0, 1, 1]), {1: 2.0}).tolist()
    [1.0, 2.0, 2.0]
    """
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else y[..., 0]
    y = np.round(y).astype(np.int64).reshape(-1)
    lookup = np.ones(max(int(y.max()) + 1 if y.size else 1, max(class_weight) + 1), np.float32)
    for k, w in class_weight.items():
        lookup[k] = w
    return lookup[np.clip(y, 0, None)]


def check_class_weight(where, class_weight):
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise TypeError(f"{where}: class_weight must be a dict mapping class indices to "
                        f"weights, e.g. {{0: 1.0, 1: 5.0}}, got {type(class_weight).__name__}.")
    out = {}
    for k, v in class_weight.items():
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"{where}: class_weight keys must be non-negative class indices, "
                             f"got {k!r}.")
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ValueError(f"{where}: class_weight[{k}] must be a number, got {v!r}.")
        out[int(k)] = float(v)
    return out


def train_validation_split(x, y, sample_weight, validation_split, where="fit"):
    """Keras's split, before any shuffling: the first ``floor(n · (1 - validation_split))``
    samples train and the rest validate.

    >>> (xt, _, _), (xv, _, _) = train_validation_split(np.arange(1437), None, None, 0.1)
    >>> len(xt), len(xv)
    (1293, 144)
    """
    x, y, sw = (_standardize(x, "x"), _standardize(y, "y"),
                _standardize(sample_weight, "sample_weight"))
    n = _cardinality(where, x=x, y=y, sample_weight=sw)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"{where}: the training data has {n} samples, not enough to split off "
                         f"a validation set with validation_split={validation_split}; give more "
                         f"data or a different validation_split.")

    def cut(s, a, b):
        return None if s is None else map_structure(lambda v: v[a:b], s)
    return ((cut(x, 0, split_at), cut(y, 0, split_at), cut(sw, 0, split_at)),
            (cut(x, split_at, n), cut(y, split_at, n), cut(sw, split_at, n)))


def unpack_batch(batch, where):
    """(x, y, sample_weight) of one batch from an iterable source, as Keras: a tuple or
    list is (x,), (x, y) or (x, y, sample_weight); anything else is x alone (so several
    inputs come as ((x1, x2), y))."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        batch = (batch,)
    if len(batch) not in (1, 2, 3):
        raise ValueError(f"{where}: each batch must be x, (x,), (x, y) or (x, y, sample_weight), "
                         f"got a sequence of length {len(batch)}; several inputs go in a nested "
                         f"tuple: ((x1, x2), y).")
    parts = list(batch) + [None] * (3 - len(batch))
    return tuple(None if p is None else map_structure(
        lambda v: v.data if isinstance(v, Tensor) else v, p) for p in parts)


class EpochIterator:
    """Yields ``(step, (x, y, sample_weight))`` for one epoch per iteration.

    Args:
        x, y, sample_weight: arrays (see the module doc) or, in x alone, an iterable of
            batches. batch_size: for arrays (default 32). steps_per_epoch: batches per
            epoch (an iterator then continues across epochs). shuffle: True, False or
            'batch' (batch order only). class_weight: dict class -> weight.
            generator: seed or fastnn.random.Generator for the shuffling.
        where: the caller's name for messages.

    Raises:
        ValueError: arrays with different numbers of samples, batch_size < 1, or y /
            sample_weight given with an iterable of batches.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None,
                 shuffle=False, class_weight=None, generator=None, where="fit"):
        from ..random import resolve
        self.where = where
        if steps_per_epoch is not None:
            steps_per_epoch = _checks.positive_int(where, "steps_per_epoch", steps_per_epoch)
        if shuffle not in (True, False, "batch") and not isinstance(shuffle, (bool, np.bool_)):
            raise ValueError(f"{where}: shuffle must be True, False or 'batch', got {shuffle!r}.")
        self.steps_per_epoch = steps_per_epoch
        self.class_weight = class_weight
        self.arrays = is_array_data(x)
        if self.arrays:
            self.batch_size = check_batch_size(where, batch_size)
            self.x = _standardize(x, "x")
            self.y = _standardize(y, "y")
            self.sw = _standardize(sample_weight, "sample_weight")
            if self.sw is not None and not isinstance(self.sw, np.ndarray):
                raise TypeError(f"{where}: sample_weight must be one array of per-sample "
                                f"weights, got {type(sample_weight).__name__}.")
            self.n = _cardinality(where, x=self.x, y=self.y, sample_weight=self.sw)
            self.num_batches = math.ceil(self.n / self.batch_size)
            if steps_per_epoch is not None:
                self.num_batches = min(self.num_batches, steps_per_epoch) if self.n else 0
            self.shuffle = shuffle
            self._rng = resolve(generator).numpy
        else:
            if y is not None or sample_weight is not None:
                raise ValueError(f"{where}: y and sample_weight cannot be given with x as a "
                                 f"generator, DataLoader or iterable of batches; yield "
                                 f"(x, y) or (x, y, sample_weight) batches instead.")
            if batch_size is not None:
                check_batch_size(where, batch_size)
            self.source = x
            self._iter = None
            try:
                self.num_batches = len(x)
            except TypeError:
                self.num_batches = None
            if steps_per_epoch is not None:
                self.num_batches = steps_per_epoch
            self.exhausted = False

    def _with_class_weight(self, x, y, sw):
        if self.class_weight is not None and y is not None:
            if isinstance(y, (list, dict)):
                raise ValueError(f"{self.where}: class_weight is only supported for models "
                                 f"with a single output.")
            w = class_weight_to_sample_weights(y, self.class_weight)
            sw = w if sw is None else sw * w
        return x, y, sw

    def __iter__(self):
        if self.arrays:
            yield from self._array_batches()
        else:
            yield from self._iterable_batches()

    def _array_batches(self):
        n, bs = self.n, self.batch_size
        order = None
        if self.shuffle == "batch":
            starts = self._rng.permutation(self.num_batches) * bs
        else:
            starts = np.arange(self.num_batches) * bs
            if self.shuffle:
                order = self._rng.permutation(n)
        for step, start in enumerate(starts):
            if order is None:
                idx = slice(int(start), int(start) + bs)
            else:
                idx = order[start:start + bs]
            take = (lambda v: v[idx])

            def cut(s):
                return None if s is None else map_structure(take, s)
            yield step, self._with_class_weight(cut(self.x), cut(self.y), cut(self.sw))

    def _iterable_batches(self):
        src = self.source
        if self._iter is None or (self.steps_per_epoch is None and iter_fresh(src)):
            self._iter = _make_iter(src)
        step = 0
        limit = self.steps_per_epoch
        while limit is None or step < limit:
            try:
                batch = next(self._iter)
            except StopIteration:
                if self.steps_per_epoch is not None and iter_fresh(src) and step:
                    self._iter = _make_iter(src)     # a re-iterable source starts over
                    continue
                if step == 0 or self.steps_per_epoch is not None:
                    self.exhausted = True
                    if step == 0:
                        warnings.warn(f"{self.where}: the input ran out of data; training "
                                      f"stops (a generator yields one pass only: give a "
                                      f"re-iterable source such as fn.data.DataLoader, or "
                                      f"steps_per_epoch).", stacklevel=5)
                return
            yield step, self._with_class_weight(*unpack_batch(batch, self.where))
            step += 1


def iter_fresh(src):
    """True for a source that starts over each time it is iterated (not an iterator)."""
    if hasattr(src, "__next__"):
        return False
    return hasattr(src, "__iter__") or hasattr(src, "__getitem__")


def _make_iter(src):
    if hasattr(src, "__iter__"):
        return iter(src)
    return (src[i] for i in range(len(src)))
