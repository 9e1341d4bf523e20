"""Every elementwise kernel against its NumPy reference.

Driven by ``fastnn._kernels.elementwise.SPECS``, which holds a row for every kernel of
the engine's op tables (a default row where elementwise.py names none: the oracle of the
same name, called with its own default parameters): a new op-table row with its oracle
in reference.py is tested here without further edits.
Each kernel is checked in float32 and float64, on contiguous, strided and transposed
input, below and above ``threads.SERIAL_BELOW`` (so both the serial and the parallel
path run), on empty/0-d/1-element input, with NaN and infinities, and with ``out=``
(in place and preallocated).

Tolerances default to ``TOL``; a row may override them with
``extra={"tol": {"float32": (rtol, atol), "float64": (rtol, atol)}}``.
"""
import inspect

import numpy as np
import pytest

import fastnn._kernels as K
from fastnn._kernels import elementwise, threads
from fastnn._kernels import reference as R

K._register_all()
# a row that names no parameters tests with the oracle's defaults (Spec.with_oracle)
SPECS = {name: spec.with_oracle(getattr(R, spec.reference, None))
         for name, spec in elementwise.SPECS.items()}
NAMES = sorted(SPECS)

DTYPES = [np.float32, np.float64]
#: (rtol, atol) per dtype: a few ulp of the vector libm plus rounding-order slack.
TOL = {np.float32: (1e-5, 1e-6), np.float64: (1e-12, 1e-14)}

SMALL = (7, 13)
assert SMALL[0] * SMALL[1] < threads.SERIAL_BELOW
# Odd sizes on purpose: chunk and vector boundaries fall mid-row.
LARGE = (2 * threads.SERIAL_BELOW // 257 + 3, 257)
assert LARGE[0] * LARGE[1] > 2 * threads.SERIAL_BELOW
SIZES = {"small": SMALL, "large": LARGE}
LAYOUTS = ["contiguous", "strided", "transposed"]


@pytest.fixture(autouse=True)
def _two_threads(fastnn_threads):
    # Large inputs must take the parallel path, whatever the machine's core count.
    fastnn_threads(2)


def tol(spec, dtype):
    rtol, atol = spec.extra.get("tol", {}).get(np.dtype(dtype).name, TOL[dtype])
    return dict(rtol=rtol, atol=atol)


def make(rng, shape, dtype, layout, low, high):
    """Array of ``shape`` in ``dtype``, uniform in [low, high), with the given memory layout."""
    if layout == "contiguous":
        x = rng.uniform(low, high, shape).astype(dtype)
    elif layout == "strided":
        x = rng.uniform(low, high, shape[:-1] + (2 * shape[-1],)).astype(dtype)[..., ::2]
    elif layout == "transposed":
        x = rng.uniform(low, high, shape[::-1]).astype(dtype).T
    else:
        raise ValueError(layout)
    assert x.shape == tuple(shape)
    assert x.flags.c_contiguous == (layout == "contiguous" or x.size <= 1)
    return x


def inputs(spec, rng, shape, dtype, layout="contiguous"):
    """Positional array arguments of ``spec``: x, or (u, g) for a backward kernel."""
    first = make(rng, shape, dtype, layout, *spec.domain)
    if spec.arity == 1:
        return [first]
    return [first, make(rng, shape, dtype, layout, -3.0, 3.0)]


def reference(spec, arrays):
    with np.errstate(all="ignore"):
        return np.asarray(getattr(R, spec.reference)(*[a.copy() for a in arrays], *spec.params))


def check(spec, got, arrays, dtype):
    want = reference(spec, arrays)
    assert isinstance(got, np.ndarray)
    assert got.dtype == dtype, f"dtype changed: {dtype.__name__} in, {got.dtype} out"
    assert got.shape == arrays[0].shape
    np.testing.assert_allclose(got, want, equal_nan=True, **tol(spec, dtype))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", NAMES)
def test_kernel_matches_reference(name, dtype, size, layout, rng):
    spec = SPECS[name]
    arrays = inputs(spec, rng, SIZES[size], dtype, layout)
    before = [a.copy() for a in arrays]
    got = spec.kernel(*arrays, *spec.params)
    assert got.flags.c_contiguous
    check(spec, got, arrays, dtype)
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b, err_msg="kernel modified its input")


