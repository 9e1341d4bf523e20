"""fn.optim, driven by tests/table_optim.py (one row per optimizer): kernels against
their NumPy references on every engine and thread count, trajectories against
torch.optim, state dicts, pickling, dtypes, NaN handling, bad input, Keras defaults,
LR schedulers and the packed small-parameter path.

A row without a kernel (an optimizer composed from NumPy) runs every test but those
of fused kernels: kernel vs reference, the ``h`` layout, the C binding, packing.
The case lists below take variants from every row, so that no row can drop out of
a test (test_every_optimizer_has_a_row_and_full_coverage checks it)."""
import math
import pickle

import numpy as np
import pytest

import fastnn as fn
from fastnn._kernels import optim as K
from fastnn._kernels import reference_optim as R
from fastnn._kernels import threads
from fastnn.nn import Parameter
from table_optim import (BY_NAME, KERNEL_OPTIMIZERS, KERNEL_VARIANT_IDS, KERNEL_VARIANTS,
                         OPTIMIZERS, VARIANTS, VARIANT_IDS)

COMBOS = [(info.name, kw) for info, kw in VARIANTS]
COMBO_IDS = VARIANT_IDS
NAMES = [info.name for info in OPTIMIZERS]
KERNEL_NAMES = [info.name for info in KERNEL_OPTIMIZERS]


def _every(n, keep=lambda kw: True):
    """Every n-th variant (that ``keep`` accepts) of every row, the first included:
    a sample of the variants in which each row appears."""
    return [(info.name, kw) for info in OPTIMIZERS
            for kw in [kw for kw in info.variants() if keep(kw)][::n]]


def _ids(cases):
    return [f"{name}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for name, kw in cases]


def _grad_of(x, target, weight):
    """A smooth, non-convex-ish loss gradient: the trajectories go somewhere."""
    return (2 * weight * (x - target) + 0.3 * np.cos(3 * x)).astype(x.dtype)


def _problem(dtype=np.float32, seed=0, shapes=((6, 5), (5,), (3, 2, 2))):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    # Targets far away: sign-like optimizers (Adam, RMSprop) turn chaotic once they
    # oscillate around an optimum, where rounding differences grow without bound.
    targets = [(x + rng.choice([-1.0, 1.0], s) * rng.uniform(3, 5, s)).astype(dtype)
               for x, s in zip(init, shapes)]
    weights = [rng.uniform(0.2, 2.0, s).astype(dtype) for s in shapes]
    return init, targets, weights


def _run_fastnn(cls, kw, steps, dtype=np.float32, params=None, opt=None, **problem):
    init, targets, weights = _problem(dtype, **problem)
    ps = params or [Parameter(x.copy()) for x in init]
    opt = opt or getattr(fn.optim, cls)(ps, **kw)
    for _ in range(steps):
        for p, t, w in zip(ps, targets, weights):
            p.grad = _grad_of(p.data, t, w)
        opt.step()
    return ps, opt


# --- kernels against the NumPy references, on every engine ---------------------------

ENGINES = sorted(K.engines())


def _kernel_call(info, kw, dtype, n, rng, fresh):
    """(parameter, gradient, state arrays, h) of one kernel call, built by the
    optimizer's own builder as a step builds it: ``fresh`` is a first step, else a
    fourth step from a random state."""
    opt = getattr(fn.optim, info.name)([Parameter(np.zeros(1, dtype))], **kw)
    group = opt.param_groups[0]
    x = rng.standard_normal(n).astype(dtype)
    st = opt._new_state(x, group)
    key = opt._advance(st, x, group)
    if not fresh:
        for name, v in st.items():
            if isinstance(v, np.ndarray):
                v[...] = (rng.uniform(1.0, 3.0, n) if name in info.positive
                          else 0.2 * rng.standard_normal(n))
        if "step" in st:
            st["step"] = 3
        key = opt._advance(st, x, group)
    h = opt._hyper(group, dtype, key)
    g = rng.standard_normal(n).astype(dtype)
    return x, g, opt._state_arrays(st, dtype), h


def _run_kernel(step, x, g, states, h):
    """Run a kernel on copies; returns (p, *state) after the call."""
    out = [x.copy()] + [s.copy() for s in states]
    step(out[0], g, *out[1:], h)
    return out


@pytest.mark.parametrize("info,kw", KERNEL_VARIANTS, ids=KERNEL_VARIANT_IDS)
def test_kernel_matches_reference_on_every_engine(info, kw):
    for dtype, n, fresh in [(d, n, f) for d in (np.float32, np.float64)
                            for n in (1, 37, 70_001) for f in (True, False)]:
        x, g, states, h = _kernel_call(info, kw, dtype, n, np.random.default_rng(n), fresh)
        assert h.dtype == dtype and h.size == len(K.KERNELS[info.kernel][0])
        expected = getattr(R, f"{info.kernel}_step")(x, g, *states, h)
        tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
        for engine in ENGINES:
            got = _run_kernel(K.engines()[engine][info.kernel], x, g, states, h)
            for a, b in zip(got, expected):
                assert a.dtype == dtype
                np.testing.assert_allclose(a, b, **tol, err_msg=f"{engine} {dtype} n={n}")


@pytest.mark.parametrize("info,kw", KERNEL_VARIANTS, ids=KERNEL_VARIANT_IDS)
def test_kernel_keeps_nan_and_inf_like_the_reference(info, kw):
    """Infinite and NaN parameters and gradients: no engine may fold them away (a
    flag switched off must not turn into a multiplication by zero)."""
    for dtype in (np.float32, np.float64):
        x, g, states, h = _kernel_call(info, kw, dtype, 64, np.random.default_rng(1), True)
        x[::7], x[3::7], x[5::11], g[2::9] = np.inf, -np.inf, np.nan, np.inf
        with np.errstate(all="ignore"):
            expected = getattr(R, f"{info.kernel}_step")(x, g, *states, h)
            for engine in ENGINES:
                got = _run_kernel(K.engines()[engine][info.kernel], x, g, states, h)
                for a, b in zip(got, expected):
                    np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=engine)
                    np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6, err_msg=engine)


