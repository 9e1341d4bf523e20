"""``Functional``: the model ``fn.models.Model(inputs, outputs)`` builds from a graph of
layer calls on KerasTensors, as Keras's functional API."""
import numpy as np

from ..layers.base import Layer, unique_names
from ..layers.input_layer import InputLayer
from ..layers.node import KerasTensor, flatten, map_structure
from ..tensor import Tensor
from .model import Model

__all__ = ["Functional"]


def _check_struct(where, struct, what):
    if isinstance(struct, dict):
        items = list(struct.values())
    elif isinstance(struct, (list, tuple)):
        items = flatten(list(struct))
    else:
        items = [struct]
    if not items:
        raise ValueError(f"{where}: {what} must not be empty.")
    for t in items:
        if not isinstance(t, KerasTensor):
            raise TypeError(f"{where}: {what} must be KerasTensors (from fn.Input and layer "
                            f"calls), got {type(t).__name__} {t!r}.")
    return items


class Functional(Model):
    """A model defined by its inputs and outputs (``fn.models.Model(inputs, outputs)``).

    Args:
        inputs: a KerasTensor from ``fn.Input``, or a list/dict of them.
        outputs: the KerasTensor(s) computed from the inputs: one, a list or a dict.
        name: the model's name (default 'functional').

    Raises:
        TypeError: inputs/outputs that are not KerasTensors. ValueError: an input that
            does not come from ``fn.Input``, or an output that needs an input that was
            not given ("graph disconnected").

    >>> import fastnn as fn, numpy as np
    >>> a = fn.Input((3,), name="a"); b = fn.Input((2,), name="b")
    >>> h = fn.layers.Dense(4, activation="relu")(a)
    >>> out = fn.layers.Dense(1)(fn.layers.Add()([h, fn.layers.Dense(4)(b)]))
    >>> model = fn.models.Model([a, b], out)
    >>> model.predict([np.ones((5, 3)), np.ones((5, 2))], verbose=0).shape
    (5, 1)
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Model.__init__(self, name=name or "functional", trainable=trainable, **kwargs)
        where = "Model(inputs, outputs)"
        flat_in = _check_struct(where, inputs, "inputs")
        flat_out = _check_struct(where, outputs, "outputs")
        for t in flat_in:
            node = t._history[0] if t._history else None
            if node is None or not isinstance(node.layer, InputLayer):
                raise ValueError(f"{where}: every input must be a KerasTensor made by fn.Input, "
                                 f"got {t!r} (the output of a layer); pass the fn.Input it came "
                                 f"from.")
        d = self.__dict__
        d["_inputs_struct"], d["_outputs_struct"] = inputs, outputs
        d["_flat_inputs"], d["_flat_outputs"] = flat_in, flat_out
        nodes = self._topological_nodes(where, flat_in, flat_out)
        d["_nodes"] = [n for n in nodes if not isinstance(n.layer, InputLayer)]
        layers = []
        for t in flat_in:
            layers.append(t._history[0].layer)
        for n in d["_nodes"]:
            if not any(n.layer is l for l in layers):
                layers.append(n.layer)
        for i, layer in enumerate(layers):
            self.add_module(str(i), layer)
        unique_names([l for l in layers if isinstance(l, Layer)], f"Model '{self.name}'")
        d["input_names"] = [t._history[0].layer.name for t in flat_in]
        names, seen = [], {}
        for t in flat_out:
            base = t._history[0].layer.name
            seen[base] = seen.get(base, -1) + 1
            names.append(base if not seen[base] else f"{base}_{seen[base]}")
        d["output_names"] = names
        d["_build_input_shape"] = [t.shape for t in flat_in]
        d["built"] = True

    @staticmethod
    def _topological_nodes(where, flat_in, flat_out):
        """The nodes that compute the outputs, each after the nodes it reads, otherwise in
        the order the layers were created (Keras's order of ``model.layers``)."""
        import heapq
        given = {id(t) for t in flat_in}
        needed, stack = {}, [t._history[0] for t in flat_out]
        while stack:                     # every node the outputs depend on
            node = stack.pop()
            if id(node) in needed:
                continue
            needed[id(node)] = node
            if isinstance(node.layer, InputLayer) and not any(id(t) in given
                                                              for t in node.outputs):
                raise ValueError(f"{where}: graph disconnected: the outputs need the input "
                                 f"{node.outputs[0]!r}, which is not among the model's "
                                 f"inputs {[t.name for t in flat_in]}.")
            for t in node.inputs:
                if id(t) in given:
                    continue
                if t._history is None:
                    raise ValueError(f"{where}: {t!r} has no origin; build the graph from "
                                     f"fn.Input.")
                stack.append(t._history[0])
        waiting = {k: sum(1 for t in n.inputs if id(t) not in given) for k, n in needed.items()}
        readers = {}
        for k, n in needed.items():
            for t in n.inputs:
                if id(t) not in given:
                    readers.setdefault(id(t._history[0]), []).append(k)
        order_of = {k: i for i, k in enumerate(needed)}
        ready = [(n.layer._order, order_of[k], k) for k, n in needed.items() if not waiting[k]]
        heapq.heapify(ready)
        order = []
        while ready:
            _, _, k = heapq.heappop(ready)
            order.append(needed[k])
            for r in readers.get(k, []):
                waiting[r] -= 1
                if not waiting[r]:
                    heapq.heappush(ready, (needed[r].layer._order, order_of[r], r))
        return order

    @property
    def inputs(self):
        return list(self._flat_inputs)

    @property
    def outputs(self):
        return list(self._flat_outputs)

    @property
    def layers(self):
        """The model's layers in graph order, its InputLayers first (as Keras)."""
        return [m for m in self._modules.values() if isinstance(m, Layer)]

    def _output_names(self):
        return self.output_names if len(self._flat_outputs) > 1 else None

    def _bind_inputs(self, inputs):
        """The model's inputs as a flat list matching ``_flat_inputs``."""
        n = len(self._flat_inputs)
        where = f"Model '{self.name}'"
        if isinstance(inputs, dict):
            missing = [k for k in self.input_names if k not in inputs]
            if missing:
                raise ValueError(f"{where}: the input dict lacks {missing}; the model's inputs "
                                 f"are {self.input_names}.")
            flat = [inputs[k] for k in self.input_names]
        elif n > 1:
            if not isinstance(inputs, (list, tuple)):
                raise ValueError(f"{where}: expected a list of {n} inputs {self.input_names} "
                                 f"(or a dict by name), got {type(inputs).__name__}.")
            flat = list(inputs)
        elif isinstance(inputs, (list, tuple)) and len(inputs) == 1 and \
                isinstance(inputs[0], (np.ndarray, Tensor)):
            flat = [inputs[0]]
        else:
            flat = [inputs]
        if len(flat) != n:
            raise ValueError(f"{where}: expected {n} inputs {self.input_names}, got {len(flat)}.")
        out = []
        for t, v, name in zip(self._flat_inputs, flat, self.input_names):
            if not isinstance(v, Tensor):
                v = Tensor._wrap(np.asarray(v))
            shape = v.shape
            if len(shape) != len(t.shape) or any(a is not None and a != b
                                                 for a, b in zip(t.shape[1:], shape[1:])):
                raise ValueError(f"{where}: input {name!r} expects shape {t.shape}, got "
                                 f"{tuple(shape)}.")
            out.append(v)
        return out

    def call(self, inputs, training=None):
        values = {id(t): v for t, v in zip(self._flat_inputs, self._bind_inputs(inputs))}
        for node in self._nodes:
            out = node.run(values)
            for t, v in zip(node.outputs, flatten(out) if isinstance(out, (list, tuple, dict))
                            else [out]):
                values[id(t)] = v
        return map_structure(lambda t: values[id(t)], self._outputs_struct)

    def _inputs(self, x):
        """Cast data to each Input's dtype (float inputs: integer, bool and float64 data
        become float32, as Keras)."""
        dtypes = [np.dtype(t.dtype) for t in self._flat_inputs]

        def cast(a, dt):
            a = a.data if isinstance(a, Tensor) else np.asarray(a)
            if a.dtype != dt and (dt.kind == "f" or a.dtype.kind == "f"):
                return a.astype(dt)
            return a
        if isinstance(x, dict):
            return {k: cast(v, dtypes[self.input_names.index(k)]) if k in self.input_names
                    else v for k, v in x.items()}
        if isinstance(x, (list, tuple)) and len(self._flat_inputs) > 1:
            return [cast(v, dt) for v, dt in zip(x, dtypes)]
        if isinstance(x, (list, tuple)) and len(x) == 1:
            return [cast(x[0], dtypes[0])]
        return cast(x, dtypes[0])

    def compute_output_shape(self, input_shape):
        return map_structure(lambda t: t.shape, self._outputs_struct)

    def _output_dtype(self, x):
        return self._flat_outputs[0].dtype

    def _summary_rows(self):
        rows = []
        for layer in self.layers:
            nodes = [n for n in self._nodes if n.layer is layer]
            if isinstance(layer, InputLayer):
                shape, connected = layer.output.shape, "-"
            else:
                outs = nodes[0].outputs if nodes else []
                shape = outs[0].shape if len(outs) == 1 else [t.shape for t in outs]
                connected = ", ".join(f"{t._history[0].layer.name}[0][{t._history[1]}]"
                                      for n in nodes for t in n.inputs)
            rows.append((f"{layer.name} ({type(layer).__name__})", str(shape),
                         f"{layer.count_params():,}", connected))
        return rows

    def get_config(self):
        from .saving import layer_config
        layers = self.layers
        index = {id(l): i for i, l in enumerate(layers)}
        nodes = [t._history[0] for t in self._flat_inputs] + self._nodes
        node_index = {id(n): i for i, n in enumerate(nodes)}

        def ref(t):
            if isinstance(t, KerasTensor):
                node, i = t._history
                return {"node": node_index[id(node)], "index": i}
            return t
        return {"name": self.name, "trainable": self.trainable,
                "layers": [layer_config(l) for l in layers],
                "nodes": [{"layer": index[id(n.layer)],
                           "args": map_structure(ref, list(n.args)),
                           "kwargs": n.kwargs} for n in nodes],
                "inputs": map_structure(ref, self._inputs_struct),
                "outputs": map_structure(ref, self._outputs_struct)}

    @classmethod
    def from_config(cls, config, where="load_model"):
        from .saving import layer_from_config
        layers = [layer_from_config(spec, where) for spec in config["layers"]]
        made = []       # per node: its output structure

        def deref(r):
            if isinstance(r, dict) and set(r) == {"node", "index"}:
                out = made[r["node"]]
                return flatten(out)[r["index"]] if isinstance(out, (list, tuple, dict)) \
                    else out
            return r

        def deref_struct(s):
            if isinstance(s, dict) and set(s) == {"node", "index"}:
                return deref(s)
            if isinstance(s, list):
                return [deref_struct(v) for v in s]
            if isinstance(s, tuple):
                return tuple(deref_struct(v) for v in s)
            if isinstance(s, dict):
                return {k: deref_struct(v) for k, v in s.items()}
            return s
        for spec in config["nodes"]:
            layer = layers[spec["layer"]]
            if isinstance(layer, InputLayer):
                made.append(layer.output)
                continue
            args = deref_struct(spec["args"])
            made.append(layer(*args, **spec.get("kwargs", {})))
        return cls(deref_struct(config["inputs"]), deref_struct(config["outputs"]),
                   name=config["name"], trainable=config.get("trainable", True))
