"""Dropout (same as torch.nn.functional; ``p`` is the probability to DROP).

Each function also takes, keyword-only, ``keep_prob=`` (TensorFlow's spelling:
p = 1 - keep_prob; giving both is an error) and ``generator=`` (a
:class:`fastnn.random.Generator`, an int seed, or None for the default generator
that ``fn.manual_seed`` seeds). A call draws one ``generator.next_key()``, so
successive calls differ and a seeded run repeats exactly, whatever the thread count.
An int seed makes a fresh generator per call: the same mask every time.

In eval mode (``training=False``), with ``p=0`` or on empty input, the input itself
is returned (no copy). ``inplace=True`` writes the result into the input's buffer and
returns a tensor sharing it; use the returned tensor from then on.
"""
from .. import _checks
from ..autograd import grad_mode
from ..autograd.dropout import Dropout as _Dropout
from ..random import resolve

__all__ = ["dropout", "alpha_dropout", "dropout2d", "dropout3d", "feature_alpha_dropout"]


class _DefaultP(float):
    """The default p (0.5), told apart from an explicit p so keep_prob can be checked."""

    __slots__ = ()


P_DEFAULT = _DefaultP(0.5)


def drop_probability(p, keep_prob, where):
    """The drop probability from ``p`` or ``keep_prob`` (never both), validated."""
    if keep_prob is None:
        return _checks.probability(where, "p (the drop probability)", p)
    if p is not P_DEFAULT:
        raise ValueError(f"{where}: got both p={p!r} and keep_prob={keep_prob!r}; give one "
                         f"(p is the probability to drop, keep_prob = 1 - p).")
    return 1.0 - _checks.probability(where, "keep_prob", keep_prob)


def _float_input(x, where):
    """x as a Tensor of a float dtype (the cast to a kernel dtype waits until the
    op runs: in eval mode x itself is returned)."""
    x = _checks.tensor(where, "input", x)
    _checks.kernel_dtype(where, "input", x.data.dtype)
    return x


def _apply(x, p, training, inplace, generator, where, alpha=False, units=None):
    """Shared body: x is a float Tensor, p validated."""
    gen = resolve(generator)
    if not training or p == 0.0 or x.data.size == 0:
        return x
    out = None
    if inplace:
        if x.requires_grad and x.is_leaf and grad_mode.is_grad_enabled():
            raise RuntimeError(f"{where}: inplace=True on a leaf tensor that requires grad; "
                               f"a leaf Variable that requires grad is being used in an "
                               f"in-place operation. Use inplace=False.")
        if not x.data.flags.writeable:
            raise ValueError(f"{where}: inplace=True needs a writeable input array.")
    x, back = _checks.float_input(where, "input", x, inplace)
    if inplace and x.data.flags.c_contiguous:
        out = x.data
    y = _Dropout.apply(x, key=gen.next_key(), p=p, alpha=alpha, units=units, out=out)
    if inplace and out is None:   # strided input: computed contiguous, copied back
        x.data[...] = y.data
        y.data = x.data
    return back(y)


def dropout(x, p=P_DEFAULT, training=True, inplace=False, *, keep_prob=None, generator=None):
    """Zero each element with probability ``p``; scale survivors by 1/(1-p).

    y = x * m / (1 - p), m ~ Bernoulli(1 - p) per element; p = 1 gives zeros.

    Args:
        x: float Tensor or array. p: drop probability in [0, 1]. training: apply
        (False: return x itself). inplace: write into x's buffer.
        keep_prob: 1 - p (TensorFlow spelling). generator: Generator, int seed or None.

    Returns:
        Tensor of x's shape and dtype.

    Raises:
        ValueError: p or keep_prob outside [0, 1], or both given.
        TypeError: non-float input. RuntimeError: inplace on a leaf requiring grad.

    >>> import numpy as np, fastnn.functional as F
    >>> y = F.dropout(np.ones(1000, np.float32), p=0.5, generator=0).numpy()
    >>> sorted(set(y.tolist())), 400 < int((y == 0).sum()) < 600
    ([0.0, 2.0], True)
    >>> x = np.ones(3, np.float32); F.dropout(x, training=False).numpy() is x
    True
    """
    where = "dropout"
    p = drop_probability(p, keep_prob, where)
    return _apply(_float_input(x, where), p, training, inplace, generator, where)


