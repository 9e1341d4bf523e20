"""The README's Python snippets run as written, each in a fresh interpreter."""
import os
import re

import pytest

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def _python_blocks():
    with open(README) as f:
        text = f.read()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_has_python_snippets():
    assert len(_python_blocks()) >= 2


# a snippet of an optional extra's section needs that extra installed: the CI step
# that installs it (.ci/steps/30-pipelines.sh) runs these snippets again
_EXTRAS = {"sklearn": "sklearn", "dask": "dask", "fastnn.sklearn": "sklearn",
           "fastnn.dask": "dask", "mpi4py": "mpi4py"}


def _needs(code):
    mods = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", code, flags=re.M)
    return sorted({_EXTRAS[m] for m in mods if m in _EXTRAS}
                  | {_EXTRAS[m.split(".")[0]] for m in mods if m.split(".")[0] in _EXTRAS})


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_readme_snippet_runs(index, run_python, tmp_path):
    code = _python_blocks()[index]
    for mod in _needs(code):
        pytest.importorskip(mod, reason=f"this README snippet needs the optional {mod}")
    out = run_python(code, timeout=600, cwd=str(tmp_path))
    assert "Traceback" not in out.stderr, out.stderr
