"""Rows of the op table for normalisation and embedding (see ops_table.py).

Training-mode batch norm rows pass no running statistics, so every call of the row
(gradcheck calls it many times) sees the same function; the eval rows normalise
with fixed running statistics made inside the row.
"""
import numpy as np

import fastnn.functional as F
from fastnn._kernels import reference_norm as R
from ops_table import ErrorCase, Op, randn


def _tf(name):
    def call(*args, **kwargs):
        import torch
        return getattr(torch.nn.functional, name)(*args, **kwargs)
    return call


def _stats(C, dtype=np.float64):
    rng = np.random.default_rng(C)
    return rng.standard_normal(C).astype(dtype), rng.uniform(0.5, 2.0, C).astype(dtype)


def bn_train(name, shape, affine=True, **kw):
    C = shape[1]
    if affine:
        return Op(name, lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, **kw),
                  lambda x, w, b: R.batch_norm(x, None, None, w, b, training=True, **kw)[0],
                  randn(shape, (C,), (C,)), grad=(0, 1, 2),
                  torch=lambda x, w, b: _tf("batch_norm")(x, None, None, w, b, training=True, **kw),
                  rtol=1e-4, atol=1e-5)
    return Op(name, lambda x: F.batch_norm(x, None, None, training=True, **kw),
              lambda x: R.batch_norm(x, None, None, training=True, **kw)[0], randn(shape),
              torch=lambda x: _tf("batch_norm")(x, None, None, training=True, **kw),
              rtol=1e-4, atol=1e-5)


def bn_eval(name, shape):
    C = shape[1]

    def stats(x):
        rm, rv = _stats(C)
        return rm.astype(x.dtype), rv.astype(x.dtype)

    def run(x, w, b):
        rm, rv = stats(x.data)
        return F.batch_norm(x, rm, rv, w, b, training=False)

    def ref(x, w, b):
        rm, rv = _stats(C)
        return R.batch_norm(x, rm, rv, w, b, training=False)[0]

    def torch_run(x, w, b):
        import torch
        rm, rv = (torch.from_numpy(a).to(x.dtype) for a in _stats(C))
        return torch.nn.functional.batch_norm(x, rm, rv, w, b, training=False)
    return Op(name, run, ref, randn(shape, (C,), (C,)), grad=(0, 1, 2), torch=torch_run,
              rtol=1e-5, atol=1e-5)


def ln(name, shape, ns, affine=True, **kw):
    if affine:
        return Op(name, lambda x, w, b: F.layer_norm(x, ns, w, b, **kw),
                  lambda x, w, b: R.layer_norm(x, ns, w, b, **kw), randn(shape, ns, ns),
                  grad=(0, 1, 2), torch=lambda x, w, b: _tf("layer_norm")(x, ns, w, b, **kw),
                  rtol=1e-4, atol=1e-5)
    return Op(name, lambda x: F.layer_norm(x, ns, **kw), lambda x: R.layer_norm(x, ns, **kw),
              randn(shape), torch=lambda x: _tf("layer_norm")(x, ns, **kw), rtol=1e-4, atol=1e-5)


def _emb_make(V, D, idx_shape, repeat=True):
    def make(rng, dtype):
        w = rng.standard_normal((V, D)).astype(dtype)
        idx = rng.integers(0, V, size=idx_shape)
        if repeat:
            idx.flat[0] = idx.flat[-1]          # a repeated index accumulates
        return w, idx
    return make


def emb(name, V, D, idx_shape, **kw):
    return Op(name, lambda w, i: F.embedding(i, w, **kw), lambda w, i: R.embedding(i, w),
              _emb_make(V, D, idx_shape), grad=(0,),
              torch=lambda w, i: _tf("embedding")(i, w, **kw))


