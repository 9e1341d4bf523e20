"""Losses, fastnn beside torch in the same run.

* ``CrossEntropy4096x1000``: F.cross_entropy forward and forward+backward on
  (4096, 1000) float32 logits. Target: at most torch's time.
* ``CrossEntropySmall``: (128, 10) logits, the headline MLP's per-step call, where
  dispatch overhead is everything.
* ``Elementwise4M``: mse_loss, binary_cross_entropy and
  binary_cross_entropy_with_logits forward+backward on 4M float32 elements.

Both engines use ``FASTNN_BENCH_THREADS`` threads (2 by default); kernels compile and
pages fault in during ``setup``.
"""
import numpy as np

import fastnn as fn
import fastnn.functional as F

from ._common import needs_torch, set_threads, torch


class _CrossEntropy:
    shape = None

    def setup(self):
        set_threads()
        rng = np.random.default_rng(0)
        n, c = self.shape
        self.x = rng.standard_normal((n, c)).astype(np.float32)
        self.t = rng.integers(0, c, n)
        self.xg = fn.Tensor(self.x.copy(), requires_grad=True)
        self.time_fwd_bwd_fastnn()
        if torch is not None:
            self.tx = torch.from_numpy(self.x)
            self.tt = torch.from_numpy(self.t)
            self.txg = torch.from_numpy(self.x.copy()).requires_grad_(True)

    def time_fwd_fastnn(self):
        F.cross_entropy(self.x, self.t)

    @needs_torch
    def time_fwd_torch(self):
        with torch.no_grad():
            torch.nn.functional.cross_entropy(self.tx, self.tt)

    def time_fwd_bwd_fastnn(self):
        self.xg.grad = None
        F.cross_entropy(self.xg, self.t).backward()

    @needs_torch
    def time_fwd_bwd_torch(self):
        self.txg.grad = None
        torch.nn.functional.cross_entropy(self.txg, self.tt).backward()


class CrossEntropy4096x1000(_CrossEntropy):
    shape = (4096, 1000)


class CrossEntropySmall(_CrossEntropy):
    shape = (128, 10)


class Elementwise4M:
    params = ["mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]
    param_names = ["loss"]

    def setup(self, name):
        set_threads()
        rng = np.random.default_rng(0)
        n = 1 << 22
        if name == "binary_cross_entropy":
            x = rng.uniform(0.01, 0.99, n)
        else:
            x = rng.standard_normal(n)
        self.x = x.astype(np.float32)
        self.y = rng.uniform(0, 1, n).astype(np.float32)
        self.f = getattr(F, name)
        self.xg = fn.Tensor(self.x.copy(), requires_grad=True)
        self.time_fwd_bwd_fastnn(name)
        if torch is not None:
            self.tf = getattr(torch.nn.functional, name)
            self.ty = torch.from_numpy(self.y)
            self.txg = torch.from_numpy(self.x.copy()).requires_grad_(True)

    def time_fwd_bwd_fastnn(self, name):
        self.xg.grad = None
        self.f(self.xg, self.y).backward()

    @needs_torch
    def time_fwd_bwd_torch(self, name):
        self.txg.grad = None
        self.tf(self.txg, self.ty).backward()
