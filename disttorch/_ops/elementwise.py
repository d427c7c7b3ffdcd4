"""Elementwise arithmetic with broadcasting: + - * / // % ** and their function forms.

Each op is one Op subclass (forward on arrays, backward in Tensor ops) plus one public
function; `register` binds the Tensor method, the in-place `name_` and the operators, so
`disttorch.add`, `Tensor.add`, `+`, `Tensor.add_` and `+=` share one definition. pow is in
binary_math.py, unary math in math.py, comparisons and logic in compare.py.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import make_inplace, make_unary_inplace, operands, register
from ._elementwise_base import (
    OPERAND_TYPES,
    NoDerivative,
    binary,
    check_int_divisor,
    check_operands,
    compute,
    fit_grad,
    float_operands,
    in_float32,
    inplace_operator,
    invalid_arguments,
    load_pair,
    not_implemented,
    operator,
    saved_pair,
    type_error,
    zero_grads,
)

__all__ = ["add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide",
           "floor_divide", "remainder", "fmod", "neg", "negative", "negative_", "neg_",
           "positive"]

# ---------------------------------------------------------------- add, sub, rsub


def _unit(alpha):
    """alpha=1 exactly (1.0 and True still go through torch's alpha checks)."""
    return type(alpha) is int and alpha == 1


def _check_alpha(alpha, dt):
    if isinstance(alpha, (bool, np.bool_)) and dt is not B.bool_:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if dt.category != 2 and isinstance(alpha, (float, np.floating)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


def _add_scaled(x, y, alpha, dt):
    """x + alpha * y in dtype dt (integers wrap around like torch's, e.g. -1 for uint8)."""
    if dt is B.bool_:
        return x | (y & bool(alpha))
    if dt.category == 1:
        alpha = np.asarray(alpha).astype(x.dtype)[()]  # a NumPy scalar: CuPy accepts those
    return in_float32(lambda u, v: u + v * alpha, x, y)


def _arrays(a, b):
    """The hot path of `operands`: two Tensors of one dtype need no promotion."""
    try:
        x, y = a._data, b._data
    except AttributeError:
        return operands(a, b)[:2]
    if x.dtype != y.dtype:
        return operands(a, b)[:2]
    return x, y


class Add(Op):
    node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y = _arrays(a, b)
        try:
            return np.add(x, y)
        except ValueError:
            binary(np.add, x, y, a, b)

    @staticmethod
    def backward(ctx, grad):
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, grad) if flags[0] else None,
                fit_grad(ctx, 1, grad) if flags[1] else None)


class AddScaled(Op):
    """a + alpha * b."""

    node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b, alpha):
        x, y, dt = operands(a, b)
        _check_alpha(alpha, dt)
        ctx.alpha = alpha
        return binary(_add_scaled, x, y, a, b, alpha, dt)

    @staticmethod
    def backward(ctx, grad):
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, grad) if flags[0] else None,
                fit_grad(ctx, 1, grad * ctx.alpha) if flags[1] else None, None)


def _is_bool(v):
    if isinstance(v, Tensor):
        return v._data.dtype == np.bool_
    return isinstance(v, (bool, np.bool_))


def _check_sub(a, b):
    a_bool, b_bool = _is_bool(a), _is_bool(b)
    if a_bool and b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if a_bool or b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


class Sub(Op):
    """a - alpha * b."""

    node_name = "SubBackward0"
    alpha = 1

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        try:
            x, y = a._data, b._data
            plain = x.dtype == y.dtype and x.dtype != np.bool_ and _unit(alpha)
        except AttributeError:
            plain = False
        if not plain:
            x, y, dt = operands(a, b)
            _check_sub(a, b)
            if not _unit(alpha):
                _check_alpha(alpha, dt)
                ctx.alpha = alpha
                return binary(_add_scaled, x, y, a, b, -alpha, dt)
        try:
            return np.subtract(x, y)
        except ValueError:
            binary(np.subtract, x, y, a, b)

    @staticmethod
    def backward(ctx, grad):
        flags = ctx.needs_input_grad
        alpha = ctx.alpha
        return (fit_grad(ctx, 0, grad) if flags[0] else None,
                fit_grad(ctx, 1, compute(lambda g: g * -alpha, grad)) if flags[1] else None,
                None)


class Rsub(Op):
    """other - alpha * input, with a Tensor `other`."""

    node_name = "RsubBackward0"

    @staticmethod
    def forward(ctx, a, b, alpha):
        x, y, dt = operands(a, b)
        _check_sub(a, b)
        _check_alpha(alpha, dt)
        ctx.alpha = alpha
        return binary(_add_scaled, y, x, b, a, -alpha, dt)

    @staticmethod
    def backward(ctx, grad):
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, grad * -ctx.alpha) if flags[0] else None,
                fit_grad(ctx, 1, grad) if flags[1] else None, None)


