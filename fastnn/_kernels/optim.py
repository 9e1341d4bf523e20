"""Optimizer update kernels (fused, in place), the named layout of each one's scalars,
and the copies that step many small parameters as one.

Each ``<name>_step(p, g, *state, h)`` updates the flat C-contiguous parameter ``p``
and its state arrays in one pass; a state array that a flag switches off is passed
as ``empty(dtype)``. Engines: C (``_coptim``, csrc/optim.h) where it loads, else the
Numba twin (``_nb_optim.py``); the NumPy oracle is ``reference_optim.py``. Both
engines cut the work into fixed blocks, so a result is bitwise the same for every
thread count and for concurrent callers.

``h`` holds one step's scalars and flags, in the parameters' dtype (a float64
scalar would promote a float32 loop). Its layout is declared once, below, by name;
the optimizers build it by name (``ADAM.pack(dtype, step_size=..., ...)``) and the
C binding, the Numba twin, the reference and the tests read it by name
(``h[ADAM.step_size]``). Derived values (bias corrections, 1 - beta) are computed
once per step in float64 by the optimizer, then cast.

>>> import numpy as np
>>> h = ADAGRAD.pack(np.float32, clr=0.1, weight_decay=0.0, eps=1e-10, sign=1.0)
>>> bool(h[ADAGRAD.clr] == np.float32(0.1)), h.dtype
(True, dtype('float32'))
"""
import collections

import numpy as np

from . import engine
from .jit import numba_kernel, float_signatures
from .threads import threads_for

__all__ = ["layout", "SGD", "ADAGRAD", "RMSPROP", "ADAM", "ADAMAX", "ADADELTA", "KERNELS",
           "sgd_step", "adagrad_step", "rmsprop_step", "adam_step", "adamax_step",
           "adadelta_step", "sgd_steps", "adagrad_steps", "rmsprop_steps", "adam_steps",
           "adamax_steps", "adadelta_steps", "empty", "PACK_BELOW", "PackPlan", "engines"]


# --- the layouts of h: declared once, read by name everywhere ------------------------

def _pack(self, dtype, **values):
    """``h`` for one call: every field given by name, cast once to ``dtype``."""
    if len(values) != len(self._fields) or not all(f in values for f in self._fields):
        missing = [f for f in self._fields if f not in values]
        unexpected = sorted(set(values) - set(self._fields))
        raise TypeError(f"{type(self).__name__}.pack: every field once by name; missing "
                        f"{missing}, unexpected {unexpected}.")
    return np.array([values[f] for f in self._fields], dtype)


def layout(name, fields):
    """A named layout of ``h``: a namedtuple whose field values are their indices
    (Numba reads them as constants), with ``pack(dtype, **values)`` building ``h``.

    >>> L = layout("DEMO", "lr flag")
    >>> L.flag, len(L), L.pack(np.float64, lr=0.5, flag=True).tolist()
    (1, 2, [0.5, 1.0])
    """
    base = collections.namedtuple(name, fields)
    cls = type(name, (base,), {"__slots__": (), "pack": _pack,
                               "__doc__": f"Layout of {name.lower()}'s h: {', '.join(base._fields)}."})
    return cls(*range(len(base._fields)))


#: lr, momentum, 1 - dampening, weight_decay, sign (-1 maximize), nesterov,
#: has_momentum, first (the buffer starts as the gradient itself).
SGD = layout("SGD", "lr momentum dampening_c weight_decay sign nesterov has_momentum first")
#: lr / (1 + (step - 1) lr_decay), weight_decay, eps, sign.
ADAGRAD = layout("ADAGRAD", "clr weight_decay eps sign")
#: lr, alpha, 1 - alpha, eps, weight_decay, momentum, sign, centered, has_momentum.
RMSPROP = layout("RMSPROP", "lr alpha alpha_c eps weight_decay momentum sign centered "
                            "has_momentum")
#: lr / (1 - beta1^t), 1 - beta1, beta2, 1 - beta2, eps, weight_decay, sign,
#: 1 / sqrt(1 - beta2^t), 1 - lr weight_decay (AdamW's decay), decoupled, amsgrad.
ADAM = layout("ADAM", "step_size beta1_c beta2 beta2_c eps weight_decay sign inv_bc2_sqrt "
                      "decay decoupled amsgrad")
#: lr / (1 - beta1^t), 1 - beta1, beta2, eps, weight_decay, sign.
ADAMAX = layout("ADAMAX", "clr beta1_c beta2 eps weight_decay sign")
#: lr, rho, 1 - rho, eps, weight_decay, sign.
ADADELTA = layout("ADADELTA", "lr rho rho_c eps weight_decay sign")

_MODULE = "fastnn._kernels._nb_optim"
_EMPTY = {np.dtype(np.float32): np.empty(0, np.float32),
          np.dtype(np.float64): np.empty(0, np.float64)}


def empty(dtype):
    """The empty placeholder for a state array that is switched off."""
    return _EMPTY[np.dtype(dtype)]


# --- the kernels ----------------------------------------------------------------------
# the C extension of this family; the Numba loops below stand in for it where it
# does not load (and only there are they warmed up)
_EXT = "_coptim"
_cx = engine.extension(_EXT)

