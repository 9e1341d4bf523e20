"""Activations beyond the op table (tests/test_ops.py drives reference, gradcheck, torch
parity and error rows; tests/test_kernels.py every elementwise kernel): special values,
in-place buffers, module == functional, rrelu modes, softmax stability, learnable-parameter
gradients and the non-elementwise kernels."""
import numpy as np
import pytest

import fastnn as fn
import fastnn.activations as ACT
import fastnn.functional as F
from fastnn._kernels import activations as KA
from fastnn._kernels import elementwise as KE
from fastnn._kernels import reference as R

DTYPES = [np.float32, np.float64]


def _tol(op, dtype):
    return dict(rtol=op.rtol, atol=op.atol) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def test_elementwise_kernel_reads_strided_input(rng):
    x = rng.standard_normal((40, 30)).astype(np.float32)[:, ::3]
    np.testing.assert_allclose(KE.gelu_fwd(x), R.gelu_fwd(x), rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", [((5, 7), -1), ((3, 5, 4), 1), ((6, 2, 3), 0), ((1100, 40), -1)])
def test_softmax_kernels_match_reference(shape, dim, dtype, rng, fastnn_threads):
    fastnn_threads(2)
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    for fwd, bwd, rf, rb in ((KA.softmax_fwd, KA.softmax_bwd, R.softmax_fwd, R.softmax_bwd),
                             (KA.log_softmax_fwd, KA.log_softmax_bwd, R.log_softmax_fwd, R.log_softmax_bwd)):
        y = fwd(x, dim)
        np.testing.assert_allclose(y, rf(x, dim), **tol)
        np.testing.assert_allclose(bwd(y, g, dim), rb(y, g, dim), **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3, 5, 2), (2000, 3, 7), (5, 3)])
def test_channel_kernels_match_reference(shape, dtype, rng, fastnn_threads):
    fastnn_threads(2)
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for w in (rng.uniform(0, 1, 3).astype(dtype), np.array([0.3], dtype)):
        np.testing.assert_allclose(KA.prelu_fwd(x, w), R.prelu_fwd(x, w), **tol)
        for a, b in zip(KA.prelu_bwd(x, w, g), R.prelu_bwd(x, w, g)):
            np.testing.assert_allclose(a, b, **tol)
    ps = [rng.uniform(-1, 0, 3), rng.uniform(0, 1, 3), rng.uniform(0, 1, 1), rng.uniform(0, 2, 3)]
    ps = [p.astype(dtype) for p in ps]
    np.testing.assert_allclose(KA.srelu_fwd(x, *ps), R.srelu_fwd(x, *ps), **tol)
    for a, b in zip(KA.srelu_bwd(x, *ps, g), R.srelu_bwd(x, *ps, g)):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, **tol)
    for dim in range(len(shape)):
        y = KA.crelu_fwd(x, dim)
        np.testing.assert_array_equal(y, R.crelu_fwd(x, dim))
        gy = rng.standard_normal(y.shape).astype(dtype)
        np.testing.assert_array_equal(KA.crelu_bwd(x, gy, dim), R.crelu_bwd(x, gy, dim))


@pytest.mark.parametrize("dtype", DTYPES)
def test_maxout_kernels_match_reference_with_ties_and_nan(dtype, rng):
    x = rng.integers(0, 3, (6, 8, 5)).astype(dtype)   # many ties: first maximum wins
    x[0, 0, 0] = np.nan
    for pool, dim in ((2, 1), (4, 1), (3, 0), (5, 2)):
        y, idx = KA.maxout_fwd(x, pool, dim)
        np.testing.assert_array_equal(y, R.maxout_fwd(x, pool, dim))
        g = rng.standard_normal(y.shape).astype(dtype)
        np.testing.assert_array_equal(KA.maxout_bwd(idx, g, x.shape, pool, dim), R.maxout_bwd(x, g, pool, dim))


# ---- special values ---------------------------------------------------------------------
SPECIAL = [0.0, -0.0, 1.0, -1.0, 20.0, -20.0, 88.0, -88.0, 1e4, -1e4, np.nan]

