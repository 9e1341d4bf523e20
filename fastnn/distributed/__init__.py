"""Data-parallel training over MPI (``pip install fastnn[mpi]``: mpi4py + Open MPI).

Two lines turn a training script into a data-parallel one; launch it with
``mpirun -n 4 python train.py``::

    opt = dist.DistributedOptimizer(fn.optim.Adam(model.parameters()))
    dist.broadcast_parameters(model)            # every rank starts from rank 0's weights

and each rank trains on its own :func:`shard` of the data. Gradients are averaged in
buckets (``bucket_cap_mb``) in the same order on every rank; each bucket's non-blocking
Allreduce starts from a post-accumulate-grad hook while backward is still running.

Without a launcher (or without mpi4py) the world is one process: ``size() == 1``, the
collectives return their input unchanged and the optimizer is the plain one.

Every collective first exchanges a small control vector (a sequence number, the kind of
operation, the optimizer step, the byte count), so ranks that diverge (unequal shard
sizes, different code paths) get a :class:`DistributedError` on every rank instead of a
mismatched reduction; a rank that stops answering gives the same error after ``timeout``
seconds (``init(timeout=)`` or ``FASTNN_DIST_TIMEOUT``, default 60). A rank that leaves
(finishes, or dies with a Python error) tells the others, who raise at once.

>>> import fastnn.distributed as dist
>>> dist.size() >= 1 and 0 <= dist.rank() < dist.size()
True
"""
import atexit
import io
import os
import sys
import time

import numpy as np

__all__ = ["init", "is_initialized", "rank", "size", "local_rank", "local_size", "barrier",
           "allreduce_", "broadcast_", "broadcast_parameters", "broadcast_optimizer_state",
           "broadcast_object", "allgather_object", "DistributedOptimizer",
           "DistributedDataParallel", "shard", "DistributedError", "BroadcastParameters",
           "MetricAverage", "ModelCheckpoint", "is_root"]

_LAUNCHER_VARS = ("OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK",
                  "MV2_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")

# control vector slots (int64, reduced with MAX: slot and its negation give max and -min)
_SEQ, _KIND, _STEP, _NBYTES = 0, 2, 4, 6
_PAYLOAD = 8                      # root's object length for broadcast_object (MAX)
_CTRL_LEN = 9
_KINDS = {1: "gradient allreduce", 2: "allreduce_", 3: "broadcast_", 4: "barrier",
          5: "broadcast_object", 6: "metric averaging", 7: "allgather_object"}
_BYE = 71                        # tag of the goodbye message on the control communicator


class DistributedError(RuntimeError):
    """The ranks disagree (different steps or operations), or one stopped answering."""


