# step: the README's test command, verbatim: pip install ".[test]" && python -m pytest
pip install ".[test]" && python -m pytest
