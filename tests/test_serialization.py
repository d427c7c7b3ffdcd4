"""save / load: round trips, shared storage, weights_only safety, map_location, atomic save."""

import collections
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import disttorch
import disttorch.serialization as S
from disttorch import _backend as B


def roundtrip(obj, **load_args):
    buffer = io.BytesIO()
    S.save(obj, buffer)
    buffer.seek(0)
    return S.load(buffer, **load_args)


def assert_same_tensor(got, expected):
    assert type(got) is type(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.requires_grad == expected.requires_grad and got.is_leaf
    assert np.array_equal(got.detach().numpy().astype(np.float64),
                          expected.detach().numpy().astype(np.float64))


def _base():
    return disttorch.tensor(np.arange(24.0, dtype=np.float32).reshape(4, 6))


TENSOR_ROWS = [
    ("float32", lambda: disttorch.tensor([[1.5, -2.0], [3.0, 4.0]])),
    ("float64", lambda: disttorch.tensor([1.0, 2.0], dtype=disttorch.float64)),
    ("float16", lambda: disttorch.tensor([1.0, 2.5], dtype=disttorch.float16)),
    ("bfloat16", lambda: disttorch.tensor([1.0, 2.5], dtype=disttorch.bfloat16)),
    ("int64", lambda: disttorch.tensor([[1, -2, 3]])),
    ("int32", lambda: disttorch.tensor([7], dtype=disttorch.int32)),
    ("uint8", lambda: disttorch.tensor([0, 255], dtype=disttorch.uint8)),
    ("int8", lambda: disttorch.tensor([-128, 127], dtype=disttorch.int8)),
    ("bool", lambda: disttorch.tensor([True, False, True])),
    ("scalar", lambda: disttorch.tensor(3.25)),
    ("empty", lambda: disttorch.zeros(0, 3)),
    ("requires_grad", lambda: disttorch.ones(2, 3, requires_grad=True)),
    ("transposed", lambda: disttorch.Tensor._wrap(_base()._data.T)),
    ("row", lambda: disttorch.Tensor._wrap(_base()._data[2])),
    ("column_step", lambda: disttorch.Tensor._wrap(_base()._data[1:, ::2])),
    ("reversed", lambda: disttorch.Tensor._wrap(_base()._data[::-1, ::-2])),
    ("expanded", lambda: disttorch.Tensor._wrap(np.broadcast_to(_base()._data[:1], (5, 6)))),
]


@pytest.mark.parametrize("name,make", TENSOR_ROWS, ids=[r[0] for r in TENSOR_ROWS])
def test_tensor_roundtrip(name, make):
    tensor = make()
    loaded = roundtrip(tensor)
    assert_same_tensor(loaded, tensor)
    assert loaded.stride() == tensor.stride()  # views load as views, as in torch


def test_nested_containers_and_python_values():
    state = collections.OrderedDict(weight=disttorch.ones(2, 2), bias=disttorch.zeros(2))
    state._metadata = {"": {"version": 1}}
    obj = {
        "state_dict": state,
        "list": [1, 2.5, "text", None, True, b"raw", 3 + 4j],
        "tuple": (disttorch.tensor([1]), (2, (3,))),
        "set": {1, 2}, "frozenset": frozenset({"a"}), "bytearray": bytearray(b"xy"),
        "dtype": disttorch.float16, "device": disttorch.device("cpu"),
        "size": disttorch.Size([2, 3]), "slice": slice(1, 5, 2), "range": range(3),
        "numpy": np.arange(6, dtype=np.int16).reshape(2, 3),
        "numpy_scalar": np.float32(2.5), "counter": collections.Counter("aab"),
        "numpy_random_state": np.random.RandomState(0).get_state(),
    }
    loaded = roundtrip(obj)
    assert list(loaded) == list(obj)
    assert type(loaded["state_dict"]) is collections.OrderedDict
    assert list(loaded["state_dict"]) == ["weight", "bias"]
    assert loaded["state_dict"]._metadata == {"": {"version": 1}}
    assert_same_tensor(loaded["state_dict"]["weight"], state["weight"])
    assert loaded["list"] == obj["list"]
    assert loaded["tuple"][0].tolist() == [1] and loaded["tuple"][1] == (2, (3,))
    for key in ("set", "frozenset", "bytearray", "slice", "range", "counter"):
        assert loaded[key] == obj[key] and type(loaded[key]) is type(obj[key])
    assert loaded["dtype"] is disttorch.float16
    assert loaded["device"] == disttorch.device("cpu")
    assert type(loaded["size"]) is disttorch.Size and loaded["size"] == (2, 3)
    assert loaded["numpy"].dtype == np.int16 and np.array_equal(loaded["numpy"], obj["numpy"])
    assert type(loaded["numpy_scalar"]) is np.float32 and loaded["numpy_scalar"] == 2.5
    kind, keys, *rest = loaded["numpy_random_state"]
    assert kind == "MT19937" and np.array_equal(keys, obj["numpy_random_state"][1])


def test_optimizer_state_dict_shape():
    state = {
        "state": {0: {"step": disttorch.tensor(3.0), "exp_avg": disttorch.ones(3),
                      "exp_avg_sq": disttorch.zeros(3)}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                          "weight_decay": 0, "amsgrad": False, "params": [0, 1]}],
    }
    loaded = roundtrip(state)
    assert loaded["param_groups"] == state["param_groups"]
    assert loaded["state"][0]["step"].item() == 3.0
    assert_same_tensor(loaded["state"][0]["exp_avg"], state["state"][0]["exp_avg"])


