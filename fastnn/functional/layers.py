"""Layer functions (same as torch.nn.functional)."""
from .. import _checks
from ..autograd.linear import Linear as _Linear
from ..autograd.linear import LinearRun as _LinearRun
from ..tensor import Tensor

__all__ = ["linear"]


def linear(x, weight, bias=None):
    """y = x Wᵀ + b.

    Args:
        x: (..., in_features). weight: (out_features, in_features). bias: (out_features,) or None.

    Raises:
        ValueError: when the feature sizes do not match. TypeError: non-float input.

    >>> import fastnn as fn, fastnn.functional as F
    >>> F.linear([[1.0, 2.0]], [[1.0, 1.0], [0.0, 1.0]], [0.5, 0.0]).numpy()
    array([[3.5, 2. ]], dtype=float32)
    """
    return linear_act(x, weight, bias, None)


def linear_act(x, weight, bias=None, act=None):
    """``linear`` with a fused activation (None or "relu"), recorded as one op: the
    step that Sequential's recording path runs for a Linear followed by a ReLU,
    validated as ``linear``; the same values and gradients as the two ops."""
    x, back = _checks.float_input("linear", "input", x)
    if not isinstance(weight, Tensor):
        weight = _checks.tensor("linear", "weight", weight)
    if bias is not None and not isinstance(bias, Tensor):
        bias = _checks.tensor("linear", "bias", bias)
    _check(x.data, weight.data, None if bias is None else bias.data)
    dt = x.data.dtype
    weight = _checks.float_param("linear", "weight", weight, dt)
    if bias is not None:
        bias = _checks.float_param("linear", "bias", bias, dt)
    if act is None:
        return back(_Linear.apply(x, weight, bias))
    return back(_Linear.apply(x, weight, bias, act=_Linear.activation(act)))


def _check(x, w, b):
    _check_shapes(x.shape, w.shape, None if b is None else b.shape)


def _check_shapes(xs, ws, bs):
    if len(ws) != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {ws}.")
    if not xs or xs[-1] != ws[1]:
        raise ValueError(f"linear: input has shape {xs} but weight has shape {ws}; "
                         f"expected input of shape (..., {ws[1]}).")
    if bs is not None and bs != (ws[0],):
        raise ValueError(f"linear: bias must have shape ({ws[0]},), got {bs}.")


def linear_run(x, params, run):
    """A run of Linear layers and element dropouts recorded as one op
    (``autograd.LinearRun``; ``params`` and ``run`` as it takes them), validated as
    ``linear`` validates each layer: Sequential's recording path. Inputs of another
    float dtype are cast to their kernel dtype for the whole run and the result cast
    back (Sequential itself calls the layers one by one for those, each rounding
    its own output)."""
    x, back = _checks.float_input("linear", "input", x)
    xs, dt, i = x.data.shape, x.data.dtype, 0
    params = list(params)
    for op, arg in run:
        if op == _LinearRun.LINEAR:
            params[i] = _checks.float_param("linear", "weight", params[i], dt)
            w, b = params[i].data, None
            if arg[1]:
                params[i + 1] = _checks.float_param("linear", "bias", params[i + 1], dt)
                b = params[i + 1].data
            _check_shapes(xs, w.shape, None if b is None else b.shape)
            xs = xs[:-1] + (w.shape[0],)
            i += 2 if arg[1] else 1
    return back(_LinearRun.apply(x, *params, run=run))


def linear_nograd(x, w, b=None, act=None):
    """act(x Wᵀ + b) on ndarrays, recording nothing: the step that Sequential's no-grad
    plan runs for a Linear (act=None) or a Linear followed by a ReLU (act="relu"),
    validated as ``linear``. Returns an array in x's dtype."""
    _check(x, w, b)
    k = _checks.kernel_dtype("linear", "input", x.dtype)
    if k != x.dtype:
        return _Linear.infer(x.astype(k), _kernel_param(w, k), _kernel_param(b, k),
                             _Linear.activation(act)).astype(x.dtype)
    return _Linear.infer(x, _kernel_param(w, k), _kernel_param(b, k), _Linear.activation(act))


def _kernel_param(p, dtype):
    if p is None or p.dtype in _checks.KERNEL_FLOATS:
        return p
    _checks.kernel_dtype("linear", "weight", p.dtype)
    return p.astype(dtype)
