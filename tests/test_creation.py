"""Tensor creation against torch: tensor() inference, memory sharing, factories, ranges,
new_*, and the in-place writes fill_/zero_/copy_ (values, dtypes, errors and autograd)."""

import warnings

import numpy as np
import pytest
import torch
from oracle import arr, assert_same, check, check_error, gradcheck_op

import disttorch

pytestmark = [
    pytest.mark.filterwarnings("ignore:torch.range is deprecated"),
    pytest.mark.filterwarnings("ignore:To copy construct"),
    pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy"),
    pytest.mark.filterwarnings("ignore:torch.asarray. unspecified requires_grad"),
]

# ---------------------------------------------------------------- tensor(): dtype inference

INFERENCE = [
    lambda m: [1, 2],
    lambda m: [1.0, 2],
    lambda m: [True, False],
    lambda m: [True, 2],
    lambda m: [[1, 2], [3, 4]],
    lambda m: ((1.5, 2), (3, 4)),
    lambda m: [],
    lambda m: [[]],
    lambda m: [[], []],
    lambda m: (),
    lambda m: 3,
    lambda m: 2.5,
    lambda m: True,
    lambda m: -2 ** 63,
    lambda m: range(4),
    lambda m: np.float64(2.5),
    lambda m: np.float32(2.5),
    lambda m: np.int32(2),
    lambda m: np.bool_(True),
    lambda m: [np.float64(2.5), 1],
    lambda m: [np.float32(2.5), 1],
    lambda m: [np.int16(2), 1],
    lambda m: [np.int16(2), True],
    lambda m: [m.tensor(1), m.tensor(2)],
    lambda m: [m.tensor(1), m.tensor(2.5)],
    lambda m: [m.tensor(1, dtype=m.int32), 2],
    lambda m: [m.tensor(1.0, dtype=m.float64), 2],
    lambda m: [m.tensor(1, dtype=m.int32), 2.5],
    lambda m: [m.tensor(True), 2],
    lambda m: [m.tensor(1, dtype=m.uint8), m.tensor(1, dtype=m.int8)],
    lambda m: [m.tensor(1.0, dtype=m.float16), 3],
    lambda m: [[m.tensor(1.5), 2], [3, 4]],
    lambda m: np.arange(6, dtype=np.int16).reshape(2, 3),
    lambda m: np.arange(3, dtype=np.float64),
    lambda m: np.array([True, False]),
    lambda m: np.arange(4.0)[::2],
    lambda m: [np.array([1, 2], dtype=np.int16), np.array([1, 2], dtype=np.int16)],
    lambda m: [np.array([1, 2], dtype=np.float32), [1, 2]],
    lambda m: m.Size([2, 3]),
]


@pytest.mark.parametrize("data", INFERENCE)
def test_tensor_inference(data):
    check(lambda m: m.tensor(data(m)), grad=False)


def test_tensor_inference_follows_default_dtype():
    for m in (torch, disttorch):
        m.set_default_dtype(m.float64)
    try:
        check(lambda m: m.tensor([1.5, 2]), grad=False)
        check(lambda m: m.tensor([[1, 2.5], [True, 4]]), grad=False)
    finally:
        for m in (torch, disttorch):
            m.set_default_dtype(m.float32)


@pytest.mark.parametrize("data,dtype", [
    ([1.5, -2.7], "int64"), ([1, 2], "float16"), ([2.5, 0], "bool"), (-1, "uint8"),
    ([-200], "uint8"), ([255.0], "uint8"), (2 ** 63, "float32"), ([2 ** 64], "float32"),
    ([1e5], "float16"), ([1e50], "float32"), (3.0, "int32"), ([True, 2], "float64"),
    (np.array([1.7, -1.2]), "int32"), (np.array([1, 2]), "float32"),
    (np.arange(3, dtype=np.int8), "bool"),
])
def test_tensor_explicit_dtype(data, dtype):
    check(lambda m: m.tensor(data, dtype=getattr(m, dtype)), grad=False)