ELEMENTWISE = {
    "relu": (F.relu, "relu", {}),
    "relu6": (F.relu6, "relu6", {}),
    "hardtanh": (F.hardtanh, "hardtanh", {}),
    "leaky_relu": (F.leaky_relu, "leaky_relu", {"negative_slope": 0.1}),
    "elu": (F.elu, "elu", {"alpha": 1.2}),
    "selu": (F.selu, "selu", {}),
    "celu": (F.celu, "celu", {"alpha": 0.5}),
    "gelu": (F.gelu, "gelu", {}),
    "gelu_tanh": (F.gelu, "gelu", {"approximate": "tanh"}),
    "silu": (F.silu, "silu", {}),
    "softplus": (F.softplus, "softplus", {}),
    "softplus_beta": (F.softplus, "softplus", {"beta": 2.0, "threshold": 10.0}),
    "softsign": (F.softsign, "softsign", {}),
    "sigmoid": (F.sigmoid, "sigmoid", {}),
    "tanh": (F.tanh, "tanh", {}),
    "rrelu_eval": (F.rrelu, "rrelu", {}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_special_values_match_torch(name, dtype, torch):
    f, tname, kw = ELEMENTWISE[name]
    x = np.array(SPECIAL, dtype)
    xt = torch.tensor(x, requires_grad=True)
    y = fn.Tensor(x.copy(), requires_grad=True)
    out = f(y, **kw)
    tout = getattr(torch.nn.functional, tname)(xt, **kw)
    assert np.isnan(out.numpy()[-1]), "NaN in must give NaN out"
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), equal_nan=True, **tol)
    g = np.ones_like(x)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    # gradients at the finite special values (torch's gradient at NaN is not specified)
    np.testing.assert_allclose(y.grad[:-1], xt.grad.numpy()[:-1], **tol)
    assert np.isfinite(y.grad[:-1]).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values_without_torch(dtype):
    x = np.array(SPECIAL, dtype)
    assert np.array_equal(F.relu(x).numpy(), R.relu_fwd(x), equal_nan=True)
    np.testing.assert_array_equal(F.sigmoid(x).numpy()[[8, 9]], [1, 0])
    np.testing.assert_array_equal(F.tanh(x).numpy()[[8, 9]], [1, -1])
    np.testing.assert_array_equal(F.silu(x).numpy()[[8, 9]], [1e4, 0])
    np.testing.assert_array_equal(F.softplus(x).numpy()[[8, 9]], [1e4, 0])
    for f in (F.relu, F.sigmoid, F.tanh, F.gelu, F.silu, F.elu, F.softplus):
        assert np.isnan(f(x).numpy()[-1])


# ---- pointwise(): the Function built from a kernel pair ----------------------------------
def test_pointwise_function_passes_parameters_to_both_kernels(rng):
    from fastnn.autograd.activations import pointwise
    sp = pointwise("softplus")
    assert pointwise("softplus") is sp and pointwise("softplus", saves="output") is not sp
    x = 3 * rng.standard_normal((4, 5))
    a, b = fn.Tensor(x.copy(), requires_grad=True), fn.Tensor(x.copy(), requires_grad=True)
    ya, yb = sp.apply(a, 2.0, 4.0), F.softplus(b, 2.0, 4.0)
    np.testing.assert_array_equal(ya.numpy(), yb.numpy())
    g = rng.standard_normal(x.shape)
    ya.backward(g)
    yb.backward(g)
    np.testing.assert_array_equal(a.grad, b.grad)
    with fn.no_grad():
        np.testing.assert_array_equal(sp.apply(fn.Tensor(x), 2.0, 4.0).numpy(), yb.numpy())
    smooth = fn.Tensor(np.linspace(-4, 4, 12), requires_grad=True)   # threshold beyond reach
    assert fn.autograd.gradcheck(lambda t: sp.apply(t, 1.0, 20.0), (smooth,))


