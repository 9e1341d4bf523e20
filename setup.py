"""Builds fastnn's C kernels (Cython wrappers around SIMD loops on fastnn's own
thread pool, the _cpool extension: no OpenMP runtime is linked).

Default on x86-64: every kernel module is built three times from the same C file, for
the x86-64-v2 baseline (fastnn/_kernels/_c*.so) and for x86-64-v3 (AVX2/FMA) and
x86-64-v4 (AVX-512) in fastnn/_kernels/_isa_v3/ and _isa_v4/; at import the engine
asks the CPU (fastnn._kernels._cpufeatures, a baseline build) and loads the best build
it can run. The result runs on any x86-64-v2 CPU. Other platforms get one build for
the compiler's default target. The thread pool (_cpool: no kernels of its own, its
GEMMs are NumPy's BLAS) is built once, for the baseline: one pool per process, which
every ISA variant reaches through its capsule.

Build flags can be overridden:
  FASTNN_ARCH     unset/"auto": the per-ISA builds above; "native": one build for this
                  machine's CPU (-march=native; runs only on CPUs like it); any other
                  value: one build with -march=<value>; "": one build without -march
  FASTNN_CFLAGS   extra compiler flags, appended
  FASTNN_BOUNDSCHECK=1  Cython bounds and wraparound checks on (the CI's checked build)

Without a working C compiler the package installs without its C kernels (one
warning) and runs on its Numba/NumPy engine. What was built, for which CPU features,
is written to fastnn/_kernels/_build_config.json, which the engine reads.
"""
import glob
import json
import os
import platform
import shlex
import subprocess
import sys
import sysconfig
import threading

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext

KDIR = os.path.join("fastnn", "_kernels")
CONFIG_NAME = "_build_config.json"
PROBE = "fastnn._kernels._cpufeatures"
# Modules built once, for the baseline ISA only (one thread pool per process).
BASELINE_ONLY = {"_cpool"}

# x86-64 psABI levels: (name, directory of its builds, -march value, fallback flags for
# compilers that predate the level names, tuning flags).
X86_LEVELS = [
    ("x86-64-v2", "", "x86-64-v2",
     "-msse3 -mssse3 -msse4.1 -msse4.2 -mpopcnt -mcx16 -msahf", ""),
    ("x86-64-v3", "_isa_v3", "x86-64-v3",
     "-msse3 -mssse3 -msse4.1 -msse4.2 -mpopcnt -mcx16 -msahf -mavx -mavx2 -mfma -mbmi "
     "-mbmi2 -mf16c -mlzcnt -mmovbe -mxsave", ""),
    # 512-bit vectors: GCC's generic tuning keeps AVX-512 code at 256 bits, which leaves
    # the 512-bit glibc vector math (the point of this build) unused.
    ("x86-64-v4", "_isa_v4", "x86-64-v4",
     "-msse3 -mssse3 -msse4.1 -msse4.2 -mpopcnt -mcx16 -msahf -mavx -mavx2 -mfma -mbmi "
     "-mbmi2 -mf16c -mlzcnt -mmovbe -mxsave -mavx512f -mavx512bw -mavx512cd -mavx512dq "
     "-mavx512vl", "-mprefer-vector-width=512"),
]
# What a level needs from the CPU, in fastnn._kernels._cpufeatures' names (used when
# the compiler cannot be asked which features a flag set enables).
X86_REQUIRES = {
    "x86-64-v2": ["cx16", "lahf_lm", "popcnt", "sse3", "sse4.1", "sse4.2", "ssse3"],
}
X86_REQUIRES["x86-64-v3"] = X86_REQUIRES["x86-64-v2"] + [
    "avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe", "xsave"]
