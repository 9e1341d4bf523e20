"""Cold start of one process: import, then the first and second training step of the asv
MLP (784-256-128-10 with dropout, cross-entropy, Adam, batch 128, 2 threads).

    NUMBA_CACHE_DIR=$(mktemp -d) /usr/bin/time python asv_bench/cold_start.py fastnn
    /usr/bin/time python asv_bench/cold_start.py torch

Run each in a fresh process (an empty NUMBA_CACHE_DIR makes fastnn's cold case); on a
shared machine compare the CPU seconds `time` reports, not the wall clock.
"""
import os
import sys
import time

t0 = time.perf_counter()
# the checkout's fastnn (this file's parent directory), as the benchmarks use
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
which = sys.argv[1] if len(sys.argv) > 1 else "fastnn"
if which == "fastnn":
    import fastnn as fn
    import fastnn.functional as F
    from fastnn import workloads as W
    t1 = time.perf_counter()
    fn.set_num_threads(2)
    x, y = W.make_teacher_data()
    xb, yb = x[:128], y[:128]
    model = W.mlp_fastnn()
    opt = fn.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = F.cross_entropy
elif which == "torch":
    import torch
    from fastnn import workloads as W
    t1 = time.perf_counter()
    torch.set_num_threads(2)
    x, y = W.make_teacher_data()
    xb, yb = torch.from_numpy(x[:128]), torch.from_numpy(y[:128]).long()
    model = W.mlp_torch()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.functional.cross_entropy
else:
    sys.exit(f"cold_start.py: expected 'fastnn' or 'torch', got {which!r}")
steps = []
for _ in range(2):
    t = time.perf_counter()
    opt.zero_grad()
    loss_fn(model(xb), yb).backward()
    opt.step()
    steps.append(time.perf_counter() - t)
print(f"{which}: import {t1 - t0:.3f} s, first step {steps[0]:.3f} s, second step {steps[1]:.3f} s")
