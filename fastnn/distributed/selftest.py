"""Self-test of fastnn.distributed: ``mpirun -n 2 python -m fastnn.distributed.selftest``.

Cases (``--case``, default ``all`` = torch, ddp, keras, optstate):

* ``torch``: a torch-style loop with DistributedOptimizer (Adam and SGD with momentum,
  float64 and float32, with ``synchronize``/``skip_synchronize`` clipping and
  ``backward_passes_per_step=2``): after every step the parameters are bitwise equal
  on all ranks and equal to one process training on the combined batch (float64 to
  1e-12, float32 to 1e-5).
* ``ddp``: the same with DistributedDataParallel and a plain optimizer, plus no_sync.
* ``keras``: ``fit`` with a DistributedOptimizer, BroadcastParameters, MetricAverage and
  a rank-0-only ModelCheckpoint, against ``fit`` on the combined data.
* ``optstate``: broadcast_optimizer_state / broadcast_object.
* ``unequal`` (Keras fit, 13 vs 11 batches), ``unequal-loop`` (torch loop), ``hang`` (the
  last rank stops answering) and ``crash`` (the last rank dies): each rank must stop
  with a DistributedError (exit status 1), never hang.

Every rank prints ``[rank r/n] OK <case>`` per passed case; a failure raises.
With one process (no launcher) the same checks run against the same reference.
"""
import argparse
import io
import os
import sys
import time

import numpy as np

import fastnn as fn
import fastnn.distributed as dist
import fastnn.functional as F

TOL = {np.float64: 1e-12, np.float32: 1e-5}


def say(msg):
    print(f"[rank {dist.rank()}/{dist.size()}] {msg}", flush=True)


def mlp(dtype, seed):
    fn.manual_seed(seed)
    m = fn.nn.Sequential(fn.nn.Linear(6, 16), fn.nn.Tanh(), fn.nn.Linear(16, 3))
    return m.double() if dtype == np.float64 else m


def data(n, dtype, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6)).astype(dtype), rng.integers(0, 3, n)


def flat(model):
    return np.concatenate([p.data.ravel().astype(np.float64) for p in model.parameters()])


def assert_identical(model, what):
    """The parameters are bitwise equal on every rank."""
    a = flat(model)
    hi, lo = dist.allreduce_(a.copy(), "max"), dist.allreduce_(a.copy(), "min")
    if not (np.array_equal(hi, a) and np.array_equal(lo, a)):
        raise AssertionError(f"{what}: ranks differ by up to {np.max(hi - lo):.3e}")


def assert_close(model, ref, dtype, what):
    a, b = flat(model), flat(ref)
    err = np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))
    if not err <= TOL[dtype]:
        raise AssertionError(f"{what}: differs from one process on the combined batch by "
                             f"{err:.3e} (tolerance {TOL[dtype]:g})")
    return err


def copy_weights(dst, src):
    for p, q in zip(dst.parameters(), src.parameters()):
        p.data[...] = q.data


def make_opt(kind, params):
    if kind == "adam":
        return fn.optim.Adam(params, lr=0.01)
    return fn.optim.SGD(params, lr=0.1, momentum=0.9)


def clip(params, c=0.05):
    for p in params:
        if p.grad is not None:
            np.clip(p.grad, -c, c, out=p.grad)


