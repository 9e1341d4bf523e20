"""Per-op Python overhead of the autograd core, fastnn beside torch in the same run.

At a batch of 1 the arithmetic is tiny, so these time the framework itself: Module
calls, ``Function.apply``, graph recording and the backward engine (target: no more
Python time than torch).

* ``MLPBatch1``: Linear(784,256)-ReLU-Linear(256,128)-ReLU-Linear(128,10) on one sample:
  forward+backward (grads zeroed each time), and forward under no_grad.
* ``TinyOps``: ``((a + b) * b).sum().backward()`` on 2x3 float32 tensors: three ops
  recorded and back-propagated, almost no arithmetic.
* ``DeepChain``: 1,000 chained adds, forward+backward: the engine's per-node cost.
* ``TinyOp``: one op on 128 float32 elements, with and without a graph: the per-call
  cost of validation, ``Function.apply`` and the Tensor wrapping (the arithmetic is
  tens of nanoseconds); ``time_relu128_kernel`` is the kernel call alone, so the
  overhead is the difference.
"""
import numpy as np

import fastnn as fn
import fastnn.functional as F
from fastnn._kernels import elementwise as _ew

from ._common import needs_torch, set_threads, torch


class MLPBatch1:
    def setup(self):
        set_threads()
        self.x = np.random.default_rng(0).standard_normal((1, 784)).astype(np.float32)
        fn.manual_seed(0)
        self.net = fn.nn.Sequential(fn.nn.Linear(784, 256), fn.nn.ReLU(), fn.nn.Linear(256, 128),
                                    fn.nn.ReLU(), fn.nn.Linear(128, 10))
        self.xf = fn.Tensor(self.x)
        self.time_fwd_bwd_fastnn()          # compile kernels outside the timed region
        self.time_infer_fastnn()
        if torch is not None:
            torch.manual_seed(0)
            self.tnet = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                            torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                            torch.nn.Linear(128, 10))
            self.xt = torch.from_numpy(self.x)
            self.time_fwd_bwd_torch()
            self.time_infer_torch()

    def time_fwd_bwd_fastnn(self):
        self.net.zero_grad()
        self.net(self.xf).sum().backward()

    @needs_torch
    def time_fwd_bwd_torch(self):
        self.tnet.zero_grad()
        self.tnet(self.xt).sum().backward()

    def time_infer_fastnn(self):
        with fn.no_grad():
            self.net(self.xf)

    @needs_torch
    def time_infer_torch(self):
        with torch.no_grad():
            self.tnet(self.xt)


class TinyOps:
    def setup(self):
        set_threads()
        self.a = fn.tensor(np.ones((2, 3), np.float32), requires_grad=True)
        self.b = fn.tensor(np.full((2, 3), 2.0, np.float32), requires_grad=True)
        if torch is not None:
            self.ta = torch.ones(2, 3, requires_grad=True)
            self.tb = torch.full((2, 3), 2.0, requires_grad=True)

    def time_add_mul_sum_backward_fastnn(self):
        self.a.grad = self.b.grad = None
        ((self.a + self.b) * self.b).sum().backward()

    @needs_torch
    def time_add_mul_sum_backward_torch(self):
        self.ta.grad = self.tb.grad = None
        ((self.ta + self.tb) * self.tb).sum().backward()

    def time_add_mul_sum_no_grad_fastnn(self):
        with fn.no_grad():
            ((self.a + self.b) * self.b).sum()

    @needs_torch
    def time_add_mul_sum_no_grad_torch(self):
        with torch.no_grad():
            ((self.ta + self.tb) * self.tb).sum()


class DeepChain:
    n = 1000

    def setup(self):
        set_threads()
        self.x = fn.tensor(np.ones(4, np.float32), requires_grad=True)
        if torch is not None:
            self.tx = torch.ones(4, requires_grad=True)

    def time_chain_fwd_bwd_fastnn(self):
        self.x.grad = None
        y = self.x
        for _ in range(self.n):
            y = y + 1.0
        y.sum().backward()

    @needs_torch
    def time_chain_fwd_bwd_torch(self):
        self.tx.grad = None
        y = self.tx
        for _ in range(self.n):
            y = y + 1.0
        y.sum().backward()


class TinyOp:
    n = 128

    def setup(self):
        set_threads()
        x = np.linspace(-1, 1, self.n, dtype=np.float32)
        self.x, self.xa = fn.tensor(x), x
        self.xg = fn.tensor(x.copy(), requires_grad=True)
        if torch is not None:
            self.tx = torch.from_numpy(x.copy())
            self.txg = torch.from_numpy(x.copy()).requires_grad_()

    def time_relu128_kernel(self):
        _ew.relu_fwd(self.xa)

    def time_relu128_no_grad_fastnn(self):
        F.relu(self.x)

    @needs_torch
    def time_relu128_no_grad_torch(self):
        torch.relu(self.tx)

    def time_relu128_grad_fastnn(self):
        F.relu(self.xg)

    @needs_torch
    def time_relu128_grad_torch(self):
        torch.relu(self.txg)

    def time_add128_no_grad_fastnn(self):
        self.x + self.x

    @needs_torch
    def time_add128_no_grad_torch(self):
        self.tx + self.tx

    def time_add128_grad_fastnn(self):
        self.xg + self.xg

    @needs_torch
    def time_add128_grad_torch(self):
        self.txg + self.txg
