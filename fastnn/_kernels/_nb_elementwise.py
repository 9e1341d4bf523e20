"""Numba loops for piecewise-linear elementwise kernels (they reach memory bandwidth
in Numba; transcendental ones live in C, see csrc/elementwise.h).

Signature convention: unary ``f(x, out, a, b)``, binary ``f(u, g, out, a, b)`` over
flat C-contiguous arrays. Compiled lazily by fastnn._kernels.jit. Comparisons are
written so NaN falls through to the value (NaN in, NaN out).
"""
from numba import prange


def relu_fwd(x, out, a, b):
    for i in prange(x.size):
        v = x[i]
        out[i] = 0 if v < 0 else v


def relu_bwd(x, g, out, a, b):
    for i in prange(x.size):
        out[i] = g[i] if x[i] > 0 else 0
