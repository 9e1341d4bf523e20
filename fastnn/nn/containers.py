"""Containers with torch's names: ModuleDict and ParameterList (ModuleList and
Sequential live in module.py)."""
from .module import Module, Parameter

__all__ = ["ModuleDict", "ParameterList"]


class ModuleDict(Module):
    """Sub-modules by name, in insertion order (their parameters are the dict's).

    >>> import fastnn as fn
    >>> heads = fn.nn.ModuleDict({"a": fn.nn.Linear(2, 3), "b": fn.nn.Linear(2, 1)})
    >>> list(heads.keys()), heads["b"](fn.zeros(4, 2)).shape, len(list(heads.parameters()))
    (['a', 'b'], (4, 1), 4)
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        delattr(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key):
        m = self._modules[key]
        del self[key]
        return m

    def clear(self):
        for k in list(self._modules):
            del self[k]

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for item in items:
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise TypeError(f"ModuleDict.update: expected a mapping or (name, module) pairs, "
                                f"got an element {item!r}.")
            self[item[0]] = item[1]


class ParameterList(Module):
    """Parameters in a list (registered as ``"0"``, ``"1"``, ...).

    >>> import numpy as np, fastnn as fn
    >>> ps = fn.nn.ParameterList([fn.nn.Parameter(np.zeros(2, np.float32)) for _ in range(3)])
    >>> len(ps), len(list(ps.parameters())), ps[1].shape
    (3, 3, (2,))
    """

    def __init__(self, values=None):
        super().__init__()
        for p in values or ():
            self.append(p)

    def append(self, value):
        if not isinstance(value, Parameter):
            value = Parameter(value)
        self.register_parameter(str(len(self._parameters)), value)
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def __getitem__(self, i):
        return list(self._parameters.values())[i]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())
