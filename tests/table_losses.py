"""Rows of the op table for losses (see ops_table.py)."""
import numpy as np

import fastnn as fn
import fastnn.functional as F
from fastnn._kernels import reference_losses as R
from ops_table import ErrorCase, Op


def _reduce(loss, reduction, den=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "batchmean":
        return loss.sum() / loss.shape[0]
    return loss.sum() / (loss.size if den is None else den)


def _ref_ce(x, t, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    loss, _, den = R.cross_entropy_hard(x, t, weight, ignore_index, label_smoothing)
    return _reduce(loss, reduction, den)


def _ref_ce_soft(x, y, reduction="mean", label_smoothing=0.0):
    loss, _ = R.cross_entropy_soft(x, y, None, label_smoothing)
    return _reduce(loss, reduction, loss.shape[0])


def _ref_nll(x, t, reduction="mean"):
    loss = -np.asarray(x, np.float64)[np.arange(len(t)), t]
    return _reduce(loss, reduction)


def _ref_pw(op, p=0.0):
    def ref(x, y, reduction="mean", **kw):
        return _reduce(R.pointwise(op, x, y, p)[0], reduction)
    return ref


def _ref_bce_pw(x, y, reduction="mean", pos_weight=None):
    return _reduce(R.bce_logits_pw(x, y, pos_weight)[0], reduction)


def _classes(n, c, low=-3, high=3, ignore=False):
    def make(rng, dtype):
        t = rng.integers(0, c, n)
        if ignore:
            t[1] = -100
        return rng.uniform(low, high, (n, c)).astype(dtype), t
    return make


def _soft(n, c):
    def make(rng, dtype):
        return rng.standard_normal((n, c)).astype(dtype), rng.dirichlet(np.ones(c), n).astype(dtype)
    return make


def _pair(shape, lx, hx, ly, hy):
    def make(rng, dtype):
        return rng.uniform(lx, hx, shape).astype(dtype), rng.uniform(ly, hy, shape).astype(dtype)
    return make


def _hinge_pair(shape):
    def make(rng, dtype):
        return (rng.integers(0, 2, shape).astype(dtype),
                (rng.uniform(-2, 2, shape) + 0.05).astype(dtype))
    return make


def _t(name):
    def call(*args, **kw):
        import torch
        return getattr(torch.nn.functional, name)(*args, **kw)
    return call


OPS = []
for red in ("mean", "sum", "none"):
    OPS += [
        Op(f"cross_entropy_{red}", F.cross_entropy, _ref_ce, _classes(6, 5, ignore=True),
           torch=_t("cross_entropy"), kwargs=dict(reduction=red)),
        Op(f"mse_loss_{red}", F.mse_loss, _ref_pw("mse"), _pair((4, 3), -2, 2, -2, 2), grad=(0, 1),
           torch=_t("mse_loss"), kwargs=dict(reduction=red)),
        Op(f"binary_cross_entropy_with_logits_{red}", F.binary_cross_entropy_with_logits,
           _ref_pw("bce_logits"), _pair((4, 3), -4, 4, 0, 1), grad=(0, 1),
           torch=_t("binary_cross_entropy_with_logits"), kwargs=dict(reduction=red)),
    ]
OPS += [
    Op("cross_entropy_smooth", F.cross_entropy, _ref_ce, _classes(6, 5, ignore=True),
       torch=_t("cross_entropy"), kwargs=dict(label_smoothing=0.2)),
    Op("cross_entropy_soft", F.cross_entropy, _ref_ce_soft, _soft(5, 4), grad=(0, 1),
       torch=_t("cross_entropy"), kwargs=dict(label_smoothing=0.1)),
    Op("nll_loss", F.nll_loss, _ref_nll, _classes(6, 5, -3, -0.1), torch=_t("nll_loss")),
    Op("l1_loss", F.l1_loss, _ref_pw("l1"), _pair((4, 3), -2, 2, -2, 2), grad=(0, 1), torch=_t("l1_loss")),
    Op("smooth_l1_loss", F.smooth_l1_loss, _ref_pw("smooth_l1", 0.5), _pair((4, 3), -2, 2, -2, 2),
       grad=(0, 1), torch=_t("smooth_l1_loss"), kwargs=dict(beta=0.5)),
    Op("huber_loss", F.huber_loss, _ref_pw("huber", 0.5), _pair((4, 3), -2, 2, -2, 2),
       grad=(0, 1), torch=_t("huber_loss"), kwargs=dict(delta=0.5)),
    Op("binary_cross_entropy", F.binary_cross_entropy, _ref_pw("bce"), _pair((4, 3), 0.05, 0.95, 0, 1),
       grad=(0, 1), torch=_t("binary_cross_entropy"), rtol=1e-4),
    Op("binary_cross_entropy_with_logits_pos_weight", F.binary_cross_entropy_with_logits,
       _ref_bce_pw, _pair((4, 3), -4, 4, 0, 1),
       torch=lambda x, y, pos_weight: _t("binary_cross_entropy_with_logits")(
           x, y, pos_weight=__import__("torch").tensor(pos_weight, dtype=x.dtype)),
       kwargs=dict(pos_weight=np.array([0.5, 1.0, 3.0]))),
    Op("kl_div", F.kl_div, _ref_pw("kl_div"), _pair((4, 3), -3, -0.1, 0, 1), grad=(0, 1),
       torch=_t("kl_div"), kwargs=dict(reduction="sum")),
    Op("kl_div_log_target", F.kl_div, _ref_pw("kl_div_log"), _pair((4, 3), -3, -0.1, -3, -0.1),
       grad=(0, 1), torch=_t("kl_div"), kwargs=dict(reduction="batchmean", log_target=True)),
]


# Keras family: fn.losses.<name>(y_true, y_pred); only y_pred (input 1) is differentiable.
def _keras_ref(op, mean=True, transform=None):
    def ref(t, p, **kw):
        if transform is not None:
            t = transform(t)
        loss = R.pointwise(op, p, t)[0]
        return loss.mean(-1) if mean else loss.sum(-1)
    return ref


def _to_pm1(t):
    return 2 * np.asarray(t, np.float64) - 1


def _keras_cce_logits(t, p, **kw):
    return R.cross_entropy_soft(p, t)[0]


def _keras_pair(shape, lt, ht, lp, hp):
    def make(rng, dtype):
        return rng.uniform(lt, ht, shape).astype(dtype), rng.uniform(lp, hp, shape).astype(dtype)
    return make


KERAS_OPS = [
    Op("keras_mse", fn.losses.mean_squared_error, _keras_ref("mse"), _keras_pair((4, 3), -2, 2, -2, 2), grad=(1,)),
    Op("keras_mae", fn.losses.mean_absolute_error, _keras_ref("l1"), _keras_pair((4, 3), -2, 2, -2, 2), grad=(1,)),
    Op("keras_mape", fn.losses.mean_absolute_percentage_error, _keras_ref("k_mape"),
       _keras_pair((4, 3), 0.5, 2, -2, 2), grad=(1,)),
    Op("keras_msle", fn.losses.mean_squared_logarithmic_error, _keras_ref("k_msle"),
       _keras_pair((4, 3), 0.1, 2, 0.1, 2), grad=(1,)),
    Op("keras_hinge", fn.losses.hinge, _keras_ref("k_hinge", transform=_to_pm1), _hinge_pair((4, 3)), grad=(1,)),
    Op("keras_squared_hinge", fn.losses.squared_hinge, _keras_ref("k_sq_hinge", transform=_to_pm1),
       _hinge_pair((4, 3)), grad=(1,)),
    Op("keras_binary_crossentropy", fn.losses.binary_crossentropy, _keras_ref("k_bce"),
       _keras_pair((4, 3), 0, 1, 0.05, 0.95), grad=(1,)),
    Op("keras_binary_crossentropy_logits", fn.losses.binary_crossentropy, _keras_ref("bce_logits"),
       _keras_pair((4, 3), 0, 1, -4, 4), grad=(1,), kwargs=dict(from_logits=True)),
    Op("keras_categorical_crossentropy_logits", fn.losses.categorical_crossentropy, _keras_cce_logits,
       lambda rng, dtype: (rng.dirichlet(np.ones(3), 4).astype(dtype), rng.standard_normal((4, 3)).astype(dtype)),
       grad=(1,), kwargs=dict(from_logits=True)),
    Op("keras_kld", fn.losses.kullback_leibler_divergence, _keras_ref("k_kld", mean=False),
       _keras_pair((4, 3), 0.05, 1, 0.05, 0.95), grad=(1,)),
]
OPS += KERAS_OPS


def _ce_bad_target():
    F.cross_entropy(np.zeros((3, 4), np.float32), np.array([0, 7, 1]))


ERRORS = [
    ErrorCase("cross_entropy_target_out_of_range", _ce_bad_target, ValueError, r"target\[1\] = 7.*4 classes"),
    ErrorCase("cross_entropy_negative_target",
              lambda: F.cross_entropy(np.zeros((3, 4), np.float32), np.array([0, 1, -2])), ValueError,
              r"target\[2\] = -2"),
    ErrorCase("cross_entropy_target_shape",
              lambda: F.cross_entropy(np.zeros((3, 4), np.float32), np.array([0, 1])), ValueError,
              r"\(3, 4\).*\(3,\).*\(2,\)"),
    ErrorCase("cross_entropy_float_labels",
              lambda: F.cross_entropy(np.zeros((3, 4), np.float32), np.array([0.0, 1.0, 2.0])), ValueError,
              r"float.*integers"),
    ErrorCase("cross_entropy_negative_label_smoothing",
              lambda: F.cross_entropy(np.zeros((3, 4), np.float32), np.array([0, 1, 2]), label_smoothing=-0.1),
              ValueError, r"label_smoothing.*-0\.1"),
    ErrorCase("cross_entropy_bad_reduction",
              lambda: F.cross_entropy(np.zeros((3, 4), np.float32), np.array([0, 1, 2]), reduction="avg"),
              ValueError, r"'avg'"),
    ErrorCase("cross_entropy_weight_shape",
              lambda: F.cross_entropy(np.zeros((3, 4), np.float32), np.array([0, 1, 2]), weight=np.ones(3)),
              ValueError, r"\(4,\).*\(3,\)"),
    ErrorCase("nll_loss_target_out_of_range",
              lambda: F.nll_loss(np.zeros((2, 3), np.float32), np.array([3, 0])), ValueError, r"target\[0\] = 3"),
    ErrorCase("mse_loss_shapes", lambda: F.mse_loss(np.zeros((3, 4), np.float32), np.zeros((2, 4), np.float32)),
              ValueError, r"\(3, 4\).*\(2, 4\)"),
    ErrorCase("binary_cross_entropy_not_probability",
              lambda: F.binary_cross_entropy(np.array([0.5, 1.5], np.float32), np.array([1.0, 0.0], np.float32)),
              ValueError, r"input\[1\] = .*1\.5"),
    ErrorCase("pos_weight_shape",
              lambda: F.binary_cross_entropy_with_logits(np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32),
                                                         pos_weight=np.ones(2)), ValueError, r"\(3,\).*\(2,\)"),
    ErrorCase("keras_shape_mismatch",
              lambda: fn.losses.mse(np.zeros((3, 4), np.float32), np.zeros((3, 5), np.float32)),
              ValueError, r"y_true of shape \(3, 4\).*y_pred of shape \(3, 5\)"),
    ErrorCase("keras_sparse_out_of_range",
              lambda: fn.losses.sparse_categorical_crossentropy([0, 5], np.full((2, 3), 1 / 3, np.float32)),
              ValueError, r"y_true\[1\] = 5.*3 classes"),
    ErrorCase("keras_sparse_fractional_label",
              lambda: fn.losses.sparse_categorical_crossentropy([0.0, 1.5], np.full((2, 3), 1 / 3, np.float32)),
              ValueError, r"y_true\[1\] = 1\.5"),
    ErrorCase("keras_negative_label_smoothing",
              lambda: fn.losses.categorical_crossentropy(np.eye(3, dtype=np.float32), np.eye(3, dtype=np.float32),
                                                         label_smoothing=-0.5), ValueError, r"-0\.5"),
    ErrorCase("keras_unknown_loss", lambda: fn.losses.get("mean_sqaured_error"), ValueError,
              r"mean_sqaured_error.*mean_squared_error"),
    ErrorCase("to_categorical_out_of_range", lambda: fn.utils.to_categorical([0, 1, 4], num_classes=3),
              ValueError, r"y\[2\] = 4.*num_classes=3"),
    ErrorCase("to_categorical_negative", lambda: fn.utils.to_categorical([0, -1]), ValueError, r"y\[1\] = -1"),
]
