"""Saving and loading Keras-style models in fastnn's own format (``fn.save``: plain data
and arrays in a zip, written atomically, never pickle; loading runs no code).

A model file holds the architecture (each layer's class name and ``get_config``, and
for a functional model the graph of calls), the weights in ``get_weights``'s layout and
the compile settings when they are names or built-in objects. It is not Keras's
``.keras`` zip: a path ending in '.keras' or '.h5' is written with a warning.
"""
import os
import warnings

from .. import losses as _losses
from .. import optimizers as _optimizers
from ..serialization import LoadError, content_errors
from ..serialization import load as _load, save as _save

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "layer_config",
           "layer_from_config"]

_FORMAT = "fastnn.models"
_WEIGHTS = "fastnn.weights"
_VERSION = 1
_KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def _model_classes():
    from .functional import Functional
    from .sequential import Sequential
    return {"Sequential": Sequential, "Functional": Functional}


def layer_config(layer):
    """``{'class_name': ..., 'config': ...}`` for a built-in layer or a nested model.

    Raises:
        ValueError: a layer type fastnn cannot rebuild from a file (a custom class, an
            ``fn.nn`` module) or a custom activation callable.
    """
    from ..layers import LAYERS
    name = type(layer).__name__
    models = _model_classes()
    if name in models and type(layer) is models[name]:
        return {"class_name": name, "config": layer.get_config()}
    if LAYERS.get(name) is not type(layer):
        raise ValueError(f"save: layer {getattr(layer, 'name', '')!r} of type {name} cannot be "
                         f"saved (loading never runs code); the saveable layers are "
                         f"{sorted(LAYERS)}. Use save_weights for models with custom layers.")
    cfg = layer.get_config()
    if "activation" in cfg and cfg["activation"] is None:
        raise ValueError(f"save: layer {layer.name!r} uses a custom activation callable, which "
                         f"cannot be saved; use a named activation such as 'relu'.")
    return {"class_name": name, "config": cfg}


def layer_from_config(spec, where="load_model"):
    from ..layers import LAYERS
    name = spec.get("class_name") if isinstance(spec, dict) else None
    models = _model_classes()
    if name in models:
        return models[name].from_config(spec["config"], where)
    cls = LAYERS.get(name)
    if cls is None:
        raise ValueError(f"{where}: unknown layer type {name!r}; the known layers are "
                         f"{sorted(LAYERS)}.")
    cfg = dict(spec.get("config", {}))
    for k, v in list(cfg.items()):
        if isinstance(v, list) and k in ("input_shape", "batch_input_shape"):
            cfg[k] = tuple(v)
    return cls.from_config(cfg)


def _warn_suffix(path, what):
    if str(path).lower().endswith(_KERAS_SUFFIXES):
        warnings.warn(f"{what}: '{path}' is written in fastnn's own format (read it back with "
                      f"fn.models.load_model); Keras cannot open it despite its suffix.",
                      stacklevel=4)


def _check_overwrite(path, overwrite, what):
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{what}: '{path}' exists and overwrite=False.")


def _compile_config(model):
    cfg = getattr(model, "_compile_config", None)
    if not getattr(model, "compiled", False) or cfg is None:
        return None

    def loss_spec(v):
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, (list, tuple)):
            return [loss_spec(e) for e in v]
        if isinstance(v, dict):
            return {k: loss_spec(e) for k, e in v.items()}
        out = _losses.serialize(v)
        if out is None:
            raise ValueError("custom loss")
        return out
    opt = model.optimizer
    try:
        loss = loss_spec(cfg["loss"])
        if isinstance(opt, _optimizers.Optimizer):
            optimizer = _optimizers.serialize(opt)
            if optimizer is None:
                raise ValueError("custom optimizer")
        elif isinstance(cfg["optimizer"], str):
            optimizer = cfg["optimizer"]
        else:
            raise ValueError("fn.optim optimizer")
        metrics = cfg["metrics"]
        from ..layers.node import flatten
        if metrics is not None and not all(isinstance(m, str) for m in flatten(metrics)):
            raise ValueError("metric objects")
    except ValueError as e:
        warnings.warn(f"save: the compile settings are not saved ({e} cannot be written to a "
                      f"file); compile the loaded model again.", stacklevel=4)
        return None
    return {"loss": loss, "optimizer": optimizer, "metrics": metrics,
            "loss_weights": cfg.get("loss_weights")}


