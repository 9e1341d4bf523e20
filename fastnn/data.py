"""Datasets and batch loading (same names and arguments as ``torch.utils.data``).

* :class:`Dataset` (map-style: ``__getitem__`` + ``__len__``), :class:`IterableDataset`,
  :class:`TensorDataset`, :class:`Subset`, :class:`ConcatDataset`, :func:`random_split`.
* Samplers: :class:`SequentialSampler`, :class:`RandomSampler`,
  :class:`SubsetRandomSampler`, :class:`BatchSampler`.
* :class:`DataLoader` and :func:`default_collate`.

A DataLoader over a :class:`TensorDataset` of in-memory arrays (with the default
sampler and collate) does not index sample by sample: it cuts each batch out of the
arrays at once, a view (no copy) in order and one gather per array when shuffled.
``num_workers > 0`` loads batches on a background thread (threads, not processes:
NumPy releases the GIL while it copies), ``prefetch_factor * num_workers`` batches
ahead.

Shuffling draws from ``generator`` (a :class:`fastnn.random.Generator`) or, without
one, from fastnn's default generator, so ``fn.manual_seed`` makes the order
reproducible.

>>> import numpy as np, fastnn as fn
>>> ds = fn.data.TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> [y.tolist() for _, y in fn.data.DataLoader(ds, batch_size=2)]
[[0, 1], [2, 3], [4]]
"""
import bisect
import collections.abc
import itertools
import math
import numbers
import queue
import threading

import numpy as np

from .random import Generator, resolve
from .tensor import Tensor, as_array

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "BatchSampler", "DataLoader", "default_collate"]


