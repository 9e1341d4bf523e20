"""Dropout kernels: a reproducible, thread-count independent mask fused with the apply.

A call is identified by a key ``(seed, counter)`` (from ``Generator.next_key()``);
:func:`mask_keys` turns it into two 32-bit words, and element ``i`` is kept when
``hash32(i; k0, k1) >= keep_threshold(p)``. Masks are uint8 (one byte per element or
per channel); backward reuses them.

Engines: C (``_cdropout``, csrc/dropout.h) where it loads, else the Numba twin
(``_nb_dropout.py``); both draw the same mask bit for bit. NumPy twin (test oracle):
:mod:`.reference_dropout`.
"""
import types

import numpy as np

from . import engine
from .elementwise import contiguous
from .jit import numba_kernel, float_signatures
from .threads import threads_for

__all__ = ["mask_keys", "keep_threshold", "dropout_fwd", "dropout_bwd", "dropout_mask",
           "channel_apply", "engines"]


_M64 = (1 << 64) - 1
_M32 = (1 << 32) - 1
_NB = "fastnn._kernels._nb_dropout"

# the C extension of this family; the Numba loops below stand in for it where it
# does not load (and only there are they warmed up)
_EXT = "_cdropout"
_fwd = numba_kernel(_NB, "dropout_fwd", float_signatures(
    "void(T[::1], T[::1], uint8[::1], uint32, uint32, uint32, T, T, T)"), twin_of=_EXT)
_bwd = numba_kernel(_NB, "dropout_bwd", float_signatures("void(T[::1], uint8[::1], T[::1], T)"),
                    twin_of=_EXT)
_mask = numba_kernel(_NB, "dropout_mask", ["void(uint8[::1], uint32, uint32, uint32)"],
                     twin_of=_EXT)
_chan = numba_kernel(_NB, "channel_apply", float_signatures(
    "void(T[::1], uint8[::1], T[::1], int64, T, T, T)"), twin_of=_EXT)
_cx = engine.extension(_EXT)


def _splitmix64(z):
    z = (z + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def mask_keys(seed, counter):
    """The two 32-bit hash keys of the call ``(seed, counter)``, as np.uint32."""
    k = _splitmix64(_splitmix64(seed & _M64) ^ (counter & _M64))
    return np.uint32(k & _M32), np.uint32(k >> 32)


def keep_threshold(p):
    """Unit i is kept when hash32(i) >= this; P(keep) = 1 - round(p * 2**32) / 2**32."""
    return np.uint32(min(int(round(p * 4294967296.0)), _M32))


# --- the two engines' loops over flat arrays, one signature ---------------------------

def _nb_fwd(x, out, mask, k0, k1, thr, s, c1, c0):
    t = x.dtype.type
    _fwd(x.size, x, out, mask, k0, k1, thr, t(s), t(c1), t(c0))


def _nb_bwd(g, mask, out, s):
    _bwd(g.size, g, mask, out, g.dtype.type(s))


def _nb_mask(mask, k0, k1, thr):
    _mask(mask.size, mask, k0, k1, thr)


def _nb_chan(x, mask, out, s, c1, c0):
    t = x.dtype.type
    _chan(x.size, x, mask, out, x.size // max(mask.size, 1), t(s), t(c1), t(c0))


# the keep decisions cost a hash an element (about 0.7 ns on one core), so drawing
# them earns a second thread at a quarter of the size a plain elementwise pass needs
HASH_SERIAL_BELOW = 1 << 14


def _c_fwd(x, out, mask, k0, k1, thr, s, c1, c0):
    _cx.dropout_fwd(x, out, mask, k0, k1, thr, s, c1, c0, threads_for(x.size, HASH_SERIAL_BELOW))


def _c_bwd(g, mask, out, s):
    _cx.dropout_bwd(g, mask, out, s, threads_for(g.size))


def _c_mask(mask, k0, k1, thr):
    _cx.dropout_mask(mask, k0, k1, thr, threads_for(mask.size, HASH_SERIAL_BELOW))


def _c_chan(x, mask, out, s, c1, c0):
    _cx.channel_apply(x, mask, out, s, c1, c0, threads_for(x.size))


# --- the kernels ------------------------------------------------------------------------

def _api(fwd, bwd, mask_fn, chan):
    """The public kernels over one engine's loops."""

    def dropout_fwd(x, key, thr, s, c1=0.0, c0=0.0, out=None):
        """One pass: out = x * (keep ? s : 0) + (keep ? c1 : c0) and the uint8 keep mask.

        Args:
            x: float32/float64 array. key: (k0, k1) from mask_keys. thr: keep_threshold(p).
            s, c1, c0: scale and the kept/dropped offsets (0 for plain dropout).
            out: C-contiguous output of x's shape and dtype (may be x itself).

        Returns:
            (out, mask): mask is uint8 of x's shape, 1 where kept.
        """
        x = contiguous(x)
        if out is None:
            out = np.empty(x.shape, x.dtype)
        mask = np.empty(x.shape, np.uint8)
        fwd(x.reshape(-1), out.reshape(-1), mask.reshape(-1), key[0], key[1], thr, s, c1, c0)
        return out, mask

    def dropout_bwd(g, mask, s, out=None):
        """grad_in = g * (mask ? s : 0)."""
        g = contiguous(g)
        if out is None:
            out = np.empty(g.shape, g.dtype)
        bwd(g.reshape(-1), mask.reshape(-1), out.reshape(-1), s)
        return out

    def dropout_mask(n, key, thr):
        """uint8 keep mask of ``n`` units (the decisions dropout_fwd makes for elements 0..n-1)."""
        mask = np.empty(n, np.uint8)
        mask_fn(mask, key[0], key[1], thr)
        return mask

    def channel_apply(x, mask, s, c1=0.0, c0=0.0, out=None):
        """Per-row affine: x viewed as (mask.size, -1); row r gets x * (m ? s : 0) + (m ? c1 : c0).

        Used by channel dropout (forward) and its backward (with c1 = c0 = 0).
        """
        x = contiguous(x)
        if out is None:
            out = np.empty(x.shape, x.dtype)
        chan(x.reshape(-1), mask, out.reshape(-1), s, c1, c0)
        return out

    return types.SimpleNamespace(dropout_fwd=dropout_fwd, dropout_bwd=dropout_bwd,
                                 dropout_mask=dropout_mask, channel_apply=channel_apply)


_ENGINES = {"numba": _api(_nb_fwd, _nb_bwd, _nb_mask, _nb_chan)}
if _cx is not None:
    _ENGINES["c"] = _api(_c_fwd, _c_bwd, _c_mask, _c_chan)
_RUN = _ENGINES["c" if _cx is not None else "numba"]

dropout_fwd = _RUN.dropout_fwd
dropout_bwd = _RUN.dropout_bwd
dropout_mask = _RUN.dropout_mask
channel_apply = _RUN.channel_apply


def engines():
    """{'c': kernels, 'numba': kernels} for the engines that can run here (tests run both)."""
    return dict(_ENGINES)
