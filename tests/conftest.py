"""Shared fixtures for fastnn's test suite.

* Which fastnn is tested: the in-tree package when its C extensions are built there
  (``setup.py build_ext --inplace``), otherwise the installed one. ``python -m pytest``
  puts the repository root first on ``sys.path``; on a fresh checkout that holds only
  the sources, so after ``pip install .`` the tests must import the installed copy.
* Parity oracles: a test that takes the ``torch`` or ``keras`` fixture is skipped when
  that package is missing and is marked ``torch`` / ``keras``, so
  ``pytest -m "torch or keras"`` runs exactly the parity tests. Keras runs on the torch
  backend (``KERAS_BACKEND=torch`` unless already set).
* ``run_python``: run a snippet in a fresh interpreter that imports the same fastnn
  as this process, with a timeout, so an abort or a hang fails one test instead of
  killing or blocking the suite.
"""
import glob
import os
import subprocess
import sys
import textwrap

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _in_tree_is_built():
    ext = glob.glob(os.path.join(_ROOT, "fastnn", "_kernels", "_celementwise*.so"))
    ext += glob.glob(os.path.join(_ROOT, "fastnn", "_kernels", "_celementwise*.pyd"))
    return bool(ext)


if "fastnn" not in sys.modules and not _in_tree_is_built():
    # Unbuilt sources in the checkout: test the installed package instead.
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _ROOT]

import fastnn._kernels  # noqa: E402  (after the sys.path decision above)

#: Directory holding the ``fastnn`` package under test (what subprocesses must import).
FASTNN_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(fastnn._kernels.__file__))))


def pytest_report_header(config):
    return f"fastnn under test: {os.path.join(FASTNN_PARENT, 'fastnn')}"


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
