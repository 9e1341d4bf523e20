"""torch's everyday tensor idioms, each against torch: comparisons that return tensors,
max/min along a dim with indices, in-place updates under no_grad, dim=/keepdim=,
integer and bool reductions, dtype and device conversion, creation functions and
per-process random seeding. (Per-op gradients: the op table, tests/table_tensor.py.)"""
import sys

import numpy as np
import pytest

import fastnn as fn
import fastnn.functional as F


# --- the silent-wrong idioms ---------------------------------------------------------
def test_equality_operator_is_elementwise(torch):
    a, b = fn.tensor([1, 2, 3]), fn.tensor([1, 0, 3])
    eq = a == b
    assert isinstance(eq, fn.Tensor) and eq.dtype == np.bool_
    np.testing.assert_array_equal(eq.numpy(), (torch.tensor([1, 2, 3]) == torch.tensor([1, 0, 3])).numpy())
    assert (a != b).tolist() == [False, True, False]
    assert a.eq(b).sum().item() == 2 and (a == 2).tolist() == [False, True, False]
    assert (a == None) is False and (a != None) is True       # noqa: E711 (torch's answer)


def test_max_dim_unpacks_values_and_indices_for_a_batch_of_two(torch):
    out = np.array([[0.1, 2.0, -1.0], [3.0, 0.5, 0.2]], np.float32)
    _, pred = fn.tensor(out).max(1)
    _, tpred = torch.from_numpy(out).max(1)
    assert pred.dtype == np.int64
    np.testing.assert_array_equal(pred.numpy(), tpred.numpy())
    values, indices = fn.max(fn.tensor(out), 1)
    np.testing.assert_array_equal(values.numpy(), [2.0, 3.0])


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_dim_match_torch_with_ties_and_nan(torch, largest, keepdim):
    x = np.array([[3.0, 1.0, 3.0, 1.0], [2.0, np.nan, 5.0, np.nan], [0.0, 0.0, 0.0, 0.0]], np.float32)
    name = "max" if largest else "min"
    for dim in (0, 1, -1):
        v, i = getattr(fn.tensor(x), name)(dim, keepdim=keepdim)
        tv, ti = getattr(torch.from_numpy(x), name)(dim, keepdim=keepdim)
        np.testing.assert_array_equal(v.numpy(), tv.numpy())
        np.testing.assert_array_equal(i.numpy(), ti.numpy())


def test_max_dim_gradient_goes_to_the_returned_index(torch):
    x = np.array([[1.0, 4.0, 4.0], [2.0, 2.0, 0.0]], np.float32)
    g = np.array([1.5, -2.0], np.float32)
    xf = fn.Tensor(x, requires_grad=True)
    xf.max(1).values.backward(g)
    xt = torch.from_numpy(x).requires_grad_(True)
    xt.max(1).values.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(xf.grad, xt.grad.numpy())


def test_argmax_argmin_match_torch(torch):
    x = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)
    for f in ("argmax", "argmin"):
        for kw in ({}, {"dim": 1}, {"dim": -1, "keepdim": True}, {"dim": None, "keepdim": True}):
            a = getattr(fn.tensor(x), f)(**kw)
            b = getattr(torch.from_numpy(x), f)(**kw)
            assert a.shape == tuple(b.shape), (f, kw)
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_transpose_swaps_two_dims_on_any_rank(torch):
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(fn.tensor(x).transpose(0, 1).numpy(),
                                  torch.from_numpy(x).transpose(0, 1).numpy())
    y = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    for d0, d1 in ((0, 1), (1, 2), (0, -1), (2, 2)):
        np.testing.assert_array_equal(fn.tensor(y).transpose(d0, d1).numpy(),
                                      torch.from_numpy(y).transpose(d0, d1).numpy())
    assert fn.tensor([1.0, 2.0]).transpose(0, 0).shape == (2,)


def test_no_grad_inplace_update_changes_the_weight():
    lin = fn.nn.Linear(3, 2)
    w0 = lin.weight.numpy().copy()
    loss = lin(fn.ones(4, 3)).sum()
    loss.backward()
    with fn.no_grad():
        for p in lin.parameters():
            p -= 0.1 * p.grad
    np.testing.assert_allclose(lin.weight.numpy(), w0 - 0.1 * lin.weight.grad, rtol=1e-6)
    assert isinstance(lin.weight, fn.nn.Parameter) and lin.weight.requires_grad
    with fn.no_grad():
        lin.weight.mul_(0.0).add_(2.0)
        lin.bias.zero_()
        lin.bias.copy_(fn.tensor([1.0, -1.0]))
        lin.weight += 1.0
    assert (lin.weight.numpy() == 3.0).all() and lin.bias.tolist() == [1.0, -1.0]