def test_pointwise_function_can_save_the_output(rng):
    from fastnn.autograd.activations import pointwise
    elu_y = pointwise("elu", saves="output")     # elu_bwd reads y (alpha >= 0)
    x = rng.standard_normal((3, 7))
    a, b = fn.Tensor(x.copy(), requires_grad=True), fn.Tensor(x.copy(), requires_grad=True)
    ya, yb = elu_y.apply(a, 1.3, 1.0, 1.0), F.elu(b, 1.3)
    np.testing.assert_array_equal(ya.numpy(), yb.numpy())
    assert ya._node.saved_tensors[0] is ya.data
    g = rng.standard_normal(x.shape)
    ya.backward(g)
    yb.backward(g)
    np.testing.assert_array_equal(a.grad, b.grad)
    with pytest.raises(ValueError, match="saves must be 'input' or 'output'"):
        pointwise("elu", saves="both")


def test_a_graph_through_pointwise_functions_pickles():
    import pickle
    from fastnn.autograd import activations as A
    assert pickle.loads(pickle.dumps(A.Sigmoid)) is A.Sigmoid
    x = fn.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    y = F.softsign(F.sigmoid(x))
    back = pickle.loads(pickle.dumps(y))
    np.testing.assert_array_equal(back.numpy(), y.numpy())
    assert back.grad_fn.fn is y.grad_fn.fn


# ---- softmax ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("f", [F.softmax, F.log_softmax])
def test_softmax_stays_finite_for_huge_logits(f, dtype):
    x = np.array([[1e4, -1e4, 0.0], [1e4, 1e4, 1e4], [-1e4, -1e4, -1e4]], dtype)
    y = f(x, dim=1).numpy()
    assert np.isfinite(y).all()
    p = y if f is F.softmax else np.exp(y)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(p[0], [1, 0, 0], atol=1e-7)
    np.testing.assert_allclose(p[1], [1 / 3] * 3, rtol=1e-6)
    y0 = f(x.T.copy(), dim=0).numpy()   # same along another dim
    np.testing.assert_allclose(y0, y.T, rtol=1e-6)


def test_softmax_nan_poisons_its_row_only():
    x = np.array([[0.0, np.nan], [1.0, 2.0]], np.float32)
    y = F.softmax(x, dim=1).numpy()
    assert np.isnan(y[0]).all() and np.isfinite(y[1]).all()


@pytest.mark.parametrize("f,tf", [("softmax", "softmax"), ("log_softmax", "log_softmax")])
def test_softmax_large_matches_torch_multithreaded(f, tf, rng, torch, fastnn_threads):
    fastnn_threads(2)
    x = (5 * rng.standard_normal((512, 300))).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    xs = fn.Tensor(x, requires_grad=True)
    y = getattr(F, f)(xs, dim=1)
    xt = torch.tensor(x, requires_grad=True)
    yt = getattr(torch.nn.functional, tf)(xt, dim=1)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    y.backward(g)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5)


# ---- in place ---------------------------------------------------------------------------
INPLACE = {
    "relu": (F.relu, {}), "relu6": (F.relu6, {}), "hardtanh": (F.hardtanh, {}),
    "leaky_relu": (F.leaky_relu, {"negative_slope": 0.1}),
    "leaky_relu_neg": (F.leaky_relu, {"negative_slope": -0.1}),
    "elu": (F.elu, {}), "elu_neg_alpha": (F.elu, {"alpha": -0.5}), "selu": (F.selu, {}),
    "celu": (F.celu, {"alpha": 0.5}), "silu": (F.silu, {}),
    "rrelu_eval": (F.rrelu, {}), "rrelu_train": (F.rrelu, {"training": True, "generator": 3}),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_writes_the_input_buffer_and_keeps_gradients(name, rng):
    f, kw = INPLACE[name]
    x = rng.standard_normal((5, 6))
    expect = f(x.copy(), **kw).numpy()
    buf = x.copy()
    y = f(buf, inplace=True, **kw)
    assert y.data is buf or np.shares_memory(y.data, buf)
    np.testing.assert_array_equal(y.numpy(), expect)
    np.testing.assert_array_equal(buf, expect)
    # through a graph: the gradient w.r.t. the pre-activation is unchanged by inplace
    g = rng.standard_normal(x.shape)
    grads = []
    for inplace in (False, True):
        leaf = fn.Tensor(x.copy(), requires_grad=True)
        h = leaf * 1.0
        f(h, inplace=inplace, **kw).backward(g)
        grads.append(leaf.grad)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)


