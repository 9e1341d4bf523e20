"""Keras-style convolution and pooling layers: Conv2D, MaxPooling2D,
AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D.

Inputs are channels_last (N, H, W, C) by default, as Keras; ``data_format=
'channels_first'`` takes (N, C, H, W), the layout ``F.conv2d`` reads, without the
transposes.
"""
import math

import numpy as np

from .. import _checks
from .. import activations as _activations
from .. import functional as F
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from .base import Layer
from .core import activation_name, positive_int

__all__ = ["Conv2D", "MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AvgPool2D",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAvgPool2D",
           "GlobalMaxPool2D", "data_format_arg"]


def data_format_arg(where, data_format):
    """'channels_last' (the default, for None) or 'channels_first'."""
    if data_format is None:
        return "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{where}: data_format must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}.")
    return data_format


# --- convolution and pooling (channels_last, as Keras) ---------------------------------

def _int_pair(where, v):
    """``v`` (an int or a pair of ints) as a pair of positive ints."""
    layer, _, name = where.partition(" ")
    return _checks.pair(layer, name, v, low=1, one=False)


def _padding_mode(where, padding):
    if isinstance(padding, str) and padding.lower() in ("valid", "same"):
        return padding.lower()
    layer, _, name = where.partition(" ")
    raise _checks.error(ValueError, layer, name, "'valid' or 'same'", repr(padding))


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
    """Shared by Conv2D and the pooling layers: 4-D inputs and their output sizes."""

    _kind = "layer"

    def _hw_axes(self):
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    def _layout(self):
        return "(batch, channels, height, width)" if self.data_format == "channels_first" \
            else "(batch, height, width, channels)"

    def _check_input(self, shape):
        """Validate a 4-D input shape; returns (out_h, out_w)."""
        shape = tuple(shape)
        if len(shape) != 4:
            raise ValueError(f"{self._kind} '{self.name}': expected a 4-D input {self._layout()}, "
                             f"got shape {shape}.")
        hw = tuple(shape[a] for a in self._hw_axes())
        out = tuple(_out_size(n, k, s, d, self.padding) for n, k, s, d in
                    zip(hw, self._window, self.strides, self._dilation))
        if any(o is not None and o < 1 for o in out):
            raise ValueError(f"{self._kind} '{self.name}': input of shape {shape} is smaller "
                             f"than the window {self._window} (dilation {self._dilation}) "
                             f"with padding='valid'; expected height and width of at least "
                             f"{tuple((k - 1) * d + 1 for k, d in zip(self._window, self._dilation))}.")
        return out

    def _channels(self, shape):
        return shape[1] if self.data_format == "channels_first" else shape[-1]

    def _out_shape(self, shape, channels):
        oh, ow = self._check_input(shape)
        if self.data_format == "channels_first":
            return (shape[0], channels, oh, ow)
        return (shape[0], oh, ow, channels)

    def _pads(self, h, w):
        """'same' pads as ((top, bottom), (left, right)); None for 'valid'."""
        if self.padding == "valid":
            return None
        return (_same_pads(h, self._window[0], self.strides[0], self._dilation[0]),
                _same_pads(w, self._window[1], self.strides[1], self._dilation[1]))

    def _check_input_shape_arg(self):
        if self.input_shape is not None and len(self.input_shape) != 3:
            what = "(channels, height, width)" if self.data_format == "channels_first" \
                else "(height, width, channels)"
            raise ValueError(f"{self._kind} '{self.name}': input_shape must be {what}, got "
                             f"{self.input_shape}.")

    def _to_nchw(self, x):
        return x if self.data_format == "channels_first" else x.transpose(0, 3, 1, 2)

    def _from_nchw(self, y):
        return y if self.data_format == "channels_first" else y.transpose(0, 2, 3, 1)


