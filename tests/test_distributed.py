"""fastnn.distributed: the post-accumulate-grad hook, the one-process behaviour, and
(marker ``mpi``) the self-test under ``mpirun -n 2`` / ``-n 3``, including the errors
for unequal shards and a dead or hung rank."""
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import fastnn as fn
import fastnn.distributed as dist

# the ranks import the same fastnn as this process
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fn.__file__)))


# ---------------------------------------------------------------- post-accumulate-grad hook
def test_hook_sees_the_whole_gradient_once_per_backward():
    w = fn.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = fn.tensor(np.array([1.0]), requires_grad=True)
    seen = []
    hw = w.register_post_accumulate_grad_hook(lambda t: seen.append(("w", t.grad.copy())))
    b.register_post_accumulate_grad_hook(lambda t: seen.append(("b", t.grad.copy())))
    # w reaches the loss along three edges: its hook runs once, after all three
    ((w * w).sum() + (w * b).sum() * 3.0).backward()
    assert [k for k, _ in seen] == ["b", "w"]
    np.testing.assert_array_equal(seen[1][1], [5.0, 7.0])
    np.testing.assert_array_equal(seen[0][1], [9.0])
    seen.clear()
    (w * 2.0).sum().backward()        # accumulates: the hook sees the running .grad
    assert [k for k, _ in seen] == ["w"]
    np.testing.assert_array_equal(seen[0][1], [7.0, 9.0])
    seen.clear()
    hw.remove()
    hw.remove()                       # removing twice is harmless
    (w * b).sum().backward()
    assert [k for k, _ in seen] == ["b"]


def test_hook_not_called_for_a_leaf_outside_this_backward():
    w = fn.tensor(np.ones(2), requires_grad=True)
    v = fn.tensor(np.ones(2), requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    (v * 2.0).sum().backward()
    assert calls == []
    w.sum().backward()                # the root's own leaf
    (w.sum()).backward()
    assert calls == [1, 1]


def test_hook_registration_errors():
    w = fn.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="callable"):
        w.register_post_accumulate_grad_hook(3)
    with pytest.raises(RuntimeError, match="leaf"):
        (w * 2.0).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="leaf"):
        fn.tensor(np.ones(2)).register_post_accumulate_grad_hook(lambda t: None)


def test_hooks_leave_with_their_tensor():
    from fastnn.autograd import function
    before = len(function._POST_HOOKS)
    w = fn.tensor(np.ones(2), requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda t: None)
    assert len(function._POST_HOOKS) == before + 1
    del w
    import gc
    gc.collect()
    assert len(function._POST_HOOKS) == before


# ---------------------------------------------------------------- one process, no launcher
needs_no_launcher = pytest.mark.skipif(dist.size() != 1, reason="run under a launcher")


@needs_no_launcher
def test_one_process_world_does_nothing():
    assert (dist.rank(), dist.size(), dist.local_rank(), dist.local_size()) == (0, 1, 0, 1)
    a = np.arange(4.0)
    assert dist.allreduce_(a) is a and a.tolist() == [0, 1, 2, 3]
    assert dist.allreduce_(a, "sum").tolist() == [0, 1, 2, 3]
    assert dist.broadcast_(a) is a
    dist.barrier()
    obj = {"a": np.ones(2), "b": [1, "x"]}
    assert dist.broadcast_object(obj) is obj
    assert dist.allgather_object(3) == [3]
    m = fn.nn.Linear(3, 2)
    before = [p.data.copy() for p in m.parameters()]
    dist.broadcast_parameters(m)
    assert all(np.array_equal(p.data, q) for p, q in zip(m.parameters(), before))
    assert dist.is_root()


