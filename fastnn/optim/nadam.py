"""NAdam: Adam with Nesterov momentum, composed from NumPy operations (no kernel of
its own; see ``Optimizer._step_param``)."""
import numpy as np

from .adam import _check_common
from .optimizer import Optimizer, check_number, adam_moments_

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (same arguments, state and numbers as ``torch.optim.NAdam``).

    With g the gradient (negated when ``maximize``), t the parameter's step and
    psi the momentum decay:

        g <- g + lambda p            (decoupled_weight_decay: p <- p (1 - lr lambda))
        mu_t = beta1 (1 - 0.96^(t psi) / 2);   P_t = mu_1 ... mu_t
        m <- beta1 m + (1 - beta1) g
        v <- beta2 v + (1 - beta2) g^2
        p <- p - lr [(1 - mu_t) / (1 - P_t) g + mu_{t+1} / (1 - P_t mu_{t+1}) m]
                    / (sqrt(v / (1 - beta2^t)) + eps)

    The state of a parameter holds ``step``, ``mu_product`` (P_t, a float),
    ``exp_avg`` (m) and ``exp_avg_sq`` (v), as torch's does; ``mu_product`` is
    kept in double precision (torch keeps it in its default dtype, float32 unless
    changed, which moves float64 steps by about 1e-8 relative). Keras's
    ``Nadam`` is another schedule (0.96^t: no momentum decay), so ``fn.optim.get``
    has no "nadam"; ``fn.optimizers.Nadam`` is Keras's.

    Args:
        params: Parameters or parameter groups (dicts).
        lr: learning rate (>= 0, default 2e-3). betas: (beta1, beta2), each in
            [0, 1). eps: >= 0. weight_decay: >= 0. momentum_decay: psi (>= 0).
        decoupled_weight_decay: AdamW's decay (NAdamW). maximize: ascend.

    Raises:
        ValueError: a bad hyper-parameter (named with its value), an empty or
            repeated parameter.

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0, -2.0]))      # float64 stays float64
    >>> opt = fn.optim.NAdam([w], lr=0.1)
    >>> w.grad = np.array([0.5, -3.0]); opt.step(); w.data   # as torch: 0.8944, -1.8944
    array([ 0.89435482, -1.89435482])
    >>> sorted(opt.state_dict()["state"][0])
    ['exp_avg', 'exp_avg_sq', 'mu_product', 'step']
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _check(self, group):
        _check_common(self._owner, group)
        check_number(self._owner, "momentum_decay", group["momentum_decay"])

    def _new_state(self, x, group):
        return {"step": 0, "mu_product": 1.0, "exp_avg": np.zeros_like(x),
                "exp_avg_sq": np.zeros_like(x)}

    def _step_param(self, x, g, st, group):
        # torch's single-tensor NAdam, operation for operation: scalars in Python
        # floats (rounded to x's dtype by each NumPy operation, as torch rounds them)
        lr, eps, psi = float(group["lr"]), float(group["eps"]), float(group["momentum_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        step = st["step"]
        bias_correction2 = 1.0 - beta2 ** step
        g = self._weight_decay(x, g, group)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        mu_product = st["mu_product"] = st["mu_product"] * mu
        m, v = st["exp_avg"], st["exp_avg_sq"]
        t = np.empty_like(m)
        adam_moments_(m, v, g, beta1, beta2, t)
        denom = np.divide(v, bias_correction2, out=t)
        np.sqrt(denom, out=denom)
        denom += eps
        u = np.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_product))   # x.addcdiv_(g, denom, c)
        u /= denom
        x += u
        np.multiply(m, (-lr * mu_next) / (1.0 - mu_product * mu_next), out=u)
        u /= denom
        x += u
