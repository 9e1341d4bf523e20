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


# --- file objects, format version ------------------------------------------------------
def test_file_objects_round_trip(tmp_path):
    import io
    state = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "k": (1, "a", None)}
    buf = io.BytesIO()
    fn.save(state, buf)
    out = fn.load(io.BytesIO(buf.getvalue()))
    np.testing.assert_array_equal(out["w"], state["w"])
    assert out["k"] == (1, "a", None)
    with open(tmp_path / "f.fnn", "wb") as fh:
        fn.save(state, fh)
    with open(tmp_path / "f.fnn", "rb") as fh:
        assert fn.load(fh)["k"] == (1, "a", None)

    class Pipe(io.RawIOBase):           # a non-seekable stream (a socket, a pipe)
        def __init__(self, data):
            self.src = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self.src.readinto(b)

    assert fn.load(Pipe(buf.getvalue()))["k"] == (1, "a", None)

    class Sink(io.RawIOBase):           # a non-seekable writer
        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def write(self, b):
            self.data += bytes(b)
            return len(b)

    sink = Sink()
    fn.save(state, sink)
    np.testing.assert_array_equal(fn.load(io.BytesIO(bytes(sink.data)))["w"], state["w"])
    with pytest.raises(fn.LoadError, match="longer than max_bytes=100"):
        fn.load(Pipe(buf.getvalue()), max_bytes=100)


def test_loaded_arrays_are_aligned_native_and_writable(tmp_path):
    big_endian = np.arange(5, dtype=">f8")
    fn.save({"a": np.ones((3, 7), np.float32), "b": big_endian,
             "f": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "e": np.zeros((0, 4))}, tmp_path / "x")
    out = fn.load(tmp_path / "x")
    for k in ("a", "b", "f"):
        assert out[k].ctypes.data % 64 == 0 and out[k].flags.writeable and out[k].dtype.isnative
    np.testing.assert_array_equal(out["b"], big_endian)
    np.testing.assert_array_equal(out["f"], np.arange(6.0).reshape(2, 3))
    assert out["e"].shape == (0, 4)


def _rewrite_manifest(src, dst, edit):
    import json
    import zipfile
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "manifest.json":
                m = json.loads(data)
                data = edit(m)
                data = data if isinstance(data, (bytes, str)) else json.dumps(data)
            zout.writestr(info.filename, data)


def test_newer_format_version_names_both_versions(tmp_path):
    import io
    p = tmp_path / "new.fnn"
    fn.save({"w": np.ones(3)}, tmp_path / "cur.fnn")
    _rewrite_manifest(tmp_path / "cur.fnn", p, lambda m: {**m, "version": 99, "fastnn_version": "9.0"})
    with pytest.raises(fn.LoadError) as e:
        fn.load(p)
    msg = str(e.value)
    assert "new.fnn" in msg and "99" in msg and "9.0" in msg and f"version {fn.serialization.FORMAT_VERSION}" in msg
    assert fn.__version__ in msg
    with pytest.raises(fn.LoadError, match="format version 99"):
        fn.load(io.BytesIO(p.read_bytes()))
    m = fn.models.Sequential([fn.layers.Dense(2, input_shape=(3,))])
    m.save(tmp_path / "model.fnn")
    _rewrite_manifest(tmp_path / "model.fnn", tmp_path / "model2.fnn", lambda m: {**m, "version": 2})
    with pytest.raises(fn.LoadError, match=r"model2\.fnn.*format version 2"):
        fn.models.load_model(tmp_path / "model2.fnn")


# --- malformed files: one error type that names the file ---------------------------------
def _state():
    return {"layer.weight": np.arange(12, dtype=np.float32).reshape(3, 4), "layer.bias": np.zeros(3),
            "opt": {0: {"step": 7, "exp_avg": np.full(5, 0.25)}, "lr": 1e-3, "betas": (0.9, 0.999)},
            "names": ["a", "b"], "flag": True, "none": None}


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return a == b and type(a) is type(b)


