"""The PyTorch-style examples (examples/pytorch/): each fastnn script is its torch twin
with only the import lines changed, runs to completion, and reaches the torch
version's accuracy (R^2 for the regression) within 0.02. Runs are kept short (few
epochs, the shipped digits): CI has 2 cores."""
import os
import re
import subprocess
import sys

import pytest

from conftest import subprocess_env

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(os.path.dirname(HERE), "examples", "pytorch")

# script stem -> (arguments for a short run, the line holding the result)
RUNS = {
    "mnist_cnn": (["--epochs", "2", "--log-interval", "1000"], r"final test accuracy: ([0-9.]+)"),
    "mlp_regression": (["--epochs", "8", "--train-size", "2000"], r"final test R\^2: ([-0-9.]+)"),
}


def _code_lines(path):
    """The script's lines after its module docstring."""
    with open(path) as f:
        text = f.read()
    body = text.split('"""', 2)[2]
    return body.splitlines()


def _is_import(line):
    return line.startswith(("import ", "from ")) or not line.strip()


@pytest.mark.parametrize("stem", sorted(RUNS))
def test_fastnn_example_is_the_torch_one_with_other_imports(stem):
    ours = _code_lines(os.path.join(EXAMPLES, f"{stem}.py"))
    theirs = _code_lines(os.path.join(EXAMPLES, f"{stem}_torch.py"))
    assert len(ours) == len(theirs)
    diff = [(a, b) for a, b in zip(ours, theirs) if a != b]
    assert diff, "the two versions are identical: the fastnn one must import fastnn"
    for a, b in diff:
        assert _is_import(a) and _is_import(b), f"non-import line differs:\n  {a}\n  {b}"
        assert a.startswith(("import fastnn", "from fastnn")) or not a.strip(), a


def _run(script, args):
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, script)] + args,
                          capture_output=True, text=True, timeout=900, env=subprocess_env(),
                          stdin=subprocess.DEVNULL, cwd=EXAMPLES)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


_results = {}


def _result(stem, suffix=""):
    key = stem + suffix
    if key not in _results:
        args, pattern = RUNS[stem]
        out = _run(f"{key}.py", args)
        m = re.search(pattern, out)
        assert m, f"{key}.py printed no result:\n{out[-2000:]}"
        _results[key] = float(m.group(1))
    return _results[key]


@pytest.mark.slow
def test_mnist_cnn_example_learns():
    assert _result("mnist_cnn") > 0.9


@pytest.mark.slow
def test_mlp_regression_example_learns():
    assert _result("mlp_regression") > 0.8


@pytest.mark.slow
@pytest.mark.parametrize("stem", sorted(RUNS))
def test_example_matches_torch_within_0_02(torch, stem):
    ours, theirs = _result(stem), _result(stem, "_torch")
    assert abs(ours - theirs) <= 0.02, f"{stem}: fastnn {ours:.4f}, torch {theirs:.4f}"
