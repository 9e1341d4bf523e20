"""The training loop of the Keras-style models, laid out as Keras's
``trainers/trainer.py``: ``train_step``/``test_step``/``predict_step`` handle one batch,
``compute_loss``/``compute_metrics`` what a step measures, and ``fit``/``evaluate``/
``predict`` only drive batches, callbacks and epochs. The running averages live in
metric objects (the loss tracker and the compiled metrics), shared by every loop.
"""
import contextlib
import math
import signal
import threading

import numpy as np

from .. import _checks
from .. import callbacks as _callbacks
from .. import metrics as _metrics
from .. import optim as _optim
from .. import optimizers as _optimizers
from ..autograd import no_grad
from ..layers.node import flatten, map_structure
from ..tensor import Tensor
from . import compile_utils
from .data_adapter import EpochIterator, check_class_weight, is_array_data, \
    train_validation_split

__all__ = ["Trainer"]


@contextlib.contextmanager
def _atomic_update():
    """Hold Ctrl-C (SIGINT) back until the block ends, so an interrupted fit never leaves
    a weight update half done; outside the main thread this does nothing."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _verbose(where, verbose):
    if isinstance(verbose, str) and verbose == "auto":
        return 1
    if _checks.is_int(verbose) and 0 <= verbose <= 2:
        return int(verbose)
    raise _checks.error(ValueError, where, "verbose", "0, 1, 2 or 'auto'", repr(verbose))


def _nonneg_int(where, name, v):
    return _checks.integer(where, name, v, low=0)


def _is_optimizer_spec(v):
    if isinstance(v, (_optimizers.Optimizer, _optim.Optimizer)):
        return True
    if isinstance(v, type) and issubclass(v, (_optimizers.Optimizer, _optim.Optimizer)):
        return True
    return isinstance(v, str) and v.lower() in _optimizers.ALL_OPTIMIZERS


def _floats(where, arrays, dtype):
    """Cast model inputs as Keras does: integer, bool and float64 arrays become the
    model's float dtype (uint8 images included); ``dtype`` None keeps them."""
    def cast(a):
        a = a.data if isinstance(a, Tensor) else np.asarray(a)
        if dtype is not None and a.dtype != dtype and a.dtype.kind in "fiub":
            return a.astype(dtype)
        return a
    return map_structure(cast, arrays)


