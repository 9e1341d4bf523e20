"""NeuralNetClassifier / NeuralNetRegressor: any fastnn module as a scikit-learn
estimator, as skorch does for torch modules.

The module is built at ``fit`` by ``module_factory``: a class or function called with
``module_params``, plus ``n_features``, ``n_outputs`` and ``generator`` when its
signature takes them; ``set_params(module__<name>=...)`` sets one entry (skorch's
double-underscore routing, so GridSearchCV can tune the module's arguments).
Training is the usual fastnn loop: autograd, a ``fn.optim`` optimizer chosen by name
or class with ``optimizer_params``, and a criterion.

Fitted state pickles as plain data: the factory (by reference), its arguments, the
module's ``state_dict`` and the optimizer's; the live module is rebuilt on first use
after unpickling, so no fastnn object (with its caches) crosses a process boundary.
"""
import inspect
import threading

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import functional as F
from .. import optim
from ..autograd import no_grad
from ..nn.module import Module
from ..random import Generator, default_generator
from ..tensor import Tensor
from . import _stream
from ._params import Bool, Callable, Integer, RandomState, Real, Verbose, check_params

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor", "mlp"]

_ROUTED = {"module": "module_params", "optimizer": "optimizer_params",
           "criterion": "criterion_params"}
_SEED_LOCK = threading.Lock()


