"""``python -m fastnn {demo,bench,warmup}``, each run as a user would, in a subprocess."""
import ast
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
@pytest.mark.parametrize("engine", ["auto", "numba"])
def test_warmup_compiles_the_numba_kernels_the_engine_needs(run_python, engine):
    """`warmup` compiles every kernel the engine in use can call (the C extensions'
    twins only where they stand in), serial builds first, then parallel ones."""
    out = run_python("""
        import sys
        from fastnn.__main__ import main
        import fastnn._kernels as K
        K.set_num_threads(2)
        main(["warmup"])
        K._register_all()
        print("in use", sorted(f"{k.module}.{k.name}" for k in K.kernels_in_use()))
        print("all", len(K.all_numba_kernels()))
        loaded = [k for k in K.kernels_in_use() if k._ser is None or k._par is None]
        print("unbuilt", len(loaded))
    """, timeout=900, env={"FASTNN_ENGINE": engine})
    n = int(re.search(r"compiled (\d+) kernels", out.stdout).group(1))
    in_use = ast.literal_eval(re.search(r"in use (\[.*\])", out.stdout).group(1))
    assert n == len(in_use)
    assert "unbuilt 0" in out.stdout
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("[")]
    assert len(lines) == 2 * n
    assert all(ln.startswith("[serial") for ln in lines[:n])
    twins = [k for k in in_use if "_nb_twins" in k]
    assert bool(twins) == (engine == "numba")


