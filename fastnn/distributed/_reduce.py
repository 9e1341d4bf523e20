"""Bucketed gradient averaging that overlaps backward: DistributedOptimizer and
DistributedDataParallel share one reducer."""
import contextlib
import time

import numpy as np

from . import _w, DistributedError, broadcast_parameters

__all__ = ["DistributedOptimizer", "DistributedDataParallel"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class _Bucket:
    __slots__ = ("params", "offsets", "buf", "filled", "req")

    def __init__(self, dtype):
        self.params, self.offsets, self.filled, self.req = [], [], set(), None
        self.buf = np.empty(0, dtype)


class _Reducer:
    """Sums the gradients of ``params`` over the ranks and divides by their number.

    Parameters are taken in reverse order (backward produces the last layer's gradient
    first) and packed into buckets of at most ``bucket_cap_mb`` per dtype. A
    post-accumulate-grad hook copies each gradient into its bucket; a full bucket's
    non-blocking Allreduce starts at once, but never before the buckets ahead of it, so
    every rank issues them in the same order. ``finish`` starts what is left (a
    parameter without a gradient contributes zeros), waits and writes the averages back.
    ``overlap=False`` starts every reduction in ``finish`` instead (for measuring).
    """

    def __init__(self, params, bucket_cap_mb, where, passes=1, overlap=True):
        self.where, self.passes, self.overlap = where, passes, overlap
        self.w = _w()
        cap = max(1, int(float(bucket_cap_mb) * 2**20))
        self.buckets, self.slot = [], {}
        open_by_dtype = {}
        for p in reversed(params):
            dt = p.data.dtype
            bi = open_by_dtype.get(dt)
            b = None if bi is None else self.buckets[bi]
            if b is None or b.buf.size * dt.itemsize + p.data.nbytes > cap:
                b = _Bucket(dt)
                bi = open_by_dtype[dt] = len(self.buckets)
                self.buckets.append(b)
            self.slot[id(p)] = (bi, len(b.params))
            b.offsets.append(b.buf.size)
            b.params.append(p)
            b.buf = np.empty(b.buf.size + p.data.size, dt)
        self.nbytes = sum(b.buf.nbytes for b in self.buckets)
        self.enabled = True
        self.counts = {}
        self.next = 0          # next bucket to start
        self.ctrl = None
        self.busy = False      # some gradient arrived since the last finish
        self.seconds = 0.0     # time spent inside finish (waiting for the network)
        self.handles = [p.register_post_accumulate_grad_hook(self._hook) for p in params]

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []

    # ---- during backward ----------------------------------------------------------------
    def _hook(self, p):
        if not self.enabled:
            return
        k = self.counts.get(id(p), 0) + 1
        self.counts[id(p)] = k
        if k < self.passes:
            return
        self.busy = True
        bi, j = self.slot[id(p)]
        b = self.buckets[bi]
        if j in b.filled:
            return
        o = b.offsets[j]
        b.buf[o:o + p.data.size] = p.grad.reshape(-1)
        b.filled.add(j)
        if not self.overlap:
            return
        while self.next < len(self.buckets) and \
                len(self.buckets[self.next].filled) == len(self.buckets[self.next].params):
            self._start(self.buckets[self.next])
            self.next += 1
        if self.ctrl is not None:
            # Open MPI moves a non-blocking collective along only inside MPI calls
            self.w.mpi.Request.Testall([b.req for b in self.buckets[:self.next]])

    def _start(self, b):
        w = self.w
        if self.ctrl is None:
            self.ctrl = w.begin(1, self.nbytes)
        b.req = w.comm.Iallreduce(w.mpi.IN_PLACE, b.buf, op=w.mpi.SUM)

    def complete(self):
        """Whether every bucket has been filled (the last backward reached all)."""
        return all(len(b.filled) == len(b.params) for b in self.buckets)

    # ---- after backward ---------------------------------------------------------------------
    def finish(self):
        """Reduce what is left, wait, write the averaged gradients back."""
        if not self.busy:
            return False
        t0 = time.perf_counter()
        w = self.w
        for b in self.buckets[self.next:]:
            for j, p in enumerate(b.params):
                if j not in b.filled:
                    o = b.offsets[j]
                    if p.grad is not None and self.counts.get(id(p), 0) > 0:
                        b.buf[o:o + p.data.size] = p.grad.reshape(-1)
                    else:
                        b.buf[o:o + p.data.size] = 0
            self._start(b)
        self.next = len(self.buckets)
        req, v = self.ctrl
        try:
            w.check(req, v, 1, self.where)
            w.wait([b.req for b in self.buckets], self.where)
        finally:
            self._reset()
        n = w.size
        for b in self.buckets:
            if n & (n - 1) == 0:
                b.buf *= 1.0 / n           # exact for powers of two
            else:
                b.buf /= n
            for p, o in zip(b.params, b.offsets):
                g = b.buf[o:o + p.data.size].reshape(p.data.shape)
                if p.grad is None or p.grad.shape != p.data.shape or p.grad.dtype != g.dtype \
                        or not p.grad.flags.writeable:
                    p.grad = g.copy()
                else:
                    p.grad[...] = g
        w.step += 1
        self.seconds += time.perf_counter() - t0
        return True

    def _reset(self):
        for b in self.buckets:
            b.filled.clear()
            b.req = None
        self.counts.clear()
        self.next, self.ctrl, self.busy = 0, None, False


class _DistributedMixin:
    """What DistributedOptimizer adds to the user's optimizer class."""

    def _dist_setup(self, backward_passes_per_step, bucket_cap_mb, overlap):
        self._dist_passes = backward_passes_per_step
        self._dist_skip = False
        self._dist_reducer = None
        if _w().size > 1:
            params = [p for g in self.param_groups for p in g["params"]]
            self._dist_reducer = _Reducer(params, bucket_cap_mb, f"{type(self).__name__}.step",
                                          backward_passes_per_step, overlap)

    def synchronize(self):
        """Finish averaging the gradients now (before clipping them); then call
        ``step()`` inside :meth:`skip_synchronize`."""
        if self._dist_reducer is not None:
            self._dist_reducer.finish()

    @contextlib.contextmanager
    def skip_synchronize(self):
        """``step()`` inside this block does not synchronise (it was done already).

        >>> import numpy as np, fastnn as fn, fastnn.distributed as dist
        >>> m = fn.nn.Linear(2, 1)
        >>> opt = dist.DistributedOptimizer(fn.optim.SGD(m.parameters(), lr=0.1))
        >>> m(fn.tensor(np.ones((1, 2), np.float32))).sum().backward()
        >>> opt.synchronize()
        >>> for p in m.parameters():   # clip the averaged gradients here
        ...     p.grad = np.clip(p.grad, -1.0, 1.0)
        >>> with opt.skip_synchronize():
        ...     opt.step()
        """
        self._dist_skip = True
        try:
            yield
        finally:
            self._dist_skip = False

    def step(self, closure=None):
        loss = None
        if closure is not None:
            from ..autograd import enable_grad
            with enable_grad():
                loss = closure()
        if not self._dist_skip:
            self.synchronize()
        super().step()
        return loss

    def zero_grad(self, set_to_none=True):
        if self._dist_reducer is not None:
            self._dist_reducer.finish()      # keep every rank's collectives aligned
        super().zero_grad(set_to_none)

    @property
    def allreduce_seconds(self):
        """Seconds spent waiting for gradient reductions after backward (so far)."""
        return 0.0 if self._dist_reducer is None else self._dist_reducer.seconds


_CLASSES = {}


def DistributedOptimizer(optimizer, backward_passes_per_step=1, bucket_cap_mb=25,
                         overlap=True):
    """Wrap ``optimizer`` so ``step()`` uses gradients averaged over all ranks.

    Returns an instance of a subclass of the optimizer's own class (made on the fly, as
    Horovod does), holding the same parameter groups and state, so ``compile()``,
    schedulers and ``state_dict()`` accept it; use it instead of the original.
    Reductions start during backward (bucketed, ``bucket_cap_mb``); ``step()`` waits
    for them. Call ``synchronize()`` then ``step()`` inside ``skip_synchronize()`` to
    clip averaged gradients. With ``backward_passes_per_step=k`` gradients of k
    backward passes are summed locally and reduced once. With one process it is the
    plain optimizer.

    >>> import numpy as np, fastnn as fn, fastnn.distributed as dist
    >>> opt = dist.DistributedOptimizer(fn.optim.Adam(fn.nn.Linear(2, 1).parameters()))
    >>> isinstance(opt, fn.optim.Adam), type(opt).__name__
    (True, 'DistributedAdam')
    """
    from ..optim import Optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"DistributedOptimizer: optimizer must be a fastnn.optim.Optimizer, "
                        f"got {type(optimizer).__name__}.")
    if isinstance(optimizer, _DistributedMixin):
        raise ValueError("DistributedOptimizer: the optimizer is already distributed.")
    if isinstance(backward_passes_per_step, bool) or \
            not isinstance(backward_passes_per_step, (int, np.integer)) or backward_passes_per_step < 1:
        raise ValueError(f"DistributedOptimizer: backward_passes_per_step must be a positive "
                         f"int, got {backward_passes_per_step!r}.")
    _check_cap("DistributedOptimizer", bucket_cap_mb)
    cls = type(optimizer)
    dcls = _CLASSES.get(cls)
    if dcls is None:
        dcls = _CLASSES[cls] = type("Distributed" + cls.__name__, (_DistributedMixin, cls),
                                    {"__module__": cls.__module__})
    new = object.__new__(dcls)
    new.__dict__.update(optimizer.__dict__)
    new._dist_setup(int(backward_passes_per_step), bucket_cap_mb, overlap)
    return new


