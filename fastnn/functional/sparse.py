"""Embedding lookup (same as torch.nn.functional.embedding)."""
import numbers

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.norm import Embedding as _Embedding
from .. import _checks
from ..tensor import Tensor, as_tensor

__all__ = ["embedding"]


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer indices ``input``: y[..., :] = weight[input[...]].

    Args:
        input: integer tensor of indices, any shape, each in [0, num_embeddings).
        weight: (num_embeddings, embedding_dim) float tensor.
        padding_idx: this row gets no gradient (negative counts from the end).
        max_norm: rows picked whose ``norm_type``-norm exceeds it are rescaled in place
            to that norm before the lookup, as torch does.
        scale_grad_by_freq: divide each row's gradient by its count in the batch.
        sparse: accepted for torch compatibility; the gradient is a dense array with the
            same values.

    Returns:
        Tensor of shape input.shape + (embedding_dim,), the weight's dtype.

    Raises:
        TypeError: non-integer indices or a non-float weight. IndexError: an index
        outside [0, num_embeddings). ValueError: a weight that is not 2-D or a
        padding_idx out of range.

    >>> import numpy as np, fastnn.functional as F
    >>> w = np.arange(6, dtype=np.float32).reshape(3, 2)
    >>> F.embedding([[2, 0]], w).numpy()
    array([[[4., 5.],
            [0., 1.]]], dtype=float32)
    """
    where = "embedding"
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{where}: expected integer indices (int64 or int32), got dtype {idx.dtype}.")
    w = weight if isinstance(weight, Tensor) else as_tensor(weight, f"{where} weight")
    if not _checks.is_float(w.data.dtype):
        raise TypeError(f"{where}: weight must be floating point, got dtype {w.data.dtype}.")
    if w.ndim != 2:
        raise ValueError(f"{where}: weight must be 2-D (num_embeddings, embedding_dim), got shape "
                         f"{w.shape}.")
    V = w.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= V):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"{where}: index {int(bad)} is out of range for a weight with "
                         f"{V} rows (expected 0 <= index < {V}).")
    if padding_idx is not None:
        if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)) \
                or not -V <= padding_idx < V:
            raise ValueError(f"{where}: padding_idx must be an int within num_embeddings "
                             f"({V}), got {padding_idx!r}.")
        padding_idx = int(padding_idx) % V
    if max_norm is not None:
        if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real):
            raise TypeError(f"{where}: max_norm must be a real number or None, got {max_norm!r}.")
        with no_grad():
            _renorm_(w.data, idx, float(max_norm), float(norm_type))
    return _Embedding.apply(w, indices=idx.astype(np.intp, copy=False), padding_idx=padding_idx,
                            scale_grad_by_freq=bool(scale_grad_by_freq))


def _renorm_(w, idx, max_norm, norm_type):
    """torch.embedding_renorm_: rows of ``w`` used by ``idx`` rescaled to at most max_norm."""
    rows = np.unique(idx)
    if not rows.size:
        return
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    scale = max_norm / (norms[big] + 1e-7)
    w[rows[big]] *= scale[:, None].astype(w.dtype)