class Conv2D(_Spatial2D):
    """2-D convolution, same as ``keras.layers.Conv2D`` (channels_last by default).

    y = activation(conv(x, kernel) + bias); kernel glorot-uniform, bias zeros. 'same'
    padding follows TensorFlow: total = max((ceil(n/s) - 1)·s + (k - 1)·d + 1 - n, 0),
    half before and the odd pixel after. ``get_weights`` gives Keras' layout, kernel
    (kh, kw, in/groups, out) and bias (out,); the parameter ``weight`` is stored
    (out, in/groups, kh, kw), the layout ``F.conv2d`` reads.

    Args:
        filters: output channels. kernel_size, strides, dilation_rate: int or pair.
        padding: 'valid' or 'same' (any case). data_format: 'channels_last' (default)
            or 'channels_first'. groups: channel groups. activation: name or callable.
        use_bias: add a bias. kernel_initializer, bias_initializer, kernel_regularizer,
            bias_regularizer: as Dense. **kwargs: Layer's (input_shape, name, ...).

    Raises:
        ValueError: non-positive sizes, an unknown padding or data_format, strides > 1
            with dilation_rate > 1 (as Keras), or an input that is not 4-D with the
            built channel count.

    >>> import fastnn as fn, numpy as np
    >>> c = fn.layers.Conv2D(4, 3, padding="same", input_shape=(5, 5, 2))
    >>> c(np.zeros((1, 5, 5, 2), np.float32)).shape, c.get_weights()[0].shape
    ((1, 5, 5, 4), (3, 3, 2, 4))
    """

    _kind = "Conv2D"

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = positive_int("Conv2D filters", filters)
        self.kernel_size = _int_pair("Conv2D kernel_size", kernel_size)
        self.strides = _int_pair("Conv2D strides", strides)
        self.dilation_rate = _int_pair("Conv2D dilation_rate", dilation_rate)
        self.groups = positive_int("Conv2D groups", groups)
        if self.filters % self.groups:
            raise ValueError(f"Conv2D: filters ({self.filters}) must be divisible by groups "
                             f"({self.groups}).")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"Conv2D: strides > 1 is not supported with dilation_rate > 1 "
                             f"(as in Keras), got strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}.")
        self.padding = _padding_mode("Conv2D padding", padding)
        self.data_format = data_format_arg("Conv2D", data_format)
        self.activation = _activations.get(activation)
        self.activation_name = activation_name(activation)
        # elementwise activations run before the NCHW -> NHWC transpose; softmax-like
        # ones (and unknown callables) reduce over an axis, so they run on the output
        self._act_nchw = self.activation_name not in (None, "softmax", "log_softmax")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.kernel_regularizer = _regularizers.get(kernel_regularizer)
        self.bias_regularizer = _regularizers.get(bias_regularizer)
        self._init_args = (kernel_initializer, bias_initializer)
        if kernel_constraint is not None or bias_constraint is not None:
            raise ValueError("Conv2D: kernel_constraint and bias_constraint are not supported "
                             "by fastnn.")
        self._window, self._dilation = self.kernel_size, self.dilation_rate
        self._check_input_shape_arg()
        if self.input_shape is not None:
            self._build((None,) + self.input_shape)

    def build(self, input_shape):
        self._check_input(input_shape)
        cin = self._channels(input_shape)
        if cin is None:
            raise ValueError(f"Conv2D '{self.name}': the channel axis of the input must be "
                             f"known, got shape {tuple(input_shape)}.")
        cin = int(cin)
        if cin % self.groups:
            raise ValueError(f"Conv2D '{self.name}': input channels ({cin}) must be divisible "
                             f"by groups ({self.groups}).")
        kh, kw = self.kernel_size
        # drawn in Keras's (kh, kw, in, out) layout, stored as (out, in, kh, kw)
        self.weight = self.add_weight(shape=(kh, kw, cin // self.groups, self.filters),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel",
                                      _stored_axes=(3, 2, 0, 1))
        self.bias = (self.add_weight(shape=(self.filters,), initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer, name="bias")
                     if self.use_bias else None)
        self.in_channels = cin

    def call(self, inputs):
        shape = inputs.shape
        self._check_input(shape)
        if self._channels(shape) != self.in_channels:
            raise ValueError(f"Conv2D '{self.name}': expected an input with {self.in_channels} "
                             f"channels ({self._layout()}), got shape {shape}.")
        xc = self._to_nchw(inputs)
        padding = 0
        pads = self._pads(xc.shape[2], xc.shape[3])
        if pads is not None:
            (pt, pb), (pl, pr) = pads
            if pt == pb and pl == pr:
                padding = (pt, pl)
            else:
                xc = F.pad(xc, (pl, pr, pt, pb))
        y = F.conv2d(xc, self.weight, self.bias, stride=self.strides, padding=padding,
                     dilation=self.dilation_rate, groups=self.groups)
        if self.activation is not None and self._act_nchw:
            y = self.activation(y)
        y = self._from_nchw(y)
        if self.activation is not None and not self._act_nchw:
            y = self.activation(y)
        return y

    def compute_output_shape(self, input_shape):
        return self._out_shape(input_shape, self.filters)

    def _layout_note(self, label):
        return " (kh, kw, in, out)" if label == "kernel" else ""

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": self.groups,
                "activation": self.activation_name, "use_bias": self.use_bias,
                "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": _regularizers.serialize(self.bias_regularizer)}


