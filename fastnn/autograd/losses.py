"""Loss Functions: forward computes the loss and (when a gradient is wanted) the
gradient in the same kernel pass; backward only scales that saved gradient by the
incoming one.

When the incoming gradient is exactly 1 (``loss.backward()``) backward hands the
saved array itself on and forgets it: no copy, no multiply. A retained graph that
is back-propagated again recomputes it by replaying forward.
"""
import numpy as np

from .._kernels import activations as KA
from .._kernels import losses as K
from .function import Context, Function

__all__ = ["CrossEntropy", "NLLLoss", "PointwiseLoss", "index_str"]

_DIVISOR = {"mean": lambda x: x.size, "sum": lambda x: 1,
            "batchmean": lambda x: x.shape[0] if x.ndim else 1}


def index_str(flat, shape):
    """'[i, j]': the position of flat index ``flat`` in an array of ``shape``."""
    return str([int(i) for i in np.unravel_index(flat, shape)]) if shape else "[]"


def _wants_grad(ctx, i=0):
    return ctx.needs_input_grad[i]


def _keep(ctx, g, args, kwargs):
    """Save the gradient made in forward, and how to make it again."""
    ctx.grad, ctx.replay = g, (args, kwargs)


def _saved(ctx):
    g = ctx.grad
    if g is None:   # handed on by an earlier backward of a retained graph
        c = Context((True, False))
        args, kwargs = ctx.replay
        ctx.fn.forward(c, *args, **kwargs)
        g = c.grad
    return g


def _scaled(ctx, g):
    """The saved gradient times a 0-d incoming gradient g (handed on as is when g == 1)."""
    s = float(g)
    saved = _saved(ctx)
    if s == 1.0:
        ctx.grad = None     # the engine owns it now and may accumulate into it
        return saved
    return K.scale(saved, s)


def _rows_view(x):
    """Logits (C,), (N, C) or (N, C, d1, ...) as a C-contiguous (rows, C) array."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _rows_back(g2, shape):
    """Inverse of _rows_view for a gradient."""
    if g2.shape == shape:
        return g2       # not a view: the engine may hand it on as .grad without a copy
    if len(shape) <= 2:
        return g2.reshape(shape)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return np.moveaxis(g2.reshape(moved), -1, 1)


class CrossEntropy(Function):
    """torch's cross_entropy on logits: fused log_softmax + NLL (see F.cross_entropy)."""

    @staticmethod
    def forward(ctx, x, target, weight=None, ignore_index=-100, reduction="mean",
                label_smoothing=0.0):
        grad = _wants_grad(ctx)
        x2 = _rows_view(x)
        kind = target.dtype.kind     # dtype.name costs microseconds: asked only off the int path
        soft = kind == "f" or (kind not in "iu" and target.dtype.name == "bfloat16")
        if soft:
            y2 = _rows_view(target.astype(x.dtype, copy=False))
            n = x2.shape[0]
            gscale = 1.0 / n if reduction == "mean" else 1.0
            rows, total, g = K.cross_entropy_soft(x2, y2, weight, label_smoothing, grad,
                                                  1.0 if reduction == "none" else gscale)
            if reduction == "mean":
                total = total / n if n else np.nan
            ctx.soft = (y2, gscale)
        else:
            rows, total, den, bad, g = K.cross_entropy_hard(
                x2, target.reshape(-1), weight, ignore_index, label_smoothing, grad, 1.0,
                reduction == "mean")
            if bad < rows.shape[0]:
                t = target.reshape(-1)
                raise ValueError(f"cross_entropy: target{index_str(bad, target.shape)} = {int(t[bad])} is out of range "
                                 f"for {x2.shape[1]} classes; expected class indices in "
                                 f"[0, {x2.shape[1] - 1}] or ignore_index={ignore_index}.")
            if reduction == "mean":
                total = total / den if den else np.nan
            ctx.soft = None
        ctx.shape, ctx.reduction, ctx.weight, ctx.eps = x.shape, reduction, weight, label_smoothing
        if grad:
            _keep(ctx, g, (x, target), dict(weight=weight, ignore_index=ignore_index,
                                            reduction=reduction, label_smoothing=label_smoothing))
        if reduction == "none":
            return rows.reshape(target.shape[:-1] if soft else target.shape)
        return np.asarray(total, x.dtype)

    @staticmethod
    def backward(ctx, g):
        gx = None
        if ctx.needs_input_grad[0]:
            if ctx.reduction == "none":
                g2 = _saved(ctx) * g.reshape(-1, 1)
            else:
                g2 = _scaled(ctx, g)
            gx = _rows_back(g2, ctx.shape)
        gy = None
        if ctx.soft is not None and ctx.needs_input_grad[1]:
            # d/dy of -sum w (1-eps) y log_softmax(x): the rare soft-target case
            y2, gscale = ctx.soft
            x2 = _rows_view(ctx.inputs[0].data)
            w = 1.0 if ctx.weight is None else ctx.weight
            gr = g.reshape(-1, 1) if ctx.reduction == "none" else float(g) * gscale
            logp = KA.log_softmax_fwd(x2, -1)
            gy = _rows_back((-(1 - ctx.eps) * w * logp * gr).astype(y2.dtype), ctx.shape)
        return gx, gy


