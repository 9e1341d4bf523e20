"""Matrix products on fastnn's pool: ``matmul(a, b, trans_a, trans_b)`` = op(a) @ op(b).

Large products are split by rows over the pool's threads, each part one
single-threaded call into NumPy's OpenBLAS (csrc/gemm.h), so BLAS never starts
threads of its own under fastnn's; small ones (``threads.GEMM_SERIAL_BELOW``) are one
call on the calling thread. The result is bitwise the same for every thread count.

Twin: ``numpy.dot`` on the same operands, used where the pool or NumPy's OpenBLAS is
missing (the Numba/NumPy engine) and for operands the C path does not take (mixed
dtypes, non-float, strided beyond a transpose).

>>> import numpy as np
>>> a = np.arange(6, dtype=np.float32).reshape(2, 3)
>>> matmul(a, a, trans_b=True)
array([[ 5., 14.],
       [14., 50.]], dtype=float32)
"""
import numpy as np

from . import threads as _threads

__all__ = ["matmul"]

_pool = _threads.pool
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _operand(x, trans):
    """(array, trans) with the array C-contiguous: a Fortran-ordered x is taken as
    the transpose of its C-contiguous view. None when it is neither."""
    if x.flags.c_contiguous:
        return x, trans
    if x.flags.f_contiguous and x.ndim == 2:
        return x.T, not trans
    return None, trans


def matmul(a, b, trans_a=False, trans_b=False, out=None):
    """op(a) @ op(b) for 2-D float arrays, op = transpose where asked.

    Args:
        a, b: 2-D arrays; op(a) is (m, k), op(b) is (k, n).
        trans_a, trans_b: use the transpose of a / b.
        out: optional C-contiguous (m, n) array of the result dtype to write into.

    Returns:
        The (m, n) product (``out`` when given).
    """
    av, ta = _operand(a, trans_a)
    bv, tb = _operand(b, trans_b)
    m = a.shape[1] if trans_a else a.shape[0]
    n = b.shape[0] if trans_b else b.shape[1]
    if (_threads._has_blas and av is not None and bv is not None and a.dtype == b.dtype
            and a.dtype in _FLOATS
            and (out is None or (out.dtype == a.dtype and out.flags.c_contiguous))):
        k = a.shape[0] if trans_a else a.shape[1]
        c = np.empty((m, n), a.dtype) if out is None else out
        if m and n:
            if k == 0:
                c[...] = 0
            else:
                _pool.gemm(av, bv, c, ta, tb, 1.0, 0.0, _threads.gemm_threads(m, n, k))
        return c
    opa = a.T if trans_a else a
    opb = b.T if trans_b else b
    if out is None:
        return np.dot(opa, opb)
    return np.dot(opa, opb, out=out)
