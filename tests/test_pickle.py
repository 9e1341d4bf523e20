"""Pickled modules and models (what dask, joblib and multiprocessing do with them):
process-local caches are left out, weights come back 64-byte aligned, and the copy
predicts and trains bitwise like the original, in another process as in this one,
without touching the original."""
import copy
import pickle

import numpy as np
import pytest

import fastnn as fn


def _net():
    g = fn.Generator(7)
    return fn.nn.Sequential(fn.nn.Linear(6, 16, generator=g), fn.nn.ReLU(), fn.nn.Dropout(0.0),
                            fn.nn.Linear(16, 16, generator=g), fn.nn.Tanh(), fn.nn.Linear(16, 3, generator=g))


def _data():
    rng = np.random.default_rng(3)
    return rng.standard_normal((5, 6)).astype(np.float32), rng.integers(0, 3, 5)


def _snapshot(module):
    return [p.data.copy() for p in module.parameters()]


def _train_step(net, x, y):
    opt = fn.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(2):
        opt.zero_grad()
        fn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return _snapshot(net)


def _forward_nograd(net, x):
    with fn.no_grad():
        return net(x).numpy().copy()


def _plan_tag(net):
    """The no-grad plan's layout tag, when the implementation keeps one."""
    plan = net.__dict__.get("_plan")
    return plan[0] if isinstance(plan, tuple) and plan and isinstance(plan[0], int) else None


def test_sequential_drops_its_no_grad_plan_and_realigns_weights():
    net = _net()
    x, _ = _data()
    _forward_nograd(net, x)                     # builds and caches the plan
    assert net.__dict__.get("_plan") is not None
    for clone in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert clone.__dict__.get("_plan") is None
        for p in clone.parameters():
            assert p.data.ctypes.data % 64 == 0
        np.testing.assert_array_equal(_forward_nograd(clone, x), _forward_nograd(net, x))


def test_pickled_sequential_in_a_child_process_predicts_and_trains_bitwise(tmp_path, run_python):
    net = _net()
    x, y = _data()
    _forward_nograd(net, x)
    tag = _plan_tag(net)
    (tmp_path / "net.pkl").write_bytes(pickle.dumps(net))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    before = _snapshot(net)
    proc = run_python(f"""
        import pickle, numpy as np, fastnn as fn
        import fastnn.nn.module as module
        x, y = np.load("x.npy"), np.load("y.npy")
        tag = {tag!r}
        if tag is not None and hasattr(module, "_LAYOUT"):
            # the crash needs this process's layout counter to equal the pickled tag
            module._LAYOUT[0] = tag
        net = pickle.loads(open("net.pkl", "rb").read())
        assert all(p.data.ctypes.data % 64 == 0 for p in net.parameters())
        with fn.no_grad():
            np.save("pred.npy", net(x).numpy())
        opt = fn.optim.Adam(net.parameters(), lr=1e-2)
        for _ in range(2):
            opt.zero_grad()
            fn.functional.cross_entropy(net(x), y).backward()
            opt.step()
        np.savez("after.npz", *[p.data for p in net.parameters()])
    """)
    assert proc.returncode == 0
    pred = np.load(tmp_path / "pred.npy")
    np.testing.assert_array_equal(pred, _forward_nograd(net, x))
    for a, b in zip(before, _snapshot(net)):
        np.testing.assert_array_equal(a, b)     # the original is untouched
    after = np.load(tmp_path / "after.npz")
    ours = _train_step(net, x, y)
    for i, w in enumerate(ours):
        np.testing.assert_array_equal(after[f"arr_{i}"], w)


