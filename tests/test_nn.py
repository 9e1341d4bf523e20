"""The module system (fn.nn.Module, Parameter, Sequential) and fn.nn.Linear, including a
Linear–ReLU–Linear network trained with a hand-written SGD step and compared with torch."""
import math

import numpy as np
import pytest

import fastnn as fn
from fastnn import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(np.ones(4, np.float32))
        self.note = "not a parameter"
        self.register_buffer("running", np.zeros(4, np.float32))

    def forward(self, x):
        return self.fc(x) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Block()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.first(x))


# --- registration and traversal --------------------------------------------------------------
def test_attribute_assignment_registers_parameters_and_modules():
    b = Block()
    assert list(b._parameters) == ["scale"]
    assert list(b._modules) == ["fc"]
    assert b.note == "not a parameter" and "note" not in b._parameters
    assert b.fc.weight is b._modules["fc"]._parameters["weight"]
    assert isinstance(b.scale, nn.Parameter) and b.scale.requires_grad


def test_named_parameters_follow_definition_order_with_prefixes():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["first.scale", "first.fc.weight", "first.fc.bias", "head.weight",
                     "head.bias"]
    assert len(list(Net().parameters())) == 5


def test_shared_parameter_is_listed_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)
            self.b = nn.Linear(3, 3)
            self.b.weight = self.a.weight

    names = [n for n, _ in Tied().named_parameters()]
    assert names == ["a.weight", "a.bias", "b.bias"]


def test_reassignment_and_none():
    b = Block()
    b.scale = None
    assert b.scale is None and [n for n, _ in b.named_parameters()] == ["fc.weight", "fc.bias"]
    with pytest.raises(TypeError, match="cannot assign ndarray as parameter 'scale'"):
        b.scale = np.ones(4)
    b.fc = nn.Linear(3, 5)
    assert b.fc.out_features == 5
    del b.fc
    assert "fc" not in b._modules
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'missing'"):
        b.missing


def test_assigning_before_super_init_fails_clearly():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Bad()


def test_call_runs_forward_and_base_forward_raises():
    x = fn.tensor(np.ones((2, 3), np.float32))
    assert Net()(x).shape == (2, 2)
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(x)


def test_parameter_requires_float():
    with pytest.raises(TypeError, match="int64"):
        nn.Parameter(np.arange(3))
    p = nn.Parameter(np.zeros(2, np.float64))
    assert p.dtype == np.float64 and p.requires_grad and p.is_leaf
    assert "Parameter containing" in repr(p)


# --- state dicts --------------------------------------------------------------------------------
def test_state_dict_keys_and_buffers():
    sd = Net().state_dict()
    assert list(sd) == ["first.scale", "first.fc.weight", "first.fc.bias", "head.weight",
                        "head.bias", "first.running"]
    assert all(isinstance(v, np.ndarray) for v in sd.values())


def test_load_state_dict_round_trip_copies_values():
    fn.manual_seed(1)
    a, b = Net(), Net()
    x = fn.tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    assert not np.allclose(a(x).data, b(x).data)
    sd = {k: v.copy() for k, v in a.state_dict().items()}
    assert b.load_state_dict(sd) == ([], [])
    np.testing.assert_array_equal(a(x).data, b(x).data)
    sd["head.weight"][...] = 99                     # loaded by copy, not by reference
    assert not np.any(b.head.weight.data == 99)


def test_load_state_dict_strict_lists_missing_and_unexpected_keys():
    net = Net()
    sd = dict(net.state_dict())
    del sd["head.bias"]
    sd["head.extra"] = np.zeros(2, np.float32)
    with pytest.raises(KeyError, match=r"missing keys \['head.bias'\].*unexpected keys "
                                       r"\['head.extra'\]"):
        net.load_state_dict(sd)
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert missing == ["head.bias"] and unexpected == ["head.extra"]


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    net = Net()
    sd = dict(net.state_dict())
    sd["head.weight"] = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"'head.weight' has shape \(3, 4\) in the state dict "
                                         r"but \(2, 4\) in the module"):
        net.load_state_dict(sd)


