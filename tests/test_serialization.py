"""fn.save / fn.load: nested state round-trips exactly, without pickle."""
import numpy as np
import pytest

import fastnn as fn


def test_round_trip_nested_state(tmp_path):
    state = {
        "state": {0: {"step": 3, "exp_avg": np.arange(4, dtype=np.float32)},
                  1: {"step": 3, "exp_avg": np.zeros((2, 2), np.float64)}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False, "name": None,
                          "params": [0, 1], "eps": float("nan")}],
        "ints": np.array([1, 2], np.int64), "scalar": np.float32(2.5),
    }
    p = tmp_path / "opt.fnn"
    fn.save(state, p)
    out = fn.load(p)
    assert set(out["state"]) == {0, 1}
    np.testing.assert_array_equal(out["state"][0]["exp_avg"], state["state"][0]["exp_avg"])
    assert out["state"][1]["exp_avg"].dtype == np.float64
    g = out["param_groups"][0]
    assert g["betas"] == (0.9, 0.999) and g["amsgrad"] is False and g["name"] is None
    assert np.isnan(g["eps"]) and g["lr"] == 1e-3
    assert out["ints"].dtype == np.int64 and out["scalar"] == 2.5


def test_model_state_dict_round_trip(tmp_path):
    m = fn.nn.Linear(3, 2)
    fn.save(m.state_dict(), tmp_path / "m")
    assert (tmp_path / "m").exists()           # written to exactly the path
    m2 = fn.nn.Linear(3, 2, generator=fn.Generator(99))
    m2.load_state_dict(fn.load(tmp_path / "m"))
    np.testing.assert_array_equal(m2.weight.numpy(), m.weight.numpy())


def test_truncated_and_foreign_files_name_the_file(tmp_path):
    p = tmp_path / "good.fnn"
    fn.save({"w": np.ones(1000)}, p)
    data = p.read_bytes()
    bad = tmp_path / "truncated.fnn"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.fnn"):
        fn.load(bad)
    foreign = tmp_path / "foreign.bin"
    foreign.write_bytes(b"\x80\x04K\x01.")      # a pickle stream
    with pytest.raises(ValueError, match="foreign.bin"):
        fn.load(foreign)


def test_unsupported_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match="object arrays"):
        fn.save({"a": np.array([object()])}, tmp_path / "x")
    with pytest.raises(TypeError, match="set"):
        fn.save({"a": {1, 2}}, tmp_path / "x")
