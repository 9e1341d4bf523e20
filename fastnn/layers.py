"""Keras-style layers (``fn.layers``) on fastnn's engine. Input sizes are inferred on
first call; a layer given ``input_shape`` builds at once.

Layers are fn.nn Modules, so they train with the same autograd and optimizers.
"""
import math

import numpy as np

from . import activations as _activations
from . import functional as F
from .nn.module import Module, Parameter
from .random import resolve
from .tensor import as_tensor, empty_aligned

__all__ = ["Layer", "Dense", "Flatten", "Dropout", "Activation", "Conv2D", "MaxPooling2D",
           "AveragePooling2D", "MaxPool2D", "AvgPool2D", "LAYERS"]


def _positive_int(where, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{where}: expected a positive int, got {v!r}.")
    return int(v)


def _activation_name(activation):
    """Registered name of ``activation``; None for a custom callable (not saveable)."""
    try:
        return _activations.serialize(activation)
    except ValueError:
        if callable(activation):
            return None
        raise


class Layer(Module):
    """Base Keras-style layer: ``build(input_shape)`` on first call, ``get_config()``."""

    def __init__(self, input_shape=None, name=None):
        super().__init__()
        self.built = False
        self.name = name or type(self).__name__.lower()
        self.input_shape = None if input_shape is None else tuple(input_shape)

    def build(self, input_shape):
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def __call__(self, x):
        x = as_tensor(x, f"{self.name} input")
        if not self.built:
            self.build(x.shape)
        return self.forward(x)

    def get_config(self):
        return {"name": self.name}

    def count_params(self):
        return int(sum(p.numel() for p in self.parameters()))

    # Keras's axis order for the kernel (the first parameter), as a permutation of the
    # stored weight's axes; None keeps every weight as stored
    kernel_axes = None
    kernel_layout = ""

    def get_weights(self):
        """This layer's weights as ndarray copies in parameter order, the kernel in
        Keras's layout (``kernel_layout``)."""
        out = [p.data.copy() for p in self.parameters()]
        if self.kernel_axes is not None and out:
            out[0] = np.ascontiguousarray(out[0].transpose(self.kernel_axes))
        return out

    def set_weights(self, weights):
        """Copy ``weights`` (as ``get_weights`` returns them) into the parameters in place."""
        params = list(self.named_parameters())
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(f"{self.name}.set_weights: expected {len(params)} arrays "
                             f"({', '.join(n for n, _ in params)}), got {len(weights)}.")
        for i, ((name, p), w) in enumerate(zip(params, weights)):
            w = np.asarray(w)
            axes = self.kernel_axes if i == 0 else None
            want = p.shape if axes is None else tuple(p.shape[a] for a in axes)
            if w.shape != want:
                what = name if axes is None else "kernel"
                layout = "" if axes is None else f" {self.kernel_layout}"
                raise ValueError(f"{self.name}.set_weights: {what} must have shape {want}{layout}, "
                                 f"got {w.shape}.")
            p.data[...] = w if axes is None else w.transpose(np.argsort(axes))


class Dense(Layer):
    """y = activation(x · kernel + bias), kernel glorot-uniform, bias zeros (Keras defaults).

    Args:
        units: output size. activation: name or callable (None: linear).
        use_bias: add a bias. input_shape: (features,) to build at once.

    >>> import fastnn as fn
    >>> d = fn.layers.Dense(3, activation="relu", input_shape=(4,))
    >>> d(fn.tensor([[1.0, 2.0, 3.0, 4.0]])).shape
    (1, 3)
    """

    # stored (units, in), the layout F.linear multiplies directly; Keras: (in, units)
    kernel_axes, kernel_layout = (1, 0), "(in, units)"

    def __init__(self, units, activation=None, use_bias=True, input_shape=None, name=None,
                 generator=None):
        super().__init__(input_shape, name)
        self.units = _positive_int("Dense units", units)
        self.activation = _activations.get(activation)
        self.activation_name = _activation_name(activation)
        self.use_bias = bool(use_bias)
        self._generator = generator
        if input_shape is not None:
            self.build((None,) + self.input_shape)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        limit = math.sqrt(6.0 / (fan_in + self.units))
        g = resolve(self._generator).numpy
        # stored as (units, in): the layout F.linear multiplies without a transpose copy
        w = empty_aligned((self.units, fan_in), np.float32)
        w[...] = g.uniform(-limit, limit, (self.units, fan_in))
        self.weight = Parameter(w)
        if self.use_bias:
            b = empty_aligned(self.units, np.float32)
            b[...] = 0
            self.bias = Parameter(b)
        else:
            self.bias = None
        self.built = True

    def forward(self, x):
        y = F.linear(x, self.weight, self.bias)
        return y if self.activation is None else self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {"name": self.name, "units": self.units, "activation": self.activation_name,
                "use_bias": self.use_bias}


class Flatten(Layer):
    """Flatten all but the batch axis."""

    def forward(self, x):
        return x.reshape(x.shape[0], -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:])))


