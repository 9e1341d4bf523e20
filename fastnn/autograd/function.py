"""Autograd: ``Function`` (an op's forward and backward side by side) and the
backward engine (chain rule over the recorded graph).

Every differentiable op in fastnn is a Function whose forward and backward take and
return ndarrays and call the kernel layer. ``apply`` records a node only when grad
mode is on and some input requires grad, so inference builds no graph; then it runs
the op's ``infer`` (its no-graph fast path) where the op has one.
"""
import numpy as np

from .grad_mode import _state as _grad_state

_new = object.__new__

__all__ = ["Function", "Context", "backward", "unbroadcast",
           "register_post_accumulate_grad_hook", "has_post_accumulate_grad_hooks"]


class Context:
    """Per-call scratch space handed to forward and backward (``ctx``).

    Any attribute may be set on it; ``save_for_backward`` keeps arrays for backward.
    ``needs_input_grad`` holds one bool per positional input: whether backward must
    return its gradient (all False when nothing is recorded).
    """

    __slots__ = ("fn", "inputs", "needs_input_grad", "saved_tensors", "__dict__")

    def __init__(self, needs_input_grad=()):
        self.saved_tensors = ()
        self.needs_input_grad = needs_input_grad

    @property
    def freed(self):
        """Whether a backward without ``retain_graph`` has released the saved arrays."""
        return self.saved_tensors is None

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    def _free(self):
        self.saved_tensors = None
        self.__dict__.clear()


def _tensor_cls():
    from ..tensor import Tensor
    return Tensor


