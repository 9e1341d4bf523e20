"""fastnn.dask on a real cluster: distributed.LocalCluster with worker processes on
loopback, every wait bounded. Results are compared bitwise with local prediction of
the same chunks."""
import io
import os
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import dask.dataframe as dd  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import fastnn as fn  # noqa: E402
import fastnn.dask as fdask  # noqa: E402
from fastnn.sklearn import (MLPClassifier, MLPRegressor, NeuralNetClassifier,  # noqa: E402
                            mlp)

import _dask_models  # noqa: E402  (tests/ is on sys.path, for the workers too)

TIMEOUT = 120


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _cluster(method):
    with dask.config.set({"distributed.worker.multiprocessing-method": method,
                          "distributed.scheduler.allowed-failures": 3}):
        return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                        silence_logs=40, death_timeout=60)


@pytest.fixture(scope="module")
def client():
    with _cluster("spawn") as cluster, distributed.Client(cluster, timeout=TIMEOUT) as c:
        yield c


def _data(n=1000, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)


def _fitted():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            "MLPClassifier": MLPClassifier(hidden_layer_sizes=(16,), max_iter=20,
                                           random_state=0).fit(X, y),
            "MLPRegressor": MLPRegressor(hidden_layer_sizes=(16,), max_iter=20,
                                         random_state=0).fit(X, X[:, :2]),
            "NeuralNetClassifier": NeuralNetClassifier(
                mlp, module_params={"hidden_layer_sizes": (16,)}, max_epochs=3,
                random_state=0).fit(X, y),
        }


def _local_by_chunks(fn_, X, chunks, batch_size=None):
    outs, lo = [], 0
    for c in chunks:
        chunk = X[lo:lo + c]
        step = batch_size or c
        outs.append(np.concatenate([fn_(chunk[i:i + step]) for i in range(0, c, step)]))
        lo += c
    return np.concatenate(outs)


def test_estimators_predict_bitwise_equal_to_local(client):
    X, _ = _data()
    dX = da.from_array(X, chunks=(300, 3))      # column chunks are joined
    for name, est in _fitted().items():
        for method in ("predict", "predict_proba") if "Classifier" in name else ("predict",):
            for batch_size in (None, 128):
                out = fdask.predict(est, dX, batch_size=batch_size, method=method)
                assert out.chunks[0] == dX.chunks[0]
                got = client.compute(out).result(timeout=TIMEOUT)
                want = _local_by_chunks(getattr(est, method), X, dX.chunks[0], batch_size)
                assert got.dtype == want.dtype and got.shape == want.shape
                np.testing.assert_array_equal(got, want, err_msg=f"{name}.{method}")


def test_model_travels_once_and_is_rebuilt_once_per_worker(client):
    X, _ = _data(2000)
    est = _fitted()["MLPClassifier"]
    client.run(lambda: (fdask._cache.clear(), fdask._by_id.clear()))
    out = fdask.predict(est, da.from_array(X, chunks=100))         # 20 chunks
    graph = dict(out.__dask_graph__())
    blobs = [k for k, v in graph.items() if isinstance(v, bytes) or
             (hasattr(v, "value") and isinstance(getattr(v, "value"), bytes))]
    assert len(blobs) <= 1
    keys = [k for k in graph if isinstance(k, str) and k.startswith("bytes-")]
    assert len(keys) == 1
    client.compute(out).result(timeout=TIMEOUT)
    sizes = client.run(lambda: len(fdask._cache))
    assert set(sizes.values()) <= {0, 1} and sum(sizes.values()) >= 1
    # every task on a worker got the one bytes object the worker holds (not a copy each)
    objects = client.run(lambda: len(fdask._by_id))
    assert objects == sizes


def test_keras_and_torch_style_models(client):
    X, _ = _data()
    X = X.astype(np.float32)
    keras = fn.models.Sequential([fn.layers.Dense(8, activation="relu", input_shape=(6,)),
                                  fn.layers.Dense(2)])
    keras.compile(loss="mse")
    dX = da.from_array(X, chunks=250)
    got = client.compute(fdask.predict(keras, dX, batch_size=64)).result(timeout=TIMEOUT)
    want = _local_by_chunks(lambda c: keras.predict(c, batch_size=64), X, dX.chunks[0])
    np.testing.assert_array_equal(got, want)

    fn.manual_seed(0)
    module = _dask_models.small_mlp()
    got = client.compute(fdask.predict(module, dX, factory=_dask_models.small_mlp)
                         ).result(timeout=TIMEOUT)
    with fn.no_grad():
        want = _local_by_chunks(lambda c: module(c).numpy(), X, dX.chunks[0])
    np.testing.assert_array_equal(got, want)


def test_dataframe_keeps_index_and_names_classes(client):
    X, _ = _data(600)
    est = _fitted()["MLPClassifier"]
    frame = pd.DataFrame(X, columns=list("abcdef"), index=np.arange(600) * 10)
    ddf = dd.from_pandas(frame, npartitions=3)
    proba = client.compute(fdask.predict(est, ddf, method="predict_proba")).result(
        timeout=TIMEOUT)
    assert list(proba.columns) == list(est.classes_)
    np.testing.assert_array_equal(proba.index, frame.index)
    np.testing.assert_array_equal(proba.to_numpy(), est.predict_proba(X))
    labels = client.compute(fdask.predict(est, ddf)).result(timeout=TIMEOUT)
    assert isinstance(labels, pd.Series)
    np.testing.assert_array_equal(labels.to_numpy(), est.predict(X))


