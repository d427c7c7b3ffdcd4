"""Pointwise ops of several tensors: minimum, maximum, fmin, fmax, clamp (and clip,
clamp_min, clamp_max), lerp, addcmul, addcdiv.

Part of the math family: math.py re-exports this module's names.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import _legacy_name, broadcast_shapes, check_inplace, operands, register, result_dtype
from ._elementwise_base import (
    C_TYPE_NAMES,
    CPP_TYPE_NAMES,
    OPERAND_TYPES,
    binary,
    fit_grad,
    in_float32,
    inplace_op,
    invalid_arguments,
    not_implemented,
    quiet,
    require_tensors,
    where,
)

__all__ = ["minimum", "maximum", "fmin", "fmax", "clamp", "clip", "clamp_min", "clamp_max",
           "clamp_", "clip_", "clamp_min_", "clamp_max_", "lerp", "addcmul", "addcdiv"]


# ---------------------------------------------------------------- minimum, maximum, fmin, fmax


class Minimum(Op):
    """Ties split the gradient evenly, as torch does."""

    node_name = "MinimumBackward0"
    compute = staticmethod(np.minimum)

    @staticmethod
    def forward(ctx, a, b):
        x, y, _ = operands(a, b)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, b)
        return binary(ctx.compute, x, y, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        flags = ctx.needs_input_grad
        shared = where(a == b, grad / 2, grad)
        first, second = ctx.order(a, b)
        return (fit_grad(ctx, 0, where(first, 0.0, shared)) if flags[0] else None,
                fit_grad(ctx, 1, where(second, 0.0, shared)) if flags[1] else None)

    @staticmethod
    def order(a, b):
        """Where each input loses (gets no gradient)."""
        return a > b, a < b


class Maximum(Minimum):
    node_name = "MaximumBackward0"
    compute = staticmethod(np.maximum)

    @staticmethod
    def order(a, b):
        return a < b, a > b


class Fmin(Minimum):
    """NaN-ignoring minimum: the input chosen gets the whole gradient (self on ties)."""

    node_name = "FminBackward0"
    compute = staticmethod(np.fmin)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        flags = ctx.needs_input_grad
        chose_first = ctx.order(a, b) | b.isnan()
        return (fit_grad(ctx, 0, where(chose_first, grad, 0.0)) if flags[0] else None,
                fit_grad(ctx, 1, where(chose_first, 0.0, grad)) if flags[1] else None)

    @staticmethod
    def order(a, b):
        return a <= b


class Fmax(Fmin):
    node_name = "FmaxBackward0"
    compute = staticmethod(np.fmax)

    @staticmethod
    def order(a, b):
        return a >= b


def _binary_tensor_op(name, op):
    def fn(input, other):
        require_tensors(name, input, other)
        return op.apply(input, other)

    fn.__name__ = fn.__qualname__ = name
    return fn


minimum = _binary_tensor_op("minimum", Minimum)
maximum = _binary_tensor_op("maximum", Maximum)
fmin = _binary_tensor_op("fmin", Fmin)
fmax = _binary_tensor_op("fmax", Fmax)
for _fn in (minimum, maximum, fmin, fmax):
    register(_fn.__name__, _fn)


# ---------------------------------------------------------------- clamp


def _check_bound(value, dt):
    """torch refuses scalar bounds that overflow the result dtype (uint8 wraps negatives)."""
    if value is None or dt.category == 0:
        return value
    if dt.category == 1:
        info = np.iinfo(dt.np)
        low = -info.max if info.min == 0 else info.min
        ok = low <= value <= info.max
    else:
        ok = not np.isfinite(value) or abs(value) <= _float_max(dt)
    if not ok:
        raise RuntimeError(f"value cannot be converted to type {C_TYPE_NAMES[dt.name]} without "
                           "overflow")
    return value


def _float_max(dt):
    if dt.name == "bfloat16":
        return 3.3895313892515355e38
    return float(np.finfo(dt.np).max)


def _bound_array(value, dt, like):
    if value is None:
        return None
    if isinstance(value, Tensor):
        return value._data.astype(dt.np, copy=False)
    xp = B.get_array_module(like)
    return xp.asarray(value).astype(dt.np)  # uint8 takes negatives modulo 256, like torch


class Clamp(Op):
    """clamp with number bounds."""

    node_name = "ClampBackward1"
    kernels = ("clamp_scalar_cpu", "clamp_min_scalar_cpu", "clamp_max_scalar_cpu")
    check_overflow = True

    @staticmethod
    def forward(ctx, x, low, high):
        dt = result_dtype(x, low, high)
        if dt is B.bool_:
            kernel = ctx.kernels[0 if low is not None and high is not None else
                                 1 if low is not None else 2]
            if kernel:
                not_implemented(kernel, dt)
        if ctx.check_overflow:
            _check_bound(low, dt)
            _check_bound(high, dt)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, *(b for b in (low, high) if isinstance(b, Tensor)))
            ctx.bounds = (low, high)
        d = x._data.astype(dt.np, copy=False)
        lo, hi = _bound_array(low, dt, d), _bound_array(high, dt, d)
        try:
            out = d if lo is None else np.maximum(d, lo)
            return out if hi is None else np.minimum(out, hi)
        except ValueError:
            broadcast_shapes(*(a.shape for a in (d, lo, hi) if a is not None))
            raise

    @staticmethod
    def backward(ctx, grad):
        x, *_ = ctx.saved_tensors
        low, high = ctx.bounds
        keep = _inside(x, low, high)
        return fit_grad(ctx, 0, where(keep, grad, 0.0)), None, None


def _inside(x, low, high):
    if low is None:
        return x <= high
    if high is None:
        return x >= low
    return (x >= low) & (x <= high)


class ClampTensor(Clamp):
    """clamp with Tensor bounds: gradients flow to whichever bound was taken."""

    node_name = "ClampBackward0"
    kernels = ("clamp_cpu", None, None)
    check_overflow = False

    @staticmethod
    def backward(ctx, grad):
        x, *_ = ctx.saved_tensors
        low, high = ctx.bounds
        flags = ctx.needs_input_grad
        g_low = g_high = None
        if flags[1]:
            took_low = x < low if high is None else (x < low) & (low < high)
            g_low = fit_grad(ctx, 1, where(took_low, grad, 0.0))
        if flags[2]:
            took_high = x > high if low is None else (x > high) | (high < low)
            g_high = fit_grad(ctx, 2, where(took_high, grad, 0.0))
        g_x = fit_grad(ctx, 0, where(_inside(x, low, high), grad, 0.0)) if flags[0] else None
        return g_x, g_low, g_high


class ClampMin(Clamp):
    node_name = "ClampMinBackward0"


class ClampMinTensor(ClampTensor):
    node_name = "ClampMinBackward1"


class ClampMax(Clamp):
    node_name = "ClampMaxBackward0"


class ClampMaxTensor(ClampTensor):
    node_name = "ClampMaxBackward1"


def _clamp_op(name, input, low, high, scalar_op, tensor_op):
    bounds = [b for b in (low, high) if b is not None]
    if not isinstance(input, Tensor) or not all(isinstance(b, OPERAND_TYPES) for b in bounds):
        invalid_arguments(name, input, *bounds)
    if not bounds:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    tensors = [isinstance(b, Tensor) for b in bounds]
    if all(tensors):
        return tensor_op.apply(input, low, high)
    if any(tensors):
        # mixed with a number: 0-dim tensors that need no grad are read as numbers
        if any(isinstance(b, Tensor) and (b._data.ndim or b._requires_grad) for b in bounds):
            invalid_arguments(name, input, *bounds)
        low, high = (b.item() if isinstance(b, Tensor) else b for b in (low, high))
    return scalar_op.apply(input, low, high)


def clamp(input, min=None, max=None):
    return _clamp_op("clamp", input, min, max, Clamp, ClampTensor)


def clamp_min(input, min):
    if min is None:
        invalid_arguments("clamp_min", input, min)
    return _clamp_op("clamp_min", input, min, None, ClampMin, ClampMinTensor)


def clamp_max(input, max):
    if max is None:
        invalid_arguments("clamp_max", input, max)
    return _clamp_op("clamp_max", input, None, max, ClampMax, ClampMaxTensor)


def _clamp_inplace(fn):
    generic = inplace_op(fn)

    def inplace(self, *args, **kwargs):
        check_inplace(self)
        bounds = list(args) + list(kwargs.values())
        if not any(isinstance(b, Tensor) for b in bounds) and self.dtype.category != 2:
            dt = result_dtype(self, *bounds)
            if dt.category == 2:
                # torch names the C++ type here, unlike the Tensor-bound overload
                raise RuntimeError(f"result type {_legacy_name(dt)} can't be cast to the "
                                   f"desired output type {CPP_TYPE_NAMES[self.dtype.name]}")
        return generic(self, *args, **kwargs)

    inplace.__name__ = inplace.__qualname__ = fn.__name__ + "_"
    return inplace


clip = clamp
clamp_ = clip_ = _clamp_inplace(clamp)
clamp_min_ = _clamp_inplace(clamp_min)
clamp_max_ = _clamp_inplace(clamp_max)
register("clamp", clamp, inplace=clamp_)
register("clip", clamp, inplace=clamp_)
register("clamp_min", clamp_min, inplace=clamp_min_)
register("clamp_max", clamp_max, inplace=clamp_max_)
# ---------------------------------------------------------------- lerp, addcmul, addcdiv


def _lerp(x, y, w):
    diff = y - x
    xp = B.get_array_module(diff)
    # torch's formula: exact at both ends of the interpolation
    return xp.where(np.abs(w) < 0.5, x + w * diff, y - diff * (1 - w))


class Lerp(Op):
    """lerp with a number weight."""

    node_name = "LerpBackward0"

    @staticmethod
    def forward(ctx, a, b, weight):
        ctx.weight = weight
        x, y = a._data, b._data
        xp = B.get_array_module(x)
        w = weight._data if isinstance(weight, Tensor) else xp.asarray(weight)
        try:
            return in_float32(_lerp, x, y, w.astype(x.dtype, copy=False))
        except ValueError:
            broadcast_shapes(x.shape, y.shape, w.shape)
            raise

    @staticmethod
    def backward(ctx, grad):
        w = ctx.weight
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, grad * (1 - w)) if flags[0] else None,
                fit_grad(ctx, 1, grad * w) if flags[1] else None, None)


class LerpTensor(Lerp):
    node_name = "LerpBackward1"

    @staticmethod
    def forward(ctx, a, b, weight):
        if ctx.needs_input_grad:
            ctx.save_for_backward(a, b, weight)
        return Lerp.forward(ctx, a, b, weight)

    @staticmethod
    def backward(ctx, grad):
        a, b, w = ctx.saved_tensors
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, grad * (1 - w)) if flags[0] else None,
                fit_grad(ctx, 1, grad * w) if flags[1] else None,
                fit_grad(ctx, 2, grad * (b - a)) if flags[2] else None)


def _check_same_dtype(input, other, what):
    if other._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected dtype {CPP_TYPE_NAMES[input.dtype.name]} for `{what}` "
                           f"but got dtype {CPP_TYPE_NAMES[other.dtype.name]}")


def lerp(input, end, weight):
    if not (isinstance(input, Tensor) and isinstance(end, Tensor)
            and isinstance(weight, OPERAND_TYPES)):
        invalid_arguments("lerp", input, end, weight)
    _check_same_dtype(input, end, "end")
    tensor_weight = isinstance(weight, Tensor)
    if tensor_weight and weight._data.ndim:
        _check_same_dtype(input, weight, "weight")
    if input.dtype.category != 2:
        not_implemented("lerp_kernel_tensor" if tensor_weight else "lerp_kernel_scalar",
                        input.dtype)
    return (LerpTensor if tensor_weight else Lerp).apply(input, end, weight)


def _three(a, b, c, dt):
    arrays = []
    for t in (a, b, c):
        d = t._data
        arrays.append(d if d.dtype == dt.np else d.astype(dt.np))
    return arrays


def _addcmul(x, y, z, value):
    return in_float32(lambda u, v, w: u + value * v * w, x, y, z)


def _addcdiv(x, y, z, value):
    return in_float32(lambda u, v, w: u + value * v / w, x, y, z)


def _combine(fn, a, b, c, dt, value):
    x, y, z = _three(a, b, c, dt)
    quiet()
    try:
        return fn(x, y, z, value)
    except ValueError:
        broadcast_shapes(x.shape, y.shape, z.shape)
        raise


class Addcmul(Op):
    node_name = "AddcmulBackward0"

    @staticmethod
    def forward(ctx, a, b, c, value):
        dt = result_dtype(a, b, c)
        if dt is B.bool_:
            not_implemented("addcmul_cpu_out", dt)
        if ctx.needs_input_grad:
            ctx.save_for_backward(b, c)
        ctx.value = value = value if dt.category == 2 else int(value)
        return _combine(_addcmul, a, b, c, dt, value)

    @staticmethod
    def backward(ctx, grad):
        b, c = ctx.saved_tensors
        v = ctx.value
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, grad) if flags[0] else None,
                fit_grad(ctx, 1, grad * c * v) if flags[1] else None,
                fit_grad(ctx, 2, grad * b * v) if flags[2] else None, None)


class Addcdiv(Op):
    node_name = "AddcdivBackward0"

    @staticmethod
    def forward(ctx, a, b, c, value):
        if b.dtype.category != 2 and c.dtype.category != 2:
            raise RuntimeError(
                "Integer division with addcdiv is no longer supported, and in a future  release "
                "addcdiv will perform a true division of tensor1 and tensor2. The historic "
                "addcdiv behavior can be implemented as (input + value * torch.trunc(tensor1 / "
                "tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
                "tensor2) for float inputs. The future addcdiv behavior is just the latter "
                "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
        dt = result_dtype(a, b, c)
        if ctx.needs_input_grad:
            ctx.save_for_backward(b, c)
        ctx.value = value
        return _combine(_addcdiv, a, b, c, dt, value)

    @staticmethod
    def backward(ctx, grad):
        b, c = ctx.saved_tensors
        v = ctx.value
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, grad) if flags[0] else None,
                fit_grad(ctx, 1, grad * v / c) if flags[1] else None,
                fit_grad(ctx, 2, -grad * v * b / (c * c)) if flags[2] else None, None)


def _pointwise(name, op):
    def fn(input, tensor1, tensor2, *, value=1):
        if not all(isinstance(t, Tensor) for t in (input, tensor1, tensor2)) or not isinstance(
                value, OPERAND_TYPES):
            invalid_arguments(name, input, tensor1, tensor2)
        return op.apply(input, tensor1, tensor2, value)

    fn.__name__ = fn.__qualname__ = name
    return fn


addcmul = _pointwise("addcmul", Addcmul)
addcdiv = _pointwise("addcdiv", Addcdiv)


register("lerp", lerp, inplace=inplace_op(lerp))
register("addcmul", addcmul, inplace=inplace_op(addcmul))
register("addcdiv", addcdiv, inplace=inplace_op(addcdiv))
