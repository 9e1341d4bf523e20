"""Keras-style optimizers (``fn.optimizers``): Keras 3's names, arguments, defaults and
update rules, made without parameters (``fn.optimizers.Adam(learning_rate=1e-3)``)
and bound to a model's weights by ``compile``/``fit``.

Adam and AdamW run fastnn's fused Adam kernel (``fn.optim``'s) with Keras's epsilon:
Keras adds epsilon to sqrt(v) before the bias correction, which is torch's form with
epsilon / sqrt(1 - beta_2^t), set each step. The bias correction counts each
variable's updates (Keras: the optimizer's ``iterations``), the same unless a
variable misses steps or gradients are accumulated. The other optimizers are Keras's
update rules written here in NumPy. ``fn.optim`` keeps torch's classes and math.

>>> import numpy as np, fastnn as fn
>>> w = fn.nn.Parameter(np.array([1.0, -2.0], np.float32))
>>> opt = fn.optimizers.Adam(learning_rate=0.1)
>>> opt.apply([np.array([0.5, -3.0], np.float32)], [w]); w.data.round(4)   # lr * sign(g)
array([ 0.9, -1.9], dtype=float32)
"""
import math

import numpy as np

from .. import optim as _optim
from . import schedules
from .base import Optimizer, _number

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax",
           "Nadam", "schedules", "get", "ALL_OPTIMIZERS"]

_BASE_DOC = """
    Common arguments (all optimizers): weight_decay, clipnorm, clipvalue,
    global_clipnorm, loss_scale_factor, gradient_accumulation_steps, name; see
    ``fn.optimizers.Optimizer``."""


def _beta(owner, name, v):
    v = _number(owner, name, v)
    if not v < 1:
        raise ValueError(f"{owner}: {name} must be in [0, 1), got {v!r}.")
    return v


class SGD(Optimizer):
    __doc__ = """Gradient descent with momentum, as ``keras.optimizers.SGD``:
    m <- momentum·m - lr·g; p <- p + m (nesterov: p <- p + momentum·m - lr·g);
    without momentum p <- p - lr·g.

    Args:
        learning_rate: default 0.01. momentum: >= 0 (default 0). nesterov: bool.
    """ + _BASE_DOC + """

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0], np.float32))
    >>> opt = fn.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    >>> for _ in range(2): opt.apply([np.array([1.0], np.float32)], [w])
    >>> w.data   # 1 - 0.1 - (0.9·0.1 + 0.1)
    array([0.71], dtype=float32)
    """

    _defaults = {"momentum": 0.0, "nesterov": False}

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="SGD", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, **kwargs)
        self.momentum = _number("SGD", "momentum", momentum)
        self.nesterov = bool(nesterov)

    def _new_state(self, x):
        return {"momentum": np.zeros_like(x)} if self.momentum else {}

    def _update(self, x, g, state, lr, t):
        if not self.momentum:
            x -= g * lr
            return
        m = state["momentum"]
        m *= self.momentum
        m -= g * lr
        if self.nesterov:
            x += m * self.momentum - g * lr
        else:
            x += m


class RMSprop(Optimizer):
    __doc__ = """RMSprop, as ``keras.optimizers.RMSprop``: v <- rho·v + (1-rho)·g²;
    p <- p - lr·g / sqrt(v + eps) (centered: v - mean(g)² + eps; with momentum the step
    goes through m <- momentum·m + step).

    Args:
        learning_rate: default 0.001. rho: default 0.9. momentum: default 0.
        epsilon: default 1e-7. centered: bool.
    """ + _BASE_DOC + """

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0], np.float64))
    >>> opt = fn.optimizers.RMSprop(learning_rate=0.1)
    >>> opt.apply([np.array([2.0])], [w]); w.data.round(4)   # 1 - 0.1·2/sqrt(0.4)
    array([0.6838])
    """

    _defaults = {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False}

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name="rmsprop",
                 **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, **kwargs)
        self.rho = _beta("RMSprop", "rho", rho)
        self.momentum = _number("RMSprop", "momentum", momentum)
        self.epsilon = _number("RMSprop", "epsilon", epsilon)
        self.centered = bool(centered)

    def _new_state(self, x):
        st = {"velocity": np.zeros_like(x)}
        if self.momentum > 0:
            st["momentum"] = np.zeros_like(x)
        if self.centered:
            st["average_gradient"] = np.zeros_like(x)
        return st

    def _update(self, x, g, state, lr, t):
        v, rho = state["velocity"], self.rho
        v *= rho
        v += (1 - rho) * (g * g)
        if self.centered:
            a = state["average_gradient"]
            a *= rho
            a += (1 - rho) * g
            denom = v - a * a + self.epsilon
        else:
            denom = v + self.epsilon
        step = (g * lr) / np.sqrt(denom)
        if self.momentum > 0:
            m = state["momentum"]
            m *= self.momentum
            m += step
            x -= m
        else:
            x -= step


