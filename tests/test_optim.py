"""fn.optim: kernels against their NumPy references, trajectories against torch.optim,
state dicts, dtypes, NaN handling, bad input, Keras defaults and LR schedulers."""
import itertools
import math

import numpy as np
import pytest

import fastnn as fn
from fastnn._kernels import optim as K
from fastnn._kernels import reference_optim as R
from fastnn.nn import Parameter

# --- every optimizer x flag combination --------------------------------------------

_WD = (0.0, 0.05)
_MAX = (False, True)


def _combos():
    out = []
    for mom, damp, nest, wd, mx in itertools.product((0.0, 0.9), (0.0, 0.2), _MAX, _WD, _MAX):
        if nest and (mom == 0 or damp != 0) or (mom == 0 and damp != 0):
            continue
        out.append(("SGD", dict(lr=0.05, momentum=mom, dampening=damp, nesterov=nest,
                                weight_decay=wd, maximize=mx)))
    for lrd, iav, wd, mx in itertools.product((0.0, 0.05), (0.0, 0.3), _WD, _MAX):
        out.append(("Adagrad", dict(lr=0.05, lr_decay=lrd, initial_accumulator_value=iav,
                                    weight_decay=wd, maximize=mx)))
    for cen, mom, wd, mx in itertools.product(_MAX, (0.0, 0.8), _WD, _MAX):
        out.append(("RMSprop", dict(lr=0.01, alpha=0.9, centered=cen, momentum=mom,
                                    weight_decay=wd, maximize=mx)))
    for cls, ams, wd, mx in itertools.product(("Adam", "AdamW"), _MAX, _WD, _MAX):
        out.append((cls, dict(lr=0.02, betas=(0.8, 0.95), amsgrad=ams, weight_decay=wd,
                              maximize=mx)))
    for wd, mx in itertools.product(_WD, _MAX):
        out.append(("Adamax", dict(lr=0.02, weight_decay=wd, maximize=mx)))
        out.append(("Adadelta", dict(lr=0.5, weight_decay=wd, maximize=mx)))
    return out


COMBOS = _combos()
COMBO_IDS = [f"{c}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for c, kw in COMBOS]


def _grad_of(x, target, weight):
    """A smooth, non-convex-ish loss gradient: the trajectories go somewhere."""
    return (2 * weight * (x - target) + 0.3 * np.cos(3 * x)).astype(x.dtype)


def _problem(dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(6, 5), (5,), (3, 2, 2)]
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    # Targets far away: sign-like optimizers (Adam, RMSprop) turn chaotic once they
    # oscillate around an optimum, where rounding differences grow without bound.
    targets = [(x + rng.choice([-1.0, 1.0], s) * rng.uniform(3, 5, s)).astype(dtype)
               for x, s in zip(init, shapes)]
    weights = [rng.uniform(0.2, 2.0, s).astype(dtype) for s in shapes]
    return init, targets, weights


def _run_fastnn(cls, kw, steps, dtype=np.float32, params=None, opt=None):
    init, targets, weights = _problem(dtype)
    ps = params or [Parameter(x.copy()) for x in init]
    opt = opt or getattr(fn.optim, cls)(ps, **kw)
    for _ in range(steps):
        for p, t, w in zip(ps, targets, weights):
            p.grad = _grad_of(p.data, t, w)
        opt.step()
    return ps, opt


# --- kernels against the NumPy references --------------------------------------

def _hyper(name, dtype, flags):
    f = flags
    if name == "sgd":
        return K.sgd_hyper(dtype, 0.05, f["mom"], f["damp"], f["wd"], f["nest"], f["max"],
                           f["first"])
    if name == "adagrad":
        return K.adagrad_hyper(dtype, 0.05, 0.1, f["wd"], 1e-10, 3, f["max"])
    if name == "rmsprop":
        return K.rmsprop_hyper(dtype, 0.01, 0.9, 1e-8, f["wd"], f["mom"], f["cen"], f["max"])
    if name == "adam":
        return K.adam_hyper(dtype, 0.01, 0.9, 0.999, 1e-8, f["wd"], 4, f["ams"], f["max"], f["dec"])
    if name == "adamax":
        return K.adamax_hyper(dtype, 0.01, 0.9, 0.999, 1e-8, f["wd"], 4, f["max"])
    return K.adadelta_hyper(dtype, 1.0, 0.9, 1e-6, f["wd"], f["max"])


def _kernel_cases():
    base = dict(mom=0.0, damp=0.0, wd=0.0, nest=False, max=False, first=False, cen=False,
                ams=False, dec=False)
    grid = {
        "sgd": [dict(mom=m, damp=d, nest=n, first=fi)
                for m, d, n, fi in itertools.product((0.0, 0.9), (0.0, 0.3), _MAX, _MAX)
                if not (n and (m == 0 or d != 0))],
        "adagrad": [{}],
        "rmsprop": [dict(cen=c, mom=m) for c, m in itertools.product(_MAX, (0.0, 0.9))],
        "adam": [dict(ams=a, dec=d) for a, d in itertools.product(_MAX, _MAX)],
        "adamax": [{}],
        "adadelta": [{}],
    }
    for name, variants in grid.items():
        for v, wd, mx in itertools.product(variants, _WD, _MAX):
            yield name, {**base, **v, "wd": wd, "max": mx}


KERNEL_CASES = list(_kernel_cases())


def _state_for(name, flags, n, dtype, rng):
    def pos():
        return rng.uniform(0.01, 2.0, n).astype(dtype)

    def any_():
        return rng.standard_normal(n).astype(dtype)
    e = K.empty(dtype)
    if name == "sgd":
        return [any_() if flags["mom"] else e]
    if name == "adagrad":
        return [pos()]
    if name == "rmsprop":
        sq = pos() + 3.0   # keeps the centered variance well away from 0
        return [sq, any_() * 0.2 if flags["cen"] else e, any_() if flags["mom"] else e]
    if name == "adam":
        return [any_(), pos(), pos() if flags["ams"] else e]
    return [any_(), pos()] if name == "adamax" else [pos(), pos()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 37, 70_001])   # 70_001 takes the parallel build
