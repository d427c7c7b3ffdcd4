"""Type promotion against torch: result_type, promote_types, can_cast, and the dtype and value of
`a + b`, `a * b`, `a / b`, `a - b` over random broadcastable shapes and random operand kinds
(tensors and 0-dim tensors of all ten dtypes, Python ints, floats and bools)."""

import operator

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import disttorch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64"]
OPS = {"add": operator.add, "mul": operator.mul, "truediv": operator.truediv,
       "sub": operator.sub}


@pytest.mark.parametrize("first", DTYPES)
@pytest.mark.parametrize("second", DTYPES)
def test_promote_types_and_can_cast(first, second):
    def run(m):
        a, b = getattr(m, first), getattr(m, second)
        return str(m.promote_types(a, b)), m.can_cast(a, b)

    assert run(disttorch) == run(torch)


@st.composite
def operands(draw, shape):
    """One operand: ("tensor", dtype, values) with `shape` or 0 dims, or a Python number."""
    kind = draw(st.sampled_from(["tensor", "tensor", "zero_dim", "int", "float", "bool"]))
    if kind == "int":
        return ("int", draw(st.integers(0, 100)))
    if kind == "float":
        return ("float", draw(st.sampled_from([0.5, -1.25, 2.0, 3.75, -0.0, 1e3])))
    if kind == "bool":
        return ("bool", draw(st.booleans()))
    dtype = draw(st.sampled_from(DTYPES))
    low = 0 if dtype in ("uint8", "bool") else -4
    values = draw(hnp.arrays(np.int64, shape if kind == "tensor" else (),
                             elements=st.integers(low, 4)))
    scale = 4.0 if "float" in dtype else 1.0  # quarters are exact in every float type
    return ("tensor", dtype, values / scale)


def build(m, spec):
    if spec[0] != "tensor":
        return spec[1]
    values = m.tensor(spec[2])
    return values != 0 if spec[1] == "bool" else values.to(getattr(m, spec[1]))


def outcome(m, op, a, b):
    """(dtype name, float64 values) of op(a, b), or (error type, message)."""
    try:
        out = op(a, b)
    except Exception as e:  # noqa: BLE001 - compared with torch's
        return type(e).__name__, str(e).split("\n")[0]
    return str(out.dtype), out.double().numpy() if m is torch else out.double().numpy()


def _tolerance(dtype):
    return 1e-2 if dtype in ("torch.float16", "torch.bfloat16") else 1e-6


def compare(a_spec, b_spec):
    t_args = [build(torch, s) for s in (a_spec, b_spec)]
    d_args = [build(disttorch, s) for s in (a_spec, b_spec)]
    if any(isinstance(a, torch.Tensor) for a in t_args):
        assert str(disttorch.result_type(*d_args)) == str(torch.result_type(*t_args))
    else:
        return
    for name, op in OPS.items():
        expected = outcome(torch, op, *t_args)
        got = outcome(disttorch, op, *d_args)
        assert got[0] == expected[0], (name, a_spec, b_spec, got, expected)
        if isinstance(expected[1], str):
            assert got[1] == expected[1], (name, got, expected)
        else:
            tol = _tolerance(expected[0])
            np.testing.assert_allclose(got[1], expected[1], rtol=tol, atol=tol, equal_nan=True,
                                       err_msg=f"{name} {a_spec} {b_spec}")


@settings(max_examples=300, deadline=None)
@given(st.data(), hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
def test_binary_promotion_matches_torch(data, shapes):
    a = data.draw(operands(shapes.input_shapes[0]))
    b = data.draw(operands(shapes.input_shapes[1]))
    compare(a, b)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(DTYPES), st.sampled_from(DTYPES),
       hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
       hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
def test_shapes_broadcast_or_fail_like_torch(first, second, shape_a, shape_b):
    a = ("tensor", first, np.ones(shape_a))
    b = ("tensor", second, np.full(shape_b, 2.0))
    compare(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scalar", [True, 3, -2, 2.5, -0.5])
@pytest.mark.parametrize("op", list(OPS))
def test_weak_python_scalars(dtype, scalar, op):
    values = np.array([1.0, 2.0, 3.0])
    compare(("tensor", dtype, values), ("bool" if isinstance(scalar, bool) else
                                        "int" if isinstance(scalar, int) else "float", scalar))
    compare(("bool" if isinstance(scalar, bool) else "int" if isinstance(scalar, int)
             else "float", scalar), ("tensor", dtype, values))


@pytest.mark.parametrize("first", DTYPES)
@pytest.mark.parametrize("second", DTYPES)
def test_zero_dim_tensors_rank_below_dimensioned(first, second):
    compare(("tensor", first, np.array([1.0, 2.0])), ("tensor", second, np.array(3.0)))
    compare(("tensor", first, np.array(1.0)), ("tensor", second, np.array(3.0)))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64", "float32"])
@pytest.mark.parametrize("scalar", [-1, 300, -129, 2 ** 40, 2 ** 63, -(2 ** 63)])
def test_out_of_range_python_ints_wrap_like_torch(dtype, scalar):
    compare(("tensor", dtype, np.array([1.0, 2.0])), ("int", scalar))


@pytest.mark.parametrize("scalar", [2 ** 64, -(2 ** 63) - 1])
@pytest.mark.parametrize("op", list(OPS.values()) + [lambda a, b: b * a])
def test_python_ints_beyond_64_bits_overflow(scalar, op):
    errors = []
    for m in (torch, disttorch):
        with pytest.raises(OverflowError) as info:
            op(m.ones(2, dtype=m.int64), scalar)
        errors.append(str(info.value))
    assert errors[1] == errors[0]
