"""Loss kernels: each computes a loss and, when asked, its gradient in the same pass.

C kernels (``_closses``, csrc/losses.h) for everything on the hot path; the few
row-wise losses that no training loop hammers (Keras' probability-input
crossentropies, cosine similarity, NLL's gather) are written here in NumPy, fused
the same way. Oracles: :mod:`.reference_losses`.

Conventions: inputs are C-contiguous float32/float64 arrays of one dtype (class
indices int64); ``grad=True`` asks for the gradient of the (sum of the) losses
w.r.t. the prediction, scaled by ``gscale``.
"""
import numpy as np

from . import engine
from .threads import threads_for

__all__ = ["POINTWISE", "pointwise_sum", "pointwise_elem", "pointwise_rows", "bce_logits_pw",
           "cross_entropy_hard", "cross_entropy_soft", "scale", "nll", "keras_cce_probs",
           "keras_scce_probs", "cosine_similarity"]

# the C extension, or its NumPy twin where it cannot run (see engine.py)
_cl = engine.module("_closses", twin="_twin_losses")
POINTWISE = dict(_cl.POINTWISE)


def _c(x):
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


def pointwise_sum(name, x, y, p=0.0, grad=False, gscale=1.0):
    """(sum of loss_name(x, y; p), gradient*gscale or None)."""
    x, y = _c(x), _c(y)
    g = np.empty_like(x) if grad else None
    s = _cl.pw_sum(POINTWISE[name], x, y, p, g, gscale, threads_for(x.size))
    return s, g


def pointwise_elem(name, x, y, p=0.0, grad=False):
    """(loss per element, gradient or None)."""
    x, y = _c(x), _c(y)
    loss = np.empty_like(x)
    g = np.empty_like(x) if grad else None
    _cl.pw_elem(POINTWISE[name], x, y, p, loss, g, threads_for(x.size))
    return loss, g


def pointwise_rows(name, x, y, p=0.0, grad=False, gscale=1.0):
    """(loss summed over the last axis, shape x.shape[:-1]; gradient*gscale or None)."""
    x, y = _c(x), _c(y)
    cols = x.shape[-1] if x.ndim else 1
    rows = x.size // cols if cols else 0
    out = np.empty(x.shape[:-1], x.dtype)
    g = np.empty_like(x) if grad else None
    _cl.pw_rows(POINTWISE[name], x, y, rows, cols, p, out, g, gscale, threads_for(x.size))
    return out, g


def bce_logits_pw(x, y, pos_weight, elem=False, grad=False, gscale=1.0):
    """BCE with logits and pos_weight broadcast along the last axis.

    Returns (total, loss per element or None, gradient*gscale or None).
    """
    x, y = _c(x), _c(y)
    cols = x.shape[-1] if x.ndim else 1
    pw = np.broadcast_to(np.asarray(pos_weight, x.dtype), (cols,))
    pw = np.ascontiguousarray(pw)
    rows = x.size // cols if cols else 0
    loss = np.empty_like(x) if elem else None
    g = np.empty_like(x) if grad else None
    s = _cl.bce_logits_pw(x, y, pw, rows, cols, loss, g, gscale, threads_for(x.size))
    return s, loss, g


def cross_entropy_hard(x, t, weight=None, ignore_index=-100, label_smoothing=0.0,
                       grad=False, gscale=1.0, mean=False):
    """Fused log-softmax + NLL over rows of logits ``x`` (N, C), class indices ``t`` (N,).

    Returns (loss per row, total, den, bad, gradient or None): ``den`` is torch's
    'mean' divisor (sum of the target weights of counted rows), ``bad`` the first
    row whose target is out of range (N when none). With ``mean`` the gradient is
    scaled by gscale/den.
    """
    x = _c(x)
    if t.dtype != np.int64 or not t.flags.c_contiguous:
        t = np.ascontiguousarray(t, np.int64)
    loss = np.empty(x.shape[0], x.dtype)
    g = np.empty_like(x) if grad else None
    total, den, bad = _cl.ce_hard(x, t, weight, ignore_index, label_smoothing, loss, g,
                                  gscale, mean, threads_for(x.size))
    return loss, total, den, bad, g


