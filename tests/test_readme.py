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


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_readme_snippet_runs(index, run_python, tmp_path):
    code = _python_blocks()[index]
    out = run_python(code, timeout=600, cwd=str(tmp_path))
    assert "Traceback" not in out.stderr, out.stderr