N_PARALLEL = 2 * threads.NUMBA_SERIAL_BELOW + 7   # both engines go parallel


@pytest.mark.parametrize("info,kw", KERNEL_VARIANTS, ids=KERNEL_VARIANT_IDS)
def test_kernel_bits_do_not_depend_on_the_thread_count(info, kw, fastnn_threads):
    for dtype in (np.float32, np.float64):
        x, g, states, h = _kernel_call(info, kw, dtype, N_PARALLEL, np.random.default_rng(5),
                                       fresh=False)
        for engine in ENGINES:
            step = K.engines()[engine][info.kernel]
            runs = []
            for nt in (1, 2, 3):
                fastnn_threads(nt)
                runs.append(_run_kernel(step, x, g, states, h))
            for other in runs[1:]:
                for a, b in zip(runs[0], other):
                    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8),
                                                  err_msg=f"{engine} {dtype}")


@pytest.mark.parametrize("info,kw", KERNEL_VARIANTS, ids=KERNEL_VARIANT_IDS)
def test_many_tensor_call_is_bitwise_each_tensor_alone(info, kw, fastnn_threads):
    """``<name>_steps`` over tensors of many sizes (empty, one element, a block
    boundary, several blocks): bitwise the per-tensor ``<name>_step`` of each, on
    every engine and thread count."""
    sizes = (0, 1, 4095, 4096, 4097, 3, N_PARALLEL, 0, 12_289)
    for dtype in (np.float32, np.float64):
        calls = [_kernel_call(info, kw, dtype, n, np.random.default_rng(100 + i), fresh=False)
                 for i, n in enumerate(sizes)]
        h = calls[0][3]
        for engine in ENGINES:
            step = K.engines()[engine][info.kernel]
            expected = [_run_kernel(step, x, g, states, h) for x, g, states, _ in calls]
            many = K.engines(many=True)[engine][info.kernel]
            for nt in (1, 2, 3):
                fastnn_threads(nt)
                got = [[x.copy()] + [s.copy() for s in states] for x, _, states, _ in calls]
                many([(out[0], g, *out[1:]) for out, (_, g, _, _) in zip(got, calls)], h)
                for i, (a_run, b_run) in enumerate(zip(got, expected)):
                    for a, b in zip(a_run, b_run):
                        np.testing.assert_array_equal(
                            a.view(np.uint8), b.view(np.uint8),
                            err_msg=f"{engine} {dtype} {nt} threads, tensor {i} of {sizes[i]}")


def test_many_tensor_c_binding_refuses_bad_items():
    if "c" not in ENGINES:
        pytest.skip("the C extension is not in use")
    many = K.engines(many=True)["c"]["adam"]
    kw = dict(lr=0.1, amsgrad=False, weight_decay=0.0, maximize=False)
    x, g, (m, v, vmax), h = _kernel_call(BY_NAME["Adam"], kw, np.float32, 10,
                                         np.random.default_rng(0), False)
    ok = (x, g, m, v, vmax)
    with pytest.raises(TypeError, match="non-empty list"):
        many([], h)
    with pytest.raises(TypeError, match=r"items\[1\] must be a tuple \(p, g, exp_avg"):
        many([ok, (x, g, m)], h)
    with pytest.raises(ValueError, match=r"items\[1\] exp_avg_sq must hold 4 elements"):
        many([ok, (x[:4], g[:4], m[:4], v, vmax)], h)
    with pytest.raises(TypeError, match=r"share a dtype; items\[0\] p is float32, items\[1\] p "
                                        r"is float64"):
        many([ok, tuple(a.astype(np.float64) for a in ok)], h)
    with pytest.raises(ValueError, match=r"items\[0\] p must be writeable"):
        ro = x.copy()
        ro.flags.writeable = False
        many([(ro, g, m, v, vmax)], h)


