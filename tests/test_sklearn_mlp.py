"""fastnn.sklearn.MLPClassifier / MLPRegressor against scikit-learn's own.

With ``dtype=None`` (compute in the input's dtype, as scikit-learn does) a fit
follows scikit-learn's exactly: same initial weights, shuffles, validation split,
stopping and learning-rate decisions, so weights and loss curves agree to
round-off. With the default float32, test scores agree on the datasets
scikit-learn ships.
"""
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import scipy.sparse as sp  # noqa: E402
from sklearn import neural_network as sknn  # noqa: E402
from sklearn.datasets import (load_breast_cancer, load_diabetes, load_digits,  # noqa: E402
                              load_wine, make_multilabel_classification, make_regression)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from fastnn import sklearn as fnsk  # noqa: E402


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _digits(n=300):
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16.0, y[:n]


def _fit_both(name, X, y, fit=lambda est, X, y: est.fit(X, y), **params):
    ours = fit(getattr(fnsk, name)(dtype=None, **params), X, y)
    theirs = fit(getattr(sknn, name)(**params), X, y)
    return ours, theirs


def _assert_same_fit(ours, theirs, rtol=1e-9, atol=1e-12):
    assert len(ours.coefs_) == len(theirs.coefs_)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    for attr in ("n_iter_", "t_", "n_outputs_", "n_layers_", "out_activation_",
                 "n_features_in_"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    for attr in ("loss_curve_", "validation_scores_", "best_loss_", "best_validation_score_",
                 "loss_"):
        a, b = getattr(ours, attr, None), getattr(theirs, attr, None)
        if b is None:
            assert a is None, attr
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=attr)


def _public_fitted_attrs(est):
    return {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}


# --------------------------------------------------------------- exact parity (float64)

@pytest.mark.parametrize("params", [
    dict(hidden_layer_sizes=(20,), max_iter=5),
    dict(hidden_layer_sizes=(16, 8), activation="tanh", alpha=1e-2, max_iter=4, batch_size=64),
    dict(hidden_layer_sizes=(12,), activation="logistic", solver="sgd", max_iter=5),
    dict(hidden_layer_sizes=(12,), activation="identity", solver="sgd",
         nesterovs_momentum=False, learning_rate="invscaling", learning_rate_init=0.05,
         max_iter=5),
    dict(hidden_layer_sizes=(10,), solver="sgd", learning_rate="adaptive", tol=0.5,
         n_iter_no_change=1, max_iter=8),
    dict(hidden_layer_sizes=(10,), shuffle=False, batch_size=50, max_iter=3, momentum=0.5,
         solver="sgd"),
    dict(hidden_layer_sizes=(10,), early_stopping=True, validation_fraction=0.2,
         n_iter_no_change=2, max_iter=30),
], ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_classifier_fit_equals_sklearn(params):
    X, y = _digits()
    ours, theirs = _fit_both("MLPClassifier", X, y, random_state=3, **params)
    _assert_same_fit(ours, theirs)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-9,
                               atol=1e-12)
    assert _public_fitted_attrs(ours) == _public_fitted_attrs(theirs)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)


def test_binary_and_multilabel_classifiers_equal_sklearn():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours, theirs = _fit_both("MLPClassifier", X, y, hidden_layer_sizes=(8,), max_iter=5,
                             random_state=0)
    _assert_same_fit(ours, theirs)
    assert ours.out_activation_ == "logistic" and ours.predict_proba(X).shape == (len(X), 2)
    Xm, Ym = make_multilabel_classification(n_samples=120, n_classes=4, random_state=0)
    ours, theirs = _fit_both("MLPClassifier", Xm, Ym, hidden_layer_sizes=(8,), max_iter=5,
                             random_state=0)
    _assert_same_fit(ours, theirs)
    np.testing.assert_array_equal(ours.predict(Xm), theirs.predict(Xm))


