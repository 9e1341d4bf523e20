"""``python -m fastnn demo``: train a Keras-style MLP on the shipped digits."""
import time

import numpy as np

__all__ = ["run_demo"]


def run_demo(epochs=30, seed=0, verbose=1, distributed=False):
    """Train on 80% of the 1,797 digits, report accuracy on the held-out 20%.
    ``distributed``: each MPI rank trains on its shard (``mpirun -n 2 python -m fastnn
    demo --distributed``), gradients averaged over the ranks; rank 0 prints.

    Returns:
        float: test accuracy.
    """
    import fastnn as fn
    fn.manual_seed(seed)
    x, y = fn.datasets.load_digits()
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    n_test = len(x) // 5
    x_train, y_train, x_test, y_test = x[n_test:], y[n_test:], x[:n_test], y[:n_test]
    callbacks = []
    if distributed:
        from . import distributed as dist
        part = dist.shard(len(x_train), epoch=0, seed=seed)
        x_train, y_train = x_train[part], y_train[part]
        callbacks = [dist.BroadcastParameters(), dist.MetricAverage()]
        verbose = verbose if dist.rank() == 0 else 0
    model = fn.models.Sequential([
        fn.layers.Flatten(input_shape=(8, 8)),
        fn.layers.Dense(128, activation="relu"),
        fn.layers.Dropout(0.1),
        fn.layers.Dense(64, activation="relu"),
        fn.layers.Dense(10, activation="softmax"),
    ])
    optimizer = "adam"
    if distributed:
        optimizer = dist.DistributedOptimizer(fn.optim.get("adam", list(model.parameters())))
    model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    if verbose:
        model.summary()
    t0 = time.perf_counter()
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1,
              verbose=2 if verbose else 0, callbacks=callbacks)
    took = time.perf_counter() - t0
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    if verbose:
        ranks = f" per rank, {dist.size()} ranks" if distributed else ""
        print(f"trained {epochs} epochs on {len(x_train)} digits{ranks} in {took:.2f}s")
        print(f"test loss {loss:.4f} - test accuracy {acc:.4f} ({n_test} held-out digits)")
    return acc
