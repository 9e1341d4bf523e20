"""Which engine runs each kernel family: a compiled C extension, or its Numba/NumPy twin.

Every compiled extension is loaded through :func:`extension` (or :func:`module`,
which hands back the twin in its place), never imported directly, so one switch
decides for all of them:

* ``FASTNN_ENGINE=c``: the C extensions must load; a failure raises ImportError.
* ``FASTNN_ENGINE=numba``: no C extension is loaded; every family runs its twin.
* unset or ``auto``: the C extension where it loads, else the twin, with one
  warning per process naming what failed and what to do.

Which build of a C extension: the default x86-64 build holds each module compiled
for x86-64-v2 (the baseline), x86-64-v3 (AVX2, FMA) and x86-64-v4 (AVX-512); this
module asks the CPU through ``_cpufeatures`` (itself a baseline build, so asking
cannot fault) and loads the best build whose instruction sets the CPU has.
``_build_config.json``, written by setup.py, says which builds exist and what each
needs; a build made for another CPU (``FASTNN_ARCH=native`` elsewhere) is refused, not
run. ``FASTNN_ISA=x86-64-v2|v3|v4`` caps the choice (for tests and comparisons).

A source checkout whose extensions are not built uses those of an installed copy
of fastnn built from the same kernel sources (``pip install .`` run in the
checkout), else its twins.

A kernel family module does::

    _cx = engine.module("_cfoo", twin="_twin_foo")   # the C module or its twin

>>> from fastnn._kernels import engine
>>> engine.requested() in ("auto", "c", "numba")
True
"""
import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import threading
import warnings

__all__ = ["extension", "module", "compiled", "requested", "loaded", "failed", "isa", "cpu", "config",
           "choose_variants", "forced_isa", "ISA_LEVELS"]

_CHOICES = ("auto", "c", "numba")
#: x86-64 psABI levels, lowest first (their rank is their index + 2).
ISA_LEVELS = ("x86-64-v2", "x86-64-v3", "x86-64-v4")
CONFIG_NAME = "_build_config.json"
PROBE = "_cpufeatures"
_HERE = os.path.dirname(os.path.abspath(__file__))

_lock = threading.RLock()
_loaded = {}     # name -> module
_variant = {}    # name -> ISA name of the build loaded
_failed = {}     # name -> why its twin runs instead
_twins = {}      # name -> twin module name
_warned = set()  # which notices were given (each once per process)
_build = None    # _Build, found on first use


def requested():
    """The engine asked for by ``FASTNN_ENGINE`` ('auto', 'c' or 'numba')."""
    val = os.environ.get("FASTNN_ENGINE", "auto").strip().lower() or "auto"
    if val not in _CHOICES:
        raise ValueError(f"FASTNN_ENGINE: expected one of {', '.join(_CHOICES)}, got {val!r}.")
    return val


# ---- the CPU -------------------------------------------------------------------------
# Linux /proc/cpuinfo flag -> the name _cpufeatures uses (where they differ).
_PROC_NAMES = {"pni": "sse3", "sse4_1": "sse4.1", "sse4_2": "sse4.2", "abm": "lzcnt",
               "bmi1": "bmi", "3dnowprefetch": "prefetchw", "pclmulqdq": "pclmul",
               "avx_vnni": "avxvnni", "avx512_vnni": "avx512vnni", "avx512_bf16": "avx512bf16",
               "avx512_vbmi2": "avx512vbmi2", "avx512_bitalg": "avx512bitalg",
               "avx512_vpopcntdq": "avx512vpopcntdq", "avx512_fp16": "avx512fp16"}


def _proc_cpuinfo():
    """(features, brand) from /proc/cpuinfo, or None. Second choice only: under an
    emulator it describes the host, not the emulated CPU."""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return None
    flags, brand = None, ""
    for line in text.splitlines():
        key, _, val = line.partition(":")
        key = key.strip()
        if key == "flags" and flags is None:
            flags = frozenset(_PROC_NAMES.get(f, f) for f in val.split())
        elif key == "model name" and not brand:
            brand = val.strip()
    return None if flags is None else (flags, brand)


def _normalise_isa(val):
    v = val.strip().lower()
    if v in ("v2", "v3", "v4"):
        return "x86-64-" + v
    if v in ISA_LEVELS:
        return v
    raise ValueError(f"FASTNN_ISA: expected one of v2, v3, v4 (or x86-64-v2 ...), got {val!r}.")


