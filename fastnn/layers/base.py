"""``Layer``: the base of every Keras-style layer and model (as ``keras.Layer``).

A layer creates its weights in ``build(input_shape)`` with ``add_weight`` the first
time it is called, then computes in ``call``. It is an ``fn.nn.Module``, so its weights
are Parameters that fastnn's autograd and optimizers train. Called on a KerasTensor
(``fn.Input``), it records a Node of the functional graph instead of computing.

Built-in layers keep a kernel in the layout the engine's op reads (Dense:
(units, in), as ``F.linear``); ``get_weights``/``set_weights`` and the initializers see
Keras's layout ((in, units)), so weights move between fastnn and Keras unchanged.
"""
import inspect
import itertools
import re

import numpy as np

from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..nn.module import Module, Parameter
from ..tensor import Tensor, empty_aligned
from .node import KerasTensor, Node, flatten, is_symbolic, map_structure

__all__ = ["Layer", "snake_case", "unique_names"]

# Creation order of layers: models name their auto-named layers in this order.
_CREATED = itertools.count()
_FLOATS = ("float32", "float64")


def snake_case(name):
    """Keras's class-name to layer-name rule: 'MaxPooling2D' -> 'max_pooling2d'.

    >>> snake_case("GlobalAveragePooling2D"), snake_case("Conv2D")
    ('global_average_pooling2d', 'conv2d')
    """
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_names(layers, where):
    """Give the auto-named ``layers`` unique names within one model, as Keras does
    (``dense``, ``dense_1``, ...), in creation order; names chosen by the user must be
    unique already.

    Raises:
        ValueError: two layers given the same name by the user.
    """
    fixed = {}
    for layer in layers:
        if not getattr(layer, "_auto_name", False):
            other = fixed.get(layer.name)
            if other is not None and other is not layer:
                raise ValueError(f"{where}: all layer names should be unique; the name "
                                 f"{layer.name!r} is used by two layers "
                                 f"({type(other).__name__} and {type(layer).__name__}). "
                                 f"Pass a different name= to one of them.")
            fixed[layer.name] = layer
    taken = set(fixed)
    for layer in sorted((l for l in layers if getattr(l, "_auto_name", False)),
                        key=lambda l: l._order):
        base, k, name = layer.name, 0, layer.name
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        taken.add(name)
        object.__setattr__(layer, "name", name)
        object.__setattr__(layer, "_auto_name", False)


def _positive_shape(where, shape):
    try:
        out = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: shape must be a tuple of ints, got {shape!r}.") from None
    if any(d < 0 for d in out):
        raise ValueError(f"{where}: shape must not have negative sizes, got {out}.")
    return out


def _dtype(where, dtype):
    if dtype is None:
        return "float32"
    try:
        name = str(np.dtype(getattr(dtype, "name", dtype)))
    except TypeError:
        raise TypeError(f"{where}: dtype must be 'float32' or 'float64', got {dtype!r}.") from None
    if name not in _FLOATS:
        raise ValueError(f"{where}: dtype must be 'float32' or 'float64', got {dtype!r}.")
    return name


