"""fn.data: datasets, samplers, collation and the DataLoader, against torch.utils.data."""
import threading
import time

import numpy as np
import pytest

import fastnn as fn
from fastnn import data


def _xy(n=10):
    return np.arange(n * 3, dtype=np.float32).reshape(n, 3), np.arange(n) % 4


@pytest.mark.parametrize("n,bs,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False),
                                            (9, 3, True), (2, 5, False), (2, 5, True), (0, 4, False)])
def test_sequential_batches_match_torch(torch, n, bs, drop_last):
    x, y = _xy(n)
    ours = data.DataLoader(data.TensorDataset(x, y), batch_size=bs, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=bs, drop_last=drop_last)
    assert len(ours) == len(theirs)
    got, want = list(ours), list(theirs)
    assert len(got) == len(want)
    for (xb, yb), (txb, tyb) in zip(got, want):
        assert isinstance(xb, fn.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.numpy(), txb.numpy())
        np.testing.assert_array_equal(yb.numpy(), tyb.numpy())


def test_in_order_batches_are_views_of_the_arrays():
    x, y = _xy(10)
    for xb, yb in data.DataLoader(data.TensorDataset(x, fn.tensor(y)), batch_size=4):
        assert np.shares_memory(xb.numpy(), x)
        assert xb.numpy().base is not None


def test_batch_is_a_list_like_torch():
    x, y = _xy(4)
    batch = next(iter(data.DataLoader(data.TensorDataset(x, y), batch_size=2)))
    assert isinstance(batch, list) and len(batch) == 2


def test_shuffle_is_a_permutation_reproducible_by_seed():
    x, y = _xy(50)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=8, shuffle=True)
    fn.manual_seed(3)
    first = np.concatenate([b[1].numpy() for b in loader])
    second = np.concatenate([b[1].numpy() for b in loader])    # each epoch reshuffles
    fn.manual_seed(3)
    again = np.concatenate([b[1].numpy() for b in loader])
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)
    xs = np.concatenate([b[0].numpy() for b in loader])
    assert sorted(xs[:, 0].tolist()) == sorted(x[:, 0].tolist())
    assert not np.array_equal(xs, x)


def test_shuffle_pairs_rows_of_all_arrays():
    x, y = _xy(30)
    for xb, yb in data.DataLoader(data.TensorDataset(x, y), batch_size=7, shuffle=True):
        np.testing.assert_array_equal(xb.numpy()[:, 0] // 3 % 4, yb.numpy())


def test_generator_gives_the_same_order_as_a_fresh_generator():
    x, y = _xy(20)
    ds = data.TensorDataset(x, y)
    a = [b[1].tolist() for b in data.DataLoader(ds, batch_size=5, shuffle=True,
                                                generator=fn.random.Generator(7))]
    b = [b[1].tolist() for b in data.DataLoader(ds, batch_size=5, shuffle=True,
                                                generator=fn.random.Generator(7))]
    assert a == b
    c = [b[1].tolist() for b in data.DataLoader(ds, batch_size=5, shuffle=True,
                                                generator=fn.random.Generator(8))]
    assert a != c


def test_drop_last_with_shuffle():
    x, y = _xy(10)
    sizes = [len(b[0]) for b in data.DataLoader(data.TensorDataset(x, y), batch_size=4,
                                                shuffle=True, drop_last=True)]
    assert sizes == [4, 4]


class _Pairs(data.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full(2, i, np.float32), "label": i % 3, "w": float(i), "name": f"s{i}"}


def test_map_dataset_default_collate_matches_torch(torch):
    ours = list(data.DataLoader(_Pairs(5), batch_size=2))
    theirs = list(torch.utils.data.DataLoader(_Pairs(5), batch_size=2))
    for a, b in zip(ours, theirs):
        assert a.keys() == b.keys()
        np.testing.assert_array_equal(a["x"].numpy(), b["x"].numpy())
        assert a["label"].dtype == np.int64 and b["label"].dtype == torch.int64
        assert a["w"].dtype == np.float64 and b["w"].dtype == torch.float64
        np.testing.assert_array_equal(a["label"].numpy(), b["label"].numpy())
        assert a["name"] == b["name"]


def test_batch_size_none_yields_converted_samples(torch):
    ours = list(data.DataLoader(data.TensorDataset(*_xy(3)), batch_size=None))
    assert len(ours) == 3 and isinstance(ours[0], list) and ours[0][1].shape == ()


def test_custom_collate_and_samplers():
    x, y = _xy(10)
    ds = data.TensorDataset(x, y)
    loader = data.DataLoader(ds, batch_size=3, sampler=data.SequentialSampler(range(5)),
                             collate_fn=lambda batch: len(batch))
    assert list(loader) == [3, 2]
    bs = data.BatchSampler(data.SubsetRandomSampler([1, 3, 5], generator=fn.random.Generator(0)),
                           batch_size=2, drop_last=False)
    batches = list(data.DataLoader(ds, batch_sampler=bs))
    assert sorted(np.concatenate([b[1].numpy() for b in batches]).tolist()) == sorted([1, 3, 1])
    assert len(data.DataLoader(ds, batch_sampler=bs)) == 2


def test_random_sampler_with_replacement():
    s = data.RandomSampler(range(3), replacement=True, num_samples=20, generator=fn.random.Generator(0))
    idx = list(s)
    assert len(idx) == 20 and set(idx) <= {0, 1, 2}


def test_iterable_dataset_batches():
    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter(np.arange(7, dtype=np.float32))

    assert [b.tolist() for b in data.DataLoader(Stream(), batch_size=3)] == \
        [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in data.DataLoader(Stream(), batch_size=3, drop_last=True)] == \
        [[0, 1, 2], [3, 4, 5]]


def test_subset_concat_random_split(torch):
    x, y = _xy(10)
    ds = data.TensorDataset(x, y)
    parts = data.random_split(ds, [6, 4], generator=fn.random.Generator(1))
    idx = sorted(parts[0].indices + parts[1].indices)
    assert idx == list(range(10))
    fracs = data.random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in fracs] == [len(p) for p in torch.utils.data.random_split(range(10), [0.5, 0.3, 0.2])]
    both = parts[0] + parts[1]
    assert len(both) == 10
    with pytest.raises(ValueError, match="does not equal the length"):
        data.random_split(ds, [3, 3])


