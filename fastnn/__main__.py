"""fastnn's command line: ``python -m fastnn {demo,bench,warmup,info}`` (or ``fastnn ...``).

* ``demo``   trains a small network on the shipped 8x8 digits and prints test accuracy.
* ``bench``  kernel throughput table: every elementwise kernel against its NumPy
  reference and, where installed, PyTorch; then (unless kernels are named) the
  workloads: the MLP epoch and batch-32 predict against torch / JAX in every
  scenario of :mod:`fastnn._bench` (alone, torch first, fastnn first, busy core),
  and, where scikit-learn is installed, fastnn.sklearn's fit table.
* ``warmup`` compiles the Numba kernels the engine in use needs into the on-disk cache.
* ``info``   engine per kernel family, ISA build, CPU features, threads and BLAS.
"""
import argparse
import os
import sys
import time

__all__ = ["main", "run_demo", "run_bench", "run_workloads", "run_warmup", "run_info",
           "format_info"]


# --------------------------------------------------------------------------- warmup

def run_warmup():
    """Compile every Numba kernel (both builds, float32 and float64); print the time."""
    from . import _kernels
    t = time.perf_counter()
    n = _kernels.warmup(verbose=True)
    print(f"compiled {n} kernels in {time.perf_counter() - t:.1f} s "
          f"({_kernels.get_num_threads()} threads)")
    return 0


# --------------------------------------------------------------------------- info

def format_info(info):
    """The text of ``python -m fastnn info`` for a ``fastnn._kernels.system_info()`` dict."""
    import fastnn
    eng, cpu, th, blas = info["engine"], info["cpu"], info["threads"], info["blas"]
    lines = [f"fastnn {fastnn.__version__} ({os.path.dirname(fastnn.__file__)})",
             f"engine requested: {eng['requested']} (FASTNN_ENGINE)"]
    for name, fam in eng["families"].items():
        if fam["engine"] == "c":
            extra = f", {fam['blas']}" if "blas" in fam else ""
            lines.append(f"  {name:<15} C, {fam['isa']} build{extra}")
        else:
            lines.append(f"  {name:<15} Numba/NumPy twin ({fam['reason']})")
    for err in eng.get("errors", ()):
        lines.append(f"  error: {err}")
    build = eng["build"]
    if eng["kernels_dir"] and build["variants"]:
        lines.append(f"C kernels: {eng['kernels_dir']} ({eng['kernels_from']}); build "
                     f"{build.get('mode')}: {', '.join(build['variants'])}; "
                     f"{build.get('compiler')}; OpenMP {'yes' if build.get('openmp') else 'no'}")
    else:
        lines.append("C kernels: none built")
    if eng["note"]:
        lines.append(f"  note: {eng['note']}")
    isa = eng["isa"] or "none"
    skipped = "; ".join(f"{k}: {v}" for k, v in eng["isa_skipped"].items())
    lines.append(f"ISA build in use: {isa}" + (f" (FASTNN_ISA={eng['isa_forced']})" if eng["isa_forced"] else "")
                 + (f"; not used: {skipped}" if skipped else ""))
    lines.append(f"CPU: {cpu['brand'] or 'unknown'}; features ({cpu['source']}): "
                 + (" ".join(cpu["features"]) or "unknown"))
    extra = {k: v for k, v in th.items()
             if k not in ("fastnn", "cpus_available", "serial_below", "forked_child_serial")}
    lines.append(f"threads: fastnn {th['fastnn']} of {th['cpus_available']} CPUs available; "
                 f"serial below {th['serial_below']:,} elements"
                 + ("; forked child: serial" if th["forked_child_serial"] else "")
                 + "".join(f"; {k} {v}" for k, v in extra.items()))
    nb = info["numba"]
    lines.append(f"numba {nb['version']}: " + (
        f"{nb['threads']} threads, threading layer {nb['threading_layer'] or 'not started'}"
        if nb["imported"] else "not imported (no Numba kernel has run)"))
    lines.append(f"numpy {blas['numpy']}, BLAS {blas['numpy_blas']}")
    if blas["pools"] is None:
        lines.append("thread pools: (pip install threadpoolctl to list them)")
    else:
        for p in blas["pools"]:
            lines.append(f"  {p['user_api']:<7} {p['internal_api']} {p['version'] or ''}: "
                         f"{p['num_threads']} threads ({os.path.basename(p['filepath'])})")
    if info["env"]:
        lines.append("environment: " + " ".join(f"{k}={v}" for k, v in info["env"].items()))
    return "\n".join(lines)


