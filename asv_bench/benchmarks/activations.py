"""Activations, fastnn beside torch in the same run.

* ``Elementwise4M``: forward and forward+backward of relu, leaky_relu, sigmoid, tanh,
  elu, gelu, silu on 4M float32 elements, through the public API (``F.<name>`` on a
  tensor that requires grad, then ``backward(g)``). Target: at most torch's time.
* ``MemoryCopy4M``: the C ``copy`` kernel and ``np.copyto`` on the same array: the
  bandwidth baseline the piecewise-linear activations should stay within 80% of.
* ``Softmax4096x1000``: softmax and log_softmax over the last dim, forward and
  forward+backward. Target: at most torch's time.
* ``SmallRelu``: relu of one (1, 128) sample, where dispatch overhead is everything.

Both engines use ``FASTNN_BENCH_THREADS`` threads (2 by default); kernels compile and
pages fault in during ``setup``.
"""
import numpy as np

import fastnn as fn
import fastnn.functional as F
from fastnn._kernels import elementwise as E

from ._common import needs_torch, set_threads, torch

N = 1 << 22
ELEMENTWISE = ["relu", "leaky_relu", "sigmoid", "tanh", "elu", "gelu", "silu"]


class Elementwise4M:
    params = ELEMENTWISE
    param_names = ["activation"]
    shape, scale, kw = (N,), 1.0, {}

    def setup(self, name):
        set_threads()
        rng = np.random.default_rng(0)
        self.x = (self.scale * rng.standard_normal(self.shape)).astype(np.float32)
        self.g = rng.standard_normal(self.shape).astype(np.float32)
        self.f = getattr(F, name)
        self.xg = fn.Tensor(self.x.copy(), requires_grad=True)
        self.time_fwd_fastnn(name)
        self.time_fwd_bwd_fastnn(name)
        if torch is not None:
            self.tf = getattr(torch.nn.functional, name)
            self.tx = torch.from_numpy(self.x)
            self.txg = torch.from_numpy(self.x.copy()).requires_grad_(True)
            self.tg = torch.from_numpy(self.g)

    def time_fwd_fastnn(self, name):
        self.f(self.x, **self.kw)

    @needs_torch
    def time_fwd_torch(self, name):
        self.tf(self.tx, **self.kw)

    def time_fwd_bwd_fastnn(self, name):
        self.xg.grad = None
        self.f(self.xg, **self.kw).backward(self.g)

    @needs_torch
    def time_fwd_bwd_torch(self, name):
        self.txg.grad = None
        self.tf(self.txg, **self.kw).backward(self.tg)


class MemoryCopy4M:
    def setup(self):
        set_threads()
        self.x = np.random.default_rng(0).standard_normal(N).astype(np.float32)
        self.out = np.empty_like(self.x)
        E.copy(self.x)

    def time_copy_kernel_new_buffer(self):
        E.copy(self.x)

    def time_copy_kernel_into(self):
        E.copy(self.x, out=self.out)


class Softmax4096x1000(Elementwise4M):
    params = ["softmax", "log_softmax"]
    param_names = ["op"]
    shape, scale, kw = (4096, 1000), 3.0, {"dim": -1}


class SmallRelu:
    def setup(self):
        set_threads()
        self.x = fn.tensor(np.random.default_rng(0).standard_normal((1, 128)).astype(np.float32))
        F.relu(self.x)
        if torch is not None:
            self.tx = torch.from_numpy(self.x.numpy())

    def time_relu_fastnn(self):
        F.relu(self.x)

    @needs_torch
    def time_relu_torch(self):
        torch.relu(self.tx)
