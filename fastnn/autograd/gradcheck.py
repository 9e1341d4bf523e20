"""Finite-difference check of analytic gradients (float64 central differences)."""
import numpy as np

__all__ = ["gradcheck"]


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=False):
    """Compare the full Jacobian from backward with central differences.

    Every output element is back-propagated in turn (non-scalar outputs too), and
    every input element that requires grad is perturbed by ±eps.

    Args:
        func: callable taking the tensors of ``inputs`` and returning a Tensor.
        inputs: a Tensor or tuple of Tensors (use float64 with requires_grad=True).
        eps, atol, rtol: step and tolerance: |analytic − numeric| ≤ atol + rtol·|numeric|.
        raise_exception: raise instead of returning False on a mismatch.

    Returns:
        bool: True when every Jacobian entry matches.

    Raises:
        AssertionError: with ``raise_exception=True``, naming the input and worst element.

    >>> import fastnn as fn, numpy as np
    >>> x = fn.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> fn.autograd.gradcheck(lambda t: (t * t).sum(), (x,))
    True
    """
    from ..tensor import Tensor
    inputs = _as_tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad.")
    for i in diff:
        if inputs[i].dtype != np.float64:
            import warnings
            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype}, not float64; "
                          "finite differences will be inaccurate.", stacklevel=2)

    def run():
        out = func(*inputs)
        return out

    out = run()
    out_shape = out.shape
    n_out = int(np.prod(out_shape)) if out_shape else 1
    # analytic Jacobian rows: one backward per output element
    analytic = {i: np.zeros((n_out, inputs[i].numel())) for i in diff}
    for j in range(n_out):
        for i in diff:
            inputs[i].grad = None
        out = run()
        seed = np.zeros(n_out, dtype=out.dtype)
        seed[j] = 1
        if out.requires_grad:
            out.backward(seed.reshape(out_shape))
        for i in diff:
            g = inputs[i].grad
            if g is not None:
                analytic[i][j] = np.asarray(g, dtype=np.float64).reshape(-1)
    for i in diff:
        inputs[i].grad = None
    # numeric Jacobian columns
    for i in diff:
        x = inputs[i].data
        flat = x.reshape(-1)   # a view: perturb in place
        if not np.shares_memory(flat, x):
            raise ValueError(f"gradcheck: input {i} must be contiguous.")
        numeric = np.zeros((n_out, x.size))
        for k in range(x.size):
            orig = flat[k]
            flat[k] = orig + eps
            # np.array copies: an output may be a view of the input being perturbed
            fp = np.array(run().data, dtype=np.float64).reshape(-1)
            flat[k] = orig - eps
            fm = np.array(run().data, dtype=np.float64).reshape(-1)
            flat[k] = orig
            numeric[:, k] = (fp - fm) / (2 * eps)
        a = analytic[i]
        err = np.abs(a - numeric)
        bad = ~(err <= atol + rtol * np.abs(numeric))
        if bad.any():
            j, k = np.unravel_index(np.argmax(np.where(bad, err, -1)), err.shape)
            msg = (f"gradcheck: Jacobian mismatch for input {i} (shape {x.shape}): "
                   f"output element {int(j)}, input element "
                   f"{tuple(int(v) for v in np.unravel_index(k, x.shape))}: "
                   f"analytic {a[j, k]:.8g} vs numeric {numeric[j, k]:.8g} "
                   f"({int(bad.sum())} of {bad.size} entries differ).")
            if raise_exception:
                raise AssertionError(msg)
            return False
    return True
