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


def _ties(shape):
    """Values on a coarse grid (ties along every row) to pin down which of equal
    elements sort/topk pick: the first, as a stable sort."""
    def make(rng, dtype):
        return (rng.integers(-3, 4, shape) * 0.5).astype(dtype),
    return make


def _with_zeros(shape):
    """Normal values with a zero and, in one row, two zeros (prod's gradient there is
    the product of the others, or 0)."""
    def make(rng, dtype):
        a = rng.standard_normal(shape)
        a[0, 1] = 0.0
        a[1, 0] = a[1, 2] = 0.0
        return a.astype(dtype),
    return make


def _np_topk(a, k, axis=-1, largest=True):
    order = np.argsort(-a if largest else a, axis=axis, kind="stable")
    return np.take_along_axis(a, np.take(order, np.arange(k), axis=axis), axis=axis)


def _np_norm(a, p, axis=None):
    if p == np.inf:
        return np.abs(a).max(axis=axis)
    return (np.abs(a) ** p).sum(axis=axis) ** (1.0 / p)


_GIDX = np.array([[0, 3, 3], [2, 1, 0]])
_ROLL = np.array([2, 0, 1])

# reductions, sorting, splitting and indexing of torch's tensor surface
OPS += [
    Op("prod_all", lambda a: a.prod(), np.prod, randn((2, 3)), torch=lambda a: a.prod()),
    Op("prod_dim_zeros", lambda a: a.prod(1), lambda a: a.prod(axis=1), _with_zeros((3, 4)),
       torch=lambda a: a.prod(1)),
    Op("prod_dim_keepdim", lambda a: fn.prod(a, 0, keepdim=True),
       lambda a: a.prod(axis=0, keepdims=True), randn((3, 2, 2)),
       torch=lambda a: a.prod(0, keepdim=True)),
    Op("cumsum_dim1", lambda a: a.cumsum(1), lambda a: np.cumsum(a, 1), randn((3, 4)),
       torch=lambda a: a.cumsum(1)),
    Op("cumsum_fn_last", lambda a: fn.cumsum(a, dim=-1), lambda a: np.cumsum(a, -1),
       randn((2, 3, 4)), torch=lambda a: a.cumsum(-1)),
    Op("norm_fro", lambda a: a.norm(), lambda a: np.sqrt((a * a).sum()), randn((3, 4)),
       torch=lambda a: a.norm()),
    Op("norm_p1_dim", lambda a: a.norm(1, dim=1), lambda a: _np_norm(a, 1, 1), randn((3, 4)),
       torch=lambda a: a.norm(1, dim=1)),
    Op("norm_p3_dims_keepdim", lambda a: a.norm(3, dim=(0, 2), keepdim=True),
       lambda a: _np_norm(a, 3, (0, 2))[None, :, None], randn((2, 3, 4)),
       torch=lambda a: a.norm(3, dim=(0, 2), keepdim=True)),
    Op("norm_inf", lambda a: fn.norm(a, float("inf"), dim=0), lambda a: _np_norm(a, np.inf, 0),
       distinct((3, 4)), torch=lambda a: a.norm(float("inf"), dim=0)),
    Op("logsumexp_dim", lambda a: a.logsumexp(1),
       lambda a: np.log(np.exp(a).sum(axis=1)), randn((3, 4)), torch=lambda a: a.logsumexp(1)),
    Op("logsumexp_large_keepdim", lambda a: fn.logsumexp(a * 100.0, dim=(0, 1), keepdim=True),
       lambda a: (lambda m: m + np.log(np.exp(a * 100.0 - m).sum()))(a.max() * 100.0).reshape(1, 1),
       randn((2, 3)), torch=lambda a: (a * 100.0).logsumexp((0, 1), keepdim=True),
       rtol=1e-4, atol=1e-4),
    Op("gather_dim1", lambda a: a.gather(1, fn.tensor(_GIDX)),
       lambda a: np.take_along_axis(a[:2], _GIDX, 1), randn((3, 4)),
       torch=lambda a: a.gather(1, __import__("torch").from_numpy(_GIDX))),
    Op("index_select_repeated", lambda a: a.index_select(0, fn.tensor([2, 0, 2])),
       lambda a: a[[2, 0, 2]], randn((3, 4)),
       torch=lambda a: a.index_select(0, __import__("torch").tensor([2, 0, 2]))),
    Op("sort_values", lambda a: a.sort(dim=1).values, lambda a: np.sort(a, 1), distinct((3, 4)),
       torch=lambda a: a.sort(dim=1).values),
    Op("sort_descending_ties", lambda a: fn.sort(a, 0, descending=True, stable=True).values,
       lambda a: -np.sort(-a, 0), _ties((5, 3)),
       torch=lambda a: a.sort(dim=0, descending=True, stable=True).values, gradcheck=False,
       why="equal elements: a finite difference reorders them (no derivative there)"),
    Op("sort_descending", lambda a: fn.sort(a, 0, descending=True).values,
       lambda a: -np.sort(-a, 0), distinct((5, 3)),
       torch=lambda a: a.sort(dim=0, descending=True).values),
    Op("topk_values", lambda a: a.topk(2).values, lambda a: _np_topk(a, 2), distinct((3, 5)),
       torch=lambda a: a.topk(2).values),
    Op("topk_smallest_dim0", lambda a: fn.topk(a, 2, dim=0, largest=False).values,
       lambda a: _np_topk(a, 2, 0, False), distinct((4, 3)),
       torch=lambda a: a.topk(2, dim=0, largest=False).values),
    Op("split_and_cat", lambda a: fn.cat([p * (i + 1) for i, p in enumerate(a.split(2, 1))], 1),
       lambda a: np.concatenate([a[:, :2], 2 * a[:, 2:4], 3 * a[:, 4:]], 1), randn((2, 5)),
       torch=lambda a: __import__("torch").cat([p * (i + 1) for i, p in enumerate(a.split(2, 1))], 1)),
    Op("chunk_sizes", lambda a: fn.stack([c.sum() for c in a.chunk(3, 0)]),
       lambda a: np.array([a[:2].sum(), a[2:4].sum(), a[4:].sum()]), randn((5, 2)),
       torch=lambda a: __import__("torch").stack([c.sum() for c in a.chunk(3, 0)])),
    Op("unbind_weighted", lambda a: fn.stack([r * (i + 1) for i, r in enumerate(a.unbind(1))]),
       lambda a: np.stack([a[:, i] * (i + 1) for i in range(a.shape[1])]), randn((2, 3)),
       torch=lambda a: __import__("torch").stack([r * (i + 1) for i, r in enumerate(a.unbind(1))])),
    Op("narrow", lambda a: a.narrow(1, 1, 2), lambda a: a[:, 1:3], randn((2, 4)),
       torch=lambda a: a.narrow(1, 1, 2)),
    Op("flip_two_dims", lambda a: a.flip(0, 2), lambda a: a[::-1, :, ::-1], randn((2, 3, 4)),
       torch=lambda a: a.flip(0, 2)),
    Op("roll_dim", lambda a: a.roll(1, 1), lambda a: np.roll(a, 1, 1), randn((2, 3)),
       torch=lambda a: a.roll(1, 1)),
    Op("roll_flat", lambda a: a.roll(-2), lambda a: np.roll(a, -2), randn((2, 3)),
       torch=lambda a: a.roll(-2)),
    Op("repeat_new_dims", lambda a: a.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)),
       randn((2, 3)), torch=lambda a: a.repeat(2, 1, 3)),
    Op("remainder_float", lambda a: a % 0.7, lambda a: np.mod(a, 0.7), randn((3, 4)),
       torch=lambda a: a % 0.7, rtol=1e-4, atol=1e-5),
    Op("bmm", lambda a, b: a.bmm(b), lambda a, b: a @ b, randn((2, 3, 4), (2, 4, 2)),
       grad=(0, 1), torch=lambda a, b: a.bmm(b)),
    Op("dot", lambda a, b: fn.dot(a, b), np.dot, randn((5,), (5,)), grad=(0, 1),
       torch=lambda a, b: a.dot(b)),
    Op("add_alpha", lambda a, b: a.add(b, alpha=-0.5), lambda a, b: a - 0.5 * b,
       randn((3, 4), (4,)), grad=(0, 1), torch=lambda a, b: a.add(b, alpha=-0.5)),
]