OPS = [
    # --- batch_norm -----------------------------------------------------------------------
    bn_train("batch_norm_2d_train", (6, 3)),
    bn_train("batch_norm_1d_seq_train", (3, 4, 5)),
    bn_train("batch_norm_4d_train", (2, 3, 4, 5)),
    bn_train("batch_norm_4d_plane_mode_train", (2, 2, 4, 5 * 4)),
    bn_train("batch_norm_train_no_affine", (3, 2, 4, 4), affine=False),
    bn_train("batch_norm_train_eps", (4, 3), eps=0.1),
    bn_eval("batch_norm_2d_eval", (5, 3)),
    bn_eval("batch_norm_4d_eval", (2, 3, 4, 5)),
    # --- layer_norm -----------------------------------------------------------------------
    ln("layer_norm_last_dim", (4, 6), (6,)),
    ln("layer_norm_two_dims", (2, 3, 4, 5), (4, 5)),
    ln("layer_norm_no_affine", (3, 7), (7,), affine=False),
    ln("layer_norm_eps", (3, 5), (5,), eps=0.5),
    # --- embedding ------------------------------------------------------------------------
    emb("embedding", 7, 3, (2, 5)),
    emb("embedding_padding_idx", 6, 4, (3, 4), padding_idx=2),
    # the scaled gradient is torch's choice, not the derivative (tests/test_norm.py checks it)
    Op("embedding_scale_grad_by_freq", lambda w, i: F.embedding(i, w, scale_grad_by_freq=True),
       lambda w, i: R.embedding(i, w), _emb_make(5, 2, (4, 3)), grad=(0,), gradcheck=False,
       why="scale_grad_by_freq divides each row's gradient by its count: not a derivative",
       torch=lambda w, i: _tf("embedding")(i, w, scale_grad_by_freq=True)),
    emb("embedding_1d_indices", 4, 3, (6,)),
]


def _x(*shape):
    return np.zeros(shape, np.float32)


ERRORS = [
    ErrorCase("batch_norm_1d_input", lambda: F.batch_norm(_x(4), None, None, training=True),
              ValueError, r"batch_norm: expected input of shape \(N, C\) .* got shape \(4,\)"),
    ErrorCase("batch_norm_one_value_per_channel",
              lambda: F.batch_norm(_x(1, 3), None, None, training=True), ValueError,
              r"expected more than 1 value per channel when training, got input of shape \(1, 3\)"),
    ErrorCase("batch_norm_eval_without_stats", lambda: F.batch_norm(_x(4, 3), None, None),
              ValueError, r"running_mean and running_var must be given when training=False"),
    ErrorCase("batch_norm_stat_shape", lambda: F.batch_norm(_x(4, 3), _x(2), _x(3)), ValueError,
              r"running_mean must have shape \(3,\) to match the input's 3 channels, got \(2,\)"),
    ErrorCase("batch_norm_weight_shape",
              lambda: F.batch_norm(_x(4, 3), None, None, _x(4), training=True), ValueError,
              r"batch_norm: weight must have shape \(3,\), got \(4,\)"),
    ErrorCase("batch_norm_int_input",
              lambda: F.batch_norm(np.zeros((4, 3), np.int64), None, None, training=True),
              TypeError, r"batch_norm: input must be floating point .*, got dtype int64"),
    ErrorCase("batch_norm_stat_list", lambda: F.batch_norm(_x(4, 3), [0.0] * 3, _x(3)), TypeError,
              r"running_mean must be a float ndarray or Tensor of shape \(3,\)"),
    ErrorCase("layer_norm_shape_mismatch", lambda: F.layer_norm(_x(2, 5), (4,)), ValueError,
              r"layer_norm: expected input with trailing dims \(4,\) .* got input of shape \(2, 5\)"),
    ErrorCase("layer_norm_weight_shape", lambda: F.layer_norm(_x(2, 4), 4, _x(3)), ValueError,
              r"layer_norm: weight must have shape \(4,\), got \(3,\)"),
    ErrorCase("layer_norm_bad_shape_arg", lambda: F.layer_norm(_x(2, 4), 4.0), TypeError,
              r"normalized_shape must be an int or a tuple of ints, got 4.0"),
    ErrorCase("embedding_float_indices", lambda: F.embedding(np.zeros(3), _x(4, 2)), TypeError,
              r"embedding: expected integer indices .* got dtype float64"),
    ErrorCase("embedding_index_out_of_range", lambda: F.embedding(np.array([0, 4]), _x(4, 2)),
              IndexError, r"embedding: index 4 is out of range for a weight with 4 rows"),
    ErrorCase("embedding_negative_index", lambda: F.embedding(np.array([-1]), _x(4, 2)),
              IndexError, r"index -1 is out of range"),
    ErrorCase("embedding_weight_1d", lambda: F.embedding(np.array([0]), _x(4)), ValueError,
              r"embedding: weight must be 2-D"),
    ErrorCase("embedding_padding_idx_range",
              lambda: F.embedding(np.array([0]), _x(4, 2), padding_idx=4), ValueError,
              r"padding_idx must be an int within num_embeddings \(4\), got 4"),
]
