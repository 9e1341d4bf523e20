"""Time the asv benchmarks' fastnn methods on two builds of fastnn side by side: one
worker process per build, their samples alternating (A, B, A, B, ...) so both see the
same load on a shared machine; prints medians and the ratio B / A.

    python asv_bench/compare_builds.py A B [module-regex] [--reps N] [--seconds S]

A and B are ``DIR[:VAR=VALUE,...]``: DIR holds a complete fastnn package (its parent
goes first on sys.path), the variables are set in that worker only. For example, the
per-ISA default build's x86-64-v3 code against a ``-march=native`` build of the same
sources:

    python asv_bench/compare_builds.py .:FASTNN_ISA=v3 /tmp/native "activations|losses|conv"
"""
import argparse
import importlib
import inspect
import json
import os
import pkgutil
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = 2e-3   # seconds per sample: short calls repeat, as asv's `number`


def _cases(pattern):
    """(module, class, params combo, method) of every time_*_fastnn benchmark."""
    sys.path.insert(0, HERE)
    import benchmarks
    from side_by_side import _instances
    for info in pkgutil.iter_modules(benchmarks.__path__):
        if info.name.startswith("_") or not re.search(pattern, info.name):
            continue
        mod = importlib.import_module(f"benchmarks.{info.name}")
        for name, cls in inspect.getmembers(mod, inspect.isclass):
            if cls.__module__ != mod.__name__ or name.startswith("_"):
                continue
            for m in sorted(dir(cls)):
                if m.startswith("time_") and m.endswith("_fastnn"):
                    for combo, _ in _instances(cls):
                        yield info.name, name, list(combo), m


# ---- worker: one build, driven over stdin/stdout ---------------------------------------
def worker():
    sys.path.insert(0, HERE)
    obj = fn_ = None
    for line in sys.stdin:
        req = json.loads(line)
        if req["op"] == "setup":
            mod = importlib.import_module(f"benchmarks.{req['module']}")
            cls = getattr(mod, req["cls"])
            obj, combo = cls(), req["combo"]
            try:
                if hasattr(obj, "setup"):
                    obj.setup(*combo)
                f = getattr(obj, req["method"])
                f(*combo)
                t = time.perf_counter()
                f(*combo)
                once = max(time.perf_counter() - t, 1e-7)
                fn_ = (f, combo)
                from fastnn._kernels import engine
                out = {"once": once, "isa": engine.isa()}
            except NotImplementedError:
                out = {"skip": True}
        else:
            f, combo = fn_
            n = req["number"]
            t = time.perf_counter()
            for _ in range(n):
                f(*combo)
            out = {"t": (time.perf_counter() - t) / n}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


def _spawn(spec):
    path, _, env_s = spec.partition(":")
    env = dict(os.environ)
    env.pop("FASTNN_ISA", None)
    env.pop("FASTNN_ENGINE", None)
    env["PYTHONPATH"] = os.path.abspath(path) + os.pathsep + HERE
    for kv in filter(None, env_s.split(",")):
        k, _, v = kv.partition("=")
        env[k] = v
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker"], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=os.path.abspath(path))


def _ask(p, req):
    p.stdin.write(json.dumps(req) + "\n")
    p.stdin.flush()
    line = p.stdout.readline()
    if not line:
        raise RuntimeError("worker died")
    return json.loads(line)


def main():
    if "--worker" in sys.argv:
        return worker()
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("pattern", nargs="?", default="activations|losses|conv")
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--seconds", type=float, default=2.0)
    a = ap.parse_args()
    import numpy as np
    os.environ["FASTNN_ENGINE"] = "numba"   # listing the benchmarks needs no kernel
    sys.path.insert(0, os.path.abspath(a.a.partition(":")[0]))
    wa, wb = _spawn(a.a), _spawn(a.b)
    ratios = []
    try:
        for module, cls, combo, method in _cases(a.pattern):
            req = {"op": "setup", "module": module, "cls": cls, "combo": combo, "method": method}
            ra, rb = _ask(wa, req), _ask(wb, req)
            if ra.get("skip") or rb.get("skip"):
                continue
            once = max(ra["once"], rb["once"])
            number = max(1, int(SAMPLE / once))
            n = max(5, min(a.reps, int(a.seconds / (once * number))))
            ta, tb = [], []
            for _ in range(n):
                ta.append(_ask(wa, {"op": "run", "number": number})["t"])
                tb.append(_ask(wb, {"op": "run", "number": number})["t"])
            ma, mb = float(np.median(ta)), float(np.median(tb))
            ratios.append(mb / ma)
            label = f"{module}.{cls}.{method[5:-7]}" + (f"{combo}" if combo else "")
            print(f"{label:60s} A[{ra['isa']}] {ma * 1e3:8.3f} ms  B[{rb['isa']}] {mb * 1e3:8.3f} ms"
                  f"  B/A {mb / ma:6.3f}  (n={n})", flush=True)
    finally:
        for w in (wa, wb):
            w.stdin.close()
            w.wait(timeout=60)
    if ratios:
        r = np.array(ratios)
        print(f"B/A over {r.size} benchmarks: median {np.median(r):.3f}, min {r.min():.3f}, "
              f"max {r.max():.3f}")


if __name__ == "__main__":
    main()
