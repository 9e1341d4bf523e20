# step: the whole suite again on the fallback engine (FASTNN_ENGINE=numba: every C kernel family on its Numba/NumPy twin)
# Runs after the parity step, so the torch/Keras parity tests check the twins too; the
# install tests (fresh venvs, their own processes: no engine of this one) ran in step 10.
# The C-vs-twin comparisons (tests/test_engine.py) load the C builds whatever the engine.
FASTNN_ENGINE=numba python -c "import fastnn; fastnn.show_config()"
FASTNN_ENGINE=numba timeout 3000 python -m pytest -q -p no:cacheprovider -m "not install"
