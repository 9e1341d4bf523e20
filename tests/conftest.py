"""Shared fixtures for fastnn's test suite.

* Which fastnn is tested: the checkout's sources, always (``python -m pytest`` puts the
  repository root first on ``sys.path``, and the doctests are collected from
  ``fastnn/``). Their compiled extensions come from the checkout when built there
  (``python setup.py build_ext --inplace``), else from the installed copy that
  ``pip install .`` built from the same sources. Child interpreters (``run_python``)
  import a complete package: the checkout when built, else the installed copy.
* Parity oracles: a test that takes the ``torch`` or ``keras`` fixture is skipped when
  that package is missing and is marked ``torch`` / ``keras``, so
  ``pytest -m "torch or keras"`` runs exactly the parity tests. Keras runs on the torch
  backend (``KERAS_BACKEND=torch`` unless already set).
* ``run_python``: run a snippet in a fresh interpreter with a timeout, so an abort or a
  hang fails one test instead of killing or blocking the suite.
"""
import glob
import importlib.abc
import importlib.machinery
import os
import subprocess
import sys
import textwrap

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _unbuilt_extensions():
    """Extension sources in the checkout (fastnn/_kernels/_c*.pyx) with no built module."""
    kdir = os.path.join(_ROOT, "fastnn", "_kernels")
    missing = []
    for pyx in glob.glob(os.path.join(kdir, "_c*.pyx")):
        stem = os.path.splitext(pyx)[0]
        if not glob.glob(stem + ".*.so") + glob.glob(stem + ".*.pyd") + glob.glob(stem + ".so"):
            missing.append(os.path.basename(stem))
    return missing


def _installed_package_dir():
    """The ``fastnn`` directory of an installed copy (not the checkout), or None."""
    paths = [p for p in sys.path if os.path.abspath(p or os.curdir) != _ROOT]
    spec = importlib.machinery.PathFinder.find_spec("fastnn", paths)
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


class _InstalledExtensionFinder(importlib.abc.MetaPathFinder):
    """Finds fastnn's compiled extension modules in the installed copy. Last on
    ``sys.meta_path``: only what the checkout lacks (its unbuilt extensions) is
    taken from there; every Python module still comes from the checkout."""

    def __init__(self, package_dir):
        self.package_dir = package_dir

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("fastnn."):
            return None
        parts = fullname.split(".")[1:]
        spec = importlib.machinery.PathFinder.find_spec(
            fullname, [os.path.join(self.package_dir, *parts[:-1])])
        if spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            return spec
        return None


_UNBUILT = _unbuilt_extensions()
_INSTALLED = _installed_package_dir() if _UNBUILT else None
if _UNBUILT and _INSTALLED is None:
    pytest.exit(f"fastnn's C extensions {_UNBUILT} are not built: run `pip install .` or "
                "`python setup.py build_ext --inplace` first.", returncode=4)
if _INSTALLED is not None and "fastnn" not in sys.modules:
    sys.meta_path.append(_InstalledExtensionFinder(_INSTALLED))

import fastnn._kernels  # noqa: E402  (after the import set-up above)

#: Directory holding a complete ``fastnn`` package (what child interpreters import).
FASTNN_PARENT = os.path.dirname(_INSTALLED) if _INSTALLED else _ROOT


def pytest_report_header(config):
    src = os.path.dirname(os.path.abspath(fastnn.__file__))
    lines = [f"fastnn under test: {src}"]
    if _INSTALLED:
        lines.append(f"  compiled extensions {_UNBUILT} and subprocesses: {_INSTALLED}")
    return lines


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = getattr(item, "fixturenames", ())
        for oracle in ("torch", "keras"):
            if oracle in names:
                item.add_marker(getattr(pytest.mark, oracle))


@pytest.fixture(scope="session")
def torch():
    """The torch module (parity oracle); skips the test where torch is not installed."""
    return pytest.importorskip("torch")


@pytest.fixture(scope="session")
def keras():
    """The keras module on the torch backend; skips the test where keras is not installed."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


@pytest.fixture(scope="session")
def fastnn_package_dir():
    """Directory of a complete ``fastnn`` package, extensions included (the one that
    child interpreters import)."""
    return os.path.join(FASTNN_PARENT, "fastnn")


@pytest.fixture
def rng():
    """A fresh, seeded NumPy generator per test."""
    import numpy as np
    return np.random.default_rng(20240601)


@pytest.fixture
def fastnn_threads():
    """Set fastnn's thread count inside a test; the previous count is restored after."""
    from fastnn._kernels import threads
    old = threads.get_num_threads()
    yield threads.set_num_threads
    threads.set_num_threads(old)


def subprocess_env(**overrides):
    """Environment for a child interpreter that imports the fastnn under test."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (FASTNN_PARENT, env.get("PYTHONPATH", "")) if p)
    env.update({k: str(v) for k, v in overrides.items()})
    return env


@pytest.fixture
def run_python(tmp_path):
    """``run_python(code, timeout=60, env=None, cwd=None)`` runs ``code`` in a new
    interpreter (environment: this one's, plus the ``env`` overrides) and returns the
    CompletedProcess; fails the test on a timeout or a non-zero exit (``check=False``
    returns it regardless)."""

    def run(code, timeout=60, env=None, cwd=None, check=True):
        code = textwrap.dedent(code)
        try:
            proc = subprocess.run(
                [sys.executable, "-c", code], cwd=cwd or tmp_path,
                env=subprocess_env(**(env or {})),
                capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"subprocess hung: no exit within {timeout} s\n"
                        f"stdout:\n{e.stdout}\nstderr:\n{e.stderr}")
        if check and proc.returncode != 0:
            pytest.fail(f"subprocess exited with {proc.returncode}\n"
                        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    return run