class _World:
    """The communicators and the books every collective checks against."""

    def __init__(self, timeout):
        self.timeout = float(timeout)
        self.mpi = None
        self.rank, self.size, self.local_rank, self.local_size = 0, 1, 0, 1
        self.seq = 0              # collectives started by this process
        self.step = 0             # optimizer steps synchronised by this process
        self.broken = None        # the DistributedError that broke this world
        self.failed = False       # an uncaught exception is on its way out
        self.bye = None           # (rank, seq, step, ok) of a peer that left

    # ---- control round -------------------------------------------------------------
    def begin(self, kind, nbytes, payload=-1):
        """Start the control round of one collective; returns its request and buffer."""
        self.check_alive()
        self.seq += 1
        v = np.array([self.seq, -self.seq, kind, -kind, self.step, -self.step,
                      nbytes, -nbytes, payload], np.int64)
        return self.comm.Iallreduce(self.mpi.IN_PLACE, v, op=self.mpi.MAX), v

    def check(self, req, v, kind, where):
        self.wait([req], where)
        if v[_SEQ] == -v[_SEQ + 1] and v[_KIND] == -v[_KIND + 1] \
                and v[_STEP] == -v[_STEP + 1] and v[_NBYTES] == -v[_NBYTES + 1]:
            return v
        kinds = sorted({_KINDS.get(int(v[_KIND]), "?"), _KINDS.get(int(-v[_KIND + 1]), "?")})
        msg = (f"{where}: the ranks disagree at collective #{self.seq} (rank {self.rank} of "
               f"{self.size}): operations {' / '.join(kinds)}, optimizer steps "
               f"{-v[_STEP + 1]}..{v[_STEP]}, sizes {-v[_NBYTES + 1]}..{v[_NBYTES]} bytes. "
               f"Every rank must run the same operations on the same shapes; unequal step "
               f"counts usually mean unequal shard sizes (use fastnn.distributed.shard, "
               f"which gives every rank the same number of samples).")
        raise self.fail(msg)

    def fail(self, msg):
        self.broken = DistributedError(msg)
        return self.broken

    def check_alive(self):
        if self.broken is not None:
            raise DistributedError(f"the distributed world is broken by an earlier error: "
                                   f"{self.broken}")

    def wait(self, reqs, where):
        """Wait for ``reqs`` while watching for a peer that left and for the timeout."""
        MPI = self.mpi
        if MPI.Request.Testall(reqs):
            return
        deadline = time.monotonic() + self.timeout
        nap, grace = 2e-5, None
        while True:
            if MPI.Request.Testall(reqs):
                return
            self.poll_bye()
            if self.bye is not None and grace is None:
                # the peer may have finished this very collective: let its last
                # messages arrive before calling it gone
                grace = time.monotonic() + min(1.0, self.timeout)
            if grace is not None and time.monotonic() > grace:
                r, seq, step, ok = self.bye
                how = "finished" if ok else "stopped with an error"
                raise self.fail(
                    f"{where}: rank {r} {how} after {seq} collectives (optimizer step "
                    f"{step}) while rank {self.rank} waits in collective #{self.seq} "
                    f"(optimizer step {self.step}). Ranks ran different numbers of steps "
                    f"(unequal shard sizes? use fastnn.distributed.shard) or a rank failed.")
            if time.monotonic() > deadline:
                raise self.fail(
                    f"{where}: no answer from the other ranks within {self.timeout:g} s "
                    f"(rank {self.rank} of {self.size}, collective #{self.seq}, optimizer "
                    f"step {self.step}): a rank died or hangs, or the ranks run different "
                    f"code. Raise the limit with init(timeout=) or FASTNN_DIST_TIMEOUT.")
            time.sleep(nap)
            nap = min(nap * 2, 1e-3)

    def poll_bye(self):
        if self.bye is None and self.ctrl.Iprobe(source=self.mpi.ANY_SOURCE, tag=_BYE):
            st = self.mpi.Status()
            msg = np.empty(4, np.int64)
            self.ctrl.Recv(msg, source=self.mpi.ANY_SOURCE, tag=_BYE, status=st)
            self.bye = (st.Get_source(), int(msg[1]), int(msg[2]), bool(msg[3]))
            self.byes[st.Get_source()] = msg

    # ---- leaving ---------------------------------------------------------------------
    def leave(self):
        """At exit: tell every peer how far this rank got, hear theirs, and end cleanly
        (MPI_Finalize) only when all agree; otherwise print why and exit 1 at once, so
        no rank is left waiting in MPI_Finalize for a peer that will never come."""
        ok = self.broken is None and not self.failed
        problem = None
        if self.size > 1:
            msg = np.array([self.rank, self.seq, self.step, int(ok)], np.int64)
            sends = [self.ctrl.Isend(msg, dest=r, tag=_BYE)
                     for r in range(self.size) if r != self.rank]
            deadline = time.monotonic() + self.timeout
            while len(self.byes) < self.size - 1 and time.monotonic() < deadline:
                if self.ctrl.Iprobe(source=self.mpi.ANY_SOURCE, tag=_BYE):
                    self.poll_bye()
                    self.bye = None
                else:
                    time.sleep(1e-3)
            if len(self.byes) < self.size - 1:
                missing = sorted(set(range(self.size)) - set(self.byes) - {self.rank})
                problem = (f"rank(s) {missing} did not finish within {self.timeout:g} s "
                           f"of rank {self.rank}")
            else:
                for r, m in sorted(self.byes.items()):
                    if not m[3]:
                        problem = f"rank {r} stopped with an error"
                    elif m[1] != self.seq:
                        problem = (f"rank {r} ran {m[1]} collectives (optimizer step {m[2]}), "
                                   f"rank {self.rank} ran {self.seq} (step {self.step}): "
                                   f"ranks ran different numbers of steps (unequal shard "
                                   f"sizes? use fastnn.distributed.shard)")
                    if problem:
                        break
            end = time.monotonic() + min(self.timeout, 5.0)
            while not self.mpi.Request.Testall(sends) and time.monotonic() < end:
                time.sleep(1e-3)
        if ok and problem is None:
            return
        if ok and problem is not None:
            print(f"fastnn.distributed: DistributedError on rank {self.rank}: {problem}.",
                  file=sys.stderr, flush=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


_world = None


def init(timeout=None):
    """Join the MPI world if the script was started by a launcher (mpirun/srun), else
    become a world of one process. Called by every other function; calling it again
    does nothing.

    Args:
        timeout: seconds a collective waits for the other ranks before raising
            :class:`DistributedError` (default ``FASTNN_DIST_TIMEOUT`` or 60).

    Returns:
        int: the number of processes.
    """
    global _world
    if _world is not None:
        if timeout is not None:
            _world.timeout = _positive(timeout, "init", "timeout")
        return _world.size
    if timeout is None:
        timeout = os.environ.get("FASTNN_DIST_TIMEOUT", "60")
        try:
            timeout = float(timeout)
        except ValueError:
            raise ValueError(f"init: FASTNN_DIST_TIMEOUT must be a number of seconds, got "
                             f"{timeout!r}.") from None
    world = _World(_positive(timeout, "init", "timeout"))
    if any(v in os.environ for v in _LAUNCHER_VARS):
        try:
            from mpi4py import MPI
        except ImportError:
            MPI = None
        if MPI is not None and MPI.COMM_WORLD.Get_size() > 1:
            world.mpi = MPI
            world.comm = MPI.COMM_WORLD.Dup()      # collectives
            world.ctrl = MPI.COMM_WORLD.Dup()      # point-to-point goodbyes
            world.comm.Set_errhandler(MPI.ERRORS_RETURN)
            world.rank, world.size = world.comm.Get_rank(), world.comm.Get_size()
            local = world.comm.Split_type(MPI.COMM_TYPE_SHARED, key=world.rank)
            world.local_rank, world.local_size = local.Get_rank(), local.Get_size()
            local.Free()
            world.byes = {}
            hook = sys.excepthook

            def excepthook(*exc):
                world.failed = True
                hook(*exc)
            sys.excepthook = excepthook
            # Python's atexit runs before mpi4py's MPI_Finalize
            atexit.register(world.leave)
    _world = world
    return world.size


def _positive(x, where, name):
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) \
            or not np.isfinite(x) or x <= 0:
        raise ValueError(f"{where}: {name} must be a positive number of seconds, got {x!r}.")
    return float(x)