class Layer(Module):
    """Base class of the Keras-style layers (``fn.layers.Layer``, as ``keras.Layer``).

    Subclass it as in Keras: create weights in ``build(input_shape)`` with
    ``add_weight`` and compute in ``call(inputs)`` (``training=None`` may be a
    parameter of ``call``).

    Args:
        trainable: whether the weights are trained. dtype: 'float32' (default) or
            'float64'. name: the layer's name (default: the class name in snake case,
            made unique within a model as ``dense``, ``dense_1``, ...).
        input_shape: the shape of one sample: the layer builds at once, and a
            Sequential model that starts with it knows its input.

    Raises:
        TypeError: an unknown keyword argument (named).

    >>> import fastnn as fn
    >>> class Scale(fn.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
    ...     def call(self, inputs):
    ...         return inputs * self.w
    >>> layer = Scale()
    >>> layer(fn.tensor([[1.0, 2.0]])).numpy(), [w.shape for w in layer.get_weights()]
    (array([[1., 2.]], dtype=float32), [(2,)])
    """

    _call_takes_training = None     # per class: does call() have a `training` argument

    def __init__(self, *, trainable=True, dtype=None, name=None, input_shape=None,
                 input_dim=None, batch_input_shape=None, batch_size=None, generator=None,
                 autocast=True, activity_regularizer=None, **kwargs):
        super().__init__()
        cls = type(self).__name__
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {cls}: {kwargs}")
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError(f"{cls}: name must be a non-empty string, got {name!r}.")
        if activity_regularizer is not None:
            raise ValueError(f"{cls}: activity_regularizer is not supported by fastnn; use a "
                             f"kernel_regularizer or add the penalty to the loss.")
        d = self.__dict__
        d["built"] = False
        d["_version"] = 0           # bumped when a weight or sub-layer is (re)assigned
        d["_order"] = next(_CREATED)
        d["_auto_name"] = name is None
        d["name"] = name or snake_case(cls)
        d["_dtype"] = _dtype(cls, dtype)
        d["_trainable"] = bool(trainable)
        d["_generator"] = generator
        # per parameter name: {"name": given to add_weight, "axes": from storage to
        # Keras's layout or None, "fixed": not trainable, "regularizer": or None}
        d["_weight_meta"] = {}
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        d["input_shape"] = None if input_shape is None else self._sample_shape_arg(input_shape)

    def _sample_shape_arg(self, shape):
        if isinstance(shape, (int, np.integer)):
            shape = (shape,)
        try:
            return tuple(None if d is None else int(d) for d in shape)
        except (TypeError, ValueError):
            raise TypeError(f"{type(self).__name__}: input_shape must be a tuple of ints "
                            f"(one sample, without the batch), got {shape!r}.") from None

    # --- naming, dtype, trainability ---------------------------------------------------
    @property
    def dtype(self):
        """The dtype of the layer's weights and computations ('float32' by default)."""
        return self._dtype

    compute_dtype = dtype

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        for m in self.modules():
            if isinstance(m, Layer):
                m.__dict__["_trainable"] = value
                for key, p in m._parameters.items():
                    if p is not None and not m._meta(key).get("fixed"):
                        p.requires_grad = value

    def __setattr__(self, name, value):
        if isinstance(value, (Module, Parameter)) or name in self._parameters or \
                name in self._modules:
            self.__dict__["_version"] += 1
        # a weight made by add_weight, assigned to an attribute: keep one entry, named
        # after the attribute (Keras code writes `self.w = self.add_weight(...)`)
        if isinstance(value, Parameter) and name not in self._parameters:
            old = next((k for k, p in self._parameters.items() if p is value), None)
            if old is not None:
                meta = self._weight_meta.pop(old, None)
                Module.__delattr__(self, old)
                Module.__setattr__(self, name, value)
                if meta is not None:
                    self._weight_meta[name] = meta
                return
        Module.__setattr__(self, name, value)

    def _meta(self, key):
        return self._weight_meta.get(key, {})

    # --- weights -----------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   regularizer=None, constraint=None, name=None, *, _stored_axes=None):
        """Create a weight of ``shape`` (as ``keras.Layer.add_weight``) and return it.

        Args:
            shape: the weight's shape. initializer: name, class or Initializer
                (default 'glorot_uniform'). dtype: default the layer's dtype.
            trainable: trained by fit (else a fixed weight, e.g. moving statistics).
            regularizer: a penalty added to the loss (name or Regularizer).
            name: the weight's name (default 'variable', 'variable_1', ...).

        Returns:
            The new Parameter.

        >>> import fastnn as fn
        >>> layer = fn.layers.Layer()
        >>> w = layer.add_weight(shape=(2, 3), initializer="zeros", name="kernel")
        >>> w.shape, [n for n, _ in layer.named_parameters()]
        ((2, 3), ['kernel'])
        """
        where = f"{self.name}.add_weight"
        shape = _positive_shape(where, () if shape is None else shape)
        if constraint is not None:
            raise ValueError(f"{where}: weight constraints are not supported by fastnn, got "
                             f"constraint={constraint!r}.")
        init = _initializers.get("glorot_uniform" if initializer is None else initializer)
        dtype = _dtype(where, dtype or self._dtype)
        if type(init).__call__ is _initializers.Initializer.__call__:
            values = init(shape, dtype, generator=self._generator)
        else:       # a Keras-style custom initializer: init(shape, dtype=None)
            values = init(shape, dtype=dtype)
        # a user's initializer may return an array or a nested list instead of a Tensor
        data = values.data if isinstance(values, Tensor) else np.asarray(values, dtype)
        if data.shape != shape:
            raise ValueError(f"{where}: the initializer {init!r} returned shape {data.shape} "
                             f"for a weight of shape {shape}.")
        if _stored_axes is not None:
            data = data.transpose(_stored_axes)
        store = empty_aligned(data.shape, data.dtype)
        store[...] = data
        p = Parameter(store, requires_grad=bool(trainable) and self._trainable)
        key = name if isinstance(name, str) and name else "variable"
        if key in self._parameters or key in self.__dict__ or hasattr(type(self), key):
            base, k = key, 1
            while f"{base}_{k}" in self._parameters or f"{base}_{k}" in self.__dict__:
                k += 1
            key = f"{base}_{k}"
        self.register_parameter(key, p)
        self.__dict__["_version"] += 1
        self._weight_meta[key] = {
            "name": name or key, "fixed": not trainable,
            "axes": None if _stored_axes is None else
            tuple(int(a) for a in np.argsort(_stored_axes)),
            "regularizer": _regularizers.get(regularizer)}
        return p

    def _own_weights(self):
        """(parameter, axes to Keras's layout or None) of this layer alone."""
        return [(p, self._meta(k).get("axes")) for k, p in self._parameters.items()
                if p is not None]

    def _all_weights(self):
        """(parameter, axes) of this layer and every layer inside it, each once, in
        creation order (sub-layers in the order they were added)."""
        out, seen = [], set()
        for m in self.modules():
            pairs = m._own_weights() if isinstance(m, Layer) else \
                [(p, None) for p in m._parameters.values() if p is not None]
            for p, axes in pairs:
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append((p, axes))
        return out

    @property
    def weights(self):
        """Every weight, layer by layer in creation order (``get_weights``'s order)."""
        return [p for p, _ in self._all_weights()]

    @property
    def trainable_weights(self):
        return [p for p, _ in self._all_weights() if p.requires_grad]

    @property
    def non_trainable_weights(self):
        return [p for p, _ in self._all_weights() if not p.requires_grad]

    @property
    def losses(self):
        """The regularization penalties of this layer and the layers inside it, as scalar
        Tensors computed from the current weights."""
        out = []
        for m in self.modules():
            if isinstance(m, Layer):
                out.extend(meta["regularizer"](m._parameters[k])
                           for k, meta in m._weight_meta.items()
                           if meta.get("regularizer") is not None
                           and m._parameters.get(k) is not None)
        return out

    def get_weights(self):
        """Copies of the weights as ndarrays, in creation order, each in Keras's layout
        (Dense kernel (in, units); Conv2D kernel (kh, kw, in, out)).

        >>> import fastnn as fn
        >>> [w.shape for w in fn.layers.Dense(3, input_shape=(4,)).get_weights()]
        [(4, 3), (3,)]
        """
        return [p.data.transpose(axes).copy() if axes is not None
                else p.data.copy() for p, axes in self._all_weights()]

    def set_weights(self, weights):
        """Copy ``weights`` (as ``get_weights`` returns them) into the weights in place.

        Raises:
            ValueError: the wrong number of arrays, or an array of the wrong shape
                (the message names the weight and the expected shape).
        """
        pairs = self._all_weights()
        weights = list(weights)
        if len(weights) != len(pairs):
            raise ValueError(f"{self.name}.set_weights: expected {len(pairs)} arrays "
                             f"({', '.join(self._weight_labels())}), got {len(weights)}.")
        arrays = []
        for label, (p, axes), w in zip(self._weight_labels(), pairs, weights):
            w = np.asarray(w.data if isinstance(w, Tensor) else w)
            want = p.shape if axes is None else tuple(p.shape[a] for a in axes)
            if w.shape != want:
                raise ValueError(f"{self.name}.set_weights: {label} must have shape {want}"
                                 f"{self._layout_note(label)}, got {w.shape}.")
            arrays.append(w)
        for (p, axes), w in zip(pairs, arrays):
            p.data[...] = w if axes is None else w.transpose(np.argsort(axes))

    def _weight_labels(self):
        labels, seen = [], set()
        for m in self.modules():
            if not isinstance(m, Layer):
                for k, p in m._parameters.items():
                    if p is not None and id(p) not in seen:
                        seen.add(id(p))
                        labels.append(k)
                continue
            for k, p in m._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    wname = m._meta(k).get("name", k)
                    labels.append(wname if m is self else f"{m.name}/{wname}")
        return labels

    def _layout_note(self, label):
        return ""

    def count_params(self):
        """The number of scalars in every weight (trainable or not), as Keras counts."""
        return int(sum(p.data.size for p, _ in self._all_weights()))

    # --- building and calling ----------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (batch axis included)."""
        self.built = True

    def _build(self, input_shape):
        self.build(input_shape)
        self.__dict__["built"] = True

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (None for unknown sizes)."""
        raise NotImplementedError

    def _has_output_shape(self):
        return type(self).compute_output_shape is not Layer.compute_output_shape

    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not define call().")

    def forward(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        if not args:
            if "inputs" not in kwargs:
                raise TypeError(f"{self.name}: called without inputs.")
            args = (kwargs.pop("inputs"),)
        x = args[0]
        if type(x) is np.ndarray:
            x = Tensor._wrap(x)
        elif type(x) is not Tensor:
            if is_symbolic(x):
                return self._symbolic_call(args, kwargs)
            if isinstance(x, (list, tuple)):
                x = type(x)(Tensor._wrap(v) if type(v) is np.ndarray else v for v in x)
        if not self.built:
            self._build(_shape_of(x))
        cls = type(self)
        takes = cls.__dict__.get("_call_takes_training")
        if takes is None:
            takes = "training" in inspect.signature(cls.call).parameters
            cls._call_takes_training = takes
        if takes and kwargs.get("training") is None:
            kwargs["training"] = self.training
        elif not takes:
            kwargs.pop("training", None)
        return self.call(x, *args[1:], **kwargs)

    def _symbolic_call(self, args, kwargs):
        kwargs = {k: v for k, v in kwargs.items() if k != "training"}
        x = args[0]
        in_shape = map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else
                                 np.shape(t), x)
        if not self.built:
            self._build(in_shape)
        if self._has_output_shape():
            out_shape = self.compute_output_shape(in_shape)
            out = _symbolic_like(out_shape, self._output_dtype(x))
        else:
            out = self._infer_output(args, kwargs)
        node = Node(self, args, kwargs, out)
        for i, t in enumerate(node.outputs):
            t.name = self.name if len(node.outputs) == 1 else f"{self.name}_{i}"
        return out

    def _output_dtype(self, x):
        return self._dtype

    def _infer_output(self, args, kwargs):
        """Output KerasTensors of a layer without compute_output_shape: run it once on
        zeros of the input's shape (unknown sizes as 1) in eval mode, recording nothing."""
        from ..autograd import no_grad

        def dummy(t):
            if not isinstance(t, KerasTensor):
                return t
            return Tensor._wrap(np.zeros(tuple(1 if d is None else d for d in t.shape),
                                         t.dtype))
        mode = self.training
        self.train(False)
        try:
            with no_grad():
                y = self(*map_structure(dummy, args), **kwargs)
        finally:
            self.train(mode)
        return map_structure(lambda v: KerasTensor((None,) + tuple(np.shape(v))[1:],
                                                   np.asarray(getattr(v, "data", v)).dtype), y)

    # --- config ------------------------------------------------------------------------
    def get_config(self):
        """The constructor arguments that rebuild this layer (saved with the model)."""
        cfg = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        return cfg

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _shape_of(x):
    if isinstance(x, (list, tuple)):
        return [_shape_of(v) for v in x]
    if isinstance(x, dict):
        return {k: _shape_of(v) for k, v in x.items()}
    return tuple(np.shape(getattr(x, "data", x)))


def _symbolic_like(shape, dtype):
    """KerasTensors for an output shape (a tuple, or a list of tuples)."""
    if isinstance(shape, list) or (isinstance(shape, tuple) and shape
                                   and isinstance(shape[0], (tuple, list))):
        return [KerasTensor(s, dtype) for s in shape]
    return KerasTensor(shape, dtype)