X86_REQUIRES["x86-64-v4"] = X86_REQUIRES["x86-64-v3"] + [
    "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]
# Predefined macro of an enabled instruction set -> its name in _cpufeatures.
MACRO_FEATURES = {
    "__SSE__": "sse", "__SSE2__": "sse2", "__SSE3__": "sse3", "__SSSE3__": "ssse3",
    "__SSE4_1__": "sse4.1", "__SSE4_2__": "sse4.2", "__POPCNT__": "popcnt",
    "__MOVBE__": "movbe", "__PCLMUL__": "pclmul", "__AES__": "aes", "__XSAVE__": "xsave",
    "__AVX__": "avx", "__AVX2__": "avx2", "__F16C__": "f16c", "__FMA__": "fma",
    "__LAHF_SAHF__": "lahf_lm", "__LZCNT__": "lzcnt", "__SSE4A__": "sse4a",
    "__PRFCHW__": "prefetchw", "__BMI__": "bmi", "__BMI2__": "bmi2", "__ADX__": "adx",
    "__SHA__": "sha", "__GFNI__": "gfni", "__VAES__": "vaes", "__VPCLMULQDQ__": "vpclmulqdq",
    "__AVXVNNI__": "avxvnni", "__AVX512F__": "avx512f", "__AVX512DQ__": "avx512dq",
    "__AVX512IFMA__": "avx512ifma", "__AVX512CD__": "avx512cd", "__AVX512BW__": "avx512bw",
    "__AVX512VL__": "avx512vl", "__AVX512VBMI__": "avx512vbmi",
    "__AVX512VBMI2__": "avx512vbmi2", "__AVX512VNNI__": "avx512vnni",
    "__AVX512BITALG__": "avx512bitalg", "__AVX512VPOPCNTDQ__": "avx512vpopcntdq",
    "__AVX512BF16__": "avx512bf16", "__AVX512FP16__": "avx512fp16",
}


def _is_x86_64():
    return platform.machine().lower() in ("x86_64", "amd64")


def _base_flags():
    # -ffast-math for vectorised libmvec calls, but never finite-math-only:
    # NaN in must mean NaN out. -ffast-math is a compile flag only: linking a
    # shared object with it (GCC<13) would flush denormals process-wide.
    cflags = ["-O3", "-ffast-math", "-fno-finite-math-only", "-fno-math-errno",
              "-std=gnu11", "-Wno-unused-function"]
    # OpenMP for its simd pragmas only: the threads are fastnn's pool (csrc/pool.h), so
    # no OpenMP runtime is linked (one loaded first by another library cannot spin
    # against ours)
    cflags.append("-fopenmp-simd")
    lflags = ["-pthread"]
    lflags += ["-lmvec", "-lm"] if sys.platform.startswith("linux") else ["-lm"]
    return cflags, lflags, False


def _variants():
    """[(isa name, subdirectory, arch flags or None for 'ask the level table')]."""
    arch = os.environ.get("FASTNN_ARCH")
    if arch is None or arch.strip().lower() in ("auto", "dispatch"):
        if _is_x86_64():
            return "dispatch", [(name, sub, None) for name, sub, *_ in X86_LEVELS]
        return "single", [("generic", "", [])]
    arch = arch.strip()
    if not arch:
        return "single", [("generic", "", [])]
    return "single", [(arch, "", [f"-march={arch}"])]


def _kernel_extensions():
    from Cython.Build import cythonize
    import numpy as np
    cflags, lflags, _ = _base_flags()
    # a header edit must rebuild the modules (Cython's C output does not change with it)
    headers = sorted(glob.glob(os.path.join(KDIR, "csrc", "*.h")))
    exts = []
    for pyx in sorted(glob.glob(os.path.join(KDIR, "_c*.pyx"))):
        mod = pyx[:-4].replace(os.sep, ".")
        exts.append(Extension(
            mod, [pyx], depends=headers,
            include_dirs=[np.get_include(), os.path.join(KDIR, "csrc")],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=list(cflags), extra_link_args=list(lflags),
        ))
    checked = os.environ.get("FASTNN_BOUNDSCHECK", "") in ("1", "true", "yes")
    return cythonize(exts, language_level=3, force=checked, compiler_directives={
        "boundscheck": checked, "wraparound": checked, "cdivision": True,
        "initializedcheck": checked})


def extensions():
    """The baseline kernel modules, their per-ISA twins and the CPU probe."""
    mode, variants = _variants()
    base = _kernel_extensions()
    exts = []
    for isa, sub, arch in variants:
        for e in base:
            leaf = e.name.rsplit(".", 1)[1]
            if sub and leaf in BASELINE_ONLY:
                continue
            name = ".".join(["fastnn", "_kernels"] + ([sub] if sub else []) + [leaf])
            v = Extension(name, list(e.sources), depends=list(e.depends),
                          include_dirs=list(e.include_dirs),
                          define_macros=list(e.define_macros),
                          extra_compile_args=list(e.extra_compile_args),
                          extra_link_args=list(e.extra_link_args))
            v.fastnn_isa, v.fastnn_arch, v.fastnn_shim = isa, arch, bool(sub)
            exts.append(v)
    probe = Extension(PROBE, [os.path.join(KDIR, "csrc", "cpu_features.c")])
    probe.fastnn_isa = None
    exts.append(probe)
    return mode, variants, exts


class build_ext(_build_ext):
    """Builds every ISA variant from one Cython C file, and never fails the install:
    without a working compiler it warns once and installs the pure-Python package."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = min(4, os.cpu_count() or 1)

    def run(self):
        self._lock = threading.Lock()
        self._broken = None          # the first compiler failure: skip the rest
        self._built, self._failed = [], {}
        self._arch_cache = {}
        super().run()

    # -- flags -----------------------------------------------------------------------
    def _cc(self):
        cc = getattr(self.compiler, "compiler_so", None) or ["cc"]
        return list(cc)

    def _try_flags(self, flags):
        """True when the compiler accepts ``flags`` (preprocessing an empty file)."""
        try:
            subprocess.run(self._cc() + list(flags) + ["-E", "-x", "c", os.devnull],
                           check=True, capture_output=True, timeout=60)
            return True
        except (OSError, subprocess.SubprocessError):
            return False

    def _features(self, flags):
        """CPU features a flag set lets the compiler use (None where it cannot say)."""
        try:
            out = subprocess.run(self._cc() + list(flags) + ["-dM", "-E", "-x", "c", os.devnull],
                                 check=True, capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        macros = {line.split()[1] for line in out.splitlines() if line.startswith("#define ")}
        return sorted({f for m, f in MACRO_FEATURES.items() if m in macros})

    def _arch(self, isa, arch):
        """(arch flags, required CPU features) of a variant, decided once."""
        with self._lock:
            if isa in self._arch_cache:
                return self._arch_cache[isa]
        if arch is None:   # an x86-64 level
            _, _, march, fallback, tune = next(lv for lv in X86_LEVELS if lv[0] == isa)
            flags = [f"-march={march}"] if self._try_flags([f"-march={march}"]) else shlex.split(fallback)
            flags += shlex.split(tune)
            feats = self._features(flags)
            requires = sorted(set(X86_REQUIRES[isa]) | set(feats or ()))
        else:
            flags = list(arch)
            feats = self._features(flags)
            requires = feats if feats is not None else []
        flags += shlex.split(os.environ.get("FASTNN_CFLAGS", ""))
        with self._lock:
            self._arch_cache[isa] = (flags, requires)
        return flags, requires

    # -- building --------------------------------------------------------------------
    def build_extension(self, ext):
        isa = getattr(ext, "fastnn_isa", None)
        with self._lock:
            if self._broken is not None:
                self._failed[ext.name] = "skipped after: " + self._broken
                return
        try:
            if isa is not None:
                flags, _ = self._arch(isa, ext.fastnn_arch)
                ext.extra_compile_args = [f for f in ext.extra_compile_args] + flags
                if ext.fastnn_shim:
                    ext.sources = [self._shim(ext)]
            super().build_extension(ext)
        except Exception as e:          # no compiler, a compiler error, missing headers
            msg = f"{type(e).__name__}: {e}"
            with self._lock:
                self._failed[ext.name] = msg
                if self._broken is None and (isa is None or not ext.fastnn_shim):
                    # a baseline module or the probe failed: the compiler is unusable
                    self._broken = msg
            return
        with self._lock:
            self._built.append(ext.name)

    def _shim(self, ext):
        """A C file that includes the baseline module's Cython output: the same code,
        a separate object file (so the variant's flags apply), the same PyInit name."""
        (src,) = ext.sources
        d = os.path.join(self.build_temp, "isa-shims", ext.name.rsplit(".", 2)[-2])
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, os.path.basename(src))
        text = f'#include "{os.path.abspath(src)}"\n'
        if not os.path.exists(path) or open(path).read() != text:
            with open(path, "w") as f:
                f.write(text)
        return path

    def build_extensions(self):
        super().build_extensions()
        # keep only what was built: install and copy steps look for these files, and
        # an older build's output of a module that failed now must not be installed
        for e in self.extensions:
            stale = self.get_ext_fullpath(e.name)
            if e.name not in self._built and os.path.exists(stale):
                os.remove(stale)
        self.extensions = [e for e in self.extensions if e.name in self._built]
        self._write_config()
        if self._failed:
            first = next(iter(self._failed.values()))
            if self._broken is not None:
                self.warn("fastnn: could not compile its C kernels (" + first.splitlines()[0][:300]
                          + "); installing without them: fastnn will run on its Numba/NumPy "
                          "engine (slower). Install a C compiler (e.g. gcc) and "
                          "reinstall to get the C kernels.")
            else:
                self.warn("fastnn: some ISA-specific kernel builds failed and are left out "
                          f"(the engine uses the others): {sorted(self._failed)}; first error: "
                          + first.splitlines()[0][:300])

    def _config_path(self):
        return os.path.join(os.path.dirname(self.get_ext_fullpath(PROBE)), CONFIG_NAME)

    def _write_config(self):
        mode, variants = _MODE, _VARIANTS
        _, _, openmp = _base_flags()
        built = set(self._built)
        out = []
        for isa, sub, arch in variants:
            mods = sorted(e.rsplit(".", 1)[1] for e in built
                          if e != PROBE and e.rsplit(".", 1)[0] == ".".join(
                              ["fastnn", "_kernels"] + ([sub] if sub else [])))
            if not mods:
                continue
            flags, requires = self._arch(isa, arch)
            out.append({"isa": isa, "dir": sub, "flags": flags, "requires": requires,
                        "modules": mods})
        try:
            version = subprocess.run(self._cc()[:1] + ["--version"], capture_output=True,
                                     text=True, timeout=60).stdout.splitlines()[0]
        except (OSError, subprocess.SubprocessError, IndexError):
            version = None
        cfg = {
            "format": 1,
            "mode": mode if out else "none",
            "platform": sysconfig.get_platform(),
            "compiler": version,
            "openmp": openmp,
            "cflags": _base_flags()[0],
            "probe": PROBE.rsplit(".", 1)[1] if PROBE in built else None,
            "variants": out,
            "failed": {k: v.splitlines()[0][:300] for k, v in sorted(self._failed.items())},
        }
        path = self._config_path()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(cfg, f, indent=1)
        os.replace(tmp, path)
        self._config_outputs = [path]

    def get_outputs(self):
        return super().get_outputs() + getattr(self, "_config_outputs", [])

    def copy_extensions_to_source(self):
        for ext in self.extensions:
            os.makedirs(os.path.join(*ext.name.split(".")[:-1]), exist_ok=True)
        super().copy_extensions_to_source()
        for src in getattr(self, "_config_outputs", []):
            dst = os.path.join(KDIR, CONFIG_NAME)
            if os.path.abspath(src) != os.path.abspath(dst):
                self.copy_file(src, dst)


_MODE, _VARIANTS, _EXTS = extensions()
setup(ext_modules=_EXTS, cmdclass={"build_ext": build_ext})
