"""gather, scatter*, index_*, masked_*, take, put, nonzero and index_put against torch:
values, dtypes, shapes, gradients, node names and error messages, plus float64
gradchecks (gradgradchecks for a subset)."""

import warnings

import numpy as np
import pytest
import torch
from oracle import arr, check, check_error, gradcheck_op
from test_index import I2, IDX, IDX_DUP, MASK, T, _node_names

import disttorch

I2U = np.array([[0, 1, 2, 0], [1, 0, 1, 2]])  # no position written twice (scatter)


def _with_zeros(a):
    a = a.copy()
    a.reshape(-1)[::3] = 0.0
    return a


def _ties():
    return np.array([[1.0, 2.0, 0.5, 3.0], [1.0, 2.0, 0.5, 3.0], [1.0, 0.0, 0.5, 2.0]])


def inplace(method, *args, **kwargs):
    """fn(m, x, *tensors): y = x.clone(); y.method_(...); the result y (args may be
    callables of m or the tensors passed after x, given by position as ints)."""
    def run(m, x, *tensors):
        y = x.clone()
        real = [tensors[a] if isinstance(a, int) and not isinstance(a, bool) and a < 0 else
                a(m) if callable(a) else a for a in args]
        out = getattr(y, method)(*real, **kwargs)
        assert out is y
        return y
    return run


def I2T(m):
    return T(m, I2)


def IDXT(m):
    return T(m, IDX)


def DUPT(m):
    return T(m, IDX_DUP)


def MASKT(m):
    return T(m, MASK)


