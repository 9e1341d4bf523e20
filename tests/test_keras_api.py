"""The Keras-style front's own behaviour: functional API, naming, data sources, argument
validation (each error names what was expected and received), interrupted fit, saving,
weights and the optimizer/metric/callback objects."""
import os
import signal
import warnings

import numpy as np
import pytest

import fastnn as fn


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 4), dtype=np.float32)
    return x, (x[:, 0] * 3).astype(np.int64).clip(0, 2)


def _model(**compile_kw):
    fn.manual_seed(0)
    m = fn.Sequential([fn.Input((4,)), fn.layers.Dense(8, activation="relu"),
                       fn.layers.Dense(3, activation="softmax")])
    m.compile(**{"loss": "sparse_categorical_crossentropy", "optimizer": "adam", **compile_kw})
    return m


# --- names, layers, functional graphs ------------------------------------------------------
def test_layer_names_are_unique_per_model_as_keras():
    m = fn.Sequential([fn.layers.Dense(4, input_shape=(3,)), fn.layers.Dense(4),
                       fn.layers.Dropout(0.1), fn.layers.Dense(2)])
    assert [l.name for l in m.layers] == ["dense", "dense_1", "dropout", "dense_2"]
    m2 = fn.Sequential([fn.layers.Dense(2, input_shape=(3,))])     # a fresh model restarts
    assert m2.layers[0].name == "dense"
    assert m.get_layer("dense_1") is m.layers[1] and m.get_layer(index=-1) is m.layers[-1]
    with pytest.raises(ValueError, match=r"no such layer: 'nope'.*\['dense', 'dense_1'"):
        m.get_layer("nope")
    with pytest.raises(ValueError, match="index 7.*4 layers"):
        m.get_layer(index=7)
    with pytest.raises(ValueError, match="only a layer name or a layer index"):
        m.get_layer("dense", 0)
    with pytest.raises(ValueError, match="name 'x' is used by two layers"):
        fn.Sequential([fn.layers.Dense(2, name="x", input_shape=(3,)), fn.layers.Dense(2, name="x")])


def test_top_level_keras_names():
    assert fn.Sequential is fn.models.Sequential and fn.Model is fn.models.Model
    assert fn.Input is fn.layers.Input
    assert isinstance(fn.Input((2,)), fn.layers.KerasTensor)


def test_functional_model_dict_io_nesting_and_ops():
    a, b = fn.Input((3,), name="a"), fn.Input((3,), name="b")
    s = (a + b) * 0.5 - a / 2.0
    inner = fn.Sequential([fn.layers.Dense(2)], name="inner")
    out = {"y": inner(s), "z": fn.layers.Dense(1, name="z")(-s)}
    m = fn.models.Model({"a": a, "b": b}, out)
    assert isinstance(m, fn.models.Functional) and m.input_names == ["a", "b"]
    x = {"a": np.ones((4, 3), np.float32), "b": np.full((4, 3), 3.0, np.float32)}
    p = m.predict(x, verbose=0)
    assert set(p) == {"y", "z"} and p["y"].shape == (4, 2)
    np.testing.assert_allclose(p["y"], inner.predict(np.full((4, 3), 1.5, np.float32), verbose=0),
                               rtol=1e-6)
    np.testing.assert_allclose(m(x)["z"].numpy(), p["z"], rtol=1e-6)


def test_functional_graph_errors():
    a, b = fn.Input((2,)), fn.Input((2,))
    h = fn.layers.Dense(3)(fn.layers.Add()([a, b]))
    with pytest.raises(ValueError, match="graph disconnected"):
        fn.models.Model(a, h)
    with pytest.raises(ValueError, match="must be a KerasTensor made by fn.Input"):
        fn.models.Model(h, h)
    with pytest.raises(TypeError, match="must be KerasTensors"):
        fn.models.Model(a, np.zeros(3))
    with pytest.raises(ValueError, match=r"shape must be a tuple.*784"):
        fn.Input(784)
    m = fn.models.Model([a, b], h)
    with pytest.raises(ValueError, match=r"input 'input_layer_1' expects shape \(None, 2\), got \(4, 5\)"):
        m.predict([np.zeros((4, 2)), np.zeros((4, 5))], verbose=0)
    with pytest.raises(ValueError, match="expected a list of 2 inputs"):
        m(np.zeros((4, 2)))