def _w():
    if _world is None:
        init()
    return _world


def is_initialized():
    """Whether :func:`init` has run (it runs on first use of any function here)."""
    return _world is not None


def rank():
    """This process's index in the world (0 without a launcher)."""
    return _w().rank


def size():
    """The number of processes (1 without a launcher)."""
    return _w().size


def local_rank():
    """This process's index among those on the same machine."""
    return _w().local_rank


def local_size():
    """The number of processes on this machine."""
    return _w().local_size


def is_root(root=0):
    """Whether this is rank ``root`` (checkpoints and printing happen there only)."""
    return _w().rank == root


def barrier():
    """Wait until every rank has arrived (with the timeout and divergence checks)."""
    w = _w()
    if w.size == 1:
        return
    req, v = w.begin(4, 0)
    w.check(req, v, 4, "barrier")


_OPS = ("mean", "sum", "max", "min")


def _float_array(where, arr):
    if isinstance(arr, np.ndarray):
        a = arr
    elif hasattr(arr, "data") and isinstance(arr.data, np.ndarray):
        a = arr.data                              # a Tensor / Parameter: in place
    else:
        raise TypeError(f"{where}: arr must be a NumPy array or a Tensor, got "
                        f"{type(arr).__name__}.")
    if not a.flags.c_contiguous or not a.flags.writeable:
        raise ValueError(f"{where}: arr must be a writeable C-contiguous array (the result "
                         f"is written in place), got a {'non-contiguous' if not a.flags.c_contiguous else 'read-only'} one.")
    if a.dtype.kind not in "fiu" or a.dtype.byteorder not in "=|":
        raise TypeError(f"{where}: arr must have a native numeric dtype, got {a.dtype}.")
    return a


def allreduce_(arr, op="mean"):
    """Reduce ``arr`` over all ranks in place ('mean', 'sum', 'max' or 'min').

    Args:
        arr: a C-contiguous NumPy array or Tensor; every rank passes the same shape.

    Returns:
        ``arr``.

    >>> import numpy as np, fastnn.distributed as dist
    >>> a = np.array([1.0, 2.0])
    >>> dist.allreduce_(a) is a, a * dist.size() / dist.size()
    (True, array([1., 2.]))
    """
    if op not in _OPS:
        raise ValueError(f"allreduce_: op must be one of {_OPS}, got {op!r}.")
    a = _float_array("allreduce_", arr)
    if op == "mean" and a.dtype.kind != "f":
        raise TypeError(f"allreduce_: op='mean' needs a float array, got {a.dtype}.")
    w = _w()
    if w.size == 1:
        return arr
    req, v = w.begin(2, a.nbytes)
    mop = {"mean": w.mpi.SUM, "sum": w.mpi.SUM, "max": w.mpi.MAX, "min": w.mpi.MIN}[op]
    data = w.comm.Iallreduce(w.mpi.IN_PLACE, a, op=mop)
    w.check(req, v, 2, "allreduce_")
    w.wait([data], "allreduce_")
    if op == "mean":
        a /= w.size
    return arr