class Dropout(Layer):
    """Randomly zero a fraction ``rate`` of inputs while training (scaled by 1/(1-rate))."""

    def __init__(self, rate, seed=None, input_shape=None, name=None):
        super().__init__(input_shape, name)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout rate: expected a value in [0, 1), got {rate!r}.")
        self.rate, self.seed = float(rate), seed
        self._gen = None if seed is None else resolve(int(seed))

    def forward(self, x):
        return F.dropout(x, p=self.rate, training=self.training, generator=self._gen)

    def get_config(self):
        return {"name": self.name, "rate": self.rate, "seed": self.seed}


class Activation(Layer):
    """Apply a named activation."""

    def __init__(self, activation, input_shape=None, name=None):
        super().__init__(input_shape, name)
        self.activation = _activations.get(activation)
        self.activation_name = _activation_name(activation)

    def forward(self, x):
        return x if self.activation is None else self.activation(x)

    def get_config(self):
        return {"name": self.name, "activation": self.activation_name}


# --- convolution and pooling (channels_last, as Keras) ---------------------------------

def _int_pair(where, v):
    """``v`` (an int or a pair of ints) as a pair of positive ints."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = (v, v)
    if (not isinstance(v, (tuple, list)) or len(v) != 2
            or any(isinstance(e, bool) or not isinstance(e, (int, np.integer)) for e in v)):
        raise TypeError(f"{where}: expected an int or a pair of ints, got {v!r}.")
    if v[0] < 1 or v[1] < 1:
        raise ValueError(f"{where}: expected positive values, got {tuple(v)!r}.")
    return int(v[0]), int(v[1])


def _padding_mode(where, padding):
    mode = padding.lower() if isinstance(padding, str) else None
    if mode not in ("valid", "same"):
        raise ValueError(f"{where}: expected padding 'valid' or 'same', got {padding!r}.")
    return mode


def _same_pads(size, k, s, d=1):
    """TensorFlow's 'same' padding of one axis: (before, after); the odd pixel goes after."""
    total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _out_size(size, k, s, d, mode):
    if size is None:
        return None
    if mode == "same":
        return -(-size // s)
    return (size - (k - 1) * d - 1) // s + 1


class _Spatial2D(Layer):
    """Shared by Conv2D and the pooling layers: NHWC inputs and their output sizes."""

    _kind = "layer"

    def _check_input(self, shape):
        """Validate a (batch, height, width, channels) shape; returns (out_h, out_w)."""
        shape = tuple(shape)
        if len(shape) != 4:
            raise ValueError(f"{self._kind} '{self.name}': expected a 4-D input (batch, height, "
                             f"width, channels), got shape {shape}.")
        out = tuple(_out_size(n, k, s, d, self.padding) for n, k, s, d in
                    zip(shape[1:3], self._window, self.strides, self._dilation))
        if any(o is not None and o < 1 for o in out):
            raise ValueError(f"{self._kind} '{self.name}': input of shape {shape} is smaller "
                             f"than the window {self._window} (dilation {self._dilation}) "
                             f"with padding='valid'; expected height and width of at least "
                             f"{tuple((k - 1) * d + 1 for k, d in zip(self._window, self._dilation))}.")
        return out

    def _pads(self, h, w):
        """'same' pads as ((top, bottom), (left, right)); None for 'valid'."""
        if self.padding == "valid":
            return None
        return (_same_pads(h, self._window[0], self.strides[0], self._dilation[0]),
                _same_pads(w, self._window[1], self.strides[1], self._dilation[1]))

    def _check_input_shape_arg(self):
        if self.input_shape is not None and len(self.input_shape) != 3:
            raise ValueError(f"{self._kind} '{self.name}': input_shape must be (height, width, "
                             f"channels), got {self.input_shape}.")


class Conv2D(_Spatial2D):
    """2-D convolution on channels_last (NHWC) input, same as ``keras.layers.Conv2D``.

    y = activation(conv(x, kernel) + bias); kernel glorot-uniform, bias zeros. 'same'
    padding follows TensorFlow: total = max((ceil(n/s) - 1)·s + (k - 1)·d + 1 - n, 0),
    half before and the odd pixel after. ``get_weights`` gives Keras' layout, kernel
    (kh, kw, in, out) and bias (out,); the parameter ``weight`` is stored (out, in, kh, kw),
    the layout ``F.conv2d`` reads.

    Args:
        filters: output channels. kernel_size, strides, dilation_rate: int or pair.
        padding: 'valid' or 'same' (any case). activation: name or callable (None: linear).
        use_bias: add a bias. input_shape: (height, width, channels) to build at once.
        generator: fastnn.random.Generator or seed for the kernel's initialisation.

    Raises:
        ValueError: non-positive sizes, an unknown padding, strides > 1 with
            dilation_rate > 1 (as Keras), or an input that is not 4-D NHWC with the
            built channel count.

    >>> import fastnn as fn, numpy as np
    >>> c = fn.layers.Conv2D(4, 3, padding="same", input_shape=(5, 5, 2))
    >>> c(np.zeros((1, 5, 5, 2), np.float32)).shape, c.get_weights()[0].shape
    ((1, 5, 5, 4), (3, 3, 2, 4))
    """

    _kind = "Conv2D"

    # stored (out, in, kh, kw) as F.conv2d wants; Keras: (kh, kw, in, out)
    kernel_axes, kernel_layout = (2, 3, 1, 0), "(kh, kw, in, out)"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None,
                 use_bias=True, dilation_rate=1, input_shape=None, name=None, generator=None):
        super().__init__(input_shape, name or "conv2d")
        self.filters = _positive_int("Conv2D filters", filters)
        self.kernel_size = _int_pair("Conv2D kernel_size", kernel_size)
        self.strides = _int_pair("Conv2D strides", strides)
        self.dilation_rate = _int_pair("Conv2D dilation_rate", dilation_rate)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"Conv2D: strides > 1 is not supported with dilation_rate > 1 "
                             f"(as in Keras), got strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}.")
        self.padding = _padding_mode("Conv2D padding", padding)
        self.activation = _activations.get(activation)
        self.activation_name = _activation_name(activation)
        # elementwise activations run before the NCHW -> NHWC transpose; softmax-like
        # ones (and unknown callables) reduce over an axis, so they run on NHWC
        self._act_nchw = self.activation_name not in (None, "softmax", "log_softmax")
        self.use_bias = bool(use_bias)
        self._generator = generator
        self._window, self._dilation = self.kernel_size, self.dilation_rate
        self._check_input_shape_arg()
        if input_shape is not None:
            self.build((None,) + self.input_shape)

    def build(self, input_shape):
        self._check_input(input_shape)
        cin = input_shape[-1]
        if cin is None:
            raise ValueError(f"Conv2D '{self.name}': the channel axis (last) of the input "
                             f"must be known, got shape {tuple(input_shape)}.")
        cin = int(cin)
        kh, kw = self.kernel_size
        limit = math.sqrt(6.0 / (kh * kw * (cin + self.filters)))   # glorot: fans scale by kh*kw
        g = resolve(self._generator).numpy
        w = empty_aligned((self.filters, cin, kh, kw), np.float32)
        w[...] = g.uniform(-limit, limit, w.shape)
        self.weight = Parameter(w)
        if self.use_bias:
            b = empty_aligned(self.filters, np.float32)
            b[...] = 0
            self.bias = Parameter(b)
        else:
            self.bias = None
        self.in_channels = cin
        self.built = True

    def forward(self, x):
        shape = x.shape
        self._check_input(shape)
        if shape[3] != self.in_channels:
            raise ValueError(f"Conv2D '{self.name}': expected an input with {self.in_channels} "
                             f"channels (last axis), got shape {shape}.")
        xc = x.transpose(0, 3, 1, 2)
        padding = 0
        pads = self._pads(shape[1], shape[2])
        if pads is not None:
            (pt, pb), (pl, pr) = pads
            if pt == pb and pl == pr:
                padding = (pt, pl)
            else:
                xc = F.pad(xc, (pl, pr, pt, pb))
        y = F.conv2d(xc, self.weight, self.bias, stride=self.strides, padding=padding,
                     dilation=self.dilation_rate)
        if self.activation is not None and self._act_nchw:
            y = self.activation(y)
        y = y.transpose(0, 2, 3, 1)
        if self.activation is not None and not self._act_nchw:
            y = self.activation(y)
        return y

    def compute_output_shape(self, input_shape):
        oh, ow = self._check_input(input_shape)
        return (input_shape[0], oh, ow, self.filters)

    def get_config(self):
        return {"name": self.name, "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "activation": self.activation_name, "use_bias": self.use_bias,
                "dilation_rate": self.dilation_rate}


