"""Optimizer steps, fastnn beside torch.optim in the same run.

* ``OptimStep4M``: one 4M-element float32 parameter. fastnn's fused kernel against
  torch's default (single-tensor), foreach and fused (where torch has one: SGD, Adam,
  AdamW, Adagrad) variants; target: at most torch's fastest. ``time_floor_copy``
  copies the same number of bytes as the step reads and writes (fastnn's parallel C
  copy): the memory-traffic floor; target: the step within 1.3x of it.
* ``OptimStepManySmall``: 200 parameters of 1,000 elements (per-parameter overhead).
  ``time_step_flat_fastnn`` runs the same optimizer on one 200,000-element parameter:
  the gap between the two is what the per-parameter Python costs.

Kernels are compiled and the state created in ``setup`` (one step), outside the timing.
"""
import numpy as np

import fastnn as fn
from fastnn._kernels import elementwise as _ew

from ._common import set_threads, torch, torch_or_skip

# name -> (fastnn/torch class, kwargs, float32 arrays read + written per element)
OPTIMIZERS = {
    "sgd": ("SGD", dict(lr=1e-3), 3),
    "momentum": ("SGD", dict(lr=1e-3, momentum=0.9), 5),
    "nesterov": ("SGD", dict(lr=1e-3, momentum=0.9, nesterov=True), 5),
    "adagrad": ("Adagrad", dict(lr=1e-2), 5),
    "rmsprop": ("RMSprop", dict(lr=1e-3), 5),
    "rmsprop_centered": ("RMSprop", dict(lr=1e-3, centered=True, momentum=0.9), 9),
    "adam": ("Adam", dict(lr=1e-3), 7),
    "adam_amsgrad": ("Adam", dict(lr=1e-3, amsgrad=True), 9),
    "adamw": ("AdamW", dict(lr=1e-3), 7),
    "adamax": ("Adamax", dict(lr=1e-3), 7),
    "adadelta": ("Adadelta", dict(lr=1.0), 7),
}
TORCH_FUSED = {"SGD", "Adam", "AdamW", "Adagrad"}


def _torch_variant(kind):
    """Method-level setup: skip (asv: n/a) where torch or this variant is absent."""
    def setup(name):  # asv calls a benchmark's own setup with the params only
        torch_or_skip()
        if kind == "fused" and OPTIMIZERS[name][0] not in TORCH_FUSED:
            raise NotImplementedError(f"torch has no fused {name}")
    return setup


class _StepBench:
    params = list(OPTIMIZERS)
    param_names = ["optimizer"]
    sizes = [1 << 22]
    timeout = 120

    def setup(self, name):
        set_threads()
        cls, kw, self.traffic = OPTIMIZERS[name]
        rng = np.random.default_rng(0)
        init = [rng.standard_normal(n).astype(np.float32) for n in self.sizes]
        grads = [rng.standard_normal(n).astype(np.float32) * 1e-3 for n in self.sizes]
        self.ps = [fn.nn.Parameter(x.copy()) for x in init]
        for p, g in zip(self.ps, grads):
            p.grad = g
        self.opt = getattr(fn.optim, cls)(self.ps, **kw)
        self.opt.step()
        self.topt = {}
        if torch is not None:
            for variant in ("default", "foreach", "fused"):
                if variant == "fused" and cls not in TORCH_FUSED:
                    continue
                tps = [torch.nn.Parameter(torch.from_numpy(x.copy())) for x in init]
                for tp, g in zip(tps, grads):
                    tp.grad = torch.from_numpy(g)
                extra = {} if variant == "default" else {variant: True}
                if variant == "default" and cls in TORCH_FUSED | {"RMSprop", "Adamax",
                                                                  "Adadelta"}:
                    extra = {"foreach": False}
                o = getattr(torch.optim, cls)(tps, **kw, **extra)
                o.step()
                self.topt[variant] = o

    def time_step_fastnn(self, name):
        self.opt.step()

    def time_step_torch(self, name):
        self.topt["default"].step()
    time_step_torch.setup = _torch_variant("default")

    def time_step_torch_foreach(self, name):
        self.topt["foreach"].step()
    time_step_torch_foreach.setup = _torch_variant("foreach")

    def time_step_torch_fused(self, name):
        self.topt["fused"].step()
    time_step_torch_fused.setup = _torch_variant("fused")


class OptimStep4M(_StepBench):
    sizes = [1 << 22]

    def setup(self, name):
        super().setup(name)
        # the step's traffic (arrays read + written) as copies of half as many arrays
        m = self.traffic * self.sizes[0] // 2
        self.src = np.ones(m, np.float32)
        self.dst = np.empty(m, np.float32)
        _ew.copy(self.src, out=self.dst)

    def time_floor_copy(self, name):
        _ew.copy(self.src, out=self.dst)


class OptimStepManySmall(_StepBench):
    sizes = [1000] * 200

    def setup(self, name):
        super().setup(name)
        cls, kw, _ = OPTIMIZERS[name]
        self.flat = fn.nn.Parameter(np.zeros(200 * 1000, np.float32))
        self.flat.grad = np.full(200 * 1000, 1e-3, np.float32)
        self.flat_opt = getattr(fn.optim, cls)([self.flat], **kw)
        self.flat_opt.step()

    def time_step_flat_fastnn(self, name):
        self.flat_opt.step()
