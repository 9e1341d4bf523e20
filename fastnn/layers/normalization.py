"""Keras-style normalization layers: BatchNormalization and LayerNormalization, on
``F.batch_norm`` and ``F.layer_norm``."""
import numbers

import numpy as np

from .. import functional as F
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from .base import Layer

__all__ = ["BatchNormalization", "LayerNormalization"]


def _eps(owner, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v >= 0:
        raise ValueError(f"{owner}: epsilon must be a number >= 0, got {v!r}.")
    return float(v)


class BatchNormalization(Layer):
    """Normalize each feature (``axis``) with the batch's mean and variance while
    training and with moving averages in inference, as ``keras.layers.BatchNormalization``:
    y = gamma · (x - mean) / sqrt(var + epsilon) + beta; after each training batch
    moving = moving · momentum + batch · (1 - momentum), the biased batch variance.

    Args:
        axis: the feature axis (default -1, channels_last). momentum: default 0.99.
        epsilon: default 1e-3. center, scale: learn beta, gamma.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer, beta_regularizer, gamma_regularizer: as Keras.

    Weights (``get_weights``): gamma, beta, moving_mean, moving_variance (the last two
    are not trained).

    >>> import fastnn as fn, numpy as np
    >>> bn = fn.layers.BatchNormalization()
    >>> y = bn(np.array([[1.0, 2.0], [3.0, 6.0]], np.float32), training=True)
    >>> y.numpy().round(2), bn.moving_mean.numpy().round(3)
    (array([[-1., -1.],
           [ 1.,  1.]], dtype=float32), array([0.02, 0.04], dtype=float32))
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        owner = "BatchNormalization"
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{owner}: axis must be an int, got {axis!r}.")
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or \
                not 0 <= momentum <= 1:
            raise ValueError(f"{owner}: momentum must be in [0, 1], got {momentum!r}.")
        if beta_constraint is not None or gamma_constraint is not None or synchronized:
            raise ValueError(f"{owner}: constraints and synchronized=True are not supported "
                             f"by fastnn.")
        self.axis, self.momentum = int(axis), float(momentum)
        self.epsilon = _eps(owner, epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self._inits = {k: _initializers.get(v) for k, v in (
            ("beta", beta_initializer), ("gamma", gamma_initializer),
            ("moving_mean", moving_mean_initializer),
            ("moving_variance", moving_variance_initializer))}
        self._regs = {"beta": _regularizers.get(beta_regularizer),
                      "gamma": _regularizers.get(gamma_regularizer)}
        if self.input_shape is not None:
            self._build((None,) + self.input_shape)

    def _feature_axis(self, ndim):
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 0 < axis < ndim:
            raise ValueError(f"BatchNormalization '{self.name}': axis={self.axis} is not a "
                             f"feature axis of a {ndim}-D input.")
        return axis

    def build(self, input_shape):
        axis = self._feature_axis(len(input_shape))
        c = input_shape[axis]
        if c is None:
            raise ValueError(f"BatchNormalization '{self.name}': the feature axis {self.axis} of "
                             f"the input must be known, got shape {tuple(input_shape)}.")
        c = int(c)
        self.gamma = self.add_weight(shape=(c,), initializer=self._inits["gamma"], name="gamma",
                                     regularizer=self._regs["gamma"]) if self.scale else None
        self.beta = self.add_weight(shape=(c,), initializer=self._inits["beta"], name="beta",
                                    regularizer=self._regs["beta"]) if self.center else None
        self.moving_mean = self.add_weight(shape=(c,), initializer=self._inits["moving_mean"],
                                           trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight(shape=(c,),
                                               initializer=self._inits["moving_variance"],
                                               trainable=False, name="moving_variance")

    def call(self, inputs, training=None):
        ndim = inputs.ndim
        axis = self._feature_axis(ndim)
        c = self.moving_mean.shape[0]
        if inputs.shape[axis] != c:
            raise ValueError(f"BatchNormalization '{self.name}': expected {c} features on axis "
                             f"{self.axis}, got input of shape {inputs.shape}.")
        x = inputs
        if axis == ndim - 1 and ndim > 2:
            x = x.reshape(-1, c)        # channels-last: every position is a sample
        elif axis != 1:
            x = x.transpose(0, axis, *[a for a in range(1, ndim) if a != axis])
        y = F.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta,
                         training=bool(training), momentum=1.0 - self.momentum, eps=self.epsilon,
                         unbiased_running_var=False)
        if axis == ndim - 1 and ndim > 2:
            return y.reshape(inputs.shape)
        if axis != 1:
            back = [0] + list(range(2, axis + 1)) + [1] + list(range(axis + 1, ndim))
            y = y.transpose(*back)
        return y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_regularizer": _regularizers.serialize(self._regs["beta"]),
                "gamma_regularizer": _regularizers.serialize(self._regs["gamma"])}


class LayerNormalization(Layer):
    """Normalize each sample over the trailing ``axis`` (default -1), as
    ``keras.layers.LayerNormalization``: y = gamma · (x - mean) / sqrt(var + epsilon) + beta.

    Args:
        axis: an int or list of trailing axes. epsilon: default 1e-3. center, scale:
            learn beta, gamma. beta_initializer, gamma_initializer, beta_regularizer,
            gamma_regularizer: as Keras.

    Raises:
        ValueError: axes that are not the trailing ones, or rms_scaling=True.

    >>> import fastnn as fn
    >>> fn.layers.LayerNormalization()(fn.tensor([[1.0, 3.0]])).numpy().round(4)
    array([[-0.9995,  0.9995]], dtype=float32)
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        owner = "LayerNormalization"
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, (int, np.integer))
                           for a in axes):
            raise TypeError(f"{owner}: axis must be an int or a list of ints, got {axis!r}.")
        if rms_scaling or beta_constraint is not None or gamma_constraint is not None:
            raise ValueError(f"{owner}: rms_scaling and constraints are not supported by fastnn.")
        self.axis = axes if isinstance(axis, (list, tuple)) else int(axis)
        self._axes = [int(a) for a in axes]
        self.epsilon = _eps(owner, epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self._inits = {"beta": _initializers.get(beta_initializer),
                       "gamma": _initializers.get(gamma_initializer)}
        self._regs = {"beta": _regularizers.get(beta_regularizer),
                      "gamma": _regularizers.get(gamma_regularizer)}
        if self.input_shape is not None:
            self._build((None,) + self.input_shape)

    def _norm_shape(self, shape):
        nd = len(shape)
        axes = sorted(a + nd if a < 0 else a for a in self._axes)
        if axes != list(range(nd - len(axes), nd)) or axes[0] < 1:
            raise ValueError(f"LayerNormalization '{self.name}': axis={self.axis} must be the "
                             f"trailing axes of the {nd}-D input (batch axis excluded).")
        out = tuple(shape[a] for a in axes)
        if any(d is None for d in out):
            raise ValueError(f"LayerNormalization '{self.name}': the normalized axes must have "
                             f"known sizes, got input shape {tuple(shape)}.")
        return tuple(int(d) for d in out)

    def build(self, input_shape):
        shape = self._norm_shape(input_shape)
        self.gamma = self.add_weight(shape=shape, initializer=self._inits["gamma"], name="gamma",
                                     regularizer=self._regs["gamma"]) if self.scale else None
        self.beta = self.add_weight(shape=shape, initializer=self._inits["beta"], name="beta",
                                    regularizer=self._regs["beta"]) if self.center else None
        self._shape = shape

    def call(self, inputs):
        return F.layer_norm(inputs, self._shape, self.gamma, self.beta, eps=self.epsilon)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_regularizer": _regularizers.serialize(self._regs["beta"]),
                "gamma_regularizer": _regularizers.serialize(self._regs["gamma"])}