def test_inplace_on_a_strided_view_writes_through(rng):
    base = rng.standard_normal((6, 8))
    view = base[:, ::2]
    expect = np.maximum(view, 0)
    y = F.relu(view, inplace=True)
    np.testing.assert_array_equal(base[:, ::2], expect)
    assert np.shares_memory(y.data, base)


# ---- rrelu ------------------------------------------------------------------------------
def test_rrelu_training_draws_slopes_in_range_and_is_reproducible(rng):
    x = rng.standard_normal(10_000).astype(np.float32)
    y1 = F.rrelu(x, 0.1, 0.3, training=True, generator=fn.Generator(7)).numpy()
    y2 = F.rrelu(x, 0.1, 0.3, training=True, generator=fn.Generator(7)).numpy()
    np.testing.assert_array_equal(y1, y2)
    neg = x < 0
    np.testing.assert_array_equal(y1[~neg], x[~neg])
    r = y1[neg] / x[neg]
    assert r.min() >= 0.1 - 1e-6 and r.max() <= 0.3 + 1e-6 and r.std() > 0.03
    y3 = F.rrelu(x, 0.1, 0.3, training=True, generator=fn.Generator(8)).numpy()
    assert not np.array_equal(y1, y3)


def test_rrelu_training_gradient_is_the_drawn_slope(rng):
    x = fn.Tensor(rng.standard_normal(200), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True, generator=1)
    y.sum().backward()
    neg = x.data <= 0
    np.testing.assert_allclose(x.grad[neg], y.data[neg] / x.data[neg])
    np.testing.assert_array_equal(x.grad[~neg], 1.0)


def test_rrelu_module_train_and_eval(rng):
    m = fn.nn.RReLU(0.1, 0.3, generator=fn.Generator(0))
    x = -np.ones(1000, np.float32)
    assert np.unique(m(x).numpy()).size > 100           # training: random slopes
    m.eval()
    np.testing.assert_allclose(m(x).numpy(), -0.2)      # eval: mean slope


def test_rrelu_default_generator_follows_manual_seed(rng):
    x = rng.standard_normal(100)
    fn.manual_seed(5)
    a = F.rrelu(x, training=True).numpy()
    fn.manual_seed(5)
    np.testing.assert_array_equal(F.rrelu(x, training=True).numpy(), a)


# ---- learnable parameters ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu_and_srelu_parameter_grads_match_reference(dtype, rng):
    x = rng.standard_normal((8, 3, 5)).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    m = fn.nn.PReLU(3, dtype=dtype)
    xt = fn.Tensor(x, requires_grad=True)
    m(xt).backward(g)
    gx, gw = R.prelu_bwd(x, m.weight.data, g)
    np.testing.assert_allclose(m.weight.grad, gw, rtol=1e-5)
    np.testing.assert_allclose(xt.grad, gx, rtol=1e-6)
    s = fn.nn.SReLU(3, dtype=dtype)
    s.t_right.data[:] = [0.5, 1.0, 1.5]
    s.a_right.data[:] = [0.5, 2.0, 1.0]
    xt = fn.Tensor(x, requires_grad=True)
    s(xt).backward(g)
    expect = R.srelu_bwd(x, s.t_left.data, s.a_left.data, s.t_right.data, s.a_right.data, g)
    for got, e in zip((xt.grad, s.t_left.grad, s.a_left.grad, s.t_right.grad, s.a_right.grad), expect):
        np.testing.assert_allclose(got, e, rtol=1e-5, atol=1e-5)


def test_srelu_shared_parameters_get_summed_grads(rng):
    x = fn.Tensor(rng.standard_normal((4, 3, 2)) * 2, requires_grad=True)
    p = [fn.Tensor(np.array([v]), requires_grad=True) for v in (-0.5, 0.3, 0.7, 1.5)]
    assert fn.autograd.gradcheck(F.srelu, (x, *p), raise_exception=True)
    assert p[0].grad is None or p[0].grad.shape == (1,)


