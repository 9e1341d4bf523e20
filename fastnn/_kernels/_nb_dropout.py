"""Numba loops for dropout: a counter-based mask generator fused with the apply.

The keep/drop decision for flat element ``i`` is ``hash32(i; k0, k1) >= thr``: two
rounds of the ``lowbias32`` integer mixer (Wellons' hash-prospector constants), the
first keyed by ``k0``, the second by ``k1`` and the high word of ``i``. It depends on
nothing but the key and ``i``, so every block, thread count and build gives the same
mask. The arithmetic is kept in uint32 so LLVM vectorises it with 32-bit lanes
(vpmulld); 64-bit lanes ran at half the speed.

Loops run over blocks of ``BLOCK`` elements (``prange`` over blocks, a serial
helper inside): indexing a slice from 0 lets LLVM drop the negative-index wrap
and vectorise. ``BLOCK`` divides 2**32, so a block never straddles the high word.

Reference: fastnn/_kernels/reference_dropout.py (bit-exact twin).
"""
from numba import prange, uint32

from .jit import _jit

BLOCK = 1 << 16
_C1 = 0x7FEB352D
_C2 = 0x846CA68B
_GOLDEN32 = 0x9E3779B9


def _block_key(k1, start):
    # the high word of the element index enters the second round's key
    return uint32(k1 ^ uint32(uint32(start >> 32) * uint32(_GOLDEN32)))


def _hash32_py(i, k0, kb):
    """Two lowbias32 rounds of the element index: first keyed by k0, then by kb."""
    c1u = uint32(_C1)
    c2u = uint32(_C2)
    s15 = uint32(15)
    s16 = uint32(16)
    h = uint32(i ^ k0)
    h = uint32(h ^ (h >> s16))
    h = uint32(h * c1u)
    h = uint32(h ^ (h >> s15))
    h = uint32(h * c2u)
    h = uint32(h ^ (h >> s16))
    h = uint32(h ^ kb)
    h = uint32(h ^ (h >> s16))
    h = uint32(h * c1u)
    h = uint32(h ^ (h >> s15))
    h = uint32(h * c2u)
    return uint32(h ^ (h >> s16))


def _fwd_block_py(x, out, mask, base, k0, kb, thr, s, c1, c0):
    z = s - s
    for j in range(x.size):
        keep = _hash32(uint32(base + uint32(j)), k0, kb) >= thr
        mask[j] = keep
        # a multiply, not a select: NaN in a dropped unit stays NaN, as in torch
        out[j] = x[j] * (s if keep else z) + (c1 if keep else c0)


def _mask_block_py(mask, base, k0, kb, thr):
    for j in range(mask.size):
        mask[j] = _hash32(uint32(base + uint32(j)), k0, kb) >= thr


_hash32 = _jit(_hash32_py, False)
_block_key = _jit(_block_key, False)
_fwd_block = _jit(_fwd_block_py, False)
_mask_block = _jit(_mask_block_py, False)


def dropout_fwd(x, out, mask, k0, k1, thr, s, c1, c0):
    """out = x * (keep ? s : 0) + (keep ? c1 : c0); mask = keep (one pass)."""
    n = x.size
    for b in prange((n + BLOCK - 1) // BLOCK):
        start = b * BLOCK
        stop = min(start + BLOCK, n)
        _fwd_block(x[start:stop], out[start:stop], mask[start:stop], uint32(start),
                   k0, _block_key(k1, start), thr, s, c1, c0)


def dropout_mask(mask, k0, k1, thr):
    """mask[i] = hash32(i) >= thr (the same decisions as dropout_fwd)."""
    n = mask.size
    for b in prange((n + BLOCK - 1) // BLOCK):
        start = b * BLOCK
        stop = min(start + BLOCK, n)
        _mask_block(mask[start:stop], uint32(start), k0, _block_key(k1, start), thr)


def dropout_bwd(g, mask, out, s):
    """out = g * (mask ? s : 0)."""
    z = s - s
    for i in prange(g.size):
        out[i] = g[i] * (s if mask[i] else z)


def channel_apply(x, mask, out, inner, s, c1, c0):
    """Row r of x (rows of ``inner`` elements): out = x * (m ? s : 0) + (m ? c1 : c0)."""
    z = s - s
    for r in prange(mask.size):
        keep = mask[r]
        a = s if keep else z
        c = c1 if keep else c0
        xs = x[r * inner:(r + 1) * inner]
        os = out[r * inner:(r + 1) * inner]
        for j in range(inner):
            os[j] = xs[j] * a + c
