"""A simple MNIST convnet, in the style of keras-io's examples/vision/mnist_convnet.py.

The data are the 1,797 handwritten digits that ship with fastnn (8x8 images, already
in [0, 1]), upsampled to MNIST's 28x28, so the network is the original's unchanged.
This is the fastnn version: the code of mnist_convnet_keras.py (Keras 3) with only the
import lines changed.

    python examples/keras/mnist_convnet.py --epochs 15
"""
import argparse

import numpy as np
import fastnn as keras
from fastnn import layers

from fastnn.datasets import load_digits


def load_data(num_classes=10):
    """(x_train, y_train), (x_test, y_test): 28x28x1 images, one-hot labels, 80/20."""
    x, y = load_digits()
    x = np.kron(x, np.ones((3, 3), np.float32))               # 8x8 -> 24x24
    x = np.pad(x, ((0, 0), (2, 2), (2, 2)))                    # -> 28x28, as MNIST
    x = np.expand_dims(x, -1).astype("float32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    split = int(0.8 * len(x))
    y = keras.utils.to_categorical(y, num_classes)
    return (x[:split], y[:split]), (x[split:], y[split:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--verbose", type=int, default=1)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(args.seed)

    num_classes = 10
    input_shape = (28, 28, 1)
    (x_train, y_train), (x_test, y_test) = load_data(num_classes)
    print("x_train shape:", x_train.shape)
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.summary()

    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              validation_split=0.1, verbose=args.verbose)

    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    return score[1]


if __name__ == "__main__":
    main()
