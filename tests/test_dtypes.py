"""dtypes against torch: dtype attributes, finfo/iinfo, the legacy tensor types
(FloatTensor, ...), the torch.Tensor legacy constructor, Tensor.new and
set_default_tensor_type."""

import warnings

import numpy as np
import pytest
import torch
from oracle import check, check_error

import disttorch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64"]
LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "ByteTensor",
          "CharTensor", "ShortTensor", "IntTensor", "LongTensor", "BoolTensor"]
FLOATS = ["float16", "bfloat16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", DTYPES)
def test_dtype_attributes(name):
    d, t = getattr(disttorch, name), getattr(torch, name)
    for attr in ("is_floating_point", "is_signed", "itemsize", "is_complex"):
        assert getattr(d, attr) == getattr(t, attr), attr
    assert repr(d) == repr(t) and str(d) == str(t)


@pytest.mark.parametrize("alias", ["float", "double", "half", "long", "int", "short", "bool"])
def test_dtype_aliases(alias):
    assert str(getattr(disttorch, alias)) == str(getattr(torch, alias))


# ---------------------------------------------------------------- finfo / iinfo


@pytest.mark.parametrize("name", FLOATS)
def test_finfo(name):
    d, t = disttorch.finfo(getattr(disttorch, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(d, attr) == getattr(t, attr), attr
        assert type(getattr(d, attr)) is type(getattr(t, attr)), attr
    assert repr(d) == repr(t)


@pytest.mark.parametrize("name", INTS)
def test_iinfo(name):
    d, t = disttorch.iinfo(getattr(disttorch, name)), torch.iinfo(getattr(torch, name))
    for attr in ("bits", "max", "min", "dtype"):
        assert getattr(d, attr) == getattr(t, attr), attr
        assert type(getattr(d, attr)) is type(getattr(t, attr)), attr
    assert repr(d) == repr(t)


def test_finfo_default_and_equality():
    assert disttorch.finfo().dtype == torch.finfo().dtype == "float32"
    assert disttorch.finfo(disttorch.float32) == disttorch.finfo(disttorch.float32)
    assert disttorch.finfo(disttorch.float32) != disttorch.finfo(disttorch.float64)
    assert disttorch.iinfo(disttorch.int8) == disttorch.iinfo(disttorch.int8)
    with pytest.raises(TypeError, match="unhashable"):
        hash(disttorch.finfo(disttorch.float32))


@pytest.mark.parametrize("fn", [
    lambda m: m.finfo(m.int32),
    lambda m: m.finfo(m.bool),
    lambda m: m.finfo("float32"),
    lambda m: m.finfo(np.float32),
    lambda m: m.iinfo(m.float32),
    lambda m: m.iinfo(m.bool),
    lambda m: m.iinfo(),
    lambda m: m.iinfo(3),
])
def test_info_errors(fn):
    check_error(fn, match="same")


# ---------------------------------------------------------------- legacy types


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_type_attributes(name):
    d, t = getattr(disttorch, name), getattr(torch, name)
    assert str(d.dtype) == str(t.dtype)
    assert d.is_cuda is t.is_cuda is False and d.is_sparse is t.is_sparse is False
    assert d.__name__ == t.__name__
    assert not issubclass(d, disttorch.Tensor)


@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("dtype", DTYPES)
def test_legacy_isinstance(name, dtype):
    d = isinstance(disttorch.zeros(2, dtype=getattr(disttorch, dtype)), getattr(disttorch, name))
    t = isinstance(torch.zeros(2, dtype=getattr(torch, dtype)), getattr(torch, name))
    assert d == t
    assert not isinstance(np.zeros(2), getattr(disttorch, name))


@pytest.mark.parametrize("fn", [
    lambda m: m.FloatTensor([1, 2]),
    lambda m: m.DoubleTensor([[1, 2], [3, 4.5]]),
    lambda m: m.LongTensor([1.7, 2]),
    lambda m: m.IntTensor((3, 4)),
    lambda m: m.ByteTensor([-1, 255]),
    lambda m: m.CharTensor([-3]),
    lambda m: m.ShortTensor([True, 2]),
    lambda m: m.BoolTensor([0, 2.5]),
    lambda m: m.HalfTensor([0.5, 1e5]),
    lambda m: m.BFloat16Tensor([0.5, 3]).float(),
    lambda m: m.LongTensor(),
    lambda m: m.FloatTensor(np.array([1, 2])),
    lambda m: m.LongTensor(np.array([1.5, 2.5])),
    lambda m: m.FloatTensor(m.zeros(2)),
    lambda m: m.FloatTensor([m.tensor(1), m.tensor(2.5)]),
    lambda m: m.FloatTensor([1], device="cpu"),
    lambda m: tuple(m.LongTensor(3).shape),
    lambda m: str(m.LongTensor(3).dtype),
    lambda m: tuple(m.FloatTensor(2, 3).shape),
    lambda m: tuple(m.IntTensor(m.Size([2, 3])).shape),
    lambda m: tuple(m.FloatTensor(0).shape),
    lambda m: tuple(m.DoubleTensor(np.int64(2)).shape),
])
def test_legacy_constructors(fn):
    check(fn, grad=False)


@pytest.mark.parametrize("fn", [
    lambda m: m.FloatTensor(m.zeros(2, dtype=m.int64)),
    lambda m: m.LongTensor(m.zeros(2)),
    lambda m: m.FloatTensor("a"),
    lambda m: m.FloatTensor(3.5),
    lambda m: m.FloatTensor(2.0, 3),
    lambda m: m.FloatTensor(2, 3, dtype=m.float64),
    lambda m: m.FloatTensor(-1),
    lambda m: m.LongTensor([[1, 2], [3]]),
    lambda m: m.ByteTensor([300]),
])
def test_legacy_constructor_errors(fn):
    check_error(fn, match="same")


def test_legacy_alias_shares_memory():
    base = disttorch.zeros(3)
    alias = disttorch.FloatTensor(base)
    alias.fill_(2)
    assert base.tolist() == [2.0, 2.0, 2.0]
    assert type(disttorch.FloatTensor([1])) is disttorch.Tensor


def test_type_with_legacy_class():
    for m in (torch, disttorch):
        x = m.tensor([1.5, -2.5])
        assert str(x.type(m.DoubleTensor).dtype) == "torch.float64"
        assert str(x.type(m.IntTensor).dtype) == "torch.int32"
        assert isinstance(x.type(m.LongTensor), m.LongTensor)
        assert x.type("torch.ByteTensor").dtype == m.uint8
        assert x.type() == "torch.FloatTensor"


# ---------------------------------------------------------------- torch.Tensor(...), Tensor.new


@pytest.mark.parametrize("fn", [
    lambda m: m.Tensor([1, 2]),
    lambda m: m.Tensor([[1, 2], [3, 4]]),
    lambda m: m.Tensor((1, 2)),
    lambda m: m.Tensor([True]),
    lambda m: m.Tensor(np.array([1, 2])),
    lambda m: m.Tensor(np.array([1.5, 2.0])),
    lambda m: m.Tensor(),
    lambda m: m.Tensor([m.tensor(1), m.tensor(2.0)]),
    lambda m: tuple(m.Tensor(2, 3).shape),
    lambda m: str(m.Tensor(2, 3).dtype),
    lambda m: tuple(m.Tensor(m.Size([4])).shape),
    lambda m: m.Tensor(m.ones(2)),
    lambda m: m.Tensor(m.ones(2, dtype=m.int64)),
])
def test_tensor_legacy_constructor(fn):
    check(fn, grad=False)


@pytest.mark.parametrize("fn", [
    lambda m: m.Tensor(3.5),
    lambda m: m.Tensor([[1, 2], [3]]),
    lambda m: m.Tensor(2, 3, dtype=m.float64),
    lambda m: m.Tensor(-1),
    lambda m: m.Tensor(2.0, 3),
])
def test_tensor_legacy_constructor_errors(fn):
    check_error(fn, match="same")


def test_tensor_constructor_follows_default_dtype_and_subclasses():
    for m in (torch, disttorch):
        m.set_default_dtype(m.float64)
    try:
        check(lambda m: m.Tensor([1, 2]), grad=False)
        check(lambda m: str(m.Tensor(2).dtype), grad=False)
    finally:
        for m in (torch, disttorch):
            m.set_default_dtype(m.float32)

    class Custom(disttorch.Tensor):
        pass

    t = Custom([1.0, 2.0])
    assert type(t) is Custom and t.tolist() == [1.0, 2.0]
    assert isinstance(t, disttorch.FloatTensor)


@pytest.mark.parametrize("fn", [
    lambda m, t: t.new(2).shape,
    lambda m, t: t.new([1.5]),
    lambda m, t: t.new(),
    lambda m, t: t.new(t),
    lambda m, t: t.new(2, 3).dtype,
])
def test_tensor_new(fn):
    def run(m):
        out = fn(m, m.tensor([1, 2, 3], dtype=m.int32))
        return tuple(out) if isinstance(out, (torch.Size, disttorch.Size)) else (
            str(out) if not isinstance(out, (torch.Tensor, disttorch.Tensor)) else out)

    check(run, grad=False)
    check_error(lambda m: m.tensor([1, 2], dtype=m.int32).new(m.ones(2)), match="same")


# ---------------------------------------------------------------- set_default_tensor_type


@pytest.mark.parametrize("value,expected", [
    ("torch.DoubleTensor", "torch.float64"),
    ("DoubleTensor", "torch.float64"),
    ("HalfTensor", "torch.float16"),
    ("BFloat16Tensor", "torch.bfloat16"),
    ("torch.FloatTensor", "torch.float32"),
])
def test_set_default_tensor_type(value, expected):
    results = []
    for m in (torch, disttorch):
        arg = value if value.startswith("torch.") else getattr(m, value)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m.set_default_tensor_type(arg)
            results.append((str(m.get_default_dtype()), str(m.tensor([1.5]).dtype),
                            str(m.Tensor(2).dtype), str(m.zeros(1).dtype)))
        finally:
            m.set_default_dtype(m.float32)
    assert results[0] == results[1] == (expected,) * 4


def test_set_default_tensor_type_warns():
    with pytest.warns(UserWarning, match="set_default_tensor_type.. is deprecated"):
        disttorch.set_default_tensor_type(disttorch.FloatTensor)


@pytest.mark.parametrize("fn", [
    lambda m: m.set_default_tensor_type("torch.LongTensor"),
    lambda m: m.set_default_tensor_type(m.LongTensor),
    lambda m: m.set_default_tensor_type("torch.Foo"),
    lambda m: m.set_default_tensor_type(m.float64),
    lambda m: m.set_default_tensor_type(3),
    lambda m: m.set_default_tensor_type("torch.float64"),
])
@pytest.mark.filterwarnings("ignore:torch.set_default_tensor_type")
def test_set_default_tensor_type_errors(fn):
    try:
        check_error(fn, match="same")
    finally:
        for m in (torch, disttorch):
            m.set_default_dtype(m.float32)