CRAFTED = {
    "deep nesting": lambda m: {**m, "root": json_nest(5000)},
    "deep but valid json": lambda m: {**m, "root": json_nest(150)},
    "bad dict item": lambda m: {**m, "root": {"__dict__": [[1, 2, 3]]}},
    "list as key": lambda m: {**m, "root": {"__dict__": [[[1], 2]]}},
    "bool key": lambda m: {**m, "root": {"__dict__": [[True, 2]]}},
    "unknown entry": lambda m: {**m, "root": {"__set__": [1]}},
    "two markers": lambda m: {**m, "root": {"__float__": "1", "__tuple__": []}},
    "bad float": lambda m: {**m, "root": {"__float__": "one"}},
    "float of a list": lambda m: {**m, "root": {"__float__": [1]}},
    "missing member": lambda m: {**m, "root": {"__ndarray__": "arr_99.npy"}},
    "member not a name": lambda m: {**m, "root": {"__ndarray__": 3}},
    "member twice": lambda m: {**m, "root": [{"__ndarray__": "arr_0.npy"}, {"__ndarray__": "arr_0.npy"}]},
    "member is the manifest": lambda m: {**m, "root": {"__ndarray__": "manifest.json"}},
    "tuple of a dict": lambda m: {**m, "root": {"__tuple__": {"a": 1}}},
    "no root": lambda m: {k: v for k, v in m.items() if k != "root"},
    "foreign format": lambda m: {**m, "format": "other"},
    "version string": lambda m: {**m, "version": "1"},
    "version bool": lambda m: {**m, "version": True},
    "version zero": lambda m: {**m, "version": 0},
    "manifest a list": lambda m: [m],
    "manifest not json": lambda m: b"{not json",
    "manifest not utf8": lambda m: b"\xff\xfe\x00",
    "huge int": lambda m: '{"format": "fastnn", "version": 1, "root": ' + "9" * 5000 + "}",
}


def json_nest(depth):
    node = 1
    for _ in range(depth):
        node = [node]
    return node


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_manifests_raise_load_error_naming_the_file(case, tmp_path):
    import sys
    fn.save(_state(), tmp_path / "good.fnn")
    bad = tmp_path / f"crafted_{case.replace(' ', '_')}.fnn"
    old = sys.getrecursionlimit()
    try:
        _rewrite_manifest(tmp_path / "good.fnn", bad, CRAFTED[case])
    except RecursionError:
        sys.setrecursionlimit(20000)
        _rewrite_manifest(tmp_path / "good.fnn", bad, CRAFTED[case])
    finally:
        sys.setrecursionlimit(old)
    with pytest.raises(fn.LoadError, match=bad.name):
        fn.load(bad)


def _npy_member(tmp_path, name, header_shape, payload, descr="<f4", method=None):
    """A fastnn file whose one array member has a hand-written .npy header."""
    import json
    import zipfile
    header = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (descr, header_shape)
    header = header.ljust(118) + "\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + payload
    p = tmp_path / name
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("manifest.json", json.dumps({"format": "fastnn", "version": 1,
                                                "root": {"__ndarray__": "arr_0.npy"}}))
        z.writestr("arr_0.npy", npy, compress_type=method or zipfile.ZIP_STORED)
    return p


def test_npy_members_are_checked_before_allocating(tmp_path):
    ok = _npy_member(tmp_path, "ok.fnn", (3,), np.arange(3, dtype="<f4").tobytes())
    np.testing.assert_array_equal(fn.load(ok), [0, 1, 2])
    huge = _npy_member(tmp_path, "huge.fnn", (10 ** 12,), b"\0" * 12)
    with pytest.raises(fn.LoadError, match=r"huge\.fnn.*declares shape \(1000000000000,\)"):
        fn.load(huge)
    short = _npy_member(tmp_path, "short.fnn", (4,), b"\0" * 12)
    with pytest.raises(fn.LoadError, match="short.fnn"):
        fn.load(short)
    for descr in ("|O", "<M8[s]", [("a", "<f4"), ("b", "|O")]):
        obj = _npy_member(tmp_path, "object.fnn", (1,), b"\0" * 8, descr=descr)
        with pytest.raises(fn.LoadError, match=r"object\.fnn.*dtype"):
            fn.load(obj)


def test_loading_never_unpickles(tmp_path, monkeypatch):
    import pickle

    def refuse(*a, **k):
        raise AssertionError("fn.load unpickled")
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    fn.save(_state(), tmp_path / "s.fnn")
    assert _same(fn.load(tmp_path / "s.fnn"), _state())
    pickled = _npy_member(tmp_path, "pickled.fnn", (1,), pickle.dumps([1]), descr="|O")
    with pytest.raises(fn.LoadError, match="pickled.fnn"):
        fn.load(pickled)
    m = fn.models.Sequential([fn.layers.Dense(2, input_shape=(3,))])
    m.save(tmp_path / "m.fnn")
    fn.models.load_model(tmp_path / "m.fnn")