@pytest.mark.parametrize("data,kwargs", [
    (lambda m: [[1, 2], [3, 4, 5]], {}),
    (lambda m: [[[1], [2]], [[1], [2, 3]]], {}),
    (lambda m: [[1, 2], []], {}),
    (lambda m: [[1, 2], 3], {}),
    (lambda m: [1.0, [2, 3]], {}),
    (lambda m: [1, [2, 3]], {"dtype": "float32"}),
    (lambda m: [True, [2, 3]], {}),
    (lambda m: [[1, 2], m.tensor([1, 2, 3])], {}),
    (lambda m: [np.array([1, 2]), np.array([1, 2, 3])], {}),
    (lambda m: [[1, 2], "ab"], {}),
    (lambda m: "a", {}),
    (lambda m: None, {}),
    (lambda m: [1, None], {}),
    (lambda m: {1: 2}, {}),
    (lambda m: 2 ** 63, {}),
    (lambda m: [1, 2 ** 64], {}),
    (lambda m: 2 ** 63, {"dtype": "uint8"}),
    (lambda m: 300, {"dtype": "uint8"}),
    (lambda m: [-256], {"dtype": "uint8"}),
    (lambda m: [-1.5], {"dtype": "uint8"}),
    (lambda m: [1e20], {"dtype": "int64"}),
    (lambda m: [3e9], {"dtype": "int32"}),
    (lambda m: [-129], {"dtype": "int8"}),
    (lambda m: float("nan"), {"dtype": "int64"}),
    (lambda m: [1, 2], {"requires_grad": True}),
    (lambda m: np.arange(4.0)[::-1], {}),
    (lambda m: [1, 2], {"dtype": "float32_str"}),
])
def test_tensor_errors(data, kwargs):
    def build(m):
        kw = dict(kwargs)
        if kw.get("dtype") == "float32_str":
            kw["dtype"] = "float32"
        elif "dtype" in kw:
            kw["dtype"] = getattr(m, kw["dtype"])
        return m.tensor(data(m), **kw)

    check_error(build, match="same")


def test_tensor_requires_grad_device_and_copy():
    check(lambda m: m.tensor([1.0, 2.0], requires_grad=True), grad=False)
    check(lambda m: m.tensor([1.0, 2.0], device="cpu", dtype=m.float64), grad=False)
    check(lambda m: m.tensor([1, 2], dtype=float), grad=False)
    source = disttorch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="To copy construct"):
        copy = disttorch.tensor(source)
    assert not copy.requires_grad and copy.data_ptr() != source.data_ptr()
    array = np.arange(3.0)
    t = disttorch.tensor(array)
    array[0] = 9
    assert t.tolist() == [0.0, 1.0, 2.0]


# ---------------------------------------------------------------- memory sharing


def _shares(t, array):
    """A write through the tensor shows in the array and one through the array in the tensor."""
    t.fill_(7)
    assert np.all(array == 7)
    array[...] = 3
    assert np.all(t.numpy() == 3)


def test_from_numpy_shares_memory():
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = disttorch.from_numpy(array)
    assert t.dtype is disttorch.float32 and t.shape == (2, 3)
    _shares(t, array)
    back = t.numpy()
    back[0, 0] = -1
    assert t.tolist()[0][0] == -1 and np.shares_memory(back, array)


@pytest.mark.parametrize("make", [
    lambda a: disttorch.as_tensor(a),
    lambda a: disttorch.asarray(a),
    lambda a: disttorch.as_tensor(a, dtype=disttorch.int64),
    lambda a: disttorch.asarray(a, copy=False),
])
def test_as_tensor_and_asarray_share_memory(make):
    array = np.arange(4, dtype=np.int64)
    _shares(make(array), array)


@pytest.mark.parametrize("make", [
    lambda a: disttorch.tensor(a),
    lambda a: disttorch.as_tensor(a, dtype=disttorch.float32),
    lambda a: disttorch.asarray(a, copy=True),
])
def test_copies_do_not_share(make):
    array = np.arange(4, dtype=np.int64)
    t = make(array)
    t.fill_(7)
    assert array.tolist() == [0, 1, 2, 3]


def test_from_numpy_dtypes_and_errors():
    for dt in ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
               "bool"):
        a = np.zeros(2, dtype=dt)
        assert str(disttorch.from_numpy(a).dtype) == str(torch.from_numpy(a).dtype)
    for bad in ([1], np.float64(1.0), np.arange(4.0)[::-1], np.arange(3, dtype=">f4")):
        check_error(lambda m: m.from_numpy(bad), match="same")
    readonly = np.arange(3.0)
    readonly.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert disttorch.from_numpy(readonly).tolist() == [0.0, 1.0, 2.0]


