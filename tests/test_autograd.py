"""Autograd semantics: the chain rule, accumulation, deep graphs, graph freeing, no_grad,
requires_grad propagation, gradcheck itself, broadcasting, and the Tensor's array rules.
Per-op gradients are checked by the op table (test_ops.py)."""
import sys
import threading

import numpy as np
import pytest

import fastnn as fn


def leaf(values, dtype=np.float64):
    return fn.Tensor(np.array(values, dtype=dtype), requires_grad=True)


# --- the chain rule -----------------------------------------------------------------------
def test_chain_rule_example_matches_hand_derivation():
    # f(x, y, z) = (x + y) * z at x=-2, y=5, z=-4: df/dx = df/dy = z, df/dz = x + y
    x, y, z = (fn.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    f = (x + y) * z
    assert f.item() == -12.0
    f.backward()
    assert x.grad == -4.0 and y.grad == -4.0 and z.grad == 3.0
    assert x.grad.dtype == np.float32 and x.grad.shape == ()


# --- accumulation -------------------------------------------------------------------------
def test_tensor_used_twice_in_one_op_gets_both_contributions():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data)
    x.grad = None
    (x + x).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0, 2.0])


def test_reuse_through_intermediate_node():
    x = leaf([1.0, -2.0, 3.0])
    a = x * 2
    (a * a + x).sum().backward()          # d/dx (4x^2 + x) = 8x + 1
    np.testing.assert_allclose(x.grad, 8 * x.data + 1)


def test_diamond_graph_accumulates_at_shared_node():
    x = leaf([0.5, 1.5])
    h = x.exp()
    ((h * 3) + (h * h) - h).sum().backward()    # d/dx (3h + h^2 - h) = (2 + 2h) h
    hv = np.exp(x.data)
    np.testing.assert_allclose(x.grad, (2 + 2 * hv) * hv)


def test_grads_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 3 + 2 * x.data)


def test_zero_grad_and_grad_assignment():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    x.zero_grad()
    assert x.grad is None
    x.grad = np.array([10.0, 10.0])
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [13.0, 13.0])


def test_grads_handed_to_leaves_are_not_aliased():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    g = np.array([1.0, 1.0])
    (x + y).backward(g)
    x.grad += 5
    np.testing.assert_allclose(y.grad, [1.0, 1.0])
    np.testing.assert_allclose(g, [1.0, 1.0])
    assert x.grad.flags.writeable and y.grad.flags.writeable


def test_backward_accepts_tensor_grad_and_explicit_nonscalar_grad():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 2
    y.backward(fn.tensor(np.array([[1.0, 0.0], [0.5, 2.0]])))
    np.testing.assert_allclose(x.grad, [[2.0, 0.0], [1.0, 4.0]])


def test_backward_on_a_leaf_accumulates_into_itself():
    x = leaf(2.0)
    x.backward()
    assert x.grad == 1.0


# --- deep graphs and graph lifetime -------------------------------------------------------
def test_chain_of_100000_ops_does_not_hit_recursion_limit():
    limit = sys.getrecursionlimit()
    x = fn.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    assert sys.getrecursionlimit() == limit
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
    np.testing.assert_array_equal(y.data, [100_001.0, 100_002.0])


def test_deep_graph_is_released_without_backward(run_python):
    # dropping an un-backpropagated 200,000-node chain must not overflow the C stack
    run_python("""
        import fastnn as fn
        x = fn.tensor([1.0], requires_grad=True)
        y = x
        for _ in range(200_000):
            y = y * 1.0
        del y
        print("ok")
    """, timeout=120)


def test_graph_is_freed_after_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    assert y.grad_fn.saved_tensors is None      # saved arrays released
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 4 * x.data)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_through_partially_freed_graph_raises():
    x = leaf([1.0, 2.0])
    h = x * x
    h.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (h * 2).sum().backward()


# --- no_grad --------------------------------------------------------------------------------
def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with fn.no_grad():
        assert not fn.is_grad_enabled()
        y = (x * 2 + 1).exp().sum()
    assert fn.is_grad_enabled()
    assert y.requires_grad is False and y.grad_fn is None and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_as_decorator_and_nested_enable_grad():
    x = leaf([1.0, 2.0])

    @fn.no_grad()
    def infer(t):
        return t * 2

    y = infer(x)
    assert not y.requires_grad and y.grad_fn is None
    assert fn.is_grad_enabled()
    with fn.no_grad():
        with fn.enable_grad():
            z = x * 2
        w = x * 2
    assert z.requires_grad and z.grad_fn is not None
    assert not w.requires_grad


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ZeroDivisionError):
        with fn.no_grad():
            1 / 0
    assert fn.is_grad_enabled()


def test_set_grad_enabled():
    x = leaf([1.0])
    with fn.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    with fn.set_grad_enabled(True):
        assert (x * 2).requires_grad


