"""Helpers shared by the benchmarks: the thread count, and torch as an optional twin.

Both engines run on the same number of threads: ``FASTNN_BENCH_THREADS`` (default 2,
the CI machine's core count). ``FASTNN_BENCH_QUICK=1`` (CI's ``asv run --quick``, which
only checks that every benchmark runs) shrinks the scenario workloads, which run whole
epochs in fresh processes, to a tenth and to one round.
"""
import os

import fastnn._kernels as K

THREADS = int(os.environ.get("FASTNN_BENCH_THREADS", "2"))
QUICK = os.environ.get("FASTNN_BENCH_QUICK") == "1"


def scenario_size(workload, rounds):
    """(rows, rounds) of a scenario benchmark: the workload's own, or a tenth and one
    round under FASTNN_BENCH_QUICK."""
    from fastnn import _bench
    if QUICK:
        return _bench.ROWS[workload] // 10, 1
    return None, rounds

try:
    import torch
except ImportError:  # torch twins are skipped (asv reports them as n/a)
    torch = None
else:
    # torch's first optimizer step imports its compiler machinery (~2 s); done here,
    # at import, asv's forkserver pays it once instead of in every benchmark's setup.
    # Four elements keep torch's OpenMP pool unstarted, so the forked children are safe.
    _p = torch.nn.Parameter(torch.zeros(4))
    _p.grad = torch.ones(4)
    torch.optim.SGD([_p], lr=0.1, foreach=False).step()
    del _p


def set_threads():
    """fastnn and (where installed) torch on ``THREADS`` threads.

    Raises RuntimeError in a forked child whose fastnn kernels were switched to serial
    (asv's forkserver forks every benchmark from one process; had that process run
    parallel work, say at a module's import, each benchmark would time one thread)."""
    from fastnn._kernels import threads
    if threads.in_forked_child():
        raise RuntimeError("this benchmark was forked from a process that had run fastnn's "
                           "parallel kernels, so they run serially here; keep parallel work "
                           "out of the benchmark modules' import")
    K.set_num_threads(THREADS)
    if torch is not None:
        torch.set_num_threads(THREADS)


def torch_or_skip():
    """The torch module; raises NotImplementedError (asv's "skip") when it is absent."""
    if torch is None:
        raise NotImplementedError("torch is not installed")
    return torch


def needs_torch(method):
    """Decorator: skip this benchmark (asv: n/a) where torch is not installed. asv runs
    a benchmark's own ``setup`` (with the params only) after its class's."""
    def setup(*params):
        torch_or_skip()
    method.setup = setup
    return method