@pytest.mark.parametrize("params", [
    dict(hidden_layer_sizes=(20,), max_iter=5),
    dict(hidden_layer_sizes=(8, 8), solver="sgd", learning_rate_init=0.01, max_iter=5),
    dict(hidden_layer_sizes=(10,), loss="poisson", max_iter=5),
], ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("outputs", [1, 3])
def test_regressor_fit_equals_sklearn(params, outputs):
    X, y = make_regression(n_samples=250, n_features=6, n_targets=outputs, random_state=0)
    y = y / y.std()
    if params.get("loss") == "poisson":
        y = np.abs(y)
    ours, theirs = _fit_both("MLPRegressor", X, y, random_state=1, **params)
    _assert_same_fit(ours, theirs)
    assert ours.predict(X).shape == theirs.predict(X).shape
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9, atol=1e-12)
    assert _public_fitted_attrs(ours) == _public_fitted_attrs(theirs)


def test_sample_weight_sparse_and_float32_input_equal_sklearn():
    X, y = _digits(200)
    w = np.random.default_rng(0).uniform(0.2, 2.0, len(y))
    ours, theirs = _fit_both("MLPClassifier", X, y,
                             fit=lambda e, X, y: e.fit(X, y, sample_weight=w),
                             hidden_layer_sizes=(10,), max_iter=4, random_state=0)
    _assert_same_fit(ours, theirs)
    Xs = sp.csr_matrix(X)
    ours, theirs = _fit_both("MLPClassifier", Xs, y, hidden_layer_sizes=(10,), max_iter=4,
                             random_state=0)
    _assert_same_fit(ours, theirs)
    ours, theirs = _fit_both("MLPClassifier", X.astype(np.float32), y,
                             hidden_layer_sizes=(10,), max_iter=4, random_state=0)
    _assert_same_fit(ours, theirs, rtol=2e-4, atol=1e-5)
    assert ours.coefs_[0].dtype == np.float32


def test_partial_fit_and_warm_start_equal_sklearn():
    X, y = _digits()

    def partial(est, X, y):
        for lo in range(0, len(X), 100):
            est.partial_fit(X[lo:lo + 100], y[lo:lo + 100], classes=np.unique(y))
        return est
    ours, theirs = _fit_both("MLPClassifier", X, y, fit=partial, hidden_layer_sizes=(10,),
                             random_state=0)
    _assert_same_fit(ours, theirs)

    def warm(est, X, y):
        est.fit(X, y)
        est.set_params(max_iter=3)
        return est.fit(X, y)
    ours, theirs = _fit_both("MLPClassifier", X, y, fit=warm, hidden_layer_sizes=(10,),
                             warm_start=True, max_iter=2, random_state=0)
    _assert_same_fit(ours, theirs)

    Xr, yr = make_regression(n_samples=200, n_features=5, random_state=0)
    ours, theirs = _fit_both("MLPRegressor", Xr, yr / yr.std(),
                             fit=lambda e, X, y: e.partial_fit(X, y).partial_fit(X, y),
                             hidden_layer_sizes=(10,), solver="sgd", random_state=0)
    _assert_same_fit(ours, theirs)


def test_lbfgs_equals_sklearn():
    X, y = _digits(200)
    ours, theirs = _fit_both("MLPClassifier", X, y, solver="lbfgs", hidden_layer_sizes=(10,),
                             max_iter=20, random_state=0)
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-6)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert not hasattr(ours, "partial_fit") and not hasattr(theirs, "partial_fit")


# ------------------------------------------------------------- results (default float32)

