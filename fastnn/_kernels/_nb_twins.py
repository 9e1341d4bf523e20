"""Numba loops of the C-kernel twins that NumPy cannot express (it has no erf).

Flat C-contiguous arrays; compiled lazily by fastnn._kernels.jit, only where the
C extension does not run (see _twin_elementwise.py). NaN in gives NaN out.
"""
import math

from numba import prange

_SQRT1_2 = 0.70710678118654752440
_INV_SQRT_2PI = 0.39894228040143267794


def gelu_fwd(x, out):
    for i in prange(x.size):
        v = x[i]
        out[i] = 0.5 * v * (1.0 + math.erf(v * _SQRT1_2))


def gelu_bwd(u, g, out):
    for i in prange(u.size):
        v = u[i]
        out[i] = g[i] * (0.5 * (1.0 + math.erf(v * _SQRT1_2))
                         + v * _INV_SQRT_2PI * math.exp(-0.5 * v * v))