def broadcast_(arr, root=0):
    """Overwrite ``arr`` (NumPy array or Tensor, same shape on every rank) with rank
    ``root``'s values. Returns ``arr``."""
    a = _float_array("broadcast_", arr)
    w = _w()
    _check_root("broadcast_", root, w)
    if w.size == 1:
        return arr
    req, v = w.begin(3, a.nbytes)
    data = w.comm.Ibcast(a, root=root)
    w.check(req, v, 3, "broadcast_")
    w.wait([data], "broadcast_")
    return arr


def _check_root(where, root, w):
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) \
            or not 0 <= root < w.size:
        raise ValueError(f"{where}: root must be a rank in [0, {w.size}), got {root!r}.")


def broadcast_object(obj, root=0):
    """Rank ``root``'s ``obj`` on every rank: nested dicts/lists/tuples of arrays and
    plain values, sent in fastnn's own file format (:func:`fastnn.save`), never pickle.

    >>> import fastnn.distributed as dist
    >>> dist.broadcast_object({"epoch": 3})
    {'epoch': 3}
    """
    w = _w()
    _check_root("broadcast_object", root, w)
    if w.size == 1:
        return obj
    from .. import serialization
    blob = None
    if w.rank == root:
        buf = io.BytesIO()
        serialization.save(obj, buf)
        blob = np.frombuffer(buf.getvalue(), np.uint8).copy()
    req, v = w.begin(5, 0, payload=len(blob) if blob is not None else -1)
    v = w.check(req, v, 5, "broadcast_object")
    n = int(v[_PAYLOAD])
    if blob is None:
        blob = np.empty(n, np.uint8)
    data = w.comm.Ibcast(blob, root=root)
    w.wait([data], "broadcast_object")
    if w.rank == root:
        return obj
    return serialization.load(io.BytesIO(blob.tobytes()))


def allgather_object(obj):
    """A list of every rank's ``obj`` (same restrictions as :func:`broadcast_object`)."""
    w = _w()
    if w.size == 1:
        return [obj]
    return [broadcast_object(obj if r == w.rank else None, root=r) for r in range(w.size)]


def broadcast_parameters(params, root=0):
    """Copy rank ``root``'s parameters (and buffers) into every rank's, in place.

    Args:
        params: a Module (its parameters and buffers, so BatchNorm statistics too), a
            dict name -> array/Tensor, or an iterable of Parameters.
    """
    for a in _param_arrays("broadcast_parameters", params):
        broadcast_(a, root)


def _param_arrays(where, params):
    if hasattr(params, "parameters") and hasattr(params, "named_buffers"):
        # the live arrays (never state_dict's values, which may be copies)
        return [p.data for p in params.parameters()] + \
            [b for _, b in params.named_buffers() if isinstance(b, np.ndarray)]
    if isinstance(params, dict):
        params = params.values()
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{where}: expected a Module, a dict or an iterable of Parameters, "
                        f"got {type(params).__name__}.") from None
    return [p if isinstance(p, np.ndarray) else p.data for p in params]


def broadcast_optimizer_state(optimizer, root=0):
    """Give every rank rank ``root``'s optimizer state (moments, step counts,
    hyper-parameters), via :meth:`state_dict` / :meth:`load_state_dict`."""
    if not hasattr(optimizer, "state_dict") or not hasattr(optimizer, "load_state_dict"):
        raise TypeError(f"broadcast_optimizer_state: expected an optimizer, got "
                        f"{type(optimizer).__name__}.")
    if _w().size == 1:
        return
    sd = broadcast_object(optimizer.state_dict() if rank() == root else None, root)
    if rank() != root:
        optimizer.load_state_dict(sd)


def shard(n, epoch, seed=0, shuffle=True, drop_last=True):
    """This rank's sample indices for ``epoch``: the same count on every rank.

    The ``n`` indices are shuffled by ``(seed, epoch)`` (the same permutation on every
    rank), then dealt round-robin. ``drop_last`` drops the ``n % size()`` left over;
    otherwise the permutation is padded by repeating its start (as torch's
    DistributedSampler), so no rank gets fewer samples.

    >>> import fastnn.distributed as dist
    >>> dist.shard(10, epoch=0, shuffle=False)[:3] if dist.size() == 1 else None
    array([0, 1, 2])
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"shard: n must be a non-negative int, got {n!r}.")
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"shard: epoch must be a non-negative int, got {epoch!r}.")
    w = _w()
    order = (np.random.default_rng([int(seed), int(epoch)]).permutation(n) if shuffle
             else np.arange(n))
    if drop_last:
        order = order[:n - n % w.size]
    elif n % w.size:
        if n == 0:
            return order
        extra = w.size - n % w.size
        order = np.concatenate([order, np.resize(order, extra)])
    return order[w.rank::w.size]


from ._reduce import DistributedOptimizer, DistributedDataParallel  # noqa: E402
from ._callbacks import BroadcastParameters, MetricAverage, ModelCheckpoint  # noqa: E402