def _dataset(name):
    if name == "digits":
        X, y = load_digits(return_X_y=True)
    elif name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
    elif name == "wine":
        X, y = load_wine(return_X_y=True)
    elif name == "diabetes":
        X, y = load_diabetes(return_X_y=True)
    else:   # california housing's size (20,640 x 8) without a download
        X, y = make_regression(n_samples=20640, n_features=8, n_informative=6, noise=20.0,
                               random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    if name in ("diabetes", "california"):
        mean, std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digits", "breast_cancer", "wine", "diabetes", "california"])
def test_test_scores_match_sklearn_on_its_datasets(name):
    X_train, X_test, y_train, y_test = _dataset(name)
    cls = "MLPRegressor" if name in ("diabetes", "california") else "MLPClassifier"
    params = dict(random_state=0)
    if name == "diabetes":      # 442 samples, 10 features: a small, strongly regularised net
        params.update(hidden_layer_sizes=(20,), alpha=10.0, max_iter=1000)
    ours = getattr(fnsk, cls)(**params).fit(X_train, y_train)
    theirs = getattr(sknn, cls)(**params).fit(X_train, y_train)
    assert ours.coefs_[0].dtype == np.float32
    s_ours, s_theirs = ours.score(X_test, y_test), theirs.score(X_test, y_test)
    assert abs(s_ours - s_theirs) <= 0.01, (s_ours, s_theirs)
    assert s_theirs > (0.3 if name == "diabetes" else 0.9)


def test_bench_rows_time_and_score_both_libraries():
    from fastnn.sklearn import _bench
    lines = []
    (row,) = _bench.run_bench(repeat=1, names=["wine"], print_fn=lines.append)
    assert row["workload"] == "wine" and row["shape"] == (133, 13)
    assert min(row["sklearn"], row["fastnn"], row["fastnn64"]) > 0
    assert abs(row["score_fastnn"] - row["score_sklearn"]) <= 0.01
    assert row["score_sklearn"] > 0.9
    assert lines[-1].startswith("wine") and len(lines) == 3
    with pytest.raises(ValueError, match="unknown workload"):
        _bench.run_bench(names=["mnist"])


def test_cli_bench_sklearn_runs_the_table(monkeypatch):
    from fastnn import __main__ as cli
    from fastnn.sklearn import _bench
    calls = []
    monkeypatch.setattr(_bench, "run_bench", lambda repeat: calls.append(repeat))
    assert cli.main(["bench", "--sklearn", "--repeat", "3"]) == 0
    assert calls == [3]


# --------------------------------------------------------------------- behaviour

def test_pickle_keeps_predictions_and_continues_training_exactly():
    X, y = _digits(200)
    a = fnsk.MLPClassifier(hidden_layer_sizes=(10,), max_iter=3, random_state=0).fit(X, y)
    b = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert "_net" not in b.__dict__
    a.partial_fit(X, y)
    b.partial_fit(X, y)           # the optimizer state travelled as plain arrays
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(u, v)


def test_user_assigned_coefs_are_used():
    X, y = _digits(100)
    est = fnsk.MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0).fit(X, y)
    est.coefs_ = [np.zeros_like(c) for c in est.coefs_]
    est.intercepts_ = [np.zeros_like(c) for c in est.intercepts_]
    np.testing.assert_allclose(est.predict_proba(X), 0.1, rtol=1e-6)
    est.partial_fit(X, y)
    assert all(np.abs(c).sum() > 0 for c in est.coefs_)


def test_warm_start_follows_changed_activation_like_sklearn():
    X, y = _digits(150)

    def refit(est, X, y):
        est.fit(X, y)
        return est.set_params(activation="tanh").fit(X, y)
    ours, theirs = _fit_both("MLPClassifier", X, y, fit=refit, hidden_layer_sizes=(6,),
                             warm_start=True, max_iter=2, random_state=0)
    _assert_same_fit(ours, theirs)


def test_bad_parameters_are_named():
    X, y = _digits(50)
    with pytest.raises(ValueError, match="'alpha' parameter of MLPClassifier.*Got -1"):
        fnsk.MLPClassifier(alpha=-1).fit(X, y)
    with pytest.raises(ValueError, match="'dtype' parameter"):
        fnsk.MLPClassifier(dtype="int8").fit(X, y)
    with pytest.raises(TypeError, match="hidden_layer_sizes"):
        fnsk.MLPRegressor(hidden_layer_sizes=(10, 0)).fit(X, y)
    with pytest.raises(ValueError, match="warm_start"):
        est = fnsk.MLPClassifier(max_iter=1, warm_start=True).fit(X, y)
        est.fit(X, (y > 4).astype(int))
    with pytest.raises(ValueError, match="layer sizes"):
        est = fnsk.MLPClassifier(max_iter=1, warm_start=True).fit(X, y)
        est.set_params(hidden_layer_sizes=(7,)).fit(X, y)


def test_non_finite_weights_raise():
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        fnsk.MLPRegressor(solver="sgd", learning_rate_init=10.0, max_iter=50,
                          random_state=0).fit(X, y * 1e6)
