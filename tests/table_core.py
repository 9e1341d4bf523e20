"""Rows of the op table for the Tensor's own ops and F.linear (see ops_table.py).

Inputs are kept small: gradcheck costs one backward per output element and two
forwards per input element.
"""
import numpy as np

import fastnn as fn
import fastnn.functional as F
from fastnn.autograd.cast import Cast as _Cast
from ops_table import ErrorCase, Op, randn


def _t():
    import torch
    return torch


def away_from(*shape, centre=0.0, gap=0.2, scale=1.5):
    """make-helper: values at least ``gap`` away from ``centre`` (kinks, poles)."""
    def make(rng, dtype):
        out = []
        for s in shape:
            mag = rng.uniform(gap, gap + scale, s)
            sign = np.where(rng.random(s) < 0.5, -1.0, 1.0)
            out.append((centre + sign * mag).astype(dtype))
        return tuple(out)
    return make


def positive(*shape, low=0.5, high=2.0):
    return randn(*shape, low=low, high=high)


def clip_inputs(lo, hi, *shape):
    """Values spread over [lo - 1, hi + 1] but at least 0.05 away from both bounds."""
    def make(rng, dtype):
        out = []
        for s in shape:
            x = rng.uniform(lo - 1.0, hi + 1.0, s)
            for b in (lo, hi):
                near = np.abs(x - b) < 0.05
                x = np.where(near, x + np.where(x >= b, 0.1, -0.1), x)
            out.append(x.astype(dtype))
        return tuple(out)
    return make


def distinct(*shape):
    """Values with no ties (max has a unique arg-max per reduction)."""
    def make(rng, dtype):
        out = []
        for s in shape:
            n = int(np.prod(s))
            out.append((rng.permutation(n).reshape(s) * 0.37 - 0.2 * n).astype(dtype))
        return tuple(out)
    return make


def binop(name, sym, np_op, a_shape, b_shape, make=None, grad=(0, 1)):
    op = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
          "/": lambda a, b: a / b, "**": lambda a, b: a ** b, "@": lambda a, b: a @ b}[sym]
    return Op(name, op, np_op, make or randn(a_shape, b_shape), grad=grad, torch=op)


