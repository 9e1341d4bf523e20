"""Keras-style callbacks for data-parallel ``fit``."""
import numpy as np

from .. import callbacks as _callbacks
from . import _w, broadcast_optimizer_state, broadcast_parameters

__all__ = ["BroadcastParameters", "MetricAverage", "ModelCheckpoint"]


class BroadcastParameters(_callbacks.Callback):
    """At the start of ``fit``, copy rank ``root``'s weights (and optimizer state, once
    it has any) to every rank, so all ranks start identical."""

    def __init__(self, root=0):
        self.root = root

    def on_train_begin(self, logs=None):
        broadcast_parameters(self.model, self.root)
        opt = getattr(self.model, "optimizer", None)
        if opt is not None and getattr(opt, "state", None):
            broadcast_optimizer_state(opt, self.root)


class MetricAverage(_callbacks.Callback):
    """At each epoch's end, replace every logged metric by its mean over the ranks (put
    it before callbacks that read the logs, such as ModelCheckpoint/EarlyStopping)."""

    def on_epoch_end(self, epoch, logs=None):
        w = _w()
        if w.size == 1 or not logs:
            return
        keys = sorted(logs)
        vals = np.array([float(logs[k]) for k in keys], np.float64)
        req, v = w.begin(6, vals.nbytes)
        data = w.comm.Iallreduce(w.mpi.IN_PLACE, vals, op=w.mpi.SUM)
        w.check(req, v, 6, "MetricAverage")
        w.wait([data], "MetricAverage")
        vals /= w.size
        for k, x in zip(keys, vals):
            logs[k] = float(x)


class ModelCheckpoint(_callbacks.ModelCheckpoint):
    """fastnn.callbacks.ModelCheckpoint that writes on rank ``root`` only (same
    arguments, plus ``root``); every rank keeps training."""

    def __init__(self, *args, root=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.root = root

    def on_epoch_end(self, epoch, logs=None):
        if _w().rank == self.root:
            super().on_epoch_end(epoch, logs)
