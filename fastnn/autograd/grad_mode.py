"""Whether operations are recorded for backward (``fn.no_grad``)."""
import functools
import threading

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled", "inference_mode"]


class _State(threading.local):
    enabled = True


_state = _State()


def is_grad_enabled():
    return _state.enabled


class set_grad_enabled:
    """Context manager (and decorator) that turns graph recording on or off."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        self.prev = _state.enabled
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            # a fresh manager per call (re-entrant, thread-safe); subclasses such as
            # no_grad take no mode argument, so build the base class
            with set_grad_enabled(self.mode):
                return func(*args, **kwargs)
        return wrapper


class no_grad(set_grad_enabled):
    """Record nothing inside: results have ``requires_grad=False`` and inference pays
    no graph cost.

    >>> import fastnn as fn
    >>> x = fn.tensor([1.0, 2.0], requires_grad=True)
    >>> with fn.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False

    Also a decorator, with or without parentheses (``@fn.no_grad()`` / ``@fn.no_grad``).
    """

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return object.__new__(cls)
        return cls()(orig_func)   # bare @no_grad on a function

    def __init__(self, orig_func=None):
        self.mode = False     # no super() call: this runs on every inference


class enable_grad(set_grad_enabled):
    def __init__(self):
        super().__init__(True)


class inference_mode(set_grad_enabled):
    """torch's ``inference_mode(mode=True)``: in fastnn the same as ``no_grad`` (mode
    True) or ``enable_grad`` (mode False); a context manager and a decorator.

    >>> import fastnn as fn
    >>> with fn.inference_mode():
    ...     y = fn.tensor([1.0], requires_grad=True) * 2
    >>> y.requires_grad
    False
    """

    def __init__(self, mode=True):
        super().__init__(not mode)
