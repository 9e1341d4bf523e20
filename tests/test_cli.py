"""``python -m fastnn {demo,bench,warmup}``, each run as a user would, in a subprocess."""
import re

import pytest


def test_help_lists_the_commands(run_python):
    out = run_python("from fastnn.__main__ import main; main(['--help'])", check=False)
    assert out.returncode == 0, out.stderr
    for command in ("demo", "bench", "warmup"):
        assert command in out.stdout


def test_unknown_command_is_an_error(run_python):
    out = run_python("from fastnn.__main__ import main; main(['train'])", check=False)
    assert out.returncode == 2
    assert "invalid choice" in out.stderr


def test_bench_prints_a_throughput_row_per_kernel(run_python):
    out = run_python("""
        import sys
        from fastnn.__main__ import main
        sys.exit(main(["bench", "--size", "50000", "--repeat", "1", "--threads", "1",
                       "copy", "sigmoid_fwd", "relu_fwd"]))
    """, timeout=240)
    rows = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines()[2:]}
    assert sorted(rows) == ["copy", "relu_fwd", "sigmoid_fwd"], out.stdout
    for name, cells in rows.items():
        assert float(cells[0]) > 0 and float(cells[1]) > 0, (name, cells)


def test_bench_rejects_unknown_kernel(run_python):
    out = run_python("from fastnn.__main__ import main; main(['bench', 'nosuch'])",
                     check=False)
    assert out.returncode != 0
    assert "nosuch" in out.stderr and "sigmoid_fwd" in out.stderr


def test_demo_trains_and_reports_test_accuracy(run_python):
    out = run_python("""
        import sys
        from fastnn.__main__ import main
        sys.exit(main(["demo", "--epochs", "3"]))
    """, timeout=300)
    match = re.search(r"test accuracy:? ([0-9.]+)", out.stdout)
    assert match, out.stdout[-2000:]
    assert float(match.group(1)) > 0.8, out.stdout[-2000:]


@pytest.mark.slow
def test_warmup_compiles_every_numba_kernel(run_python):
    out = run_python("""
        import sys
        from fastnn.__main__ import main
        sys.exit(main(["warmup"]))
    """, timeout=900)
    n = int(re.search(r"compiled (\d+) kernels", out.stdout).group(1))
    # the kernels a fresh process registers (this one may have built extra test kernels)
    registered = run_python("""
        import fastnn._kernels as K
        K._register_all()
        print(len(K.all_numba_kernels()))
    """).stdout.split()[-1]
    assert n == int(registered) > 0
    assert sum(line.startswith("[") for line in out.stdout.splitlines()) == n