def test_as_tensor_and_asarray_of_tensors():
    x = disttorch.ones(2, requires_grad=True)
    assert disttorch.as_tensor(x) is x
    assert disttorch.asarray(x, requires_grad=True) is x
    y = disttorch.as_tensor(x, dtype=disttorch.float64)
    assert type(y.grad_fn).__name__ == "ToCopyBackward0"
    z = disttorch.asarray(x, copy=True)
    assert type(z.grad_fn).__name__ == "CloneBackward0"
    check(lambda m: m.as_tensor([1, 2], dtype=m.float64), grad=False)
    check(lambda m: m.asarray(3.5), grad=False)
    check(lambda m: m.asarray(np.float64(3.5)), grad=False)
    check(lambda m: m.asarray([1.0, 2], requires_grad=True), grad=False)
    check_error(lambda m: m.asarray([1, 2], copy=False), match="same")
    check_error(lambda m: m.asarray(np.arange(3), dtype=m.float32, copy=False), match="same")
    check_error(lambda m: m.asarray([1, 2], requires_grad=True), match="same")


# ---------------------------------------------------------------- factories


@pytest.mark.parametrize("fn", [
    lambda m: m.zeros(2, 3),
    lambda m: m.zeros((2, 3)),
    lambda m: m.zeros([2, 3], dtype=m.int32),
    lambda m: m.zeros(m.Size([2, 3])),
    lambda m: m.zeros(size=(2, 3)),
    lambda m: m.zeros(()),
    lambda m: m.zeros([]),
    lambda m: m.zeros(0, 3),
    lambda m: m.zeros(np.int64(2)),
    lambda m: m.zeros((m.tensor(2), 3)),
    lambda m: m.zeros(2, dtype=float),
    lambda m: m.zeros(2, dtype=bool),
    lambda m: m.ones(2, 3, dtype=m.float64),
    lambda m: m.ones((2,), dtype=m.bool),
    lambda m: m.ones(3, requires_grad=True),
    lambda m: m.full((2, 2), 1.5),
    lambda m: m.full((2,), 1),
    lambda m: m.full((2,), True),
    lambda m: m.full([2], m.tensor(3)),
    lambda m: m.full([2], m.tensor(3.0, dtype=m.float64)),
    lambda m: m.full([2], np.float64(3.0)),
    lambda m: m.full([2], np.int32(3)),
    lambda m: m.full([2], 2.7, dtype=m.int64),
    lambda m: m.full([2], -1, dtype=m.uint8),
    lambda m: m.full([2], 2 ** 63, dtype=m.float32),
    lambda m: m.full([2], float('inf'), dtype=m.float16),
    lambda m: m.full([2], 65504.0, dtype=m.float16),
    lambda m: m.full([2], 1e300, dtype=m.float64),
    lambda m: m.full((2,), 1.5, requires_grad=True),
    lambda m: tuple(m.empty(2, 3).shape),
    lambda m: str(m.empty(size=(2, 3), dtype=m.int16).dtype),
    lambda m: m.zeros(2, out=m.empty(2, dtype=m.int64)),
    lambda m: m.zeros_like(m.ones(2, 3, dtype=m.int32)),
    lambda m: m.zeros_like(m.ones(2), dtype=m.int64),
    lambda m: m.ones_like(m.ones(2, dtype=m.float64)),
    lambda m: m.ones_like(m.ones(2), requires_grad=True),
    lambda m: m.full_like(m.ones(2, dtype=m.int64), 2.7),
    lambda m: m.full_like(m.ones(2, 2), 3, dtype=m.float64),
    lambda m: m.scalar_tensor(3),
    lambda m: m.scalar_tensor(True, dtype=m.int64),
    lambda m: m.scalar_tensor(m.tensor(2.0)),
    lambda m: m.scalar_tensor(2.5, requires_grad=True),
    lambda m: m.scalar_tensor(np.float64(2.5)),
    lambda m: str(m.empty_like(m.ones(2, 3, dtype=m.int8)).dtype),
])
def test_factories(fn):
    check(fn, grad=False)


