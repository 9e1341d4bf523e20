"""Learning-rate schedulers (same numbers as ``torch.optim.lr_scheduler``).

A scheduler sets ``group['lr']`` of its optimizer's groups; call ``scheduler.step()``
after ``optimizer.step()``, once per epoch (ReduceLROnPlateau: ``step(metric)``).
The closed forms come from torch; where torch updates recursively (Step, MultiStep,
Exponential, CosineAnnealing) so does this module, so the numbers match to the ulp.
"""
import math
from collections import Counter

from .. import _checks
from .optimizer import Optimizer

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR",
           "CosineAnnealingLR", "ReduceLROnPlateau", "ConstantLR", "LinearLR", "PolynomialLR",
           "OneCycleLR", "SequentialLR", "ChainedScheduler"]


class LRScheduler:
    """Base class: keeps ``base_lrs`` (each group's ``initial_lr``), ``last_epoch``
    and the last learning rates; subclasses give ``get_lr()``.

    Args:
        optimizer: a fastnn Optimizer.
        last_epoch: the index of the last epoch when resuming (-1 to start).
    """

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected a fastnn Optimizer, got "
                            f"{type(optimizer).__name__}.")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                               f"when resuming a scheduler with last_epoch={last_epoch}.")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self):
        raise NotImplementedError

    def get_last_lr(self):
        """The learning rates the last ``step()`` set, one per group."""
        return self._last_lr

    def step(self):
        """Advance one epoch and set each group's learning rate."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """Everything but the optimizer (plain data)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)`` (one function, or one per group).

    >>> import numpy as np, fastnn as fn
    >>> opt = fn.optim.SGD([fn.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> s = fn.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5 ** e); s.step(); s.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: expected {n} lr_lambdas, got {len(lr_lambda)}.")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):  # functions are not data
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    >>> import numpy as np, fastnn as fn
    >>> opt = fn.optim.SGD([fn.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> s = fn.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> [(s.step(), s.get_last_lr()[0])[1] for _ in range(4)]
    [1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = _checks.positive_int("StepLR", "step_size", step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each epoch in ``milestones``."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._current()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._current()]

    def state_dict(self):
        sd = super().state_dict()
        sd["milestones"] = dict(self.milestones)
        return sd

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.milestones = Counter(self.milestones)


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the base rate to ``eta_min`` over ``T_max`` epochs:
    ``eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2`` (computed
    recursively, as torch does, so it also follows manual ``lr`` changes).

    >>> import numpy as np, fastnn as fn
    >>> opt = fn.optim.SGD([fn.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> s = fn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)
    >>> s.step(); round(s.get_last_lr()[0], 6)
    0.5
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = _checks.positive_int("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e, t, lo = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current()
        if self._step_count == 1 and e > 0:
            return [lo + (base - lo) * (1 + math.cos(e * math.pi / t)) / 2
                    for base in self.base_lrs]
        if (e - 1 - t) % (2 * t) == 0:
            return [lr + (base - lo) * (1 - math.cos(math.pi / t)) / 2
                    for base, lr in zip(self.base_lrs, self._current())]
        return [(1 + math.cos(math.pi * e / t)) / (1 + math.cos(math.pi * (e - 1) / t))
                * (lr - lo) + lo for lr in self._current()]


class ReduceLROnPlateau:
    """Multiply the learning rate by ``factor`` when a metric stops improving for
    ``patience`` epochs (same arguments and numbers as torch's).

    >>> import numpy as np, fastnn as fn
    >>> opt = fn.optim.SGD([fn.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> s = fn.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    >>> for loss in [1.0, 1.0, 1.0]: s.step(loss)
    >>> s.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: expected a fastnn Optimizer, got "
                            f"{type(optimizer).__name__}.")
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: expected factor < 1.0, got factor={factor!r}.")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: expected mode 'min' or 'max', got {mode!r}.")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: expected threshold_mode 'rel' or 'abs', "
                             f"got {threshold_mode!r}.")
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"ReduceLROnPlateau: expected {n} min_lrs, got {len(min_lr)}.")
            self.min_lrs = list(min_lr)
        else:
            self.min_lrs = [min_lr] * n
        self.optimizer, self.mode, self.factor, self.patience = optimizer, mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _is_better(self, a, best):
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if self.threshold_mode == "rel"
                        else best - self.threshold)
        return a > (best * (self.threshold + 1.0) if self.threshold_mode == "rel"
                    else best + self.threshold)

    def step(self, metrics):
        """Record this epoch's metric and reduce the learning rate if it plateaued."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for i, group in enumerate(self.optimizer.param_groups):
                old = float(group["lr"])
                new = max(old * self.factor, self.min_lrs[i])
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        return self._last_lr

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


def _total_iters(owner, total_iters):
    if isinstance(total_iters, bool) or not isinstance(total_iters, int) or total_iters < 1:
        raise ValueError(f"{owner}: expected total_iters to be a positive int, got "
                         f"total_iters={total_iters!r}.")
    return total_iters


class ConstantLR(LRScheduler):
    """Multiply the learning rate by ``factor`` for the first ``total_iters`` epochs,
    then restore it (torch's numbers, recursive form).

    >>> import numpy as np, fastnn as fn
    >>> opt = fn.optim.SGD([fn.nn.Parameter(np.zeros(1))], lr=0.9)
    >>> s = fn.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2)
    >>> [round(s.get_last_lr()[0], 6)] + [(s.step(), round(s.get_last_lr()[0], 6))[1] for _ in range(3)]
    [0.45, 0.45, 0.9, 0.9]
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 <= factor <= 1.0:
            raise ValueError(f"ConstantLR: constant multiplicative factor expected to be between "
                             f"0 and 1, got factor={factor!r}.")
        self.factor = factor
        self.total_iters = _total_iters("ConstantLR", total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current()]
        if self.last_epoch != self.total_iters:
            return self._current()
        return [lr * (1.0 / self.factor) for lr in self._current()]


class LinearLR(LRScheduler):
    """Scale the learning rate linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs (torch's numbers, recursive form).

    >>> import numpy as np, fastnn as fn
    >>> opt = fn.optim.SGD([fn.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> s = fn.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> [s.get_last_lr()[0]] + [(s.step(), s.get_last_lr()[0])[1] for _ in range(3)]
    [0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if not 0 < start_factor <= 1.0:
            raise ValueError(f"LinearLR: starting multiplicative factor expected to be greater "
                             f"than 0 and less or equal to 1, got start_factor={start_factor!r}.")
        if not 0 <= end_factor <= 1.0:
            raise ValueError(f"LinearLR: ending multiplicative factor expected to be between 0 "
                             f"and 1, got end_factor={end_factor!r}.")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = _total_iters("LinearLR", total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current()
        s, e, t = self.start_factor, self.end_factor, self.total_iters
        return [lr * (1.0 + (e - s) / (t * s + (self.last_epoch - 1) * (e - s)))
                for lr in self._current()]


class PolynomialLR(LRScheduler):
    """Decay the learning rate to 0 over ``total_iters`` epochs as
    ``(1 - epoch / total_iters) ** power`` (torch's numbers, recursive form).

    >>> import numpy as np, fastnn as fn
    >>> opt = fn.optim.SGD([fn.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> s = fn.optim.lr_scheduler.PolynomialLR(opt, total_iters=4, power=1.0)
    >>> [(s.step(), s.get_last_lr()[0])[1] for _ in range(5)]
    [0.75, 0.5, 0.25, 0.0, 0.0]
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = _total_iters("PolynomialLR", total_iters)
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current()
        t, e = self.total_iters, self.last_epoch
        decay = ((1.0 - e / t) / (1.0 - (e - 1) / t)) ** self.power
        return [lr * decay for lr in self._current()]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): the learning rate rises from
    ``max_lr / div_factor`` to ``max_lr`` over ``pct_start`` of the steps, then anneals
    to ``initial_lr / final_div_factor``; momentum (or Adam's beta1) moves the opposite
    way between ``max_momentum`` and ``base_momentum``. Step it after every batch.
    Same arguments and numbers as torch's.

    Raises:
        ValueError: no total_steps (or epochs and steps_per_epoch), a bad pct_start or
            anneal_strategy, momentum cycling on an optimizer without momentum, or
            stepping past total_steps.

    >>> import numpy as np, fastnn as fn
    >>> opt = fn.optim.SGD([fn.nn.Parameter(np.zeros(1))], lr=0.1, momentum=0.9)
    >>> s = fn.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=4)
    >>> [round(s.get_last_lr()[0], 4)] + [(s.step(), round(s.get_last_lr()[0], 4))[1] for _ in range(3)]
    [0.04, 0.8117, 0.2831, 0.0]
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        owner = "OneCycleLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{owner}: expected a fastnn Optimizer, got {type(optimizer).__name__}.")
        self.optimizer = optimizer
        if total_steps is not None:
            if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"{owner}: expected positive integer total_steps, but got "
                                 f"{total_steps!r}.")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            for name, v in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                    raise ValueError(f"{owner}: expected positive integer {name}, but got {v!r}.")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError(f"{owner}: you must define either total_steps OR (epochs AND "
                             f"steps_per_epoch).")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"{owner}: expected float between 0 and 1 pct_start, but got "
                             f"{pct_start!r}.")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{owner}: anneal_strategy must be one of 'cos' or 'linear', "
                             f"instead got {anneal_strategy!r}.")
        n = self.total_steps
        if three_phase:
            self._phases = [
                (float(pct_start * n) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct_start * n) - 2, "max_lr", "initial_lr", "base_momentum",
                 "max_momentum"),
                (n - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._phases = [
                (float(pct_start * n) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (n - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        self.anneal_strategy = anneal_strategy
        groups = optimizer.param_groups
        max_lrs = self._per_group("max_lr", max_lr)
        if last_epoch == -1:
            for lr, group in zip(max_lrs, groups):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"{owner}: optimizer must support momentum or beta1 with "
                                 f"`cycle_momentum` option enabled.")
            self.use_beta1 = "betas" in optimizer.defaults
            maxs = self._per_group("max_momentum", max_momentum)
            bases = self._per_group("base_momentum", base_momentum)
            if last_epoch == -1:
                for m, b, group in zip(maxs, bases, groups):
                    if self.use_beta1:
                        group["betas"] = (m, *group["betas"][1:])
                    else:
                        group["momentum"] = m
                    group["max_momentum"], group["base_momentum"] = m, b
        super().__init__(optimizer, last_epoch)

    def _per_group(self, name, value):
        n = len(self.optimizer.param_groups)
        if isinstance(value, (list, tuple)):
            if len(value) != n:
                raise ValueError(f"OneCycleLR: {name} must have the same length as "
                                 f"optimizer.param_groups: {name} has {len(value)} values, "
                                 f"param_groups has {n}.")
            return list(value)
        return [value] * n

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times. The specified number of "
                             f"total steps is {self.total_steps}.")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr0, lr1, m0, m1) in enumerate(self._phases):
                if step <= end or i == len(self._phases) - 1:
                    pct = (step - start) / (end - start)
                    lr = self._anneal(group[lr0], group[lr1], pct)
                    if self.cycle_momentum:
                        mom = self._anneal(group[m0], group[m1], pct)
                    break
                start = end
            lrs.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (mom, *group["betas"][1:])
                else:
                    group["momentum"] = mom
        return lrs


def _initial_step(s):
    """A scheduler's step into its epoch 0 (what its constructor runs)."""
    s._is_initial = True
    try:
        s.step()
    finally:
        s._is_initial = False


class SequentialLR(LRScheduler):
    """``schedulers[i]`` from epoch ``milestones[i - 1]`` on, each restarted from its own
    epoch 0 at its milestone (torch's warm-up-then-decay idiom).

    >>> import numpy as np, fastnn as fn
    >>> opt = fn.optim.SGD([fn.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> S = fn.optim.lr_scheduler
    >>> s = S.SequentialLR(opt, [S.LinearLR(opt, 0.5, total_iters=2), S.ExponentialLR(opt, 0.5)],
    ...                    milestones=[2])
    >>> lrs = [s.get_last_lr()[0]] + [(s.step(), s.get_last_lr()[0])[1] for _ in range(4)]; lrs
    [0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        where = "SequentialLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{where}: expected a fastnn Optimizer, got {type(optimizer).__name__}.")
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError(f"{where}: expects at least one scheduler.")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler) or isinstance(s, (SequentialLR, ChainedScheduler)):
                raise TypeError(f"{where}: schedulers[{i}] must be a plain LRScheduler, got "
                                f"{type(s).__name__}.")
            if s.optimizer is not optimizer:
                raise ValueError(f"{where}: schedulers[{i}] belongs to another optimizer than "
                                 f"the one given.")
        milestones = [_checks.integer(where, "milestones", m) for m in milestones]
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"{where}: expected {len(schedulers) - 1} milestones for "
                             f"{len(schedulers)} schedulers, got {len(milestones)}.")
        self.optimizer, self._schedulers, self._milestones = optimizer, schedulers, milestones
        self.last_epoch = last_epoch + 1
        # undo the schedulers' own first steps and start the first one afresh
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for s in schedulers:
            s.last_epoch -= 1
        _initial_step(schedulers[0])
        self.base_lrs = list(schedulers[0].base_lrs)
        self._last_lr = schedulers[0].get_last_lr()

    def step(self):
        """Advance one epoch: the current scheduler steps (restarting at its milestone)."""
        self.last_epoch += 1
        idx = sum(1 for m in self._milestones if m <= self.last_epoch)
        s = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            for group, base in zip(self.optimizer.param_groups, s.base_lrs):
                group["lr"] = base
            s.last_epoch = -1
            _initial_step(s)
        else:
            s.step()
        self._last_lr = s.get_last_lr()

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        for s, sd in zip(self._schedulers, state.pop("_schedulers")):
            s.load_state_dict(sd)
        self.__dict__.update(state)


class ChainedScheduler(LRScheduler):
    """Every scheduler steps at each ``step()``, their factors compounding.

    >>> import numpy as np, fastnn as fn
    >>> opt = fn.optim.SGD([fn.nn.Parameter(np.zeros(1))], lr=1.0)
    >>> S = fn.optim.lr_scheduler
    >>> s = S.ChainedScheduler([S.ConstantLR(opt, 0.5, total_iters=2), S.ExponentialLR(opt, 0.5)])
    >>> [s.get_last_lr()[0]] + [(s.step(), s.get_last_lr()[0])[1] for _ in range(3)]
    [0.5, 0.25, 0.25, 0.125]
    """

    def __init__(self, schedulers, optimizer=None):
        where = "ChainedScheduler"
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError(f"{where}: expects at least one scheduler.")
        optimizer = optimizer if optimizer is not None else schedulers[0].optimizer
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler):
                raise TypeError(f"{where}: schedulers[{i}] must be an LRScheduler, got "
                                f"{type(s).__name__}.")
            if s.optimizer is not optimizer:
                raise ValueError(f"{where}: schedulers[{i}] belongs to another optimizer.")
        self.optimizer, self._schedulers = optimizer, schedulers
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def step(self):
        """Step every scheduler in turn."""
        for s in self._schedulers:
            s.step()
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    state_dict = SequentialLR.state_dict
    load_state_dict = SequentialLR.load_state_dict
