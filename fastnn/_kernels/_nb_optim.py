"""Numba twins of the C optimizer kernels (csrc/optim.h): one fused pass over
parameter, gradient and state per optimizer, every variant a flag of the same loop.

Every kernel is ``name(p, g, <state arrays...>, h)`` over flat C-contiguous arrays of
one float dtype; ``h`` is read by name through the layouts of ``optim.py``. Its
scalars are read into locals before the loop: Numba marks no array ``noalias``, so
a load from ``h`` inside the loop would be redone after every store.

The work runs in blocks of ``BLOCK`` elements (``prange`` over blocks, one serial
helper per block, as in _nb_dropout.py): the parallel and the serial build call the
same helper on the same slices, so the result is bitwise the same for every thread
count, and for a caller that finds the parallel pool busy and runs the serial build.
A state array that a flag switches off is passed empty; its slices stay empty and
are never touched.

Maxima are written so that a NaN on either side wins, like ``torch.maximum``;
nothing is sanitised (NaN in, NaN out).
"""
import math

from numba import prange

from .jit import _jit
from .optim import SGD, ADAGRAD, RMSPROP, ADAM, ADAMAX, ADADELTA

BLOCK = 4096


def _sgd_block(p, g, buf, lr, mom, damp_c, wd, sign, nesterov, has_mom, first):
    use_wd = wd != 0
    for i in range(p.size):
        pi = p[i]
        d = sign * g[i]
        if use_wd:
            d = d + wd * pi
        if has_mom:
            b = d if first else mom * buf[i] + damp_c * d
            buf[i] = b
            d = d + mom * b if nesterov else b
        p[i] = pi - lr * d


def _adagrad_block(p, g, s, clr, wd, eps, sign):
    use_wd = wd != 0
    for i in range(p.size):
        pi = p[i]
        d = sign * g[i]
        if use_wd:
            d = d + wd * pi
        si = s[i] + d * d
        s[i] = si
        p[i] = pi - clr * (d / (math.sqrt(si) + eps))


def _rmsprop_block(p, g, sq, gavg, buf, lr, alpha, alpha_c, eps, wd, mom, sign, centered,
                   has_mom):
    use_wd = wd != 0
    for i in range(p.size):
        pi = p[i]
        d = sign * g[i]
        if use_wd:
            d = d + wd * pi
        s = alpha * sq[i] + alpha_c * (d * d)
        sq[i] = s
        if centered:
            a = gavg[i]
            a = a + alpha_c * (d - a)
            gavg[i] = a
            s = s - a * a
        avg = math.sqrt(s) + eps
        if has_mom:
            b = mom * buf[i] + d / avg
            buf[i] = b
            p[i] = pi - lr * b
        else:
            p[i] = pi - lr * (d / avg)


def _adam_block(p, g, m, v, vmax, step_size, beta1_c, beta2, beta2_c, eps, wd, sign,
                inv_bc2_sqrt, decay, decoupled, amsgrad):
    coupled = wd != 0 and not decoupled
    for i in range(p.size):
        pi = p[i]
        d = sign * g[i]
        if coupled:
            d = d + wd * pi
        elif decoupled:
            pi = pi * decay
        mi = m[i]
        mi = mi + beta1_c * (d - mi)
        m[i] = mi
        vi = beta2 * v[i] + beta2_c * (d * d)
        v[i] = vi
        if amsgrad:
            vm = vmax[i]
            if vi > vm or vi != vi:
                vm = vi
            vmax[i] = vm
            vi = vm
        p[i] = pi - step_size * (mi / (math.sqrt(vi) * inv_bc2_sqrt + eps))


def _adamax_block(p, g, m, u, clr, beta1_c, beta2, eps, wd, sign):
    use_wd = wd != 0
    for i in range(p.size):
        pi = p[i]
        d = sign * g[i]
        if use_wd:
            d = d + wd * pi
        mi = m[i]
        mi = mi + beta1_c * (d - mi)
        m[i] = mi
        ui = beta2 * u[i]
        a = abs(d) + eps
        if a > ui or a != a:
            ui = a
        u[i] = ui
        p[i] = pi - clr * (mi / ui)


def _adadelta_block(p, g, sq, acc, lr, rho, rho_c, eps, wd, sign):
    use_wd = wd != 0
    for i in range(p.size):
        pi = p[i]
        d = sign * g[i]
        if use_wd:
            d = d + wd * pi
        s = rho * sq[i] + rho_c * (d * d)
        sq[i] = s
        ai = acc[i]
        delta = math.sqrt(ai + eps) / math.sqrt(s + eps) * d
        acc[i] = rho * ai + rho_c * (delta * delta)
        p[i] = pi - lr * delta


# IEEE semantics (exact), like the step kernels that call them: inlined into the serial
# and into the parallel build, fast-math flags would let each vectorise and round a
# block differently, and the result would depend on the thread count
_sgd_block = _jit(_sgd_block, False, exact=True)
_adagrad_block = _jit(_adagrad_block, False, exact=True)
_rmsprop_block = _jit(_rmsprop_block, False, exact=True)
_adam_block = _jit(_adam_block, False, exact=True)
_adamax_block = _jit(_adamax_block, False, exact=True)
_adadelta_block = _jit(_adadelta_block, False, exact=True)


