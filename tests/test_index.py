"""Indexing against torch: __getitem__ / __setitem__ with basic, advanced and mask indices:
values, dtypes, shapes, gradients, node names and error messages, float64 gradchecks, and
a seeded random comparison over mixed indices. (gather, scatter and the rest: test_scatter.)"""

import warnings

import numpy as np
import pytest
import torch
from oracle import _wrap, arr, check, check_error, gradcheck_op

import disttorch

IDX = np.array([0, 2])
IDX_DUP = np.array([1, 0, 1, 1])
I2 = np.array([[0, 1, 2, 0], [1, 0, 2, 1]])
MASK = arr(3, 4, dtype="bool")
MASK3 = np.array([True, False, True])
MASK45 = arr(4, 5, dtype="bool")


def T(m, a):
    return m.tensor(a)


GET_ROWS = [
    ("int", lambda m, x: x[0]),
    ("neg_int", lambda m, x: x[-1]),
    ("slice", lambda m, x: x[1:3]),
    ("full_slice", lambda m, x: x[:]),
    ("ellipsis", lambda m, x: x[...]),
    ("none", lambda m, x: x[None]),
    ("int_slice", lambda m, x: x[0, 1:3]),
    ("slice_int", lambda m, x: x[1:3, 0]),
    ("full_int", lambda m, x: x[:, 0]),
    ("ellipsis_none", lambda m, x: x[..., None]),
    ("step", lambda m, x: x[::2]),
    ("steps", lambda m, x: x[1::2, ::3, 1:]),
    ("all_ints", lambda m, x: x[0, 0, 0]),
    ("none_ellipsis_int", lambda m, x: x[None, ..., None, 0]),
    ("ellipsis_int", lambda m, x: x[..., 0, :]),
    ("empty_slice", lambda m, x: x[5:1]),
    ("clamped", lambda m, x: x[-10:2]),
    ("tuple_full", lambda m, x: x[:, :]),
    ("tensor_0d", lambda m, x: x[m.tensor(1)]),
    ("tensor_0d_int32", lambda m, x: x[m.tensor(-1, dtype=m.int32)]),
    ("numpy_int", lambda m, x: x[np.int64(1), 2]),
    ("true", lambda m, x: x[True]),
    ("false", lambda m, x: x[False]),
    ("none_false", lambda m, x: x[None, False]),
    ("true_tensor_int", lambda m, x: x[m.tensor(True), 0]),
    ("tensor", lambda m, x: x[T(m, IDX)]),
    ("list", lambda m, x: x[[0, 2]]),
    ("list_dup", lambda m, x: x[[1, 1, 0]]),
    ("tensor_dup", lambda m, x: x[T(m, IDX_DUP)]),
    ("two_lists", lambda m, x: x[[0, 2], [1, 3]]),
    ("slice_two_lists", lambda m, x: x[:, [0, 1], [1, 2]]),
    ("tensor_2d", lambda m, x: x[T(m, np.array([[0, 1], [1, 2]]))]),
    ("slice_tensor", lambda m, x: x[1:, T(m, IDX)]),
    ("full_tensor", lambda m, x: x[:, T(m, IDX)]),
    ("full_tensor_int", lambda m, x: x[:, T(m, IDX), 0]),
    ("split_tensors", lambda m, x: x[T(m, IDX), :, T(m, np.array([1, 3]))]),
    ("broadcast_tensors", lambda m, x: x[T(m, np.array([[0], [2]])), T(m, np.array([1, 3]))]),
    ("tensor_none", lambda m, x: x[T(m, IDX), None]),
    ("none_tensor", lambda m, x: x[None, T(m, IDX)]),
    ("negative_tensor", lambda m, x: x[T(m, np.array([-1, -3]))]),
    ("int32_tensor", lambda m, x: x[T(m, IDX.astype(np.int32))]),
    ("numpy_array", lambda m, x: x[np.array([0, 1])]),
    ("mask", lambda m, x: x[T(m, MASK)]),
    ("mask_1d", lambda m, x: x[T(m, MASK3)]),
    ("mask_list", lambda m, x: x[[True, False, True]]),
    ("mask_numpy", lambda m, x: x[MASK3]),
    ("mask_after_int", lambda m, x: x[1, T(m, MASK45)]),
    ("mask_uint8", lambda m, x: x[T(m, MASK3.astype(np.uint8))]),
    ("mask_0d", lambda m, x: x[m.tensor(True)]),
    ("empty_tensor", lambda m, x: x[m.tensor([], dtype=m.long)]),
    ("empty_list", lambda m, x: x[[]]),
    ("list_as_tuple", lambda m, x: x[[0, [1]]]),
    ("nested_list_as_tuple", lambda m, x: x[[[0, 1], [1, 2]]]),
    ("slice_tensor_bounds", lambda m, x: x[m.tensor(1):m.tensor(3)]),
]


