"""Elementwise kernel throughput, fastnn beside torch (and NumPy) in the same class.

Every array is 4M float32 (16 MiB, far past the caches): the memory-copy baseline
(``Copy``) is the ceiling an elementwise kernel can reach. Sigmoid and tanh run the C
engine (OpenMP SIMD + libmvec); ``Relu`` times the shipped relu and its Numba loop.
``SizeSweep`` times one kernel per engine serial and parallel over sizes 1e3..4e6:
where the parallel line crosses below the serial one justifies
``threads.SERIAL_BELOW``.
Kernels are compiled and run once in ``setup``, outside the timed region.
"""
import numpy as np

from fastnn._kernels import elementwise as E
from fastnn._kernels import threads

from ._common import needs_torch, set_threads, torch

N = 1 << 22

# The Numba engine's representative: relu's Numba loop, beside the C kernel that ships.
NUMBA_RELU = E.nb_unary("relu_fwd")


class _Elementwise:
    """4M float32 input ``x`` (uniform in ``domain``), preallocated outputs."""
    domain = (-6.0, 6.0)

    def setup(self):
        set_threads()
        self.x = np.random.default_rng(0).uniform(*self.domain, N).astype(np.float32)
        self.out = np.empty_like(self.x)
        if torch is not None:
            self.tx = torch.from_numpy(self.x)
            self.tout = torch.from_numpy(self.out)
        # Run every variant once: compiles Numba kernels, starts the thread pools
        # (OpenMP, Numba, torch's) and faults the output pages in.
        for name in dir(self):
            if name.startswith("time_") and (torch is not None or not name.endswith("_torch")):
                getattr(self, name)()


class Copy(_Elementwise):
    """Memory bandwidth baseline: read 16 MiB, write 16 MiB."""

    def time_copy_fastnn(self):
        E.copy(self.x, out=self.out)

    def time_copy_numpy(self):
        np.copyto(self.out, self.x)

    @needs_torch
    def time_copy_torch(self):
        self.tout.copy_(self.tx)

    # Allocating copies: what `y = f(x)` costs with a fresh output array.
    def time_copy_alloc_fastnn(self):
        E.copy(self.x)

    def time_copy_alloc_numpy(self):
        self.x.copy()

    @needs_torch
    def time_copy_alloc_torch(self):
        self.tx.clone()


class Sigmoid(_Elementwise):
    """C engine."""
    domain = (-30.0, 30.0)

    def time_sigmoid_fastnn(self):
        E.sigmoid_fwd(self.x, out=self.out)

    @needs_torch
    def time_sigmoid_torch(self):
        torch.sigmoid(self.tx, out=self.tout)

    def time_sigmoid_numpy(self):
        np.negative(self.x, out=self.out)
        np.exp(self.out, out=self.out)
        self.out += 1
        np.reciprocal(self.out, out=self.out)


class Tanh(_Elementwise):
    """C engine."""
    domain = (-20.0, 20.0)

    def time_tanh_fastnn(self):
        E.tanh_fwd(self.x, out=self.out)

    @needs_torch
    def time_tanh_torch(self):
        torch.tanh(self.tx, out=self.tout)

    def time_tanh_numpy(self):
        np.tanh(self.x, out=self.out)


class Relu(_Elementwise):
    """The shipped relu, and the Numba engine's loop for the same op."""

    def time_relu_fastnn(self):
        E.relu_fwd(self.x, out=self.out)

    def time_relu_fastnn_numba(self):
        NUMBA_RELU(self.x, out=self.out)

    @needs_torch
    def time_relu_torch(self):
        torch.clamp(self.tx, min=0, out=self.tout)

    def time_relu_numpy(self):
        np.maximum(self.x, 0, out=self.out)


class SizeSweep:
    """Serial vs parallel vs the shipped policy (``threads.threads_for``) by size.

    ``parallel`` forces every call onto ``FASTNN_BENCH_THREADS`` threads (the
    threshold lowered to 2 elements); ``serial`` runs on one thread; ``policy`` is
    what fastnn does by default.
    """
    params = ([1_000, 4_000, 16_000, 32_768, 65_536, 262_144, 1_048_576, 4_194_304],
              ["c", "numba"], ["serial", "parallel", "policy"])
    param_names = ["n", "engine", "mode"]

    def setup(self, n, engine, mode):
        self._serial_below = threads.SERIAL_BELOW
        set_threads()
        if mode == "serial":
            threads.set_num_threads(1)
        elif mode == "parallel":
            threads.SERIAL_BELOW = 2
        self.kernel = E.sigmoid_fwd if engine == "c" else NUMBA_RELU
        self.x = np.random.default_rng(0).uniform(-6, 6, n).astype(np.float32)
        self.out = np.empty_like(self.x)
        self.kernel(self.x, out=self.out)

    def teardown(self, n, engine, mode):
        threads.SERIAL_BELOW = self._serial_below

    def time_kernel(self, n, engine, mode):
        self.kernel(self.x, out=self.out)