def test_shared_layer_and_custom_layer_with_add_weight():
    class Scale(fn.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w",
                                     regularizer=fn.regularizers.L2(0.5))

        def call(self, inputs):
            return inputs * self.w
    x = fn.Input((3,))
    d = fn.layers.Dense(3)
    y = Scale()(d(d(x)))                         # d called twice: one weight set
    m = fn.models.Model(x, y)
    assert len(m.get_weights()) == 3 and m.count_params() == 12 + 3
    assert [n for n, _ in m.layers[-1].named_parameters()] == ["w"]
    assert m.losses[0].item() == pytest.approx(1.5)       # 0.5 * (1 + 1 + 1)
    m.compile(optimizer="sgd", loss="mse")
    h = m.fit(np.ones((4, 3), np.float32), np.zeros((4, 3), np.float32), verbose=0)
    assert h.history["loss"][0] > 1.5                     # the penalty is in the loss


def test_summary_before_fit_and_unbuilt(capsys):
    m = fn.Sequential([fn.layers.Dense(3), fn.layers.Dense(1)])
    m.summary()
    out = capsys.readouterr().out
    assert "dense (Dense)" in out and "dense_1 (Dense)" in out and "Total params: 0" in out
    m.build((None, 5))
    m.summary()
    out = capsys.readouterr().out
    assert "(None, 3)" in out and "Total params: 22 (88.00 B)" in out


def test_get_weights_are_copies_in_keras_layout():
    d = fn.layers.Dense(1, input_shape=(3,))
    w = d.get_weights()
    assert w[0].shape == (3, 1)
    w[0][...] = 7.0
    assert not np.any(d.get_weights()[0] == 7.0)          # never a view of the weights
    d.set_weights([np.arange(3, dtype=np.float32)[:, None], np.zeros(1)])
    np.testing.assert_array_equal(d.kernel.numpy()[:, 0], [0, 1, 2])
    with pytest.raises(ValueError, match=r"kernel must have shape \(3, 1\) \(in, units\), got \(1, 3\)"):
        d.set_weights([np.zeros((1, 3)), np.zeros(1)])


def test_initializers_use_keras_fans_and_seeds():
    a = fn.layers.Dense(50, kernel_initializer=fn.initializers.HeUniform(seed=1), input_shape=(200,))
    b = fn.layers.Dense(50, kernel_initializer=fn.initializers.HeUniform(seed=1), input_shape=(200,))
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])
    assert np.abs(a.get_weights()[0]).max() <= np.sqrt(6 / 200)
    t = fn.initializers.GlorotNormal(seed=0)((300, 200)).numpy()
    assert abs(t.std() - np.sqrt(2 / 500)) < 0.1 * np.sqrt(2 / 500)
    assert np.abs(t).max() <= 2 * np.sqrt(2 / 500) / 0.87962566103423978 + 1e-6
    with pytest.raises(ValueError, match="Unknown initializer 'glorot'"):
        fn.layers.Dense(2, kernel_initializer="glorot")


def test_custom_initializers_as_keras_and_their_models_save(tmp_path):
    class Constant3(fn.initializers.Initializer):       # Keras style: __call__(shape, dtype)
        def __call__(self, shape, dtype=None):
            return np.full(shape, 3.0, dtype)

    def twos(shape, dtype=None):                          # a plain callable, as Keras allows
        return np.full(shape, 2.0, dtype)

    m = fn.Sequential([fn.Input((2,)), fn.layers.Dense(3, kernel_initializer=Constant3(),
                                                         bias_initializer=twos)])
    np.testing.assert_array_equal(m.get_weights()[0], np.full((2, 3), 3.0, np.float32))
    np.testing.assert_array_equal(m.get_weights()[1], np.full(3, 2.0, np.float32))
    m.save(tmp_path / "m.fnn")
    x = np.ones((1, 2), np.float32)
    np.testing.assert_array_equal(fn.models.load_model(tmp_path / "m.fnn").predict(x, verbose=0),
                                  m.predict(x, verbose=0))
    with pytest.raises(ValueError, match=r"returned shape \(3, 3\) for a weight of shape \(2, 3\)"):
        fn.layers.Dense(3, kernel_initializer=lambda shape, dtype=None: np.ones((3, 3)),
                        input_shape=(2,))
    with pytest.raises(TypeError, match="initializer name, class, instance or callable"):
        fn.layers.Dense(2, kernel_initializer=3)


