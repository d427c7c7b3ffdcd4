"""Elementwise ops with broadcasting: arithmetic, unary math, comparisons, logic.

Each op is one Op subclass (forward on arrays, backward in Tensor ops) plus one public
function; `register` binds the Tensor method, the in-place `name_` and the operators.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import (make_inplace, make_unary_inplace, operands, raise_broadcast_error,
                      register, shape_of, sum_to, to_float)

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg",
           "negative", "exp", "log", "pow"]


def _binary(ufunc, x, y, a, b):
    try:
        return ufunc(x, y)
    except ValueError:
        raise_broadcast_error(shape_of(a), shape_of(b))


# ---------------------------------------------------------------- arithmetic


class Add(Op):
    node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y, _ = operands(a, b)
        ctx.shapes = (shape_of(a), shape_of(b))
        return _binary(np.add, x, y, a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        flags = ctx.needs_input_grad
        return (sum_to(grad, sa) if flags[0] else None,
                sum_to(grad, sb) if flags[1] else None)


class Sub(Op):
    node_name = "SubBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y, dt = operands(a, b)
        if dt is B.bool_:
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        ctx.shapes = (shape_of(a), shape_of(b))
        return _binary(np.subtract, x, y, a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        flags = ctx.needs_input_grad
        return (sum_to(grad, sa) if flags[0] else None,
                sum_to(-grad, sb) if flags[1] else None)


class Mul(Op):
    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y, _ = operands(a, b)
        ctx.save_for_backward(a if isinstance(a, Tensor) else None,
                              b if isinstance(b, Tensor) else None)
        ctx.scalars = (a, b)
        return _binary(np.multiply, x, y, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        if a is None:
            a = ctx.scalars[0]
        if b is None:
            b = ctx.scalars[1]
        flags = ctx.needs_input_grad
        return (sum_to(grad * b, shape_of(a)) if flags[0] else None,
                sum_to(grad * a, shape_of(b)) if flags[1] else None)


class Div(Op):
    node_name = "DivBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y, dt = operands(a, b)
        if not dt.is_floating_point:
            fdt = B.get_default_dtype().np
            x, y = x.astype(fdt), y.astype(fdt)
        ctx.save_for_backward(a if isinstance(a, Tensor) else None,
                              b if isinstance(b, Tensor) else None)
        ctx.scalars = (a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _binary(np.true_divide, x, y, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        if a is None:
            a = ctx.scalars[0]
        if b is None:
            b = ctx.scalars[1]
        flags = ctx.needs_input_grad
        return (sum_to(grad / b, shape_of(a)) if flags[0] else None,
                sum_to(-grad * a / (b * b), shape_of(b)) if flags[1] else None)


def _alpha(other, alpha):
    return other if alpha == 1 else other * alpha


def add(input, other, *, alpha=1):
    if not isinstance(input, Tensor):
        return Add.apply(input, _alpha(other, alpha))
    return Add.apply(input, _alpha(other, alpha))


def sub(input, other, *, alpha=1):
    return Sub.apply(input, _alpha(other, alpha))


def mul(input, other):
    return Mul.apply(input, other)


def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        return Div.apply(input, other)
    from .elementwise_more import rounded_div

    return rounded_div(input, other, rounding_mode)


def _radd(self, other):
    return Add.apply(other, self)


def _rsub(self, other):
    return Sub.apply(other, self)


def _rmul(self, other):
    return Mul.apply(other, self)


def _rdiv(self, other):
    return Div.apply(other, self)


subtract = sub
multiply = mul
divide = div
true_divide = div

register("add", add, inplace=make_inplace(add, np.add), dunders=("__add__",))
register("sub", sub, inplace=make_inplace(sub, np.subtract), dunders=("__sub__",))
register("mul", mul, inplace=make_inplace(mul, np.multiply), dunders=("__mul__",))
register("div", div, inplace=make_inplace(div), dunders=("__truediv__",))
for _name, _fn in (("subtract", sub), ("multiply", mul), ("divide", div),
                   ("true_divide", div)):
    register(_name, _fn, inplace=getattr(Tensor, _fn.__name__ + "_"))
register("__radd__", _radd)
register("__rsub__", _rsub)
register("__rmul__", _rmul)
register("__rtruediv__", _rdiv)
register("__iadd__", Tensor.add_)
register("__isub__", Tensor.sub_)
register("__imul__", Tensor.mul_)
register("__itruediv__", Tensor.div_)


# ---------------------------------------------------------------- unary


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


class Exp(Op):
    node_name = "ExpBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        return np.exp(to_float(x))

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.saved_output


class Log(Op):
    node_name = "LogBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(to_float(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


def neg(input):
    return Neg.apply(input)


def exp(input):
    return Exp.apply(input)


def log(input):
    return Log.apply(input)


negative = neg
register("neg", neg, inplace=make_unary_inplace(neg), dunders=("__neg__",))
register("negative", neg, inplace=Tensor.neg_)
register("exp", exp, inplace=make_unary_inplace(exp))
register("log", log, inplace=make_unary_inplace(log))


# ---------------------------------------------------------------- pow


class Pow(Op):
    node_name = "PowBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y, dt = operands(a, b)
        if dt.category == 1 and isinstance(b, Tensor) is False and b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        ctx.save_for_backward(a if isinstance(a, Tensor) else None,
                              b if isinstance(b, Tensor) else None)
        ctx.scalars = (a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _binary(np.power, x, y, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        flags = ctx.needs_input_grad
        if a is None:
            a = ctx.scalars[0]
        if b is None:
            b = ctx.scalars[1]
        ga = gb = None
        if flags[0]:
            if isinstance(b, Tensor):
                ga = grad * b * a ** (b - 1)
            elif b == 0:
                ga = grad * 0
            else:
                ga = grad * b * a ** (b - 1)
            ga = sum_to(ga, shape_of(a))
        if flags[1]:
            out = a ** b
            base = a if isinstance(a, Tensor) else Tensor._wrap(np.asarray(a, out._data.dtype))
            gb = grad * out * log(base).masked_fill((base == 0) & (b >= 0), 0)
            gb = sum_to(gb, shape_of(b))
        return ga, gb


def pow(input, exponent):
    return Pow.apply(input, exponent)


def _rpow(self, other):
    return Pow.apply(other, self)


register("pow", pow, inplace=make_inplace(pow, np.power), dunders=("__pow__",))
register("__rpow__", _rpow)
register("__ipow__", Tensor.pow_)
