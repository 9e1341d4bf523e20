"""Cast: a tensor in another dtype, differentiably (the boundary's dtype policy uses it
to compute float16 in float32 and hand the result back in float16)."""
from .function import Function

__all__ = ["Cast"]


class Cast(Function):
    """y = x as ``dtype``; the gradient flows back unchanged (the engine casts it to
    x's dtype)."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g
