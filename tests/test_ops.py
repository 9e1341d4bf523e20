"""The op-table driver: every row of tests/ops_table.py (rows come from tests/table_*.py)
is checked for

* forward against its NumPy reference, float32 (row rtol/atol) and float64 (tight);
* float64 gradcheck of the row's grad inputs (row gc_atol/gc_rtol);
* output and gradient dtype equal to the input dtype, float32 and float64;
* the same forward and gradients for strided (non-contiguous) inputs;
* torch parity (when ``row.torch`` is set): forward and the input gradients for a random
  upstream gradient, float32 and float64;

and every ``ErrorCase`` must raise its exception with a matching message.

Each call of an op first reseeds fastnn's default generator, so ops that draw from it
(dropout in training mode) repeat the same draw across the calls that gradcheck and the
strided comparison make. A row may carry optional ``rtol64``/``atol64`` attributes to
loosen the float64 tolerances (default 1e-10/1e-12).
"""
import zlib

import numpy as np
import pytest

import fastnn as fn
from ops_table import ERRORS, OPS

DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["f32", "f64"]


def _rows(pred):
    """Parametrize over the rows a check applies to (no skipped placeholders)."""
    rows = [r for r in OPS if pred(r)]
    return pytest.mark.parametrize("row", rows, ids=[r.name for r in rows])


def _has_float_input(r):
    a = r.make(np.random.default_rng(0), np.float32)
    return any(isinstance(x, np.ndarray) and x.dtype.kind == "f" for x in a)


def _has_nd_input(r):
    a = r.make(np.random.default_rng(0), np.float32)
    return any(isinstance(x, np.ndarray) and x.ndim for x in a)


# --- helpers ------------------------------------------------------------------------------
def _seed(row, salt=0):
    return zlib.crc32(row.name.encode()) + salt


def _make(row, dtype, salt=0):
    arrays = row.make(np.random.default_rng(_seed(row, salt)), dtype)
    return tuple(arrays)


def _is_float(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _tensors(row, arrays, requires_grad=True):
    return [fn.Tensor(a, requires_grad=requires_grad and i in row.grad)
            if isinstance(a, np.ndarray) else a for i, a in enumerate(arrays)]


def _call(row, *inputs):
    fn.manual_seed(_seed(row))
    return row.fn(*inputs, **row.kwargs)


def _np(x):
    return x.data if isinstance(x, fn.Tensor) else np.asarray(x)


def _tols(row, dtype):
    if dtype == np.float64:
        return getattr(row, "rtol64", 1e-10), getattr(row, "atol64", 1e-12)
    return row.rtol, row.atol


def _upstream(row, shape, dtype):
    return np.random.default_rng(_seed(row, 7)).standard_normal(shape).astype(dtype)


def _first_float_dtype(arrays):
    for a in arrays:
        if _is_float(a):
            return a.dtype
    return None


def _close(actual, expected, rtol, atol, what):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def _strided(a):
    """The same values in a non-contiguous array (every other element of the last axis)."""
    if not isinstance(a, np.ndarray) or a.ndim == 0 or a.size == 0:
        return a
    buf = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    view = buf[..., ::2]
    view[...] = a
    return view


# --- the table ------------------------------------------------------------------------------
def test_table_has_rows():
    assert OPS, "the op table is empty"
    names = [r.name for r in OPS]
    dup = sorted({n for n in names if names.count(n) > 1})
    assert not dup, f"duplicate op-table row names: {dup}"
    enames = [e.name for e in ERRORS]
    dup = sorted({n for n in enames if enames.count(n) > 1})
    assert not dup, f"duplicate error-case names: {dup}"


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@_rows(lambda r: r.reference is not None)
def test_forward_matches_reference(row, dtype):
    arrays = _make(row, dtype)
    out = _call(row, *_tensors(row, arrays, requires_grad=False))
    # the oracle runs in float64 on the same values
    ref_in = [a.astype(np.float64) if _is_float(a) else a for a in arrays]
    expected = row.reference(*ref_in, **row.kwargs)
    rtol, atol = _tols(row, dtype)
    _close(_np(out), _np(expected), rtol, atol, f"{row.name} forward ({np.dtype(dtype)})")


@_rows(lambda r: r.gradcheck and r.grad)
def test_gradcheck_float64(row):
    inputs = _tensors(row, _make(row, np.float64))
    assert fn.autograd.gradcheck(lambda *ts: _call(row, *ts), tuple(inputs),
                                 atol=row.gc_atol, rtol=row.gc_rtol, raise_exception=True)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@_rows(_has_float_input)
def test_dtype_kept(row, dtype):
    arrays = _make(row, dtype)
    want = _first_float_dtype(arrays)
    inputs = _tensors(row, arrays)
    out = _call(row, *inputs)
    assert out.dtype == want, f"{row.name}: output {out.dtype} from {want} input"
    if row.grad and row.gradcheck and out.requires_grad:
        out.backward(np.ones(out.shape, out.dtype))
        for i in row.grad:
            g = inputs[i].grad
            assert g is not None, f"{row.name}: input {i} got no gradient"
            assert g.dtype == inputs[i].dtype and g.shape == inputs[i].shape, (
                f"{row.name}: grad of input {i} is {g.dtype}{g.shape}, "
                f"input is {inputs[i].dtype}{inputs[i].shape}")


@_rows(lambda r: r.reference is not None and _has_nd_input(r))
def test_strided_inputs_match_contiguous(row):
    arrays = _make(row, np.float32)
    results = []
    for ins in (arrays, tuple(_strided(a) for a in arrays)):
        ts = _tensors(row, ins)
        out = _call(row, *ts)
        grads = []
        if row.grad and row.gradcheck and out.requires_grad:
            out.backward(_upstream(row, out.shape, out.dtype))
            grads = [ts[i].grad for i in row.grad]
        results.append((_np(out).copy(), grads))
    (y0, g0), (y1, g1) = results
    _close(y1, y0, row.rtol, row.atol, f"{row.name} forward, strided inputs")
    for i, a, b in zip(row.grad, g1, g0):
        _close(a, b, row.rtol, row.atol, f"{row.name} grad of input {i}, strided inputs")


@pytest.mark.torch
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@_rows(lambda r: r.torch is not None)
def test_torch_parity(row, dtype):
    torch = pytest.importorskip("torch")
    arrays = _make(row, dtype)
    inputs = _tensors(row, arrays)
    t_inputs = []
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray):
            t = torch.from_numpy(a.copy())
            if i in row.grad:
                t.requires_grad_(True)
            t_inputs.append(t)
        else:
            t_inputs.append(a)
    out = _call(row, *inputs)
    t_out = row.torch(*t_inputs, **row.kwargs)
    rtol, atol = _tols(row, dtype)
    _close(_np(out), t_out.detach().numpy(), rtol, atol,
           f"{row.name} forward vs torch ({np.dtype(dtype)})")
    assert out.dtype == dtype or _first_float_dtype(arrays) != dtype
    if not row.grad or not row.gradcheck:
        return
    g = _upstream(row, out.shape, out.dtype)
    out.backward(g)
    t_out.backward(torch.from_numpy(g.copy()))
    for i in row.grad:
        tg = t_inputs[i].grad
        fg = inputs[i].grad
        if tg is None:
            assert fg is None or not np.any(fg), f"{row.name}: torch has no grad for input {i}"
            continue
        assert fg is not None, f"{row.name}: fastnn has no grad for input {i}"
        _close(fg, tg.numpy(), rtol, atol,
               f"{row.name} grad of input {i} vs torch ({np.dtype(dtype)})")