@pytest.mark.parametrize("fn", [
    lambda m: m.zeros(),
    lambda m: m.zeros(-1, 2),
    lambda m: m.zeros((-1,)),
    lambda m: m.ones(-1, 2),
    lambda m: m.empty(-1, 2),
    lambda m: m.full((2, -1), 1.0),
    lambda m: m.zeros(2, (3,)),
    lambda m: m.zeros((2,), 3),
    lambda m: m.zeros(2.5),
    lambda m: m.zeros((2, 2.5)),
    lambda m: m.ones(2, 2.5),
    lambda m: m.ones(2, "a"),
    lambda m: m.ones(2, None),
    lambda m: m.ones(None),
    lambda m: m.zeros(True),
    lambda m: m.zeros("a"),
    lambda m: m.full(2, 1.0),
    lambda m: m.full((2,), "a"),
    lambda m: m.full((2,), None),
    lambda m: m.full((2,), m.ones(2)),
    lambda m: m.full((2, 2.5), 1),
    lambda m: m.full([2], 300, dtype=m.uint8),
    lambda m: m.full([2], -256, dtype=m.uint8),
    lambda m: m.full([2], float("inf"), dtype=m.int64),
    lambda m: m.full([2], 2 ** 63, dtype=m.int64),
    lambda m: m.full([1], 1e40, dtype=m.int32),
    lambda m: m.full([1], 1e40, dtype=m.int16),
    lambda m: m.full([2], 1e40, dtype=m.float16),
    lambda m: m.full([2], 65520.0, dtype=m.float16),
    lambda m: m.full([2], 1e40, dtype=m.bfloat16),
    lambda m: m.full([2], 1e40, dtype=m.float32),
    lambda m: m.ones(2, dtype=m.float16).fill_(-1e5),
    lambda m: m.full([2], 1, requires_grad=True),
    lambda m: m.zeros(2, dtype=m.float32, out=m.empty(2, dtype=m.int64)),
    lambda m: m.zeros_like([1, 2]),
    lambda m: m.zeros_like(m.ones(2, dtype=m.int64), requires_grad=True),
    lambda m: m.full_like(m.zeros(2, dtype=m.uint8), 300),
    lambda m: m.scalar_tensor(300, dtype=m.uint8),
    lambda m: m.scalar_tensor("a"),
])
def test_factory_errors(fn):
    check_error(fn, match="same")


def test_factory_out_resizes():
    out = disttorch.empty(2)
    with pytest.warns(UserWarning, match="resized"):
        result = disttorch.zeros(3, out=out)
    assert result is out and out.tolist() == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------- ranges


