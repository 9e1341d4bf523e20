"""LinearLR, ConstantLR, PolynomialLR and OneCycleLR against torch's, step by step
(learning rates and the momentum / beta1 that OneCycleLR cycles)."""
import numpy as np
import pytest

import fastnn as fn


def _p():
    return [fn.nn.Parameter(np.zeros(3, np.float32))]


SCHEDULERS = [
    ("ConstantLR", {}),
    ("ConstantLR", dict(factor=0.5, total_iters=3)),
    ("LinearLR", {}),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=7)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.2, total_iters=4)),
    ("PolynomialLR", {}),
    ("PolynomialLR", dict(total_iters=8, power=2.0)),
    ("PolynomialLR", dict(total_iters=3, power=0.5)),
]


def _pair(torch, opt_name="SGD", **okw):
    opt = getattr(fn.optim, opt_name)([{"params": _p()}, {"params": _p(), "lr": 0.3}], lr=0.1, **okw)
    tparams = [torch.nn.Parameter(torch.zeros(3)) for _ in range(2)]
    topt = getattr(torch.optim, opt_name)([{"params": tparams[:1]}, {"params": tparams[1:], "lr": 0.3}],
                                          lr=0.1, **okw)
    return opt, topt


@pytest.mark.parametrize("name,kw", SCHEDULERS, ids=lambda v: str(v))
def test_schedulers_match_torch(name, kw, torch):
    opt, topt = _pair(torch)
    s = getattr(fn.optim.lr_scheduler, name)(opt, **kw)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-13)
    for _ in range(12):
        opt.step()
        topt.step()
        s.step()
        ts.step()
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-15)
        assert [g["lr"] for g in opt.param_groups] == s.get_last_lr()


ONECYCLE = [
    ("SGD", dict(momentum=0.9), dict(max_lr=1.0, total_steps=20)),
    ("SGD", dict(momentum=0.9), dict(max_lr=[0.5, 2.0], epochs=3, steps_per_epoch=7,
                                     anneal_strategy="linear")),
    ("SGD", dict(momentum=0.9), dict(max_lr=0.4, total_steps=25, three_phase=True, pct_start=0.2,
                                     div_factor=10.0, final_div_factor=100.0)),
    ("Adam", {}, dict(max_lr=0.01, total_steps=15, base_momentum=0.8, max_momentum=0.9)),
    ("SGD", {}, dict(max_lr=0.1, total_steps=10, cycle_momentum=False)),
]


@pytest.mark.parametrize("opt_name,okw,kw", ONECYCLE, ids=lambda v: str(v))
def test_one_cycle_matches_torch(opt_name, okw, kw, torch):
    opt, topt = _pair(torch, opt_name, **okw)
    s = fn.optim.lr_scheduler.OneCycleLR(opt, **kw)
    ts = torch.optim.lr_scheduler.OneCycleLR(topt, **kw)
    total = kw.get("total_steps") or kw["epochs"] * kw["steps_per_epoch"]
    for step in range(total):
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-15), step
        for g, tg in zip(opt.param_groups, topt.param_groups):
            for key in ("momentum", "betas"):
                if key in tg:
                    assert g[key] == pytest.approx(tg[key], rel=1e-12), (step, key)
        opt.step()
        topt.step()
        if step < total - 1:
            s.step()
            ts.step()
    s.step()
    with pytest.raises(ValueError, match="tried to step"):
        s.step()


def test_scheduler_argument_errors():
    opt = fn.optim.SGD(_p(), lr=0.1)
    with pytest.raises(ValueError, match="between 0 and 1, got factor=1.5"):
        fn.optim.lr_scheduler.ConstantLR(opt, factor=1.5)
    with pytest.raises(ValueError, match="start_factor=0"):
        fn.optim.lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="total_iters=0"):
        fn.optim.lr_scheduler.PolynomialLR(opt, total_iters=0)
    with pytest.raises(ValueError, match="total_steps OR"):
        fn.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="must support momentum"):
        fn.optim.lr_scheduler.OneCycleLR(fn.optim.Adagrad(_p()), max_lr=0.1, total_steps=5)
    with pytest.raises(ValueError, match="pct_start"):
        fn.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=5, pct_start=1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        fn.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=5, anneal_strategy="exp")


def _lr_trace(lib, build, n=12):
    if lib.__name__ == "fastnn":
        opt = lib.optim.SGD([lib.nn.Parameter(np.zeros(1, np.float32))], lr=0.1)
    else:
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1)
    s = build(lib.optim.lr_scheduler, opt)
    out = [s.get_last_lr()[0]]
    for _ in range(n):
        opt.step()
        s.step()
        out.append(s.get_last_lr()[0])
        assert opt.param_groups[0]["lr"] == out[-1]
    return np.array(out)


_COMPOSED = {
    "warmup_then_exponential": lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, 0.1, total_iters=3), S.ExponentialLR(o, 0.9)], milestones=[3]),
    "three_phases": lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o, 0.5, total_iters=2), S.CosineAnnealingLR(o, 4), S.StepLR(o, 2, 0.5)],
        milestones=[2, 6]),
    "lambda_then_polynomial": lambda S, o: S.SequentialLR(
        o, [S.LambdaLR(o, lambda e: (e + 1) / 4), S.PolynomialLR(o, total_iters=5, power=2.0)],
        milestones=[4]),
    "chained": lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, 0.5, total_iters=3), S.ExponentialLR(o, 0.9)]),
    "chained_multistep": lambda S, o: S.ChainedScheduler(
        [S.LinearLR(o, 0.2, total_iters=4), S.MultiStepLR(o, [3, 7], 0.1)]),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(_COMPOSED))
def test_sequential_and_chained_schedulers_match_torch(name):
    torch = pytest.importorskip("torch")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # torch's own step(0) deprecation inside SequentialLR
        theirs = _lr_trace(torch, _COMPOSED[name])
    np.testing.assert_allclose(_lr_trace(fn, _COMPOSED[name]), theirs, rtol=1e-12, atol=1e-15)


def test_sequential_lr_rejects_bad_milestones_and_foreign_schedulers():
    S = fn.optim.lr_scheduler
    opt = fn.optim.SGD([fn.nn.Parameter(np.zeros(1, np.float32))], lr=0.1)
    other = fn.optim.SGD([fn.nn.Parameter(np.zeros(1, np.float32))], lr=0.1)
    with pytest.raises(ValueError, match=r"SequentialLR: expected 1 milestones for 2 schedulers, got 2"):
        S.SequentialLR(opt, [S.StepLR(opt, 1), S.StepLR(opt, 1)], milestones=[1, 2])
    with pytest.raises(ValueError, match=r"SequentialLR: schedulers\[1\] belongs to another optimizer"):
        S.SequentialLR(opt, [S.StepLR(opt, 1), S.StepLR(other, 1)], milestones=[1])