#: name -> (layout of h, names of the state arrays in the kernel's order). A new
#: optimizer is a row here plus its loop in csrc/optim.h, _nb_optim.py and
#: reference_optim.py.
KERNELS = {
    "sgd": (SGD, ("momentum_buffer",)),
    "adagrad": (ADAGRAD, ("sum",)),
    "rmsprop": (RMSPROP, ("square_avg", "grad_avg", "momentum_buffer")),
    "adam": (ADAM, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    "adamax": (ADAMAX, ("exp_avg", "exp_inf")),
    "adadelta": (ADADELTA, ("square_avg", "acc_delta")),
}


def _numba_steps(name, n_state):
    k = numba_kernel(_MODULE, f"{name}_step",
                     float_signatures("void(" + ", ".join(["T[::1]"] * (n_state + 3)) + ")"),
                     twin_of=_EXT, exact=True)

    def steps(items, h):
        for item in items:
            k(item[0].size, *item, h)
    return steps


def _c_steps(name, n_state):
    attr = f"{name}_steps"

    # looked up at the call: _coptim imports this module's layouts while loading
    def steps(items, h):
        total = 0
        for item in items:
            total += item[0].size
        getattr(_cx, attr)(items, h, threads_for(total))
    return steps


def _one(steps):
    """``<name>_step(p, g, *state, h)``: ``steps`` over a list of one item."""
    def step(p, g, *state_and_h):
        steps([(p, g) + state_and_h[:-1]], state_and_h[-1])
    return step


def _steps(make):
    """({name: <name>_step}, {name: <name>_steps}) of one engine."""
    one, many = {}, {}
    for name, (lay, states) in KERNELS.items():
        steps = make(name, len(states))
        step = _one(steps)
        step.__name__ = step.__qualname__ = f"{name}_step"
        step.__doc__ = (f"``{name}_step(p, g, {', '.join(states)}, h)``: one {name} update in "
                        f"place; h in layout {type(lay).__name__}.")
        steps.__name__ = steps.__qualname__ = f"{name}_steps"
        steps.__doc__ = (f"``{name}_steps(items, h)``: the {name} update of every item "
                         f"``(p, g, {', '.join(states)})`` (one dtype, one h) in one parallel "
                         f"loop; bitwise each item's ``{name}_step``.")
        one[name], many[name] = step, steps
    return one, many


_NUMBA, _NUMBA_MANY = _steps(_numba_steps)
_C, _C_MANY = _steps(_c_steps) if _cx is not None else (None, None)
_RUN, _RUN_MANY = (_C, _C_MANY) if _C is not None else (_NUMBA, _NUMBA_MANY)

sgd_step, sgd_steps = _RUN["sgd"], _RUN_MANY["sgd"]
adagrad_step, adagrad_steps = _RUN["adagrad"], _RUN_MANY["adagrad"]
rmsprop_step, rmsprop_steps = _RUN["rmsprop"], _RUN_MANY["rmsprop"]
adam_step, adam_steps = _RUN["adam"], _RUN_MANY["adam"]
adamax_step, adamax_steps = _RUN["adamax"], _RUN_MANY["adamax"]
adadelta_step, adadelta_steps = _RUN["adadelta"], _RUN_MANY["adadelta"]


# --- many small parameters: one flat update per group --------------------------------

#: Parameters smaller than this are packed: their steps run as one flat kernel call.
PACK_BELOW = 1 << 15
# The pack copies are plain memcpys of a few kB each: a second thread only pays off
# on long packs (measured: 200 x 1000 float32 took 60 us on one thread, 130 us on two).
_PACK_SERIAL_BELOW = 1 << 20

_gather_nb = numba_kernel(_MODULE, "gather_params",
                          float_signatures("void(int64[::1], int64[::1], T[::1])"), twin_of=_EXT)
_scatter_nb = numba_kernel(_MODULE, "scatter_params",
                           float_signatures("void(T[::1], int64[::1], int64[::1])"), twin_of=_EXT)


def _address(arr):
    return arr.__array_interface__["data"][0]


class PackPlan:
    """Copies between C-contiguous arrays of one dtype and one flat array.

    Process-local: it holds the arrays themselves (so their memory stays valid for
    as long as it lives) and refuses to be pickled. The C engine takes each array's
    address at every call; the Numba twin takes them once, here.

    >>> a, b = np.arange(3.0), np.arange(2.0)
    >>> plan = PackPlan([a, b]); flat = np.empty(5)
    >>> plan.gather(flat); flat *= 2; plan.scatter(flat); b.tolist()
    [0.0, 2.0]
    """

    __slots__ = ("arrays", "offsets", "_addresses", "_engine")

    def __init__(self, arrays, engine=None):
        self.arrays = list(arrays)
        self.offsets = np.zeros(len(self.arrays) + 1, np.int64)
        np.cumsum([a.size for a in self.arrays], out=self.offsets[1:])
        self._engine = engine or ("c" if _cx is not None else "numba")
        self._addresses = None
        if self._engine == "numba":
            self._addresses = np.array([_address(a) for a in self.arrays], np.int64)

    @property
    def size(self):
        return int(self.offsets[-1])

    def gather(self, flat):
        """flat[offsets[j]:offsets[j + 1]] = arrays[j]."""
        if self._engine == "c":
            _cx.gather(self.arrays, self.offsets, flat, threads_for(flat.size, _PACK_SERIAL_BELOW))
        else:
            _gather_nb(flat.size, self._addresses, self.offsets, flat)

    def scatter(self, flat):
        """arrays[j][...] = flat[offsets[j]:offsets[j + 1]]."""
        if self._engine == "c":
            _cx.scatter(flat, self.arrays, self.offsets, threads_for(flat.size, _PACK_SERIAL_BELOW))
        else:
            _scatter_nb(flat.size, flat, self._addresses, self.offsets)

    def __reduce__(self):
        raise TypeError("PackPlan is process-local (it stands for memory of this process) "
                        "and cannot be pickled.")


def engines(many=False):
    """{'c': steps, 'numba': steps} for the engines that can run here (tests run both):
    each ``{name: <name>_step}``, or with ``many`` ``{name: <name>_steps}``."""
    out = {"numba": _NUMBA_MANY if many else _NUMBA}
    if _C is not None:
        out["c"] = _C_MANY if many else _C
    return out
