"""torch.nn surface: forward's argument is named ``input`` in every module, Conv1d and
padding modes, adaptive pooling, clip_grad_norm_ / clip_grad_value_ — against torch."""
import inspect

import numpy as np
import pytest

import fastnn as fn


def _all_modules():
    out = []
    for name in dir(fn.nn):
        obj = getattr(fn.nn, name)
        if isinstance(obj, type) and issubclass(obj, fn.nn.Module) and obj is not fn.nn.Module:
            out.append(obj)
    return out


@pytest.mark.parametrize("cls", [c for c in _all_modules() if c.forward is not fn.nn.Module.forward],
                         ids=lambda c: c.__name__)
def test_forward_argument_is_named_input(cls):
    params = list(inspect.signature(cls.forward).parameters)
    # torch's own names: two-input modules call theirs x1, x2
    expected = {"CosineSimilarity": "x1"}.get(cls.__name__, "input")
    assert params[1] == expected, f"{cls.__name__}.forward{tuple(params)}"


def test_linear_called_with_input_keyword():
    lin = fn.nn.Linear(10, 8)
    x = fn.randn(3, 10)
    np.testing.assert_array_equal(lin(input=x).numpy(), lin(x).numpy())
    assert fn.nn.ReLU()(input=fn.tensor([-1.0])).tolist() == [0.0]
    assert fn.nn.CrossEntropyLoss()(input=fn.zeros(2, 3), target=fn.tensor([0, 1])).item() > 0


def _copy_params(f, t, torch):
    with torch.no_grad():
        for (_, p), (_, q) in zip(f.named_parameters(), t.named_parameters()):
            q.copy_(torch.from_numpy(p.numpy()))


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [2, "same"])
def test_conv1d_and_conv2d_padding_modes_match_torch(torch, mode, padding, rng):
    for f, t, shape in (
            (fn.nn.Conv1d(3, 4, 3, padding=padding, padding_mode=mode, dilation=2),
             torch.nn.Conv1d(3, 4, 3, padding=padding, padding_mode=mode, dilation=2), (2, 3, 11)),
            (fn.nn.Conv2d(3, 4, (3, 2), padding=padding, padding_mode=mode),
             torch.nn.Conv2d(3, 4, (3, 2), padding=padding, padding_mode=mode), (2, 3, 7, 6))):
        _copy_params(f, t, torch)
        x = rng.standard_normal(shape).astype(np.float32)
        xf, xt = fn.Tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_(True)
        yf, yt = f(xf), t(xt)
        np.testing.assert_allclose(yf.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        g = rng.standard_normal(yf.shape).astype(np.float32)
        yf.backward(g)
        yt.backward(torch.from_numpy(g))
        np.testing.assert_allclose(xf.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(f.weight.grad, t.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
        assert repr(f).replace(", dilation=(1,)", "").replace(", dilation=(1, 1)", "") == \
            repr(t).replace(", dilation=(1,)", "").replace(", dilation=(1, 1)", "")


def test_conv1d_init_matches_torch_bounds(torch):
    f = fn.nn.Conv1d(8, 16, 5, groups=2)
    bound = 1 / np.sqrt(4 * 5)
    assert np.abs(f.weight.numpy()).max() <= bound and np.abs(f.weight.numpy()).max() > 0.9 * bound
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        fn.nn.Conv1d(2, 2, 3, padding_mode="mirror")


def test_adaptive_avg_pool_modules_match_torch(torch, rng):
    x = rng.standard_normal((2, 3, 9, 7)).astype(np.float32)
    for out in (1, (4, 3), (None, 2)):
        np.testing.assert_allclose(fn.nn.AdaptiveAvgPool2d(out)(x).numpy(),
                                   torch.nn.AdaptiveAvgPool2d(out)(torch.from_numpy(x)).numpy(),
                                   rtol=1e-5, atol=1e-6)
    y = x[:, :, 0]
    np.testing.assert_allclose(fn.nn.AdaptiveAvgPool1d(4)(y).numpy(),
                               torch.nn.AdaptiveAvgPool1d(4)(torch.from_numpy(y)).numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm, rng):
    grads = [rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (5,), (2, 2, 2))]
    ps = [fn.nn.Parameter(np.zeros(g.shape, np.float32)) for g in grads]
    ts = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    for p, t, g in zip(ps, ts, grads):
        p.grad, t.grad = g.copy(), torch.from_numpy(g.copy())
    total = fn.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(ts, max_norm, norm_type=norm_type)
    assert total.dtype == np.float32 and total.shape == ()
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-5)
    for p, t in zip(ps, ts):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_edge_cases(torch):
    p = fn.nn.Parameter(np.zeros(2, np.float32))
    assert fn.nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0          # no grads
    p.grad = np.array([np.inf, 1.0], np.float32)
    with pytest.raises(RuntimeError, match="non-finite"):
        fn.nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    model = fn.nn.Linear(3, 2)
    model(fn.ones(4, 3)).sum().backward()
    before = [q.grad.copy() for q in model.parameters()]
    fn.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1e-3)
    after = [q.grad for q in model.parameters()]
    norm = np.sqrt(sum((a.astype(np.float64) ** 2).sum() for a in after))
    assert norm == pytest.approx(1e-3, rel=1e-3) and not np.allclose(before[0], after[0])