def run_info():
    """Print the engine, ISA build, CPU, threads and BLAS in use (``fastnn.show_config``)."""
    from . import show_config
    show_config()
    return 0


# --------------------------------------------------------------------------- demo

def run_demo(epochs=None, seed=0, distributed=False):
    """What ``python -m fastnn demo`` runs: the Keras-style digits demo
    (:func:`fastnn.demo.run_demo`); ``distributed`` trains data-parallel over MPI."""
    from .demo import run_demo as _run
    _run(seed=seed, distributed=distributed, **({} if epochs is None else {"epochs": epochs}))
    return 0


# --------------------------------------------------------------------------- bench

def _torch_twin(name, spec, torch):
    """``f(out, *args)``: torch's version of a kernel, writing into ``out``; or None.

    A Spec row may name its own as ``extra={"torch": lambda torch, out, *args: ...}``.
    """
    twin = spec.extra.get("torch")
    if twin is not None:
        return lambda out, *a: twin(torch, out, *a)
    aten = torch.ops.aten
    known = {
        "copy": lambda out, x: out.copy_(x),
        "sigmoid_fwd": lambda out, x: torch.sigmoid(x, out=out),
        "sigmoid_bwd": lambda out, y, g: aten.sigmoid_backward.grad_input(g, y, grad_input=out),
        "tanh_fwd": lambda out, x: torch.tanh(x, out=out),
        "tanh_bwd": lambda out, y, g: aten.tanh_backward.grad_input(g, y, grad_input=out),
        "relu_fwd": lambda out, x: torch.clamp(x, min=0, out=out),
        "relu_bwd": lambda out, x, g: aten.threshold_backward.grad_input(
            g, x, 0, grad_input=out),
    }
    return known.get(name[3:] if name.startswith("nb_") else name)


def _median_time(fn, repeat):
    fn()  # warm: compile, fault in pages
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def run_bench(size=1 << 22, repeat=7, threads=None, names=None):
    """Print a throughput table (GB/s moved: inputs + output) for each kernel.

    fastnn and torch write into a preallocated ``out``; the NumPy reference allocates
    its result (it is the readable oracle, not tuned NumPy)."""
    import numpy as np
    from . import _kernels
    from ._kernels import elementwise, reference
    _kernels._register_all()
    if threads is not None:
        _kernels.set_num_threads(threads)
    nt = _kernels.get_num_threads()
    try:
        import torch
        torch.set_num_threads(nt)
    except ImportError:
        torch = None
    specs = elementwise.SPECS
    names = names or sorted(specs)
    unknown = sorted(set(names) - set(specs))
    if unknown:
        raise SystemExit(f"Unknown kernel(s) {unknown}; expected names from {sorted(specs)}.")
    rng = np.random.default_rng(0)
    print(f"fastnn kernels: {size:,} float32 elements, {nt} threads, median of {repeat}"
          f"{'' if torch else ' (torch not installed)'}")
    cols = ["fastnn", "numpy ref"] + (["torch"] if torch else [])
    print(f"{'kernel':<22}" + "".join(f"{c + ' GB/s':>16}" for c in cols)
          + (f"{'vs torch':>14}" if torch else ""))
    for name in names:
        spec = specs[name].with_oracle(getattr(reference, specs[name].reference, None))
        args = [rng.uniform(*spec.domain, size).astype(np.float32)]
        if spec.arity == 2:
            args.append(rng.standard_normal(size).astype(np.float32))
        out = np.empty_like(args[0])
        gbytes = (spec.arity + 1) * size * 4 / 1e9
        row = {
            "fastnn": _median_time(lambda: spec.kernel(*args, *spec.params, out=out), repeat),
            "numpy ref": _median_time(lambda: getattr(reference, spec.reference)(*args, *spec.params),
                                      repeat),
        }
        twin = _torch_twin(name, spec, torch) if torch else None
        if twin is not None:
            targs = [torch.from_numpy(a) for a in args]
            tout = torch.from_numpy(out)
            with torch.no_grad():
                row["torch"] = _median_time(lambda: twin(tout, *targs), repeat)
        line = f"{name:<22}"
        for c in cols:
            line += f"{gbytes / row[c]:16.1f}" if c in row else f"{'-':>16}"
        if torch:
            line += f"{row['torch'] / row['fastnn']:13.2f}x" if "torch" in row else f"{'-':>14}"
        print(line, flush=True)
    return 0