def test_in_process_copy_trains_without_touching_the_original():
    net = _net()
    x, y = _data()
    _forward_nograd(net, x)
    _train_step(net, x, y)
    before = _snapshot(net)
    clone = pickle.loads(pickle.dumps(net))
    for p, q in zip(net.parameters(), clone.parameters()):
        assert not np.shares_memory(p.data, q.data)
    got = _train_step(clone, x, y)
    for a, b in zip(before, _snapshot(net)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(_forward_nograd(net, x), _forward_nograd(pickle.loads(pickle.dumps(net)), x))
    for a, b in zip(got, _train_step(net, x, y)):
        np.testing.assert_array_equal(a, b)


def _keras_model():
    m = fn.models.Sequential([fn.layers.Dense(16, activation="relu", input_shape=(6,)),
                              fn.layers.Dropout(0.0), fn.layers.Dense(3, activation="softmax")])
    m.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return m


@pytest.mark.parametrize("where", ["child", "here"])
def test_pickled_keras_model_predicts_and_fits_bitwise(where, tmp_path, run_python):
    x, y = _data()
    m = _keras_model()
    m.fit(x, y, epochs=2, batch_size=2, shuffle=False, verbose=0)
    m.predict(x)
    blob = pickle.dumps(m)
    before = _snapshot(m)
    if where == "child":
        (tmp_path / "m.pkl").write_bytes(blob)
        np.save(tmp_path / "x.npy", x)
        np.save(tmp_path / "y.npy", y)
        run_python("""
            import pickle, numpy as np, fastnn as fn
            x, y = np.load("x.npy"), np.load("y.npy")
            m = pickle.loads(open("m.pkl", "rb").read())
            assert all(p.data.ctypes.data % 64 == 0 for p in m.parameters())
            np.save("pred.npy", m.predict(x))
            h = m.fit(x, y, epochs=2, batch_size=2, shuffle=False, verbose=0)
            np.save("loss.npy", np.array(h.history["loss"]))
            np.savez("after.npz", *[p.data for p in m.parameters()])
        """)
        pred, loss = np.load(tmp_path / "pred.npy"), np.load(tmp_path / "loss.npy")
        after = [np.load(tmp_path / "after.npz")[f"arr_{i}"] for i in range(len(before))]
    else:
        clone = pickle.loads(blob)
        assert all(p.data.ctypes.data % 64 == 0 for p in clone.parameters())
        pred = clone.predict(x)
        loss = np.array(clone.fit(x, y, epochs=2, batch_size=2, shuffle=False, verbose=0).history["loss"])
        after = _snapshot(clone)
        for a, b in zip(before, _snapshot(m)):
            np.testing.assert_array_equal(a, b)     # fitting the copy left the original alone
    np.testing.assert_array_equal(pred, m.predict(x))
    h = m.fit(x, y, epochs=2, batch_size=2, shuffle=False, verbose=0)
    np.testing.assert_array_equal(loss, h.history["loss"])
    for a, b in zip(after, _snapshot(m)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("opt_name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_pickled_net_and_optimizer_in_a_child_continue_bitwise(opt_name, tmp_path, run_python):
    """(net, optimizer) pickled together after a few steps (state and any cached packs
    exist): the copy, in another process, takes the next steps bitwise like the
    original; the original, stepped here, is untouched by the copy."""
    net = _net()
    x, y = _data()
    kw = {"momentum": 0.9} if opt_name in ("SGD", "RMSprop") else {}
    opt = getattr(fn.optim, opt_name)(net.parameters(), lr=1e-2, **kw)

    def steps(net, opt, n):
        for _ in range(n):
            opt.zero_grad()
            fn.functional.cross_entropy(net(x), y).backward()
            opt.step()

    steps(net, opt, 3)
    (tmp_path / "both.pkl").write_bytes(pickle.dumps((net, opt)))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    run_python("""
        import pickle, numpy as np, fastnn as fn
        x, y = np.load("x.npy"), np.load("y.npy")
        junk = [np.ones(1000, np.float32) for _ in range(50)]     # move the allocator on
        net, opt = pickle.loads(open("both.pkl", "rb").read())
        assert {id(p) for p in net.parameters()} == {id(p) for g in opt.param_groups for p in g["params"]}
        for _ in range(2):
            opt.zero_grad()
            fn.functional.cross_entropy(net(x), y).backward()
            opt.step()
        np.savez("after.npz", *[p.data for p in net.parameters()])
    """)
    clone_net, clone_opt = pickle.loads(pickle.dumps((net, opt)))    # and one in this process
    before = _snapshot(net)
    steps(clone_net, clone_opt, 2)
    for a, b in zip(before, _snapshot(net)):
        np.testing.assert_array_equal(a, b)
    steps(net, opt, 2)
    after = np.load(tmp_path / "after.npz")
    for i, (w, c) in enumerate(zip(_snapshot(net), _snapshot(clone_net))):
        np.testing.assert_array_equal(after[f"arr_{i}"], w)
        np.testing.assert_array_equal(c, w)
