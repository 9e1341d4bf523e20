"""Seeded random number generation. There is no hidden global RNG: every random
consumer takes a ``generator=`` (or uses the default one, set by ``fn.manual_seed``).

A :class:`Generator` serves two kinds of consumers:

* initialisers draw from ``generator.numpy`` (a NumPy ``Generator``);
* counter-based kernels (dropout masks) take ``generator.next_key()``: a
  (seed, counter) pair that makes each call's stream distinct and reproducible,
  independent of the thread count.
"""
import os

import numpy as np

__all__ = ["Generator", "manual_seed", "default_generator", "initial_seed"]

# torch's seed of a new Generator(); the default generator instead starts from a
# seed drawn per process (as torch's does), so unseeded runs differ.
_DEFAULT_SEED = 67280421310721
_MASK64 = (1 << 64) - 1


class Generator:
    """A reproducible source of randomness.

    Args:
        seed: int (any size; reduced to 64 bits). Defaults to torch's default seed.

    >>> g = Generator(0); a = g.numpy.random(2); _ = g.manual_seed(0)
    >>> bool((g.numpy.random(2) == a).all())
    True
    """

    def __init__(self, seed=_DEFAULT_SEED):
        self.manual_seed(seed)

    def manual_seed(self, seed):
        """Reset the generator to ``seed``; returns self."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed: expected an int seed, got {type(seed).__name__} {seed!r}.")
        self._seed = int(seed) & _MASK64
        self._np = None          # made on first use: numpy.random costs ~0.1 s to import
        self._counter = 0
        return self

    def initial_seed(self):
        return self._seed

    @property
    def numpy(self):
        """The NumPy generator used for initialisation and sampling."""
        if self._np is None:
            self._np = np.random.default_rng(self._seed)
        return self._np

    def next_key(self):
        """A fresh (seed, counter) pair for a counter-based kernel; advances the counter."""
        c = self._counter
        self._counter = c + 1
        return self._seed, c

    def get_state(self):
        return {"seed": self._seed, "counter": self._counter,
                "numpy": self.numpy.bit_generator.state}

    def set_state(self, state):
        self._seed = int(state["seed"])
        self._counter = int(state["counter"])
        self._np = np.random.default_rng(self._seed)
        self._np.bit_generator.state = state["numpy"]


def _process_seed():
    """A fresh 63-bit seed from the OS (torch seeds its default generator the same way)."""
    return int.from_bytes(os.urandom(8), "little") >> 1


default_generator = Generator(_process_seed())


def manual_seed(seed):
    """Seed fastnn's default generator (initialisers, dropout, shuffling). Without it
    each process starts from its own random seed, as torch's does.

    >>> import fastnn as fn
    >>> _ = fn.manual_seed(0); a = fn.nn.Linear(2, 2).weight.numpy().copy()
    >>> _ = fn.manual_seed(0); bool((fn.nn.Linear(2, 2).weight.numpy() == a).all())
    True
    """
    return default_generator.manual_seed(seed)


def initial_seed():
    return default_generator.initial_seed()


def resolve(generator):
    """The generator to use: ``generator`` itself, a new one from an int seed, or the default."""
    if generator is None:
        return default_generator
    if isinstance(generator, Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return Generator(int(generator))
    raise TypeError(f"generator: expected None, an int seed or fastnn.random.Generator, "
                    f"got {type(generator).__name__}.")
