"""Keras-style activation names → fastnn functional activations (one registry).

>>> import fastnn as fn
>>> fn.activations.get("relu")(fn.tensor([-1.0, 2.0])).numpy()
array([0., 2.], dtype=float32)
"""
import functools

__all__ = ["get", "serialize", "NAMES"]


@functools.lru_cache(maxsize=None)
def _table():
    # built once: serialize() recognises a function by identity, so get() must hand
    # out the same objects (the softmax partials included) every time
    from . import functional as F
    return {
        "linear": None,
        "relu": F.relu,
        "relu6": F.relu6,
        "leaky_relu": F.leaky_relu,
        "elu": F.elu,
        "selu": F.selu,
        "celu": F.celu,
        "gelu": F.gelu,
        "silu": F.silu,
        "swish": F.silu,
        "softplus": F.softplus,
        "softsign": F.softsign,
        "sigmoid": F.sigmoid,
        "tanh": F.tanh,
        "hard_tanh": F.hardtanh,
        "softmax": functools.partial(F.softmax, dim=-1),
        "log_softmax": functools.partial(F.log_softmax, dim=-1),
    }


NAMES = ("linear", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu",
         "swish", "softplus", "softsign", "sigmoid", "tanh", "hard_tanh", "softmax",
         "log_softmax")


def get(identifier):
    """Resolve None, a name (any case) or a callable to a function (None means identity).

    Raises:
        ValueError: unknown name, listing the valid ones.
    """
    if identifier is None or callable(identifier):
        return identifier
    if isinstance(identifier, str):
        table = _table()
        key = identifier.lower()
        if key not in table:
            raise ValueError(f"activation: unknown activation '{identifier}'; valid names are "
                             f"{sorted(table)}.")
        return table[key]
    raise TypeError(f"activation: expected a name or a callable, got {type(identifier).__name__}.")


def serialize(identifier):
    """The name to store in a saved model (callables that are not registered can't be saved).

    >>> serialize(get("softmax")), serialize(None)
    ('softmax', 'linear')
    """
    if identifier is None:
        return "linear"
    if isinstance(identifier, str):
        get(identifier)
        return identifier.lower()
    for name, f in _table().items():
        if f is identifier:
            return name
    raise ValueError(f"activation: cannot save the custom callable {identifier!r}; "
                     f"use one of {sorted(_table())}.")
