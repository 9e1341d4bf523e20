"""``fn.save`` / ``fn.load`` without pickle: loading a file can never run code.

The file is a zip archive: ``manifest.json`` describes the nested structure
(dicts with int or str keys, lists, tuples, numbers, strings, bools, None) and every
array is a separate uncompressed ``.npy`` member. Arrays are read by fastnn's own
``.npy`` reader (no ``allow_pickle``, no object dtypes), into 64-byte aligned memory.

Guarantees:

* **Atomic saves.** Saving to a path writes a temporary file in the target's
  directory, fsyncs it, then ``os.replace``-s it over the target (and fsyncs the
  directory): a crash, a kill or a full disk during a save leaves the previous file
  intact. ``model.save`` and ``ModelCheckpoint`` write through :func:`save`.
* **Bounded loads.** The content may hold at most ``max_bytes`` bytes once
  decompressed; by default the larger of 4x the file's size and 64 MiB (fastnn
  writes uncompressed members, so its own files hold less than their size). The
  limit is checked against the declared sizes before anything is inflated, so a
  zip bomb fails at once.
* **One error type.** Any file that cannot be loaded for what it contains
  (truncated, corrupted, foreign, from a newer fastnn, over the size limit) raises
  :class:`LoadError`, a ``ValueError`` naming the file and what is wrong. Only the
  operating system's errors on opening a path (``FileNotFoundError``, ...) pass
  through unchanged.
"""
import contextlib
import errno
import io
import json
import numbers
import os
import stat
import zipfile

import numpy as np

__all__ = ["save", "load", "LoadError", "FORMAT_VERSION", "DEFAULT_MIN_MAX_BYTES",
           "DEFAULT_SIZE_RATIO"]

_FORMAT = "fastnn"
#: Version of the file layout written by this fastnn; files of a newer version are refused.
FORMAT_VERSION = 1
#: Default size limit of :func:`load`: ``max(DEFAULT_SIZE_RATIO * file size, DEFAULT_MIN_MAX_BYTES)``.
DEFAULT_SIZE_RATIO = 4
DEFAULT_MIN_MAX_BYTES = 64 << 20
_MAX_DEPTH = 100            # nesting of dicts/lists/tuples, both ways
_CHUNK = 16 << 20           # streaming granularity for array payloads
_DTYPE_KINDS = "biufcSU"    # what save can write (object/void/datetime never)


class LoadError(ValueError):
    """A file (or file object) that :func:`load` cannot load: truncated, corrupted,
    not a fastnn file, written by a newer fastnn, or over the size limit. The message
    names the file and what is wrong.

    >>> import fastnn as fn, io
    >>> try:
    ...     fn.load(io.BytesIO(b"not a zip"))
    ... except fn.LoadError as e:
    ...     print(str(e)[:44])
    load: <BytesIO> is not a fastnn file: not a
    """


def _version():
    from . import __version__
    return __version__


def _describe(f):
    """How an error message names a path or a file object."""
    if isinstance(f, (str, bytes, os.PathLike)):
        return repr(os.fsdecode(f))
    name = getattr(f, "name", None)
    if isinstance(name, (str, bytes)):
        return repr(os.fsdecode(name))
    return f"<{type(f).__name__}>"


# --- saving ---------------------------------------------------------------------------
def _encode(obj, arrays, where, depth=0):
    from .tensor import Tensor
    if depth > _MAX_DEPTH:
        raise ValueError(f"save: the object is nested more than {_MAX_DEPTH} levels deep (at {where}).")
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject or obj.dtype.kind not in _DTYPE_KINDS:
            raise TypeError(f"save: arrays of dtype {obj.dtype} cannot be saved (at {where}); "
                            f"object arrays never are (that would need pickle).")
        name = f"arr_{len(arrays)}.npy"
        arrays.append((name, obj))
        return {"__ndarray__": name}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.generic):
        return _encode(obj.item(), arrays, where, depth)
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        return {"__float__": repr(float(obj))}   # keeps nan/inf and every bit
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, (bool, np.bool_)) or not isinstance(k, (str, int, np.integer)):
                raise TypeError(f"save: dict keys must be str or int, got {type(k).__name__} at {where}.")
            items.append([k if isinstance(k, str) else int(k),
                          _encode(v, arrays, f"{where}[{k!r}]", depth + 1)])
        return {"__dict__": items}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]
    raise TypeError(f"save: cannot save an object of type {type(obj).__name__} at {where}; "
                    f"expected arrays, numbers, strings, bools, None, dicts, lists or tuples.")


def _write_zip(fh, manifest, arrays):
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, arr in arrays:
            if arr.ndim and not arr.flags.c_contiguous:
                arr = np.ascontiguousarray(arr)
            # streamed member by member: no second copy of a big array in memory
            with zf.open(name, "w", force_zip64=arr.nbytes > (1 << 30)) as w:
                np.lib.format.write_array(w, arr, allow_pickle=False)


def _fsync_dir(d):
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass        # not every file system can sync a directory
    finally:
        os.close(fd)