def forced_isa():
    """The ISA level ``FASTNN_ISA`` caps the choice at, or None."""
    val = os.environ.get("FASTNN_ISA", "").strip()
    return _normalise_isa(val) if val else None


def _rank(isa):
    return ISA_LEVELS.index(isa) + 2 if isa in ISA_LEVELS else 0


def choose_variants(variants, features, forced=None):
    """The builds this CPU can run, best first, and why the others are left out.

    Args:
        variants: the ``variants`` list of ``_build_config.json`` (dicts with ``isa``
            and ``requires``, the CPU features the build's code may use).
        features: the CPU's features (a set of names), or None where unknown: then only
            a build needing nothing beyond the platform's baseline is trusted.
        forced: an ISA level name capping the choice, or None.

    Returns:
        (usable variants best first, {isa: reason left out}).

    >>> v = [{"isa": "x86-64-v2", "requires": ["sse4.2"]},
    ...      {"isa": "x86-64-v3", "requires": ["sse4.2", "avx2"]}]
    >>> [u["isa"] for u in choose_variants(v, {"sse4.2", "avx2"})[0]]
    ['x86-64-v3', 'x86-64-v2']
    >>> choose_variants(v, {"sse4.2"})[1]
    {'x86-64-v3': 'the CPU lacks avx2'}
    >>> [u["isa"] for u in choose_variants(v, {"sse4.2", "avx2"}, "x86-64-v2")[0]]
    ['x86-64-v2']
    """
    usable, skipped = [], {}
    for v in sorted(variants, key=lambda v: _rank(v["isa"]), reverse=True):
        if forced is not None and _rank(v["isa"]) > _rank(forced):
            skipped[v["isa"]] = f"above FASTNN_ISA={forced}"
            continue
        needs = set(v.get("requires") or ())
        if features is None:
            if _rank(v["isa"]) > 2 or (v["isa"] not in ISA_LEVELS and needs):
                skipped[v["isa"]] = "the CPU's features are unknown"
                continue
        else:
            missing = sorted(needs - set(features))
            if missing:
                skipped[v["isa"]] = "the CPU lacks " + ", ".join(missing)
                continue
        usable.append(v)
    return usable, skipped


# ---- where the compiled kernels are ---------------------------------------------------
def _suffixes():
    return importlib.machinery.EXTENSION_SUFFIXES


def _ext_file(directory, name):
    for sfx in _suffixes():
        p = os.path.join(directory, name + sfx)
        if os.path.isfile(p):
            return p
    return None


def _has_build(kdir):
    if os.path.isfile(os.path.join(kdir, CONFIG_NAME)):
        return True
    try:
        names = os.listdir(kdir)
    except OSError:
        return False
    return any(n.startswith("_c") and n.endswith(tuple(_suffixes())) and not n.startswith(PROBE)
               for n in names)


def _kernel_sources(kdir):
    """{relative path: bytes} of the kernel sources the extensions are built from."""
    out = {}
    for sub in ("", "csrc"):
        d = os.path.join(kdir, sub)
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for n in names:
            if n.endswith((".pyx", ".pxd", ".h")):
                with open(os.path.join(d, n), "rb") as f:
                    out[os.path.join(sub, n)] = f.read()
    return out


def _in_checkout():
    root = os.path.dirname(os.path.dirname(_HERE))
    return os.path.isfile(os.path.join(root, "setup.py")), root


def _installed_copy(root):
    """_kernels directory of another fastnn on sys.path than the one at ``root``."""
    real = os.path.realpath(root)
    paths = [p for p in sys.path if os.path.realpath(p or os.curdir) != real]
    spec = importlib.machinery.PathFinder.find_spec("fastnn", paths)
    if spec is None or not spec.submodule_search_locations:
        return None
    kdir = os.path.join(list(spec.submodule_search_locations)[0], "_kernels")
    return kdir if os.path.realpath(kdir) != os.path.realpath(_HERE) else None