ERRORS += [
    ErrorCase("gather_rank_mismatch", lambda: _t(2, 3).gather(1, fn.tensor([0, 1])), ValueError,
              r"gather: index must have as many dimensions as input"),
    ErrorCase("gather_out_of_range", lambda: _t(2, 3).gather(1, fn.tensor([[3]])), IndexError,
              r"gather: index out of range for dimension 1 of size 3"),
    ErrorCase("gather_float_index", lambda: _t(2, 3).gather(1, _t(2, 1)), TypeError,
              r"gather: index must be an int64 tensor, got dtype float32"),
    ErrorCase("topk_k_too_large", lambda: _t(2, 3).topk(4), ValueError,
              r"topk: k \(4\) is larger than the size 3 of dimension 1"),
    ErrorCase("split_sizes_sum", lambda: _t(5).split([2, 2]), ValueError,
              r"split: split_sizes \[2, 2\] must sum to the size 5 of dimension 0, got 4"),
    ErrorCase("narrow_past_end", lambda: _t(5).narrow(0, 3, 3), ValueError,
              r"narrow: start \(3\) \+ length \(3\) exceeds the size 5 of dimension 0"),
    ErrorCase("repeat_too_few_sizes", lambda: _t(2, 3).repeat(2), ValueError,
              r"repeat: number of repeat dims \(1\) can not be smaller than the number of "
              r"dimensions of the tensor \(2\)"),
    ErrorCase("norm_of_int_tensor", lambda: fn.tensor([3, 4]).norm(), TypeError,
              r"norm\(\): expected a floating point tensor, got int64"),
    ErrorCase("bmm_not_3d", lambda: _t(2, 3).bmm(_t(3, 2)), ValueError,
              r"bmm: expected two 3-D tensors"),
    ErrorCase("dot_not_1d", lambda: _t(2, 3).dot(_t(3)), ValueError, r"dot: expected two 1-D tensors"),
]


