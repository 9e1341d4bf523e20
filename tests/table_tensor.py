"""Rows of the op table for torch's everyday tensor surface: max/min along a dim,
elementwise maximum/minimum, casts, clone, expand, cat/stack, where, and the shape
methods with torch's meaning (transpose(dim0, dim1), permute, (un)squeeze, flatten).
"""
import numpy as np

import fastnn as fn
from ops_table import ErrorCase, Op, randn
from table_core import distinct


def _pair_no_ties(shape):
    """Two inputs that differ everywhere by at least 0.1 (max/min are smooth there)."""
    def make(rng, dtype):
        a = rng.standard_normal(shape)
        gap = rng.uniform(0.1, 1.0, shape) * np.where(rng.random(shape) < 0.5, -1, 1)
        return a.astype(dtype), (a + gap).astype(dtype)
    return make


_MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])


def _values(name, reduce_, shape, **kw):
    """max(dim)/min(dim) values; the indices are checked with torch's in test_tensor.py."""
    return Op(name, lambda a: getattr(a, reduce_)(**kw).values,
              lambda a: getattr(np, reduce_)(a, axis=kw["dim"], keepdims=kw.get("keepdim", False)),
              distinct(shape), torch=lambda a: getattr(a, reduce_)(**kw).values)


OPS = [
    # --- max/min along a dim: (values, indices) -------------------------------------------
    _values("max_dim_values", "max", (3, 4), dim=1),
    _values("max_dim_keepdim_values", "max", (2, 3, 4), dim=0, keepdim=True),
    _values("min_dim_values", "min", (3, 4), dim=-1),
    _values("min_dim_keepdim_values", "min", (2, 3, 4), dim=1, keepdim=True),
    Op("max_no_args", lambda a: a.max(), lambda a: np.max(a), distinct((3, 4)), torch=lambda a: a.max()),
    Op("min_all", lambda a: a.min(), lambda a: np.min(a), distinct((3, 4)), torch=lambda a: a.min()),
    Op("amin_dims", lambda a: a.amin(dim=(0, 2)), lambda a: np.min(a, axis=(0, 2)),
       distinct((2, 3, 4)), torch=lambda a: a.amin(dim=(0, 2))),
    Op("min_axis_keepdims", lambda a: a.min(axis=1, keepdims=True),
       lambda a: np.min(a, axis=1, keepdims=True), distinct((3, 4)),
       torch=lambda a: a.amin(dim=1, keepdim=True)),
    Op("maximum", fn.maximum, np.maximum, _pair_no_ties((3, 4)), grad=(0, 1),
       torch=lambda a, b: a.maximum(b)),
    Op("minimum_bcast", fn.minimum, np.minimum, lambda rng, dt: (
        rng.standard_normal((3, 4)).astype(dt), rng.standard_normal((4,)).astype(dt) + 0.05),
       grad=(0, 1), torch=lambda a, b: a.minimum(b)),
    Op("max_tensor_form", lambda a, b: a.max(b), np.maximum, _pair_no_ties((2, 5)), grad=(0, 1),
       torch=lambda a, b: a.max(b)),
    # --- reductions with torch's dim/keepdim ------------------------------------------------
    Op("sum_dim_keepdim", lambda a: a.sum(dim=1, keepdim=True),
       lambda a: a.sum(axis=1, keepdims=True), randn((3, 4)),
       torch=lambda a: a.sum(dim=1, keepdim=True)),
    Op("mean_dims_tuple", lambda a: a.mean(dim=(0, 2)), lambda a: a.mean(axis=(0, 2)),
       randn((2, 3, 4)), torch=lambda a: a.mean(dim=(0, 2))),
    Op("var_dim", lambda a: a.var(dim=1), lambda a: a.var(axis=1, ddof=1), randn((3, 5)),
       torch=lambda a: a.var(dim=1)),
    Op("std_all_biased", lambda a: a.std(correction=0), lambda a: a.std(), randn((3, 5)),
       torch=lambda a: a.std(correction=0)),
    # --- casts, copies, views ---------------------------------------------------------------
    # through longdouble and back: finite differences stay exact in float64
    Op("cast_roundtrip", lambda a: a.to(np.longdouble).to(a.dtype) * 3.0, lambda a: a * 3.0,
       randn((3, 4)), torch=lambda a: a.double().to(a.dtype) * 3.0),
    Op("clone", lambda a: a.clone() * a, lambda a: a * a, randn((3, 4)),
       torch=lambda a: a.clone() * a),
    Op("contiguous_of_transposed", lambda a: a.t().contiguous() * 2.0, lambda a: a.T * 2.0,
       randn((3, 4)), torch=lambda a: a.t().contiguous() * 2.0),
    Op("expand", lambda a: a.expand(3, 2, 4) * 1.5, lambda a: np.broadcast_to(a, (3, 2, 4)) * 1.5,
       randn((2, 1)), torch=lambda a: a.expand(3, 2, 4) * 1.5),
    Op("expand_minus_one", lambda a: a.expand(-1, 5), lambda a: np.broadcast_to(a, (3, 5)),
       randn((3, 1)), torch=lambda a: a.expand(-1, 5)),
    Op("cat_dim1", lambda a, b: fn.cat([a, b], dim=1), lambda a, b: np.concatenate([a, b], 1),
       randn((2, 3), (2, 2)), grad=(0, 1), torch=lambda a, b: __import__("torch").cat([a, b], 1)),
    Op("cat_three_dim0", lambda a, b, c: fn.cat((a, b, c)), lambda a, b, c: np.concatenate([a, b, c]),
       randn((1, 3), (2, 3), (3, 3)), grad=(0, 1, 2),
       torch=lambda a, b, c: __import__("torch").cat((a, b, c))),
    Op("stack_dim1", lambda a, b: fn.stack([a, b], dim=1), lambda a, b: np.stack([a, b], 1),
       randn((2, 3), (2, 3)), grad=(0, 1), torch=lambda a, b: __import__("torch").stack([a, b], 1)),
    Op("stack_last", lambda a, b: fn.stack([a, b], dim=-1), lambda a, b: np.stack([a, b], -1),
       randn((4,), (4,)), grad=(0, 1), torch=lambda a, b: __import__("torch").stack([a, b], -1)),
    Op("where", lambda a, b: fn.where(fn.tensor(_MASK), a, b), lambda a, b: np.where(_MASK, a, b),
       randn((3, 4), (3, 4)), grad=(0, 1),
       torch=lambda a, b: __import__("torch").where(__import__("torch").from_numpy(_MASK), a, b)),
    Op("masked_fill", lambda a: a.masked_fill(fn.tensor(_MASK), -1.0),
       lambda a: np.where(_MASK, -1.0, a), randn((3, 4)),
       torch=lambda a: a.masked_fill(__import__("torch").from_numpy(_MASK), -1.0)),
    # --- shape methods with torch's meaning ---------------------------------------------------
    Op("transpose_swap_2d", lambda a: a.transpose(0, 1), lambda a: a.T, randn((3, 4)),
       torch=lambda a: a.transpose(0, 1)),
    Op("transpose_swap_3d", lambda a: a.transpose(0, 2), lambda a: np.swapaxes(a, 0, 2),
       randn((2, 3, 4)), torch=lambda a: a.transpose(0, 2)),
    Op("transpose_swap_negative", lambda a: a.transpose(-1, -2), lambda a: np.swapaxes(a, -1, -2),
       randn((2, 3, 4)), torch=lambda a: a.transpose(-1, -2)),
    Op("permute", lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1), randn((2, 3, 4)),
       torch=lambda a: a.permute(2, 0, 1)),
    Op("unsqueeze", lambda a: a.unsqueeze(1), lambda a: a[:, None], randn((3, 4)),
       torch=lambda a: a.unsqueeze(1)),
    Op("squeeze_dim", lambda a: a.squeeze(1), lambda a: a[:, 0], randn((3, 1, 4)),
       torch=lambda a: a.squeeze(1)),
    Op("flatten_start1", lambda a: a.flatten(1), lambda a: a.reshape(2, -1), randn((2, 3, 4)),
       torch=lambda a: a.flatten(1)),
    Op("fn_flatten_middle", lambda a: fn.flatten(a, 1, 2), lambda a: a.reshape(2, 12, 5),
       randn((2, 3, 4, 5)), torch=lambda a: __import__("torch").flatten(a, 1, 2)),
    Op("view_as", lambda a, b: a.view_as(b) + b, lambda a, b: a.reshape(b.shape) + b,
       randn((2, 6), (3, 4)), grad=(0, 1), torch=lambda a, b: a.view_as(b) + b),
    Op("mm", lambda a, b: a.mm(b), lambda a, b: a @ b, randn((3, 4), (4, 2)), grad=(0, 1),
       torch=lambda a, b: a.mm(b)),
    Op("pow_zero_exponent_at_zero", lambda a: a ** 0, lambda a: a ** 0,
       lambda rng, dt: (np.array([0.0, 1.5, -2.0], dt),),
       torch=lambda a: a ** 0),
]


