"""The optimizers' book-keeping: parameter groups, per-parameter state, state dicts.

Subclasses add the math: ``_check(group)`` validates a group's hyper-parameters,
``_new_state(x, group)`` makes the state of a parameter at its first step and
``_update(group)`` runs one fused kernel per parameter (fastnn._kernels.optim).
"""
import math

import numpy as np

from .. import _checks
from ..autograd import enable_grad
from ..tensor import Tensor
from ._pack import Pack

__all__ = ["Optimizer", "check_number"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def check_number(owner, name, value, low=0.0, high=None, high_open=False):
    """Raise ValueError unless ``low <= value`` (and ``value < high`` or ``<= high``);
    NaN is rejected too. fastnn._checks.real, in the optimizers' argument order."""
    _checks.real(owner, name, value, low, high, high_open=high_open)


class Optimizer:
    """Base class of fastnn's optimizers (same books as ``torch.optim.Optimizer``).

    Args:
        params: an iterable of Parameters, or of dicts (parameter groups) holding
            ``'params'`` and any per-group hyper-parameters.
        defaults: hyper-parameters a group gets when it does not set them.

    Attributes:
        param_groups: list of dicts, each with ``'params'`` and its hyper-parameters
            (change ``group['lr']`` between steps, as schedulers do).
        state: dict Parameter -> dict of its state (arrays of the parameter's dtype
            and the ``'step'`` count), created at the parameter's first step.

    Raises:
        ValueError: empty parameter list, a parameter given twice, a bad
            hyper-parameter. TypeError: something that is not a float Parameter.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self._packs, self._pack_tries = {}, {}   # id(group) -> Pack / False; attempts
        self.param_groups = []
        if isinstance(params, (Tensor, np.ndarray)):
            raise TypeError(f"{self._owner}: params must be an iterable of Parameters or "
                            f"dicts, got a single {type(params).__name__}; wrap it in a list.")
        params = list(params)
        if not params:
            raise ValueError(f"{self._owner}: got an empty parameter list (params=[]); "
                             f"pass model.parameters() or a non-empty list.")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    @property
    def _owner(self):
        return type(self).__name__

    def _check(self, group):
        """Validate one group's hyper-parameters (subclasses)."""

    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyper-parameters.

        Args:
            param_group: dict with ``'params'`` (Parameter or iterable of them) and
                optional hyper-parameters; missing ones take the optimizer's defaults.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._owner}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}.")
        group = dict(param_group)
        if "params" not in group:
            raise ValueError(f"{self._owner}: a parameter group needs a 'params' entry, "
                             f"got keys {sorted(group)}.")
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{self._owner}: params must be an ordered iterable, got a set "
                            f"(its order changes between runs); use a list.")
        params = list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._owner}: params[{i}] must be a Parameter, got "
                                f"{type(p).__name__}.")
            if p.data.dtype not in _FLOATS:
                raise TypeError(f"{self._owner}: params[{i}] must be float32 or float64, "
                                f"got dtype {p.data.dtype}.")
            if id(p) in seen:
                raise ValueError(f"{self._owner}: a parameter was given twice (params[{i}], "
                                 f"shape {p.shape}); each parameter may appear once.")
            seen.add(id(p))
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient (to None, or to zeros in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def step(self, closure=None):
        """One update of every parameter that has a gradient.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update(group)
        return loss

    def _grads(self, group):
        """Yield ``(param array, its flat view, flat grad, state)`` per parameter with a
        gradient; the group's small parameters come first, as one flat "parameter"
        (see ``_pack.py``).

        The state is created here at a parameter's first step. A non-contiguous
        parameter is updated in a contiguous copy and written back.
        """
        params = group["params"]
        pack = self._packs.get(id(group))
        if pack is not None and pack is not False and not pack.valid_for(group):
            pack = None
        if pack is None and self._pack_tries.get(id(group), 0) < 3:
            self._pack_tries[id(group)] = self._pack_tries.get(id(group), 0) + 1
            pack = self._packs[id(group)] = Pack.build(self, group)
        if pack:
            if pack.gather(self._owner):
                yield pack.flat, pack.flat, pack.grad, pack.state
                pack.scatter()
                params = pack.others
            else:   # a member lost its gradient: every parameter steps alone from now on
                self._packs[id(group)] = False
                self._pack_tries[id(group)] = 3
        state = self.state
        for p in params:
            g = p.grad
            if g is None:
                continue
            data = p.data
            if g.shape != data.shape:
                raise ValueError(f"{self._owner}: gradient of shape {g.shape} for a parameter "
                                 f"of shape {data.shape}.")
            if g.dtype != data.dtype:
                g = g.astype(data.dtype)
            st = state.get(p)
            if st is None:
                st = state[p] = self._new_state(data, group)
            if data.flags.c_contiguous:
                yield data, data.ravel(), g.ravel(), st
            else:
                flat = data.ravel()
                yield data, flat, g.ravel(), st
                data[...] = flat.reshape(data.shape)

    # --- state dicts -------------------------------------------------------------
    def state_dict(self):
        """The optimizer's state as plain data (arrays copied), indexed like torch.

        Returns:
            dict: ``{'state': {index: {name: ndarray or number}}, 'param_groups':
            [{hyper-parameters..., 'params': [indices]}]}``; indices number the
            parameters across groups in order.
        """
        index, groups = {}, []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            saved = {k: list(v) if isinstance(v, tuple) else v
                     for k, v in group.items() if k != "params"}
            saved["params"] = ids
            groups.append(saved)
        state = {}
        for p, st in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = {k: v.copy() if isinstance(v, np.ndarray) else v
                                       for k, v in st.items()}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a state made by :meth:`state_dict` (arrays copied, cast to each
        parameter's dtype), so training continues exactly where it was saved.

        Raises:
            ValueError: the groups or their sizes differ, or a state array's shape
                does not match its parameter.
        """
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict \
                or "state" not in state_dict:
            raise ValueError(f"{self._owner}.load_state_dict: expected a dict with 'state' "
                             f"and 'param_groups', got {type(state_dict).__name__}.")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{self._owner}.load_state_dict: the state has "
                             f"{len(saved_groups)} parameter groups, the optimizer "
                             f"{len(self.param_groups)}.")
        by_index = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{self._owner}.load_state_dict: group {i} has "
                                 f"{len(saved['params'])} parameters in the state, "
                                 f"{len(group['params'])} in the optimizer.")
            by_index.update(zip(saved["params"], group["params"]))
        new_state = {}
        for key, saved_st in state_dict["state"].items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(f"{self._owner}.load_state_dict: state for parameter "
                                 f"index {key!r}, which no group holds.")
            new_state[p] = {k: self._load_value(k, v, p) for k, v in saved_st.items()}
        for group, saved in zip(self.param_groups, saved_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = tuple(v) if isinstance(group.get(k), tuple) else v
        self.state = new_state
        self._packs, self._pack_tries = {}, {}   # rebuilt from the loaded state

    def _load_value(self, name, value, p):
        if isinstance(value, np.ndarray):
            if value.shape != p.data.shape:
                raise ValueError(f"{self._owner}.load_state_dict: state '{name}' has shape "
                                 f"{value.shape}, its parameter {p.data.shape}.")
            return np.array(value, dtype=p.data.dtype, order="C", copy=True)
        if name == "step" and isinstance(value, float) and math.isfinite(value) \
                and value == int(value):
            return int(value)
        return value

    def __repr__(self):
        lines = [f"{self._owner} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines + [")"])
