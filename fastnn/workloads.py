"""Reference workloads shared by the benchmarks (asv_bench/benchmarks/mlp.py) and the tests.

The headline: one epoch of an MLP on 60,000 synthetic 784-feature samples, written
once in fastnn's torch-style API and once in torch, line for line the same, and for
the anchors once in JAX + optax (a jit'd training step) and once as an ONNX Runtime
inference session of the torch model. Also: batch-32 ``predict`` over many rows
(fastnn's Keras-style model against the same torch loop). And the CNN epoch: 10,000
of the shipped digits scaled to 28x28, Conv 1->16 3x3, ReLU, MaxPool 2, Conv 16->32 3x3,
ReLU, MaxPool 2, Flatten, Dropout 0.25, Linear 1568->10, Adam, batch 64.
"""
import numpy as np

__all__ = ["make_teacher_data", "mlp_fastnn", "train_epoch_fastnn", "mlp_torch",
           "train_epoch_torch", "accuracy_fastnn", "accuracy_torch", "mlp_jax", "train_epoch_jax",
           "onnx_session", "predict_model_fastnn", "predict_fastnn", "predict_torch",
           "make_digits28", "cnn_fastnn", "cnn_torch", "train_epoch_cnn_fastnn",
           "train_epoch_cnn_torch"]

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


# --------------------------------------------------------------------------- JAX + optax

def mlp_jax(features=N_FEATURES, classes=N_CLASSES, seed=0, lr=1e-3, p_drop=0.2):
    """(params, opt_state, step): the same MLP in JAX, Adam from optax, and a jit'd
    training step ``step(params, opt_state, key, xb, yb) -> (params, opt_state, loss)``
    (dropout 0.2 after the first ReLU, mean cross-entropy, torch's default init)."""
    import jax
    import jax.numpy as jnp
    import optax
    sizes = [features, 256, 128, classes]
    keys = jax.random.split(jax.random.PRNGKey(seed), 2 * (len(sizes) - 1))
    params = []
    for i, (fi, fo) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1.0 / np.sqrt(fi)
        params.append((jax.random.uniform(keys[2 * i], (fi, fo), jnp.float32, -bound, bound),
                       jax.random.uniform(keys[2 * i + 1], (fo,), jnp.float32, -bound, bound)))
    opt = optax.adam(lr)

    def loss_fn(params, key, xb, yb):
        (w1, b1), (w2, b2), (w3, b3) = params
        h = jax.nn.relu(xb @ w1 + b1)
        keep = jax.random.bernoulli(key, 1.0 - p_drop, h.shape)
        h = jnp.where(keep, h / (1.0 - p_drop), 0.0)
        h = jax.nn.relu(h @ w2 + b2)
        logits = h @ w3 + b3
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    @jax.jit
    def step(params, opt_state, key, xb, yb):
        loss, grads = jax.value_and_grad(loss_fn)(params, key, xb, yb)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return params, opt.init(params), step


def train_epoch_jax(state, x, y, batch_size=128, seed=0):
    """One epoch in order with the jit'd step; ``state`` is mlp_jax()'s triple, updated
    in place (a list) or returned. Returns (state, last loss)."""
    import jax
    params, opt_state, step = state
    key = jax.random.PRNGKey(seed)
    loss = None
    for i in range(0, len(x), batch_size):
        key, sub = jax.random.split(key)
        params, opt_state, loss = step(params, opt_state, sub, x[i:i + batch_size], y[i:i + batch_size])
    return (params, opt_state, step), float(loss)


# --------------------------------------------------------------------------- ONNX Runtime

def onnx_session(torch_model, features=N_FEATURES, threads=None, spinning=True):
    """An ONNX Runtime session of ``torch_model`` (exported with a dynamic batch axis),
    on ``threads`` intra-op threads. ``spinning=False`` stops its idle threads from
    spinning between runs: they would keep the cores busy while another engine in the
    same process is being timed (a batch of 4096 through fastnn took 1.4x as long)."""
    import io
    import onnxruntime as ort
    import torch
    buf = io.BytesIO()
    torch_model.eval()
    torch.onnx.export(torch_model, torch.zeros(1, features), buf, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                      dynamo=False)
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    if not spinning:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])


