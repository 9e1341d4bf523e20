"""Plain NumPy versions of every compiled kernel: the test oracle and the readable spec.

Each function has the same positional signature as its compiled twin and returns a
new array. Backward functions take (u, g): u is the op's input or output (whichever
the compiled backward reads), g the incoming gradient.
"""
import numpy as np


def copy(x):
    return np.array(x, copy=True)


def sigmoid_fwd(x):
    with np.errstate(over="ignore"):
        return (1 / (1 + np.exp(-x))).astype(x.dtype)


def sigmoid_bwd(y, g):
    return g * y * (1 - y)


def tanh_fwd(x):
    return np.tanh(x)


def tanh_bwd(y, g):
    return g * (1 - y * y)


def relu_fwd(x):
    return np.where(x < 0, np.zeros((), x.dtype), x)


def relu_bwd(x, g):
    return np.where(x > 0, g, np.zeros((), g.dtype))
