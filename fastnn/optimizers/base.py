"""``Optimizer``: the base of the Keras-style optimizers (``fn.optimizers``).

As in Keras 3, an optimizer is made without parameters and builds its state for the
variables it first updates (``build``); ``apply(grads, variables)`` clips the
gradients (clipnorm, clipvalue, global_clipnorm), applies the decoupled weight decay
(p <- p - p·weight_decay·lr), runs each variable's update and counts ``iterations``.
``step()``/``zero_grad()`` do the same from the variables' ``.grad``, as a
``fn.optim`` optimizer would, which is how ``fit`` drives it.
"""
import math
import numbers

import numpy as np

from .. import _checks
from ..tensor import Tensor
from .schedules import LearningRateSchedule

__all__ = ["Optimizer"]


def _number(owner, name, value, low=0.0, allow_none=False, open_low=False):
    if value is None and allow_none:
        return None
    return _checks.real(owner, name, value, low=low, low_open=open_low)


class Optimizer:
    """Base class of the Keras-style optimizers (same arguments as
    ``keras.optimizers.Optimizer``).

    Args:
        learning_rate: a float >= 0, a ``fn.optimizers.schedules`` schedule (called
            with ``iterations``) or a callable without arguments.
        weight_decay: decoupled decay (p <- p - p·wd·lr before each update), or None.
        clipnorm: clip each gradient to this L2 norm. clipvalue: clip elements to
            [-v, v]. global_clipnorm: clip all gradients together to this norm (one of
            the three at most).
        loss_scale_factor: gradients are divided by it. gradient_accumulation_steps:
            update every n-th step with the mean of the n gradients.
        name: the optimizer's name.

    Raises:
        ValueError: a bad value (named), several clipping options, ``lr=`` (use
            ``learning_rate=``), or ``use_ema=True`` (not supported by fastnn).
        TypeError: an unknown keyword argument.

    >>> import numpy as np, fastnn as fn
    >>> opt = fn.optimizers.get('adam')
    >>> isinstance(opt, fn.optimizers.Optimizer), opt.get_config()['learning_rate']
    (True, 0.001)
    """

    _defaults = {}

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        owner = type(self).__name__
        if "lr" in kwargs:
            raise ValueError(f"{owner}: the argument `lr` is not supported; use "
                             f"`learning_rate={kwargs['lr']!r}` instead (Keras's name).")
        if kwargs:
            raise TypeError(f"{owner}: unexpected argument(s) {sorted(kwargs)}.")
        if use_ema:
            raise ValueError(f"{owner}: use_ema=True is not supported by fastnn.")
        self.name = name or owner.lower()
        self._learning_rate = None
        self.learning_rate = learning_rate
        self.weight_decay = _number(owner, "weight_decay", weight_decay, allow_none=True)
        self.clipnorm = _number(owner, "clipnorm", clipnorm, allow_none=True, open_low=True)
        self.clipvalue = _number(owner, "clipvalue", clipvalue, allow_none=True, open_low=True)
        self.global_clipnorm = _number(owner, "global_clipnorm", global_clipnorm, allow_none=True,
                                       open_low=True)
        if sum(v is not None for v in (self.clipnorm, self.clipvalue, self.global_clipnorm)) > 1:
            raise ValueError(f"{owner}: only one of clipnorm, clipvalue and global_clipnorm can "
                             f"be set; got clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}.")
        self.use_ema, self.ema_momentum = False, ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = _number(owner, "loss_scale_factor", loss_scale_factor,
                                         allow_none=True, open_low=True)
        if gradient_accumulation_steps is not None:
            gradient_accumulation_steps = _checks.positive_int(
                owner, "gradient_accumulation_steps", gradient_accumulation_steps)
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.iterations = 0
        self.built = False
        # state by position in _variables (never by id(), which another process or an
        # unpickled copy does not share); _slots maps id -> position in this process only
        self._variables = []
        self._state = []        # per variable: {slot name: ndarray}
        self._accumulated = {}  # position -> summed gradient
        self._slots = None

    # --- learning rate ------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The learning rate now (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return float(lr(self.iterations))
        if callable(lr):
            return float(lr())
        return lr

    @learning_rate.setter
    def learning_rate(self, value):
        owner = type(self).__name__
        if isinstance(value, LearningRateSchedule) or (callable(value) and
                                                       not isinstance(value, numbers.Real)):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError(f"{owner}: this optimizer was created with a LearningRateSchedule, so "
                            f"its learning rate cannot be set; create it with a float "
                            f"learning_rate to change it during training.")
        if isinstance(value, (np.ndarray, Tensor)):
            value = float(np.asarray(getattr(value, "data", value)))
        self._learning_rate = _number(owner, "learning_rate", value)

    # --- building and applying ------------------------------------------------------------
    @property
    def variables(self):
        """The optimizer's state arrays (as Keras's optimizer variables)."""
        return [a for st in self._state for a in st.values()]

    def build(self, var_list):
        """Create the state of every variable in ``var_list`` (Parameters)."""
        var_list = list(var_list)
        for i, p in enumerate(var_list):
            if not isinstance(p, Tensor) or p.data.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}.build: var_list[{i}] must be a float "
                                f"Parameter, got {type(p).__name__}.")
        self._variables = var_list
        self._state = [self._new_state(p.data) for p in var_list]
        self._slots = None
        self.built = True

    def _slot(self, p):
        """The position of variable ``p`` (added when new)."""
        slots = self._slots
        if slots is None or len(slots) != len(self._variables):
            slots = self._slots = {id(v): i for i, v in enumerate(self._variables)}
        i = slots.get(id(p))
        if i is None:
            i = slots[id(p)] = len(self._variables)
            self._variables.append(p)
            self._state.append(self._new_state(p.data))
        return i

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_slots"] = None
        return state

    def _new_state(self, x):
        return {}

    def zero_grad(self, set_to_none=True):
        """Clear the built variables' gradients."""
        for p in self._variables:
            p.grad = None

    def step(self):
        """Update every built variable that has a gradient (its ``.grad``)."""
        pairs = [(p.grad, p) for p in self._variables if p.grad is not None]
        if pairs:
            self._apply([g for g, _ in pairs], [p for _, p in pairs])
        else:
            self.iterations += 1

    def apply_gradients(self, grads_and_vars):
        """Update with a list of (gradient, variable) pairs, as Keras.

        >>> import numpy as np, fastnn as fn
        >>> w = fn.nn.Parameter(np.array([1.0], np.float32))
        >>> opt = fn.optimizers.SGD(learning_rate=0.1)
        >>> opt.apply_gradients([(np.array([2.0], np.float32), w)]); w.data
        array([0.8], dtype=float32)
        """
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def apply(self, grads, trainable_variables=None):
        """Update ``trainable_variables`` (default: the built ones) with ``grads``."""
        grads = list(grads)
        if trainable_variables is None:
            if not self.built:
                raise ValueError(f"{type(self).__name__}.apply: pass the variables with the "
                                 f"gradients, or build the optimizer on them first.")
            trainable_variables = self._variables
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.apply: got {len(grads)} gradients for "
                             f"{len(variables)} variables.")
        if not self.built:
            self.build(variables)
        for p in variables:
            self._slot(p)
        pairs = []
        for g, p in zip(grads, variables):
            if g is None:
                continue
            g = np.asarray(getattr(g, "data", g))
            if g.shape != p.shape:
                raise ValueError(f"{type(self).__name__}: a gradient of shape {g.shape} for a "
                                 f"variable of shape {p.shape}.")
            pairs.append((g.astype(p.data.dtype, copy=False), p))
        if not pairs:
            self.iterations += 1
            return
        self._apply([g for g, _ in pairs], [p for _, p in pairs])

    def _apply(self, grads, variables):
        if self.loss_scale_factor is not None:
            grads = [g / self.loss_scale_factor for g in grads]
        k = self.gradient_accumulation_steps
        if k:
            acc = self._accumulated
            for g, p in zip(grads, variables):
                i = self._slot(p)
                acc[i] = g.copy() if acc.get(i) is None else acc[i] + g
            if (self.iterations + 1) % k:
                self.iterations += 1
                return
            grads = [acc.pop(self._slot(p), np.zeros_like(p.data)) / k for p in variables]
        grads = self._clip(grads)
        lr = self.learning_rate
        if self.weight_decay:
            for p in variables:
                p.data -= p.data * (self.weight_decay * lr)
        self._update_all(grads, variables, lr)
        self.iterations += 1

    def _clip(self, grads):
        if self.clipnorm:
            out = []
            for g in grads:
                n = float(np.sqrt(np.sum(np.square(g, dtype=np.float64))))
                out.append(g * (self.clipnorm / max(n, self.clipnorm)) if n > 0 else g)
            return out
        if self.global_clipnorm:
            n = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
            scale = self.global_clipnorm * min(1.0 / n if n else math.inf,
                                               1.0 / self.global_clipnorm)
            if not math.isfinite(n):
                scale = math.nan
            return [g * scale for g in grads]
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _update_all(self, grads, variables, lr):
        t = self.iterations + 1
        for g, p in zip(grads, variables):
            self._update(p.data, g, self._state[self._slot(p)], lr, t)

    def _update(self, x, g, state, lr, t):
        raise NotImplementedError(f"{type(self).__name__} does not define _update().")

    # --- config -------------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        cfg = {"name": self.name,
               "learning_rate": lr if isinstance(lr, float) else self.learning_rate,
               "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
               "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
               "loss_scale_factor": self.loss_scale_factor,
               "gradient_accumulation_steps": self.gradient_accumulation_steps}
        cfg.update({k: getattr(self, k) for k in self._defaults})
        return cfg

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} learning_rate={self.learning_rate}>"
