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


class FoldedInference:
    """Eval-mode inference of layer -> BatchNorm -> ReLU blocks under no_grad: fastnn's
    Sequential plan folds the BatchNorm into the layer; torch runs the three modules
    (``time_unfolded_fastnn``: fastnn's modules one by one, for the gain of folding)."""
    params = ["conv_64x16x28x28", "linear_256_batch1", "linear_256_batch256"]
    param_names = ["block"]

    def setup(self, block):
        set_threads()
        rng = np.random.default_rng(0)
        if block.startswith("conv"):
            layers = lambda nn: [nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU()]
            self.x = rng.standard_normal((64, 16, 28, 28)).astype(np.float32)
        else:
            layers = lambda nn: [nn.Linear(256, 256), nn.BatchNorm1d(256), nn.ReLU()]
            self.x = rng.standard_normal((1 if block.endswith("1") else 256, 256)).astype(np.float32)
        self.f = fn.nn.Sequential(*layers(fn.nn)).eval()
        for m in self.f:
            if isinstance(m, (fn.nn.BatchNorm1d, fn.nn.BatchNorm2d)):
                m.running_mean[...] = rng.standard_normal(m.num_features)
                m.running_var[...] = rng.uniform(0.5, 2, m.num_features)
        self.xt = fn.Tensor(self.x)
        self.time_fwd_fastnn(block)
        if torch is not None:
            self.t = torch.nn.Sequential(*layers(torch.nn)).eval()
            self.t.load_state_dict({k: torch.from_numpy(np.array(v))
                                    for k, v in self.f.state_dict().items()})
            self.tx = torch.from_numpy(self.x)

    def time_fwd_fastnn(self, block):
        with fn.no_grad():
            self.f(self.xt)

    def time_unfolded_fastnn(self, block):
        with fn.no_grad():
            x = self.xt
            for m in self.f:
                x = m(x)

    @needs_torch
    def time_fwd_torch(self, block):
        with torch.no_grad():
            self.t(self.tx)