def _accepted(fn, names):
    """Which of ``names`` fn's signature takes (all, with **kwargs)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return set()
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return set(names)
    return {p.name for p in params} & set(names)


_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "logistic": "Sigmoid", "sigmoid": "Sigmoid",
                "gelu": "GELU", "silu": "SiLU", "elu": "ELU", "selu": "SELU",
                "identity": "Identity"}


def mlp(n_features, n_outputs, hidden_layer_sizes=(100,), activation="relu", dropout=0.0,
        generator=None):
    """A ready-made module factory: Linear layers with an activation (and dropout)
    between them, as an ``fn.nn.Sequential``. Importable by name, so estimators built
    on it pickle and run in process workers.

    Args:
        n_features, n_outputs: input and output sizes (NeuralNet* pass them).
        hidden_layer_sizes: widths of the hidden layers.
        activation: 'relu', 'tanh', 'logistic', 'gelu', 'silu', 'elu', 'selu', 'identity'.
        dropout: drop probability after each hidden activation (0: none).
        generator: fastnn Generator or int seed for the initial weights.

    >>> mlp(4, 3, hidden_layer_sizes=(8,))
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=3, bias=True)
    )
    """
    from .. import nn
    if activation not in _ACTIVATIONS:
        raise ValueError(f"mlp: unknown activation {activation!r}; expected one of "
                         f"{sorted(_ACTIVATIONS)}.")
    sizes = [int(n_features)] + [int(h) for h in np.atleast_1d(hidden_layer_sizes)] + \
        [int(n_outputs)]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out, generator=generator))
        if i < len(sizes) - 2:
            layers.append(getattr(nn, _ACTIVATIONS[activation])())
            if dropout:
                layers.append(nn.Dropout(dropout, generator=generator))
    return nn.Sequential(*layers)


class NeuralNet(BaseEstimator):
    """What the classifier and the regressor share."""

    _constraints = {
        "module_factory": [Callable()],
        "lr": [Real(0, None)],
        "max_epochs": [Integer(1, None)],
        "batch_size": [Integer(1, None)],
        "shuffle": [Bool()],
        "random_state": [RandomState()],
        "verbose": [Verbose()],
        "warm_start": [Bool()],
    }

    def __init__(self, module_factory, *, module_params=None, criterion=None,
                 criterion_params=None, optimizer="adam", optimizer_params=None, lr=0.001,
                 max_epochs=10, batch_size=128, shuffle=True, random_state=None, verbose=0,
                 warm_start=False):
        self.module_factory = module_factory
        self.module_params = module_params
        self.criterion = criterion
        self.criterion_params = criterion_params
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------- parameters
    def set_params(self, **params):
        """Set parameters; ``module__<name>=v`` (and ``optimizer__``, ``criterion__``)
        set one entry of ``module_params`` (``optimizer_params``, ``criterion_params``),
        so GridSearchCV can tune the module's own arguments, as in skorch."""
        plain = {}
        for key, value in params.items():
            prefix, sep, name = key.partition("__")
            if sep and prefix in _ROUTED and name:
                attr = _ROUTED[prefix]
                setattr(self, attr, {**(getattr(self, attr) or {}), name: value})
            else:
                plain[key] = value
        return super().set_params(**plain)

    def _kwargs(self, prefix):
        value = getattr(self, _ROUTED[prefix])
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise TypeError(f"{type(self).__name__}: {_ROUTED[prefix]} must be None or a dict "
                            f"of keyword arguments, got {value!r}.")
        return dict(value)

    def _check(self):
        check_params(self, self._constraints)
        if isinstance(self.module_factory, Module):
            raise TypeError(f"{type(self).__name__}: module_factory must build the module (a "
                            f"Module class or a function returning one), got a "
                            f"{type(self.module_factory).__name__} instance; pass its class "
                            f"and its arguments as module_params.")
        if self.criterion is not None and not callable(self.criterion):
            raise TypeError(f"{type(self).__name__}: criterion must be None, a loss module class "
                            f"or a function (y_pred, y) -> loss, got {self.criterion!r}.")

    # ------------------------------------------------------------ the module
    def _build_module(self, n_features, n_outputs, seed):
        factory = self.module_factory
        kwargs = self._kwargs("module")
        extra = {"n_features": n_features, "n_outputs": n_outputs,
                 "generator": Generator(seed)}
        kwargs.update({k: extra[k] for k in _accepted(factory, extra) if k not in kwargs})
        if "generator" in kwargs:
            module = factory(**kwargs)
        else:   # seed fastnn's default generator for this build only, then restore it
            with _SEED_LOCK:
                state = default_generator.get_state()
                default_generator.manual_seed(seed)
                try:
                    module = factory(**kwargs)
                finally:
                    default_generator.set_state(state)
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: module_factory returned a "
                            f"{type(module).__name__}, expected a fastnn.nn.Module.")
        self._build_args = (n_features, n_outputs, seed)
        return module

    @property
    def module_(self):
        """The fitted fastnn module (rebuilt from its saved state after unpickling)."""
        if self.__dict__.get("_module") is None and "_module_state" in self.__dict__:
            module = self._build_module(*self._build_args)
            module.load_state_dict(self.__dict__.pop("_module_state"))
            self._module = module
        return self.__dict__.get("_module")

    def _make_optimizer(self, module):
        kwargs = self._kwargs("optimizer")
        opt = optim.get(self.optimizer, list(module.parameters()), lr=self.lr, **kwargs)
        state = self.__dict__.pop("_optimizer_state", None)
        if state is not None:
            opt.load_state_dict(state)
        return opt

    def _criterion_fn(self):
        crit = self.criterion
        if crit is None:
            return self._default_loss
        if isinstance(crit, type):
            return crit(**self._kwargs("criterion"))
        return crit

    def __getstate__(self):
        state = super().__getstate__()
        module, opt = state.pop("_module", None), state.pop("_optimizer", None)
        if module is not None:
            state["_module_state"] = {k: np.array(v) for k, v in module.state_dict().items()}
        if opt is not None:
            state["_optimizer_state"] = opt.state_dict()
        return state

    def __sklearn_is_fitted__(self):
        return "_build_args" in self.__dict__ and ("_module" in self.__dict__
                                                   or "_module_state" in self.__dict__)

    # ------------------------------------------------------------------- fit
    def fit(self, X, y=None, **fit_params):
        """Train for ``max_epochs`` epochs (a fresh module unless ``warm_start``).

        Args:
            X: array-like (n_samples, n_features, ...), or with ``y=None`` an iterable
                of ``(x, y)`` batches (a list, a ``fn.data.DataLoader``, ...).
            y: targets.

        Returns:
            self
        """
        return self._fit(X, y, epochs=None, incremental=False, **fit_params)

    def partial_fit(self, X, y=None, **fit_params):
        """One epoch on the given data, continuing from the current module."""
        return self._fit(X, y, epochs=1, incremental=True, **fit_params)

    def _fit(self, X, y, epochs, incremental, classes=None):
        self._check()
        epochs = self.max_epochs if epochs is None else epochs
        where = f"{type(self).__name__}.{'partial_fit' if incremental else 'fit'}"
        fresh = not self.__sklearn_is_fitted__() or (not self.warm_start and not incremental)
        if y is None and _stream.is_batches(X):
            _stream.check_reiterable(X, epochs, where)
            batches = X
            if fresh and classes is None and hasattr(self, "_encode_classes"):
                classes = _stream.collect_classes(X, where)
        else:
            X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], allow_nd=True,
                                 multi_output=True, y_numeric=not hasattr(self, "_encoder"),
                                 dtype=(np.float32, np.float64), reset=fresh)
            if hasattr(self, "_encoder") and y.ndim == 2 and y.shape[1] == 1:
                y = column_or_1d(y, warn=True)
            batches = None
        rs = check_random_state(self.random_state)
        first = None
        if batches is not None:
            first = next(iter(_stream.iterate(batches, where)), None)
            if first is None:
                raise ValueError(f"{where}: the iterable of batches is empty.")
        if fresh:
            x0, y0 = (X, y) if batches is None else (first[0], first[1])
            if batches is not None:
                x0 = validate_data(self, x0, accept_sparse=["csr", "csc"], allow_nd=True,
                                   dtype=(np.float32, np.float64), reset=True)
            self._setup_targets(np.asarray(y0), classes)
            n_features = x0.shape[1] if x0.ndim > 1 else 1
            seed = int(rs.randint(2 ** 31 - 1))
            self._module = self._build_module(n_features, self.n_outputs_, seed)
            self._optimizer = None
            self.loss_curve_ = []
            self.n_iter_ = 0
        elif incremental and classes is not None and hasattr(self, "classes_"):
            if not np.array_equal(self.classes_, unique_labels(classes)):
                raise ValueError(f"{where}: classes={classes!r} differs from classes_ "
                                 f"{self.classes_!r} of the earlier calls.")
        module = self.module_
        if self.__dict__.get("_optimizer") is None:
            self._optimizer = self._make_optimizer(module)
        opt, loss_fn = self._optimizer, self._criterion_fn()
        dtype = next(iter(module.parameters())).data.dtype
        module.train()
        for epoch in range(epochs):
            total, seen = 0.0, 0
            source = self._array_batches(X, y, rs) if batches is None else \
                self._checked_batches(batches, where)
            for xb, yb in source:
                xb = _dense(xb).astype(dtype, copy=False)
                opt.zero_grad()
                loss = loss_fn(module(Tensor(xb)), Tensor(self._encode_targets(yb, dtype)))
                loss.backward()
                opt.step()
                value = float(loss.item())
                total += value * len(xb)
                seen += len(xb)
            self.loss_curve_.append(total / max(seen, 1))
            self.n_iter_ += 1
            if not np.isfinite(self.loss_curve_[-1]):
                raise ValueError(f"{where}: the training loss became {self.loss_curve_[-1]} at "
                                 f"epoch {self.n_iter_}; lower lr or scale the data.")
            if self.verbose:
                print(f"epoch {self.n_iter_}: train loss {self.loss_curve_[-1]:.6f}")
        module.eval()
        return self

    def _array_batches(self, X, y, rs):
        n = X.shape[0]
        order = rs.permutation(n) if self.shuffle else np.arange(n)
        for lo in range(0, n, self.batch_size):
            idx = order[lo:lo + self.batch_size]
            yield X[idx], y[idx]

    def _checked_batches(self, batches, where):
        for x, y, sw in _stream.iterate(batches, where):
            if sw is not None:
                raise ValueError(f"{where}: sample weights are not supported by "
                                 f"{type(self).__name__}; give (x, y) batches.")
            if getattr(x, "ndim", 0) == 2:
                x = _stream.checked_x(self, x, False)
            else:
                x = validate_data(self, x, accept_sparse=["csr", "csc"], allow_nd=True,
                                  dtype=(np.float32, np.float64), reset=False)
            yield x, np.asarray(y)

    # --------------------------------------------------------------- predict
    def _forward(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], allow_nd=True,
                          dtype=(np.float32, np.float64), reset=False)
        module = self.module_
        dtype = next(iter(module.parameters())).data.dtype
        module.eval()
        outs = []
        with no_grad():
            for lo in range(0, X.shape[0], max(self.batch_size, 1024)):
                xb = _dense(X[lo:lo + max(self.batch_size, 1024)]).astype(dtype, copy=False)
                outs.append(np.asarray(module(Tensor(xb)).data))
        return np.concatenate(outs) if outs else np.empty((0, self.n_outputs_), dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _dense(x):
    return x.toarray() if hasattr(x, "toarray") else np.asarray(x)


class NeuralNetClassifier(ClassifierMixin, NeuralNet):
    """A fastnn module trained as a classifier (skorch's NeuralNetClassifier for fastnn).

    The module maps (n, n_features) inputs to (n, n_classes) logits; the default
    criterion is cross-entropy on them, ``predict_proba`` their softmax.

    Args:
        module_factory: class or function returning a ``fastnn.nn.Module``; called with
            ``module_params`` and, where its signature takes them, ``n_features``,
            ``n_outputs`` (the number of classes) and ``generator`` (a seeded fastnn
            Generator for the initial weights). ``fastnn.sklearn.mlp`` is one.
        module_params: dict of the factory's arguments (``set_params(module__x=v)``
            sets one).
        criterion: None (cross-entropy), a fastnn loss module class (built with
            ``criterion_params``) or a function ``(logits, y) -> loss``.
        optimizer: an ``fn.optim.get`` name ('adam', 'sgd', ...) or an optimizer class,
            built with ``lr`` and ``optimizer_params``.
        lr, max_epochs, batch_size, shuffle: training loop settings.
        random_state: None, int or RandomState (initial weights and shuffles).
        verbose: print the loss per epoch. warm_start: ``fit`` continues training.

    Attributes:
        module_, classes_, n_features_in_, n_outputs_, loss_curve_, n_iter_.

    >>> import numpy as np, fastnn as fn
    >>> from fastnn.sklearn import NeuralNetClassifier
    >>> def mlp(n_features, n_outputs, hidden=16):
    ...     return fn.nn.Sequential(fn.nn.Linear(n_features, hidden), fn.nn.ReLU(),
    ...                             fn.nn.Linear(hidden, n_outputs))
    >>> X = np.random.default_rng(0).normal(size=(200, 4)); y = (X[:, 0] > 0).astype(int)
    >>> clf = NeuralNetClassifier(mlp, module_params={"hidden": 8}, max_epochs=30, lr=0.01,
    ...                           random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9, clf.predict_proba(X[:2]).shape
    (True, (2, 2))
    """

    _encoder = True

    def fit(self, X, y=None, classes=None):
        """Train (see NeuralNet.fit); ``classes`` lists every label when fitting on
        batches (else one extra pass over them finds the labels)."""
        return self._fit(X, y, epochs=None, incremental=False, classes=classes)

    def partial_fit(self, X, y=None, classes=None):
        """One epoch; ``classes`` (every label) is required on the first call."""
        if not self.__sklearn_is_fitted__() and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, epochs=1, incremental=True, classes=classes)

    def _setup_targets(self, y, classes):
        if classes is None:
            check_classification_targets(y)
            if y.ndim == 2 and y.shape[1] == 1:
                y = y.ravel()
            if y.ndim != 1:
                raise ValueError(f"{type(self).__name__}: expected y of shape (n_samples,), "
                                 f"got {y.shape}; multilabel targets are not supported.")
            classes = np.unique(y)
        self._label_encoder = LabelEncoder().fit(np.asarray(classes))
        self.classes_ = self._label_encoder.classes_
        self.n_outputs_ = len(self.classes_)
        if self.n_outputs_ < 2:
            raise ValueError(f"{type(self).__name__}: the classifier needs samples of at least "
                             f"2 classes, got 1 class ({self.classes_[0]!r}).")

    def _encode_targets(self, y, dtype):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        try:
            return self._label_encoder.transform(y).astype(np.int64)
        except ValueError:
            raise ValueError(f"{type(self).__name__}: y has labels "
                             f"{np.setdiff1d(np.unique(y), self.classes_)} not in classes_ "
                             f"{self.classes_}.") from None

    @staticmethod
    def _default_loss(logits, y):
        return F.cross_entropy(logits, y)

    def predict_proba(self, X):
        """Class probabilities: the softmax of the module's logits."""
        z = self._forward(X).astype(np.float64)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    def predict(self, X):
        """The most probable class per sample."""
        logits = self._forward(X)
        return self.classes_[np.argmax(logits, axis=1)]


