"""``fn.save`` / ``fn.load`` without pickle: loading a file can never run code.

The file is a zip archive: ``manifest.json`` describes the nested structure
(dicts with int or str keys, lists, tuples, numbers, strings, bools, None) and every
array is a separate ``.npy`` member written and read with ``allow_pickle=False``.
"""
import io
import json
import numbers
import zipfile

import numpy as np

__all__ = ["save", "load"]

_FORMAT = "fastnn"
_VERSION = 1


def _encode(obj, arrays, where):
    from .tensor import Tensor
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError(f"save: object arrays cannot be saved (at {where}).")
        name = f"arr_{len(arrays)}.npy"
        arrays.append((name, obj))
        return {"__ndarray__": name}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.generic):
        return _encode(obj.item(), arrays, where)
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        return {"__float__": repr(float(obj))}   # keeps nan/inf and every bit
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, (str, int, np.integer)):
                raise TypeError(f"save: dict keys must be str or int, got {type(k).__name__} at {where}.")
            items.append([k if isinstance(k, str) else int(k), _encode(v, arrays, f"{where}[{k!r}]")])
        return {"__dict__": items}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
    raise TypeError(f"save: cannot save an object of type {type(obj).__name__} at {where}; "
                    f"expected arrays, numbers, strings, bools, None, dicts, lists or tuples.")


def save(obj, path):
    """Save nested dicts/lists/tuples of arrays and plain values to exactly ``path``.

    >>> import fastnn as fn, numpy as np, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "state.fnn")
    >>> fn.save({"w": np.ones(2, np.float32), 0: [1, 2.5, None]}, p)
    >>> fn.load(p)[0]
    [1, 2.5, None]
    """
    arrays = []
    manifest = {"format": _FORMAT, "version": _VERSION, "root": _encode(obj, arrays, "root")}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, arr in arrays:
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr) if arr.ndim else arr,
                                      allow_pickle=False)
            zf.writestr(name, buf.getvalue())


def _decode(node, zf, path):
    if isinstance(node, list):
        return [_decode(v, zf, path) for v in node]
    if isinstance(node, dict):
        if "__ndarray__" in node:
            with zf.open(node["__ndarray__"]) as f:
                return np.lib.format.read_array(io.BytesIO(f.read()), allow_pickle=False)
        if "__float__" in node:
            return float(node["__float__"])
        if "__tuple__" in node:
            return tuple(_decode(v, zf, path) for v in node["__tuple__"])
        if "__dict__" in node:
            return {k: _decode(v, zf, path) for k, v in node["__dict__"]}
        raise ValueError(f"load: '{path}' has an unknown entry {sorted(node)}.")
    return node


def load(path):
    """Load what :func:`save` wrote. Never unpickles.

    Raises:
        ValueError: the file is truncated, not a fastnn file, or of a newer version.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            try:
                manifest = json.loads(zf.read("manifest.json"))
            except KeyError:
                raise ValueError(f"load: '{path}' is not a fastnn file (no manifest).") from None
            if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
                raise ValueError(f"load: '{path}' is not a fastnn file.")
            if manifest.get("version", 0) > _VERSION:
                raise ValueError(f"load: '{path}' has format version {manifest['version']}, "
                                 f"newer than this fastnn ({_VERSION}).")
            return _decode(manifest["root"], zf, path)
    except (zipfile.BadZipFile, EOFError, json.JSONDecodeError, KeyError, OSError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"load: '{path}' is truncated or not a fastnn file ({e}).") from None
