"""Sequential's no-grad path: a plan of steps, built from the module list.

Under ``fn.no_grad()`` nothing is recorded, so a Sequential need not hand a Tensor
from module to module. Each run of Linear layers (a ReLU after a Linear fused into
it; eval-mode dropout and Identity between them skipped) is one DENSE step: for a
few rows one fused call runs the whole chain, reading each W once and applying
bias and ReLU on the way out (``autograd.Linear.chain``); for many rows, blocks of
rows go through the whole chain on the pool, one BLAS call per layer and block
while the block's activations are in cache (``autograd.Linear.chain_blocks``);
where neither applies, or when a dropout in the run is in training mode, its layers
run one by one on arrays (``F.linear_nograd``). Any other module is called as usual, and the result is
wrapped once. Only the exact types in ``KINDS`` fuse: a subclass may override
forward.

The plan holds Parameter objects (their ``.data`` is read on every call). Sequential
rebuilds it when its own list of modules changes, and a module whose parameters or
sub-modules change tells the Sequentials whose plans hold it (Module._layout_changed),
so a call pays no check. A new kind of fused step is a row in ``KINDS`` and a branch
in ``build_plan``/``run_plan``.
"""
from ..autograd.linear import Linear as _LinearOp
from ..functional.layers import linear_nograd
from ..tensor import Tensor, as_array
from . import _fold
from .activation import ReLU
from .dropout import AlphaDropout, Dropout, Dropout2d, Dropout3d, FeatureAlphaDropout
from .linear import Identity, Linear

__all__ = ["build_plan", "run_plan", "fused_steps"]

_chain = _LinearOp.chain
_chain_blocks = _LinearOp.chain_blocks

CALL, LINEAR, SKIP_IN_EVAL, SKIP, DENSE = range(5)

#: exact module type -> its kind of step (anything else is CALLed)
KINDS = {Linear: LINEAR, Identity: SKIP, Dropout: SKIP_IN_EVAL, AlphaDropout: SKIP_IN_EVAL,
         Dropout2d: SKIP_IN_EVAL, Dropout3d: SKIP_IN_EVAL, FeatureAlphaDropout: SKIP_IN_EVAL}


def fused_steps(modules):
    """(kind, module, fused activation name) per module, a ReLU folded into its Linear
    (the pairing both this plan and Sequential's recording path use)."""
    steps, i = [], 0
    while i < len(modules):
        m, act = modules[i], None
        kind = KINDS.get(type(m), CALL)
        if kind == LINEAR and i + 1 < len(modules) and type(modules[i + 1]) is ReLU:
            act, i = "relu", i + 1
        steps.append((kind, m, act))
        i += 1
    return steps


def build_plan(modules):
    """The steps for a sequence of modules: (CALL | SKIP | SKIP_IN_EVAL, module, _)
    or (DENSE, ((weight, bias, activation code), ...), (dropouts, the run's own steps))."""
    steps, plan, i = fused_steps(_fold.fold(list(modules))), [], 0
    while i < len(steps):
        if steps[i][0] != LINEAR:
            plan.append(steps[i])
            i += 1
            continue
        end = j = i           # the longest run of skippable steps that ends in a Linear
        while j + 1 < len(steps) and steps[j + 1][0] != CALL:
            j += 1
            if steps[j][0] == LINEAR:
                end = j
        run = tuple(steps[i:end + 1])
        layers = tuple((m.weight, m.bias, _LinearOp.activation(act))
                       for kind, m, act in run if kind == LINEAR)
        drops = tuple(m for kind, m, _ in run if kind == SKIP_IN_EVAL)
        plan.append((DENSE, layers, (drops, run)))
        i = end + 1
    return tuple(plan)


def run_plan(plan, x):
    """Run the steps on ``x`` (Tensor, array or array-like); returns what the modules
    would have returned, a Tensor for a plan that ends in a Linear."""
    # this loop is most of single-sample latency after the kernel: keep it flat
    raw = False     # x is a bare ndarray that still has to be wrapped
    for kind, m, extra in plan:
        if kind == DENSE:
            if not raw:
                x = x.data if type(x) is Tensor or isinstance(x, Tensor) else \
                    as_array(x, where="Sequential input")
                raw = True
            y = None
            for d in extra[0]:
                if d.training:
                    break
            else:
                y = _chain(x, m)
                if y is None:
                    y = _chain_blocks(x, m)
            x = _one_by_one(extra[1], x) if y is None else y
        elif kind != CALL and (kind == SKIP or not m.training) and (raw or type(x) is Tensor):
            continue
        else:
            if raw:
                x, raw = Tensor._wrap(x), False
            x = m(x)
    return Tensor._wrap(x) if raw else x


def _one_by_one(steps, x):
    """A DENSE run's own steps on an ndarray, each Linear validated (errors raise here)."""
    for kind, m, act in steps:
        if kind == LINEAR:
            b = m.bias
            x = linear_nograd(x, m.weight.data, None if b is None else b.data, act)
        elif kind == SKIP_IN_EVAL and m.training:
            x = m(Tensor._wrap(x)).data
    return x