def test_grad_mode_is_per_thread():
    x = leaf([1.0])
    seen = []
    with fn.no_grad():
        t = threading.Thread(target=lambda: seen.append((x * 2).requires_grad))
        t.start()
        t.join()
    assert seen == [True]


# --- requires_grad propagation ---------------------------------------------------------------
def test_requires_grad_propagation_rules():
    a = leaf([1.0, 2.0])
    b = fn.tensor(np.array([3.0, 4.0]))
    assert not b.requires_grad
    c = a * b
    assert c.requires_grad and not c.is_leaf and c.grad_fn is not None
    d = b * 2
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    c.sum().backward()
    assert b.grad is None                       # never requested
    assert c.grad is None                       # non-leaf grads are not kept (as torch)
    np.testing.assert_allclose(a.grad, b.data)


def test_int_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="int64"):
        fn.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="int32"):
        fn.Tensor(np.array([1], np.int32), requires_grad=True)
    with pytest.raises(TypeError, match="bool"):
        fn.tensor([True]).requires_grad_()
    t = fn.tensor([1, 2])
    assert t.requires_grad_(False) is t and not t.requires_grad


def test_detach_cuts_the_graph_and_shares_memory():
    x = leaf([1.0, 2.0])
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.data, y.data)
    (d * x).sum().backward()                    # no path through d back to x via y
    np.testing.assert_allclose(x.grad, d.data)


def test_requires_grad_underscore_on_leaf():
    x = fn.tensor([1.0, 2.0]).requires_grad_()
    assert x.requires_grad and x.is_leaf
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 4.0])


# --- gradcheck itself -----------------------------------------------------------------------
class WrongSquare(fn.autograd.Function):
    """x**2 with a deliberately wrong backward (3x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 3 * x * g


class WrongSecondInput(fn.autograd.Function):
    """a * b whose gradient for b is wrong at one element only."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gb = g * a
        gb = gb.copy()
        gb.reshape(-1)[2] += 1.0
        return g * b, gb


def test_gradcheck_accepts_correct_gradients_of_nonscalar_outputs():
    x = leaf(np.linspace(0.5, 2.0, 6).reshape(2, 3))
    w = leaf(np.linspace(-1.0, 1.0, 12).reshape(3, 4))
    assert fn.autograd.gradcheck(lambda a, b: (a @ b).exp(), (x, w))


def test_gradcheck_returns_false_for_a_wrong_gradient():
    x = leaf([0.5, -1.0, 2.0])
    assert fn.autograd.gradcheck(WrongSquare.apply, (x,)) is False


def test_gradcheck_raises_naming_the_input_and_worst_element():
    a, b = leaf([1.0, 2.0, 3.0, 4.0]), leaf([0.5, -0.5, 1.5, 2.5])
    assert fn.autograd.gradcheck(WrongSecondInput.apply, (a, b)) is False
    with pytest.raises(AssertionError, match=r"input 1 .*output element 2, input element \(2,\)"):
        fn.autograd.gradcheck(WrongSecondInput.apply, (a, b), raise_exception=True)


def test_gradcheck_leaves_inputs_unchanged_and_grads_cleared():
    x = leaf([0.5, -1.0, 2.0])
    before = x.data.copy()
    assert fn.autograd.gradcheck(lambda t: (t * t).sum(), (x,))
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None


def test_gradcheck_with_view_output_perturbs_correctly():
    # the output shares memory with the perturbed input: finite differences must copy
    x = leaf(np.arange(6.0).reshape(2, 3))
    assert fn.autograd.gradcheck(lambda t: t.reshape(3, 2), (x,), raise_exception=True)
    assert fn.autograd.gradcheck(lambda t: t.T, (x,), raise_exception=True)


def test_gradcheck_rejects_inputs_without_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        fn.autograd.gradcheck(lambda t: t * 2, (fn.tensor(np.ones(2)),))


# --- broadcasting -----------------------------------------------------------------------------
def test_broadcast_grads_reduce_to_each_operand_shape():
    a, b = leaf(np.ones((3, 1))), leaf(np.ones((1, 4)))
    (a * 2 + b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4)
    np.testing.assert_allclose(a.grad, np.full((3, 1), 8.0))
    np.testing.assert_allclose(b.grad, np.full((1, 4), 3.0))


def test_broadcast_leading_dims_and_zero_d():
    a, b, s = leaf(np.ones((2, 3))), leaf(np.ones(3)), leaf(2.0)
    (a * b * s).sum().backward()
    assert b.grad.shape == (3,) and s.grad.shape == ()
    np.testing.assert_allclose(b.grad, [4.0, 4.0, 4.0])
    assert s.grad == 6.0


def test_mixed_dtypes_promote_and_grads_keep_each_dtype():
    a = fn.tensor(np.ones(3, np.float32), requires_grad=True)
    b = fn.tensor(np.full(3, 2.0), requires_grad=True)           # float64
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


