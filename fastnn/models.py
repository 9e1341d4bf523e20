"""Keras-style ``Sequential`` model: compile / fit / evaluate / predict / save, on the
same engine as fn.nn (layers are Modules, losses come from fn.losses, optimizers from
fn.optim).
"""
import math
import sys
import time

import numpy as np

from . import callbacks as _callbacks
from . import losses as _losses
from . import metrics as _metrics
from . import optim as _optim
from ._interrupts import sigint_deferred as _sigint_deferred
from .autograd import no_grad
from .layers import LAYERS, Layer
from .nn.module import Module
from .random import resolve
from .serialization import LoadError as _LoadError, content_errors as _content_errors
from .serialization import load as _load, save as _save
from .tensor import as_array

__all__ = ["Sequential", "load_model"]


def _data(x, where):
    arr = as_array(x, where=where)
    if arr.dtype.kind == "f" and arr.dtype.itemsize == 8:     # '>f8' too
        arr = arr.astype(np.float32)   # Keras casts inputs to the model's float32
    return arr


class Sequential(Module):
    """A linear stack of Keras-style layers.

    >>> import fastnn as fn, numpy as np
    >>> m = fn.models.Sequential([fn.layers.Dense(8, activation="relu", input_shape=(4,)),
    ...                           fn.layers.Dense(3, activation="softmax")])
    >>> m.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    >>> x = np.random.default_rng(0).random((64, 4), dtype=np.float32); y = (x[:, 0] * 3).astype(int)
    >>> h = m.fit(x, y, epochs=2, batch_size=16, verbose=0)
    >>> sorted(h.history)
    ['accuracy', 'loss']
    """

    def __init__(self, layers=None, name=None):
        super().__init__()
        self.name = name or "sequential"
        self.stop_training = False
        self.optimizer = None
        self.loss = None
        self._loss_fn = None
        self._metric_specs = []
        self._layers = []
        self.history = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        """Append a layer; if the model's input shape is known, build it at once."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.add: expected a layer, got {type(layer).__name__}.")
        self.add_module(f"{len(self._layers)}_{getattr(layer, 'name', 'layer')}", layer)
        self._layers.append(layer)
        first = self._layers[0]
        if getattr(first, "input_shape", None) is not None:
            self._build_shapes((None,) + tuple(first.input_shape))

    def _build_from_shape(self, sample_shape):
        """Build every layer by running one zero sample through the stack."""
        self._sample_shape = tuple(int(d) for d in sample_shape)
        with no_grad():
            self.forward(np.zeros((1,) + self._sample_shape, np.float32))

    def _build_shapes(self, shape):
        self._sample_shape = tuple(shape[1:])
        for layer in self._layers:
            if isinstance(layer, Layer):
                if not layer.built:
                    layer.build(shape)
                shape = layer.compute_output_shape(shape)
        return shape

    @property
    def built(self):
        return bool(self._layers) and all(getattr(l, "built", True) for l in self._layers)

    def forward(self, x):
        for layer in self._layers:
            x = layer(x)
        return x

    # --- compile --------------------------------------------------------------------
    def compile(self, loss, optimizer="adam", metrics=None):
        """Choose the loss (name, callable or loss object), optimizer (name, class or
        instance) and metrics (names or callables; 'accuracy' picked from shapes)."""
        self.loss = loss
        self._loss_fn = _losses.get(loss)
        self._optimizer_spec = optimizer
        self.optimizer = None
        if isinstance(optimizer, _optim.Optimizer):
            self.optimizer = optimizer
        elif self.built:
            self.optimizer = _optim.get(optimizer, list(self.parameters()))
        self._metric_specs = []
        for m in metrics or []:
            name = m if isinstance(m, str) else getattr(m, "__name__", type(m).__name__)
            self._metric_specs.append((name, _metrics.get(m)))

    def _ensure_ready(self, x):
        if self._loss_fn is None:
            raise RuntimeError("fit/evaluate: call compile(loss=..., optimizer=...) first.")
        if not self.built:
            self._build_from_shape(x.shape[1:])
        elif getattr(self, "_sample_shape", None) is None:
            self._sample_shape = tuple(x.shape[1:])    # built by an earlier call (predict)
        if self.optimizer is None:
            self.optimizer = _optim.get(self._optimizer_spec, list(self.parameters()))

    def _metric_fns(self, y, y_pred):
        out = []
        for name, fn_ in self._metric_specs:
            out.append((name, fn_ or _metrics.resolve_accuracy(np.shape(y), np.shape(y_pred))))
        return out

    # --- training -------------------------------------------------------------------
    def fit(self, x, y, batch_size=32, epochs=1, verbose=1, validation_split=0.0,
            validation_data=None, shuffle=True, callbacks=None, generator=None):
        """Train for ``epochs`` passes over (x, y). Returns a History.

        Raises:
            FloatingPointError: the loss became NaN/inf (unless TerminateOnNaN is used).
        """
        x, y = _data(x, "fit x"), as_array(y, where="fit y")
        if len(x) != len(y):
            raise ValueError(f"fit: x has {len(x)} samples but y has {len(y)}.")
        if not 0 <= validation_split < 1:
            raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}.")
        if validation_split and validation_data is None:
            n_val = int(len(x) * validation_split)
            if n_val:
                # Keras takes the last samples, before shuffling
                x, x_val, y, y_val = x[:-n_val], x[-n_val:], y[:-n_val], y[-n_val:]
                validation_data = (x_val, y_val)
        self._ensure_ready(x)
        history = _callbacks.History()
        # set now, so a fit stopped by Ctrl-C or an exception keeps its finished epochs
        self.history = history
        cbs = [history] + list(callbacks or [])
        nan_ok = any(isinstance(c, _callbacks.TerminateOnNaN) for c in cbs)
        for c in cbs:
            c.set_model(self)
        self.stop_training = False
        rng = resolve(generator).numpy
        n = len(x)
        steps = max(1, math.ceil(n / batch_size))
        for c in cbs:
            c.on_train_begin()
        for epoch in range(epochs):
            for c in cbs:
                c.on_epoch_begin(epoch)
            self.train()
            order = rng.permutation(n) if shuffle else None
            sums, seen, t0 = {}, 0, time.perf_counter()
            for b in range(steps):
                idx = order[b * batch_size:(b + 1) * batch_size] if shuffle else slice(b * batch_size, (b + 1) * batch_size)
                xb, yb = x[idx], y[idx]
                self.optimizer.zero_grad()
                y_pred = self.forward(xb)
                loss = self._loss_fn(yb, y_pred).mean()
                loss.backward()
                loss_v = float(loss.data)
                logs = {"loss": loss_v}
                if not math.isfinite(loss_v) and not nan_ok:
                    raise FloatingPointError(
                        f"fit: the loss became NaN or infinite ({loss_v}) at epoch {epoch + 1}, "
                        f"batch {b + 1}; lower the learning rate or check the data, or pass "
                        f"callbacks=[fn.callbacks.TerminateOnNaN()] to stop quietly.")
                with _sigint_deferred():     # Ctrl-C never leaves a step half applied
                    self.optimizer.step()
                nb = len(yb)
                seen += nb
                sums["loss"] = sums.get("loss", 0.0) + loss_v * nb
                for name, mf in self._metric_fns(yb, y_pred.data):
                    sums[name] = sums.get(name, 0.0) + float(np.sum(mf(yb, y_pred.data)))
                for c in cbs:
                    c.on_train_batch_end(b, logs)
                if verbose == 1:
                    self._progress(epoch, epochs, b + 1, steps, sums, seen, t0)
                if self.stop_training:
                    break
            epoch_logs = {k: v / max(seen, 1) for k, v in sums.items()}
            if validation_data is not None and not self.stop_training:
                vals = self.evaluate(*validation_data, batch_size=batch_size, verbose=0, return_dict=True)
                epoch_logs.update({f"val_{k}": v for k, v in vals.items()})
            if verbose:
                line = " - ".join(f"{k}: {v:.4f}" for k, v in epoch_logs.items())
                print(f"\rEpoch {epoch + 1}/{epochs} - {time.perf_counter() - t0:.2f}s - {line}",
                      file=sys.stdout, flush=True)
            for c in cbs:
                c.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        for c in cbs:
            c.on_train_end()
        self.history = history
        return history

    @staticmethod
    def _progress(epoch, epochs, step, steps, sums, seen, t0):
        if step != steps and step % max(1, steps // 20):
            return
        width = 24
        done = int(width * step / steps)
        print(f"\rEpoch {epoch + 1}/{epochs} {step}/{steps} [{'=' * done}{'.' * (width - done)}] "
              f"- loss: {sums['loss'] / max(seen, 1):.4f}", end="", file=sys.stdout, flush=True)

    # --- inference ------------------------------------------------------------------
    def predict(self, x, batch_size=32, verbose=0):
        """Outputs for ``x`` as an ndarray (eval mode, no graph)."""
        x = _data(x, "predict x")
        if getattr(self, "_sample_shape", None) is None:
            self._sample_shape = tuple(x.shape[1:])    # load_model rebuilds from it
        self.eval()
        outs = []
        with no_grad():
            for i in range(0, len(x), batch_size):
                outs.append(self.forward(x[i:i + batch_size]).data)
        return np.concatenate(outs) if outs else np.empty((0,))

    def evaluate(self, x, y, batch_size=32, verbose=0, return_dict=False):
        """Loss (and metrics) averaged over samples: ``loss`` or ``[loss, *metrics]``."""
        x, y = _data(x, "evaluate x"), as_array(y, where="evaluate y")
        if len(x) != len(y):
            raise ValueError(f"evaluate: x has {len(x)} samples but y has {len(y)}.")
        self._ensure_ready(x)
        self.eval()
        sums, n = {}, 0
        with no_grad():
            for i in range(0, len(x), batch_size):
                xb, yb = x[i:i + batch_size], y[i:i + batch_size]
                y_pred = self.forward(xb)
                per = self._loss_fn(yb, y_pred)
                sums["loss"] = sums.get("loss", 0.0) + float(np.mean(per.data)) * len(yb)
                for name, mf in self._metric_fns(yb, y_pred.data):
                    sums[name] = sums.get(name, 0.0) + float(np.sum(mf(yb, y_pred.data)))
                n += len(yb)
        res = {k: v / max(n, 1) for k, v in sums.items()}
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in res.items()))
        if return_dict:
            return res
        return res["loss"] if len(res) == 1 else list(res.values())

    # --- weights, summary, saving -------------------------------------------------------
    def get_weights(self):
        """Every layer's weights in order, each in its layer's ``get_weights`` layout
        as Keras lays them out (Dense: kernel (in, units); Conv2D: (kh, kw, in, out))."""
        out = []
        for layer in self._layers:
            if isinstance(layer, Layer):
                out.extend(layer.get_weights())
            else:
                out.extend(p.data.copy() for p in layer.parameters())
        return out

    def set_weights(self, weights):
        """Inverse of ``get_weights``: copies into the parameters in place."""
        weights = list(weights)
        counts = [len(list(layer.parameters())) for layer in self._layers]
        if len(weights) != sum(counts):
            raise ValueError(f"set_weights: expected {sum(counts)} arrays, got {len(weights)}.")
        i = 0
        for layer, n in zip(self._layers, counts):
            chunk, i = weights[i:i + n], i + n
            if isinstance(layer, Layer):
                layer.set_weights(chunk)
                continue
            for p, w in zip(layer.parameters(), chunk):
                w = np.asarray(w)
                if w.shape != p.shape:
                    raise ValueError(f"set_weights: shape {w.shape} does not match parameter "
                                     f"shape {p.shape}.")
                p.data[...] = w

    def count_params(self):
        return int(sum(p.size for p in self.parameters()))

    def summary(self, print_fn=print):
        """Print each layer's output shape and parameter count."""
        rows, shape = [], None
        first = self._layers[0] if self._layers else None
        if first is not None and getattr(first, "input_shape", None) is not None:
            shape = (None,) + tuple(first.input_shape)
        elif getattr(self, "_sample_shape", None) is not None and self.built:
            shape = (None,) + tuple(self._sample_shape)
        for layer in self._layers:
            if shape is not None and isinstance(layer, Layer):
                shape = layer.compute_output_shape(shape)
            n = int(sum(p.size for p in layer.parameters()))
            rows.append((f"{getattr(layer, 'name', '')} ({type(layer).__name__})",
                         "?" if shape is None else str(tuple(shape)), str(n)))
        w = [max(len(r[i]) for r in rows + [("Layer (type)", "Output Shape", "Param #")]) + 2
             for i in range(3)]
        line = "=" * sum(w)
        print_fn(f'Model: "{self.name}"')
        print_fn(line)
        print_fn("".join(h.ljust(w[i]) for i, h in enumerate(("Layer (type)", "Output Shape", "Param #"))))
        print_fn(line)
        for r in rows:
            print_fn("".join(c.ljust(w[i]) for i, c in enumerate(r)))
        print_fn(line)
        print_fn(f"Total params: {self.count_params():,}")

    def get_config(self):
        layers = []
        for layer in self._layers:
            if type(layer).__name__ not in LAYERS:
                raise ValueError(f"save: layer type {type(layer).__name__} cannot be saved; "
                                 f"saveable layers: {sorted(LAYERS)}.")
            cfg = layer.get_config()
            if cfg.get("activation", "") is None:
                raise ValueError(f"save: layer {layer.name} uses a custom activation callable, "
                                 f"which cannot be saved.")
            if getattr(layer, "input_shape", None) is not None:
                cfg["input_shape"] = list(layer.input_shape)
            layers.append({"class_name": type(layer).__name__, "config": cfg})
        return {"name": self.name, "layers": layers}

    def save(self, path):
        """Write architecture, weights and (string) compile settings to exactly ``path``."""
        if not self.built:
            raise ValueError("save: the model is not built yet; call it on data or give the "
                             "first layer input_shape=.")
        if getattr(self, "_sample_shape", None) is None:
            raise ValueError("save: the model's input shape is unknown (it was built by a "
                             "direct call); run predict/fit once or give the first layer "
                             "input_shape=.")
        compile_cfg = None
        if isinstance(self.loss, str) and isinstance(self._optimizer_spec, str):
            compile_cfg = {"loss": self.loss, "optimizer": self._optimizer_spec,
                           "metrics": [n for n, _ in self._metric_specs]}
        _save({"format": "fastnn.models.Sequential", "config": self.get_config(),
               "sample_shape": list(self._sample_shape),
               "weights": list(self.get_weights()), "compile": compile_cfg}, path)

    def save_weights(self, path):
        _save({"format": "fastnn.weights", "weights": self.get_weights()}, path)

    def load_weights(self, path):
        obj = _load(path)
        with _content_errors(path, "weights file"):
            self.set_weights(obj["weights"])