def run_sklearn_bench(repeat=7):
    """``bench --sklearn``: fastnn.sklearn._bench.run_bench (needs scikit-learn)."""
    try:
        from .sklearn._bench import run_bench as sklearn_bench
    except ImportError as e:
        print(f"bench --sklearn needs scikit-learn ({e}): pip install 'fastnn[sklearn]'")
        return 1
    sklearn_bench(repeat=repeat)
    return 0


def run_workloads(threads=None, repeat=3):
    """The workload tables: MLP epoch and batch-32 predict in every scenario against
    torch and JAX (:func:`fastnn._bench.run_workloads`), then fastnn.sklearn's fit
    table against scikit-learn where both are there."""
    from . import _bench
    _bench.run_workloads(threads=threads or 2, repeat=repeat)
    try:
        from fastnn.sklearn._bench import run_bench as sklearn_bench
    except ImportError:      # scikit-learn (or fastnn.sklearn) not installed
        print("\n(fastnn.sklearn vs scikit-learn: not available here)")
        return 0
    print()
    sklearn_bench(repeat=5)
    return 0


# --------------------------------------------------------------------------- main

def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastnn", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="{demo,bench,warmup,info}")
    p = sub.add_parser("demo", help="train on the shipped digits and print test accuracy")
    p.add_argument("--epochs", type=int, default=None, help="training epochs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over MPI: mpirun -n 2 python -m fastnn demo --distributed")
    p = sub.add_parser("bench", help="kernel throughput against NumPy and PyTorch")
    p.add_argument("--size", type=int, default=1 << 22, help="elements per array (default 4M)")
    p.add_argument("--repeat", type=int, default=7, help="timed runs per kernel (median)")
    p.add_argument("--threads", type=int, default=None, help="fastnn and torch threads")
    p.add_argument("--kernels-only", action="store_true",
                   help="only the kernel table (no workloads; implied when kernels are named)")
    p.add_argument("--workload-repeat", type=int, default=3,
                   help="timed runs per engine and scenario in the workload tables (median)")
    p.add_argument("kernels", nargs="*", help="kernel names (default: all)")
    p.add_argument("--sklearn", action="store_true",
                   help="instead: fastnn.sklearn's MLP fits and test scores beside scikit-learn's")
    sub.add_parser("warmup", help="compile the Numba kernels in use into the on-disk cache")
    sub.add_parser("info", help="engine, ISA build, CPU features, threads and BLAS in use")
    args = parser.parse_args(argv)
    if args.command == "info":
        return run_info()
    if args.command == "demo":
        return run_demo(epochs=args.epochs, seed=args.seed, distributed=args.distributed)
    if args.command == "bench" and args.sklearn:
        return run_sklearn_bench(repeat=args.repeat)
    if args.command == "bench":
        rc = run_bench(size=args.size, repeat=args.repeat, threads=args.threads,
                       names=args.kernels)
        if rc or args.kernels or args.kernels_only:
            return rc
        return run_workloads(threads=args.threads, repeat=args.workload_repeat)
    return run_warmup()


if __name__ == "__main__":
    sys.exit(main())
