"""The Keras-style front against Keras 3 (torch backend), same run: layers, the
functional API, optimizers, metrics, losses, fit/evaluate and the callbacks."""
import numpy as np
import pytest

import fastnn as fn


def _np(keras, t):
    return keras.ops.convert_to_numpy(t)


# --- layers ------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda L: L.Dense(5, activation="tanh"),
    lambda L: L.BatchNormalization(),
    lambda L: L.BatchNormalization(momentum=0.9, epsilon=1e-2, center=False),
    lambda L: L.LayerNormalization(),
    lambda L: L.LayerNormalization(axis=[2, 3], scale=False),
    lambda L: L.Reshape((2, -1)),
    lambda L: L.GlobalAveragePooling2D(),
    lambda L: L.GlobalMaxPooling2D(keepdims=True),
    lambda L: L.Conv2D(3, 2, padding="same", data_format="channels_first"),
    lambda L: L.MaxPooling2D(2, data_format="channels_first"),
], ids=["dense", "bn", "bn_options", "ln", "ln_two_axes", "reshape", "gap", "gmp_keepdims",
        "conv_channels_first", "pool_channels_first"])
def test_layer_matches_keras_in_training_and_inference(make, rng, keras):
    import torch
    shape = (6, 4) if "Dense" in repr(make(fn.layers)) else (6, 4, 4, 3)
    x = rng.standard_normal(shape).astype(np.float32) * 2 + 1
    ours, ref = make(fn.layers), make(keras.layers)
    ours(x)
    ref.build(shape)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in ref.get_weights()]
    w = [rng.standard_normal(a.shape).astype(np.float32) for a in ours.get_weights()]
    for i, name in enumerate(getattr(ref, "weights", [])):
        if "variance" in name.path:
            w[i] = np.abs(w[i]) + 0.5
    ours.set_weights(w)
    ref.set_weights(w)
    for training in (True, False, True):
        a = ours(x, training=training).numpy()
        b = _np(keras, ref(torch.tensor(x), training=training))
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    for a, b in zip(ours.get_weights(), ref.get_weights()):   # moving statistics included
        np.testing.assert_allclose(a, _np(keras, b), rtol=1e-5, atol=1e-6)
    assert tuple(ours.compute_output_shape((None,) + shape[1:])) == \
        tuple(ref.compute_output_shape((None,) + shape[1:]))


def test_embedding_matches_keras(rng, keras):
    import torch
    ids = rng.integers(0, 10, (4, 7))
    ours, ref = fn.layers.Embedding(10, 3), keras.layers.Embedding(10, 3)
    ref.build((None, 7))
    ref.set_weights(ours.get_weights())
    np.testing.assert_array_equal(ours(ids).numpy(), _np(keras, ref(torch.tensor(ids))))
    np.testing.assert_array_equal(ours(ids.astype(np.float32)).numpy(), ours(ids).numpy())
    assert abs(ours.get_weights()[0]).max() <= 0.05       # Keras's uniform(-0.05, 0.05)


def _two_in_two_out(L, Input, Model):
    a, b = Input((3,), name="a"), Input((2,), name="b")
    h = L.Dense(4, activation="relu")(a)
    c = L.Add()([h, L.Dense(4)(b)])
    return Model([a, b], [L.Dense(2, name="o1")(a), L.Dense(1)(c)])


