"""fastnn.sklearn estimators inside scikit-learn's machinery (Pipeline, clone,
GridSearchCV with process workers, pickle) and fitted on streams of batches."""
import os
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import fastnn as fn  # noqa: E402
from fastnn.sklearn import (MLPClassifier, MLPRegressor, NeuralNetClassifier,  # noqa: E402
                            NeuralNetRegressor, mlp)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _digits(n=400):
    X, y = load_digits(return_X_y=True)
    return X[:n], y[:n]


def _same_weights(a, b):
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(u, v)


# ------------------------------------------------------------- Pipeline / search

def test_pipeline_grid_search_with_process_workers_matches_serial():
    X, y = _digits()
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=30, random_state=0))
    grid = {"mlpclassifier__hidden_layer_sizes": [(16,), (32,)],
            "mlpclassifier__alpha": [1e-4, 1e-1]}
    parallel = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, y)     # loky processes
    serial = GridSearchCV(pipe, grid, cv=3, n_jobs=1).fit(X, y)
    np.testing.assert_array_equal(parallel.cv_results_["mean_test_score"],
                                  serial.cv_results_["mean_test_score"])
    assert parallel.best_score_ > 0.6
    assert parallel.best_estimator_.score(X, y) > 0.8


def test_neuralnet_grid_search_routes_module_params_in_processes():
    X, y = _digits(300)
    X = X / 16.0
    est = NeuralNetClassifier(mlp, module_params={"hidden_layer_sizes": (8,)}, max_epochs=15,
                              lr=0.01, random_state=0)
    search = GridSearchCV(est, {"module__hidden_layer_sizes": [(4,), (32,)],
                                "optimizer__weight_decay": [0.0]}, cv=2, n_jobs=2).fit(X, y)
    assert search.best_params_["module__hidden_layer_sizes"] == (32,)
    best = search.best_estimator_
    assert best.module_params == {"hidden_layer_sizes": (32,)}
    assert best.optimizer_params == {"weight_decay": 0.0}
    assert best.module_[0].out_features == 32
    assert est.module_params == {"hidden_layer_sizes": (8,)}       # the original untouched


def test_clone_keeps_parameters_and_drops_fitted_state():
    X, y = _digits(100)
    for est in (MLPClassifier(hidden_layer_sizes=(7,), max_iter=2, dtype=None),
                NeuralNetClassifier(mlp, module_params={"hidden_layer_sizes": (7,)},
                                    max_epochs=1)):
        est.fit(X, y)
        twin = clone(est)
        assert twin.get_params() == est.get_params()
        assert not hasattr(twin, "classes_")


# ------------------------------------------------------------------------ pickle

@pytest.mark.parametrize("make", [
    lambda: MLPClassifier(hidden_layer_sizes=(10,), max_iter=3, random_state=0),
    lambda: MLPRegressor(hidden_layer_sizes=(10,), solver="sgd", learning_rate="invscaling",
                         max_iter=3, random_state=0),
    lambda: NeuralNetClassifier(mlp, module_params={"hidden_layer_sizes": (10,)}, max_epochs=2,
                                random_state=0),
    lambda: NeuralNetRegressor(mlp, module_params={"hidden_layer_sizes": (10,)}, max_epochs=2,
                               random_state=0),
], ids=["MLPClassifier", "MLPRegressor-sgd", "NeuralNetClassifier", "NeuralNetRegressor"])
def test_pickled_estimator_predicts_and_keeps_training_identically(make):
    X, y = _digits(200)
    X = X / 16.0
    if "Regressor" in type(make()).__name__:
        y = y.astype(float) / 10
    a = make().fit(X, y)
    blob = pickle.dumps(a)
    assert b"fastnn.nn" not in blob and b"fastnn.optim" not in blob   # plain data only
    b = pickle.loads(blob)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    kw = {"classes": np.unique(y)} if "Classifier" in type(a).__name__ else {}
    a.partial_fit(X, y, **kw)
    b.partial_fit(X, y, **kw)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    if hasattr(a, "coefs_"):
        _same_weights(a, b)
    else:
        for (k, u), v in zip(a.module_.state_dict().items(), b.module_.state_dict().values()):
            np.testing.assert_array_equal(u, v, err_msg=k)


