"""Adagrad, RMSprop and Adadelta: per-coordinate step sizes from running gradient
statistics, one fused kernel each."""
import numpy as np

from .._kernels import optim as K
from .optimizer import Optimizer, check_number

__all__ = ["Adagrad", "RMSprop", "Adadelta"]


class Adagrad(Optimizer):
    r"""Adagrad (same arguments and numbers as ``torch.optim.Adagrad``):

        g <- g + lambda p
        s <- s + g^2                    (s starts at initial_accumulator_value)
        p <- p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)

    Args:
        params: Parameters or parameter groups. lr, lr_decay, weight_decay,
            initial_accumulator_value, eps: all >= 0. maximize: ascend.

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0], np.float32))
    >>> opt = fn.optim.Adagrad([w], lr=0.1)
    >>> w.grad = np.array([2.0], np.float32); opt.step(); w.data
    array([0.9], dtype=float32)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _check(self, group):
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_number(self._owner, name, group[name])

    _kernel = "adagrad"

    def _new_state(self, x, group):
        return {"step": 0, "sum": np.full_like(x, group["initial_accumulator_value"])}

    def _hyper(self, group, dtype, step):
        return K.ADAGRAD.pack(dtype, clr=group["lr"] / (1.0 + (step - 1) * group["lr_decay"]),
                              weight_decay=group["weight_decay"], eps=group["eps"],
                              sign=-1.0 if group["maximize"] else 1.0)


class RMSprop(Optimizer):
    r"""RMSprop (same arguments and numbers as ``torch.optim.RMSprop``):

        g <- g + lambda p
        v <- alpha v + (1 - alpha) g^2
        centered: a <- alpha a + (1 - alpha) g;  v~ = v - a^2,  else v~ = v
        momentum: b <- mu b + g / (sqrt(v~) + eps);  p <- p - lr b
        else:     p <- p - lr g / (sqrt(v~) + eps)

    Args:
        params: Parameters or parameter groups. lr, alpha, eps, weight_decay,
            momentum: all >= 0. centered: normalise by the variance estimate.
        maximize: ascend.

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0], np.float64))
    >>> opt = fn.optim.RMSprop([w], lr=0.01, alpha=0.75)
    >>> w.grad = np.array([2.0]); opt.step(); w.data
    array([0.98])
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      maximize=maximize))

    def _check(self, group):
        for name in ("lr", "eps", "momentum", "weight_decay", "alpha"):
            check_number(self._owner, name, group[name])

    _kernel = "rmsprop"

    def _new_state(self, x, group):
        st = {"step": 0, "square_avg": np.zeros_like(x)}
        if group["momentum"] > 0:
            st["momentum_buffer"] = np.zeros_like(x)
        if group["centered"]:
            st["grad_avg"] = np.zeros_like(x)
        return st

    def _advance(self, st, x, group):
        st["step"] += 1
        # a flag switched on mid-run starts its state at zero; one switched off is
        # passed empty (the kernel reads the arrays its flags ask for, nothing else)
        for name, on in (("momentum_buffer", group["momentum"] > 0),
                         ("grad_avg", group["centered"])):
            if on and name not in st:
                st[name] = np.zeros(x.shape, x.dtype)
        return None     # h does not depend on the step

    def _hyper(self, group, dtype, key):
        alpha, mom = group["alpha"], group["momentum"]
        return K.RMSPROP.pack(dtype, lr=group["lr"], alpha=alpha, alpha_c=1.0 - alpha,
                              eps=group["eps"], weight_decay=group["weight_decay"],
                              momentum=mom, sign=-1.0 if group["maximize"] else 1.0,
                              centered=bool(group["centered"]), has_momentum=mom > 0)


class Adadelta(Optimizer):
    r"""Adadelta (same arguments and numbers as ``torch.optim.Adadelta``):

        g <- g + lambda p
        v <- rho v + (1 - rho) g^2
        d <- sqrt(u + eps) / sqrt(v + eps) * g
        u <- rho u + (1 - rho) d^2
        p <- p - lr d

    Args:
        params: Parameters or parameter groups. lr: >= 0 (default 1.0).
        rho: in [0, 1]. eps, weight_decay: >= 0. maximize: ascend.

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0], np.float64))
    >>> opt = fn.optim.Adadelta([w], rho=0.0, eps=1.0)
    >>> w.grad = np.array([3.0]); opt.step(); w.data
    array([0.0513167])
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _check(self, group):
        for name in ("lr", "eps", "weight_decay"):
            check_number(self._owner, name, group[name])
        check_number(self._owner, "rho", group["rho"], 0.0, 1.0)

    _kernel = "adadelta"

    def _new_state(self, x, group):
        return {"step": 0, "square_avg": np.zeros_like(x), "acc_delta": np.zeros_like(x)}

    def _advance(self, st, x, group):
        st["step"] += 1
        return None     # h does not depend on the step

    def _hyper(self, group, dtype, key):
        rho = group["rho"]
        return K.ADADELTA.pack(dtype, lr=group["lr"], rho=rho, rho_c=1.0 - rho, eps=group["eps"],
                               weight_decay=group["weight_decay"],
                               sign=-1.0 if group["maximize"] else 1.0)