@pytest.mark.parametrize("shuffle", [False, True])
def test_background_thread_gives_the_same_batches(shuffle):
    x, y = _xy(40)
    ds = data.TensorDataset(x, y)
    fn.manual_seed(5)
    a = [b[1].tolist() for b in data.DataLoader(ds, batch_size=6, shuffle=shuffle)]
    fn.manual_seed(5)
    seen = []
    b = [b[1].tolist() for b in data.DataLoader(ds, batch_size=6, shuffle=shuffle, num_workers=2,
                                                worker_init_fn=lambda i: seen.append(
                                                    threading.current_thread().name))]
    assert a == b
    assert seen == ["fastnn-DataLoader"]


def test_background_errors_reach_the_caller_and_abandoned_iterators_stop():
    class Bad(data.Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            if i == 5:
                raise KeyError("sample 5 is broken")
            return np.float32(i)

    it = iter(data.DataLoader(Bad(), batch_size=2, num_workers=1))
    assert next(it).tolist() == [0, 1]
    next(it)
    with pytest.raises(KeyError, match="sample 5"):
        next(it)
    before = threading.active_count()
    it = iter(data.DataLoader(data.TensorDataset(np.zeros((10000, 2))), batch_size=1, num_workers=1))
    next(it)
    it.close()
    del it
    for _ in range(50):
        if threading.active_count() <= before:
            break
        time.sleep(0.02)
    assert threading.active_count() <= before


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"batch_size": 0}, ValueError, "batch_size should be a positive integer value"),
    ({"batch_size": 2.5}, ValueError, "batch_size should be a positive integer value"),
    ({"num_workers": -1}, ValueError, "num_workers option should be non-negative"),
    ({"shuffle": True, "sampler": [0, 1]}, ValueError, "mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 4}, ValueError, "batch_sampler option is mutually exclusive"),
    ({"batch_size": None, "drop_last": True}, ValueError, "mutually exclusive with drop_last"),
    ({"prefetch_factor": 2}, ValueError, "prefetch_factor option could only be specified"),
    ({"generator": 3}, TypeError, "generator must be a fastnn.random.Generator"),
    ({"drop_last": 1}, ValueError, "drop_last should be a boolean value"),
])
def test_loader_argument_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        data.DataLoader(data.TensorDataset(*_xy(4)), **kwargs)


def test_dataset_errors():
    with pytest.raises(ValueError, match=r"size mismatch .* \[3, 4\]"):
        data.TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one tensor"):
        data.TensorDataset()
    with pytest.raises(TypeError, match="map-style Dataset"):
        data.DataLoader(object())
    with pytest.raises(RuntimeError, match="same shape"):
        data.default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="found object"):
        data.default_collate([object()])


def test_loader_over_a_plain_ndarray():
    batches = list(data.DataLoader(np.arange(5.0), batch_size=2))
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0].dtype == np.float64
