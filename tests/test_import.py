"""What ``import fastnn`` costs and changes, and where compiled kernels are cached.

Each check runs in a fresh interpreter: import state, timing, environment variables
and the floating-point mode are per process.
"""
import os
import shutil

import fastnn._kernels

_N_PARALLEL = 4 * fastnn._kernels.threads.SERIAL_BELOW + 3


def test_import_does_not_load_numba(run_python):
    out = run_python("""
        import sys
        import fastnn
        import fastnn._kernels.elementwise
        print(sorted(m for m in ("numba", "llvmlite") if m in sys.modules))
    """)
    assert out.stdout.strip() == "[]"


def test_import_is_fast(run_python):
    # NumPy is imported first: its own import (0.1-0.5 s, most of it on a loaded
    # machine) is every NumPy user's cost, not fastnn's
    code = """
        import time
        import numpy
        t = time.perf_counter()
        import fastnn
        print(time.perf_counter() - t)
    """
    run_python(code)  # fills the OS file cache
    best = min(float(run_python(code).stdout) for _ in range(3))
    assert best < 0.3, f"import fastnn took {best:.3f} s after numpy (best of 3)"


def test_import_keeps_denormals(run_python):
    """Loading the C extension must not switch on flush-to-zero (GCC's crtfastmath.o
    does that for a whole process when a shared object is linked with -ffast-math),
    nor may its OpenMP worker threads compute with it."""
    run_python(f"""
        import numpy as np
        import fastnn._kernels._celementwise
        from fastnn._kernels import elementwise as E, threads
        assert np.float32(1e-40) * np.float32(1) != 0, "float32 denormals flushed"
        assert np.float64(1e-310) * np.float64(1) != 0, "float64 denormals flushed"
        threads.set_num_threads(2)
        n = {_N_PARALLEL}
        for dt, tiny in ((np.float32, 1e-39), (np.float64, 1e-309)):
            u = np.full(n, 0.5, dt)
            g = np.full(n, 4 * tiny, dt)   # itself denormal: DAZ would read it as 0
            out = E.sigmoid_bwd(u, g)      # g * u * (1 - u) = tiny, a denormal
            assert (out != 0).all(), f"{{dt.__name__}}: kernel flushed denormals to zero"
            np.testing.assert_allclose(out, tiny, rtol=1e-2)
    """)


# Runs one Numba kernel (serial and parallel build), checks it, then prints where the
# package came from and, per loaded Numba dispatcher, its cache kind and cache hits.
_NUMBA_KERNEL_AND_CACHE_KIND = f"""
    import numpy as np
    import fastnn
    from fastnn._kernels import elementwise as E, jit, threads
    print(E.__file__)
    threads.set_num_threads(2)
    kernel = E.nb_unary("relu_fwd")
    x = np.linspace(-3, 3, {_N_PARALLEL}, dtype=np.float32)
    want = np.maximum(x, 0)
    np.testing.assert_allclose(kernel(x[:100]), want[:100], rtol=1e-6)
    np.testing.assert_allclose(kernel(x), want, rtol=1e-6)
    loaded = [k for k in jit.all_numba_kernels() if k._par is not None]
    assert len(loaded) == 1, [k.name for k in loaded]
    for disp in (loaded[0]._par, loaded[0]._ser):
        print(type(disp._cache).__name__, sum(disp.stats.cache_hits.values()))
"""


def _unwritable_path(tmp_path):
    """A path that cannot be created, even by root: its parent is a regular file."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    return blocker / "sub"


def test_numba_kernels_run_without_any_writable_cache(tmp_path, run_python,
                                                      fastnn_package_dir):
    """Read-only install and no writable home: kernels compile in memory instead.

    Every numba cache locator is defeated: NUMBA_CACHE_DIR (user-provided locator)
    and HOME/XDG_CACHE_HOME (user-wide locator) lie under a regular file, and each
    ``__pycache__`` of a copy of the package is a regular file (in-tree locator).
    """
    site = tmp_path / "site"
    shutil.copytree(fastnn_package_dir, site / "fastnn",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for d, _, files in os.walk(site):
        if any(f.endswith(".py") for f in files):
            with open(os.path.join(d, "__pycache__"), "w"):
                pass
    nowhere = _unwritable_path(tmp_path)
    out = run_python(_NUMBA_KERNEL_AND_CACHE_KIND, timeout=240, env={
        "PYTHONPATH": str(site), "NUMBA_CACHE_DIR": str(nowhere),
        "HOME": str(nowhere), "XDG_CACHE_HOME": str(nowhere)})
    lines = out.stdout.splitlines()
    assert lines[0].startswith(str(site)), lines[0]      # the copy was tested
    assert lines[1:] == ["NullCache 0", "NullCache 0"], out.stdout  # fallback taken


def test_numba_disk_cache_is_reused_by_the_next_process(tmp_path, run_python):
    cache = tmp_path / "numba-cache"
    env = {"NUMBA_CACHE_DIR": str(cache)}
    first = run_python(_NUMBA_KERNEL_AND_CACHE_KIND, timeout=240, env=env).stdout.splitlines()
    assert first[1:] == ["FunctionCache 0", "FunctionCache 0"], first
    assert list(cache.rglob("*.nbi")), "nothing was written to NUMBA_CACHE_DIR"
    second = run_python(_NUMBA_KERNEL_AND_CACHE_KIND, timeout=240, env=env).stdout.splitlines()
    assert second[1:] == ["FunctionCache 1", "FunctionCache 1"], second


def test_numpy_is_the_only_import_time_dependency(run_python):
    """``import fastnn`` works with numba made unimportable (it is loaded lazily)."""
    out = run_python("""
        import sys
        sys.modules["numba"] = None       # any "import numba" now raises ImportError
        import numpy as np
        import fastnn
        from fastnn._kernels import elementwise as E
        print(float(E.sigmoid_fwd(np.zeros(3, np.float32))[0]))
    """)
    assert float(out.stdout) == 0.5