def test_functional_model_matches_keras(rng, keras):
    fm = _two_in_two_out(fn.layers, fn.Input, fn.models.Model)
    # Keras numbers auto-named layers per session (fastnn per model): start a fresh one
    keras.backend.clear_session()
    km = _two_in_two_out(keras.layers, keras.Input, keras.Model)
    assert [l.name for l in fm.layers] == [l.name for l in km.layers]
    assert fm.output_names == list(km.output_names)
    km.set_weights(fm.get_weights())
    x = [rng.random((8, 3), dtype=np.float32), rng.random((8, 2), dtype=np.float32)]
    y = [rng.random((8, 2), dtype=np.float32), rng.random((8, 1), dtype=np.float32)]
    for a, b in zip(fm.predict(x, verbose=0), km.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for m in (fm, km):
        m.compile(optimizer="sgd", loss=["mse", "mae"], loss_weights=[1.0, 0.5],
                  metrics=[["mae"], ["mse"]])
    ours, ref = fm.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(ours, ref, rtol=1e-5)
    hf = fm.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    hk = km.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert list(hf.history) == list(hk.history) and hf.params == hk.params
    for k in hk.history:
        np.testing.assert_allclose(hf.history[k], hk.history[k], rtol=1e-5)
    np.testing.assert_allclose(fm.train_on_batch(x, y), km.train_on_batch(x, y), rtol=1e-5)
    np.testing.assert_allclose(fm.test_on_batch(x, y), km.test_on_batch(x, y), rtol=1e-5)
    for a, b in zip(fm.predict_on_batch(x), km.predict_on_batch(x)):
        np.testing.assert_allclose(a, _np(keras, b), rtol=1e-5, atol=1e-6)


# --- optimizers ------------------------------------------------------------------------------
OPTIMIZER_CASES = [
    ("SGD", {}), ("SGD", dict(momentum=0.9)), ("SGD", dict(momentum=0.9, nesterov=True)),
    ("RMSprop", {}), ("RMSprop", dict(centered=True, momentum=0.5)), ("Adam", {}),
    ("Adam", dict(amsgrad=True, learning_rate=0.01)), ("AdamW", {}), ("Adagrad", {}),
    ("Adadelta", dict(learning_rate=1.0)), ("Adamax", {}), ("Nadam", {}),
    ("Adam", dict(weight_decay=0.01, clipnorm=1.0)), ("SGD", dict(global_clipnorm=0.5)),
    ("RMSprop", dict(clipvalue=0.1)),
]


@pytest.mark.parametrize("name,kw", OPTIMIZER_CASES,
                         ids=[f"{n}-{'-'.join(kw)}" for n, kw in OPTIMIZER_CASES])
def test_optimizer_trajectory_matches_keras(name, kw, rng, keras):
    w0 = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)]
    kv = [keras.Variable(w.copy()) for w in w0]
    fv = [fn.nn.Parameter(w.copy()) for w in w0]
    ko, fo = getattr(keras.optimizers, name)(**kw), getattr(fn.optimizers, name)(**kw)
    for _ in range(6):
        grads = [rng.standard_normal(w.shape).astype(np.float32) for w in w0]
        ko.apply_gradients([(keras.ops.convert_to_tensor(g), v) for g, v in zip(grads, kv)])
        fo.apply_gradients(list(zip(grads, fv)))
    for k, f in zip(kv, fv):
        np.testing.assert_allclose(f.data, _np(keras, k), rtol=2e-5, atol=2e-6)
    assert fo.iterations == 6


def test_optimizer_defaults_match_keras(keras):
    for name in fn.optimizers.ALL_OPTIMIZERS:
        cls = getattr(fn.optimizers, {"sgd": "SGD", "rmsprop": "RMSprop", "adamw": "AdamW"}.get(
            name, name.capitalize()))
        ours, ref = cls().get_config(), getattr(keras.optimizers, cls.__name__)().get_config()
        for k, v in ours.items():
            if k in ref and k != "name":
                assert v == pytest.approx(ref[k]) if isinstance(v, float) else v == ref[k], (name, k)


# --- metrics and losses ------------------------------------------------------------------------
def _metric_cases():
    return [("Precision", {}), ("Recall", {}), ("Precision", dict(thresholds=[0.3, 0.7])),
            ("Recall", dict(top_k=2)), ("Precision", dict(class_id=1)), ("AUC", {}),
            ("AUC", dict(curve="PR")), ("AUC", dict(num_thresholds=10, summation_method="minoring")),
            ("AUC", dict(from_logits=True)), ("BinaryAccuracy", {}), ("TruePositives", {}),
            ("FalseNegatives", {})]


@pytest.mark.parametrize("name,kw", _metric_cases(), ids=[f"{n}-{'-'.join(k)}" for n, k in _metric_cases()])
def test_confusion_metrics_match_keras(name, kw, rng, keras):
    ours, ref = getattr(fn.metrics, name)(**kw), getattr(keras.metrics, name)(**kw)
    for _ in range(3):
        y = rng.integers(0, 2, (16, 3)).astype(np.float32)
        p = rng.random((16, 3)).astype(np.float32)
        if kw.get("from_logits"):
            p = p * 6 - 3
        sw = rng.random(16).astype(np.float32)
        ours.update_state(y, p, sample_weight=sw)
        ref.update_state(y, p, sample_weight=sw)
    np.testing.assert_allclose(ours.result(), _np(keras, ref.result()), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["MeanAbsoluteError", "MeanSquaredError", "RootMeanSquaredError",
                                  "MeanAbsolutePercentageError", "CosineSimilarity",
                                  "CategoricalAccuracy", "TopKCategoricalAccuracy",
                                  "CategoricalCrossentropy", "KLDivergence", "Hinge"])