# --- data sources and inputs ----------------------------------------------------------------------
def test_uint8_images_are_cast_as_keras():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 6, 6, 1)).astype(np.uint8)
    y = rng.integers(0, 2, 32)
    m = fn.Sequential([fn.Input((6, 6, 1)), fn.layers.Conv2D(2, 3), fn.layers.Flatten(),
                       fn.layers.Dense(2)])
    m.compile(loss=fn.losses.SparseCategoricalCrossentropy(from_logits=True))
    np.testing.assert_array_equal(m.predict(x, verbose=0), m.predict(x.astype(np.float32), verbose=0))
    assert m.predict(x, verbose=0).dtype == np.float32
    m.fit(x, y, verbose=0)


def test_fit_accepts_generators_dataloaders_and_lists_of_batches():
    x, y = _data()
    m = _model()
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    h1 = m.fit(batches, epochs=2, verbose=0)
    assert len(h1.history["loss"]) == 2 and h1.params["steps"] == 4
    loader = fn.data.DataLoader(fn.data.TensorDataset(fn.tensor(x), fn.tensor(y)), batch_size=16,
                                shuffle=True, generator=fn.random.Generator(0))
    h2 = m.fit(loader, epochs=2, validation_data=loader, verbose=0)
    assert len(h2.history["val_loss"]) == 2
    assert m.evaluate(loader, verbose=0) == pytest.approx(m.evaluate(x, y, verbose=0), rel=1e-5)

    def gen():
        yield from batches
    with pytest.warns(UserWarning, match="ran out of data"):
        h3 = m.fit(gen(), epochs=3, verbose=0)         # a one-shot generator: one epoch
    assert len(h3.history["loss"]) == 1

    def forever():
        while True:
            yield from batches
    h4 = m.fit(forever(), steps_per_epoch=3, epochs=2, verbose=0)
    assert h4.params["steps"] == 3 and len(h4.history["loss"]) == 2
    with pytest.raises(ValueError, match="y and sample_weight cannot be given"):
        m.fit(gen(), y, verbose=0)
    with pytest.raises(ValueError, match="validation_split is only supported for arrays"):
        m.fit(loader, validation_split=0.2, verbose=0)