@pytest.mark.parametrize("name,flags", KERNEL_CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(KERNEL_CASES)])
def test_kernel_matches_reference(name, flags, n, dtype):
    rng = np.random.default_rng(n)
    p = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    state = _state_for(name, flags, n, dtype, rng)
    h = _hyper(name, dtype, flags)
    assert h.dtype == dtype
    expected = getattr(R, f"{name}_step")(p, g, *state, h)
    kernel = K.KERNELS[name][0]
    kernel(p, g, *state, h)
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    for got, want in zip([p, *state], expected):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, **tol)


# --- trajectories against torch.optim --------------------------------------------

@pytest.mark.parametrize("cls,kw", COMBOS, ids=COMBO_IDS)
def test_trajectory_matches_torch(cls, kw, torch):
    steps = 50
    ps, _ = _run_fastnn(cls, kw, steps)
    init, targets, weights = _problem()
    tps = [torch.nn.Parameter(torch.tensor(x.copy())) for x in init]
    topt = getattr(torch.optim, cls)(tps, foreach=False, **kw)
    for _ in range(steps):
        for p, t, w in zip(tps, targets, weights):
            p.grad = torch.from_numpy(_grad_of(p.detach().numpy(), t, w))
        topt.step()
    for p, tp in zip(ps, tps):
        assert p.data.dtype == np.float32
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("cls", ["SGD", "Adam", "RMSprop"])
def test_param_groups_with_own_hyperparameters_match_torch(cls, torch):
    init, targets, weights = _problem()
    ps = [Parameter(x.copy()) for x in init]
    extra = dict(momentum=0.5) if cls != "Adam" else {}
    opt = getattr(fn.optim, cls)([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.003}],
                                 lr=0.02, **extra)
    tps = [torch.nn.Parameter(torch.tensor(x.copy())) for x in init]
    topt = getattr(torch.optim, cls)([{"params": tps[:2]}, {"params": tps[2:], "lr": 0.003}],
                                     lr=0.02, **extra)
    for step in range(20):
        for i, (p, tp, t, w) in enumerate(zip(ps, tps, targets, weights)):
            if step % 3 == 1 and i == 1:   # a parameter without a gradient is skipped
                p.grad, tp.grad = None, None
                continue
            p.grad = _grad_of(p.data, t, w)
            tp.grad = torch.from_numpy(_grad_of(tp.detach().numpy(), t, w))
        opt.step()
        topt.step()
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("cls,kw", [c for c in COMBOS if not c[1].get("maximize")][::3])
def test_nan_and_inf_gradients_propagate_like_torch(cls, kw, torch):
    x = np.linspace(-1, 1, 8).astype(np.float32)
    g = np.full(8, 0.5, np.float32)
    g[2], g[5] = np.nan, np.inf
    p = Parameter(x.copy())
    opt = getattr(fn.optim, cls)([p], **kw)
    tp = torch.nn.Parameter(torch.tensor(x.copy()))
    topt = getattr(torch.optim, cls)([tp], foreach=False, **kw)
    for _ in range(3):
        p.grad = g.copy()
        tp.grad = torch.tensor(g.copy())
        opt.step()
        topt.step()
    want = tp.detach().numpy()
    assert np.isnan(p.data[2])
    np.testing.assert_array_equal(np.isnan(p.data), np.isnan(want))
    np.testing.assert_allclose(p.data, want, rtol=1e-4, atol=2e-5, equal_nan=True)


