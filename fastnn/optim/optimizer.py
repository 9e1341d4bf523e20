"""The optimizers' book-keeping: parameter groups, per-parameter state, state dicts,
and the one step loop every optimizer runs.

A subclass adds the math and nothing else, in one of two ways:

* Composed from NumPy (no ``_kernel``): ``_step_param(x, g, st, group)`` updates one
  parameter array ``x`` and its state arrays in ``st`` in place, the way torch's
  single-tensor code composes tensor ops. The base hands it the
  gradient already negated where ``maximize`` is set, read-only and of ``x``'s
  dtype, and the state already advanced (``st['step']`` counts this step).
* A fused kernel: ``_kernel`` names it in ``fastnn._kernels.optim.KERNELS`` (which
  also lists the state arrays it takes), and ``_hyper(group, dtype, key)`` builds
  its scalars ``h`` by name (Adam, SGD...). :meth:`Optimizer._update` builds ``h``
  once per key and dtype and runs the kernel once per parameter (or per pack of
  small parameters, see ``_pack.py``).

Both write ``_check(group)`` (validate a group's hyper-parameters) and
``_new_state(x, group)`` (a parameter's state at its first step), and may override
``_advance(st, x, group)``, which moves a state to the next step and returns what
the step's scalars depend on (the step count, or None). Everything else (groups,
``maximize``, skipped parameters without a gradient, non-contiguous parameters,
state dicts, pickling) is the base's, the same for both.
"""
import functools
import math

import numpy as np

from .. import _checks
from .._kernels import optim as K
from ..autograd import enable_grad
from ..tensor import Tensor
from ._pack import Pack