def test_validation_split_takes_the_last_samples_as_keras():
    x, y = _data(1437)
    seen = {}

    class Spy(fn.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["steps"] = self.params["steps"]
    m = _model()
    m.fit(x, y, validation_split=0.1, epochs=1, verbose=0, batch_size=1293, callbacks=[Spy()])
    assert seen["steps"] == 1                               # 1293 train, 144 validation
    with pytest.raises(ValueError, match="not enough to split"):
        m.fit(x[:1], y[:1], validation_split=0.1, verbose=0)


def test_predict_verbose_prints_progress(capsys):
    x, _ = _data()
    m = _model()
    m.predict(x, batch_size=16, verbose=1)
    assert "4/4" in capsys.readouterr().out
    m.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


# --- argument validation (as Keras, every case a clear error) -----------------------------------
@pytest.mark.parametrize("kw, exc, match", [
    (dict(batch_size=0), ValueError, r"batch_size must be a positive int, got 0"),
    (dict(batch_size=-5), ValueError, r"batch_size.*-5"),
    (dict(batch_size=2.5), ValueError, r"batch_size.*2.5"),
    (dict(epochs=-1), ValueError, r"fit: epochs must be a non-negative int, got -1"),
    (dict(epochs=1.5), TypeError, r"epochs must be a non-negative int, got float 1.5"),
    (dict(callbacks=[object()]), TypeError, r"callbacks\[0\]: expected a fn.callbacks.Callback"),
    (dict(callbacks="es"), TypeError, r"callbacks: expected a list"),
    (dict(validation_split=1.5), ValueError, r"validation_split must be a real number in \[0.0, 1.0\), got 1.5"),
    (dict(verbose=5), ValueError, r"verbose must be 0, 1, 2 or 'auto', got 5"),
    (dict(shuffle="x"), ValueError, r"shuffle must be True, False or 'batch'"),
    (dict(class_weight=[1, 2]), TypeError, r"class_weight must be a dict"),
    (dict(class_weight={-1: 2.0}), ValueError, r"class_weight keys.*-1"),
    (dict(class_weight={0: 1.0}, sample_weight=np.ones(64)), ValueError, "cannot be given together"),
    (dict(initial_epoch=-1), ValueError, r"initial_epoch must be a non-negative int, got -1"),
    (dict(sample_weight=np.ones(3)), ValueError, r"x has 64 samples but sample_weight has 3"),
    (dict(steps_per_epoch=0), ValueError, r"steps_per_epoch must be a positive int"),
    (dict(validation_freq=0), ValueError, r"validation_freq must be a positive int"),
    (dict(validation_data=(np.zeros((2, 4)),)), ValueError, r"validation_data must be \(x, y\)"),
])
def test_fit_arguments_are_validated(kw, exc, match):
    x, y = _data()
    m = _model()
    with pytest.raises(exc, match=match):
        m.fit(x, y, **{"verbose": 0, **kw})


def test_fit_evaluate_predict_shape_and_compile_errors():
    x, y = _data()
    m = _model()
    with pytest.raises(ValueError, match="x has 64 samples but y has 9"):
        m.fit(x, y[:9], verbose=0)
    with pytest.raises(ValueError, match=r"batch_size.*-5"):
        m.evaluate(x, y, batch_size=-5)
    with pytest.raises(ValueError, match=r"batch_size.*0"):
        m.predict(x, batch_size=0)
    with pytest.raises(ValueError, match=r"expected metrics to be a list.*metrics=\['accuracy'\]"):
        m.compile(loss="mse", metrics="accuracy")
    with pytest.raises(ValueError, match=r"Unknown metric 'acuracy'.*, mae,"):
        m.compile(loss="mse", metrics=["acuracy"])
    with pytest.raises(ValueError, match=r"Unknown optimizer 'adamm'.*adam"):
        m.compile(loss="mse", optimizer="adamm")
    with pytest.raises(ValueError, match=r"Unknown loss 'mse2'"):
        m.compile(loss="mse2")
    with pytest.raises(ValueError, match="steps_per_execution must be 1"):
        m.compile(loss="mse", steps_per_execution=4)
    with pytest.raises(RuntimeError, match="compile"):
        fn.Sequential([fn.layers.Dense(1)]).fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="no samples"):
        m.predict(x[:0], verbose=0)
    with pytest.raises(TypeError, match=r"only layers.*can be added.*str"):
        fn.Sequential(["dense"])


def test_keras_positional_compile_and_metric_kinds():
    x, y = _data()
    m = _model()
    m.compile("sgd", "sparse_categorical_crossentropy",
              metrics=["acc", fn.metrics.SparseTopKCategoricalAccuracy(k=2),
                       fn.metrics.sparse_categorical_accuracy])
    assert isinstance(m.optimizer, fn.optimizers.SGD)
    logs = m.evaluate(x, y, return_dict=True, verbose=0)
    assert set(logs) == {"loss", "acc", "sparse_top_k_categorical_accuracy",
                         "sparse_categorical_accuracy"}
    assert logs["acc"] == logs["sparse_categorical_accuracy"]


def test_optimizer_and_schedule_arguments():
    with pytest.raises(ValueError, match="use `learning_rate=0.1`"):
        fn.optimizers.Adam(lr=0.1)
    with pytest.raises(ValueError, match="learning_rate must be a real number >= 0"):
        fn.optimizers.SGD(learning_rate=-1)
    with pytest.raises(ValueError, match="only one of clipnorm"):
        fn.optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="use_ema=True is not supported"):
        fn.optimizers.Adam(use_ema=True)
    assert not isinstance(fn.optimizers.RMSprop(), fn.optim.Optimizer)   # Keras's, not torch's
    s = fn.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = fn.optimizers.SGD(learning_rate=s)
    w = fn.nn.Parameter(np.zeros(1, np.float32))
    for _ in range(3):
        opt.apply([np.ones(1, np.float32)], [w])
    assert w.data[0] == pytest.approx(-(0.1 + 0.05 + 0.025))
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.1
    acc = fn.optimizers.SGD(learning_rate=1.0, gradient_accumulation_steps=2)
    v = fn.nn.Parameter(np.zeros(1, np.float32))
    acc.apply([np.array([1.0], np.float32)], [v])
    assert v.data[0] == 0.0
    acc.apply([np.array([3.0], np.float32)], [v])
    assert v.data[0] == -2.0 and acc.iterations == 2


