"""fastnn's command line: ``python -m fastnn {demo,bench,warmup}`` (or ``fastnn ...``).

* ``demo``   trains a small network on the shipped 8x8 digits and prints test accuracy.
* ``bench``  kernel throughput table: every elementwise kernel against its NumPy
  reference and, where installed, PyTorch.
* ``warmup`` compiles every Numba kernel into the on-disk cache.
"""
import argparse
import sys
import time

__all__ = ["main", "run_demo", "run_bench", "run_warmup"]


# --------------------------------------------------------------------------- warmup

def run_warmup():
    """Compile every Numba kernel (both builds, float32 and float64); print the time."""
    from . import _kernels
    t = time.perf_counter()
    n = _kernels.warmup(verbose=True)
    print(f"compiled {n} kernels in {time.perf_counter() - t:.1f} s "
          f"({_kernels.get_num_threads()} threads)")
    return 0


# --------------------------------------------------------------------------- demo

def run_demo(epochs=None, seed=0):
    """What ``python -m fastnn demo`` runs: the Keras-style digits demo
    (:func:`fastnn.demo.run_demo`)."""
    from .demo import run_demo as _run
    _run(seed=seed, **({} if epochs is None else {"epochs": epochs}))
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
    from ._kernels import elementwise
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
        spec = specs[name]
        args = [rng.uniform(*spec.domain, size).astype(np.float32)]
        if spec.arity == 2:
            args.append(rng.standard_normal(size).astype(np.float32))
        out = np.empty_like(args[0])
        gbytes = (spec.arity + 1) * size * 4 / 1e9
        row = {
            "fastnn": _median_time(lambda: spec.kernel(*args, *spec.params, out=out), repeat),
            "numpy ref": _median_time(lambda: spec.reference(*args, *spec.params), repeat),
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


# --------------------------------------------------------------------------- main

def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastnn", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="{demo,bench,warmup}")
    p = sub.add_parser("demo", help="train on the shipped digits and print test accuracy")
    p.add_argument("--epochs", type=int, default=None, help="training epochs")
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("bench", help="kernel throughput against NumPy and PyTorch")
    p.add_argument("--size", type=int, default=1 << 22, help="elements per array (default 4M)")
    p.add_argument("--repeat", type=int, default=7, help="timed runs per kernel (median)")
    p.add_argument("--threads", type=int, default=None, help="fastnn and torch threads")
    p.add_argument("kernels", nargs="*", help="kernel names (default: all)")
    sub.add_parser("warmup", help="compile every kernel into the on-disk cache")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return run_demo(epochs=args.epochs, seed=args.seed)
    if args.command == "bench":
        return run_bench(size=args.size, repeat=args.repeat, threads=args.threads,
                         names=args.kernels)
    return run_warmup()


if __name__ == "__main__":
    sys.exit(main())
