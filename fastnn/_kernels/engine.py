"""Which engine runs each kernel family: a compiled C extension, or its Numba/NumPy twin.

Every compiled extension is loaded through :func:`extension`, never imported
directly, so one switch decides for all of them:

* ``FASTNN_ENGINE=c``: the C extensions must load; a failure raises ImportError.
* ``FASTNN_ENGINE=numba``: no C extension is loaded; every family runs its twin.
* unset or ``auto``: the C extension where it loads, else the twin, with one
  warning per process naming what failed and how to build it.

A kernel family module does::

    _cx = engine.extension("_cfoo")      # None: use the Numba/NumPy twin
    run = _c_run if _cx is not None else _twin_run

>>> from fastnn._kernels import engine
>>> engine.requested() in ("auto", "c", "numba")
True
"""
import importlib
import os
import warnings

__all__ = ["extension", "requested", "loaded", "failed"]

_CHOICES = ("auto", "c", "numba")
_loaded = {}     # name -> module
_failed = {}     # name -> "ExcType: message"
_warned = False


def requested():
    """The engine asked for by ``FASTNN_ENGINE`` ('auto', 'c' or 'numba')."""
    val = os.environ.get("FASTNN_ENGINE", "auto").strip().lower() or "auto"
    if val not in _CHOICES:
        raise ValueError(f"FASTNN_ENGINE: expected one of {', '.join(_CHOICES)}, got {val!r}.")
    return val


def extension(name):
    """The compiled module ``fastnn._kernels.<name>``, or None where its twin must run."""
    global _warned
    if name in _loaded:
        return _loaded[name]
    want = requested()
    if want == "numba":
        return None
    try:
        mod = importlib.import_module(f"{__package__}.{name}")
    except ImportError as e:
        if want == "c":
            raise ImportError(f"FASTNN_ENGINE=c but the C extension {name} did not load ({e}). "
                              "Build it with `python setup.py build_ext --inplace` or "
                              "reinstall fastnn with a C compiler.") from e
        _failed[name] = f"{type(e).__name__}: {e}"
        if not _warned:
            _warned = True
            warnings.warn(f"fastnn: C extension {name} did not load ({e}); running the "
                          "Numba/NumPy engine instead (FASTNN_ENGINE=numba silences this).",
                          RuntimeWarning, stacklevel=3)
        return None
    _loaded[name] = mod
    return mod


def loaded():
    """Names of the C extensions in use."""
    return sorted(_loaded)


def failed():
    """{name: reason} for the C extensions that did not load."""
    return dict(_failed)