@pytest.mark.parametrize("name,fn", GET_ROWS, ids=[r[0] for r in GET_ROWS])
def test_getitem(name, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(fn, arr(3, 4, 5))


@pytest.mark.parametrize("dtype", ["int64", "bool", "float32", "uint8"])
@pytest.mark.parametrize("name,fn", GET_ROWS[::3], ids=[r[0] for r in GET_ROWS[::3]])
def test_getitem_dtypes(dtype, name, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(fn, arr(3, 4, 5, dtype=dtype), grad=False)


def _nodes(out):
    outs = out if isinstance(out, (tuple, list)) else [out]
    return [type(o.grad_fn).__name__ if o.grad_fn is not None else None for o in outs]


def _node_names(fn, *inputs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _nodes(fn(torch, *[_wrap(torch, x, True) for x in inputs]))
        got = _nodes(fn(disttorch, *[_wrap(disttorch, x, True) for x in inputs]))
    assert got == expected


@pytest.mark.parametrize("name,fn", GET_ROWS, ids=[r[0] for r in GET_ROWS])
def test_getitem_node_names(name, fn):
    x = arr(3, 4, 5)
    _node_names(lambda m, x: fn(m, x * 1), x)  # through a non-leaf: next_functions differ


@pytest.mark.parametrize("name,fn", GET_ROWS, ids=[r[0] for r in GET_ROWS])
def test_getitem_gradcheck(name, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gradcheck_op(fn, arr(3, 4, 5))
        if name in ("int", "slice", "steps", "tensor_dup", "mask", "slice_tensor", "none"):
            gradcheck_op(lambda m, x: fn(m, x) ** 2, arr(3, 4, 5), gradgrad=True)


def setter(index, value_shape=None, value=None):
    """fn(m, x[, v]): y = x.clone(); y[index] = v (or the constant `value`); return y."""
    def run(m, x, v=None):
        y = x.clone()
        key = index(m) if callable(index) else index
        y[key] = v if v is not None else value
        return y
    return run, value_shape


SET_ROWS = [
    ("int", *setter(0, (4, 5))),
    ("int_broadcast", *setter(0, (5,))),
    ("int_leading_ones", *setter(0, (1, 1, 5))),
    ("slice", *setter(slice(1, 3), (2, 1, 5))),
    ("ellipsis", *setter(Ellipsis, (4, 1))),
    ("full_slice", *setter(slice(None), (5,))),
    ("none", *setter(None, (3, 4, 5))),
    ("int_pair", *setter((1, 2), ())),
    ("tensor_0d", *setter(lambda m: m.tensor(1), (4, 5))),
    ("tensor", *setter(lambda m: T(m, IDX), (2, 4, 5))),
    ("tensor_broadcast", *setter(lambda m: T(m, IDX), (5,))),
    ("tensor_dup", *setter(lambda m: T(m, IDX_DUP), (4, 1, 5))),
    ("mask", *setter(lambda m: T(m, MASK), ())),
    ("mask_1d", *setter(lambda m: T(m, MASK3), (2, 4, 5))),
    ("slice_tensor", *setter(lambda m: (slice(1, None), T(m, IDX)), (2, 2, 5))),
    ("full_tensor", *setter(lambda m: (slice(None), T(m, IDX)), (5,))),
    ("tensor_int", *setter(lambda m: (T(m, IDX), 1), (2, 5))),
    ("int_tensor", *setter(lambda m: (0, T(m, IDX)), (1,))),
    ("two_lists", *setter(([0, 2], [1, 3]), (2, 5))),
    ("scalar_int", *setter(0, value=2.5)),
    ("scalar_tensor_idx", *setter(lambda m: T(m, IDX), value=-1)),
    ("scalar_mask", *setter(lambda m: T(m, MASK), value=0.0)),
    ("scalar_ellipsis", *setter(Ellipsis, value=3)),
    ("scalar_bool", *setter((0, slice(1, 3)), value=True)),
]


@pytest.mark.parametrize("name,fn,vshape", SET_ROWS, ids=[r[0] for r in SET_ROWS])
def test_setitem(name, fn, vshape):
    inputs = [arr(3, 4, 5)] + ([arr(*vshape)] if vshape is not None else [])
    check(fn, *inputs)
    _node_names(fn, *inputs)
    if name != "tensor_dup":  # which duplicate wins is not differentiable
        gradcheck_op(fn, *inputs)


@pytest.mark.parametrize("dtype", ["int64", "bool", "float32", "int8"])
@pytest.mark.parametrize("name,fn,vshape", SET_ROWS, ids=[r[0] for r in SET_ROWS])
def test_setitem_dtypes(dtype, name, fn, vshape):
    advanced = name.startswith(("tensor", "mask", "slice_tensor", "full_tensor", "int_tensor",
                                "two_lists", "scalar_tensor", "scalar_mask"))
    value_dtype = dtype if advanced else "float64"  # advanced assignment keeps the dtype
    inputs = [arr(3, 4, 5, dtype=dtype)] + ([np.asarray(arr(*vshape, dtype=value_dtype))]
                                             if vshape is not None else [])
    check(fn, *inputs, grad=False)


def test_setitem_gradgrad():
    for name, fn, vshape in SET_ROWS[:3] + SET_ROWS[9:11] + SET_ROWS[14:16]:
        gradcheck_op(lambda m, x, v: fn(m, x * x, v * v), arr(3, 4, 5), arr(*vshape),
                     gradgrad=True)


def test_setitem_float_into_int_truncates():
    check(lambda m, x: setter(0, value=2.7)[0](m, x), arr(3, dtype="int64"), grad=False)
    check(lambda m, x, v: setter(0)[0](m, x, v), arr(3, dtype="int64"), np.array(3.7),
          grad=False)


GET_ERRORS = [
    lambda m, x: x[5], lambda m, x: x[:, 7], lambda m, x: x[-4], lambda m, x: x[0, 7],
    lambda m, x: x[None, 7], lambda m, x: x[..., 9],
    lambda m, x: x[m.tensor([5])], lambda m, x: x[m.tensor([-4])],
    lambda m, x: x[m.tensor(5)], lambda m, x: x[:, m.tensor([9])],
    lambda m, x: x[:, :, m.tensor([9])], lambda m, x: x[m.tensor([0]), m.tensor([9])],
    lambda m, x: x[m.tensor([0]), :, m.tensor([9])], lambda m, x: x[1:, m.tensor([7])],
    lambda m, x: x[::-1], lambda m, x: x[::0],
    lambda m, x: x[m.tensor([True, False])], lambda m, x: x[[True, False]],
    lambda m, x: x[0, m.ones(3, 5, dtype=m.bool)], lambda m, x: x[:, m.ones(4, 4, dtype=m.bool)],
    lambda m, x: x[0, 0, 0, 0], lambda m, x: x[1.5], lambda m, x: x["a"],
    lambda m, x: x[m.tensor([0.5])], lambda m, x: x[m.tensor(1.0)],
    lambda m, x: x[m.tensor([1, 0]), m.tensor([1, 0, 1])],
    lambda m, x: x[0][0][0][0],
]


@pytest.mark.parametrize("fn", GET_ERRORS)
def test_getitem_errors(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_error(fn, arr(3, 4, 5), match="same")


@pytest.mark.parametrize("fn", [lambda m, x: x[0], lambda m, x: x[:], lambda m, x: x[[0]],
                                lambda m, x: x[m.tensor(0)]])
def test_getitem_0d_errors(fn):
    check_error(fn, np.array(1.0), match="same")


def _set(index, value):
    def run(m, x):
        key = index(m) if callable(index) else index
        x[key] = value(m) if callable(value) else value
    return run


SET_ERRORS = [
    _set(slice(0, 2), lambda m: m.ones(4)),
    _set(lambda m: m.tensor([0, 1]), lambda m: m.ones(3)),
    _set(5, 1), _set(lambda m: m.tensor([5]), 1),
    _set(0, [1, 2, 3]), _set(0, np.array([1.0, 2.0, 3.0])),
    _set((slice(None), 0), lambda m: m.ones(3, 1)),
    _set(slice(None, None, -1), 0),
]


@pytest.mark.parametrize("fn", SET_ERRORS)
def test_setitem_errors(fn):
    check_error(fn, arr(3, 3), match="same")


@pytest.mark.parametrize("index", [0, slice(None), Ellipsis, np.array([0]), MASK3[:3] | True])
def test_setitem_leaf_requiring_grad(index):
    def run(m, x):
        x.requires_grad_()
        x[index if not isinstance(index, np.ndarray) else m.tensor(index)] = 1.0
    check_error(run, arr(3), match="same")


def test_setitem_no_grad_on_leaf():
    for m in (torch, disttorch):
        x = m.ones(3, requires_grad=True)
        with m.no_grad():
            x[0] = 5.0
            x[m.tensor([1])] = 4.0
        assert x.tolist() == [5.0, 4.0, 1.0] and x.is_leaf and x.requires_grad


def test_setitem_bumps_version():
    x = disttorch.ones(3)
    v = x[1:]
    x[0] = 2.0
    x[disttorch.tensor([1])] = 3.0
    x[...] = x * 2
    assert x._version_counter == 3 and v._version_counter == 3
    assert v.tolist() == [6.0, 2.0]


def test_setitem_grad_into_plain_tensor():
    results = []
    for m in (torch, disttorch):
        v = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        z = m.zeros(3)
        z[1] = v[0]
        z2 = m.zeros(3)
        z2[m.tensor([0, 2])] = v[1:] * 2
        ((z * m.tensor([1.0, 2.0, 3.0])).sum() + z2.sum()).backward()
        results.append((type(z.grad_fn).__name__, type(z2.grad_fn).__name__, z.requires_grad,
                        z.is_leaf,
                        v.grad.tolist()))
    assert results[0] == results[1]


def _random_item(rng, size):
    k = rng.random()
    if k < 0.2:
        return rng.integers(-size, size) if size else None
    if k < 0.45:
        start, stop = rng.integers(-size - 1, size + 2, 2)
        return slice(rng.choice([None, int(start)]), rng.choice([None, int(stop)]),
                     rng.choice([None, 1, 2, 3]))
    if k < 0.55:
        return None
    if k < 0.6:
        return Ellipsis
    if k < 0.75:
        return [int(i) for i in rng.integers(-size, size, rng.integers(1, 4))] if size else []
    if k < 0.9:
        return ("tensor", rng.integers(-size, max(size, 1), rng.integers(1, 3)))
    return ("mask", rng.random(size) < 0.5)


def _materialize(m, item):
    if isinstance(item, tuple):
        return m.tensor(item[1])
    return item


def _outcome(m, data, items, value):
    key = tuple(_materialize(m, i) for i in items)
    x = m.tensor(data, requires_grad=True)
    try:
        out = (x * 1)[key]
        projection = m.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))
        (out * projection).sum().backward()
        read = (out.detach().numpy().tolist(), x.grad.numpy().round(12).tolist(),
                out._base is not None)
    except IndexError as e:
        return ("IndexError", str(e))
    x.grad = None
    v = m.tensor(np.array(value), requires_grad=True)
    y = x * 1
    y[key] = v * 3
    (y * y).sum().backward()
    return read, y.detach().numpy().tolist(), x.grad.numpy().round(12).tolist(), \
        v.grad.numpy().round(12).tolist(), type(y.grad_fn).__name__


def test_random_indices_match_torch():
    rng = np.random.default_rng(2024)
    for _ in range(300):
        shape = tuple(int(n) for n in rng.integers(0, 4, rng.integers(1, 4)))
        data = rng.standard_normal(shape)
        items = [_random_item(rng, shape[min(i, len(shape) - 1)])
                 for i in range(rng.integers(1, 4))]
        if sum(i is Ellipsis for i in items) > 1:
            continue  # torch's reading of several ellipses is not meaningful
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = _outcome(torch, data, items, 0.5)
            got = _outcome(disttorch, data, items, 0.5)
        assert got == expected, (shape, items)