@pytest.mark.parametrize("info", OPTIMIZERS, ids=NAMES)
def test_steps_do_not_depend_on_the_thread_count(info, fastnn_threads):
    """A few steps through the public API, on a parameter large enough for the
    kernels to go parallel and on small (packed) ones: the same bits for 1, 2 and 3
    threads, whether the step is a fused kernel or composed from NumPy."""
    kw = info.variants()[-1]
    shapes = ((N_PARALLEL,), (6, 5), (5,))
    runs = []
    for nt in (1, 2, 3):
        fastnn_threads(nt)
        ps, opt = _run_fastnn(info.name, kw, 3, shapes=shapes)
        runs.append([p.data for p in ps] + [v for p in ps for v in opt.state[p].values()
                                            if isinstance(v, np.ndarray)])
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


@pytest.mark.parametrize("info", KERNEL_OPTIMIZERS, ids=KERNEL_NAMES)
def test_hyper_layout_is_built_and_read_by_name(info):
    layout, states = K.KERNELS[info.kernel]
    for kw in info.variants():
        opt = getattr(fn.optim, info.name)([Parameter(np.zeros(2))], **kw)
        group, x = opt.param_groups[0], np.zeros(2)
        h = opt._hyper(group, np.float64, opt._advance(opt._new_state(x, group), x, group))
        assert h.shape == (len(layout),)
        assert h[layout.sign] == (-1.0 if kw["maximize"] else 1.0)
        assert h[layout.weight_decay] == kw["weight_decay"]
    with pytest.raises(TypeError, match=r"missing \['sign'\]"):
        layout.pack(np.float32, **{f: 0.0 for f in layout._fields if f != "sign"})
    with pytest.raises(TypeError, match=r"unexpected \['bogus'\]"):
        layout.pack(np.float32, bogus=1.0, **{f: 0.0 for f in layout._fields})


def test_c_binding_refuses_bad_arrays():
    if "c" not in ENGINES:
        pytest.skip("the C extension is not in use")
    step = K.engines()["c"]["adam"]
    x, g, (m, v, vmax), h = _kernel_call(BY_NAME["Adam"], dict(lr=0.1, amsgrad=True,
                                                           weight_decay=0.0, maximize=False),
                                         np.float32, 10, np.random.default_rng(0), False)
    with pytest.raises(ValueError, match="max_exp_avg_sq must hold 10 elements"):
        step(x, g, m, v, K.empty(np.float32), h)          # amsgrad needs it
    with pytest.raises(TypeError, match="exp_avg must be a C-contiguous float32 array .*float64"):
        step(x, g, m.astype(np.float64), v, vmax, h)
    with pytest.raises(ValueError, match=r"g must hold 10 elements, got shape \(5,\)"):
        step(x, g[:5], m, v, vmax, h)
    with pytest.raises(TypeError, match="C-contiguous=False"):
        step(x, g, np.repeat(m, 2)[::2], v, vmax, h)
    with pytest.raises(TypeError, match="native byte order, got an array of dtype >f4"):
        step(x, g.astype(">f4"), m, v, vmax, h)
    with pytest.raises(ValueError, match="h must hold 11 elements"):
        step(x, g, m, v, vmax, h[:3])
    with pytest.raises(TypeError, match="float32 or float64 array .*dtype float16"):
        step(x.astype(np.float16), g, m, v, vmax, h)


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


GROUP_CASES = ["SGD", "Adam", "RMSprop"] + [info.name for info in OPTIMIZERS
                                           if info.kernel is None]


@pytest.mark.parametrize("cls", GROUP_CASES)
def test_param_groups_with_own_hyperparameters_match_torch(cls, torch):
    init, targets, weights = _problem()
    ps = [Parameter(x.copy()) for x in init]
    extra = dict(momentum=0.5) if cls in ("SGD", "RMSprop") else {}
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


NAN_CASES = _every(3, keep=lambda kw: not kw.get("maximize"))


@pytest.mark.parametrize("cls,kw", NAN_CASES, ids=_ids(NAN_CASES))
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


STATE_DICT_CASES = _every(2)


@pytest.mark.parametrize("cls,kw", STATE_DICT_CASES, ids=_ids(STATE_DICT_CASES))
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


