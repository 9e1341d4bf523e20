"""Losses beyond the op table (tests/test_ops.py drives reference, gradcheck, torch
parity and error rows): kernels against their NumPy references, torch options of the
F/nn losses, Keras parity of fn.losses and to_categorical."""

import numpy as np
import pytest

import fastnn as fn
import fastnn.functional as F
from fastnn._kernels import losses as K
from fastnn._kernels import reference_losses as R

DTYPES = (np.float32, np.float64)
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


# --- kernels vs references -------------------------------------------------------------
def _domain(name, rng, shape, dtype):
    if name in ("bce", "k_bce", "k_kld"):
        x = rng.uniform(0.02, 0.98, shape)
    elif name in ("k_msle", "k_mape"):
        x = rng.uniform(0.1, 3, shape)
    elif name in ("kl_div", "kl_div_log"):
        x = rng.uniform(-4, -0.1, shape)
    else:
        x = rng.uniform(-3, 3, shape)
    if name.startswith("k_") and "hinge" in name:
        y = np.sign(rng.uniform(-1, 1, shape))
    elif name == "kl_div_log":
        y = rng.uniform(-4, -0.1, shape)
    elif name in ("k_mape",):
        y = rng.uniform(0.5, 2, shape)
    else:
        y = rng.uniform(0, 1, shape)
    return x.astype(dtype), y.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(K.POINTWISE))
