"""Batch inference and streaming training on Dask (the optional extra ``fastnn[dask]``).

``predict(model, X)`` runs a fitted model over a dask array or dask dataframe, one
task per chunk. The model travels once per worker, in fastnn's own format
(``fn.save`` bytes: weights as .npy, architecture as a Keras config, an estimator's
parameters, or the import path of a module factory), never as pickled code; each
worker process rebuilds it once and keeps it for every chunk it gets. A chunk's
result is bitwise equal to predicting that chunk locally.

``batches(X, y, batch_size)`` feeds dask arrays larger than memory to ``fit`` /
``partial_fit``, one block in memory at a time.

Chunk size: Dask costs ~5 ms of CPU per array task (~16 ms per dataframe partition)
and every chunk runs the model's matrix products once; chunks of 20k-100k rows
(a few MB) keep that overhead under a few percent for MLP-sized models (measured
table in the README's "Pipelines" section). Run workers with one thread each
(``LocalCluster(threads_per_worker=1)``): fastnn and BLAS use the cores inside a task.

>>> import numpy as np, dask.array as da, fastnn.dask
>>> from fastnn.sklearn import MLPRegressor
>>> X = np.random.default_rng(0).random((300, 4)); y = X.sum(axis=1)
>>> est = MLPRegressor(hidden_layer_sizes=(8,), tol=1.0, random_state=0).fit(X, y)
>>> out = fastnn.dask.predict(est, da.from_array(X, chunks=100))
>>> out.chunks, bool((out.compute(scheduler="sync") == est.predict(X)).all())
(((100, 100, 100),), True)
"""
import hashlib
import io
import threading

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as e:   # pragma: no cover - exercised without the extra installed
    raise ImportError("fastnn.dask needs Dask: pip install 'fastnn[dask]'") from e

from . import _checks, serialization
from ._importpath import import_by_path, import_path
from .autograd import no_grad
from .nn.module import Module
from .tensor import Tensor

__all__ = ["predict", "batches", "to_bytes", "from_bytes"]

FORMAT = "fastnn.dask.model"
VERSION = 1

_cache = {}                 # blob digest -> (model, lock), per worker process
# id(blob) -> (blob, entry): a worker hands every task the same bytes object (one graph
# key), so after the first task a chunk finds its model without hashing the blob again
# (~1 ms per MB); holding the blob keeps its id from being reused.
_by_id = {}
_cache_lock = threading.Lock()


# --------------------------------------------------------------------- the blob

def to_bytes(model, factory=None, factory_kwargs=None):
    """A fitted model as bytes in fastnn's format (what ``predict`` ships).

    Args:
        model: a ``fn.models.Sequential`` (Keras-style), a fitted fastnn.sklearn
            estimator, or a ``fn.nn.Module`` together with ``factory``.
        factory: for a plain module: an importable function or class that builds it
            (called as ``factory(**factory_kwargs)``); its weights come from the
            module's ``state_dict``.
        factory_kwargs: plain-data arguments for ``factory``.

    Raises:
        TypeError: a model that cannot travel without pickling code.
    """
    from .models import Model as KerasModel
    buf = io.BytesIO()
    if isinstance(model, KerasModel):
        model.save(buf)
        return buf.getvalue()
    if type(model).__module__.startswith("fastnn.sklearn"):
        from .sklearn._export import to_state
        content = {"kind": "sklearn", "estimator": to_state(model)}
    elif isinstance(model, Module):
        if factory is None:
            raise TypeError("predict: a fastnn.nn module travels as its weights plus the "
                            "function that builds it; pass factory= (an importable function "
                            "or class) and factory_kwargs= (its arguments).")
        content = {"kind": "module", "factory": import_path(factory, "factory"),
                   "factory_kwargs": dict(factory_kwargs or {}),
                   "state": {k: np.array(v) for k, v in model.state_dict().items()}}
    else:
        raise TypeError(f"predict: expected a fn.models.Model (Sequential or functional), "
                        f"a fitted fastnn.sklearn estimator or a fn.nn.Module (with factory=), got "
                        f"{type(model).__name__}.")
    serialization.save({"format": FORMAT, "version": VERSION, **content}, buf)
    return buf.getvalue()