class Adam(Optimizer):
    __doc__ = """Adam, as ``keras.optimizers.Adam``: m <- β1·m + (1-β1)·g; v <- β2·v + (1-β2)·g²
    (amsgrad: the running max of v); p <- p - lr·sqrt(1-β2^t)/(1-β1^t) · m/(sqrt(v) + ε).

    Args:
        learning_rate: default 0.001. beta_1: default 0.9. beta_2: default 0.999.
        epsilon: default 1e-7. amsgrad: bool.
    """ + _BASE_DOC + """

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0, 1.0], np.float32))
    >>> opt = fn.optimizers.Adam(learning_rate=0.1)
    >>> opt.apply([np.array([1.0, -1.0], np.float32)], [w]); w.data.round(4)   # 1 -+ lr
    array([0.9, 1.1], dtype=float32)
    """

    _defaults = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adam", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, **kwargs)
        owner = type(self).__name__
        self.beta_1 = _beta(owner, "beta_1", beta_1)
        self.beta_2 = _beta(owner, "beta_2", beta_2)
        self.epsilon = _number(owner, "epsilon", epsilon)
        self.amsgrad = bool(amsgrad)
        self._engine = None

    def build(self, var_list):
        super().build(var_list)
        self._engine = _optim.Adam(self._variables, lr=0.0, betas=(self.beta_1, self.beta_2),
                                   eps=self.epsilon, amsgrad=self.amsgrad)

    @property
    def variables(self):
        return [a for st in self._engine.state.values() for a in st.values()
                if isinstance(a, np.ndarray)] if self._engine else []

    def _update_all(self, grads, variables, lr):
        engine = self._engine
        in_engine = {id(p) for g in engine.param_groups for p in g["params"]}
        new = [p for p in variables if id(p) not in in_engine]
        if new:
            engine.add_param_group({"params": new})
        given = {id(p) for p in variables}
        held = [(p, p.grad) for g in engine.param_groups for p in g["params"]
                if id(p) not in given and p.grad is not None]
        for p, _ in held:       # only the variables given are updated
            p.grad = None
        for g, p in zip(grads, variables):
            p.grad = g
        eps = self.epsilon / math.sqrt(1.0 - self.beta_2 ** (self.iterations + 1))
        for group in engine.param_groups:
            group["lr"], group["eps"] = lr, eps
        try:
            engine.step()
        finally:
            for p, g in held:
                p.grad = g


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004), as ``keras.optimizers.AdamW``:
    p <- p - p·weight_decay·lr before the Adam update.

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0], np.float32))
    >>> opt = fn.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> opt.apply([np.array([1.0], np.float32)], [w]); w.data
    array([0.85], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a number (Keras's default 0.004), "
                             "got None.")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm,
                         clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps,
                         name, **kwargs)


class Adagrad(Optimizer):
    __doc__ = """Adagrad, as ``keras.optimizers.Adagrad``: a <- a + g² (a starts at
    initial_accumulator_value); p <- p - lr·g / sqrt(a + ε).

    Args:
        learning_rate: default 0.001. initial_accumulator_value: default 0.1.
        epsilon: default 1e-7.
    """ + _BASE_DOC + """

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0]))
    >>> opt = fn.optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=0.0)
    >>> opt.apply([np.array([3.0])], [w]); w.data
    array([0.9])
    """

    _defaults = {"initial_accumulator_value": 0.1, "epsilon": 1e-7}

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name="adagrad",
                 **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, **kwargs)
        self.initial_accumulator_value = _number("Adagrad", "initial_accumulator_value",
                                                 initial_accumulator_value)
        self.epsilon = _number("Adagrad", "epsilon", epsilon)

    def _new_state(self, x):
        return {"accumulator": np.full_like(x, self.initial_accumulator_value)}

    def _update(self, x, g, state, lr, t):
        a = state["accumulator"]
        a += g * g
        x -= (g * lr) / np.sqrt(a + self.epsilon)


class Adadelta(Optimizer):
    __doc__ = """Adadelta, as ``keras.optimizers.Adadelta``: a <- ρ·a + (1-ρ)·g²;
    Δ = -sqrt(d + ε)·g / sqrt(a + ε); d <- ρ·d + (1-ρ)·Δ²; p <- p + lr·Δ.

    Args:
        learning_rate: default 0.001. rho: default 0.95. epsilon: default 1e-7.
    """ + _BASE_DOC + """

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0]))
    >>> opt = fn.optimizers.Adadelta(learning_rate=1.0, rho=0.0, epsilon=1.0)
    >>> opt.apply([np.array([1.0])], [w]); w.data.round(4)   # 1 - 1/sqrt(2)
    array([0.2929])
    """

    _defaults = {"rho": 0.95, "epsilon": 1e-7}

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adadelta", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, **kwargs)
        self.rho = _beta("Adadelta", "rho", rho)
        self.epsilon = _number("Adadelta", "epsilon", epsilon)

    def _new_state(self, x):
        return {"accumulated_grad": np.zeros_like(x), "accumulated_delta_var": np.zeros_like(x)}

    def _update(self, x, g, state, lr, t):
        a, d, rho = state["accumulated_grad"], state["accumulated_delta_var"], self.rho
        a *= rho
        a += (1 - rho) * (g * g)
        delta = -(np.sqrt(d + self.epsilon) * g) / np.sqrt(a + self.epsilon)
        d *= rho
        d += (1 - rho) * (delta * delta)
        x += delta * lr