class _Pooling2D(_Spatial2D):
    def __init__(self, pool_size, strides, padding, input_shape, name, kind):
        super().__init__(input_shape, name)
        self._kind = kind
        self.pool_size = _int_pair(f"{kind} pool_size", pool_size)
        self.strides = self.pool_size if strides is None else _int_pair(f"{kind} strides", strides)
        self.padding = _padding_mode(f"{kind} padding", padding)
        self._window, self._dilation = self.pool_size, (1, 1)
        self._check_input_shape_arg()
        if input_shape is not None:
            self.build((None,) + self.input_shape)

    def build(self, input_shape):
        self._check_input(input_shape)
        self.built = True

    def forward(self, x):
        shape = x.shape
        self._check_input(shape)
        y = self._pool(x.transpose(0, 3, 1, 2), shape[1], shape[2])
        return y.transpose(0, 2, 3, 1)

    def compute_output_shape(self, input_shape):
        oh, ow = self._check_input(input_shape)
        return (input_shape[0], oh, ow, input_shape[3])

    def get_config(self):
        return {"name": self.name, "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding}


class MaxPooling2D(_Pooling2D):
    """Max pooling on channels_last (NHWC) input, same as ``keras.layers.MaxPooling2D``.

    'same' pads as TensorFlow does (the odd pixel after), with -inf, so a window's
    maximum is taken over the input elements it covers.

    Args:
        pool_size: int or pair. strides: int, pair or None (= pool_size).
        padding: 'valid' or 'same' (any case). input_shape: (height, width, channels).

    >>> import fastnn as fn, numpy as np
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> fn.layers.MaxPooling2D()(x).numpy()[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", input_shape=None,
                 name=None):
        super().__init__(pool_size, strides, padding, input_shape, name or "max_pooling2d",
                         "MaxPooling2D")

    def _pool(self, xc, h, w):
        padding = 0
        pads = self._pads(h, w)
        if pads is not None:
            (pt, pb), (pl, pr) = pads
            if pt == pb and pl == pr:
                padding = (pt, pl)     # torch-style symmetric padding is -inf already
            else:
                xc = F.pad(xc, (pl, pr, pt, pb), value=-math.inf)
        return F.max_pool2d(xc, self.pool_size, self.strides, padding)


class AveragePooling2D(_Pooling2D):
    """Average pooling on channels_last (NHWC) input, same as
    ``keras.layers.AveragePooling2D`` with TensorFlow's 'same': the odd pixel of padding
    goes after, and each window averages only the input elements it covers.

    Args:
        pool_size: int or pair. strides: int, pair or None (= pool_size).
        padding: 'valid' or 'same' (any case). input_shape: (height, width, channels).

    >>> import fastnn as fn, numpy as np
    >>> x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    >>> fn.layers.AveragePooling2D(2, padding="same")(x).numpy()[0, :, :, 0]
    array([[2. , 3.5],
           [6.5, 8. ]], dtype=float32)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", input_shape=None,
                 name=None):
        super().__init__(pool_size, strides, padding, input_shape, name or "average_pooling2d",
                         "AveragePooling2D")
        self._counts = {}

    def _inv_counts(self, h, w, pads, dtype):
        """1 / (input elements under each window), shape (1, 1, out_h, out_w)."""
        key = (h, w, np.dtype(dtype).str)
        inv = self._counts.get(key)
        if inv is None:
            axes = []
            for n, k, s, (before, _) in zip((h, w), self.pool_size, self.strides, pads):
                start = np.arange(-(-n // s)) * s - before
                axes.append(np.minimum(start + k, n) - np.maximum(start, 0))
            inv = (1.0 / np.multiply.outer(axes[0], axes[1])).astype(dtype)[None, None]
            self._counts[key] = inv
        return inv

    def _pool(self, xc, h, w):
        pads = self._pads(h, w)
        if pads is None:
            return F.avg_pool2d(xc, self.pool_size, self.strides)
        (pt, pb), (pl, pr) = pads
        if pt == pb and pl == pr:
            return F.avg_pool2d(xc, self.pool_size, self.strides, (pt, pl),
                                count_include_pad=False)
        # asymmetric: window sums over the zero-padded input / elements covered
        sums = F.avg_pool2d(F.pad(xc, (pl, pr, pt, pb)), self.pool_size, self.strides,
                            divisor_override=1)
        return sums * self._inv_counts(h, w, pads, xc.dtype)


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D


LAYERS = {cls.__name__: cls for cls in (Dense, Flatten, Dropout, Activation, Conv2D,
                                            MaxPooling2D, AveragePooling2D)}
