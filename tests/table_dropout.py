"""Rows of the op table for dropout (see ops_table.py).

Dropout is random, so every row fixes the draw: ``generator=<int>`` makes a fresh
generator per call, so each call (reference comparison, every gradcheck evaluation,
the strided rerun) uses key (seed, 0) and the same mask. The references rebuild that
mask with reference_dropout, bit for bit. torch draws its own masks: no torch column
here (deterministic torch checks live in test_dropout.py).
"""
import numpy as np

import fastnn as fn
import fastnn.functional as F
from fastnn._kernels import reference_dropout as R
from ops_table import ErrorCase, Op, randn


def _ref(seed, p, alpha=False, feature=False, unbatched=False):
    def reference(x):
        if unbatched:   # (C, D, H, W): one unit per channel, dim 0
            return R.dropout(x[None], seed, 0, p, alpha=alpha, feature=True)[0][0]
        return R.dropout(x, seed, 0, p, alpha=alpha, feature=feature)[0]
    return reference


OPS = [
    Op("dropout", lambda x: F.dropout(x, 0.3, generator=11), _ref(11, 0.3), randn((6, 7))),
    Op("dropout_keep_prob", lambda x: F.dropout(x, keep_prob=0.8, generator=12),
       _ref(12, 1 - 0.8), randn((3, 4, 5))),
    Op("dropout_p1", lambda x: F.dropout(x, 1.0, generator=1), _ref(1, 1.0), randn((4, 5))),
    Op("dropout_inplace_nonleaf", lambda x: F.dropout(x * 1.0, 0.4, inplace=True, generator=15),
       _ref(15, 0.4), randn((5, 6))),
    Op("alpha_dropout", lambda x: F.alpha_dropout(x, 0.2, training=True, generator=13),
       _ref(13, 0.2, alpha=True), randn((6, 7))),
    Op("dropout2d", lambda x: F.dropout2d(x, 0.5, generator=14),
       _ref(14, 0.5, feature=True), randn((3, 4, 2, 3))),
    Op("dropout2d_ncl", lambda x: F.dropout2d(x, 0.4, generator=16),
       _ref(16, 0.4, feature=True), randn((3, 5, 4))),
    Op("dropout3d", lambda x: F.dropout3d(x, 0.5, generator=17),
       _ref(17, 0.5, feature=True), randn((2, 3, 2, 2, 2))),
    Op("dropout3d_unbatched", lambda x: F.dropout3d(x, 0.5, generator=18),
       _ref(18, 0.5, unbatched=True), randn((5, 2, 2, 2))),
    Op("feature_alpha_dropout", lambda x: F.feature_alpha_dropout(x, 0.3, True, generator=19),
       _ref(19, 0.3, alpha=True, feature=True), randn((4, 3, 5))),
]


def _x(*shape):
    return np.ones(shape, np.float32)


def _leaf():
    return fn.tensor(np.ones((2, 3), np.float32), requires_grad=True)


ERRORS = [
    ErrorCase("dropout_p_negative", lambda: F.dropout(_x(3), -0.1), ValueError,
              r"dropout: p \(the drop probability\) must be a probability in \[0, 1\], got -0.1"),
    ErrorCase("dropout_p_above_one", lambda: F.dropout(_x(3), 1.5), ValueError,
              r"p \(the drop probability\) must be .* got 1.5"),
    ErrorCase("dropout_p_nan", lambda: F.dropout(_x(3), float("nan")), ValueError, r"p .* got nan"),
    ErrorCase("dropout_p_string", lambda: F.dropout(_x(3), "0.5"), TypeError,
              r"p \(the drop probability\) must be a float"),
    ErrorCase("dropout_keep_prob_outside", lambda: F.dropout(_x(3), keep_prob=1.2), ValueError,
              r"dropout: keep_prob must be a probability in \[0, 1\], got 1.2"),
    ErrorCase("dropout_p_and_keep_prob", lambda: F.dropout(_x(3), 0.3, keep_prob=0.7), ValueError,
              r"dropout: got both p=0.3 and keep_prob=0.7"),
    ErrorCase("alpha_dropout_p_outside", lambda: F.alpha_dropout(_x(3), 2.0, True), ValueError,
              r"alpha_dropout: p"),
    ErrorCase("dropout2d_2d_input", lambda: F.dropout2d(_x(4, 5)), ValueError,
              r"dropout2d: expected input of shape \(N, C, H, W\).* got shape \(4, 5\)"),
    ErrorCase("dropout2d_keep_prob_and_p", lambda: F.dropout2d(_x(2, 2, 2), p=0.5, keep_prob=0.5),
              ValueError, r"dropout2d: got both p"),
    ErrorCase("dropout3d_3d_input", lambda: F.dropout3d(_x(2, 3, 4)), ValueError,
              r"dropout3d: expected input .* got shape \(2, 3, 4\)"),
    ErrorCase("feature_alpha_dropout_1d", lambda: F.feature_alpha_dropout(_x(5), 0.5, True),
              ValueError, r"feature_alpha_dropout: expected .* got shape \(5,\)"),
    ErrorCase("dropout_integer_input", lambda: F.dropout(np.arange(4)), TypeError,
              r"dropout: input must be floating point.* got dtype int64"),
    ErrorCase("dropout_bad_generator", lambda: F.dropout(_x(3), generator="seed"), TypeError,
              r"generator: expected None, an int seed or fastnn.random.Generator"),
    ErrorCase("dropout_inplace_leaf", lambda: F.dropout(_leaf(), 0.5, inplace=True), RuntimeError,
              r"dropout: inplace=True on a leaf tensor that requires grad"),
    ErrorCase("Dropout_module_p", lambda: fn.nn.Dropout(1.1), ValueError,
              r"Dropout: p \(the drop probability\) must be a probability in \[0, 1\], got 1.1"),
    ErrorCase("Dropout2d_module_keep_prob", lambda: fn.nn.Dropout2d(keep_prob=-1), ValueError,
              r"Dropout2d: keep_prob must be a probability in \[0, 1\], got -1.0"),
    ErrorCase("AlphaDropout_module_both", lambda: fn.nn.AlphaDropout(0.1, keep_prob=0.9),
              ValueError, r"AlphaDropout: got both p=0.1 and keep_prob=0.9"),
]
