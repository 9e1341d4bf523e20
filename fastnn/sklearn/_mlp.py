"""MLPClassifier and MLPRegressor: scikit-learn's multi-layer perceptrons on fastnn.

Same parameters, defaults, attributes and fitting procedure as
``sklearn.neural_network`` (Glorot-uniform init drawn from ``random_state`` in the
same order, the same shuffles, early-stopping split, stopping rule and learning-rate
schedules), so a fit on the same data and settings gives the same model to
round-off; the arithmetic runs in ``_backprop`` on preallocated buffers and fastnn's
fused optimizer kernels. Fitted state is plain NumPy (``coefs_``/``intercepts_`` in
scikit-learn's layout), so the estimators pickle, clone and ship to other processes.
"""
import warnings
from itertools import chain

import numpy as np
import scipy.optimize
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _stream
from ._backprop import AdamSolver, Network, SGDSolver, forward
from ._params import (Bool, FloatDType, Integer, LayerSizes, Options, RandomState, Real,
                      Verbose, check_params)

__all__ = ["MLPClassifier", "MLPRegressor"]

_STOCHASTIC_SOLVERS = ("sgd", "adam")


def _pack(coefs, intercepts):
    return np.hstack([a.ravel() for a in coefs + intercepts])


class BaseMultilayerPerceptron(BaseEstimator):
    """What MLPClassifier and MLPRegressor share (scikit-learn's base class)."""

    _constraints = {
        "hidden_layer_sizes": [LayerSizes()],
        "activation": [Options("identity", "logistic", "tanh", "relu")],
        "solver": [Options("lbfgs", "sgd", "adam")],
        "alpha": [Real(0, None)],
        "batch_size": [Options("auto"), Integer(1, None)],
        "learning_rate": [Options("constant", "invscaling", "adaptive")],
        "learning_rate_init": [Real(0, None, closed="neither")],
        "power_t": [Real(0, None)],
        "max_iter": [Integer(1, None)],
        "shuffle": [Bool()],
        "random_state": [RandomState()],
        "tol": [Real(0, None)],
        "verbose": [Verbose()],
        "warm_start": [Bool()],
        "momentum": [Real(0, 1)],
        "nesterovs_momentum": [Bool()],
        "early_stopping": [Bool()],
        "validation_fraction": [Real(0, 1, closed="left")],
        "beta_1": [Real(0, 1, closed="left")],
        "beta_2": [Real(0, 1, closed="left")],
        "epsilon": [Real(0, None, closed="neither")],
        "n_iter_no_change": [Integer(1, None), Real(np.inf, np.inf)],
        "max_fun": [Integer(1, None)],
        "dtype": [FloatDType(), None],
    }

    # ---------------------------------------------------------------- plumbing
    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_net", None)     # live fastnn Parameters: rebuilt from coefs_ on use
        return state

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        return [int(s) for s in sizes]

    def _network(self, dtype):
        """The Network whose views ``coefs_``/``intercepts_`` are (a new one, holding
        copies, when those lists were rebound: by early stopping's best weights, by
        unpickling, or by the user)."""
        net = getattr(self, "_net", None)
        kind = (self.activation, self.out_activation_, self.loss)
        if net is None or net.dtype != dtype or net.kind != kind or \
                not net.uses(self.coefs_, self.intercepts_):
            net = self._net = Network(self.coefs_, self.intercepts_, self.activation,
                                      self.out_activation_, self.loss, self.alpha, dtype)
            self.coefs_, self.intercepts_ = list(net.coefs), list(net.intercepts)
        net.alpha = float(self.alpha)
        return net

    # ---------------------------------------------------------- initialisation
    def _initialize(self, y, layer_units, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"
        self.coefs_, self.intercepts_ = [], []
        for i in range(self.n_layers_ - 1):
            coef, intercept = self._init_coef(layer_units[i], layer_units[i + 1], dtype)
            self.coefs_.append(coef)
            self.intercepts_.append(intercept)
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]
        self._net = None
        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _init_coef(self, fan_in, fan_out, dtype):
        # Glorot et al.'s uniform initialisation, with scikit-learn's factor and draws
        factor = 2.0 if self.activation == "logistic" else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = self._random_state.uniform(-bound, bound, (fan_in, fan_out))
        intercept = self._random_state.uniform(-bound, bound, fan_out)
        return (np.ascontiguousarray(coef, dtype=dtype),
                np.ascontiguousarray(intercept, dtype=dtype))

    # --------------------------------------------------------------------- fit
    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        check_params(self, self._constraints)
        if y is None and _stream.is_batches(X):
            return _stream.fit_batches(self, X, sample_weight, incremental, classes)
        hidden = self._hidden_sizes()
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        dtype = self._compute_dtype(X.dtype) if first_pass else self.coefs_[0].dtype
        X, y = _as_compute(X, dtype), np.asarray(y, dtype=dtype)
        if sample_weight is not None:
            sample_weight = sample_weight.astype(dtype, copy=False)
        self.n_outputs_ = y.shape[1]
        layer_units = [X.shape[1]] + hidden + [self.n_outputs_]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, dtype)
        else:
            self._check_layers(layer_units)
        net = self._network(dtype)
        if self.solver in _STOCHASTIC_SOLVERS:
            self._fit_stochastic(X, y, sample_weight, net, incremental)
        else:
            self._fit_lbfgs(X, y, sample_weight, net)
        self._check_finite()
        return self

    def _compute_dtype(self, input_dtype):
        """float64 for L-BFGS (its line searches need the precision), else ``dtype``,
        or the input's dtype when that is None."""
        if self.solver == "lbfgs":
            return np.dtype(np.float64)
        return np.dtype(input_dtype if self.dtype is None else self.dtype)

    def _check_layers(self, layer_units):
        have = [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]
        if have != layer_units:
            raise ValueError(f"{type(self).__name__}: the fitted network has layer sizes {have} "
                             f"but this call needs {layer_units} (hidden_layer_sizes or the "
                             f"number of outputs changed); refit without warm_start.")

    def _check_finite(self):
        if not all(np.isfinite(w).all() for w in chain(self.coefs_, self.intercepts_)):
            raise ValueError("Solver produced non-finite parameter weights. The input data may"
                             " contain large values and need to be preprocessed.")

    def _make_solver(self):
        if self.solver == "sgd":
            return SGDSolver(self.learning_rate_init, self.learning_rate, self.momentum,
                             self.nesterovs_momentum, self.power_t)
        return AdamSolver(self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon)

    def _bound_solver(self, net, incremental):
        """The solver, new for a fresh fit, kept across partial_fit calls, attached to
        the network's Parameters."""
        if not incremental or getattr(self, "_optimizer", None) is None:
            self._optimizer = self._make_solver()
        solver = self._optimizer
        if not solver.bound_to(net.params):
            solver.bind(net.params)
        return solver

    def _fit_stochastic(self, X, y, sample_weight, net, incremental):
        solver = self._bound_solver(net, incremental)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        if early_stopping:
            # don't stratify in multilabel classification
            should_stratify = is_classifier(self) and self.n_outputs_ == 1
            stratify = y if should_stratify else None
            if sample_weight is None:
                X_train, X_val, y_train, y_val = train_test_split(
                    X, y, random_state=self._random_state, test_size=self.validation_fraction,
                    stratify=stratify)
                sw_train = sw_val = None
            else:
                X_train, X_val, y_train, y_val, sw_train, sw_val = train_test_split(
                    X, y, sample_weight, random_state=self._random_state,
                    test_size=self.validation_fraction, stratify=stratify)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                                 "or the size of your dataset.")
            if is_classifier(self):
                y_val = self._label_binarizer.inverse_transform(y_val)
        else:
            X_train, y_train, sw_train = X, y, sample_weight
            X_val = y_val = sw_val = None

        n_samples = X_train.shape[0]
        sample_idx = np.arange(n_samples, dtype=int)
        # class index per row, for a softmax output's loss (one probability per row)
        labels = y_train.argmax(axis=1) if self.out_activation_ == "softmax" else None
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn("Got `batch_size` less than 1 or larger than "
                              "sample size. It is going to be clipped")
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        dense = isinstance(X_train, np.ndarray)
        # gen_batches(n_samples, batch_size), computed once
        batches = [slice(start, min(start + batch_size, n_samples))
                   for start in range(0, n_samples, batch_size)]
        # a shuffled copy per epoch, then batches are views: 3 gathers per epoch instead
        # of 3 per batch (above 64 MB, gather batch by batch as scikit-learn does)
        whole_epoch = dense and X_train.nbytes + y_train.nbytes <= 64 << 20
        try:
            self.n_iter_ = 0
            for it in range(self.max_iter):
                if self.shuffle:
                    # sklearn.utils.shuffle(sample_idx, random_state=...) draws exactly
                    # this permutation; called directly, it costs a parameter
                    # validation per epoch
                    perm = np.arange(n_samples)
                    self._random_state.shuffle(perm)
                    sample_idx = sample_idx[perm]
                    if whole_epoch:
                        X_epoch, y_epoch = X_train.take(sample_idx, axis=0), \
                            y_train.take(sample_idx, axis=0)
                        l_epoch = None if labels is None else labels[sample_idx]
                else:
                    X_epoch, y_epoch, l_epoch = X_train, y_train, labels
                accumulated_loss = 0.0
                for batch_slice in batches:
                    if self.shuffle and not whole_epoch:
                        batch_idx = sample_idx[batch_slice]
                        X_batch = X_train.take(batch_idx, axis=0) if dense else X_train[batch_idx]
                        y_batch = y_train.take(batch_idx, axis=0)
                        l_batch = None if labels is None else labels[batch_idx]
                    else:
                        batch_idx = batch_slice
                        X_batch, y_batch = X_epoch[batch_slice], y_epoch[batch_slice]
                        l_batch = None if labels is None else l_epoch[batch_slice]
                    sw_batch = None if sw_train is None else \
                        sw_train[sample_idx[batch_slice] if self.shuffle else batch_slice]
                    batch_loss = net.backprop(X_batch, y_batch, sw_batch, l_batch)
                    accumulated_loss += batch_loss * (batch_slice.stop - batch_slice.start)
                    solver.step()
                self._epoch_ends(accumulated_loss / n_samples, n_samples, solver,
                                 early_stopping, X_val, y_val, sw_val)
                if self._stop(solver, early_stopping):
                    break
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the "
                                  "optimization hasn't converged yet." % self.max_iter,
                                  ConvergenceWarning)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        if early_stopping:
            # restore best weights
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts

    def _epoch_ends(self, loss, n_samples, solver, early_stopping, X_val, y_val, sw_val):
        self.n_iter_ += 1
        self.loss_ = loss
        self.t_ += n_samples
        self.loss_curve_.append(self.loss_)
        if self.verbose:
            print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
        self._update_no_improvement_count(early_stopping, X_val, y_val, sw_val)
        solver.iteration_ends(self.t_)

    def _stop(self, solver, early_stopping):
        if self._no_improvement_count <= self.n_iter_no_change:
            return False
        if early_stopping:
            msg = ("Validation score did not improve more than tol=%f for %d consecutive "
                   "epochs." % (self.tol, self.n_iter_no_change))
        else:
            msg = ("Training loss did not improve more than tol=%f for %d consecutive epochs."
                   % (self.tol, self.n_iter_no_change))
        if solver.trigger_stopping(msg, self.verbose):
            return True
        self._no_improvement_count = 0
        return False

    def _update_no_improvement_count(self, early_stopping, X, y, sample_weight):
        if early_stopping:
            self.validation_scores_.append(self._score(X, y, sample_weight=sample_weight))
            if self.verbose:
                print("Validation score: %f" % self.validation_scores_[-1])
            last_valid_score = self.validation_scores_[-1]
            if last_valid_score < (self.best_validation_score_ + self.tol):
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last_valid_score > self.best_validation_score_:
                self.best_validation_score_ = last_valid_score
                self._best_coefs = [c.copy() for c in self.coefs_]
                self._best_intercepts = [i.copy() for i in self.intercepts_]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def _fit_lbfgs(self, X, y, sample_weight, net):
        shapes = [a.shape for a in self.coefs_ + self.intercepts_]
        sizes = np.cumsum([0] + [int(np.prod(s)) for s in shapes])
        arrays = self.coefs_ + self.intercepts_

        def unpack(packed):
            for a, lo, hi in zip(arrays, sizes[:-1], sizes[1:]):
                a[...] = packed[lo:hi].reshape(a.shape)

        def loss_grad(packed):
            unpack(packed)
            loss = net.backprop(X, y, sample_weight)
            return loss, _pack(net.coef_grads, net.intercept_grads).astype(np.float64)

        res = scipy.optimize.minimize(
            loss_grad, _pack(self.coefs_, self.intercepts_).astype(np.float64),
            method="L-BFGS-B", jac=True,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol})
        self.n_iter_ = min(res.nit, self.max_iter)
        if res.status != 0:
            msg = (f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                   f"(status={res.status}):\n{res.message}\n")
            if self.n_iter_ == self.max_iter:
                msg += (f"\nIncrease the number of iterations to improve the convergence "
                        f"(max_iter={self.max_iter}).")
            warnings.warn(msg, ConvergenceWarning, stacklevel=3)
        self.loss_ = float(res.fun)
        unpack(res.x)

    def fit(self, X, y=None, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Args:
            X: {array-like, sparse matrix} of shape (n_samples, n_features); or, with
                ``y=None``, an iterable of ``(x, y)`` batches (a list, a
                ``fn.data.DataLoader``, or any re-iterable object) for data that does
                not fit in memory: each batch is one optimizer step, each pass over
                the iterable one epoch.
            y: (n_samples,) or (n_samples, n_outputs) targets.
            sample_weight: (n_samples,) or None.

        Returns:
            self
        """
        return self._fit(X, y, sample_weight=sample_weight)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError("partial_fit is only available for stochastic optimizers. "
                                 "%s is not stochastic." % self.solver)
        return True

    # ------------------------------------------------------------------ predict
    def _forward_pass_fast(self, X, check_input=True):
        """The output activations for X, in X's float dtype (as scikit-learn returns
        them) whatever precision the network computes in."""
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        dtype = self.coefs_[0].dtype
        out = forward(_as_compute(X, dtype), self.coefs_, self.intercepts_, self.activation,
                      self.out_activation_)
        return out.astype(X.dtype if X.dtype.kind == "f" else np.float64, copy=False)

    def _score_with_function(self, X, y, sample_weight, score_function):
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _as_compute(X, dtype):
    """X in the network's dtype: dense C-contiguous, or CSR (row slicing) when sparse."""
    if isinstance(X, np.ndarray):
        return np.ascontiguousarray(X, dtype=dtype)
    return X.tocsr().astype(dtype, copy=False)