def _open_temp(target):
    """A new file next to ``target`` (same file system, so os.replace is atomic)."""
    d, base = os.path.split(target)
    if not os.path.isdir(d):
        raise FileNotFoundError(errno.ENOENT, f"save: no such directory {d!r} to save {base!r} in", target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(d, f".{base}.{os.urandom(4).hex()}.tmp")
        try:
            # 0o666 and the umask: the mode a plain open() would have given the target
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"save: could not create a temporary file next to '{target}'.")


def save(obj, f):
    """Save nested dicts/lists/tuples of arrays and plain values to exactly ``f``.

    ``f`` is a path (written atomically: a temporary file in the same directory,
    fsynced, then renamed over the target, so an interrupted save never destroys
    the previous file) or a binary file object open for writing (e.g. ``io.BytesIO``).

    >>> import fastnn as fn, numpy as np, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "state.fnn")
    >>> fn.save({"w": np.ones(2, np.float32), 0: [1, 2.5, None]}, p)
    >>> fn.load(p)[0]
    [1, 2.5, None]
    """
    arrays = []
    manifest = {"format": _FORMAT, "version": FORMAT_VERSION, "fastnn_version": _version(),
                "root": _encode(obj, arrays, "root")}
    if hasattr(f, "write"):
        _write_zip(f, manifest, arrays)
        return
    if not isinstance(f, (str, bytes, os.PathLike)):
        raise TypeError(f"save: expected a path or a binary file object, got {type(f).__name__}.")
    target = os.fspath(f)
    if os.path.islink(target):
        target = os.path.realpath(target)      # write through a link, as open() would
    try:
        old_mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        old_mode = None
    fd, tmp = _open_temp(os.path.abspath(target))
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_zip(fh, manifest, arrays)
            fh.flush()
            os.fsync(fh.fileno())
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(os.path.dirname(os.path.abspath(target)))


# --- loading --------------------------------------------------------------------------
class _Reader:
    """Decodes a manifest against an open archive, within a byte budget."""

    def __init__(self, zf, name, budget):
        self.zf, self.name, self.budget = zf, name, budget
        self.used, self.members = 0, set()

    def fail(self, what):
        raise LoadError(f"load: {self.name} {what}")

    def take(self, nbytes, what):
        self.used += nbytes
        if self.used > self.budget:
            self.fail(f"holds more than max_bytes={self.budget} bytes once decompressed "
                      f"({what}); pass a larger max_bytes= to load it if you trust it.")

    def array(self, member):
        if not isinstance(member, str):
            self.fail(f"is corrupted: an array entry is {type(member).__name__}, not a member name.")
        if member in self.members:
            self.fail(f"is corrupted: the array member '{member}' is referenced twice.")
        self.members.add(member)
        try:
            info = self.zf.getinfo(member)
        except KeyError:
            self.fail(f"is truncated or corrupted: the array member '{member}' is missing.")
        self.take(info.file_size, f"member '{member}' declares {info.file_size} bytes")
        with self.zf.open(info) as fh:
            return self._read_npy(fh, info, member)

    def _read_npy(self, fh, info, member):
        from .tensor import empty_aligned
        fmt = np.lib.format
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = fmt.read_array_header_2_0(fh)
        else:
            self.fail(f"is corrupted: member '{member}' has .npy version {version}.")
        if dtype.hasobject or dtype.kind not in _DTYPE_KINDS:
            self.fail(f"holds an array of dtype {dtype} in member '{member}', which fastnn "
                      f"never writes (object data would need pickle).")
        count = 1
        for d in shape:
            count *= d
        nbytes = count * dtype.itemsize
        if nbytes != info.file_size - fh.tell():
            self.fail(f"is corrupted: member '{member}' declares shape {shape} of {dtype} "
                      f"({nbytes} bytes) but holds {info.file_size - fh.tell()} bytes.")
        arr = empty_aligned(shape[::-1] if fortran else shape, dtype)
        buf = memoryview(arr.reshape(-1).view(np.uint8)) if nbytes else memoryview(b"")
        pos = 0
        while pos < nbytes:
            n = fh.readinto(buf[pos:pos + _CHUNK])
            if not n:
                self.fail(f"is truncated: member '{member}' ends after {pos} of {nbytes} bytes.")
            pos += n
        if fh.read(1):
            self.fail(f"is corrupted: member '{member}' holds data past its array.")
        if fortran:
            arr = arr.T
        if not arr.dtype.isnative:      # same values, native order, still aligned
            arr = arr.byteswap(inplace=True).view(arr.dtype.newbyteorder("="))
        return arr

    def decode(self, node, depth=0):
        if depth > _MAX_DEPTH:
            self.fail(f"is corrupted: its structure is nested more than {_MAX_DEPTH} levels deep.")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v, depth + 1) for v in node]
        if not isinstance(node, dict) or len(node) != 1:
            self.fail(f"is corrupted: unexpected entry {str(node)[:80]!r} in its manifest.")
        (kind, val), = node.items()
        if kind == "__ndarray__":
            return self.array(val)
        if kind == "__float__":
            try:
                return float(val)
            except (TypeError, ValueError):
                self.fail(f"is corrupted: {str(val)[:40]!r} is not a float.")
        if kind == "__tuple__" and isinstance(val, list):
            return tuple(self.decode(v, depth + 1) for v in val)
        if kind == "__dict__" and isinstance(val, list):
            out = {}
            for item in val:
                if (not isinstance(item, list) or len(item) != 2 or isinstance(item[0], bool)
                        or not isinstance(item[0], (str, int))):
                    self.fail(f"is corrupted: bad dict item {str(item)[:80]!r} in its manifest.")
                out[item[0]] = self.decode(item[1], depth + 1)
            return out
        self.fail(f"is corrupted: unknown manifest entry {kind!r}.")