# --- Tensor and array rules ---------------------------------------------------------------------
def test_tensor_wraps_ndarray_without_copy():
    for dt in (np.float32, np.float64):
        arr = np.zeros(3, dt)
        t = fn.Tensor(arr)
        assert t.data is arr and t.numpy() is arr and t.dtype == dt
        arr[0] = 5
        assert t.data[0] == 5
    arr = np.zeros(3, np.float64)
    assert fn.tensor(arr).data is arr                            # no dtype change: no copy


def test_dtype_rules():
    assert fn.tensor(1.5).dtype == np.float32
    assert fn.tensor([1.5, 2.0]).dtype == np.float32
    assert fn.tensor([[1.0], [2.0]]).dtype == np.float32
    assert fn.Tensor(2.0).dtype == np.float32
    assert fn.tensor(3).dtype == np.int64
    assert fn.tensor([1, 2]).dtype == np.int64
    assert fn.tensor(np.ones(2)).dtype == np.float64
    assert fn.tensor(np.ones(2, np.float32)).dtype == np.float32
    assert fn.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert fn.tensor(np.float64(1.5)).dtype == np.float64           # NumPy scalars keep dtype
    t = fn.tensor([1.0, 2.0])
    assert (t * 2.5).dtype == np.float32 and (2.5 * t).dtype == np.float32
    assert (t + 1).dtype == np.float32 and (t ** 2).dtype == np.float32


def test_reflected_operators():
    t = fn.tensor([1.0, 4.0], requires_grad=True)
    y = 2.0 - t
    np.testing.assert_allclose(y.data, [1.0, -2.0])
    y.sum().backward()
    np.testing.assert_allclose(t.grad, [-1.0, -1.0])
    np.testing.assert_allclose((8.0 / t).data, [8.0, 2.0])
    np.testing.assert_allclose((2.0 ** t).data, [2.0, 16.0])
    np.testing.assert_allclose((3 * t).data, [3.0, 12.0])


def test_ndarray_on_the_left_returns_a_tensor_with_the_right_order():
    t = fn.tensor(np.array([1.0, 4.0]), requires_grad=True)
    arr = np.array([10.0, 20.0])
    for y, want in ((arr + t, [11.0, 24.0]), (arr - t, [9.0, 16.0]), (arr * t, [10.0, 80.0]),
                    (arr / t, [10.0, 5.0])):
        assert isinstance(y, fn.Tensor) and y.requires_grad
        np.testing.assert_allclose(y.data, want)
    m = np.arange(6.0).reshape(3, 2)
    y = m @ t
    assert isinstance(y, fn.Tensor)
    np.testing.assert_allclose(y.data, m @ t.data)
    y.sum().backward()
    np.testing.assert_allclose(t.grad, m.sum(axis=0))


def test_lists_as_operands():
    t = fn.tensor([1.0, 2.0])
    np.testing.assert_allclose((t + [1.0, 1.0]).data, [2.0, 3.0])
    assert (t + [1.0, 1.0]).dtype == np.float32


def test_item_numpy_detach():
    t = fn.tensor([[3.5]], requires_grad=True)
    assert t.item() == 3.5 and isinstance(t.item(), float)
    assert t.numpy() is t.data
    d = t.detach()
    assert d.data is t.data and not d.requires_grad
    assert fn.tensor([7]).item() == 7
    with pytest.raises(ValueError):
        fn.tensor([1.0, 2.0]).item()


def test_shape_properties_and_repr():
    t = fn.tensor(np.zeros((2, 3)), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size() == (2, 3) and t.numel() == 6 and len(t) == 2
    r = repr(t)
    assert "float64" in r and "requires_grad=True" in r


def test_comparisons_give_plain_tensors():
    t = fn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = t > 1.5
    assert isinstance(m, fn.Tensor) and m.dtype == bool and not m.requires_grad
    np.testing.assert_array_equal(m.data, [False, True, True])


def test_nan_in_nan_out():
    x = fn.tensor([np.nan, 1.0], requires_grad=True)
    y = (x * 2).exp().sum()
    assert np.isnan(y.item())
    y.backward()
    assert np.isnan(x.grad[0]) and np.isfinite(x.grad[1])


def test_function_apply_records_context():
    class Scale(fn.autograd.Function):
        @staticmethod
        def forward(ctx, x, factor=2.0):
            ctx.factor = factor
            return x * factor

        @staticmethod
        def backward(ctx, g):
            assert ctx.needs_input_grad == (True,)
            return g * ctx.factor

    x = leaf([1.0, 2.0])
    y = Scale.apply(x, factor=3.0)
    assert y.grad_fn.fn is Scale
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_no_grad_bare_decorator():
    x = leaf([1.0, 2.0])

    @fn.no_grad
    def infer(t):
        return t * 2

    assert not infer(x).requires_grad and infer.__name__ == "infer"
    assert fn.is_grad_enabled()