def test_plus_equals_in_a_graph_rebinds_like_out_of_place(torch):
    x = fn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * 3               # uses the old y
    y += x                  # y = y + x, recorded
    y *= 2
    (y.sum() + z.sum()).backward()
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    yt = xt * 2
    zt = yt * 3
    yt = yt + xt
    yt = yt * 2
    (yt.sum() + zt.sum()).backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy())


def test_inplace_without_grad_keeps_views_in_sync():
    a = np.zeros(4, np.float32)
    t = fn.from_numpy(a)
    t += 1
    t[1:3] = 5.0
    t[t > 4] = 7.0
    np.testing.assert_array_equal(a, [1, 7, 7, 1])


def test_setitem_on_a_leaf_requiring_grad_raises():
    w = fn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 3.0
    with fn.no_grad():
        w[0] = 3.0
    assert w.tolist() == [3.0, 2.0]


# --- reductions --------------------------------------------------------------------------------
def test_dim_keepdim_and_axis_keepdims_agree(torch):
    x = np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32)
    t = fn.tensor(x)
    for name in ("sum", "mean"):
        a = getattr(t, name)(dim=1, keepdim=True)
        b = getattr(t, name)(axis=1, keepdims=True)
        c = getattr(torch.from_numpy(x), name)(dim=1, keepdim=True)
        np.testing.assert_allclose(a.numpy(), b.numpy())
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-6)
    np.testing.assert_allclose(t.max(axis=(0, 2)).numpy(), torch.from_numpy(x).amax(dim=(0, 2)).numpy())


def test_integer_and_bool_reductions_follow_torch(torch):
    for data, dtype in (([1, 2, 3], np.int32), ([True, False, True], np.bool_), ([1, 2], np.uint8)):
        a = fn.tensor(np.array(data, dtype))
        b = torch.from_numpy(np.array(data, dtype))
        assert a.sum().dtype == np.int64 and b.sum().dtype == torch.int64
        assert a.sum().item() == b.sum().item()
    ints = fn.tensor([1, 2, 4])
    assert ints.max().item() == 4 and ints.max().dtype == np.int64
    with pytest.raises(TypeError, match="mean"):
        ints.mean()
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2, 4]).mean()
    assert ints.mean(dtype=fn.float32).item() == pytest.approx(7 / 3)
    assert (ints > 1).float().mean().item() == pytest.approx(2 / 3)
    assert (ints > 1).sum().item() == 2


def test_pow_zero_gradient_at_zero_is_zero(torch):
    x = fn.tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    y = fn.tensor([0.0, 2.0], requires_grad=True)
    (y ** fn.tensor([0.0, 1.0])).sum().backward()
    assert y.grad.tolist() == [0.0, 1.0]


# --- shape and metadata --------------------------------------------------------------------------
def test_size_numel_dim_view_flatten(torch):
    t = fn.zeros(2, 3, 4)
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.numel() == 24 and t.dim() == 3 and fn.numel(t) == 24
    assert t.view(-1, 4).shape == (6, 4) and t.view(6, 4).shape == (6, 4)
    assert t.flatten().shape == (24,) and t.flatten(1).shape == (2, 12)
    assert fn.tensor(3.0).flatten().shape == (1,)
    assert t.squeeze().shape == (2, 3, 4) and fn.zeros(2, 1, 3).squeeze().shape == (2, 3)
    assert fn.zeros(2, 1, 3).squeeze(0).shape == (2, 1, 3)     # not size 1: unchanged, as torch
    assert t.unsqueeze(0).shape == (1, 2, 3, 4) and t.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert t.permute(2, 0, 1).shape == (4, 2, 3) and t.permute((1, 2, 0)).shape == (3, 4, 2)


def test_to_float_long_cpu_and_device(torch):
    t = fn.tensor([1.7, -2.2])
    assert t.to("cpu") is t and t.cpu() is t and t.to(fn.device("cpu")) is t
    assert t.long().tolist() == torch.tensor([1.7, -2.2]).long().tolist()
    assert t.long().dtype == fn.long == np.int64
    assert t.double().dtype == np.float64 and t.double().float().dtype == np.float32
    assert t.to("cpu", fn.float64).dtype == np.float64
    assert t.to(dtype=fn.float64, device="cpu").dtype == np.float64
    assert t.to(fn.zeros(1, dtype=fn.int32)).dtype == np.int32
    assert t.device == fn.device("cpu") and str(t.device) == "cpu" and not t.is_cuda
    assert fn.tensor([1, 2]).float().dtype == np.float32
    assert t.to(fn.float32) is t
    with pytest.raises(ValueError, match="CPU only"):
        t.cuda()
    assert fn.device("cuda" if fn.cuda.is_available() else "cpu") == "cpu"