_DOC_PARAMS = """
    Parameters and attributes are scikit-learn's (``sklearn.neural_network.{name}``),
    with the same defaults and meaning; see its documentation. ``solver='lbfgs'``
    runs SciPy's L-BFGS-B on fastnn's full-batch gradient. One parameter is added:

    dtype : {{'float32', 'float64'}} or None, default='float32'
        The precision the 'adam' and 'sgd' solvers compute in (and ``coefs_`` are
        stored in). fastnn's default float32 halves the cost of the matrix products
        and gives the same accuracy; None follows the input's dtype, as
        scikit-learn does (float64 for float64 input), and then reproduces
        scikit-learn's fit to round-off. 'lbfgs' always computes in float64."""


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron classifier: scikit-learn's ``MLPClassifier`` on fastnn.

    Trained with log-loss by Adam, SGD (with momentum, Nesterov, learning-rate
    schedules) or L-BFGS; the same results as scikit-learn's at the same settings,
    faster. Binary, multiclass and multilabel targets.
    {params}

    >>> from sklearn.datasets import load_iris
    >>> from fastnn.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9, [c.shape for c in clf.coefs_]
    (True, [(4, 16), (16, 3)])
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dtype="float32"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dtype = dtype

    loss = "log_loss"

    def fit(self, X, y=None, sample_weight=None, classes=None):
        """Fit the model to data matrix X and target(s) y.

        Args:
            X: {array-like, sparse matrix} of shape (n_samples, n_features); or, with
                ``y=None``, an iterable of ``(x, y)`` batches (a list, a
                ``fn.data.DataLoader``, or any re-iterable object) for data that does
                not fit in memory: each batch is one optimizer step, each pass over
                the iterable one epoch.
            y: (n_samples,) or (n_samples, n_classes) (multilabel) targets.
            sample_weight: (n_samples,) or None.
            classes: with batches only, every class label (else found by one extra
                pass over the batches).

        Returns:
            self
        """
        return self._fit(X, y, sample_weight=sample_weight, classes=classes)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            self._check_classes(unique_labels(y))
        y = self._label_binarizer.transform(y).astype(bool)
        return X, y

    def _check_classes(self, classes):
        if self.warm_start:
            if set(classes) != set(self.classes_):
                raise ValueError("warm_start can only be used where `y` has the same classes as "
                                 f"in the previous call to fit. Previously got {self.classes_}, "
                                 f"`y` has {classes}")
        elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
            raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                             f"{self.classes_}. 'y' has {classes}.")

    def predict(self, X):
        """Predicted classes, shape (n_samples,) or (n_samples, n_classes) (multilabel)."""
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, accuracy_score)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y=None, sample_weight=None, classes=None):
        """One epoch over the given data (one optimizer step per batch).

        Args:
            X, y, sample_weight: as in ``fit`` (X may be an iterable of batches).
            classes: every class label; required on the first call.

        Returns:
            self
        """
        check_params(self, self._constraints)
        if y is None and _stream.is_batches(X):
            return _stream.fit_batches(self, X, sample_weight, True, classes)
        self._first_partial_fit(y, classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _first_partial_fit(self, y, classes):
        if _first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if y is not None and type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)

    def predict_log_proba(self, X):
        """log(predict_proba(X))."""
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron regressor: scikit-learn's ``MLPRegressor`` on fastnn.

    Trained on half squared error (or half Poisson deviance with a log link,
    ``loss='poisson'``) by Adam, SGD or L-BFGS; one or several outputs.
    {params}

    >>> import numpy as np
    >>> from fastnn.sklearn import MLPRegressor
    >>> X = np.random.default_rng(0).random((200, 3)); y = X @ [1.0, -2.0, 0.5]
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), max_iter=500, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.9, reg.out_activation_
    (True, 'identity')
    """

    _constraints = {**BaseMultilayerPerceptron._constraints,
                    "loss": [Options("squared_error", "poisson")]}

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dtype="float32"):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dtype = dtype

    def predict(self, X):
        """Predicted values, shape (n_samples,) or (n_samples, n_outputs)."""
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, r2_score)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=True, dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y=None, sample_weight=None):
        """One epoch over the given data (one optimizer step per batch).

        Args:
            X, y, sample_weight: as in ``fit`` (X may be an iterable of batches).

        Returns:
            self
        """
        check_params(self, self._constraints)
        if y is None and _stream.is_batches(X):
            return _stream.fit_batches(self, X, sample_weight, True, None)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)


MLPClassifier.__doc__ = MLPClassifier.__doc__.replace("{params}",
                                                      _DOC_PARAMS.format(name="MLPClassifier"))
MLPRegressor.__doc__ = MLPRegressor.__doc__.replace("{params}",
                                                    _DOC_PARAMS.format(name="MLPRegressor"))


def _first_call(clf, classes):
    """scikit-learn's partial_fit first-call rule: ``classes`` is required the first
    time (and then sets ``classes_``), and must not change afterwards."""
    if getattr(clf, "classes_", None) is None and classes is None:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    if classes is not None:
        if getattr(clf, "classes_", None) is not None:
            if not np.array_equal(clf.classes_, unique_labels(classes)):
                raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                                 f"partial_fit, was: {clf.classes_!r}")
        else:
            clf.classes_ = unique_labels(classes)
            return True
    return False