class NLLLoss(Function):
    """torch's nll_loss on log-probabilities: loss_i = -w[t_i] x[i, t_i]."""

    @staticmethod
    def forward(ctx, x, target, weight=None, ignore_index=-100, reduction="mean"):
        x2 = _rows_view(x)
        t = target.reshape(-1)
        bad = np.flatnonzero(((t < 0) | (t >= x2.shape[1])) & (t != ignore_index))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"nll_loss: target{index_str(i, target.shape)} = {int(t[i])} is out of range for "
                             f"{x2.shape[1]} classes; expected class indices in "
                             f"[0, {x2.shape[1] - 1}] or ignore_index={ignore_index}.")
        rows, w = K.nll(x2, t, weight, ignore_index)
        ctx.shape, ctx.reduction, ctx.w = x.shape, reduction, w
        ctx.t = np.where(t != ignore_index, t, 0)
        if reduction == "none":
            return rows.reshape(target.shape)
        total = rows.sum(dtype=np.float64)
        if reduction == "mean":
            den = w.sum(dtype=np.float64)
            ctx.den = den
            total = total / den if den else np.nan
        return np.asarray(total, x.dtype)

    @staticmethod
    def backward(ctx, g):
        n = ctx.t.shape[0]
        c = ctx.shape[1] if len(ctx.shape) > 1 else ctx.shape[0]
        if ctx.reduction == "none":
            coef = -ctx.w * g.reshape(-1)
        else:
            s = float(g) / ctx.den if ctx.reduction == "mean" and ctx.den else float(g)
            coef = -ctx.w * s
        g2 = np.zeros((n, c), ctx.w.dtype)
        g2[np.arange(n), ctx.t] = coef
        return _rows_back(g2, ctx.shape), None


# d loss / d target for the torch losses whose target may require grad
_TARGET_GRAD = {
    "mse": None, "l1": None, "smooth_l1": None, "huber": None,   # -grad_x
    "bce_logits": lambda x, y, gx: -x,
    "kl_div": lambda x, y, gx: np.log(y) + 1 - x,
    "kl_div_log": lambda x, y, gx: np.exp(y) * (y - x + 1),
    "bce": lambda x, y, gx: np.maximum(np.log1p(-x), -100) - np.maximum(np.log(x), -100),
}


class PointwiseLoss(Function):
    """A torch-style elementwise loss (one row of csrc/losses.h) with a reduction.

    kwargs: op (kernel name), reduction ('none', 'mean', 'sum', 'batchmean'),
    p (the op's parameter), weight (elementwise, broadcast) and pos_weight (BCE
    with logits: one per class along the last axis).
    """

    @staticmethod
    def forward(ctx, x, y, op, reduction="mean", p=0.0, weight=None, pos_weight=None):
        if y.dtype != x.dtype:
            y = y.astype(x.dtype)
        if x.shape != y.shape:
            x, y = np.broadcast_arrays(x, y)
        grad = _wants_grad(ctx, 0) or _wants_grad(ctx, 1)
        ctx.op, ctx.reduction = op, reduction
        if reduction == "none" or weight is not None:
            if pos_weight is not None:
                _, loss, g = K.bce_logits_pw(x, y, pos_weight, elem=True, grad=grad)
            else:
                loss, g = K.pointwise_elem(op, x, y, p, grad)
            if weight is not None:
                loss = loss * weight
                g = g * weight if grad else None
            if reduction != "none":
                div = _DIVISOR[reduction](loss)
                total = loss.sum(dtype=np.float64) / div if div else np.nan   # empty: nan, as torch
                if grad and div:
                    g = g / div
                loss = np.asarray(total, x.dtype)
        else:
            div = _DIVISOR[reduction](x)
            gscale = 1.0 / div if div else 1.0
            if pos_weight is not None:
                total, _, g = K.bce_logits_pw(x, y, pos_weight, grad=grad, gscale=gscale)
            else:
                total, g = K.pointwise_sum(op, x, y, p, grad, gscale)
            loss = np.asarray(total / div if div else np.nan, x.dtype)   # empty: nan, as torch
        if grad:
            _keep(ctx, g, (x, y, op), dict(reduction=reduction, p=p, weight=weight, pos_weight=pos_weight))
            if ctx.needs_input_grad[1]:
                ctx.save_for_backward(x, y, weight, pos_weight)
        return loss

    @staticmethod
    def backward(ctx, g):
        if ctx.reduction == "none":
            gx = _saved(ctx) * g
        else:
            gx = _scaled(ctx, g)
        gy = None
        if ctx.needs_input_grad[1]:
            x, y, weight, pos_weight = ctx.saved_tensors
            tg = _TARGET_GRAD.get(ctx.op)
            if ctx.op not in _TARGET_GRAD or pos_weight is not None:
                raise NotImplementedError(f"{ctx.op}: gradient with respect to the target is not "
                                          f"implemented; detach the target.")
            if ctx.op in ("mse", "l1", "smooth_l1", "huber"):
                gy = -gx    # the loss depends on x - y only
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    gy = tg(x, y, None)
                if weight is not None:
                    gy = gy * weight
                gy = gy * (g if ctx.reduction == "none" else float(g) / _DIVISOR[ctx.reduction](x))
        return (gx if ctx.needs_input_grad[0] else None), gy