def test_fn_optim_optimizers_still_drive_fit():
    x, y = _data()
    m = _model()
    m.compile(loss="sparse_categorical_crossentropy",
              optimizer=fn.optim.SGD(m.parameters(), lr=0.5))
    cb = fn.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=1e9)
    h = m.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    assert h.history["learning_rate"] == [0.5, 0.5]     # logged before the reduction, as Keras
    assert m.optimizer.param_groups[0]["lr"] == 0.25


# --- callbacks and interrupted training ------------------------------------------------------------
def test_history_params_and_model_history():
    x, y = _data()
    m = _model()
    h = m.fit(x, y, epochs=2, batch_size=10, verbose=0)
    assert h.params == {"verbose": 0, "epochs": 2, "steps": 7} and m.history is h
    assert h.epoch == [0, 1]


class _Interrupt(fn.callbacks.Callback):
    def __init__(self, at_epoch=None, at_batch=None):
        self.at_epoch, self.at_batch = at_epoch, at_batch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.at_batch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("where", [dict(at_epoch=2), dict(at_batch=1)])
def test_interrupted_fit_keeps_a_usable_model_and_finished_epochs(where):
    x, y = _data()
    m = _model(metrics=["accuracy"])
    m.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        m.fit(x, y, epochs=5, verbose=0, callbacks=[_Interrupt(**where)])
    finished = where.get("at_epoch", 0)
    assert len(m.history.history.get("loss", [])) == finished
    assert m.history.epoch == list(range(finished))
    p = m.predict(x, verbose=0)
    assert np.isfinite(p).all() and not m.training
    h = m.fit(x, y, epochs=1, verbose=0)                  # training resumes
    assert np.isfinite(h.history["loss"][0])


def test_ctrl_c_during_a_weight_update_lands_after_it():
    """SIGINT raised in the middle of the optimizer step is held until the step has
    updated every weight, then surfaces as KeyboardInterrupt."""
    x, y = _data()
    m = _model()
    m.fit(x, y, epochs=1, verbose=0)
    opt = m.optimizer
    before = [w.copy() for w in m.get_weights()]
    step = type(opt)._update_all

    def interrupted(self, grads, variables, lr):
        os.kill(os.getpid(), signal.SIGINT)
        step(self, grads, variables, lr)
    type(opt)._update_all = interrupted
    # Python's own handler, also where this process started with SIGINT ignored (a
    # background job of a non-interactive shell)
    old_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            m.train_on_batch(x[:8], y[:8])
    finally:
        type(opt)._update_all = step
        signal.signal(signal.SIGINT, old_handler)
    assert all(not np.array_equal(a, b) for a, b in zip(before, m.get_weights()))


def test_terminate_on_nan_and_nan_error():
    x, y = _data()
    x[3] = np.nan
    m = _model()
    with pytest.raises(FloatingPointError, match="NaN"):
        m.fit(x, y, epochs=1, shuffle=False, verbose=0)
    assert np.isfinite(np.concatenate([w.ravel() for w in m.get_weights()])).all()
    h = m.fit(x, y, epochs=3, shuffle=False, verbose=0, callbacks=[fn.callbacks.TerminateOnNaN()])
    assert len(h.history["loss"]) == 1


def test_monitor_mode_auto_and_callback_argument_errors():
    with pytest.raises(ValueError, match="mode must be one of 'auto', 'min', 'max', got"):
        fn.callbacks.EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="factor >= 1.0"):
        fn.callbacks.ReduceLROnPlateau(factor=2)
    x, y = _data()
    m = _model(metrics=["accuracy"])
    es = fn.callbacks.EarlyStopping(monitor="accuracy", patience=0)
    m.fit(x, y, epochs=2, verbose=0, callbacks=[es])
    assert es._op == "max"
    with pytest.raises(ValueError, match="maximized or minimized"):
        m.fit(x, y, epochs=1, verbose=0,
              callbacks=[fn.callbacks.EarlyStopping(monitor="custom_score")])