def test_mean_metrics_match_keras(name, rng, keras):
    ours, ref = getattr(fn.metrics, name)(), getattr(keras.metrics, name)()
    for _ in range(3):
        y = fn.utils.to_categorical(rng.integers(0, 6, 8), 6)
        p = rng.dirichlet(np.ones(6), 8).astype(np.float32)
        sw = rng.random(8).astype(np.float32)
        ours.update_state(y, p, sample_weight=sw)
        ref.update_state(y, p, sample_weight=sw)
    assert ours.result() == pytest.approx(float(_np(keras, ref.result())), rel=1e-5, abs=1e-6)
    assert ours.name == ref.name


def test_sparse_accuracies_match_keras(rng, keras):
    y = rng.integers(0, 5, 20)
    p = rng.random((20, 5)).astype(np.float32)
    for name, kw in (("SparseCategoricalAccuracy", {}), ("SparseTopKCategoricalAccuracy", dict(k=2))):
        ours, ref = getattr(fn.metrics, name)(**kw), getattr(keras.metrics, name)(**kw)
        ours.update_state(y, p)
        ref.update_state(y, p)
        assert ours.result() == pytest.approx(float(_np(keras, ref.result())))


@pytest.mark.parametrize("name", ["MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
                                  "Huber", "MeanSquaredLogarithmicError"])
@pytest.mark.parametrize("y_shape", [(8,), (8, 1)])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none",
                                       "mean_with_sample_weight"])
def test_loss_targets_of_rank_one_match_keras(name, y_shape, reduction, rng, keras):
    import torch
    y = rng.random(y_shape).astype(np.float32)
    p = rng.uniform(0.05, 0.95, (8, 1)).astype(np.float32)
    sw = rng.random(8).astype(np.float32)
    ours = getattr(fn.losses, name)(reduction=reduction)(y, p, sample_weight=sw).numpy()
    ref = getattr(keras.losses, name)(reduction=reduction)(torch.tensor(y), torch.tensor(p),
                                                          sample_weight=torch.tensor(sw))
    np.testing.assert_allclose(ours, _np(keras, ref), rtol=1e-5, atol=1e-6)


def test_per_sample_loss_of_rank_one_targets_matches_keras(rng, keras):
    import torch
    y, p = rng.random(6).astype(np.float32), rng.random((6, 1)).astype(np.float32)
    for name in ("mean_squared_error", "mean_absolute_error"):
        ours = getattr(fn.losses, name)(y, p).numpy()
        ref = _np(keras, getattr(keras.losses, name)(torch.tensor(y), torch.tensor(p)))
        assert ours.shape == (6,)
        np.testing.assert_allclose(ours, ref, rtol=1e-6)


# --- fit, evaluate, callbacks -------------------------------------------------------------------
def _mlp(L, S, I):
    return S([I((5,)), L.Dense(16, activation="relu"), L.BatchNormalization(), L.Dense(1)])


def test_regression_fit_matches_keras(rng, keras):
    """targets (N,), mse/mae metrics, fn.losses.mae as a metric, validation_split=0.1 of
    1,437 samples (144 held out), SGD with momentum: the same numbers as Keras."""
    x = rng.random((1437, 5), dtype=np.float32)
    y = (x @ np.arange(5) + 3).astype(np.float32)
    fm, km = _mlp(fn.layers, fn.Sequential, fn.Input), _mlp(keras.layers, keras.Sequential, keras.Input)
    km.set_weights(fm.get_weights())
    fm.compile(optimizer=fn.optimizers.SGD(learning_rate=0.01, momentum=0.9), loss="mse",
               metrics=["mae", "mse", fn.losses.mean_absolute_error])
    km.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9), loss="mse",
               metrics=["mae", "mse", keras.losses.mean_absolute_error])
    hf = fm.fit(x, y, epochs=2, validation_split=0.1, shuffle=False, verbose=0)
    hk = km.fit(x, y, epochs=2, validation_split=0.1, shuffle=False, verbose=0)
    assert hf.params == hk.params == {"verbose": 0, "epochs": 2, "steps": 41}  # 1293 / 32
    assert list(hf.history) == list(hk.history)
    for k in hk.history:
        np.testing.assert_allclose(hf.history[k], hk.history[k], rtol=2e-5)
    for a, b in zip(fm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fm.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0), rtol=2e-5)


