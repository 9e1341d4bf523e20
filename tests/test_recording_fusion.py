"""Sequential while recording: a Linear followed by a ReLU is one node (F.linear_act),
which must give the bits of the two ops module by module, forward and backward,
for every layout, dtype, thread count and input form, and follow later changes to
the Sequential."""
import numpy as np
import pytest

import fastnn as fn
import fastnn.functional as F
from fastnn import nn
from fastnn.functional.layers import linear_act


class ScaledLinear(nn.Linear):
    """A Linear subclass with its own forward: must not be fused."""

    def forward(self, x):
        return super().forward(x) * 2.0


LAYOUTS = {
    "mlp": lambda: nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Dropout(0.2),
                                 nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 3)),
    "no_bias_inplace": lambda: nn.Sequential(nn.Linear(20, 8, bias=False), nn.ReLU(inplace=True),
                                             nn.Linear(8, 3, bias=False), nn.ReLU()),
    "tanh_between": lambda: nn.Sequential(nn.Linear(20, 8), nn.Tanh(), nn.Linear(8, 3), nn.ReLU()),
    "subclass": lambda: nn.Sequential(ScaledLinear(20, 8), nn.ReLU(), nn.Linear(8, 3)),
    "nested": lambda: nn.Sequential(nn.Sequential(nn.Linear(20, 8), nn.ReLU()), nn.Linear(8, 3)),
}


def _module_by_module(model, x):
    for m in model:
        x = m(x)
    return x


def _run(model, x, forward, seed):
    """(output, loss gradient w.r.t. x, parameter gradients) with the dropout masks
    drawn from ``seed``."""
    fn.manual_seed(seed)
    for p in model.parameters():
        p.grad = None
    xt = fn.tensor(x, requires_grad=True)
    y = forward(model, xt)
    (y * fn.tensor(np.linspace(-1, 1, y.data.size).reshape(y.shape).astype(y.dtype))).sum().backward()
    return y.numpy(), xt.grad, [p.grad for p in model.parameters()]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("n", [1, 5, 300], ids=lambda n: f"n{n}")
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_recording_path_is_bitwise_module_by_module(layout, n, dtype, threads, rng):
    fn.manual_seed(0)
    model = LAYOUTS[layout]().to(dtype).train()
    x = rng.standard_normal((n, 20)).astype(dtype)
    x[0, 3] = np.nan if n > 1 else x[0, 3]
    with fn.threads(threads):
        got = _run(model, x, lambda m, t: m(t), seed=7)
        want = _run(model, x, _module_by_module, seed=7)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert len(got[2]) == len(want[2])
    for a, b in zip(got[2], want[2]):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)


def test_fused_steps_and_their_rebuild():
    model = LAYOUTS["mlp"]()
    model(fn.zeros(2, 20))
    assert [fused for _, fused in model._rec] == [True, False, True, False]
    model[1] = nn.Tanh()                 # the first pair is no longer Linear + ReLU
    model(fn.zeros(2, 20))
    assert [fused for _, fused in model._rec] == [False, False, False, True, False]
    model.append(nn.ReLU())
    model(fn.zeros(2, 20))
    assert [fused for _, fused in model._rec][-1] is True
    sub = LAYOUTS["subclass"]()
    assert [fused for _, fused in sub._build_rec()] == [False, False, False]


def test_fused_node_records_one_op_and_matches_two_ops(rng):
    x = fn.tensor(rng.standard_normal((4, 6)), requires_grad=True)
    w = fn.tensor(rng.standard_normal((3, 6)), requires_grad=True)
    b = fn.tensor(rng.standard_normal(3), requires_grad=True)
    y = linear_act(x, w, b, "relu")
    assert y.grad_fn is not None and y.grad_fn.inputs[0] is x      # one node, straight to x
    np.testing.assert_array_equal(y.numpy(), F.relu(F.linear(x, w, b)).numpy())


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)], ids=str)
def test_fused_linear_relu_gradcheck_float64(shape, bias, rng):
    x = fn.tensor(rng.standard_normal(shape), requires_grad=True)
    w = fn.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = fn.tensor(rng.standard_normal(3), requires_grad=True) if bias else None
    args = (x, w, b) if bias else (x, w)
    assert fn.autograd.gradcheck(lambda *a: linear_act(a[0], a[1], a[2] if bias else None, "relu"), args)


def test_three_d_input_and_float16_input_match_two_ops(rng):
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2))
    for x in (rng.standard_normal((3, 4, 6)).astype(np.float32),
              rng.standard_normal((7, 6)).astype(np.float16)):
        got = _run(model, x, lambda m, t: m(t), seed=1)
        want = _run(model, x, _module_by_module, seed=1)
        assert got[0].dtype == x.dtype and got[1].dtype == x.dtype
        for a, b in zip([got[0], got[1]] + got[2], [want[0], want[1]] + want[2]):
            np.testing.assert_array_equal(a, b)


def test_errors_name_the_layer_input():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    with pytest.raises(ValueError, match=r"linear: input has shape \(2, 5\)"):
        model(fn.zeros(2, 5, requires_grad=True))
    with pytest.raises(TypeError):
        model(fn.tensor(np.ones((2, 4), np.int32)))


def test_training_step_matches_torch(torch, rng):
    """A Linear-ReLU stack trained for three Adam steps: the same weights as torch's."""
    fn.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    tmodel = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8),
                                 torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    model = model.to(np.float64)
    with torch.no_grad():
        for p, tp in zip(model.parameters(), tmodel.parameters()):
            tp.copy_(torch.from_numpy(p.data))
    opt = fn.optim.Adam(model.parameters(), lr=1e-2)
    topt = torch.optim.Adam(tmodel.parameters(), lr=1e-2)
    x = rng.standard_normal((32, 12))
    y = rng.integers(0, 3, 32)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        topt.step()
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_keras_dense_relu_is_one_op_with_the_bits_of_two(rng):
    d = fn.layers.Dense(5, activation="relu", input_shape=(4,))
    x = rng.standard_normal((6, 4)).astype(np.float32)
    grads = []
    for f in (d, lambda t: F.relu(F.linear(t, d.weight, d.bias))):
        for p in (d.weight, d.bias):
            p.grad = None
        xt = fn.tensor(x, requires_grad=True)
        y = f(xt)
        (y * y).sum().backward()
        grads.append([y.numpy(), xt.grad, d.weight.grad, d.bias.grad])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)
    assert d(fn.tensor(x, requires_grad=True)).grad_fn.inputs[1] is d.weight   # one node