def from_bytes(blob):
    """Rebuild what ``to_bytes`` wrote (no code in the bytes is run).

    Raises:
        fn.LoadError (a ValueError): bytes that are not a fastnn model, or from a
        newer fastnn (the message names both format versions).
    """
    obj = serialization.load(io.BytesIO(blob))
    # a Keras-style model file (fn.models' own format, any version it reads)
    if isinstance(obj, dict) and obj.get("format") in ("fastnn.models",
                                                        "fastnn.models.Sequential"):
        from .models import load_model
        return load_model(io.BytesIO(blob))
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        found = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
        raise serialization.LoadError(f"fastnn.dask: the model blob is not a fastnn model "
                                      f"(format {found!r}).")
    if obj.get("version", 0) > VERSION:
        raise serialization.LoadError(f"fastnn.dask: the model blob has format version "
                                      f"{obj['version']}, newer than this fastnn's "
                                      f"({VERSION}); upgrade fastnn on the workers.")
    if obj["kind"] == "sklearn":
        from .sklearn._export import from_state
        return from_state(obj["estimator"])
    module = import_by_path(obj["factory"])(**obj["factory_kwargs"])
    module.load_state_dict(obj["state"])
    return module.eval()


def _cached(blob):
    """The model for these bytes, rebuilt once per process."""
    known = _by_id.get(id(blob))
    if known is not None and known[0] is blob:
        return known[1]
    key = hashlib.sha256(blob).hexdigest()
    entry = _cache.get(key)
    if entry is None:
        with _cache_lock:
            entry = _cache.get(key)
            if entry is None:
                entry = _cache[key] = (from_bytes(blob), threading.Lock())
    with _cache_lock:
        if len(_by_id) >= 64:          # bytes objects of finished graphs: let them go
            _by_id.clear()
        _by_id[id(blob)] = (blob, entry)
    return entry


# --------------------------------------------------------------- running a chunk

def _run(model, x, batch_size, method):
    """The model's output for the rows of x (an ndarray), batch by batch."""
    from .models import Model as KerasModel
    n = x.shape[0]
    step = max(n if batch_size is None else int(batch_size), 1)
    if isinstance(model, KerasModel):
        return model.predict(x, batch_size=step)
    if isinstance(model, Module):
        dtype = next(iter(model.parameters())).data.dtype

        def call(b):
            with no_grad():
                return np.asarray(model(Tensor(np.ascontiguousarray(b, dtype))).data)
    else:
        call = getattr(model, method)
    outs = [call(x[lo:lo + step]) for lo in range(0, n, step)]
    return outs[0] if len(outs) == 1 else np.concatenate(outs)


def _predict_rows(x, blob, batch_size, method, tail, dtype):
    if x.shape[0] == 0:        # an empty chunk (models refuse 0 samples)
        return np.empty((0,) + tail, dtype)
    model, lock = _cached(blob)
    with lock:
        return _run(model, x, batch_size, method)


def _predict_block(block, blob, batch_size, method, tail, dtype):
    return _predict_rows(np.asarray(block), blob, batch_size, method, tail, dtype)


def _predict_frame(frame, blob, batch_size, method, columns, tail, dtype):
    import pandas as pd
    out = _predict_rows(frame.to_numpy(), blob, batch_size, method, tail, dtype)
    if out.ndim == 1:
        return pd.Series(out, index=frame.index, name="prediction")
    return pd.DataFrame(out, index=frame.index, columns=columns)


# ---------------------------------------------------------------------- predict

def predict(model, X, batch_size=None, *, method=None, factory=None, factory_kwargs=None):
    """Predict a dask array or dataframe with a fitted fastnn model, chunk by chunk.

    Args:
        model: a ``fn.models.Sequential``, a fitted fastnn.sklearn estimator, or a
            ``fn.nn.Module`` (then with ``factory``/``factory_kwargs``, see ``to_bytes``).
        X: a dask array (rows split in chunks; columns are joined into one chunk) or a
            dask dataframe (one task per partition, the index kept).
        batch_size: rows per model call inside a chunk (None: the whole chunk).
        method: for estimators, 'predict' (default) or 'predict_proba' etc.

    Returns:
        A lazy dask array with X's row chunks (shape (n,) or (n, k)), or for a
        dataframe a dask Series ("prediction") or DataFrame (columns 0..k-1, or the
        classes for predict_proba).
    """
    if batch_size is not None:
        batch_size = _checks.positive_int("fastnn.dask.predict", "batch_size", batch_size)
    is_module = isinstance(model, Module) and not type(model).__module__.startswith("fastnn.models")
    if method is None:
        method = "predict"
    elif is_module or type(model).__module__.startswith("fastnn.models"):
        raise ValueError("predict: method= applies to estimators; a module's output is its "
                         "forward pass.")
    blob = to_bytes(model, factory, factory_kwargs)
    local, _ = _cached(blob)       # the workers' rebuild, tried here first
    if not is_module and not hasattr(local, method) and not hasattr(local, "layers"):
        raise ValueError(f"predict: {type(model).__name__} has no method {method!r}.")
    key = dask.delayed(blob, pure=True)       # one key: sent to each worker once

    if hasattr(X, "map_partitions"):          # dask dataframe
        n_features = len(X.columns)
        probe = _run(local, np.zeros((1, n_features), _probe_dtype(X)), None, method)
        columns = _columns(local, method, probe)
        import pandas as pd
        meta = pd.Series(np.empty(0, probe.dtype), name="prediction") if probe.ndim == 1 else \
            pd.DataFrame({c: np.empty(0, probe.dtype) for c in columns})
        return X.map_partitions(_predict_frame, key, batch_size, method, columns,
                                probe.shape[1:], probe.dtype, meta=meta)

    if not isinstance(X, da.Array):
        raise TypeError(f"predict: expected a dask array or dask dataframe, got "
                        f"{type(X).__name__}; for in-memory data call the model directly.")
    if X.ndim < 2:
        raise ValueError(f"predict: expected X of shape (n_samples, n_features, ...), got "
                         f"shape {X.shape}.")
    if any(len(c) > 1 for c in X.chunks[1:]):
        X = X.rechunk({i: -1 for i in range(1, X.ndim)})
    probe = _run(local, np.zeros((1,) + X.shape[1:], X.dtype), None, method)
    chunks = (X.chunks[0],) + tuple((s,) for s in probe.shape[1:])
    return da.map_blocks(_predict_block, X, key, batch_size, method, probe.shape[1:],
                         probe.dtype, dtype=probe.dtype,
                         chunks=chunks, drop_axis=list(range(probe.ndim, X.ndim)) or None,
                         new_axis=list(range(X.ndim, probe.ndim)) or None)


