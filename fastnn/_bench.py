"""Speed the way users run it: each engine in its own process, torch imported first,
fastnn imported first, and beside a second process that keeps one core busy.

Each measurement runs in a fresh child interpreter (``python -m fastnn._bench``)
that imports the engines in the order asked, warms each workload up, then times
the engines' runs interleaved, so they share whatever load the machine has. The
asv benchmarks (asv_bench/benchmarks/scenarios.py) and ``python -m fastnn bench``
both read these numbers.

Workloads (fastnn.workloads): ``mlp_epoch`` (60k x 784 MLP epoch: fastnn, torch,
torch with fused Adam, JAX + optax jit'd step), ``cnn_epoch`` (10k digits at 28x28
through a two-conv network: fastnn, torch) and ``predict32`` (batch-32 predict over
100k rows: fastnn's Keras-style model, the same torch loop). :func:`gemm_floor` sets
an epoch beside the GEMMs it contains, run alone.

>>> sorted(SCENARIOS)
['alone', 'busy_core', 'fastnn_first', 'torch_first']
"""
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

__all__ = ["SCENARIOS", "ENGINES", "run_scenario", "run_workloads", "busy_core", "available",
           "gemm_floor", "MlpKernelSteps"]

#: engines each workload can run, with the module each one imports
ENGINES = {
    "mlp_epoch": {"fastnn": "fastnn", "torch": "torch", "torch_fused": "torch", "jax": "jax"},
    "cnn_epoch": {"fastnn": "fastnn", "torch": "torch"},
    "predict32": {"fastnn": "fastnn", "torch": "torch"},
    "infer4096": {"fastnn": "fastnn", "torch": "torch", "onnxruntime": "onnxruntime"},
}
#: rows each workload runs on by default (infer4096: 25 calls on one batch of 4096)
ROWS = {"mlp_epoch": 60_000, "cnn_epoch": 10_000, "predict32": 100_000, "infer4096": 102_400}
INFER_BATCH = 4096
#: scenario -> (the engines share one process?, import torch before fastnn?, busy core?)
SCENARIOS = {
    "alone": (False, None, False),
    "torch_first": (True, True, False),
    "fastnn_first": (True, False, False),
    "busy_core": (False, None, True),
}


def available(engine):
    """True when the engine's package is installed."""
    import importlib.util
    mods = {"fastnn": ["fastnn"], "torch": ["torch"], "torch_fused": ["torch"],
            "jax": ["jax", "optax"], "onnxruntime": ["onnxruntime", "onnx", "torch"]}[engine]
    return all(importlib.util.find_spec(m) is not None for m in mods)


# --------------------------------------------------------------------------- in the child

