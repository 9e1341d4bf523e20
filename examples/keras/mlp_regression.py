"""An MLP classifier and an MLP regressor, in the style of Keras's "Training &
evaluation with the built-in methods" guide and the basic regression tutorial.

The data are the 1,797 handwritten digits that ship with fastnn (64 pixels each):
the classifier predicts the digit, the regressor its value as a number (targets of
shape (N,) against a (N, 1) output, with mae/mse metrics, as the tutorial). This is
the fastnn version: the code of mlp_regression_keras.py (Keras 3) with only the import
lines changed.

    python examples/keras/mlp_regression.py --epochs 30
"""
import argparse

import numpy as np
import fastnn as keras
from fastnn import layers

from fastnn.datasets import load_digits


def load_data():
    """(x_train, y_train), (x_test, y_test): flattened pixels and labels, 80/20."""
    x, y = load_digits()
    x = x.reshape(len(x), 64).astype("float32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    split = int(0.8 * len(x))           # 1,437 training samples
    return (x[:split], y[:split]), (x[split:], y[split:])


def classifier():
    inputs = keras.Input(shape=(64,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def regressor():
    return keras.Sequential([
        keras.Input(shape=(64,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(1),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_data()

    model = classifier()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    history = model.fit(
        x_train, y_train, batch_size=64, epochs=args.epochs, validation_split=0.1,
        callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=5,
                                                 restore_best_weights=True)],
        verbose=args.verbose,
    )
    print("History keys:", sorted(history.history))
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    print("Test accuracy:", accuracy)

    reg = regressor()
    reg.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001),
                loss="mean_absolute_error", metrics=["mae", "mse"])
    reg.fit(x_train, y_train.astype("float32"), epochs=args.epochs, validation_split=0.2,
            verbose=0)
    _, mae, mse = reg.evaluate(x_test, y_test.astype("float32"), verbose=0)
    print("Test MAE:", mae, "MSE:", mse)
    return accuracy, mae


if __name__ == "__main__":
    main()
