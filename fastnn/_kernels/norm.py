"""Batch- and layer-normalisation kernels (float32/float64).

Batch norm works on a C-contiguous (N, C, L) view of its input (L = positions per
channel); layer norm on a C-contiguous (M, D) view (D = normalised elements per row).
Per-channel and per-row statistics are float64.

* :func:`batch_norm_stats`: per-channel mean and biased variance.
* :func:`batch_norm_affine`: out = (x - m[c]) a[c] + c[c] (forward and eval).
* :func:`batch_norm_bwd_sums`: per-channel sum(g) and sum(g (x - mean)).
* :func:`batch_norm_bwd_affine`: out = a[c] g + b[c] (x - m[c]) + c[c] (backward).
* :func:`layer_norm_fwd` / :func:`layer_norm_bwd`.

The C engine (csrc/norm.h via ``_cnorm``) cuts the work into fixed blocks (results
bitwise the same for any thread count); where it is not built, the vectorised NumPy
twin below runs with the same signatures. Oracle: :mod:`.reference_norm`.

>>> import numpy as np
>>> from fastnn._kernels import norm
>>> m, v = norm.batch_norm_stats(np.array([[[1.0]], [[3.0]]], np.float32))
>>> m, v
(array([2.]), array([1.]))
"""
import numpy as np

from . import engine
from .threads import threads_for

__all__ = ["batch_norm_stats", "batch_norm_affine", "batch_norm_bwd_sums",
           "batch_norm_bwd_affine", "layer_norm_fwd", "layer_norm_bwd", "ENGINE"]

_cx = engine.extension("_cnorm")
ENGINE = "c" if _cx is not None else "numpy"


def _c(x):
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


# --- C engine -----------------------------------------------------------------------------
def _c_stats(x):
    N, C, L = x.shape
    if N * L == 0:
        nan = np.full(C, np.nan)
        return nan, nan.copy()
    x = _c(x)
    ref = x[0, :, 0].astype(np.float64)
    s1, s2 = _cx.bn_reduce(x, None, N, C, L, ref, 0, threads_for(x.size))
    n = float(N * L)
    d = s1 / n
    var = (s2 - s1 * d) / n
    var[var < 0] = 0.0          # round-off only; NaN stays NaN
    return ref + d, var


def _c_affine(x, m, a, c, out=None):
    x = _c(x)
    N, C, L = x.shape
    dt = x.dtype
    if out is None:
        out = np.empty(x.shape, dt)
    return _cx.bn_affine(x, None, out, N, C, L, _as(m, dt), _as(a, dt), None, _as(c, dt),
                         threads_for(x.size))


def _c_bwd_sums(g, x, mean):
    N, C, L = x.shape
    g, x = _c(g), _c(x)
    return _cx.bn_reduce(x, g, N, C, L, np.ascontiguousarray(mean, np.float64), 1,
                         threads_for(x.size))


def _c_bwd_affine(g, x, m, a, b, c, out=None):
    x, g = _c(x), _c(g)
    N, C, L = x.shape
    dt = x.dtype
    if out is None:
        out = np.empty(x.shape, dt)
    return _cx.bn_affine(x, g, out, N, C, L, _as(m, dt), _as(a, dt), _as(b, dt), _as(c, dt),
                         threads_for(x.size))


def _c_ln_fwd(x, w, b, eps):
    x = _c(x)
    M, D = x.shape
    y = np.empty(x.shape, x.dtype)
    return _cx.ln_fwd(x, y, M, D, None if w is None else _as(w, x.dtype),
                      None if b is None else _as(b, x.dtype), float(eps), threads_for(x.size))


def _c_ln_bwd(g, x, w, mean, rstd, need_w, need_b):
    g, x = _c(g), _c(x)
    M, D = x.shape
    gx = np.empty(x.shape, x.dtype)
    gw, gb = _cx.ln_bwd(g, x, gx, M, D, None if w is None else _as(w, x.dtype),
                        np.ascontiguousarray(mean, np.float64),
                        np.ascontiguousarray(rstd, np.float64), bool(need_w), bool(need_b),
                        threads_for(x.size))
    return gx, gw, gb


def _as(v, dt):
    return np.ascontiguousarray(v, dtype=dt)