@pytest.mark.parametrize("fn", [
    lambda m: m.arange(5),
    lambda m: m.arange(5.0),
    lambda m: m.arange(1, 5),
    lambda m: m.arange(1, 5, 2),
    lambda m: m.arange(0, 1, 0.1),
    lambda m: m.arange(1, 2.5, 0.5),
    lambda m: m.arange(-1, 1, 0.3),
    lambda m: m.arange(0, 10, 0.7),
    lambda m: m.arange(5, 1, -1),
    lambda m: m.arange(10, 0, -3),
    lambda m: m.arange(10, 0, -3.0),
    lambda m: m.arange(1, 1),
    lambda m: m.arange(0, 5, dtype=m.float64),
    lambda m: m.arange(0.5, 5, 1, dtype=m.int64),
    lambda m: m.arange(0, 5.5, 1, dtype=m.int64),
    lambda m: m.arange(0, 5.5, 1, dtype=m.int32),
    lambda m: m.arange(0, 5, 1.5, dtype=m.int64),
    lambda m: m.arange(0, 5, 1.5, dtype=m.int32),
    lambda m: m.arange(0, 5, 0.5, dtype=m.int32),
    lambda m: m.arange(0, 10, 3, dtype=m.uint8),
    lambda m: m.arange(0, 300, 100, dtype=m.uint8),
    lambda m: m.arange(0, 2, 0.3, dtype=m.float16),
    lambda m: m.arange(0, 2, 0.3, dtype=m.bfloat16).float(),
    lambda m: m.arange(0, 2 ** 62, 2 ** 60),
    lambda m: m.arange(m.tensor(3)),
    lambda m: m.arange(m.tensor(3.0)),
    lambda m: m.arange(np.int32(3)),
    lambda m: m.arange(np.float64(3)),
    lambda m: m.arange(True),
    lambda m: m.arange(start=1, end=4),
    lambda m: m.arange(end=4),
    lambda m: m.arange(0.0, 10, 4, requires_grad=True),
    lambda m: m.arange(1000, dtype=m.float32) * 1.0,
    lambda m: m.arange(-3.3, 7.1, 0.01),
    lambda m: m.range(0, 3),
    lambda m: m.range(0, 3, dtype=m.int64),
    lambda m: m.range(0, 1, 0.3),
    lambda m: m.range(0, 1, 0.1),
    lambda m: m.range(3, 0, -1),
    lambda m: m.range(0.5, 3, 1, dtype=m.int64),
    lambda m: m.range(0, 3.7, dtype=m.int32),
    lambda m: m.linspace(0, 1, 5),
    lambda m: m.linspace(0, 1, 1),
    lambda m: m.linspace(0, 1, 0),
    lambda m: m.linspace(-3, 7.5, 101),
    lambda m: m.linspace(0, 1, 5, dtype=m.float64),
    lambda m: m.linspace(0, 10, 4, dtype=m.int64),
    lambda m: m.linspace(0.7, 10.9, 5, dtype=m.int64),
    lambda m: m.linspace(-3.7, 10.9, 7, dtype=m.int32),
    lambda m: m.linspace(0, 1, 5, dtype=m.float16),
    lambda m: m.linspace(0, 1, 7, dtype=m.bfloat16).float(),
    lambda m: m.linspace(2.7, 1, 1, dtype=m.int64),
    lambda m: m.linspace(m.tensor(0), m.tensor(2.0), 3),
    lambda m: m.linspace(0, 1, 3, requires_grad=True),
    lambda m: m.logspace(0, 2, 3),
    lambda m: m.logspace(0, 2, 3, base=2),
    lambda m: m.logspace(-2, 3, 11),
    lambda m: m.logspace(0, 2, 3, dtype=m.int64),
    lambda m: m.logspace(0, 2, 3, 2, dtype=m.int64),
    lambda m: m.logspace(0, 2, 0),
    lambda m: m.logspace(0.5, 2.5, 4, dtype=m.int64),
    lambda m: m.logspace(0.5, 2.5, 1),
    lambda m: m.logspace(0.5, 2.5, 1, dtype=m.int64),
    lambda m: m.logspace(0.5, 2.5, 4, base=0.1),
    lambda m: m.logspace(0.5, 2.5, 4, base=0.1, dtype=m.int64),
    lambda m: m.logspace(0, 2, 3, base=-2),
    lambda m: m.logspace(0, 1, 5, dtype=m.float16),
    lambda m: m.logspace(0, 1, 5, dtype=m.float64),
    lambda m: m.logspace(m.tensor(1), 2, 3),
    lambda m: m.eye(3),
    lambda m: m.eye(2, 3),
    lambda m: m.eye(3, 2, dtype=m.float16),
    lambda m: m.eye(0),
    lambda m: m.eye(2, dtype=m.int64),
    lambda m: m.eye(2, dtype=m.bool),
    lambda m: m.eye(n=2, m=3),
    lambda m: m.eye(2, requires_grad=True),
    lambda m: m.tril_indices(3, 3),
    lambda m: m.tril_indices(3, 4, 1),
    lambda m: m.tril_indices(3, 4, -1),
    lambda m: m.tril_indices(3, 4, 10),
    lambda m: m.tril_indices(0, 4),
    lambda m: m.tril_indices(3, 3, dtype=m.int32),
    lambda m: m.triu_indices(3, 4, 1),
    lambda m: m.triu_indices(3, 4, -5),
    lambda m: m.triu_indices(4, 3),
])
def test_ranges(fn):
    check(fn, grad=False)


