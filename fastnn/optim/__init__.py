"""Optimizers — ``fn.optim`` (same as torch.optim, trajectories included).

Each optimizer keeps torch's books (``param_groups``, per-parameter ``state``,
index-based ``state_dict``). Its step is one fused compiled pass per parameter (SGD,
the Adam family, Adagrad, RMSprop, Adadelta), or a composition of NumPy operations
in torch's order (NAdam, RAdam; see ``Optimizer._step_param``). ``get`` builds them
from Keras names with Keras 3's default values.
"""
import functools

from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW, Adamax
from .adaptive import Adagrad, RMSprop, Adadelta
from .nadam import NAdam
from .radam import RAdam
from . import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "Adagrad", "RMSprop", "Adadelta",
           "NAdam", "RAdam", "lr_scheduler", "get"]

# Keras 3's default values, in torch's argument names. The update math stays torch's;
# where Keras's differs: Keras Adam/AdamW/Adamax add eps to the un-bias-corrected
# sqrt(v) (an eps larger by sqrt(1 - beta2^t) in torch's form); Keras RMSprop and
# Adagrad put eps inside the square root; Keras SGD momentum keeps lr inside the
# velocity (the same numbers while lr is constant); Keras weight decay is always
# decoupled. No name maps to NAdam: Keras's Nadam is another algorithm (momentum
# schedule 0.96^t where torch's is 0.96^(0.004 t)); fn.optimizers.Nadam is Keras's.
_KERAS = {
    "sgd": (SGD, dict(lr=0.01)),
    "momentum": (SGD, dict(lr=0.01, momentum=0.9)),
    "adagrad": (Adagrad, dict(lr=0.001, initial_accumulator_value=0.1, eps=1e-7)),
    "rmsprop": (RMSprop, dict(lr=0.001, alpha=0.9, eps=1e-7)),
    "adam": (Adam, dict(lr=0.001, betas=(0.9, 0.999), eps=1e-7)),
    "adamw": (AdamW, dict(lr=0.001, betas=(0.9, 0.999), eps=1e-7, weight_decay=0.004)),
    "adamax": (Adamax, dict(lr=0.001, betas=(0.9, 0.999), eps=1e-7)),
    "adadelta": (Adadelta, dict(lr=0.001, rho=0.95, eps=1e-7)),
}
_KERAS_NAMES = {"learning_rate": "lr", "epsilon": "eps"}


def _torch_names(cls, overrides):
    kw = {_KERAS_NAMES.get(k, k): v for k, v in overrides.items()}
    if cls is RMSprop and "rho" in kw:
        kw["alpha"] = kw.pop("rho")
    if "beta_1" in kw or "beta_2" in kw:
        b1, b2 = kw.pop("betas", (0.9, 0.999))
        kw["betas"] = (kw.pop("beta_1", b1), kw.pop("beta_2", b2))
    return kw


def get(identifier, params=None, **overrides):
    """Resolve an optimizer by Keras name, class or instance, with Keras 3's defaults.

    Names (any case): 'sgd' (lr 0.01), 'momentum' (SGD, lr 0.01, momentum 0.9),
    'adagrad' (lr 1e-3, initial_accumulator_value 0.1, eps 1e-7), 'rmsprop' (lr 1e-3,
    alpha=rho 0.9, eps 1e-7), 'adam' (lr 1e-3, eps 1e-7), 'adamw' (lr 1e-3,
    weight_decay 0.004, eps 1e-7), 'adamax' (lr 1e-3, eps 1e-7), 'adadelta' (lr 1e-3,
    rho 0.95, eps 1e-7). The math is torch's (see the note in this module's source on
    where Keras's differs). Overrides take torch's names or Keras's
    (``learning_rate``, ``epsilon``, ``beta_1``, ``beta_2``, RMSprop's ``rho``).

    Args:
        identifier: a name above, an Optimizer subclass (its own defaults) or an
            Optimizer instance (returned as is).
        params: the parameters to optimize; without them a callable taking them.
        **overrides: hyper-parameters replacing the defaults.

    Returns:
        An Optimizer, or (``params=None``) a callable ``f(params) -> Optimizer``.

    Raises:
        ValueError: an unknown name (the valid ones are listed), or params/overrides
            given with an instance. TypeError: any other identifier.

    >>> import numpy as np, fastnn as fn
    >>> opt = fn.optim.get("Adam", [fn.nn.Parameter(np.zeros(3))])
    >>> type(opt).__name__, opt.defaults["eps"]
    ('Adam', 1e-07)
    """
    if isinstance(identifier, Optimizer):
        if params is not None or overrides:
            raise ValueError("optim.get: an Optimizer instance is used as is; got params or "
                             f"overrides {sorted(overrides)} with it.")
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _KERAS:
            raise ValueError(f"optim.get: unknown optimizer {identifier!r}; expected one of "
                             f"{sorted(_KERAS)}, an Optimizer subclass or instance.")
        cls, defaults = _KERAS[key]
        kw = {**defaults, **_torch_names(cls, overrides)}
    elif isinstance(identifier, type) and issubclass(identifier, Optimizer):
        cls, kw = identifier, _torch_names(identifier, overrides)
    elif isinstance(identifier, functools.partial) and isinstance(identifier.func, type) \
            and issubclass(identifier.func, Optimizer):
        # a factory that get() itself returned (no params yet)
        cls = identifier.func
        kw = {**identifier.keywords, **_torch_names(cls, overrides)}
    else:
        raise TypeError(f"optim.get: expected an optimizer name, Optimizer subclass or "
                        f"instance, got {type(identifier).__name__} {identifier!r}.")
    factory = functools.partial(cls, **kw)
    return factory if params is None else factory(params)
