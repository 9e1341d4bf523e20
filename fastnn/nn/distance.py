"""Similarity modules with torch's names (the math is in fastnn.functional)."""
from .. import functional as F
from .module import Module

__all__ = ["CosineSimilarity"]


class CosineSimilarity(Module):
    """Cosine similarity along ``dim`` (see F.cosine_similarity).

    >>> import fastnn as fn
    >>> fn.nn.CosineSimilarity(dim=1)(fn.tensor([[1.0, 1.0]]), fn.tensor([[2.0, 2.0]]))
    tensor([1.])
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
