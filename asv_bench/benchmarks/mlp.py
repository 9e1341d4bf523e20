"""Headline: one MLP training epoch, fastnn beside torch and JAX + optax (a jit'd
training step) in the same run; inference of that MLP beside torch and ONNX Runtime
(the torch model exported to ONNX).

Model Linear(784,256)-ReLU-Dropout(0.2)-Linear(256,128)-ReLU-Linear(128,10),
cross-entropy, Adam(lr=1e-3), batch 128, 60k samples, 2 threads for all.
Each engine alone in its own process, torch or fastnn imported first, and beside a
busy core: scenarios.py.
"""
import numpy as np

import fastnn as fn
from fastnn import workloads as W

from ._common import THREADS, needs_torch, set_threads, torch, torch_or_skip


def _jax_or_skip():
    try:
        import jax  # noqa: F401
        import optax  # noqa: F401
    except ImportError:
        raise NotImplementedError("jax/optax are not installed") from None


def needs_jax(method):
    """Skip this benchmark (asv: n/a) where jax or optax is not installed."""
    def setup(*params):
        _jax_or_skip()
    method.setup = setup
    return method


def _ort_session(model, spinning=True):
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return None
    return W.onnx_session(model, threads=THREADS, spinning=spinning)


def needs_ort(method):
    """Skip this benchmark (asv: n/a) where onnxruntime, onnx or torch is missing."""
    def setup(*params):
        torch_or_skip()
        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
        except ImportError:
            raise NotImplementedError("onnxruntime/onnx are not installed") from None
    method.setup = setup
    return method


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
        self.jax_step = None
        try:
            _jax_or_skip()
        except NotImplementedError:
            return
        state = W.mlp_jax()     # compile both batch shapes of the epoch
        tail = len(self.x) % 128 or 128
        W.train_epoch_jax(state, self.x[:256 + tail], self.y[:256 + tail])
        self.jax_step = state[2]

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

    @needs_jax
    def time_epoch_jax(self):
        # a fresh model each call, as above, on the step compiled in setup
        params, opt_state, _ = W.mlp_jax()
        W.train_epoch_jax((params, opt_state, self.jax_step), self.x, self.y)


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


def _inference_setup(bench, batch):
    """The model in every engine, warmed up on a (batch, 784) input."""
    set_threads()
    bench.sample = np.random.default_rng(0).standard_normal((batch, 784), dtype=np.float32)
    bench.m = W.mlp_fastnn().eval()
    bench.params = [p.data for p in bench.m.parameters()]
    with fn.no_grad():
        bench.m(bench.sample)
    bench.ort = None
    if torch is not None:
        bench.tm = W.mlp_torch().eval()
        bench.tsample = torch.from_numpy(bench.sample)
        # at batch 4096 ORT's threads, spinning after the warm-up run, would take the
        # cores from fastnn and torch timed next in this process; at batch 1 spinning
        # is what makes ORT fast (26 against 45-53 us), so it keeps it
        bench.ort = _ort_session(bench.tm, spinning=batch == 1)
        if bench.ort is not None:
            bench.ort.run(None, {"x": bench.sample})


class MLPInference:
    """Single-sample latency through the model under no_grad / eval: fastnn, the
    plain-NumPy floor (the same three GEMVs, bias adds and ReLUs), torch and ONNX
    Runtime. Targets: fastnn at most 0.3x torch, and ahead of ONNX Runtime."""

    def setup(self):
        _inference_setup(self, 1)

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

    @needs_ort
    def time_single_sample_onnxruntime(self):
        self.ort.run(None, {"x": self.sample})


class MLPInference4096:
    """A batch of 4096 through the same model: fastnn, torch and ONNX Runtime (target:
    fastnn at or below ONNX Runtime)."""

    def setup(self):
        _inference_setup(self, 4096)

    def time_batch_fastnn(self):
        with fn.no_grad():
            self.m(self.sample)

    @needs_torch
    def time_batch_torch(self):
        with torch.no_grad():
            self.tm(self.tsample)

    @needs_ort
    def time_batch_onnxruntime(self):
        self.ort.run(None, {"x": self.sample})
