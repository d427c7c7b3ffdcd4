"""Binary math: pow, float_power, atan2, hypot, logaddexp(2), xlogy, copysign, heaviside.

Part of the math family: math.py re-exports this module's names. Ops that torch only
defines for floating point raise its NotImplementedError for integer inputs; those that
accept them compute integers in the default float dtype.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import _legacy_name, make_inplace, operands, register
from ._elementwise_base import (
    OPERAND_TYPES,
    NoDerivative,
    binary,
    fit_grad,
    float_operands,
    in_float32,
    invalid_arguments,
    not_implemented,
    quiet,
    require_tensors,
    type_error,
    where,
    zero_grads,
)

__all__ = ["pow", "float_power", "atan2", "arctan2", "hypot", "logaddexp", "logaddexp2",
           "xlogy", "xlogy_", "copysign", "heaviside"]


# ---------------------------------------------------------------- pow


def _int_power(x, y):
    """Integer powers with torch's rule for negative exponents (1, -1 or 0)."""
    negative = y < 0
    if not negative.any():
        return np.power(x, y)
    xp = B.get_array_module(x)
    out = np.power(x, xp.where(negative, 0, y))
    odd = (y & 1).astype(bool)
    special = xp.where(x == 1, 1, xp.where(x == -1, xp.where(odd, -1, 1), 0))
    return xp.where(negative, special, out).astype(out.dtype)


def _power(x, y, dt):
    if dt.category == 2:
        return np.power(x, y)
    if dt is B.bool_:
        not_implemented("pow", dt)
    return _int_power(x, y)


class Pow(Op):
    """tensor ** number."""

    node_name = "PowBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y, dt = operands(a, b)
        if dt.category != 2:
            if dt is B.bool_:
                not_implemented("pow", dt)
            if b < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            return np.power(x, y)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a)
            ctx.exponent = b
        quiet()
        return np.power(x, y)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        b = ctx.exponent
        if b == 0:
            return zero_grads(ctx, grad)[0], None
        return grad * (b * a.pow(b - 1)), None


class PowTensor(Op):
    """tensor ** tensor."""

    node_name = "PowBackward1"

    @staticmethod
    def forward(ctx, a, b):
        x, y, dt = operands(a, b)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, b)
            ctx.save_output()
        return binary(_power, x, y, a, b, dt)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        flags = ctx.needs_input_grad
        ga = gb = None
        if flags[0]:
            ga = fit_grad(ctx, 0, where(b == 0, 0.0, grad * (b * a.pow(b - 1))))
        if flags[1]:
            gb = fit_grad(ctx, 1, grad * _exponent_grad(a, b, ctx.saved_output))
        return ga, gb


class PowOfScalar(Op):
    """number ** tensor."""

    node_name = "PowBackward2"

    @staticmethod
    def forward(ctx, a, b):
        x, y, dt = operands(a, b)
        if ctx.needs_input_grad:
            ctx.save_for_backward(b)
            ctx.save_output()
            ctx.base = a
        return binary(_power, x, y, a, b, dt)

    @staticmethod
    def backward(ctx, grad):
        (b,) = ctx.saved_tensors
        out = ctx.saved_output
        base = Tensor._wrap(B.get_array_module(out._data).asarray(ctx.base, out._data.dtype))
        return None, fit_grad(ctx, 1, grad * _exponent_grad(base, b, out))


def _exponent_grad(base, exponent, out):
    """d(base ** exponent)/d(exponent), 0 where base == 0 and exponent >= 0 like torch."""
    return where((base == 0) & (exponent >= 0), 0.0, out * base.log())


def pow(input, exponent):
    if isinstance(exponent, Tensor):
        op = PowTensor if isinstance(input, Tensor) else PowOfScalar
    elif isinstance(input, Tensor) and isinstance(exponent, OPERAND_TYPES):
        op = Pow
    else:
        invalid_arguments("pow", input, exponent)
    try:
        return op.apply(input, exponent)
    except TypeError:
        invalid_arguments("pow", input, exponent)


def _pow_operator(self, other):
    if not isinstance(other, OPERAND_TYPES):
        return NotImplemented
    return pow(self, other)


def _rpow_operator(self, other):
    if not isinstance(other, OPERAND_TYPES):
        return NotImplemented
    return pow(other, self)


def float_power(input, exponent):
    """pow computed in float64."""
    if isinstance(input, Tensor):
        input = input.to(B.float64)
    elif isinstance(input, OPERAND_TYPES):
        input = float(input)
    if isinstance(exponent, Tensor):
        exponent = exponent.to(B.float64)
    elif isinstance(exponent, OPERAND_TYPES):
        exponent = float(exponent)
    return pow(input, exponent)


def _float_power_inplace(self, exponent):
    if self._data.dtype != np.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype "
                           f"{_legacy_name(self.dtype)} but the operation's result requires "
                           "dtype Double")
    if isinstance(exponent, Tensor):
        exponent = exponent.to(B.float64)
    return Tensor.pow_(self, exponent)


register("pow", pow, inplace=make_inplace(pow))
register("__pow__", _pow_operator)
register("__rpow__", _rpow_operator)
register("float_power", float_power, inplace=_float_power_inplace)



# ---------------------------------------------------------------- atan2, hypot, logaddexp


def _float_kernel(x, y, dt, kernel):
    """Operands of an op torch only implements for floating point."""
    if dt.category != 2:
        not_implemented(kernel, dt)
    return x, y


class Atan2(Op):
    node_name = "Atan2Backward0"

    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, b)
        return binary(np.arctan2, *float_operands(a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        scale = grad / (a * a + b * b)
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, scale * b) if flags[0] else None,
                fit_grad(ctx, 1, scale * -a) if flags[1] else None)


