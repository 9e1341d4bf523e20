"""RAdam: Adam with its adaptive step rectified while the variance estimate is
young, composed from NumPy operations (no kernel of its own; see
``Optimizer._step_param``)."""
import numpy as np

from .adam import _check_common
from .optimizer import Optimizer, adam_moments_

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam (same arguments, state and numbers as ``torch.optim.RAdam``).

    With g the gradient (negated when ``maximize``) and t the parameter's step:

        g <- g + lambda p            (decoupled_weight_decay: p <- p (1 - lr lambda))
        m <- beta1 m + (1 - beta1) g
        v <- beta2 v + (1 - beta2) g^2
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        rho_t > 5:  p <- p - lr m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t,
                    r_t = sqrt((rho_t - 4) (rho_t - 2) rho_inf / ((rho_inf - 4) (rho_inf - 2) rho_t))
        else:       p <- p - lr m / (1 - beta1^t)               (momentum SGD, no adaptive step)

    The state of a parameter holds ``step``, ``exp_avg`` (m) and ``exp_avg_sq`` (v),
    as torch's does.

    Args:
        params: Parameters or parameter groups (dicts).
        lr: learning rate (>= 0, default 1e-3). betas: (beta1, beta2), each in
            [0, 1). eps: >= 0. weight_decay: >= 0.
        decoupled_weight_decay: AdamW's decay. maximize: ascend.

    Raises:
        ValueError: a bad hyper-parameter (named with its value), an empty or
            repeated parameter.

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0, -2.0], np.float32))
    >>> opt = fn.optim.RAdam([w], lr=0.1)
    >>> w.grad = np.array([0.5, -3.0], np.float32); opt.step(); w.data   # rho_1 = 1: lr * g
    array([ 0.95, -1.7 ], dtype=float32)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _check(self, group):
        _check_common(self._owner, group)

    def _new_state(self, x, group):
        return {"step": 0, "exp_avg": np.zeros_like(x), "exp_avg_sq": np.zeros_like(x)}

    def _step_param(self, x, g, st, group):
        # torch's single-tensor RAdam, operation for operation: scalars in Python
        # floats (rounded to x's dtype by each NumPy operation, as torch rounds them)
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        step = st["step"]
        g = self._weight_decay(x, g, group)
        m, v = st["exp_avg"], st["exp_avg_sq"]
        t = np.empty_like(m)
        adam_moments_(m, v, g, beta1, beta2, t)
        bias_correction1 = 1.0 - beta1 ** step
        bias_correction2 = 1.0 - beta2 ** step
        u = np.divide(m, bias_correction1, out=t)    # m / bc1 * lr [* adaptive * rect]
        u *= lr
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            # torch's ``bc2 ** 0.5 / (sqrt(v) + eps)`` is reciprocal(...) * bc2 ** 0.5
            a = np.sqrt(v)
            a += eps
            np.reciprocal(a, out=a)
            a *= bias_correction2 ** 0.5
            u *= a
            u *= ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                  / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)) ** 0.5
        x -= u
