"""scikit-learn estimators on fastnn (the optional extra ``fastnn[sklearn]``).

* :class:`MLPClassifier`, :class:`MLPRegressor`: drop-in replacements for
  ``sklearn.neural_network``'s, with the same parameters, attributes and results,
  trained faster on fastnn's kernels.
* :class:`NeuralNetClassifier`, :class:`NeuralNetRegressor`: any fastnn module as a
  scikit-learn estimator (as skorch does for torch).

All of them work in ``Pipeline``, ``clone``, ``GridSearchCV`` (process workers
included) and pickle; ``fit`` also takes an iterable of ``(x, y)`` batches.
"""
try:
    import sklearn  # noqa: F401
except ImportError as e:   # pragma: no cover - exercised without the extra installed
    raise ImportError("fastnn.sklearn needs scikit-learn: pip install 'fastnn[sklearn]'") from e

from ._mlp import MLPClassifier, MLPRegressor
from ._neuralnet import NeuralNetClassifier, NeuralNetRegressor, mlp

__all__ = ["MLPClassifier", "MLPRegressor", "NeuralNetClassifier", "NeuralNetRegressor", "mlp"]
