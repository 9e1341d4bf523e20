"""Elementwise kernels, by name, with the names of their NumPy references.

Every kernel takes C-contiguous or strided float32/float64 input and returns a
C-contiguous array of the same shape and dtype (``out=`` may be the input itself
for in-place ops). Non-contiguous input is copied to contiguous once, here.

``SPECS`` lists every elementwise kernel with its engine and the name of its oracle
in :mod:`.reference`, which only the tests (and the benchmark command) import; the
test suite compares them all (tests/test_kernels.py), so adding a kernel means
adding a ``Spec`` row.
"""
from dataclasses import dataclass, field

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
        params: parameter values used by the tests.
        domain: (low, high) of test inputs.
    """
    kernel: object
    reference: str
    engine: str
    arity: int = 1
    params: tuple = ()
    domain: tuple = (-6.0, 6.0)
    extra: dict = field(default_factory=dict)


copy = c_unary("copy")
mul = c_binary("mul")
sigmoid_fwd = c_unary("sigmoid_fwd")
sigmoid_bwd = c_binary("sigmoid_bwd")
tanh_fwd = c_unary("tanh_fwd")
tanh_bwd = c_binary("tanh_bwd")
relu_fwd = c_unary("relu_fwd")
relu_bwd = c_binary("relu_bwd")
leaky_relu_fwd = c_unary("leaky_relu_fwd")
leaky_relu_bwd = c_binary("leaky_relu_bwd")
hardtanh_fwd = c_unary("hardtanh_fwd")
hardtanh_bwd = c_binary("hardtanh_bwd")
elu_fwd = c_unary("elu_fwd")
elu_bwd = c_binary("elu_bwd")
elu_bwd_x = c_binary("elu_bwd_x")
gelu_fwd = c_unary("gelu_fwd")
gelu_bwd = c_binary("gelu_bwd")
gelu_tanh_fwd = c_unary("gelu_tanh_fwd")
gelu_tanh_bwd = c_binary("gelu_tanh_bwd")
silu_fwd = c_unary("silu_fwd")
silu_bwd = c_binary("silu_bwd")
softplus_fwd = c_unary("softplus_fwd")
softplus_bwd = c_binary("softplus_bwd")
rrelu_noise = c_binary("rrelu_noise")

_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946, 1.0)

SPECS = {
    "copy": Spec(copy, "copy", "c"),
    "mul": Spec(mul, "mul", "c", arity=2),
    "sigmoid_fwd": Spec(sigmoid_fwd, "sigmoid_fwd", "c", domain=(-30, 30)),
    "sigmoid_bwd": Spec(sigmoid_bwd, "sigmoid_bwd", "c", arity=2, domain=(0, 1)),
    "tanh_fwd": Spec(tanh_fwd, "tanh_fwd", "c", domain=(-20, 20)),
    "tanh_bwd": Spec(tanh_bwd, "tanh_bwd", "c", arity=2, domain=(-1, 1)),
    "relu_fwd": Spec(relu_fwd, "relu_fwd", "c"),
    "relu_bwd": Spec(relu_bwd, "relu_bwd_from_output", "c", arity=2),
    "leaky_relu_fwd": Spec(leaky_relu_fwd, "leaky_relu_fwd", "c", params=(0.02,)),
    "leaky_relu_bwd": Spec(leaky_relu_bwd, "leaky_relu_bwd", "c", arity=2, params=(0.02,)),
    "hardtanh_fwd": Spec(hardtanh_fwd, "hardtanh_fwd", "c", params=(-1.0, 2.0)),
    "hardtanh_bwd": Spec(hardtanh_bwd, "hardtanh_bwd", "c", arity=2, params=(-1.0, 2.0)),
    "elu_fwd": Spec(elu_fwd, "elu_fwd", "c", params=(1.3, 1.0, 1.0), domain=(-20, 20)),
    "selu_fwd": Spec(elu_fwd, "elu_fwd", "c", params=_SELU, domain=(-20, 20)),
    "celu_fwd": Spec(elu_fwd, "elu_fwd", "c", params=(0.5, 1.0, 2.0), domain=(-20, 20)),
    "elu_bwd": Spec(elu_bwd, "elu_bwd", "c", arity=2, params=_SELU, domain=(-1.7, 6)),
    "elu_bwd_x": Spec(elu_bwd_x, "elu_bwd_x", "c", arity=2, params=(0.5, 1.0, 2.0), domain=(-20, 20)),
    "gelu_fwd": Spec(gelu_fwd, "gelu_fwd", "c", domain=(-10, 10)),
    "gelu_bwd": Spec(gelu_bwd, "gelu_bwd", "c", arity=2, domain=(-10, 10)),
    "gelu_tanh_fwd": Spec(gelu_tanh_fwd, "gelu_tanh_fwd", "c", domain=(-10, 10)),
    "gelu_tanh_bwd": Spec(gelu_tanh_bwd, "gelu_tanh_bwd", "c", arity=2, domain=(-10, 10)),
    "silu_fwd": Spec(silu_fwd, "silu_fwd", "c", domain=(-30, 30)),
    "silu_bwd": Spec(silu_bwd, "silu_bwd", "c", arity=2, domain=(-30, 30)),
    "softplus_fwd": Spec(softplus_fwd, "softplus_fwd", "c", params=(2.0, 20.0), domain=(-30, 30)),
    "softplus_bwd": Spec(softplus_bwd, "softplus_bwd", "c", arity=2, params=(2.0, 20.0), domain=(-30, 30)),
    "rrelu_noise": Spec(rrelu_noise, "rrelu_noise", "c", arity=2),
}