def case_torch(ddp=False):
    n, r = dist.size(), dist.rank()
    B, steps = 8, 6
    for dtype in (np.float64, np.float32):
        for kind in ("adam", "sgd"):
            for passes in (1, 2):
                if ddp and passes == 2:
                    continue
                x, y = data(B * n * steps * passes, dtype)
                ref = mlp(dtype, 0)
                model = mlp(dtype, 0 if r == 0 else 10 + r)   # differ until broadcast
                if ddp:
                    net = dist.DistributedDataParallel(model)
                    opt = make_opt(kind, model.parameters())
                else:
                    dist.broadcast_parameters(model)
                    net = model
                    opt = dist.DistributedOptimizer(make_opt(kind, model.parameters()),
                                                    backward_passes_per_step=passes)
                ref_opt = make_opt(kind, ref.parameters())
                assert_identical(model, "after the broadcast")
                assert_close(model, ref, dtype, "after the broadcast")
                worst = 0.0
                for s in range(steps):
                    opt.zero_grad()
                    ref_opt.zero_grad()
                    for k in range(passes):
                        # the combined batch of this pass: n slices of B rows, rank r has slice r
                        lo = ((s * passes + k) * n) * B
                        xb, yb = x[lo:lo + n * B], y[lo:lo + n * B]
                        loss = F.cross_entropy(net(xb[r * B:(r + 1) * B]), yb[r * B:(r + 1) * B])
                        loss.backward()
                        F.cross_entropy(ref(xb), yb).backward()
                    if s % 2 and not ddp:
                        opt.synchronize()
                        clip(model.parameters())
                        clip(ref.parameters())
                        with opt.skip_synchronize():
                            opt.step()
                    else:
                        opt.step()
                    ref_opt.step()
                    what = f"{kind} {np.dtype(dtype).name} passes={passes} step {s}"
                    assert_identical(model, what)
                    worst = max(worst, assert_close(model, ref, dtype, what))
                say(f"ok {'ddp' if ddp else 'torch'} {kind} {np.dtype(dtype).name} "
                    f"passes={passes}: max rel. difference to one process {worst:.2e}")
    if ddp:
        # no_sync: two local backward passes, then a synchronised one
        dtype = np.float64
        x, y = data(3 * n * B, dtype, seed=5)
        model, ref = mlp(dtype, 20 + r), mlp(dtype, 0)
        net = dist.DistributedDataParallel(model)
        copy_weights(ref, model)
        for k in range(3):
            xb, yb = x[k * n * B:(k + 1) * n * B], y[k * n * B:(k + 1) * n * B]
            if k < 2:
                with net.no_sync():
                    F.cross_entropy(net(xb[r * B:(r + 1) * B]), yb[r * B:(r + 1) * B]).backward()
            else:
                F.cross_entropy(net(xb[r * B:(r + 1) * B]), yb[r * B:(r + 1) * B]).backward()
            F.cross_entropy(ref(xb), yb).backward()
        for p, q in zip(model.parameters(), ref.parameters()):
            err = np.max(np.abs(p.grad - q.grad))
            if not err <= 1e-12:
                raise AssertionError(f"no_sync: gradient differs by {err:.3e}")
        say("ok ddp no_sync")
    say(f"OK {'ddp' if ddp else 'torch'}")


def keras_model(seed):
    fn.manual_seed(seed)
    return fn.models.Sequential([fn.layers.Dense(16, activation="tanh", input_shape=(6,)),
                                 fn.layers.Dense(3, activation="softmax")])


class Record(fn.callbacks.Callback):
    """The epoch losses as the callbacks after MetricAverage see them."""

    def __init__(self):
        self.losses = []

    def on_epoch_end(self, epoch, logs=None):
        self.losses.append(logs["loss"])


def case_keras(tmpdir):
    n, r = dist.size(), dist.rank()
    B, steps, epochs = 8, 5, 3
    x, y = data(B * n * steps, np.float32, seed=3)
    # rank r's rows: slice r of every combined batch, so fit(shuffle=False) on rank r
    # sees exactly its share of the one-process batch
    xs = x.reshape(steps, n, B, 6)[:, r].reshape(-1, 6)
    ys = y.reshape(steps, n, B)[:, r].reshape(-1)
    ref = keras_model(0)
    ref.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    h_ref = ref.fit(x, y, batch_size=B * n, epochs=epochs, shuffle=False, verbose=0)
    model = keras_model(0 if r == 0 else 100 + r)
    model.compile(loss="sparse_categorical_crossentropy",
                  optimizer=dist.DistributedOptimizer(fn.optim.get("adam", list(model.parameters()))),
                  metrics=["accuracy"])
    ckpt = os.path.join(tmpdir, f"ckpt-{{epoch}}-{n}.fnn")
    seen = Record()
    model.fit(xs, ys, batch_size=B, epochs=epochs, shuffle=False, verbose=0,
                  callbacks=[dist.BroadcastParameters(), dist.MetricAverage(),
                             dist.ModelCheckpoint(ckpt, monitor="loss", save_weights_only=True),
                             seen])
    assert_identical(model, "keras fit")
    err = assert_close(model, ref, np.float32, "keras fit")
    # the averaged epoch loss is the mean over ranks of each rank's mean: equal to the
    # one-process mean of the combined data up to round-off
    # (read after MetricAverage: fit's History may come first in the callback order)
    for a, b in zip(seen.losses, h_ref.history["loss"]):
        if abs(a - b) > 1e-5 * max(1.0, abs(b)):
            raise AssertionError(f"keras fit: averaged loss {a} vs one process {b}")
    dist.barrier()
    written = sorted(f for f in os.listdir(tmpdir) if f.endswith(f"-{n}.fnn"))
    if len(written) != epochs:
        raise AssertionError(f"checkpoints: expected {epochs} files, got {written}")
    say(f"ok keras fit: max rel. difference to one process {err:.2e}, loss "
        f"{seen.losses[-1]:.6f} vs {h_ref.history['loss'][-1]:.6f}")
    say("OK keras")


