"""Keras-style utilities (``fn.utils``)."""
import numpy as np

__all__ = ["to_categorical", "set_random_seed"]


def _pos(flat, shape):
    return str([int(i) for i in np.unravel_index(flat, shape)]) if shape else "[]"


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode class indices (as Keras): row i is eye(num_classes)[y[i]].

    A trailing axis of size 1 is dropped first, so (N, 1) labels give (N, C).

    Args:
        y: class indices (ints, or whole-number floats), any shape.
        num_classes: number of classes; max(y) + 1 when None.
        dtype: output dtype (float32 by default).

    Returns:
        ndarray of shape y.shape + (num_classes,).

    Raises:
        ValueError: a negative, non-integral or too large label (names its position),
            or num_classes < 1.

    >>> import fastnn as fn
    >>> fn.utils.to_categorical([0, 2], 3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    y = np.asarray(y.data if hasattr(y, "data") and not isinstance(y, np.ndarray) else y)
    if y.dtype.kind not in "iubf":
        raise TypeError(f"to_categorical: expected integer class labels, got dtype {y.dtype}.")
    shape = y.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = y.reshape(-1)
    if y.dtype.kind == "f":
        frac = np.flatnonzero(flat != np.floor(flat))
        if frac.size:
            i = int(frac[0])
            raise ValueError(f"to_categorical: labels must be whole numbers, got y{_pos(i, y.shape)}"
                             f" = {float(flat[i])!r}.")
    flat = flat.astype(np.int64)
    if num_classes is None:
        num_classes = max(int(flat.max()) + 1, 1) if flat.size else 0
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"to_categorical: num_classes must be a positive int, got {num_classes!r}.")
    bad = np.flatnonzero((flat < 0) | (flat >= num_classes))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"to_categorical: label y{_pos(i, y.shape)} = {int(flat[i])} "
                         f"is out of range for num_classes={num_classes}; expected labels in "
                         f"[0, {num_classes - 1}].")
    out = np.zeros((flat.size, num_classes), dtype=dtype)
    out[np.arange(flat.size), flat] = 1
    return out.reshape(shape + (num_classes,))


def set_random_seed(seed):
    """Seed fastnn's default generator (weights, dropout, shuffling), as
    ``keras.utils.set_random_seed`` does for Keras; the same as ``fn.manual_seed``.

    >>> import fastnn as fn
    >>> fn.utils.set_random_seed(3); a = fn.layers.Dense(2, input_shape=(2,)).get_weights()[0]
    >>> fn.utils.set_random_seed(3); bool((fn.layers.Dense(2, input_shape=(2,)).get_weights()[0] == a).all())
    True
    """
    from .random import manual_seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"set_random_seed: expected an int seed, got {type(seed).__name__} "
                        f"{seed!r}.")
    manual_seed(int(seed))
