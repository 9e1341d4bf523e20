"""NumPy twin of the C extension ``_closses`` (csrc/losses.h).

Same names, signatures and results (to round-off) as the compiled module; used by
:mod:`.engine` where the C kernels cannot run. The pointwise losses are the C expressions
written with NumPy in the input's dtype; the cross-entropies and BCE with pos_weight
are the oracles of :mod:`.reference_losses` (float64) stored in the input's dtype.
``nt`` (threads) is accepted and ignored.
"""
import numpy as np

from . import reference_losses as _ref

def _sgn(u, t):
    return np.where(u > 0, t(1), np.where(u < 0, t(-1), u * t(0)))


def _relu(u, t):
    return np.where(u < 0, t(0), u)


def _clip(u, lo, hi):
    return np.where(u < lo, lo, np.where(u > hi, hi, u))


def _inside(u, lo, hi, t):
    return np.where((u >= lo) & (u <= hi), t(1), np.where(u == u, t(0), u))


def _logc(u, f, t):    # torch BCE's log clamp at -100
    lu = f(u)
    return np.where(lu < -100, t(-100), lu)


def _kp(v, t):         # Keras' probability clip
    k = t(1e-7)
    return _clip(v, k, t(1) - k)


def _msle_d(v, y, t):
    k = t(1e-7)
    return np.log(np.where(v < k, k, v) + t(1)) - np.log(np.where(y < k, k, y) + t(1))


def _bce_den(v, t):
    q = (t(1) - v) * v
    return np.where(q < t(1e-12), t(1e-12), q)


# The rows of FNN_POINTWISE_LOSSES (losses.h), in its order: name -> (loss, grad) as
# functions of (v, y, d = v - y, a, t), evaluated in the input's dtype t like the C
# loops (Keras' clipped probabilities round in float32 there too).
_PW = {
    "mse": (lambda v, y, d, a, t: d * d, lambda v, y, d, a, t: 2 * d),
    "l1": (lambda v, y, d, a, t: np.abs(d), lambda v, y, d, a, t: _sgn(d, t)),
    "smooth_l1": (lambda v, y, d, a, t: np.where(np.abs(d) < a, t(0.5) * d * d / a, np.abs(d) - t(0.5) * a),
                  lambda v, y, d, a, t: np.where(np.abs(d) < a, d / a, _sgn(d, t))),
    "huber": (lambda v, y, d, a, t: np.where(np.abs(d) <= a, t(0.5) * d * d, a * (np.abs(d) - t(0.5) * a)),
              lambda v, y, d, a, t: np.where(np.abs(d) <= a, d, a * _sgn(d, t))),
    "bce": (lambda v, y, d, a, t: -(y * _logc(v, np.log, t) + (t(1) - y) * _logc(-v, np.log1p, t)),
            lambda v, y, d, a, t: (v - y) / _bce_den(v, t)),
    "bce_logits": (lambda v, y, d, a, t: _relu(v, t) - v * y + np.log1p(np.exp(-np.abs(v))),
                   lambda v, y, d, a, t: t(1) / (t(1) + np.exp(-v)) - y),
    "kl_div": (lambda v, y, d, a, t: np.where(y == 0, t(0), y * np.log(y)) - y * v,
               lambda v, y, d, a, t: -y),
    "kl_div_log": (lambda v, y, d, a, t: np.exp(y) * (y - v), lambda v, y, d, a, t: -np.exp(y)),
    "k_mape": (lambda v, y, d, a, t: 100 * np.abs(d) / np.where(np.abs(y) < t(1e-7), t(1e-7), np.abs(y)),
               lambda v, y, d, a, t: 100 * _sgn(d, t) / np.where(np.abs(y) < t(1e-7), t(1e-7), np.abs(y))),
    "k_msle": (lambda v, y, d, a, t: _msle_d(v, y, t) ** 2,
               lambda v, y, d, a, t: np.where(v < t(1e-7), t(0), 2 * _msle_d(v, y, t) / (v + t(1)))),
    "k_hinge": (lambda v, y, d, a, t: _relu(t(1) - y * v, t),
                lambda v, y, d, a, t: np.where(t(1) - y * v > 0, -y, t(0))),
    "k_sq_hinge": (lambda v, y, d, a, t: _relu(t(1) - y * v, t) ** 2,
                   lambda v, y, d, a, t: -2 * y * _relu(t(1) - y * v, t)),
    "k_bce": (lambda v, y, d, a, t: -(y * np.log(_kp(v, t)) + (t(1) - y) * np.log(t(1) - _kp(v, t))),
              lambda v, y, d, a, t: _inside(v, t(1e-7), t(1) - t(1e-7), t) * (_kp(v, t) - y)
              / (_kp(v, t) * (t(1) - _kp(v, t)))),
    "k_kld": (lambda v, y, d, a, t: _clip(y, t(1e-7), t(1)) * np.log(_clip(y, t(1e-7), t(1)) / _clip(v, t(1e-7), t(1))),
              lambda v, y, d, a, t: -_inside(v, t(1e-7), t(1), t) * _clip(y, t(1e-7), t(1))
              / _clip(v, t(1e-7), t(1))),
}
_NAMES = list(_PW)
POINTWISE = {name: i for i, name in enumerate(_NAMES)}