# --- state dicts, dtypes, books ----------------------------------------------------

_PLAIN = (np.ndarray, int, float, str, bool, type(None))


def _assert_plain(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert isinstance(k, (int, str))
            _assert_plain(v)
    elif isinstance(obj, list):
        for v in obj:
            _assert_plain(v)
    else:
        assert isinstance(obj, _PLAIN), type(obj)


@pytest.mark.parametrize("cls,kw", COMBOS[::2], ids=COMBO_IDS[::2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_state_dict_mid_run_resumes_bit_for_bit(cls, kw, dtype):
    ps, opt = _run_fastnn(cls, kw, 10, dtype)
    saved_params = [p.data.copy() for p in ps]
    sd = opt.state_dict()
    _assert_plain(sd)
    _run_fastnn(cls, kw, 15, dtype, params=ps, opt=opt)           # uninterrupted

    fresh = [Parameter(x) for x in saved_params]
    opt2 = getattr(fn.optim, cls)(fresh, **kw)
    opt2.load_state_dict(sd)
    _run_fastnn(cls, kw, 15, dtype, params=fresh, opt=opt2)       # resumed
    for a, b in zip(ps, fresh):
        np.testing.assert_array_equal(a.data, b.data)
    for k, v in opt.state_dict()["state"].items():
        for name, arr in v.items():
            np.testing.assert_array_equal(arr, opt2.state_dict()["state"][k][name])


def test_state_dict_is_a_copy_and_load_copies():
    ps, opt = _run_fastnn("Adam", dict(lr=0.01), 3)
    sd = opt.state_dict()
    before = sd["state"][0]["exp_avg"].copy()
    _run_fastnn("Adam", dict(lr=0.01), 2, params=ps, opt=opt)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], before)
    assert sd["state"][0]["step"] == 3
    assert sd["param_groups"][0]["params"] == [0, 1, 2]
    assert sd["param_groups"][0]["betas"] == [0.9, 0.999]
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)
    assert opt.state[ps[0]]["exp_avg"] is not sd["state"][0]["exp_avg"]


def test_load_state_dict_rejects_mismatched_groups_and_shapes():
    ps, opt = _run_fastnn("Adam", {}, 1)
    sd = opt.state_dict()
    other = fn.optim.Adam([Parameter(np.zeros(3, np.float32))])
    with pytest.raises(ValueError, match="1 parameters in the optimizer|3 parameters"):
        other.load_state_dict(sd)
    sd["state"][0]["exp_avg"] = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(sd)


@pytest.mark.parametrize("cls,kw", COMBOS[::5])
def test_float64_params_keep_float64_state(cls, kw):
    ps, opt = _run_fastnn(cls, kw, 3, np.float64)
    for p in ps:
        assert p.data.dtype == np.float64
        for name, v in opt.state[p].items():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float64, name
                assert v.shape == p.data.shape


def test_mixed_dtypes_in_one_group():
    p32 = Parameter(np.ones(4, np.float32))
    p64 = Parameter(np.ones(4, np.float64))
    opt = fn.optim.Adam([p32, p64], lr=0.1)
    p32.grad = np.ones(4, np.float32)
    p64.grad = np.ones(4, np.float32)   # a gradient of another dtype is cast
    opt.step()
    assert p32.data.dtype == np.float32 and p64.data.dtype == np.float64
    np.testing.assert_allclose(p32.data, 0.9, rtol=1e-6)
    np.testing.assert_allclose(p64.data, 0.9 + 1e-9, rtol=1e-12)   # eps 1e-8 shows in f64


def test_non_contiguous_parameter_is_updated_in_place():
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    p = Parameter(base.T)           # a transposed view
    opt = fn.optim.SGD([p], lr=0.5)
    p.grad = np.ones((4, 3), np.float32)
    expected = base.T - 0.5
    opt.step()
    np.testing.assert_array_equal(p.data, expected)
    np.testing.assert_array_equal(base, expected.T)   # the view's memory was updated