class Hypot(Op):
    node_name = "HypotBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y, dt = operands(a, b)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, b)
            ctx.save_output()
        return binary(np.hypot, *_float_kernel(x, y, dt, "hypot_cpu"), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        scale = grad / ctx.saved_output
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, scale * a) if flags[0] else None,
                fit_grad(ctx, 1, scale * b) if flags[1] else None)


def _logaddexp2(x, y):
    return in_float32(np.logaddexp2, x, y)


def _logaddexp(x, y):
    return in_float32(np.logaddexp, x, y)


class Logaddexp(Op):
    node_name = "LogaddexpBackward0"
    kernel = "logaddexp_cpu"
    compute = staticmethod(_logaddexp)

    @staticmethod
    def forward(ctx, a, b):
        x, y, dt = operands(a, b)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, b)
        return binary(ctx.compute, *_float_kernel(x, y, dt, ctx.kernel), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, grad / (ctx.power(b - a) + 1)) if flags[0] else None,
                fit_grad(ctx, 1, grad / (ctx.power(a - b) + 1)) if flags[1] else None)

    @staticmethod
    def power(t):
        return t.exp()


class Logaddexp2(Logaddexp):
    node_name = "Logaddexp2Backward0"
    kernel = "logaddexp2_cpu"
    compute = staticmethod(_logaddexp2)

    @staticmethod
    def power(t):
        return t.exp2()


def atan2(input, other):
    require_tensors("atan2", input, other)
    return Atan2.apply(input, other)


def hypot(input, other):
    require_tensors("hypot", input, other)
    return Hypot.apply(input, other)


def logaddexp(input, other):
    require_tensors("logaddexp", input, other)
    return Logaddexp.apply(input, other)


def logaddexp2(input, other):
    require_tensors("logaddexp2", input, other)
    return Logaddexp2.apply(input, other)


arctan2 = atan2
register("atan2", atan2, inplace=make_inplace(atan2))
register("arctan2", atan2, inplace=Tensor.atan2_)
register("hypot", hypot, inplace=make_inplace(hypot))
register("logaddexp", logaddexp)
register("logaddexp2", logaddexp2)


# ---------------------------------------------------------------- xlogy, copysign, heaviside


def _xlogy(x, y):
    return in_float32(_xlogy_float, x, y)


def _xlogy_float(x, y):
    xp = B.get_array_module(x)
    return xp.where((x == 0) & ~np.isnan(y), 0, x * np.log(y)).astype(x.dtype)


class Xlogy(Op):
    node_name = "XlogyBackward0"

    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad:
            ctx.save_for_backward(a if isinstance(a, Tensor) else None,
                                  b if isinstance(b, Tensor) else None)
            ctx.scalars = (a, b)
        return binary(_xlogy, *float_operands(a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a = ctx.scalars[0] if a is None else a
        b = ctx.scalars[1] if b is None else b
        flags = ctx.needs_input_grad
        ga = gb = None
        if flags[0]:
            ga = fit_grad(ctx, 0, where((a == 0) & (b <= 0), 0.0, xlogy(grad, b)))
        if flags[1]:
            gb = fit_grad(ctx, 1, grad * a / b)
        return ga, gb


class XlogyOfScalar(Xlogy):
    node_name = "XlogyBackward1"


class XlogyScalar(Xlogy):
    node_name = "XlogyBackward2"


def xlogy(input, other):
    if isinstance(input, Tensor):
        if isinstance(other, Tensor):
            return Xlogy.apply(input, other)
        if isinstance(other, OPERAND_TYPES):
            return XlogyScalar.apply(input, other)
    elif isinstance(other, Tensor) and isinstance(input, OPERAND_TYPES):
        return XlogyOfScalar.apply(input, other)
    invalid_arguments("xlogy", input, other)


class Copysign(Op):
    node_name = "CopysignBackward0"

    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad:
            ctx.save_for_backward(a)
            ctx.save_output()
        return binary(np.copysign, *float_operands(a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        flags = ctx.needs_input_grad
        ga = None
        if flags[0]:
            ga = fit_grad(ctx, 0, grad * where(a == 0, 0.0, ctx.saved_output / a))
        gb = zero_grads(ctx, grad)[1] if len(flags) > 1 and flags[1] else None
        return ga, gb


class CopysignScalar(Copysign):
    node_name = "CopysignBackward1"


def copysign(input, other):
    if not isinstance(input, Tensor) or not isinstance(other, OPERAND_TYPES):
        invalid_arguments("copysign", input, other)
    return (Copysign if isinstance(other, Tensor) else CopysignScalar).apply(input, other)


def _heaviside(x, values):
    xp = B.get_array_module(x)
    return xp.where(x == 0, values, x > 0).astype(x.dtype)


class Heaviside(NoDerivative):
    node_name = NoDerivative.node_name
    aten = "heaviside"

    @staticmethod
    def forward(ctx, a, b):
        if a._data.dtype != b._data.dtype:
            raise RuntimeError("heaviside is not yet implemented for tensors with different "
                               "dtypes.")
        return binary(_heaviside, a._data, b._data, a, b)


def heaviside(input, values):
    if not isinstance(input, Tensor):
        type_error("heaviside", input, "input", 1)
    if not isinstance(values, Tensor):
        type_error("heaviside", values, "values")
    return Heaviside.apply(input, values)


register("xlogy", xlogy, inplace=make_inplace(xlogy))
register("copysign", copysign, inplace=make_inplace(copysign))
register("heaviside", heaviside, inplace=make_inplace(heaviside))
xlogy_ = Tensor.xlogy_
