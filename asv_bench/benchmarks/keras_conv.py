"""Keras-style CNN: one training epoch on the shipped 8x8 digits, fastnn's
fn.models.Sequential beside Keras 3 on the torch backend, same run.

Model Conv2D(8, 3, relu) - MaxPooling2D - Flatten - Dense(10, softmax) on (8, 8, 1)
NHWC input, sparse categorical cross-entropy, Adam (Keras defaults), accuracy metric,
batch 32, all 1,797 digits, 2 threads for both. Each timed call trains the same model
one more epoch (the first, in setup, pays for compilation and Keras' set-up).
``time_epoch_torch_eager`` is the same model and epoch as a hand-written torch loop
(NCHW, logits + cross_entropy, no metrics), for scale: Keras' fit adds its own overhead.
"""
import os

import numpy as np

import fastnn as fn

from ._common import THREADS, needs_torch, set_threads, torch_or_skip


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError:
        raise NotImplementedError("keras is not installed") from None
    if keras.backend.backend() != "torch":
        raise NotImplementedError("keras runs on another backend than torch")
    import torch
    torch.set_num_threads(THREADS)
    return keras


def needs_keras(method):
    """Skip this benchmark (asv: n/a) where keras (on torch) is not installed."""
    def setup(*params):
        _keras()
    method.setup = setup
    return method


def _data():
    x, y = fn.datasets.load_digits()
    return np.ascontiguousarray(x[..., None]), y


class KerasCNNEpoch:
    number = 1
    repeat = 5
    timeout = 300

    def setup(self):
        set_threads()
        self.x, self.y = _data()
        fn.manual_seed(0)
        self.model = fn.models.Sequential([
            fn.layers.Conv2D(8, 3, activation="relu", input_shape=(8, 8, 1)),
            fn.layers.MaxPooling2D(),
            fn.layers.Flatten(),
            fn.layers.Dense(10, activation="softmax"),
        ])
        self.model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                           metrics=["accuracy"])
        self.model.fit(self.x, self.y, epochs=1, batch_size=32, verbose=0)
        self.kmodel = None
        try:
            keras = _keras()
        except NotImplementedError:
            return
        keras.utils.set_random_seed(0)
        self.kmodel = keras.Sequential([
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ])
        self.kmodel.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                            metrics=["accuracy"])
        self.kmodel.fit(self.x, self.y, epochs=1, batch_size=32, verbose=0)

    def time_epoch_fastnn(self):
        self.model.fit(self.x, self.y, epochs=1, batch_size=32, verbose=0)

    @needs_keras
    def time_epoch_torch_keras(self):
        self.kmodel.fit(self.x, self.y, epochs=1, batch_size=32, verbose=0)

    @needs_torch
    def time_epoch_torch_eager(self):
        torch = torch_or_skip()
        if not hasattr(self, "tmodel"):
            torch.manual_seed(0)
            nn = torch.nn
            self.tmodel = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
                                        nn.Flatten(), nn.Linear(72, 10))
            self.topt = torch.optim.Adam(self.tmodel.parameters(), lr=1e-3, eps=1e-7)
            self.tx = torch.from_numpy(np.ascontiguousarray(self.x.transpose(0, 3, 1, 2)))
            self.ty = torch.from_numpy(self.y)
        m, opt, x, y = self.tmodel, self.topt, self.tx, self.ty
        order = torch.randperm(len(x))
        for i in range(0, len(x), 32):
            idx = order[i:i + 32]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(m(x[idx]), y[idx])
            loss.backward()
            opt.step()


class KerasCNNPredict:
    """Inference over all 1,797 digits (predict, batch 32)."""
    number = 1
    repeat = 5
    timeout = 300

    def setup(self):
        KerasCNNEpoch.setup(self)

    def time_predict_fastnn(self):
        self.model.predict(self.x, batch_size=32)

    @needs_keras
    def time_predict_torch_keras(self):
        self.kmodel.predict(self.x, batch_size=32, verbose=0)