def _t(*shape):
    return fn.tensor(np.zeros(shape, np.float32))


ERRORS = [
    ErrorCase("mean_of_int_tensor", lambda: fn.tensor([1, 2]).mean(), TypeError,
              r"mean\(\): could not infer output dtype.*int64"),
    ErrorCase("mean_of_bool_tensor", lambda: (fn.tensor([1.0, -1.0]) > 0).mean(), TypeError,
              r"mean\(\).*bool"),
    ErrorCase("size_dim_out_of_range", lambda: _t(2, 3).size(2), ValueError,
              r"size: dim 2 is out of range for a tensor with 2 dimensions"),
    ErrorCase("transpose_dim_out_of_range", lambda: _t(2, 3).transpose(0, 2), ValueError,
              r"transpose: dim 2 is out of range"),
    ErrorCase("permute_not_a_permutation", lambda: _t(2, 3).permute(0, 0), ValueError,
              r"permute: dims \(0, 0\) must be a permutation"),
    ErrorCase("unsqueeze_out_of_range", lambda: _t(2, 3).unsqueeze(3), ValueError,
              r"unsqueeze: dim 3 is out of range"),
    ErrorCase("flatten_start_after_end", lambda: _t(2, 3, 4).flatten(2, 1), ValueError,
              r"flatten: start_dim \(2\) cannot come after end_dim \(1\)"),
    ErrorCase("cat_size_mismatch", lambda: fn.cat([_t(2, 3), _t(3, 4)], dim=1), ValueError,
              r"cat: sizes of tensors must match except in dimension 1. Expected size 2 but got "
              r"size 3 for tensor number 1"),
    ErrorCase("cat_empty", lambda: fn.cat([]), ValueError, "cat: expected a non-empty list"),
    ErrorCase("cat_not_a_list", lambda: fn.cat(_t(2, 3)), TypeError,
              "cat: expected a sequence of tensors"),
    ErrorCase("stack_shape_mismatch", lambda: fn.stack([_t(2), _t(3)]), ValueError,
              r"stack: expects each tensor to be equal size, but got \(2,\) at entry 0 and \(3,\) "
              r"at entry 1"),
    ErrorCase("where_non_bool_condition", lambda: fn.where(fn.tensor([1, 0]), _t(2), _t(2)),
              TypeError, "where: condition must be a bool tensor"),
    ErrorCase("reduction_dim_and_axis", lambda: _t(2, 3).sum(dim=0, axis=1), TypeError,
              r"sum: got both dim=0 and axis=1"),
    ErrorCase("expand_incompatible", lambda: _t(2, 3).expand(4, 3), ValueError,
              r"expand: a tensor of shape \(2, 3\) cannot be expanded to \(4, 3\)"),
    ErrorCase("mm_not_2d", lambda: _t(2, 3, 4).mm(_t(4, 2)), ValueError,
              r"mm: expected two 2-D tensors"),
    ErrorCase("to_cuda", lambda: _t(2).to("cuda"), ValueError, r"fastnn runs on the CPU only"),
    ErrorCase("device_cuda", lambda: fn.device("cuda:0"), ValueError, r"got device 'cuda:0'"),
    ErrorCase("zeros_negative_size", lambda: fn.zeros(2, -1), ValueError,
              r"zeros: sizes must be non-negative ints, got \(2, -1\)"),
    ErrorCase("randint_low_high", lambda: fn.randint(5, 5, (2,)), ValueError,
              r"randint: expected low < high"),
    ErrorCase("randn_int_dtype", lambda: fn.randn(2, dtype=fn.long), TypeError,
              r"randn: expected a floating point dtype, got int64"),
    ErrorCase("from_numpy_list", lambda: fn.from_numpy([1, 2]), TypeError,
              r"from_numpy: expected np.ndarray \(got list\)"),
    ErrorCase("iadd_int_with_float", lambda: fn.tensor([1, 2]).__iadd__(0.5), TypeError,
              r"\+=: the result cannot be stored in a tensor of dtype int64"),
    ErrorCase("iadd_on_leaf_requiring_grad",
              lambda: fn.tensor([1.0], requires_grad=True).__iadd__(1.0), RuntimeError,
              r"a leaf tensor that requires grad is being used in an in-place operation"),
    ErrorCase("add__on_graph_tensor",
              lambda: (fn.tensor([1.0], requires_grad=True) * 2).add_(1.0), RuntimeError,
              r"add_: in-place changes of a tensor that is part of a recorded graph"),
    ErrorCase("iadd_shape_growth", lambda: _t(3).__iadd__(_t(2, 3)), ValueError,
              r"\+=: an operand of shape \(2, 3\) cannot be broadcast to the tensor's shape \(3,\)"),
]

OPS += [
    Op("sin", lambda a: a.sin(), np.sin, randn((3, 4)), torch=lambda a: a.sin()),
    Op("cos", lambda a: fn.cos(a), np.cos, randn((3, 4)), torch=lambda a: a.cos()),
]
ERRORS += [
    ErrorCase("one_hot_float_labels", lambda: __import__("fastnn.functional").functional.one_hot(
        np.zeros(2)), TypeError, r"one_hot: expected integer class labels"),
    ErrorCase("one_hot_label_too_big", lambda: __import__("fastnn.functional").functional.one_hot(
        np.array([3]), num_classes=3), ValueError, r"smaller than num_classes \(3\), got 3"),
]
