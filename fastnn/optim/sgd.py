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

    _kernel = "sgd"

    def _new_state(self, x, group):
        return {}

    def _advance(self, st, x, group):
        """True at the momentum buffer's first step (the kernel fills it with the
        gradient); no step count, as torch's SGD keeps none."""
        if group["momentum"] == 0:
            return False
        if st.get("momentum_buffer") is None:
            st["momentum_buffer"] = np.empty(x.shape, x.dtype)
            return True
        return False

    def _hyper(self, group, dtype, first):
        mom = group["momentum"]
        return K.SGD.pack(dtype, lr=group["lr"], momentum=mom,
                          dampening_c=1.0 - group["dampening"],
                          weight_decay=group["weight_decay"],
                          sign=-1.0 if group["maximize"] else 1.0,
                          nesterov=bool(group["nesterov"]), has_momentum=mom != 0,
                          first=first)