FLOAT64_CASES = _every(5)


@pytest.mark.parametrize("cls,kw", FLOAT64_CASES, ids=_ids(FLOAT64_CASES))
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


@pytest.mark.parametrize("info", OPTIMIZERS, ids=NAMES)
def test_non_contiguous_parameter_steps_like_a_contiguous_one(info):
    kw = info.variants()[-1]
    base = np.random.default_rng(3).standard_normal((5, 7)).astype(np.float32)
    p, q = Parameter(base.T), Parameter(np.ascontiguousarray(base.T))
    opt_p = getattr(fn.optim, info.name)([p], **kw)
    opt_q = getattr(fn.optim, info.name)([q], **kw)
    for i in range(4):
        g = np.random.default_rng(i).standard_normal((7, 5)).astype(np.float32)
        p.grad, q.grad = g.copy(), g.copy()
        opt_p.step()
        opt_q.step()
    np.testing.assert_array_equal(p.data, q.data)
    np.testing.assert_array_equal(base.T, q.data)           # the user's memory was updated
    for k, v in opt_q.state[q].items():
        np.testing.assert_array_equal(opt_p.state[p][k], v)


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


BAD = [(info.name, kw, match) for info in OPTIMIZERS for kw, match in info.bad]


@pytest.mark.parametrize("cls,kw,match", BAD)
def test_bad_hyperparameters_raise_value_error_naming_them(cls, kw, match):
    with pytest.raises(ValueError, match=match) as e:
        getattr(fn.optim, cls)(_p(), **kw)
    assert cls in str(e.value)


@pytest.mark.parametrize("cls", NAMES)
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


@pytest.mark.parametrize("cls,flag,kw", [("Adam", "amsgrad", dict(amsgrad=True)),
                                         ("RMSprop", "centered", dict(centered=True)),
                                         ("RMSprop", "momentum", dict(momentum=0.5)),
                                         ("SGD", "momentum", dict(momentum=0.5))])
def test_flags_switched_mid_run_step_like_torch(cls, flag, kw, torch):
    """A flag turned on between steps starts its state at zero; turned off, its state
    is left alone (torch's single-tensor code does the same where it does not fail)."""
    init, targets, weights = _problem()
    ps = [Parameter(x.copy()) for x in init]
    opt = getattr(fn.optim, cls)(ps, lr=0.01)
    for _ in range(3):
        for p, t, w in zip(ps, targets, weights):
            p.grad = _grad_of(p.data, t, w)
        opt.step()
    opt.param_groups[0].update(kw)
    for _ in range(2):
        for p, t, w in zip(ps, targets, weights):
            p.grad = _grad_of(p.data, t, w)
        opt.step()
    assert all(np.isfinite(p.data).all() for p in ps)
    opt.param_groups[0][flag] = 0.0 if flag == "momentum" else False
    before = [p.data.copy() for p in ps]
    for p, t, w in zip(ps, targets, weights):
        p.grad = _grad_of(p.data, t, w)
    opt.step()
    assert any((p.data != b).any() for p, b in zip(ps, before))


SWITCH_CASES = [info for info in OPTIMIZERS if info.switch]


@pytest.mark.parametrize("info", SWITCH_CASES, ids=[info.name for info in SWITCH_CASES])
def test_group_values_changed_mid_run_step_like_torch(info, torch):
    """Hyper-parameters and flags set in ``param_groups`` between steps (the row's
    ``switch``, in turn) take effect at the next step, as in torch."""
    kw = info.variants()[0]
    init, targets, weights = _problem()
    ps = [Parameter(x.copy()) for x in init]
    tps = [torch.nn.Parameter(torch.tensor(x.copy())) for x in init]
    opt = getattr(fn.optim, info.name)(ps, **kw)
    topt = getattr(torch.optim, info.name)(tps, foreach=False, **kw)
    for change in ({},) + info.switch:
        opt.param_groups[0].update(change)
        topt.param_groups[0].update(change)
        for _ in range(2):
            for p, tp, t, w in zip(ps, tps, targets, weights):
                p.grad = _grad_of(p.data, t, w)
                tp.grad = torch.from_numpy(_grad_of(tp.detach().numpy(), t, w))
            opt.step()
            topt.step()
        for p, tp in zip(ps, tps):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-4, atol=2e-5,
                                       err_msg=str(change))