@pytest.mark.parametrize("fn", [
    lambda m: m.arange(5, 1),
    lambda m: m.arange(1, 5, 0),
    lambda m: m.arange(1, 5, -1),
    lambda m: m.arange(0, 5, 0.5, dtype=m.int64),
    lambda m: m.arange(0, float("inf")),
    lambda m: m.arange(0, float("nan")),
    lambda m: m.arange(0, 1e20, 1e-5),
    lambda m: m.arange(0, 5, dtype=m.bool),
    lambda m: m.arange(0, 10, requires_grad=True),
    lambda m: m.arange("a"),
    lambda m: m.arange(None),
    lambda m: m.range(3),
    lambda m: m.range(3, 0),
    lambda m: m.range(0, 3, 0),
    lambda m: m.range(0, float("inf")),
    lambda m: m.linspace(0, 1, -1),
    lambda m: m.linspace(0, 1, 2.5),
    lambda m: m.linspace(m.tensor([0]), m.tensor(2.0), 3),
    lambda m: m.linspace(0, 1, 5, dtype=m.bool),
    lambda m: m.logspace(0, 2, -2),
    lambda m: m.eye(-1),
    lambda m: m.eye(2, -1),
    lambda m: m.eye(2.5),
    lambda m: m.tril_indices(-1, 4),
    lambda m: m.triu_indices(3, -1),
    lambda m: m.tril_indices(3, 3, dtype=m.float32),
])
def test_range_errors(fn):
    check_error(fn, match="same")


# ---------------------------------------------------------------- Tensor.new_*


@pytest.mark.parametrize("fn", [
    lambda m, t: t.new_zeros(2, 3),
    lambda m, t: t.new_zeros((2, 3)),
    lambda m, t: t.new_zeros(2, 3, dtype=m.float64),
    lambda m, t: t.new_ones(2),
    lambda m, t: t.new_ones([2, 1], dtype=m.float32, requires_grad=True),
    lambda m, t: t.new_full((2,), 2.7),
    lambda m, t: t.new_full((2,), 5, dtype=m.float16),
    lambda m, t: t.new_tensor([1.5, 2]),
    lambda m, t: t.new_tensor([1.5, 2], dtype=m.float32),
    lambda m, t: t.new_tensor(np.array([1, 2])),
    lambda m, t: tuple(t.new_empty(2, 3).shape),
    lambda m, t: str(t.new_empty((2,)).dtype),
])
def test_new_methods(fn):
    check(lambda m: fn(m, m.tensor([1, 2, 3], dtype=m.int32)), grad=False)


@pytest.mark.parametrize("fn", [
    lambda m, t: t.new_full(2, 2.7),
    lambda m, t: t.new_ones(2, requires_grad=True),
    lambda m, t: t.new_full((2,), 300, dtype=m.uint8),
])
def test_new_method_errors(fn):
    check_error(lambda m: fn(m, m.tensor([1, 2, 3], dtype=m.int32)), match="same")


# ---------------------------------------------------------------- fill_, zero_, copy_


@pytest.mark.parametrize("fn", [
    lambda m, x: x.fill_(2.5),
    lambda m, x: x.int().fill_(2.7),
    lambda m, x: x.bool().fill_(2.5),
    lambda m, x: x.fill_(m.tensor(2.5)),
    lambda m, x: x.long().fill_(m.tensor(2.5)),
    lambda m, x: x.long().to(m.uint8).fill_(m.tensor(300)),
    lambda m, x: m.fill(x, 3.0),
    lambda m, x: m.fill_(x, 3.0),
    lambda m, x: m.zero_(x),
    lambda m, x: x.zero_(),
    lambda m, x: x.copy_(m.ones(2, 3, dtype=m.float64) * 2.5),
    lambda m, x: x.copy_(m.tensor([1.0, -2.0, 3.5])),
    lambda m, x: x.int().copy_(m.tensor([2.7, -2.7, 0.5])),
    lambda m, x: x.bool().copy_(m.tensor([2.7, 0, 0.1])),
    lambda m, x: x.to(m.uint8).copy_(m.tensor([300, -1, 5])),
    lambda m, x: x.copy_(m.tensor(3.0)),
    lambda m, x: x.copy_(m.tensor([[7], [8]])),
    lambda m, x: x.copy_(True),
    lambda m, x: x.long().copy_(2.5),
])
def test_inplace_writes(fn):
    check(lambda m, x: fn(m, x.detach().clone()), arr(2, 3), grad=False)


