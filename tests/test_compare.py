"""Comparisons, logical and bitwise ops, where, clamp, min/max and the float predicates against
torch: values, dtypes, gradients, node names, operators (reflected and in-place) and errors."""

import math

import numpy as np
import pytest
import torch
from oracle import arr, check, check_error, gradcheck_op

import disttorch

SPECIAL = np.array([0.0, -0.0, 1.0, -1.5, 2.0, math.nan, math.inf, -math.inf, 1e-30, 3.0])


def same_node(fn, *inputs):
    names = []
    for m in (torch, disttorch):
        args = [m.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in inputs]
        out = fn(m, *args)
        names.append(None if out.grad_fn is None else out.grad_fn.name())
    assert names[1] == names[0]


# ---------------------------------------------------------------- comparisons

COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
               "less_equal", "not_equal"]
OPERATORS = [lambda x, y: x == y, lambda x, y: x != y, lambda x, y: x < y, lambda x, y: x <= y,
             lambda x, y: x > y, lambda x, y: x >= y]


@pytest.mark.parametrize("name", COMPARISONS)
@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "int64"),
                                    ("int32", "uint8"), ("bool", "bool"), ("int8", "bool")])
def test_comparison_functions(name, dtypes):
    a = arr(3, 4, dtype=dtypes[0], low=-2, high=2)
    b = arr(4, dtype=dtypes[1], low=-2, high=2)
    a.reshape(-1)[:4] = b.astype(a.dtype)  # some ties
    check(lambda m, x, y: getattr(m, name)(x, y), a, b)
    check(lambda m, x, y: getattr(x, name)(y), a, b)
    check(lambda m, x, y: getattr(m, name)(x, 1), a, b)
    check(lambda m, x, y: getattr(m, name)(x, 0.5), a, b)
    check(lambda m, x, y: getattr(m, name)(x, y.sum() if y.dtype != m.bool else y[0]), a, b)


@pytest.mark.parametrize("op", OPERATORS)
def test_comparison_operators(op):
    check(lambda m, x, y: op(x, y), SPECIAL, SPECIAL[::-1].copy())
    check(lambda m, x, y: op(x, 2), SPECIAL, SPECIAL)
    check(lambda m, x, y: op(2.0, x), SPECIAL, SPECIAL)
    check(lambda m, x, y: op(x.long() if False else x, math.nan), SPECIAL, SPECIAL)
    check(lambda m, x, y: op(x, y.reshape(-1, 1)), arr(4), arr(3))
    check(lambda m, x, y: op(x, True), arr(5, dtype="int64"), arr(1))


@pytest.mark.parametrize("name", ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_",
                                  "less_equal_", "not_equal_"])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_comparison_inplace(name, dtype):
    def run(m, x, y):
        x = x.clone()
        out = getattr(x, name)(y)
        assert out is x
        return x

    check(run, arr(2, 3, dtype=dtype), arr(3, dtype=dtype), grad=False)
    check_error(lambda m, x, y: getattr(x, name)(y.reshape(3, 1)), arr(3), arr(3), match="same")


def test_comparison_with_non_tensors():
    t = np.array([1.0, 2.0])
    for fn in (lambda m, x: x == None, lambda m, x: x != None,  # noqa: E711
               lambda m, x: x == "a", lambda m, x: x != "a", lambda m, x: x == [1.0, 2.0],
               lambda m, x: x == (1, 2), lambda m, x: None == x):  # noqa: E711
        check(fn, t, grad=False)
    for fn in (lambda m, x: x < None, lambda m, x: x >= "a", lambda m, x: None > x):
        check_error(fn, t, match="same")
    for fn in (lambda m, x: m.eq(x, None), lambda m, x: m.lt(2, x), lambda m, x: m.eq(x, "a"),
               lambda m, x: m.eq(x, m.ones(3))):
        check_error(fn, t, match="same")
    x = disttorch.tensor(t)
    assert x in [x] and x not in [None, "a"]


def test_comparisons_are_not_differentiable():
    def run(m, x):
        out = (x > 0) & (x < 1)
        assert not out.requires_grad and out.grad_fn is None
        return out

    check(run, arr(4))