def test_views_share_memory_after_load():
    base = _base()
    view = disttorch.Tensor._wrap(base._data.T)
    row = disttorch.Tensor._wrap(base._data[1])
    loaded_base, loaded_view, loaded_row, again = roundtrip([base, view, row, base])
    assert again is loaded_base  # the same object saved twice loads as one
    loaded_base._data[1, 2] = -1.0
    assert loaded_view._data[2, 1] == -1.0 and loaded_row._data[2] == -1.0
    assert loaded_row.storage_offset() == 6
    assert loaded_row.untyped_storage().data_ptr() == loaded_base.untyped_storage().data_ptr()


def test_a_view_saves_only_the_memory_it_covers():
    big = disttorch.zeros(1000, 100)
    small = disttorch.Tensor._wrap(big._data[10:12])
    whole, part = io.BytesIO(), io.BytesIO()
    S.save(big, whole)
    S.save(small, part)
    assert len(part.getvalue()) < 3000 < 400000 < len(whole.getvalue())
    part.seek(0)
    assert S.load(part).shape == (2, 100)


def test_paths_and_file_objects(tmp_path):
    tensor = disttorch.tensor([1.0, 2.0])
    S.save(tensor, str(tmp_path / "a.pt"))
    assert S.load(str(tmp_path / "a.pt")).tolist() == [1.0, 2.0]
    S.save(tensor, tmp_path / "b.pt")
    assert S.load(tmp_path / "b.pt").tolist() == [1.0, 2.0]
    with open(tmp_path / "c.pt", "wb") as f:
        S.save(tensor, f)
    with open(tmp_path / "c.pt", "rb") as f:
        assert S.load(f).tolist() == [1.0, 2.0]

    class Stream:  # readable but not seekable, like a pipe
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def read(self, *size):
            return self.data.read(*size)

    assert S.load(Stream((tmp_path / "c.pt").read_bytes())).tolist() == [1.0, 2.0]
    assert zipfile.is_zipfile(tmp_path / "a.pt")


