"""Headline: one MLP training epoch, fastnn beside torch in the same run.

Model Linear(784,256)-ReLU-Dropout(0.2)-Linear(256,128)-ReLU-Linear(128,10),
cross-entropy, Adam(lr=1e-3), batch 128, 60k samples, 2 threads for both.
"""
import numpy as np

import fastnn as fn
from fastnn import workloads as W

from ._common import THREADS, needs_torch, set_threads, torch, torch_or_skip


def _torch():
    torch = torch_or_skip()
    torch.set_num_threads(THREADS)
    return torch


class MLPEpoch:
    number = 1
    repeat = 3
    timeout = 600

    def setup(self):
        fn.set_num_threads(THREADS)
        self.x, self.y = W.make_teacher_data()
        # compile kernels and touch every path once, outside the timed region
        m = W.mlp_fastnn()
        W.train_epoch_fastnn(m, fn.optim.Adam(m.parameters(), lr=1e-3), self.x[:1024], self.y[:1024])

    def time_epoch_fastnn(self):
        m = W.mlp_fastnn()
        W.train_epoch_fastnn(m, fn.optim.Adam(m.parameters(), lr=1e-3), self.x, self.y)

    @needs_torch
    def time_epoch_torch(self):
        torch = _torch()
        m = W.mlp_torch()
        W.train_epoch_torch(m, torch.optim.Adam(m.parameters(), lr=1e-3), self.x, self.y)

    @needs_torch
    def time_epoch_torch_fused_adam(self):
        torch = _torch()
        m = W.mlp_torch()
        W.train_epoch_torch(m, torch.optim.Adam(m.parameters(), lr=1e-3, fused=True), self.x, self.y)


class MLPEpochPeakMem:
    """Peak RSS of a process that trains one epoch (data included in both)."""
    timeout = 600

    def setup(self):
        fn.set_num_threads(THREADS)
        self.x, self.y = W.make_teacher_data()

    def peakmem_epoch_fastnn(self):
        m = W.mlp_fastnn()
        W.train_epoch_fastnn(m, fn.optim.Adam(m.parameters(), lr=1e-3), self.x, self.y)

    @needs_torch
    def peakmem_epoch_torch(self):
        torch = _torch()
        m = W.mlp_torch()
        W.train_epoch_torch(m, torch.optim.Adam(m.parameters(), lr=1e-3), self.x, self.y)


class MLPInference:
    """Single-sample latency through the model under no_grad / eval: fastnn, the
    plain-NumPy floor (the same three GEMVs, bias adds and ReLUs) and torch. Target:
    fastnn at most 0.3x torch."""

    def setup(self):
        set_threads()
        self.sample = np.random.default_rng(0).standard_normal((1, 784), dtype=np.float32)
        self.m = W.mlp_fastnn().eval()
        self.params = [p.data for p in self.m.parameters()]
        with fn.no_grad():
            self.m(self.sample)
        if torch is not None:
            self.tm = W.mlp_torch().eval()
            self.tsample = torch.from_numpy(self.sample)

    def time_single_sample_fastnn(self):
        with fn.no_grad():
            self.m(self.sample)

    def time_single_sample_numpy(self):
        p = self.params
        h = np.maximum(self.sample @ p[0].T + p[1], 0)
        h = np.maximum(h @ p[2].T + p[3], 0)
        h @ p[4].T + p[5]

    @needs_torch
    def time_single_sample_torch(self):
        with torch.no_grad():
            self.tm(self.tsample)