OP_ROWS = [
    ("gather", lambda m, x: m.gather(x, 0, T(m, I2)), [arr(3, 4)]),
    ("gather_dim1_small", lambda m, x: x.gather(1, T(m, np.array([[3, 0], [1, 1]]))),
     [arr(3, 4)]),
    ("gather_neg_dim", lambda m, x: x.gather(-1, T(m, I2.astype(np.int32))), [arr(3, 4)]),
    ("gather_0d", lambda m, x: x.gather(0, m.tensor(0)), [arr()]),
    ("take_along_dim", lambda m, x: m.take_along_dim(x, T(m, I2), 0), [arr(3, 4)]),
    ("take_along_dim_flat", lambda m, x: m.take_along_dim(x, T(m, np.array([0, 5, 5]))),
     [arr(3, 4)]),
    ("take_along_dim_bcast", lambda m, x: x.take_along_dim(T(m, np.array([[0, 1]])), 1),
     [arr(3, 4)]),
    ("scatter", lambda m, x, s: m.scatter(x, 0, T(m, I2U), s), [arr(3, 4), arr(2, 4)]),
    ("scatter_value", lambda m, x: x.scatter(0, T(m, I2), 2.5), [arr(3, 4)]),
    ("scatter_value_kw", lambda m, x: m.scatter(x, 1, T(m, I2[:, :2]), value=-1.0),
     [arr(3, 4)]),
    ("scatter_add", lambda m, x, s: m.scatter_add(x, 0, T(m, I2), s), [arr(3, 4), arr(2, 4)]),
    *[(f"scatter_reduce_{r}_{inc}",
       (lambda r, inc: lambda m, x, s: m.scatter_reduce(x, 0, T(m, I2), s, r,
                                                         include_self=inc))(r, inc),
       [arr(3, 4), arr(2, 4)])
      for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)],
    ("index_select", lambda m, x: m.index_select(x, 1, T(m, IDX_DUP)), [arr(3, 4)]),
    ("index_select_0d_index", lambda m, x: x.index_select(0, m.tensor(2)), [arr(3, 4)]),
    ("index_add", lambda m, x, s: m.index_add(x, 0, T(m, IDX_DUP), s), [arr(3, 4), arr(4, 4)]),
    ("index_add_alpha", lambda m, x, s: x.index_add(1, T(m, IDX), s, alpha=-2.0),
     [arr(3, 4), arr(3, 2)]),
    ("index_copy", lambda m, x, s: m.index_copy(x, 1, T(m, IDX), s), [arr(3, 4), arr(3, 2)]),
    ("index_fill", lambda m, x: m.index_fill(x, 1, T(m, np.array([0, -1])), 3.5), [arr(3, 4)]),
    ("index_fill_tensor", lambda m, x, v: x.index_fill(0, T(m, IDX), v), [arr(3, 4), arr()]),
    ("index_put", lambda m, x, v: m.index_put(x, (T(m, IDX),), v), [arr(3, 4), arr(4)]),
    ("index_put_acc", lambda m, x, v: x.index_put([T(m, IDX_DUP)], v, accumulate=True),
     [arr(3, 4), arr(4, 1)]),
    ("index_put_two", lambda m, x, v: x.index_put((T(m, IDX), T(m, np.array([1, 3]))), v),
     [arr(3, 4), arr(2)]),
    ("index_put_mask", lambda m, x, v: x.index_put((T(m, MASK),), v), [arr(3, 4), arr()]),
    ("index_put_0d_index", lambda m, x, v: x.index_put((m.tensor(1),), v), [arr(3, 4), arr(4)]),
    ("masked_fill", lambda m, x: m.masked_fill(x, T(m, MASK), 1.5), [arr(3, 4)]),
    ("masked_fill_broadcast", lambda m, x: x.masked_fill(T(m, MASK), -1), [arr(4)]),
    ("masked_fill_tensor", lambda m, x, v: x.masked_fill(T(m, MASK[0]), v), [arr(3, 4), arr()]),
    ("masked_scatter", lambda m, x, s: m.masked_scatter(x, T(m, MASK), s),
     [arr(3, 4), arr(4, 4)]),
    ("masked_scatter_broadcast", lambda m, x, s: x.masked_scatter(T(m, MASK[:1]), s),
     [arr(3, 4), arr(12)]),
    ("masked_select", lambda m, x: m.masked_select(x, T(m, MASK)), [arr(3, 4)]),
    ("masked_select_broadcast", lambda m, x: x.masked_select(T(m, MASK)), [arr(4)]),
    ("take", lambda m, x: m.take(x, T(m, np.array([[0, -1], [5, 5]]))), [arr(3, 4)]),
    ("put", lambda m, x, s: m.put(x, T(m, np.array([0, -1, 5])), s), [arr(3, 4), arr(3)]),
    ("put_acc", lambda m, x, s: x.put(T(m, np.array([[5, 5], [1, 5]])), s, accumulate=True),
     [arr(3, 4), arr(2, 2)]),
    ("scatter_", inplace("scatter_", 0, (lambda m: T(m, I2U)), -1), [arr(3, 4), arr(2, 4)]),
    ("scatter_value_", inplace("scatter_", 1, I2T, 0.5), [arr(2, 4)]),
    ("scatter_add_", inplace("scatter_add_", 0, I2T, -1), [arr(3, 4), arr(2, 4)]),
    ("scatter_reduce_", inplace("scatter_reduce_", 0, I2T, -1, "amax"), [arr(3, 4), arr(2, 4)]),
    ("index_add_", inplace("index_add_", 0, DUPT, -1, alpha=2), [arr(3, 4), arr(4, 4)]),
    ("index_copy_", inplace("index_copy_", 0, IDXT, -1), [arr(3, 4), arr(2, 4)]),
    ("index_fill_", inplace("index_fill_", 1, IDXT, -2.0), [arr(3, 4)]),
    ("index_put_", inplace("index_put_", (lambda m: (T(m, IDX_DUP),)), -1, True),
     [arr(3, 4), arr(4)]),
    ("masked_fill_", inplace("masked_fill_", MASKT, -1), [arr(3, 4), arr()]),
    ("masked_scatter_", inplace("masked_scatter_", MASKT, -1), [arr(3, 4), arr(12)]),
    ("put_", inplace("put_", (lambda m: T(m, np.array([1, 1]))), -1, True), [arr(3, 4), arr(2)]),
]


@pytest.mark.parametrize("name,fn,inputs", OP_ROWS, ids=[r[0] for r in OP_ROWS])
def test_op(name, fn, inputs):
    check(fn, *inputs)
    _node_names(fn, *inputs)


@pytest.mark.parametrize("fn,inputs", [
    (OP_ROWS[[r[0] for r in OP_ROWS].index(f"scatter_reduce_{r}_{inc}")][1], [a, s])
    for r in ("prod", "amax", "amin", "mean") for inc in (True, False)
    for a, s in ((_with_zeros(arr(3, 4)), _with_zeros(arr(2, 4))), (_ties()[:3], _ties()[:2]))
])
def test_scatter_reduce_zeros_and_ties(fn, inputs):
    check(fn, *inputs)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float32", "uint8"])
