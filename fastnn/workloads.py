"""Reference workloads shared by the benchmarks (asv_bench/benchmarks/mlp.py) and the tests.

The headline: one epoch of an MLP on 60,000 synthetic 784-feature samples, written
once in fastnn's torch-style API and once in torch, line for line the same.
"""
import numpy as np

__all__ = ["make_teacher_data", "mlp_fastnn", "train_epoch_fastnn", "mlp_torch",
           "train_epoch_torch", "accuracy_fastnn", "accuracy_torch"]

N_SAMPLES, N_FEATURES, N_CLASSES = 60_000, 784, 10


def make_teacher_data(n=N_SAMPLES, features=N_FEATURES, classes=N_CLASSES, seed=0):
    """Seeded float32 features and int64 labels from a fixed random linear teacher.

    >>> x, y = make_teacher_data(100, 8, 3)
    >>> x.shape, x.dtype, y.shape, y.dtype
    ((100, 8), dtype('float32'), (100,), dtype('int64'))
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features), dtype=np.float32)
    teacher = rng.standard_normal((features, classes)).astype(np.float32)
    y = np.argmax(x @ teacher, axis=1).astype(np.int64)
    return x, y


def mlp_fastnn(features=N_FEATURES, classes=N_CLASSES, seed=0):
    import fastnn as fn
    fn.manual_seed(seed)
    nn = fn.nn
    return nn.Sequential(
        nn.Linear(features, 256), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, classes))


def train_epoch_fastnn(model, opt, x, y, batch_size=128):
    """One epoch in order (no shuffle, so both engines see the same batches)."""
    import fastnn.functional as F
    model.train()
    for i in range(0, len(x), batch_size):
        xb, yb = x[i:i + batch_size], y[i:i + batch_size]
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
    return loss.item()


def accuracy_fastnn(model, x, y, batch_size=4096):
    import fastnn as fn
    model.eval()
    correct = 0
    with fn.no_grad():
        for i in range(0, len(x), batch_size):
            correct += int((model(x[i:i + batch_size]).numpy().argmax(1) == y[i:i + batch_size]).sum())
    return correct / len(x)


def mlp_torch(features=N_FEATURES, classes=N_CLASSES, seed=0):
    import torch
    from torch import nn
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(features, 256), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, classes))


def train_epoch_torch(model, opt, x, y, batch_size=128):
    import torch
    import torch.nn.functional as F
    model.train()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for i in range(0, len(xt), batch_size):
        xb, yb = xt[i:i + batch_size], yt[i:i + batch_size]
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
    return loss.item()


def accuracy_torch(model, x, y, batch_size=4096):
    import torch
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            out = model(torch.from_numpy(x[i:i + batch_size]))
            correct += int((out.numpy().argmax(1) == y[i:i + batch_size]).sum())
    return correct / len(x)