def cross_entropy_soft(x, y, weight=None, label_smoothing=0.0, grad=False, gscale=1.0):
    """Fused log-softmax + soft-target CE over rows; returns (loss per row, total, gradient or None)."""
    x, y = _c(x), _c(y)
    loss = np.empty(x.shape[0], x.dtype)
    g = np.empty_like(x) if grad else None
    total = _cl.ce_soft(x, y, weight, label_smoothing, loss, g, gscale, threads_for(x.size))
    return loss, total, g


def scale(a, s, out=None):
    """a * s (parallel for large a)."""
    out = np.empty_like(a) if out is None else out
    return _cl.scale(a, out, s, threads_for(a.size))


def nll(x, t, weight=None, ignore_index=-100):
    """Gather for NLL loss on log-probabilities ``x`` (N, C): returns (loss per row, w per row).

    loss_i = -w[t_i] x[i, t_i] (0 where t_i == ignore_index); the gradient is the
    scatter of -w per row (done by the caller, which knows the reduction).
    """
    keep = t != ignore_index
    ts = np.where(keep, t, 0)
    w = np.ones(x.shape[0], x.dtype) if weight is None else weight[ts].astype(x.dtype)
    w = np.where(keep, w, np.zeros((), x.dtype))
    return -w * x[np.arange(x.shape[0]), ts], w


_KEPS = 1e-7


def keras_cce_probs(x, y, grad=False):
    """Keras categorical crossentropy of probabilities x (rows normalised, clipped):

    p = clip(x / sum(x), eps, 1-eps); loss = -sum(y log p) over the last axis.
    Returns (loss per row, gradient or None).
    """
    s = x.sum(-1, keepdims=True)
    p = x / s
    q = np.clip(p, _KEPS, 1 - _KEPS)
    loss = -(y * np.log(q)).sum(-1)
    if not grad:
        return loss, None
    inside = (p >= _KEPS) & (p <= 1 - _KEPS)
    a = np.where(inside, -y / q, 0).astype(x.dtype)
    g = (a - (a * p).sum(-1, keepdims=True)) / s
    return loss, g


def keras_scce_probs(x, t, grad=False):
    """Keras sparse categorical crossentropy of probabilities x with class indices t."""
    s = x.sum(-1, keepdims=True)
    p = x / s
    idx = t[..., None]
    pt = np.take_along_axis(p, idx, -1)
    q = np.clip(pt, _KEPS, 1 - _KEPS)
    loss = -np.log(q)[..., 0]
    if not grad:
        return loss, None
    a = np.where((pt >= _KEPS) & (pt <= 1 - _KEPS), -1 / q, 0).astype(x.dtype)
    g = -(a * pt) * np.ones_like(x)
    np.put_along_axis(g, idx, a - a * pt, -1)
    return loss, g / s


def cosine_similarity(x, y, grad=False):
    """Keras' negative cosine similarity over the last axis (l2_normalize with 1e-12).

    loss = -sum(x̂ ŷ), x̂ = x / sqrt(max(sum(x²), 1e-12)). Returns (loss, gradient or None).
    """
    nx = np.sqrt(np.maximum((x * x).sum(-1, keepdims=True), 1e-12)).astype(x.dtype)
    ny = np.sqrt(np.maximum((y * y).sum(-1, keepdims=True), 1e-12)).astype(x.dtype)
    xh, yh = x / nx, y / ny
    c = (xh * yh).sum(-1, keepdims=True)
    loss = -c[..., 0]
    if not grad:
        return loss, None
    clipped = (x * x).sum(-1, keepdims=True) < 1e-12   # norm clamped: no projection term
    g = -(yh - np.where(clipped, 0, c * xh)) / nx
    return loss, g.astype(x.dtype)
