"""Sequential's no-grad plan folds an eval-mode BatchNorm into the Linear or Conv
before it: same outputs as running the modules one by one (and as torch), never stale
after the parameters or statistics change, and unfolded in training mode."""
import numpy as np
import pytest

import fastnn as fn
from fastnn.nn._fold import FoldedBatchNorm


def _randomise_bn(bn, rng):
    bn.running_mean[...] = rng.standard_normal(bn.num_features)
    bn.running_var[...] = rng.uniform(0.5, 2.0, bn.num_features)
    if bn.weight is not None:
        bn.weight.data[...] = rng.standard_normal(bn.num_features)
        bn.bias.data[...] = rng.standard_normal(bn.num_features)


def _one_by_one(net, x):
    for m in net:
        x = m(x)
    return x


CASES = [
    ("linear_bn", lambda: [fn.nn.Linear(6, 5), fn.nn.BatchNorm1d(5)], (7, 6)),
    ("linear_bn_relu", lambda: [fn.nn.Linear(6, 5), fn.nn.BatchNorm1d(5), fn.nn.ReLU()], (1, 6)),
    ("linear_nobias_bn_noaffine", lambda: [fn.nn.Linear(6, 5, bias=False),
                                           fn.nn.BatchNorm1d(5, affine=False)], (64, 6)),
    ("conv2d_bn_relu", lambda: [fn.nn.Conv2d(3, 4, 3, padding=1), fn.nn.BatchNorm2d(4),
                                fn.nn.ReLU()], (2, 3, 6, 5)),
    ("conv2d_strided_bn", lambda: [fn.nn.Conv2d(3, 4, 3, stride=2, bias=False),
                                   fn.nn.BatchNorm2d(4)], (2, 3, 7, 7)),
    ("conv1d_bn", lambda: [fn.nn.Conv1d(3, 4, 3, padding="same"), fn.nn.BatchNorm1d(4)], (2, 3, 9)),
    ("mlp", lambda: [fn.nn.Linear(6, 8), fn.nn.BatchNorm1d(8), fn.nn.ReLU(), fn.nn.Dropout(0.2),
                     fn.nn.Linear(8, 8), fn.nn.BatchNorm1d(8), fn.nn.Linear(8, 2)], (5, 6)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,make,shape", CASES, ids=[c[0] for c in CASES])
def test_folded_plan_equals_modules_one_by_one(name, make, shape, dtype, rng):
    net = fn.nn.Sequential(*make())
    for m in net:
        if isinstance(m, (fn.nn.BatchNorm1d, fn.nn.BatchNorm2d)):
            _randomise_bn(m, rng)
    net.to(dtype).eval()
    x = fn.Tensor(rng.standard_normal(shape).astype(dtype))
    with fn.no_grad():
        folded = net(x)
    assert any(isinstance(step[1], FoldedBatchNorm) for step in net._build_plan())
    want = _one_by_one(net, x)
    assert folded.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(folded.numpy(), want.numpy(), rtol=tol, atol=tol)


def test_folded_plan_matches_torch(torch, rng):
    f = fn.nn.Sequential(fn.nn.Conv2d(3, 8, 3, padding=1), fn.nn.BatchNorm2d(8), fn.nn.ReLU(),
                         fn.nn.Flatten(), fn.nn.Linear(8 * 25, 4), fn.nn.BatchNorm1d(4))
    t = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8),
                            torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8 * 25, 4),
                            torch.nn.BatchNorm1d(4))
    for m in f:
        if isinstance(m, (fn.nn.BatchNorm1d, fn.nn.BatchNorm2d)):
            _randomise_bn(m, rng)
    t.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in f.state_dict().items()})
    f.eval()
    t.eval()
    x = rng.standard_normal((3, 3, 5, 5)).astype(np.float32)
    with fn.no_grad():
        y = f(x).numpy()
    with torch.no_grad():
        ty = t(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(y, ty, rtol=1e-4, atol=1e-5)


def test_fold_follows_changed_statistics_and_weights(rng):
    net = fn.nn.Sequential(fn.nn.Linear(4, 3), fn.nn.BatchNorm1d(3)).eval()
    x = fn.randn(2, 4)
    with fn.no_grad():
        a = net(x).numpy().copy()
        net[1].running_mean += 1.0          # in place: the plan must see it
        net[0].weight.data *= 2.0
        b = net(x).numpy()
    np.testing.assert_allclose(b, _one_by_one(net, x).numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(a, b)


def test_training_mode_batch_norm_is_not_folded_and_updates_statistics():
    net = fn.nn.Sequential(fn.nn.Linear(4, 3), fn.nn.BatchNorm1d(3))      # training mode
    x = fn.randn(8, 4)
    with fn.no_grad():
        y = net(x)
    assert int(net[1].num_batches_tracked) == 1 and np.any(net[1].running_mean != 0)
    np.testing.assert_allclose(y.numpy().mean(axis=0), 0, atol=1e-5)     # batch statistics


def test_fold_keeps_the_error_of_a_wrong_input():
    net = fn.nn.Sequential(fn.nn.Linear(4, 3), fn.nn.BatchNorm1d(3)).eval()
    with pytest.raises(ValueError, match="linear"):
        with fn.no_grad():
            net(fn.randn(2, 5))