class Trainer:
    """compile / fit / evaluate / predict and the *_on_batch methods of Keras-style
    models (mixed into ``fn.models.Model``)."""

    def _init_trainer(self):
        d = self.__dict__
        d["compiled"] = False
        d["optimizer"] = None
        d["loss"] = None
        d["stop_training"] = False
        d["history"] = None
        d["_compile_loss"] = None
        d["_compile_metrics"] = None
        d["_loss_tracker"] = _metrics.Mean(name="loss")
        d["_raise_on_nan"] = True

    # --- compile -------------------------------------------------------------------------
    def compile(self, loss=None, optimizer="adam", metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Set the loss, optimizer and metrics for fit/evaluate (as ``keras.Model.compile``).

        Args:
            loss: a name ('mse', 'sparse_categorical_crossentropy', 'crossentropy' picked
                from the shapes, ...), a function, a ``fn.losses.Loss``; a list or dict
                for several outputs.
            optimizer: a name ('adam', 'sgd', ... with Keras's defaults), a
                ``fn.optimizers`` optimizer (or class), or a ``fn.optim`` optimizer
                already given the parameters. Keras's positional order
                ``compile('adam', 'mse')`` is understood too.
            metrics: a list (or dict per output) of names ('accuracy', 'mae', 'AUC',
                ...), Metric objects or functions f(y_true, y_pred).
            loss_weights: a number, list or dict per output. weighted_metrics: metrics
                given the sample weights. run_eagerly, jit_compile, auto_scale_loss:
                accepted for Keras scripts (fastnn always runs eagerly).
            steps_per_execution: 1 only (as Keras on the torch backend).

        Raises:
            ValueError: an unknown loss, optimizer or metric name (the valid ones are
                listed), metrics given as a string, steps_per_execution != 1.
            TypeError: an optimizer of another kind.

        >>> import fastnn as fn
        >>> m = fn.Sequential([fn.Input((3,)), fn.layers.Dense(1)])
        >>> m.compile(optimizer=fn.optimizers.SGD(learning_rate=0.1), loss="mse",
        ...           metrics=["mae"])
        >>> type(m.optimizer).__name__
        'SGD'
        """
        if _is_optimizer_spec(loss) and not _is_optimizer_spec(optimizer) and \
                optimizer is not None and optimizer != "adam":
            loss, optimizer = optimizer, loss       # Keras's order: compile(optimizer, loss)
        if steps_per_execution != 1:
            raise ValueError(f"compile: steps_per_execution must be 1, got "
                             f"{steps_per_execution!r}.")
        if loss is not None:
            compile_utils.check_loss(loss)
        compile_utils.check_metrics("compile", metrics)
        compile_utils.check_metrics("compile (weighted_metrics)", weighted_metrics)
        if isinstance(optimizer, (_optim.Optimizer, _optimizers.Optimizer)):
            opt = optimizer
        elif callable(optimizer) and not isinstance(optimizer, type) or \
                isinstance(optimizer, type) and issubclass(optimizer, _optim.Optimizer):
            opt = _optim.get(optimizer)             # a fn.optim factory: built on fit
        else:
            try:
                opt = _optimizers.get(optimizer)
            except TypeError:
                raise TypeError(f"compile: could not interpret optimizer {optimizer!r}; give "
                                f"a name such as 'adam', a fn.optimizers optimizer, or a "
                                f"fn.optim optimizer built on the model's parameters.") from None
        d = self.__dict__
        d["optimizer"], d["loss"] = opt, loss
        names = self._output_names()
        d["_compile_loss"] = compile_utils.CompileLoss(loss, loss_weights, names) \
            if loss is not None else None
        d["_compile_metrics"] = compile_utils.CompileMetrics(metrics, weighted_metrics, names)
        d["_compile_config"] = {"loss": loss, "optimizer": optimizer, "metrics": metrics,
                                "loss_weights": loss_weights,
                                "weighted_metrics": weighted_metrics}
        d["_loss_tracker"] = _metrics.Mean(name="loss")
        d["compiled"] = True
        self.stop_training = False

    def _output_names(self):
        return None

    def _assert_compiled(self, where):
        if not self.compiled:
            raise RuntimeError(f"{where}: you must call compile() on the model before "
                               f"{where}().")
        if self._compile_loss is None and where in ("fit", "evaluate", "train_on_batch",
                                                    "test_on_batch"):
            raise ValueError(f"{where}: the model was compiled without a loss; call "
                             f"compile(loss=..., optimizer=...).")

    def _ensure_optimizer(self):
        opt = self.optimizer
        if callable(opt) and not isinstance(opt, (_optim.Optimizer, _optimizers.Optimizer)):
            opt = opt(self.trainable_weights)          # a fn.optim factory
            self.__dict__["optimizer"] = opt
        if isinstance(opt, _optimizers.Optimizer) and not opt.built:
            opt.build(self.trainable_weights)

    @property
    def metrics(self):
        """The metric objects fit reports: the loss tracker, the per-output loss trackers
        and the compiled metrics (built with the first batch)."""
        out = [self._loss_tracker] if self.compiled else []
        if self._compile_loss is not None:
            out += self._compile_loss.metrics
        if self._compile_metrics is not None:
            out += self._compile_metrics.metrics
        return out

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self):
        """The current values of the loss and the metrics, as a dict sorted by name (the
        order of Keras's logs)."""
        out = {"loss": self._loss_tracker.result()}
        if self._compile_loss is not None:
            out.update({m.name: m.result() for m in self._compile_loss.metrics})
        if self._compile_metrics is not None:
            out.update(self._compile_metrics.result())
        return dict(sorted(out.items()))

    # --- one batch -----------------------------------------------------------------------
    def _split(self, where, y, y_pred):
        names = self._output_names()
        n = len(names) if names else 1
        preds = compile_utils.split_outputs(where, y_pred, n, names, "the model output")
        ys = compile_utils.split_outputs(where, y, n, names, "y")
        return ys, preds

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The scalar loss of a batch: the compiled loss (summed over outputs with their
        weights) plus the layers' regularization penalties."""
        ys, preds = self._split("compute_loss", y, y_pred)
        total = self._compile_loss(ys, preds, sample_weight)
        for penalty in self.losses:
            total = total + penalty
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with a batch; returns ``get_metrics_result()``."""
        if self._compile_metrics is not None:
            ys, preds = self._split("compute_metrics", y, y_pred)
            self._compile_metrics.update_state(ys, preds, sample_weight)
        return self.get_metrics_result()

    def _inputs(self, x):
        return _floats("model input", x, self._input_float_dtype())

    def _input_float_dtype(self):
        return np.dtype(self.dtype)

    def train_step(self, data):
        """One optimizer update on ``data`` = (x, y, sample_weight); returns the logs."""
        x, y, sample_weight = data
        y_pred = self(x)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
        value = float(loss.data)
        if not math.isfinite(value) and self._raise_on_nan:
            raise FloatingPointError(
                f"fit: the loss became NaN or infinite ({value}); the weights were not "
                f"updated with it. Lower the learning rate or check the data, or pass "
                f"callbacks=[fn.callbacks.TerminateOnNaN()] to stop quietly.")
        self._loss_tracker.update_state(value, sample_weight=len(flatten(y_pred)[0]))
        self._ensure_optimizer()
        opt = self.optimizer
        opt.zero_grad()
        if loss.requires_grad:
            loss.backward()
        with _atomic_update():
            opt.step()
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """Loss and metrics of ``data`` = (x, y, sample_weight), nothing updated."""
        x, y, sample_weight = data
        y_pred = self(x)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(float(loss.data),
                                        sample_weight=len(flatten(y_pred)[0]))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = data
        return self(x)

    # --- loops ---------------------------------------------------------------------------
    def _callbacks(self, callbacks, verbose, epochs, steps, add_history=False):
        return _callbacks.CallbackList(callbacks, add_history=add_history,
                                       add_progbar=verbose != 0, model=self, verbose=verbose,
                                       epochs=epochs, steps=steps)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, generator=None):
        """Train for ``epochs`` passes over the data (as ``keras.Model.fit``); returns the
        History (also ``model.history``, which keeps the finished epochs if training is
        interrupted).

        Args:
            x, y: arrays (lists/dicts of them for several inputs/outputs), or in ``x`` a
                generator, ``fn.data.DataLoader`` or other iterable of (x, y) batches.
            batch_size: for arrays (default 32). epochs: the last epoch (>= 0).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch, 'auto' (1).
            callbacks: a list of ``fn.callbacks.Callback``.
            validation_split: the last fraction of the arrays held out (Keras's split).
            validation_data: (x, y), (x, y, sample_weight) or an iterable of batches.
            shuffle: True, False or 'batch'. class_weight: dict class -> weight.
            sample_weight: per-sample weights. initial_epoch: the epoch to start at.
            steps_per_epoch, validation_steps: batches per epoch.
            validation_batch_size: default batch_size. validation_freq: validate every
                n epochs (an int) or after the listed epochs (1-based).
            generator: seed or fastnn.random.Generator for the shuffling (fastnn).

        Raises:
            ValueError/TypeError: a bad argument (named, as Keras), arrays with different
                numbers of samples. FloatingPointError: the loss became NaN or infinite
                (unless TerminateOnNaN is given).
        """
        where = "fit"
        self._assert_compiled(where)
        verbose = _verbose(where, verbose)
        epochs = _nonneg_int(where, "epochs", epochs)
        initial_epoch = _nonneg_int(where, "initial_epoch", initial_epoch)
        class_weight = check_class_weight(where, class_weight)
        if class_weight is not None and sample_weight is not None:
            raise ValueError("fit: class_weight and sample_weight cannot be given together.")
        validation_split = _checks.real(where, "validation_split", validation_split, 0.0, 1.0,
                                        high_open=True)
        if validation_split and validation_data is None:
            if not is_array_data(x):
                raise ValueError("fit: validation_split is only supported for arrays; give "
                                 "validation_data for a generator or DataLoader.")
            (x, y, sample_weight), validation_data = train_validation_split(
                x, y, sample_weight, validation_split)
        iterator = EpochIterator(x, y, sample_weight, batch_size, steps_per_epoch, shuffle,
                                 class_weight, generator, where)
        val_iterator = self._validation_iterator(validation_data, validation_batch_size or
                                                 batch_size, validation_steps)
        should_validate = self._validation_schedule(validation_freq)
        cbs = self._callbacks(callbacks, verbose, epochs, iterator.num_batches, add_history=True)
        self.__dict__["_raise_on_nan"] = not any(isinstance(c, _callbacks.TerminateOnNaN)
                                                  for c in cbs)
        self.stop_training = False
        logs = {}
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            self.train()
            logs = self._run_epoch(iterator, cbs)
            if getattr(iterator, "exhausted", False) and not logs:
                break
            self.eval()
            if val_iterator is not None and should_validate(epoch):
                val_logs = self._evaluate_loop(val_iterator, None)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        self.eval()
        cbs.on_train_end(logs)
        return self.history

    def _validation_iterator(self, validation_data, batch_size, steps):
        if validation_data is None:
            return None
        if is_array_data(validation_data) and isinstance(validation_data, (tuple, list)):
            if len(validation_data) not in (2, 3):
                raise ValueError(f"fit: validation_data must be (x, y) or (x, y, "
                                 f"sample_weight), got a sequence of length "
                                 f"{len(validation_data)}.")
            return EpochIterator(*validation_data, batch_size=batch_size,
                                 steps_per_epoch=steps, where="fit validation_data")
        if is_array_data(validation_data):
            raise TypeError(f"fit: validation_data must be (x, y), (x, y, sample_weight) or an "
                            f"iterable of batches, got {type(validation_data).__name__}.")
        return EpochIterator(validation_data, steps_per_epoch=steps,
                             where="fit validation_data")

    @staticmethod
    def _validation_schedule(freq):
        if isinstance(freq, (list, tuple, set)):
            epochs = set(freq)
            return lambda epoch: epoch + 1 in epochs
        if isinstance(freq, bool) or not isinstance(freq, (int, np.integer)) or freq < 1:
            raise ValueError(f"fit: validation_freq must be a positive int or a list of "
                             f"epochs, got {freq!r}.")
        return lambda epoch: (epoch + 1) % freq == 0

    def _run_epoch(self, iterator, cbs):
        logs = {}
        for step, (x, y, sw) in iterator:
            cbs.on_train_batch_begin(step)
            logs = self.train_step((self._inputs(x), y, sw))
            cbs.on_train_batch_end(step, logs)
            if self.stop_training:
                break
        return dict(self.get_metrics_result()) if logs else {}

    def _evaluate_loop(self, iterator, cbs):
        self.eval()
        self.reset_metrics()
        logs = {}
        with no_grad():
            for step, (x, y, sw) in iterator:
                if cbs is not None:
                    cbs.on_test_batch_begin(step)
                logs = self.test_step((self._inputs(x), y, sw))
                if cbs is not None:
                    cbs.on_test_batch_end(step, logs)
        return dict(self.get_metrics_result()) if logs else {}

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """The loss and metrics over the data (as ``keras.Model.evaluate``): the loss
        alone, or ``[loss, *metrics]`` (a dict with ``return_dict=True``).

        Raises:
            ValueError/TypeError: a bad argument, or arrays of different lengths.
        """
        where = "evaluate"
        self._assert_compiled(where)
        verbose = _verbose(where, verbose)
        iterator = EpochIterator(x, y, sample_weight, batch_size, steps, False, where=where)
        cbs = self._callbacks(callbacks, verbose, 1, iterator.num_batches)
        cbs.on_test_begin()
        logs = self._evaluate_loop(iterator, cbs)
        cbs.on_test_end(logs)
        if return_dict:
            return logs
        return self._flatten_logs(logs)

    def _flatten_logs(self, logs):
        """``logs`` as a list in Keras's order: the loss, the per-output losses, the
        compiled metrics by their own names, then the other keys sorted."""
        names = ["loss"]
        if self._compile_loss is not None:
            names += [m.name for m in self._compile_loss.metrics]
        if self._compile_metrics is not None:
            names += [m.name for m in self._compile_metrics.metrics]
        out = [logs[k] for k in names if k in logs]
        out += [logs[k] for k in sorted(logs) if k not in names]
        return out[0] if len(out) == 1 else out

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x`` as ndarrays (eval mode, no graph), as
        ``keras.Model.predict``; a list or dict of arrays for several outputs."""
        where = "predict"
        verbose = _verbose(where, verbose)
        iterator = EpochIterator(x, None, None, batch_size, steps, False, where=where)
        cbs = self._callbacks(callbacks, verbose, 1, iterator.num_batches)
        self.eval()
        outputs = []
        cbs.on_predict_begin()
        with no_grad():
            for step, (xb, _, _) in iterator:
                cbs.on_predict_batch_begin(step)
                out = self.predict_step((self._inputs(xb), None, None))
                out = map_structure(lambda t: t.data if isinstance(t, Tensor) else
                                    np.asarray(t), out)
                outputs.append(out)
                cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        if not outputs:
            raise ValueError(f"{where}: got no samples to predict (x has 0 samples).")
        first = outputs[0]
        if isinstance(first, (list, tuple)):
            return [np.concatenate([o[i] for o in outputs]) for i in range(len(first))]
        if isinstance(first, dict):
            return {k: np.concatenate([o[k] for o in outputs]) for k in first}
        return np.concatenate(outputs)

    # --- single batches ---------------------------------------------------------------
    def _one_batch(self, where, x, y, sample_weight, class_weight=None):
        it = EpochIterator(x, y, sample_weight, batch_size=None, where=where,
                           class_weight=check_class_weight(where, class_weight))
        if not it.arrays:
            raise TypeError(f"{where}: expected arrays, got {type(x).__name__}.")
        if class_weight is not None and sample_weight is not None:
            raise ValueError(f"{where}: class_weight and sample_weight cannot be given together.")
        it.batch_size = max(it.n, 1)
        it.num_batches = 1
        _, (xb, yb, swb) = next(iter(it))
        return self._inputs(xb), yb, swb

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One optimizer update on one batch (as ``keras.Model.train_on_batch``);
        returns the loss (and metrics) of that batch."""
        self._assert_compiled("train_on_batch")
        data = self._one_batch("train_on_batch", x, y, sample_weight, class_weight)
        self.reset_metrics()
        self.train()
        logs = self.train_step(data)
        self.eval()
        logs = dict(logs)
        return logs if return_dict else self._flatten_logs(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) of one batch, nothing updated."""
        self._assert_compiled("test_on_batch")
        data = self._one_batch("test_on_batch", x, y, sample_weight)
        self.eval()
        self.reset_metrics()
        with no_grad():
            logs = dict(self.test_step(data))
        return logs if return_dict else self._flatten_logs(logs)

    def predict_on_batch(self, x):
        """The outputs for one batch as ndarrays."""
        data = self._one_batch("predict_on_batch", x, None, None)
        self.eval()
        with no_grad():
            out = self.predict_step(data)
        return map_structure(lambda t: t.data if isinstance(t, Tensor) else np.asarray(t), out)
