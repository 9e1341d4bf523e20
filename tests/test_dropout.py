"""Dropout: the mask generator (bit-exact against its NumPy twin, statistics,
independence, thread-count independence), the torch semantics of every variant,
and the modules. Reference/gradcheck/error rows are in table_dropout.py."""
import warnings

import numpy as np
import pytest

import fastnn as fn
import fastnn.functional as F
from fastnn._kernels import dropout as K
from fastnn._kernels import threads
from fastnn._kernels import reference_dropout as R
from fastnn.random import Generator

N_STAT = 1_000_000
ENGINES = sorted(K.engines())


def _sigmas(observed, p, n):
    """How many standard deviations a binomial fraction lies from p."""
    return abs(observed - p) / np.sqrt(p * (1 - p) / n)


# --- the kernels against their reference, on every engine ----------------------------------
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("n", [1, 7, 1000, 65536, 2 * 65536 + 77])
@pytest.mark.parametrize("seed,counter", [(0, 0), (123, 5), (2**64 - 1, 2**40 + 3)])
def test_mask_kernel_matches_reference_bit_exactly(engine, n, seed, counter):
    E = K.engines()[engine]
    for p in (0.1, 0.5, 0.93):
        key, thr = K.mask_keys(seed, counter), K.keep_threshold(p)
        expected = R.keep_mask(n, seed, counter, p)
        np.testing.assert_array_equal(E.dropout_mask(n, key, thr).astype(bool), expected)
        x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
        _, mask = E.dropout_fwd(x, key, thr, 1 / (1 - p))
        np.testing.assert_array_equal(mask.astype(bool), expected)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alpha", [False, True])