@pytest.mark.parametrize("info", OPTIMIZERS, ids=NAMES)
def test_closure_zero_grad_added_group_and_scheduler_step_like_torch(info, torch):
    """The books around the math: a closure (its loss returned), gradients cleared
    to None (that parameter skipped), a group added mid-run with its own lr, and a
    scheduler changing ``group['lr']``: the same trajectory as torch's."""
    kw = info.variants()[0]
    init, targets, weights = _problem()
    ps = [Parameter(x.copy()) for x in init]
    tps = [torch.nn.Parameter(torch.tensor(x.copy())) for x in init]
    opt = getattr(fn.optim, info.name)(ps[:2], **kw)
    topt = getattr(torch.optim, info.name)(tps[:2], foreach=False, **kw)
    sched = tsched = None
    for step in range(8):
        if step == 3:
            opt.add_param_group({"params": [ps[2]], "lr": kw["lr"] / 2})
            topt.add_param_group({"params": [tps[2]], "lr": kw["lr"] / 2})
            sched = fn.optim.lr_scheduler.ExponentialLR(opt, gamma=0.7)
            tsched = torch.optim.lr_scheduler.ExponentialLR(topt, gamma=0.7)

        def closure():
            opt.zero_grad()
            for i, (p, t, w) in enumerate(zip(ps, targets, weights)):
                if not (step == 5 and i == 0):
                    p.grad = _grad_of(p.data, t, w)
            return float(step)

        def tclosure():
            topt.zero_grad()
            for i, (p, t, w) in enumerate(zip(tps, targets, weights)):
                if not (step == 5 and i == 0):
                    p.grad = torch.from_numpy(_grad_of(p.detach().numpy(), t, w))
            return float(step)

        assert opt.step(closure) == float(step)
        topt.step(tclosure)
        if sched is not None:
            sched.step()
            tsched.step()
            assert [g["lr"] for g in opt.param_groups] == \
                pytest.approx([g["lr"] for g in topt.param_groups], rel=1e-12)
    assert ps[2] in opt.state
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("info", OPTIMIZERS, ids=NAMES)
def test_step_leaves_the_gradient_alone(info):
    """torch never writes into ``p.grad`` (maximize and weight decay make new
    tensors); neither may a kernel nor a composed step."""
    for kw in info.variants():
        ps = [Parameter(np.linspace(-1, 1, n, dtype=np.float32)) for n in (7, 40_000)]
        opt = getattr(fn.optim, info.name)(ps, **kw)
        grads = [np.cos(np.arange(p.data.size, dtype=np.float32)) for p in ps]
        for _ in range(2):
            for p, g in zip(ps, grads):
                p.grad = g
            opt.step()
        for g in grads:
            np.testing.assert_array_equal(g, np.cos(np.arange(g.size, dtype=np.float32)))


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
    # Keras's Nadam is not torch's NAdam (its momentum schedule is 0.96^t, torch's
    # 0.96^(0.004 t)): no Keras name maps to it
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

@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pack_plan_gathers_and_scatters_on_every_engine(engine, dtype):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(n).astype(dtype) for n in (3, 1, 40_000, 7)]
    plan = K.PackPlan(arrays, engine=engine)
    flat = np.empty(plan.size, dtype)
    plan.gather(flat)
    np.testing.assert_array_equal(flat, np.concatenate(arrays))
    plan.scatter(flat * 2)
    np.testing.assert_array_equal(np.concatenate(arrays), flat * 2)
    with pytest.raises(TypeError, match="process-local"):
        pickle.dumps(plan)


def test_c_pack_copies_refuse_bad_arrays():
    if "c" not in ENGINES:
        pytest.skip("the C extension is not in use")
    from fastnn._kernels import _coptim
    a, b = np.zeros(3, np.float32), np.zeros(2, np.float32)
    off = np.array([0, 3, 5], np.int64)
    flat = np.empty(5, np.float32)
    with pytest.raises(ValueError, match=r"arrays\[1\] must hold 2 elements"):
        _coptim.gather([a, np.zeros(4, np.float32)], off, flat, 1)
    with pytest.raises(TypeError, match=r"arrays\[0\] must be a C-contiguous float32 .*float64"):
        _coptim.scatter(flat, [a.astype(np.float64), b], off, 1)
    with pytest.raises(ValueError, match="offsets must run from 0 to flat's size 5"):
        _coptim.gather([a, b], np.array([0, 3, 6], np.int64), flat, 1)
    with pytest.raises(ValueError, match=r"arrays\[1\] must be writeable"):
        ro = b.copy()
        ro.flags.writeable = False
        _coptim.scatter(flat, [a, ro], off, 1)