def test_load_state_dict_accepts_tensors_and_rejects_non_dicts():
    lin = nn.Linear(2, 2)
    lin.load_state_dict({"weight": fn.tensor(np.eye(2, dtype=np.float32)),
                         "bias": [1.0, 2.0]})
    np.testing.assert_array_equal(lin.weight.data, np.eye(2))
    np.testing.assert_array_equal(lin.bias.data, [1.0, 2.0])
    with pytest.raises(TypeError, match="expected a dict"):
        lin.load_state_dict([1, 2])


# --- modes and grads ----------------------------------------------------------------------------
def test_train_eval_propagate_to_every_child():
    net = nn.Sequential(Net(), nn.Linear(2, 2))
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    assert net.train() is net
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not net[0].first.fc.training


def test_zero_grad_sets_grads_to_none():
    net = Net()
    net(fn.tensor(np.ones((2, 3), np.float32))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_to_double_casts_parameters_and_buffers():
    net = Net().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.first.running.dtype == np.float64
    assert net(fn.tensor(np.ones((1, 3)))).dtype == np.float64


# --- Sequential ---------------------------------------------------------------------------------
def test_sequential_indexing_len_iteration():
    a, b, c = nn.Linear(2, 3), nn.Linear(3, 4), nn.Linear(4, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert [n for n, _ in seq.named_parameters()][:2] == ["0.weight", "0.bias"]
    x = fn.tensor(np.ones((5, 2), np.float32))
    np.testing.assert_allclose(seq(x).data, c(b(a(x))).data)
    seq.append(nn.Identity())
    assert len(seq) == 4 and seq(x).shape == (5, 1)


def test_sequential_from_ordered_dict():
    from collections import OrderedDict
    seq = nn.Sequential(OrderedDict([("enc", nn.Linear(2, 3)), ("dec", nn.Linear(3, 2))]))
    assert [n for n, _ in seq.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight",
                                                      "dec.bias"]
    assert seq.enc is seq[0]


# --- Linear -------------------------------------------------------------------------------------
def test_linear_init_bounds_follow_torch_default():
    fn.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)       # kaiming_uniform(a=√5) and the bias rule both give this
    w, b = lin.weight.data, lin.bias.data
    assert w.shape == (300, 400) and b.shape == (300,) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound            # fills the range: uniform, not normal
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert abs(w.mean()) < 0.01 * bound


def test_linear_init_is_reproducible_with_seed_and_generator():
    fn.manual_seed(123)
    w1 = nn.Linear(5, 4).weight.data.copy()
    fn.manual_seed(123)
    w2 = nn.Linear(5, 4).weight.data.copy()
    np.testing.assert_array_equal(w1, w2)
    w3 = nn.Linear(5, 4).weight.data
    assert not np.array_equal(w1, w3)                # the default stream moved on
    g1 = nn.Linear(5, 4, generator=fn.Generator(7)).weight.data
    g2 = nn.Linear(5, 4, generator=7).weight.data
    np.testing.assert_array_equal(g1, g2)
    fn.manual_seed(123)
    nn.Linear(5, 4, generator=fn.Generator(7))      # an explicit generator ...
    np.testing.assert_array_equal(nn.Linear(5, 4).weight.data, w1)   # ... leaves the default alone


def test_linear_forward_shapes_dtypes_and_no_bias():
    lin = nn.Linear(3, 2, bias=False, dtype=np.float64)
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    x = np.random.default_rng(0).standard_normal((4, 3))
    y = lin(x)
    assert isinstance(y, fn.Tensor) and y.dtype == np.float64
    np.testing.assert_allclose(y.data, x @ lin.weight.data.T)
    lin2 = nn.Linear(3, 2)
    x3 = np.ones((2, 5, 3), np.float32)
    np.testing.assert_allclose(lin2(x3).data, x3 @ lin2.weight.data.T + lin2.bias.data,
                               rtol=1e-6)
    assert "in_features=3, out_features=2, bias=True" in repr(lin2)


@pytest.mark.parametrize("args", [(0, 2), (2, -1), (2.5, 2), (True, 2)])
def test_linear_rejects_bad_sizes(args):
    with pytest.raises(ValueError, match="Linear: (in|out)_features must be a positive int"):
        nn.Linear(*args)


def test_linear_module_input_mismatch_message():
    with pytest.raises(ValueError, match=r"input has shape \(2, 4\) but weight has shape "
                                         r"\(2, 3\); expected input of shape \(\.\.\., 3\)"):
        nn.Linear(3, 2)(np.ones((2, 4), np.float32))


# --- a real network -----------------------------------------------------------------------------
def _problem(n=128, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (n, 2)).astype(np.float32)
    y = (np.sin(x[:, :1] * 1.5) + 0.5 * x[:, 1:]).astype(np.float32)
    return x, y


def _mlp(seed=0):
    return nn.Sequential(nn.Linear(2, 32, generator=seed), nn.ReLU(),
                         nn.Linear(32, 1, generator=seed + 1))


def _sgd_step(params, lr):
    with fn.no_grad():
        for p in params:
            p.data -= lr * p.grad


def test_linear_relu_linear_trains_with_hand_written_sgd():
    x, y = _problem()
    net = _mlp()
    xt, yt = fn.tensor(x), fn.tensor(y)
    losses = []
    for _ in range(400):
        net.zero_grad()
        loss = ((net(xt) - yt) ** 2).mean()
        loss.backward()
        _sgd_step(net.parameters(), lr=0.2)
        losses.append(loss.item())
    assert losses[-1] < 0.02 * losses[0], (losses[0], losses[-1])   # reaches ~0.004x
    assert all(np.isfinite(losses))


def _torch_copy(torch, net, dtype):
    tnet = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    tnet = tnet.to(dtype)
    with torch.no_grad():
        for (name, p), (tname, tp) in zip(net.named_parameters(), tnet.named_parameters()):
            assert name == tname
            tp.copy_(torch.from_numpy(p.data.copy()))
    return tnet


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_linear_relu_linear_matches_torch(torch, dtype):
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    x, y = _problem(n=16, seed=3)
    x, y = x.astype(dtype), y.astype(dtype)
    net = _mlp(seed=5).to(dtype)
    tnet = _torch_copy(torch, net, getattr(torch, np.dtype(dtype).name))
    xt = fn.tensor(x, requires_grad=True)
    txt = torch.from_numpy(x.copy()).requires_grad_(True)
    out, tout = net(xt), tnet(txt)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **tol)
    loss = ((out - fn.tensor(y)) ** 2).mean()
    tloss = ((tout - torch.from_numpy(y)) ** 2).mean()
    np.testing.assert_allclose(loss.item(), tloss.item(), **tol)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(xt.grad, txt.grad.numpy(), **tol)
    for (name, p), tp in zip(net.named_parameters(), tnet.parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), err_msg=name, **tol)


@pytest.mark.torch
def test_sgd_trajectory_matches_torch(torch):
    x, y = _problem(n=32, seed=4)
    net = _mlp(seed=9)
    tnet = _torch_copy(torch, net, torch.float32)
    xt, yt, txt, tyt = fn.tensor(x), fn.tensor(y), torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(20):
        net.zero_grad()
        tnet.zero_grad()
        loss = ((net(xt) - yt) ** 2).mean()
        tloss = ((tnet(txt) - tyt) ** 2).mean()
        loss.backward()
        tloss.backward()
        _sgd_step(net.parameters(), lr=0.05)
        with torch.no_grad():
            for tp in tnet.parameters():
                tp -= 0.05 * tp.grad
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-4)
    for p, tp in zip(net.parameters(), tnet.parameters()):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.torch
def test_linear_default_init_distribution_matches_torch(torch):
    # same law as torch (not the same stream): compare bounds and moments
    fn.manual_seed(0)
    torch.manual_seed(0)
    w = nn.Linear(256, 512).weight.data
    tw = torch.nn.Linear(256, 512).weight.detach().numpy()
    assert abs(np.abs(w).max() - np.abs(tw).max()) < 1e-3
    assert abs(w.std() - tw.std()) < 0.02 * tw.std()