def alpha_dropout(x, p=P_DEFAULT, training=False, inplace=False, *, keep_prob=None,
                  generator=None):
    """Dropout for SELU networks: keeps zero mean and unit variance.

    Dropped units are set to SELU's saturation value -alpha' (alpha' = 1.7580993...),
    then y = a * (x or -alpha') + b with a = ((1-p)(1 + p alpha'^2))^(-1/2),
    b = a alpha' p. Note ``training=False`` by default, as in torch.

    Args / Returns / Raises: as :func:`dropout`.

    >>> import numpy as np, fastnn.functional as F
    >>> x = np.random.default_rng(0).standard_normal(100000).astype(np.float32)
    >>> y = F.alpha_dropout(x, 0.2, training=True, generator=0).numpy()
    >>> bool(abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02)
    True
    """
    where = "alpha_dropout"
    p = drop_probability(p, keep_prob, where)
    return _apply(_float_input(x, where), p, training, inplace, generator, where, alpha=True)


def dropout2d(x, p=P_DEFAULT, training=True, inplace=False, *, keep_prob=None, generator=None):
    """Zero whole channels: one draw per (N, C) pair of (N, C, H, W) input.

    As torch, 3-D input is taken as (N, C, L) (channel-wise 1-D dropout).

    Args / Returns: as :func:`dropout`.

    Raises:
        ValueError: input with fewer than 3 dimensions, or a bad p / keep_prob.

    >>> import numpy as np, fastnn.functional as F
    >>> y = F.dropout2d(np.ones((2, 8, 3, 3), np.float32), generator=1).numpy()
    >>> sorted(set(np.unique(y.reshape(16, 9), axis=1).ravel().tolist()))
    [0.0, 2.0]
    """
    where = "dropout2d"
    p = drop_probability(p, keep_prob, where)
    x = _float_input(x, where)
    if x.ndim < 3:
        raise ValueError(f"{where}: expected input of shape (N, C, H, W) or (N, C, L) (3 or "
                         f"more dimensions), got shape {x.shape}. Use dropout for 2-D input.")
    return _apply(x, p, training, inplace, generator, where, units=x.shape[0] * x.shape[1])


def dropout3d(x, p=P_DEFAULT, training=True, inplace=False, *, keep_prob=None, generator=None):
    """Zero whole channels of (N, C, D, H, W) input, or of unbatched (C, D, H, W).

    Args / Returns: as :func:`dropout`.

    Raises:
        ValueError: input that is not 4-D or 5-D, or a bad p / keep_prob.

    >>> import numpy as np, fastnn.functional as F
    >>> F.dropout3d(np.ones((2, 4, 2, 2, 2), np.float32), p=1.0).numpy().max()
    np.float32(0.0)
    """
    where = "dropout3d"
    p = drop_probability(p, keep_prob, where)
    x = _float_input(x, where)
    if x.ndim not in (4, 5):
        raise ValueError(f"{where}: expected input of shape (N, C, D, H, W) or (C, D, H, W), "
                         f"got shape {x.shape} ({x.ndim} dimensions).")
    units = x.shape[0] * x.shape[1] if x.ndim == 5 else x.shape[0]
    return _apply(x, p, training, inplace, generator, where, units=units)


def feature_alpha_dropout(x, p=P_DEFAULT, training=False, inplace=False, *, keep_prob=None,
                          generator=None):
    """Alpha dropout of whole channels: one draw per (N, C) pair (see :func:`alpha_dropout`).

    Args / Returns / Raises: as :func:`alpha_dropout`; input needs 2 or more dimensions.

    >>> import numpy as np, fastnn.functional as F
    >>> y = F.feature_alpha_dropout(np.zeros((4, 3, 5), np.float32), 0.5, True, generator=2)
    >>> np.unique(y.numpy(), axis=2).shape
    (4, 3, 1)
    """
    where = "feature_alpha_dropout"
    p = drop_probability(p, keep_prob, where)
    x = _float_input(x, where)
    if x.ndim < 2:
        raise ValueError(f"{where}: expected input of shape (N, C, ...) (2 or more dimensions), "
                         f"got shape {x.shape}.")
    return _apply(x, p, training, inplace, generator, where, alpha=True,
                  units=x.shape[0] * x.shape[1])
