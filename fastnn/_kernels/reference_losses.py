"""Plain NumPy versions of the loss kernels: the test oracle and the readable spec.

Each pointwise entry of ``POINTWISE`` maps a kernel name to ``(loss, grad)``: two
functions of (x, y, a) -> elementwise loss and dloss/dx, computed in float64.
"""
import numpy as np

EPS = 1e-7   # Keras' epsilon


def _sgn(d):
    return np.sign(d)


def _logc(u):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.maximum(np.log(u), -100)


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def _xlogx(y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y == 0, 0, y * np.log(np.where(y == 0, 1, y)))


def _msle_d(x, y):
    return np.log(np.maximum(x, EPS) + 1) - np.log(np.maximum(y, EPS) + 1)


def _kp(x):
    return np.clip(x, EPS, 1 - EPS)


def _inside(x, lo, hi):
    return ((x >= lo) & (x <= hi)).astype(float)


POINTWISE = {
    "mse": (lambda x, y, a: (x - y) ** 2, lambda x, y, a: 2 * (x - y)),
    "l1": (lambda x, y, a: np.abs(x - y), lambda x, y, a: _sgn(x - y)),
    "smooth_l1": (lambda x, y, a: np.where(np.abs(x - y) < a, 0.5 * (x - y) ** 2 / a, np.abs(x - y) - 0.5 * a),
                  lambda x, y, a: np.where(np.abs(x - y) < a, (x - y) / a, _sgn(x - y))),
    "huber": (lambda x, y, a: np.where(np.abs(x - y) <= a, 0.5 * (x - y) ** 2, a * (np.abs(x - y) - 0.5 * a)),
              lambda x, y, a: np.clip(x - y, -a, a)),
    "bce": (lambda x, y, a: -(y * _logc(x) + (1 - y) * _logc(1 - x)),
            lambda x, y, a: (x - y) / np.maximum((1 - x) * x, 1e-12)),
    "bce_logits": (lambda x, y, a: np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x))),
                   lambda x, y, a: _sigmoid(x) - y),
    "kl_div": (lambda x, y, a: _xlogx(y) - y * x, lambda x, y, a: -y + 0 * x),
    "kl_div_log": (lambda x, y, a: np.exp(y) * (y - x), lambda x, y, a: -np.exp(y) + 0 * x),
    "k_mape": (lambda x, y, a: 100 * np.abs(x - y) / np.maximum(np.abs(y), EPS),
               lambda x, y, a: 100 * _sgn(x - y) / np.maximum(np.abs(y), EPS)),
    "k_msle": (lambda x, y, a: _msle_d(x, y) ** 2,
               lambda x, y, a: np.where(x < EPS, 0, 2 * _msle_d(x, y) / (x + 1))),
    "k_hinge": (lambda x, y, a: np.maximum(1 - y * x, 0), lambda x, y, a: np.where(1 - y * x > 0, -y, 0)),
    "k_sq_hinge": (lambda x, y, a: np.maximum(1 - y * x, 0) ** 2,
                   lambda x, y, a: -2 * y * np.maximum(1 - y * x, 0)),
    "k_bce": (lambda x, y, a: -(y * np.log(_kp(x)) + (1 - y) * np.log(1 - _kp(x))),
              lambda x, y, a: _inside(x, EPS, 1 - EPS) * (_kp(x) - y) / (_kp(x) * (1 - _kp(x)))),
    "k_kld": (lambda x, y, a: np.clip(y, EPS, 1) * np.log(np.clip(y, EPS, 1) / np.clip(x, EPS, 1)),
              lambda x, y, a: -_inside(x, EPS, 1) * np.clip(y, EPS, 1) / np.clip(x, EPS, 1)),
}


def pointwise(name, x, y, a=0.0):
    """(elementwise loss, dloss/dx) in float64."""
    f, g = POINTWISE[name]
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return f(x, y, a), g(x, y, a)


def bce_logits_pw(x, y, pw):
    """BCE with logits and pos_weight: (loss, dloss/dx) in float64."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    lw = 1 + (np.asarray(pw, np.float64) - 1) * y
    sp = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)
    return (1 - y) * x + lw * sp, (1 - y) - lw * _sigmoid(-x)


def log_softmax(x):
    """(x - max) - log(sum(exp(x - max))): the differences first, the log added last.

    The kernels keep this order (-log_softmax_t = (m - x_t) + log s): the form
    x - (m + log s) rounds log s away once |x| is large (float32: 1e4 + 0.693).
    """
    x = np.asarray(x, np.float64)
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def cross_entropy_hard(x, t, weight=None, ignore_index=-100, label_smoothing=0.0):
    """Per-row loss and per-row gradient (unreduced, float64) of torch's cross_entropy."""
    x = np.asarray(x, np.float64)
    n, c = x.shape
    w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
    keep = t != ignore_index
    ts = np.where(keep, t, 0)
    lp = log_softmax(x)
    p = np.exp(lp)
    onehot = np.eye(c)[ts]
    eps = label_smoothing
    wt = w[ts]
    loss = (1 - eps) * wt * -lp[np.arange(n), ts] + eps / c * -(lp * w).sum(-1)
    grad = p * ((1 - eps) * wt + eps / c * w.sum())[:, None] - (1 - eps) * wt[:, None] * onehot - eps / c * w
    loss = np.where(keep, loss, 0)
    grad = np.where(keep[:, None], grad, 0)
    return loss, grad, (wt * keep).sum()


def cross_entropy_soft(x, y, weight=None, label_smoothing=0.0):
    """Per-row loss and gradient of cross-entropy with class-probability targets."""
    x = np.asarray(x, np.float64)
    c = x.shape[-1]
    w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
    ys = (1 - label_smoothing) * np.asarray(y, np.float64) + label_smoothing / c
    lp = log_softmax(x)
    wy = w * ys
    return -(wy * lp).sum(-1), np.exp(lp) * wy.sum(-1, keepdims=True) - wy


def to_categorical(y, num_classes):
    """One-hot rows of eye(num_classes), float64."""
    y = np.asarray(y).reshape(-1)
    return np.eye(num_classes)[y]
