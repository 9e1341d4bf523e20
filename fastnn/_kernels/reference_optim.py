"""Plain NumPy versions of the optimizer kernels: the test oracle and the readable spec.

Each ``<name>_step`` takes the same arguments as its compiled twin in ``optim.py``
(flat arrays and the packed scalars ``h``) and returns new arrays ``(p, *state)``
instead of updating in place. The formulas follow torch.optim's single-tensor code
line by line; a state array that a flag switches off comes back unchanged (empty).
"""
import numpy as np


def _grad(p, g, wd, sign):
    d = sign * g
    return d + wd * p if wd != 0 else d


def sgd_step(p, g, buf, h):
    lr, mom, damp_c, wd, sign, nesterov, has_mom, first = h
    d = _grad(p, g, wd, sign)
    if has_mom:
        buf = d.copy() if first else mom * buf + damp_c * d
        d = d + mom * buf if nesterov else buf
    return p - lr * d, buf


def adagrad_step(p, g, s, h):
    clr, wd, eps, sign = h
    d = _grad(p, g, wd, sign)
    s = s + d * d
    return p - clr * (d / (np.sqrt(s) + eps)), s


def rmsprop_step(p, g, sq, gavg, buf, h):
    lr, alpha, alpha_c, eps, wd, mom, sign, centered, has_mom = h
    d = _grad(p, g, wd, sign)
    sq = alpha * sq + alpha_c * d * d
    if centered:
        gavg = gavg + alpha_c * (d - gavg)
        avg = np.sqrt(sq - gavg * gavg) + eps
    else:
        avg = np.sqrt(sq) + eps
    if has_mom:
        buf = mom * buf + d / avg
        return p - lr * buf, sq, gavg, buf
    return p - lr * (d / avg), sq, gavg, buf


def adam_step(p, g, m, v, vmax, h):
    step_size, beta1_c, beta2, beta2_c, eps, wd, sign, inv_bc2_sqrt, decay, decoupled, amsgrad = h
    d = sign * g
    if decoupled:
        p = p * decay
    elif wd != 0:
        d = d + wd * p
    m = m + beta1_c * (d - m)
    v = beta2 * v + beta2_c * d * d
    if amsgrad:
        vmax = np.maximum(vmax, v)   # NaN wins, like torch.maximum
        denom = np.sqrt(vmax) * inv_bc2_sqrt + eps
    else:
        denom = np.sqrt(v) * inv_bc2_sqrt + eps
    return p - step_size * (m / denom), m, v, vmax


def adamax_step(p, g, m, u, h):
    clr, beta1_c, beta2, eps, wd, sign = h
    d = _grad(p, g, wd, sign)
    m = m + beta1_c * (d - m)
    u = np.maximum(beta2 * u, np.abs(d) + eps)
    return p - clr * (m / u), m, u


def adadelta_step(p, g, sq, acc, h):
    lr, rho, rho_c, eps, wd, sign = h
    d = _grad(p, g, wd, sign)
    sq = rho * sq + rho_c * d * d
    delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * d
    acc = rho * acc + rho_c * delta * delta
    return p - lr * delta, sq, acc