def test_equal_and_close():
    a = np.array([1.0, 2.0, math.nan, math.inf, -math.inf, 1e-9])
    b = np.array([1.0 + 1e-6, 2.1, math.nan, math.inf, math.inf, 0.0])
    for fn in (lambda m, x, y: m.isclose(x, y), lambda m, x, y: m.isclose(x, y, equal_nan=True),
               lambda m, x, y: m.isclose(x, y, rtol=0.1), lambda m, x, y: m.isclose(x, y, 0, 0),
               lambda m, x, y: x.isclose(y, atol=1e-3), lambda m, x, y: m.allclose(x, y),
               lambda m, x, y: m.allclose(x, x, equal_nan=True), lambda m, x, y: m.allclose(x, x),
               lambda m, x, y: m.allclose(x[:2], y[:2], rtol=0.1), lambda m, x, y: m.equal(x, y),
               lambda m, x, y: m.equal(x[:2], x[:2]), lambda m, x, y: m.equal(x, x),
               lambda m, x, y: x.equal(x[:3]), lambda m, x, y: m.equal(x[:2].long(), x[:2]),
               lambda m, x, y: m.isclose(x[:1], y), lambda m, x, y: m.allclose(x.float()[:1],
                                                                              y.float()[:1])):
        check(fn, a, b, grad=False)
    ints = (arr(6, dtype="int64"), arr(6, dtype="int64"))
    for fn in (lambda m, x, y: m.isclose(x, y), lambda m, x, y: m.isclose(x, y, atol=2),
               lambda m, x, y: m.isclose(x, y, rtol=0.5), lambda m, x, y: m.isclose(x > 0, y > 0),
               lambda m, x, y: m.isclose(x.byte(), y.byte(), atol=1),
               lambda m, x, y: m.isclose(x.half(), y.half(), rtol=0.01)):
        check(fn, *ints, grad=False)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.isclose(x, x.long()), lambda m, x: m.allclose(x, x.double()),
    lambda m, x: m.isclose(x, x, rtol=-1), lambda m, x: m.isclose(x, x, atol=-0.5),
    lambda m, x: m.isclose(x, 1.0), lambda m, x: m.allclose(x, m.ones(2)),
    lambda m, x: m.equal(x, 1), lambda m, x: m.isclose(x, m.ones(2, 4)),
])
def test_equal_and_close_errors(fn):
    check_error(fn, arr(3, dtype="float32"), match="same")


def test_result_type():
    values = [lambda m: m.ones(2, dtype=m.int8), lambda m: m.tensor(1.5, dtype=m.float64),
              lambda m: m.ones(2, dtype=m.float16), lambda m: m.tensor(True), lambda m: 2,
              lambda m: 2.5, lambda m: True]
    for first in values:
        for second in values:
            def run(m):
                a, b = first(m), second(m)
                return str(m.result_type(a, b))

            try:
                expected = run(torch)
            except TypeError:
                with pytest.raises(TypeError):
                    run(disttorch)
                continue
            assert run(disttorch) == expected


# ---------------------------------------------------------------- predicates


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf",
                                  "isreal", "signbit"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "uint8", "bool"])
def test_predicates(name, dtype):
    with np.errstate(invalid="ignore"):
        values = SPECIAL.astype(dtype) if dtype.startswith("float") else arr(6, dtype=dtype)
    check(lambda m, x: getattr(m, name)(x), values, grad=False)
    check(lambda m, x: getattr(x, name)(), values, grad=False)
    check_error(lambda m, x: getattr(m, name)(1.0), values, match="same")


def test_predicates_bfloat16():
    for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit"):
        # (not NaN for signbit: the sign torch's bfloat16 conversion gives NaN is arbitrary)
        values = SPECIAL[~np.isnan(SPECIAL)] if name == "signbit" else SPECIAL
        check(lambda m, x: getattr(m, name)(x.to(m.bfloat16)), values.astype("float32"),
              grad=False)


# ---------------------------------------------------------------- logical and bitwise


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
@pytest.mark.parametrize("dtypes", [("bool", "bool"), ("float32", "int64"), ("uint8", "float64"),
                                    ("int8", "bool")])
def test_logical(name, dtypes):
    a, b = arr(3, 4, dtype=dtypes[0]), arr(4, dtype=dtypes[1])
    a.reshape(-1)[:3] = 0
    check(lambda m, x, y: getattr(m, name)(x, y), a, b, grad=False)
    check(lambda m, x, y: getattr(x, name)(y), a, b, grad=False)
    check(lambda m, x, y: getattr(x.clone(), name + "_")(y), a, b, grad=False)
    check(lambda m, x, y: m.logical_not(x), a, b, grad=False)
    check(lambda m, x, y: x.clone().logical_not_(), a, b, grad=False)
    check_error(lambda m, x, y: getattr(m, name)(x, 1), a, b, match="same")