def _pointwise(op, x, y, p):
    """(loss, grad) per element, flat, in x's dtype."""
    t = x.dtype.type
    v, yy = x.reshape(-1), y.reshape(-1)
    f, g = _PW[_NAMES[op]]
    with np.errstate(all="ignore"):
        d = v - yy
        a = t(p)
        lv = np.asarray(f(v, yy, d, a, t), x.dtype)
        gv = np.broadcast_to(np.asarray(g(v, yy, d, a, t), x.dtype), v.shape)
    return lv, gv


def _scaled(g, gscale, dtype):
    return g * np.asarray(gscale, dtype)[()]


def pw_sum(op, x, y, p, grad, gscale, nt):
    """Sum over all elements of loss(x, y; p); grad (or None) = gscale * dloss/dx."""
    loss, g = _pointwise(op, x, y, p)
    if grad is not None:
        np.copyto(grad.reshape(-1), _scaled(g, gscale, x.dtype), casting="unsafe")
    # the C loops sum the losses as stored in the input's dtype
    return float(loss.sum(dtype=np.float64))


def pw_elem(op, x, y, p, loss, grad, nt):
    """loss[i] = loss(x[i], y[i]; p); grad (or None) = dloss/dx."""
    lv, g = _pointwise(op, x, y, p)
    np.copyto(loss.reshape(-1), lv, casting="unsafe")
    if grad is not None:
        np.copyto(grad.reshape(-1), g, casting="unsafe")
    return loss


def pw_rows(op, x, y, rows, cols, p, out, grad, gscale, nt):
    """out[r] = sum over a row of `cols` elements of loss; grad (or None) = gscale * dloss/dx."""
    if rows <= 0:
        return out
    lv, g = _pointwise(op, x, y, p)
    sums = lv.reshape(rows, cols).sum(axis=1, dtype=np.float64)
    np.copyto(out.reshape(-1), sums, casting="unsafe")
    if grad is not None:
        np.copyto(grad.reshape(-1), _scaled(g, gscale, x.dtype), casting="unsafe")
    return out


def bce_logits_pw(x, y, pw, rows, cols, loss, grad, gscale, nt):
    """BCE with logits and a per-column pos_weight; returns the total."""
    if rows <= 0:
        return 0.0
    with np.errstate(all="ignore"):
        lv, g = _ref.bce_logits_pw(x.reshape(rows, cols), y.reshape(rows, cols), pw)
    if loss is not None:
        np.copyto(loss.reshape(rows, cols), lv, casting="unsafe")
    if grad is not None:
        np.copyto(grad.reshape(rows, cols), _scaled(g, gscale, x.dtype), casting="unsafe")
    return float(lv.astype(x.dtype).sum(axis=1).sum(dtype=np.float64))


def ce_hard(x, t, weight, ignore_index, eps, loss, grad, gscale, mean, nt):
    """Fused cross-entropy with class indices; returns (total, den, first bad row or N)."""
    N, C = x.shape
    keep = t != ignore_index
    valid = keep & (t >= 0) & (t < C)
    bad_rows = np.flatnonzero(keep & ~valid)
    bad = int(bad_rows[0]) if bad_rows.size else N
    w = None if weight is None else np.asarray(weight, np.float64)
    ts = np.where(valid, t, 0)
    den = float((np.ones(N) if w is None else w[ts])[valid].sum())
    if mean:
        gscale = gscale / den if den != 0 else 0.0
    if N == 0:
        return 0.0, den, bad
    # rows with a target out of range count as ignored (the caller raises on ``bad``);
    # valid rows never hold ignore_index, so exactly the other rows are marked
    with np.errstate(all="ignore"):
        if C == 0:
            lv, g = np.zeros(N), np.zeros((N, 0))
        else:
            lv, g, _ = _ref.cross_entropy_hard(x, np.where(valid, t, ignore_index), w,
                                               ignore_index, float(np.asarray(eps, x.dtype)))
    lv = np.where(valid, lv, 0)
    np.copyto(loss, lv, casting="unsafe")
    if grad is not None:
        g = np.where(valid[:, None], g, 0)
        np.copyto(grad, _scaled(g, gscale, x.dtype), casting="unsafe")
    return float(lv.astype(x.dtype).sum(dtype=np.float64)), den, bad


def ce_soft(x, y, weight, eps, loss, grad, gscale, nt):
    """Fused cross-entropy with class-probability targets; returns the total."""
    with np.errstate(all="ignore"):
        lv, g = _ref.cross_entropy_soft(x, y, None if weight is None else np.asarray(weight),
                                        float(np.asarray(eps, x.dtype)))
    np.copyto(loss, lv, casting="unsafe")
    if grad is not None:
        np.copyto(grad, _scaled(g, gscale, x.dtype), casting="unsafe")
    return float(lv.astype(x.dtype).sum(dtype=np.float64))


def scale(a, out, s, nt):
    """out = a * s."""
    np.multiply(a, a.dtype.type(s), out=out)
    return out
