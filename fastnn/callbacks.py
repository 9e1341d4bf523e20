"""Keras-style training callbacks (``fn.callbacks``), same names, arguments and order of
events as Keras 3.

``fit`` calls the user's callbacks in the order given, then ``History``, then the
progress bar (``ProgbarLogger``) — so ``EarlyStopping(restore_best_weights=True)``
restores the best weights when training ends (stopped early or not), and a
``ModelCheckpoint(save_best_only=True)`` saves the weights of each new best epoch.

>>> import fastnn as fn
>>> [type(c).__name__ for c in fn.callbacks.CallbackList([fn.callbacks.TerminateOnNaN()],
...                                                         add_history=True).callbacks]
['TerminateOnNaN', 'History']
"""
import csv
import math
import os
import sys
import time
import warnings

import numpy as np

from . import _checks
__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping",
           "ModelCheckpoint", "TerminateOnNaN", "ReduceLROnPlateau", "LearningRateScheduler",
           "CSVLogger", "LambdaCallback", "MonitorCallback"]


class Callback:
    """Base class: override any hook. ``fit`` sets ``self.model`` and ``self.params``
    ({'verbose', 'epochs', 'steps'}).

    >>> import numpy as np, fastnn as fn
    >>> model = fn.Sequential([fn.Input((2,)), fn.layers.Dense(1)])
    >>> model.compile(optimizer='sgd', loss='mse')
    >>> x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    >>> class PrintEpoch(fn.callbacks.Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print(epoch, sorted(logs))
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[PrintEpoch()])
    0 ['loss']
    1 ['loss']
    """

    model = None
    params = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_batch_begin(self, batch, logs=None):
        """Same as ``on_train_batch_begin`` (Keras's older name)."""

    def on_batch_end(self, batch, logs=None):
        """Same as ``on_train_batch_end`` (Keras's older name)."""

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass


class CallbackList:
    """Calls every callback's hook in order, as Keras's CallbackList.

    Args:
        callbacks: a list of Callback instances (or None).
        add_history: append a History unless one is given. add_progbar: append a
            ProgbarLogger unless one is given. model: set on every callback.
        **params: passed to every callback's ``set_params``.

    Raises:
        TypeError: an element that is not a ``fn.callbacks.Callback`` (its position
            and type named).

    >>> import fastnn as fn
    >>> cbs = fn.callbacks.CallbackList([fn.callbacks.TerminateOnNaN()], add_history=True)
    >>> [type(c).__name__ for c in cbs.callbacks]
    ['TerminateOnNaN', 'History']
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        if isinstance(callbacks, CallbackList):
            callbacks = callbacks.callbacks
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            if isinstance(callbacks, Callback):
                callbacks = [callbacks]
            else:
                raise TypeError(f"callbacks: expected a list of fn.callbacks.Callback, got "
                                f"{type(callbacks).__name__} {callbacks!r}.")
        self.callbacks = list(callbacks or [])
        for i, c in enumerate(self.callbacks):
            if not isinstance(c, Callback):
                raise TypeError(f"callbacks[{i}]: expected a fn.callbacks.Callback instance "
                                f"(subclass Callback to write your own), got "
                                f"{type(c).__name__} {c!r}.")
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self.model = None
        self.params = params
        if model is not None:
            self.set_model(model)
        if params:
            for c in self.callbacks:
                c.set_params(params)

    def set_model(self, model):
        self.model = model
        if self._history is not None:
            model.history = self._history
        for c in self.callbacks:
            c.set_model(model)

    def __iter__(self):
        return iter(self.callbacks)

    def _call(self, hook, *args):
        for c in self.callbacks:
            getattr(c, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs)


class History(Callback):
    """Records the logs of every finished epoch: ``history.history['loss']`` etc.;
    ``params`` holds fit's verbose, epochs and steps. ``fit`` returns it and sets
    ``model.history``, which keeps the finished epochs even if training is interrupted.

    >>> import numpy as np, fastnn as fn
    >>> model = fn.Sequential([fn.Input((2,)), fn.layers.Dense(1)])
    >>> model.compile(optimizer='sgd', loss='mse')
    >>> x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    >>> history = model.fit(x, y, epochs=3, batch_size=2, verbose=0)
    >>> len(history.history['loss']), history.epoch, history.params
    (3, [0, 1, 2], {'verbose': 0, 'epochs': 3, 'steps': 2})
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


def _format_logs(logs):
    return " - ".join(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}"
                      for k, v in logs.items())