def _load_zip(zf, name, budget):
    try:
        info = zf.getinfo("manifest.json")
    except KeyError:
        raise LoadError(f"load: {name} is not a fastnn file (it has no manifest).") from None
    r = _Reader(zf, name, budget)
    r.take(info.file_size, f"its manifest declares {info.file_size} bytes")
    raw = zf.read(info)
    try:
        manifest = json.loads(raw)
    except RecursionError:
        r.fail("is corrupted: its manifest is nested too deeply.")
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        r.fail("is not a fastnn file (its manifest has no fastnn format tag).")
    version = manifest.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        r.fail(f"is corrupted: its format version is {version!r}.")
    if version > FORMAT_VERSION:
        writer = manifest.get("fastnn_version")
        by = f" by fastnn {writer}" if isinstance(writer, str) else ""
        r.fail(f"was written{by} in file format version {version}, newer than this fastnn "
               f"{_version()} reads (format version {FORMAT_VERSION}); upgrade fastnn to load it.")
    if "root" not in manifest:
        r.fail("is corrupted: its manifest has no content.")
    return r.decode(manifest["root"])


def _default_budget(size):
    return max(DEFAULT_SIZE_RATIO * size, DEFAULT_MIN_MAX_BYTES)


def load(f, *, max_bytes=None):
    """Load what :func:`save` wrote. Never unpickles, never runs code from the file.

    Args:
        f: a path or a binary file object (e.g. ``io.BytesIO``) open for reading.
        max_bytes: the most bytes the content may hold once decompressed. Default:
            the larger of 4x the file's size and 64 MiB (fastnn's own files hold
            less than their size); raise it to load a re-compressed file you trust.

    Raises:
        LoadError: a ValueError naming the file and what is wrong: truncated,
            corrupted, not a fastnn file, of a newer format version, or over
            ``max_bytes``.
        FileNotFoundError, PermissionError, ...: opening the path failed.

    >>> import fastnn as fn, io, numpy as np
    >>> buf = io.BytesIO(); fn.save({"w": np.arange(3)}, buf)
    >>> fn.load(io.BytesIO(buf.getvalue()))["w"]
    array([0, 1, 2])
    """
    name = _describe(f)
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, numbers.Real)
                                  or not max_bytes > 0):
        raise ValueError(f"load: max_bytes must be a positive number of bytes, got {max_bytes!r}.")
    if hasattr(f, "read"):
        return _load_stream(f, name, max_bytes)
    if not isinstance(f, (str, bytes, os.PathLike)):
        raise TypeError(f"load: expected a path or a binary file object, got {type(f).__name__}.")
    with open(f, "rb") as fh:       # the OS's own errors (missing file, ...) pass through
        return _load_stream(fh, name, max_bytes)


def _load_stream(fh, name, max_bytes):
    try:
        try:
            seekable = fh.seekable()
        except AttributeError:
            seekable = False
        if not seekable:
            # zip needs random access: buffer the stream (bounded by max_bytes if given;
            # a stream's bytes are all sent, so they are no bomb themselves)
            if max_bytes is None:
                data = fh.read()
            else:
                data = fh.read(int(min(max_bytes, 1 << 62)) + 1)
                if len(data) > max_bytes:
                    raise LoadError(f"load: {name} is longer than max_bytes={max_bytes} bytes.")
            fh = io.BytesIO(data)
        start = fh.tell()
        size = fh.seek(0, io.SEEK_END) - start
        fh.seek(start)
        budget = max_bytes if max_bytes is not None else _default_budget(size)
        with zipfile.ZipFile(fh) as zf:
            return _load_zip(zf, name, budget)
    except LoadError:
        raise
    except zipfile.BadZipFile as e:
        reason = str(e) or "bad zip archive"
        raise LoadError(f"load: {name} is not a fastnn file: not a zip archive, or a truncated "
                        f"or corrupted one ({reason}).") from e
    except Exception as e:      # noqa: BLE001  every malformed file is one error type
        raise LoadError(f"load: {name} is truncated or corrupted ({type(e).__name__}: {e}).") from e


@contextlib.contextmanager
def content_errors(f, what):
    """Inside the block, an error interpreting what :func:`load` returned from ``f``
    becomes a :class:`LoadError` naming the file (e.g. a model file whose layer
    config was tampered with)."""
    try:
        yield
    except LoadError:
        raise
    except Exception as e:      # noqa: BLE001
        raise LoadError(f"load: {_describe(f)} does not hold a valid {what} "
                        f"({type(e).__name__}: {e}).") from e
