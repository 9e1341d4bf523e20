"""Doctest collection under fastnn/: the modules of an optional extra are skipped
where that extra's dependency is not installed (the first CI step runs without them)."""
import importlib.util

collect_ignore_glob = []
if importlib.util.find_spec("sklearn") is None:
    collect_ignore_glob.append("fastnn/sklearn/*.py")
if importlib.util.find_spec("dask") is None or importlib.util.find_spec("sklearn") is None:
    collect_ignore_glob.append("fastnn/dask.py")