# --- saving ------------------------------------------------------------------------------------------
def test_functional_and_nested_models_save_and_load(tmp_path):
    a, b = fn.Input((3,), name="a"), fn.Input((2,), name="b")
    inner = fn.Sequential([fn.Input((3,)), fn.layers.Dense(4, activation="relu"),
                           fn.layers.BatchNormalization()])
    h = fn.layers.Add()([inner(a), fn.layers.Dense(4)(b)])
    m = fn.models.Model([a, b], [fn.layers.Dense(1, name="out")(h), fn.layers.Dense(2)(h)])
    m.compile(optimizer=fn.optimizers.Adam(learning_rate=0.01), loss=["mse", "mae"],
              metrics=[["mae"], []])
    x = [np.ones((5, 3), np.float32), np.ones((5, 2), np.float32)]
    m.fit(x, [np.zeros((5, 1)), np.zeros((5, 2))], epochs=2, verbose=0)
    path = tmp_path / "m.fnn"
    m.save(path)
    m2 = fn.models.load_model(path)
    for p, q in zip(m.predict(x, verbose=0), m2.predict(x, verbose=0)):
        np.testing.assert_array_equal(p, q)
    assert [l.name for l in m2.layers] == [l.name for l in m.layers]
    assert m2.optimizer.learning_rate == 0.01 and m2.compiled
    with pytest.warns(UserWarning, match="fastnn's own format"):
        m.save(tmp_path / "model.keras")
    np.testing.assert_array_equal(fn.models.load_model(tmp_path / "model.keras").predict(x, verbose=0)[0],
                                  m.predict(x, verbose=0)[0])
    with pytest.raises(FileExistsError):
        m.save(path, overwrite=False)


def test_subclassed_and_custom_layer_models_refuse_save(tmp_path):
    class Net(fn.models.Model):
        def __init__(self):
            super().__init__()
            self.d = fn.layers.Dense(2)

        def call(self, inputs):
            return self.d(inputs)
    net = Net()
    net.build((None, 3))
    with pytest.raises(ValueError, match="subclassed model.*save_weights"):
        net.save(tmp_path / "n.fnn")
    net.save_weights(tmp_path / "n.fnn")
    other = Net()
    other.build((None, 3))
    other.load_weights(tmp_path / "n.fnn")
    for p, q in zip(net.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(p, q)


def test_pickled_optimizer_keeps_state_by_position():
    """An unpickled model and its optimizer continue exactly like the original (state is
    kept by the variables' positions, not their ids)."""
    import pickle
    x, y = _data()
    for opt in ("adam", "rmsprop", "sgd"):
        m = _model(optimizer=opt)
        m.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
        clone = pickle.loads(pickle.dumps(m))
        h1 = m.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
        h2 = clone.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
        assert h1.history["loss"] == h2.history["loss"], opt
        for a, b in zip(m.get_weights(), clone.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_sequential_inference_uses_the_nn_no_grad_plan():
    """Under no_grad in inference, Dense/ReLU/Dropout runs go through fn.nn.Sequential's
    plan (the same numbers as the layer-by-layer path), rebuilt when a weight changes."""
    from fastnn.nn import _nograd
    fn.manual_seed(0)
    m = fn.Sequential([fn.Input((6,)), fn.layers.Dense(8, activation="relu"),
                       fn.layers.Dropout(0.5), fn.layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).random((2, 6), dtype=np.float32)
    loop = x
    for layer in m.layers:
        loop = layer(loop, training=False)
    m.eval()
    with fn.no_grad():
        np.testing.assert_allclose(m(x).numpy(), loop.numpy(), rtol=1e-6)
    plan = m._plan[1]
    assert plan[0][0] == _nograd.DENSE           # one fused run: Dense+ReLU, Dropout, Dense
    m.layers[0].weight = fn.nn.Parameter(np.zeros((8, 6), np.float32))
    with fn.no_grad():
        np.testing.assert_allclose(m(x).numpy(), np.full((2, 3), 1 / 3), rtol=1e-6)
    np.testing.assert_array_equal(m.predict(x, verbose=0), m.predict_on_batch(x))
