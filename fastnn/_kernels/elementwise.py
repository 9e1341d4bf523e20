"""Elementwise kernels, by name, with the names of their NumPy references.

Every kernel takes C-contiguous or strided float32/float64 input and returns a
C-contiguous array of the same shape and dtype (``out=`` may be the input itself
for in-place ops). Non-contiguous input is copied to contiguous once, here.

Every row of the engine's op tables (csrc/elementwise.h, mirrored by
``_twin_elementwise``) becomes a module attribute of the same name when this module
is imported: ``relu_fwd(x, a=0, b=0, c=0, out=None)``, ``relu_bwd(u, g, ...)``. A new
row therefore needs no edit here.

``SPECS`` says how the tests (tests/test_kernels.py, tests/test_engine.py) and
``python -m fastnn bench`` exercise each kernel: the name of its oracle in
:mod:`.reference` (imported only by them), parameter values and input domain. A
kernel without a row in ``_SPEC_ROWS`` gets the default row: the oracle of its own
name, inputs in (-6, 6), and as parameters the defaults of the oracle's arguments
after its arrays (``Spec.with_oracle``). So a new op needs a row here only when its
inputs must lie in a narrower range.
"""
import inspect
from dataclasses import dataclass, field, replace

import numpy as np

from . import engine
from .jit import numba_kernel, float_signatures
from .threads import SERIAL_BELOW, threads_for

__all__ = ["Spec", "SPECS", "c_unary", "c_binary", "nb_unary", "nb_binary", "contiguous"]

# the C extension, or its NumPy twin where it cannot run (see engine.py)
_ce = engine.module("_celementwise", twin="_twin_elementwise")


def contiguous(x):
    """``x`` as a C-contiguous array (no copy when it already is)."""
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


def _out(x, out):
    return np.empty(x.shape, x.dtype) if out is None else out


def c_unary(name):
    """Kernel ``f(x, a=0, b=0, c=0, out=None)`` for a C unary op of elementwise.h."""
    op, run = _ce.UNARY[name], _ce.unary

    def kernel(x, a=0.0, b=0.0, c=0.0, out=None):
        # the extension makes x contiguous and allocates out: one C call per small op
        n = x.size
        return run(op, x, out, a, b, c, 1 if n < SERIAL_BELOW else threads_for(n))
    kernel.__name__ = kernel.__qualname__ = name
    return kernel


def c_binary(name):
    """Kernel ``f(u, g, a=0, b=0, c=0, out=None)`` for a C binary op (u: input or output, g: grad)."""
    op, run = _ce.BINARY[name], _ce.binary

    def kernel(u, g, a=0.0, b=0.0, c=0.0, out=None):
        n = u.size
        return run(op, u, g, out, a, b, c, 1 if n < SERIAL_BELOW else threads_for(n))
    kernel.__name__ = kernel.__qualname__ = name
    return kernel


_NB_MODULE = "fastnn._kernels._nb_elementwise"


def nb_unary(name):
    """Kernel ``f(x, a=0, b=0, out=None)`` for a Numba loop ``name(x, out, a, b)`` of _nb_elementwise."""
    k = numba_kernel(_NB_MODULE, name, float_signatures("void(T[::1], T[::1], T, T)"),
                     twin_of="_celementwise")   # the C loops run where they load

    def kernel(x, a=0.0, b=0.0, out=None):
        x = contiguous(x)
        out = _out(x, out)
        k(x.size, x.reshape(-1), out.reshape(-1), a, b)
        return out
    kernel.__name__ = kernel.__qualname__ = name
    return kernel


def nb_binary(name):
    """Kernel ``f(u, g, a=0, b=0, out=None)`` for a Numba loop ``name(u, g, out, a, b)``."""
    k = numba_kernel(_NB_MODULE, name, float_signatures("void(T[::1], T[::1], T[::1], T, T)"),
                     twin_of="_celementwise")

    def kernel(u, g, a=0.0, b=0.0, out=None):
        u, g = contiguous(u), contiguous(g)
        out = _out(u, out)
        k(u.size, u.reshape(-1), g.reshape(-1), out.reshape(-1), a, b)
        return out
    kernel.__name__ = kernel.__qualname__ = name
    return kernel