def case_optstate():
    r = dist.rank()
    model = mlp(np.float64, 0)
    opt = fn.optim.Adam(model.parameters(), lr=0.01 if r == 0 else 0.5)
    if r == 0:
        x, y = data(16, np.float64)
        for _ in range(3):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    dist.broadcast_parameters(model)
    dist.broadcast_optimizer_state(opt)
    sd = opt.state_dict()
    buf = io.BytesIO()
    fn.save(sd, buf)
    mine = np.frombuffer(buf.getvalue(), np.uint8)
    root = dist.broadcast_object(sd if r == 0 else None)
    if opt.param_groups[0]["lr"] != 0.01 or len(sd["state"]) != len(root["state"]):
        raise AssertionError("optimizer state: hyper-parameters or state not broadcast")
    for k, st in root["state"].items():
        for name, v in st.items():
            if not np.array_equal(np.asarray(v), np.asarray(sd["state"][k][name])):
                raise AssertionError(f"optimizer state {k}/{name} differs from rank 0's")
    # buffers travel with the parameters (BatchNorm running statistics)
    bn = fn.nn.BatchNorm1d(4)
    bn.running_mean[...] = r + 1.0
    dist.broadcast_parameters(bn)
    if not np.array_equal(bn.running_mean, np.ones(4, bn.running_mean.dtype)):
        raise AssertionError(f"broadcast_parameters: running_mean {bn.running_mean} not rank 0's")
    sizes = dist.allgather_object({"n": len(mine)})
    if len({s["n"] for s in sizes}) != 1:
        raise AssertionError(f"optimizer state sizes differ: {sizes}")
    say("OK optstate")


def case_unequal(keras):
    """Rank 0 has 13 batches per epoch, the others 11: every rank must raise."""
    r = dist.rank()
    B = 4
    nb = 13 if r == 0 else 11
    x, y = data(B * nb, np.float32)
    try:
        if keras:
            model = keras_model(0)
            model.compile(loss="sparse_categorical_crossentropy",
                          optimizer=dist.DistributedOptimizer(fn.optim.get("adam", list(model.parameters()))))
            model.fit(x, y, batch_size=B, epochs=2, shuffle=False, verbose=0,
                      callbacks=[dist.BroadcastParameters(), dist.MetricAverage()])
        else:
            model = mlp(np.float32, 0)
            opt = dist.DistributedOptimizer(fn.optim.SGD(model.parameters(), lr=0.1))
            for b in range(nb):
                opt.zero_grad()
                F.cross_entropy(model(x[b * B:(b + 1) * B]), y[b * B:(b + 1) * B]).backward()
                opt.step()
    except dist.DistributedError as e:
        say(f"RAISED DistributedError: {e}")
        raise
    say("finished its loop")


def case_hang(crash):
    """The last rank stops answering (hang) or dies (crash) at the third step."""
    r, n = dist.rank(), dist.size()
    model = mlp(np.float32, 0)
    opt = dist.DistributedOptimizer(fn.optim.SGD(model.parameters(), lr=0.1))
    x, y = data(64, np.float32)
    try:
        for s in range(6):
            if s == 2 and r == n - 1:
                if crash:
                    os._exit(9)
                time.sleep(3600)
            opt.zero_grad()
            F.cross_entropy(model(x[s * 8:(s + 1) * 8]), y[s * 8:(s + 1) * 8]).backward()
            opt.step()
    except dist.DistributedError as e:
        say(f"RAISED DistributedError: {e}")
        raise


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fastnn.distributed.selftest")
    p.add_argument("--case", default="all",
                   choices=["all", "torch", "ddp", "keras", "optstate", "unequal",
                            "unequal-loop", "hang", "crash"])
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds a collective waits for the others (default 60)")
    p.add_argument("--tmpdir", default=None, help="where the keras case writes checkpoints")
    a = p.parse_args(argv)
    dist.init(timeout=a.timeout)
    cases = ["torch", "ddp", "keras", "optstate"] if a.case == "all" else [a.case]
    for c in cases:
        if c == "torch":
            case_torch()
        elif c == "ddp":
            case_torch(ddp=True)
        elif c == "keras":
            import tempfile
            tmp = a.tmpdir
            if tmp is None:      # one directory for all ranks (rank 0 writes there)
                tmp = dist.broadcast_object(tempfile.mkdtemp(prefix="fastnn-dist-")
                                            if dist.rank() == 0 else None)
            case_keras(tmp)
        elif c == "optstate":
            case_optstate()
        elif c in ("unequal", "unequal-loop"):
            case_unequal(keras=c == "unequal")
        else:
            case_hang(crash=c == "crash")
    say("ALL OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
