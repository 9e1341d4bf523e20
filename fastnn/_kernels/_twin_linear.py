"""NumPy twin of the C extension ``_clinear`` (csrc/linear.h).

Same names, signatures and results (to round-off) as the compiled module, used by
:mod:`.engine` where the C kernels cannot run: it takes exactly the inputs the C
kernel takes (and returns None for the others, so callers take the same paths), and
computes them with NumPy's matmul.
"""
import numpy as np

ACT_NONE = 0
ACT_RELU = 1
MAX_CHAIN = 32

_limits = [1 << 17, 1 << 19]    # the C module's defaults


def limits():
    """(max multiply-adds for any batch, max for a single row)."""
    return tuple(_limits)


def set_limits(max_work, max_gemv):
    _limits[:] = [int(max_work), int(max_gemv)]


def _input_ok(x):
    return (type(x) is np.ndarray and x.ndim == 2 and x.dtype in (np.float32, np.float64)
            and x.flags.c_contiguous)


def _layer_ok(w, b, n, k, dtype, limited=True):
    """The layer's output size when the kernel takes it, else -1."""
    if type(w) is not np.ndarray or w.ndim != 2 or w.shape[1] != k:
        return -1
    if w.dtype != dtype or not w.flags.c_contiguous:
        return -1
    m = w.shape[0]
    work = n * k * m
    max_work, max_gemv = _limits
    if limited and work > max_work and (n != 1 or work > max_gemv):
        return -1
    if b is not None:
        if (type(b) is not np.ndarray or b.ndim != 1 or b.shape[0] != m or b.dtype != dtype
                or not b.flags.c_contiguous):
            return -1
    return m


def _apply(x, w, b, act):
    y = np.matmul(x, w.T)
    if b is not None:
        y += b
    if act == ACT_RELU:
        y[y < 0] = 0      # NaN stays NaN
    return y


def linear_small(x, w, b, act):
    """act(x @ w.T + b) as a new (n, m) array, or None when the kernel does not apply."""
    if not _input_ok(x):
        return None
    n, k = x.shape
    if _layer_ok(w, b, n, k, x.dtype) < 0:
        return None
    return _apply(x, w, b, act)


_block_rows = [192]


def block_rows():
    return _block_rows[0]


def set_block_rows(rows):
    if rows < 24 or rows % 24:
        raise ValueError(f"set_block_rows: expected a positive multiple of 24, got {rows}.")
    _block_rows[0] = int(rows)


def linear_chain_blocks(x, layers, nt):
    """linear_chain for any number of rows (the C kernel's blocks on the pool)."""
    return linear_chain(x, layers, limited=False)


def linear_chain(x, layers, limited=True):
    """Layers ((weight, bias or None, act), ...) applied in order to x, weights and biases
    read from ``.data``; None when the kernel does not take every layer."""
    L = len(layers)
    if L == 0 or L > MAX_CHAIN or not _input_ok(x):
        return None
    n, k = x.shape
    plan = []
    for w, b, act in layers:
        wd, bd = w.data, None if b is None else b.data
        m = _layer_ok(wd, bd, n, k, x.dtype, limited)
        if m < 0 or (not limited and k == 0):
            return None
        plan.append((wd, bd, act))
        k = m
    y = x
    for wd, bd, act in plan:
        y = _apply(y, wd, bd, act)
    return y


def linear_fwd(x, w, b, act, nt):
    """act(x @ w.T + b) for any number of rows (the C kernel's pooled GEMM with the
    bias and activation on each thread's rows); None where the kernel declines."""
    if not _input_ok(x):
        return None
    n, k = x.shape
    if _layer_ok(w, b, n, k, x.dtype, limited=False) < 0 or k == 0:
        return None
    return _apply(x, w, b, act)


def linear_relu_bwd(y, g, nt):
    """(relu_bwd(y, g), its column sums) for y and g (n, m) of one float type; None
    where the kernel does not take them."""
    if not _input_ok(y) or not _input_ok(g) or g.dtype != y.dtype or g.shape != y.shape:
        return None
    gm = np.where(y <= 0, y.dtype.type(0), g)
    return gm, gm.sum(axis=0)