def test_fused_forward_and_backward_match_reference(engine, dtype, alpha, rng):
    from fastnn.autograd.dropout import affine_constants
    E = K.engines()[engine]
    x = rng.standard_normal((37, 1001)).astype(dtype)
    x[0, :4] = [np.nan, np.inf, -np.inf, 0.0]
    g = rng.standard_normal(x.shape).astype(dtype)
    p, seed, counter = 0.35, 42, 9
    s, c1, c0 = affine_constants(p, alpha)
    out, mask = E.dropout_fwd(x, K.mask_keys(seed, counter), K.keep_threshold(p), s, c1, c0)
    ref_out, keep = R.dropout(x, seed, counter, p, alpha=alpha)
    np.testing.assert_array_equal(mask.astype(bool), keep)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(out, ref_out, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(E.dropout_bwd(g, mask, s), R.dropout_grad(g, keep, p, alpha),
                               rtol=rtol, atol=0)
    assert out.dtype == dtype
    inplace = x.copy()
    E.dropout_fwd(inplace, K.mask_keys(seed, counter), K.keep_threshold(p), s, c1, c0, out=inplace)
    np.testing.assert_array_equal(inplace, out)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channel_apply_matches_reference(engine, dtype, rng):
    E = K.engines()[engine]
    x = rng.standard_normal((6, 5, 7, 3)).astype(dtype)
    s, c1, c0 = 1.3, 0.2, -0.7
    keep = R.keep_mask(30, 3, 0, 0.4)
    mask = E.dropout_mask(30, K.mask_keys(3, 0), K.keep_threshold(0.4))
    np.testing.assert_array_equal(mask.astype(bool), keep)
    want = R._apply(x, keep.reshape(6, 5), s, c1, c0)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(E.channel_apply(x, mask, s, c1, c0), want, rtol=rtol, atol=rtol)
    out = F.feature_alpha_dropout(x, 0.4, True, generator=3).numpy()
    np.testing.assert_allclose(out, R.dropout(x, 3, 0, 0.4, alpha=True, feature=True)[0],
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_same_bits_with_1_2_and_3_threads(engine, fastnn_threads):
    E = K.engines()[engine]
    n = threads.NUMBA_SERIAL_BELOW + 3 * 65536 + 12345     # both engines go parallel
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((2, n)).astype(np.float32)
    key, thr = K.mask_keys(5, 6), K.keep_threshold(0.3)
    runs = []
    for nt in (1, 2, 3):
        fastnn_threads(nt)
        out, mask = E.dropout_fwd(x, key, thr, 1.2, 0.1, -0.3)
        m2 = E.dropout_mask(n, key, thr)
        runs.append((out, mask, m2, E.dropout_bwd(g, mask, 1.2),
                     E.channel_apply(x[: n - n % 7], m2[: (n - n % 7) // 7], 1.2, 0.1, -0.3)))
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


F16 = r"x must be a C-contiguous float32 or float64 array in native byte order, .*float16"


def test_c_binding_refuses_bad_arrays():
    if "c" not in ENGINES:
        pytest.skip("the C extension is not in use")
    from fastnn._kernels import _cdropout as C
    x = np.ones(10, np.float32)
    with pytest.raises(TypeError, match=F16):
        C.dropout_fwd(x.astype(np.float16), x, np.empty(10, np.uint8), 1, 2, 3, 1.0, 0, 0, 1)
    with pytest.raises(ValueError, match=r"mask must hold 10 elements, got shape \(9,\)"):
        C.dropout_fwd(x, x, np.empty(9, np.uint8), 1, 2, 3, 1.0, 0, 0, 1)
    with pytest.raises(TypeError, match="out must be a C-contiguous float32 array .*dtype float64"):
        C.dropout_bwd(x, np.ones(10, np.uint8), np.empty(10), 1.0, 1)
    with pytest.raises(ValueError, match="x of 10 elements is not 3 rows"):
        C.channel_apply(x, np.ones(3, np.uint8), x, 1.0, 0, 0, 1)
    with pytest.raises(TypeError, match="C-contiguous=False"):
        C.dropout_bwd(np.ones(20, np.float32)[::2], np.ones(10, np.uint8), x, 1.0, 1)
    with pytest.raises(TypeError, match="native byte order, got an array of dtype >f4"):
        C.dropout_fwd(x.astype(">f4"), x, np.empty(10, np.uint8), 1, 2, 3, 1.0, 0, 0, 1)
    with pytest.raises(TypeError, match="mask must be a C-contiguous uint8 array.*dtype bool"):
        C.dropout_bwd(x, np.ones(10, bool), x.copy(), 1.0, 1)
    ro = x.copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out must be writeable"):
        C.dropout_bwd(x, np.ones(10, np.uint8), ro, 1.0, 1)


# --- statistics -------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropped_fraction_and_scaling_within_statistical_bounds(p):
    x = np.ones(N_STAT, np.float32)
    y = F.dropout(x, p, generator=Generator(2024)).numpy()
    dropped = float(np.mean(y == 0))
    assert _sigmas(dropped, p, N_STAT) < 5, dropped
    kept = y[y != 0]
    np.testing.assert_array_equal(kept, np.float32(1 / (1 - p)))
    # the expectation is preserved: E[y] = x
    assert abs(y.mean() - 1) < 5 * np.sqrt(p / (1 - p) / N_STAT)


def test_mask_bits_look_independent():
    n = N_STAT
    m = F.dropout(np.ones(n, np.float32), 0.5, generator=7).numpy() != 0
    # neighbours (lag 1, lag 64) are uncorrelated
    for lag in (1, 64, 65536):
        same = np.mean(m[lag:] == m[:-lag])
        assert _sigmas(same, 0.5, n - lag) < 5, (lag, same)
    # 8 consecutive decisions as a byte: all 256 patterns equally likely (chi-square, df 255)
    counts = np.bincount(np.packbits(m[: n - n % 8]), minlength=256)
    expected = (n // 8) / 256
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 255 + 6 * np.sqrt(2 * 255), chi2


def test_distinct_calls_and_seeds_give_independent_masks():
    x = np.ones(200_000, np.float32)
    g = Generator(5)
    a = F.dropout(x, 0.5, generator=g).numpy() != 0
    b = F.dropout(x, 0.5, generator=g).numpy() != 0
    c = F.dropout(x, 0.5, generator=Generator(6)).numpy() != 0
    for u, v in ((a, b), (a, c), (b, c)):
        assert _sigmas(np.mean(u == v), 0.5, x.size) < 5
    # neighbouring seeds and counters: no shifted copies of one stream
    assert not np.array_equal(a[1:], b[:-1]) and not np.array_equal(a[:-1], b[1:])


# --- reproducibility ------------------------------------------------------------------------
def test_same_seed_same_mask_with_1_and_2_threads(fastnn_threads):
    n = threads.NUMBA_SERIAL_BELOW + 3 * 65536 + 12345     # large enough for the parallel build
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    outs = []
    for nt in (1, 2):
        fastnn_threads(nt)
        outs.append(F.dropout(x, 0.3, generator=Generator(77)).numpy())
        fn.manual_seed(99)
        outs.append(F.dropout2d(x[: n - n % 5].reshape(1, -1, 5), 0.3).numpy())
        outs.append(F.alpha_dropout(x, 0.3, training=True, generator=Generator(78)).numpy())
    for a, b in zip(outs[:3], outs[3:]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(outs[0] != 0, R.keep_mask(n, 77, 0, 0.3))


def test_manual_seed_makes_a_training_run_reproducible():
    x = np.ones((64, 32), np.float32)

    def run():
        fn.manual_seed(1234)
        m = fn.nn.Sequential(fn.nn.Dropout(0.5), fn.nn.Dropout(0.2))
        return [m(x).numpy().copy() for _ in range(3)]

    first, second = run(), run()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])


def test_module_generator_is_its_own_stream():
    x = np.ones(1000, np.float32)
    m1, m2 = fn.nn.Dropout(0.5, generator=3), fn.nn.Dropout(0.5, generator=3)
    a = [m1(x).numpy().copy() for _ in range(2)]
    fn.manual_seed(0)
    F.dropout(x)   # draws from the default generator: does not disturb m2's stream
    b = [m2(x).numpy().copy() for _ in range(2)]
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])


# --- semantics ---------------------------------------------------------------------------------
def test_gradient_flows_only_through_kept_units(rng):
    x = fn.Tensor(rng.uniform(0.5, 1.5, (300, 40)).astype(np.float32), requires_grad=True)
    g = rng.standard_normal(x.shape).astype(np.float32)
    y = F.dropout(x, 0.4, generator=8)
    y.backward(g)
    kept = y.numpy() != 0
    assert 0.5 < kept.mean() < 0.7
    np.testing.assert_array_equal(x.grad[~kept], 0)
    np.testing.assert_allclose(x.grad[kept], g[kept] / np.float32(0.6), rtol=1e-6)


def test_alpha_dropout_gradient_flows_only_through_kept_units(rng):
    x = fn.Tensor(rng.standard_normal((200, 50)), requires_grad=True)   # float64
    y = F.alpha_dropout(x, 0.3, training=True, generator=9)
    y.sum().backward()
    keep = R.keep_mask(x.numel(), 9, 0, 0.3).reshape(x.shape)
    a = R.alpha_constants(0.3)[0]
    np.testing.assert_allclose(x.grad, np.where(keep, a, 0.0), rtol=1e-14)


def test_channel_dropout_gradient_is_per_channel(rng):
    x = fn.Tensor(rng.standard_normal((4, 6, 3, 3)).astype(np.float32), requires_grad=True)
    y = F.dropout2d(x, 0.5, generator=10)
    y.sum().backward()
    ratio = x.grad.reshape(24, 9)
    assert np.all(ratio == ratio[:, :1]) and set(np.unique(ratio)) <= {0.0, 2.0}


@pytest.mark.parametrize("fn_, shape, units", [
    (F.dropout2d, (8, 16, 5, 5), (8, 16)),
    (F.dropout2d, (8, 16, 30), (8, 16)),          # (N, C, L), as torch
    (F.dropout3d, (4, 8, 3, 3, 3), (4, 8)),
    (F.dropout3d, (32, 3, 3, 3), (32,)),           # unbatched (C, D, H, W)
])
def test_channel_dropouts_zero_whole_channels(fn_, shape, units):
    y = fn_(np.ones(shape, np.float32), 0.5, generator=4).numpy()
    per_unit = y.reshape(int(np.prod(units)), -1)
    assert np.all(per_unit == per_unit[:, :1]), "a channel was partly dropped"
    assert set(np.unique(per_unit)) == {0.0, 2.0}


def test_channel_dropout_fraction():
    n, c = 1000, 500
    y = F.dropout2d(np.ones((n, c, 2, 2), np.float32), 0.3, generator=5).numpy()
    dropped = float(np.mean(y[:, :, 0, 0] == 0))
    assert _sigmas(dropped, 0.3, n * c) < 5


@pytest.mark.parametrize("p", [0.05, 0.2, 0.5])
def test_alpha_dropout_keeps_zero_mean_unit_variance(p):
    x = np.random.default_rng(1).standard_normal(N_STAT)
    y = F.alpha_dropout(x, p, training=True, generator=Generator(6)).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01, (y.mean(), y.std())
    # dropped units all sit at the affine image of SELU's saturation value
    a, b, dropped = R.alpha_constants(p)
    assert _sigmas(np.mean(y == dropped), p, N_STAT) < 5


def test_feature_alpha_dropout_keeps_moments_and_channels():
    x = np.random.default_rng(2).standard_normal((400, 500, 8))
    y = F.feature_alpha_dropout(x, 0.2, training=True, generator=Generator(8)).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    dropped_value = R.alpha_constants(0.2)[2]
    dropped = y[..., 0] == dropped_value
    assert np.all(y[dropped] == dropped_value)


@pytest.mark.parametrize("call", [
    lambda x: F.dropout(x, 0.5, training=False),
    lambda x: F.dropout(x, 0.0),
    lambda x: F.dropout(x, keep_prob=1.0),
    lambda x: F.alpha_dropout(x, 0.5),                 # training=False by default, as torch
    lambda x: F.feature_alpha_dropout(x, 0.5),
    lambda x: F.dropout2d(x, 0.5, training=False),
    lambda x: F.dropout3d(x, 0.5, training=False, inplace=True),
])
def test_eval_and_p0_are_the_identity_without_copy(call):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    key = fn.random.default_generator.get_state()["counter"]
    out = call(x)
    assert out.data is x
    t = fn.Tensor(x, requires_grad=True)
    assert call(t) is t
    assert fn.random.default_generator.get_state()["counter"] == key, "eval drew a key"


@pytest.mark.parametrize("call", [
    lambda x: F.dropout(x, 1.0), lambda x: F.dropout(x, keep_prob=0.0),
    lambda x: F.alpha_dropout(x, 1.0, True), lambda x: F.dropout2d(x, 1.0),
    lambda x: F.dropout3d(x, 1.0), lambda x: F.feature_alpha_dropout(x, 1.0, True),
])
def test_p1_gives_zeros(call):
    x = fn.Tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 5)), requires_grad=True)
    y = call(x)
    np.testing.assert_array_equal(y.numpy(), 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, 0)


def test_keep_prob_is_one_minus_p():
    x = np.random.default_rng(0).standard_normal(10_000).astype(np.float32)
    a = F.dropout(x, p=0.25, generator=1).numpy()
    b = F.dropout(x, keep_prob=0.75, generator=1).numpy()
    np.testing.assert_array_equal(a, b)
    assert fn.nn.Dropout(keep_prob=0.75).p == 0.25
    c = F.dropout2d(x.reshape(10, 10, 100), keep_prob=0.6, generator=2).numpy()
    np.testing.assert_array_equal(c, F.dropout2d(x.reshape(10, 10, 100), 0.4, generator=2).numpy())


def test_nan_in_nan_out():
    x = np.full(1000, np.nan, np.float32)
    assert np.isnan(F.dropout(x, 0.5, generator=1).numpy()).all()   # torch: NaN * 0 = NaN
    assert np.isnan(F.alpha_dropout(x, 0.5, True, generator=1).numpy()).all()


def test_inplace_writes_into_the_input():
    x = np.ones((100, 50), np.float32)
    y = F.dropout(x, 0.5, inplace=True, generator=1)
    assert y.data is x and set(np.unique(x)) == {0.0, 2.0}
    fresh = F.dropout(np.ones((100, 50), np.float32), 0.5, generator=1).numpy()
    np.testing.assert_array_equal(x, fresh)
    # a strided input is updated through its view
    buf = np.ones((100, 100), np.float32)
    view = buf[:, ::2]
    y = F.dropout2d(view[None], 0.5, inplace=True, generator=2)
    assert np.shares_memory(y.data, buf)
    np.testing.assert_array_equal(buf[:, 1::2], 1.0)            # untouched elements
    assert set(np.unique(view)) <= {0.0, 2.0}


def test_inplace_on_a_leaf_requiring_grad_raises_but_not_under_no_grad():
    x = fn.Tensor(np.ones(10, np.float32), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.dropout(x, 0.5, inplace=True)
    with fn.no_grad():
        y = F.dropout(x, 0.5, inplace=True, generator=3)
    assert y.data is x.data


def test_modules_follow_train_and_eval():
    x = np.ones((4, 6, 3, 3), np.float32)
    for m in (fn.nn.Dropout(0.5), fn.nn.AlphaDropout(0.5), fn.nn.Dropout2d(0.5),
              fn.nn.FeatureAlphaDropout(0.5)):
        assert m.training
        assert not np.array_equal(m(x).numpy(), x), type(m).__name__
        m.eval()
        assert m(x).data is x
        m.train()
    assert fn.nn.Dropout3d(0.5).eval()(x).data is x
    assert repr(fn.nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"


def test_small_batch_runs_serially_and_keeps_a_byte_mask():
    # the headline MLP's activations: (128, 256) float32
    x = fn.Tensor(np.ones((128, 256), np.float32), requires_grad=True)
    y = F.dropout(x, 0.5, generator=1)
    mask = y.grad_fn.mask
    assert mask.dtype == np.uint8 and mask.shape == x.shape
    assert threads.threads_for(x.numel(), threads.NUMBA_SERIAL_BELOW) == 1   # no thread launch


# --- torch semantics (deterministic comparisons) ---------------------------------------------
def test_scaling_matches_torch(torch):
    for p in (0.1, 0.3, 0.7):
        x = np.random.default_rng(0).uniform(1, 2, 100_000).astype(np.float32)
        t = torch.nn.functional.dropout(torch.from_numpy(x), p, True).numpy()
        f = F.dropout(x, p, generator=1).numpy()
        # survivors: the same float32 value in both (x times the same scale)
        tk, fk = t != 0, f != 0
        np.testing.assert_allclose(np.unique(t[tk] / x[tk]), np.unique(f[fk] / x[fk]), rtol=1e-6)
        assert abs(tk.mean() - fk.mean()) < 0.01


def test_eval_and_shapes_match_torch(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    tx = torch.from_numpy(x)
    for tf, ff in ((torch.nn.functional.dropout, F.dropout),
                   (torch.nn.functional.alpha_dropout, F.alpha_dropout),
                   (torch.nn.functional.dropout2d, F.dropout2d),
                   (torch.nn.functional.feature_alpha_dropout, F.feature_alpha_dropout)):
        np.testing.assert_array_equal(ff(x, 0.5, False).numpy(), tf(tx, 0.5, False).numpy())
        assert ff(x, 0.5, True).shape == tuple(tf(tx, 0.5, True).shape)
        np.testing.assert_array_equal(ff(x, 1.0, True).numpy(), tf(tx, 1.0, True).numpy())
    # torch's defaults: dropout trains, alpha_dropout does not
    assert np.array_equal(F.alpha_dropout(x).numpy(), torch.nn.functional.alpha_dropout(tx).numpy())


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_values_match_torch(torch, p):
    # on constant input alpha dropout yields exactly two values: kept and dropped
    for value in (0.0, 1.5):
        x = np.full(20_000, value, np.float64)
        t = np.unique(torch.nn.functional.alpha_dropout(torch.from_numpy(x), p, True).numpy())
        f = np.unique(F.alpha_dropout(x, p, True, generator=1).numpy())
        np.testing.assert_allclose(np.sort(f), np.sort(t), rtol=1e-12, atol=1e-12)


def test_feature_dropouts_drop_the_same_units_as_torch(torch):
    # dropout2d on 3-D input is channel-wise over (N, C), feature_alpha_dropout likewise
    x = np.ones((6, 7, 40), np.float32)
    for tf, ff in ((torch.nn.functional.dropout2d, F.dropout2d),
                   (torch.nn.functional.feature_alpha_dropout, F.feature_alpha_dropout)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # torch: "Received a 3D input to dropout2d"
            t = tf(torch.from_numpy(x), 0.5, True).numpy()
        f = ff(x, 0.5, True, generator=1).numpy()
        assert np.all(t == t[..., :1]) and np.all(f == f[..., :1])
        np.testing.assert_allclose(np.unique(f), np.unique(t), rtol=1e-6)


def test_dropout_gradient_matches_torch_for_the_same_mask(torch):
    x = np.random.default_rng(0).standard_normal((50, 20)).astype(np.float32)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    fx = fn.Tensor(x, requires_grad=True)
    y = F.dropout(fx, 0.3, generator=4)
    y.backward(g)
    # torch's dropout is x * noise / (1 - p); replay our mask as torch's noise
    keep = torch.from_numpy((y.numpy() != 0).astype(np.float32))
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = tx * keep.div_(1 - 0.3)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(fx.grad, tx.grad.numpy(), rtol=1e-6)


def test_calls_use_only_the_declared_kernel_signatures():
    # a stray Python int or float would make Numba compile (and cache) a new variant
    for dtype in (np.float32, np.float64):
        x = fn.Tensor(np.ones((3, 4, 5, 6), dtype), requires_grad=True)
        for call in (lambda t: F.dropout(t, 0.3), lambda t: F.alpha_dropout(t, 0.3, True),
                     lambda t: F.dropout2d(t, 0.3),
                     lambda t: F.feature_alpha_dropout(t, 0.3, True)):
            call(x).sum().backward()
    nb = K.engines()["numba"]
    for dtype in (np.float32, np.float64):
        x = np.ones((3, 4, 5, 6), dtype)
        out, mask = nb.dropout_fwd(x, K.mask_keys(1, 2), K.keep_threshold(0.3), 1.5)
        nb.dropout_bwd(x, mask, 1.5)
        nb.channel_apply(x, nb.dropout_mask(12, K.mask_keys(1, 2), K.keep_threshold(0.3)), 2.0)
    for k in (K._fwd, K._bwd, K._mask, K._chan):
        built = (k._ser.signatures if k._ser is not None else []) + \
            (k._par.signatures if k._par is not None else [])
        declared = {str(s) for s in k.signatures}
        for sig in built:
            text = "(" + ", ".join(str(t) for t in sig) + ")"
            assert any(_same_sig(text, d) for d in declared), (k.name, text)


def _same_sig(built, declared):
    import numba
    args = numba.core.sigutils._parse_signature_string(declared).args
    return built == "(" + ", ".join(str(t) for t in args) + ")"