BITWISE = [
    ("bitwise_and", lambda x, y: x & y), ("bitwise_or", lambda x, y: x | y),
    ("bitwise_xor", lambda x, y: x ^ y), ("bitwise_left_shift", lambda x, y: x << y),
    ("bitwise_right_shift", lambda x, y: x >> y),
]


@pytest.mark.parametrize("name,op", BITWISE, ids=[b[0] for b in BITWISE])
@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("int32", "uint8"), ("uint8", "uint8"),
                                    ("int8", "int16"), ("bool", "bool"), ("bool", "int32"),
                                    ("float32", "int64")])
def test_bitwise(name, op, dtypes):
    a = arr(3, 4, dtype=dtypes[0], low=-8, high=60)
    b = arr(4, dtype=dtypes[1], low=0, high=3)
    fns = [lambda m, x, y: getattr(m, name)(x, y), lambda m, x, y: op(x, y),
           lambda m, x, y: op(x, 3), lambda m, x, y: op(5, y), lambda m, x, y: op(x, True),
           lambda m, x, y: getattr(m, name)(7, y), lambda m, x, y: getattr(x, name)(y)]
    for fn in fns:
        try:
            fn(torch, torch.tensor(a), torch.tensor(b))
        except Exception:  # noqa: BLE001 - torch decides what is allowed
            check_error(fn, a, b, match="same")
        else:
            check(fn, a, b, grad=False)


def test_shift_edge_cases():
    a = np.array([1, -1, 5, -128, 127, 3, -8, 1], dtype=np.int64)
    b = np.array([0, 1, 63, 64, 70, -1, -1, 200], dtype=np.int64)
    for dtype in ("int64", "int32", "int16", "int8", "uint8"):
        x = a.astype(dtype)
        check(lambda m, t, s: t << s, x, b.astype(dtype), grad=False)
        check(lambda m, t, s: t >> s, x, b.astype(dtype), grad=False)
        check(lambda m, t, s: t << 3, x, b, grad=False)
        check(lambda m, t, s: t >> 9, x, b, grad=False)


@pytest.mark.parametrize("dtype", ["int64", "int16", "uint8", "bool"])
def test_bitwise_not_and_invert(dtype):
    x = arr(6, dtype=dtype, low=-5, high=100)
    check(lambda m, t: ~t, x, grad=False)
    check(lambda m, t: m.bitwise_not(t), x, grad=False)
    check(lambda m, t: t.clone().bitwise_not_(), x, grad=False)
    check(lambda m, t: ~(t == t), x, grad=False)


def test_bitwise_errors():
    f = arr(3, dtype="float32")
    check_error(lambda m, t: ~t, f, match="same")
    check_error(lambda m, t: m.bitwise_not(t), f, match="same")
    check_error(lambda m, t: m.bitwise_and(t, "a"), f, match="same")
    check_error(lambda m, t: t.long() & 1.5, f, match="same")
    check_error(lambda m, t: t.long().bitwise_and_(2.5), f, match="same")
    check_error(lambda m, t: t.long() & "a", f, match="unsupported operand")


def test_bitwise_inplace_operators():
    def run(m, x, y):
        z = x.clone()
        z &= y
        z |= 6
        z ^= y
        z <<= 2
        z >>= 1
        b = x > 2
        b &= y > 1
        b |= True
        b ^= y < 0
        return z, b

    check(run, arr(3, 4, dtype="int64", low=0, high=50), arr(4, dtype="int64", low=0, high=9),
          grad=False)
    check_error(lambda m, x: x.bool().__iand__(x), arr(3, dtype="int64"), match="same")


# ---------------------------------------------------------------- where