class _Build:
    """The compiled kernels this process can use: directory, build config, CPU, choice."""

    def __init__(self):
        self.kdir, self.origin, self.note, self.hint = None, None, None, None
        self.config, self.usable, self.skipped = None, [], {}
        self.cpu_source, self.features, self.brand = None, None, ""
        self.forced = None
        if _has_build(_HERE):
            self.kdir, self.origin = _HERE, "package"
        else:
            checkout, root = _in_checkout()
            other = _installed_copy(root) if checkout else None
            if other is not None and _has_build(other):
                if _kernel_sources(other) == _kernel_sources(_HERE):
                    self.kdir, self.origin = other, "installed copy"
                else:
                    self.note = (f"this source checkout ({root}) has no built C kernels, and the "
                                 f"installed fastnn ({os.path.dirname(other)}) was built from "
                                 "other kernel sources")
                    self.hint = ("build them here with `python setup.py build_ext --inplace`, or "
                                 "reinstall with `pip install .` and run from another directory")
            elif checkout:
                self.note = f"this source checkout ({root}) has no built C kernels"
                self.hint = ("build them with `python setup.py build_ext --inplace`, or "
                             "`pip install .` and run from another directory")
            else:
                self.note = "fastnn was installed without its C kernels"
                self.hint = "reinstall fastnn where a C compiler with OpenMP (gcc) is available"
        if self.kdir is None:
            return
        try:
            with open(os.path.join(self.kdir, CONFIG_NAME)) as f:
                self.config = json.load(f)
        except (OSError, ValueError):
            self.config = None   # built before build configs existed: one plain build
        self._probe_cpu()
        self.forced = forced_isa()
        if self.config is None:
            self.usable = [{"isa": "unknown", "dir": "", "requires": [], "modules": None}]
            return
        variants = self.config.get("variants") or []
        if not variants:
            self.note = "fastnn was installed without its C kernels (no C compiler at build time)"
            self.hint = "reinstall fastnn where a C compiler with OpenMP (gcc) is available"
        self.usable, self.skipped = choose_variants(variants, self.features, self.forced)
        if variants and not self.usable:
            self.note = ("the C kernels were built for another CPU ("
                         + "; ".join(f"{k}: {v}" for k, v in self.skipped.items()) + ")")
            self.hint = "rebuild fastnn on this machine (the default build runs on any x86-64-v2 CPU)"
        elif self.forced and self.usable and self.usable[0]["isa"] != self.forced:
            _warn_once(f"FASTNN_ISA={self.forced}: not usable here "
                       f"({self.skipped.get(self.forced, 'not built')}); "
                       f"using {self.usable[0]['isa']}.", key="isa")

    def _probe_cpu(self):
        path = _ext_file(self.kdir, PROBE)
        if path is not None:
            try:
                self.features, self.brand = _load_file(PROBE, path).features()
                self.cpu_source = "cpuid"
                return
            except Exception:   # noqa: BLE001  (a broken probe must not stop the import)
                pass
        got = _proc_cpuinfo()
        if got is not None:
            self.features, self.brand = got
            self.cpu_source = "/proc/cpuinfo"


def _get_build():
    global _build
    if _build is None:
        _build = _Build()
    return _build


