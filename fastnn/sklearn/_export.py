"""fastnn.sklearn estimators as plain data and back, for shipping a fitted model to
other processes in fastnn's own format (``fn.save``), never as pickled code.

``to_state(est)`` gives nested dicts/lists of arrays, numbers and strings;
``from_state(state)`` rebuilds an estimator that predicts exactly as the original.
A NeuralNet's module factory travels as its import path ("package.module:name"):
the receiving process imports it by name; nothing in the data is executed.
"""
import numpy as np
from sklearn.preprocessing import LabelBinarizer, LabelEncoder

from .._importpath import import_by_path, import_path
from ._mlp import MLPClassifier, MLPRegressor
from ._neuralnet import NeuralNetClassifier, NeuralNetRegressor

__all__ = ["to_state", "from_state"]

_CLASSES = {c.__name__: c for c in (MLPClassifier, MLPRegressor, NeuralNetClassifier,
                                    NeuralNetRegressor)}
_PLAIN = (type(None), bool, int, float, str)


def _plain(value):
    """A parameter as plain data, or None when it is not (not needed to predict)."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)) and all(isinstance(v, _PLAIN + (np.generic,))
                                                for v in value):
        return [v.item() if isinstance(v, np.generic) else v for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        out = {k: _plain(v) for k, v in value.items()}
        return out if all(v is not None or value[k] is None for k, v in out.items()) else None
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    return None


def _labels(arr):
    arr = np.asarray(arr)
    return {"list": arr.tolist()} if arr.dtype.kind == "O" else {"array": arr}


def _unlabels(d):
    return np.array(d["list"], dtype=object) if "list" in d else np.asarray(d["array"])


def to_state(est):
    """The fitted estimator as plain data."""
    name = type(est).__name__
    if name not in _CLASSES or not isinstance(est, _CLASSES[name]):
        raise TypeError(f"to_state: expected a fitted fastnn.sklearn estimator, got {name}.")
    params = {k: _plain(v) for k, v in est.get_params(deep=False).items()
              if k != "module_factory"}
    params = {k: v for k, v in params.items() if v is not None}
    fitted = {"n_features_in_": int(est.n_features_in_), "n_outputs_": int(est.n_outputs_)}
    if hasattr(est, "feature_names_in_"):
        fitted["feature_names_in_"] = [str(c) for c in est.feature_names_in_]
    if hasattr(est, "classes_"):
        fitted["classes_"] = _labels(est.classes_)
    if hasattr(est, "coefs_"):
        fitted.update(coefs_=[np.asarray(c) for c in est.coefs_],
                      intercepts_=[np.asarray(b) for b in est.intercepts_],
                      n_layers_=int(est.n_layers_), out_activation_=est.out_activation_)
        if hasattr(est, "_label_binarizer"):
            fitted["y_type"] = est._label_binarizer.y_type_
    else:
        module = est.module_
        fitted.update(factory=import_path(est.module_factory, "module_factory"),
                      build_args=list(est._build_args),
                      module_state={k: np.array(v) for k, v in module.state_dict().items()})
        if hasattr(est, "_y_ndim"):
            fitted["y_ndim"] = int(est._y_ndim)
    return {"class": name, "params": params, "fitted": fitted}


def from_state(state):
    """An estimator rebuilt from ``to_state``'s data (predicts, does not train on)."""
    cls = _CLASSES.get(state.get("class"))
    if cls is None:
        raise ValueError(f"from_state: unknown estimator class {state.get('class')!r}; "
                         f"expected one of {sorted(_CLASSES)}.")
    fitted, params = state["fitted"], dict(state["params"])
    if "hidden_layer_sizes" in params and isinstance(params["hidden_layer_sizes"], list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    if "factory" in fitted:
        est = cls(import_by_path(fitted["factory"]), **params)
    else:
        est = cls(**params)
    est.n_features_in_ = fitted["n_features_in_"]
    est.n_outputs_ = fitted["n_outputs_"]
    if "feature_names_in_" in fitted:
        est.feature_names_in_ = np.array(fitted["feature_names_in_"], dtype=object)
    if "classes_" in fitted:
        est.classes_ = _unlabels(fitted["classes_"])
    if "coefs_" in fitted:
        est.coefs_ = [np.ascontiguousarray(c) for c in fitted["coefs_"]]
        est.intercepts_ = [np.ascontiguousarray(b) for b in fitted["intercepts_"]]
        est.n_layers_ = fitted["n_layers_"]
        est.out_activation_ = fitted["out_activation_"]
        if "y_type" in fitted:
            lb = LabelBinarizer()
            if fitted["y_type"].startswith("multilabel"):
                lb.fit(np.eye(len(est.classes_), dtype=int))
            else:
                lb.fit(est.classes_)
            est._label_binarizer = lb
    else:
        est._build_args = tuple(fitted["build_args"])
        module = est._build_module(*est._build_args)
        module.load_state_dict(fitted["module_state"])
        module.eval()
        est._module = module
        if "classes_" in fitted:
            est._label_encoder = LabelEncoder().fit(est.classes_)
        if "y_ndim" in fitted:
            est._y_ndim = fitted["y_ndim"]
    return est
