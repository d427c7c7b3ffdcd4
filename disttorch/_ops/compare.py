"""Comparisons, logical and bitwise ops, where, and the float predicates (isnan ...).

Comparisons and predicates return bool tensors that never require grad, so they are plain
functions on arrays rather than Ops; where is differentiable (clamp is in pointwise.py).
The comparison operators return NotImplemented for operands that are not numbers or
Tensors, so `tensor == None` is False and `tensor < None` raises Python's TypeError, as in
torch.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import (
    _legacy_name,
    broadcast_shapes,
    commit_inplace,
    operands,
    raise_broadcast_error,
    register,
    result_dtype,
    scalar_array,
)
from ._elementwise_base import (
    OPERAND_TYPES,
    fit_grad,
    inplace_op,
    inplace_operator,
    invalid_arguments,
    not_implemented,
    operator,
    quiet,
    type_error,
)

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
           "not_equal", "equal", "isclose", "allclose", "isnan", "isinf", "isfinite",
           "isposinf", "isneginf", "isreal", "logical_and", "logical_or", "logical_xor",
           "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
           "bitwise_left_shift", "bitwise_right_shift", "where", "result_type"]


def _compare_arrays(ufunc, a, b):
    x, y, _ = operands(a, b)
    try:
        return Tensor._wrap(ufunc(x, y))
    except ValueError:
        raise_broadcast_error(a._data.shape if isinstance(a, Tensor) else (),
                              b._data.shape if isinstance(b, Tensor) else ())


# ---------------------------------------------------------------- comparisons


def _comparison(name, ufunc):
    def compare(input, other):
        if not isinstance(input, Tensor) or not isinstance(other, OPERAND_TYPES):
            invalid_arguments(name, input, other)
        return _compare_arrays(ufunc, input, other)

    def compare_operator(self, other):
        if not isinstance(other, OPERAND_TYPES):
            return NotImplemented
        return _compare_arrays(ufunc, self, other)

    compare.__name__ = compare.__qualname__ = name
    return compare, compare_operator


eq, _eq = _comparison("eq", np.equal)
ne, _ne = _comparison("ne", np.not_equal)
lt, _lt = _comparison("lt", np.less)
le, _le = _comparison("le", np.less_equal)
gt, _gt = _comparison("gt", np.greater)
ge, _ge = _comparison("ge", np.greater_equal)
not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge
for _fn, _operator, _aliases in ((eq, _eq, ()), (ne, _ne, ("not_equal",)), (lt, _lt, ("less",)),
                                 (le, _le, ("less_equal",)), (gt, _gt, ("greater",)),
                                 (ge, _ge, ("greater_equal",))):
    _inplace = inplace_op(_fn)
    register(_fn.__name__, _fn, inplace=_inplace)
    register(f"__{_fn.__name__}__", _operator)
    for _alias in _aliases:
        register(_alias, _fn, inplace=_inplace)


def equal(input, other):
    if not isinstance(input, Tensor):
        type_error("equal", input, "input", 1)
    if not isinstance(other, Tensor):
        type_error("equal", other)
    if input._data.shape != other._data.shape:
        return False
    x, y, _ = operands(input, other)
    return bool((x == y).all())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    if not isinstance(input, Tensor):
        type_error("isclose", input, "input", 1)
    if not isinstance(other, Tensor):
        type_error("isclose", other)
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"{_legacy_name(input.dtype)} did not match "
                           f"{_legacy_name(other.dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    x, y = input._data, other._data
    quiet()
    try:
        close = x == y
    except ValueError:
        raise_broadcast_error(x.shape, y.shape)
    if x.dtype.kind in "fV":
        if equal_nan:
            close = close | (np.isnan(x) & np.isnan(y))
        wide = np.float32 if x.dtype.itemsize == 2 else x.dtype
        xw, yw = x.astype(wide), y.astype(wide)
        error = np.abs(xw - yw)
        close = close | (np.isfinite(error) & (error <= atol + np.abs(rtol * yw)))
    elif rtol or atol:
        # integers compare in the default float dtype, like torch's promotion
        fdt = B.get_default_dtype().np
        error = np.abs(x.astype(np.int64) - y.astype(np.int64)).astype(fdt)
        close = close | (error <= atol + np.abs(rtol * y.astype(fdt)))
    return Tensor._wrap(close)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    if not isinstance(other, Tensor) and isinstance(input, Tensor):
        type_error("allclose", other)
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def result_type(tensor, other):
    if not (isinstance(tensor, OPERAND_TYPES) and isinstance(other, OPERAND_TYPES)):
        invalid_arguments("result_type", tensor, other)
    return result_dtype(tensor, other)


register("equal", equal)
register("isclose", isclose)
register("allclose", allclose)


# ---------------------------------------------------------------- float predicates


def _predicate(name, compute):
    def predicate(input):
        if not isinstance(input, Tensor):
            type_error(name, input, "input", 1)
        d = input._data
        if d.dtype.kind in "fV":
            return Tensor._wrap(compute(d))
        xp = B.get_array_module(d)
        return Tensor._wrap(xp.full(d.shape, name in ("isfinite", "isreal"), dtype=bool))

    predicate.__name__ = predicate.__qualname__ = name
    return predicate


isnan = _predicate("isnan", np.isnan)
isinf = _predicate("isinf", np.isinf)
isfinite = _predicate("isfinite", np.isfinite)
isposinf = _predicate("isposinf", lambda d: d == np.inf)
isneginf = _predicate("isneginf", lambda d: d == -np.inf)
isreal = _predicate("isreal", lambda d: B.get_array_module(d).ones(d.shape, dtype=bool))
for _fn in (isnan, isinf, isfinite, isposinf, isneginf, isreal):
    register(_fn.__name__, _fn)


# ---------------------------------------------------------------- logical


def _logical(name, ufunc):
    def logical(input, other):
        if not isinstance(input, Tensor):
            type_error(name, input, "input", 1)
        if not isinstance(other, Tensor):
            type_error(name, other)
        try:
            return Tensor._wrap(ufunc(input._data, other._data))
        except ValueError:
            raise_broadcast_error(input._data.shape, other._data.shape)

    logical.__name__ = logical.__qualname__ = name
    return logical


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)


def logical_not(input):
    if not isinstance(input, Tensor):
        type_error("logical_not", input, "input", 1)
    return Tensor._wrap(np.logical_not(input._data))


for _fn in (logical_and, logical_or, logical_xor, logical_not):
    register(_fn.__name__, _fn, inplace=inplace_op(_fn))


# ---------------------------------------------------------------- bitwise


def _shift_bits(dtype):
    return dtype.itemsize * 8


def _left_shift(x, y):
    # torch: shifting by a negative amount or by the bit width or more gives 0
    bits = _shift_bits(x.dtype)
    xp = B.get_array_module(x)
    outside = (y < 0) | (y >= bits)
    return xp.where(outside, 0, np.left_shift(x, xp.where(outside, 0, y))).astype(x.dtype)


def _right_shift(x, y):
    # torch: out-of-range shifts leave the sign bit (0 for unsigned types)
    bits = _shift_bits(x.dtype)
    xp = B.get_array_module(x)
    outside = (y < 0) | (y >= bits)
    if x.dtype.kind == "u":
        return xp.where(outside, 0, np.right_shift(x, xp.where(outside, 0, y))).astype(x.dtype)
    return np.right_shift(x, xp.where(outside, bits - 1, y)).astype(x.dtype)


def _bitwise(name, kernel, compute, allow_bool=True):
    def bitwise(input, other):
        if not isinstance(input, OPERAND_TYPES) or not isinstance(other, OPERAND_TYPES) or not (
                isinstance(input, Tensor) or isinstance(other, Tensor)):
            invalid_arguments(name, input, other)
        x, y, dt = operands(input, other)
        if dt.category == 2 or (dt is B.bool_ and not allow_bool):
            not_implemented(kernel, dt)
        try:
            return Tensor._wrap(compute(x, y))
        except ValueError:
            raise_broadcast_error(input._data.shape if isinstance(input, Tensor) else (),
                                  other._data.shape if isinstance(other, Tensor) else ())

    bitwise.__name__ = bitwise.__qualname__ = name
    return bitwise


bitwise_and = _bitwise("bitwise_and", "bitwise_and_cpu", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", "bitwise_or_cpu", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor_cpu", np.bitwise_xor)
bitwise_left_shift = _bitwise("bitwise_left_shift", "lshift_cpu", _left_shift, False)
bitwise_right_shift = _bitwise("bitwise_right_shift", "rshift_cpu", _right_shift, False)


def bitwise_not(input):
    if not isinstance(input, Tensor):
        type_error("bitwise_not", input, "input", 1)
    if input.dtype.category == 2:
        not_implemented("bitwise_not_cpu", input.dtype)
    return Tensor._wrap(np.invert(input._data))


def _invert(self):
    if self.dtype.category == 2:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return Tensor._wrap(np.invert(self._data))


def _bitwise_inplace(fn):
    def inplace(self, other):
        dt = result_dtype(self, other) if isinstance(other, OPERAND_TYPES) else self.dtype
        if not B.can_cast(dt, self.dtype):  # torch checks the cast before the kernel
            raise RuntimeError(f"result type {_legacy_name(dt)} can't be cast to the desired "
                               f"output type {_legacy_name(self.dtype)}")
        return commit_inplace(self, fn(self, other))

    inplace.__name__ = inplace.__qualname__ = fn.__name__ + "_"
    return inplace


for _fn, _symbol in ((bitwise_and, "and"), (bitwise_or, "or"), (bitwise_xor, "xor"),
                     (bitwise_left_shift, "lshift"), (bitwise_right_shift, "rshift")):
    register(_fn.__name__, _fn, inplace=_bitwise_inplace(_fn))
    register(f"__{_symbol}__", operator(_fn))
    register(f"__r{_symbol}__", operator(_fn, swap=True))
    register(f"__i{_symbol}__", inplace_operator(_fn.__name__ + "_"))
register("bitwise_not", bitwise_not, inplace=inplace_op(bitwise_not))
register("__invert__", _invert)


# ---------------------------------------------------------------- where


class Where(Op):
    node_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, condition, a, b):
        dt = result_dtype(a, b)
        cond = condition._data
        xp = B.get_array_module(cond)
        x = a._data.astype(dt.np, copy=False) if isinstance(a, Tensor) else scalar_array(
            a, dt, cond)
        y = b._data.astype(dt.np, copy=False) if isinstance(b, Tensor) else scalar_array(
            b, dt, cond)
        if ctx.needs_input_grad:
            ctx.save_for_backward(condition)
        try:
            return xp.where(cond, x, y)
        except ValueError:
            broadcast_shapes(cond.shape, x.shape, y.shape)
            raise

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        flags = ctx.needs_input_grad
        return (None,
                fit_grad(ctx, 1, where(condition, grad, 0.0)) if flags[1] else None,
                fit_grad(ctx, 2, where(condition, 0.0, grad)) if flags[2] else None)


def where(condition, input=None, other=None):
    if input is None and other is None and isinstance(condition, Tensor):
        d = condition._data
        xp = B.get_array_module(d)
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in xp.nonzero(xp.atleast_1d(d)))
    if not (isinstance(condition, Tensor) and isinstance(input, OPERAND_TYPES)
            and isinstance(other, OPERAND_TYPES)):
        invalid_arguments("where", condition, *(a for a in (input, other) if a is not None))
    if condition._data.dtype != np.bool_:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {_legacy_name(condition.dtype)}")
    return Where.apply(condition, input, other)


def _where_method(self, condition, other):
    return where(condition, self, other)


register("where", _where_method)


del _fn, _operator, _aliases, _inplace, _alias, _symbol