def test_worker_killed_mid_predict_is_retried_and_result_complete(client, tmp_path):
    X, _ = _data(800)
    X = X.astype(np.float32)
    flag = str(tmp_path / "died")
    fn.manual_seed(0)
    module = _dask_models.dies_once(flag)
    out = fdask.predict(module, da.from_array(X, chunks=200), factory=_dask_models.dies_once,
                        factory_kwargs={"flag": flag})
    got = client.compute(out).result(timeout=TIMEOUT)
    assert os.path.exists(flag)                  # a worker did die
    with fn.no_grad():
        want = module.body(X).numpy()
    np.testing.assert_array_equal(got, want)


_FORK_SCRIPT = r"""
import sys, warnings
import numpy as np
import dask, dask.array as da, distributed
import fastnn as fn, fastnn.dask as fdask
from fastnn.sklearn import MLPRegressor
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.normal(size=(1000, 6))
est = MLPRegressor(hidden_layer_sizes=(16,), max_iter=20, random_state=0).fit(X, X[:, :2])
fn.set_num_threads(2)
with fn.no_grad():   # the pool's workers and BLAS are running when the workers start
    fn.nn.functional.relu(np.ones(1 << 20, np.float32))
    fn.nn.Linear(600, 600)(np.ones((4096, 600), np.float32))
with dask.config.set({"distributed.worker.multiprocessing-method": sys.argv[1]}):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                  silence_logs=40, death_timeout=60) as cluster, \
            distributed.Client(cluster, timeout=120) as c:
        got = c.compute(fdask.predict(est, da.from_array(X[:400], chunks=100))).result(timeout=120)
np.testing.assert_array_equal(got, est.predict(X[:400]))
print("workers finished")
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_fork_and_spawn_started_workers_finish(method):
    # in a fresh interpreter: forking this test process would also copy whatever
    # threads earlier tests left in it (the module's cluster, other libraries' pools),
    # which is not what a user's process that starts a cluster looks like
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(fn.__file__)))]
        + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    proc = subprocess.run([sys.executable, "-c", _FORK_SCRIPT, method], capture_output=True,
                          text=True, timeout=300, env=env, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and "workers finished" in proc.stdout, proc.stderr[-3000:]


def test_dask_ml_incremental_equals_sequential_partial_fit(client):
    dask_ml = pytest.importorskip("dask_ml.wrappers")
    X, y = _data(900)
    dX, dy = da.from_array(X, chunks=300), da.from_array(y, chunks=300)
    params = dict(hidden_layer_sizes=(8,), random_state=0)
    inc = dask_ml.Incremental(MLPClassifier(**params), scoring="accuracy",
                              shuffle_blocks=False)     # blocks in order, as the loop below
    inc.fit(dX, dy, classes=np.unique(y))
    local = MLPClassifier(**params)
    for lo in range(0, 900, 300):
        local.partial_fit(X[lo:lo + 300], y[lo:lo + 300], classes=np.unique(y))
    for a, b in zip(inc.estimator_.coefs_, local.coefs_):
        np.testing.assert_array_equal(a, b)


def test_fit_on_dask_batches_equals_in_memory(client):
    X, y = _data(700)
    dX, dy = da.from_array(X, chunks=160), da.from_array(y, chunks=160)
    streamed = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, tol=0, random_state=0).fit(
        fdask.batches(dX, dy, batch_size=50), classes=np.unique(y))
    in_memory = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, tol=0, random_state=0,
                              shuffle=False, batch_size=50).fit(X, y)
    for a, b in zip(streamed.coefs_, in_memory.coefs_):
        np.testing.assert_array_equal(a, b)


def test_blob_errors_name_versions_and_kinds():
    est = _fitted()["MLPRegressor"]
    blob = fdask.to_bytes(est)
    obj = fn.load(io.BytesIO(blob))
    obj["version"] = fdask.VERSION + 1
    buf = io.BytesIO()
    fn.save(obj, buf)
    with pytest.raises(fn.LoadError, match=f"version {fdask.VERSION + 1}.*this fastnn's "
                                           f"\\({fdask.VERSION}\\)"):
        fdask.from_bytes(buf.getvalue())
    with pytest.raises(fn.LoadError):
        fdask.from_bytes(b"not a model")
    with pytest.raises(TypeError, match="factory="):
        fdask.predict(fn.nn.Linear(6, 2), da.zeros((4, 6), chunks=2))
    with pytest.raises(TypeError, match="importable by name"):
        fdask.predict(fn.nn.Linear(6, 2), da.zeros((4, 6), chunks=2),
                      factory=lambda: fn.nn.Linear(6, 2))
    with pytest.raises(TypeError, match="dask array or dask dataframe"):
        fdask.predict(est, np.zeros((4, 6)))
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        fdask.predict(est, da.zeros((4, 6), chunks=2), batch_size=0)
    with pytest.raises(TypeError, match="batch_size must be a positive int, got str"):
        fdask.predict(est, da.zeros((4, 6), chunks=2), batch_size="64")
    with pytest.raises(TypeError, match="batches: batch_size"):
        fdask.batches(da.zeros((4, 6), chunks=2), batch_size=None)
    np.testing.assert_array_equal(fdask.from_bytes(blob).predict(np.ones((3, 6))),
                                  est.predict(np.ones((3, 6))))