# --- NumPy twin (same signatures and results to float round-off) ------------------------------
def _np_stats(x):
    N, C, L = x.shape
    if N * L == 0:
        nan = np.full(C, np.nan)
        return nan, nan.copy()
    ref = x[0, :, 0].astype(np.float64)
    d = x.astype(np.float64) - ref[:, None]
    s1 = d.sum(axis=(0, 2))
    s2 = np.einsum("ncl,ncl->c", d, d)
    n = float(N * L)
    var = (s2 - s1 * (s1 / n)) / n
    var[var < 0] = 0.0
    return ref + s1 / n, var


def _np_affine(x, m, a, c, out=None):
    dt = x.dtype
    y = (x - _as(m, dt)[:, None]) * _as(a, dt)[:, None] + _as(c, dt)[:, None]
    if out is None:
        return np.ascontiguousarray(y)
    out[...] = y
    return out


def _np_bwd_sums(g, x, mean):
    g64 = g.astype(np.float64)
    d = x.astype(np.float64) - np.asarray(mean, np.float64)[:, None]
    return g64.sum(axis=(0, 2)), np.einsum("ncl,ncl->c", g64, d)


def _np_bwd_affine(g, x, m, a, b, c, out=None):
    dt = x.dtype
    y = (_as(a, dt)[:, None] * g + _as(b, dt)[:, None] * (x - _as(m, dt)[:, None])
         + _as(c, dt)[:, None])
    if out is None:
        return np.ascontiguousarray(y)
    out[...] = y
    return out


def _np_ln_fwd(x, w, b, eps):
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=1)
    d = x64 - mean[:, None]
    rstd = 1.0 / np.sqrt((d * d).mean(axis=1) + eps)
    y = ((x - mean[:, None].astype(x.dtype)) * rstd[:, None].astype(x.dtype))
    if w is not None:
        y = y * _as(w, x.dtype)
    if b is not None:
        y = y + _as(b, x.dtype)
    return np.ascontiguousarray(y, x.dtype), mean, rstd


def _np_ln_bwd(g, x, w, mean, rstd, need_w, need_b):
    dt = x.dtype
    D = x.shape[1]
    k = np.asarray(rstd, np.float64)[:, None].astype(dt)
    xhat = (x - np.asarray(mean, np.float64)[:, None].astype(dt)) * k
    gw_ = g if w is None else g * _as(w, dt)
    ma = (gw_.astype(np.float64).sum(axis=1) / D)[:, None].astype(dt)
    mb = ((gw_ * xhat).astype(np.float64).sum(axis=1) / D)[:, None].astype(dt)
    gx = np.ascontiguousarray(k * (gw_ - ma - xhat * mb), dt)
    gw = (g * xhat).astype(np.float64).sum(axis=0).astype(dt) if need_w else None
    gb = g.astype(np.float64).sum(axis=0).astype(dt) if need_b else None
    return gx, gw, gb


if _cx is not None:
    batch_norm_stats, batch_norm_affine = _c_stats, _c_affine
    batch_norm_bwd_sums, batch_norm_bwd_affine = _c_bwd_sums, _c_bwd_affine
    layer_norm_fwd, layer_norm_bwd = _c_ln_fwd, _c_ln_bwd
else:
    batch_norm_stats, batch_norm_affine = _np_stats, _np_affine
    batch_norm_bwd_sums, batch_norm_bwd_affine = _np_bwd_sums, _np_bwd_affine
    layer_norm_fwd, layer_norm_bwd = _np_ln_fwd, _np_ln_bwd

#: Both engines by name, for the tests that compare them ({"c": ..., "numpy": ...}).
ENGINES = {"numpy": dict(stats=_np_stats, affine=_np_affine, bwd_sums=_np_bwd_sums,
                         bwd_affine=_np_bwd_affine, ln_fwd=_np_ln_fwd, ln_bwd=_np_ln_bwd)}
if _cx is not None:
    ENGINES["c"] = dict(stats=_c_stats, affine=_c_affine, bwd_sums=_c_bwd_sums,
                        bwd_affine=_c_bwd_affine, ln_fwd=_c_ln_fwd, ln_bwd=_c_ln_bwd)