def test_srelu_default_init_is_leaky_relu():
    m = fn.nn.SReLU(4)
    x = np.linspace(-3, 3, 24).reshape(2, 4, 3).astype(np.float32)
    np.testing.assert_allclose(m(x).numpy(), F.leaky_relu(x, 0.2).numpy(), rtol=1e-6)
    assert [n for n, _ in m.named_parameters()] == ["t_left", "a_left", "t_right", "a_right"]


# ---- modules --------------------------------------------------------------------------------
MODULES = [
    (fn.nn.ReLU(), lambda x: F.relu(x)),
    (fn.nn.ReLU6(), lambda x: F.relu6(x)),
    (fn.nn.LeakyReLU(0.3), lambda x: F.leaky_relu(x, 0.3)),
    (fn.nn.Hardtanh(-2.0, 0.5), lambda x: F.hardtanh(x, -2.0, 0.5)),
    (fn.nn.ELU(0.7), lambda x: F.elu(x, 0.7)),
    (fn.nn.SELU(), lambda x: F.selu(x)),
    (fn.nn.CELU(0.4), lambda x: F.celu(x, 0.4)),
    (fn.nn.GELU(), lambda x: F.gelu(x)),
    (fn.nn.GELU("tanh"), lambda x: F.gelu(x, approximate="tanh")),
    (fn.nn.SiLU(), lambda x: F.silu(x)),
    (fn.nn.Softplus(2.0, 3.0), lambda x: F.softplus(x, 2.0, 3.0)),
    (fn.nn.Softsign(), lambda x: F.softsign(x)),
    (fn.nn.Sigmoid(), lambda x: F.sigmoid(x)),
    (fn.nn.Tanh(), lambda x: F.tanh(x)),
    (fn.nn.Softmax(dim=1), lambda x: F.softmax(x, dim=1)),
    (fn.nn.LogSoftmax(dim=0), lambda x: F.log_softmax(x, dim=0)),
    (fn.nn.CReLU(), lambda x: F.crelu(x)),
    (fn.nn.Maxout(2, dim=1), lambda x: F.maxout(x, 2, dim=1)),
    (fn.nn.PReLU(4, init=0.1), lambda x: F.prelu(x, np.full(4, 0.1, np.float32))),
    (fn.nn.SReLU(4), lambda x: F.srelu(x, 0.0, 0.2, 1.0, 1.0)),
    (fn.nn.RReLU(0.1, 0.2).eval(), lambda x: F.rrelu(x, 0.1, 0.2)),
]


@pytest.mark.parametrize("module,functional", MODULES, ids=[type(m).__name__ for m, _ in MODULES])
def test_module_equals_functional(module, functional, rng):
    x = rng.standard_normal((3, 4, 2)).astype(np.float32)
    out = module(fn.tensor(x))
    np.testing.assert_array_equal(out.numpy(), functional(fn.tensor(x)).numpy())
    assert out.dtype == np.float32
    repr(module)


def test_softmax_module_without_dim_uses_torch_implicit_rule(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = fn.nn.Softmax()(x)
    np.testing.assert_allclose(y.numpy(), F.softmax(x, dim=1).numpy())


def test_prelu_module_grad_reaches_weight_and_matches_torch(rng, torch):
    x = rng.standard_normal((6, 3, 4)).astype(np.float32)
    m = fn.nn.PReLU(3)
    tm = torch.nn.PReLU(3)
    y = m(fn.Tensor(x))
    ty = tm(torch.from_numpy(x))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(m.weight.grad, tm.weight.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("name", ACT.NAMES)
def test_every_activation_name_serializes_back_from_its_function(name):
    f = ACT.get(name)
    canonical = ACT.serialize(f)
    assert ACT.get(canonical) is f
    assert canonical == name or ACT.get(name) is ACT.get(canonical)


def test_dense_given_the_softmax_callable_can_be_saved(tmp_path):
    model = fn.models.Sequential([fn.layers.Dense(3, activation=ACT.get("softmax"),
                                                  input_shape=(4,))])
    x = np.ones((2, 4), np.float32)
    model.save(tmp_path / "m.fnn")
    again = fn.models.load_model(tmp_path / "m.fnn")
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    assert again.layers[0].get_config()["activation"] == "softmax"