class Function:
    """Base class of differentiable ops.

    Subclasses define static ``forward(ctx, *args, **kw) -> ndarray`` and
    ``backward(ctx, grad) -> ndarray | tuple`` (one gradient or None per positional
    input). Gradients may be returned in broadcast shape: the engine sums them back
    to each input's shape. An op may also define ``infer(*args, **kw) -> ndarray``,
    the same result without a ctx, which ``apply`` runs when nothing is recorded
    (where an op keeps its inference fast paths).

    >>> import numpy as np, fastnn as fn
    >>> class Square(fn.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         x, = ctx.saved_tensors
    ...         return 2 * x * g
    >>> x = fn.tensor([3.0], requires_grad=True)
    >>> Square.apply(x).sum().backward(); x.grad
    array([6.], dtype=float32)
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    infer = None
    # True where forward only returns infer's result (saves nothing, sets nothing on
    # ctx): the short paths below then call infer even while recording
    stateless = False

    @classmethod
    def apply(cls, *args, **kwargs):
        # the hot path of every op: flat loops, no comprehensions (a frame each on 3.11)
        Tensor = _T
        arrays = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                if a.requires_grad:
                    record = True
            else:
                arrays.append(a)
        t = _new(Tensor)     # Tensor._wrap, inlined
        t.grad = None
        if record and _grad_state.enabled:
            ctx = _new(Context)      # Context(needs_input_grad), without the __init__ frame
            ctx.saved_tensors = ()
            if len(args) == 1:       # the one input records
                ctx.needs_input_grad = _ONE
            else:
                need = []
                for a in args:
                    need.append(isinstance(a, Tensor) and a.requires_grad)
                ctx.needs_input_grad = tuple(need)
            out = cls.forward(ctx, *arrays, **kwargs)
            ctx.fn = cls
            ctx.inputs = args
            t._node = ctx
            t.requires_grad = True
        else:
            infer = cls.infer
            if infer is not None:
                out = infer(*arrays, **kwargs)
            else:
                n = len(args)
                out = cls.forward(Context(_NOTHING[n] if n < 8 else (False,) * n),
                                  *arrays, **kwargs)
            t._node = None
            t.requires_grad = False
        t.data = out if type(out) is np.ndarray else np.asarray(out)
        return t


_NOTHING = tuple((False,) * n for n in range(8))     # needs_input_grad when not recording
_ONE = (True,)
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def apply_unary(cls, x):
    """``cls.apply(x)`` for one float32/float64 Tensor and nothing else: the same
    result and graph, in the few steps a tiny op needs (no argument loops, no
    keyword dict). None for any other input: the caller then validates it and calls
    ``apply``.

    >>> import fastnn as fn
    >>> from fastnn.autograd.activations import ReLU
    >>> apply_unary(ReLU, fn.tensor([-1.0, 2.0], requires_grad=True)).grad_fn is not None
    True
    >>> apply_unary(ReLU, [1.0]) is None
    True
    """
    if type(x) is not _T:
        return None
    a = x.data
    d = a.dtype
    if d is not _F32 and d is not _F64:
        return None
    t = _new(_T)
    t.grad = None
    if x.requires_grad and _grad_state.enabled:
        ctx = _new(Context)
        ctx.saved_tensors = ()
        ctx.needs_input_grad = _ONE
        out = cls.forward(ctx, a)
        ctx.fn = cls
        ctx.inputs = (x,)
        t._node = ctx
        t.requires_grad = True
    else:
        infer = cls.infer
        out = infer(a) if infer is not None else cls.forward(Context(_NOTHING[1]), a)
        t._node = None
        t.requires_grad = False
    t.data = out if type(out) is np.ndarray else np.asarray(out)
    return t


def apply_binary(cls, a, b):
    """``cls.apply(a, b)`` for two Tensors (the operators' common case) in the few
    steps it needs; None when either is not a Tensor.

    >>> import fastnn as fn
    >>> from fastnn.autograd.tensor_ops import Add
    >>> apply_binary(Add, fn.tensor([1.0]), fn.tensor([2.0], requires_grad=True)).requires_grad
    True
    """
    if type(a) is not _T or type(b) is not _T:
        return None
    t = _new(_T)
    t.grad = None
    ra, rb = a.requires_grad, b.requires_grad
    if (ra or rb) and _grad_state.enabled:
        ctx = _new(Context)
        ctx.saved_tensors = ()
        ctx.needs_input_grad = (ra, rb)
        out = cls.infer(a.data, b.data) if cls.stateless else cls.forward(ctx, a.data, b.data)
        ctx.fn = cls
        ctx.inputs = (a, b)
        t._node = ctx
        t.requires_grad = True
    else:
        infer = cls.infer
        out = infer(a.data, b.data) if infer is not None else \
            cls.forward(Context(_NOTHING[2]), a.data, b.data)
        t._node = None
        t.requires_grad = False
    t.data = out if type(out) is np.ndarray else np.asarray(out)
    return t


def unbroadcast(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched to reach ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return np.asarray(g).reshape(shape)     # summing every axis gives a NumPy scalar


def backward(root, grad=None, retain_graph=False):
    """Back-propagate from ``root`` through its graph, accumulating leaf ``.grad``.

    Iterative (Kahn's algorithm over consumer counts), so arbitrarily deep graphs do
    not hit the recursion limit.
    """
    Tensor = _T
    if not root.requires_grad:
        raise RuntimeError("backward: the tensor does not require grad and has no graph "
                           "(was it computed under no_grad, or from inputs without requires_grad=True?).")
    if grad is None:
        if root.data.size != 1:
            raise ValueError(f"backward: grad can be implicitly created only for a single-element "
                             f"output; got shape {root.shape}. Pass grad= of that shape.")
        grad = np.ones(root.data.shape, root.data.dtype)
    else:
        if isinstance(grad, Tensor):
            grad = grad.data
        grad = np.asarray(grad)
        if grad.dtype.kind not in "fiu" and grad.dtype.name != "bfloat16":
            raise TypeError(f"backward: grad must be numeric, got dtype {grad.dtype}.")
        if grad.shape != root.shape:
            raise ValueError(f"backward: grad has shape {grad.shape} but the tensor has shape "
                             f"{root.shape}; they must match.")
        grad = grad.astype(root.data.dtype, copy=False)
    handed = {id(grad)}  # arrays already owned by someone: copy before keeping them
    # hooked leaves: id -> edges still to come (None: no hooks anywhere, nothing counted)
    hooked = {} if _POST_HOOKS else None
    node = root._node
    if node is None:
        _accumulate(root, grad, handed)
        if hooked is not None:
            _run_post_hooks(root)
        return
    # consumer counts
    deps = {}
    stack = [node]
    seen = {node}
    while stack:
        n = stack.pop()
        if n.saved_tensors is None:
            raise RuntimeError("backward: trying to backward through the graph a second time "
                               "(its buffers were freed); use backward(retain_graph=True) the first time.")
        for t in n.inputs:
            if type(t) is not Tensor and not isinstance(t, Tensor):
                continue
            c = t._node
            if c is not None:
                deps[c] = deps.get(c, 0) + 1
                if c not in seen:
                    seen.add(c)
                    stack.append(c)
            elif hooked is not None and id(t) in _POST_HOOKS:
                hooked[id(t)] = hooked.get(id(t), 0) + 1
    got = set()          # hooked leaves that received a gradient in this backward
    pending = {node: grad}
    ready = [node]
    while ready:
        n = ready.pop()
        g = pending.pop(n)
        grads = n.fn.backward(n, g)
        if type(grads) is not tuple:
            grads = (grads,)
        for t, gi in zip(n.inputs, grads):
            if gi is None or not isinstance(t, Tensor) or not t.requires_grad:
                continue
            if type(gi) is not np.ndarray:
                gi = np.asarray(gi)   # 0-d arithmetic yields NumPy scalars
            tshape = t.data.shape
            if gi.shape != tshape:
                gi = unbroadcast(gi, tshape)
            if gi.dtype != t.data.dtype:
                gi = gi.astype(t.data.dtype)
            c = t._node
            if c is None:
                _accumulate(t, gi, handed)
                if hooked is not None:
                    got.add(id(t))
            else:
                prev = pending.get(c)
                pending[c] = gi if prev is None else prev + gi
                left = deps[c] - 1
                deps[c] = left
                if left == 0:
                    ready.append(c)
        if hooked:
            # a hooked leaf's hooks run once its last incoming edge is done, so they see
            # the whole gradient of this backward (as torch's AccumulateGrad node)
            for t in n.inputs:
                k = id(t)
                todo = hooked.get(k)
                if todo is None:
                    continue
                if todo > 1:
                    hooked[k] = todo - 1
                    continue
                del hooked[k]
                if k in got:
                    _run_post_hooks(t)
        if not retain_graph:
            n._free()


# leaf id -> (weakref to the leaf, [hooks]); empty unless someone registered a hook, so
# a backward without hooks pays one falsy check
_POST_HOOKS = {}


class _HookHandle:
    """What ``register_post_accumulate_grad_hook`` returns: ``remove()`` unregisters."""

    __slots__ = ("_key", "_hook")

    def __init__(self, key, hook):
        self._key, self._hook = key, hook

    def remove(self):
        entry = _POST_HOOKS.get(self._key)
        if entry is not None:
            hooks = entry[1]
            for i, h in enumerate(hooks):
                if h is self._hook:
                    del hooks[i]
                    break
            if not hooks:
                del _POST_HOOKS[self._key]


def register_post_accumulate_grad_hook(tensor, hook):
    """Call ``hook(tensor)`` each time a backward has finished accumulating the leaf
    ``tensor``'s ``.grad`` (once per backward, every contribution summed), as torch's
    ``Tensor.register_post_accumulate_grad_hook``; returns a handle with ``remove()``.
    Data-parallel training starts a gradient's reduction from it while backward runs.

    Raises:
        RuntimeError: ``tensor`` is not a leaf that requires grad.
        TypeError: ``hook`` is not callable.
    """
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, got "
                        f"{type(hook).__name__}.")
    if tensor._node is not None or not tensor.requires_grad:
        raise RuntimeError("register_post_accumulate_grad_hook: post accumulate grad hooks "
                           "can only be registered on leaf tensors that require grad.")
    import weakref     # here, not at import: import fastnn stays as fast as before
    key = id(tensor)
    entry = _POST_HOOKS.get(key)
    if entry is None or entry[0]() is not tensor:
        # the entry leaves with its tensor, so a later object reusing the id gets none
        ref = weakref.ref(tensor, lambda _, k=key: _drop_hooks(k))
        entry = _POST_HOOKS[key] = (ref, [])
    entry[1].append(hook)
    return _HookHandle(key, hook)


def has_post_accumulate_grad_hooks(tensors):
    """Whether any of ``tensors`` has a post-accumulate-grad hook (one falsy check while
    no hook exists anywhere). An op that would hand several leaves their gradients at
    once asks first: such hooks start work (a gradient's reduction) as each arrives."""
    if not _POST_HOOKS:
        return False
    for t in tensors:
        if id(t) in _POST_HOOKS:
            return True
    return False


def _drop_hooks(key):
    entry = _POST_HOOKS.get(key)
    if entry is not None and entry[0]() is None:
        del _POST_HOOKS[key]


def _run_post_hooks(t):
    entry = _POST_HOOKS.get(id(t))
    if entry is not None and entry[0]() is t:
        for hook in list(entry[1]):
            hook(t)


def _accumulate(t, g, handed):
    if t.grad is None:
        # keep g itself only when nobody else can see or mutate it
        if g.base is not None or id(g) in handed or not g.flags.writeable:
            g = g.copy()
        handed.add(id(g))
        t.grad = g
    else:
        np.add(t.grad, g, out=t.grad)


_T = None


def _bind():
    global _T
    _T = _tensor_cls()