def _variants(data, n, seed):
    """n corruptions of ``data``: single and multiple byte flips, truncations,
    zeroed and duplicated spans (seeded, so a failure is reproducible)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        b = bytearray(data)
        kind = i % 5
        if kind == 0:                   # one flipped byte
            j = int(rng.integers(len(b)))
            b[j] ^= int(rng.integers(1, 256))
        elif kind == 1:                 # a few flipped bits anywhere
            for j in rng.integers(len(b), size=int(rng.integers(2, 6))):
                b[int(j)] ^= 1 << int(rng.integers(8))
        elif kind == 2:                 # truncated
            b = b[:int(rng.integers(len(b)))]
        elif kind == 3:                 # a zeroed span
            j = int(rng.integers(len(b)))
            b[j:j + int(rng.integers(1, 64))] = bytes(len(b[j:j + 64]))[:len(b[j:j + int(rng.integers(1, 64))])]
        else:                           # a flip in the last 200 bytes (the zip directory)
            j = len(b) - 1 - int(rng.integers(min(200, len(b))))
            b[j] ^= int(rng.integers(1, 256))
        out.append(bytes(b))
    return out


def test_fuzzed_files_load_intact_or_raise_load_error(tmp_path):
    """300 corrupted copies of a state file and of a model file: each either loads
    to exactly the original content or raises fn.LoadError naming the file."""
    import io
    fn.save(_state(), tmp_path / "state.fnn")
    model = fn.models.Sequential([fn.layers.Dense(4, activation="relu", input_shape=(3,)),
                                  fn.layers.Dense(2)])
    model.compile(loss="mse", optimizer="sgd")
    model.save(tmp_path / "model.fnn")
    expect = model.predict(np.ones((2, 3), np.float32))
    loaded = errors = 0
    for kind, src, count in (("state", tmp_path / "state.fnn", 200), ("model", tmp_path / "model.fnn", 100)):
        for i, blob in enumerate(_variants(src.read_bytes(), count, seed=len(kind))):
            p = tmp_path / f"{kind}_variant_{i}.fnn"
            p.write_bytes(blob)
            try:
                if kind == "state":
                    out = fn.load(p)
                    assert _same(out, _state()), f"variant {i} loaded to different content"
                else:
                    out = fn.models.load_model(p)
                    np.testing.assert_array_equal(out.predict(np.ones((2, 3), np.float32)), expect)
                loaded += 1
            except fn.LoadError as e:
                assert p.name in str(e), str(e)
                errors += 1
            if i % 10 == 0:             # the same bytes as a file object
                try:
                    fn.load(io.BytesIO(blob))
                except fn.LoadError as e:
                    assert "<BytesIO>" in str(e)
            p.unlink()
    assert loaded + errors == 300 and errors > 200
    fn.save({"not": "weights"}, tmp_path / "other.fnn")
    with pytest.raises(fn.LoadError, match="other.fnn"):
        model.load_weights(tmp_path / "other.fnn")
    with pytest.raises(fn.LoadError, match="other.fnn"):
        fn.models.load_model(tmp_path / "other.fnn")


# --- size limits: zip bombs --------------------------------------------------------------
def _bomb(path, gib=1.5):
    """A ~1.5 MB fastnn file whose one float32 member inflates to ``gib`` GiB of zeros
    (deflate of zeros, 16 MiB per independently flushed block, valid CRC)."""
    import json
    import struct
    import zlib
    block = 16 << 20
    nblocks = int(gib * (1 << 30)) // block
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % ((nblocks * block - 128) // 4)
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + header.ljust(117).encode() + b"\n"
    zeros = bytes(block - 128)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(npy + zeros) + c.flush(zlib.Z_FULL_FLUSH)
    zeros = bytes(block)
    mid = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    last = c.flush()
    crc = zlib.crc32(npy + bytes(block - 128))
    for _ in range(nblocks - 1):
        crc = zlib.crc32(zeros, crc)
    body = first + mid * (nblocks - 1) + last
    manifest = json.dumps({"format": "fastnn", "version": 1, "root": {"__ndarray__": "arr_0.npy"}}).encode()
    import zipfile
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("manifest.json", manifest)
    # append the deflated member by hand (zipfile would inflate 1.5 GiB to write it)
    raw = bytearray(path.read_bytes())
    eocd = raw.rfind(b"PK\x05\x06")
    cd_size, cd_off = struct.unpack("<II", raw[eocd + 12:eocd + 20])
    central = raw[cd_off:cd_off + cd_size]
    name = b"arr_0.npy"
    usize = nblocks * block
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, 8, 0, 0, crc, len(body), 0xFFFFFFFF, len(name), 20)
    zip64 = struct.pack("<HHQQ", 1, 16, usize, len(body))
    entry_off = cd_off
    cent = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45, 45, 0, 8, 0, 0, crc, len(body), 0xFFFFFFFF,
                       len(name), 12, 0, 0, 0, 0, entry_off)
    cent_extra = struct.pack("<HHQ", 1, 8, usize)
    out = bytes(raw[:cd_off]) + local + name + zip64 + body
    new_cd_off = len(out)
    cd = bytes(central) + cent + name + cent_extra
    out += cd + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 2, 2, len(cd), new_cd_off, 0)
    path.write_bytes(out)
    return usize


@pytest.mark.slow
def test_zip_bomb_fails_fast_and_cleanly(tmp_path, run_python):
    p = tmp_path / "bomb.fnn"
    usize = _bomb(p)
    assert p.stat().st_size < 2_000_000 and usize >= 1.5 * (1 << 30)
    import zipfile
    with zipfile.ZipFile(p) as z:       # a real bomb: zipfile would inflate it all
        assert z.getinfo("arr_0.npy").file_size == usize
    # in a child allowed 512 MiB more address space than it has: fails in well under
    # a second, with LoadError rather than MemoryError
    proc = run_python(f"""
        import resource, time
        import fastnn as fn
        fn.load  # import before the cap
        import fastnn.serialization
        vm = [l for l in open("/proc/self/status") if l.startswith("VmSize")][0]
        cap = int(vm.split()[1]) * 1024 + (512 << 20)
        resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
        t = time.perf_counter()
        try:
            fn.load({str(p)!r})
        except fn.LoadError as e:
            print("LoadError", time.perf_counter() - t, e)
        # this process's peak (VmHWM); getrusage's maxrss keeps the forking parent's
        hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
        print("maxrss_kb", hwm.split()[1])
    """, timeout=120)
    out = proc.stdout
    assert "LoadError" in out and "bomb.fnn" in out and "max_bytes" in out, out
    seconds = float(out.split("LoadError ")[1].split()[0])
    rss_mb = int(out.split("maxrss_kb ")[1].split()[0]) / 1024
    assert seconds < 3.0 and rss_mb < 400, out      # inflating it all: ~38 s and 3.1 GB


def test_max_bytes_is_checked_and_overridable(tmp_path):
    import zipfile
    fn.save({"z": np.zeros(1 << 20, np.float32)}, tmp_path / "plain.fnn")
    squeezed = tmp_path / "squeezed.fnn"        # the same file, re-compressed by a zip tool
    with zipfile.ZipFile(tmp_path / "plain.fnn") as zin, \
            zipfile.ZipFile(squeezed, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
    assert squeezed.stat().st_size < 100_000
    assert fn.load(squeezed)["z"].shape == (1 << 20,)         # 4 MiB < the 64 MiB floor
    with pytest.raises(fn.LoadError, match=r"squeezed\.fnn.*max_bytes=1000000"):
        fn.load(squeezed, max_bytes=1_000_000)
    assert fn.load(squeezed, max_bytes=5 << 20)["z"].shape == (1 << 20,)
    with pytest.raises(ValueError, match="max_bytes"):
        fn.load(squeezed, max_bytes=0)
    # a member whose header claims fewer bytes than its deflate stream inflates to
    lying = _npy_member(tmp_path, "lying.fnn", (4,), np.arange(4, dtype="<f4").tobytes(),
                        method=zipfile.ZIP_DEFLATED)
    raw = bytearray(lying.read_bytes())
    assert fn.load(lying).shape == (4,)
    i = raw.rfind(b"PK\x01\x02")                # arr_0.npy's central record: shrink its size
    raw[i + 24:i + 28] = (int.from_bytes(raw[i + 24:i + 28], "little") - 8).to_bytes(4, "little")
    lying.write_bytes(bytes(raw))
    with pytest.raises(fn.LoadError, match="lying.fnn"):
        fn.load(lying)


# --- crash-safe saves ------------------------------------------------------------------
def test_save_leaves_no_temporary_and_keeps_mode_and_links(tmp_path):
    import os
    import stat
    p = tmp_path / "ckpt.fnn"
    fn.save({"v": 1}, p)
    os.chmod(p, 0o640)
    fn.save({"v": 2}, p)
    assert fn.load(p) == {"v": 2} and stat.S_IMODE(os.stat(p).st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["ckpt.fnn"]
    link = tmp_path / "latest.fnn"
    link.symlink_to(p)
    fn.save({"v": 3}, link)
    assert link.is_symlink() and fn.load(p) == {"v": 3}
    with pytest.raises(TypeError):                     # refused before the disk is touched
        fn.save({"v": object()}, p)
    assert fn.load(p) == {"v": 3} and sorted(os.listdir(tmp_path)) == ["ckpt.fnn", "latest.fnn"]
    with pytest.raises(FileNotFoundError, match="no such directory"):
        fn.save({"v": 4}, tmp_path / "missing" / "x.fnn")
    (tmp_path / "adir").mkdir()
    with pytest.raises(IsADirectoryError):
        fn.save({"v": 4}, tmp_path / "adir")
    assert list((tmp_path / "adir").iterdir()) == []
    with pytest.raises(IsADirectoryError):
        fn.load(tmp_path / "adir")


def _write_in_child(run_python, code, target, **kw):
    return run_python(f"""
        import numpy as np, fastnn as fn, os, resource, signal, sys
        target = {str(target)!r}
        {code}
    """, **kw)


@pytest.mark.parametrize("how", ["fn.save", "model.save", "ModelCheckpoint"])
@pytest.mark.parametrize("sigxfsz", ["ignored", "kills"])
def test_full_disk_keeps_the_previous_file(how, sigxfsz, tmp_path, run_python):
    """RLIMIT_FSIZE stands in for a full disk: the write fails (EFBIG, or SIGXFSZ kills
    the writer) and the previous checkpoint still loads."""
    target = tmp_path / "ckpt.fnn"
    prev = fn.models.Sequential([fn.layers.Dense(3, input_shape=(4,))])
    prev.save(target)
    expect = prev.predict(np.eye(4, dtype=np.float32))
    write = {
        "fn.save": "fn.save({'w': np.ones(1 << 20, np.float32)}, target)",
        "model.save": "m.save(target)",
        "ModelCheckpoint": "m.fit(x, y, epochs=1, verbose=0, callbacks=[fn.callbacks.ModelCheckpoint(target, monitor='loss')])",
    }[how]
    proc = _write_in_child(run_python, f"""
        m = fn.models.Sequential([fn.layers.Dense(600, input_shape=(600,))])
        m.compile(loss="mse", optimizer="sgd")
        x = np.ones((8, 600), np.float32); y = np.ones((8, 600), np.float32)
        m.fit(x, y, epochs=1, verbose=0)
        if {sigxfsz!r} == "kills":      # Python ignores SIGXFSZ; a C program dies of it
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        try:
            {write}
        except OSError as e:
            print("OSError", e.errno)
            sys.exit(0)
        print("no error")
    """, target, check=False)
    if sigxfsz == "ignored":
        assert proc.returncode == 0 and "OSError 27" in proc.stdout, proc.stdout + proc.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.fnn"]   # temp removed
    else:
        assert proc.returncode == -25, proc.stdout + proc.stderr            # killed by SIGXFSZ
    m = fn.models.load_model(target)
    np.testing.assert_array_equal(m.predict(np.eye(4, dtype=np.float32)), expect)


@pytest.mark.slow
def test_kill_9_mid_save_keeps_the_previous_file(tmp_path):
    """A writer killed (SIGKILL) at several points of a 200 MB save: the target is
    always the previous, complete file; the new one appears only whole."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from conftest import subprocess_env
    target = tmp_path / "ckpt.fnn"
    fn.save({"gen": 0, "w": np.zeros(10, np.float32)}, target)
    code = (f"import numpy as np, fastnn as fn\nw = np.ones(50_000_000, np.float32)\n"
            f"print('ready', flush=True)\nfn.save({{'gen': 1, 'w': w}}, {str(target)!r})\nprint('done', flush=True)\n")
    for kill_at in (1, 40 << 20, 120 << 20):
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                                 env=subprocess_env(), stdin=subprocess.DEVNULL)
        try:
            assert child.stdout.readline().strip() == "ready"
            deadline = time.monotonic() + 60
            killed = False
            while time.monotonic() < deadline and not killed:
                for tmp in tmp_path.glob(".ckpt.fnn.*.tmp"):
                    try:
                        if tmp.stat().st_size >= kill_at:
                            child.send_signal(signal.SIGKILL)
                            killed = True
                            break
                    except FileNotFoundError:
                        pass
                if child.poll() is not None:
                    break
            assert killed, "the writer finished before the kill point"
            child.wait(30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        out = fn.load(target)
        assert out["gen"] == 0 and out["w"].shape == (10,)
        for tmp in tmp_path.glob(".ckpt.fnn.*.tmp"):     # what kill -9 leaves behind
            tmp.unlink()
    # and uninterrupted, the new file replaces the old one whole
    subprocess.run([sys.executable, "-c", code], check=True, env=subprocess_env(), timeout=120,
                   stdout=subprocess.DEVNULL)
    out = fn.load(target)
    assert out["gen"] == 1 and out["w"].shape == (50_000_000,)
    assert sorted(os.listdir(tmp_path)) == ["ckpt.fnn"]


class _Boom(Exception):
    pass


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), _Boom("bug"),
                                 KeyboardInterrupt()], ids=["ENOSPC", "exception", "Ctrl-C"])
