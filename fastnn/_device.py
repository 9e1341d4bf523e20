"""Devices: fastnn runs on the CPU, so ``fn.device('cpu')`` is the only device, and any
other (``'cuda'``, ``'mps'``, ...) raises at once instead of being silently ignored.

``fn.cuda.is_available()`` answers False, so the usual torch idiom
``fn.device("cuda" if fn.cuda.is_available() else "cpu")`` picks the CPU.
"""
__all__ = ["device", "check_device", "cuda"]


class device:
    """The device a tensor lives on; only ``'cpu'`` (optionally ``'cpu:0'``) exists.

    Args:
        type: 'cpu', 'cpu:0', or another ``fn.device``. index: None or 0.

    Raises:
        ValueError: any other device, naming it.

    >>> import fastnn as fn
    >>> fn.device("cpu"), fn.device("cpu") == "cpu"
    (device(type='cpu'), True)
    """

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got {type.__class__.__name__} "
                            f"{type!r}.")
        name, _, idx = type.partition(":")
        if name != "cpu":
            raise ValueError(f"device: fastnn runs on the CPU only; got device {type!r}. Use "
                             f"'cpu' (fn.cuda.is_available() is False).")
        if idx:
            if not idx.isdigit():
                raise ValueError(f"device: invalid device string {type!r}.")
            index = int(idx)
        if index not in (None, 0):
            raise ValueError(f"device: the CPU has index 0 only, got {type!r} index {index!r}.")
        object.__setattr__(self, "type", "cpu")
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError("device is immutable")

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (TypeError, ValueError):
                return False
        return isinstance(other, device) and other.type == self.type

    def __hash__(self):
        return hash(self.type)

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


def check_device(dev, where):
    """None, 'cpu' or a cpu ``device`` pass; any other device raises ValueError naming ``where``."""
    if dev is None or dev == "cpu" or isinstance(dev, device):
        return
    try:
        device(dev)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{where}: {e}") from None


class _Cuda:
    """``fn.cuda``: what torch.cuda answers on a machine without a GPU."""

    @staticmethod
    def is_available():
        """False: fastnn has no GPU backend.

        >>> import fastnn as fn
        >>> fn.cuda.is_available()
        False
        """
        return False

    @staticmethod
    def device_count():
        return 0

    @staticmethod
    def manual_seed(seed):
        """Nothing to seed (no GPU); accepted so torch scripts run unchanged."""

    @staticmethod
    def manual_seed_all(seed):
        """Nothing to seed (no GPU); accepted so torch scripts run unchanged."""


cuda = _Cuda()