def test_step_skips_params_without_grad_and_closure_returns_loss():
    a, b = Parameter(np.ones(2, np.float32)), Parameter(np.ones(2, np.float32))
    opt = fn.optim.Adam([a, b], lr=0.1)
    a.grad = np.ones(2, np.float32)
    assert opt.step(lambda: 3.5) == 3.5
    assert b not in opt.state and opt.state[a]["step"] == 1
    np.testing.assert_array_equal(b.data, 1.0)


def test_zero_grad_and_add_param_group():
    a = Parameter(np.ones(2, np.float32))
    opt = fn.optim.SGD([a], lr=0.1)
    a.grad = np.ones(2, np.float32)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad, 0.0)
    opt.zero_grad()
    assert a.grad is None
    b = Parameter(np.ones(3, np.float32))
    opt.add_param_group({"params": [b], "lr": 1.0})
    assert opt.param_groups[1]["lr"] == 1.0 and opt.param_groups[1]["momentum"] == 0
    b.grad = np.ones(3, np.float32)
    opt.step()
    np.testing.assert_array_equal(b.data, 0.0)
    with pytest.raises(ValueError, match="given twice"):
        opt.add_param_group({"params": [a]})


# --- bad input ----------------------------------------------------------------------

def _p():
    return [Parameter(np.zeros(3, np.float32))]


BAD = [
    ("SGD", dict(lr=-0.1), r"lr must be .*, got -0\.1"),
    ("SGD", dict(lr=float("nan")), r"lr must be .*, got nan"),
    ("Adam", dict(lr=float("nan")), r"lr must be .*, got nan"),
    ("SGD", dict(momentum=-1.0), r"momentum must be .*, got -1\.0"),
    ("SGD", dict(weight_decay=-1e-3), r"weight_decay must be .*, got -0\.001"),
    ("SGD", dict(nesterov=True), r"nesterov=True.*momentum=0"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), r"dampening=0\.1"),
    ("Adam", dict(betas=(1.0, 0.999)), r"betas\[0\] must be .*, got 1\.0"),
    ("Adam", dict(betas=(0.9, -0.1)), r"betas\[1\] must be .*, got -0\.1"),
    ("AdamW", dict(betas=(0.9, 1.0)), r"betas\[1\] must be .*, got 1\.0"),
    ("Adamax", dict(betas=(float("nan"), 0.9)), r"betas\[0\] must be .*, got nan"),
    ("Adam", dict(eps=-1e-8), r"eps must be .*, got -1e-08"),
    ("Adam", dict(weight_decay=-0.5), r"weight_decay must be .*, got -0\.5"),
    ("AdamW", dict(lr=-1.0), r"lr must be .*, got -1\.0"),
    ("Adagrad", dict(eps=-1.0), r"eps must be .*, got -1\.0"),
    ("Adagrad", dict(lr_decay=-1.0), r"lr_decay must be .*, got -1\.0"),
    ("RMSprop", dict(alpha=-0.1), r"alpha must be .*, got -0\.1"),
    ("RMSprop", dict(eps=float("nan")), r"eps must be .*, got nan"),
    ("Adadelta", dict(rho=1.5), r"rho must be .*, got 1\.5"),
    ("Adadelta", dict(weight_decay=-2.0), r"weight_decay must be .*, got -2\.0"),
]


@pytest.mark.parametrize("cls,kw,match", BAD)
def test_bad_hyperparameters_raise_value_error_naming_them(cls, kw, match):
    with pytest.raises(ValueError, match=match) as e:
        getattr(fn.optim, cls)(_p(), **kw)
    assert cls in str(e.value)


@pytest.mark.parametrize("cls", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adamax",
                                 "Adadelta"])
def test_empty_or_repeated_params_raise(cls):
    with pytest.raises(ValueError, match=r"empty parameter list"):
        getattr(fn.optim, cls)([])
    p = Parameter(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="given twice"):
        getattr(fn.optim, cls)([p, p])
    with pytest.raises(ValueError, match="given twice"):
        getattr(fn.optim, cls)([{"params": [p]}, {"params": [p]}])


def test_bad_param_types_and_group_values():
    with pytest.raises(TypeError, match="single Parameter|wrap it in a list"):
        fn.optim.SGD(Parameter(np.zeros(2, np.float32)))
    with pytest.raises(TypeError, match="params\\[0\\] must be a Parameter"):
        fn.optim.SGD([np.zeros(2)])
    with pytest.raises(ValueError, match=r"lr must be .*, got -1"):
        fn.optim.Adam([{"params": _p(), "lr": -1}])
    p = Parameter(np.zeros(3, np.float32))
    opt = fn.optim.SGD([p], lr=0.1)
    p.grad = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"gradient of shape \(4,\)"):
        opt.step()


