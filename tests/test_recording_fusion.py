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


def _shape_of(rec):
    """The recording steps as names: 'L+R' a fused pair, [...] a run recorded as one op."""
    def name(m, fused):
        return type(m).__name__[0] + ("+R" if fused else "")
    return [[name(m, f) for m, f in run] if run is not None else name(m, fused)
            for m, fused, run in rec]


def test_fused_steps_runs_and_their_rebuild():
    model = LAYOUTS["mlp"]()
    model(fn.zeros(2, 20))
    assert _shape_of(model._rec) == [["L+R", "D", "L+R", "L"]]
    model[1] = nn.Tanh()                 # the first pair is no longer Linear + ReLU
    model(fn.zeros(2, 20))
    assert _shape_of(model._rec) == ["L", "T", ["D", "L+R", "L"]]
    model.append(nn.ReLU())
    model(fn.zeros(2, 20))
    assert _shape_of(model._rec) == ["L", "T", ["D", "L+R", "L+R"]]
    sub = LAYOUTS["subclass"]()
    assert _shape_of(sub._build_rec()) == ["S", "R", "L"]
    assert _shape_of(LAYOUTS["tanh_between"]()._build_rec()) == ["L", "T", "L+R"]


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


# --- a run of Linear / Linear+ReLU / Dropout layers recorded as one op -----------------

def _two_dropouts():
    return nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 12),
                         nn.Dropout(0.5, generator=11), nn.Linear(12, 3))


def _steps(model, x, forward, steps=3, x_grad=True):
    """Forward and backward ``steps`` times without reseeding between them (each
    dropout draws a fresh key per call): every output and gradient."""
    fn.manual_seed(5)
    for m in model.modules():
        if isinstance(m, nn.Dropout) and m.generator is not None:
            m.generator.manual_seed(11)
    out = []
    for _ in range(steps):
        for p in model.parameters():
            p.grad = None
        xt = fn.tensor(x, requires_grad=x_grad)
        y = forward(model, xt)
        (y * y).sum().backward()
        out += [y.numpy(), xt.grad] + [p.grad for p in model.parameters()]
    return out


def _assert_bitwise(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        if a is None or b is None:
            assert a is None and b is None
        else:
            np.testing.assert_array_equal(a, b)


def test_run_is_one_node_and_draws_the_keys_of_the_layers(rng):
    x = rng.standard_normal((9, 20)).astype(np.float32)
    model = _two_dropouts()
    assert _shape_of(model._build_rec()) == [["L+R", "D", "L", "D", "L"]]
    y = model(fn.tensor(x, requires_grad=True))
    assert y.grad_fn.fn.__name__ == "LinearRun" and len(y.grad_fn.inputs) == 1 + 6
    # the generators advance exactly as the layers called one by one advance them
    got = _steps(model, x, lambda m, t: m(t))
    keys = (fn.random.default_generator.next_key(), model[4].generator.next_key())
    want = _steps(model, x, _module_by_module)
    assert (fn.random.default_generator.next_key(), model[4].generator.next_key()) == keys
    assert keys == ((5, 3), (11, 3))    # one key per dropout and step: counters 0, 1, 2 drawn
    _assert_bitwise(got, want)


@pytest.mark.parametrize("case", ["frozen_first", "frozen_weight_only", "frozen_all", "eval_dropout", "p0",
                                  "inplace_dropout", "float64_params", "array_input", "empty"])
def test_run_falls_back_or_matches_layer_by_layer(case, rng):
    model = _two_dropouts()
    x = rng.standard_normal((0 if case == "empty" else 6, 20)).astype(np.float32)
    if case == "frozen_first":
        model[0].weight.requires_grad = False
        model[0].bias.requires_grad = False
    elif case == "frozen_weight_only":      # the bias alone still needs the gradient
        model[0].weight.requires_grad = False
    elif case == "frozen_all":
        for p in model.parameters():
            p.requires_grad = False
    elif case == "eval_dropout":
        model[2].eval()
    elif case == "p0":
        model[4].p = 0.0
    elif case == "inplace_dropout":
        model[2].inplace = True
    elif case == "float64_params":
        model[3].to(np.float64)
    if case == "array_input":
        def fwd(m, t):
            return m(t.data)
    else:
        def fwd(m, t):
            return m(t)
    x_grad = case not in ("frozen_first", "frozen_weight_only")   # else: parameters only
    got = _steps(model, x, fwd, x_grad=x_grad)
    want = _steps(model, x, lambda m, t: _module_by_module(m, fwd(nn.Sequential(), t)),
                  x_grad=x_grad)
    _assert_bitwise(got, want)


def test_run_retain_graph_and_second_backward(rng):
    model = _two_dropouts()
    x = fn.tensor(rng.standard_normal((4, 20)), requires_grad=True)
    model.to(np.float64)
    y = model(x)
    y.sum().backward(retain_graph=True)
    first = [p.grad.copy() for p in model.parameters()]
    y.sum().backward()
    for a, p in zip(first, model.parameters()):
        np.testing.assert_array_equal(2 * a, p.grad)
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()


def test_run_errors_name_the_layer_and_draw_nothing():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Dropout(0.5), nn.Linear(5, 2))
    before = fn.random.default_generator.get_state()["counter"]
    with pytest.raises(ValueError, match=r"linear: input has shape \(2, 3\) but weight has "
                                         r"shape \(2, 5\)"):
        model(fn.zeros(2, 4, requires_grad=True))
    assert fn.random.default_generator.get_state()["counter"] == before


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)], ids=str)
def test_run_gradcheck_float64(shape, rng):
    from fastnn.autograd.linear import Linear as LinearOp
    from fastnn.autograd.linear import LinearRun
    from fastnn.functional.layers import linear_run
    x = fn.tensor(rng.standard_normal(shape), requires_grad=True)
    w1 = fn.tensor(rng.standard_normal((6, 4)), requires_grad=True)
    b1 = fn.tensor(rng.standard_normal(6), requires_grad=True)
    w2 = fn.tensor(rng.standard_normal((3, 6)), requires_grad=True)

    def f(x, w1, b1, w2):
        # a fresh generator per call: the same dropout mask at every evaluation
        run = ((LinearRun.LINEAR, (LinearOp.activation("relu"), True)),
               (LinearRun.DROPOUT, (fn.random.Generator(3), 0.4)),
               (LinearRun.LINEAR, (LinearOp.activation(None), False)))
        return linear_run(x, [w1, b1, w2], run)
    assert fn.autograd.gradcheck(f, (x, w1, b1, w2))


def test_run_leaves_post_accumulate_hooks_their_order(rng):
    """A hooked parameter (data-parallel training reduces each gradient as it arrives)
    keeps the layers as separate nodes: the last layer's gradients reach the hooks
    first, as backward makes them."""
    model = _two_dropouts()
    seen = []
    handles = [p.register_post_accumulate_grad_hook(lambda t, i=i: seen.append(i))
               for i, p in enumerate(model.parameters())]
    try:
        y = model(fn.tensor(rng.standard_normal((3, 20)).astype(np.float32)))
        assert y.grad_fn.fn.__name__ != "LinearRun"
        y.sum().backward()
        assert seen == [5, 4, 3, 2, 1, 0] or seen == [4, 5, 2, 3, 0, 1]
    finally:
        for h in handles:
            h.remove()
    assert model(fn.zeros(3, 20)).grad_fn.fn.__name__ == "LinearRun"