# --------------------------------------------------------------------------- batch-32 predict

def predict_model_fastnn(features=N_FEATURES, classes=N_CLASSES, seed=0):
    """The inference MLP (784-256-128-10, ReLU) as fastnn's Keras-style model."""
    import fastnn as fn
    fn.manual_seed(seed)
    L = fn.layers
    return fn.models.Sequential([L.Dense(256, activation="relu", input_shape=(features,)),
                                 L.Dense(128, activation="relu"), L.Dense(classes)])


def predict_fastnn(model, x, batch_size=32):
    """``model.predict(x, batch_size)``: what a Keras user runs."""
    return model.predict(x, batch_size=batch_size)


def predict_torch(model, x, batch_size=32):
    """The same batch loop in torch (eval, no_grad), outputs concatenated."""
    import torch
    model.eval()
    xt = torch.from_numpy(x)
    outs = []
    with torch.no_grad():
        for i in range(0, len(xt), batch_size):
            outs.append(model(xt[i:i + batch_size]).numpy())
    return np.concatenate(outs)


# --------------------------------------------------------------------------- CNN epoch

N_CNN = 10_000


def _upsample(images, size):
    """Bilinear resize of (N, h, w) images to (N, size, size)."""
    def weights(n):
        src = np.clip((np.arange(size) + 0.5) * n / size - 0.5, 0, n - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        a = np.zeros((size, n))
        a[np.arange(size), lo] += 1 - (src - lo)
        a[np.arange(size), hi] += src - lo
        return a
    ah, aw = weights(images.shape[1]), weights(images.shape[2])
    return np.einsum("ih,nhw,jw->nij", ah, images, aw).astype(np.float32)


def make_digits28(n=N_CNN, seed=0):
    """((x, y), (x_test, y_test)): the shipped digits scaled to 28x28 and normalised as
    MNIST, (N, 1, 28, 28) float32 and int64 labels. The 80% training split is repeated
    with random shifts of up to 2 pixels to ``n`` images; the test split is the other
    20%, unshifted.

    >>> (x, y), (xt, yt) = make_digits28(100)
    >>> x.shape, x.dtype, y.dtype, xt.shape
    ((100, 1, 28, 28), dtype('float32'), dtype('int64'), (360, 1, 28, 28))
    """
    from .datasets import load_digits
    x, y = load_digits()
    x = (_upsample(np.asarray(x, np.float64), 28) - 0.1307) / 0.3081
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    x, y = x[order], np.asarray(y)[order].astype(np.int64)
    cut = int(0.8 * len(x))
    xtr, ytr, xte, yte = x[:cut], y[:cut], x[cut:], y[cut:]
    pick = np.arange(n) % cut
    pick[cut:] = rng.integers(0, cut, n - cut) if n > cut else pick[cut:]
    out = np.empty((n, 28, 28), np.float32)
    bg = np.float32((0 - 0.1307) / 0.3081)
    shifts = rng.integers(-2, 3, (n, 2))
    shifts[:min(n, cut)] = 0
    for i, (j, (dy, dx)) in enumerate(zip(pick, shifts)):
        out[i] = np.roll(xtr[j], (dy, dx), axis=(0, 1))
        if dy > 0:
            out[i, :dy] = bg
        elif dy < 0:
            out[i, dy:] = bg
        if dx > 0:
            out[i, :, :dx] = bg
        elif dx < 0:
            out[i, :, dx:] = bg
    return (out[:, None], ytr[pick]), (xte[:, None].astype(np.float32), yte)


def cnn_fastnn(seed=0):
    import fastnn as fn
    fn.manual_seed(seed)
    nn = fn.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(1568, 10))


def cnn_torch(seed=0):
    import torch
    from torch import nn
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(1568, 10))


def train_epoch_cnn_fastnn(model, opt, x, y, batch_size=64):
    """One CNN epoch in order (the MLP's loop at batch 64)."""
    return train_epoch_fastnn(model, opt, x, y, batch_size)


def train_epoch_cnn_torch(model, opt, x, y, batch_size=64):
    return train_epoch_torch(model, opt, x, y, batch_size)