def linear_ref(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


_M = np.arange(6.0).reshape(2, 3) / 5 - 0.5
_IDX = np.array([0, 2, 0, 3, 2])           # fancy index with repeats
_ROWS, _COLS = np.array([0, 1, 1, 3]), np.array([2, 0, 2, 2])


def _linear_run(x, w1, b1, w2):
    """Linear + ReLU, then Linear without bias, as the one op Sequential records."""
    from fastnn.autograd.linear import Linear as LinearOp
    from fastnn.autograd.linear import LinearRun
    from fastnn.functional.layers import linear_run
    run = ((LinearRun.LINEAR, (LinearOp.activation("relu"), True)),
           (LinearRun.LINEAR, (LinearOp.activation(None), False)))
    return linear_run(x, [w1, b1, w2], run)


OPS = [
    # --- binary arithmetic, same shape -------------------------------------------------
    binop("add", "+", np.add, (3, 4), (3, 4)),
    binop("sub", "-", np.subtract, (3, 4), (3, 4)),
    binop("mul", "*", np.multiply, (3, 4), (3, 4)),
    binop("div", "/", np.divide, (3, 4), (3, 4),
          make=lambda rng, dt: (rng.standard_normal((3, 4)).astype(dt),
                                away_from((3, 4), gap=0.5)(rng, dt)[0])),
    # --- broadcasting: grads summed back to each operand's shape ------------------------
    binop("add_bcast_col_row", "+", np.add, (3, 1), (1, 4)),
    binop("add_bcast_trailing", "+", np.add, (2, 3), (3,)),
    binop("sub_bcast_lead", "-", np.subtract, (3,), (2, 3)),
    binop("mul_bcast_3d", "*", np.multiply, (4, 1, 3), (2, 1)),
    binop("div_bcast_col", "/", np.divide, (2, 3), (2, 1),
          make=lambda rng, dt: (rng.standard_normal((2, 3)).astype(dt),
                                away_from((2, 1), gap=0.5)(rng, dt)[0])),
    binop("mul_0d_tensor", "*", np.multiply, (), (2, 3)),
    # --- dtype casts (the boundary's float16/byte-order policy): there and back ------------
    Op("cast_byteswapped_and_back", lambda a: _Cast.apply(
        _Cast.apply(a, dtype=a.dtype.newbyteorder(">")), dtype=a.dtype), lambda a: a, randn((3, 4))),
    Op("add_scalar", lambda a: a + 2.5, lambda a: a + 2.5, randn((3, 4)),
       torch=lambda a: a + 2.5),
    Op("radd_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, randn((3, 4)),
       torch=lambda a: 2.5 + a),
    Op("rsub_scalar", lambda a: 2.0 - a, lambda a: 2.0 - a, randn((3, 4)),
       torch=lambda a: 2.0 - a),
    Op("mul_scalar", lambda a: a * -3.0, lambda a: a * -3.0, randn((3, 4)),
       torch=lambda a: a * -3.0),
    Op("rdiv_scalar", lambda a: 1.5 / a, lambda a: 1.5 / a, away_from((3, 4), gap=0.5),
       torch=lambda a: 1.5 / a, rtol=1e-5, atol=1e-5),
    Op("div_scalar", lambda a: a / 4.0, lambda a: a / 4.0, randn((3, 4)),
       torch=lambda a: a / 4.0),
    # --- powers -----------------------------------------------------------------------
    Op("pow_tensor_int", lambda a: a ** 3, lambda a: a ** 3, randn((3, 4)),
       torch=lambda a: a ** 3),
    Op("pow_tensor_frac", lambda a: a ** 2.5, lambda a: a ** 2.5, positive((3, 4)),
       torch=lambda a: a ** 2.5),
    Op("pow_tensor_neg", lambda a: a ** -1.5, lambda a: a ** -1.5, positive((3, 4)),
       torch=lambda a: a ** -1.5),
    Op("rpow_scalar_base", lambda a: 2.0 ** a, lambda a: 2.0 ** a, randn((3, 4)),
       torch=lambda a: 2.0 ** a),
    binop("pow_tensor_tensor", "**", np.power, (3, 4), (3, 4),
          make=lambda rng, dt: (rng.uniform(0.5, 2.0, (3, 4)).astype(dt),
                                rng.standard_normal((3, 4)).astype(dt))),
    binop("pow_bcast", "**", np.power, (2, 3), (3,),
          make=lambda rng, dt: (rng.uniform(0.5, 2.0, (2, 3)).astype(dt),
                                rng.uniform(-2, 2, (3,)).astype(dt))),
    # --- matmul -----------------------------------------------------------------------
    binop("matmul_2d_2d", "@", np.matmul, (3, 4), (4, 5)),
    binop("matmul_1d_2d", "@", np.matmul, (4,), (4, 5)),
    binop("matmul_2d_1d", "@", np.matmul, (3, 4), (4,)),
    binop("matmul_1d_1d", "@", np.matmul, (4,), (4,)),
    binop("matmul_3d_3d", "@", np.matmul, (2, 3, 4), (2, 4, 5)),
    binop("matmul_3d_2d_bcast", "@", np.matmul, (2, 3, 4), (4, 5)),
    binop("matmul_bcast_batch", "@", np.matmul, (2, 1, 3, 4), (3, 4, 2)),
    binop("matmul_1d_3d", "@", np.matmul, (4,), (2, 4, 3)),
    binop("matmul_3d_1d", "@", np.matmul, (2, 3, 4), (4,)),
    Op("matmul_batch1_outer", lambda a, b: a @ b, np.matmul, randn((1, 5), (5, 6)),
       torch=lambda a, b: a @ b),
    Op("rmatmul_ndarray", lambda a: _M.astype(a.dtype) @ a, lambda a: _M @ a, randn((3, 2)),
       torch=lambda a: _t().from_numpy(_M).to(a.dtype) @ a),
    Op("gram_reuse", lambda a: a.T @ a, lambda a: a.T @ a, randn((3, 2)),
       torch=lambda a: a.T @ a),
    # --- unary ------------------------------------------------------------------------
    Op("neg", lambda a: -a, np.negative, randn((3, 4)), torch=lambda a: -a),
    Op("exp", lambda a: a.exp(), np.exp, randn((3, 4)), torch=lambda a: a.exp()),
    Op("log", lambda a: a.log(), np.log, positive((3, 4), low=0.1, high=5.0),
       torch=lambda a: a.log()),
    Op("sqrt", lambda a: a.sqrt(), np.sqrt, positive((3, 4), low=0.2, high=5.0),
       torch=lambda a: a.sqrt()),
    Op("abs", lambda a: a.abs(), np.abs, away_from((3, 4)), torch=lambda a: a.abs()),
    Op("clip_both", lambda a: a.clip(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7),
       clip_inputs(-0.5, 0.7, (4, 5)), torch=lambda a: a.clamp(-0.5, 0.7)),
    Op("clip_min_only", lambda a: a.clip(0.0, None), lambda a: np.maximum(a, 0.0),
       clip_inputs(0.0, 0.0, (4, 5)), torch=lambda a: a.clamp(min=0.0)),
    Op("clip_max_only", lambda a: a.clip(None, 0.3), lambda a: np.minimum(a, 0.3),
       clip_inputs(0.3, 0.3, (4, 5)), torch=lambda a: a.clamp(max=0.3)),
    # --- reductions -------------------------------------------------------------------
    Op("sum_all", lambda a: a.sum(), np.sum, randn((3, 4)), torch=lambda a: a.sum()),
    Op("sum_axis0", lambda a: a.sum(axis=0), lambda a: a.sum(axis=0), randn((3, 4)),
       torch=lambda a: a.sum(dim=0)),
    Op("sum_axis_neg_keepdims", lambda a: a.sum(axis=-1, keepdims=True),
       lambda a: a.sum(axis=-1, keepdims=True), randn((2, 3, 4)),
       torch=lambda a: a.sum(dim=-1, keepdim=True)),
    Op("sum_axis_tuple", lambda a: a.sum(axis=(0, 2)), lambda a: a.sum(axis=(0, 2)),
       randn((2, 3, 4)), torch=lambda a: a.sum(dim=(0, 2))),
    Op("sum_all_keepdims", lambda a: a.sum(keepdims=True), lambda a: a.sum(keepdims=True),
       randn((2, 3)), torch=lambda a: a.sum(dim=(0, 1), keepdim=True)),
    Op("mean_all", lambda a: a.mean(), np.mean, randn((3, 4)), torch=lambda a: a.mean()),
    Op("mean_axis1", lambda a: a.mean(axis=1), lambda a: a.mean(axis=1), randn((3, 4)),
       torch=lambda a: a.mean(dim=1)),
    Op("mean_axis_tuple_keepdims", lambda a: a.mean(axis=(1, 2), keepdims=True),
       lambda a: a.mean(axis=(1, 2), keepdims=True), randn((2, 3, 4)),
       torch=lambda a: a.mean(dim=(1, 2), keepdim=True)),
    Op("max_all", lambda a: a.max(), np.max, distinct((3, 4)), torch=lambda a: a.amax()),
    Op("max_axis0", lambda a: a.max(axis=0), lambda a: a.max(axis=0), distinct((3, 4)),
       torch=lambda a: a.amax(dim=0)),
    Op("max_axis_keepdims", lambda a: a.max(axis=-1, keepdims=True),
       lambda a: a.max(axis=-1, keepdims=True), distinct((2, 3, 4)),
       torch=lambda a: a.amax(dim=-1, keepdim=True)),
    Op("max_axis_tuple", lambda a: a.max(axis=(0, 2)), lambda a: a.max(axis=(0, 2)),
       distinct((2, 3, 4)), torch=lambda a: a.amax(dim=(0, 2))),
    # --- shape ------------------------------------------------------------------------
    Op("reshape_tuple", lambda a: a.reshape((4, 3)), lambda a: a.reshape(4, 3),
       randn((3, 4)), torch=lambda a: a.reshape(4, 3)),
    Op("reshape_varargs_infer", lambda a: a.reshape(2, -1), lambda a: a.reshape(2, -1),
       randn((3, 4)), torch=lambda a: a.reshape(2, -1)),
    Op("transpose_default", lambda a: a.transpose(), lambda a: a.transpose(),
       randn((2, 3, 4)), torch=lambda a: a.permute(2, 1, 0)),
    Op("transpose_axes", lambda a: a.transpose(1, 2, 0), lambda a: a.transpose(1, 2, 0),
       randn((2, 3, 4)), torch=lambda a: a.permute(1, 2, 0)),
    Op("transpose_axes_tuple", lambda a: a.transpose((2, 0, 1)),
       lambda a: a.transpose(2, 0, 1), randn((2, 3, 4)), torch=lambda a: a.permute(2, 0, 1)),
    Op("T", lambda a: a.T, lambda a: a.T, randn((3, 4)), torch=lambda a: a.T),
    # --- indexing ---------------------------------------------------------------------
    Op("getitem_int", lambda a: a[1], lambda a: a[1], randn((3, 4)), torch=lambda a: a[1]),
    Op("getitem_slices", lambda a: a[1:3, ::2], lambda a: a[1:3, ::2], randn((4, 5)),
       torch=lambda a: a[1:3, ::2]),
    Op("getitem_ellipsis_newaxis", lambda a: a[..., None, 1:], lambda a: a[..., None, 1:],
       randn((2, 3)), torch=lambda a: a[..., None, 1:]),
    Op("getitem_negative_step", lambda a: a[::-1, 2:0:-1], lambda a: a[::-1, 2:0:-1],
       randn((3, 4))),   # torch has no negative steps
    Op("getitem_fancy_repeats", lambda a: a[_IDX], lambda a: a[_IDX], randn((4, 3)),
       torch=lambda a: a[_t().as_tensor(_IDX)]),
    Op("getitem_fancy_2axes", lambda a: a[_ROWS, _COLS], lambda a: a[_ROWS, _COLS],
       randn((4, 3)), torch=lambda a: a[_t().as_tensor(_ROWS), _t().as_tensor(_COLS)]),
    Op("getitem_fancy_tensor_index", lambda a: a[fn.tensor(_IDX), 1:],
       lambda a: a[_IDX, 1:], randn((4, 3)), torch=lambda a: a[_t().as_tensor(_IDX), 1:]),
    Op("getitem_bool_mask", lambda a: a[np.array([True, False, True, True])],
       lambda a: a[np.array([True, False, True, True])], randn((4, 3)),
       torch=lambda a: a[_t().as_tensor([True, False, True, True])]),
    # --- composites: grads flow through chains of ops ------------------------------------
    Op("mse_like_chain", lambda a, b: ((a - b) ** 2).mean(), lambda a, b: ((a - b) ** 2).mean(),
       randn((3, 4), (3, 4)), grad=(0, 1), torch=lambda a, b: ((a - b) ** 2).mean()),
    Op("reuse_x_times_x_plus_x", lambda a: a * a + a, lambda a: a * a + a, randn((3,)),
       torch=lambda a: a * a + a),
    # --- F.linear ---------------------------------------------------------------------
    Op("linear_bias", F.linear, linear_ref, randn((4, 3), (5, 3), (5,)), grad=(0, 1, 2),
       torch=lambda x, w, b: _t().nn.functional.linear(x, w, b)),
    Op("linear_no_bias", F.linear, linear_ref, randn((4, 3), (5, 3)), grad=(0, 1),
       torch=lambda x, w: _t().nn.functional.linear(x, w)),
    Op("linear_3d_input", F.linear, linear_ref, randn((2, 3, 4), (5, 4), (5,)),
       grad=(0, 1, 2), torch=lambda x, w, b: _t().nn.functional.linear(x, w, b)),
    Op("linear_1d_input", F.linear, linear_ref, randn((4,), (3, 4), (3,)), grad=(0, 1, 2),
       torch=lambda x, w, b: _t().nn.functional.linear(x, w, b)),
    Op("linear_batch1", F.linear, linear_ref, randn((1, 6), (4, 6), (4,)), grad=(0, 1, 2),
       torch=lambda x, w, b: _t().nn.functional.linear(x, w, b)),
    # the rows above run the small-batch C kernel; this one is past its limit: BLAS
    # float32 sums of 48 products of N(0, 1) values: BLAS's blocked order rounds up to
    # ~1e-6 apart from the float64 reference where terms cancel, so atol follows the scale
    Op("linear_blas_batch", F.linear, linear_ref, randn((70, 48), (40, 48), (40,)), grad=(0, 1, 2),
       torch=lambda x, w, b: _t().nn.functional.linear(x, w, b), atol=1e-5),
    # Sequential's recording path for a run of layers: one op (autograd.LinearRun)
    Op("linear_run_relu_linear", _linear_run,
       lambda x, w1, b1, w2: np.maximum(x @ w1.T + b1, 0) @ w2.T,
       randn((4, 3), (5, 3), (5,), (2, 5)), grad=(0, 1, 2, 3),
       torch=lambda x, w1, b1, w2: _t().nn.functional.linear(
           _t().relu(_t().nn.functional.linear(x, w1, b1)), w2)),
]


def _backward_nonscalar():
    (fn.tensor([1.0, 2.0], requires_grad=True) * 2).backward()


def _backward_wrong_shape():
    (fn.tensor([1.0, 2.0], requires_grad=True) * 2).backward(np.ones(3, np.float32))


def _linear(x_shape, w_shape, b_shape=None):
    def call():
        b = None if b_shape is None else np.zeros(b_shape, np.float32)
        F.linear(np.zeros(x_shape, np.float32), np.zeros(w_shape, np.float32), b)
    return call


ERRORS = [
    ErrorCase("backward_nonscalar_without_grad", _backward_nonscalar, ValueError,
              r"single-element.*shape \(2,\)"),
    ErrorCase("backward_grad_wrong_shape", _backward_wrong_shape, ValueError,
              r"grad has shape \(3,\).*shape \(2,\)"),
    ErrorCase("backward_without_requires_grad", lambda: fn.tensor([1.0]).sum().backward(),
              RuntimeError, "does not require grad"),
    ErrorCase("add_mismatched_shapes",
              lambda: fn.tensor(np.ones((2, 3))) + fn.tensor(np.ones(4)), ValueError,
              r"\(2, 3\) and \(4,\) cannot be broadcast"),
    ErrorCase("mul_mismatched_ndarray",
              lambda: fn.tensor(np.ones((2, 3))) * np.ones((3, 2)), ValueError,
              r"\(2, 3\) and \(3, 2\)"),
    ErrorCase("matmul_mismatched_shapes",
              lambda: fn.tensor(np.ones((2, 3))) @ fn.tensor(np.ones((4, 5))), ValueError,
              r"\(2, 3\) and \(4, 5\) are not aligned"),
    ErrorCase("tensor_object_array", lambda: fn.tensor(np.array([1.0, None], dtype=object)),
              TypeError, "dtype object"),
    ErrorCase("tensor_object_list", lambda: fn.tensor([object()]), TypeError, "dtype object"),
    ErrorCase("tensor_string_array", lambda: fn.tensor(np.array(["a", "b"])), TypeError,
              r"dtype <U1"),
    ErrorCase("Tensor_string_list", lambda: fn.Tensor(["1.0", "2.0"]), TypeError, r"dtype <U3"),
    ErrorCase("tensor_complex", lambda: fn.tensor(np.ones(2, np.complex64)), TypeError,
              "complex64"),
    ErrorCase("tensor_ragged_list", lambda: fn.tensor([[1.0, 2.0], [3.0]]), ValueError,
              "could not make an array"),
    ErrorCase("requires_grad_int_tensor", lambda: fn.tensor([1, 2], requires_grad=True),
              TypeError, "int64"),
    ErrorCase("requires_grad_int_Tensor", lambda: fn.Tensor(np.arange(3), requires_grad=True),
              TypeError, "int64"),
    ErrorCase("requires_grad_underscore_int", lambda: fn.tensor([1, 2]).requires_grad_(),
              TypeError, "int64"),
    ErrorCase("linear_input_feature_mismatch", _linear((2, 3), (4, 5)), ValueError,
              r"input has shape \(2, 3\) but weight has shape \(4, 5\)"),
    ErrorCase("linear_weight_not_2d", _linear((2, 3), (3,)), ValueError,
              r"weight must be 2-D.*\(3,\)"),
    ErrorCase("linear_bias_shape", _linear((2, 3), (4, 3), (3,)), ValueError,
              r"bias must have shape \(4,\), got \(3,\)"),
    ErrorCase("linear_int_input",
              lambda: F.linear(np.ones((2, 3), np.int64), np.ones((4, 3), np.float32)),
              TypeError, "int64"),
    ErrorCase("reshape_incompatible", lambda: fn.tensor(np.ones((2, 3))).reshape(4, 2),
              ValueError, r"shape \(2, 3\).*\(4, 2\)"),
    ErrorCase("transpose_wrong_axes", lambda: fn.tensor(np.ones((2, 3))).transpose(0, 1, 2),
              ValueError, r"axes \(0, 1, 2\).*shape \(2, 3\)"),
    ErrorCase("sum_axis_out_of_range", lambda: fn.tensor(np.ones((2, 3))).sum(axis=2),
              ValueError, "axis 2 is out of range"),
    ErrorCase("clip_without_bounds", lambda: fn.tensor([1.0]).clip(), ValueError,
              "at least one of min and max"),
]
