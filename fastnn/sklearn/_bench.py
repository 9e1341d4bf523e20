"""fastnn.sklearn's MLPs beside scikit-learn's: the same data, the same settings, the
same process, timed in alternation (so both see the same machine load).

The workloads are the datasets scikit-learn ships (digits, breast_cancer, wine,
diabetes) and a california-housing-sized synthetic regression (20,640 x 8),
standardised and split 75/25 (``random_state=0``), fitted on the training part with
the estimators' default settings for a fixed number of epochs (``tol=0``, so both run
every epoch) and scored on the test part (accuracy, or R² for the regressions).
``python -m fastnn bench --sklearn`` prints :func:`run_bench`'s table;
``asv_bench/benchmarks/sklearn_mlp.py`` times the same fits and tracks the scores.
"""
import time
import warnings

import numpy as np

__all__ = ["WORKLOADS", "load", "split", "fit", "run_bench"]

#: name -> (estimator kind, epochs timed)
WORKLOADS = {
    "digits": ("classifier", 20),
    "breast_cancer": ("classifier", 40),
    "wine": ("classifier", 100),
    "diabetes": ("regressor", 100),
    "california": ("regressor", 5),
}


def load(name):
    """(X, y) of a workload: standardised features, standardised regression targets."""
    from sklearn import datasets
    from sklearn.preprocessing import StandardScaler
    if name == "california":    # california housing's size without a download
        X, y = datasets.make_regression(n_samples=20640, n_features=8, n_informative=6,
                                        noise=20.0, random_state=0)
    else:
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    if WORKLOADS[name][0] == "regressor":
        y = (y - y.mean()) / y.std()
    return StandardScaler().fit_transform(X), y


def split(name):
    """(X_train, X_test, y_train, y_test) of a workload, 75/25, the same split every time."""
    from sklearn.model_selection import train_test_split
    X, y = load(name)
    strat = y if WORKLOADS[name][0] == "classifier" else None
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=strat)


def fit(library, name, X, y, **params):
    """Fit ``library``'s ('fastnn' or 'sklearn') estimator for workload ``name``."""
    kind, epochs = WORKLOADS[name]
    if library == "fastnn":
        from . import MLPClassifier, MLPRegressor
    else:
        from sklearn.neural_network import MLPClassifier, MLPRegressor
    cls = MLPClassifier if kind == "classifier" else MLPRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # ConvergenceWarning: the epochs are fixed
        return cls(max_iter=epochs, tol=0.0, random_state=0, **params).fit(X, y)


def run_bench(repeat=5, names=None, print_fn=print):
    """Time fastnn's and scikit-learn's fits side by side; print and return the rows.

    Each repetition runs scikit-learn, fastnn (default float32) and fastnn with
    ``dtype=None`` (scikit-learn's float64) back to back on the training split; ratios
    are per repetition, then the median (so a burst of machine load hits both sides of
    a ratio). Each fit is scored on the test split: the score columns are scikit-learn's
    and fastnn's (float32) test accuracy or R², which the fits' seeds make the same
    every repetition.

    Returns:
        list of dicts: workload, shape, epochs, median seconds per library, ratios,
        test scores.
    """
    names = list(names or WORKLOADS)
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown:
        raise ValueError(f"run_bench: unknown workload(s) {unknown}; expected names from "
                         f"{sorted(WORKLOADS)}.")
    rows = []
    print_fn(f"MLP fit, scikit-learn vs fastnn.sklearn, default settings, fixed epochs, "
             f"median of {repeat} (ratio = sklearn time / fastnn time); test score = "
             f"accuracy (R² for regressions) on a 25% split")
    print_fn(f"{'workload':<15}{'train':>10}{'epochs':>7}{'sklearn':>10}{'fastnn':>10}"
             f"{'ratio':>8}{'fastnn f64':>12}{'ratio':>8}{'score sk':>10}{'fastnn':>8}"
             f"{'diff':>8}")
    for name in names:
        X, X_test, y, y_test = split(name)
        fit("fastnn", name, X[:64], y[:64])            # warm: kernels, imports
        fit("fastnn", name, X[:64], y[:64], dtype=None)
        times = {"sklearn": [], "fastnn": [], "fastnn64": []}
        scores = {}
        for _ in range(repeat):
            for key, lib, params in (("sklearn", "sklearn", {}), ("fastnn", "fastnn", {}),
                                     ("fastnn64", "fastnn", {"dtype": None})):
                t = time.perf_counter()
                est = fit(lib, name, X, y, **params)
                times[key].append(time.perf_counter() - t)
                scores[key] = float(est.score(X_test, y_test))
        sk = np.array(times["sklearn"])
        row = {"workload": name, "shape": X.shape, "epochs": WORKLOADS[name][1],
               **{k: float(np.median(v)) for k, v in times.items()},
               "ratio": float(np.median(sk / np.array(times["fastnn"]))),
               "ratio64": float(np.median(sk / np.array(times["fastnn64"]))),
               "score_sklearn": scores["sklearn"], "score_fastnn": scores["fastnn"],
               "score_fastnn64": scores["fastnn64"]}
        rows.append(row)
        print_fn(f"{name:<15}{'%dx%d' % X.shape:>10}{row['epochs']:>7}{row['sklearn']:>9.3f}s"
                 f"{row['fastnn']:>9.3f}s{row['ratio']:>7.2f}x{row['fastnn64']:>11.3f}s"
                 f"{row['ratio64']:>7.2f}x{row['score_sklearn']:>10.4f}"
                 f"{row['score_fastnn']:>8.4f}{row['score_fastnn'] - row['score_sklearn']:>+8.4f}")
    return rows


if __name__ == "__main__":
    run_bench()