def _check_cap(where, cap):
    if isinstance(cap, bool) or not isinstance(cap, (int, float, np.integer, np.floating)) \
            or not np.isfinite(cap) or cap <= 0:
        raise ValueError(f"{where}: bucket_cap_mb must be a positive number, got {cap!r}.")


def _module_base():
    from ..nn import Module
    return Module


class DistributedDataParallel(_module_base()):
    """Wrap ``module``: rank 0's parameters are broadcast at construction and every
    backward averages the gradients over the ranks (bucketed, overlapping backward;
    done when backward returns). Use a plain optimizer with it.

    Inside ``with ddp.no_sync():`` gradients only accumulate locally; the next backward
    outside reduces the accumulated sum.

    >>> import numpy as np, fastnn as fn, fastnn.distributed as dist
    >>> ddp = dist.DistributedDataParallel(fn.nn.Linear(2, 1))
    >>> ddp(fn.tensor(np.ones((3, 2), np.float32))).shape
    (3, 1)
    """

    def __init__(self, module, bucket_cap_mb=25, broadcast_buffers=True):
        super().__init__()
        from ..nn import Module
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a fastnn.nn.Module, "
                            f"got {type(module).__name__}.")
        _check_cap("DistributedDataParallel", bucket_cap_mb)
        self.module = module
        broadcast_parameters(module)
        params = [p for p in module.parameters() if p.requires_grad]
        red = None
        if _w().size > 1:
            red = _Reducer(params, bucket_cap_mb, "DistributedDataParallel backward")
            hook = red._hook

            def last_hook(p):
                hook(p)
                if red.enabled and red.complete():
                    red.finish()
            for h in red.handles:
                h.remove()
            red.handles = [p.register_post_accumulate_grad_hook(last_hook) for p in params]
        object.__setattr__(self, "_dist_reducer", red)

    def forward(self, *args, **kwargs):
        red = self._dist_reducer
        if red is not None and red.busy and red.enabled:
            missing = [tuple(p.shape) for b in red.buckets for j, p in enumerate(b.params)
                       if j not in b.filled]
            red.finish()
            raise DistributedError(
                f"DistributedDataParallel: the last backward gave no gradient to "
                f"{len(missing)} parameter(s) (shapes {missing[:4]}); every parameter "
                f"must take part in the loss (their gradients were averaged as zeros).")
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Accumulate gradients locally in this block (no communication)."""
        red = self._dist_reducer
        if red is None:
            yield
            return
        red.enabled = False
        try:
            yield
        finally:
            red.enabled = True