@pytest.mark.parametrize("case", ERRORS, ids=[e.name for e in ERRORS])
def test_error_case(case):
    with pytest.raises(case.exc, match=case.match):
        case.call()


# --- coverage: every differentiable op in fastnn has a gradchecked row ------------------------
def _functions_in_graph(out):
    seen, stack, found = set(), [out.grad_fn] if out.grad_fn is not None else [], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        found.add(node.fn)
        stack.extend(t.grad_fn for t in node.inputs
                     if isinstance(t, fn.Tensor) and t.grad_fn is not None)
    return found


def _covered():
    covered = set()
    for row in OPS:
        if not row.gradcheck or not row.grad:
            continue
        out = _call(row, *_tensors(row, _make(row, np.float64)))
        if isinstance(out, fn.Tensor):
            covered |= _functions_in_graph(out)
    return covered


def _all_subclasses(cls):
    out, stack = set(), [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in out:
                out.add(sub)
                stack.append(sub)
    return out


def test_every_tensor_op_and_linear_is_gradchecked():
    from fastnn.autograd import linear, tensor_ops
    wanted = {getattr(tensor_ops, n) for n in tensor_ops.__all__} | {linear.Linear}
    missing = sorted(f.__name__ for f in wanted - _covered())
    assert not missing, f"Functions with no gradchecked op-table row: {missing}"


def _held_by_a_module():
    """Classes that some fastnn module keeps as a module attribute."""
    import sys
    held = set()
    for name, mod in list(sys.modules.items()):
        if name == "fastnn" or name.startswith("fastnn."):
            held |= {v for v in vars(mod).values() if isinstance(v, type)}
    return held


def test_every_fastnn_function_is_gradchecked():
    import fastnn.functional  # noqa: F401  (imports every family's Functions)
    import fastnn.nn  # noqa: F401
    from fastnn.autograd import activations
    # a Function built by activations.pointwise counts once a module keeps it (the
    # public op's ``_Name = A.pointwise("name")``); one built in passing (a doctest,
    # a test of the factory) applies to no public op
    generated = set(activations._POINTWISE.values())
    assert generated, "no public op runs on a pointwise-built Function"
    held = _held_by_a_module()
    wanted = {f for f in _all_subclasses(fn.autograd.Function)
              if f.__module__.startswith("fastnn.") and (f not in generated or f in held)}
    uncovered = wanted - _covered()
    # a Function may be exempt only through a row with gradcheck=False that names it
    exempt = set()
    for row in OPS:
        if not row.gradcheck:
            out = _call(row, *_tensors(row, _make(row, np.float64)))
            if isinstance(out, fn.Tensor):
                exempt |= _functions_in_graph(out)
    missing = sorted(f"{f.__module__}.{f.__name__}" for f in uncovered - exempt)
    assert not missing, f"Functions with no op-table row: {missing}"
