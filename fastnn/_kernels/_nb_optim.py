"""Numba loops for the optimizers' update rules: one fused pass over parameter,
gradient and state per optimizer, flags included.

Every kernel is ``name(p, g, <state arrays...>, h)`` over flat C-contiguous arrays of
one float dtype. ``h`` is a small array of the same dtype holding the step's scalars
and flags (layouts below; the dispatch module ``optim.py`` builds it once per step and
group, in float64, then casts). One array instead of a dozen scalars keeps the
per-call dispatch cost low for models with many small parameters, and keeps every
scalar in the arrays' dtype so the float32 loops stay float32 (full SIMD width).

Scalars are read into locals before the loop: Numba gives arrays no ``noalias``, so
loads from ``h`` inside the loop would be repeated after every store. Flags become
loop-invariant branches that LLVM unswitches or if-converts. A state array a flag
switches off is passed as an empty array and never touched.

Maxima are written so that a NaN on either side wins, like ``torch.maximum``; no
value is sanitised (NaN in, NaN out).
"""
import math

from numba import prange

# h layouts: index constants are mirrored in optim.py.
# sgd:      lr, momentum, 1-dampening, weight_decay, sign, nesterov, has_momentum, first
# adagrad:  clr, weight_decay, eps, sign
# rmsprop:  lr, alpha, eps, weight_decay, momentum, sign, centered, has_momentum
# adam:     step_size, beta1, beta2, eps, weight_decay, sign, 1/sqrt(bc2), decay,
#           decoupled, amsgrad
# adamax:   clr, beta1, beta2, eps, weight_decay, sign
# adadelta: lr, rho, eps, weight_decay, sign


def sgd_step(p, g, buf, h):
    lr, mom, damp_c, wd, sign = h[0], h[1], h[2], h[3], h[4]
    nesterov, has_mom, first = h[5] != 0, h[6] != 0, h[7] != 0
    use_wd = wd != 0
    for i in prange(p.size):
        pi = p[i]
        d = sign * g[i]
        if use_wd:
            d = d + wd * pi
        if has_mom:
            b = d if first else mom * buf[i] + damp_c * d
            buf[i] = b
            d = d + mom * b if nesterov else b
        p[i] = pi - lr * d


def adagrad_step(p, g, s, h):
    clr, wd, eps, sign = h[0], h[1], h[2], h[3]
    use_wd = wd != 0
    for i in prange(p.size):
        pi = p[i]
        d = sign * g[i]
        if use_wd:
            d = d + wd * pi
        si = s[i] + d * d
        s[i] = si
        p[i] = pi - clr * (d / (math.sqrt(si) + eps))


def rmsprop_step(p, g, sq, gavg, buf, h):
    lr, alpha, eps, wd, mom, sign = h[0], h[1], h[2], h[3], h[4], h[5]
    centered, has_mom = h[6] != 0, h[7] != 0
    use_wd = wd != 0
    one_m_alpha = 1 - alpha
    for i in prange(p.size):
        pi = p[i]
        d = sign * g[i]
        if use_wd:
            d = d + wd * pi
        s = alpha * sq[i] + one_m_alpha * (d * d)
        sq[i] = s
        if centered:
            a = gavg[i]
            a = a + one_m_alpha * (d - a)
            gavg[i] = a
            s = s - a * a
        avg = math.sqrt(s) + eps
        if has_mom:
            b = mom * buf[i] + d / avg
            buf[i] = b
            p[i] = pi - lr * b
        else:
            p[i] = pi - lr * (d / avg)


def adam_step(p, g, m, v, vmax, h):
    step_size, beta1, beta2, eps, wd, sign = h[0], h[1], h[2], h[3], h[4], h[5]
    inv_bc2_sqrt, decay = h[6], h[7]
    decoupled, amsgrad = h[8] != 0, h[9] != 0
    coupled = wd != 0 and not decoupled
    one_m_beta1, one_m_beta2 = 1 - beta1, 1 - beta2
    for i in prange(p.size):
        pi = p[i]
        d = sign * g[i]
        if coupled:
            d = d + wd * pi
        elif decoupled:
            pi = pi * decay
        mi = m[i]
        mi = mi + one_m_beta1 * (d - mi)
        m[i] = mi
        vi = beta2 * v[i] + one_m_beta2 * (d * d)
        v[i] = vi
        if amsgrad:
            vm = vmax[i]
            if vi > vm or vi != vi:
                vm = vi
            vmax[i] = vm
            vi = vm
        p[i] = pi - step_size * (mi / (math.sqrt(vi) * inv_bc2_sqrt + eps))


def adamax_step(p, g, m, u, h):
    clr, beta1, beta2, eps, wd, sign = h[0], h[1], h[2], h[3], h[4], h[5]
    use_wd = wd != 0
    one_m_beta1 = 1 - beta1
    for i in prange(p.size):
        pi = p[i]
        d = sign * g[i]
        if use_wd:
            d = d + wd * pi
        mi = m[i]
        mi = mi + one_m_beta1 * (d - mi)
        m[i] = mi
        ui = beta2 * u[i]
        a = abs(d) + eps
        if a > ui or a != a:
            ui = a
        u[i] = ui
        p[i] = pi - clr * (mi / ui)


def adadelta_step(p, g, sq, acc, h):
    lr, rho, eps, wd, sign = h[0], h[1], h[2], h[3], h[4]
    use_wd = wd != 0
    one_m_rho = 1 - rho
    for i in prange(p.size):
        pi = p[i]
        d = sign * g[i]
        if use_wd:
            d = d + wd * pi
        s = rho * sq[i] + one_m_rho * (d * d)
        sq[i] = s
        ai = acc[i]
        delta = math.sqrt(ai + eps) / math.sqrt(s + eps) * d
        acc[i] = rho * ai + one_m_rho * (delta * delta)
        p[i] = pi - lr * delta
