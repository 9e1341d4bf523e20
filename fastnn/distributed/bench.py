"""Step time and allreduce time of data-parallel training, and a ring-allreduce cost
model: ``mpirun -n 2 python -m fastnn.distributed.bench``.

In one run, interleaved step by step on identical models, it times for the MLP
(fastnn.workloads, batch 128 per rank) and a small CNN (batch 32 per rank):

* ``local``: forward + backward + Adam step with no communication;
* ``after``: reductions started only when backward has returned (``overlap=False``);
* ``overlap``: bucket reductions started from the post-accumulate-grad hooks;
* ``allreduce``: one Allreduce of the gradient bytes on its own.

Rank 0 prints medians, the allreduce share of the step and the overlap gained, then
projects step time to 2-64 machines with the ring-allreduce model
``T(N) = 2 (N-1)/N * bytes / bandwidth + 2 (N-1) * latency``.
"""
import argparse
import time

import numpy as np

import fastnn as fn
import fastnn.distributed as dist
import fastnn.functional as F


def mlp():
    from fastnn.workloads import mlp_fastnn
    m = mlp_fastnn()
    m.eval()          # no dropout: the identical models must stay comparable
    return m, (128, 784)


def cnn():
    fn.manual_seed(0)
    nn = fn.nn
    m = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    return m, (32, 1, 28, 28)


def measure(build, steps, bucket_cap_mb):
    rng = np.random.default_rng(dist.rank())
    models, opts = {}, {}
    for mode in ("local", "after", "overlap"):
        m, shape = build()
        dist.broadcast_parameters(m)
        opt = fn.optim.Adam(m.parameters(), lr=1e-3)
        if mode != "local":
            opt = dist.DistributedOptimizer(opt, bucket_cap_mb=bucket_cap_mb,
                                            overlap=mode == "overlap")
        models[mode], opts[mode] = m, opt
    nbytes = sum(p.data.nbytes for p in models["local"].parameters())
    times = {k: [] for k in ("local", "after", "overlap", "allreduce")}
    flat = np.zeros(nbytes // 4, np.float32)
    for s in range(steps + 3):
        x = rng.standard_normal(shape, dtype=np.float32)
        y = rng.integers(0, 10, shape[0])
        for mode in ("local", "after", "overlap"):
            dist.barrier()            # every rank starts the step together
            t0 = time.perf_counter()
            opts[mode].zero_grad()
            F.cross_entropy(models[mode](x), y).backward()
            opts[mode].step()
            if s >= 3:                # warm-up steps
                times[mode].append(time.perf_counter() - t0)
        dist.barrier()
        t0 = time.perf_counter()
        dist.allreduce_(flat, "sum")
        if s >= 3:
            times["allreduce"].append(time.perf_counter() - t0)
    med = {k: float(np.median(v)) for k, v in times.items()}
    # each rank's medians, then the slowest rank's (a step is as slow as its slowest rank)
    vals = np.array([med[k] for k in ("local", "after", "overlap", "allreduce")])
    dist.allreduce_(vals, "max")
    return dict(zip(("local", "after", "overlap", "allreduce"), vals)), nbytes


def ring(nbytes, n, gbit, latency):
    if n == 1:
        return 0.0
    return 2 * (n - 1) / n * nbytes / (gbit * 1e9 / 8) + 2 * (n - 1) * latency


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fastnn.distributed.bench")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--bucket-cap-mb", type=float, default=0.25,
                   help="bucket size (default 0.25 MB, so the MLP's 0.9 MB has 4 buckets)")
    p.add_argument("--latency-us", type=float, default=10.0,
                   help="per-message latency of the modelled network (default 10 us)")
    a = p.parse_args(argv)
    dist.init()
    rows = []
    for name, build in (("MLP 784-256-128-10, batch 128/rank", mlp),
                        ("CNN 2 conv + 2 dense, batch 32/rank", cnn)):
        med, nbytes = measure(build, a.steps, a.bucket_cap_mb)
        rows.append((name, med, nbytes))
    if dist.rank() != 0:
        return 0
    n = dist.size()
    print(f"fastnn.distributed.bench: {n} rank(s), {a.steps} steps, medians of the slowest "
          f"rank, ms")
    print("| workload | grad MB | local step | reduce after backward | overlapped | "
          "allreduce alone | allreduce share | overlap gain |")
    print("|---|---|---|---|---|---|---|---|")
    for name, m, nbytes in rows:
        share = (m["after"] - m["local"]) / m["after"] if m["after"] else 0.0
        gain = (m["after"] - m["overlap"]) / m["after"] if m["after"] else 0.0
        print(f"| {name} | {nbytes / 2**20:.2f} | {m['local'] * 1e3:.2f} | "
              f"{m['after'] * 1e3:.2f} | {m['overlap'] * 1e3:.2f} | {m['allreduce'] * 1e3:.2f} | "
              f"{share:.0%} | {gain:+.0%} |")
    print(f"\nring-allreduce model, {a.latency_us:g} us latency per message; step = local "
          f"step (compute, measured above) + allreduce (no overlap), ms [efficiency]")
    ns = (2, 4, 8, 16, 32, 64)
    print("| workload | network | " + " | ".join(f"N={k}" for k in ns) + " |")
    print("|---|---|" + "---|" * len(ns))
    for name, m, nbytes in rows:
        for gbit in (10, 100):
            cells = []
            for k in ns:
                t = m["local"] + ring(nbytes, k, gbit, a.latency_us * 1e-6)
                cells.append(f"{t * 1e3:.1f} [{m['local'] / t:.0%}]")
            print(f"| {name.split(',')[0]} | {gbit} Gb/s | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main())