def save_model(model, path, overwrite=True):
    """Write ``model`` to exactly ``path`` (see the module doc)."""
    _warn_suffix(path, "save")
    _check_overwrite(path, overwrite, "save")
    if not model.built:
        raise ValueError(f"save: model '{model.name}' is not built yet; call it on data, fit "
                         f"it, or start it with fn.Input(shape).")
    models = _model_classes()
    cls = type(model).__name__
    if models.get(cls) is not type(model):
        model.get_config()      # raises for a subclassed model, naming why
    _save({"format": _FORMAT, "version": _VERSION, "class_name": cls,
           "config": model.get_config(), "weights": model.get_weights(),
           "compile": _compile_config(model)}, path)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild a model written by ``Model.save`` (no code is run from the file).

    Args:
        filepath: the file. compile: compile it again with the saved settings.
        custom_objects, safe_mode: accepted for Keras scripts (custom classes cannot be
            loaded; loading is always safe).

    Raises:
        fn.LoadError: a file that is malformed or does not hold a fastnn model (the
            message names the file).

    >>> import fastnn as fn, os, tempfile
    >>> m = fn.Sequential([fn.Input((3,)), fn.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "m.fnn"); m.save(path)
    >>> [w.shape for w in fn.models.load_model(path).get_weights()]
    [(3, 2), (2,)]
    """
    if custom_objects:
        raise ValueError("load_model: custom_objects are not supported (a fastnn file holds "
                         "built-in layers only, and loading never runs code).")
    obj = _load(filepath)
    with content_errors(filepath, "fastnn model"):
        return _model_from(obj, filepath, compile)


def _model_from(obj, filepath, compile):
    where = f"load_model('{filepath}')"
    if not isinstance(obj, dict):
        raise LoadError(f"{where}: the file does not hold a fastnn model.")
    if obj.get("format") == "fastnn.models.Sequential":
        model = _load_first_format(obj, where)
        cfg = obj.get("compile")
        if compile and cfg:
            model.compile(loss=cfg["loss"], optimizer=cfg["optimizer"],
                          metrics=cfg["metrics"] or None)
        return model
    if obj.get("format") != _FORMAT:
        raise LoadError(f"{where}: the file does not hold a fastnn model "
                        f"(format {obj.get('format')!r}).")
    if obj.get("version") != _VERSION:
        raise LoadError(f"{where}: model format version {obj.get('version')!r} is not "
                        f"supported (this fastnn reads version {_VERSION}).")
    cls = _model_classes().get(obj.get("class_name"))
    if cls is None:
        raise LoadError(f"{where}: unknown model type {obj.get('class_name')!r}.")
    model = cls.from_config(obj["config"], where)
    model.set_weights(obj["weights"])
    cfg = obj.get("compile")
    if compile and cfg:
        model.compile(loss=cfg["loss"], optimizer=cfg["optimizer"], metrics=cfg["metrics"],
                      loss_weights=cfg.get("loss_weights"))
    return model


def _load_first_format(obj, where):
    """Files from fastnn's first Sequential format (layer configs and a sample shape)."""
    from .sequential import Sequential
    layers = [layer_from_config(spec, where) for spec in obj["config"]["layers"]]
    model = Sequential(layers, name=obj["config"]["name"])
    if not model.built:
        model.build((None,) + tuple(obj["sample_shape"]))
    model.set_weights(obj["weights"])
    return model


def save_weights(model, path, overwrite=True):
    _warn_suffix(path, "save_weights")
    _check_overwrite(path, overwrite, "save_weights")
    _save({"format": _WEIGHTS, "weights": model.get_weights()}, path)


def load_weights(model, path, skip_mismatch=False):
    obj = _load(path)
    if not isinstance(obj, dict) or obj.get("format") not in (_WEIGHTS, _FORMAT,
                                                              "fastnn.models.Sequential"):
        raise LoadError(f"load_weights: '{path}' does not hold fastnn weights.")
    with content_errors(path, "fastnn weights"):
        _set_loaded_weights(model, obj["weights"], skip_mismatch)


def _set_loaded_weights(model, weights, skip_mismatch):
    if skip_mismatch:
        current = model.get_weights()
        weights = [w if getattr(w, "shape", None) == c.shape else c
                   for w, c in zip(weights, current)] + current[len(weights):]
        weights = weights[:len(current)]
    model.set_weights(weights)