class RsubScalar(Rsub):
    node_name = "RsubBackward1"


def add(input, other, *, alpha=1):
    try:
        if _unit(alpha):
            return Add.apply(input, other)
        return AddScaled.apply(input, other, alpha)
    except TypeError:
        check_operands("add", input, other)
        raise


def sub(input, other, *, alpha=1):
    try:
        return Sub.apply(input, other, alpha)
    except TypeError:
        check_operands("sub", input, other)
        raise


def rsub(input, other, *, alpha=1):
    op = Rsub if isinstance(other, Tensor) else RsubScalar
    try:
        return op.apply(input, other, alpha)
    except TypeError:
        check_operands("rsub", input, other)
        raise


_add_inplace = make_inplace(add, np.add)
_sub_inplace = make_inplace(sub, np.subtract)


def sub_(self, other, *, alpha=1):
    _check_sub(self, other)
    if _unit(alpha):
        return _sub_inplace(self, other)
    return _sub_inplace(self, other, alpha=alpha)


register("add", add, inplace=_add_inplace)
register("sub", sub, inplace=sub_)
register("subtract", sub, inplace=sub_)
register("__add__", operator(Add))
register("__radd__", operator(Add, swap=True))
register("__sub__", operator(Sub))
register("__rsub__", operator(lambda self, other: RsubScalar.apply(self, other, 1)))
subtract = sub


# ---------------------------------------------------------------- mul, div


class Mul(Op):
    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y = _arrays(a, b)
        saved_pair(ctx, a, b)
        try:
            return np.multiply(x, y)
        except ValueError:
            binary(np.multiply, x, y, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = load_pair(ctx)
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, compute(_times, grad, b)) if flags[0] else None,
                fit_grad(ctx, 1, compute(_times, grad, a)) if flags[1] else None)


def _times(g, other):
    return g * other


class Div(Op):
    node_name = "DivBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y = float_operands(a, b)
        saved_pair(ctx, a, b)
        return binary(np.true_divide, x, y, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = load_pair(ctx)
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, compute(lambda g, v: g / v, grad, b)) if flags[0] else None,
                fit_grad(ctx, 1, compute(lambda g, u, v: -g * ((u / v) / v), grad, a, b))
                if flags[1] else None)


def _floor_divide(x, y, dt):
    if dt.category != 2:
        if dt is B.bool_:
            not_implemented("div_floor_cpu", dt)
        check_int_divisor(y)
    return np.floor_divide(x, y)


def _trunc_divide(x, y, dt):
    if dt.category == 2:
        return np.trunc(np.true_divide(x, y))
    if dt is B.bool_:
        not_implemented("div_trunc_cpu", dt)
    check_int_divisor(y)
    # exact for integers: x - fmod(x, y) is a multiple of y
    return np.floor_divide(x - np.fmod(x, y), y)


_ROUNDED = {"floor": _floor_divide, "trunc": _trunc_divide}


class DivRounded(Op):
    """div with rounding_mode: its derivative is zero almost everywhere."""

    node_name = "DivBackward2"

    @staticmethod
    def forward(ctx, a, b, rounding):
        x, y, dt = operands(a, b)
        return binary(rounding, x, y, a, b, dt)

    @staticmethod
    def backward(ctx, grad):
        return zero_grads(ctx, grad)


class FloorDivide(NoDerivative):
    node_name = NoDerivative.node_name
    aten = "floor_divide"

    @staticmethod
    def forward(ctx, a, b):
        x, y, dt = operands(a, b)
        return binary(_floor_divide, x, y, a, b, dt)


def mul(input, other):
    try:
        return Mul.apply(input, other)
    except TypeError:
        check_operands("mul", input, other)
        raise


def div(input, other, *, rounding_mode=None):
    try:
        if rounding_mode is None:
            return Div.apply(input, other)
        rounding = _ROUNDED.get(rounding_mode)
        if rounding is None:
            raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or "
                               f"'floor' but found '{rounding_mode}'")
        return DivRounded.apply(input, other, rounding)
    except TypeError:
        check_operands("div", input, other)
        raise


def true_divide(input, other):
    return div(input, other)


def floor_divide(input, other):
    try:
        return FloorDivide.apply(input, other)
    except TypeError:
        check_operands("floor_divide", input, other)
        raise


def _rtruediv(self, other):
    # torch computes other / self as other * reciprocal(self)
    return Mul.apply(self.reciprocal(), other)