def test_cast_keeps_the_graph(torch):
    x = fn.tensor([1.5, 2.5], requires_grad=True)
    y = (x.double() * 3).sum()
    y.backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float32 and x.grad.tolist() == [3.0, 3.0]


def test_format_index_and_mm(torch):
    loss = fn.tensor(0.123456)
    assert f"{loss:.3f}" == "0.123" and "{:.2f}".format(loss) == "0.12"
    assert list(range(5))[fn.tensor(2)] == 2
    a, b = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32)
    np.testing.assert_array_equal(fn.tensor(a).mm(fn.tensor(b)).numpy(), a @ b)


# --- creation ---------------------------------------------------------------------------------------
def test_creation_dtypes_match_torch(torch):
    pairs = [
        (fn.zeros(2, 3), torch.zeros(2, 3)), (fn.ones((2,)), torch.ones((2,))),
        (fn.full((2,), 3), torch.full((2,), 3)), (fn.full((2,), 1.5), torch.full((2,), 1.5)),
        (fn.full((2,), True), torch.full((2,), True)),
        (fn.arange(5), torch.arange(5)), (fn.arange(1, 2, 0.25), torch.arange(1, 2, 0.25)),
        (fn.arange(0, 10, 3), torch.arange(0, 10, 3)), (fn.arange(5, 0, -2), torch.arange(5, 0, -2)),
        (fn.linspace(-1, 1, 7), torch.linspace(-1, 1, 7)), (fn.eye(3, 2), torch.eye(3, 2)),
        (fn.zeros_like(fn.zeros(2, dtype=fn.int32)), torch.zeros_like(torch.zeros(2, dtype=torch.int32))),
        (fn.zeros(2, dtype=fn.float64), torch.zeros(2, dtype=torch.float64)),
        (fn.tensor([1, 2]), torch.tensor([1, 2])), (fn.tensor([1.0]), torch.tensor([1.0])),
    ]
    for a, b in pairs:
        assert str(a.dtype) == str(b.dtype).replace("torch.", ""), (a, b)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    assert fn.rand(3).dtype == np.float32 and fn.randn(2, 2, dtype=fn.float64).dtype == np.float64
    assert fn.randint(10, (5,)).dtype == np.int64 and fn.randperm(5).dtype == np.int64
    x = fn.zeros(3, requires_grad=True)
    assert x.requires_grad


def test_from_numpy_shares_memory_and_keeps_dtype():
    a = np.arange(4, dtype=np.int32)
    t = fn.from_numpy(a)
    assert t.dtype == np.int32 and t.numpy() is a


def test_random_creation_is_seeded_by_manual_seed():
    fn.manual_seed(11)
    a = (fn.randn(4), fn.rand(4), fn.randint(0, 100, (4,)), fn.randperm(6))
    fn.manual_seed(11)
    b = (fn.randn(4), fn.rand(4), fn.randint(0, 100, (4,)), fn.randperm(6))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    g = fn.random.Generator(3)
    c = fn.randn(3, generator=g)
    np.testing.assert_array_equal(c.numpy(), fn.randn(3, generator=fn.random.Generator(3)).numpy())


def test_unseeded_processes_differ_and_seeded_ones_repeat(run_python):
    code = ("import fastnn as fn; {seed}"
            "print(fn.randn(3).tolist(), fn.nn.Linear(2, 2).weight.numpy().ravel().tolist())")
    unseeded = [run_python(code.format(seed="")).stdout for _ in range(2)]
    seeded = [run_python(code.format(seed="fn.manual_seed(5); ")).stdout for _ in range(2)]
    assert unseeded[0] != unseeded[1]
    assert seeded[0] == seeded[1]


