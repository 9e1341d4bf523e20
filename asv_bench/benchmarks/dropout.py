"""Dropout, fastnn beside torch (and NumPy) in the same run.

* ``Dropout4M``: 4M float32 elements, p = 0.5 (target: at most a tenth of torch's
  time, forward and forward+backward). Forward+backward goes through the
  public API: ``F.dropout`` on a tensor that requires grad, then ``backward(g)``.
* ``DropoutMLPBatch``: the headline MLP's activations, (128, 256) float32: the small,
  serial path, where per-call overhead matters.
* ``Dropout2d``: channel dropout on (32, 64, 32, 32) float32 (2M elements).

Kernels are compiled and run once in ``setup``, outside the timed region.
"""
import numpy as np

import fastnn as fn
import fastnn.functional as F

from ._common import needs_torch, set_threads, torch

P = 0.5


class _DropoutBench:
    shape = (1 << 22,)
    fast = staticmethod(F.dropout)

    def setup(self):
        set_threads()
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal(self.shape).astype(np.float32)
        self.g = rng.standard_normal(self.shape).astype(np.float32)
        self.gen = fn.Generator(0)
        self.xg = fn.Tensor(self.x, requires_grad=True)
        self.time_fwd_fastnn()          # compile and fault the pages in
        self.time_fwd_bwd_fastnn()
        if torch is not None:
            self.tx = torch.from_numpy(self.x)
            self.txg = torch.from_numpy(self.x.copy()).requires_grad_(True)
            self.tg = torch.from_numpy(self.g)
            self.tfn = {F.dropout: torch.nn.functional.dropout,
                        F.dropout2d: torch.nn.functional.dropout2d}[self.fast]

    def time_fwd_fastnn(self):
        self.fast(self.x, P, generator=self.gen)

    @needs_torch
    def time_fwd_torch(self):
        self.tfn(self.tx, P, True)

    def time_fwd_bwd_fastnn(self):
        self.xg.grad = None
        self.fast(self.xg, P, generator=self.gen).backward(self.g)

    @needs_torch
    def time_fwd_bwd_torch(self):
        self.txg.grad = None
        self.tfn(self.txg, P, True).backward(self.tg)


class Dropout4M(_DropoutBench):
    shape = (1 << 22,)

    def time_fwd_numpy(self):
        # the plain NumPy way: uniform draws, compare, scale
        keep = np.random.default_rng(0).random(self.x.shape, np.float32) >= P
        np.multiply(self.x, keep, dtype=np.float32) * np.float32(1 / (1 - P))


class DropoutMLPBatch(_DropoutBench):
    shape = (128, 256)


class Dropout2d(_DropoutBench):
    shape = (32, 64, 32, 32)
    fast = staticmethod(F.dropout2d)
