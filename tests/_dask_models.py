"""Module factories for the Dask tests: importable by name in worker processes, as
fastnn.dask requires (a model travels as weights plus its factory's import path)."""
import os

import fastnn as fn


def small_mlp(n_in=6, n_hidden=16, n_out=3):
    return fn.nn.Sequential(fn.nn.Linear(n_in, n_hidden), fn.nn.ReLU(),
                            fn.nn.Linear(n_hidden, n_out))


def _in_dask_worker():
    try:
        from distributed import get_worker
        get_worker()
        return True
    except (ImportError, ValueError):
        return False


class _DiesOnce(fn.nn.Module):
    """Kills its Dask worker process the first time it runs there (a flag file marks
    it done), to test that Dask retries the chunk elsewhere."""

    def __init__(self, flag, n_in):
        super().__init__()
        self.flag = flag
        self.body = small_mlp(n_in)

    def forward(self, x):
        if _in_dask_worker() and not os.path.exists(self.flag):
            with open(self.flag, "w") as f:
                f.write(str(os.getpid()))
            os._exit(1)
        return self.body(x)


def dies_once(flag, n_in=6):
    return _DiesOnce(flag, n_in)