# --- top-level functions -------------------------------------------------------------------------
def test_cat_stack_where_match_torch(torch):
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    b = -np.arange(3.0, dtype=np.float32).reshape(1, 3)
    np.testing.assert_array_equal(fn.cat([fn.tensor(a), fn.tensor(b)]).numpy(),
                                  torch.cat([torch.from_numpy(a), torch.from_numpy(b)]).numpy())
    np.testing.assert_array_equal(fn.cat([fn.zeros(0), fn.tensor(a)]).numpy(), a)   # legacy empty
    np.testing.assert_array_equal(fn.stack([fn.tensor(a), fn.tensor(a)], 2).numpy(),
                                  torch.stack([torch.from_numpy(a)] * 2, 2).numpy())
    w = fn.where(fn.tensor(a) > 2, fn.tensor(a), 0.0)
    np.testing.assert_array_equal(w.numpy(), torch.where(torch.from_numpy(a) > 2,
                                                         torch.from_numpy(a), 0.0).numpy())
    assert fn.equal(fn.tensor(a), fn.tensor(a.copy())) and not fn.equal(fn.tensor(a), fn.tensor(b))
    assert fn.allclose(fn.tensor(a), a + 1e-9)


def test_maximum_at_ties_shares_gradient_like_torch(torch):
    a, b = np.array([1.0, 2.0, 3.0], np.float32), np.array([1.0, 5.0, 0.0], np.float32)
    x, y = fn.Tensor(a, requires_grad=True), fn.Tensor(b, requires_grad=True)
    fn.maximum(x, y).sum().backward()
    xt, yt = torch.from_numpy(a).requires_grad_(), torch.from_numpy(b).requires_grad_()
    torch.maximum(xt, yt).sum().backward()
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())
    np.testing.assert_array_equal(y.grad, yt.grad.numpy())


def test_logical_operators_on_bool_tensors():
    a, b = fn.tensor([True, False, True]), fn.tensor([True, True, False])
    assert (a & b).tolist() == [True, False, False] and (a | b).tolist() == [True, True, True]
    assert (~a).tolist() == [False, True, False] and (a ^ b).tolist() == [False, True, True]
    assert a.any().item() and not a.all().item()


def test_tensor_methods_softmax_relu_match_functional():
    x = fn.tensor([[1.0, -2.0, 0.5]])
    np.testing.assert_array_equal(x.softmax(1).numpy(), F.softmax(x, 1).numpy())
    np.testing.assert_array_equal(x.relu().numpy(), F.relu(x).numpy())
    assert x.sigmoid().shape == (1, 3) and x.tanh().shape == (1, 3)


def test_one_hot_and_inference_mode_match_torch(torch):
    y = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(F.one_hot(fn.tensor(y)).numpy(),
                                  torch.nn.functional.one_hot(torch.from_numpy(y)).numpy())
    assert F.one_hot(fn.tensor([1]), num_classes=4).shape == (1, 4)
    x = fn.tensor([1.0], requires_grad=True)
    with fn.inference_mode():
        assert not (x * 2).requires_grad
    with fn.inference_mode(False):
        assert (x * 2).requires_grad

    @fn.inference_mode()
    def f(t):
        return t * 2
    assert not f(x).requires_grad


# --- property: the reductions and shape methods agree with torch on random shapes ------------
from hypothesis import given, settings, strategies as st  # noqa: E402


@st.composite
def _array_and_dim(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    seed = draw(st.integers(0, 2 ** 16))
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return x, dim, draw(st.booleans())


@settings(max_examples=60, deadline=None)
@given(case=_array_and_dim())
def test_reductions_and_shape_methods_match_torch(torch, case):
    x, dim, keep = case
    f, t = fn.tensor(x), torch.from_numpy(x)
    for name in ("sum", "mean", "amax", "amin", "argmax", "argmin", "std", "var"):
        a = getattr(f, name)(dim, keepdim=keep)
        b = getattr(t, name)(dim, keepdim=keep)
        assert a.shape == tuple(b.shape), (name, x.shape, dim, keep)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5, err_msg=name)
    for name in ("max", "min"):
        (av, ai), (bv, bi) = getattr(f, name)(dim, keep), getattr(t, name)(dim, keep)
        np.testing.assert_array_equal(av.numpy(), bv.numpy())
        np.testing.assert_array_equal(ai.numpy(), bi.numpy())
    other = (dim + 1) % x.ndim
    np.testing.assert_array_equal(f.transpose(dim, other).numpy(), t.transpose(dim, other).numpy())
    np.testing.assert_array_equal(f.unsqueeze(dim).numpy(), t.unsqueeze(dim).numpy())
    np.testing.assert_array_equal(f.squeeze(dim).numpy(), t.squeeze(dim).numpy())
    np.testing.assert_array_equal(f.flatten(min(dim % x.ndim, other), max(dim % x.ndim, other)).numpy(),
                                  t.flatten(min(dim % x.ndim, other), max(dim % x.ndim, other)).numpy())
    np.testing.assert_allclose(f.softmax(dim).numpy(), t.softmax(dim).numpy(), rtol=1e-5, atol=1e-6)
