"""Builds fastnn's C kernels (Cython wrappers around SIMD loops on fastnn's own
thread pool, the _cpool extension: no OpenMP runtime is linked).

Build flags can be overridden for portable builds:
  FASTNN_ARCH     value for -march (default "native"; e.g. "x86-64-v2"; "" to omit)
  FASTNN_CFLAGS   extra compiler flags, appended
"""
import glob
import os
import shlex

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup


def _flags():
    # -ffast-math for vectorised libmvec calls, but never finite-math-only:
    # NaN in must mean NaN out. -ffast-math is a compile flag only: linking a
    # shared object with it (GCC<13) would flush denormals process-wide.
    cflags = ["-O3", "-ffast-math", "-fno-finite-math-only", "-fno-math-errno",
              "-std=gnu11", "-Wno-unused-function"]
    arch = os.environ.get("FASTNN_ARCH", "native")
    if arch:
        cflags.append(f"-march={arch}")
    # OpenMP for its simd pragmas only: the threads are fastnn's pool (csrc/pool.h)
    cflags.append("-fopenmp-simd")
    cflags += shlex.split(os.environ.get("FASTNN_CFLAGS", ""))
    lflags = ["-pthread", "-lmvec", "-lm"]
    return cflags, lflags


def extensions():
    cflags, lflags = _flags()
    exts = []
    for pyx in sorted(glob.glob("fastnn/_kernels/_c*.pyx")):
        mod = pyx[:-4].replace("/", ".")
        exts.append(Extension(
            mod, [pyx],
            include_dirs=[np.get_include(), "fastnn/_kernels/csrc"],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=cflags, extra_link_args=lflags,
        ))
    return cythonize(exts, language_level=3, compiler_directives={
        "boundscheck": False, "wraparound": False, "cdivision": True,
        "initializedcheck": False})


setup(ext_modules=extensions())
