"""The first training step of the headline MLP in a fresh process, beside torch's.

Each sample is a new interpreter (asv ``timeraw``): imports, data and model are
built in the untimed setup; the timed statement is one step (forward, cross-entropy,
backward, Adam) with a cold Numba cache (an empty ``NUMBA_CACHE_DIR``). On the C
engine that step compiles nothing (target: under 0.5 s); ``fastnn_numba`` is the
Numba/NumPy fallback engine, which compiles its kernels on that first step.
"""
from ._common import THREADS, torch

_FASTNN_SETUP = """
import atexit, os, shutil, tempfile
_cache = tempfile.mkdtemp(prefix="fastnn-cold-numba-")
atexit.register(shutil.rmtree, _cache, True)
os.environ["NUMBA_CACHE_DIR"] = _cache
os.environ["FASTNN_ENGINE"] = {engine!r}
import fastnn as fn
import fastnn.functional as F
from fastnn import workloads as W
fn.set_num_threads({threads})
x, y = W.make_teacher_data(128)
model = W.mlp_fastnn()
opt = fn.optim.Adam(model.parameters(), lr=1e-3)
model.train()
"""

_TORCH_SETUP = """
import torch
import torch.nn.functional as F
from fastnn import workloads as W
torch.set_num_threads({threads})
x, y = W.make_teacher_data(128)
x, y = torch.from_numpy(x), torch.from_numpy(y)
model = W.mlp_torch()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
model.train()
"""

_STEP = """
opt.zero_grad()
loss = F.cross_entropy(model(x), y)
loss.backward()
opt.step()
"""


def _torch_installed(*params):
    if torch is None:
        raise NotImplementedError("torch is not installed")


class ColdFirstStep:
    number = 1
    repeat = 3
    timeout = 600

    def timeraw_first_step_fastnn(self):
        return _STEP, _FASTNN_SETUP.format(engine="auto", threads=THREADS)

    def timeraw_first_step_fastnn_numba(self):
        return _STEP, _FASTNN_SETUP.format(engine="numba", threads=THREADS)

    def timeraw_first_step_torch(self):
        return _STEP, _TORCH_SETUP.format(threads=THREADS)

    # asv skips on NotImplementedError from a setup, not from the timed statement
    timeraw_first_step_torch.setup = _torch_installed
