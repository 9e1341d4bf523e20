"""The package's layering, read from the source (AST), not from what happens to run:

* only fastnn/autograd/ and fastnn/optim/ (and _kernels itself) import fastnn._kernels:
  everything above them calls autograd Functions and optimizers;
* nothing outside tests/ imports a reference* module (the NumPy oracles): production
  code never runs the test oracle.

Each exception below names the file and why it may; an exception that no longer
occurs fails too, so the list cannot go stale.
"""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "fastnn")

#: fastnn modules (outside _kernels, autograd, optim) allowed to import _kernels
KERNEL_IMPORTERS = {
    "fastnn/__init__.py": "the package root re-exports the thread settings, warmup and "
                          "system_info of the kernel layer",
    "fastnn/__main__.py": "the command line reports on, warms and benchmarks the kernels",
    "fastnn/_bench.py": "the epoch benchmarks time the kernel layer's GEMM alone "
                        "(gemm_floor), the floor each epoch is measured against, and "
                        "the MLP's kernel sequence alone (MlpKernelSteps)",
}

#: files outside tests/ allowed to import a reference* module
REFERENCE_IMPORTERS = {
    "fastnn/__main__.py": "`python -m fastnn bench` times every kernel beside its oracle",
    "fastnn/_kernels/_twin_losses.py": "the losses' NumPy twin reuses the oracle for the "
                                       "cross-entropies (deploy); a twin of its own would "
                                       "make the twin-vs-oracle test meaningful",
}


def _python_files(top):
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if d not in ("__pycache__", "build", ".git")]
        for f in filenames:
            if f.endswith(".py"):
                yield os.path.join(dirpath, f)


def _module_name(path):
    rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
    return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def _imported_modules(path):
    """Absolute names of every module ``path`` imports (also inside functions), with the
    names imported from a package counted as modules (``from . import _kernels``)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    here = _module_name(path).split(".")
    package = here if path.endswith("__init__.py") else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append(mod)
            found += [f"{mod}.{a.name}" for a in node.names]
    return found


def _rel(path):
    return os.path.relpath(path, ROOT).replace(os.sep, "/")


def _kernel_importers():
    allowed_dirs = ("fastnn/_kernels/", "fastnn/autograd/", "fastnn/optim/")
    bad = {}
    for path in _python_files(PACKAGE):
        rel = _rel(path)
        if rel.startswith(allowed_dirs):
            continue
        hits = sorted({m for m in _imported_modules(path)
                       if m == "fastnn._kernels" or m.startswith("fastnn._kernels.")})
        if hits:
            bad[rel] = hits
    return bad


def _reference_importers():
    bad = {}
    for top in (PACKAGE, os.path.join(ROOT, "asv_bench"), os.path.join(ROOT, "examples")):
        for path in _python_files(top):
            rel = _rel(path)
            if os.path.basename(path).startswith("reference"):
                continue       # the oracles may share helpers among themselves
            hits = sorted({m for m in _imported_modules(path)
                           if m.rsplit(".", 1)[-1].startswith("reference")})
            if hits:
                bad[rel] = hits
    return bad


def test_only_autograd_and_optim_import_the_kernels():
    bad = _kernel_importers()
    unexpected = {k: v for k, v in bad.items() if k not in KERNEL_IMPORTERS}
    assert not unexpected, ("these modules import fastnn._kernels; call an autograd Function "
                            f"(or optimizer) instead: {unexpected}")
    stale = sorted(set(KERNEL_IMPORTERS) - set(bad))
    assert not stale, f"no longer import _kernels: drop them from KERNEL_IMPORTERS: {stale}"


def test_nothing_outside_tests_imports_a_reference_module():
    bad = _reference_importers()
    unexpected = {k: v for k, v in bad.items() if k not in REFERENCE_IMPORTERS}
    assert not unexpected, f"production code imports a test oracle: {unexpected}"
    stale = sorted(set(REFERENCE_IMPORTERS) - set(bad))
    assert not stale, f"no longer import a reference module: drop them from the list: {stale}"


@pytest.mark.parametrize("source,expected", [
    ("from .._kernels import losses as K", {"fastnn._kernels", "fastnn._kernels.losses"}),
    ("from .. import _kernels", {"fastnn", "fastnn._kernels"}),
    ("import fastnn._kernels.linear", {"fastnn._kernels.linear"}),
    ("def f():\n    from ..._kernels.reference import relu_fwd", {"fastnn._kernels.reference"}),
])
def test_the_import_reader_resolves_relative_and_nested_imports(tmp_path, monkeypatch,
                                                                 source, expected):
    # a module at fastnn/functional/x.py (or deeper for the three-dot case)
    depth = source.count("...") and 2 or 1
    sub = os.path.join(PACKAGE, "functional", *(["pkg"] * (depth - 1)))
    path = os.path.join(sub, "x.py")
    monkeypatch.setattr("builtins.open", _fake_open(path, source))
    got = set(_imported_modules(path))
    assert expected <= got, got


def _fake_open(path, source):
    import builtins
    import io
    real = builtins.open

    def fake(p, *a, **k):
        return io.StringIO(source) if p == path else real(p, *a, **k)
    return fake


#: C wrappers that take no arrays (nothing for _ccheck to check)
NO_ARRAYS = {"_cpool.pyx": "the thread pool", "_cpufeatures.pyx": "the CPU probe"}


def test_every_c_wrapper_checks_its_arrays_in_the_shared_place():
    """Each _c*.pyx cimports its dtype/layout/size checks from _ccheck.pxd, so a
    compiled loop is never handed an array it was not built for."""
    kdir = os.path.join(PACKAGE, "_kernels")
    wrappers = sorted(f for f in os.listdir(kdir) if f.startswith("_c") and f.endswith(".pyx"))
    assert wrappers
    missing = []
    for name in wrappers:
        with open(os.path.join(kdir, name), encoding="utf-8") as f:
            src = f.read()
        if name not in NO_ARRAYS and "from fastnn._kernels._ccheck cimport" not in src:
            missing.append(name)
    assert not missing, f"C wrappers without the shared _ccheck checks: {missing}"
