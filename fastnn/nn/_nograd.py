"""Sequential's no-grad path: a plan of steps built once per layout.

Under ``fn.no_grad()`` nothing is recorded, so a Sequential need not hand a Tensor
from module to module: a Linear, or a Linear and the ReLU after it, runs as one
fused call on arrays (``F.linear_nograd``: for a few rows a serial kernel that
reads W once and applies bias and ReLU on the way out), eval-mode dropout is
skipped, and the result is wrapped once. Any other module is called as usual.
Only the exact types fuse: a subclass may override forward.
"""
from .._kernels.linear import ACTIVATIONS, linear_small
from ..functional.layers import linear_nograd
from ..tensor import Tensor, as_array
from .activation import ReLU
from .dropout import AlphaDropout, Dropout, Dropout2d, Dropout3d, FeatureAlphaDropout
from .linear import Identity, Linear

__all__ = ["build_plan", "run_plan"]

CALL, LINEAR, SKIP_IN_EVAL, SKIP = range(4)
_DROPOUTS = (Dropout, AlphaDropout, Dropout2d, Dropout3d, FeatureAlphaDropout)
_RELU, _NONE = ACTIVATIONS["relu"], ACTIVATIONS[None]


def build_plan(modules):
    """Steps ((kind, module, activation code), ...) for a sequence of modules."""
    steps, i = [], 0
    while i < len(modules):
        m, kind, act = modules[i], CALL, _NONE
        if type(m) is Linear:
            kind = LINEAR
            if i + 1 < len(modules) and type(modules[i + 1]) is ReLU:
                act, i = _RELU, i + 1
        elif type(m) in _DROPOUTS:
            kind = SKIP_IN_EVAL
        elif type(m) is Identity:
            kind = SKIP
        steps.append((kind, m, act))
        i += 1
    return tuple(steps)


def run_plan(plan, x):
    """Run the steps on ``x`` (Tensor, array or array-like); returns what the modules
    would have returned, a Tensor for a plan that ends in a Linear."""
    # this loop is most of single-sample latency after the kernels: keep it flat
    raw = False     # x is a bare ndarray that still has to be wrapped
    for kind, m, act in plan:
        if kind == LINEAR:
            if not raw:
                x = x.data if type(x) is Tensor or isinstance(x, Tensor) else \
                    as_array(x, where="Sequential input")
                raw = True
            w, b = m.weight.data, m.bias
            if b is not None:
                b = b.data
            y = linear_small(x, w, b, act)
            x = linear_nograd(x, w, b, _NAMES[act]) if y is None else y
        elif kind != CALL and (kind == SKIP or not m.training) and (raw or type(x) is Tensor):
            continue
        else:
            if raw:
                x, raw = Tensor._wrap(x), False
            x = m(x)
    return Tensor._wrap(x) if raw else x


_NAMES = {code: name for name, code in ACTIVATIONS.items()}