def test_save_and_load_errors(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .*missing does not exist"):
        S.save(disttorch.ones(1), tmp_path / "missing" / "x.pt")
    with pytest.raises(FileNotFoundError):
        S.load(tmp_path / "absent.pt")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(RuntimeError, match="not a checkpoint written by disttorch.save"):
        S.load(tmp_path / "text.pt")
    with pytest.raises(RuntimeError, match="explicit pickle_module"):
        S.load(tmp_path / "text.pt", pickle_module=pickle, weights_only=True)


def test_pickle_protocols():
    for protocol in (2, 4, pickle.HIGHEST_PROTOCOL):
        buffer = io.BytesIO()
        S.save({"t": disttorch.ones(2), "b": b"\x00\xff"}, buffer, pickle_protocol=protocol)
        buffer.seek(0)
        loaded = S.load(buffer)
        assert loaded["t"].tolist() == [1.0, 1.0] and loaded["b"] == b"\x00\xff"


# ---------------------------------------------------------------- weights_only

class Exploit:
    """Unpickling this runs a shell command that creates a file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class Point:
    def __init__(self, x):
        self.x = x


class Tagged(disttorch.Tensor):
    pass


def test_weights_only_never_runs_code_from_the_file(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    S.save({"weights": disttorch.ones(2), "payload": {"deep": [Exploit(marker)]}}, path)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed") as caught:
        S.load(path)
    assert "system" in str(caught.value)
    assert not marker.exists()
    # the same file does run code once the caller says it is trusted
    S.load(path, weights_only=False)
    assert marker.exists()


HOSTILE_PICKLES = [
    ("eval", b"cbuiltins\neval\n(S'1+1'\ntR."),
    ("getattr", b"cbuiltins\ngetattr\n(cbuiltins\nobject\nS'__subclasses__'\ntR."),
    ("os_system", b"cos\nsystem\n(S'true'\ntR."),
    ("import", b"c__builtin__\n__import__\n(S'os'\ntR."),
    ("numpy_reconstruct", pickle.dumps(np.zeros(2).view(np.recarray), protocol=2)),
    ("subprocess", b"csubprocess\nPopen\n((S'true'\nltR."),
]


@pytest.mark.parametrize("name,payload", HOSTILE_PICKLES, ids=[r[0] for r in HOSTILE_PICKLES])
def test_weights_only_rejects_hand_made_pickles(name, payload):
    buffer = io.BytesIO()
    S.save(None, buffer)
    hostile = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(hostile, "w") as target:
        for item in source.namelist():
            data = payload if item.endswith("data.pkl") else source.read(item)
            target.writestr(item, data)
    hostile.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        S.load(hostile)


def test_safe_globals_allow_trusted_classes():
    buffer = io.BytesIO()
    S.save({"point": Point(3)}, buffer)
    for attempt in range(2):
        buffer.seek(0)
        with pytest.raises(pickle.UnpicklingError, match="Unsupported global: GLOBAL "
                                                         f"{__name__}.Point"):
            S.load(buffer)
        buffer.seek(0)
        with S.safe_globals([Point]):
            assert S.get_safe_globals() == [Point]
            assert S.load(buffer)["point"].x == 3
        assert S.get_safe_globals() == []
    S.add_safe_globals([Point])
    try:
        buffer.seek(0)
        assert S.load(buffer)["point"].x == 3
    finally:
        S.clear_safe_globals()


def test_tensor_subclasses():
    tagged = disttorch.ones(2).as_subclass(Tagged)
    with pytest.raises(pickle.UnpicklingError, match="Unsupported tensor class"):
        roundtrip(tagged)
    assert type(roundtrip(tagged, weights_only=False)) is Tagged
    with S.safe_globals([Tagged]):
        assert type(roundtrip(tagged)) is Tagged


def test_tampered_records_are_rejected():
    buffer = io.BytesIO()
    S.save(np.zeros(3), buffer)
    hostile = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(hostile, "w") as target:
        for item in source.namelist():
            data = source.read(item)
            if item.endswith("storages.json"):
                data = data.replace(b'"float64"', b'"|O"')
            target.writestr(item, data)
    hostile.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="invalid array dtype"):
        S.load(hostile)


# ---------------------------------------------------------------- map_location

@pytest.mark.parametrize("map_location", [
    None, "cpu", disttorch.device("cpu"), {"cpu": "cpu"}, {"cuda:0": "cpu"},
    lambda storage, location: storage, lambda storage, location: None,
])
def test_map_location_to_cpu(map_location):
    loaded = roundtrip({"w": disttorch.ones(2, requires_grad=True)}, map_location=map_location)
    assert loaded["w"].device == disttorch.device("cpu") and loaded["w"].requires_grad


def test_map_location_callable_sees_the_saved_location():
    seen = []
    roundtrip(disttorch.ones(2), map_location=lambda storage, location: seen.append(location))
    assert seen == ["cpu"]


def test_cuda_without_cuda():
    if B.cupy_module() is not None:
        pytest.skip("CUDA is available")
    with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
        roundtrip(disttorch.ones(2), map_location="cuda")


# ---------------------------------------------------------------- atomic save

def test_failed_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "checkpoint.pt"
    S.save({"epoch": 1, "weights": disttorch.ones(3)}, path)
    before = path.read_bytes()
    broken = {"epoch": 2, "weights": disttorch.zeros(3),
              "nested": {"ok": [1, 2], "callback": lambda: None}}
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        S.save(broken, path)
    assert path.read_bytes() == before
    assert S.load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["checkpoint.pt"]  # no temporary file left behind


def test_save_replaces_and_keeps_default_permissions(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_text("old")
    S.save([1, 2], path)
    assert S.load(path) == [1, 2]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------- modules

class Affine(disttorch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = disttorch.nn.Parameter(disttorch.tensor([[1.0, 2.0], [3.0, 4.0]]))
        self.register_buffer("shift", disttorch.tensor([0.5, -0.5]))


def test_module_state_dict_roundtrip():
    source, target = Affine(), Affine()
    target.weight.data = disttorch.zeros(2, 2)
    loaded = roundtrip(source.state_dict())
    assert list(loaded) == ["weight", "shift"]
    target.load_state_dict(loaded)
    assert target.weight.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert type(target.weight) is disttorch.nn.Parameter and target.weight.requires_grad


def test_parameters_and_whole_modules():
    module = Affine()
    weight, again = roundtrip([module.weight, module.weight])
    assert type(weight) is disttorch.nn.Parameter and weight.requires_grad and again is weight
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        roundtrip(module)
    copy = roundtrip(module, weights_only=False)
    assert type(copy) is Affine and copy.shift.tolist() == [0.5, -0.5]


def test_memory_that_is_not_one_block_is_saved_by_value():
    base = np.arange(12.0)
    strided = np.lib.stride_tricks.as_strided(base[::-1], shape=(3, 2), strides=(-16, -8))
    loaded = roundtrip(disttorch.Tensor._wrap(strided))
    assert loaded.tolist() == strided.tolist()


def test_links_are_followed_and_permissions_kept(tmp_path):
    target = tmp_path / "real.pt"
    S.save([0], target)
    os.chmod(target, 0o600)
    link = tmp_path / "link.pt"
    link.symlink_to(target)
    S.save([1], link)
    assert link.is_symlink() and S.load(target) == [1]
    assert target.stat().st_mode & 0o777 == 0o600