# --- datasets ---------------------------------------------------------------------------------
class Dataset:
    """Base of map-style datasets: subclasses define ``__getitem__(index)`` and ``__len__``.

    >>> import fastnn as fn
    >>> class Squares(fn.data.Dataset):
    ...     def __len__(self): return 4
    ...     def __getitem__(self, i): return float(i * i)
    >>> next(iter(fn.data.DataLoader(Squares(), batch_size=4)))
    tensor([0., 1., 4., 9.], dtype=float64)
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__().")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base of stream-style datasets: subclasses define ``__iter__`` (no indexing).

    >>> import fastnn as fn
    >>> class Count(fn.data.IterableDataset):
    ...     def __iter__(self): return iter(range(5))
    >>> [b.tolist() for b in fn.data.DataLoader(Count(), batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} does not define __iter__().")


class TensorDataset(Dataset):
    """Samples that are the rows of equally long arrays or tensors (kept without a copy).

    Args:
        *tensors: Tensors, ndarrays or array-likes sharing their first dimension.

    Raises:
        ValueError: no tensors, a 0-d one, or first dimensions that differ.

    >>> import numpy as np, fastnn as fn
    >>> ds = fn.data.TensorDataset(np.zeros((3, 2), np.float32), np.array([0, 1, 1]))
    >>> len(ds), ds[1][1]
    (3, tensor(1))
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor.")
        arrays = []
        for i, t in enumerate(tensors):
            a = t.data if isinstance(t, Tensor) else as_array(t, where=f"TensorDataset tensor {i}")
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; every tensor needs a first "
                                 f"(sample) dimension.")
            arrays.append(a)
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions "
                             f"{sizes}; they must all be equal.")
        self.arrays = tuple(arrays)
        self.tensors = tuple(Tensor._wrap(a) for a in arrays)

    def __getitem__(self, index):
        return tuple(Tensor._wrap(np.asarray(a[index])) for a in self.arrays)

    def __len__(self):
        return self.arrays[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> import numpy as np, fastnn as fn
    >>> s = fn.data.Subset(fn.data.TensorDataset(np.arange(5)), [4, 0]); len(s), s[0]
    (2, (tensor(4),))
    """

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Datasets one after another.

    >>> import numpy as np, fastnn as fn
    >>> a, b = fn.data.TensorDataset(np.arange(2)), fn.data.TensorDataset(np.arange(3))
    >>> c = a + b; len(c), c[3]
    (5, (tensor(1),))
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable.")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset: does not support IterableDataset.")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise IndexError(f"ConcatDataset: index {idx} out of range for length {n}.")
            idx += n
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        if k >= len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} out of range for length {n}.")
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][idx - start]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random Subsets of the given ``lengths``
    (counts, or fractions summing to 1: the remainder goes round-robin, as torch).

    >>> import numpy as np, fastnn as fn
    >>> a, b = fn.data.random_split(np.arange(10), [0.7, 0.3], generator=fn.random.Generator(0))
    >>> len(a), len(b)
    (7, 3)
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1 and \
            any(isinstance(f, float) for f in lengths):
        for i, f in enumerate(lengths):
            if not 0 <= f <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1: {f}.")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal "
                         f"the length of the input dataset ({n}).")
    perm = resolve(generator).numpy.permutation(n).tolist()
    out, start = [], 0
    for k in lengths:
        out.append(Subset(dataset, perm[start:start + k]))
        start += k
    return out


# --- samplers ---------------------------------------------------------------------------------
class Sampler:
    """Base of samplers: an iterable of dataset indices (or of index lists)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., len(data_source) - 1.

    >>> list(SequentialSampler(range(3)))
    [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices (or ``num_samples`` draws with replacement).

    >>> import fastnn as fn
    >>> sorted(RandomSampler(range(4), generator=fn.random.Generator(1)))
    [0, 1, 2, 3]
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement = data_source, bool(replacement)
        self._num_samples, self.generator = num_samples, generator
        if num_samples is not None and (isinstance(num_samples, bool) or
                                        not isinstance(num_samples, numbers.Integral) or
                                        num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples should be a positive integer value, "
                             f"but got num_samples={num_samples!r}.")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def indices(self):
        """This epoch's indices as an int64 array (one draw from the generator)."""
        n, rng = len(self.data_source), resolve(self.generator).numpy
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        reps, rest = divmod(self.num_samples, n) if n else (0, 0)
        parts = [rng.permutation(n) for _ in range(reps)] + ([rng.permutation(n)[:rest]] if rest else [])
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order.

    >>> import fastnn as fn
    >>> sorted(SubsetRandomSampler([5, 7, 9], generator=fn.random.Generator(0)))
    [5, 7, 9]
    """

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        order = resolve(self.generator).numpy.permutation(len(self.indices))
        return (self.indices[i] for i in order.tolist())

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (the last one shorter unless ``drop_last``).

    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer value, but "
                             f"got batch_size={batch_size!r}.")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got "
                             f"drop_last={drop_last!r}.")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def __iter__(self):
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# --- collation --------------------------------------------------------------------------------
def default_collate(batch):
    """Stack a list of samples into a batch, as torch's ``default_collate``: Tensors and
    ndarrays are stacked into one Tensor (a new first dim), Python floats become a
    float64 Tensor and ints an int64 one, tuples and lists are collated position by
    position (into a list), dicts key by key; strings stay a list.

    Raises:
        TypeError: samples of a type it cannot collate. RuntimeError: shapes that differ.

    >>> import numpy as np
    >>> default_collate([(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)])
    [tensor([[0., 0.],
            [1., 1.]]), tensor([1, 0])]
    """
    elem = batch[0]
    if isinstance(elem, (Tensor, np.ndarray, np.generic)):
        arrays = [b.data if isinstance(b, Tensor) else np.asarray(b) for b in batch]
        if any(a.shape != arrays[0].shape for a in arrays):
            shapes = sorted({a.shape for a in arrays})
            raise RuntimeError(f"default_collate: stack expects each sample to have the same "
                               f"shape, got shapes {shapes}.")
        if arrays[0].dtype.kind not in "fiub":
            raise TypeError(f"default_collate: samples of dtype {arrays[0].dtype} cannot be "
                            f"collated into a tensor.")
        return Tensor._wrap(np.stack(arrays))
    if isinstance(elem, bool):
        return Tensor._wrap(np.array(batch, np.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor._wrap(np.array(batch, np.int64))
    if isinstance(elem, numbers.Real):
        return Tensor._wrap(np.array(batch, np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):     # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        n = len(elem)
        if any(len(b) != n for b in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               "equal size.")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, NumPy arrays, numbers, dicts "
                    f"or lists; found {type(elem).__name__}.")


def _convert(sample):
    """batch_size=None: a sample's arrays and numbers as tensors, structure kept."""
    if isinstance(sample, Tensor):
        return sample
    if isinstance(sample, (np.ndarray, np.generic)) and np.asarray(sample).dtype.kind in "fiub":
        return Tensor._wrap(np.asarray(sample))
    if isinstance(sample, collections.abc.Mapping):
        return {k: _convert(v) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(_convert(s) for s in sample))
    if isinstance(sample, (list, tuple)):
        return [_convert(s) for s in sample]
    return sample


# --- the loader -------------------------------------------------------------------------------
class DataLoader:
    """Batches from a dataset, as ``torch.utils.data.DataLoader``.

    Args:
        dataset: a map-style Dataset (or anything with ``__getitem__``/``__len__``, e.g.
            an ndarray) or an IterableDataset.
        batch_size: samples per batch (None: no batching, one converted sample at a time).
        shuffle: a new random order every epoch (from ``generator``).
        sampler: an iterable of indices (instead of ``shuffle``). batch_sampler: an iterable
            of index lists (instead of batch_size, shuffle, sampler and drop_last).
        num_workers: 0 loads in the calling thread; more loads on a background thread,
            ``prefetch_factor`` (default 2) times this many batches ahead.
        collate_fn: list of samples -> batch (default: :func:`default_collate`).
        pin_memory, timeout, multiprocessing_context, persistent_workers, pin_memory_device,
            in_order: accepted for torch compatibility (timeout bounds a worker's wait).
        drop_last: drop the last batch when it is smaller than batch_size.
        worker_init_fn: called with worker id 0 on the background thread before loading.
        generator: :class:`fastnn.random.Generator` for shuffling (default: fastnn's).

    Raises:
        ValueError: mutually exclusive arguments, or a bad batch_size / num_workers.

    A batch of a TensorDataset is a list with one Tensor per array; in order, each is a
    view into the dataset's array (no copy).

    >>> import numpy as np, fastnn as fn
    >>> x, y = np.arange(12, dtype=np.float32).reshape(6, 2), np.arange(6)
    >>> loader = fn.data.DataLoader(fn.data.TensorDataset(x, y), batch_size=4, shuffle=True,
    ...                             generator=fn.random.Generator(0))
    >>> len(loader), [len(b[1]) for b in loader]
    (2, [4, 2])
    >>> xb, yb = next(iter(fn.data.DataLoader(fn.data.TensorDataset(x, y), batch_size=4)))
    >>> np.shares_memory(xb.numpy(), x)
    True
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        where = "DataLoader"
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) \
                or num_workers < 0:
            raise ValueError(f"{where}: num_workers option should be non-negative; use "
                             f"num_workers=0 to disable the background loader, got {num_workers!r}.")
        if prefetch_factor is not None:
            if num_workers == 0:
                raise ValueError(f"{where}: prefetch_factor option could only be specified in "
                                 f"background loading (num_workers > 0), got "
                                 f"prefetch_factor={prefetch_factor!r}.")
            if isinstance(prefetch_factor, bool) or not isinstance(prefetch_factor, numbers.Integral) \
                    or prefetch_factor < 1:
                raise ValueError(f"{where}: prefetch_factor must be a positive int, got "
                                 f"{prefetch_factor!r}.")
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or timeout < 0:
            raise ValueError(f"{where}: timeout option should be non-negative, got {timeout!r}.")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"{where}: generator must be a fastnn.random.Generator or None, got "
                            f"{type(generator).__name__}.")
        if batch_size is not None and (isinstance(batch_size, bool) or
                                       not isinstance(batch_size, numbers.Integral) or
                                       batch_size <= 0):
            raise ValueError(f"{where}: batch_size should be a positive integer value or None, "
                             f"but got batch_size={batch_size!r}.")
        if not isinstance(drop_last, bool):
            raise ValueError(f"{where}: drop_last should be a boolean value, but got "
                             f"drop_last={drop_last!r}.")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (None, False):
                raise ValueError(f"{where}: with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}.")
            if sampler is not None or batch_sampler is not None:
                raise ValueError(f"{where}: with IterableDataset: expected unspecified sampler "
                                 f"and batch_sampler options.")
        else:
            if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
                raise TypeError(f"{where}: dataset must be a map-style Dataset (with __getitem__ and "
                                f"__len__) or an IterableDataset, got {type(dataset).__name__}.")
            if sampler is not None and shuffle:
                raise ValueError(f"{where}: sampler option is mutually exclusive with shuffle.")
            if batch_sampler is not None:
                if batch_size != 1 or shuffle or sampler is not None or drop_last:
                    raise ValueError(f"{where}: batch_sampler option is mutually exclusive with "
                                     f"batch_size, shuffle, sampler, and drop_last.")
                batch_size, drop_last = None, False
            elif batch_size is None and drop_last:
                raise ValueError(f"{where}: batch_size=None option disables auto-batching and is "
                                 f"mutually exclusive with drop_last.")
            if sampler is None:
                sampler = RandomSampler(dataset, generator=generator) if shuffle \
                    else SequentialSampler(dataset)
            if batch_size is not None and batch_sampler is None:
                batch_sampler = BatchSampler(sampler, int(batch_size), drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.num_workers, self.timeout = int(num_workers), float(timeout)
        self.prefetch_factor = (2 if prefetch_factor is None else int(prefetch_factor)) \
            if num_workers else None
        self.collate_fn = collate_fn
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device
        self.worker_init_fn, self.generator = worker_init_fn, generator
        self.multiprocessing_context, self.persistent_workers = multiprocessing_context, persistent_workers
        self.in_order = in_order
        self._iterable = iterable

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)      # TypeError when the stream has no length, as torch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler) if self.batch_sampler is not None else len(self.sampler)

    def _fast_arrays(self):
        """The arrays to slice batches from directly, or None for the general path."""
        d = self.dataset
        if type(d) is not TensorDataset or self.collate_fn is not None or self.batch_size is None:
            return None
        if type(self.batch_sampler) is not BatchSampler or self.batch_sampler.sampler is not self.sampler:
            return None
        s = self.sampler
        if type(s) is SequentialSampler or (type(s) is RandomSampler and not s.replacement
                                            and s._num_samples is None):
            return d.arrays
        return None

    def _batches(self):
        arrays = self._fast_arrays()
        if arrays is not None:
            return _slices(arrays, self.sampler, self.batch_size, self.drop_last)
        if self._iterable:
            return self._iterable_batches()
        collate = self.collate_fn or default_collate
        get = self.dataset.__getitem__
        many = getattr(self.dataset, "__getitems__", None)
        if self.batch_sampler is None:
            conv = self.collate_fn or _convert
            return (conv(get(i)) for i in self.sampler)
        if many is not None:
            return (collate(many(idx)) for idx in self.batch_sampler)
        return (collate([get(i) for i in idx]) for idx in self.batch_sampler)

    def _iterable_batches(self):
        it = iter(self.dataset)
        if self.batch_size is None:
            conv = self.collate_fn or _convert
            for s in it:
                yield conv(s)
            return
        collate = self.collate_fn or default_collate
        while True:
            chunk = list(itertools.islice(it, self.batch_size))
            if not chunk or (self.drop_last and len(chunk) < self.batch_size):
                return
            yield collate(chunk)

    def __iter__(self):
        if self.num_workers == 0:
            return self._batches()
        return _Prefetcher(self._batches, self.num_workers * self.prefetch_factor,
                           self.worker_init_fn, self.timeout)


def _slices(arrays, sampler, bs, drop_last):
    """Batches cut straight out of the arrays: views in order, one gather when shuffled."""
    wrap = Tensor._wrap
    n = arrays[0].shape[0]
    stop = n - n % bs if drop_last else n
    if type(sampler) is SequentialSampler:
        for i in range(0, stop, bs):
            yield [wrap(a[i:i + bs]) for a in arrays]
        return
    order = sampler.indices()
    for i in range(0, stop, bs):
        idx = order[i:i + bs]
        yield [wrap(a.take(idx, axis=0)) for a in arrays]


_DONE = object()


class _Prefetcher:
    """Runs a batch generator on a daemon thread, ``depth`` batches ahead; an exception
    there is raised here, and abandoning the iterator stops the thread."""

    def __init__(self, make, depth, init_fn, timeout):
        self._q = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._timeout = timeout or None
        self._thread = threading.Thread(target=self._run, args=(make, init_fn), daemon=True,
                                        name="fastnn-DataLoader")
        self._thread.start()

    def _put(self, item):
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, make, init_fn):
        try:
            if init_fn is not None:
                init_fn(0)
            for batch in make():
                if not self._put((True, batch)):
                    return
            self._put((True, _DONE))
        except BaseException as e:   # handed to the consumer
            self._put((False, e))

    def __iter__(self):
        return self

    def __next__(self):
        if self._stop.is_set():
            raise StopIteration
        try:
            ok, item = self._q.get(timeout=self._timeout)
        except queue.Empty:
            self.close()
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds waiting for "
                               f"a batch from the background loader.") from None
        if not ok:
            self.close()
            raise item
        if item is _DONE:
            self.close()
            raise StopIteration
        return item

    def close(self):
        self._stop.set()

    def __del__(self):
        self._stop.set()