@pytest.mark.parametrize("info", KERNEL_OPTIMIZERS, ids=KERNEL_NAMES)
def test_packed_small_params_step_like_one_at_a_time(info):
    kw = info.variants()[-1]
    rng = np.random.default_rng(2)
    init = [rng.standard_normal(s).astype(np.float32) for s in [(10, 3), (3,), (4, 5), (1,)]]
    grads = [[rng.standard_normal(x.shape).astype(np.float32) for x in init] for _ in range(5)]
    packed = [Parameter(x.copy()) for x in init]
    alone = [Parameter(x.copy()) for x in init]
    held = [p.data for p in packed]
    opt_p = getattr(fn.optim, info.name)(packed, **kw)
    opt_a = getattr(fn.optim, info.name)([{"params": [p]} for p in alone], **kw)  # one per group
    for gs in grads:
        for p, q, g in zip(packed, alone, gs):
            p.grad, q.grad = g.copy(), g.copy()
        opt_p.step()
        opt_a.step()
    assert opt_p._packs[0]                                     # the packed path ran
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


@pytest.mark.parametrize("cls", ["SGD", "Adam"])
def test_replacing_a_parameter_in_param_groups_steps_the_new_one(cls):
    """The pack cache is keyed by the parameters themselves: a tensor replaced in
    ``param_groups`` is stepped from then on, and the one it replaced is left alone."""
    ps = [Parameter(np.ones(4, np.float32)) for _ in range(3)]
    opt = getattr(fn.optim, cls)(ps, lr=0.5)
    for _ in range(2):
        for p in ps:
            p.grad = np.ones(4, np.float32)
        opt.step()
    assert opt._packs[0]
    old, new = ps[1], Parameter(np.full(4, 7.0, np.float32))
    opt.param_groups[0]["params"][1] = new
    before_old = old.data.copy()
    for p in (ps[0], new, ps[2]):
        p.grad = np.ones(4, np.float32)
    opt.step()
    np.testing.assert_array_equal(old.data, before_old)           # no longer stepped
    assert (new.data < 7.0).all()                                  # stepped
    assert new in opt.state
    ref = getattr(fn.optim, cls)([Parameter(np.full(4, 7.0, np.float32))], lr=0.5)
    ref.param_groups[0]["params"][0].grad = np.ones(4, np.float32)
    ref.step()
    np.testing.assert_array_equal(new.data, ref.param_groups[0]["params"][0].data)


# --- pickling: process-local caches stay behind ---------------------------------------

def _pickle_problem(cls, kw):
    shapes = ((6, 5), (5,), (3, 2, 2), (300, 1000))      # three packed, one large
    init, targets, weights = _problem(np.float32, shapes=shapes)
    ps = [Parameter(x.copy()) for x in init]
    opt = getattr(fn.optim, cls)(ps, **kw)
    return ps, opt, targets, weights


def _steps(ps, opt, targets, weights, n):
    for _ in range(n):
        for p, t, w in zip(ps, targets, weights):
            p.grad = _grad_of(p.data, t, w)
        opt.step()


PICKLE_CASES = [(info.name, info.variants()[-1]) for info in OPTIMIZERS]


@pytest.mark.parametrize("cls,kw", PICKLE_CASES, ids=NAMES)
def test_pickled_optimizer_steps_bitwise_like_the_original_and_leaves_it_alone(cls, kw, tmp_path,
                                                                               run_python):
    ps, opt, targets, weights = _pickle_problem(cls, kw)
    _steps(ps, opt, targets, weights, 3)
    if BY_NAME[cls].kernel is not None:
        assert opt._packs[0]                    # a pack (with its plan) exists now
    blob = pickle.dumps((ps, opt))

    # the copy in this process: stepping it must not touch the original
    ps2, opt2 = pickle.loads(blob)
    assert opt2._packs == {} and opt2.param_groups[0]["params"][0] is ps2[0]
    snapshot = [p.data.copy() for p in ps]
    _steps(ps2, opt2, targets, weights, 3)
    for p, s in zip(ps, snapshot):
        np.testing.assert_array_equal(p.data, s)

    # a copy in a fresh process
    (tmp_path / "opt.pkl").write_bytes(blob)
    np.savez(tmp_path / "problem.npz", *targets, *weights)
    run_python(f"""
        import pickle, numpy as np
        ps, opt = pickle.loads(open({str(tmp_path / 'opt.pkl')!r}, 'rb').read())
        z = np.load({str(tmp_path / 'problem.npz')!r})
        arrs = [z[f'arr_{{i}}'] for i in range(len(z.files))]
        targets, weights = arrs[:len(ps)], arrs[len(ps):]
        for _ in range(3):
            for p, t, w in zip(ps, targets, weights):
                p.grad = (2 * w * (p.data - t) + 0.3 * np.cos(3 * p.data)).astype(p.data.dtype)
            opt.step()
        np.savez({str(tmp_path / 'child.npz')!r}, *[p.data for p in ps])
    """, timeout=240)
    _steps(ps, opt, targets, weights, 3)
    child = np.load(tmp_path / "child.npz")
    for i, (p, q) in enumerate(zip(ps, ps2)):
        np.testing.assert_array_equal(p.data, q.data)
        np.testing.assert_array_equal(p.data, child[f"arr_{i}"])


