"""utils.data in one process: datasets, samplers, collation and DataLoader, against torch.

Each table row builds the same inputs for torch and for disttorch (`m` is the module) and
compares the results in a canonical form: container types, tensor dtypes, shapes and values.
Random samplers cannot match torch's numbers, so they are checked for their distribution
and for reproducibility under a seeded generator.
"""

import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import disttorch
import disttorch.utils.data as ddata

Point = collections.namedtuple("Point", ["x", "y"])


def canon(value):
    """A comparable picture of a (nested) result from either library."""
    if isinstance(value, (torch.Tensor, disttorch.Tensor)):
        return ("tensor", str(value.dtype), tuple(value.shape), value.tolist())
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__, tuple(canon(v) for v in value))
    if isinstance(value, collections.abc.Mapping):
        return (type(value).__name__, {k: canon(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [canon(v) for v in value])
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.tolist())
    return value


def outcome(fn, m):
    """fn(m)'s canonical result, or its exception type and message."""
    try:
        return canon(fn(m))
    except Exception as error:  # compared with torch's
        return ("raised", type(error).__name__, str(error))


def check(fn):
    assert outcome(fn, disttorch) == outcome(fn, torch)


def data(m):
    return m.utils.data if m is torch else ddata


# ---------------------------------------------------------------- datasets

def _tensors(m):
    return (m.tensor(np.arange(12.0).reshape(6, 2)), m.tensor(np.arange(6) % 3))


DATASET_ROWS = [
    ("tensor_item", lambda m: data(m).TensorDataset(*_tensors(m))[4]),
    ("tensor_negative", lambda m: data(m).TensorDataset(*_tensors(m))[-1]),
    ("tensor_slice", lambda m: data(m).TensorDataset(*_tensors(m))[1:4]),
    ("tensor_len", lambda m: len(data(m).TensorDataset(*_tensors(m)))),
    ("tensor_mismatch", lambda m: data(m).TensorDataset(m.zeros(3), m.zeros(4))),
    ("concat_all", lambda m: [data(m).ConcatDataset([range(3), range(10, 12), range(20, 24)])[i]
                              for i in range(-9, 9)]),
    ("concat_sizes", lambda m: data(m).ConcatDataset([range(3), range(0), range(4)])
     .cumulative_sizes),
    ("concat_too_negative", lambda m: data(m).ConcatDataset([range(3)])[-4]),
    ("concat_past_end", lambda m: data(m).ConcatDataset([range(3), range(2)])[5]),
    ("concat_empty", lambda m: data(m).ConcatDataset([])),
    ("concat_add", lambda m: [x for x in data(m).TensorDataset(m.arange(3))
                              + data(m).TensorDataset(m.arange(2))]),
    ("subset", lambda m: [data(m).Subset(range(10, 20), [7, 2, 2, 5])[i] for i in range(4)]),
    ("subset_list", lambda m: data(m).Subset(np.arange(10, 20), [7, 2, 5])[[0, 2]]),
    ("subset_getitems", lambda m: data(m).Subset(range(10, 20), [7, 2, 5]).__getitems__([2, 0])),
    ("subset_len", lambda m: len(data(m).Subset(range(10), [1, 2, 3]))),
    ("stack_tuple", lambda m: data(m).StackDataset(range(3), "abc")[1]),
    ("stack_dict", lambda m: data(m).StackDataset(a=range(3), b="abc")[2]),
    ("stack_getitems", lambda m: data(m).StackDataset(
        data(m).Subset(range(5), [4, 3, 2]), "abc").__getitems__([0, 2])),
    ("stack_dict_getitems", lambda m: data(m).StackDataset(a=range(3), b="abc")
     .__getitems__([1, 0])),
    ("stack_mismatch", lambda m: data(m).StackDataset(range(3), "ab")),
    ("stack_both", lambda m: data(m).StackDataset(range(3), b="abc")),
    ("stack_none", lambda m: data(m).StackDataset()),
    ("dataset_getitem", lambda m: data(m).Dataset()[0]),
    ("dataset_len", lambda m: len(data(m).Dataset())),
    ("iterable_abstract", lambda m: data(m).IterableDataset()),
]


@pytest.mark.parametrize("name,fn", DATASET_ROWS, ids=[r[0] for r in DATASET_ROWS])
def test_datasets_match_torch(name, fn):
    check(fn)


class Stream(ddata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_chain_dataset():
    chain = Stream(3) + Stream(2)
    assert isinstance(chain, ddata.ChainDataset)
    assert list(chain) == [0, 1, 2, 0, 1] and len(chain) == 5
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(ddata.ChainDataset([range(3)]))
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ddata.ConcatDataset([Stream(2)])


def test_subset_subclass_must_override_getitems():
    class Doubled(ddata.Subset):
        def __getitem__(self, idx):
            return 2 * super().__getitem__(idx)

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        Doubled(range(4), [0, 1])


def test_generic_subscription():
    class Squares(ddata.Dataset[int]):
        def __getitem__(self, i):
            return i * i

    assert Squares()[3] == 9 and ddata.Sampler[int] is ddata.Sampler


# ---------------------------------------------------------------- random_split

@pytest.mark.parametrize("n,lengths", [
    (10, [3, 7]), (10, [0.3, 0.7]), (10, [0.3, 0.3, 0.4]), (11, [0.3, 0.3, 0.4]),
    (7, [0.5, 0.5]), (30, [0.1] * 10), (5, [1.0]), (3, [0.1, 0.1, 0.8]),
])
def test_random_split_lengths_match_torch(n, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-length splits warn in both
        expected = [len(s) for s in tdata.random_split(range(n), lengths)]
        splits = ddata.random_split(range(n), lengths,
                                    generator=disttorch.Generator().manual_seed(0))
    assert [len(s) for s in splits] == expected
    assert sorted(i for s in splits for i in s) == list(range(n))


def test_random_split_errors_and_warnings():
    check(lambda m: data(m).random_split(range(10), [3, 8]))
    check(lambda m: data(m).random_split(range(10), [1.5, -0.5]))
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        ddata.random_split(range(3), [0.1, 0.1, 0.8])


def test_random_split_reproducible():
    def split(seed):
        parts = ddata.random_split(range(20), [5, 15],
                                   generator=disttorch.Generator().manual_seed(seed))
        return [list(p) for p in parts]

    assert split(1) == split(1)
    assert split(1) != split(2)
    disttorch.manual_seed(3)
    first = [list(p) for p in ddata.random_split(range(20), [0.5, 0.5])]
    disttorch.manual_seed(3)
    assert [list(p) for p in ddata.random_split(range(20), [0.5, 0.5])] == first


# ---------------------------------------------------------------- samplers

SAMPLER_ROWS = [
    ("sequential", lambda m: list(data(m).SequentialSampler(range(7)))),
    ("sequential_len", lambda m: len(data(m).SequentialSampler(range(7)))),
    *[(f"batch_{size}_{drop}", lambda m, size=size, drop=drop: (
        list(data(m).BatchSampler(data(m).SequentialSampler(range(10)), size, drop)),
        len(data(m).BatchSampler(data(m).SequentialSampler(range(10)), size, drop))))
      for size in (1, 3, 5, 10, 12) for drop in (False, True)],
    ("batch_of_list", lambda m: list(data(m).BatchSampler([5, 1, 4, 2, 3], 2, False))),
    ("batch_zero", lambda m: data(m).BatchSampler(range(3), 0, False)),
    ("batch_bool", lambda m: data(m).BatchSampler(range(3), True, False)),
    ("batch_float", lambda m: data(m).BatchSampler(range(3), 2.0, False)),
    ("batch_drop_int", lambda m: data(m).BatchSampler(range(3), 2, 1)),
    ("random_replacement_int", lambda m: data(m).RandomSampler(range(3), replacement=1)),
    ("random_num_samples_zero", lambda m: data(m).RandomSampler(range(3), num_samples=0)),
    ("random_num_samples_float", lambda m: data(m).RandomSampler(range(3), num_samples=2.0)),
    ("random_len", lambda m: len(data(m).RandomSampler(range(3), num_samples=7))),
    ("weighted_zero", lambda m: data(m).WeightedRandomSampler([1.0, 2.0], 0)),
    ("weighted_bool_samples", lambda m: data(m).WeightedRandomSampler([1.0, 2.0], True)),
    ("weighted_replacement_int", lambda m: data(m).WeightedRandomSampler([1.0], 2, 1)),
    ("weighted_2d", lambda m: data(m).WeightedRandomSampler([[1.0, 2.0]], 2)),
    ("weighted_weights", lambda m: data(m).WeightedRandomSampler([1, 2], 3).weights),
    ("subset_random_len", lambda m: len(data(m).SubsetRandomSampler([4, 5, 6]))),
]


@pytest.mark.parametrize("name,fn", SAMPLER_ROWS, ids=[r[0] for r in SAMPLER_ROWS])
def test_samplers_match_torch(name, fn):
    check(fn)


def seeded(seed=0):
    return disttorch.Generator().manual_seed(seed)


def test_random_sampler_permutes_and_repeats():
    order = list(ddata.RandomSampler(range(10), generator=seeded()))
    assert sorted(order) == list(range(10))
    # more samples than items: whole permutations, then part of one more
    longer = list(ddata.RandomSampler(range(4), num_samples=10, generator=seeded()))
    assert len(longer) == 10
    assert sorted(longer[:4]) == sorted(longer[4:8]) == list(range(4))
    assert len(set(longer[8:])) == 2


def test_random_sampler_with_replacement():
    drawn = list(ddata.RandomSampler(range(5), replacement=True, num_samples=1000,
                                     generator=seeded()))
    assert len(drawn) == 1000 and set(drawn) == set(range(5))
    counts = np.bincount(drawn, minlength=5)
    assert counts.min() > 140  # about 200 each


def test_random_sampler_reproducible_and_fresh_each_epoch():
    sampler = ddata.RandomSampler(range(50), generator=seeded(7))
    epoch1, epoch2 = list(sampler), list(sampler)
    assert epoch1 != epoch2  # the generator moves on
    assert list(ddata.RandomSampler(range(50), generator=seeded(7))) == epoch1
    # without a generator each epoch draws its seed from the default generator
    disttorch.manual_seed(11)
    free = ddata.RandomSampler(range(50))
    runs = [list(free), list(free)]
    assert runs[0] != runs[1]
    disttorch.manual_seed(11)
    assert [list(free), list(free)] == runs


def test_subset_random_sampler():
    indices = [10, 20, 30, 40, 50]
    order = list(ddata.SubsetRandomSampler(indices, generator=seeded(1)))
    assert sorted(order) == indices
    assert list(ddata.SubsetRandomSampler(indices, generator=seeded(1))) == order


def test_weighted_random_sampler():
    weights = [0.0, 1.0, 3.0]
    drawn = list(ddata.WeightedRandomSampler(weights, 4000, generator=seeded()))
    counts = np.bincount(drawn, minlength=3)
    assert counts[0] == 0 and 2.5 < counts[2] / counts[1] < 3.5
    distinct = list(ddata.WeightedRandomSampler([1.0, 2.0, 3.0, 4.0], 4, replacement=False,
                                                generator=seeded()))
    assert sorted(distinct) == [0, 1, 2, 3]
    again = ddata.WeightedRandomSampler([1.0, 2.0, 3.0, 4.0], 4, replacement=False,
                                        generator=seeded())
    assert list(again) == distinct


# ---------------------------------------------------------------- collation

def _array_pair(dtype):
    return lambda m: [np.arange(3, dtype=dtype), np.ones(3, dtype=dtype)]


COLLATE_ROWS = [
    ("float_tensors", lambda m: [m.tensor([1.0, 2.0]), m.tensor([3.0, 4.0])]),
    ("int_tensors", lambda m: [m.tensor([[1, 2]]), m.tensor([[3, 4]])]),
    ("scalar_tensors", lambda m: [m.tensor(1.5), m.tensor(2.5)]),
    ("mixed_dtype_tensors", lambda m: [m.tensor([1, 2]), m.tensor([0.5, 1.5])]),
    ("bool_tensors", lambda m: [m.tensor([True]), m.tensor([False])]),
    ("float64_tensors", lambda m: [m.tensor([1.0], dtype=m.float64)] * 3),
    ("unequal_tensors", lambda m: [m.zeros(2), m.zeros(3)]),
    *[(f"numpy_{d}", _array_pair(d)) for d in ("float32", "float64", "int32", "int64",
                                               "uint8", "bool", "float16")],
    ("numpy_2d", lambda m: [np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32)]),
    ("numpy_strings", lambda m: [np.array(["a"]), np.array(["b"])]),
    ("numpy_scalars_f32", lambda m: [np.float32(1.5), np.float32(2.0)]),
    ("numpy_scalars_f64", lambda m: [np.float64(1.5), np.float64(2.0)]),
    ("numpy_scalars_i32", lambda m: [np.int32(1), np.int32(2)]),
    ("numpy_scalars_bool", lambda m: [np.bool_(True), np.bool_(False)]),
    ("numpy_0d", lambda m: [np.array(1.0), np.array(2.0)]),
    ("floats", lambda m: [1.5, 2.5, -1.0]),
    ("ints", lambda m: [1, 2, 3]),
    ("bools", lambda m: [True, False]),
    ("int_then_float", lambda m: [1, 2.5]),
    ("float_then_int", lambda m: [2.5, 1]),
    ("strings", lambda m: ["a", "bc"]),
    ("bytes", lambda m: [b"a", b"bc"]),
    ("none", lambda m: [None, None]),
    ("objects", lambda m: [object, object]),
    ("dicts", lambda m: [{"x": m.tensor([1.0]), "y": 1, "s": "a"},
                         {"x": m.tensor([2.0]), "y": 2, "s": "b"}]),
    ("ordered_dicts", lambda m: [collections.OrderedDict(b=1, a=2.0),
                                 collections.OrderedDict(b=3, a=4.0)]),
    ("tuples", lambda m: [(m.tensor([1.0]), 1), (m.tensor([2.0]), 2)]),
    ("lists", lambda m: [[1, 2.0], [3, 4.0]]),
    ("unequal_lists", lambda m: [[1, 2], [3]]),
    ("namedtuples", lambda m: [Point(1, m.tensor(2.0)), Point(3, m.tensor(4.0))]),
    ("nested", lambda m: [{"p": Point([1, 2], np.float32(1)), "t": (1.0, ["s"])},
                          {"p": Point([3, 4], np.float32(2)), "t": (2.0, ["u"])}]),
]


@pytest.mark.parametrize("name,make", COLLATE_ROWS, ids=[r[0] for r in COLLATE_ROWS])
def test_default_collate_matches_torch(name, make):
    check(lambda m: data(m).default_collate(make(m)))


CONVERT_ROWS = [
    ("array", lambda m: np.arange(3.0)),
    ("scalar", lambda m: np.float32(2.5)),
    ("strings", lambda m: np.array(["a"])),
    ("tuple", lambda m: (np.zeros(2), 1, "s")),
    ("list", lambda m: [np.int64(1), np.ones(2, np.float32)]),
    ("dict", lambda m: {"a": np.zeros(1), "b": [np.int32(3)]}),
    ("namedtuple", lambda m: Point(np.int64(1), np.zeros(1))),
    ("tensor", lambda m: m.tensor([1, 2])),
    ("plain", lambda m: "text"),
]


@pytest.mark.parametrize("name,make", CONVERT_ROWS, ids=[r[0] for r in CONVERT_ROWS])
def test_default_convert_matches_torch(name, make):
    check(lambda m: data(m).default_convert(make(m)))


def test_default_convert_shares_numpy_memory():
    array = np.zeros(3)
    converted = ddata.default_convert(array)
    array[0] = 5.0
    assert converted[0].item() == 5.0


def test_collate_keeps_autograd_history():
    samples = [disttorch.ones(2, requires_grad=True) for _ in range(3)]
    batch = ddata.default_collate(samples)
    assert batch.requires_grad and batch.shape == (3, 2)


# ---------------------------------------------------------------- DataLoader, one process

def _points(m):
    return [{"x": m.tensor([float(i), -float(i)]), "label": i % 3} for i in range(7)]


class TorchStream(tdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def _stream(m, n=7):
    return TorchStream(n) if m is torch else Stream(n)


LOADER_ROWS = [
    *[(f"tensors_bs{bs}_drop{drop}", lambda m, bs=bs, drop=drop: list(
        data(m).DataLoader(data(m).TensorDataset(*_tensors(m)), batch_size=bs,
                           drop_last=drop)))
      for bs in (1, 2, 4, 6, 8) for drop in (False, True)],
    ("dicts", lambda m: list(data(m).DataLoader(_points(m), batch_size=3))),
    ("range", lambda m: list(data(m).DataLoader(range(5), batch_size=2))),
    ("no_batching", lambda m: list(data(m).DataLoader(range(3), batch_size=None))),
    ("no_batching_numpy", lambda m: list(data(m).DataLoader(
        [np.arange(2.0), np.ones(2)], batch_size=None))),
    ("sampler", lambda m: list(data(m).DataLoader(range(10, 16), batch_size=2,
                                                  sampler=[5, 0, 3, 1]))),
    ("batch_sampler", lambda m: list(data(m).DataLoader(range(10, 16),
                                                        batch_sampler=[[5, 0], [3]]))),
    ("collate_fn", lambda m: list(data(m).DataLoader(range(4), batch_size=3,
                                                     collate_fn=lambda b: sum(b)))),
    ("stream", lambda m: list(data(m).DataLoader(_stream(m), batch_size=3))),
    ("stream_drop", lambda m: list(data(m).DataLoader(_stream(m), batch_size=3,
                                                      drop_last=True))),
    ("stream_unbatched", lambda m: list(data(m).DataLoader(_stream(m), batch_size=None))),
    *[(f"len_{bs}_{drop}", lambda m, bs=bs, drop=drop: (
        len(data(m).DataLoader(range(7), batch_size=bs, drop_last=drop)),
        len(data(m).DataLoader(_stream(m), batch_size=bs, drop_last=drop))))
      for bs in (1, 3, 7, 9) for drop in (False, True)],
    ("len_unbatched", lambda m: (len(data(m).DataLoader(range(7), batch_size=None)),
                                 len(data(m).DataLoader(_stream(m), batch_size=None)))),
]


@pytest.mark.parametrize("name,fn", LOADER_ROWS, ids=[r[0] for r in LOADER_ROWS])
def test_dataloader_batches_match_torch(name, fn):
    check(fn)


LOADER_ERROR_ROWS = [
    ("stream_shuffle", lambda m: data(m).DataLoader(_stream(m), shuffle=True)),
    ("stream_sampler", lambda m: data(m).DataLoader(_stream(m), sampler=[1])),
    ("stream_batch_sampler", lambda m: data(m).DataLoader(_stream(m), batch_sampler=[[1]])),
    ("sampler_shuffle", lambda m: data(m).DataLoader(range(4), sampler=[1], shuffle=True)),
    ("batch_sampler_size", lambda m: data(m).DataLoader(range(4), batch_sampler=[[1]],
                                                        batch_size=2)),
    ("batch_sampler_drop", lambda m: data(m).DataLoader(range(4), batch_sampler=[[1]],
                                                        drop_last=True)),
    ("no_batch_drop", lambda m: data(m).DataLoader(range(4), batch_size=None,
                                                   drop_last=True)),
    ("negative_workers", lambda m: data(m).DataLoader(range(4), num_workers=-1)),
    ("negative_timeout", lambda m: data(m).DataLoader(range(4), timeout=-1)),
    ("prefetch_no_workers", lambda m: data(m).DataLoader(range(4), prefetch_factor=2)),
    ("negative_prefetch", lambda m: data(m).DataLoader(range(4), num_workers=1,
                                                       prefetch_factor=-1)),
    ("persistent_no_workers", lambda m: data(m).DataLoader(range(4),
                                                           persistent_workers=True)),
    ("context_no_workers", lambda m: data(m).DataLoader(range(4),
                                                        multiprocessing_context="spawn")),
    ("context_bad_name", lambda m: data(m).DataLoader(range(4), num_workers=1,
                                                      multiprocessing_context="bogus")),
    ("context_bad_type", lambda m: data(m).DataLoader(range(4), num_workers=1,
                                                      multiprocessing_context=3)),
    ("set_batch_size", lambda m: setattr(data(m).DataLoader(range(4)), "batch_size", 2)),
    ("set_dataset", lambda m: setattr(data(m).DataLoader(range(4)), "dataset", [])),
    ("timeout_in_process", lambda m: iter(data(m).DataLoader(range(4), timeout=1))),
    ("collate_error", lambda m: list(data(m).DataLoader([None, None], batch_size=2))),
]


@pytest.mark.parametrize("name,fn", LOADER_ERROR_ROWS, ids=[r[0] for r in LOADER_ERROR_ROWS])
def test_dataloader_errors_match_torch(name, fn):
    result = outcome(fn, disttorch)
    assert result[0] == "raised"
    assert result == outcome(fn, torch)


def test_dataloader_attributes():
    loader = ddata.DataLoader(range(5), batch_size=2, drop_last=True)
    assert loader.batch_size == 2 and loader.drop_last and loader.num_workers == 0
    assert isinstance(loader.sampler, ddata.SequentialSampler)
    assert isinstance(loader.batch_sampler, ddata.BatchSampler)
    assert loader.collate_fn is ddata.default_collate
    assert ddata.DataLoader(range(5), batch_size=None).collate_fn is ddata.default_convert
    assert isinstance(ddata.DataLoader(range(5), shuffle=True).sampler, ddata.RandomSampler)
    assert loader.num_workers == 0 and loader.prefetch_factor is None
    assert ddata.DataLoader(range(5), num_workers=1).prefetch_factor == 2
    assert ddata.get_worker_info() is None


def test_shuffle_with_seeded_generator_is_reproducible():
    def epochs(seed):
        loader = ddata.DataLoader(range(20), batch_size=4, shuffle=True,
                                  generator=disttorch.Generator().manual_seed(seed))
        return [[b.tolist() for b in loader] for _ in range(2)]

    first = epochs(5)
    assert first == epochs(5) and first != epochs(6)
    assert first[0] != first[1]
    assert sorted(sum(first[0], [])) == list(range(20))


def test_shuffle_follows_manual_seed():
    def run():
        disttorch.manual_seed(21)
        return [b.tolist() for b in ddata.DataLoader(range(12), batch_size=5, shuffle=True)]

    assert run() == run()


def test_iterable_length_warning():
    class Liar(ddata.IterableDataset):
        def __iter__(self):
            return iter(range(5))

        def __len__(self):
            return 3

    loader = ddata.DataLoader(Liar(), batch_size=None)
    assert len(loader) == 3
    with pytest.warns(UserWarning, match="was reported to be 3"):
        assert list(loader) == [0, 1, 2, 3, 4]


def test_pin_memory_without_accelerator_warns():
    if disttorch._backend.cupy_module() is not None:
        pytest.skip("an accelerator is present")
    with pytest.warns(UserWarning, match="no accelerator is found"):
        batches = list(ddata.DataLoader(range(4), batch_size=2, pin_memory=True))
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3]]


def test_iterator_cannot_be_pickled():
    import pickle

    with pytest.raises(NotImplementedError, match="cannot be pickled"):
        pickle.dumps(iter(ddata.DataLoader(range(3))))


def test_tensor_dataset_batched_fetch_matches_single_items():
    x, y = _tensors(disttorch)
    dataset = ddata.TensorDataset(x, y)
    indices = [4, 0, 4, 2]
    assert canon(dataset.__getitems__(indices)) == canon([dataset[i] for i in indices])
    grads = ddata.TensorDataset(disttorch.ones(3, 2, requires_grad=True))
    (sample,) = grads.__getitems__([1])[0]
    assert sample.requires_grad and sample.shape == (2,)