class ProgbarLogger(Callback):
    """Prints progress: verbose=1 a progress bar per epoch, verbose=2 one line per epoch.
    ``fit``, ``evaluate`` and ``predict`` add it when verbose is not 0.

    >>> import numpy as np, fastnn as fn
    >>> model = fn.Sequential([fn.Input((2,)), fn.layers.Dense(1)])
    >>> model.compile(optimizer='sgd', loss='mse')
    >>> x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    >>> import io; out = io.StringIO()
    >>> logger = fn.callbacks.ProgbarLogger(stream=out)
    >>> _ = model.fit(x, y, epochs=1, verbose=2, callbacks=[logger])
    >>> out.getvalue().startswith('Epoch 1/1') and 'loss:' in out.getvalue()
    True
    """

    def __init__(self, stream=None):
        self.stream = stream
        self._in_fit = False

    def _out(self):
        return self.stream or sys.stdout

    def _verbose(self):
        return (self.params or {}).get("verbose", 1)

    def _start(self, steps):
        self._steps, self._t0, self._last, self._width = steps, time.perf_counter(), 0.0, 0

    def _bar(self, step, logs, final=False):
        now = time.perf_counter()
        if not final and now - self._last < 0.05:
            return
        self._last = now
        elapsed = now - self._t0
        steps = self._steps
        if steps:
            width = 30
            done = min(width, int(width * step / steps))
            bar = f"{step}/{steps} [{'=' * done}{'.' * (width - done)}]"
        else:
            bar = f"{step}/Unknown"
        per = elapsed / max(step, 1)
        unit = f"{per * 1e3:.0f}ms/step" if per >= 1e-3 else f"{per * 1e6:.0f}us/step"
        line = f"{bar} - {elapsed:.0f}s {unit}"
        if logs:
            line += " - " + _format_logs(logs)
        # pad over a longer previous line, as the cursor returns to the line start
        width, self._width = getattr(self, "_width", 0), len(line)
        print("\r" + line.ljust(width), end="\n" if final else "", file=self._out(), flush=True)

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self._start((self.params or {}).get("steps"))
        self._epoch = epoch
        if self._verbose() == 1:
            print(f"Epoch {epoch + 1}/{(self.params or {}).get('epochs')}", file=self._out(),
                  flush=True)

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self._verbose() == 1:
            self._bar(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self._verbose() == 1:
            self._bar(getattr(self, "_seen", 0), logs, final=True)
        elif self._verbose() == 2:
            elapsed = time.perf_counter() - self._t0
            print(f"Epoch {epoch + 1}/{(self.params or {}).get('epochs')} - {elapsed:.0f}s - "
                  f"{_format_logs(logs or {})}", file=self._out(), flush=True)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._start((self.params or {}).get("steps"))

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit and self._verbose() == 1:
            self._bar(batch + 1, logs)
        self._seen = batch + 1

    def on_test_end(self, logs=None):
        if not self._in_fit and self._verbose():
            self._bar(getattr(self, "_seen", 0), logs, final=True)

    def on_predict_begin(self, logs=None):
        self._start((self.params or {}).get("steps"))

    def on_predict_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self._verbose() == 1:
            self._bar(batch + 1, None)

    def on_predict_end(self, logs=None):
        if self._verbose():
            self._bar(getattr(self, "_seen", 0), None, final=True)


class TerminateOnNaN(Callback):
    """Stop training quietly when the loss becomes NaN or infinite (``fit`` raises
    instead when this callback is not given).

    >>> import numpy as np, fastnn as fn
    >>> model = fn.Sequential([fn.Input((2,)), fn.layers.Dense(1)])
    >>> model.compile(optimizer='sgd', loss='mse')
    >>> x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    >>> bad = np.full((4, 1), np.nan, np.float32)
    >>> stop = fn.callbacks.TerminateOnNaN()
    >>> history = model.fit(x, bad, epochs=5, verbose=0, callbacks=[stop])
    Batch 0: Invalid loss, terminating training
    >>> len(history.epoch)
    1
    """

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training", flush=True)
            self.model.stop_training = True


class MonitorCallback(Callback):
    """Base of the callbacks that watch a logged quantity (EarlyStopping,
    ModelCheckpoint, ReduceLROnPlateau): ``mode`` 'min', 'max' or 'auto' (min for a
    loss, else the direction of the compiled metric of that name), and ``min_delta``.

    Raises:
        ValueError: an unknown mode, or mode='auto' on a quantity whose direction is
            unknown (pass mode='min' or 'max').

    >>> import fastnn as fn
    >>> isinstance(fn.callbacks.EarlyStopping(), fn.callbacks.MonitorCallback)
    True
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        if not isinstance(monitor, str):
            raise TypeError(f"{type(self).__name__}: monitor must be a log name such as "
                            f"'val_loss', got {monitor!r}.")
        mode = _checks.option(type(self).__name__, "mode", mode, ("auto", "min", "max"))
        self.monitor, self.mode, self.best = monitor, mode, baseline
        self.min_delta = abs(float(min_delta))
        self._op = None

    def _set_monitor_op(self):
        mode = self.mode
        if mode == "auto":
            name = self.monitor[4:] if self.monitor.startswith("val_") else self.monitor
            if name == "loss" or name.endswith("_loss"):
                mode = "min"
            else:
                direction = None
                for m in getattr(self.model, "metrics", None) or []:
                    if getattr(m, "name", None) == name:
                        direction = getattr(m, "_direction", None)
                if direction is None:
                    raise ValueError(f"{type(self).__name__} callback received monitor="
                                     f"{self.monitor!r}, but cannot tell whether that "
                                     f"quantity should be maximized or minimized. Pass "
                                     f"mode='max' or mode='min'.")
                mode = "max" if direction == "up" else "min"
        self._op = mode

    def _is_improvement(self, value, reference):
        if self._op is None:
            self._set_monitor_op()
        if reference is None:
            return True
        if self._op == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference


class EarlyStopping(MonitorCallback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs,
    as ``keras.callbacks.EarlyStopping``.

    Args:
        monitor: log key ('val_loss' default). min_delta, patience, verbose,
            mode ('auto'/'min'/'max'). baseline: stop unless it is beaten.
        restore_best_weights: when training ends (stopped early or after the last
            epoch), restore the weights of the best epoch.
        start_from_epoch: epochs to wait before monitoring.

    >>> es = EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    >>> es.patience, es.restore_best_weights
    (2, True)
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be a non-negative int, got "
                             f"{patience!r}.")
        self.patience, self.verbose = patience, verbose
        self.baseline, self.restore_best_weights = baseline, bool(restore_best_weights)
        self.start_from_epoch = start_from_epoch
        self.wait = self.stopped_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best, self.best_weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        if self._op is None:
            self._set_monitor_op()
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs or {})}",
                          stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # the weights now are the best seen so far
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(MonitorCallback):
    """Save the model (or its weights) after each epoch, or only when ``monitor``
    improves (``save_best_only``), as ``keras.callbacks.ModelCheckpoint``.

    ``filepath`` may contain format fields from the logs, e.g. ``'ck-{epoch:02d}.fnn'``.
    The file is fastnn's format (see ``Model.save``).

    Args:
        filepath, monitor, verbose, save_best_only, save_weights_only, mode.
        save_freq: 'epoch' (an int, saving every n batches, is not supported).
        initial_value_threshold: the value to beat first with save_best_only.

    >>> import numpy as np, fastnn as fn
    >>> model = fn.Sequential([fn.Input((2,)), fn.layers.Dense(1)])
    >>> model.compile(optimizer='sgd', loss='mse')
    >>> x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    >>> import os, tempfile; path = os.path.join(tempfile.mkdtemp(), 'best.fnn')
    >>> ck = fn.callbacks.ModelCheckpoint(path, monitor='loss', save_best_only=True)
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[ck])
    >>> fn.models.load_model(path).predict(x, verbose=0).shape
    (4, 1)
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"ModelCheckpoint: filepath must be a str or path, got {filepath!r}.")
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch', got {save_freq!r}.")
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only = bool(save_best_only), bool(save_weights_only)
        self.save_freq = save_freq

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available.",
                              stacklevel=2)
                return
            if not (np.isfinite(current) and self._is_improvement(current, self.best)):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to "
                      f"{current}, saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


