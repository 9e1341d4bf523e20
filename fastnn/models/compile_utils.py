"""What ``compile`` turns its loss and metrics arguments into, as Keras's
``trainers/compile_utils.py``: one loss (and loss weight) and a list of metrics per
model output, resolved when the first batch shows the target and output shapes.

A single loss applies to every output; a list gives one per output, a dict one per
output name. With several outputs the logs also hold ``<output>_loss`` and
``<output>_<metric>``.
"""
import numpy as np

from .. import losses as _losses
from .. import metrics as _metrics
from ..autograd import no_grad
from ..layers.node import flatten
from ..tensor import Tensor

__all__ = ["CompileLoss", "CompileMetrics", "resolve_loss", "check_loss", "check_metrics",
           "split_outputs"]


def _shape(v):
    return tuple(np.shape(getattr(v, "data", v)))


def _is_binary_or_sparse(y_true, y_pred):
    ts, ps = _shape(y_true), _shape(y_pred)
    is_binary = bool(ps) and ps[-1] == 1
    is_sparse = len(ts) < len(ps) or (bool(ts) and ts[-1] == 1 and bool(ps) and ps[-1] > 1)
    return is_binary, is_sparse


def check_loss(loss):
    """Validate compile's ``loss`` now (unknown names fail at compile, as Keras)."""
    for spec in (loss.values() if isinstance(loss, dict) else
                 loss if isinstance(loss, (list, tuple)) else [loss]):
        if spec is None or (isinstance(spec, str) and spec.lower() in ("crossentropy", "ce")):
            continue
        _losses.get(spec)


def resolve_loss(identifier, y_true, y_pred):
    """A Loss object for one output: 'crossentropy' picks binary, sparse or categorical
    from the shapes; a function is wrapped with Keras's reduction."""
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        binary, sparse = _is_binary_or_sparse(y_true, y_pred)
        fn = (_losses.binary_crossentropy if binary else
              _losses.sparse_categorical_crossentropy if sparse else
              _losses.categorical_crossentropy)
        return _losses.LossFunctionWrapper(fn, name=identifier)
    obj = _losses.get(identifier)
    if isinstance(obj, _losses.Loss):
        return obj
    name = identifier if isinstance(identifier, str) else getattr(obj, "__name__", "loss")
    return _losses.LossFunctionWrapper(obj, name=name)


def check_metrics(where, metrics):
    if metrics is None:
        return None
    if not isinstance(metrics, (list, tuple, dict)):
        raise ValueError(f"{where}: expected metrics to be a list, tuple or dict, e.g. "
                         f"metrics=[{metrics!r}], got {type(metrics).__name__} {metrics!r}.")
    for m in flatten(metrics):
        if m is None or isinstance(m, str) and m.lower() in ("accuracy", "acc"):
            continue
        _metrics.get(m)
    return metrics


def split_outputs(where, value, n, names, what):
    """The per-output values of ``value`` (targets or predictions): a list for several
    outputs (from a list/tuple by position or a dict by output name)."""
    if n == 1:
        if isinstance(value, (list, tuple)) and len(value) == 1:
            return [value[0]]
        if isinstance(value, dict) and len(value) == 1:
            return list(value.values())
        return [value]
    if isinstance(value, dict):
        missing = [k for k in names if k not in value]
        if missing:
            raise ValueError(f"{where}: {what} is a dict without the output(s) {missing}; the "
                             f"model's outputs are {names}.")
        return [value[k] for k in names]
    if isinstance(value, (list, tuple)) and len(value) == n:
        return list(value)
    raise ValueError(f"{where}: the model has {n} outputs {names}, so {what} must be a list of "
                     f"{n} arrays or a dict by output name; got {type(value).__name__}"
                     f"{'' if not isinstance(value, (list, tuple)) else f' of length {len(value)}'}.")


def _per_output(where, spec, n, names, what):
    """``spec`` (one value, a list, or a dict by output name) as a list per output."""
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"{where}: {what} has keys {unknown} that are not output names; "
                             f"the model's outputs are {names}.")
        return [spec.get(k) for k in names]
    if isinstance(spec, (list, tuple)):
        if n == 1 and what == "metrics":
            return [list(spec)]
        if len(spec) != n:
            raise ValueError(f"{where}: {what} is a list of {len(spec)} for a model with {n} "
                             f"outputs {names}; give one per output or a dict by output name.")
        return list(spec)
    return [spec] * n


