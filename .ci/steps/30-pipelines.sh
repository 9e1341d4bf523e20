# step: scikit-learn and Dask pipelines: install the extras, run their tests (LocalCluster on loopback)
# dask-ml only for the Incremental test; everything bounded by timeouts.
pip install ".[sklearn,dask]" dask-ml
python -c "import sklearn, dask, distributed, dask_ml; print('scikit-learn', sklearn.__version__, '| dask', dask.__version__, '| distributed', distributed.__version__, '| dask-ml', dask_ml.__version__)"
# one BLAS thread per process: the Dask workers and GridSearchCV's process workers share 2 cores
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
timeout 1800 python -m pytest -p no:cacheprovider tests/test_sklearn_mlp.py tests/test_sklearn_checks.py \
    tests/test_sklearn_pipeline.py tests/test_sklearn_readme.py tests/test_dask.py \
    fastnn/sklearn fastnn/dask.py fastnn/_importpath.py