def sgd_step(p, g, buf, h):
    lr, mom, damp_c = h[SGD.lr], h[SGD.momentum], h[SGD.dampening_c]
    wd, sign = h[SGD.weight_decay], h[SGD.sign]
    nesterov, has_mom, first = h[SGD.nesterov] != 0, h[SGD.has_momentum] != 0, h[SGD.first] != 0
    n = p.size
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        _sgd_block(p[lo:hi], g[lo:hi], buf[lo:hi], lr, mom, damp_c, wd, sign, nesterov,
                   has_mom, first)


def adagrad_step(p, g, s, h):
    clr, wd, eps, sign = h[ADAGRAD.clr], h[ADAGRAD.weight_decay], h[ADAGRAD.eps], h[ADAGRAD.sign]
    n = p.size
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        _adagrad_block(p[lo:hi], g[lo:hi], s[lo:hi], clr, wd, eps, sign)


def rmsprop_step(p, g, sq, gavg, buf, h):
    lr, alpha, alpha_c = h[RMSPROP.lr], h[RMSPROP.alpha], h[RMSPROP.alpha_c]
    eps, wd, mom, sign = h[RMSPROP.eps], h[RMSPROP.weight_decay], h[RMSPROP.momentum], h[RMSPROP.sign]
    centered, has_mom = h[RMSPROP.centered] != 0, h[RMSPROP.has_momentum] != 0
    n = p.size
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        _rmsprop_block(p[lo:hi], g[lo:hi], sq[lo:hi], gavg[lo:hi], buf[lo:hi], lr, alpha,
                       alpha_c, eps, wd, mom, sign, centered, has_mom)


def adam_step(p, g, m, v, vmax, h):
    step_size, beta1_c, beta2 = h[ADAM.step_size], h[ADAM.beta1_c], h[ADAM.beta2]
    beta2_c, eps, wd, sign = h[ADAM.beta2_c], h[ADAM.eps], h[ADAM.weight_decay], h[ADAM.sign]
    inv_bc2_sqrt, decay = h[ADAM.inv_bc2_sqrt], h[ADAM.decay]
    decoupled, amsgrad = h[ADAM.decoupled] != 0, h[ADAM.amsgrad] != 0
    n = p.size
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        _adam_block(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], vmax[lo:hi], step_size, beta1_c,
                    beta2, beta2_c, eps, wd, sign, inv_bc2_sqrt, decay, decoupled, amsgrad)


def adamax_step(p, g, m, u, h):
    clr, beta1_c, beta2 = h[ADAMAX.clr], h[ADAMAX.beta1_c], h[ADAMAX.beta2]
    eps, wd, sign = h[ADAMAX.eps], h[ADAMAX.weight_decay], h[ADAMAX.sign]
    n = p.size
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        _adamax_block(p[lo:hi], g[lo:hi], m[lo:hi], u[lo:hi], clr, beta1_c, beta2, eps, wd, sign)


def adadelta_step(p, g, sq, acc, h):
    lr, rho, rho_c = h[ADADELTA.lr], h[ADADELTA.rho], h[ADADELTA.rho_c]
    eps, wd, sign = h[ADADELTA.eps], h[ADADELTA.weight_decay], h[ADADELTA.sign]
    n = p.size
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        hi = min(lo + BLOCK, n)
        _adadelta_block(p[lo:hi], g[lo:hi], sq[lo:hi], acc[lo:hi], lr, rho, rho_c, eps, wd, sign)


# --- many small parameters -------------------------------------------------------
# A group of small parameters is updated as one flat array: the parameters are
# gathered through their addresses, updated by the kernels above, and scattered back.
# The addresses come from a PackPlan (optim.py), which holds the arrays alive and is
# never pickled.

from numba import carray, types  # noqa: E402
from numba.extending import intrinsic  # noqa: E402


@intrinsic
def _pointer_like(typingctx, address, like):
    """A ``like.dtype*`` made from an integer address."""
    ptr_t = types.CPointer(like.dtype)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(ptr_t))
    return ptr_t(address, like), codegen


# Both loops index a slice view rather than ``flat[lo + i]``: that form vectorises
# (measured 2.3x faster, memcpy speed).

def gather_params(addresses, offsets, flat):
    for j in prange(addresses.size):
        lo = offsets[j]
        n = offsets[j + 1] - lo
        src = carray(_pointer_like(addresses[j], flat), n)
        dst = flat[lo:lo + n]
        for i in range(n):
            dst[i] = src[i]


def scatter_params(flat, addresses, offsets):
    for j in prange(addresses.size):
        lo = offsets[j]
        n = offsets[j + 1] - lo
        dst = carray(_pointer_like(addresses[j], flat), n)
        src = flat[lo:lo + n]
        for i in range(n):
            dst[i] = src[i]