@pytest.mark.parametrize("shape", [(0,), (3, 0), (), (1,)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", NAMES)
def test_kernel_edge_shapes(name, dtype, shape, rng):
    spec = SPECS[name]
    arrays = inputs(spec, rng, shape, dtype)
    check(spec, spec.kernel(*arrays, *spec.params), arrays, dtype)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", NAMES)
def test_kernel_nonfinite_input(name, dtype, size, rng):
    """NaN and +-inf give what the reference gives; a forward kernel maps NaN to NaN."""
    spec = SPECS[name]
    arrays = inputs(spec, rng, SIZES[size], dtype)
    flat = arrays[0].reshape(-1)
    n = flat.size
    nan_at = np.array([0, 5, n // 2, n - 1])
    flat[nan_at] = np.nan
    flat[[1, n // 2 + 1]] = np.inf
    flat[[2, n - 2]] = -np.inf
    if spec.arity == 2:
        g = arrays[1].reshape(-1)
        g[[3, n // 3, n - 3]] = np.nan
    got = spec.kernel(*arrays, *spec.params)
    check(spec, got, arrays, dtype)
    if spec.arity == 1:
        assert np.isnan(got.reshape(-1)[nan_at]).all(), "NaN in must give NaN out"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", NAMES)
def test_kernel_out_in_place(name, dtype, size, rng):
    """``out=`` may be any of the inputs: the result overwrites it and is returned."""
    spec = SPECS[name]
    for which in range(spec.arity):
        arrays = inputs(spec, rng, SIZES[size], dtype)
        want = reference(spec, arrays)
        target = arrays[which]
        got = spec.kernel(*arrays, *spec.params, out=target)
        assert got is target
        assert got.dtype == dtype
        np.testing.assert_allclose(target, want, equal_nan=True, **tol(spec, dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", NAMES)
def test_kernel_out_preallocated(name, dtype, rng):
    spec = SPECS[name]
    arrays = inputs(spec, rng, LARGE, dtype)
    out = np.full(LARGE, np.nan, dtype)
    got = spec.kernel(*arrays, *spec.params, out=out)
    assert got is out
    check(spec, out, arrays, dtype)


def test_specs_are_well_formed():
    assert SPECS, "no elementwise kernels registered"
    for name, spec in SPECS.items():
        assert spec.engine in ("c", "numba"), name
        assert spec.arity in (1, 2), name
        assert callable(spec.kernel), name
        oracle = getattr(R, spec.reference, None)
        assert callable(oracle), f"{name}: no oracle {spec.reference}() in _kernels/reference.py"
        try:
            inspect.signature(oracle).bind(*range(spec.arity), *spec.params)
        except TypeError as e:
            raise AssertionError(
                f"{name}: reference.{spec.reference} cannot take {spec.arity} array(s) and "
                f"params {spec.params} ({e}); give the oracle's parameters default "
                "values (the tests use them), or the kernel a row in "
                "elementwise._SPEC_ROWS") from None
        low, high = spec.domain
        assert low < high, name


def test_a_row_without_parameters_takes_the_oracles_defaults(rng):
    def oracle(x, a=0.3):
        return R.leaky_relu_fwd(x, a)

    def oracle_without_default(x, a):
        return R.leaky_relu_fwd(x, a)

    bare = elementwise.Spec(elementwise.leaky_relu_fwd, "leaky_relu_fwd", "c")
    spec = bare.with_oracle(oracle)
    assert spec.params == (0.3,)
    (x,) = inputs(spec, rng, SMALL, np.float64)
    check(spec, spec.kernel(x, *spec.params), [x], np.float64)
    assert bare.with_oracle(oracle_without_default) is bare
    given = elementwise.Spec(elementwise.leaky_relu_fwd, "leaky_relu_fwd", "c", params=(0.1,))
    assert given.with_oracle(oracle) is given


def test_every_op_table_row_has_a_spec():
    """The engine's unary and binary tables (csrc/elementwise.h) are all under test."""
    ce = elementwise._ce
    tested = {spec.kernel.__name__ for spec in SPECS.values()}
    missing = sorted((set(ce.UNARY) | set(ce.BINARY)) - tested)
    assert not missing, f"op-table rows without a Spec: {missing}"
    for name in set(ce.UNARY) | set(ce.BINARY):
        assert getattr(elementwise, name).__name__ == name, name


#: Kernels whose forward has a direct torch counterpart (checked where both exist).
TORCH_TWINS = {
    "copy": "clone",
    "sigmoid_fwd": "sigmoid",
    "tanh_fwd": "tanh",
    "relu_fwd": "relu",
}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", sorted(set(TORCH_TWINS) & set(SPECS)))
def test_kernel_matches_torch(name, dtype, rng, torch):
    spec = SPECS[name]
    (x,) = inputs(spec, rng, LARGE, dtype)
    want = getattr(torch, TORCH_TWINS[name])(torch.from_numpy(x)).numpy()
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(spec.kernel(x), want, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape", [SMALL, LARGE], ids=["serial", "parallel"])
def test_numba_relu_loops_match_reference(shape, dtype, rng):
    """relu's Numba loops: the Numba engine's elementwise kernels (the benchmarks'
    comparison and the jit tests' subject), built on demand."""
    fwd, bwd = elementwise.nb_unary("relu_fwd"), elementwise.nb_binary("relu_bwd")
    x = rng.uniform(-6, 6, shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    np.testing.assert_array_equal(fwd(x), R.relu_fwd(x))
    np.testing.assert_array_equal(bwd(x, g), R.relu_bwd(x, g))