def _load_file(name, path):
    """Load the extension module at ``path`` as ``fastnn._kernels.<name>``."""
    full = f"{__package__}.{name}"
    spec = importlib.util.spec_from_file_location(full, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[full] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        sys.modules.pop(full, None)
        raise
    setattr(sys.modules[__package__], name, mod)
    return mod


def _caller_level():
    """stacklevel pointing warnings at the first frame outside fastnn and the import
    machinery (the user's line that imported or called fastnn)."""
    f, level = sys._getframe(2), 2
    while f is not None:
        name = f.f_globals.get("__name__", "")
        if not (name == "fastnn" or name.startswith(("fastnn.", "importlib")) or
                f.f_code.co_filename.startswith("<frozen")):
            return level
        f, level = f.f_back, level + 1
    return 2


def _warn_once(msg, key="fallback"):
    if key not in _warned:
        _warned.add(key)
        warnings.warn("fastnn: " + msg, RuntimeWarning, stacklevel=_caller_level())


# ---- loading -------------------------------------------------------------------------
def _load_best(name):
    """(module, its ISA, []) for the best build of ``name`` that loads, else
    (None, None, [why each build failed])."""
    b = _get_build()
    errors = []
    for v in b.usable:
        if v.get("modules") is not None and name not in v["modules"]:
            continue
        path = _ext_file(os.path.join(b.kdir, v.get("dir") or ""), name)
        if path is None:
            continue
        try:
            return _load_file(name, path), v["isa"], []
        except Exception as e:   # noqa: BLE001  (missing OpenMP runtime, bad build, ...)
            errors.append(f"{v['isa']} build: {type(e).__name__}: {e}")
    return None, None, errors


def compiled(name):
    """The compiled module ``name`` whatever ``FASTNN_ENGINE`` says, or None where no
    build of it can run here: for comparing an engine against its twin."""
    with _lock:
        full = f"{__package__}.{name}"
        if name in _loaded:
            return _loaded[name]
        if full in sys.modules:
            return sys.modules[full]
        mod, isa_name, _ = _load_best(name)
        if mod is not None and requested() != "numba" and name not in _failed:
            _loaded[name], _variant[name] = mod, isa_name
        return mod


def extension(name):
    """The compiled module ``fastnn._kernels.<name>``, or None where its twin must run."""
    with _lock:
        if name in _loaded:
            return _loaded[name]
        if name in _failed:
            return None
        want = requested()
        forced_isa()    # a bad value is an error whichever engine runs
        if want == "numba":
            _failed[name] = "FASTNN_ENGINE=numba"
            return None
        full = f"{__package__}.{name}"
        if full in sys.modules:    # imported directly before the engine was asked
            _loaded[name], _variant[name] = sys.modules[full], "imported directly"
            return _loaded[name]
        mod, isa_name, errors = _load_best(name)
        if mod is not None:
            _loaded[name], _variant[name] = mod, isa_name
            return mod
        b = _get_build()
        if errors:
            reason = "; ".join(errors)
            hint = "reinstall fastnn, or install the missing runtime library"
        elif b.note:
            reason, hint = b.note, b.hint
        else:
            reason = f"{name} is not among the built C kernels in {b.kdir}"
            hint = "rebuild fastnn (`pip install .`, or `python setup.py build_ext --inplace`)"
        if want == "c":
            raise ImportError(f"FASTNN_ENGINE=c but the C extension {name} did not load: {reason}. "
                              f"To fix: {hint}.")
        _failed[name] = reason
        _warn_once(f"C kernels unavailable ({reason}); running the Numba/NumPy engine instead "
                   f"(same results, slower). To fix: {hint}; FASTNN_ENGINE=numba silences this.")
        return None


def module(name, twin):
    """The C extension ``name`` or, where it cannot run, the twin module ``twin`` (a
    module of this package with the same functions and results)."""
    mod = extension(name)
    if mod is not None:
        return mod
    with _lock:
        _twins[name] = twin
    return importlib.import_module(f"{__package__}.{twin}")


def loaded():
    """Names of the C extensions in use."""
    return sorted(_loaded)


def failed():
    """{name: reason} for the C extensions that did not load (their twins run)."""
    return dict(_failed)


def isa():
    """The ISA build in use ('x86-64-v3', 'native', ...), or None when no C kernel runs."""
    found = {v for v in _variant.values() if v != "imported directly"}
    if found:
        return max(found, key=_rank)
    if requested() == "numba" or not _loaded:
        return None
    return "imported directly"


def cpu():
    """{'brand', 'features', 'source'} of the CPU, as the engine sees it."""
    b = _get_build()
    if b.features is None and b.kdir is None:   # no probe without a build
        got = _proc_cpuinfo()
        if got is not None:
            return {"brand": got[1], "features": sorted(got[0]), "source": "/proc/cpuinfo"}
    return {"brand": b.brand, "features": sorted(b.features or ()), "source": b.cpu_source}


def config():
    """What the engine chose and why, as a dict (see ``fastnn.show_config``)."""
    b = _get_build()
    fams = {}
    for name in sorted(set(_loaded) | set(_failed) | set(_twins)):
        if name in _loaded:
            fams[name] = {"engine": "c", "isa": _variant.get(name),
                          "path": getattr(_loaded[name], "__file__", None)}
        else:
            fams[name] = {"engine": "numba/numpy", "twin": _twins.get(name),
                          "reason": _failed.get(name)}
    cfg = b.config or {}
    return {
        "requested": requested(),
        "isa": isa(),
        "isa_forced": b.forced,
        "isa_usable": [v["isa"] for v in b.usable],
        "isa_skipped": dict(b.skipped),
        "kernels_dir": b.kdir,
        "kernels_from": b.origin,
        "note": b.note,
        "build": {k: cfg.get(k) for k in ("mode", "compiler", "openmp", "platform")}
                 | {"variants": [v["isa"] for v in cfg.get("variants") or []]},
        "families": fams,
    }