def test_pointwise_kernel_matches_reference(name, dtype, rng):
    p = 0.7
    for shape in [(5,), (37, 33), (70000,)]:      # the last one runs parallel
        x, y = _domain(name, rng, shape, dtype)
        loss, grad = R.pointwise(name, x, y, p)
        tol = TOL[dtype]
        total, g = K.pointwise_sum(name, x, y, p, grad=True, gscale=0.5)
        np.testing.assert_allclose(total, loss.sum(), rtol=1e-5 if dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(g, 0.5 * grad, **tol)
        e, g = K.pointwise_elem(name, x, y, p, grad=True)
        np.testing.assert_allclose(e, loss, **tol)
        np.testing.assert_allclose(g, grad, **tol)
        rows, g = K.pointwise_rows(name, x, y, p, grad=True, gscale=2.0)
        np.testing.assert_allclose(rows, loss.sum(-1), rtol=1e-5 if dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(g, 2 * grad, **tol)
        assert g.dtype == dtype and e.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (64, 1000), (300, 7)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_fused_cross_entropy_kernel_matches_reference(shape, dtype, weighted, smoothing, rng):
    n, c = shape
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    t = rng.integers(0, c, n)
    t[::5] = -100
    w = rng.uniform(0.5, 2, c).astype(dtype) if weighted else None
    loss, total, den, bad, g = K.cross_entropy_hard(x, t, w, -100, smoothing, grad=True, mean=True)
    rl, rg, rden = R.cross_entropy_hard(x, t, w, -100, smoothing)
    tol = TOL[dtype] if dtype == np.float64 else dict(rtol=1e-4, atol=1e-6)
    assert bad == n
    np.testing.assert_allclose(den, rden, rtol=1e-6)
    np.testing.assert_allclose(loss, rl, **tol)
    np.testing.assert_allclose(g, rg / rden, **tol)
    y = rng.dirichlet(np.ones(c), n).astype(dtype)
    loss, total, g = K.cross_entropy_soft(x, y, w, smoothing, grad=True)
    rl, rg = R.cross_entropy_soft(x, y, w, smoothing)
    np.testing.assert_allclose(loss, rl, **tol)
    np.testing.assert_allclose(g, rg, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_logits_pos_weight_kernel_matches_reference(dtype, rng):
    x = rng.uniform(-6, 6, (50, 4)).astype(dtype)
    y = rng.uniform(0, 1, (50, 4)).astype(dtype)
    pw = np.array([0.5, 1.0, 2.0, 4.0], dtype)
    total, loss, g = K.bce_logits_pw(x, y, pw, elem=True, grad=True, gscale=0.25)
    rl, rg = R.bce_logits_pw(x, y, pw)
    tol = TOL[dtype]
    np.testing.assert_allclose(loss, rl, **tol)
    np.testing.assert_allclose(g, 0.25 * rg, **tol)
    np.testing.assert_allclose(total, rl.sum(), rtol=1e-5)


# --- extremes and NaN ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_is_finite_for_logits_of_100(dtype):
    x = fn.Tensor(np.array([[100.0, -100.0, 0.0], [-100.0, 100.0, 100.0]], dtype), requires_grad=True)
    loss = F.cross_entropy(x, np.array([1, 0]))
    loss.backward()
    np.testing.assert_allclose(loss.item(), (200 + 200 + np.log(2)) / 2, rtol=1e-6)
    assert np.isfinite(x.grad).all()
    np.testing.assert_allclose(x.grad.sum(-1), 0, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_is_finite_for_logits_of_100(dtype):
    x = fn.Tensor(np.array([100.0, -100.0, 100.0, -100.0], dtype), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0], dtype)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [0, 0, 100, 100], atol=1e-6)
    np.testing.assert_allclose(x.grad, [0, 0, 1, -1], atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_is_finite_for_probabilities_of_0_and_1(dtype):
    x = fn.Tensor(np.array([0.0, 1.0, 0.0, 1.0], dtype), requires_grad=True)
    y = np.array([0.0, 1.0, 1.0, 0.0], dtype)
    loss = F.binary_cross_entropy(x, y, reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [0, 0, 100, 100])   # torch clamps log at -100
    assert np.isfinite(x.grad).all()
    k = fn.losses.binary_crossentropy(y[None], x.data[None])
    assert np.isfinite(k.numpy()).all()


# Logits at scale s: equal pairs (the loss is log 2 at any s), opposite signs, a
# logit far below the rest, and an ordinary row, so each row's max, its runner-up
# and exp's underflow are all exercised.
HUGE = (1e4, 1e8, 1e30)


def _huge_logits(s, dtype):
    return np.array([[s, s, -s, 0.0], [-s, s, s / 2, 1.0], [s, -s, 0.0, s],
                     [0.5, -1.0, 2.0, 0.0]], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", HUGE)
@pytest.mark.parametrize("kw", [dict(), dict(label_smoothing=0.2), dict(weight=True),
                                dict(weight=True, label_smoothing=0.1)])
def test_cross_entropy_value_matches_torch_at_huge_logits(scale, dtype, kw, torch):
    x = _huge_logits(scale, dtype)
    c = x.shape[1]
    kw = dict(kw)
    if kw.pop("weight", False):
        kw["weight"] = np.array([1.0, 0.5, 2.0, 1.5], dtype)
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    soft = np.full(x.shape, 0.1, dtype)
    soft[np.arange(4), [1, 0, 3, 2]] = 0.7
    for t in (np.array([0, 1, 2, 3]), np.array([2, 3, 1, 0]), soft):
        for reduction in ("none", "mean", "sum"):
            xf = fn.Tensor(x, requires_grad=True)
            ours = F.cross_entropy(xf, t, reduction=reduction, **kw)
            xt = torch.tensor(x, requires_grad=True)
            ref = torch.nn.functional.cross_entropy(xt, torch.tensor(t), reduction=reduction, **tkw)
            np.testing.assert_allclose(ours.numpy(), ref.detach().numpy(), rtol=1e-6, atol=0)
            ours.sum().backward()
            ref.sum().backward()
            np.testing.assert_allclose(xf.grad, xt.grad.numpy(), rtol=1e-5, atol=1e-7)
    # two equal logits: exactly log 2 at every scale (the 0.69336 / 0.0)
    two = F.cross_entropy(np.full((1, 2), scale, dtype), [0]).item()
    assert two == pytest.approx(np.log(2), rel=1e-6)
    assert c == 4


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", [1, 2, 10, 63, 64, 65])
@pytest.mark.parametrize("n", [1, 103, 1000])
def test_cross_entropy_kernel_few_classes_tiles_match_reference(n, c, dtype, rng):
    # fewer than 64 classes run in tiles of rows (one vector exp per tile): every
    # tile boundary, the path without a gradient, NaN rows and thread counts
    x = (rng.standard_normal((n, c)) * 3).astype(dtype)
    t = rng.integers(0, c, n)
    t[1::7] = -100
    x[n // 2, c // 2] = np.nan
    w = rng.uniform(0.5, 2, c).astype(dtype)
    tol = TOL[dtype] if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    for weight, eps in ((None, 0.0), (w, 0.2)):
        rl, rg, rden = R.cross_entropy_hard(x, t, weight, -100, eps)
        runs = []
        for threads in (1, 2):
            with fn.threads(threads):
                loss, total, den, bad, g = K.cross_entropy_hard(x, t, weight, -100, eps,
                                                                grad=True, mean=True)
                plain = K.cross_entropy_hard(x, t, weight, -100, eps)[0]
            runs.append((loss, g, plain))
            assert bad == n
            np.testing.assert_allclose(loss, rl, **tol)
            np.testing.assert_allclose(g, rg / rden, **tol)
            np.testing.assert_array_equal(plain, loss)
            nan_row = np.isnan(loss)
            assert nan_row.tolist() == [i == n // 2 and t[i] != -100 for i in range(n)]
        for a, b in zip(*runs):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", HUGE)
def test_fused_cross_entropy_kernel_matches_reference_at_huge_logits(scale, dtype):
    x = _huge_logits(scale, dtype)
    t = np.array([0, 1, 2, 3])
    w = np.array([1.0, 0.5, 2.0, 1.5], dtype)
    for weight, eps in ((None, 0.0), (w, 0.0), (None, 0.3), (w, 0.3)):
        loss, _, _, _, g = K.cross_entropy_hard(x, t, weight, -100, eps, grad=True)
        rl, rg, _ = R.cross_entropy_hard(x, t, weight, -100, eps)
        np.testing.assert_allclose(loss, rl, rtol=1e-6)
        np.testing.assert_allclose(g, rg, rtol=1e-6, atol=1e-7)
        y = np.full(x.shape, 0.25, dtype)
        loss, _, g = K.cross_entropy_soft(x, y, weight, eps, grad=True)
        rl, rg = R.cross_entropy_soft(x, y, weight, eps)
        np.testing.assert_allclose(loss, rl, rtol=1e-6)
        np.testing.assert_allclose(g, rg, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("engine", ["c", "twin"])
@pytest.mark.parametrize("scale", HUGE)
def test_both_engines_keep_cross_entropy_exact_at_huge_logits(engine, scale):
    from fastnn._kernels import _twin_losses, engine as E
    mod = E.compiled("_closses") if engine == "c" else _twin_losses
    if mod is None:
        pytest.skip("no build of the C extension runs here")
    x = _huge_logits(scale, np.float32)
    t = np.array([0, 1, 2, 3])
    for w, eps in ((None, 0.0), (np.array([1.0, 0.5, 2.0, 1.5], np.float32), 0.3)):
        loss, g = np.empty(4, np.float32), np.empty_like(x)
        mod.ce_hard(x, t, w, -100, eps, loss, g, 1.0, False, 1)
        np.testing.assert_allclose(loss, R.cross_entropy_hard(x, t, w, -100, eps)[0], rtol=1e-6)
        y = np.full(x.shape, 0.25, np.float32)
        mod.ce_soft(x, y, w, eps, loss, g, 1.0, 1)
        np.testing.assert_allclose(loss, R.cross_entropy_soft(x, y, w, eps)[0], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", HUGE)
def test_log_softmax_and_nll_match_torch_at_huge_logits(scale, dtype, torch):
    x = _huge_logits(scale, dtype)
    ours = F.log_softmax(x, dim=1)
    ref = torch.log_softmax(torch.tensor(x), 1)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)
    t = np.array([3, 2, 1, 0])
    np.testing.assert_allclose(F.nll_loss(ours, t).item(),
                               torch.nn.functional.nll_loss(ref, torch.tensor(t)).item(), rtol=1e-6)


@pytest.mark.parametrize("scale", HUGE)
def test_keras_crossentropies_from_logits_match_keras_at_huge_logits(scale, keras):
    import torch
    x = _huge_logits(scale, np.float32)
    onehot = np.eye(4, dtype=np.float32)[[1, 3, 2, 0]]
    labels = np.array([1, 3, 2, 0])
    binary = (np.arange(16).reshape(4, 4) % 3 == 0).astype(np.float32)
    cases = [("categorical_crossentropy", onehot, {}), ("categorical_crossentropy", onehot, dict(label_smoothing=0.2)),
             ("sparse_categorical_crossentropy", labels, {}),
             ("binary_crossentropy", binary, {}), ("binary_crossentropy", binary, dict(label_smoothing=0.1))]
    for name, y, kw in cases:
        xf = fn.Tensor(x, requires_grad=True)
        ours = getattr(fn.losses, name)(y, xf, from_logits=True, **kw)
        xt = torch.tensor(x, requires_grad=True)
        ref = getattr(keras.losses, name)(torch.tensor(y), xt, from_logits=True, **kw)
        np.testing.assert_allclose(ours.numpy(), ref.detach().cpu().numpy(), rtol=1e-6, err_msg=name)
        ours.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(xf.grad, xt.grad.cpu().numpy(), rtol=1e-5, atol=1e-7, err_msg=name)
        cls = {"categorical_crossentropy": "CategoricalCrossentropy",
               "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
               "binary_crossentropy": "BinaryCrossentropy"}[name]
        a = getattr(fn.losses, cls)(from_logits=True, **kw)(y, x).item()
        b = float(getattr(keras.losses, cls)(from_logits=True, **kw)(torch.tensor(y), torch.tensor(x)))
        assert a == pytest.approx(b, rel=1e-6), cls


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                                  "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"])
def test_empty_input_gives_torchs_nan_or_zero(name, torch):
    reductions = ["none", "mean", "sum"] + (["batchmean"] if name == "kl_div" else [])
    for shape in [(0,), (0, 3)]:
        a = np.zeros(shape, np.float32)
        for reduction in reductions:
            x = fn.Tensor(a, requires_grad=True)
            ours = getattr(F, name)(x, a, reduction=reduction)
            ours.sum().backward()
            ref = getattr(torch.nn.functional, name)(torch.tensor(a), torch.tensor(a), reduction=reduction)
            np.testing.assert_array_equal(ours.numpy(), ref.numpy())
            assert x.grad.shape == shape
    pw = F.binary_cross_entropy_with_logits(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32),
                                            pos_weight=np.ones(3, np.float32))
    assert np.isnan(pw.item())


def test_nan_in_gives_nan_out():
    x = np.array([[np.nan, 0.0], [1.0, 2.0]], np.float32)
    loss = F.cross_entropy(x, np.array([0, 1]), reduction="none").numpy()
    assert np.isnan(loss[0]) and np.isfinite(loss[1])
    assert np.isnan(F.mse_loss(np.array([np.nan, 1.0], np.float32), np.zeros(2, np.float32)).item())
    assert np.isnan(F.binary_cross_entropy_with_logits(np.array([np.nan], np.float32), np.zeros(1, np.float32)).item())


def test_cross_entropy_keeps_dtype_and_backward_is_scaled():
    x = fn.Tensor(np.random.default_rng(0).standard_normal((8, 5)), requires_grad=True)
    t = np.arange(8) % 5
    loss = F.cross_entropy(x, t)
    assert loss.dtype == np.float64
    (loss * 3.0).backward()
    g3 = x.grad.copy()
    x.grad = None
    F.cross_entropy(x, t).backward()
    np.testing.assert_allclose(g3, 3 * x.grad)


def test_cross_entropy_accepts_any_integer_dtype():
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    ref = F.cross_entropy(x, np.array([0, 1, 2, 3, 0, 1])).item()
    for dt in (np.int8, np.uint8, np.int16, np.int32, np.uint32):
        assert F.cross_entropy(x, np.array([0, 1, 2, 3, 0, 1], dt)).item() == pytest.approx(ref)


def test_leaf_logits_grad_is_owned_and_accumulates():
    x = fn.Tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    F.cross_entropy(x, [0, 1]).backward()
    F.cross_entropy(x, [0, 1]).backward()
    np.testing.assert_allclose(x.grad, 2 * (np.full((2, 3), 1 / 3) - np.eye(3)[[0, 1]]) / 2, rtol=1e-6)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse_loss"])
def test_retained_graph_gives_the_same_leaf_grad_twice(loss):
    x = fn.Tensor(np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    target = np.array([0, 2, 1, 1]) if loss == "cross_entropy" else np.zeros((4, 3), np.float32)
    out = getattr(F, loss)(x, target)
    out.backward(retain_graph=True)
    first = x.grad.copy()
    out.backward()
    np.testing.assert_allclose(x.grad, 2 * first, rtol=1e-6)


def test_loss_graph_can_be_retained():
    x = fn.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    loss = F.cross_entropy(x * 2.0, [0, 2])
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


# --- torch parity beyond the op table (tests/test_ops.py drives the rows) ---------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kw", [dict(), dict(weight=True), dict(label_smoothing=0.3),
                                dict(weight=True, label_smoothing=0.1, ignore_index=2)])
def test_cross_entropy_options_match_torch(kw, reduction, rng, torch):
    x = rng.standard_normal((32, 6)).astype(np.float32) * 3
    t = rng.integers(0, 6, 32)
    t[::4] = kw.get("ignore_index", -100)
    w = rng.uniform(0.2, 2, 6).astype(np.float32)
    kw = dict(kw, weight=w if kw.get("weight") else None, reduction=reduction)
    xf = fn.Tensor(x, requires_grad=True)
    out = F.cross_entropy(xf, t, **kw)
    out.sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(
        xt, torch.tensor(t), **dict(kw, weight=None if kw["weight"] is None else torch.tensor(w)))
    ref.sum().backward()
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xf.grad, xt.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_cross_entropy_spatial_matches_torch(rng, torch):
    x = rng.standard_normal((3, 5, 4, 2)).astype(np.float32)
    t = rng.integers(0, 5, (3, 4, 2))
    xf = fn.Tensor(x, requires_grad=True)
    F.cross_entropy(xf, t).backward()
    xt = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(xt, torch.tensor(t))
    ref.backward()
    np.testing.assert_allclose(xf.grad, xt.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert F.cross_entropy(x[0, :, 0, 0], t[0, 0, 0]).item() == pytest.approx(
        torch.nn.functional.cross_entropy(torch.tensor(x[0, :, 0, 0]), torch.tensor(t[0, 0, 0])).item(), rel=1e-5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_weight_and_pos_weight_match_torch(reduction, rng, torch):
    x = rng.uniform(-5, 5, (8, 3)).astype(np.float32)
    y = rng.uniform(0, 1, (8, 3)).astype(np.float32)
    w = rng.uniform(0.5, 2, (8, 1)).astype(np.float32)
    pw = np.array([0.3, 1.0, 5.0], np.float32)
    xf = fn.Tensor(x, requires_grad=True)
    mod = fn.nn.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction=reduction)
    out = mod(xf, y)
    out.sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    ref = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw), reduction=reduction)(
        xt, torch.tensor(y))
    ref.sum().backward()
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xf.grad, xt.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_loss_modules_match_torch(rng, torch):
    x = rng.uniform(0.05, 0.95, (5, 4)).astype(np.float32)
    y = rng.uniform(0, 1, (5, 4)).astype(np.float32)
    lp = np.log(x / x.sum(-1, keepdims=True))
    t = rng.integers(0, 4, 5)
    cases = [("MSELoss", {}, x, y), ("L1Loss", {}, x, y), ("HuberLoss", dict(delta=0.3), x, y),
             ("SmoothL1Loss", dict(beta=0.3), x, y), ("BCELoss", {}, x, y),
             ("KLDivLoss", dict(reduction="batchmean"), lp, y),
             ("CrossEntropyLoss", dict(label_smoothing=0.1), x, t), ("NLLLoss", {}, lp, t)]
    for name, kw, a, b in cases:
        ours = getattr(fn.nn, name)(**kw)(a, b).item()
        ref = getattr(torch.nn, name)(**kw)(torch.tensor(a), torch.tensor(b)).item()
        assert ours == pytest.approx(ref, rel=1e-5), name


# --- Keras parity ----------------------------------------------------------------------
KERAS_NAMES = ["mean_squared_error", "mse", "mean_absolute_error", "mae", "mean_absolute_percentage_error",
               "mape", "mean_squared_logarithmic_error", "msle", "squared_hinge", "hinge",
               "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
               "kullback_leibler_divergence", "kld", "cosine_proximity", "cosine_similarity"]
KERAS_ORACLE = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
                "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
                "kullback_leibler_divergence": "kl_divergence", "kld": "kl_divergence",
                "cosine_proximity": "cosine_similarity"}


def _keras_inputs(name, rng, from_logits=False):
    shape = (6, 5)
    if name in ("hinge", "squared_hinge"):
        return rng.integers(0, 2, shape).astype(np.float32), rng.uniform(-2, 2, shape).astype(np.float32)
    if name == "binary_crossentropy":
        y = rng.integers(0, 2, shape).astype(np.float32)
        p = rng.uniform(-5, 5, shape) if from_logits else rng.uniform(0, 1, shape)
        p[0, :2] = [0.0, 1.0] if not from_logits else [100.0, -100.0]
        return y, p.astype(np.float32)
    if name == "categorical_crossentropy":
        y = np.eye(5, dtype=np.float32)[rng.integers(0, 5, 6)]
        p = rng.standard_normal(shape) * 3 if from_logits else rng.dirichlet(np.ones(5), 6)
        return y, p.astype(np.float32)
    if name == "sparse_categorical_crossentropy":
        p = rng.standard_normal(shape) * 3 if from_logits else rng.dirichlet(np.ones(5), 6)
        return rng.integers(0, 5, 6), p.astype(np.float32)
    if name in ("kullback_leibler_divergence", "kld"):
        return rng.dirichlet(np.ones(5), 6).astype(np.float32), rng.dirichlet(np.ones(5), 6).astype(np.float32)
    if name in ("mean_squared_logarithmic_error", "msle"):
        return rng.uniform(0, 3, shape).astype(np.float32), rng.uniform(-0.5, 3, shape).astype(np.float32)
    y = rng.uniform(-2, 2, shape).astype(np.float32)
    y[0, 0] = 0.0
    return y, rng.uniform(-2, 2, shape).astype(np.float32)


@pytest.mark.parametrize("name", KERAS_NAMES)
def test_keras_loss_matches_keras(name, rng, keras):
    import torch
    kname = KERAS_ORACLE.get(name, name)
    logits_opts = [False, True] if "crossentropy" in name else [False]
    for from_logits in logits_opts:
        y, p = _keras_inputs(name, rng, from_logits)
        kw = dict(from_logits=True) if from_logits else {}
        pf = fn.Tensor(p, requires_grad=True)
        ours = getattr(fn.losses, name)(y, pf, **kw)
        pt = torch.tensor(p, requires_grad=True)
        ref = getattr(keras.losses, kname)(torch.tensor(y), pt, **kw)
        np.testing.assert_allclose(ours.numpy(), ref.detach().cpu().numpy(), rtol=2e-5, atol=2e-6)
        ours.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(pf.grad, pt.grad.cpu().numpy(), rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("cls,kw", [("MeanSquaredError", {}), ("CategoricalCrossentropy", dict(from_logits=True)),
                                    ("CategoricalCrossentropy", dict(label_smoothing=0.2)),
                                    ("BinaryCrossentropy", dict(label_smoothing=0.1)),
                                    ("SparseCategoricalCrossentropy", dict(from_logits=True)),
                                    ("KLDivergence", {}), ("CosineSimilarity", {}), ("Hinge", {})])
def test_keras_loss_classes_match_keras(cls, kw, rng, keras):
    import torch
    name = {"MeanSquaredError": "mse", "CategoricalCrossentropy": "categorical_crossentropy",
            "BinaryCrossentropy": "binary_crossentropy", "KLDivergence": "kld",
            "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
            "CosineSimilarity": "cosine_similarity", "Hinge": "hinge"}[cls]
    y, p = _keras_inputs(name, rng, kw.get("from_logits", False))
    sw = rng.uniform(0.5, 2, 6).astype(np.float32)
    ours = getattr(fn.losses, cls)(**kw)(y, p, sample_weight=sw).item()
    ref = getattr(keras.losses, cls)(**kw)(torch.tensor(y), torch.tensor(p), sample_weight=torch.tensor(sw))
    assert ours == pytest.approx(float(ref), rel=2e-5, abs=1e-6)


@pytest.mark.parametrize("y,num_classes", [([0, 2, 1, 2], None), ([[1], [0], [3]], 5),
                                           ([[0, 1], [2, 0]], None), (np.array([1.0, 0.0]), None)])
def test_to_categorical_matches_keras(y, num_classes, keras):
    ours = fn.utils.to_categorical(y, num_classes)
    ref = keras.utils.to_categorical(y, num_classes)
    np.testing.assert_array_equal(ours, ref)
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours.reshape(-1, ours.shape[-1]),
                                  R.to_categorical(np.asarray(y).astype(int), ours.shape[-1]))
    assert fn.utils.to_categorical(y, num_classes, dtype="float64").dtype == np.float64


# --- registry ----------------------------------------------------------------------------
def test_get_resolves_names_aliases_callables_and_objects():
    assert fn.losses.get("mse") is fn.losses.mean_squared_error
    assert fn.losses.get("kld") is fn.losses.kullback_leibler_divergence
    assert fn.losses.get("cosine_proximity") is fn.losses.cosine_similarity
    assert isinstance(fn.losses.get("CategoricalCrossentropy"), fn.losses.CategoricalCrossentropy)
    obj = fn.losses.SparseCategoricalCrossentropy(from_logits=True)
    assert fn.losses.get(obj) is obj

    def my_loss(y_true, y_pred):
        return y_pred
    assert fn.losses.get(my_loss) is my_loss
    for name in KERAS_NAMES:
        assert fn.losses.get(name) is getattr(fn.losses, name)
    with pytest.raises(ValueError, match="valid names are:.*binary_crossentropy"):
        fn.losses.get("crossentropy")
    with pytest.raises(TypeError):
        fn.losses.get(3)


def test_keras_losses_train_through_autograd():
    rng = np.random.default_rng(0)
    w = fn.Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = fn.utils.to_categorical(rng.integers(0, 3, 16), 3)
    loss = fn.losses.CategoricalCrossentropy(from_logits=True)(y, fn.Tensor(x) @ w)
    loss.backward()
    assert w.grad.shape == (4, 3) and np.isfinite(w.grad).all()
