"""Keras's losses as Functions: each reduces over the last axis (one loss per sample)
and differentiates with respect to ``y_pred`` only. Forward computes the loss and,
when a gradient is wanted, the gradient in the same kernel pass; backward scales it.

``KerasLoss.apply(y_pred, y_true, kind=..., param=...)`` with ``kind`` one of
``KINDS``: a pointwise row loss of the C kernel family (mean or sum over the last
axis), or one of the row-wise crossentropies and the cosine similarity.
"""
import numpy as np

from .._kernels import losses as K
from .function import Function

__all__ = ["KerasLoss", "KINDS"]


def _pointwise(op, mean):
    def run(p, t, grad, param):
        cols = p.shape[-1] if p.ndim else 1
        k = 1.0 / cols if mean and cols else 1.0
        out, g = K.pointwise_rows(op, p, t, param, grad, k)
        if mean:
            out *= k
        return out, g
    return run


def _cce_logits(p, t, grad, param):
    c = p.shape[-1]
    rows, _, g = K.cross_entropy_soft(p.reshape(-1, c), t.reshape(-1, c), None, 0.0, grad)
    return rows.reshape(p.shape[:-1]), None if g is None else g.reshape(p.shape)


def _cce_probs(p, t, grad, param):
    return K.keras_cce_probs(p, t, grad)


def _scce_logits(p, t, grad, param):
    c = p.shape[-1]
    rows, _, _, _, g = K.cross_entropy_hard(p.reshape(-1, c), t.reshape(-1), grad=grad)
    return rows.reshape(p.shape[:-1]), None if g is None else g.reshape(p.shape)


def _scce_probs(p, t, grad, param):
    c = p.shape[-1]
    loss, g = K.keras_scce_probs(p.reshape(-1, c), t.reshape(-1), grad)
    return loss.reshape(p.shape[:-1]), None if g is None else g.reshape(p.shape)


def _cosine(p, t, grad, param):
    return K.cosine_similarity(p, t, grad)


#: kind -> kernel(y_pred, y_true, grad, param) -> (loss per row, gradient or None)
KINDS = {
    "mean_squared_error": _pointwise("mse", True),
    "mean_absolute_error": _pointwise("l1", True),
    "mean_absolute_percentage_error": _pointwise("k_mape", True),
    "mean_squared_logarithmic_error": _pointwise("k_msle", True),
    "hinge": _pointwise("k_hinge", True),
    "squared_hinge": _pointwise("k_sq_hinge", True),
    "huber": _pointwise("huber", True),
    "binary_crossentropy": _pointwise("k_bce", True),
    "binary_crossentropy_logits": _pointwise("bce_logits", True),
    "kl_divergence": _pointwise("k_kld", False),
    "categorical_crossentropy": _cce_probs,
    "categorical_crossentropy_logits": _cce_logits,
    "sparse_categorical_crossentropy": _scce_probs,
    "sparse_categorical_crossentropy_logits": _scce_logits,
    "cosine_similarity": _cosine,
}


class KerasLoss(Function):
    """One Keras loss per sample: ``apply(y_pred, y_true, kind, param=0.0)``.

    y_pred: float (..., d); y_true: the same shape in y_pred's dtype (class indices
    (...,) int64 for the sparse kinds). Returns the losses, shape (...,).
    """

    @staticmethod
    def forward(ctx, y_pred, y_true, kind, param=0.0):
        need = getattr(ctx, "needs_input_grad", None)
        loss, g = KINDS[kind](y_pred, y_true, bool(need and need[0]), param)
        ctx.grad = g
        return loss

    @staticmethod
    def backward(ctx, g):
        return ctx.grad * g[..., None], None
