# step: scikit-learn and Dask pipelines: the [sklearn,dask] extras, their tests (LocalCluster on loopback)
# The extras' requirements are read from the installed fastnn's metadata (what
# `pip install ".[sklearn,dask]"` would add) so fastnn is not rebuilt; dask-ml only
# for the Incremental test. Every wait is bounded (pytest under `timeout`, the Dask
# tests' own timeouts).
python - > "${FASTNN_CI_WORK:-/tmp}/pipelines-requirements.txt" <<'PY'
import importlib.metadata as md
import re
want = {"sklearn", "dask"}
reqs = [r.split(";")[0].strip() for r in md.requires("fastnn") or []
        if (m := re.search(r"extra\s*==\s*['\"](\w+)['\"]", r)) and m.group(1) in want]
assert reqs, "fastnn's metadata declares no [sklearn]/[dask] extras"
print("\n".join(reqs))
PY
cat "${FASTNN_CI_WORK:-/tmp}/pipelines-requirements.txt"
pip install -r "${FASTNN_CI_WORK:-/tmp}/pipelines-requirements.txt" dask-ml "pytest>=7"
python -c "import sklearn, dask, distributed, dask_ml; print('scikit-learn', sklearn.__version__, '| dask', dask.__version__, '| distributed', distributed.__version__, '| dask-ml', dask_ml.__version__)"
# one BLAS thread per process: the Dask workers and GridSearchCV's process workers share 2 cores
export OPENBLAS_NUM_THREADS=1
timeout 2400 python -m pytest -p no:cacheprovider --durations=10 \
    tests/test_sklearn_mlp.py tests/test_sklearn_checks.py tests/test_sklearn_pipeline.py \
    tests/test_sklearn_readme.py tests/test_readme.py tests/test_dask.py fastnn/sklearn fastnn/dask.py \
    fastnn/_importpath.py