def test_class_and_sample_weights_match_keras(rng, keras):
    x = rng.random((40, 4), dtype=np.float32)
    y = rng.integers(0, 3, 40)
    def make(L, S, I):
        return S([I((4,)), L.Dense(3, activation="softmax")])
    fm, km = make(fn.layers, fn.Sequential, fn.Input), make(keras.layers, keras.Sequential, keras.Input)
    km.set_weights(fm.get_weights())
    for m, opt in ((fm, fn.optimizers.SGD(0.1)), (km, keras.optimizers.SGD(0.1))):
        m.compile(optimizer=opt, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    hf = fm.fit(x, y, class_weight=cw, epochs=2, batch_size=8, shuffle=False, verbose=0)
    hk = km.fit(x, y, class_weight=cw, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for k in hk.history:
        np.testing.assert_allclose(hf.history[k], hk.history[k], rtol=2e-5)
    sw = rng.random(40).astype(np.float32)
    hf = fm.fit(x, y, sample_weight=sw, epochs=2, initial_epoch=1, batch_size=8, verbose=0,
                shuffle=False)
    hk = km.fit(x, y, sample_weight=sw, epochs=2, initial_epoch=1, batch_size=8, verbose=0,
                shuffle=False)
    assert hf.epoch == hk.epoch == [1]
    for k in hk.history:
        np.testing.assert_allclose(hf.history[k], hk.history[k], rtol=2e-5)


class _FakeValLoss:
    """A callback (for either library) that writes a fixed val_loss sequence into the
    logs and records the weights at each epoch end."""

    @staticmethod
    def make(base, values):
        class Fake(base):
            def __init__(self):
                super().__init__()
                self.weights = []

            def on_epoch_end(self, epoch, logs=None):
                logs["val_loss"] = values[epoch]
                self.weights.append([np.array(w) for w in self.model.get_weights()])
        return Fake()


@pytest.mark.parametrize("values,patience", [([0.5, 0.2, 0.3, 0.4, 0.6, 0.7], 2),
                                             ([0.5, 0.4, 0.45, 0.3, 0.35], 3)],
                         ids=["stops_early", "runs_to_the_end"])
def test_early_stopping_and_checkpoint_order_match_keras(values, patience, rng, keras, tmp_path):
    """restore_best_weights restores the best epoch when training ends, stopped or not;
    a ModelCheckpoint(save_best_only=True) listed after EarlyStopping saves that epoch's
    weights."""
    x, y = rng.random((16, 3), dtype=np.float32), rng.random((16, 1), dtype=np.float32)
    results = {}
    for lib, ns in (("fastnn", fn), ("keras", keras)):
        m = ns.Sequential([ns.Input((3,)), ns.layers.Dense(1)])
        m.compile(optimizer=ns.optimizers.SGD(0.1), loss="mse")
        fake = _FakeValLoss.make(ns.callbacks.Callback, values)
        es = ns.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)
        ck = ns.callbacks.ModelCheckpoint(str(tmp_path / f"{lib}.weights.h5"), save_best_only=True,
                                          save_weights_only=True)
        h = m.fit(x, y, epochs=len(values), verbose=0, callbacks=[fake, es, ck], shuffle=False)
        best = int(np.argmin(values[:len(h.history["loss"])]))
        for a, b in zip(m.get_weights(), fake.weights[best]):
            np.testing.assert_array_equal(a, b)
        m2 = ns.Sequential([ns.Input((3,)), ns.layers.Dense(1)])
        m2.load_weights(str(tmp_path / f"{lib}.weights.h5"))
        for a, b in zip(m2.get_weights(), fake.weights[best]):
            np.testing.assert_array_equal(a, b)
        results[lib] = (len(h.history["loss"]), es.stopped_epoch, es.best_epoch, best)
    assert results["fastnn"] == results["keras"]


def test_lr_callbacks_and_csv_logger_match_keras(rng, keras, tmp_path):
    x, y = rng.random((16, 3), dtype=np.float32), rng.random((16, 1), dtype=np.float32)
    out = {}
    for lib, ns in (("fastnn", fn), ("keras", keras)):
        m = ns.Sequential([ns.Input((3,)), ns.layers.Dense(1)])
        m.compile(optimizer=ns.optimizers.SGD(0.5), loss="mse")
        cbs = [ns.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr),
               ns.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.1, patience=0,
                                              min_delta=10.0),
               ns.callbacks.CSVLogger(str(tmp_path / f"{lib}.csv"))]
        h = m.fit(x, y, epochs=3, verbose=0, callbacks=cbs)
        out[lib] = (h.history["learning_rate"], (tmp_path / f"{lib}.csv").read_text().splitlines()[0])
    np.testing.assert_allclose(out["fastnn"][0], out["keras"][0], rtol=1e-6)
    assert out["fastnn"][1] == out["keras"][1]