def _get_lr(optimizer):
    """The learning rate of a fn.optimizers optimizer or of a fn.optim one (its first
    parameter group)."""
    if hasattr(optimizer, "param_groups"):
        return float(optimizer.param_groups[0]["lr"])
    return float(optimizer.learning_rate)


def _set_lr(optimizer, lr):
    if hasattr(optimizer, "param_groups"):
        for g in optimizer.param_groups:
            g["lr"] = float(lr)
    else:
        optimizer.learning_rate = float(lr)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs, as ``keras.callbacks.ReduceLROnPlateau``; logs 'learning_rate'.

    Args:
        monitor: default 'val_loss'. factor: < 1 (default 0.1). patience: default 10.
        verbose, mode. min_delta: default 1e-4. cooldown: epochs to wait after a
        reduction. min_lr: the lower bound.

    >>> ReduceLROnPlateau(factor=0.5).factor
    0.5
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__(monitor, mode, min_delta=min_delta)
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected argument(s) {sorted(kwargs)}.")
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, got "
                             f"factor={factor}.")
        self.factor, self.min_lr, self.patience = factor, min_lr, patience
        self.verbose, self.cooldown = verbose, cooldown
        self.cooldown_counter = self.wait = 0

    def on_train_begin(self, logs=None):
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self._op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _get_lr(self.model.optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` "
                          f"which is not available. Available metrics are: "
                          f"{','.join(logs)}.", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old = _get_lr(self.model.optimizer)
                if old > np.float32(self.min_lr):
                    new = max(old * self.factor, self.min_lr)
                    _set_lr(self.model.optimizer, new)
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to ``schedule(epoch, lr)`` (or
    ``schedule(epoch)``), as ``keras.callbacks.LearningRateScheduler``; logs
    'learning_rate'.

    Raises:
        ValueError: the schedule returns something that is not a float.

    >>> LearningRateScheduler(lambda epoch, lr: lr * 0.9).schedule(0, 1.0)
    0.9
    """

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable, got {schedule!r}.")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        old = _get_lr(self.model.optimizer)
        try:
            lr = self.schedule(epoch, old)
        except TypeError:
            lr = self.schedule(epoch)
        if isinstance(lr, np.ndarray) and lr.size == 1:
            lr = lr.item()
        if isinstance(lr, bool) or not isinstance(lr, (float, int, np.floating, np.integer)):
            raise ValueError(f"LearningRateScheduler: the schedule must return a float, got "
                             f"{type(lr).__name__} {lr!r}.")
        _set_lr(self.model.optimizer, float(lr))
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _get_lr(self.model.optimizer)


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file (columns 'epoch' and the sorted
    log keys), as ``keras.callbacks.CSVLogger``.

    Args:
        filename: the file. separator: default ','. append: add to an existing file.

    >>> import numpy as np, fastnn as fn
    >>> model = fn.Sequential([fn.Input((2,)), fn.layers.Dense(1)])
    >>> model.compile(optimizer='sgd', loss='mse')
    >>> x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    >>> import os, tempfile; path = os.path.join(tempfile.mkdtemp(), 'log.csv')
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[fn.callbacks.CSVLogger(path)])
    >>> [line.split(',')[0] for line in open(path).read().splitlines()]
    ['epoch', '0', '1']
    """

    def __init__(self, filename, separator=",", append=False):
        self.filename, self.sep, self.append = os.fspath(filename), separator, bool(append)
        self.keys, self.writer, self.csv_file = None, None, None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and \
            os.path.getsize(self.filename) > 0
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self._append_header = not exists
        self.keys, self.writer = None, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                # as Keras: columns for validation logs that may come in later epochs
                self.keys += [f"val_{k}" for k in self.keys]
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         delimiter=self.sep)
            if self._append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update({k: _csv_value(logs.get(k, "NA")) for k in self.keys})
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
            self.csv_file = None


def _csv_value(v):
    if isinstance(v, str) or (isinstance(v, np.ndarray) and v.ndim == 0) or \
            not hasattr(v, "__iter__"):
        return v
    return f'"[{", ".join(map(str, v))}]"'


class LambdaCallback(Callback):
    """A callback from functions, as ``keras.callbacks.LambdaCallback``:
    on_epoch_begin/on_epoch_end(epoch, logs), on_train_batch_begin/end and
    on_batch_begin/end(batch, logs), on_train_begin/on_train_end(logs).

    >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: None)
    >>> callable(cb.on_epoch_end)
    True
    """

    _HOOKS = ("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end",
              "on_train_begin", "on_train_end", "on_train_batch_begin", "on_train_batch_end")

    def __init__(self, **kwargs):
        for k, f in kwargs.items():
            if k not in self._HOOKS:
                raise TypeError(f"LambdaCallback: unexpected argument {k!r}; expected one of "
                                f"{self._HOOKS}.")
            if not callable(f):
                raise TypeError(f"LambdaCallback: {k} must be callable, got {f!r}.")
            setattr(self, k, f)
