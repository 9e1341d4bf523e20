"""fastnn.sklearn's MLPClassifier/MLPRegressor beside scikit-learn's, in the same run.

Workloads (fastnn.sklearn._bench.WORKLOADS): digits, breast_cancer, wine, diabetes and
a california-housing-sized regression, default settings, a fixed number of epochs.
``time_fit_fastnn`` uses fastnn's default float32, ``time_fit_fastnn_float64``
``dtype=None`` (scikit-learn's precision), ``time_fit_sklearn`` scikit-learn itself.
Target: scikit-learn's time / fastnn's >= 3, and ``track_test_score_diff`` (fastnn's
test accuracy / R² minus scikit-learn's, same settings, same split) within +-0.01.
Both on the same BLAS thread count (FASTNN_BENCH_THREADS). Fits run on the workload's
75% training split. Skipped (n/a) where scikit-learn is not installed.
``python asv_bench/side_by_side.py sklearn_mlp`` interleaves the fastnn and
scikit-learn fits and prints median ratios.
"""
from ._common import THREADS, set_threads

try:
    import sklearn  # noqa: F401
    from threadpoolctl import threadpool_limits
    from fastnn.sklearn import _bench
except ImportError:
    _bench = None


class MLPFit:
    params = (["digits", "breast_cancer", "wine", "diabetes", "california"],)
    param_names = ["workload"]
    number = 1
    repeat = 3
    timeout = 600

    def setup(self, name):
        if _bench is None:
            raise NotImplementedError("scikit-learn is not installed")
        set_threads()
        self._limits = threadpool_limits(THREADS, user_api="blas")
        self.X, self.X_test, self.y, self.y_test = _bench.split(name)
        _bench.fit("fastnn", name, self.X[:64], self.y[:64])     # kernels loaded
        _bench.fit("fastnn", name, self.X[:64], self.y[:64], dtype=None)

    def teardown(self, name):
        if hasattr(self, "_limits"):      # setup skipped (scikit-learn missing)
            self._limits.restore_original_limits()

    def time_fit_fastnn(self, name):
        _bench.fit("fastnn", name, self.X, self.y)

    def time_fit_fastnn_float64(self, name):
        _bench.fit("fastnn", name, self.X, self.y, dtype=None)

    def time_fit_sklearn(self, name):
        _bench.fit("sklearn", name, self.X, self.y)

    def track_test_score_diff(self, name):
        ours = _bench.fit("fastnn", name, self.X, self.y).score(self.X_test, self.y_test)
        theirs = _bench.fit("sklearn", name, self.X, self.y).score(self.X_test, self.y_test)
        return float(ours - theirs)

    track_test_score_diff.unit = "score"