# --- the composed path of the base class, on its own ------------------------------------

class _PlainSGD(fn.optim.Optimizer):
    """SGD without momentum, composed from NumPy (no kernel)."""

    def __init__(self, params, lr=0.1, weight_decay=0.0, *, maximize=False):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, maximize=maximize))

    def _step_param(self, x, g, st, group):
        g = self._weight_decay(x, g, group)
        x -= float(group["lr"]) * g


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.05, weight_decay=0.2, maximize=True)])
def test_composed_step_runs_on_each_parameter_like_the_kernel(kw):
    """Without ``_kernel`` the base runs ``_step_param`` on each parameter's own array:
    maximize applied, parameters without a gradient skipped, float64 and
    non-contiguous parameters updated in place, the step counted, nothing packed."""
    rng = np.random.default_rng(0)
    base = rng.standard_normal((5, 7)).astype(np.float32)
    arrays = [rng.standard_normal(3).astype(np.float32), base.T,
              rng.standard_normal(4), rng.standard_normal(6).astype(np.float32)]
    ps = [Parameter(a) for a in arrays]
    qs = [Parameter(np.array(a)) for a in arrays]
    opt, ref = _PlainSGD(ps, **kw), fn.optim.SGD(qs, **kw)
    for step in range(3):
        for i, (p, q) in enumerate(zip(ps, qs)):
            g = None if i == 3 else rng.standard_normal(p.shape).astype(p.data.dtype)
            p.grad, q.grad = g, None if g is None else g.copy()
        opt.step()
        ref.step()
    assert opt._packs == {} and ps[3] not in opt.state
    assert [opt.state[p]["step"] for p in ps[:3]] == [3, 3, 3]
    assert ps[1].data.base is base and ps[2].data.dtype == np.float64
    for p, q in zip(ps, qs):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(base.T, ps[1].data)        # the user's memory was updated


def test_composed_step_gets_a_read_only_gradient_and_needs_a_step():
    class Scribbler(_PlainSGD):
        def _step_param(self, x, g, st, group):
            g *= 2                  # would change the user's p.grad

    p = Parameter(np.ones(3, np.float32))
    p.grad = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="read-only"):
        Scribbler([p]).step()
    np.testing.assert_array_equal(p.grad, 1.0)

    class Nothing(fn.optim.Optimizer):
        pass

    with pytest.raises(NotImplementedError, match="Nothing names no fused kernel"):
        Nothing([p], {}).step()


# --- the table covers every optimizer, and every row every test that applies ------------

def test_every_optimizer_has_a_row_and_full_coverage():
    """Each optimizer class in ``fn.optim.__all__`` has a row naming its kernel (None:
    composed from NumPy), and each row reaches every table-driven test that applies
    to it: all its variants against torch's trajectories, and a share of the NaN,
    state dict, float64, param group, mid-run, pickling and bad-argument cases. A
    kernel-free row is left out of the kernel tests only."""
    classes = {n for n in fn.optim.__all__ if isinstance(getattr(fn.optim, n), type)
               and issubclass(getattr(fn.optim, n), fn.optim.Optimizer)} - {"Optimizer"}
    assert sorted(classes - set(BY_NAME)) == [], "optimizers without a row in table_optim.py"
    assert sorted(set(BY_NAME) - classes) == [], "rows without an optimizer in fn.optim"
    trajectories = {(name, tuple(sorted(kw.items(), key=str))) for name, kw in COMBOS}
    kernel_rows = {info.name for info, _ in KERNEL_VARIANTS} | set(KERNEL_NAMES)
    for info in OPTIMIZERS:
        cls = getattr(fn.optim, info.name)
        assert cls._kernel == info.kernel, (info.name, cls._kernel, info.kernel)
        if info.kernel is None:
            assert cls._step_param is not fn.optim.Optimizer._step_param, info.name
            assert info.name not in kernel_rows, info.name
        else:
            assert info.kernel in K.KERNELS, info.name
        variants = info.variants()
        assert variants, f"{info.name}: no valid variant, so no trajectory against torch"
        for flag, values in info.flags.items():
            for value in values:
                assert any(kw[flag] == value for kw in variants), (info.name, flag, value)
        for kw in variants:
            assert (info.name, tuple(sorted(kw.items(), key=str))) in trajectories
        for cases in (NAN_CASES, STATE_DICT_CASES, FLOAT64_CASES, PICKLE_CASES):
            assert info.name in {name for name, _ in cases}, info.name
        assert info.name in {name for name, _, _ in BAD}, f"{info.name}: no bad argument"
        if info.kernel is None:
            assert info.name in GROUP_CASES and info in SWITCH_CASES, info.name