# --- Keras-style get() --------------------------------------------------------------

def test_get_builds_every_optimizer_with_keras_defaults():
    expect = {
        "sgd": ("SGD", dict(lr=0.01, momentum=0)),
        "momentum": ("SGD", dict(lr=0.01, momentum=0.9)),
        "adagrad": ("Adagrad", dict(lr=1e-3, initial_accumulator_value=0.1, eps=1e-7)),
        "rmsprop": ("RMSprop", dict(lr=1e-3, alpha=0.9, eps=1e-7, momentum=0, centered=False)),
        "adam": ("Adam", dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-7, amsgrad=False)),
        "adamw": ("AdamW", dict(lr=1e-3, weight_decay=0.004, eps=1e-7)),
        "adamax": ("Adamax", dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-7)),
        "adadelta": ("Adadelta", dict(lr=1e-3, rho=0.95, eps=1e-7)),
    }
    for name, (cls, values) in expect.items():
        for ident in (name, name.upper()):
            opt = fn.optim.get(ident, _p())
            assert type(opt).__name__ == cls
            for k, v in values.items():
                assert opt.param_groups[0][k] == v, (name, k)
        factory = fn.optim.get(name)
        assert type(factory(_p())).__name__ == cls


def test_get_overrides_classes_instances_and_errors():
    opt = fn.optim.get("adam", _p(), learning_rate=0.5, beta_1=0.8, epsilon=1e-3)
    assert opt.defaults["lr"] == 0.5 and opt.defaults["betas"] == (0.8, 0.999)
    assert opt.defaults["eps"] == 1e-3
    assert fn.optim.get("rmsprop", _p(), rho=0.5).defaults["alpha"] == 0.5
    assert fn.optim.get(fn.optim.Adam, _p()).defaults["eps"] == 1e-8   # class: torch's defaults
    assert fn.optim.get(opt) is opt
    with pytest.raises(ValueError, match="'nadam'.*'adadelta'"):
        fn.optim.get("nadam")
    with pytest.raises(TypeError, match="optimizer name"):
        fn.optim.get(3)
    with pytest.raises(ValueError, match=r"lr must be .*, got -1"):
        fn.optim.get("sgd", _p(), lr=-1)


def test_get_defaults_match_keras(keras):
    names = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam",
             "adamw": "AdamW", "adamax": "Adamax", "adadelta": "Adadelta"}
    for name, kname in names.items():
        cfg = getattr(keras.optimizers, kname)().get_config()
        group = fn.optim.get(name, _p()).param_groups[0]
        assert group["lr"] == pytest.approx(cfg["learning_rate"], rel=1e-6)
        if "epsilon" in cfg:
            assert group["eps"] == pytest.approx(cfg["epsilon"])
        if "beta_1" in cfg:
            assert group["betas"] == pytest.approx((cfg["beta_1"], cfg["beta_2"]))
        if "rho" in cfg:
            assert group["alpha" if name == "rmsprop" else "rho"] == pytest.approx(cfg["rho"])
        if name == "adagrad":
            assert group["initial_accumulator_value"] == cfg["initial_accumulator_value"]
        if name == "adamw":
            assert group["weight_decay"] == pytest.approx(cfg["weight_decay"])
        if name == "sgd":
            assert group["momentum"] == cfg["momentum"]


# --- schedulers ------------------------------------------------------------------

SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    ("CosineAnnealingLR", dict(T_max=4)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (1 + e))),
]


@pytest.mark.parametrize("name,kw", SCHEDULERS)
def test_schedulers_match_torch(name, kw, torch):
    opt = fn.optim.SGD([{"params": _p()}, {"params": _p(), "lr": 0.3}], lr=0.1)
    tparams = [torch.nn.Parameter(torch.zeros(3)) for _ in range(2)]
    topt = torch.optim.SGD([{"params": tparams[:1]}, {"params": tparams[1:], "lr": 0.3}], lr=0.1)
    s = getattr(fn.optim.lr_scheduler, name)(opt, **kw)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-13)
    for _ in range(25):
        opt.step()
        topt.step()
        s.step()
        ts.step()
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-15)
        assert [g["lr"] for g in opt.param_groups] == s.get_last_lr()


