"""fastnn.dask.predict on a real LocalCluster beside the hand-written Dask glue, same run.

100,000 x 64 float32 rows generated and persisted on 2 worker processes (one thread
each, loopback), a fitted 64 -> 100 -> 10 MLPClassifier, chunks of 2,000 rows (50
tasks; one parameter only: every setup starts a cluster, and CI runs this in quick mode):

* ``time_predict_fastnn``: ``fastnn.dask.predict(est, X)`` (the model shipped once per
  worker as fastnn-format bytes, rebuilt once per worker process);
* ``time_predict_dask``: the anchor, what a user writes by hand,
  ``X.map_blocks(est.predict)`` (Dask pickles the estimator into the graph);
* ``time_tasks_dask``: Dask's own cost for the same tasks, each returning its chunk's
  first column (no model): per-task overhead = this time / tasks;
* ``time_predict_local``: ``est.predict`` on the same rows in this process.

Skipped (n/a) where Dask, distributed or scikit-learn is not installed.
``python asv_bench/side_by_side.py dask_predict`` interleaves fastnn with both anchors.
"""
import numpy as np

try:
    import dask.array as da
    from distributed import Client, LocalCluster
    import fastnn.dask as fdask
    from fastnn.sklearn import MLPClassifier
except ImportError:
    fdask = None

ROWS, FEATURES = 100_000, 64


def _first_column(block):
    return block[:, 0].copy()


class DaskPredict:
    params = ([2_000],)
    param_names = ["chunk_rows"]
    number = 1
    repeat = 3
    timeout = 180

    def setup(self, chunk_rows):
        if fdask is None:
            raise NotImplementedError("dask, distributed or scikit-learn is not installed")
        rng = np.random.default_rng(0)
        X = rng.random((2000, FEATURES), dtype=np.float32)
        self.est = MLPClassifier(hidden_layer_sizes=(100,), max_iter=1,
                                 random_state=0).fit(X, (X[:, 0] * 10).astype(int))
        self.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                    host="127.0.0.1", dashboard_address=None)
        self.client = Client(self.cluster)
        self.client.wait_for_workers(2, timeout=60)
        # generated on the workers: no 25 MB graph to send; local rows for the local anchor
        rows = da.random.RandomState(0).random_sample((ROWS, FEATURES),
                                                      chunks=(chunk_rows, FEATURES))
        self.X = self.client.persist(rows.astype(np.float32))
        self.X_local = self.X.compute()
        self.time_predict_fastnn(chunk_rows)            # model rebuilt on the workers

    def teardown(self, chunk_rows):
        self.client.close()
        self.cluster.close()

    def time_predict_fastnn(self, chunk_rows):
        fdask.predict(self.est, self.X).compute()

    def time_predict_dask(self, chunk_rows):
        self.X.map_blocks(self.est.predict, drop_axis=1, dtype=np.int64).compute()

    def time_tasks_dask(self, chunk_rows):
        self.X.map_blocks(_first_column, drop_axis=1, dtype=np.float32).compute()

    def time_predict_local(self, chunk_rows):
        self.est.predict(self.X_local)