class CompileLoss:
    """The total loss: Σ weight_i · loss_i(y_true_i, y_pred_i, sample_weight), plus one
    ``<output>_loss`` tracker per output when there are several."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        self.loss, self.loss_weights = loss, loss_weights
        self.output_names = output_names
        self.built = False
        self.trackers = []

    def build(self, y_true, y_pred):
        preds = y_pred if isinstance(y_pred, list) else [y_pred]
        n = len(preds)
        names = list(self.output_names or [f"output_{i}" for i in range(n)])
        where = "compile"
        specs = _per_output(where, self.loss, n, names, "loss")
        weights = self.loss_weights
        if weights is None:
            weights = [1.0] * n
        elif isinstance(weights, (int, float)) and not isinstance(weights, bool):
            weights = [float(weights)] * n
        else:
            weights = _per_output(where, weights, n, names, "loss_weights")
            weights = [1.0 if w is None else float(w) for w in weights]
        self.losses = [None if s is None else resolve_loss(s, t, p)
                       for s, t, p in zip(specs, y_true, preds)]
        if all(l is None for l in self.losses):
            raise ValueError(f"{where}: no output has a loss; give loss= for at least one of "
                             f"the outputs {names}.")
        self.weights = weights
        self.trackers = [_metrics.Mean(name=f"{name}_loss") if n > 1 and l is not None else None
                         for name, l in zip(names, self.losses)]
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        """``y_true``, ``y_pred``: lists with one entry per output."""
        if not self.built:
            self.build(y_true, y_pred)
        total = None
        for loss, w, tracker, t, p in zip(self.losses, self.weights, self.trackers, y_true,
                                          y_pred):
            if loss is None:
                continue
            value = loss(t, p, sample_weight)
            if tracker is not None:
                tracker.update_state(float(value.data), sample_weight=len(p))
            value = value * w if w != 1.0 else value
            total = value if total is None else total + value
        return total

    @property
    def metrics(self):
        return [t for t in self.trackers if t is not None]

    def reset_state(self):
        for t in self.metrics:
            t.reset_state()


def _get_metric(identifier, y_true, y_pred):
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        return _metrics.resolve_accuracy(_shape(y_true), _shape(y_pred), name=identifier)
    m = _metrics.get(identifier)
    if isinstance(identifier, str):
        m.name = identifier
    return m


class CompileMetrics:
    """The compiled metrics of each output (``metrics`` unweighted, ``weighted_metrics``
    given the sample weights), updated with each batch's targets and predictions."""

    def __init__(self, metrics, weighted_metrics=None, output_names=None):
        self.user_metrics, self.user_weighted = metrics, weighted_metrics
        self.output_names = output_names
        self.built = False
        self.per_output, self.per_output_weighted = [], []

    def _build_set(self, spec, n, names, y_true, y_pred, what):
        if not spec:
            return [[] for _ in range(n)]
        if n == 1:
            return [[_get_metric(m, y_true[0], y_pred[0]) for m in flatten(spec) if m is not None]]
        per = _per_output("compile", spec, n, names, what)
        out = []
        for s, t, p in zip(per, y_true, y_pred):
            items = [] if s is None else (list(s) if isinstance(s, (list, tuple)) else [s])
            out.append([_get_metric(m, t, p) for m in items if m is not None])
        return out

    def build(self, y_true, y_pred):
        n = len(y_pred)
        names = list(self.output_names or [f"output_{i}" for i in range(n)])
        self.prefixes = [f"{name}_" if n > 1 else "" for name in names]
        self.per_output = self._build_set(self.user_metrics, n, names, y_true, y_pred, "metrics")
        self.per_output_weighted = self._build_set(self.user_weighted, n, names, y_true, y_pred,
                                                   "weighted_metrics")
        self.built = True

    @property
    def metrics(self):
        return [m for ms in self.per_output + self.per_output_weighted for m in ms]

    def update_state(self, y_true, y_pred, sample_weight=None):
        """``y_true``, ``y_pred``: lists with one entry per output (arrays or Tensors)."""
        if not self.built:
            self.build(y_true, y_pred)
        preds = [p.data if isinstance(p, Tensor) else p for p in y_pred]
        with no_grad():
            for ms, t, p in zip(self.per_output, y_true, preds):
                for m in ms:
                    m.update_state(t, p)
            for ms, t, p in zip(self.per_output_weighted, y_true, preds):
                for m in ms:
                    m.update_state(t, p, sample_weight)

    def result(self):
        if not self.built:
            return {}
        out, counts = {}, {}
        for groups, weighted in ((self.per_output, False), (self.per_output_weighted, True)):
            for prefix, ms in zip(self.prefixes, groups):
                for m in ms:
                    name = prefix + m.name
                    if name in counts:
                        if weighted:
                            name = f"{prefix}weighted_{m.name}"
                        if name in counts:
                            counts[name] += 1
                            name = f"{name}_{counts[name] - 1}"
                    counts.setdefault(name, 1)
                    out[name] = m.result()
        return out

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()