@pytest.mark.parametrize("name,fn,inputs", OP_ROWS, ids=[r[0] for r in OP_ROWS])
def test_op_dtypes(dtype, name, fn, inputs):
    if dtype == "bool" and ("reduce" in name or name.startswith(("index_add", "put_acc",
                                                                 "scatter_add", "index_put_"))):
        return  # torch has no boolean sum for these
    if dtype == "uint8" and name in ("scatter_value_kw", "index_add_alpha", "index_fill_"):
        return  # negative constants: torch refuses them for uint8
    cast = [np.asarray(a).astype(dtype) for a in inputs]
    check(fn, *cast, grad=False)


GRADGRAD_OPS = {"gather", "scatter", "scatter_add", "scatter_reduce_prod_True",
                "scatter_reduce_mean_False", "index_select", "index_add", "index_put_acc",
                "masked_fill", "masked_fill_tensor", "masked_scatter", "masked_select", "take",
                "put", "scatter_reduce_sum_False", "index_fill_tensor", "index_copy"}


@pytest.mark.parametrize("name,fn,inputs", OP_ROWS, ids=[r[0] for r in OP_ROWS])
def test_op_gradcheck(name, fn, inputs):
    gradcheck_op(fn, *inputs)
    if name in GRADGRAD_OPS:
        gradcheck_op(lambda m, *xs: fn(m, *xs) ** 2, *inputs, gradgrad=True)


def test_scatter_bigger_src():
    # torch's own backward rejects a src larger than index, so values only
    check(lambda m, x, s: x.scatter(1, T(m, np.array([[0], [3]])), s), arr(2, 4), arr(3, 3),
          grad=False)
    check(lambda m, x, s: x.scatter_add(0, T(m, I2[:, :3]), s), arr(3, 4), arr(3, 4),
          grad=False)
    check(lambda m, x, s: x.scatter_reduce(0, T(m, I2[:, :3]), s, "amin"), arr(3, 4),
          arr(3, 4), grad=False)