# ------------------------------------------------------------- NeuralNet wrappers

def test_neuralnet_factory_arguments_criterion_and_optimizer():
    seen = {}

    def factory(n_features, n_outputs, width=4, generator=None):
        seen.update(n_features=n_features, n_outputs=n_outputs, width=width,
                    generator=generator)
        return fn.nn.Sequential(fn.nn.Linear(n_features, width, generator=generator),
                                fn.nn.Tanh(), fn.nn.Linear(width, n_outputs, generator=generator))

    X, y = make_regression(n_samples=120, n_features=5, n_targets=2, random_state=0)
    reg = NeuralNetRegressor(factory, module_params={"width": 6}, criterion=fn.nn.HuberLoss,
                             criterion_params={"delta": 0.5}, optimizer="sgd",
                             optimizer_params={"momentum": 0.9}, lr=0.01, max_epochs=3,
                             random_state=0).fit(X, y / y.std())
    assert seen["n_features"] == 5 and seen["n_outputs"] == 2 and seen["width"] == 6
    assert isinstance(seen["generator"], fn.random.Generator)
    assert type(reg._optimizer).__name__ == "SGD"
    assert reg._optimizer.param_groups[0]["momentum"] == 0.9
    assert reg.predict(X).shape == (120, 2) and reg.predict(X).dtype == np.float64
    assert len(reg.loss_curve_) == reg.n_iter_ == 3
    # same seed, same model
    again = clone(reg).fit(X, y / y.std())
    np.testing.assert_array_equal(reg.predict(X), again.predict(X))


def test_neuralnet_rejects_module_instances_and_bad_factories():
    X, y = _digits(50)
    with pytest.raises(TypeError, match="module_factory must build the module"):
        NeuralNetClassifier(fn.nn.Linear(64, 10)).fit(X, y)
    with pytest.raises(TypeError, match="expected a fastnn.nn.Module"):
        NeuralNetClassifier(lambda n_features, n_outputs: "not a module").fit(X, y)
    with pytest.raises(TypeError, match="module_params must be None or a dict"):
        NeuralNetClassifier(mlp, module_params=[1]).fit(X, y)
    with pytest.raises(ValueError, match="not in classes_"):
        est = NeuralNetClassifier(mlp, max_epochs=1).fit(X, y % 2)
        est.partial_fit(X, y)


def test_neuralnet_default_generator_untouched_by_seeded_build():
    state = fn.random.default_generator.get_state()
    X, y = _digits(60)
    NeuralNetClassifier(lambda n_features, n_outputs: fn.nn.Linear(n_features, n_outputs),
                        max_epochs=1, random_state=0).fit(X, y)
    assert fn.random.default_generator.get_state() == state


# ---------------------------------------------------------------- streaming fit

class NpyFolder:
    """A data set too big for memory: one .npy pair per batch, memory-mapped, read
    one batch at a time (re-iterable: each pass opens the files again)."""

    def __init__(self, folder):
        self.folder = folder
        self.names = sorted(n[:-6] for n in os.listdir(folder) if n.endswith("_x.npy"))

    def __iter__(self):
        for name in self.names:
            yield (np.load(os.path.join(self.folder, name + "_x.npy"), mmap_mode="r"),
                   np.load(os.path.join(self.folder, name + "_y.npy"), mmap_mode="r"))


def _write_batches(folder, X, y, size):
    for i, lo in enumerate(range(0, len(X), size)):
        np.save(os.path.join(folder, f"{i:04d}_x.npy"), X[lo:lo + size])
        np.save(os.path.join(folder, f"{i:04d}_y.npy"), y[lo:lo + size])


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_fit_on_npy_folder_equals_in_memory_fit(cls, tmp_path):
    X, y = _digits(350)
    X = X / 16.0
    if cls is MLPRegressor:
        y = y.astype(float) / 10
    _write_batches(tmp_path, X, y, 64)
    params = dict(hidden_layer_sizes=(12,), max_iter=4, random_state=0, tol=0.0)
    in_memory = cls(shuffle=False, batch_size=64, **params).fit(X, y)
    kw = {"classes": np.unique(y)} if cls is MLPClassifier else {}
    streamed = cls(**params).fit(NpyFolder(tmp_path), **kw)
    _same_weights(in_memory, streamed)
    np.testing.assert_array_equal(in_memory.loss_curve_, streamed.loss_curve_)
    assert streamed.n_iter_ == 4 and streamed.t_ == 4 * len(X)
    # classes found by a first pass when not given
    if cls is MLPClassifier:
        _same_weights(in_memory, cls(**params).fit(NpyFolder(tmp_path)))


