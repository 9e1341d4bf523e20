"""Run the asv benchmarks' fastnn methods and their anchors (torch, scikit-learn, Dask)
interleaved in one process and print medians and ratios (fastnn / anchor), for quoting numbers on a shared, noisy machine:
both engines see the same load because their samples alternate. As in asv, a
sample repeats a short call (``number`` times, about 2 ms in all), so caches stay
as warm as in repeated use.

    python asv_bench/side_by_side.py [module-regex] [--reps N] [--seconds S]

A method ``time_X_fastnn`` is paired with every ``time_X_torch*``, ``time_X_sklearn*``
and ``time_X_dask*`` of the same class.
"""
import argparse
import importlib
import inspect
import itertools
import os
import pkgutil
import re
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _instances(cls):
    params = getattr(cls, "params", None)
    if not params:
        yield (), cls()
        return
    if not isinstance(params[0], (list, tuple)):
        params = [params]
    for combo in itertools.product(*params):
        yield combo, cls()


ANCHORS = ("_torch", "_sklearn", "_dask")   # method suffixes of the reference libraries

SAMPLE = 2e-3   # seconds per timed sample: short calls are repeated, as asv's `number`


def _time(f, args, reps, seconds):
    """(samples, calls per sample) for f: each sample lasts about SAMPLE seconds."""
    f(*args)                                    # warm
    t = time.perf_counter()
    f(*args)
    once = max(time.perf_counter() - t, 1e-7)
    number = max(1, int(SAMPLE / once))
    return max(3, min(reps, int(seconds / (once * number)))), number


def _sample(f, args, number):
    t = time.perf_counter()
    for _ in range(number):
        f(*args)
    return (time.perf_counter() - t) / number


def run_class(cls, reps, seconds):
    methods = [m for m in dir(cls) if m.startswith("time_")]
    pairs = []
    for m in methods:
        if m.endswith("_fastnn"):
            stem = m[: -len("_fastnn")]
            for t in methods:
                if t.startswith(tuple(stem + a for a in ANCHORS)):
                    pairs.append((m, t))
    if not pairs:
        return
    for combo, obj in _instances(cls):
        try:
            if hasattr(obj, "setup"):
                obj.setup(*combo)
        except NotImplementedError:
            continue
        for fm, tm in pairs:
            fa, ta = getattr(obj, fm), getattr(obj, tm)
            try:
                for s in (getattr(cls, fm), getattr(cls, tm)):
                    setup = getattr(s, "setup", None)
                    if setup is not None:
                        setup(*combo)
                n, number = _time(fa, combo, reps, seconds / 2)
            except NotImplementedError:
                continue
            tf, tt = [], []
            for _ in range(n):      # alternate samples, so both engines see the same load
                tf.append(_sample(fa, combo, number))
                tt.append(_sample(ta, combo, number))
            mf, mt = np.median(tf), np.median(tt)
            label = f"{cls.__name__}.{fm[5:-7]}" + (f"{list(combo)}" if combo else "")
            print(f"{label:58s} fastnn {mf * 1e3:9.4f} ms  {tm[5:]:>22s} {mt * 1e3:9.4f} ms"
                  f"  ratio {mf / mt:6.3f}  (n={n})", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pattern", nargs="?", default=".")
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=2.0)
    a = ap.parse_args()
    import benchmarks
    for info in pkgutil.iter_modules(benchmarks.__path__):
        if info.name.startswith("_") or not re.search(a.pattern, info.name):
            continue
        mod = importlib.import_module(f"benchmarks.{info.name}")
        for name, cls in inspect.getmembers(mod, inspect.isclass):
            if cls.__module__ == mod.__name__ and not name.startswith("_"):
                try:
                    run_class(cls, a.reps, a.seconds)
                except Exception as e:   # report and go on: one broken class must not hide the rest
                    print(f"{name}: {type(e).__name__}: {e}", flush=True)


if __name__ == "__main__":
    main()