def _off_grid(shape):
    """Values at least 0.1 from an integer (and from 0): the piecewise-constant maps
    are flat there, so finite differences see their zero gradient."""
    def make(rng, dtype):
        a = rng.integers(-3, 4, shape) + rng.uniform(0.1, 0.4, shape) * np.where(
            rng.random(shape) < 0.5, -1, 1)
        return a.astype(dtype),
    return make


OPS += [
    Op("log1p_small", lambda a: a.log1p(), np.log1p, randn((3, 4), low=-0.5, high=1.0),
       torch=lambda a: a.log1p()),
    Op("expm1", lambda a: fn.expm1(a), np.expm1, randn((3, 4)), torch=lambda a: a.expm1()),
    Op("rsqrt", lambda a: a.rsqrt(), lambda a: 1 / np.sqrt(a), randn((3, 4), low=0.5, high=2.0),
       torch=lambda a: a.rsqrt()),
    Op("reciprocal", lambda a: fn.reciprocal(a), lambda a: 1 / a,
       randn((3, 4), low=0.5, high=2.0), torch=lambda a: a.reciprocal()),
    Op("sign_times_x", lambda a: a.sign() * a, lambda a: np.sign(a) * a, _off_grid((3, 4)),
       torch=lambda a: a.sign() * a),
    Op("floor_plus_x", lambda a: a.floor() + a, lambda a: np.floor(a) + a, _off_grid((3, 4)),
       torch=lambda a: a.floor() + a),
    Op("ceil", lambda a: fn.ceil(a), np.ceil, _off_grid((3, 4)), torch=lambda a: a.ceil()),
    Op("round_half_even", lambda a: a.round(), np.rint, _off_grid((3, 4)),
       torch=lambda a: a.round()),
    Op("trunc", lambda a: a.trunc(), np.trunc, _off_grid((3, 4)), torch=lambda a: a.trunc()),
]
ERRORS += [
    ErrorCase("normal__int_tensor", lambda: fn.tensor([1, 2]).normal_(), TypeError,
              r"normal_: expected a floating point tensor, got int64"),
    ErrorCase("masked_fill__int_mask", lambda: _t(2).masked_fill_(fn.tensor([1, 0]), 0.0),
              TypeError, r"masked_fill_: mask must be a bool tensor, got dtype int64"),
]


def _np_cos(a, b, dim):
    a, b = np.broadcast_arrays(a, b)
    na = np.maximum(np.sqrt((a * a).sum(dim, keepdims=True)), 1e-8)
    nb = np.maximum(np.sqrt((b * b).sum(dim, keepdims=True)), 1e-8)
    return ((a / na) * (b / nb)).sum(dim)


import fastnn.functional as _F  # noqa: E402

OPS += [
    # torch's positional overload var(dim, unbiased, keepdim): x.var(1, False) is biased
    Op("var_positional_biased", lambda a: a.var(1, False), lambda a: a.var(axis=1),
       randn((3, 4)), torch=lambda a: a.var(1, False)),
    Op("std_positional_unbiased_keepdim", lambda a: fn.std(a, 0, True, True),
       lambda a: a.std(axis=0, ddof=1, keepdims=True), randn((3, 4)),
       torch=lambda a: a.std(0, True, True)),
    Op("normalize_rows", lambda a: _F.normalize(a),
       lambda a: a / np.sqrt((a * a).sum(1, keepdims=True)), randn((3, 4)),
       torch=lambda a: __import__("torch").nn.functional.normalize(a)),
    Op("normalize_p1_dim0", lambda a: _F.normalize(a, p=1, dim=0),
       lambda a: a / np.abs(a).sum(0, keepdims=True), randn((3, 4)),
       torch=lambda a: __import__("torch").nn.functional.normalize(a, p=1, dim=0)),
    Op("cosine_similarity_broadcast", lambda a, b: _F.cosine_similarity(a, b),
       lambda a, b: _np_cos(a, b, 1), randn((3, 4), (1, 4)), grad=(0, 1),
       torch=lambda a, b: __import__("torch").nn.functional.cosine_similarity(a, b)),
]
ERRORS += [
    ErrorCase("var_unbiased_not_bool", lambda: _t(2, 3).var(1, 2), TypeError,
              r"var\(\): unbiased must be a bool, got int 2"),
    ErrorCase("cosine_similarity_shapes", lambda: _F.cosine_similarity(_t(2, 3), _t(2, 4)),
              ValueError, r"cosine_similarity: x1 of shape \(2, 3\) and x2 of shape \(2, 4\) "
              r"cannot be broadcast together"),
]