@pytest.mark.parametrize("fn", [
    lambda m, x: x.fill_(m.ones(2)),
    lambda m, x: x.to(m.uint8).fill_(300),
    lambda m, x: x.fill_("a"),
    lambda m, x: x.fill_(None),
    lambda m, x: x.copy_(m.ones(4)),
    lambda m, x: x.copy_(m.ones(3, 1)),
    lambda m, x: x.copy_(m.ones(2, 2, 3)),
    lambda m, x: x.copy_([1, 2, 3]),
    lambda m, x: m.ones(3).expand(2, 3).copy_(m.ones(2, 3)),
    lambda m, x: x.requires_grad_().fill_(1),
    lambda m, x: x.requires_grad_().zero_(),
    lambda m, x: x.requires_grad_().copy_(m.ones(2, 3)),
])
def test_inplace_write_errors(fn):
    check_error(lambda m, x: fn(m, x.detach().clone()), arr(2, 3), match="same")


def test_inplace_writes_bump_version_and_return_self():
    x = disttorch.zeros(3)
    for op in (lambda: x.fill_(1), lambda: x.zero_(), lambda: x.copy_(disttorch.ones(3))):
        before = x._version_counter
        assert op() is x
        assert x._version_counter == before + 1


def test_inplace_writes_into_views():
    x = disttorch.zeros(2, 3)
    x.t().fill_(1)
    x.view(6).copy_(disttorch.arange(6.0))
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_leaf_under_no_grad():
    for m in (torch, disttorch):
        w = m.zeros(3, requires_grad=True)
        with m.no_grad():
            w.fill_(2).copy_(m.ones(3) * 3)
            w.zero_()
        assert w.requires_grad and w.grad_fn is None and w.tolist() == [0.0] * 3


@pytest.mark.parametrize("fn,node", [
    (lambda m, x, v: (x * 2).fill_(1.5), "FillBackward2"),
    (lambda m, x, v: (x * 2).fill_(v.sum()), "FillBackward3"),
    (lambda m, x, v: m.zeros(2, 3).fill_(v.sum()), "FillBackward3"),
    (lambda m, x, v: m.fill(x, 2.0), "FillBackward0"),
    (lambda m, x, v: m.fill(x, v.sum()), "FillBackward1"),
    (lambda m, x, v: (x * 2).zero_(), "ZeroBackward0"),
    (lambda m, x, v: (x * 2).copy_(v), "CopyBackwards"),
    (lambda m, x, v: m.zeros(2, 3).copy_(v), "CopyBackwards"),
    (lambda m, x, v: m.zeros(2, 3, dtype=m.float32).copy_(v), "CopyBackwards"),
    (lambda m, x, v: (x * 1).copy_(v.float()), "CopyBackwards"),
])
def test_inplace_write_autograd(fn, node):
    out = check(fn, arr(2, 3), arr(3))
    assert type(out.grad_fn).__name__ == node
    assert type(fn(torch, torch.ones(2, 3, requires_grad=True),
                   torch.ones(3, requires_grad=True)).grad_fn).__name__ == node


def test_copy_gradcheck():
    gradcheck_op(lambda m, s: m.zeros(2, 3, dtype=m.float64).copy_(s) * 2, arr(3))
    gradcheck_op(lambda m, s: (lambda y: y * y)(m.zeros(2, 3, dtype=m.float64).copy_(s)),
                 arr(3), gradgrad=True)
    gradcheck_op(lambda m, x, s: (x * x).copy_(s).sum() + x.sum(), arr(2, 3), arr(2, 3))
    gradcheck_op(lambda m, v: m.zeros(4, dtype=m.float64).fill_(v.sum()) * 3, arr(2))


def test_copy_into_view_of_plain_tensor_gives_base_history():
    def fn(m, w):
        base = m.zeros(3, 2, dtype=m.float64)
        base.t().copy_(w * 2)
        return base

    out = check(fn, arr(2, 3))
    assert type(out.grad_fn).__name__ == "CopySlices"


def test_copy_through_view():
    def fn(m, x, s):
        base = x * 1
        base.view(6).copy_(s)
        return base

    out = check(fn, arr(2, 3), arr(6))
    assert type(out.grad_fn).__name__ == "CopySlices"
    check_error(lambda m, x: x.requires_grad_().view(6).fill_(1), arr(2, 3), match="same")


def test_tensor_values_match_dtype_table():
    rows = [(1.5, "float32"), (2, "int64"), (True, "bool")]
    for value, name in rows:
        assert_same(disttorch.full((1,), value), torch.full((1,), value))
        assert str(disttorch.tensor(value).dtype) == "torch." + name
