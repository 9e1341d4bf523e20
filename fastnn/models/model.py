"""``Model``: a Layer that trains (Keras's ``keras.Model``).

``fn.models.Model(inputs, outputs)`` builds a functional model (``Functional``);
subclassing ``Model`` with layers as attributes and a ``call`` method gives a custom
model; ``fn.models.Sequential`` stacks layers. All three share the trainer
(compile/fit/evaluate/predict), ``summary``, ``get_layer``, weights and saving.
"""
import numpy as np

from ..autograd import no_grad
from ..layers.base import Layer
from ..tensor import Tensor
from . import saving
from .trainer import Trainer

__all__ = ["Model"]


def readable_size(nbytes):
    """Keras's memory size string: '164.00 B', '2.06 KB', ..."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if nbytes / 1024 < 1:
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.2f} PB"


class Model(Trainer, Layer):
    """A trainable model, as ``keras.Model``: either functional, ``Model(inputs,
    outputs)``, or a subclass that creates layers in ``__init__`` and computes in
    ``call``.

    Args:
        inputs, outputs: KerasTensors (from ``fn.Input`` and layer calls), or lists /
            dicts of them, for a functional model.
        name: the model's name. trainable: train its weights.

    >>> import fastnn as fn, numpy as np
    >>> class TwoLayer(fn.models.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = fn.layers.Dense(8, activation="relu")
    ...         self.out = fn.layers.Dense(1)
    ...     def call(self, inputs):
    ...         return self.out(self.hidden(inputs))
    >>> m = TwoLayer()
    >>> m.compile(optimizer="adam", loss="mse")
    >>> h = m.fit(np.zeros((8, 3), np.float32), np.zeros(8, np.float32), verbose=0)
    >>> [layer.name for layer in m.layers]
    ['dense', 'dense_1']
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional
            return Layer.__new__(Functional)
        return Layer.__new__(cls)

    def __init__(self, *args, trainable=True, name=None, dtype=None, **kwargs):
        if args:
            raise TypeError(f"{type(self).__name__}: unexpected positional arguments {args}; "
                            f"a functional model is fn.models.Model(inputs, outputs).")
        Layer.__init__(self, trainable=trainable, name=name, dtype=dtype, **kwargs)
        self._init_trainer()

    def __setattr__(self, name, value):
        Layer.__setattr__(self, name, value)
        if isinstance(value, Layer) and "_auto_name" in value.__dict__:
            from ..layers.base import unique_names
            unique_names(self.layers, f"{type(self).__name__} '{self.name}'")

    # --- layers ------------------------------------------------------------------------
    @property
    def layers(self):
        """The model's layers, in the order they were added."""
        return [m for m in self._modules.values() if isinstance(m, Layer)]

    def get_layer(self, name=None, index=None):
        """A layer by its (unique) name or its index in ``layers``.

        Raises:
            ValueError: both or neither given, an index out of range, or an unknown name
                (the existing names are listed).
        """
        layers = self.layers
        if index is not None and name is not None:
            raise ValueError(f"get_layer: provide only a layer name or a layer index, got "
                             f"index={index}, name={name!r}.")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or \
                    not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: was asked to retrieve the layer at index {index} "
                                 f"but the model has {len(layers)} layers.")
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"get_layer: no such layer: {name!r}. Existing layers are: "
                             f"{[layer.name for layer in layers]}.")
        raise ValueError("get_layer: provide either a layer name or a layer index.")

    def build(self, input_shape=None):
        """Build the weights for inputs of ``input_shape`` (batch axis included) by
        running zeros through the model (a subclassed model)."""
        if input_shape is None:
            raise ValueError(f"{self.name}.build: give the input shape, e.g. (None, 784).")
        shape = tuple(1 if d is None else int(d) for d in input_shape)
        mode = self.training
        self.eval()
        try:
            with no_grad():
                self.call(Tensor._wrap(np.zeros(shape, self.dtype)))
        finally:
            self.train(mode)
        self.__dict__["_build_input_shape"] = (None,) + tuple(input_shape)[1:]
        self.__dict__["built"] = True

    def _build(self, input_shape):
        Layer._build(self, input_shape)

    # --- summary -------------------------------------------------------------------------
    def _summary_rows(self):
        """(layer name (type), output shape, params, connected to) per layer."""
        rows = []
        for layer in self.layers:
            shape = getattr(layer, "_summary_shape", None)
            rows.append((f"{layer.name} ({type(layer).__name__})",
                         "?" if shape is None else str(tuple(shape)),
                         f"{layer.count_params():,}" if layer.built or layer.weights else
                         "0 (unbuilt)", None))
        return rows

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print the layers with their output shapes and weight counts, and the totals,
        as ``keras.Model.summary``.

        >>> import fastnn as fn
        >>> fn.Sequential([fn.Input((4,)), fn.layers.Dense(3)], name="m").summary()
        Model: "m"
        ┏━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━┓
        ┃ Layer (type)  ┃ Output Shape ┃ Param # ┃
        ┡━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━┩
        │ dense (Dense) │ (None, 3)    │      15 │
        └───────────────┴──────────────┴─────────┘
         Total params: 15 (60.00 B)
         Trainable params: 15 (60.00 B)
         Non-trainable params: 0 (0.00 B)
        """
        print_fn = print_fn or print
        rows = self._summary_rows()
        header = ("Layer (type)", "Output Shape", "Param #", "Connected to")
        cols = 4 if any(r[3] is not None for r in rows) else 3
        widths = [max(len(header[i]), *(len(str(r[i] or "")) for r in rows)) + 2
                  for i in range(cols)] if rows else [14, 14, 9][:cols]
        if line_length:
            widths[0] = max(widths[0], line_length - sum(widths[1:]) - cols - 1)

        def line(left, mid, right, fill="─"):
            return left + mid.join(fill * w for w in widths) + right

        def cells(values):
            out = []
            for i, (v, w) in enumerate(zip(values, widths)):
                v = "" if v is None else str(v)
                out.append(f" {v.rjust(w - 2)} " if i == 2 else f" {v.ljust(w - 2)} ")
            return "│" + "│".join(out) + "│"
        print_fn(f'Model: "{self.name}"')
        print_fn(line("┏", "┳", "┓", "━"))
        print_fn(cells(header[:cols]).replace("│", "┃"))
        print_fn(line("┡", "╇", "┩", "━"))
        for i, r in enumerate(rows):
            print_fn(cells(r[:cols]))
            if i + 1 < len(rows):
                print_fn(line("├", "┼", "┤"))
        print_fn(line("└", "┴", "┘"))
        trainable = self.trainable_weights
        fixed = self.non_trainable_weights
        n_t = sum(p.data.size for p in trainable)
        n_f = sum(p.data.size for p in fixed)
        b_t = sum(p.data.nbytes for p in trainable)
        b_f = sum(p.data.nbytes for p in fixed)
        print_fn(f" Total params: {n_t + n_f:,} ({readable_size(b_t + b_f)})")
        print_fn(f" Trainable params: {n_t:,} ({readable_size(b_t)})")
        print_fn(f" Non-trainable params: {n_f:,} ({readable_size(b_f)})")

    # --- saving ----------------------------------------------------------------------------
    def get_config(self):
        raise ValueError(f"save: {type(self).__name__} '{self.name}' is a subclassed model, "
                         f"whose call() is code that a fastnn file does not hold (loading "
                         f"never runs code); use save_weights and rebuild the model in code.")

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Write the architecture, weights and compile settings to exactly ``filepath``
        (atomically, never pickle), for ``fn.models.load_model``.

        The file is fastnn's format: a name ending in '.keras' or '.h5' is written with
        a warning, since Keras cannot read the file.

        Raises:
            ValueError: a subclassed model, a layer with a custom activation, or an
                unbuilt model. FileExistsError: overwrite=False and the file exists.
        """
        saving.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        """Write the weights alone (``get_weights``'s arrays) to exactly ``filepath``."""
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        """Load weights written by ``save_weights`` (or ``save``) into this model.

        Raises:
            ValueError: the file does not hold weights for this architecture.
        """
        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)