@pytest.mark.parametrize("kw", [dict(patience=2, factor=0.5),
                                dict(mode="max", patience=1, cooldown=2, min_lr=0.02),
                                dict(threshold_mode="abs", threshold=0.1, patience=0)])
def test_reduce_lr_on_plateau_matches_torch(kw, torch):
    opt = fn.optim.SGD(_p(), lr=0.1)
    topt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(3))], lr=0.1)
    s = fn.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.9, 0.9, 0.9, 0.9, 0.7, 0.7]
    for m in metrics:
        s.step(m)
        ts.step(m)
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-15)


def test_scheduler_state_dict_round_trip_and_errors():
    opt = fn.optim.SGD(_p(), lr=1.0)
    s = fn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(3):
        s.step()
    sd = s.state_dict()
    _assert_plain({k: v for k, v in sd.items()})
    s2 = fn.optim.lr_scheduler.CosineAnnealingLR(fn.optim.SGD(_p(), lr=1.0), T_max=10)
    s2.load_state_dict(sd)
    assert s2.last_epoch == 3 and s2.get_last_lr() == s.get_last_lr()
    with pytest.raises(ValueError, match="step_size must be a positive int, got 0"):
        fn.optim.lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="factor=1.5"):
        fn.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(TypeError, match="fastnn Optimizer"):
        fn.optim.lr_scheduler.StepLR(object(), step_size=1)
    assert math.isclose(s.get_last_lr()[0], 0.5 * (1 + math.cos(math.pi * 3 / 10)))


# --- many small parameters: the packed path --------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gather_and_scatter_params_kernels(dtype):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(n).astype(dtype) for n in (3, 1, 40_000, 7)]
    offsets = np.concatenate([[0], np.cumsum([a.size for a in arrays])]).astype(np.int64)
    addresses = np.array([K.address(a) for a in arrays], np.int64)
    flat = np.empty(offsets[-1], dtype)
    K.gather_params(addresses, offsets, flat)
    np.testing.assert_array_equal(flat, np.concatenate(arrays))
    K.scatter_params(flat * 2, addresses, offsets)
    np.testing.assert_array_equal(np.concatenate(arrays), flat * 2)


@pytest.mark.parametrize("cls,kw", [("Adam", dict(lr=0.01, amsgrad=True)),
                                    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5))])
def test_packed_small_params_step_like_one_at_a_time(cls, kw):
    rng = np.random.default_rng(2)
    init = [rng.standard_normal(s).astype(np.float32) for s in [(10, 3), (3,), (4, 5), (1,)]]
    grads = [[rng.standard_normal(x.shape).astype(np.float32) for x in init] for _ in range(5)]
    packed = [Parameter(x.copy()) for x in init]
    alone = [Parameter(x.copy()) for x in init]
    held = [p.data for p in packed]
    opt_p = getattr(fn.optim, cls)(packed, **kw)
    opt_a = getattr(fn.optim, cls)([{"params": [p]} for p in alone], **kw)  # one per group
    for gs in grads:
        for p, q, g in zip(packed, alone, gs):
            p.grad, q.grad = g.copy(), g.copy()
        opt_p.step()
        opt_a.step()
    assert opt_p._packs[id(opt_p.param_groups[0])]          # the packed path ran
    for p, q, h in zip(packed, alone, held):
        assert p.data is h                                     # arrays are never rebound
        np.testing.assert_allclose(p.data, q.data, rtol=1e-6, atol=1e-7)
        for k, v in opt_a.state[q].items():
            np.testing.assert_allclose(opt_p.state[p][k], v, rtol=1e-6, atol=1e-7)
    sd = opt_p.state_dict()
    assert all(isinstance(v, np.ndarray) and v.shape == packed[i].shape
               for i, st in sd["state"].items() for k, v in st.items() if k != "step")


def test_packed_params_follow_rebinding_and_lost_gradients():
    ps = [Parameter(np.ones(4, np.float32)) for _ in range(3)]
    opt = fn.optim.SGD(ps, lr=0.5)
    for p in ps:
        p.grad = np.ones(4, np.float32)
    opt.step()
    ps[1].data = np.full(4, 10.0, np.float32)     # the user rebinds an array
    opt.step()
    np.testing.assert_array_equal(ps[1].data, 9.5)
    np.testing.assert_array_equal(ps[0].data, 0.0)
    ps[2].grad = None                              # a member without a gradient
    opt.step()
    np.testing.assert_array_equal(ps[2].data, 0.0)
    np.testing.assert_array_equal(ps[0].data, -0.5)