def test_clip_grad_value_and_vector_round_trip(torch):
    m = fn.nn.Linear(3, 2)
    m(fn.ones(1, 3) * 10).sum().backward()
    fn.nn.utils.clip_grad_value_(m.parameters(), 0.5)
    assert all(np.abs(p.grad).max() <= 0.5 for p in m.parameters())
    v = fn.nn.utils.parameters_to_vector(m.parameters())
    fn.nn.utils.vector_to_parameters(v * 0 + 1, m.parameters())
    assert all((p.numpy() == 1).all() for p in m.parameters())


def test_module_dict_and_parameter_list_register_what_they_hold():
    d = fn.nn.ModuleDict({"enc": fn.nn.Linear(3, 4), "dec": fn.nn.Linear(4, 3)})
    d["act"] = fn.nn.ReLU()
    assert list(d.keys()) == ["enc", "dec", "act"] and "dec" in d and len(d) == 3
    assert sorted(d.state_dict()) == ["dec.bias", "dec.weight", "enc.bias", "enc.weight"]
    assert isinstance(d.pop("enc"), fn.nn.Linear) and list(d) == ["dec", "act"]
    assert len(list(d.parameters())) == 2
    ps = fn.nn.ParameterList([fn.zeros(2), fn.nn.Parameter(np.ones(3, np.float32))])
    ps.append(np.zeros(4, np.float32))
    assert [p.shape for p in ps] == [(2,), (3,), (4,)] and list(ps.state_dict()) == ["0", "1", "2"]
    assert all(isinstance(p, fn.nn.Parameter) for p in ps.parameters())
    with pytest.raises(TypeError, match=r"ModuleDict.update: expected a mapping or \(name, module\)"):
        fn.nn.ModuleDict([fn.nn.ReLU()])


@pytest.mark.torch
def test_unflatten_cosine_similarity_and_1d_pools_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 12)).astype(np.float32)
    pairs = [(fn.nn.Unflatten(2, (3, -1)), torch.nn.Unflatten(2, (3, -1))),
             (fn.nn.MaxPool1d(3, 2, 1), torch.nn.MaxPool1d(3, 2, 1)),
             (fn.nn.AvgPool1d(4, 3, 2, count_include_pad=False),
              torch.nn.AvgPool1d(4, 3, 2, count_include_pad=False))]
    for ours, theirs in pairs:
        a, b = ours(fn.tensor(x)), theirs(torch.from_numpy(x))
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    y = rng.standard_normal((2, 1, 12)).astype(np.float32)
    a = fn.nn.CosineSimilarity(dim=2)(x, y)
    b = torch.nn.CosineSimilarity(dim=2)(torch.from_numpy(x), torch.from_numpy(y))
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"Unflatten: unflattened_size \(5, 2\) does not match "
                                         r"the size 12 of dimension 2"):
        fn.nn.Unflatten(2, (5, 2))(x)
