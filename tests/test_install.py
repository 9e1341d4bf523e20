"""Installing fastnn as a new user would: fresh virtual environments, the README's
commands verbatim from the checkout root, and an install without a C compiler.

Slow (each builds or installs fastnn; pip fetches the build requirements), so marked
``slow`` and ``install``; CI runs them once, in its first step.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.install]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")


def _checkout_copy(dest):
    """What a fresh clone holds: the tracked (and new, not ignored) files, no build output."""
    if not os.path.isfile(os.path.join(ROOT, "setup.py")):
        pytest.skip("not run from a source checkout")
    try:
        files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                               capture_output=True, check=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs git to list the checkout's files")
    for f in filter(None, files):
        src = os.path.join(ROOT, f)
        if os.path.isfile(src):
            os.makedirs(os.path.join(dest, os.path.dirname(f)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, f))
    return dest


def _venv(path):
    subprocess.run([sys.executable, "-m", "venv", path], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FASTNN_", "PYTHON", "VIRTUAL_ENV", "NUMBA_"))}
    env["PATH"] = os.path.join(path, "bin") + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = path
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["NUMBA_CACHE_DIR"] = os.path.join(path, "numba-cache")
    return env


def _sh(cmd, cwd, env, timeout=1800):
    p = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    return p


def _readme_commands():
    """The indented shell commands of the README's set-up section, in order."""
    with open(README) as f:
        text = f.read()
    section = text.split("## Set up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return [ln.strip() for ln in section.splitlines() if ln.startswith("    ") and ln.strip()]


def test_readme_first_command_works_from_the_checkout_root(tmp_path):
    """`pip install . && python -m fastnn demo` in a fresh clone's root, where Python puts
    the unbuilt source tree first on sys.path: it must run on the installed C kernels,
    as must `bench`, `warmup`, `info` and a script run from there."""
    first = _readme_commands()[0]
    assert first == "pip install . && python -m fastnn demo", first
    clone = _checkout_copy(str(tmp_path / "clone"))
    env = _venv(str(tmp_path / "venv"))
    # one build for this CPU instead of the three ISA levels: this test is about running
    # the command from the checkout root; the per-ISA wheel has its own CI step
    # (.ci/steps/50-portable-wheel.sh), and the CI's own install is the default build
    env["FASTNN_ARCH"] = "native"
    p = _sh(first, clone, env)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert re.search(r"test accuracy 0\.9\d", p.stdout), p.stdout[-2000:]
    assert "C kernels unavailable" not in p.stderr, p.stderr[-2000:]
    with open(os.path.join(clone, "train.py"), "w") as f:
        f.write("import fastnn as fn\n"
                "from fastnn._kernels import engine\n"
                "x, y = fn.datasets.load_digits()\n"
                "m = fn.models.Sequential([fn.layers.Flatten(input_shape=(8, 8)),\n"
                "                          fn.layers.Dense(10, activation='softmax')])\n"
                "m.compile(loss='sparse_categorical_crossentropy', optimizer='adam')\n"
                "m.fit(x / 16.0, y, epochs=1, verbose=0)\n"
                "print('engine', engine.config()['kernels_from'], engine.isa())\n")
    for cmd, want in (("python -m fastnn info", "C, "),
                      ("python -m fastnn bench --size 100000 --repeat 3 tanh_fwd relu_fwd", "tanh_fwd"),
                      ("python -m fastnn warmup", "compiled"),
                      ("python train.py", "engine installed copy")):
        p = _sh(cmd, clone, env)
        assert p.returncode == 0, cmd + "\n" + p.stdout[-2000:] + p.stderr[-2000:]
        assert want in p.stdout, cmd + "\n" + p.stdout[-2000:]
        assert "C kernels unavailable" not in p.stderr, cmd + "\n" + p.stderr[-2000:]


def test_install_without_a_compiler_warns_once_and_runs_on_the_twins(tmp_path):
    clone = _checkout_copy(str(tmp_path / "clone"))
    env = _venv(str(tmp_path / "venv"))
    env["CC"] = "/nonexistent/bin/cc"          # no C compiler
    p = _sh("pip install -v .", clone, env)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    out = p.stdout + p.stderr
    assert out.count("fastnn: could not compile its C kernels") == 1, out[-4000:]
    assert "Numba/NumPy engine" in out
    p = _sh("python -W always -c 'import numpy as np, fastnn.functional as F; "
            "x = np.linspace(-3, 3, 1001, dtype=np.float32); "
            "np.testing.assert_allclose(F.tanh(x).numpy(), np.tanh(x), rtol=1e-6); "
            "print(F.cross_entropy(np.eye(3, dtype=np.float32), [0, 1, 2]).item())'",
            str(tmp_path), env)
    assert p.returncode == 0, p.stderr[-3000:]
    warns = [ln for ln in p.stderr.splitlines() if "RuntimeWarning" in ln]
    assert len(warns) == 1 and "without its C kernels" in warns[0], p.stderr
    p = _sh("python -m fastnn info", str(tmp_path), env)
    assert p.returncode == 0 and "C kernels: none built" in p.stdout, p.stdout + p.stderr
    site = _sh("python -c 'import fastnn, os; print(os.path.dirname(fastnn.__file__))'",
               str(tmp_path), env).stdout.strip()
    built = [f for _, _, fs in os.walk(site) for f in fs if f.endswith(".so")]
    assert built == [], built
