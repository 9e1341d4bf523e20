"""Adam, AdamW (decoupled weight decay) and Adamax: one fused kernel each, every
variant (amsgrad, maximize, weight decay) a flag of it."""
import math

import numpy as np

from .._kernels import optim as K
from .optimizer import Optimizer, check_number

__all__ = ["Adam", "AdamW", "Adamax"]


def _check_betas(owner, group):
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{owner}: expected betas to be a pair (beta1, beta2), got "
                         f"betas={betas!r}.")
    for i, b in enumerate(betas):
        check_number(owner, f"betas[{i}]", b, 0.0, 1.0, high_open=True)


def _check_common(owner, group):
    check_number(owner, "lr", group["lr"])
    check_number(owner, "eps", group["eps"])
    check_number(owner, "weight_decay", group["weight_decay"])
    _check_betas(owner, group)


class Adam(Optimizer):
    r"""Adam (same arguments and numbers as ``torch.optim.Adam``).

    With g the gradient (negated when ``maximize``) and t the parameter's step:

        g <- g + lambda p            (weight decay; AdamW: p <- p (1 - lr lambda))
        m <- beta1 m + (1 - beta1) g
        v <- beta2 v + (1 - beta2) g^2          (amsgrad: v_max <- max(v_max, v))
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Args:
        params: Parameters or parameter groups (dicts).
        lr: learning rate (>= 0). betas: (beta1, beta2), each in [0, 1).
        eps: >= 0. weight_decay: >= 0. amsgrad: use the running maximum of v.
        maximize: ascend. decoupled_weight_decay: AdamW's decay.

    Raises:
        ValueError: a bad hyper-parameter (named with its value), an empty or
            repeated parameter.

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0, -2.0]))      # float64 stays float64
    >>> opt = fn.optim.Adam([w], lr=0.1)
    >>> w.grad = np.array([0.5, -3.0]); opt.step(); w.data   # first step: lr * sign(g)
    array([ 0.9, -1.9])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    _kernel = "adam"

    def _check(self, group):
        _check_common(self._owner, group)

    def _new_state(self, x, group):
        st = {"step": 0, "exp_avg": np.zeros_like(x), "exp_avg_sq": np.zeros_like(x)}
        if group["amsgrad"]:
            st["max_exp_avg_sq"] = np.zeros_like(x)
        return st

    def _advance(self, st, x, group):
        if group["amsgrad"] and "max_exp_avg_sq" not in st:   # switched on mid-run
            st["max_exp_avg_sq"] = np.zeros(x.shape, x.dtype)
        return super()._advance(st, x, group)

    def _hyper(self, group, dtype, step):
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        return K.ADAM.pack(
            dtype, step_size=lr / (1.0 - beta1 ** step), beta1_c=1.0 - beta1, beta2=beta2,
            beta2_c=1.0 - beta2, eps=group["eps"], weight_decay=wd,
            sign=-1.0 if group["maximize"] else 1.0,
            inv_bc2_sqrt=1.0 / math.sqrt(1.0 - beta2 ** step), decay=1.0 - lr * wd,
            decoupled=bool(group["decoupled_weight_decay"]) and wd != 0,
            amsgrad=bool(group["amsgrad"]))


class AdamW(Adam):
    r"""Adam with decoupled weight decay (same as ``torch.optim.AdamW``):
    ``p <- p (1 - lr weight_decay)`` before the Adam update; default weight_decay 1e-2.

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0], np.float32))
    >>> opt = fn.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = np.array([1.0], np.float32); opt.step(); w.data
    array([0.85], dtype=float32)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)


class Adamax(Optimizer):
    r"""Adamax, Adam with the infinity norm (same as ``torch.optim.Adamax``):

        g <- g + lambda p
        m <- beta1 m + (1 - beta1) g
        u <- max(beta2 u, |g| + eps)
        p <- p - lr / (1 - beta1^t) * m / u

    Args:
        params: Parameters or parameter groups. lr: >= 0 (default 2e-3).
        betas: each in [0, 1). eps: >= 0. weight_decay: >= 0. maximize: ascend.

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0], np.float32))
    >>> opt = fn.optim.Adamax([w], lr=0.1)
    >>> w.grad = np.array([2.0], np.float32); opt.step(); w.data
    array([0.9], dtype=float32)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    _kernel = "adamax"

    def _check(self, group):
        _check_common(self._owner, group)

    def _new_state(self, x, group):
        return {"step": 0, "exp_avg": np.zeros_like(x), "exp_inf": np.zeros_like(x)}

    def _hyper(self, group, dtype, step):
        (beta1, beta2) = group["betas"]
        return K.ADAMAX.pack(dtype, clr=group["lr"] / (1.0 - beta1 ** step),
                             beta1_c=1.0 - beta1, beta2=beta2, eps=group["eps"],
                             weight_decay=group["weight_decay"],
                             sign=-1.0 if group["maximize"] else 1.0)