def test_bad_arguments():
    with pytest.raises(ValueError, match="op must be one of"):
        dist.allreduce_(np.ones(2), op="avg")
    with pytest.raises(TypeError, match="NumPy array or a Tensor"):
        dist.allreduce_([1.0, 2.0])
    with pytest.raises(ValueError, match="C-contiguous"):
        dist.allreduce_(np.ones((3, 2))[:, 0])
    with pytest.raises(TypeError, match="float"):
        dist.allreduce_(np.ones(2, np.int64), op="mean")
    with pytest.raises(ValueError, match="root must be a rank"):
        dist.broadcast_(np.ones(2), root=5)
    with pytest.raises(ValueError, match="timeout must be a positive"):
        dist.init(timeout=0)
    with pytest.raises(ValueError, match="n must be"):
        dist.shard(-1, 0)
    with pytest.raises(TypeError, match="fastnn.optim.Optimizer"):
        dist.DistributedOptimizer(object())
    opt = fn.optim.SGD(fn.nn.Linear(2, 1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="backward_passes_per_step"):
        dist.DistributedOptimizer(opt, backward_passes_per_step=0)
    with pytest.raises(ValueError, match="bucket_cap_mb"):
        dist.DistributedOptimizer(opt, bucket_cap_mb=-1)
    with pytest.raises(ValueError, match="already distributed"):
        dist.DistributedOptimizer(dist.DistributedOptimizer(opt))
    with pytest.raises(TypeError, match="Module"):
        dist.DistributedDataParallel(object())


@pytest.mark.parametrize("n", [0, 1, 7, 10, 13])
@pytest.mark.parametrize("size", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [True, False])
def test_shard_gives_equal_counts_and_covers_the_data(monkeypatch, n, size, drop_last):
    shards = []
    for r in range(size):
        fake = dist._World(60.0)
        fake.rank, fake.size = r, size
        monkeypatch.setattr(dist, "_world", fake)
        shards.append(dist.shard(n, epoch=2, seed=5, drop_last=drop_last))
    assert len({len(s) for s in shards}) == 1
    got = np.concatenate(shards)
    if drop_last:
        assert len(got) == n - n % size and len(set(got.tolist())) == len(got)
    else:
        assert set(got.tolist()) == set(range(n)) and len(got) == -(-n // size) * size
    # the same permutation on every rank, another one next epoch
    fake.rank = 0
    assert np.array_equal(dist.shard(n, 2, seed=5), dist.shard(n, 2, seed=5))
    if n > 3:
        assert not np.array_equal(dist.shard(n, 2, seed=5), dist.shard(n, 3, seed=5))


@needs_no_launcher
def test_distributed_optimizer_is_the_users_class():
    m = fn.nn.Linear(3, 2)
    adam = fn.optim.Adam(m.parameters(), lr=0.01)
    opt = dist.DistributedOptimizer(adam)
    assert isinstance(opt, fn.optim.Adam) and type(opt).__name__ == "DistributedAdam"
    assert type(dist.DistributedOptimizer(fn.optim.Adam(m.parameters()))) is type(opt)
    sched = fn.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    x = fn.tensor(np.ones((4, 3), np.float32))
    ref = fn.nn.Linear(3, 2)
    for p, q in zip(ref.parameters(), m.parameters()):
        p.data[...] = q.data
    ref_opt = fn.optim.Adam(ref.parameters(), lr=0.01)
    ref_sched = fn.optim.lr_scheduler.StepLR(ref_opt, step_size=1, gamma=0.5)
    for _ in range(3):
        for o, net, s in ((opt, m, sched), (ref_opt, ref, ref_sched)):
            o.zero_grad()
            net(x).sum().backward()
            o.step()
            s.step()
    assert opt.param_groups[0]["lr"] == 0.01 / 8
    for p, q in zip(m.parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert opt.state_dict()["state"].keys() == ref_opt.state_dict()["state"].keys()
    # Keras compile takes it as an optimizer instance
    km = fn.models.Sequential([fn.layers.Dense(2, input_shape=(3,))])
    kopt = dist.DistributedOptimizer(fn.optim.get("adam", list(km.parameters())))
    km.compile(loss="mse", optimizer=kopt)
    assert km.optimizer is kopt


@pytest.mark.slow
@needs_no_launcher
def test_selftest_one_process(tmp_path):
    """The self-test without a launcher: same checks, the reference is itself."""
    from fastnn.distributed import selftest
    assert selftest.main(["--tmpdir", str(tmp_path)]) == 0


# ---------------------------------------------------------------- under mpirun
def _mpirun():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None
    return shutil.which("mpirun") or shutil.which("mpirun", path=os.path.dirname(sys.executable))


MPIRUN = _mpirun()
mpi = [pytest.mark.mpi, pytest.mark.skipif(MPIRUN is None, reason="needs mpi4py and mpirun")]


def run_mpi(n, *args, timeout=300):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [MPIRUN, "-n", str(n), "--allow-run-as-root", "--oversubscribe",
           sys.executable, "-m", "fastnn.distributed.selftest", *args]
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr, time.monotonic() - t0


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("case", ["torch", "ddp", "keras", "optstate"])
def test_selftest_under_mpirun(n, case, tmp_path):
    rc, out, _ = run_mpi(n, "--case", case, "--tmpdir", str(tmp_path), "--timeout", "60")
    assert rc == 0, out[-4000:]
    for r in range(n):
        assert f"[rank {r}/{n}] OK {case}" in out, out[-4000:]
        assert f"[rank {r}/{n}] ALL OK" in out, out[-4000:]


for _m in mpi:
    test_selftest_under_mpirun = _m(test_selftest_under_mpirun)


@pytest.mark.parametrize("case", ["unequal", "unequal-loop"])
def test_unequal_shards_raise_on_every_rank(case):
    rc, out, took = run_mpi(2, "--case", case, "--timeout", "20", timeout=240)
    assert rc != 0, out[-4000:]
    assert "DistributedError" in out
    if case == "unequal":
        # both ranks hit the disagreement in the same collective and say so
        for r in range(2):
            assert f"[rank {r}/2] RAISED DistributedError" in out, out[-4000:]
        assert "unequal" in out and "shard" in out
    else:
        assert "[rank 0/2] RAISED DistributedError: " in out and "rank 1 finished" in out
        assert "DistributedError on rank 1: rank 0 stopped with an error" in out, out[-4000:]


@pytest.mark.parametrize("case", ["hang", "crash"])
def test_dead_rank_is_an_error_not_a_hang(case):
    rc, out, took = run_mpi(2, "--case", case, "--timeout", "5", timeout=240)
    assert rc != 0, out[-4000:]
    if case == "hang":
        assert "[rank 0/2] RAISED DistributedError" in out and "no answer" in out, out[-4000:]


for _f in ("test_unequal_shards_raise_on_every_rank", "test_dead_rank_is_an_error_not_a_hang"):
    for _m in mpi:
        globals()[_f] = _m(globals()[_f])
