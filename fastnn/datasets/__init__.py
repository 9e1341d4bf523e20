"""Small datasets shipped inside the package (no download)."""
import os

import numpy as np

__all__ = ["load_digits"]

_HERE = os.path.dirname(__file__)


def load_digits():
    """The 1,797 8x8 handwritten digits (UCI ML "Optical Recognition of Handwritten
    Digits", test set; E. Alpaydin and C. Kaynak, 1998; CC BY 4.0).

    Returns:
        (x, y): x float32 of shape (1797, 8, 8) scaled to [0, 1]; y int64 labels 0-9.

    >>> x, y = load_digits()
    >>> x.shape, x.dtype, float(x.max()), y.dtype, sorted(set(y.tolist()))[:3]
    ((1797, 8, 8), dtype('float32'), 1.0, dtype('int64'), [0, 1, 2])
    """
    with np.load(os.path.join(_HERE, "digits.npz"), allow_pickle=False) as d:
        x = d["images"].astype(np.float32) / np.float32(16.0)
        y = d["target"].astype(np.int64)
    return x, y