__all__ = ["Optimizer", "check_number", "lerp_", "adam_moments_"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def check_number(owner, name, value, low=0.0, high=None, high_open=False):
    """Raise ValueError unless ``low <= value`` (and ``value < high`` or ``<= high``);
    NaN is rejected too. fastnn._checks.real, in the optimizers' argument order."""
    _checks.real(owner, name, value, low, high, high_open=high_open)


def lerp_(start, end, weight, tmp):
    """``start.lerp_(end, weight)`` in place, rounded as torch rounds it: from the
    nearer end, ``start + w (end - start)`` for w < 0.5, else ``end - (1 - w) (end -
    start)``. ``tmp`` (an array like ``start``) is overwritten; ``weight`` a float."""
    np.subtract(end, start, out=tmp)
    if weight < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1.0 - weight
        np.subtract(end, tmp, out=start)


def adam_moments_(m, v, g, beta1, beta2, tmp):
    """Adam's moment updates in place, rounded as torch's single-tensor code rounds
    them: ``m.lerp_(g, 1 - beta1)`` and ``v.mul_(beta2).addcmul_(g, g, 1 - beta2)``.
    ``tmp`` (an array like ``m``) is overwritten; the betas are floats."""
    lerp_(m, g, 1.0 - beta1, tmp)
    v *= beta2
    np.multiply(g, 1.0 - beta2, out=tmp)
    tmp *= g
    v += tmp


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

    #: name of the fused kernel in fastnn._kernels.optim.KERNELS (subclasses); None:
    #: the step is composed from NumPy in ``_step_param``
    _kernel = None

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self._packs, self._pack_tries = {}, {}   # group index -> Pack / False; attempts
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

    def _new_state(self, x, group):
        """The state of a parameter (array ``x``) at its first step (subclasses)."""
        return {"step": 0}

    def _advance(self, st, x, group):
        """Move ``st`` to this step; return what ``h`` depends on besides the group and
        dtype (here: the step count)."""
        st["step"] += 1
        return st["step"]

    def _hyper(self, group, dtype, key):
        """The kernel's scalars ``h`` for ``group`` at ``key`` (subclasses)."""
        raise NotImplementedError

    def _step_param(self, x, g, st, group):
        """Update the parameter array ``x`` and the arrays of its state ``st`` in place
        from its gradient ``g`` (subclasses without a kernel).

        ``g`` is read-only, of ``x``'s dtype and shape, negated where ``maximize``
        is set; ``x`` may be non-contiguous (NumPy updates it in place); ``st`` has
        been advanced (``_advance``). Compute in ``x``'s dtype: Python floats as
        scalars (NumPy rounds them to float32 for a float32 array, as torch does with
        its scalars), never float64 arrays or NumPy float64 scalars, and follow torch's
        order of operations so the trajectories round as torch's do.
        """
        raise NotImplementedError(
            f"{self._owner} names no fused kernel (_kernel) and defines no _step_param; "
            f"an optimizer needs one of them.")

    @staticmethod
    def _weight_decay(x, g, group):
        """torch's weight decay for a composed step: with ``decoupled_weight_decay``
        (AdamW's) ``x`` shrinks by ``1 - lr weight_decay`` in place and ``g`` is
        returned as is; otherwise ``g + weight_decay x`` (a new array)."""
        wd = group["weight_decay"]
        if wd == 0:
            return g
        if group.get("decoupled_weight_decay"):
            x *= float(1.0 - group["lr"] * wd)
            return g
        return g + float(wd) * x

    # --- pickling: process-local caches stay behind ------------------------------------
    def __getstate__(self):
        st = self.__dict__.copy()
        st["_packs"], st["_pack_tries"] = {}, {}
        return st

    def __setstate__(self, st):
        self.__dict__.update(st)
        self._packs, self._pack_tries = {}, {}

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
        for i, group in enumerate(self.param_groups):
            self._update(group, i)
        return loss

    def _update(self, group, index):
        """One step of a group: the kernel once for all its parameters that share a
        step count and dtype (usually all of them: one call, one parallel loop), with
        ``h`` built once per such key (see ``_advance``); or, without a kernel,
        ``_step_param`` once per parameter."""
        if self._kernel is None:
            self._update_composed(group)
            return
        batches = {}
        after = []
        for data, x, g, st in self._grads(group, index, after):
            key = (self._advance(st, data, group), x.dtype)
            items = batches.get(key)
            if items is None:
                items = batches[key] = []
            items.append((x, g, *self._state_arrays(st, x.dtype)))
        kernel = getattr(K, self._kernel + "_steps")
        for (step, dtype), items in batches.items():
            kernel(items, self._hyper(group, dtype, step))
        for finish in after:
            finish()

    def _update_composed(self, group):
        """``_step_param`` on each parameter with a gradient, in its own array. No
        packing: the state arrays stay each parameter's own, and an optimizer whose
        Python cost per parameter matters gets a fused kernel instead."""
        maximize = group.get("maximize", False)
        # NaN and infinities run through as they do in torch, without NumPy's warnings
        with np.errstate(all="ignore"):
            for data, g, st in self._params_with_grad(group, group["params"]):
                # torch's ``-grad``: a new array; otherwise a read-only view, so that no
                # step can write into the user's gradient
                g = -g if maximize else g.view()
                g.flags.writeable = False
                self._advance(st, data, group)
                self._step_param(data, g, st, group)

    def _state_arrays(self, st, dtype):
        """The state arrays the kernel takes, in its order: flat views, and the empty
        placeholder for each one this state does not hold (switched off)."""
        empty = K.empty(dtype)
        return [st[n].reshape(-1) if n in st else empty for n in K.KERNELS[self._kernel][1]]

    def _grads(self, group, index, after):
        """``(param array, its flat view, flat grad, state)`` for each parameter with a
        gradient; the group's small parameters come first, as one flat "parameter"
        (see ``_pack.py``). ``after`` receives what must run once the kernel has
        updated them (the pack's scatter, the write-back of a copy).

        The state is created here at a parameter's first step. A non-contiguous
        parameter is updated in a contiguous copy and written back.
        """
        out = []
        params = group["params"]
        pack = self._packs.get(index)
        if pack is not None and pack is not False and not pack.valid_for(group):
            pack = None
        if pack is None and self._pack_tries.get(index, 0) < 3:
            self._pack_tries[index] = self._pack_tries.get(index, 0) + 1
            pack = self._packs[index] = Pack.build(self, group)
        if pack:
            if pack.gather(self._owner):
                out.append((pack.flat, pack.flat, pack.grad, pack.state))
                after.append(pack.scatter)
                params = pack.others
            else:   # a member lost its gradient: every parameter steps alone from now on
                self._packs[index] = False
                self._pack_tries[index] = 3
        for data, g, st in self._params_with_grad(group, params):
            if data.flags.c_contiguous:
                out.append((data, data.ravel(), g.ravel(), st))
            else:
                flat = data.ravel()
                out.append((data, flat, g.ravel(), st))
                after.append(functools.partial(np.copyto, data, flat.reshape(data.shape)))
        return out

    def _params_with_grad(self, group, params):
        """Yield ``(array, its gradient in the array's dtype, state)`` for each of
        ``params`` with a gradient, creating the state at its first step."""
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
                # state arrays are C-contiguous whatever the parameter's layout: the
                # kernels update them through flat views
                st = state[p] = self._new_state(
                    data if data.flags.c_contiguous else np.empty(data.shape, data.dtype), group)
            yield data, g, st

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
