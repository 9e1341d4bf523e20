"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from .._kernels import optim as K
from .optimizer import Optimizer, check_number

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (same arguments and numbers as ``torch.optim.SGD``).

    With g the gradient (negated when ``maximize``), lambda the weight decay, mu the
    momentum, tau the dampening:

        g <- g + lambda p
        b <- g at the first step, else mu b + (1 - tau) g
        g <- g + mu b  (nesterov)  or  b  (momentum)
        p <- p - lr g

    The "Momentum" optimizer is ``SGD(params, lr, momentum=0.9)``.

    Args:
        params: Parameters or parameter groups (dicts).
        lr: learning rate (>= 0). momentum: >= 0. dampening: >= 0.
        weight_decay: L2 penalty (>= 0). nesterov: Nesterov momentum (needs a
            momentum > 0 and zero dampening). maximize: ascend instead of descend.

    Raises:
        ValueError: a bad hyper-parameter (named with its value), an empty or
            repeated parameter.

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0, -2.0], np.float32))
    >>> opt = fn.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> w.grad = np.array([1.0, 1.0], np.float32); opt.step()
    >>> w.grad = np.array([1.0, 1.0], np.float32); opt.step(); w.data
    array([ 0.71, -2.29], dtype=float32)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _check(self, group):
        for name in ("lr", "momentum", "dampening", "weight_decay"):
            check_number(self._owner, name, group[name])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"{self._owner}: nesterov=True needs momentum > 0 and "
                             f"dampening=0, got momentum={group['momentum']!r}, "
                             f"dampening={group['dampening']!r}.")

    def _new_state(self, x, group):
        return {}

    def _update(self, group):
        lr, mom, damp = group["lr"], group["momentum"], group["dampening"]
        wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        hs = {}
        for data, x, g, st in self._grads(group):
            buf = st.get("momentum_buffer") if mom != 0 else None
            first = mom != 0 and buf is None
            if first:  # the kernel fills it with the gradient
                buf = st["momentum_buffer"] = np.empty(data.shape, data.dtype)
            key = (first, x.dtype)
            h = hs.get(key)
            if h is None:
                h = hs[key] = K.sgd_hyper(x.dtype, lr, mom, damp, wd, nesterov, maximize, first)
            K.sgd_step(x, g, K.empty(x.dtype) if buf is None else buf.ravel(), h)