@pytest.mark.parametrize("fn", [
    lambda m, c, x, y: m.where(c, x, y), lambda m, c, x, y: m.where(c, x, 0.0),
    lambda m, c, x, y: m.where(c, 1.5, y), lambda m, c, x, y: m.where(c, 1, 2.5),
    lambda m, c, x, y: m.where(c, 1, 2), lambda m, c, x, y: x.where(c, y),
    lambda m, c, x, y: x.where(c, -1), lambda m, c, x, y: m.where(c, x.float(), y),
    lambda m, c, x, y: m.where(c, x.long(), 2.5), lambda m, c, x, y: m.where(c, x.int(), 2),
    lambda m, c, x, y: m.where(c, x.half(), y[0]), lambda m, c, x, y: m.where(c[0], x, y[0]),
    lambda m, c, x, y: m.where(c, x > 0, y > 0), lambda m, c, x, y: m.where(c, x.long(), y),
    lambda m, c, x, y: m.where(condition=c, input=x, other=y),
    lambda m, c, x, y: m.where(c.reshape(3, 1, 4), x, y),
])
def test_where(fn):
    c = arr(3, 4, dtype="bool")
    x, y = arr(3, 4), arr(4)
    check(lambda m, cond, a, b: fn(m, cond, a, b), c, x, y)
    same_node(lambda m, cond, a, b: fn(m, cond, a, b), c, x, y)


def test_where_gradcheck_and_higher_order():
    c = disttorch.tensor(arr(2, 3, dtype="bool"))
    gradcheck_op(lambda m, x, y: m.where(c, x * x, y.exp()), arr(2, 3), arr(3), gradgrad=True)


@pytest.mark.parametrize("value", [arr(3, 4, dtype="bool"), arr(5, dtype="int64"),
                                   arr(2, 3), np.array(True), np.array(0), np.zeros((0, 2))])
def test_where_one_argument(value):
    check(lambda m, c: m.where(c), value, grad=False)


@pytest.mark.parametrize("fn", [
    lambda m, c: m.where(c.long(), 1, 2), lambda m, c: m.where(c, c.float()),
    lambda m, c: m.where(c, c.float(), "a"), lambda m, c: m.where(c, m.ones(3), m.ones(4)),
    lambda m, c: m.where(c.float(), c, c),
])
def test_where_errors(fn):
    check_error(fn, arr(3, dtype="bool"), match="same")


# ---------------------------------------------------------------- clamp


@pytest.mark.parametrize("fn", [
    lambda m, x, lo, hi: m.clamp(x, -0.5, 0.5), lambda m, x, lo, hi: m.clamp(x, min=-0.5),
    lambda m, x, lo, hi: m.clamp(x, max=0.5), lambda m, x, lo, hi: m.clip(x, -0.5, 0.5),
    lambda m, x, lo, hi: x.clamp(0.5, -0.5), lambda m, x, lo, hi: m.clamp(x, lo, hi),
    lambda m, x, lo, hi: m.clamp(x, min=lo), lambda m, x, lo, hi: m.clamp(x, max=hi),
    lambda m, x, lo, hi: x.clip(hi, lo), lambda m, x, lo, hi: m.clamp_min(x, 0.1),
    lambda m, x, lo, hi: m.clamp_max(x, 0.1), lambda m, x, lo, hi: x.clamp_min(lo),
    lambda m, x, lo, hi: x.clamp_max(hi), lambda m, x, lo, hi: m.clamp(x, lo[0], hi),
    lambda m, x, lo, hi: m.clamp(x, x.detach(), x.detach()),
    lambda m, x, lo, hi: m.clamp(x, -math.inf, math.nan), lambda m, x, lo, hi: x.clamp(math.nan),
    lambda m, x, lo, hi: m.clamp(x, lo.detach().sum(), 0.25),
    lambda m, x, lo, hi: m.clamp(x, -1, hi[0, 0].detach()),
    lambda m, x, lo, hi: m.clamp_min(x, lo.sum()), lambda m, x, lo, hi: m.clamp(x, lo.sum()),
])
def test_clamp(fn):
    x, lo, hi = arr(3, 4), arr(4, low=-1, high=0.2), arr(3, 1, low=-0.2, high=1)
    x[0, :2] = lo[:2]  # ties with the bounds
    check(fn, x, lo, hi)
    same_node(fn, x, lo, hi)


