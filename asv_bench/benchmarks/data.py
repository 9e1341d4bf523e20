"""fn.data.DataLoader beside torch's, over in-memory arrays (a TensorDataset of
(65536, 32) float32 features and int64 labels, batches of 64: 1024 batches an epoch).

* ``time_epoch_*``: one epoch, in order and shuffled.
* ``track_us_per_batch_fastnn``: fastnn's in-order time per batch in microseconds
  (median of 5 epochs) — the loader's own overhead, since an in-order batch is a view.
  Target: <= 5 us.
"""
import time

import numpy as np

import fastnn as fn

from ._common import needs_torch, set_threads, torch

N, D, BS = 65536, 32, 64


class DataLoaderEpoch:
    params = [False, True]
    param_names = ["shuffle"]

    def setup(self, shuffle):
        set_threads()
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((N, D)).astype(np.float32)
        self.y = rng.integers(0, 10, N)
        self.loader = fn.data.DataLoader(fn.data.TensorDataset(self.x, self.y), batch_size=BS,
                                         shuffle=shuffle)
        if torch is not None:
            ds = torch.utils.data.TensorDataset(torch.from_numpy(self.x), torch.from_numpy(self.y))
            self.tloader = torch.utils.data.DataLoader(ds, batch_size=BS, shuffle=shuffle)

    def time_epoch_fastnn(self, shuffle):
        for xb, yb in self.loader:
            pass

    @needs_torch
    def time_epoch_torch(self, shuffle):
        for xb, yb in self.tloader:
            pass

    def track_us_per_batch_fastnn(self, shuffle):
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            for xb, yb in self.loader:
                pass
            runs.append((time.perf_counter() - t) / len(self.loader))
        return float(np.median(runs) * 1e6)

    track_us_per_batch_fastnn.unit = "us"
