"""Convolution and pooling, fastnn beside torch (oneDNN) in the same run, float32, NCHW.

* ``Conv3x3``: (64, 32, 28, 28) -> 64 channels, 3x3, padding 1 (the big one);
  ``Conv3x3In64``: the same with 64 input channels.
* ``LeNetConv1`` / ``LeNetConv2``: a batch of 64 MNIST-size images, 1 -> 32 channels
  3x3 (28x28 in), then 32 -> 64 channels 3x3 (26x26 in).
* ``MaxPool2x2``: max_pool2d 2x2 on (64, 32, 28, 28).

``fwd`` runs under no_grad; ``fwd_bwd`` goes through the public API (a graph, then
``backward(g)``), grads reset each call. Kernels compile and run once in ``setup``.
"""
import numpy as np

import fastnn as fn
import fastnn.functional as F

from ._common import needs_torch, set_threads, torch


class _ConvBench:
    x_shape = (64, 32, 28, 28)
    w_shape = (64, 32, 3, 3)
    kwargs = {"padding": 1}

    def setup(self):
        set_threads()
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal(self.x_shape).astype(np.float32)
        self.w = (rng.standard_normal(self.w_shape) * 0.1).astype(np.float32)
        self.b = rng.standard_normal(self.w_shape[0]).astype(np.float32)
        self.params = [fn.Tensor(a, requires_grad=True) for a in (self.x, self.w, self.b)]
        self.g = F.conv2d(self.x, self.w, self.b, **self.kwargs).numpy()
        self.g = rng.standard_normal(self.g.shape).astype(np.float32)
        self.time_fwd_fastnn()
        self.time_fwd_bwd_fastnn()
        if torch is not None:
            self.tparams = [torch.from_numpy(a.copy()).requires_grad_(True) for a in (self.x, self.w, self.b)]
            self.tg = torch.from_numpy(self.g)

    def time_fwd_fastnn(self):
        with fn.no_grad():
            F.conv2d(*self.params, **self.kwargs)

    @needs_torch
    def time_fwd_torch(self):
        with torch.no_grad():
            torch.nn.functional.conv2d(*self.tparams, **self.kwargs)

    def time_fwd_bwd_fastnn(self):
        for p in self.params:
            p.grad = None
        F.conv2d(*self.params, **self.kwargs).backward(self.g)

    @needs_torch
    def time_fwd_bwd_torch(self):
        for p in self.tparams:
            p.grad = None
        torch.nn.functional.conv2d(*self.tparams, **self.kwargs).backward(self.tg)


class Conv3x3(_ConvBench):
    x_shape, w_shape, kwargs = (64, 32, 28, 28), (64, 32, 3, 3), {"padding": 1}


class Conv3x3In64(_ConvBench):
    x_shape, w_shape, kwargs = (64, 64, 28, 28), (64, 64, 3, 3), {"padding": 1}


class LeNetConv1(_ConvBench):
    x_shape, w_shape, kwargs = (64, 1, 28, 28), (32, 1, 3, 3), {}


class LeNetConv2(_ConvBench):
    x_shape, w_shape, kwargs = (64, 32, 26, 26), (64, 32, 3, 3), {}


class MaxPool2x2:
    shape = (64, 32, 28, 28)

    def setup(self):
        set_threads()
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal(self.shape).astype(np.float32)
        self.xg = fn.Tensor(self.x, requires_grad=True)
        self.g = rng.standard_normal((64, 32, 14, 14)).astype(np.float32)
        self.time_fwd_fastnn()
        self.time_fwd_bwd_fastnn()
        if torch is not None:
            self.tx = torch.from_numpy(self.x)
            self.txg = torch.from_numpy(self.x.copy()).requires_grad_(True)
            self.tg = torch.from_numpy(self.g)

    def time_fwd_fastnn(self):
        with fn.no_grad():
            F.max_pool2d(self.x, 2)

    @needs_torch
    def time_fwd_torch(self):
        with torch.no_grad():
            torch.nn.functional.max_pool2d(self.tx, 2)

    def time_fwd_bwd_fastnn(self):
        self.xg.grad = None
        F.max_pool2d(self.xg, 2).backward(self.g)

    @needs_torch
    def time_fwd_bwd_torch(self):
        self.txg.grad = None
        torch.nn.functional.max_pool2d(self.txg, 2).backward(self.tg)