class Adamax(Optimizer):
    __doc__ = """Adamax, as ``keras.optimizers.Adamax``: m <- β1·m + (1-β1)·g;
    u <- max(β2·u, |g|); p <- p - lr·m / ((1-β1^t)·(u + ε)).

    Args:
        learning_rate: default 0.001. beta_1: 0.9. beta_2: 0.999. epsilon: 1e-7.
    """ + _BASE_DOC + """

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0]))
    >>> opt = fn.optimizers.Adamax(learning_rate=0.1, epsilon=0.0)
    >>> opt.apply([np.array([2.0])], [w]); w.data
    array([0.9])
    """

    _defaults = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name="adamax",
                 **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, **kwargs)
        self.beta_1 = _beta("Adamax", "beta_1", beta_1)
        self.beta_2 = _beta("Adamax", "beta_2", beta_2)
        self.epsilon = _number("Adamax", "epsilon", epsilon)

    def _new_state(self, x):
        return {"m": np.zeros_like(x), "u": np.zeros_like(x)}

    def _update(self, x, g, state, lr, t):
        m, u = state["m"], state["u"]
        m += (g - m) * (1 - self.beta_1)
        np.maximum(u * self.beta_2, np.abs(g), out=u)
        x -= (m * lr) / ((1 - self.beta_1 ** t) * (u + self.epsilon))


class Nadam(Optimizer):
    __doc__ = """Nadam (Adam with Nesterov momentum), as ``keras.optimizers.Nadam``, with its
    momentum schedule μ_t = β1·(1 - 0.5·0.96^t).

    Args:
        learning_rate: default 0.001. beta_1: 0.9. beta_2: 0.999. epsilon: 1e-7.
    """ + _BASE_DOC + """

    >>> import numpy as np, fastnn as fn
    >>> w = fn.nn.Parameter(np.array([1.0]))
    >>> opt = fn.optimizers.Nadam(learning_rate=0.1)
    >>> opt.apply([np.array([2.0])], [w]); bool(w.data[0] < 1.0)
    True
    """

    _defaults = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name="nadam",
                 **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, **kwargs)
        self.beta_1 = _beta("Nadam", "beta_1", beta_1)
        self.beta_2 = _beta("Nadam", "beta_2", beta_2)
        self.epsilon = _number("Nadam", "epsilon", epsilon)
        self._u_product = 1.0

    def _new_state(self, x):
        return {"momentum": np.zeros_like(x), "velocity": np.zeros_like(x)}

    def _update_all(self, grads, variables, lr):
        t = self.iterations + 1
        self._u_product *= self.beta_1 * (1.0 - 0.5 * 0.96 ** t)
        super()._update_all(grads, variables, lr)

    def _update(self, x, g, state, lr, t):
        b1, b2 = self.beta_1, self.beta_2
        u_t = b1 * (1.0 - 0.5 * 0.96 ** t)
        u_t_1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_product_t = self._u_product
        u_product_t_1 = u_product_t * u_t_1
        m, v = state["momentum"], state["velocity"]
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product_t)
        v_hat = v / (1 - b2 ** t)
        x -= (m_hat * lr) / (np.sqrt(v_hat) + self.epsilon)


#: Keras's names (any case) -> optimizer classes.
ALL_OPTIMIZERS = {c.__name__.lower(): c for c in (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta,
                                                  Adamax, Nadam)}


def get(identifier):
    """An optimizer from a name ('adam', 'SGD', 'rmsprop', ... any case; Keras's
    defaults), a class, an instance (returned as is) or a config dict
    ``{'class_name': ..., 'config': {...}}``.

    Raises:
        ValueError: an unknown name (the valid ones are listed). TypeError: anything else.

    >>> get("adam").learning_rate, get("sgd").learning_rate
    (0.001, 0.01)
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, dict) and isinstance(identifier.get("class_name"), str):
        cls = ALL_OPTIMIZERS.get(identifier["class_name"].lower())
        if cls is not None:
            return cls(**identifier.get("config", {}))
        identifier = identifier["class_name"]
    if isinstance(identifier, str):
        cls = ALL_OPTIMIZERS.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer {identifier!r}; the valid names are: "
                             f"{', '.join(sorted(ALL_OPTIMIZERS))}.")
        return cls()
    raise TypeError(f"optimizers.get: expected an optimizer name, class or instance, got "
                    f"{type(identifier).__name__} {identifier!r}.")


def serialize(optimizer):
    """``{'class_name': ..., 'config': {...}}`` for a built-in optimizer (None for a
    schedule-driven or custom one, which a saved model cannot hold).

    >>> serialize(SGD(learning_rate=0.5))["config"]["learning_rate"]
    0.5
    """
    cls = ALL_OPTIMIZERS.get(type(optimizer).__name__.lower())
    if cls is not type(optimizer) or not isinstance(optimizer._learning_rate, float):
        return None
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
