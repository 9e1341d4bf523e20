"""The Keras-style example scripts in examples/keras: each fastnn script is its Keras 3
twin with only the import lines changed, and reaches the twin's accuracy (within 0.02)
when both run here."""
import difflib
import importlib.util
import os

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "examples", "keras")
PAIRS = [("mnist_convnet", ["--epochs", "3", "--batch-size", "32", "--verbose", "0"]),
         ("mlp_regression", ["--epochs", "30", "--verbose", "0"])]


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(EXAMPLES,
                                                                                 f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _code_lines(name):
    """The lines of code (the docstring, which says which library it is, left out)."""
    text = open(os.path.join(EXAMPLES, f"{name}.py")).read()
    return text.split('"""', 2)[2].splitlines()


@pytest.mark.parametrize("name", [p[0] for p in PAIRS])
def test_fastnn_example_is_its_keras_twin_with_other_imports(name):
    changed = [line for line in difflib.unified_diff(_code_lines(name),
                                                     _code_lines(f"{name}_keras"), lineterm="")
               if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed, "the two versions should differ in their imports"
    for line in changed:
        assert line[1:].startswith(("import ", "from ")), line


_RESULTS = {}


def _fastnn_result(name, args):
    if name not in _RESULTS:
        _RESULTS[name] = _load(name).main(args)
    return _RESULTS[name]


@pytest.mark.slow
def test_convnet_example_learns():
    assert _fastnn_result(*PAIRS[0]) > 0.93


@pytest.mark.slow
def test_mlp_regression_example_learns():
    accuracy, mae = _fastnn_result(*PAIRS[1])
    assert accuracy > 0.95 and mae < 1.0


@pytest.mark.slow
@pytest.mark.parametrize("name,args", PAIRS, ids=[p[0] for p in PAIRS])
def test_example_matches_its_keras_twin(name, args, keras):
    ours = _fastnn_result(name, args)
    ref = _load(f"{name}_keras").main(args)
    if name == "mlp_regression":
        (ours, ours_mae), (ref, ref_mae) = ours, ref
        assert abs(ours_mae - ref_mae) < 0.2, (ours_mae, ref_mae)
    assert abs(ours - ref) <= 0.02, (ours, ref)


@pytest.mark.slow
def test_example_models_train_as_keras_from_the_same_weights(keras):
    """Seeds differ between the libraries, so the runs above agree only statistically;
    from the same weights, without shuffling, the trajectories are the same numbers."""
    ours_mod, ref_mod = _load("mlp_regression"), _load("mlp_regression_keras")
    (x, y), (x_test, y_test) = ours_mod.load_data()
    for build, loss, opt, metric in [
            ("classifier", "SparseCategoricalCrossentropy", "RMSprop", "accuracy"),
            ("regressor", "MeanAbsoluteError", "Adam", "mse")]:
        ours, ref = getattr(ours_mod, build)(), getattr(ref_mod, build)()
        ref.set_weights(ours.get_weights())
        for m, lib in ((ours, ours_mod.keras), (ref, keras)):
            m.compile(optimizer=getattr(lib.optimizers, opt)(learning_rate=1e-3),
                      loss=getattr(lib.losses, loss)(), metrics=[metric])
        target = y.astype("float32")
        h_ours = ours.fit(x, target, batch_size=64, epochs=4, validation_split=0.1,
                          shuffle=False, verbose=0)
        h_ref = ref.fit(x, target, batch_size=64, epochs=4, validation_split=0.1,
                        shuffle=False, verbose=0)
        assert list(h_ours.history) == list(h_ref.history)
        for k in h_ref.history:
            np.testing.assert_allclose(h_ours.history[k], h_ref.history[k], rtol=2e-4)
        np.testing.assert_allclose(ours.evaluate(x_test, y_test.astype("float32"), verbose=0),
                                   ref.evaluate(x_test, y_test.astype("float32"), verbose=0),
                                   rtol=2e-4)