def _prepare(workload, engine, x, y, threads, rows):
    """A zero-argument callable running one timed unit of ``workload`` on ``engine``
    (compiled and warmed up)."""
    from . import workloads as W
    if engine == "fastnn":
        import fastnn as fn
        fn.set_num_threads(threads)
    elif engine.startswith("torch"):
        import torch
        torch.set_num_threads(threads)
    if workload == "mlp_epoch":
        if engine == "fastnn":
            import fastnn as fn
            m = W.mlp_fastnn()
            opt = fn.optim.Adam(m.parameters(), lr=1e-3)
            W.train_epoch_fastnn(m, opt, x[:2048], y[:2048])
            return lambda: W.train_epoch_fastnn(m, opt, x, y)
        if engine.startswith("torch"):
            import torch
            m = W.mlp_torch()
            opt = torch.optim.Adam(m.parameters(), lr=1e-3, fused=engine == "torch_fused")
            W.train_epoch_torch(m, opt, x[:2048], y[:2048])
            return lambda: W.train_epoch_torch(m, opt, x, y)
        if engine == "jax":
            state = [W.mlp_jax()]
            tail = len(x) % 128 or 128      # compile both batch shapes before timing
            state[0], _ = W.train_epoch_jax(state[0], x[:256 + tail], y[:256 + tail])

            def run():
                state[0], _ = W.train_epoch_jax(state[0], x, y)
            return run
    if workload == "cnn_epoch":
        if engine == "fastnn":
            import fastnn as fn
            m = W.cnn_fastnn()
            opt = fn.optim.Adam(m.parameters(), lr=1e-3)
            W.train_epoch_cnn_fastnn(m, opt, x[:256], y[:256])
            return lambda: W.train_epoch_cnn_fastnn(m, opt, x, y)
        if engine == "torch":
            import torch
            m = W.cnn_torch()
            opt = torch.optim.Adam(m.parameters(), lr=1e-3)
            W.train_epoch_cnn_torch(m, opt, x[:256], y[:256])
            return lambda: W.train_epoch_cnn_torch(m, opt, x, y)
    if workload == "predict32":
        if engine == "fastnn":
            m = W.predict_model_fastnn()
            W.predict_fastnn(m, x[:1024])
            return lambda: W.predict_fastnn(m, x)
        if engine == "torch":
            m = W.mlp_torch()
            W.predict_torch(m, x[:1024])
            return lambda: W.predict_torch(m, x)
    if workload == "infer4096":
        calls = range(max(1, rows // INFER_BATCH))
        if engine == "fastnn":
            import fastnn as fn
            m = W.mlp_fastnn().eval()

            def run():
                with fn.no_grad():
                    for _ in calls:
                        m(x)
        elif engine == "torch":
            import torch
            m, xt = W.mlp_torch().eval(), torch.from_numpy(x)

            def run():
                with torch.no_grad():
                    for _ in calls:
                        m(xt)
        elif engine == "onnxruntime":
            sess = W.onnx_session(W.mlp_torch(), threads=threads)

            def run():
                for _ in calls:
                    sess.run(None, {"x": x})
        else:
            raise ValueError(f"no engine {engine!r} for workload {workload!r}")
        run()
        return run
    raise ValueError(f"no engine {engine!r} for workload {workload!r}")


def _data(workload, rows):
    from . import workloads as W
    if workload == "cnn_epoch":
        return W.make_digits28(rows)[0]
    if workload == "infer4096":
        return W.make_teacher_data(INFER_BATCH)
    return W.make_teacher_data(rows)


def _child(spec):
    """Import ``spec['imports']`` in order, then time each engine ``repeat`` times,
    interleaved; print {engine: [seconds, ...]} as JSON."""
    import importlib
    for mod in spec["imports"]:
        importlib.import_module(mod)
    from . import workloads as W
    x, y = _data(spec["workload"], spec["rows"])
    runs = {e: _prepare(spec["workload"], e, x, y, spec["threads"], spec["rows"])
            for e in spec["engines"]}
    times = {e: [] for e in runs}
    for _ in range(spec["repeat"]):
        for e, run in runs.items():
            t = time.perf_counter()
            run()
            times[e].append(time.perf_counter() - t)
    print(json.dumps(times))


# --------------------------------------------------------------------------- GEMM floor

def _gemm_list(workload, batch):
    """The matrix products one training step of ``workload`` does at ``batch`` rows,
    as (a, b, trans_a, trans_b) float32 operands: forward, the weight gradients and the
    input gradients the step needs (none for the network's input). A convolution's
    products are written as one im2col product per layer over the whole batch."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return rng.standard_normal(shape, dtype=np.float32)
    out = []
    if workload == "mlp_epoch":
        dims = [784, 256, 128, 10]
        for i, (fi, fo) in enumerate(zip(dims[:-1], dims[1:])):
            x, w, g = r(batch, fi), r(fo, fi), r(batch, fo)
            out.append((x, w, False, True))          # y = x @ W.T
            out.append((g, x, True, False))          # dW = g.T @ x
            if i:
                out.append((g, w, False, False))     # dx = g @ W
        return out
    if workload == "cnn_epoch":
        # (in channels, out channels, output pixels) of the two 3x3 'same' convolutions
        for i, (c, o, px) in enumerate([(1, 16, 28 * 28), (16, 32, 14 * 14)]):
            k, n = 9 * c, batch * px
            cols, w, g = r(n, k), r(o, k), r(n, o)
            out.append((cols, w, False, True))       # y = cols @ W.T
            out.append((g, cols, True, False))       # dW = g.T @ cols
            if i:
                out.append((g, w, False, False))     # dcols = g @ W
        x, w, g = r(batch, 1568), r(10, 1568), r(batch, 10)
        out += [(x, w, False, True), (g, x, True, False)]
        return out
    raise ValueError(f"gemm_floor: expected a workload in ['cnn_epoch', 'mlp_epoch'], got {workload!r}.")


class MlpKernelSteps:
    """The MLP's training step (workloads.mlp_fastnn, cross-entropy, Adam) as the bare
    sequence of fastnn kernels its layers, loss and optimizer run: the same calls on
    the same shapes in the same order, giving the same bits, without the Module,
    graph, loss and optimizer code around them. Timed beside the epoch, it splits
    what is not a GEMM into the kernels' own work and the framework's.

    It trains its own copy of ``model``'s parameters, with its own Adam state, drawing
    the dropout keys from ``generator``.

    >>> import numpy as np
    >>> from fastnn import workloads as W
    >>> x, y = W.make_teacher_data(256)
    >>> s = MlpKernelSteps(W.mlp_fastnn(), generator=0); s.epoch(x, y)
    >>> s.steps, all(np.isfinite(p).all() for p in s.params)
    (2, True)
    """

    def __init__(self, model, lr=1e-3, generator=None):
        import fastnn as fn
        from ._kernels import dropout, gemm, linear, losses, optim
        from .random import resolve
        nn = fn.nn
        layout = [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear, nn.ReLU, nn.Linear]
        if [type(m) for m in model] != layout:
            raise ValueError("MlpKernelSteps: expected workloads.mlp_fastnn()'s layers "
                             f"(Linear, ReLU, Dropout, Linear, ReLU, Linear), got {model!r}.")
        self._k = dropout, gemm, linear, losses, optim
        self.params = [a for m in (model[0], model[3], model[5])
                       for a in (m.weight.data.copy(), m.bias.data.copy())]
        self.state = [(np.zeros_like(a), np.zeros_like(a)) for a in self.params]
        # what the kernels read: flat views (the Numba loops take 1-D arrays only)
        self._flat = [(a.reshape(-1), m.reshape(-1), v.reshape(-1))
                      for a, (m, v) in zip(self.params, self.state)]
        self._empty = optim.empty(self.params[0].dtype)
        # h comes from Adam itself, so the numbers are the optimizer's
        self._adam = fn.optim.Adam([nn.Parameter(self.params[1].copy())], lr=lr)
        self._gen = resolve(generator)
        p = model[2].p
        self._thr, self._scale = dropout.keep_threshold(p), 1.0 / (1.0 - p)
        self.steps = 0

    def _linear(self, x, w, b, act):
        # Linear.infer's kernels: the fused serial one for a few rows, else the GEMM
        KL = self._k[2]
        y = KL.linear_small(x, w, b, act)
        return KL.linear_fwd(x, w, b, act) if y is None else y

    def step(self, xb, yb):
        """One training step on the batch (xb float32 (n, 784), yb int64 (n,))."""
        D, gemm, KL, KLo, KO = self._k
        W1, b1, W2, b2, W3, b3 = self.params
        s, linear = self._scale, self._linear
        relu, none = KL.ACTIVATIONS["relu"], KL.ACTIVATIONS[None]
        self.steps += 1
        # forward: Linear+ReLU, Dropout, Linear+ReLU, Linear (autograd.LinearRun)
        h1 = linear(xb, W1, b1, relu)
        d1, mask = D.dropout_fwd(h1, D.mask_keys(*self._gen.next_key()), self._thr, s)
        h2 = linear(d1, W2, b2, relu)
        out = linear(h2, W3, b3, none)
        # loss and its gradient in one pass (F.cross_entropy, mean)
        g = KLo.cross_entropy_hard(out, yb, grad=True, mean=True)[4]
        # backward, last layer first (Linear.backward, Dropout.backward)
        gh2 = gemm.matmul(g, W3)
        gW3, gb3 = gemm.matmul(g, h2, True, False), g.sum(axis=0)
        gh2, gb2 = KL.linear_relu_bwd(h2, gh2)
        gd1 = gemm.matmul(gh2, W2)
        gW2 = gemm.matmul(gh2, d1, True, False)
        gh1, gb1 = KL.linear_relu_bwd(h1, D.dropout_bwd(gd1, mask, s))
        gW1 = gemm.matmul(gh1, xb, True, False)
        # Adam, every parameter in one call (Optimizer._update)
        items = [(p, gp.reshape(-1), m, v, self._empty)
                 for (p, m, v), gp in zip(self._flat, (gW1, gb1, gW2, gb2, gW3, gb3))]
        KO.adam_steps(items, self._adam._hyper(self._adam.param_groups[0], W1.dtype, self.steps))

    def epoch(self, x, y, batch=128):
        """One epoch in order, as workloads.train_epoch_fastnn runs it."""
        for i in range(0, len(x), batch):
            self.step(x[i:i + batch], y[i:i + batch])


def gemm_floor(workload="mlp_epoch", threads=2, repeat=3, rows=None):
    """fastnn's epoch of ``workload`` beside the matrix products it contains, run alone
    on the same threads in the same process (medians of ``repeat``, interleaved).

    The floor runs the epoch's products through fastnn's pooled GEMM
    (``fastnn._kernels.gemm``: row blocks, one single-threaded OpenBLAS call each, as
    Linear and the convolutions run them). ``optimizer`` is the epoch's Adam steps
    alone (as many as the epoch has batches, on the last batch's gradients); the
    rest of the epoch (activations, losses, dropout, im2col, framework overhead) is
    epoch - floor - optimizer.

    ``floor_streamed`` (the MLP only) is the floor with the first layer's products
    reading the epoch's own batches, as the epoch does, instead of one batch that
    stays in cache: the difference is the cost of streaming the data set through.

    ``kernels`` (the MLP only) is the epoch as the bare sequence of the kernels it
    runs (:class:`MlpKernelSteps`: the same bits, no framework code around them):
    ``kernels - floor`` is the kernels' own work beyond the GEMMs (activations,
    dropout, loss, Adam, the data streaming through), ``epoch - kernels`` the
    framework's (modules, graph, optimizer bookkeeping).

    Returns:
        dict: ``epoch``, ``floor``, ``floor_streamed`` and ``kernels`` (None for the
        CNN) and ``optimizer`` (seconds), ``gemm_share`` (floor / epoch),
        ``epoch_over_floor`` and ``kernels_over_floor`` (None for the CNN).
    """
    import fastnn as fn
    from . import workloads as W
    from ._kernels import gemm
    rows = rows or ROWS[workload]
    fn.set_num_threads(threads)
    x, y = _data(workload, rows)
    if workload == "mlp_epoch":
        model, epoch, batch = W.mlp_fastnn(), W.train_epoch_fastnn, 128
    else:
        model, epoch, batch = W.cnn_fastnn(), W.train_epoch_cnn_fastnn, 64
    sizes = [batch] * (rows // batch) + ([rows % batch] if rows % batch else [])
    lists = {b: _gemm_list(workload, b) for b in set(sizes)}
    counts = {b: sizes.count(b) for b in lists}
    opt = fn.optim.Adam(model.parameters(), lr=1e-3)
    epoch(model, opt, x[:4 * batch], y[:4 * batch])

    def floor():
        for b, items in lists.items():
            for _ in range(counts[b]):
                for a, w, ta, tb in items:
                    gemm.matmul(a, w, ta, tb)

    def floor_streamed():
        # the MLP's first two products (y = x W1ᵀ, dW1 = gᵀ x) read batch i of x
        for i, b in zip(range(0, rows, batch), sizes):
            xb = x[i:i + b]
            (_, w, ta, tb), (g, _, ga, gb), *rest = lists[b]
            gemm.matmul(xb, w, ta, tb)
            gemm.matmul(g, xb, ga, gb)
            for a, w, ta, tb in rest:
                gemm.matmul(a, w, ta, tb)

    def steps():
        for _ in sizes:
            opt.step()
    runs = [("epoch", lambda: epoch(model, opt, x, y)), ("floor", floor), ("optimizer", steps)]
    if workload == "mlp_epoch":
        bare = MlpKernelSteps(model, generator=1)
        bare.epoch(x[:4 * batch], y[:4 * batch])
        runs.insert(2, ("floor_streamed", floor_streamed))
        runs.insert(1, ("kernels", lambda: bare.epoch(x, y, batch)))
    times = {k: [] for k, _ in runs}
    floor()
    for _ in range(repeat):
        for key, f in runs:
            t = time.perf_counter()
            f()
            times[key].append(time.perf_counter() - t)
    res = {k: statistics.median(v) for k, v in times.items()}
    res.setdefault("floor_streamed", None)
    res.setdefault("kernels", None)
    res["gemm_share"] = res["floor"] / res["epoch"]
    res["epoch_over_floor"] = res["epoch"] / res["floor"]
    res["kernels_over_floor"] = None if res["kernels"] is None else res["kernels"] / res["floor"]
    return res


# --------------------------------------------------------------------------- in the parent

@contextlib.contextmanager
def busy_core():
    """A second process spinning on one core for the duration of the block."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
    try:
        time.sleep(0.2)
        yield hog
    finally:
        hog.kill()
        hog.wait()


def _run_child(workload, engines, imports, threads, repeat, rows, timeout):
    spec = {"workload": workload, "engines": list(engines), "imports": list(imports),
            "threads": threads, "repeat": repeat, "rows": rows}
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run([sys.executable, "-m", "fastnn._bench", json.dumps(spec)], env=env,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({workload}, {engines}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_scenario(workload, scenario, engines=None, threads=2, repeat=3, rows=None, timeout=1200):
    """Median seconds per engine for ``workload`` in ``scenario``.

    ``alone`` and ``busy_core``: each engine in its own process (``busy_core`` with a
    spinning process beside it; those processes alternate, twice each); the
    ``*_first`` scenarios: fastnn and torch in one process, imported in that order.
    Engines whose package is missing are left out.

    Returns:
        dict engine -> median seconds of one run.
    """
    return _medians(_scenario_times(workload, scenario, engines, threads, repeat, rows, timeout))


def _scenario_times(workload, scenario, engines=None, threads=2, repeat=3, rows=None, timeout=1200):
    """run_scenario's samples: dict engine -> [seconds, ...]."""
    if scenario not in SCENARIOS:
        raise ValueError(f"run_scenario: expected a scenario in {sorted(SCENARIOS)}, got {scenario!r}.")
    if workload not in ENGINES:
        raise ValueError(f"run_scenario: expected a workload in {sorted(ENGINES)}, got {workload!r}.")
    shared, torch_first, busy = SCENARIOS[scenario]
    engines = [e for e in (engines or ENGINES[workload]) if available(e)]
    rows = rows or ROWS[workload]
    times = {e: [] for e in engines}
    ctx = busy_core() if busy else contextlib.nullcontext()
    with ctx:
        if shared:
            if not available("torch"):
                return {}
            pair = [e for e in engines if e in ("fastnn", "torch")]
            mods = ["torch", "fastnn"] if torch_first else ["fastnn", "torch"]
            got = _run_child(workload, pair, mods, threads, repeat, rows, timeout)
            for e, ts in got.items():
                times[e] += ts
        else:
            rounds = 2 if busy else 1
            for _ in range(rounds):
                for e in engines:
                    got = _run_child(workload, [e], [ENGINES[workload][e]], threads,
                                     max(1, repeat // rounds), rows, timeout)
                    times[e] += got[e]
    return times


def _medians(times):
    return {e: statistics.median(ts) for e, ts in times.items() if ts}


def _fmt(v):
    return f"{v:8.3f}" if v is not None else f"{'-':>8}"


def _ratio(a, b):
    return f"{a / b:8.2f}x" if a is not None and b else f"{'-':>9}"


def _rounds(workload, scenarios, threads, repeat, rows=None):
    """{scenario: {engine: median seconds}} over ``repeat`` rounds of every scenario
    (``rows``: the workload's default size when None)."""
    times = {s: {} for s in scenarios}
    for _ in range(repeat):
        for scenario in scenarios:
            engines = None if scenario in ("alone", "busy_core") else ("fastnn", "torch")
            got = _scenario_times(workload, scenario, engines=engines, threads=threads, repeat=1,
                                  rows=rows)
            for e, ts in got.items():
                times[scenario].setdefault(e, []).extend(ts)
    return {s: _medians(t) for s, t in times.items()}


def run_workloads(threads=2, repeat=3, out=None):
    """Run every scenario of both workloads and print their tables (seconds, median of
    ``repeat``; ratios fastnn / anchor, same scenario: below 1 is faster).

    The scenarios run in ``repeat`` rounds (each round: every scenario once, one run
    per engine), so that a change in the machine's load reaches all of them alike:
    comparing fastnn across scenarios (torch first / alone) is then fair too.

    Returns:
        {workload: {scenario: {engine: seconds}}}.
    """
    out = out or sys.stdout
    results = {}
    cols = [e for e in ENGINES["mlp_epoch"] if available(e)]
    print(f"\nMLP epoch (60,000 x 784 -> 256 -> 128 -> 10, Adam, batch 128), {threads} threads, "
          f"seconds (median of {repeat}); each engine alone in its own process, both in one "
          f"process (torch or fastnn imported first), beside a process spinning on one core",
          file=out)
    anchors = [c for c in cols if c != "fastnn"]
    print(f"{'scenario':<14}" + "".join(f"{c:>12}" for c in cols)
          + "".join(f" {'fastnn/' + c:>19}" for c in anchors), file=out, flush=True)
    res = results["mlp_epoch"] = _rounds("mlp_epoch", list(SCENARIOS), threads, repeat)
    for scenario in SCENARIOS:
        r = res[scenario]
        f = r.get("fastnn")
        print(f"{scenario:<14}" + "".join(f"{_fmt(r.get(c)):>12}" for c in cols)
              + "".join(f" {_ratio(f, r.get(c)):>19}" for c in anchors), file=out, flush=True)
    alone, first = res["alone"].get("fastnn"), res["torch_first"].get("fastnn")
    if alone and first:
        print(f"fastnn with torch imported first / fastnn alone: {first / alone:.2f}x "
              f"(target <= 1.2)", file=out)
    for e in ("fastnn", "torch"):
        if res["alone"].get(e) and res["busy_core"].get(e):
            print(f"{e} busy core / alone: {res['busy_core'][e] / res['alone'][e]:.2f}x", file=out)
    _table(results, "cnn_epoch", ["alone", "torch_first"], threads, repeat,
           "CNN epoch (10,000 digits at 28x28: conv 1->16, pool, conv 16->32, pool, dropout, "
           "linear 1568->10, Adam, batch 64)", out)
    _table(results, "predict32", ["alone", "busy_core"], threads, repeat,
           "Batch-32 predict over 100,000 rows (784 -> 256 -> 128 -> 10)", out)
    _table(results, "infer4096", ["alone"], threads, repeat,
           "Inference, 25 batches of 4096 rows (784 -> 256 -> 128 -> 10, no grad, eval)", out)
    print(f"\nEach epoch beside its GEMM-only floor (the same products alone, same process, "
          f"{threads} threads; seconds, median of {repeat})", file=out)
    print(f"{'workload':<14}{'epoch':>10}{'floor':>10}{'optimizer':>11}{'GEMM share':>12}"
          f"{'epoch/floor':>13}{'streamed floor':>16}{'kernels alone':>15}", file=out, flush=True)
    for w in ("mlp_epoch", "cnn_epoch"):
        p = results[f"{w}_floor"] = gemm_floor(w, threads, repeat)
        streamed = "-" if p["floor_streamed"] is None else f"{p['floor_streamed']:.3f}"
        bare = "-" if p["kernels"] is None else f"{p['kernels']:.3f}"
        print(f"{w:<14}{p['epoch']:>10.3f}{p['floor']:>10.3f}{p['optimizer']:>11.3f}"
              f"{p['gemm_share']:>11.0%} {p['epoch_over_floor']:>12.2f}x{streamed:>16}"
              f"{bare:>15}", file=out, flush=True)
    return results


def _table(results, workload, scenarios, threads, repeat, title, out):
    """Run ``workload`` in ``scenarios`` (results[workload]) and print its table with the
    ratio of fastnn to every anchor."""
    cols = [e for e in ENGINES[workload] if available(e)]
    anchors = [c for c in cols if c != "fastnn"]
    print(f"\n{title}, {threads} threads, seconds (median of {repeat})", file=out)
    print(f"{'scenario':<14}" + "".join(f"{c:>12}" for c in cols)
          + "".join(f" {'fastnn/' + c:>19}" for c in anchors), file=out, flush=True)
    res = results[workload] = _rounds(workload, scenarios, threads, repeat)
    for scenario in scenarios:
        r = res[scenario]
        print(f"{scenario:<14}" + "".join(f"{_fmt(r.get(c)):>12}" for c in cols)
              + "".join(f" {_ratio(r.get('fastnn'), r.get(c)):>19}" for c in anchors),
              file=out, flush=True)


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