@dataclass(frozen=True)
class Spec:
    """One elementwise kernel and how to test it.

    Attributes:
        kernel: the compiled kernel (see c_unary / nb_unary ...).
        reference: name of the NumPy oracle in fastnn._kernels.reference with the same
            positional signature (resolved by the tests, never imported here).
        engine: 'c' or 'numba'.
        arity: 1 for f(x, *params), 2 for f(u, g, *params).
        params: parameter values used by the tests (none: see ``with_oracle``).
        domain: (low, high) of test inputs.
    """
    kernel: object
    reference: str
    engine: str
    arity: int = 1
    params: tuple = ()
    domain: tuple = (-6.0, 6.0)
    extra: dict = field(default_factory=dict)

    def with_oracle(self, oracle):
        """This row, with ``params`` taken from ``oracle`` (the reference function) when
        the row names none: the defaults of its arguments after the ``arity`` arrays
        (unchanged when one of them has no default)."""
        if self.params or oracle is None:
            return self
        rest = list(inspect.signature(oracle).parameters.values())[self.arity:]
        if not rest or any(p.default is p.empty for p in rest):
            return self
        return replace(self, params=tuple(p.default for p in rest))


# one kernel per row of the engine's op tables, under the row's name (KE.relu_fwd, ...)
for _name in _ce.UNARY:
    globals()[_name] = c_unary(_name)
for _name in _ce.BINARY:
    globals()[_name] = c_binary(_name)
del _name

_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946, 1.0)


def _spec(kernel, reference=None, **kw):
    """A Spec for the kernel named ``kernel`` (oracle: ``reference``, else the same name)."""
    arity = 2 if kernel in _ce.BINARY else 1
    return Spec(globals()[kernel], reference or kernel, "c", arity=arity, **kw)


# kernels (or parameter sets) whose tests need more than the default row
_SPEC_ROWS = {
    "sigmoid_fwd": _spec("sigmoid_fwd", domain=(-30, 30)),
    "sigmoid_bwd": _spec("sigmoid_bwd", domain=(0, 1)),
    "tanh_fwd": _spec("tanh_fwd", domain=(-20, 20)),
    "tanh_bwd": _spec("tanh_bwd", domain=(-1, 1)),
    "relu_bwd": _spec("relu_bwd", "relu_bwd_from_output"),
    "leaky_relu_fwd": _spec("leaky_relu_fwd", params=(0.02,)),
    "leaky_relu_bwd": _spec("leaky_relu_bwd", params=(0.02,)),
    "hardtanh_fwd": _spec("hardtanh_fwd", params=(-1.0, 2.0)),
    "hardtanh_bwd": _spec("hardtanh_bwd", params=(-1.0, 2.0)),
    "elu_fwd": _spec("elu_fwd", params=(1.3, 1.0, 1.0), domain=(-20, 20)),
    "selu_fwd": _spec("elu_fwd", params=_SELU, domain=(-20, 20)),
    "celu_fwd": _spec("elu_fwd", params=(0.5, 1.0, 2.0), domain=(-20, 20)),
    "elu_bwd": _spec("elu_bwd", params=_SELU, domain=(-1.7, 6)),
    "elu_bwd_x": _spec("elu_bwd_x", params=(0.5, 1.0, 2.0), domain=(-20, 20)),
    "gelu_fwd": _spec("gelu_fwd", domain=(-10, 10)),
    "gelu_bwd": _spec("gelu_bwd", domain=(-10, 10)),
    "gelu_tanh_fwd": _spec("gelu_tanh_fwd", domain=(-10, 10)),
    "gelu_tanh_bwd": _spec("gelu_tanh_bwd", domain=(-10, 10)),
    "silu_fwd": _spec("silu_fwd", domain=(-30, 30)),
    "silu_bwd": _spec("silu_bwd", domain=(-30, 30)),
    "softplus_fwd": _spec("softplus_fwd", params=(2.0, 20.0), domain=(-30, 30)),
    "softplus_bwd": _spec("softplus_bwd", params=(2.0, 20.0), domain=(-30, 30)),
}


def _default_specs():
    """A Spec per op-table row without one in _SPEC_ROWS: its oracle is the reference
    function of the same name (its parameters: ``Spec.with_oracle``)."""
    return {name: _spec(name) for name in (*_ce.UNARY, *_ce.BINARY) if name not in _SPEC_ROWS}


SPECS = {**_default_specs(), **_SPEC_ROWS}