def test_partial_fit_on_batches_continues_like_fit():
    X, y = _digits(300)
    batches = [(X[lo:lo + 50] / 16.0, y[lo:lo + 50]) for lo in range(0, 300, 50)]
    whole = MLPClassifier(hidden_layer_sizes=(10,), max_iter=3, tol=0.0, random_state=0)
    whole.fit(batches)
    parts = MLPClassifier(hidden_layer_sizes=(10,), random_state=0)
    for _ in range(3):
        parts.partial_fit(iter(batches), classes=np.unique(y))    # a one-shot iterator is fine
    _same_weights(whole, parts)


def test_batches_with_sample_weights_and_dataloader_like_tensors():
    X, y = _digits(200)
    X = (X / 16.0).astype(np.float32)
    w = np.linspace(0.5, 1.5, len(y))
    triples = [(fn.tensor(X[lo:lo + 40]), fn.tensor(y[lo:lo + 40]), w[lo:lo + 40])
               for lo in range(0, 200, 40)]
    a = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, shuffle=False, batch_size=40,
                      random_state=0).fit(X, y, sample_weight=w)
    b = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(
        triples, classes=np.unique(y))
    _same_weights(a, b)


def test_fit_on_fastnn_dataloader_equals_list_of_batches():
    X, y = _digits(300)
    X = (X / 16.0).astype(np.float32)
    loader = fn.data.DataLoader(fn.data.TensorDataset(X, y), batch_size=64)
    listed = [(X[lo:lo + 64], y[lo:lo + 64]) for lo in range(0, 300, 64)]
    params = dict(hidden_layer_sizes=(10,), max_iter=3, tol=0.0, random_state=0)
    a = MLPClassifier(**params).fit(loader, classes=np.arange(10))
    b = MLPClassifier(**params).fit(listed, classes=np.arange(10))
    _same_weights(a, b)
    reg = MLPRegressor(**params).fit(fn.data.DataLoader(
        fn.data.TensorDataset(X, y.astype(np.float32) / 10), batch_size=64, shuffle=True,
        generator=fn.random.Generator(0)))
    assert reg.n_iter_ == 3 and np.isfinite(reg.loss_curve_).all()


def test_neuralnet_fit_on_batches():
    X, y = _digits(300)
    X = X / 16.0
    batches = [(X[lo:lo + 100], y[lo:lo + 100]) for lo in range(0, 300, 100)]
    est = NeuralNetClassifier(mlp, module_params={"hidden_layer_sizes": (16,)}, max_epochs=20,
                              lr=0.01, random_state=0).fit(batches)
    assert list(est.classes_) == list(range(10)) and est.n_iter_ == 20
    assert est.score(X, y) > 0.8


def test_stream_errors_are_clear():
    X, y = _digits(100)
    gen = ((X[i:i + 10], y[i:i + 10]) for i in range(0, 100, 10))
    with pytest.raises(TypeError, match="one-shot iterator"):
        MLPClassifier(max_iter=5).fit(gen, classes=np.unique(y))
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).fit([(X, y)])
    with pytest.raises(ValueError, match="stochastic solver"):
        MLPClassifier(solver="lbfgs").fit([(X, y)])
    with pytest.raises(TypeError, match="batch 1 must be a pair"):
        MLPRegressor(max_iter=1).fit([(X, y), X])
    with pytest.raises(ValueError, match="features"):
        MLPRegressor(max_iter=1).fit([(X, y), (X[:, :5], y)])
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPClassifier().partial_fit([(X, y)])
    with pytest.raises(ValueError, match="requires y to be passed"):
        MLPClassifier().fit(X)
