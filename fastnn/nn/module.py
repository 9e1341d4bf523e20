"""The module system, as torch.nn: Module, Parameter, Sequential."""
import weakref
from collections import OrderedDict

import numpy as np

from .. import _checks
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor, as_array, empty_aligned

_nograd = None      # .nn._nograd, imported on first use (it imports the layer modules)
_linear_act = None  # functional.layers.linear_act, imported on first use
_record_run = None  # ._record.record_run, imported on first use

__all__ = ["Module", "Parameter", "Sequential", "ModuleList"]


class Parameter(Tensor):
    """A Tensor that is a module's learnable weight (``requires_grad=True`` by default)."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        arr = as_array(data, where="Parameter")
        if not _checks.is_float(arr.dtype):
            raise TypeError(f"Parameter: expected floating point data, got dtype {arr.dtype}.")
        super().__init__(arr, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _aligned(a):
    """``a``, or a 64-byte aligned copy of it (pickle and deepcopy give NumPy's 16)."""
    if isinstance(a, np.ndarray) and a.size and a.ctypes.data % 64:
        b = empty_aligned(a.shape, a.dtype)
        b[...] = a
        return b
    return a


class Module:
    """Base class of every layer, activation module and loss module.

    Parameters and sub-modules are registered by attribute assignment. Pickling
    (and deepcopy) leaves out the attributes a class lists in ``_transient``
    (process-local caches, rebuilt on demand: they come back as None) and restores
    the weights 64-byte aligned.

    >>> import fastnn as fn
    >>> class Net(fn.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = fn.nn.Linear(3, 2)
    ...     def forward(self, x):
    ...         return self.fc(x)
    >>> [name for name, _ in Net().named_parameters()]
    ['fc.weight', 'fc.bias']
    """

    # _plan_users: the Sequentials whose no-grad plan holds this module's parameters
    _transient = ("_plan_users",)

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    # Parameters and sub-modules live in their ordered stores (for traversal and the
    # state dict) and, mirrored, in the instance __dict__ so that `self.weight` is a
    # plain attribute lookup on the hot path instead of a __getattr__ fallback.
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes.")
        params, modules = d["_parameters"], d["_modules"]
        if name in params or name in modules or isinstance(value, (Parameter, Module)):
            self._layout_changed()
        if isinstance(value, Parameter):
            modules.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' "
                                f"(fn.nn.Parameter or None expected).")
            params[name] = None
        elif name in modules and value is None:
            modules[name] = None
        d[name] = value

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_modules", "_buffers"):
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        self._layout_changed()
        for store in (self._parameters, self._modules, self._buffers):
            if name in store:
                del store[name]
                self.__dict__.pop(name, None)
                return
        object.__delattr__(self, name)

    def _layout_changed(self):
        """A parameter or sub-module was added, removed or replaced: the no-grad plans
        that hold this module's parameters rebuild on their next call."""
        users = self.__dict__.get("_plan_users")
        if users:
            for seq in list(users):
                seq._refresh()

    def _used_by_plan(self, seq):
        """Sequential ``seq`` holds this module's parameters in its no-grad plan."""
        users = self.__dict__.get("_plan_users")
        if users is None:
            users = weakref.WeakSet()
            object.__setattr__(self, "_plan_users", users)
        users.add(seq)

    def register_buffer(self, name, array):
        """A named non-learnable array saved in the state dict (e.g. running statistics)."""
        self._buffers[name] = None if array is None else np.asarray(array)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be a Parameter or None, got {type(param).__name__}.")
        self._layout_changed()
        self._parameters[name] = param
        self.__dict__[name] = param

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module, got {type(module).__name__}.")
        self._layout_changed()
        self._modules[name] = module
        self.__dict__[name] = module

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward().")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- traversal ------------------------------------------------------------------
    def named_modules(self, prefix=""):
        stack = [(prefix, self)]
        seen = set()
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            children = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for k, m in self._modules.items():
            if m is not None:
                yield k, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix="", recurse=True):
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for k, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mname}.{k}" if mname else k), p

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self):
        for mname, m in self.named_modules():
            for k, b in m._buffers.items():
                if b is not None:
                    yield (f"{mname}.{k}" if mname else k), b

    # --- modes and grads ------------------------------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad[...] = 0

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn):
        for m in reversed(list(self.modules())):
            fn(m)
        return self

    def to(self, *args, **kwargs):
        """Move to a device and/or cast, in place, as torch's ``Module.to``: ``to(device)``
        (only the CPU exists: 'cpu' is a no-op, any other device raises ValueError),
        ``to(dtype)`` (every parameter and floating buffer), ``to(device, dtype)``,
        ``to(tensor)``; keywords ``device=``, ``dtype=``. Returns self."""
        from .._device import check_device
        dtype, device = kwargs.pop("dtype", None), kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"Module.to: unexpected keyword arguments {sorted(kwargs)}.")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.data.dtype
            elif isinstance(a, str) or type(a).__name__ == "device":
                device = a
            elif not isinstance(a, bool):
                dtype = a
        check_device(device, f"{type(self).__name__}.to")
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.to: only floating point dtypes are allowed, "
                            f"got {dtype}.")
        for m in self.modules():
            for k, p in m._parameters.items():
                if p is not None and p.data.dtype != dtype:
                    data = empty_aligned(p.data.shape, dtype)
                    data[...] = p.data
                    p.data = data
                    p.grad = None
            for k, b in m._buffers.items():
                if b is not None and b.dtype.kind == "f":
                    m._buffers[k] = b.astype(dtype, copy=False)
        return self

    def double(self):
        return self.to(np.float64)

    def cpu(self):
        """Self: fastnn runs on the CPU."""
        return self

    def cuda(self, device=None):
        raise ValueError(f"{type(self).__name__}.cuda: fastnn runs on the CPU only "
                         f"(fn.cuda.is_available() is False).")

    def float(self):
        return self.to(np.float32)

    # --- state ------------------------------------------------------------------------
    def state_dict(self):
        """Ordered dict of name → ndarray (parameters, then buffers), sharing memory."""
        sd = OrderedDict()
        for name, p in self.named_parameters():
            sd[name] = p.data
        for name, b in self.named_buffers():
            sd[name] = b
        return sd

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from ``state_dict`` into this module's parameters and buffers.

        Raises:
            KeyError: with ``strict=True``, listing missing and unexpected keys.
            ValueError: on a shape mismatch, naming the key and both shapes.

        Returns:
            (missing_keys, unexpected_keys)
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: expected a dict of arrays, got {type(state_dict).__name__}.")
        targets = {}
        for mname, m in self.named_modules():
            for k in list(m._parameters) + list(m._buffers):
                targets[f"{mname}.{k}" if mname else k] = (m, k)
        missing = [k for k in targets if k not in state_dict
                   and (targets[k][0]._parameters.get(targets[k][1]) is not None
                        or targets[k][0]._buffers.get(targets[k][1]) is not None)]
        unexpected = [k for k in state_dict if k not in targets]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}.")
        for k, v in state_dict.items():
            if k not in targets:
                continue
            m, attr = targets[k]
            v = np.asarray(v.data if isinstance(v, Tensor) else v)
            if attr in m._parameters:
                p = m._parameters[attr]
                if p is None:
                    continue
                if p.data.shape != v.shape:
                    raise ValueError(f"load_state_dict: '{k}' has shape {v.shape} in the state dict "
                                     f"but {p.data.shape} in the module.")
                p.data[...] = v
            else:
                b = m._buffers[attr]
                if b is not None and b.shape != v.shape:
                    raise ValueError(f"load_state_dict: '{k}' has shape {v.shape} in the state dict "
                                     f"but {b.shape} in the module.")
                m._buffers[attr] = v.astype(b.dtype if b is not None else v.dtype, copy=True)
        return missing, unexpected

    # --- pickling ---------------------------------------------------------------------
    def _transient_names(self):
        return {n for c in type(self).__mro__ for n in c.__dict__.get("_transient", ())}

    def __getstate__(self):
        state = self.__dict__.copy()
        for name in self._transient_names():
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        d = self.__dict__
        d.update(state)
        for name in self._transient_names():
            d[name] = None
        for p in d.get("_parameters", {}).values():
            if p is not None:
                p.data = _aligned(p.data)
        buffers = d.get("_buffers", {})
        for k, b in buffers.items():
            buffers[k] = _aligned(b)

    # --- repr -------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"  ({k}): " + repr(m).replace("\n", "\n  ") for k, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied in order.

    >>> import fastnn as fn
    >>> net = fn.nn.Sequential(fn.nn.Linear(4, 3), fn.nn.Linear(3, 2))
    >>> net(fn.tensor([[1.0, 2.0, 3.0, 4.0]])).shape
    (1, 2)
    """

    # the no-grad plan and the recording steps: caches, rebuilt on use
    _transient = ("_plan", "_rec")

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (OrderedDict, dict)):
            for k, m in modules[0].items():
                self.add_module(k, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)
        self._refresh()

    def _refresh(self):
        object.__setattr__(self, "_seq", tuple(m for m in self._modules.values() if m is not None))
        object.__setattr__(self, "_plan", None)     # the no-grad plan, rebuilt on demand
        object.__setattr__(self, "_rec", None)      # the recording steps, rebuilt on demand

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if name in self._modules and "_seq" in self.__dict__:
            self._refresh()

    def __delattr__(self, name):
        super().__delattr__(name)
        if "_seq" in self.__dict__:
            self._refresh()

    def add_module(self, name, module):
        super().add_module(name, module)
        if "_seq" in self.__dict__:
            self._refresh()

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, i):
        items = list(self._modules.values())
        if isinstance(i, slice):
            return Sequential(*items[i])
        return items[i]

    def __setitem__(self, i, module):
        keys = list(self._modules)
        self.add_module(keys[i], module)

    def __delitem__(self, i):
        keys = list(self._modules)
        for k in (keys[i] if isinstance(i, slice) else [keys[i]]):
            del self._modules[k]
            self.__dict__.pop(k, None)
        self._refresh()

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, input):
        if not is_grad_enabled():
            plan = self._plan
            if plan is None:
                plan = self._build_plan()
            return _nograd.run_plan(plan, input)
        rec = self._rec
        if rec is None:
            rec = self._build_rec()
        for m, fused, run in rec:
            if run is not None:
                y = _record_run(run, input)
                if y is not None:
                    input = y
                    continue
                for m, fused in run:
                    input = _linear_act(input, m.weight, m.bias, "relu") if fused else m(input)
            elif fused:
                input = _linear_act(input, m.weight, m.bias, "relu")
            else:
                input = m(input)
        return input

    def _build_rec(self):
        """(module, fused, run) per step while recording. A Linear followed by a ReLU
        (paired as the no-grad plan pairs them, _nograd.fused_steps) is one step,
        recorded as one op with the same values and gradients (fewer nodes, the bias
        and ReLU applied by the thread that computed the rows). Two or more such
        steps, plain Linears and element Dropouts in a row are one ``run`` (a tuple of
        (module, fused)), recorded as one op where the call allows (_record_run)."""
        global _nograd, _linear_act, _record_run
        if _nograd is None:
            from . import _nograd
        if _linear_act is None:
            from ..functional.layers import linear_act as _linear_act
        if _record_run is None:
            from ._record import record_run as _record_run
        rec, run = [], []

        def flush():
            if len(run) > 1:
                rec.append((None, False, tuple(run)))
            else:
                rec.extend((m, fused, None) for m, fused in run)
            run.clear()
        for kind, m, act in _nograd.fused_steps(self._seq):
            if kind == _nograd.LINEAR or type(m) is _nograd.Dropout:
                run.append((m, act == "relu"))
                continue
            flush()
            rec.append((m, act == "relu", None))
        flush()
        rec = tuple(rec)
        object.__setattr__(self, "_rec", rec)
        return rec

    def _build_plan(self):
        global _nograd
        if _nograd is None:
            from . import _nograd
        plan = _nograd.build_plan(self._seq)
        for m in self._seq:
            m._used_by_plan(self)
        object.__setattr__(self, "_plan", plan)
        return plan


class ModuleList(Module):
    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, m):
        self.add_module(str(len(self._modules)), m)
        return self

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __iter__(self):
        return iter(self._modules.values())
