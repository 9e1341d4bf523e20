"""Plain NumPy versions of the optimizer kernels: the test oracle and the readable spec.

Each ``<name>_step`` takes the same arguments as its compiled twin in ``optim.py``
(flat arrays and the packed scalars ``h``) and returns new arrays ``(p, *state)``
instead of updating in place. The formulas follow torch.optim's single-tensor code
line by line; a state array that a flag switches off comes back unchanged (empty).
``h`` is read by name through the layouts of ``optim.py``.
"""
import numpy as np

from .optim import SGD, ADAGRAD, RMSPROP, ADAM, ADAMAX, ADADELTA


def _grad(p, g, wd, sign):
    d = sign * g
    return d + wd * p if wd != 0 else d


def sgd_step(p, g, buf, h):
    lr, mom, damp_c = h[SGD.lr], h[SGD.momentum], h[SGD.dampening_c]
    wd, sign, nesterov = h[SGD.weight_decay], h[SGD.sign], h[SGD.nesterov]
    has_mom, first = h[SGD.has_momentum], h[SGD.first]
    d = _grad(p, g, wd, sign)
    if has_mom:
        buf = d.copy() if first else mom * buf + damp_c * d
        d = d + mom * buf if nesterov else buf
    return p - lr * d, buf


def adagrad_step(p, g, s, h):
    clr, wd, eps, sign = h[ADAGRAD.clr], h[ADAGRAD.weight_decay], h[ADAGRAD.eps], h[ADAGRAD.sign]
    d = _grad(p, g, wd, sign)
    s = s + d * d
    return p - clr * (d / (np.sqrt(s) + eps)), s


def rmsprop_step(p, g, sq, gavg, buf, h):
    lr, alpha, alpha_c, eps = h[RMSPROP.lr], h[RMSPROP.alpha], h[RMSPROP.alpha_c], h[RMSPROP.eps]
    wd, mom, sign = h[RMSPROP.weight_decay], h[RMSPROP.momentum], h[RMSPROP.sign]
    centered, has_mom = h[RMSPROP.centered], h[RMSPROP.has_momentum]
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
    step_size, beta1_c, beta2, beta2_c = h[ADAM.step_size], h[ADAM.beta1_c], h[ADAM.beta2], h[ADAM.beta2_c]
    eps, wd, sign, inv_bc2_sqrt = h[ADAM.eps], h[ADAM.weight_decay], h[ADAM.sign], h[ADAM.inv_bc2_sqrt]
    decay, decoupled, amsgrad = h[ADAM.decay], h[ADAM.decoupled], h[ADAM.amsgrad]
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
    clr, beta1_c, beta2 = h[ADAMAX.clr], h[ADAMAX.beta1_c], h[ADAMAX.beta2]
    eps, wd, sign = h[ADAMAX.eps], h[ADAMAX.weight_decay], h[ADAMAX.sign]
    d = _grad(p, g, wd, sign)
    m = m + beta1_c * (d - m)
    u = np.maximum(beta2 * u, np.abs(d) + eps)
    return p - clr * (m / u), m, u


def adadelta_step(p, g, sq, acc, h):
    lr, rho, rho_c = h[ADADELTA.lr], h[ADADELTA.rho], h[ADADELTA.rho_c]
    eps, wd, sign = h[ADADELTA.eps], h[ADADELTA.weight_decay], h[ADADELTA.sign]
    d = _grad(p, g, wd, sign)
    sq = rho * sq + rho_c * d * d
    delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * d
    acc = rho * acc + rho_c * delta * delta
    return p - lr * delta, sq, acc
