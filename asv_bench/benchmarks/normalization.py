"""Normalisation layers, fastnn beside torch in the same run.

* ``BatchNorm2d``: (64, 32, 28, 28) float32 through the modules, training-mode forward
  and forward+backward (input, weight and bias gradients), and eval forward.
  Target: forward+backward at most torch's time.
* ``LayerNorm``: (4096, 1024) float32, forward and forward+backward. Target: at most
  torch's time.
* ``BatchNorm1d``: (4096, 256), the (N, C) layout (row-mode kernels).

Both engines use ``FASTNN_BENCH_THREADS`` threads (2 by default).
"""
import numpy as np

import fastnn as fn

from ._common import needs_torch, set_threads, torch


class _Norm:
    shape = None

    def make(self):
        raise NotImplementedError

    def setup(self):
        set_threads()
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal(self.shape).astype(np.float32)
        self.g = rng.standard_normal(self.shape).astype(np.float32)
        self.f, t = self.make()
        self.xg = fn.Tensor(self.x.copy(), requires_grad=True)
        self.time_fwd_fastnn()
        self.time_fwd_bwd_fastnn()
        if torch is not None:
            self.t = t
            self.tx = torch.from_numpy(self.x)
            self.txg = torch.from_numpy(self.x.copy()).requires_grad_(True)
            self.tg = torch.from_numpy(self.g)

    def time_fwd_fastnn(self):
        with fn.no_grad():
            self.f(self.x)

    @needs_torch
    def time_fwd_torch(self):
        with torch.no_grad():
            self.t(self.tx)

    def time_fwd_bwd_fastnn(self):
        self.xg.grad = None
        self.f.zero_grad()
        self.f(self.xg).backward(self.g)

    @needs_torch
    def time_fwd_bwd_torch(self):
        self.txg.grad = None
        self.t.zero_grad()
        self.t(self.txg).backward(self.tg)


class BatchNorm2d(_Norm):
    shape = (64, 32, 28, 28)

    def make(self):
        return fn.nn.BatchNorm2d(32), (torch.nn.BatchNorm2d(32) if torch is not None else None)

    def time_eval_fwd_fastnn(self):
        self.f.eval()
        with fn.no_grad():
            self.f(self.x)
        self.f.train()

    @needs_torch
    def time_eval_fwd_torch(self):
        self.t.eval()
        with torch.no_grad():
            self.t(self.tx)
        self.t.train()


class BatchNorm1d(_Norm):
    shape = (4096, 256)

    def make(self):
        return fn.nn.BatchNorm1d(256), (torch.nn.BatchNorm1d(256) if torch is not None else None)


class LayerNorm(_Norm):
    shape = (4096, 1024)

    def make(self):
        return fn.nn.LayerNorm(1024), (torch.nn.LayerNorm(1024) if torch is not None else None)
