"""The README's "Pipelines" examples run as written (each block in a fresh interpreter)."""
import os
import re

import pytest

pytest.importorskip("sklearn")

_README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def _blocks():
    text = open(_README, encoding="utf-8").read()
    section = text.split("\n## Pipelines\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_readme_has_the_pipeline_examples():
    blocks = _blocks()
    assert any("GridSearchCV" in b and "Pipeline" in b or "make_pipeline" in b for b in blocks)
    assert any("fastnn.dask.predict" in b for b in blocks)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_pipeline_example_runs(index, run_python):
    code = _blocks()[index]
    if "dask" in code:
        pytest.importorskip("distributed")
    proc = run_python(code, timeout=600,
                      env={"OPENBLAS_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"})
    assert proc.stdout.strip()
