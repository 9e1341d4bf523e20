"""Ctrl-C during `import fastnn` or the first training step (submodules imported,
Numba imported and kernels compiled or loaded from the cache, all lazily) never
leaves the process broken: the interrupt arrives as KeyboardInterrupt, and the next
import and steps work."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from conftest import subprocess_env
from fastnn._interrupts import sigint_deferred

# A child that has NumPy (a Ctrl-C inside `import numpy` is NumPy's affair) waits for
# "go", then imports fastnn and runs one training step of a small CNN (conv, max-pool,
# dropout, linear, Adam: lazily imported modules, lazily compiled kernels), reports
# whether it was interrupted, and must then import, build and train three steps.
_CHILD = textwrap.dedent("""
    import signal, sys, time
    import numpy as np
    signal.signal(signal.SIGINT, signal.default_int_handler)    # even if started with SIGINT ignored
    def build():
        import fastnn as fn
        g = fn.Generator(0)
        net = fn.nn.Sequential(fn.nn.Conv2d(1, 4, 3, generator=g), fn.nn.ReLU(), fn.nn.MaxPool2d(2),
                               fn.nn.Dropout(0.25), fn.nn.Flatten(), fn.nn.Linear(36, 3, generator=g))
        return fn, net, fn.optim.Adam(net.parameters())
    x = np.random.default_rng(0).random((4, 1, 8, 8), dtype=np.float32)
    y = np.array([0, 1, 2, 0])
    def step(fn, net, opt):
        opt.zero_grad()
        loss = fn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    print("ready", flush=True)
    t0 = time.perf_counter()
    try:
        sys.stdin.readline()
        step(*build())
        print("finished", time.perf_counter() - t0, flush=True)
        time.sleep(5)                  # the signal may still be on its way
    except KeyboardInterrupt:
        print("interrupted", time.perf_counter() - t0, flush=True)
    # a signal that comes later still (a loaded machine) is not what this checks
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fn, net, opt = build()
    losses = [step(fn, net, opt) for _ in range(3)]
    assert all(np.isfinite(losses)), losses
    print("ok", "numba" in sys.modules, flush=True)
""")


def _trial(delay, env):
    child = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "ready"
        child.stdin.write("go\n")
        child.stdin.flush()
        time.sleep(delay)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return child.returncode, out, err


def _first_step_seconds(env):
    """How long importing fastnn and the first step take in a fresh process."""
    child = subprocess.Popen([sys.executable, "-c", _CHILD.replace("time.sleep(5)", "pass")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    out, err = child.communicate("go\n", timeout=120)
    assert child.returncode == 0 and "finished" in out, out + err
    return float(out.split("finished")[1].split()[0])


@pytest.mark.slow
@pytest.mark.parametrize("engine,trials", [("auto", 14), ("numba", 8)])
def test_sigint_anywhere_in_the_first_step_leaves_a_working_process(engine, trials):
    env = subprocess_env(FASTNN_ENGINE=engine)
    _first_step_seconds(env)                    # fills the on-disk kernel cache
    first = _first_step_seconds(env)
    # spread the interrupts over the import and first step, a little past its end
    delays = np.linspace(0.0, first * 1.2, trials)
    interrupted = 0
    for delay in delays:
        code, out, err = _trial(float(delay), env)
        assert code == 0 and "ok" in out, f"delay {delay:.3f} s:\n{out}\n{err}"
        interrupted += "interrupted" in out and "finished" not in out
    # many signals must land inside the step, or the test proves little
    assert interrupted >= len(delays) // 3, f"only {interrupted} of {len(delays)} steps were interrupted"


def test_sigint_deferred_delivers_the_interrupt_after_the_block():
    before = signal.signal(signal.SIGINT, signal.default_int_handler)   # as in an interactive run
    try:
        reached = []
        with pytest.raises(KeyboardInterrupt):
            with sigint_deferred():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)                    # a handler would have run by now
                reached.append("end of block")
        assert reached == ["end of block"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        with sigint_deferred():                     # nothing pending: nothing raised
            with sigint_deferred():
                pass
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with sigint_deferred():                     # an ignored SIGINT stays ignored
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


# A child fits a Keras-style model for "ever"; a SIGINT lands somewhere in an epoch
# (a batch's forward, backward, optimizer step, the epoch's bookkeeping). The
# KeyboardInterrupt reaches the caller, model.history holds the finished epochs, the
# weights are finite, and predict and a new fit work.
_FIT_CHILD = textwrap.dedent("""
    import signal, sys
    import numpy as np
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import fastnn as fn

    class Count(fn.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.n = 0
        def on_epoch_end(self, epoch, logs=None):
            self.n += 1
            if self.n == 2:
                print("two epochs", flush=True)

    rng = np.random.default_rng(0)
    x = rng.random((256, 20), dtype=np.float32)
    y = (x[:, 0] * 3).astype(np.int64)
    m = fn.models.Sequential([fn.layers.Dense(64, activation="relu", input_shape=(20,)),
                              fn.layers.Dropout(0.1), fn.layers.Dense(3, activation="softmax")])
    m.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    count = Count()
    try:
        m.fit(x, y, epochs=1_000_000, batch_size=8, verbose=0, callbacks=[count])
        sys.exit("fit finished")
    except KeyboardInterrupt:
        pass
    h = m.history
    n = len(h.history["loss"])
    assert count.n <= n <= count.n + 1 and n >= 2, (count.n, n)
    assert list(h.epoch) == list(range(n)), h.epoch
    assert all(len(v) == n and np.isfinite(v).all() for v in h.history.values()), h.history
    assert all(np.isfinite(w).all() for w in m.get_weights())
    assert np.isfinite(m.predict(x, verbose=0)).all()
    h2 = m.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert m.history is h2 and len(h2.history["loss"]) == 2 and np.isfinite(h2.history["loss"]).all()
    print("ok", n, flush=True)
""")


@pytest.mark.slow
def test_ctrl_c_during_fit_keeps_the_model_and_the_finished_epochs():
    env = subprocess_env()
    for delay in (0.0, 0.021, 0.057):
        child = subprocess.Popen([sys.executable, "-c", _FIT_CHILD], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=env,
                                 stdin=subprocess.DEVNULL)
        try:
            assert child.stdout.readline().strip() == "two epochs"
            time.sleep(delay)
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=120)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        assert child.returncode == 0 and "ok" in out, f"delay {delay}:\n{out}\n{err}"