class _Pooling2D(_Spatial2D):
    def __init__(self, pool_size, strides, padding, data_format, kind, **kwargs):
        super().__init__(**kwargs)
        self._kind = kind
        self.pool_size = _int_pair(f"{kind} pool_size", pool_size)
        self.strides = self.pool_size if strides is None else _int_pair(f"{kind} strides", strides)
        self.padding = _padding_mode(f"{kind} padding", padding)
        self.data_format = data_format_arg(kind, data_format)
        self._window, self._dilation = self.pool_size, (1, 1)
        self._check_input_shape_arg()
        if self.input_shape is not None:
            self._build((None,) + self.input_shape)

    def build(self, input_shape):
        self._check_input(input_shape)

    def call(self, inputs):
        self._check_input(inputs.shape)
        xc = self._to_nchw(inputs)
        return self._from_nchw(self._pool(xc, xc.shape[2], xc.shape[3]))

    def compute_output_shape(self, input_shape):
        return self._out_shape(input_shape, self._channels(input_shape))

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format}


class MaxPooling2D(_Pooling2D):
    """Max pooling, same as ``keras.layers.MaxPooling2D`` (channels_last by default).

    'same' pads as TensorFlow does (the odd pixel after), with -inf, so a window's
    maximum is taken over the input elements it covers.

    Args:
        pool_size: int or pair. strides: int, pair or None (= pool_size).
        padding: 'valid' or 'same' (any case). data_format: 'channels_last' (default)
            or 'channels_first'. **kwargs: Layer's (input_shape, name, ...).

    >>> import fastnn as fn, numpy as np
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> fn.layers.MaxPooling2D()(x).numpy()[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, "MaxPooling2D", **kwargs)

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
    """Average pooling, same as ``keras.layers.AveragePooling2D`` (channels_last by
    default) with TensorFlow's 'same': the odd pixel of padding
    goes after, and each window averages only the input elements it covers.

    Args:
        pool_size: int or pair. strides: int, pair or None (= pool_size).
        padding: 'valid' or 'same' (any case). data_format: 'channels_last' (default)
            or 'channels_first'. **kwargs: Layer's (input_shape, name, ...).

    >>> import fastnn as fn, numpy as np
    >>> x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    >>> fn.layers.AveragePooling2D(2, padding="same")(x).numpy()[0, :, :, 0]
    array([[2. , 3.5],
           [6.5, 8. ]], dtype=float32)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        self.__dict__["_counts"] = {}
        super().__init__(pool_size, strides, padding, data_format, "AveragePooling2D", **kwargs)

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


class _GlobalPooling2D(Layer):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format_arg(type(self).__name__, data_format)
        self.keepdims = bool(keepdims)
        if self.input_shape is not None:
            self._build((None,) + self.input_shape)

    def _axes(self):
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    def build(self, input_shape):
        if len(input_shape) != 4:
            layout = "(batch, channels, height, width)" if self.data_format == "channels_first" \
                else "(batch, height, width, channels)"
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a 4-D input "
                             f"{layout}, got shape {tuple(input_shape)}.")

    def call(self, inputs):
        if inputs.ndim != 4:
            self.build(inputs.shape)
        return self._reduce(inputs, self._axes())

    def compute_output_shape(self, input_shape):
        self.build(input_shape)
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """The mean over height and width, as ``keras.layers.GlobalAveragePooling2D``:
    (N, H, W, C) -> (N, C) (or (N, 1, 1, C) with ``keepdims=True``).

    >>> import fastnn as fn, numpy as np
    >>> x = np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)
    >>> fn.layers.GlobalAveragePooling2D()(x).numpy()
    array([[3., 4.]], dtype=float32)
    """

    def _reduce(self, x, axes):
        return x.mean(axis=axes, keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """The maximum over height and width, as ``keras.layers.GlobalMaxPooling2D``.

    >>> import fastnn as fn, numpy as np
    >>> x = np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)
    >>> fn.layers.GlobalMaxPooling2D()(x).numpy()
    array([[6., 7.]], dtype=float32)
    """

    def _reduce(self, x, axes):
        return x.max(axis=axes, keepdims=self.keepdims)


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
