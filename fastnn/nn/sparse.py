"""Embedding layer (same as torch.nn.Embedding)."""
import numpy as np

from .. import _checks
from .. import functional as F
from .._device import check_device
from ..random import resolve
from ..tensor import Tensor, as_array, empty_aligned
from .module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, indexed by
    integer tensors (see F.embedding). The weight starts N(0, 1), as torch's, with the
    ``padding_idx`` row zero.

    Args:
        num_embeddings, embedding_dim: table size. padding_idx: a row kept at zero
            gradient. max_norm, norm_type, scale_grad_by_freq, sparse: as F.embedding.
        _weight: an initial (num_embeddings, embedding_dim) weight. _freeze: do not train it.
        device: 'cpu' or None. dtype: float32 default. generator: seed source for init.

    >>> import fastnn as fn
    >>> emb = fn.nn.Embedding(10, 3)
    >>> emb(fn.tensor([[1, 2, 4], [4, 3, 9]])).shape
    (2, 3, 3)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None, generator=None):
        super().__init__()
        where = "Embedding"
        check_device(device, where)
        self.num_embeddings = _checks.integer(where, "num_embeddings", num_embeddings, low=0)
        self.embedding_dim = _checks.integer(where, "embedding_dim", embedding_dim, low=0)
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)) \
                    or not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"{where}: padding_idx must be within num_embeddings "
                                 f"({self.num_embeddings}), got {padding_idx!r}.")
            padding_idx = int(padding_idx) % self.num_embeddings
        if max_norm is not None:
            _checks.real(where, "max_norm", max_norm, what="a number or None")
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = bool(scale_grad_by_freq), bool(sparse)
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            dtype = np.dtype(np.float32 if dtype is None else dtype)
            self.weight = Parameter(empty_aligned(shape, dtype))
            self.reset_parameters(generator)
        else:
            w = as_array(_weight, where=f"{where} _weight")
            if w.shape != shape:
                raise ValueError(f"{where}: _weight must have shape {shape}, got {w.shape}.")
            data = empty_aligned(shape, w.dtype if dtype is None else dtype)
            data[...] = w
            self.weight = Parameter(data, requires_grad=not _freeze)

    def reset_parameters(self, generator=None):
        self.weight.data[...] = resolve(generator).numpy.standard_normal(self.weight.shape)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding holding a copy of the 2-D ``embeddings`` (not trained when ``freeze``).

        >>> import fastnn as fn
        >>> fn.nn.Embedding.from_pretrained([[1.0, 2.0], [3.0, 4.0]])(fn.tensor([1])).numpy()
        array([[3., 4.]], dtype=float32)
        """
        w = as_array(embeddings.data if isinstance(embeddings, Tensor) else embeddings,
                     where="Embedding.from_pretrained embeddings")
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {w.shape}.")
        return cls(w.shape[0], w.shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq,
                   sparse, _weight=w, _freeze=freeze)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        return s