def load_model(path):
    """Rebuild a model written by ``Sequential.save`` (no code is executed from the file).

    Raises:
        fn.LoadError: the file is malformed or does not hold a model (names the file).
    """
    obj = _load(path)
    if not isinstance(obj, dict) or obj.get("format") != "fastnn.models.Sequential":
        raise _LoadError(f"load_model: '{path}' does not hold a fastnn Sequential model.")
    with _content_errors(path, "fastnn Sequential model"):
        return _model_from(obj, path)


def _model_from(obj, path):
    layers = []
    for spec in obj["config"]["layers"]:
        cls = LAYERS.get(spec["class_name"])
        if cls is None:
            raise ValueError(f"load_model: unknown layer type {spec['class_name']!r} in '{path}'.")
        cfg = dict(spec["config"])
        if "input_shape" in cfg:
            cfg["input_shape"] = tuple(cfg["input_shape"])
        layers.append(cls(**cfg))
    model = Sequential(layers, name=obj["config"]["name"])
    if not model.built:
        model._build_from_shape(obj["sample_shape"])
    model.set_weights(obj["weights"])
    if obj.get("compile"):
        c = obj["compile"]
        model.compile(loss=c["loss"], optimizer=c["optimizer"], metrics=c["metrics"] or None)
    return model
