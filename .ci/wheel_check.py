"""Check an installed fastnn wheel on the CPU this runs on (CI runs it under qemu-user).

Usage: python wheel_check.py EXPECTED_ISA SITE_DIR

Fails (non-zero exit) unless fastnn was imported from SITE_DIR, every C kernel family
loaded from the EXPECTED_ISA build with no fallback to the twins, the kernels' results
match NumPy, and any OpenMP runtime in the process is the wheel's own copy.
"""
import os
import sys

import numpy as np

want_isa, site = sys.argv[1], os.path.realpath(sys.argv[2])
os.environ["FASTNN_ENGINE"] = "c"          # a missing or unloadable C build is an error

import fastnn as fn                           # noqa: E402
import fastnn.functional as F                 # noqa: E402
from fastnn._kernels import engine            # noqa: E402

pkg = os.path.realpath(os.path.dirname(fn.__file__))
assert pkg.startswith(site + os.sep), f"fastnn imported from {pkg}, not from {site}"

x = np.linspace(-5, 5, 100003, dtype=np.float32)
for name, ref in (("tanh", np.tanh), ("sigmoid", lambda v: 1 / (1 + np.exp(-v))),
                  ("gelu", None)):
    got = getattr(F, name)(x).numpy()
    if ref is not None:
        np.testing.assert_allclose(got, ref(x), rtol=2e-6, atol=1e-7, err_msg=name)
    assert np.isfinite(got).all(), name
np.testing.assert_allclose(F.mse_loss(x, 0 * x).item(), np.mean(x.astype(np.float64) ** 2),
                           rtol=1e-5)
rng = np.random.default_rng(0)
logits = rng.standard_normal((64, 10)).astype(np.float32)
t = fn.tensor(logits, requires_grad=True)
loss = F.cross_entropy(t, np.arange(64) % 10)
loss.backward()
z = logits.astype(np.float64)
lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
np.testing.assert_allclose(loss.item(), np.mean(lse - z[np.arange(64), np.arange(64) % 10]),
                           rtol=1e-5)
w = fn.tensor(np.ones((4, 3, 3, 3), np.float32), requires_grad=True)
out = F.conv2d(np.ones((2, 3, 8, 8), np.float32), w, padding=1)
assert float(out.numpy()[0, 0, 4, 4]) == 27.0 and float(out.numpy()[0, 0, 0, 0]) == 12.0
out.sum().backward()
model = fn.nn.Sequential(fn.nn.Linear(8, 16), fn.nn.ReLU(), fn.nn.Linear(16, 3))
with fn.no_grad():
    assert model(rng.standard_normal((5, 8)).astype(np.float32)).shape == (5, 3)
# the optimizer, dropout and pooling families: one Adam step, dropout, both pools
opt = fn.optim.Adam(model.parameters(), lr=0.1)
before = [p.data.copy() for p in model.parameters()]
model(rng.standard_normal((5, 8)).astype(np.float32)).sum().backward()
opt.step()
assert all(np.isfinite(p.data).all() and not np.array_equal(p.data, b)
           for p, b in zip(model.parameters(), before)), "Adam step"
kept = F.dropout(np.ones(10000, np.float32), 0.5, training=True).numpy()
assert set(np.unique(kept)) <= {0.0, 2.0} and 0.4 < (kept > 0).mean() < 0.6, "dropout"
img = np.arange(2 * 3 * 8 * 8, dtype=np.float32).reshape(2, 3, 8, 8)
np.testing.assert_array_equal(F.max_pool2d(img, 2).numpy(), img[:, :, 1::2, 1::2])
np.testing.assert_allclose(F.avg_pool2d(img, 2).numpy(),
                           img.reshape(2, 3, 4, 2, 4, 2).mean((3, 5)), rtol=1e-6)

loaded, failed = sorted(engine.loaded()), engine.failed()
assert loaded and not failed, f"C families {loaded}, fallbacks {failed}"
assert engine.isa() == want_isa, f"picked the {engine.isa()} build, expected {want_isa}"
with open("/proc/self/maps") as f:
    omp = sorted({ln.split()[-1] for ln in f if "libgomp" in ln or "libomp" in ln})
assert all(os.path.realpath(p).startswith(site + os.sep) for p in omp), \
    f"OpenMP runtime from outside the wheel: {omp}"
print(f"ok: {engine.isa()} build, families {loaded}, OpenMP runtime {omp or 'none linked'}")