def _probe_dtype(frame):
    """The dtype a partition's ``to_numpy()`` gives: float32 if every column is."""
    return np.float32 if all(np.dtype(t) == np.float32 for t in frame.dtypes) else np.float64


def _columns(model, method, probe):
    if probe.ndim == 1:
        return None
    if method.startswith("predict_") and hasattr(model, "classes_"):
        return list(model.classes_)
    return list(range(probe.shape[1]))


# ---------------------------------------------------------------------- batches

class batches:
    """Re-iterable (x, y) batches from dask arrays, one block in memory at a time:
    ``est.fit(fastnn.dask.batches(X, y, batch_size=200))``.

    Rows stay in order; a batch may span two blocks (rows carry over), so every
    batch but the last has ``batch_size`` rows. Each pass computes the blocks again
    (data larger than memory is read, never held).

    Args:
        X: dask array (n, ...). y: dask or NumPy array (n, ...) or None (then the
            batches are x alone). batch_size: rows per batch.

    >>> import numpy as np, dask.array as da
    >>> b = batches(da.arange(10, chunks=4).reshape(10, 1), np.arange(10), batch_size=3)
    >>> [len(x) for x, y in b], len(b)
    ([3, 3, 3, 1], 4)
    """

    def __init__(self, X, y=None, batch_size=200):
        batch_size = _checks.positive_int("fastnn.dask.batches", "batch_size", batch_size)
        if y is not None and len(y) != X.shape[0]:
            raise ValueError(f"batches: X has {X.shape[0]} rows but y has {len(y)}.")
        self.X, self.y, self.batch_size = X, y, int(batch_size)

    def __len__(self):
        return -(-int(self.X.shape[0]) // self.batch_size)

    def _blocks(self):
        X, y = self.X, self.y
        if X.ndim > 1 and any(len(c) > 1 for c in X.chunks[1:]):
            X = X.rechunk({i: -1 for i in range(1, X.ndim)})
        lo = 0
        for i in range(X.numblocks[0]):
            xb = np.asarray(X.blocks[i].compute())
            hi = lo + len(xb)
            yb = None if y is None else np.asarray(y[lo:hi].compute() if hasattr(y, "compute")
                                                   else y[lo:hi])
            lo = hi
            yield xb, yb

    def __iter__(self):
        bs, xs, ys, held = self.batch_size, [], [], 0
        for xb, yb in self._blocks():
            xs.append(xb)
            ys.append(yb)
            held += len(xb)
            while held >= bs:
                x, y = np.concatenate(xs) if len(xs) > 1 else xs[0], \
                    (None if yb is None else (np.concatenate(ys) if len(ys) > 1 else ys[0]))
                yield (x[:bs],) if y is None else (x[:bs], y[:bs])
                xs, ys = [x[bs:]], [None if y is None else y[bs:]]
                held -= bs
        if held:
            x = np.concatenate(xs) if len(xs) > 1 else xs[0]
            y = None if ys[0] is None else (np.concatenate(ys) if len(ys) > 1 else ys[0])
            yield (x,) if y is None else (x, y)
