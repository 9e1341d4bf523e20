"""Optimizer update kernels (fused, in place) and the scalars each step feeds them.

Each ``<name>_step(p, g, *state, h)`` updates the flat C-contiguous parameter ``p`` and
its state arrays in one pass (Numba, ``_nb_optim.py``; NumPy twin in
``reference_optim.py``). ``<name>_hyper(dtype, ...)`` packs one step's scalars into
``h``: derived values (bias corrections, decayed learning rates, 1 - beta) are computed
once, in float64, then cast to the parameters' dtype. Flags (maximize, nesterov,
amsgrad, centered, decoupled weight decay) travel in ``h`` too, so every variant is
the same loop. A state array a flag switches off is passed as ``empty(dtype)``.
"""
import math

import numpy as np

from .jit import numba_kernel, float_signatures

__all__ = ["sgd_step", "adagrad_step", "rmsprop_step", "adam_step", "adamax_step",
           "adadelta_step", "sgd_hyper", "adagrad_hyper", "rmsprop_hyper", "adam_hyper",
           "adamax_hyper", "adadelta_hyper", "empty", "KERNELS", "PACK_BELOW", "address",
           "gather_params", "scatter_params"]

_MODULE = "fastnn._kernels._nb_optim"
_EMPTY = {np.dtype(np.float32): np.empty(0, np.float32),
          np.dtype(np.float64): np.empty(0, np.float64)}


def empty(dtype):
    """The empty placeholder for a state array that is switched off."""
    return _EMPTY[np.dtype(dtype)]


def _declare(name, n_arrays):
    sig = float_signatures("void(" + ", ".join(["T[::1]"] * n_arrays) + ")")
    return numba_kernel(_MODULE, name, sig)


_sgd = _declare("sgd_step", 4)
_adagrad = _declare("adagrad_step", 4)
_rmsprop = _declare("rmsprop_step", 6)
_adam = _declare("adam_step", 6)
_adamax = _declare("adamax_step", 5)
_adadelta = _declare("adadelta_step", 5)


def sgd_step(p, g, buf, h):
    """SGD / momentum / Nesterov in place: ``p``, ``buf`` (empty without momentum)."""
    _sgd(p.size, p, g, buf, h)


def adagrad_step(p, g, state_sum, h):
    """Adagrad in place: ``p``, ``state_sum``."""
    _adagrad(p.size, p, g, state_sum, h)


def rmsprop_step(p, g, square_avg, grad_avg, momentum_buffer, h):
    """RMSprop in place; ``grad_avg`` (centered) and ``momentum_buffer`` may be empty."""
    _rmsprop(p.size, p, g, square_avg, grad_avg, momentum_buffer, h)


def adam_step(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, h):
    """Adam / AdamW / AMSGrad in place; ``max_exp_avg_sq`` is empty without amsgrad."""
    _adam(p.size, p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, h)


def adamax_step(p, g, exp_avg, exp_inf, h):
    """Adamax in place: ``p``, ``exp_avg``, ``exp_inf``."""
    _adamax(p.size, p, g, exp_avg, exp_inf, h)


def adadelta_step(p, g, square_avg, acc_delta, h):
    """Adadelta in place: ``p``, ``square_avg``, ``acc_delta``."""
    _adadelta(p.size, p, g, square_avg, acc_delta, h)


def _sign(maximize):
    return -1.0 if maximize else 1.0


def sgd_hyper(dtype, lr, momentum, dampening, weight_decay, nesterov, maximize, first):
    """``h`` of sgd_step: lr, momentum, 1-dampening, weight_decay, sign, nesterov,
    has_momentum, first (the buffer starts as the gradient itself)."""
    return np.array([lr, momentum, 1.0 - dampening, weight_decay, _sign(maximize),
                     bool(nesterov), momentum != 0, bool(first)], dtype)


def adagrad_hyper(dtype, lr, lr_decay, weight_decay, eps, step, maximize):
    """``h`` of adagrad_step: lr / (1 + (step - 1) lr_decay), weight_decay, eps, sign."""
    clr = lr / (1.0 + (step - 1) * lr_decay)
    return np.array([clr, weight_decay, eps, _sign(maximize)], dtype)


def rmsprop_hyper(dtype, lr, alpha, eps, weight_decay, momentum, centered, maximize):
    """``h`` of rmsprop_step: lr, alpha, 1-alpha, eps, weight_decay, momentum, sign,
    centered, has_momentum."""
    return np.array([lr, alpha, 1.0 - alpha, eps, weight_decay, momentum, _sign(maximize),
                     bool(centered), momentum > 0], dtype)


def adam_hyper(dtype, lr, beta1, beta2, eps, weight_decay, step, amsgrad, maximize,
               decoupled):
    """``h`` of adam_step: lr / (1 - beta1^t), 1-beta1, beta2, 1-beta2, eps, weight_decay,
    sign, 1 / sqrt(1 - beta2^t), 1 - lr weight_decay, decoupled, amsgrad."""
    bc1 = 1.0 - beta1 ** step
    bc2 = 1.0 - beta2 ** step
    return np.array([lr / bc1, 1.0 - beta1, beta2, 1.0 - beta2, eps, weight_decay,
                     _sign(maximize), 1.0 / math.sqrt(bc2), 1.0 - lr * weight_decay,
                     bool(decoupled) and weight_decay != 0, bool(amsgrad)], dtype)


def adamax_hyper(dtype, lr, beta1, beta2, eps, weight_decay, step, maximize):
    """``h`` of adamax_step: lr / (1 - beta1^t), 1-beta1, beta2, eps, weight_decay, sign."""
    clr = lr / (1.0 - beta1 ** step)
    return np.array([clr, 1.0 - beta1, beta2, eps, weight_decay, _sign(maximize)], dtype)


def adadelta_hyper(dtype, lr, rho, eps, weight_decay, maximize):
    """``h`` of adadelta_step: lr, rho, 1-rho, eps, weight_decay, sign."""
    return np.array([lr, rho, 1.0 - rho, eps, weight_decay, _sign(maximize)], dtype)


#: name -> (kernel, number of state arrays); the tests run every row against
#: reference_optim.<name>_step.
KERNELS = {
    "sgd": (sgd_step, 1),
    "adagrad": (adagrad_step, 1),
    "rmsprop": (rmsprop_step, 3),
    "adam": (adam_step, 3),
    "adamax": (adamax_step, 2),
    "adadelta": (adadelta_step, 2),
}


# --- many small parameters: one flat update per group --------------------------------

#: Parameters smaller than this are packed: their steps run as one flat kernel call.
PACK_BELOW = 1 << 15

_gather = numba_kernel(_MODULE, "gather_params",
                       float_signatures("void(int64[::1], int64[::1], T[::1])"))
_scatter = numba_kernel(_MODULE, "scatter_params",
                        float_signatures("void(T[::1], int64[::1], int64[::1])"))


def address(arr):
    """The address of a C-contiguous array's first element (for gather/scatter)."""
    return arr.__array_interface__["data"][0]


def gather_params(addresses, offsets, flat):
    """Copy the arrays at ``addresses`` (int64, C-contiguous, ``flat``'s dtype) into
    ``flat[offsets[j]:offsets[j + 1]]``. The caller keeps those arrays alive."""
    _gather(flat.size, addresses, offsets, flat)


def scatter_params(flat, addresses, offsets):
    """Copy ``flat[offsets[j]:offsets[j + 1]]`` back into the arrays at ``addresses``."""
    _scatter(flat.size, flat, addresses, offsets)