@pytest.mark.parametrize("fn", [
    lambda m, x, lo, hi: m.clamp(x, -0.5, 0.5), lambda m, x, lo, hi: m.clamp(x, min=-0.5),
    lambda m, x, lo, hi: m.clamp_max(x, 0.1), lambda m, x, lo, hi: m.clamp(x, lo, hi),
    lambda m, x, lo, hi: m.clamp(x, min=lo), lambda m, x, lo, hi: m.clamp(x, max=hi),
    lambda m, x, lo, hi: x.clip(hi, lo), lambda m, x, lo, hi: x.clamp_min(lo),
    lambda m, x, lo, hi: x.clamp_max(hi), lambda m, x, lo, hi: m.clamp_min(x, lo.sum()),
])
def test_clamp_gradcheck(fn):
    lo, hi = arr(4, low=-1, high=0.2), arr(3, 1, low=-0.2, high=1)
    gradcheck_op(fn, arr(3, 4) * 1.01 + 0.003, lo, hi)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.clamp(x, 0, 2), lambda m, x: m.clamp(x, 0.5), lambda m, x: m.clamp(x, max=1),
    lambda m, x: m.clamp(x, m.tensor(1.5)), lambda m, x: m.clamp(x, x[:1], x.double()[1:2]),
    lambda m, x: m.clamp_min(x, -1), lambda m, x: m.clamp(x.byte(), -1),
    lambda m, x: m.clamp_max(x.byte(), -1), lambda m, x: m.clamp_max(x.char(), 100),
    lambda m, x: m.clamp(x > 1, min=x > 2), lambda m, x: m.clamp(x > 1, max=x > 2),
    lambda m, x: m.clamp(x > 1, 0, 1), lambda m, x: m.clamp(x.half(), -1e3, 1e4),
    lambda m, x: m.clamp(x, 2, m.tensor(3)), lambda m, x: m.clamp(x, m.tensor(0.5), 3),
])
def test_clamp_dtypes(fn):
    check(fn, arr(6, dtype="int64", low=-3, high=4), grad=False)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.clamp(x), lambda m, x: m.clip(x, None, None), lambda m, x: x.clamp_(),
    lambda m, x: m.clamp(x, "a"),
    lambda m, x: m.clamp(x.char(), 1000), lambda m, x: m.clamp(x.int(), 2 ** 40),
    lambda m, x: m.clamp(x, 2 ** 63), lambda m, x: m.clamp(x.float(), 1e300),
    lambda m, x: m.clamp(x.half(), -1e6), lambda m, x: m.clamp(x.byte(), -256),
    lambda m, x: m.clamp(x > 0, True), lambda m, x: m.clamp_max(x.char(), 1000),
    lambda m, x: m.clamp(x > 0, x > 1, x > 2), lambda m, x: x.clamp_(1.5),
    lambda m, x: x.clamp_(m.tensor(1.5)), lambda m, x: x.float().requires_grad_().clamp_(0),
    lambda m, x: m.clamp(x, m.ones(2, 4)), lambda m, x: m.clamp(1, 2),
    lambda m, x: m.clamp(x, 2, m.ones(3)), lambda m, x: m.clamp_min(x.char(), -200),
    lambda m, x: m.clamp(x.float(), x.float().sum().requires_grad_(), 2),
])
def test_clamp_errors(fn):
    check_error(fn, arr(3, dtype="int64"), match="same")


def test_clamp_inplace():
    def run(m, x, lo):
        y = x * 1
        y.clamp_(-0.5, 0.5)
        z = x * 2
        z.clamp_(min=lo)
        w = x * 3
        w.clip_(max=0.1).clamp_min_(-0.2).clamp_max_(lo)
        return y + z + w

    check(run, arr(3, 4), arr(4))
    check(lambda m, x: x.clone().clamp_(0, 1), arr(5, dtype="int64"), grad=False)


# ---------------------------------------------------------------- minimum and maximum


@pytest.mark.parametrize("name", ["minimum", "maximum", "fmin", "fmax"])
def test_min_max_nan_and_ties(name):
    a = np.array([1.0, 2.0, 3.0, math.nan, 1.0, math.nan, -0.0, math.inf])
    b = np.array([1.0, 3.0, 2.0, 1.0, math.nan, math.nan, 0.0, math.inf])
    check(lambda m, x, y: getattr(m, name)(x, y), a, b)
    check(lambda m, x, y: getattr(x, name)(y), a, b)
    check(lambda m, x, y: getattr(m, name)(x.long() if False else x > 1, y > 1), a, b,
          grad=False)
    check(lambda m, x, y: getattr(m, name)(x[:3].long(), y[:3]), a, b, grad=False)
    check_error(lambda m, x, y: getattr(m, name)(x, 1.0), a, b, match="same")