_div_inplace = make_inplace(div)
multiply = mul
divide = div
register("mul", mul, inplace=make_inplace(mul, np.multiply))
register("multiply", mul, inplace=Tensor.mul_)
register("__mul__", operator(Mul))
register("__rmul__", operator(Mul, swap=True))
for _name in ("div", "divide", "true_divide"):
    register(_name, div, inplace=_div_inplace)
register("__truediv__", operator(Div))
register("__rtruediv__", operator(_rtruediv))
register("floor_divide", floor_divide, inplace=make_inplace(floor_divide))
register("__floordiv__", operator(FloorDivide))
register("__rfloordiv__", operator(FloorDivide, swap=True))


# ---------------------------------------------------------------- remainder, fmod


def _remainder(x, y, dt):
    if dt.category == 2:
        # Python's sign rule, with fmod's signed zero like torch
        mod = np.fmod(x, y)
        xp = B.get_array_module(mod)
        return xp.where((mod != 0) & ((y < 0) != (mod < 0)), mod + y, mod)
    if dt is B.bool_:
        not_implemented("remainder_cpu", dt)
    check_int_divisor(y)
    return np.remainder(x, y)


def _fmod(x, y, dt):
    if dt.category != 2:
        if dt is B.bool_:
            not_implemented("fmod_cpu", dt)
        check_int_divisor(y)
    return np.fmod(x, y)


class Remainder(Op):
    """remainder(tensor, tensor): the other's derivative is -floor(self / other)."""

    node_name = "RemainderBackward1"
    kernel = staticmethod(_remainder)
    rounding = "floor"

    @staticmethod
    def forward(ctx, a, b):
        x, y, dt = operands(a, b)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, b)
        return binary(ctx.kernel, x, y, a, b, dt)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, grad) if flags[0] else None,
                fit_grad(ctx, 1, -grad * a.div(b, rounding_mode=ctx.rounding))
                if flags[1] else None)


class RemainderScalar(Op):
    node_name = "RemainderBackward0"
    kernel = staticmethod(_remainder)

    @staticmethod
    def forward(ctx, a, b):
        x, y, dt = operands(a, b)
        return binary(ctx.kernel, x, y, a, b, dt)

    @staticmethod
    def backward(ctx, grad):
        return fit_grad(ctx, 0, grad), None


class RemainderOfScalar(NoDerivative):
    node_name = NoDerivative.node_name
    aten = "remainder"

    @staticmethod
    def forward(ctx, a, b):
        x, y, dt = operands(a, b)
        return binary(_remainder, x, y, a, b, dt)


class Fmod(Remainder):
    node_name = "FmodBackward1"
    kernel = staticmethod(_fmod)
    rounding = "trunc"


class FmodScalar(RemainderScalar):
    node_name = "FmodBackward0"
    kernel = staticmethod(_fmod)


def remainder(input, other):
    if isinstance(other, Tensor):
        op = Remainder if isinstance(input, Tensor) else RemainderOfScalar
    else:
        op = RemainderScalar
    try:
        return op.apply(input, other)
    except TypeError:
        check_operands("remainder", input, other)
        raise


def fmod(input, other):
    if not isinstance(input, Tensor) or not isinstance(other, OPERAND_TYPES):
        invalid_arguments("fmod", input, other)
    return (Fmod if isinstance(other, Tensor) else FmodScalar).apply(input, other)


register("remainder", remainder, inplace=make_inplace(remainder))
register("fmod", fmod, inplace=make_inplace(fmod))
register("__mod__", operator(remainder))
register("__rmod__", operator(remainder, swap=True))


# ---------------------------------------------------------------- neg, positive


class Neg(Op):
    node_name = "NegBackward0"

    @staticmethod
    def forward(ctx, x):
        if x._data.dtype == np.bool_:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return np.negative(x._data)

    @staticmethod
    def backward(ctx, grad):
        return -grad


def neg(input):
    if not isinstance(input, Tensor):
        type_error("neg", input, "input", 1)
    return Neg.apply(input)


def positive(input):
    if not isinstance(input, Tensor):
        type_error("positive", input, "input", 1)
    if input._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


negative = neg
neg_ = negative_ = make_unary_inplace(neg)
register("neg", neg, inplace=neg_, dunders=("__neg__",))
register("negative", neg, inplace=neg_)
register("positive", positive, dunders=("__pos__",))


# ---------------------------------------------------------------- in-place operators


for _dunder, _name in (("__iadd__", "add_"), ("__isub__", "sub_"), ("__imul__", "mul_"),
                       ("__itruediv__", "div_"), ("__ifloordiv__", "floor_divide_"),
                       ("__imod__", "remainder_"), ("__ipow__", "pow_")):
    register(_dunder, inplace_operator(_name))
del _dunder, _name