class NeuralNetRegressor(RegressorMixin, NeuralNet):
    """A fastnn module trained as a regressor (skorch's NeuralNetRegressor for fastnn).

    The module maps (n, n_features) inputs to (n, n_outputs); the default criterion
    is the mean squared error. Arguments as :class:`NeuralNetClassifier` (``n_outputs``
    is the number of target columns).

    >>> import numpy as np, fastnn as fn
    >>> from fastnn.sklearn import NeuralNetRegressor
    >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = X @ [1.0, -1.0, 0.5]
    >>> reg = NeuralNetRegressor(fn.nn.Linear, module_params=dict(in_features=3, out_features=1),
    ...                          max_epochs=60, lr=0.05, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.99
    True
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _setup_targets(self, y, classes):
        self._y_ndim = y.ndim
        self.n_outputs_ = 1 if y.ndim == 1 else int(np.prod(y.shape[1:]))

    def _encode_targets(self, y, dtype):
        y = np.asarray(y, dtype=dtype)
        return y.reshape(len(y), -1)

    @staticmethod
    def _default_loss(y_pred, y):
        return F.mse_loss(y_pred, y)

    def predict(self, X):
        """The module's outputs, shape (n_samples,) for a 1-D target."""
        out = self._forward(X).astype(np.float64)
        return out.ravel() if self._y_ndim == 1 and out.ndim == 2 and out.shape[1] == 1 else out
