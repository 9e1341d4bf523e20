"""Keras-style front: layers, Sequential compile/fit/evaluate/predict/save, callbacks."""
import os

import numpy as np
import pytest

import fastnn as fn


def _blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((3, 4)) * 5
    y = rng.integers(0, 3, n)
    x = (centers[y] + rng.standard_normal((n, 4))).astype(np.float32)
    return x, y


def _model(**kw):
    return fn.models.Sequential([fn.layers.Dense(16, activation="relu", input_shape=(4,)),
                                 fn.layers.Dense(3, activation="softmax")], **kw)


def test_fit_learns_and_history_records_metrics():
    fn.manual_seed(0)
    x, y = _blobs()
    m = _model()
    m.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    h = m.fit(x, y, epochs=30, batch_size=32, verbose=0, validation_split=0.2)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(h.history["loss"]) == 30
    assert h.history["loss"][-1] < h.history["loss"][0]
    loss, acc = m.evaluate(x, y, verbose=0)
    assert acc > 0.9
    d = m.evaluate(x, y, return_dict=True)
    assert set(d) == {"loss", "accuracy"} and d["loss"] == pytest.approx(loss)


def test_accuracy_metric_picks_variant_from_shapes():
    x, y = _blobs()
    m = _model()
    m.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    m.fit(x, fn.utils.to_categorical(y, 3), epochs=10, verbose=0)
    _, acc_onehot = m.evaluate(x, fn.utils.to_categorical(y, 3))
    pred = m.predict(x)
    assert acc_onehot == pytest.approx(np.mean(pred.argmax(1) == y))
    b = fn.models.Sequential([fn.layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    b.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    yb = (y == 0).astype(np.float32)[:, None]
    b.fit(x, yb, epochs=10, verbose=0)
    _, acc_b = b.evaluate(x, yb)
    assert acc_b == pytest.approx(np.mean((b.predict(x) > 0.5) == yb))


def test_summary_before_fit(capsys):
    m = _model()
    m.summary()
    out = capsys.readouterr().out
    assert "(None, 16)" in out and "(None, 3)" in out and "Total params: 131" in out


def test_predict_shape_and_no_graph():
    x, _ = _blobs(50)
    m = _model()
    p = m.predict(x, batch_size=7)
    assert isinstance(p, np.ndarray) and p.shape == (50, 3)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)


def test_save_and_load_model_round_trip(tmp_path):
    x, y = _blobs()
    m = _model()
    m.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    m.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "model.fnn"
    m.save(path)
    assert os.path.exists(path)
    m2 = fn.models.load_model(path)
    np.testing.assert_allclose(m2.predict(x), m.predict(x), rtol=1e-6)
    assert m2.evaluate(x, y) == pytest.approx(m.evaluate(x, y))


def test_fit_raises_on_nan_loss_unless_terminate_on_nan():
    x, y = _blobs()
    x[5] = np.nan
    m = _model()
    m.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    with pytest.raises(FloatingPointError, match="NaN"):
        m.fit(x, y, epochs=1, verbose=0, shuffle=False)
    m2 = _model()
    m2.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    h = m2.fit(x, y, epochs=3, verbose=0, shuffle=False, callbacks=[fn.callbacks.TerminateOnNaN()])
    assert len(h.history["loss"]) == 1


def test_early_stopping_restores_best_weights():
    x, y = _blobs()
    m = _model()
    m.compile(loss="sparse_categorical_crossentropy", optimizer=fn.optim.get("sgd", lr=0.0))
    es = fn.callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    h = m.fit(x, y, epochs=20, verbose=0, shuffle=False, callbacks=[es])
    assert len(h.history["loss"]) == 3          # no improvement with lr=0: stops after patience
    assert es.stopped_epoch == 2


def test_model_checkpoint_writes_files(tmp_path):
    x, y = _blobs()
    m = _model()
    m.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    cb = fn.callbacks.ModelCheckpoint(str(tmp_path / "ck-{epoch:02d}.fnn"), monitor="loss")
    m.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    assert sorted(os.listdir(tmp_path)) == ["ck-01.fnn", "ck-02.fnn"]


def test_bad_input_messages():
    m = _model()
    m.compile(loss="mse")
    with pytest.raises(ValueError, match="x has 10 samples but y has 9"):
        m.fit(np.zeros((10, 4), np.float32), np.zeros((9, 3)), verbose=0)
    with pytest.raises(ValueError, match="valid names"):
        m.compile(loss="no_such_loss")
    with pytest.raises(ValueError, match="unknown activation"):
        fn.layers.Dense(3, activation="nope")


def test_demo_reaches_high_accuracy_on_digits():
    from fastnn.demo import run_demo
    assert run_demo(epochs=15, verbose=0) > 0.9


@pytest.mark.keras
def test_dense_stack_matches_keras_predict_and_loss():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x, y = _blobs(64)
    m = _model()
    km = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                           keras.layers.Dense(3, activation="softmax")])
    w = m.get_weights()     # Keras's layout: kernel (in, units)
    assert [a.shape for a in w] == [a.shape for a in km.get_weights()]
    km.set_weights(w)
    np.testing.assert_allclose(m.predict(x), km.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    km.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    m.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    kl, ka = km.evaluate(x, y, verbose=0)
    fl, fa = m.evaluate(x, y)
    assert fl == pytest.approx(kl, rel=1e-5) and fa == pytest.approx(ka)