@pytest.mark.parametrize("how", ["fn.save", "model.save"])
def test_a_save_failing_mid_write_keeps_the_previous_file(exc, how, tmp_path, monkeypatch):
    """Whatever stops a save half-way (a full disk, a bug, Ctrl-C) propagates, leaves the
    previous file loading as before, and no temporary file behind."""
    target = tmp_path / "ckpt.fnn"
    m = fn.models.Sequential([fn.layers.Dense(64, input_shape=(64,)), fn.layers.Dense(3)])
    x = np.eye(64, dtype=np.float32)
    m.predict(x)
    m.save(target)
    fn.save({"gen": 0}, tmp_path / "state.fnn")
    expect = m.predict(x)
    write_array, calls = np.lib.format.write_array, []

    def failing(fh, arr, *a, **k):       # the second array dies after half its bytes
        calls.append(arr.nbytes)
        if len(calls) == 2:
            fh.write(arr.tobytes()[:arr.nbytes // 2])
            raise exc
        return write_array(fh, arr, *a, **k)

    monkeypatch.setattr(np.lib.format, "write_array", failing)
    for layer in m.layers:
        for p in layer.parameters():
            p.data[...] = 7.0
    with pytest.raises(type(exc)):
        if how == "fn.save":
            fn.save({"gen": 1, "a": np.ones(1000), "b": np.ones(1000)}, tmp_path / "state.fnn")
        else:
            m.save(target)
    assert len(calls) == 2
    monkeypatch.setattr(np.lib.format, "write_array", write_array)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.fnn", "state.fnn"]
    assert fn.load(tmp_path / "state.fnn") == {"gen": 0}
    np.testing.assert_array_equal(fn.models.load_model(target).predict(x), expect)


@pytest.mark.slow
def test_ctrl_c_mid_save_keeps_the_previous_file(tmp_path):
    """A real SIGINT at several points of a 100 MB save: KeyboardInterrupt, the previous
    file intact, the temporary file removed."""
    import signal
    import subprocess
    import sys
    import time
    from conftest import subprocess_env
    target = tmp_path / "ckpt.fnn"
    fn.save({"gen": 0, "w": np.zeros(10, np.float32)}, target)
    code = (f"import signal, numpy as np, fastnn as fn\n"
            f"signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            f"w = [np.ones(1_000_000, np.float32) for _ in range(25)]\n"
            f"print('ready', flush=True)\n"
            f"try:\n    fn.save({{'gen': 1, 'w': w}}, {str(target)!r})\n    print('done', flush=True)\n"
            f"except KeyboardInterrupt:\n    print('interrupted', flush=True)\n")
    interrupted = 0
    for at in (1, 30 << 20, 70 << 20):
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                                 env=subprocess_env(), stdin=subprocess.DEVNULL)
        try:
            assert child.stdout.readline().strip() == "ready"
            deadline, sent = time.monotonic() + 60, False
            while time.monotonic() < deadline and not sent and child.poll() is None:
                for tmp in tmp_path.glob(".ckpt.fnn.*.tmp"):
                    try:
                        if tmp.stat().st_size >= at:
                            child.send_signal(signal.SIGINT)
                            sent = True
                            break
                    except FileNotFoundError:
                        pass
            out, _ = child.communicate(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        assert child.returncode == 0, out
        if "interrupted" in out:
            interrupted += 1
            assert fn.load(target)["gen"] == 0
            assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.fnn"]
        else:       # the signal came after the rename: the new file, whole
            assert "done" in out and fn.load(target)["gen"] == 1
            fn.save({"gen": 0, "w": np.zeros(10, np.float32)}, target)
    assert interrupted >= 2, "the saves finished before the signals: the test proved little"
