"""Plain NumPy dropout: the readable spec and test oracle of _nb_dropout.py.

It reproduces the compiled mask bit-exactly for the same ``(seed, counter)``, and the
outputs of every dropout variant (torch's formulas), written independently of the
kernel layer's dispatch code.
"""
import numpy as np

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1

# torch's alpha-dropout constant SELU_scale * SELU_alpha: SELU saturates to -ALPHA
ALPHA = 1.7580993408473766


def splitmix64(z):
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def keys(seed, counter):
    """(k0, k1): the 32-bit keys of call (seed, counter)."""
    k = splitmix64(splitmix64(seed & M64) ^ (counter & M64))
    return k & M32, k >> 32


def lowbias32(h):
    h = h ^ (h >> 16)
    h = h * np.uint32(0x7FEB352D)
    h = h ^ (h >> 15)
    h = h * np.uint32(0x846CA68B)
    return h ^ (h >> 16)


def hash32(n, seed, counter):
    """uint32 hash of each unit index 0..n-1 under key (seed, counter)."""
    k0, k1 = keys(seed, counter)
    i = np.arange(n, dtype=np.uint64)
    lo = (i & np.uint64(M32)).astype(np.uint32)
    hi = (i >> np.uint64(32)).astype(np.uint32)
    h = lowbias32(lo ^ np.uint32(k0))
    kb = np.uint32(k1) ^ (hi * np.uint32(0x9E3779B9))
    return lowbias32(h ^ kb)


def threshold(p):
    return min(int(round(p * 2.0 ** 32)), M32)


def keep_mask(n, seed, counter, p):
    """Boolean keep mask of n units: P(keep) = 1 - p."""
    return hash32(n, seed, counter) >= np.uint32(threshold(p))



def alpha_constants(p):
    """(a, kept offset, dropped offset): out = a*x + alpha*a*p if kept else -alpha*a*(1-p)."""
    if p == 1:
        return 0.0, 0.0, 0.0
    a = 1.0 / np.sqrt((ALPHA * ALPHA * p + 1) * (1 - p))
    return a, ALPHA * a * p, ALPHA * a * (p - 1)


def _apply(x, keep, s, c1, c0):
    t = x.dtype.type
    keep = keep.reshape(keep.shape + (1,) * (x.ndim - keep.ndim))
    with np.errstate(invalid="ignore"):
        return (x * np.where(keep, t(s), t(0)) + np.where(keep, t(c1), t(c0))).astype(x.dtype)


def _units(shape, feature):
    if not feature:
        return shape
    return shape[:2]


def dropout(x, seed, counter, p, alpha=False, feature=False):
    """Any dropout variant on ndarray ``x``; returns (out, keep mask of the units).

    feature=True draws one unit per (N, C) channel (dims 0 and 1), as torch's
    feature_dropout / feature_alpha_dropout.
    """
    units = _units(x.shape, feature)
    n = int(np.prod(units))
    keep = keep_mask(n, seed, counter, p).reshape(units)
    if alpha:
        s, c1, c0 = alpha_constants(p)
    else:
        s, c1, c0 = (0.0 if p == 1 else 1.0 / (1.0 - p)), 0.0, 0.0
    return _apply(x, keep, s, c1, c0), keep


def dropout_grad(g, keep, p, alpha=False):
    """d out / d x applied to g: g * (keep ? scale : 0)."""
    s = alpha_constants(p)[0] if alpha else (0.0 if p == 1 else 1.0 / (1.0 - p))
    return _apply(g, keep, s, 0.0, 0.0)