def test_scatter_reduce_legacy():
    for reduce in ("add", "multiply"):
        with pytest.warns(UserWarning, match="The reduce argument of torch.scatter"):
            check(lambda m, x, s: x.scatter(0, T(m, I2), s, reduce=reduce), arr(3, 4),
                  arr(2, 4), grad=False)
        check(lambda m, x: x.scatter(0, T(m, I2), 2.0, reduce=reduce), arr(3, 4), grad=False)
    for m in (torch, disttorch):
        x = m.ones(3, 4, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = x.scatter(0, T(m, I2), m.ones(2, 4), reduce="add")
        assert type(out.grad_fn).__name__ == "NotImplemented"
    check_error(lambda m, x: x.sum().backward(), arr(1), match=None)


def test_scatter_reduce_int_mean_floors():
    x = np.arange(6).reshape(2, 3)
    src = np.array([[3, 4, -6], [1, 1, 1]])
    idx = np.zeros((2, 3), dtype=np.int64)
    for inc in (True, False):
        check(lambda m, a, s: a.scatter_reduce(0, T(m, idx), s, "mean", include_self=inc),
              x, src, grad=False)


@pytest.mark.parametrize("as_tuple", [False, True])
@pytest.mark.parametrize("value", [arr(3, 4), arr(2, 3, dtype="bool"), np.zeros(3),
                                   np.array(5.0), np.array(0), arr(0, 2)])
def test_nonzero(as_tuple, value):
    check(lambda m, x: m.nonzero(x, as_tuple=as_tuple), value, grad=False)
    check(lambda m, x: x.nonzero(as_tuple=as_tuple), value, grad=False)
    check(lambda m, x: m.argwhere(x), value, grad=False)


OP_ERRORS = [
    lambda m, x: x.gather(0, T(m, np.array([0]))),
    lambda m, x: x.gather(0, m.zeros(2, 5, dtype=m.long)),
    lambda m, x: x.gather(1, m.zeros(4, 2, dtype=m.long)),
    lambda m, x: x.gather(0, T(m, np.array([[5]]))),
    lambda m, x: x.gather(0, T(m, np.array([[-1]]))),
    lambda m, x: x.scatter(0, T(m, I2), m.ones(1, 4, dtype=m.float64)),
    lambda m, x: x.scatter(0, T(m, I2), m.ones(3, 4, dtype=m.long)),
    lambda m, x: x.scatter(0, T(m, I2), 2.0, reduce="mean"),
    lambda m, x: x.scatter_add(0, T(m, np.array([[3]])), m.ones(1, 1, dtype=m.float64)),
    lambda m, x: x.scatter_add(0, T(m, np.array([[-1]])), m.ones(1, 1, dtype=m.float64)),
    lambda m, x: x.index_select(0, T(m, np.array([[0]]))),
    lambda m, x: x.index_select(0, m.tensor([0.0])),
    lambda m, x: x.index_select(0, T(m, np.array([5]))),
    lambda m, x: x.index_select(0, T(m, np.array([-1]))),
    lambda m, x: x.index_add(0, T(m, np.array([0])), m.ones(1, 5, dtype=m.float64)),
    lambda m, x: x.index_add(0, T(m, IDX), m.ones(1, 4, dtype=m.float64)),
    lambda m, x: x.index_add(0, T(m, np.array([5])), m.ones(1, 4, dtype=m.float64)),
    lambda m, x: x.index_add(0, T(m, np.array([-1])), m.ones(1, 4, dtype=m.float64)),
    lambda m, x: x.index_add(0, T(m, np.array([0])), m.ones(1, 4, dtype=m.long)),
    lambda m, x: x.index_copy(0, T(m, np.array([5])), m.ones(1, 4, dtype=m.float64)),
    lambda m, x: x.index_copy(0, T(m, np.array([-1])), m.ones(1, 4, dtype=m.float64)),
    lambda m, x: x.index_fill(0, T(m, np.array([5])), 1.0),
    lambda m, x: x.index_fill(0, T(m, np.array([0])), m.tensor([2.0])),
    lambda m, x: m.take_along_dim(x, T(m, np.array([0, 1])), 1),
    lambda m, x: x.masked_fill(m.ones(4), 1.0),
    lambda m, x: x.masked_fill(m.ones(4, dtype=m.uint8), 1.0),
    lambda m, x: x.masked_fill(m.ones(4, dtype=m.bool), m.ones(4)),
    lambda m, x: x.masked_fill_(m.ones(2, 3, 4, dtype=m.bool), 1.0),
    lambda m, x: x.masked_scatter(T(m, MASK), m.ones(2, dtype=m.float64)),
    lambda m, x: x.masked_scatter(T(m, MASK), m.ones(12, dtype=m.long)),
    lambda m, x: x.masked_select(m.ones(4)),
    lambda m, x: x.take(T(m, np.array([12]))),
    lambda m, x: x.take(T(m, np.array([1], dtype=np.int32))),
    lambda m, x: x.put_(T(m, IDX), m.ones(3, dtype=m.float64)),
    lambda m, x: x.put_(T(m, IDX), m.ones(2, dtype=m.long)),
    lambda m, x: x.index_put((T(m, IDX),), 1.0),
    lambda m, x: x.index_put((T(m, IDX),), m.tensor(1)),
    lambda m, x: x.index_put((None, T(m, IDX)), m.tensor(1.0, dtype=m.float64)),
    lambda m, x: x.index_put((m.tensor([0.0]),), m.tensor(1.0, dtype=m.float64)),
    lambda m, x: x.index_put((T(m, IDX),) * 3, m.tensor(1.0, dtype=m.float64)),
    lambda m, x: x.index_put((T(m, IDX),), m.ones(3, 3, dtype=m.float64)),
]


@pytest.mark.parametrize("fn", OP_ERRORS)
def test_op_errors(fn):
    check_error(fn, arr(3, 4), match="same")


def test_inplace_on_leaf_requiring_grad():
    for method, args in [("scatter_", (0, I2T, 1.0)), ("index_fill_", (0, IDXT, 1.0)),
                         ("masked_fill_", (MASKT, 1.0)), ("put_", (IDXT, None)),
                         ("index_put_", (lambda m: (T(m, IDX),), None))]:
        def run(m, x, method=method, args=args):
            x.requires_grad_()
            real = [a(m) if callable(a) else m.ones(2, dtype=m.float64) if a is None else a
                    for a in args]
            getattr(x, method)(*real)
        check_error(run, arr(3, 4), match="same")
