"""The one table of differentiable ops. Each family contributes rows from its own
module (table_*.py); test_ops.py drives reference, gradcheck, dtype, torch-parity and
error tests from the concatenation.

A row (``Op``):
    name       test id.
    fn         fastnn callable: fn(*tensors, **kwargs) -> Tensor.
    reference  NumPy callable on the same inputs as arrays (float64-accurate), or None.
    make       make(rng, dtype) -> tuple of ndarrays: the op's positional inputs.
    grad       indices of inputs that are differentiable (gradcheck and torch grads).
    torch      torch callable on torch tensors (same positional inputs), or None.
    kwargs     keyword arguments passed to fn, reference and torch alike.
    rtol/atol  float32 tolerances against reference/torch (float64 uses 1e-10/1e-12).
    gradcheck  False only for ops with no gradient (argmax-like); say why in `why`.
"""
from dataclasses import dataclass, field



@dataclass
class Op:
    name: str
    fn: object
    reference: object
    make: object
    grad: tuple = (0,)
    torch: object = None
    kwargs: dict = field(default_factory=dict)
    rtol: float = 1e-5
    atol: float = 1e-6
    gradcheck: bool = True
    gc_atol: float = 1e-5
    gc_rtol: float = 1e-3
    why: str = ""


@dataclass
class ErrorCase:
    """A bad call: ``call()`` must raise ``exc`` with a message matching ``match``."""
    name: str
    call: object
    exc: type
    match: str


def randn(*shape, low=None, high=None):
    """make-helper: inputs of the given shapes, normal or uniform in [low, high)."""
    def make(rng, dtype):
        if low is None:
            return tuple(rng.standard_normal(s).astype(dtype) for s in shape)
        return tuple(rng.uniform(low, high, s).astype(dtype) for s in shape)
    return make


def _collect(attr):
    import table_activations, table_conv, table_core, table_dropout, table_losses, table_norm
    rows = []
    for mod in (table_core, table_activations, table_losses, table_dropout, table_conv,
                table_norm):
        rows.extend(getattr(mod, attr, []))
    return rows


OPS = _collect("OPS")
ERRORS = _collect("ERRORS")