# --- concurrent Python threads -------------------------------------------------------

_CONCURRENT = """
    import threading
    import numpy as np
    import fastnn as fn
    from fastnn._kernels import threads
    from fastnn.nn import Parameter

    CASES = {cases!r}
    N = {n}
    rng = np.random.default_rng(0)
    init = rng.standard_normal(N).astype(np.float32)
    target = (init + rng.uniform(3, 5, N)).astype(np.float32)

    def train(cls, kw, steps=6):
        p = Parameter(init.copy())
        opt = getattr(fn.optim, cls)([p], **kw)
        for _ in range(steps):
            p.grad = (2 * (p.data - target) + 0.3 * np.cos(3 * p.data)).astype(np.float32)
            opt.step()
        return p.data

    for cls, kw in CASES:
        want = {{}}
        for nt in (1, 2, 3):
            threads.set_num_threads(nt)
            want[nt] = train(cls, kw)
        assert (want[1] == want[2]).all() and (want[1] == want[3]).all(), (cls, "thread count")
        threads.set_num_threads(2)
        got = [None] * 8

        def work(i):
            got[i] = train(cls, kw)

        ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        same = sum(bool((g == want[1]).all()) for g in got)
        assert same == 8, (cls, kw, f"{{same}}/8 concurrent runs equal the serial run")

    # whole models: the headline MLP (Linear, ReLU, Dropout with its own generator,
    # cross-entropy), each trained by its own thread with Adam or AdamW
    import fastnn.functional as F
    from fastnn import workloads as W
    x, y = W.make_teacher_data(512)

    def make(cls):
        model = W.mlp_fastnn(seed=0)        # seeds the global generator: built serially
        for m in model.modules():
            if isinstance(m, fn.nn.Dropout):
                m.generator = fn.Generator(5)
        return model, getattr(fn.optim, cls)(model.parameters(), lr=1e-3)

    def fit(model, opt):
        model.train()
        for i in range(4):
            opt.zero_grad()
            F.cross_entropy(model(x[i * 128:(i + 1) * 128]), y[i * 128:(i + 1) * 128]).backward()
            opt.step()
        return [p.data.copy() for p in model.parameters()]

    for cls in ("Adam", "AdamW"):
        want = fit(*make(cls))
        runs = [make(cls) for _ in range(8)]
        got = [None] * 8

        def work(i):
            got[i] = fit(*runs[i])

        ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        same = sum(all((a == b).all() for a, b in zip(g, want)) for g in got)
        assert same == 8, (cls, f"{{same}}/8 concurrent MLP runs equal the serial run")
    print("ok")
"""


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["c", "numba"])
def test_concurrent_threads_train_bitwise_like_serial_runs(engine, run_python):
    """Every optimizer (Adam and AdamW included) gives the same bits with 1, 2 and 3
    threads, and 8 Python threads each training its own parameter (then its own MLP
    with Adam/AdamW) match the serial run: a thread that finds the parallel pool busy
    may not round differently."""
    cases = [(info.name, info.variants()[-1]) for info in OPTIMIZERS]
    code = _CONCURRENT.format(cases=cases, n=2 * threads.NUMBA_SERIAL_BELOW + 7)
    out = run_python(code, env={"FASTNN_ENGINE": engine}, timeout=600)
    assert out.stdout.split() == ["ok"]


# --- cold start: the C engine compiles nothing ------------------------------------------

def test_training_steps_on_the_c_engine_never_import_numba(run_python):
    """The headline MLP (Linear, ReLU, Dropout, cross-entropy, Adam) and a small CNN
    (conv, PReLU, max pooling, channel dropout, AdamW) train on C kernels alone: the
    first step in a fresh process loads no Numba, so it compiles nothing."""
    out = run_python("""
        import sys
        import numpy as np
        import fastnn as fn
        import fastnn.functional as F
        from fastnn import workloads as W
        x, y = W.make_teacher_data(64, 20, 3)
        model = W.mlp_fastnn(features=20, classes=3)
        opt = fn.optim.Adam(model.parameters())
        for _ in range(2):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        nn = fn.nn
        cnn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.PReLU(), nn.MaxPool2d(2), nn.Dropout2d(0.25),
                            nn.Flatten(), nn.Linear(36, 3))
        xi = np.random.default_rng(0).standard_normal((8, 1, 8, 8)).astype(np.float32)
        opt = fn.optim.AdamW(cnn.parameters())
        for _ in range(2):
            opt.zero_grad()
            F.cross_entropy(cnn(xi), y[:8]).backward()
            opt.step()
        print("numba" in sys.modules)
    """, env={"FASTNN_ENGINE": "c"}, timeout=120)
    assert out.stdout.split() == ["False"]
